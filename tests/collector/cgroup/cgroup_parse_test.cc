#include "collector/cgroup/cgroup_parse.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::collector {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

std::map<std::string, uint64_t> FlatKeyed(absl::string_view content, bool* ok) {
  std::map<std::string, uint64_t> out;
  *ok = ParseFlatKeyed(content, [&](absl::string_view k, uint64_t v) { out[std::string(k)] = v; });
  return out;
}

TEST(ParseFlatKeyedTest, ReadsEveryKeyOfARealCpuStat) {
  bool ok;
  auto m = FlatKeyed(
      "usage_usec 1234\nuser_usec 1000\nsystem_usec 234\nnr_periods 10\nnr_throttled 2\n"
      "throttled_usec 5000\nnr_bursts 0\nburst_usec 0\n",
      &ok);
  EXPECT_TRUE(ok);
  EXPECT_EQ(m.size(), 8u);
  EXPECT_EQ(m["usage_usec"], 1234u);
  EXPECT_EQ(m["throttled_usec"], 5000u);
}

TEST(ParseFlatKeyedTest, SkipsBadLinesKeepsTheRestAndSaysSo) {
  struct Case {
    const char* content;
    std::map<std::string, uint64_t> want;
  };
  const Case cases[] = {
      {"a 1\nb\nc 3\n", {{"a", 1}, {"c", 3}}},           // no value
      {"a 1\nb x\nc 3", {{"a", 1}, {"c", 3}}},           // not a number, no final newline
      {"a -1\nb 2\n", {{"b", 2}}},                       // negative
      {"a 1 2\nb 2\n", {{"b", 2}}},                      // extra field
      {"a 99999999999999999999999\nb 2\n", {{"b", 2}}},  // overflow
      {"a 1\ninactive_fi", {{"a", 1}}},                  // truncated
      {"a +5\n", {}},                                    // sign
  };
  for (const Case& c : cases) {
    bool ok;
    EXPECT_EQ(FlatKeyed(c.content, &ok), c.want) << c.content;
    EXPECT_FALSE(ok) << c.content;
  }
}

TEST(ParseFlatKeyedTest, BlankLinesAndTabsAreFine) {
  bool ok;
  auto m = FlatKeyed("\n  \nuser\t10\n\nsystem 20\n", &ok);
  EXPECT_TRUE(ok);
  EXPECT_THAT(m, ElementsAre(Pair("system", 20u), Pair("user", 10u)));
}

TEST(ParseSingleValueTest, NumbersMaxAndGarbage) {
  EXPECT_EQ(ParseSingleValue("123\n"), 123u);
  EXPECT_EQ(ParseSingleValue(" 0 "), 0u);
  EXPECT_EQ(ParseSingleValue("max\n"), kCgroupUnlimited);
  EXPECT_EQ(ParseSingleValue("9223372036854771712\n"), 9223372036854771712u);
  EXPECT_EQ(ParseSingleValue(""), std::nullopt);
  EXPECT_EQ(ParseSingleValue("\n"), std::nullopt);
  EXPECT_EQ(ParseSingleValue("-1\n"), std::nullopt);
  EXPECT_EQ(ParseSingleValue("12 13\n"), std::nullopt);
  EXPECT_EQ(ParseSingleValue("maximum"), std::nullopt);
  EXPECT_EQ(ParseSingleValue("18446744073709551616"), std::nullopt);  // 2^64
}

TEST(IsUnlimitedTest, MaxAndV1PageCounterMaxAreUnlimited) {
  EXPECT_TRUE(IsUnlimited(kCgroupUnlimited));
  EXPECT_TRUE(IsUnlimited(9223372036854771712u));  // 4 KiB pages
  EXPECT_TRUE(IsUnlimited(9223372036854710272u));  // 64 KiB pages
  EXPECT_FALSE(IsUnlimited(uint64_t{256} << 30));
}

TEST(ParseIoStatV2Test, OneEntryPerDevice) {
  std::vector<IoDeviceStat> io;
  EXPECT_TRUE(
      ParseIoStatV2("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n"
                    "259:0 rbytes=10 wbytes=20 rios=30 wios=40 dbytes=5 dios=6\n",
                    io));
  ASSERT_EQ(io.size(), 2u);
  EXPECT_EQ(io[0].major, 8u);
  EXPECT_EQ(io[0].minor, 0u);
  EXPECT_EQ(io[0].read_bytes, 1u);
  EXPECT_EQ(io[0].writes, 4u);
  EXPECT_EQ(io[1].major, 259u);
  EXPECT_EQ(io[1].write_bytes, 20u);
  EXPECT_EQ(io[1].reads, 30u);
  EXPECT_TRUE(ParseIoStatV2("", io));
  EXPECT_TRUE(io.empty());
}

