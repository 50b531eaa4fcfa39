#include "common/self_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/build_info.h"
#include "common/http_server.h"
#include "prometheus/gauge.h"
#include "prometheus/text_serializer.h"

namespace sextant {
namespace {

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
  return f;
}

class ProcessCollector : public prometheus::Collectable {
 public:
  explicit ProcessCollector(std::string proc_root) : root_(std::move(proc_root)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    // /proc/self/stat: the command may hold spaces and parentheses, so split after the last ')'.
    std::string stat = ReadWhole(root_ + "/self/stat");
    size_t paren = stat.rfind(')');
    if (paren != std::string::npos && ticks > 0) {
      std::vector<absl::string_view> f =
          absl::StrSplit(absl::string_view(stat).substr(paren + 2), ' ', absl::SkipEmpty());
      // After the command, field 3 (state) is f[0]; utime is field 14, stime 15, starttime 22,
      // vsize 23, rss 24.
      double utime, stime, start, vsize, rss;
      if (f.size() > 21 && absl::SimpleAtod(f[11], &utime) && absl::SimpleAtod(f[12], &stime) &&
          absl::SimpleAtod(f[19], &start) && absl::SimpleAtod(f[20], &vsize) &&
          absl::SimpleAtod(f[21], &rss)) {
        out.push_back(Family("process_cpu_seconds_total",
                             "Total user and system CPU time spent in seconds.",
                             prometheus::MetricType::Counter, (utime + stime) / ticks));
        out.push_back(Family("process_resident_memory_bytes", "Resident memory size in bytes.",
                             prometheus::MetricType::Gauge, rss * page));
        out.push_back(Family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                             prometheus::MetricType::Gauge, vsize));
        double boot = BootTime();
        if (boot > 0) {
          out.push_back(Family("process_start_time_seconds",
                               "Start time of the process since unix epoch in seconds.",
                               prometheus::MetricType::Gauge, boot + start / ticks));
        }
      }
    }
    std::error_code ec;
    size_t fds = 0;
    for (auto it = std::filesystem::directory_iterator(root_ + "/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      ++fds;
    }
    if (!ec) {
      out.push_back(Family("process_open_fds", "Number of open file descriptors.",
                           prometheus::MetricType::Gauge, static_cast<double>(fds)));
    }
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
      out.push_back(Family("process_max_fds", "Maximum number of open file descriptors.",
                           prometheus::MetricType::Gauge, static_cast<double>(lim.rlim_cur)));
    }
    return out;
  }

 private:
  double BootTime() const {
    std::string stat = ReadWhole(root_ + "/stat");
    for (absl::string_view line : absl::StrSplit(stat, '\n')) {
      if (absl::ConsumePrefix(&line, "btime ")) {
        double v;
        if (absl::SimpleAtod(line, &v)) return v;
      }
    }
    return 0;
  }

  std::string root_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> NewProcessCollector(std::string proc_root) {
  return std::make_shared<ProcessCollector>(std::move(proc_root));
}

SelfMetrics::SelfMetrics(absl::string_view role)
    : registry_(std::make_shared<prometheus::Registry>()), process_(NewProcessCollector()) {
  prometheus::BuildGauge()
      .Name("sextant_build_info")
      .Help("A metric with a constant '1' value labeled by version, revision and role.")
      .Register(*registry_)
      .Add({{"version", SEXTANT_VERSION},
            {"revision", SEXTANT_REVISION},
            {"role", std::string(role)}})
      .Set(1);
}

void SelfMetrics::AddCollectable(const std::shared_ptr<prometheus::Collectable>& collectable,
                                 std::function<std::string()> render_text) {
  absl::MutexLock lock(&mu_);
  extra_.push_back(Extra{collectable, std::move(render_text)});
}

std::vector<std::pair<std::shared_ptr<prometheus::Collectable>, std::function<std::string()>>>
SelfMetrics::LiveExtras() const {
  std::vector<std::pair<std::shared_ptr<prometheus::Collectable>, std::function<std::string()>>>
      out;
  absl::MutexLock lock(&mu_);
  for (const Extra& e : extra_) {
    if (auto c = e.collectable.lock()) out.emplace_back(std::move(c), e.render_text);
  }
  return out;
}

std::vector<prometheus::MetricFamily> SelfMetrics::Collect() const {
  std::vector<prometheus::MetricFamily> out = registry_->Collect();
  for (auto& f : process_->Collect()) out.push_back(std::move(f));
  // Collected outside the lock: a source may take its time.
  for (const auto& [c, render_text] : LiveExtras()) {
    for (auto& f : c->Collect()) out.push_back(std::move(f));
  }
  return out;
}

std::string SelfMetrics::RenderText() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (auto& f : process_->Collect()) families.push_back(std::move(f));
  // Holds the sources alive until their text is rendered.
  const auto extras = LiveExtras();
  for (const auto& [c, render_text] : extras) {
    if (render_text) continue;
    for (auto& f : c->Collect()) families.push_back(std::move(f));
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  std::string text = out.str();
  for (const auto& [c, render_text] : extras) {
    if (render_text) text += render_text();
  }
  return text;
}

void AddAdminRoutes(HttpServer& server, const SelfMetrics& metrics, const Readiness& readiness) {
  server.Handle("GET", "/metrics", [&metrics](const HttpRequest&) {
    return HttpResponse::Text(200, metrics.RenderText(), kTextFormatContentType);
  });
  for (const char* method : {"GET", "HEAD"}) {
    server.Handle(method, "/-/healthy", [](const HttpRequest&) {
      return HttpResponse::Text(200, "Sextant is Healthy.\n");
    });
    server.Handle(method, "/-/ready", [&readiness](const HttpRequest&) {
      if (readiness.Get()) return HttpResponse::Text(200, "Sextant is Ready.\n");
      return HttpResponse::Text(503, "Service Unavailable\n");
    });
  }
}

}  // namespace sextant
