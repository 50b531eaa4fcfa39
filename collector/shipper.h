// The collector's remote_write shipper: sends each collection pass to one remote_write 1.0
// receiver (https://prometheus.io/docs/concepts/remote_write_spec/) through a bounded queue, with
// retries, backoff and staleness markers, as Prometheus's remote_write queue manager does.
//
//   ShipperOptions opts;
//   opts.url = "http://sextant-server:9190/api/v1/write";
//   opts.metrics = &self_metrics.registry();
//   SEXTANT_ASSIGN_OR_RETURN(auto shipper, RemoteWriteShipper::Create(opts, client, clock));
//   SEXTANT_RETURN_IF_ERROR(shipper->Start());
//   collection.AddListener([&](const Snapshot& s) { shipper->Enqueue(s.families, s.time); });
//   ...
//   shipper->Stop();
//
// What happens to a pass:
// - Enqueue turns it into requests of at most max_samples_per_request samples each (series are
//   never split: a series has one sample per pass), every sample stamped with the pass's time
//   (a sample's own timestamp is ignored), plus one stale marker (prom::StaleNaN) at that time
//   for each series of the previous pass that this pass lacks. Series are sent in the families'
//   order, markers last. A series repeated within a pass is sent once (the first one wins: a
//   receiver rejects a whole request that holds two values for one series and timestamp).
//   Metric metadata (type, help, unit per family) rides on the pass's first request, at most once
//   per metadata_interval.
// - Each request is encoded at once, straight from the families into protobuf wire format (no
//   intermediate message objects or label copies), snappy compressed, and queued; the last
//   pass's series are kept only as their encoded labels, for the markers. The queue's size is the
//   sum of these encoded bodies, in bytes. When a new pass does not fit under queue_bytes, the
//   oldest queued requests are dropped until it does, their samples counted as dropped with
//   reason="queue_full"; a pass whose own requests exceed queue_bytes is dropped whole (same
//   counter). The request being sent is never dropped while in flight, so the queue may pass the
//   cap by that one request until the send returns.
// - The sender sends the queue oldest first, one request at a time, so each series' samples
//   arrive in order. A 2xx answer counts the request's samples as sent. A connection error, a
//   timeout, a 5xx or a 429 keeps the request at the head of the queue and waits: the server's
//   Retry-After when a 429 or 5xx gives one (capped at max_retry_after), else
//   min(max_backoff, initial_backoff * 2^(failures-1)) scaled by a random factor in
//   [1 - jitter, 1 + jitter] and capped again. New passes keep being queued meanwhile. Any other
//   answer (3xx, 4xx) drops the request, counts its samples as failed and logs the status and the
//   first line of the body. Errors the client reports for the request itself (InvalidArgument,
//   FailedPrecondition: a bad URL, a token over http) are treated the same way.
// - Stop() gives the sender flush_timeout more: a last attempt at once (backoff or not), then
//   retries with backoff while they fit before the deadline; a request in flight at the deadline
//   is cancelled. Whatever is still queued is dropped with reason="shutdown".
//
// Self-metrics (when ShipperOptions::metrics is set; `url` is the URL without user info):
//   sextant_shipper_samples_sent_total{url}            samples in requests answered 2xx
//   sextant_shipper_samples_dropped_total{url,reason}  reason="queue_full" | "shutdown"
//   sextant_shipper_samples_failed_total{url}          samples in requests answered 3xx/4xx
//   sextant_shipper_requests_total{url,code}           every attempt; code is the HTTP status
//                                                      ("200", "503"), or for an attempt without
//                                                      an answer the status code's name in lower
//                                                      case ("unavailable", "deadline_exceeded")
//   sextant_shipper_queue_bytes{url}                   encoded bytes queued
//   sextant_shipper_last_success_timestamp_seconds{url} time of the last 2xx answer
// Markers count as samples everywhere, so that enqueued = sent + dropped + failed + queued.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/http_client.h"
#include "prom/text_format.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace sextant::collector {