TEST(ParseIoStatV2Test, BadLinesLoseOnlyTheirDevice) {
  const char* bad[] = {"8:x rbytes=1\n",  "8 rbytes=1\n",     "8:0 rbytes\n",
                       "8:0 rbytes=-1\n", "8:0 rbytes=1 =\n", "99999999999:0 rbytes=1\n"};
  for (const char* line : bad) {
    std::vector<IoDeviceStat> io;
    EXPECT_FALSE(ParseIoStatV2(std::string(line) + "7:1 rbytes=5\n", io)) << line;
    ASSERT_EQ(io.size(), 1u) << line;
    EXPECT_EQ(io[0].major, 7u);
    EXPECT_EQ(io[0].read_bytes, 5u);
  }
}

TEST(ParseBlkioV1Test, MergesBytesAndServicedPerDevice) {
  std::vector<IoDeviceStat> io;
  EXPECT_TRUE(ParseBlkioV1(
      "8:0 Read 100\n8:0 Write 200\n8:0 Sync 300\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 300\n"
      "8:16 Read 1\n8:16 Write 2\n8:16 Total 3\nTotal 303\n",
      BlkioKind::kBytes, io));
  EXPECT_TRUE(ParseBlkioV1("8:16 Read 7\n8:16 Write 8\n8:0 Read 5\n8:0 Write 6\nTotal 26\n",
                           BlkioKind::kServiced, io));
  ASSERT_EQ(io.size(), 2u);
  EXPECT_EQ(io[0].major, 8u);
  EXPECT_EQ(io[0].minor, 0u);
  EXPECT_EQ(io[0].read_bytes, 100u);
  EXPECT_EQ(io[0].write_bytes, 200u);
  EXPECT_EQ(io[0].reads, 5u);
  EXPECT_EQ(io[0].writes, 6u);
  EXPECT_EQ(io[1].minor, 16u);
  EXPECT_EQ(io[1].reads, 7u);
  // An empty hierarchy writes only the total.
  io.clear();
  EXPECT_TRUE(ParseBlkioV1("Total 0\n", BlkioKind::kBytes, io));
  EXPECT_TRUE(io.empty());
}

TEST(ParseBlkioV1Test, GarbledLinesAreSkipped) {
  std::vector<IoDeviceStat> io;
  EXPECT_FALSE(ParseBlkioV1("8:0 Read\n8:0 Write 5\n8:x Read 1\nTotal\n", BlkioKind::kBytes, io));
  ASSERT_EQ(io.size(), 1u);
  EXPECT_EQ(io[0].write_bytes, 5u);
  EXPECT_EQ(io[0].read_bytes, 0u);
}

