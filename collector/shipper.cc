#include "collector/shipper.h"

#include <snappy.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <exception>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/build_info.h"
#include "common/logging.h"
#include "prom/remote_write.h"
#include "prom/value.h"

namespace sextant::collector {
namespace {

// A series of the current pass or the last one, looked up by its encoded labels (the encoding
// of a sorted label set is unique, so equal bytes mean equal labels).
struct SeriesKey {
  uint64_t hash;
  absl::string_view labels;
};
struct SeriesKeyHash {
  size_t operator()(const SeriesKey& k) const { return static_cast<size_t>(k.hash); }
};
struct SeriesKeyEq {
  bool operator()(const SeriesKey& a, const SeriesKey& b) const {
    return a.hash == b.hash && a.labels == b.labels;
  }
};

// The protobuf wire format of remote_write.proto, written directly from our structs: no message
// objects, no copies of label strings. Field tags are (field number << 3) | wire type.
constexpr char kTagWriteRequestSeries = 0x0a;    // WriteRequest.timeseries = 1, bytes
constexpr char kTagWriteRequestMetadata = 0x1a;  // WriteRequest.metadata = 3, bytes
constexpr char kTagSeriesLabel = 0x0a;           // TimeSeries.labels = 1, bytes
constexpr char kTagSeriesSample = 0x12;          // TimeSeries.samples = 2, bytes
constexpr char kTagLabelName = 0x0a;             // Label.name = 1, bytes
constexpr char kTagLabelValue = 0x12;            // Label.value = 2, bytes
constexpr char kTagSampleValue = 0x09;           // Sample.value = 1, fixed64
constexpr char kTagSampleTimestamp = 0x10;       // Sample.timestamp = 2, varint
constexpr char kTagMetadataType = 0x08;          // MetricMetadata.type = 1, varint
constexpr char kTagMetadataName = 0x12;          // MetricMetadata.metric_family_name = 2
constexpr char kTagMetadataHelp = 0x22;          // MetricMetadata.help = 4
constexpr char kTagMetadataUnit = 0x2a;          // MetricMetadata.unit = 5

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutBytesField(std::string& out, char tag, absl::string_view bytes) {
  out.push_back(tag);
  PutVarint(out, bytes.size());
  out.append(bytes.data(), bytes.size());
}

size_t BytesFieldSize(size_t n) { return 1 + VarintSize(n) + n; }

// Appends the TimeSeries.labels fields of `labels`.
void AppendLabels(std::string& out, const prom::Labels& labels) {
  for (const prom::Label& l : labels) {
    out.push_back(kTagSeriesLabel);
    PutVarint(out, BytesFieldSize(l.name.size()) + BytesFieldSize(l.value.size()));
    PutBytesField(out, kTagLabelName, l.name);
    PutBytesField(out, kTagLabelValue, l.value);
  }
}

// Appends one WriteRequest.timeseries field: `labels` (from AppendLabels) and one sample.
void AppendSeries(std::string& out, absl::string_view labels, int64_t ts_ms, double value) {
  const uint64_t ts = static_cast<uint64_t>(ts_ms);
  const size_t sample = 1 + 8 + 1 + VarintSize(ts);
  out.push_back(kTagWriteRequestSeries);
  PutVarint(out, labels.size() + BytesFieldSize(sample));
  out.append(labels.data(), labels.size());
  out.push_back(kTagSeriesSample);
  PutVarint(out, sample);
  out.push_back(kTagSampleValue);
  const uint64_t bits = std::bit_cast<uint64_t>(value);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
  out.push_back(kTagSampleTimestamp);
  PutVarint(out, ts);
}

prom::RemoteWriteMetadata::Type MetadataType(prom::MetricType type);

// Appends one WriteRequest.metadata field per family.
void AppendMetadata(std::string& out, const std::vector<prom::MetricFamily>& families) {
  for (const prom::MetricFamily& f : families) {
    const uint64_t type = static_cast<uint64_t>(MetadataType(f.type));
    out.push_back(kTagWriteRequestMetadata);
    PutVarint(out, 1 + VarintSize(type) + BytesFieldSize(f.name.size()) +
                       BytesFieldSize(f.help.size()) + BytesFieldSize(f.unit.size()));
    out.push_back(kTagMetadataType);
    PutVarint(out, type);
    PutBytesField(out, kTagMetadataName, f.name);
    PutBytesField(out, kTagMetadataHelp, f.help);
    PutBytesField(out, kTagMetadataUnit, f.unit);
  }
}

// `url` without user info ("http://user:pass@host/x" -> "http://host/x"): for labels and logs.
std::string UrlForDisplay(absl::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == absl::string_view::npos) return std::string(url);
  const size_t host = scheme + 3;
  const size_t end = std::min(url.find_first_of("/?#", host), url.size());
  const size_t at = url.substr(0, end).rfind('@');
  if (at == absl::string_view::npos || at < host) return std::string(url);
  return absl::StrCat(url.substr(0, host), url.substr(at + 1));
}

prom::RemoteWriteMetadata::Type MetadataType(prom::MetricType type) {
  using T = prom::RemoteWriteMetadata::Type;
  switch (type) {
    case prom::MetricType::kCounter:
      return T::kCounter;
    case prom::MetricType::kGauge:
      return T::kGauge;
    case prom::MetricType::kHistogram:
      return T::kHistogram;
    case prom::MetricType::kSummary:
      return T::kSummary;
    case prom::MetricType::kUntyped:
      return T::kUnknown;
    case prom::MetricType::kInfo:
      return T::kInfo;
    case prom::MetricType::kStateSet:
      return T::kStateset;
    case prom::MetricType::kGaugeHistogram:
      return T::kGaugeHistogram;
  }
  return T::kUnknown;
}

// The first line of `body`, at most 256 bytes: what a rejection log line shows.
absl::string_view FirstLine(absl::string_view body) {
  body = body.substr(0, std::min(body.find('\n'), body.size()));
  return absl::StripTrailingAsciiWhitespace(body.substr(0, 256));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RemoteWriteShipper>> RemoteWriteShipper::Create(
    const ShipperOptions& options, HttpClient& client, Clock& clock) {
  if (!absl::StartsWith(options.url, "http://") && !absl::StartsWith(options.url, "https://")) {
    return absl::InvalidArgumentError(absl::StrCat("shipper: url \"", UrlForDisplay(options.url),
                                                   "\" must start with http:// or https://"));
  }
  if (options.queue_bytes <= 0) {
    return absl::InvalidArgumentError("shipper: queue_bytes must be positive");
  }
  if (options.initial_backoff <= absl::ZeroDuration() ||
      options.max_backoff < options.initial_backoff) {
    return absl::InvalidArgumentError(
        "shipper: initial_backoff must be positive and at most max_backoff");
  }
  if (!(options.jitter >= 0 && options.jitter <= 1)) {
    return absl::InvalidArgumentError("shipper: jitter must be in [0, 1]");
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("shipper: timeout must be positive");
  }
  if (options.max_samples_per_request == 0) {
    return absl::InvalidArgumentError("shipper: max_samples_per_request must be positive");
  }
  if (options.flush_timeout < absl::ZeroDuration() ||
      options.max_retry_after < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "shipper: flush_timeout and max_retry_after must not be negative");
  }
  std::unique_ptr<RemoteWriteShipper> shipper(new RemoteWriteShipper(options, client, clock));
  absl::Status status = shipper->InitMetrics();
  if (!status.ok()) return status;
  return shipper;
}

RemoteWriteShipper::RemoteWriteShipper(const ShipperOptions& options, HttpClient& client,
                                       Clock& clock)
    : options_(options), url_label_(UrlForDisplay(options.url)), client_(client), clock_(clock) {}

RemoteWriteShipper::~RemoteWriteShipper() { Stop(); }

absl::Status RemoteWriteShipper::InitMetrics() {
  if (options_.metrics == nullptr) return absl::OkStatus();
  prometheus::Registry& r = *options_.metrics;
  try {
    sent_ = &prometheus::BuildCounter()
                 .Name("sextant_shipper_samples_sent_total")
                 .Help("Samples (stale markers included) the remote_write receiver accepted.")
                 .Register(r)
                 .Add({{"url", url_label_}});
    auto& dropped = prometheus::BuildCounter()
                        .Name("sextant_shipper_samples_dropped_total")
                        .Help(
                            "Samples dropped unsent: queue_full when the queue passed its "
                            "memory cap, shutdown when still queued at stop.")
                        .Register(r);
    dropped_queue_full_ = &dropped.Add({{"url", url_label_}, {"reason", "queue_full"}});
    dropped_shutdown_ = &dropped.Add({{"url", url_label_}, {"reason", "shutdown"}});
    failed_ = &prometheus::BuildCounter()
                   .Name("sextant_shipper_samples_failed_total")
                   .Help("Samples in requests the receiver rejected without retry (3xx, 4xx).")
                   .Register(r)
                   .Add({{"url", url_label_}});
    requests_family_ = &prometheus::BuildCounter()
                            .Name("sextant_shipper_requests_total")
                            .Help(
                                "remote_write attempts by HTTP status code, or by error for "
                                "attempts without an answer.")
                            .Register(r);
    queue_bytes_gauge_ = &prometheus::BuildGauge()
                              .Name("sextant_shipper_queue_bytes")
                              .Help("Encoded (snappy compressed) bytes of the queued requests.")
                              .Register(r)
                              .Add({{"url", url_label_}});
    last_success_ = &prometheus::BuildGauge()
                         .Name("sextant_shipper_last_success_timestamp_seconds")
                         .Help("Unix time of the last request the receiver accepted.")
                         .Register(r)
                         .Add({{"url", url_label_}});
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("register shipper metrics: ", e.what()));
  }
  return absl::OkStatus();
}

