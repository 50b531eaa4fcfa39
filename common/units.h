// Prometheus-style durations ("15s", "1h30m", "15d") and byte sizes ("64MiB", "8KiB").
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sextant {

// Parses a duration the way Prometheus's model.ParsePromDuration does: one or more of
// <int>y, w, d, h, m, s, ms, in that order, each at most once ("1h30m", "15d", "500ms"), or
// "0". A year is 365 days. InvalidArgument naming the text otherwise.
absl::StatusOr<absl::Duration> ParsePromDuration(absl::string_view s);
// Formats as Prometheus does ("1h30m", "15d", "0s"); the inverse of ParsePromDuration for whole
// milliseconds. Negative durations get a leading '-'.
std::string FormatPromDuration(absl::Duration d);

// Parses a byte size: an integer with an optional unit B, KiB/KB, MiB/MB, GiB/GB, TiB/TB, PiB/PB
// (all powers of 1024, as Prometheus's units.Base2Bytes). InvalidArgument on anything else or on
// overflow.
absl::StatusOr<int64_t> ParseBytes(absl::string_view s);
// Formats with the largest unit that divides exactly ("64MiB", "1000B").
std::string FormatBytes(int64_t bytes);

}  // namespace sextant