// RemoteWriteShipper's settings. A value type; not thread-safe (concurrent const use is fine).
struct ShipperOptions {
  // The remote_write endpoint, http:// or https://. Required.
  std::string url;
  // Cap on the queue: the sum of the queued requests' encoded (protobuf + snappy) bodies, in
  // bytes, exact. Must be positive. Default 64 MiB (collector.remoteWrite[].queueBytes).
  int64_t queue_bytes = int64_t{64} << 20;
  // Backoff after the first failed attempt, and its upper bound. Positive, initial <= max.
  // Defaults 100 ms and 30 s.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(30);
  // Each backoff is scaled by a random factor in [1 - jitter, 1 + jitter], in [0, 1]. Default 0.2.
  double jitter = 0.2;
  // Upper bound on a server's Retry-After. Default 5 min.
  absl::Duration max_retry_after = absl::Minutes(5);
  // Limit for one request, connecting included. Positive. Default 10 s.
  absl::Duration timeout = absl::Seconds(10);
  // Samples per request at most (Prometheus's max_samples_per_send). Positive. Default 2000.
  size_t max_samples_per_request = 2000;
  // Metric metadata is sent with a pass's first request when at least this long has passed (in
  // pass time) since it was last sent. InfiniteDuration() never sends it. Default 1 min (as
  // Prometheus's metadata_config.send_interval).
  absl::Duration metadata_interval = absl::Minutes(1);
  // How long Stop() keeps trying to send what is queued. Default 2 s.
  absl::Duration flush_timeout = absl::Seconds(2);
  // User-Agent of the requests. Default "sextant/<version>".
  std::string user_agent;
  // Where the self-metrics go; none when null. Not owned; must outlive the shipper. Shippers to
  // different URLs may share one registry. Default null.
  prometheus::Registry* metrics = nullptr;
};

// Counts since Create. A value type.
struct ShipperStats {
  uint64_t samples_enqueued = 0;  // samples and markers of every pass given to Enqueue
  uint64_t samples_sent = 0;
  uint64_t samples_dropped_queue_full = 0;
  uint64_t samples_dropped_shutdown = 0;
  uint64_t samples_failed = 0;
  uint64_t requests = 0;  // attempts, whatever their outcome
  int64_t queue_bytes = 0;
  size_t pending_requests = 0;  // queued requests, the one in flight included
  absl::Time last_success = absl::InfinitePast();
};

// Ships each pass's samples to one remote_write receiver (see the file comment). Owned by the
// collector; `client` and `clock` must outlive it. The client should not retry on its own
// (HttpRetryPolicy::max_attempts = 1) so that the shipper owns the retries and new passes keep
// flowing. Thread-safe: Enqueue is called from one thread at a time (the pass thread) and may
// run alongside the sender; SendPending is the sender's tick, for one thread at a time and not
// while the thread runs; stats() may be called from any thread.
class RemoteWriteShipper {
 public:
  // InvalidArgument when an option is out of range (the message names it) or the self-metrics
  // cannot be registered (a name taken with another type).
  static absl::StatusOr<std::unique_ptr<RemoteWriteShipper>> Create(const ShipperOptions& options,
                                                                    HttpClient& client,
                                                                    Clock& clock);
  // Stops the thread (see Stop).
  ~RemoteWriteShipper();
  RemoteWriteShipper(const RemoteWriteShipper&) = delete;
  RemoteWriteShipper& operator=(const RemoteWriteShipper&) = delete;

  // Queues one pass: every sample of `families` at `ts`, plus stale markers at `ts` for the
  // series of the previous pass that `families` lacks, dropping the oldest queued requests when
  // the queue is full. Wakes the thread. Never fails (a request over protobuf's 2 GiB limit is
  // logged and counted as failed).
  void Enqueue(const std::vector<prom::MetricFamily>& families, absl::Time ts);

