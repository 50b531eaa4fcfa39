// The Prometheus HTTP query API (/api/v1/...) as Prometheus 2.42 serves it: the same envelope,
// parameters, error types, HTTP codes, messages and JSON, so that Grafana's stock Prometheus data
// source and other Prometheus clients work unchanged.
//
//   query, query_range, query_exemplars, labels, series, format_query   GET and form POST
//   label/<name>/values, metadata, status/buildinfo, rules, alerts       GET
//
// Answers: 200 {"status":"success","data":...[,"warnings":[...]]}; errors
// {"status":"error","errorType":T,"error":MSG} with bad_data 400, execution 422, canceled and
// timeout 503, internal 500; query_exemplars without any selector 204. OPTIONS on each route
// answers 204, and requests with an Origin header get Prometheus's CORS headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aggregator/promql/engine.h"
#include "aggregator/tsdb/db.h"
#include "common/clock.h"
#include "common/http_server.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace sextant::api {

// A time as the API parsed it: Go's time.Time reduced to seconds since the Unix epoch and
// nanoseconds in [0, 1e9). A value type.
struct ApiTime {
  int64_t sec = 0;
  int64_t nsec = 0;

  // Milliseconds as Prometheus's timestamp.FromTime computes them for the series, label and
  // exemplar endpoints (sec * 1000 + nsec / 1e6, wrapping as Go's int64 does).
  int64_t Millis() const;
  // Milliseconds as Prometheus's engine computes them for query and query_range
  // (UnixNano() / 1e6, UnixNano wrapping past the year 2262 as Go's does).
  int64_t EngineMillis() const;
  // The oldest and newest times the API knows (Go's minTime and maxTime), the defaults of open
  // ranges; written "-292273086-05-16T16:47:06Z" and "292277025-08-18T07:12:54.999999999Z".
  static ApiTime Min();
  static ApiTime Max();
  static ApiTime FromAbsl(absl::Time t);
};

// A time parameter as Prometheus parses it: float seconds ("1.5", "1e9"; rounded to the
// millisecond), RFC 3339 with optional fraction ("2015-07-01T20:10:51.781Z", "...+02:00"), or
// the text of ApiTime::Min()/Max(). InvalidArgument `cannot parse "x" to a valid timestamp`.
absl::StatusOr<ApiTime> ParseApiTime(absl::string_view s);

// A duration parameter (step, timeout) as Prometheus parses it: float seconds or a Prometheus
// duration ("5m", "1h30m"). Returns nanoseconds. InvalidArgument `cannot parse "x" to a valid
// duration` (with ". It overflows int64" for floats out of range).
absl::StatusOr<int64_t> ParseApiDuration(absl::string_view s);

struct QueryApiOptions {
  // The engine's settings (lookback, sample limit, timeout; a request's `timeout` parameter can
  // only shorten the timeout). Default: EngineOptions's defaults.
  promql::EngineOptions engine;
  // The time of an instant query without `time`. Not owned. Default RealClock.
  Clock* clock = nullptr;
};

// Serves the query API from a Db. Owned by the server role; the Db and the registry must
// outlive it. Thread-safe: requests are handled concurrently.
class QueryApi {
 public:
  QueryApi(const tsdb::Db& db, const QueryApiOptions& options, prometheus::Registry& registry);

  // Routes every endpoint above (and OPTIONS on each) to this object.
  void Register(HttpServer& server);

  HttpResponse Query(const HttpRequest& request) const;
  HttpResponse QueryRange(const HttpRequest& request) const;
  HttpResponse QueryExemplars(const HttpRequest& request) const;
  HttpResponse Series(const HttpRequest& request) const;
  HttpResponse LabelNames(const HttpRequest& request) const;
  // The label name is the request's path parameter "name".
  HttpResponse LabelValues(const HttpRequest& request) const;
  HttpResponse Metadata(const HttpRequest& request) const;
  HttpResponse BuildInfo(const HttpRequest& request) const;
  HttpResponse Rules(const HttpRequest& request) const;
  HttpResponse Alerts(const HttpRequest& request) const;
  HttpResponse FormatQuery(const HttpRequest& request) const;

 private:
  using Endpoint = HttpResponse (QueryApi::*)(const HttpRequest&) const;
  // The engine for a request: the shared one, or one built in `shorter` when the request's
  // `timeout` is below the configured one (an Engine holds no per-query state).
  const promql::Engine& EngineFor(std::optional<int64_t> timeout_ns,
                                  std::optional<promql::Engine>* shorter) const;
  void Route(HttpServer& server, absl::string_view pattern, absl::string_view endpoint,
             Endpoint handler, bool post);

  const tsdb::Db& db_;
  QueryApiOptions options_;
  Clock& clock_;
  promql::DbQueryable storage_;
  promql::Engine engine_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
};

}  // namespace sextant::api
