// Parsers of the cgroup (v1 and v2) files and directory names the cgroup source reads. They work
// on string_views without allocating (except where a result vector is named), skip what they
// cannot read and say so, and never crash on any input.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace sextant::collector {

// A limit written as "max" (v2) reads as this.
inline constexpr uint64_t kCgroupUnlimited = UINT64_MAX;

// True for a limit that means "no limit": "max" (v2) or v1's PAGE_COUNTER_MAX in bytes
// (9223372036854771712 with 4 KiB pages); anything from 2^62 up.
bool IsUnlimited(uint64_t value);

// Flat-keyed files, one "key value" pair per line (v2 cpu.stat, memory.stat, memory.events;
// v1 cpu.stat, cpuacct.stat, memory.stat, memory.oom_control). Calls `fn` for every line whose
// value is an unsigned decimal integer. Returns false when a non-blank line was malformed (no
// value, a value that is not an integer, extra fields); the other lines are still passed on.
bool ParseFlatKeyed(absl::string_view content,
                    absl::FunctionRef<void(absl::string_view key, uint64_t value)> fn);

// Single-value files (memory.current, memory.max, pids.max, cpuacct.usage, ...): an unsigned
// decimal integer or "max" (kCgroupUnlimited), surrounded by optional whitespace. nullopt for
// anything else (empty, garbled, negative, several values).
std::optional<uint64_t> ParseSingleValue(absl::string_view content);

// Per-device IO counters.
struct IoDeviceStat {
  uint32_t major = 0;
  uint32_t minor = 0;
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
  uint64_t reads = 0;   // read operations
  uint64_t writes = 0;  // write operations
};

// v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" per line (unknown keys
// ignored). Replaces `out` with one entry per well-formed line. Returns false when a non-blank
// line was malformed (a bad device number or a bad key=value field); its device is left out.
bool ParseIoStatV2(absl::string_view content, std::vector<IoDeviceStat>& out);

// Which counters a v1 blkio file holds.
enum class BlkioKind {
  kBytes,     // blkio.throttle.io_service_bytes[_recursive]: read_bytes, write_bytes
  kServiced,  // blkio.throttle.io_serviced[_recursive]: reads, writes
};

// v1 blkio throttle files: "MAJ:MIN Read|Write|Sync|Async|Discard|Total N" lines and a final
// "Total N". Merges the Read and Write values of each device into `out` (entries matched by
// device, appended when new; other fields untouched). Returns false when a line was malformed;
// it is skipped.
bool ParseBlkioV1(absl::string_view content, BlkioKind kind, std::vector<IoDeviceStat>& out);

// The cumulative stall times of a v2 PSI file (cpu.pressure, memory.pressure, io.pressure):
// "some avg10=.. avg60=.. avg300=.. total=US" and (optionally) the same for "full".
struct PressureTotals {
  std::optional<uint64_t> some_us;  // microseconds some task waited
  std::optional<uint64_t> full_us;  // microseconds all non-idle tasks stalled at once
};

// Parses a PSI file into `out`. Returns false when a line was malformed (unknown first word, no
// integer total=); that line is left out.
bool ParsePressure(absl::string_view content, PressureTotals& out);

// Which kind of cgroup a directory under kubepods is, from its name alone.
enum class KubeCgroupKind {
  kOther,      // none of the below: not walked
  kKubepods,   // "kubepods", "kubepods.slice", "<prefix>-kubepods.slice"
  kQos,        // "burstable", "besteffort", "kubepods-burstable.slice", ...
  kPod,        // "pod<uid>", "kubepods-[<qos>-]pod<uid_with_underscores>.slice"
  kContainer,  // see ParseContainerScope
};

// The container runtime behind a container cgroup's name.
enum class ContainerRuntime {
  kUnknown,     // a bare 64-hex ID (cgroupfs driver: containerd or Docker)
  kContainerd,  // cri-containerd-<id>.scope
  kCrio,        // crio-<id>.scope, crio-<id> (cgroupfs)
  kDocker,      // docker-<id>.scope
};

struct ContainerScope {
  ContainerRuntime runtime = ContainerRuntime::kUnknown;
  absl::string_view id;  // the 64 hex digits, a view into the name
};

// A container cgroup's name: "cri-containerd-<id>.scope", "crio-<id>.scope", "docker-<id>.scope",
// "crio-<id>" or a bare "<id>", where <id> is 64 hex digits. nullopt for anything else, including
// CRI-O's "crio-conmon-<id>.scope" (the monitor process, not a container).
std::optional<ContainerScope> ParseContainerScope(absl::string_view name);

// The pod UID in a pod cgroup's name, as written ("pod<uid>" under cgroupfs; under systemd
// "...-pod<uid>.slice" with '_' for '-'): 1 to 128 characters of [0-9A-Za-z_-] (systemd: no '-').
// Empty when `name` is not a pod cgroup.
absl::string_view ParsePodCgroupName(absl::string_view name);

// Classifies a directory name found at or below kubepods.
KubeCgroupKind ClassifyKubeCgroup(absl::string_view name);

}  // namespace sextant::collector
