// JSON as Prometheus 2.42's HTTP API writes it, byte for byte: Go's encoding/json string escapes
// (HTML characters too), the three ways it formats numbers (sample timestamps, sample values,
// scalar and string timestamps), query results and the response envelope.
//
//   std::string body = SuccessEnvelope(EncodeQueryData(result.value), result.warnings);
//   // {"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "aggregator/promql/value.h"
#include "prom/labels.h"

namespace sextant::api {

// Appends `s` as a quoted JSON string as Go's encoding/json writes it: \" \\ \n \r \t, other
// control characters and < > & as \u00xx (lowercase hex), U+2028 and U+2029 escaped, each byte
// of invalid UTF-8 as \ufffd, everything else as is.
void AppendJsonString(std::string* out, absl::string_view s);

// Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest digits that read back as `v`, never
// with an exponent, padded with zeros ("9223372036854776000"); "+Inf", "-Inf", "NaN".
std::string FormatFloatPlain(double v);

// A sample value as Prometheus writes it inside a vector or matrix (quoted): the plain form,
// except an exponent form ("1e-07", "1.5e+300") when 0 < |v| < 1e-6 or |v| >= 1e21.
void AppendSampleValue(std::string* out, double v);

// A sample timestamp (ms) as Prometheus writes it inside a vector or matrix: seconds, then, when
// the milliseconds are not zero, '.' and exactly three digits ("1.500", "-0.005", "4").
void AppendSampleTimestamp(std::string* out, int64_t ms);

// A scalar's or string's timestamp (ms): the float ms / 1000 as Go's encoding/json writes a
// float64 ("1.5", "1435781451.781", "4").
void AppendFloatTimestamp(std::string* out, int64_t ms);

// A label set as a JSON object, keys in label order: {"__name__":"up","job":"a"}.
void AppendLabels(std::string* out, const prom::Labels& labels);

// The `data` of a query answer: {"resultType":"vector","result":[...]}; "matrix" with "values",
// "scalar" [ts,"v"], "string" [ts,"s"]; empty results as [].
std::string EncodeQueryData(const promql::Value& value);

// {"status":"success","data":DATA} plus "warnings":[...] when there are any. `data_json` must
// be one JSON value.
std::string SuccessEnvelope(absl::string_view data_json,
                            const std::vector<std::string>& warnings = {});

// {"status":"error","errorType":TYPE,"error":MESSAGE}.
std::string ErrorEnvelope(absl::string_view error_type, absl::string_view message);

}  // namespace sextant::api
