// The Prometheus text exposition formats: a writer for text format 0.0.4 and a parser for 0.0.4
// and OpenMetrics 1.0 text.
//
// The writer produces exactly what Prometheus's client_golang (expfmt) writes. The parser accepts
// what Prometheus 2.42 accepts when it scrapes (model/textparse), and groups the samples into
// families the way client_golang's expfmt.TextParser (used by `promtool check metrics`) does. It
// is stricter than Prometheus in a few places where Prometheus keeps data that makes no sense,
// listed at ParseTextFormat.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prom/labels.h"

namespace sextant::prom {

// The type of a metric family. The last three exist only in OpenMetrics.
enum class MetricType {
  kCounter,
  kGauge,
  kHistogram,
  kSummary,
  kUntyped,  // "untyped" in 0.0.4, "unknown" in OpenMetrics.
  kInfo,
  kStateSet,
  kGaugeHistogram,
};

// The OpenMetrics spelling of `type` ("counter", ..., "unknown", "info", "stateset",
// "gaugehistogram").
absl::string_view MetricTypeName(MetricType type);

// One exposed sample. `labels` includes __name__, which is the sample's own name (for example
// `foo_bucket` in family `foo`).
struct ExpositionSample {
  Labels labels;
  double value = 0;
  std::optional<int64_t> timestamp_ms;
};

// A metric family: its metadata and its samples in exposition order. `help` and `unit` are empty
// when not given (0.0.4 has no units).
struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::kUntyped;
  std::string unit;
  std::vector<ExpositionSample> samples;
};

enum class ExpositionFormat {
  kText004,      // text/plain; version=0.0.4
  kOpenMetrics,  // application/openmetrics-text; version=1.0.0
};

// The Content-Type of what WriteTextFormat produces: sextant::kTextFormatContentType
// (common/self_metrics.h), which /metrics uses too.

// kOpenMetrics for an application/openmetrics-text media type (any parameters, any case),
// kText004 for anything else, including an empty string.
ExpositionFormat FormatFromContentType(absl::string_view content_type);

// A sample value as client_golang writes it: "+Inf", "-Inf", "NaN", "0" for both zeros, and
// otherwise Go's strconv.FormatFloat(v, 'g', -1, 64): the shortest digits that read back to the
// same double, in exponent form when the decimal exponent is below -4 or at least 6
// (1234567 -> "1.234567e+06", 100000 -> "100000", 1e-05 -> "1e-05").
std::string FormatPromFloat(double v);

// Writes `families` in text format 0.0.4: per family `# HELP` (when the help has a non-blank
// character; `\` and newline escaped), `# TYPE`, then one line per sample,
// `name{label="value",...} value [timestamp_ms]`, label values escaped (`\\`, `\"`, `\n`) and
// labels in name order, except that `le` on histogram buckets and `quantile` on summary
// quantiles come last, as client_golang writes them.
//
// 0.0.4 has no OpenMetrics-only types and no unit, and names a counter after its samples, so
// families are mapped: an OpenMetrics counter `foo` (samples `foo_total`) is written as counter
// `foo_total`; `_created` samples of counters, histograms and summaries as gauge families of their
// own; info, stateset and gaugehistogram families as one gauge family per sample name (`foo_info`;
// `foo`; `foo_bucket`, `foo_gcount`, `foo_gsum`); a sample whose name does not fit its family's
// type as an untyped family of its own. Families parsed from 0.0.4 are written back unchanged.
// The caller keeps family names unique (ParseTextFormat's output always is); the writer does not
// check. Never fails.
std::string WriteTextFormat(const std::vector<MetricFamily>& families);

// Parses an exposition in `format` into families, in the order they first appear.
//
// Text 0.0.4, as Prometheus 2.42: blank lines and `#` comments other than `# HELP name text` and
// `# TYPE name type` are ignored; spaces and tabs may surround tokens; label sets may have a
// trailing comma; label values and HELP may use `\\`, `\n` (and `\"` in label values), other
// backslash pairs stay as written; values are Go floats (`1e3`, `.5`, `+Inf`, `nan`; no hex, no
// `_`); the timestamp is integer milliseconds (a leading `-` is also accepted, as client_golang
// does). A sample joins the family of its name, else the summary or histogram whose `_sum`,
// `_count` (or `_bucket`) it is, else starts an untyped family, so non-adjacent samples of one
// name share a family. CR is not a line end (Prometheus rejects "1\r" as a value).
//
// OpenMetrics, as Prometheus 2.42 and the OpenMetrics spec: single spaces only, no blank lines or
// other comments, `# UNIT` (a suffix of the name), TYPE may also be info, stateset,
// gaugehistogram or unknown, counters `foo` have samples `foo_total`/`foo_created`, timestamps are
// float seconds (converted to milliseconds by truncation, as Prometheus does), an exemplar
// (` # {labels} value [timestamp]`, only on `_total` and `_bucket` samples) is checked and
// dropped, families must not interleave or clash by name, and input must end with `# EOF`.
//
// Beyond Prometheus, both formats reject: duplicate label names in a sample (including
// `__name__`), HELP/TYPE (and UNIT) given twice for a family or TYPE after its samples, a sample
// whose name does not fit its family's type (a histogram sample named like the family, a
// summary sample without `quantile`), a histogram bucket without a float `le`, a summary
// quantile whose `quantile` is not a float, and NUL bytes outside label values, HELP and comments.
//
// Returns InvalidArgument with "line N col M: ..." (1-based, columns in bytes) naming what was
// expected and what was found. Never crashes; linear in the input size.
absl::StatusOr<std::vector<MetricFamily>> ParseTextFormat(absl::string_view text,
                                                          ExpositionFormat format);

}  // namespace sextant::prom
