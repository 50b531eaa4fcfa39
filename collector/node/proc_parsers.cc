#include "collector/node/proc_parsers.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sextant::collector {
namespace {

// Collects the bad lines of one file: the first one's message and how many there were.
class LineErrors {
 public:
  void Add(int line, absl::string_view what, absl::string_view text) {
    if (count_++ > 0) return;
    constexpr size_t kExcerpt = 80;
    first_ =
        absl::StrCat("line ", line, ": ", what, " (\"", absl::CHexEscape(text.substr(0, kExcerpt)),
                     text.size() > kExcerpt ? "...\")" : "\")");
  }
  absl::Status status() const {
    if (count_ == 0) return absl::OkStatus();
    if (count_ == 1) return absl::InvalidArgumentError(first_);
    return absl::InvalidArgumentError(
        absl::StrCat(first_, " and ", count_ - 1, " more bad line", count_ > 2 ? "s" : ""));
  }

 private:
  std::string first_;
  int count_ = 0;
};

// Calls fn(line_number, line) for every line of `text` (1-based; a final line without '\n' too).
template <typename Fn>
void ForEachLine(absl::string_view text, Fn fn) {
  int number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    absl::string_view line = text.substr(0, end);
    text = end == absl::string_view::npos ? absl::string_view() : text.substr(end + 1);
    fn(++number, line);
  }
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// The next whitespace-separated field of `rest` (consumed), or "" when none is left.
absl::string_view NextField(absl::string_view& rest) {
  size_t i = 0;
  while (i < rest.size() && IsSpace(rest[i])) ++i;
  size_t j = i;
  while (j < rest.size() && !IsSpace(rest[j])) ++j;
  absl::string_view field = rest.substr(i, j - i);
  rest.remove_prefix(j);
  return field;
}

// Splits `line` into at most `max` fields; returns how many there were in all (it goes on
// counting past `max`, up to max + 1, so callers can tell "more").
template <size_t N>
size_t SplitFields(absl::string_view line, std::array<absl::string_view, N>& fields) {
  size_t n = 0;
  while (true) {
    absl::string_view f = NextField(line);
    if (f.empty()) return n;
    if (n < N) fields[n] = f;
    if (++n > N) return n;
  }
}

// Unsigned decimal integers only (no sign, no spaces): what the kernel prints for counters.
bool ParseU64(absl::string_view s, uint64_t* out) {
  if (s.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(s[0]))) return false;
  return absl::SimpleAtoi(s, out);
}

// A float as Go's strconv.ParseFloat reads the values node_exporter parses that way.
bool ParseDouble(absl::string_view s, double* out) {
  if (s.empty() || IsSpace(s.front()) || IsSpace(s.back())) return false;
  return absl::SimpleAtod(s, out);
}

// Characters allowed in a metric name after its first one.
bool IsMetricNameTail(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != ':') return false;
  }
  return true;
}

}  // namespace

Parsed<ProcStat> ParseProcStat(absl::string_view text) {
  Parsed<ProcStat> result;
  ProcStat& stat = result.value;
  LineErrors errors;
  int max_cpu = -1;
  ForEachLine(text, [&](int number, absl::string_view line) {
    absl::string_view rest = line;
    absl::string_view key = NextField(rest);
    if (key.empty()) return;
    if (absl::StartsWith(key, "cpu")) {
      if (key == "cpu") return;  // the sum over all CPUs
      int cpu = 0;
      absl::string_view digits = key.substr(3);
      if (digits.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(digits[0])) ||
          !absl::SimpleAtoi(digits, &cpu) || cpu < 0 || cpu > (1 << 20)) {
        errors.Add(number, "bad CPU number", line);
        return;
      }
      CpuTicks ticks;
      ticks.cpu = cpu;
      size_t n = 0;
      for (absl::string_view f = NextField(rest); !f.empty() && n < ticks.ticks.size();
           f = NextField(rest), ++n) {
        if (!ParseU64(f, &ticks.ticks[n])) {
          errors.Add(number, absl::StrCat(key, " field ", n + 1, " is not a number"), line);
          return;
        }
      }
      if (n < 4) {
        errors.Add(number, absl::StrCat(key, " has ", n, " fields, want at least 4"), line);
        return;
      }
      // CPUs come in increasing order; only an out-of-order one needs a search.
      bool seen = cpu <= max_cpu && std::any_of(stat.cpus.begin(), stat.cpus.end(),
                                                [cpu](const CpuTicks& t) { return t.cpu == cpu; });
      if (seen) {
        errors.Add(number, absl::StrCat(key, " given twice"), line);
        return;
      }
      stat.cpus.push_back(ticks);
      max_cpu = std::max(max_cpu, cpu);
      return;
    }
    std::optional<uint64_t>* field = nullptr;
    if (key == "intr") {
      field = &stat.interrupts;
    } else if (key == "ctxt") {
      field = &stat.context_switches;
    } else if (key == "btime") {
      field = &stat.boot_time;
    } else if (key == "processes") {
      field = &stat.forks;
    } else if (key == "procs_running") {
      field = &stat.procs_running;
    } else if (key == "procs_blocked") {
      field = &stat.procs_blocked;
    } else {
      return;  // softirq and lines of newer kernels
    }
    uint64_t value = 0;
    if (!ParseU64(NextField(rest), &value)) {
      errors.Add(number, absl::StrCat(key, " value is not a number"), line);
      return;
    }
    *field = value;
  });
  result.status = errors.status();
  return result;
}