void RemoteWriteShipper::Enqueue(const std::vector<prom::MetricFamily>& families, absl::Time ts) {
  const int64_t ts_ms = absl::ToUnixMillis(ts);
  absl::MutexLock lock(&enqueue_mu_);

  // Encode every series' labels once, into next_labels_; drop repeats (the first one wins).
  struct Pending {
    SeriesRecord record;
    double value;
  };
  size_t total = 0;
  for (const prom::MetricFamily& f : families) total += f.samples.size();
  std::vector<Pending> series;
  series.reserve(total);
  next_labels_.clear();
  for (const prom::MetricFamily& f : families) {
    for (const prom::ExpositionSample& s : f.samples) {
      const size_t offset = next_labels_.size();
      AppendLabels(next_labels_, s.labels);
      series.push_back({{s.labels.Hash(), offset, next_labels_.size() - offset}, s.value});
    }
  }
  const absl::string_view next(next_labels_);
  const absl::string_view last(last_labels_);
  absl::flat_hash_set<SeriesKey, SeriesKeyHash, SeriesKeyEq> seen;
  seen.reserve(series.size());
  size_t kept = 0;
  for (const Pending& p : series) {
    if (seen.insert({p.record.hash, next.substr(p.record.offset, p.record.size)}).second) {
      series[kept++] = p;
    }
  }
  series.resize(kept);
  std::vector<const SeriesRecord*> stale;
  for (const SeriesRecord& r : last_series_) {
    if (!seen.contains(SeriesKey{r.hash, last.substr(r.offset, r.size)})) stale.push_back(&r);
  }

  // Requests of at most max_samples_per_request series: this pass's, then the stale markers.
  const size_t n = series.size() + stale.size();
  const bool metadata = !series.empty() && options_.metadata_interval != absl::InfiniteDuration() &&
                        ts - last_metadata_ >= options_.metadata_interval;
  if (metadata) last_metadata_ = ts;
  std::vector<Batch> batches;
  int64_t unencodable = 0;
  for (size_t start = 0; start < n; start += options_.max_samples_per_request) {
    const size_t end = std::min(n, start + options_.max_samples_per_request);
    raw_.clear();
    if (start == 0 && metadata) AppendMetadata(raw_, families);
    for (size_t i = start; i < end; ++i) {
      if (i < series.size()) {
        const SeriesRecord& r = series[i].record;
        AppendSeries(raw_, next.substr(r.offset, r.size), ts_ms, series[i].value);
      } else {
        const SeriesRecord& r = *stale[i - series.size()];
        AppendSeries(raw_, last.substr(r.offset, r.size), ts_ms, prom::StaleNaN());
      }
    }
    const int64_t samples = static_cast<int64_t>(end - start);
    if (raw_.size() > static_cast<size_t>(INT32_MAX)) {  // protobuf's limit
      LogError("shipper: request over 2 GiB, dropped", {{"url", url_label_}, {"samples", samples}});
      unencodable += samples;
      continue;
    }
    Batch b;
    snappy::Compress(raw_.data(), raw_.size(), &b.body);
    b.body.shrink_to_fit();  // the queue's cap counts bytes held
    b.bytes = static_cast<int64_t>(b.body.size());
    b.samples = samples;
    batches.push_back(std::move(b));
  }

  last_series_.clear();
  last_series_.reserve(series.size());
  for (const Pending& p : series) last_series_.push_back(p.record);
  std::swap(last_labels_, next_labels_);
  Push(std::move(batches), static_cast<int64_t>(n), unencodable);
}

