// autoscaler_sync: how long one autoscaler sync over many ScalingPolicies takes, end to end.
// An in-process fake API server holds N Deployments (2 ready pods each, cpu requests) and N
// policies (a third each on cpu utilization, a Pods PromQL metric and an External PromQL metric);
// an embedded TSDB holds the container cpu counters, per-pod request rates and per-policy queue
// depths those read; the controller's SyncOnce reads every /scale, queries the embedded engine,
// decides and writes what changed. Prints wall time and the sync thread's CPU time per sync, and
// decisions per second. The target (issue 7): 10,000 policies within one 5 s sync on one core.
//
// With --workers=1 the whole sync runs on the calling thread, so its CPU time is the cost of a
// sync on one core; the default 5 workers (the HPA's concurrent syncs) shorten the wall time.
//
//   build/bench/autoscaler_sync --policies=10000 --syncs=4 [--workers=5]
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "aggregator/promql/engine.h"
#include "aggregator/tsdb/db.h"
#include "autoscaler/controller.h"
#include "bench/bench_main.h"
#include "common/http_client.h"
#include "common/logging.h"
#include "kube/client.h"
#include "prometheus/registry.h"
#include "tests/fakes/fake_apiserver.h"

namespace sextant {
namespace {

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void Check(const absl::Status& s, absl::string_view what) {
  bench::CheckOrExit(s, "autoscaler_sync", what);
}

int Run(int policies, int syncs, int workers) {
  SetLogLevel(LogLevel::kError);
  char dir_template[] = "/tmp/autoscaler_sync.XXXXXX";
  const std::string dir = mkdtemp(dir_template);

  fakes::FakeApiServerOptions api_options;
  api_options.allow_anonymous = true;
  absl::StatusOr<std::unique_ptr<fakes::FakeApiServer>> api =
      fakes::FakeApiServer::Create(api_options);
  Check(api.status(), "fake api server");
  Check((*api)->Start(), "fake api server start");
  Check((*api)
            ->PutObject(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench"}})")
            .status(),
        "namespace");

  tsdb::DbOptions db_options;
  db_options.dir = dir + "/data";
  db_options.fsync = FsyncPolicy::kNever;
  absl::StatusOr<std::unique_ptr<tsdb::Db>> db = tsdb::Db::Open(db_options);
  Check(db.status(), "db");

  const absl::Time start = absl::Now();
  // Samples every 5 s from a minute before the first sync to 30 s after it, so each sync's
  // windows have data.
  const int64_t t0 = absl::ToUnixMillis(start) - 60'000;
  tsdb::Appender app = (*db)->NewAppender();
  // A series growing by `per_second` (a counter) or constant (per_second 0).
  auto add = [&](prom::Labels labels, double first, double per_second) {
    absl::StatusOr<tsdb::SeriesRef> ref = app.GetOrCreate(labels);
    Check(ref.status(), "series");
    for (int k = 0; k <= 18; ++k) app.Add(*ref, t0 + k * 5'000, first + per_second * 5 * k);
  };
  for (int i = 0; i < policies; ++i) {
    const std::string name = absl::StrCat("app-", i);
    Check((*api)
              ->PutObject(absl::StrCat(
                  R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":")", name,
                  R"(","namespace":"bench"},"spec":{"replicas":2,"selector":{"matchLabels":)",
                  R"({"app":")", name, R"("}}},"status":{"replicas":2}})"))
              .status(),
          "deployment");
    // Every tenth application is busy: its metrics ask for more pods.
    const double load = i % 10 == 0 ? 3.0 : 1.0;
    for (int p = 0; p < 2; ++p) {
      const std::string pod = absl::StrCat(name, "-", p);
      Check((*api)
                ->PutObject(absl::StrCat(
                    R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")", pod,
                    R"(","namespace":"bench","labels":{"app":")", name,
                    R"("}},"spec":{"containers":[{"name":"main","resources":{"requests":)",
                    R"({"cpu":"500m"}}}]},"status":{"phase":"Running",)",
                    R"("startTime":"2026-01-01T00:00:00Z","conditions":[{"type":"Ready",)",
                    R"("status":"True","lastTransitionTime":"2026-01-01T00:00:10Z"}]}})"))
                .status(),
            "pod");
      // 0.35 cores of 0.5 requested = 70% (on target); busy apps run at 3x.
      add(prom::Labels({{"__name__", "container_cpu_usage_seconds_total"},
                        {"container", "main"},
                        {"namespace", "bench"},
                        {"pod", pod}}),
          1000, 0.35 * load);
      add(prom::Labels({{"__name__", "http_requests_total"},
                        {"app", name},
                        {"namespace", "bench"},
                        {"pod", pod}}),
          0, 100 * load);
    }
    add(prom::Labels({{"__name__", "queue_depth"}, {"app", name}}), 30 * load, 0);
    if (app.pending() > 50'000) Check(app.Commit().status(), "commit");
  }
  Check(app.Commit().status(), "commit");

  for (int i = 0; i < policies; ++i) {
    const std::string name = absl::StrCat("app-", i);
    std::string metric;
    switch (i % 3) {
      case 0:
        metric = R"j({"type":"Resource","resource":{"name":"cpu","target":)j"
                 R"j({"type":"Utilization","averageUtilization":70}}})j";
        break;
      case 1:
        metric = absl::StrCat(
            R"j({"type":"Pods","pods":{"query":"rate(http_requests_total{app=\")j", name,
            R"j(\"}[1m])","target":{"type":"AverageValue","averageValue":"100"}}})j");
        break;
      default:
        metric =
            absl::StrCat(R"j({"type":"External","external":{"query":"sum(queue_depth{app=\")j",
                         name, R"j(\"})","target":{"type":"AverageValue","averageValue":"15"}}})j");
    }
    Check((*api)
              ->PutObject(absl::StrCat(
                  R"j({"apiVersion":"autoscaling.sextant.dev/v1alpha1","kind":"ScalingPolicy",)j",
                  R"j("metadata":{"name":")j", name,
                  R"j(","namespace":"bench"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1",)j",
                  R"j("kind":"Deployment","name":")j", name,
                  R"j("},"minReplicas":1,"maxReplicas":20,"metrics":[)j", metric, "]}}"))
              .status(),
          "policy");
  }

