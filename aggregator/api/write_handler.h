// POST /api/v1/write: the remote_write 1.0 receiver. Validates each series (per the spec:
// label names sorted and unique, valid names, __name__ present; plus the configured limits),
// stores the valid ones through the DB (acknowledged only once in the WAL) and answers:
//   204  everything stored
//   400  some series or samples were bad (the valid ones are stored); the body names the first
//   413  body, decompressed body or series count over the limit (nothing stored)
//   415  not a remote_write 1.0 body
//   429  the active series limit refused new series (the others are stored)
//   500  the WAL write failed (nothing of the request is stored; the sender retries)
//   503  only samples of series a concurrent head truncation removed were refused (the sender
//        retries, which recreates them)
#pragma once

#include <cstdint>
#include <memory>

#include "aggregator/tsdb/db.h"
#include "common/config.h"
#include "common/http_server.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"

namespace sextant::api {

struct WriteHandlerOptions {
  // Limits from the server's configuration (DESIGN.md 3.7 server.limits): bodyBytes (the
  // decompressed body may be up to 8 times that), seriesPerRequest, labelsPerSeries,
  // labelValueBytes. The active series limit is the DB's.
  LimitsConfig limits;
};

// Handles remote_write requests into a Db. Owned by the server role; the Db must outlive it.
// Thread-safe: requests are handled concurrently.
class WriteHandler {
 public:
  WriteHandler(tsdb::Db& db, const WriteHandlerOptions& options, prometheus::Registry& registry);

  HttpResponse Handle(const HttpRequest& request);
  // Routes POST /api/v1/write to this handler.
  void Register(HttpServer& server);

 private:
  tsdb::Db& db_;
  WriteHandlerOptions options_;
  prometheus::Counter& requests_;
  prometheus::Counter& series_received_;
  prometheus::Counter& samples_received_;
  prometheus::Counter& samples_appended_;
  prometheus::Family<prometheus::Counter>& rejected_;
  prometheus::Counter& rejected_invalid_;
  prometheus::Counter& rejected_limits_;
  prometheus::Counter& rejected_series_limit_;
  prometheus::Counter& rejected_out_of_order_;
  prometheus::Counter& rejected_duplicate_;
  prometheus::Counter& rejected_out_of_bounds_;
  prometheus::Counter& rejected_other_;
  prometheus::Counter& rejected_future_;
};

}  // namespace sextant::api