void RemoteWriteShipper::Push(std::vector<Batch> batches, int64_t samples, int64_t unencodable) {
  int64_t bytes = 0;
  int64_t queued = 0;
  for (const Batch& b : batches) {
    bytes += b.bytes;
    queued += b.samples;
  }
  absl::MutexLock lock(&mu_);
  stats_.samples_enqueued += samples;
  if (unencodable > 0) CountFailed(unencodable);
  if (batches.empty()) return;
  if (stopped_) {  // nobody will send it
    CountDropped(queued, /*shutdown=*/true);
    return;
  }
  if (bytes > options_.queue_bytes) {
    LogWarn("shipper: pass larger than the queue, dropped",
            {{"url", url_label_}, {"bytes", bytes}, {"queue_bytes", options_.queue_bytes}});
    CountDropped(queued, /*shutdown=*/false);
    return;
  }
  const size_t first = front_in_flight_ ? 1 : 0;
  int64_t dropped = 0;
  while (stats_.queue_bytes + bytes > options_.queue_bytes && queue_.size() > first) {
    dropped += queue_[first].samples;
    DropAt(first, /*shutdown=*/false);
  }
  if (dropped > 0 && !dropping_) {
    LogWarn("shipper: queue full, dropping the oldest samples",
            {{"url", url_label_}, {"queue_bytes", options_.queue_bytes}});
  }
  dropping_ = dropped > 0;
  for (Batch& b : batches) queue_.push_back(std::move(b));
  stats_.queue_bytes += bytes;
  SetQueueGauge();
}

