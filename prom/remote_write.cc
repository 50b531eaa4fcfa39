#include "prom/remote_write.h"

#include <algorithm>
#include <bit>
#include <climits>
#include <numeric>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
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

// A reader of protobuf wire format over a byte range, with protobuf's own acceptance rules.
class WireReader {
 public:
  WireReader(const char* p, const char* end) : p_(p), end_(end) {}
  bool done() const { return p_ >= end_; }

  bool ReadVarint(uint64_t* out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ >= end_) return false;
      const uint8_t b = static_cast<uint8_t>(*p_++);
      if (shift < 64) v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *out = v;
        return true;
      }
    }
    return false;  // more than 10 bytes
  }
  // A field's tag; false at a malformed tag, field number 0 or an impossible wire type.
  bool ReadTag(uint32_t* field, int* wire) {
    uint64_t tag;
    const char* start = p_;
    if (!ReadVarint(&tag) || p_ - start > 5 || tag > 0xffffffffULL) return false;
    *field = static_cast<uint32_t>(tag >> 3);
    *wire = static_cast<int>(tag & 7);
    return *field != 0 && *wire <= 5;
  }
  bool ReadFixed64(uint64_t* out) {
    if (end_ - p_ < 8) return false;
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p_[i]);
    p_ += 8;
    *out = v;
    return true;
  }
  bool ReadBytes(absl::string_view* out) {
    uint64_t n;
    if (!ReadVarint(&n) || n > static_cast<uint64_t>(INT_MAX) ||
        n > static_cast<uint64_t>(end_ - p_)) {
      return false;
    }
    *out = absl::string_view(p_, n);
    p_ += n;
    return true;
  }
  // Skips a field of `wire` type (whose tag was read), groups included.
  bool Skip(uint32_t field, int wire, int depth) {
    uint64_t ignored;
    absl::string_view bytes;
    switch (wire) {
      case 0:
        return ReadVarint(&ignored);
      case 1:
        return ReadFixed64(&ignored);
      case 2:
        return ReadBytes(&bytes);
      case 5:
        if (end_ - p_ < 4) return false;
        p_ += 4;
        return true;
      case 3: {
        if (depth > 100) return false;
        while (true) {
          uint32_t f;
          int w;
          if (!ReadTag(&f, &w)) return false;
          if (w == 4) return f == field;
          if (!Skip(f, w, depth + 1)) return false;
        }
      }
      default:
        return false;  // an end-group without its start
    }
  }

 private:
  const char* p_;
  const char* end_;
};

bool ParseLabel(absl::string_view msg, LabelView* out) {
  WireReader r(msg.data(), msg.data() + msg.size());
  *out = LabelView{};
  while (!r.done()) {
    uint32_t field;
    int wire;
    if (!r.ReadTag(&field, &wire)) return false;
    if (field == 1 && wire == 2) {
      if (!r.ReadBytes(&out->name)) return false;
    } else if (field == 2 && wire == 2) {
      if (!r.ReadBytes(&out->value)) return false;
    } else if (!r.Skip(field, wire, 0)) {
      return false;
    }
  }
  return true;
}

bool ParseSample(absl::string_view msg, Sample* out) {
  WireReader r(msg.data(), msg.data() + msg.size());
  *out = Sample{};
  while (!r.done()) {
    uint32_t field;
    int wire;
    if (!r.ReadTag(&field, &wire)) return false;
    uint64_t v;
    if (field == 1 && wire == 1) {
      if (!r.ReadFixed64(&v)) return false;
      out->value = std::bit_cast<double>(v);
    } else if (field == 2 && wire == 0) {
      if (!r.ReadVarint(&v)) return false;
      out->timestamp_ms = static_cast<int64_t>(v);
    } else if (!r.Skip(field, wire, 0)) {
      return false;
    }
  }
  return true;
}