Parsed<std::vector<MeminfoField>> ParseMeminfo(absl::string_view text) {
  Parsed<std::vector<MeminfoField>> result;
  result.value.reserve(64);
  LineErrors errors;
  ForEachLine(text, [&](int number, absl::string_view line) {
    std::array<absl::string_view, 3> f;
    size_t n = SplitFields(line, f);
    if (n == 0) return;  // old kernels print empty lines
    if (n < 2 || n > 3) {
      errors.Add(number, absl::StrCat(n, " fields, want 2 or 3"), line);
      return;
    }
    if (!absl::EndsWith(f[0], ":") || f[0].size() < 2) {
      errors.Add(number, "no \"Field:\"", line);
      return;
    }
    MeminfoField field;
    if (!ParseDouble(f[1], &field.value)) {
      errors.Add(number, "value is not a number", line);
      return;
    }
    absl::string_view key = f[0].substr(0, f[0].size() - 1);
    // node_exporter's regexp `\((.*)\)` -> "_$1": the first '(' to the last ')' after it.
    size_t open = key.find('(');
    size_t close = open == absl::string_view::npos ? open : key.rfind(')');
    if (close != absl::string_view::npos && close > open) {
      field.name = absl::StrCat(key.substr(0, open), "_", key.substr(open + 1, close - open - 1),
                                key.substr(close + 1));
    } else {
      field.name = std::string(key);
    }
    if (n == 3) {  // node_exporter presumes the unit is kB
      field.value *= 1024;
      field.name += "_bytes";
    }
    if (!IsMetricNameTail(field.name)) {
      errors.Add(number, "field name is not a metric name", line);
      return;
    }
    result.value.push_back(std::move(field));
  });
  result.status = errors.status();
  return result;
}

Parsed<Loadavg> ParseLoadavg(absl::string_view text) {
  Parsed<Loadavg> result;
  absl::string_view line = text.substr(0, text.find('\n'));
  std::array<absl::string_view, 3> f;
  size_t n = SplitFields(line, f);
  double* outs[] = {&result.value.load1, &result.value.load5, &result.value.load15};
  for (size_t i = 0; i < 3; ++i) {
    if (i >= n || !ParseDouble(f[i], outs[i])) {
      LineErrors errors;
      errors.Add(1, absl::StrCat("load average ", i + 1, " missing or not a number"), line);
      result.status = errors.status();
      *outs[i] = 0;
      return result;  // the averages before the bad one stay
    }
    result.value.count = static_cast<int>(i) + 1;
  }
  return result;
}

Parsed<std::vector<DiskStats>> ParseDiskstats(absl::string_view text) {
  Parsed<std::vector<DiskStats>> result;
  LineErrors errors;
  ForEachLine(text, [&](int number, absl::string_view line) {
    std::array<absl::string_view, 20> f;
    size_t n = SplitFields(line, f);
    if (n == 0) return;
    if (n < 14) {
      errors.Add(number, absl::StrCat(n, " fields, want 14, 18 or 20"), line);
      return;
    }
    n = std::min<size_t>(n, 20);
    DiskStats disk;
    if (!absl::SimpleAtoi(f[0], &disk.major) || !absl::SimpleAtoi(f[1], &disk.minor)) {
      errors.Add(number, "bad major or minor number", line);
      return;
    }
    for (size_t i = 3; i < n; ++i) {
      if (!ParseU64(f[i], &disk.stats[i - 3])) {
        errors.Add(number, absl::StrCat("field ", i + 1, " is not a number"), line);
        return;
      }
    }
    disk.device = std::string(f[2]);
    disk.count = static_cast<int>(n - 3);
    result.value.push_back(std::move(disk));
  });
  result.status = errors.status();
  return result;
}