TEST(ParsePressureTest, SomeAndFull) {
  PressureTotals p;
  EXPECT_TRUE(
      ParsePressure("some avg10=0.00 avg60=0.12 avg300=0.31 total=123456\n"
                    "full avg10=0.00 avg60=0.00 avg300=0.00 total=789\n",
                    p));
  EXPECT_EQ(p.some_us, 123456u);
  EXPECT_EQ(p.full_us, 789u);
  PressureTotals only_some;
  EXPECT_TRUE(ParsePressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n", only_some));
  EXPECT_EQ(only_some.some_us, 5u);
  EXPECT_EQ(only_some.full_us, std::nullopt);
}

TEST(ParsePressureTest, GarbledLinesAreLeftOut) {
  PressureTotals p;
  EXPECT_FALSE(ParsePressure("some avg10=0.00 total=x\nfull total=7\nhalf total=1\n", p));
  EXPECT_EQ(p.some_us, std::nullopt);
  EXPECT_EQ(p.full_us, 7u);
  PressureTotals q;
  EXPECT_FALSE(ParsePressure("some avg10=0.00 avg60=0.00\n", q));  // truncated
  EXPECT_EQ(q.some_us, std::nullopt);
}

constexpr absl::string_view kId =
    "3f5a1c9e2b7d4a6f8e0c1b2a3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6";

TEST(ParseContainerScopeTest, RecognisesTheRuntimesNamingSchemes) {
  struct Case {
    std::string name;
    ContainerRuntime runtime;
  };
  const Case cases[] = {
      {absl::StrCat("cri-containerd-", kId, ".scope"), ContainerRuntime::kContainerd},
      {absl::StrCat("crio-", kId, ".scope"), ContainerRuntime::kCrio},
      {absl::StrCat("crio-", kId), ContainerRuntime::kCrio},
      {absl::StrCat("docker-", kId, ".scope"), ContainerRuntime::kDocker},
      {std::string(kId), ContainerRuntime::kUnknown},
  };
  for (const Case& c : cases) {
    std::optional<ContainerScope> s = ParseContainerScope(c.name);
    ASSERT_TRUE(s.has_value()) << c.name;
    EXPECT_EQ(s->runtime, c.runtime) << c.name;
    EXPECT_EQ(s->id, kId) << c.name;
    EXPECT_EQ(ClassifyKubeCgroup(c.name), KubeCgroupKind::kContainer) << c.name;
  }
}

TEST(ParseContainerScopeTest, RejectsConmonAndOtherNames) {
  const std::string names[] = {
      absl::StrCat("crio-conmon-", kId, ".scope"),
      absl::StrCat("crio-conmon-", kId),
      absl::StrCat("cri-containerd-", kId.substr(1), ".scope"),  // 63 digits
      absl::StrCat("cri-containerd-", kId, "0.scope"),           // 65 digits
      absl::StrCat("podman-", kId, ".scope"),
      absl::StrCat(kId, ".scope"),
      absl::StrCat("cri-containerd-", std::string(64, 'g'), ".scope"),
      "init.scope",
      "",
      ".scope",
  };
  for (const std::string& n : names) EXPECT_EQ(ParseContainerScope(n), std::nullopt) << n;
}

TEST(ParsePodCgroupNameTest, SystemdAndCgroupfsNames) {
  EXPECT_EQ(ParsePodCgroupName("kubepods-burstable-pod5c3d9a0f_81e2_4b7c_a4d6_97f0e21b3c88.slice"),
            "5c3d9a0f_81e2_4b7c_a4d6_97f0e21b3c88");
  EXPECT_EQ(ParsePodCgroupName("kubepods-besteffort-podabc.slice"), "abc");
  EXPECT_EQ(ParsePodCgroupName("kubepods-pod0b4f1c2e_6d7a.slice"), "0b4f1c2e_6d7a");
  EXPECT_EQ(ParsePodCgroupName("kubelet-kubepods-burstable-pod12_34.slice"), "12_34");
  EXPECT_EQ(ParsePodCgroupName("pod7a1e4c90-3b2d-4f8e-9c07-1d6b5a4e3f21"),
            "7a1e4c90-3b2d-4f8e-9c07-1d6b5a4e3f21");
  // A static pod's UID is a hash.
  EXPECT_EQ(ParsePodCgroupName("pod6b4d9e0c1f2a3b4c5d6e7f8091a2b3c4"),
            "6b4d9e0c1f2a3b4c5d6e7f8091a2b3c4");
  for (absl::string_view n :
       {"kubepods-burstable.slice", "kubepods.slice", "pod", "pod.slice", "kubepods-pod.slice",
        "burstable", "podx/y", "kubepods-pod1.2.slice", "system.slice", ""}) {
    EXPECT_EQ(ParsePodCgroupName(n), "") << n;
  }
}

TEST(ClassifyKubeCgroupTest, KubepodsQosAndPods) {
  EXPECT_EQ(ClassifyKubeCgroup("kubepods"), KubeCgroupKind::kKubepods);
  EXPECT_EQ(ClassifyKubeCgroup("kubepods.slice"), KubeCgroupKind::kKubepods);
  EXPECT_EQ(ClassifyKubeCgroup("kubelet-kubepods.slice"), KubeCgroupKind::kKubepods);
  EXPECT_EQ(ClassifyKubeCgroup("burstable"), KubeCgroupKind::kQos);
  EXPECT_EQ(ClassifyKubeCgroup("besteffort"), KubeCgroupKind::kQos);
  EXPECT_EQ(ClassifyKubeCgroup("kubepods-burstable.slice"), KubeCgroupKind::kQos);
  EXPECT_EQ(ClassifyKubeCgroup("kubepods-besteffort.slice"), KubeCgroupKind::kQos);
  EXPECT_EQ(ClassifyKubeCgroup("kubelet-kubepods-besteffort.slice"), KubeCgroupKind::kQos);
  EXPECT_EQ(ClassifyKubeCgroup("kubepods-pod1234.slice"), KubeCgroupKind::kPod);
  EXPECT_EQ(ClassifyKubeCgroup("pod1234"), KubeCgroupKind::kPod);
  EXPECT_EQ(ClassifyKubeCgroup("system.slice"), KubeCgroupKind::kOther);
  EXPECT_EQ(ClassifyKubeCgroup("kubepods-guaranteed.slice"), KubeCgroupKind::kOther);
  EXPECT_EQ(ClassifyKubeCgroup("kubepodsx"), KubeCgroupKind::kOther);
  EXPECT_EQ(ClassifyKubeCgroup("kubepods.scope"), KubeCgroupKind::kOther);
}

}  // namespace
}  // namespace sextant::collector