// Exemplars are not kept, but protobuf's parser would refuse a malformed one, so check it.
bool CheckExemplar(absl::string_view msg) {
  WireReader r(msg.data(), msg.data() + msg.size());
  while (!r.done()) {
    uint32_t field;
    int wire;
    if (!r.ReadTag(&field, &wire)) return false;
    if (field == 1 && wire == 2) {
      absl::string_view label_msg;
      LabelView ignored;
      if (!r.ReadBytes(&label_msg) || !ParseLabel(label_msg, &ignored)) return false;
    } else if (!r.Skip(field, wire, 0)) {
      return false;
    }
  }
  return true;
}

bool ParseSeries(absl::string_view msg, const FlatDecodeLimits& limits, FlatWriteRequest* out) {
  WireReader r(msg.data(), msg.data() + msg.size());
  FlatWriteRequest::Series s;
  s.labels_begin = static_cast<uint32_t>(out->labels.size());
  s.samples_begin = static_cast<uint32_t>(out->samples.size());
  while (!r.done()) {
    uint32_t field;
    int wire;
    if (!r.ReadTag(&field, &wire)) return false;
    absl::string_view sub;
    if (field == 1 && wire == 2) {
      ++s.labels_sent;
      if (limits.max_labels_per_series > 0 && s.labels_sent > limits.max_labels_per_series + 1) {
        LabelView ignored;
        if (!r.ReadBytes(&sub) || !ParseLabel(sub, &ignored)) return false;
      } else if (!r.ReadBytes(&sub) || !ParseLabel(sub, &out->labels.emplace_back())) {
        return false;
      }
    } else if (field == 2 && wire == 2) {
      if (!r.ReadBytes(&sub) || !ParseSample(sub, &out->samples.emplace_back())) return false;
    } else if (field == 3 && wire == 2) {
      if (!r.ReadBytes(&sub) || !CheckExemplar(sub)) return false;
    } else if (!r.Skip(field, wire, 0)) {
      return false;
    }
  }
  s.labels_end = static_cast<uint32_t>(out->labels.size());
  s.samples_end = static_cast<uint32_t>(out->samples.size());
  out->series.push_back(s);
  return true;
}

