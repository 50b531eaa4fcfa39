#include "collector/cgroup/cgroup_parse.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"

namespace sextant::collector {
namespace {

// Calls `fn` for each line of `content` (without the '\n'), stopping early when it returns false.
template <typename Fn>
void ForEachLine(absl::string_view content, Fn fn) {
  while (!content.empty()) {
    size_t nl = content.find('\n');
    absl::string_view line = content.substr(0, nl);
    content.remove_prefix(nl == absl::string_view::npos ? content.size() : nl + 1);
    fn(line);
  }
}

// The next space- or tab-separated field of `s`, removed from it; empty at the end.
absl::string_view NextField(absl::string_view& s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  size_t j = i;
  while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
  absl::string_view field = s.substr(i, j - i);
  s.remove_prefix(j);
  return field;
}

bool IsBlank(absl::string_view line) { return absl::StripAsciiWhitespace(line).empty(); }

// An unsigned decimal integer: digits only (SimpleAtoi also takes a sign and spaces).
bool ParseU64(absl::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return absl::SimpleAtoi(s, out);
}

bool ParseU32(absl::string_view s, uint32_t* out) {
  if (s.empty() || s.size() > 10) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return absl::SimpleAtoi(s, out);
}

// "MAJ:MIN".
bool ParseDevice(absl::string_view s, uint32_t* major, uint32_t* minor) {
  size_t colon = s.find(':');
  if (colon == absl::string_view::npos) return false;
  return ParseU32(s.substr(0, colon), major) && ParseU32(s.substr(colon + 1), minor);
}

bool IsHex(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsContainerId(absl::string_view s) { return s.size() == 64 && IsHex(s); }

bool IsUidChar(char c, bool allow_dash) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || (allow_dash && c == '-');
}

bool IsUid(absl::string_view s, bool allow_dash) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!IsUidChar(c, allow_dash)) return false;
  }
  return true;
}

// The name without a ".slice" suffix, and whether it had one.
absl::string_view StripSlice(absl::string_view name, bool* had) {
  *had = absl::ConsumeSuffix(&name, ".slice");
  return name;
}

}  // namespace

bool IsUnlimited(uint64_t value) { return value >= (uint64_t{1} << 62); }

bool ParseFlatKeyed(absl::string_view content,
                    absl::FunctionRef<void(absl::string_view key, uint64_t value)> fn) {
  bool ok = true;
  ForEachLine(content, [&](absl::string_view line) {
    absl::string_view rest = line;
    absl::string_view key = NextField(rest);
    absl::string_view value = NextField(rest);
    if (key.empty()) {
      if (!IsBlank(line)) ok = false;
      return;
    }
    uint64_t v;
    if (!ParseU64(value, &v) || !NextField(rest).empty()) {
      ok = false;
      return;
    }
    fn(key, v);
  });
  return ok;
}

std::optional<uint64_t> ParseSingleValue(absl::string_view content) {
  absl::string_view s = absl::StripAsciiWhitespace(content);
  if (s == "max") return kCgroupUnlimited;
  uint64_t v;
  if (!ParseU64(s, &v)) return std::nullopt;
  return v;
}

bool ParseIoStatV2(absl::string_view content, std::vector<IoDeviceStat>& out) {
  out.clear();
  bool ok = true;
  ForEachLine(content, [&](absl::string_view line) {
    absl::string_view rest = line;
    absl::string_view dev = NextField(rest);
    if (dev.empty()) {
      if (!IsBlank(line)) ok = false;
      return;
    }
    IoDeviceStat stat;
    if (!ParseDevice(dev, &stat.major, &stat.minor)) {
      ok = false;
      return;
    }
    for (absl::string_view field = NextField(rest); !field.empty(); field = NextField(rest)) {
      size_t eq = field.find('=');
      uint64_t v;
      if (eq == absl::string_view::npos || !ParseU64(field.substr(eq + 1), &v)) {
        ok = false;
        return;
      }
      absl::string_view key = field.substr(0, eq);
      if (key == "rbytes") {
        stat.read_bytes = v;
      } else if (key == "wbytes") {
        stat.write_bytes = v;
      } else if (key == "rios") {
        stat.reads = v;
      } else if (key == "wios") {
        stat.writes = v;
      }
    }
    out.push_back(stat);
  });
  return ok;
}

