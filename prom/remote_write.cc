#include "prom/remote_write.h"

#include <algorithm>
#include <climits>
#include <numeric>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "prom/matcher.h"
#include "prom/remote_write.pb.h"
#include "snappy.h"

namespace sextant::prom {
namespace {

// Payload that marks a header error as "415 Unsupported Media Type".
constexpr absl::string_view kUnsupportedMediaTypeUrl = "sextant.dev/prom/unsupported-media-type";
// The protobuf message name a 1.0 Content-Type may carry in its `proto` parameter.
constexpr absl::string_view kWriteRequestProtoName = "prometheus.WriteRequest";
// Where the series rendering in error messages stops.
constexpr size_t kMaxRenderedSeriesBytes = 1024;

absl::Status UnsupportedMediaType(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUnsupportedMediaTypeUrl, absl::Cord("415"));
  return status;
}

RemoteWriteMetadata::Type TypeFromProto(int t) {
  if (t < 0 || t > static_cast<int>(RemoteWriteMetadata::Type::kStateset)) {
    return RemoteWriteMetadata::Type::kUnknown;
  }
  return static_cast<RemoteWriteMetadata::Type>(t);
}

// A label name for messages: as is when plain printable ASCII, else quoted as Go does.
std::string RenderName(absl::string_view name) {
  const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return c > ' ' && c < 0x7f && c != '"' && c != ',' && c != '=' && c != '{' && c != '}';
  });
  return plain ? std::string(name) : GoQuote(name);
}

// Prometheus's rendering of a label set, {a="b", c="d"}, in the order given, values quoted as
// Go's %q; stops with ", ...}" after about kMaxRenderedSeriesBytes.
std::string RenderSeries(const std::vector<Label>& labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ", ";
    if (out.size() > kMaxRenderedSeriesBytes) {
      out += "...";
      break;
    }
    absl::StrAppend(&out, RenderName(labels[i].name), "=", GoQuote(labels[i].value));
  }
  out += "}";
  return out;
}

}  // namespace

absl::StatusOr<std::string> EncodeWriteRequest(const RemoteWriteRequest& request) {
  pb::WriteRequest req;
  req.mutable_timeseries()->Reserve(static_cast<int>(request.series.size()));
  for (const RemoteWriteSeries& series : request.series) {
    pb::TimeSeries* ts = req.add_timeseries();
    ts->mutable_labels()->Reserve(static_cast<int>(series.labels.size()));
    for (const Label& label : series.labels) {
      pb::Label* l = ts->add_labels();
      l->set_name(label.name);
      l->set_value(label.value);
    }
    ts->mutable_samples()->Reserve(static_cast<int>(series.samples.size()));
    for (const Sample& sample : series.samples) {
      pb::Sample* s = ts->add_samples();
      s->set_value(sample.value);
      s->set_timestamp(sample.timestamp_ms);
    }
  }
  req.mutable_metadata()->Reserve(static_cast<int>(request.metadata.size()));
  for (const RemoteWriteMetadata& md : request.metadata) {
    pb::MetricMetadata* m = req.add_metadata();
    m->set_type(static_cast<pb::MetricMetadata::MetricType>(md.type));
    m->set_metric_family_name(md.metric_family_name);
    m->set_help(md.help);
    m->set_unit(md.unit);
  }
  const size_t size = req.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("write request is ", size, " bytes, over protobuf's 2 GiB limit"));
  }
  std::string raw;
  if (!req.SerializeToString(&raw)) {
    return absl::InternalError("protobuf: cannot serialize WriteRequest");
  }
  std::string body;
  snappy::Compress(raw.data(), raw.size(), &body);
  return body;
}

absl::StatusOr<RemoteWriteRequest> DecodeWriteRequest(absl::string_view body,
                                                      size_t max_decoded_bytes) {
  size_t decoded_size = 0;
  if (!snappy::GetUncompressedLength(body.data(), body.size(), &decoded_size)) {
    return absl::InvalidArgumentError("snappy: corrupt input (bad length header)");
  }
  if (decoded_size > max_decoded_bytes || decoded_size > static_cast<size_t>(INT_MAX)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("decompressed body is ", decoded_size, " bytes, over the limit of ",
                     std::min<size_t>(max_decoded_bytes, INT_MAX), " bytes"));
  }
  pb::WriteRequest req;
  {
    std::string raw;
    raw.resize(decoded_size);
    if (!snappy::RawUncompress(body.data(), body.size(), raw.data())) {
      return absl::InvalidArgumentError("snappy: corrupt input");
    }
    if (!req.ParseFromArray(raw.data(), static_cast<int>(raw.size()))) {
      return absl::InvalidArgumentError("protobuf: body is not a valid WriteRequest");
    }
  }

  RemoteWriteRequest out;
  out.series.reserve(req.timeseries_size());
  for (pb::TimeSeries& ts : *req.mutable_timeseries()) {
    RemoteWriteSeries& series = out.series.emplace_back();
    series.labels.reserve(ts.labels_size());
    for (pb::Label& l : *ts.mutable_labels()) {
      Label& label = series.labels.emplace_back();
      // Move the strings out; mutable_*() on an unset field would allocate an empty one.
      if (!l.name().empty()) label.name = std::move(*l.mutable_name());
      if (!l.value().empty()) label.value = std::move(*l.mutable_value());
    }
    series.samples.reserve(ts.samples_size());
    for (const pb::Sample& s : ts.samples()) {
      series.samples.push_back(Sample{s.timestamp(), s.value()});
    }
  }
  out.metadata.reserve(req.metadata_size());
  for (pb::MetricMetadata& m : *req.mutable_metadata()) {
    RemoteWriteMetadata& md = out.metadata.emplace_back();
    md.type = TypeFromProto(m.type());
    if (!m.metric_family_name().empty()) {
      md.metric_family_name = std::move(*m.mutable_metric_family_name());
    }
    if (!m.help().empty()) md.help = std::move(*m.mutable_help());
    if (!m.unit().empty()) md.unit = std::move(*m.mutable_unit());
  }
  return out;
}