namespace {

// The kernel's mangling of mount points in /proc/*/mount*: space, tab, newline and backslash as
// three octal digits after a backslash.
std::string UnescapeMountPath(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

Parsed<std::vector<MountInfo>> ParseMountinfo(absl::string_view text) {
  Parsed<std::vector<MountInfo>> result;
  LineErrors errors;
  ForEachLine(text, [&](int number, absl::string_view line) {
    // id parent major:minor root mount_point options [optional...] - fstype source super_options
    absl::string_view rest = line;
    std::array<absl::string_view, 6> f;
    size_t n = 0;
    for (; n < f.size(); ++n) {
      f[n] = NextField(rest);
      if (f[n].empty()) break;
    }
    if (n == 0) return;
    if (n < f.size()) {
      errors.Add(number, "fewer than 6 fields before the separator", line);
      return;
    }
    absl::string_view sep;
    do {
      sep = NextField(rest);
    } while (!sep.empty() && sep != "-");
    absl::string_view fstype = NextField(rest);
    absl::string_view source = NextField(rest);
    if (sep.empty() || source.empty()) {
      errors.Add(number, "no \"- fstype source\"", line);
      return;
    }
    MountInfo mount;
    mount.device = std::string(source);
    mount.mount_point = UnescapeMountPath(f[4]);
    mount.fstype = std::string(fstype);
    absl::string_view options = f[5];
    while (!options.empty()) {
      size_t comma = options.find(',');
      if (options.substr(0, comma) == "ro") mount.read_only = true;
      options = comma == absl::string_view::npos ? absl::string_view() : options.substr(comma + 1);
    }
    result.value.push_back(std::move(mount));
  });
  result.status = errors.status();
  return result;
}

Parsed<std::vector<NetDevStats>> ParseNetDev(absl::string_view text) {
  Parsed<std::vector<NetDevStats>> result;
  LineErrors errors;
  ForEachLine(text, [&](int number, absl::string_view line) {
    if (line.find('|') != absl::string_view::npos) return;  // the two header lines
    size_t colon = line.rfind(':');
    if (colon == absl::string_view::npos) {
      if (!absl::StripAsciiWhitespace(line).empty()) errors.Add(number, "no \"name:\"", line);
      return;
    }
    absl::string_view name = absl::StripAsciiWhitespace(line.substr(0, colon));
    if (name.empty()) {
      errors.Add(number, "empty interface name", line);
      return;
    }
    NetDevStats dev;
    std::array<absl::string_view, 16> f;
    size_t n = SplitFields(line.substr(colon + 1), f);
    if (n < 16) {
      errors.Add(number, absl::StrCat(n, " values, want 16"), line);
      return;
    }
    for (size_t i = 0; i < 16; ++i) {
      if (!ParseU64(f[i], &dev.values[i])) {
        errors.Add(number, absl::StrCat("value ", i + 1, " is not a number"), line);
        return;
      }
    }
    dev.device = std::string(name);
    result.value.push_back(std::move(dev));
  });
  result.status = errors.status();
  return result;
}

Parsed<Pressure> ParsePressure(absl::string_view text) {
  Parsed<Pressure> result;
  LineErrors errors;
  ForEachLine(text, [&](int number, absl::string_view line) {
    absl::string_view rest = line;
    absl::string_view kind = NextField(rest);
    if (kind.empty()) return;
    std::optional<uint64_t>* out = nullptr;
    if (kind == "some") {
      out = &result.value.some_total_us;
    } else if (kind == "full") {
      out = &result.value.full_total_us;
    } else {
      errors.Add(number, "neither \"some\" nor \"full\"", line);
      return;
    }
    for (absl::string_view f = NextField(rest); !f.empty(); f = NextField(rest)) {
      if (!absl::StartsWith(f, "total=")) continue;
      uint64_t total = 0;
      if (!ParseU64(f.substr(6), &total)) break;
      *out = total;
      return;
    }
    errors.Add(number, "no numeric total=", line);
  });
  result.status = errors.status();
  return result;
}

Parsed<std::vector<VmstatField>> ParseVmstat(absl::string_view text) {
  Parsed<std::vector<VmstatField>> result;
  result.value.reserve(200);
  LineErrors errors;
  ForEachLine(text, [&](int number, absl::string_view line) {
    std::array<absl::string_view, 2> f;
    size_t n = SplitFields(line, f);
    if (n == 0) return;
    VmstatField field;
    if (n < 2 || !ParseDouble(f[1], &field.value)) {
      errors.Add(number, "no numeric value", line);
      return;
    }
    if (!IsMetricNameTail(f[0])) {
      errors.Add(number, "field name is not a metric name", line);
      return;
    }
    field.name = f[0];
    result.value.push_back(field);
  });
  result.status = errors.status();
  return result;
}

UdevDiskProperties ParseUdevDiskProperties(absl::string_view text) {
  UdevDiskProperties props;
  ForEachLine(text, [&](int, absl::string_view line) {
    if (!absl::StartsWith(line, "E:")) return;
    line.remove_prefix(2);
    size_t eq = line.find('=');
    if (eq == absl::string_view::npos) return;
    absl::string_view key = line.substr(0, eq);
    std::string value(line.substr(eq + 1));
    if (key == "ID_PATH") {
      props.path = std::move(value);
    } else if (key == "ID_WWN") {
      props.wwn = std::move(value);
    } else if (key == "ID_MODEL") {
      props.model = std::move(value);
    } else if (key == "ID_REVISION") {
      props.revision = std::move(value);
    } else if (key == "ID_SERIAL_SHORT") {
      props.serial = std::move(value);
    }
  });
  return props;
}

}  // namespace sextant::collector