void RemoteWriteShipper::DropAt(size_t index, bool shutdown) {
  Batch& b = queue_[index];
  stats_.queue_bytes -= b.bytes;
  CountDropped(b.samples, shutdown);
  queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(index));
  SetQueueGauge();
}

void RemoteWriteShipper::CountDropped(int64_t samples, bool shutdown) {
  if (shutdown) {
    stats_.samples_dropped_shutdown += samples;
    if (dropped_shutdown_ != nullptr) dropped_shutdown_->Increment(static_cast<double>(samples));
  } else {
    stats_.samples_dropped_queue_full += samples;
    if (dropped_queue_full_ != nullptr) {
      dropped_queue_full_->Increment(static_cast<double>(samples));
    }
  }
}

void RemoteWriteShipper::CountFailed(int64_t samples) {
  stats_.samples_failed += samples;
  if (failed_ != nullptr) failed_->Increment(static_cast<double>(samples));
}

void RemoteWriteShipper::SetQueueGauge() {
  if (queue_bytes_gauge_ != nullptr) {
    queue_bytes_gauge_->Set(static_cast<double>(stats_.queue_bytes));
  }
}

absl::Duration RemoteWriteShipper::Backoff(const HttpClientResponse* response, absl::Time now) {
  if (response != nullptr && (response->status == 429 || response->status >= 500)) {
    std::optional<absl::Duration> after =
        ParseRetryAfter(response->headers.Get("retry-after"), now, options_.max_retry_after);
    if (after.has_value() && *after > absl::ZeroDuration()) return *after;
  }
  HttpRetryPolicy policy;
  policy.initial_backoff = options_.initial_backoff;
  policy.max_backoff = options_.max_backoff;
  policy.multiplier = 2;
  policy.jitter = options_.jitter;
  const double u = absl::Uniform<double>(absl::IntervalClosed, rng_, -1.0, 1.0);
  return HttpRetryBackoff(policy, std::min(failures_, 64), u);
}