bool ParseBlkioV1(absl::string_view content, BlkioKind kind, std::vector<IoDeviceStat>& out) {
  bool ok = true;
  ForEachLine(content, [&](absl::string_view line) {
    absl::string_view rest = line;
    absl::string_view first = NextField(rest);
    if (first.empty()) {
      if (!IsBlank(line)) ok = false;
      return;
    }
    if (first == "Total") {  // the sum over devices
      uint64_t v;
      if (!ParseU64(NextField(rest), &v) || !NextField(rest).empty()) ok = false;
      return;
    }
    uint32_t major, minor;
    absl::string_view op = NextField(rest);
    uint64_t v;
    if (!ParseDevice(first, &major, &minor) || op.empty() || !ParseU64(NextField(rest), &v) ||
        !NextField(rest).empty()) {
      ok = false;
      return;
    }
    const bool read = op == "Read";
    if (!read && op != "Write") return;  // Sync, Async, Discard, Total
    IoDeviceStat* stat = nullptr;
    for (IoDeviceStat& s : out) {
      if (s.major == major && s.minor == minor) {
        stat = &s;
        break;
      }
    }
    if (stat == nullptr) {
      out.push_back(IoDeviceStat{major, minor});
      stat = &out.back();
    }
    if (kind == BlkioKind::kBytes) {
      (read ? stat->read_bytes : stat->write_bytes) = v;
    } else {
      (read ? stat->reads : stat->writes) = v;
    }
  });
  return ok;
}

bool ParsePressure(absl::string_view content, PressureTotals& out) {
  bool ok = true;
  ForEachLine(content, [&](absl::string_view line) {
    absl::string_view rest = line;
    absl::string_view kind = NextField(rest);
    if (kind.empty()) {
      if (!IsBlank(line)) ok = false;
      return;
    }
    std::optional<uint64_t>* target = kind == "some"   ? &out.some_us
                                      : kind == "full" ? &out.full_us
                                                       : nullptr;
    if (target == nullptr) {
      ok = false;
      return;
    }
    bool found = false;
    for (absl::string_view field = NextField(rest); !field.empty(); field = NextField(rest)) {
      if (!absl::ConsumePrefix(&field, "total=")) continue;  // avg10=... are not used
      uint64_t v;
      if (!ParseU64(field, &v)) break;
      *target = v;
      found = true;
    }
    if (!found) ok = false;
  });
  return ok;
}

std::optional<ContainerScope> ParseContainerScope(absl::string_view name) {
  ContainerScope scope;
  const bool is_scope = absl::ConsumeSuffix(&name, ".scope");
  if (absl::ConsumePrefix(&name, "cri-containerd-")) {
    scope.runtime = ContainerRuntime::kContainerd;
  } else if (absl::ConsumePrefix(&name, "crio-")) {
    scope.runtime = ContainerRuntime::kCrio;
  } else if (absl::ConsumePrefix(&name, "docker-")) {
    scope.runtime = ContainerRuntime::kDocker;
  } else if (is_scope) {
    return std::nullopt;
  }
  // crio-conmon-<id> fails here: "conmon-..." is not 64 hex digits.
  if (!IsContainerId(name)) return std::nullopt;
  scope.id = name;
  return scope;
}

absl::string_view ParsePodCgroupName(absl::string_view name) {
  bool slice;
  name = StripSlice(name, &slice);
  if (!slice) {  // cgroupfs: pod<uid>
    if (!absl::ConsumePrefix(&name, "pod") || !IsUid(name, /*allow_dash=*/true)) return {};
    return name;
  }
  // systemd: the last '-'-separated part of the unit name is pod<uid with '_'>.
  size_t dash = name.rfind('-');
  if (dash == absl::string_view::npos) return {};
  absl::string_view last = name.substr(dash + 1);
  if (!absl::ConsumePrefix(&last, "pod") || !IsUid(last, /*allow_dash=*/false)) return {};
  return last;
}

KubeCgroupKind ClassifyKubeCgroup(absl::string_view name) {
  if (!ParsePodCgroupName(name).empty()) return KubeCgroupKind::kPod;
  if (ParseContainerScope(name).has_value()) return KubeCgroupKind::kContainer;
  bool slice;
  absl::string_view base = StripSlice(name, &slice);
  if (name == "kubepods" || (slice && (base == "kubepods" || absl::EndsWith(base, "-kubepods")))) {
    return KubeCgroupKind::kKubepods;
  }
  if (!slice) {
    return name == "burstable" || name == "besteffort" ? KubeCgroupKind::kQos
                                                       : KubeCgroupKind::kOther;
  }
  if (absl::EndsWith(base, "kubepods-burstable") || absl::EndsWith(base, "kubepods-besteffort")) {
    return KubeCgroupKind::kQos;
  }
  return KubeCgroupKind::kOther;
}

}  // namespace sextant::collector