absl::Status CheckRemoteWriteHeaders(absl::string_view content_type,
                                     absl::string_view content_encoding,
                                     absl::string_view version) {
  content_type = absl::StripAsciiWhitespace(content_type);
  if (!content_type.empty()) {
    std::vector<absl::string_view> parts = absl::StrSplit(content_type, ';');
    if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(parts[0]), kRemoteWriteContentType)) {
      return UnsupportedMediaType(absl::StrCat("unsupported Content-Type \"", content_type,
                                               "\"; want ", kRemoteWriteContentType));
    }
    for (size_t i = 1; i < parts.size(); ++i) {
      absl::string_view param = absl::StripAsciiWhitespace(parts[i]);
      if (param.empty()) continue;
      const size_t eq = param.find('=');
      if (eq == absl::string_view::npos) {
        return UnsupportedMediaType(absl::StrCat("malformed parameter \"", param,
                                                 "\" in Content-Type \"", content_type, "\""));
      }
      absl::string_view key = absl::StripAsciiWhitespace(param.substr(0, eq));
      absl::string_view value = absl::StripAsciiWhitespace(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      if (absl::EqualsIgnoreCase(key, "proto") && value != kWriteRequestProtoName) {
        return UnsupportedMediaType(absl::StrCat("unsupported protobuf message \"", value,
                                                 "\"; this server accepts remote_write 1.0 (",
                                                 kWriteRequestProtoName, ")"));
      }
    }
  }

  content_encoding = absl::StripAsciiWhitespace(content_encoding);
  if (!content_encoding.empty() &&
      !absl::EqualsIgnoreCase(content_encoding, kRemoteWriteContentEncoding)) {
    return UnsupportedMediaType(absl::StrCat("unsupported Content-Encoding \"", content_encoding,
                                             "\"; want ", kRemoteWriteContentEncoding));
  }

  // Prometheus does not read the version header. We turn away a 2.x version only: such a
  // body read as 1.0 would decode to an empty request and its samples would be lost silently.
  version = absl::StripAsciiWhitespace(version);
  size_t digits = 0;
  while (digits < version.size() && absl::ascii_isdigit(version[digits])) ++digits;
  const absl::string_view major = version.substr(0, digits);
  if (!major.empty() && major != "0" && major != "1") {
    return UnsupportedMediaType(absl::StrCat("unsupported remote_write version \"", version,
                                             "\"; this server accepts ", kRemoteWriteVersion));
  }
  return absl::OkStatus();
}

bool IsUnsupportedMediaType(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kUnsupportedMediaTypeUrl).has_value();
}

absl::StatusOr<Labels> ValidateSeriesLabels(std::vector<Label> labels) {
  auto invalid = [&labels](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("series ", RenderSeries(labels), ": ", what));
  };
  bool has_metric_name = false;
  bool sorted = true;
  for (size_t i = 0; i < labels.size(); ++i) {
    const Label& l = labels[i];
    if (!IsValidLabelName(l.name)) {
      return invalid(absl::StrCat("invalid label name ", GoQuote(l.name)));
    }
    if (!IsValidUtf8(l.value)) {
      return invalid(absl::StrCat("label ", l.name, " has a value that is not valid UTF-8"));
    }
    if (l.name == kMetricNameLabel && !l.value.empty()) {
      if (!IsValidMetricName(l.value)) {
        return invalid(absl::StrCat("invalid metric name ", GoQuote(l.value)));
      }
      has_metric_name = true;
    }
    if (i > 0 && labels[i - 1].name >= l.name) sorted = false;
  }
  // Sorted input has strictly increasing names, so no duplicates; otherwise look for them in a
  // sorted view, leaving the labels in the sender's order for the message.
  if (!sorted) {
    std::vector<size_t> order(labels.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&labels](size_t a, size_t b) { return labels[a].name < labels[b].name; });
    for (size_t i = 1; i < order.size(); ++i) {
      if (labels[order[i - 1]].name == labels[order[i]].name) {
        return invalid(absl::StrCat("duplicate label name ", GoQuote(labels[order[i]].name)));
      }
    }
  }
  if (!has_metric_name) return invalid("missing metric name (label __name__)");
  if (!sorted) {
    std::sort(labels.begin(), labels.end(),
              [](const Label& a, const Label& b) { return a.name < b.name; });
  }
  labels.erase(
      std::remove_if(labels.begin(), labels.end(), [](const Label& l) { return l.value.empty(); }),
      labels.end());
  return Labels::FromSortedUnchecked(std::move(labels));
}

}  // namespace sextant::prom
