// A process's own metrics: a prometheus-cpp registry that components add their metrics to, the
// standard process_* series (as Prometheus's Go client exports them), and sextant_build_info.
// Also the admin routes every listening role serves: /metrics, /-/healthy and /-/ready.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace sextant {

class HttpServer;

// Owns the registry; components keep references to the metrics they build in it. Thread-safe:
// every method may be called from any thread (prometheus-cpp metrics are thread-safe).
class SelfMetrics {
 public:
  // `role` is put on sextant_build_info{role=...}.
  explicit SelfMetrics(absl::string_view role);

  prometheus::Registry& registry() { return *registry_; }

  // Adds another source of families served with these (e.g. a component's own Collectable).
  // Held weakly: a source that is gone is skipped. `render_text`, when given, must return the
  // same families as collectable->Collect() in text format 0.0.4; RenderText uses it instead of
  // serializing Collect()'s result (for big sources that keep their text rendered).
  void AddCollectable(const std::shared_ptr<prometheus::Collectable>& collectable,
                      std::function<std::string()> render_text = nullptr);

  // Every family: the registry's, the process_* ones, then the added collectables'.
  std::vector<prometheus::MetricFamily> Collect() const;
  // Collect() in the text exposition format 0.0.4.
  std::string RenderText() const;

 private:
  // The added sources that are still alive, copied out under the lock.
  std::vector<std::pair<std::shared_ptr<prometheus::Collectable>, std::function<std::string()>>>
  LiveExtras() const;

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_;
  mutable absl::Mutex mu_;
  struct Extra {
    std::weak_ptr<prometheus::Collectable> collectable;
    std::function<std::string()> render_text;  // may be empty
  };
  std::vector<Extra> extra_ ABSL_GUARDED_BY(mu_);
};

// The process_* families read from /proc/self: process_cpu_seconds_total,
// process_resident_memory_bytes, process_virtual_memory_bytes, process_start_time_seconds,
// process_open_fds, process_max_fds. `proc_root` is "/proc" except in tests. Thread-safe.
std::shared_ptr<prometheus::Collectable> NewProcessCollector(std::string proc_root = "/proc");

// Whether a role has finished starting; /-/ready answers 503 until it has. Thread-safe.
class Readiness {
 public:
  void Set(bool ready) { ready_.store(ready); }
  bool Get() const { return ready_.load(); }

 private:
  std::atomic<bool> ready_{false};
};

// Adds GET /metrics (RenderText, text/plain; version=0.0.4), GET|HEAD /-/healthy (always 200
// once serving) and GET|HEAD /-/ready (200 when `readiness` is set, else 503) to `server`.
// `metrics` and `readiness` must outlive the server.
void AddAdminRoutes(HttpServer& server, const SelfMetrics& metrics, const Readiness& readiness);

inline constexpr absl::string_view kTextFormatContentType =
    "text/plain; version=0.0.4; charset=utf-8";

}  // namespace sextant