  // The sender's tick: unless a backoff runs until after `now`, sends the queue oldest first
  // until it is empty or an attempt fails with a retryable error. Returns the time to wait
  // before the next attempt (the backoff left), or zero when the queue is empty (or the flush
  // deadline of Stop has passed). Times after the first attempt are read from the clock.
  absl::Duration SendPending(absl::Time now);

  // Starts the thread, which runs SendPending whenever something is queued and waits out the
  // backoffs on the clock. FailedPrecondition when already started or stopped.
  absl::Status Start();
  // Flushes for at most flush_timeout (see the file comment), stops the thread and returns; a
  // backoff in progress is cut short. Idempotent; without Start() it only drops what is queued.
  // Samples left unsent, and those of passes enqueued afterwards, count as reason="shutdown".
  void Stop();

  ShipperStats stats() const;

 private:
  struct Batch {
    std::string body;  // empty while in flight (the request holds it)
    int64_t bytes = 0;
    int64_t samples = 0;
  };
  // One series of the last pass: its encoded labels in last_labels_, kept for its stale marker.
  struct SeriesRecord {
    uint64_t hash;  // prom::Labels::Hash()
    size_t offset;
    size_t size;
  };
  enum class Outcome { kSent, kRetry, kRejected };

  RemoteWriteShipper(const ShipperOptions& options, HttpClient& client, Clock& clock);
  absl::Status InitMetrics();
  void Loop();
  void Flush();
  // Adds one pass's requests to the queue, dropping older ones to make room.
  // `samples` counts the pass's samples, `unencodable` those that could not be encoded.
  void Push(std::vector<Batch> batches, int64_t samples, int64_t unencodable);
  // Drops queue_[index], or everything for good (at stop), counting the samples as dropped.
  void DropAt(size_t index, bool shutdown) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropAll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CountDropped(int64_t samples, bool shutdown) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CountFailed(int64_t samples) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetQueueGauge() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Duration Backoff(const HttpClientResponse* response, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || stopping_;
  }

  const ShipperOptions options_;
  const std::string url_label_;  // options_.url without user info
  HttpClient& client_;
  Clock& clock_;

  // Enqueue's state: the last pass's series, for stale markers, and scratch buffers that keep
  // their capacity from pass to pass.
  absl::Mutex enqueue_mu_;
  std::string last_labels_ ABSL_GUARDED_BY(enqueue_mu_);  // protobuf TimeSeries.labels fields
  std::vector<SeriesRecord> last_series_ ABSL_GUARDED_BY(enqueue_mu_);
  std::string next_labels_ ABSL_GUARDED_BY(enqueue_mu_);
  std::string raw_ ABSL_GUARDED_BY(enqueue_mu_);  // one request before compression
  absl::Time last_metadata_ ABSL_GUARDED_BY(enqueue_mu_) = absl::InfinitePast();

  mutable absl::Mutex mu_;
  std::deque<Batch> queue_ ABSL_GUARDED_BY(mu_);
  bool front_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool dropping_ ABSL_GUARDED_BY(mu_) = false;  // the last pass made room by dropping
  int failures_ ABSL_GUARDED_BY(mu_) = 0;       // consecutive retryable failures
  absl::Time retry_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  ShipperStats stats_ ABSL_GUARDED_BY(mu_);
  absl::BitGen rng_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;  // the queue has been dropped; Enqueue drops too
  absl::Time stop_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();

  absl::Mutex stop_mu_;      // one Stop at a time
  absl::Notification stop_;  // cuts a backoff wait short
  std::thread thread_;

  // Self-metrics; null when options_.metrics is.
  prometheus::Family<prometheus::Counter>* requests_family_ = nullptr;
  prometheus::Counter* sent_ = nullptr;
  prometheus::Counter* dropped_queue_full_ = nullptr;
  prometheus::Counter* dropped_shutdown_ = nullptr;
  prometheus::Counter* failed_ = nullptr;
  prometheus::Gauge* queue_bytes_gauge_ = nullptr;
  prometheus::Gauge* last_success_ = nullptr;
};

}  // namespace sextant::collector