bool ParseMetadata(absl::string_view msg, RemoteWriteMetadata* out) {
  WireReader r(msg.data(), msg.data() + msg.size());
  absl::string_view name, help, unit;
  while (!r.done()) {
    uint32_t field;
    int wire;
    if (!r.ReadTag(&field, &wire)) return false;
    uint64_t v;
    if (field == 1 && wire == 0) {
      if (!r.ReadVarint(&v)) return false;
      out->type = TypeFromProto(static_cast<int32_t>(static_cast<uint32_t>(v)));
    } else if (field == 2 && wire == 2) {
      if (!r.ReadBytes(&name)) return false;
    } else if (field == 4 && wire == 2) {
      if (!r.ReadBytes(&help)) return false;
    } else if (field == 5 && wire == 2) {
      if (!r.ReadBytes(&unit)) return false;
    } else if (!r.Skip(field, wire, 0)) {
      return false;
    }
  }
  out->metric_family_name = std::string(name);
  out->help = std::string(help);
  out->unit = std::string(unit);
  return true;
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

absl::Status DecodeWriteRequestFlat(absl::string_view body, size_t max_decoded_bytes,
                                    FlatWriteRequest* out, const FlatDecodeLimits& limits) {
  out->labels.clear();
  out->samples.clear();
  out->series.clear();
  out->metadata.clear();
  size_t decoded_size = 0;
  if (!snappy::GetUncompressedLength(body.data(), body.size(), &decoded_size)) {
    return absl::InvalidArgumentError("snappy: corrupt input (bad length header)");
  }
  if (decoded_size > max_decoded_bytes || decoded_size > static_cast<size_t>(INT_MAX)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("decompressed body is ", decoded_size, " bytes, over the limit of ",
                     std::min<size_t>(max_decoded_bytes, INT_MAX), " bytes"));
  }
  out->raw.resize(decoded_size);
  if (!snappy::RawUncompress(body.data(), body.size(), out->raw.data())) {
    return absl::InvalidArgumentError("snappy: corrupt input");
  }
  const absl::Status bad = absl::InvalidArgumentError("protobuf: body is not a valid WriteRequest");
  WireReader r(out->raw.data(), out->raw.data() + out->raw.size());
  while (!r.done()) {
    uint32_t field;
    int wire;
    if (!r.ReadTag(&field, &wire)) return bad;
    absl::string_view sub;
    if (field == 1 && wire == 2) {
      if (limits.max_series > 0 && out->series.size() >= limits.max_series) {
        out->labels.clear();
        out->samples.clear();
        out->series.clear();
        return absl::ResourceExhaustedError(
            absl::StrCat("more than ", limits.max_series, " series in one request"));
      }
      if (!r.ReadBytes(&sub) || !ParseSeries(sub, limits, out)) return bad;
    } else if (field == 3 && wire == 2) {
      if (!r.ReadBytes(&sub) || !ParseMetadata(sub, &out->metadata.emplace_back())) return bad;
    } else if (!r.Skip(field, wire, 0)) {
      return bad;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RemoteWriteRequest> DecodeWriteRequest(absl::string_view body,
                                                      size_t max_decoded_bytes) {
  FlatWriteRequest flat;
  SEXTANT_RETURN_IF_ERROR(DecodeWriteRequestFlat(body, max_decoded_bytes, &flat));
  RemoteWriteRequest out;
  out.series.reserve(flat.series.size());
  for (const FlatWriteRequest::Series& s : flat.series) {
    RemoteWriteSeries& series = out.series.emplace_back();
    series.labels.reserve(s.labels_end - s.labels_begin);
    for (uint32_t i = s.labels_begin; i < s.labels_end; ++i) {
      series.labels.push_back(
          Label{std::string(flat.labels[i].name), std::string(flat.labels[i].value)});
    }
    series.samples.assign(flat.samples.begin() + s.samples_begin,
                          flat.samples.begin() + s.samples_end);
  }
  out.metadata = std::move(flat.metadata);
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

absl::StatusOr<Labels> ValidateSeriesLabels(std::vector<Label> labels, LabelOrder order) {
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
  if (!sorted && order == LabelOrder::kRequireSorted) {
    for (size_t i = 1; i < labels.size(); ++i) {
      if (labels[i - 1].name > labels[i].name) {
        return invalid(absl::StrCat("label names not sorted: ", GoQuote(labels[i].name), " after ",
                                    GoQuote(labels[i - 1].name)));
      }
    }
  }
  if (!sorted) {
    std::sort(labels.begin(), labels.end(),
              [](const Label& a, const Label& b) { return a.name < b.name; });
  }
  labels.erase(
      std::remove_if(labels.begin(), labels.end(), [](const Label& l) { return l.value.empty(); }),
      labels.end());
  return Labels::FromSortedUnchecked(std::move(labels));
}

absl::Status ValidateSortedSeriesLabels(const LabelView* labels, size_t n) {
  bool ok = true;
  bool has_metric_name = false;
  for (size_t i = 0; i < n && ok; ++i) {
    const LabelView& l = labels[i];
    if (!IsValidLabelName(l.name) || !IsValidUtf8(l.value) ||
        (i > 0 && labels[i - 1].name >= l.name)) {
      ok = false;
    } else if (l.name == kMetricNameLabel && !l.value.empty()) {
      has_metric_name = IsValidMetricName(l.value);
      ok = has_metric_name;
    }
  }
  if (ok && has_metric_name) return absl::OkStatus();
  // The slow path, for the message.
  std::vector<Label> copy;
  copy.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    copy.push_back(Label{std::string(labels[i].name), std::string(labels[i].value)});
  }
  absl::StatusOr<Labels> checked =
      ValidateSeriesLabels(std::move(copy), LabelOrder::kRequireSorted);
  if (!checked.ok()) return checked.status();
  return absl::InternalError("label validation disagrees with itself");
}

}  // namespace sextant::prom
