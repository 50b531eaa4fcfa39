// Small helpers for the standalone bench programs (not Google Benchmark ones): integer flags and
// dying with a message on a failed set-up step.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace sextant::bench {

// The value of --NAME=INT on the command line, else `fallback`.
inline int IntFlag(int argc, char** argv, absl::string_view name, int fallback) {
  const std::string prefix = absl::StrCat("--", name, "=");
  for (int i = 1; i < argc; ++i) {
    int v;
    if (absl::StartsWith(argv[i], prefix) &&
        absl::SimpleAtoi(absl::string_view(argv[i]).substr(prefix.size()), &v)) {
      return v;
    }
  }
  return fallback;
}

// Exits with "PROGRAM: WHAT: STATUS" unless `s` is OK.
inline void CheckOrExit(const absl::Status& s, absl::string_view program, absl::string_view what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s: %s\n", std::string(program).c_str(), std::string(what).c_str(),
               s.ToString().c_str());
  std::exit(1);
}

}  // namespace sextant::bench