absl::Duration RemoteWriteShipper::SendPending(absl::Time now) {
  const std::string user_agent =
      options_.user_agent.empty() ? absl::StrCat("sextant/", SEXTANT_VERSION) : options_.user_agent;
  for (bool first = true;; first = false) {
    HttpClientRequest request;
    int64_t samples = 0;
    {
      absl::MutexLock lock(&mu_);
      if (!first) now = clock_.Now();
      if (queue_.empty() || now >= stop_deadline_) return absl::ZeroDuration();
      if (now < retry_at_) return retry_at_ - now;
      request.body = std::move(queue_.front().body);
      samples = queue_.front().samples;
      front_in_flight_ = true;
      request.timeout = std::min(options_.timeout, stop_deadline_ - now);
    }
    request.method = "POST";
    request.url = options_.url;
    request.headers.Add("Content-Encoding", prom::kRemoteWriteContentEncoding);
    request.headers.Add("Content-Type", prom::kRemoteWriteContentType);
    request.headers.Add(prom::kRemoteWriteVersionHeader, prom::kRemoteWriteVersion);
    request.headers.Add("User-Agent", user_agent);
    request.retryable = false;
    request.cancelled = [this] {
      absl::MutexLock lock(&mu_);
      return clock_.Now() >= stop_deadline_;
    };
    absl::StatusOr<HttpClientResponse> response = client_.Send(request);
    const absl::Time done = clock_.Now();

    Outcome outcome;
    std::string code;
    if (response.ok()) {
      code = absl::StrCat(response->status);
      if (response->status >= 200 && response->status < 300) {
        outcome = Outcome::kSent;
      } else if (response->status == 429 || response->status >= 500) {
        outcome = Outcome::kRetry;
      } else {
        outcome = Outcome::kRejected;
      }
    } else {
      code = absl::AsciiStrToLower(absl::StatusCodeToString(response.status().code()));
      switch (response.status().code()) {
        case absl::StatusCode::kInvalidArgument:
        case absl::StatusCode::kFailedPrecondition:
        case absl::StatusCode::kUnimplemented:
          outcome = Outcome::kRejected;
          break;
        default:
          outcome = Outcome::kRetry;
      }
    }
    if (requests_family_ != nullptr) {
      requests_family_->Add({{"url", url_label_}, {"code", code}}).Increment();
    }

    absl::MutexLock lock(&mu_);
    front_in_flight_ = false;
    ++stats_.requests;
    switch (outcome) {
      case Outcome::kSent:
        if (failures_ > 0) {
          LogInfo("shipper: sending again", {{"url", url_label_}, {"failed_attempts", failures_}});
        }
        failures_ = 0;
        retry_at_ = absl::InfinitePast();
        stats_.samples_sent += samples;
        stats_.last_success = done;
        if (sent_ != nullptr) sent_->Increment(static_cast<double>(samples));
        if (last_success_ != nullptr) {
          last_success_->Set(absl::ToDoubleSeconds(done - absl::UnixEpoch()));
        }
        stats_.queue_bytes -= queue_.front().bytes;
        queue_.pop_front();
        SetQueueGauge();
        break;
      case Outcome::kRejected:
        if (response.ok()) {
          LogWarn("shipper: request rejected, samples dropped",
                  {{"url", url_label_},
                   {"status", response->status},
                   {"samples", samples},
                   {"body", FirstLine(response->body)}});
        } else {
          LogWarn("shipper: request failed, samples dropped",
                  {{"url", url_label_}, {"samples", samples}, {"err", response.status()}});
        }
        failures_ = 0;
        retry_at_ = absl::InfinitePast();
        CountFailed(samples);
        stats_.queue_bytes -= queue_.front().bytes;
        queue_.pop_front();
        SetQueueGauge();
        break;
      case Outcome::kRetry: {
        ++failures_;
        const absl::Duration wait = Backoff(response.ok() ? &*response : nullptr, done);
        retry_at_ = done + wait;
        const bool cancelled_at_stop =
            !response.ok() && response.status().code() == absl::StatusCode::kCancelled;
        if (failures_ == 1 && !cancelled_at_stop) {
          if (response.ok()) {
            LogWarn("shipper: send failed, retrying", {{"url", url_label_},
                                                       {"status", response->status},
                                                       {"body", FirstLine(response->body)},
                                                       {"wait", wait}});
          } else {
            LogWarn("shipper: send failed, retrying",
                    {{"url", url_label_}, {"err", response.status()}, {"wait", wait}});
          }
        }
        queue_.front().body = std::move(request.body);
        // Passes queued while this one was in flight may have left the queue over its cap.
        while (stats_.queue_bytes > options_.queue_bytes && !queue_.empty()) {
          DropAt(0, /*shutdown=*/false);
        }
        return wait;
      }
    }
  }
}

