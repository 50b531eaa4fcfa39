// Fuzzes the cgroup file and name parsers, and the cgroup source over a tree whose every file
// holds the input: any bytes must parse or be rejected, never crash, hang or go out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "collector/cgroup/cgroup_parse.h"
#include "collector/cgroup/cgroup_source.h"
#include "collector/metric_set.h"

namespace {

using sextant::collector::DirEntry;
using sextant::collector::FsStats;

constexpr absl::string_view kPod =
    "kubepods-burstable-pod5c3d9a0f_81e2_4b7c_a4d6_97f0e21b3c88.slice";
constexpr absl::string_view kScope =
    "cri-containerd-b9ac5b0c15191fa4d73f17ee3df86d231bcf3e4303960d7661f32420e723690d.scope";

// cgroup v2 (or v1 without cgroup.controllers) with one pod and one container; every file reads
// as `content`.
class FuzzFilesystem : public sextant::collector::HostFilesystem {
 public:
  FuzzFilesystem(absl::string_view content, bool v2) : content_(content), v2_(v2) {}

  absl::StatusOr<std::string> ReadFile(absl::string_view path, size_t max_bytes) const override {
    if (!v2_ && absl::EndsWith(path, "/cgroup.controllers")) return absl::NotFoundError("no");
    if (content_.size() > max_bytes) return absl::ResourceExhaustedError("long");
    return std::string(content_);
  }
  absl::StatusOr<std::vector<DirEntry>> ListDir(absl::string_view path) const override {
    if (absl::EndsWith(path, kScope)) return std::vector<DirEntry>{};
    if (absl::EndsWith(path, kPod)) return std::vector<DirEntry>{{std::string(kScope), true}};
    if (absl::EndsWith(path, "kubepods-burstable.slice")) {
      return std::vector<DirEntry>{{std::string(kPod), true}};
    }
    if (absl::EndsWith(path, "kubepods.slice")) {
      return std::vector<DirEntry>{{"kubepods-burstable.slice", true}, {"junk", false}};
    }
    return std::vector<DirEntry>{{"kubepods.slice", true}};
  }
  absl::StatusOr<FsStats> Statfs(absl::string_view) const override {
    return absl::UnimplementedError("statfs");
  }

 private:
  absl::string_view content_;
  bool v2_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sextant::collector;  // NOLINT: a fuzz entry point
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  absl::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (mode % 6) {
    case 0:
      (void)ParseFlatKeyed(in, [](absl::string_view key, uint64_t) {
        if (key.empty()) __builtin_trap();
      });
      break;
    case 1:
      (void)ParseSingleValue(in);
      break;
    case 2: {
      std::vector<IoDeviceStat> io;
      (void)ParseIoStatV2(in, io);
      (void)ParseBlkioV1(in, BlkioKind::kBytes, io);
      (void)ParseBlkioV1(in, BlkioKind::kServiced, io);
      break;
    }
    case 3: {
      PressureTotals p;
      (void)ParsePressure(in, p);
      break;
    }
    case 4: {
      std::optional<ContainerScope> scope = ParseContainerScope(in);
      if (scope && scope->id.size() != 64) __builtin_trap();
      absl::string_view uid = ParsePodCgroupName(in);
      if (uid.size() > 128) __builtin_trap();
      (void)ClassifyKubeCgroup(in);
      break;
    }
    default: {
      FuzzFilesystem fs(in, (mode & 0x80) != 0);
      std::unique_ptr<Source> source = NewCgroupSource(fs, CgroupSourceOptions());
      MetricSet out;
      (void)source->Collect(PassContext{absl::Now(), nullptr}, out);
      break;
    }
  }
  return 0;
}
