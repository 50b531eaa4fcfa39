#include "aggregator/api/write_handler.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "prom/remote_write.h"

namespace sextant::api {
namespace {

// The decompressed body may be this many times the compressed limit (snappy on remote_write
// data compresses 3-10x).
constexpr int64_t kDecodedFactor = 8;

// The first problem of a request, kept for the answer's message.
struct FirstError {
  int64_t count = 0;
  std::string message;
  void Add(std::string m) {
    if (count++ == 0) message = std::move(m);
  }
};

std::string RenderLabels(const prom::LabelView* labels, size_t n) {
  std::string out = "{";
  for (size_t i = 0; i < n && out.size() < 1024; ++i) {
    if (i > 0) out += ", ";
    absl::StrAppend(&out, labels[i].name, "=\"", prom::EscapeLabelValue(labels[i].value), "\"");
  }
  out += "}";
  return out;
}

}  // namespace

WriteHandler::WriteHandler(tsdb::Db& db, const WriteHandlerOptions& options,
                           prometheus::Registry& registry)
    : db_(db),
      options_(options),
      requests_(prometheus::BuildCounter()
                    .Name("sextant_remote_write_requests_total")
                    .Help("remote_write requests received.")
                    .Register(registry)
                    .Add({})),
      series_received_(prometheus::BuildCounter()
                           .Name("sextant_remote_write_series_received_total")
                           .Help("Series received in remote_write requests.")
                           .Register(registry)
                           .Add({})),
      samples_received_(prometheus::BuildCounter()
                            .Name("sextant_remote_write_samples_received_total")
                            .Help("Samples received in decodable remote_write requests.")
                            .Register(registry)
                            .Add({})),
      samples_appended_(prometheus::BuildCounter()
                            .Name("sextant_remote_write_samples_appended_total")
                            .Help("Received samples stored (in the WAL and the head).")
                            .Register(registry)
                            .Add({})),
      rejected_(prometheus::BuildCounter()
                    .Name("sextant_remote_write_samples_rejected_total")
                    .Help("Received samples not stored, by reason.")
                    .Register(registry)),
      rejected_invalid_(rejected_.Add({{"reason", "invalid_labels"}})),
      rejected_limits_(rejected_.Add({{"reason", "label_limits"}})),
      rejected_series_limit_(rejected_.Add({{"reason", "active_series_limit"}})),
      rejected_out_of_order_(rejected_.Add({{"reason", "out_of_order"}})),
      rejected_duplicate_(rejected_.Add({{"reason", "duplicate_timestamp"}})),
      rejected_out_of_bounds_(rejected_.Add({{"reason", "out_of_bounds"}})),
      rejected_other_(rejected_.Add({{"reason", "unknown_series"}})),
      rejected_future_(rejected_.Add({{"reason", "too_far_in_future"}})) {}

void WriteHandler::Register(HttpServer& server) {
  server.Handle("POST", "/api/v1/write", [this](const HttpRequest& r) { return Handle(r); });
}

HttpResponse WriteHandler::Handle(const HttpRequest& request) {
  requests_.Increment();
  const LimitsConfig& limits = options_.limits;
  if (absl::Status s = prom::CheckRemoteWriteHeaders(
          request.headers.Get("Content-Type"), request.headers.Get("Content-Encoding"),
          request.headers.Get(prom::kRemoteWriteVersionHeader));
      !s.ok()) {
    return HttpResponse::Text(415, absl::StrCat(s.message(), "\n"));
  }
  if (limits.body_bytes > 0 && static_cast<int64_t>(request.body.size()) > limits.body_bytes) {
    return HttpResponse::Text(
        413, absl::StrCat("body of ", request.body.size(), " bytes is over the limit of ",
                          limits.body_bytes, " bytes\n"));
  }
  const size_t max_decoded = limits.body_bytes > 0
                                 ? static_cast<size_t>(limits.body_bytes * kDecodedFactor)
                                 : static_cast<size_t>(1) << 31;
  // Each worker thread keeps its decode buffers from one request to the next.
  thread_local prom::FlatWriteRequest decoded;
  // Shrinks the buffers after an unusually large request, so each worker keeps little.
  struct Shrink {
    ~Shrink() {
      if (decoded.raw.capacity() > (size_t{16} << 20)) std::string().swap(decoded.raw);
      if (decoded.labels.capacity() > (size_t{1} << 20)) {
        std::vector<prom::LabelView>().swap(decoded.labels);
      }
      if (decoded.samples.capacity() > (size_t{1} << 20)) {
        std::vector<prom::Sample>().swap(decoded.samples);
      }
      if (decoded.series.capacity() > (size_t{1} << 18)) {
        std::vector<prom::FlatWriteRequest::Series>().swap(decoded.series);
      }
    }
  } shrink;
  prom::FlatDecodeLimits decode_limits;
  decode_limits.max_series = static_cast<size_t>(std::max<int64_t>(0, limits.series_per_request));
  decode_limits.max_labels_per_series =
      static_cast<size_t>(std::max<int64_t>(0, limits.labels_per_series));
  if (absl::Status s =
          prom::DecodeWriteRequestFlat(request.body, max_decoded, &decoded, decode_limits);
      !s.ok()) {
    const int code = absl::IsResourceExhausted(s) ? 413 : 400;
    return HttpResponse::Text(code, absl::StrCat(s.message(), "\n"));
  }
  series_received_.Increment(static_cast<double>(decoded.series.size()));

  FirstError bad;         // 400
  FirstError over_limit;  // 429
  int64_t received = 0;
  int64_t refused = 0;
  tsdb::Appender app = db_.NewAppender();
  for (const prom::FlatWriteRequest::Series& s : decoded.series) {
    const prom::LabelView* labels = decoded.labels.data() + s.labels_begin;
    const size_t n_labels = s.labels_end - s.labels_begin;
    const int64_t n_samples = s.samples_end - s.samples_begin;
    received += n_samples;
    if (limits.labels_per_series > 0 &&
        static_cast<int64_t>(s.labels_sent) > limits.labels_per_series) {
      bad.Add(absl::StrCat("series ", RenderLabels(labels, n_labels), ": ", s.labels_sent,
                           " labels, over the limit of ", limits.labels_per_series));
      rejected_limits_.Increment(static_cast<double>(n_samples));
      refused += n_samples;
      continue;
    }
    bool too_long = false;
    for (size_t i = 0; i < n_labels && limits.label_value_bytes > 0; ++i) {
      const prom::LabelView& l = labels[i];
      if (static_cast<int64_t>(l.value.size()) > limits.label_value_bytes ||
          static_cast<int64_t>(l.name.size()) > limits.label_value_bytes) {
        bad.Add(absl::StrCat("series ", RenderLabels(labels, n_labels), ": label ",
                             l.name.substr(0, 64), " is longer than the limit of ",
                             limits.label_value_bytes, " bytes"));
        too_long = true;
        break;
      }
    }
    if (too_long) {
      rejected_limits_.Increment(static_cast<double>(n_samples));
      refused += n_samples;
      continue;
    }
    if (absl::Status v = prom::ValidateSortedSeriesLabels(labels, n_labels); !v.ok()) {
      bad.Add(std::string(v.message()));
      rejected_invalid_.Increment(static_cast<double>(n_samples));
      refused += n_samples;
      continue;
    }
    if (n_samples == 0) continue;  // histograms or exemplars only: nothing we store
    absl::StatusOr<tsdb::SeriesRef> ref = app.GetOrCreate(labels, n_labels);
    if (!ref.ok()) {
      const std::string what =
          absl::StrCat("series ", RenderLabels(labels, n_labels), ": ", ref.status().message());
      if (absl::IsResourceExhausted(ref.status())) {
        over_limit.Add(what);
        rejected_series_limit_.Increment(static_cast<double>(n_samples));
      } else {
        bad.Add(what);
        rejected_other_.Increment(static_cast<double>(n_samples));
      }
      refused += n_samples;
      continue;
    }
    for (uint32_t i = s.samples_begin; i < s.samples_end; ++i) {
      app.Add(*ref, decoded.samples[i].timestamp_ms, decoded.samples[i].value);
    }
  }
  for (const prom::RemoteWriteMetadata& m : decoded.metadata) {
    tsdb::RefMetadata rm;
    rm.metric_family_name = m.metric_family_name;
    rm.type = static_cast<uint8_t>(m.type);
    rm.help = m.help;
    rm.unit = m.unit;
    app.AddMetadata(std::move(rm));
  }
  samples_received_.Increment(static_cast<double>(received));

  absl::StatusOr<tsdb::CommitResult> result = app.Commit();
  if (!result.ok()) {
    LogWarn("remote_write not stored", {{"err", result.status()}});
    return HttpResponse::Text(
        500, absl::StrCat("storing samples failed: ", result.status().message(), "\n"));
  }
  samples_appended_.Increment(static_cast<double>(result->appended));
  const tsdb::RejectCounts& rej = result->rejected;
  rejected_out_of_order_.Increment(static_cast<double>(rej.out_of_order));
  rejected_duplicate_.Increment(static_cast<double>(rej.duplicate_differ));
  rejected_out_of_bounds_.Increment(static_cast<double>(rej.out_of_bounds));
  rejected_other_.Increment(static_cast<double>(rej.unknown_series));
  rejected_future_.Increment(static_cast<double>(rej.too_far_in_future));
  if (rej.total() > 0) {
    std::string what;
    if (rej.out_of_order > 0) absl::StrAppend(&what, rej.out_of_order, " out of order, ");
    if (rej.duplicate_differ > 0) {
      absl::StrAppend(&what, rej.duplicate_differ,
                      " with the timestamp of a stored sample but another value, ");
    }
    if (rej.out_of_bounds > 0) {
      absl::StrAppend(&what, rej.out_of_bounds, " too old for the head (out of bounds), ");
    }
    if (rej.too_far_in_future > 0) {
      absl::StrAppend(&what, rej.too_far_in_future,
                      " too far in the future (timestamps are milliseconds), ");
    }
    if (rej.unknown_series > 0) {
      absl::StrAppend(&what, rej.unknown_series, " for series removed meanwhile, ");
    }
    what.resize(what.size() - 2);
    bad.Add(absl::StrCat("samples rejected: ", what));
    refused += rej.total();
  }
  if (rej.unknown_series > 0 && rej.unknown_series == refused && over_limit.count == 0) {
    // Only series that a head truncation removed between lookup and commit: sending the
    // request again recreates them, so say so with a retryable code.
    return HttpResponse::Text(503, absl::StrCat(rej.unknown_series,
                                                " samples were for series removed while the "
                                                "request was handled; send it again\n"));
  }
  if (over_limit.count > 0) {
    return HttpResponse::Text(
        429, absl::StrCat("active series limit reached: ", over_limit.count,
                          " new series refused, the rest stored; first: ", over_limit.message,
                          bad.count > 0 ? absl::StrCat("; also: ", bad.message) : "", "\n"));
  }
  if (bad.count > 0) {
    return HttpResponse::Text(
        400,
        absl::StrCat(refused, " of ", received, " samples not stored (", bad.count,
                     bad.count == 1 ? " problem" : " problems", "); first: ", bad.message, "\n"));
  }
  HttpResponse ok;
  ok.status = 204;
  return ok;
}

}  // namespace sextant::api