absl::Status RemoteWriteShipper::Start() {
  absl::MutexLock lock(&mu_);
  if (started_ || stopping_) {
    return absl::FailedPreconditionError("shipper: already started or stopped");
  }
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void RemoteWriteShipper::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &RemoteWriteShipper::HasWorkOrStopping));
      if (stopping_) break;
    }
    const absl::Duration wait = SendPending(clock_.Now());
    if (wait > absl::ZeroDuration()) clock_.WaitFor(stop_, wait);
  }
  Flush();
}

void RemoteWriteShipper::Flush() {
  absl::Time deadline;
  {
    absl::MutexLock lock(&mu_);
    retry_at_ = absl::InfinitePast();  // one last attempt at once
    deadline = stop_deadline_;
  }
  while (true) {
    const absl::Duration wait = SendPending(clock_.Now());
    if (wait <= absl::ZeroDuration() || clock_.Now() + wait >= deadline) break;
    clock_.SleepFor(wait);
  }
  absl::MutexLock lock(&mu_);
  DropAll();
}

void RemoteWriteShipper::DropAll() {
  stopped_ = true;
  if (queue_.empty()) return;
  int64_t samples = 0;
  for (const Batch& b : queue_) samples += b.samples;
  LogWarn("shipper: stopped with samples unsent", {{"url", url_label_}, {"samples", samples}});
  while (!queue_.empty()) DropAt(0, /*shutdown=*/true);
}

void RemoteWriteShipper::Stop() {
  absl::MutexLock stop_lock(&stop_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    stop_deadline_ = clock_.Now() + options_.flush_timeout;
    if (!started_) {
      DropAll();
      return;
    }
  }
  stop_.Notify();
  thread_.join();
}

ShipperStats RemoteWriteShipper::stats() const {
  absl::MutexLock lock(&mu_);
  ShipperStats s = stats_;
  s.pending_requests = queue_.size();
  return s;
}

}  // namespace sextant::collector
