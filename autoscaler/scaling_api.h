// GET /api/v1/scaling (DESIGN.md 3.3): every ScalingPolicy the autoscaler knows, with its target,
// current and desired replicas, the last decision and its reason, metrics and conditions, in
// Prometheus's API envelope.
//
//   {"status":"success","data":{"policies":[{"namespace":"default","name":"web",
//     "source":"api","target":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},
//     "minReplicas":1,"maxReplicas":10,"paused":false,"currentReplicas":2,"desiredReplicas":3,
//     "lastDecision":{"time":"2026-11-28T07:00:00.000000Z","reason":"...","code":"scale_up"},
//     "lastScaleTime":"...","error":"","metrics":[{"name":"m0","type":"Resource",
//     "target":"70%","current":"85%"}],"conditions":[{"type":"AbleToScale",...}]}]}}
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autoscaler/controller.h"
#include "common/http_server.h"

namespace sextant::autoscaler {

// The JSON body of GET /api/v1/scaling for `policies`.
std::string ScalingReportJson(const std::vector<PolicyReport>& policies);

// Adds GET /api/v1/scaling to `server`, answering from `report` (e.g. the controller's Report);
// without a controller (`report` empty: no cluster, or the autoscaler disabled) the list is
// empty. `report` must stay callable while the server runs.
void RegisterScalingApi(HttpServer& server, std::function<std::vector<PolicyReport>()> report);

}  // namespace sextant::autoscaler