  HttpClientOptions http_options;
  absl::StatusOr<std::unique_ptr<CurlHttpClient>> http = CurlHttpClient::Create(http_options);
  Check(http.status(), "http client");
  kube::KubeClientOptions client_options;
  client_options.server = (*api)->url();
  kube::KubeClient client(**http, client_options);
  promql::DbQueryable queryable(**db);
  promql::EngineOptions engine_options;
  engine_options.parallelism = 1;
  promql::Engine engine(queryable, engine_options);
  autoscaler::EngineQueryClient query(engine);
  prometheus::Registry registry;
  autoscaler::ControllerOptions options;
  options.workers = workers;
  autoscaler::Controller controller(client, query, RealClock::Get(), options, registry);
  controller.StartInformers();
  const absl::Time wait_until = absl::Now() + absl::Minutes(5);
  while (!controller.HasSynced() && absl::Now() < wait_until)
    absl::SleepFor(absl::Milliseconds(20));
  std::printf("policies=%d pods=%d workers=%d setup=%.1fs\n", policies, 2 * policies, workers,
              absl::ToDoubleSeconds(absl::Now() - start));
  for (int s = 0; s < syncs; ++s) {
    (*api)->ClearRequestLog();
    const absl::Time wall = absl::Now();
    const double cpu = ThreadCpuSeconds();
    Check(controller.SyncOnce(start + absl::Seconds(5 * s)), "sync");
    const double cpu_s = ThreadCpuSeconds() - cpu;
    const double wall_s = absl::ToDoubleSeconds(absl::Now() - wall);
    int puts = 0, status_puts = 0;
    for (const auto& r : (*api)->RequestLog()) {
      if (r.method != "PUT") continue;
      absl::EndsWith(r.path, "/status") ? ++status_puts : ++puts;
    }
    std::printf(
        "sync %d: wall %.3f s, sync-thread cpu %.3f s, %.0f decisions/s (wall), scale PUTs %d, "
        "status PUTs %d\n",
        s + 1, wall_s, cpu_s, policies / wall_s, puts, status_puts);
  }
  controller.Stop();
  (*api)->Stop();
  db->reset();
  std::system(absl::StrCat("rm -rf ", dir).c_str());
  return 0;
}

}  // namespace
}  // namespace sextant

int main(int argc, char** argv) {
  return sextant::Run(sextant::bench::IntFlag(argc, argv, "policies", 10000),
                      sextant::bench::IntFlag(argc, argv, "syncs", 4),
                      sextant::bench::IntFlag(argc, argv, "workers", 5));
}
