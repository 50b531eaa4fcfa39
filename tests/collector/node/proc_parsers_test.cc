// The /proc parsers on good and broken input: each keeps the lines it can parse and names the
// first bad line.
#include "collector/node/proc_parsers.h"

#include <functional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::collector {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ParseProcStatTest, ReadsCpusAndCounters) {
  auto parsed = ParseProcStat(
      "cpu  10 20 30 40 50 60 70 80 90 100\n"
      "cpu0 1 2 3 4 5 6 7 8 9 10\n"
      "cpu1 11 12 13 14\n"  // an old kernel: fields after idle are 0
      "intr 1234 0 5 6\n"
      "ctxt 99\nbtime 1700000000\nprocesses 42\nprocs_running 3\nprocs_blocked 1\n"
      "softirq 1 2 3\n");
  ASSERT_TRUE(parsed.status.ok()) << parsed.status;
  const ProcStat& s = parsed.value;
  ASSERT_EQ(s.cpus.size(), 2u);
  EXPECT_EQ(s.cpus[0].cpu, 0);
  EXPECT_EQ(s.cpus[0].ticks[9], 10u);
  EXPECT_EQ(s.cpus[1].cpu, 1);
  EXPECT_EQ(s.cpus[1].ticks[3], 14u);
  EXPECT_EQ(s.cpus[1].ticks[4], 0u);
  EXPECT_EQ(s.interrupts, 1234u);
  EXPECT_EQ(s.context_switches, 99u);
  EXPECT_EQ(s.boot_time, 1700000000u);
  EXPECT_EQ(s.forks, 42u);
  EXPECT_EQ(s.procs_running, 3u);
  EXPECT_EQ(s.procs_blocked, 1u);
}

TEST(ParseMeminfoTest, NamesFieldsAsNodeExporter) {
  auto parsed = ParseMeminfo("MemTotal:  100 kB\nActive(anon):  2 kB\nHugePages_Total:  3\n");
  ASSERT_TRUE(parsed.status.ok()) << parsed.status;
  ASSERT_EQ(parsed.value.size(), 3u);
  EXPECT_EQ(parsed.value[0].name, "MemTotal_bytes");
  EXPECT_EQ(parsed.value[0].value, 102400);
  EXPECT_EQ(parsed.value[1].name, "Active_anon_bytes");
  EXPECT_EQ(parsed.value[1].value, 2048);
  EXPECT_EQ(parsed.value[2].name, "HugePages_Total");
  EXPECT_EQ(parsed.value[2].value, 3);
}

TEST(ParseMountinfoTest, DecodesEscapesAndSkipsOptionalFields) {
  auto parsed = ParseMountinfo(
      "29 27 259:2 / /home/my\\040data\\011tab\\134 ro,relatime shared:9 master:2 - xfs "
      "/dev/nvme0n1p2 rw\n");
  ASSERT_TRUE(parsed.status.ok()) << parsed.status;
  ASSERT_EQ(parsed.value.size(), 1u);
  EXPECT_EQ(parsed.value[0].mount_point, "/home/my data\ttab\\");
  EXPECT_EQ(parsed.value[0].device, "/dev/nvme0n1p2");
  EXPECT_EQ(parsed.value[0].fstype, "xfs");
  EXPECT_TRUE(parsed.value[0].read_only);
}

TEST(ParseDiskstatsTest, KeepsTheFieldCountOfEachLine) {
  auto parsed = ParseDiskstats(
      "8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n"
      "8 16 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"
      "254 0 vda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n");
  ASSERT_TRUE(parsed.status.ok()) << parsed.status;
  ASSERT_EQ(parsed.value.size(), 3u);
  EXPECT_EQ(parsed.value[0].count, 11);
  EXPECT_EQ(parsed.value[1].count, 15);
  EXPECT_EQ(parsed.value[2].count, 17);
  EXPECT_EQ(parsed.value[2].stats[16], 17u);
  EXPECT_EQ(parsed.value[1].minor, 16u);
}

TEST(ParseUdevTest, ReadsTheDiskInfoProperties) {
  UdevDiskProperties p = ParseUdevDiskProperties(
      "S:disk/by-id/x\nE:ID_PATH=pci-1\nE:ID_WWN=0x5\nE:ID_MODEL=M\nE:ID_REVISION=R\n"
      "E:SCSI_IDENT_SERIAL=ignored\nE:ID_SERIAL_SHORT=S\nE:broken\n");
  EXPECT_EQ(p.path, "pci-1");
  EXPECT_EQ(p.wwn, "0x5");
  EXPECT_EQ(p.model, "M");
  EXPECT_EQ(p.revision, "R");
  EXPECT_EQ(p.serial, "S");
}

// One broken input: the parser, how many items it should still return, and the start of the
// error message.
struct BrokenCase {
  std::string name;
  std::function<std::pair<size_t, absl::Status>(absl::string_view)> parse;
  std::string input;
  size_t want_items;
  std::string want_error;  // prefix of the message; "" means OK
};

void PrintTo(const BrokenCase& c, std::ostream* os) { *os << c.name; }

std::pair<size_t, absl::Status> Stat(absl::string_view t) {
  auto p = ParseProcStat(t);
  size_t n = p.value.cpus.size() + p.value.context_switches.has_value() +
             p.value.boot_time.has_value() + p.value.interrupts.has_value();
  return {n, p.status};
}
std::pair<size_t, absl::Status> Meminfo(absl::string_view t) {
  auto p = ParseMeminfo(t);
  return {p.value.size(), p.status};
}
std::pair<size_t, absl::Status> Loadavg(absl::string_view t) {
  auto p = ParseLoadavg(t);
  return {static_cast<size_t>(p.value.count), p.status};
}
std::pair<size_t, absl::Status> Diskstats(absl::string_view t) {
  auto p = ParseDiskstats(t);
  return {p.value.size(), p.status};
}
std::pair<size_t, absl::Status> Mountinfo(absl::string_view t) {
  auto p = ParseMountinfo(t);
  return {p.value.size(), p.status};
}
std::pair<size_t, absl::Status> NetDev(absl::string_view t) {
  auto p = ParseNetDev(t);
  return {p.value.size(), p.status};
}
std::pair<size_t, absl::Status> Pressure(absl::string_view t) {
  auto p = ParsePressure(t);
  return {
      static_cast<size_t>(p.value.some_total_us.has_value() + p.value.full_total_us.has_value()),
      p.status};
}
std::pair<size_t, absl::Status> Vmstat(absl::string_view t) {
  auto p = ParseVmstat(t);
  return {p.value.size(), p.status};
}

const std::string kNetHeader =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n";
const std::string kEth0 = "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";

class BrokenInputTest : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(BrokenInputTest, ParsesWhatItCanAndNamesTheBadLine) {
  const BrokenCase& c = GetParam();
  auto [items, status] = c.parse(c.input);
  EXPECT_EQ(items, c.want_items);
  if (c.want_error.empty()) {
    EXPECT_TRUE(status.ok()) << status;
  } else {
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
    EXPECT_THAT(std::string(status.message()), StartsWith(c.want_error));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Parsers, BrokenInputTest,
    ::testing::Values(
        BrokenCase{"StatEmpty", Stat, "", 0, ""},
        BrokenCase{"StatNonNumberCpuField", Stat, "cpu0 1 2 x 4\ncpu1 1 2 3 4\nctxt 5\n", 2,
                   "line 1: cpu0 field 3 is not a number"},
        BrokenCase{"StatTruncatedCpuLine", Stat, "cpu0 1 2\ncpu1 1 2 3 4\n", 1,
                   "line 1: cpu0 has 2 fields"},
        BrokenCase{"StatBadCpuNumber", Stat,
                   "cpux 1 2 3 4\ncpu-1 1 2 3 4\ncpu99999999999 1 2 3 4\n", 0,
                   "line 1: bad CPU number"},
        BrokenCase{"StatDuplicateCpu", Stat, "cpu0 1 2 3 4\ncpu1 1 2 3 4\ncpu0 5 6 7 8\n", 2,
                   "line 3: cpu0 given twice"},
        BrokenCase{"StatHugeNumber", Stat, "cpu0 1 2 3 99999999999999999999999\nbtime 1\n", 1,
                   "line 1: cpu0 field 4 is not a number"},
        BrokenCase{"StatNegativeCounter", Stat, "ctxt -5\nbtime 1\n", 1,
                   "line 1: ctxt value is not a number"},
        BrokenCase{"StatMissingValue", Stat, "intr\nbtime 3\n", 1,
                   "line 1: intr value is not a number"},
        BrokenCase{"StatCountsMoreBadLines", Stat, "ctxt x\nbtime y\nintr z\n", 0,
                   "line 1: ctxt value is not a number (\"ctxt x\") and 2 more bad lines"},
        BrokenCase{"MeminfoNoColon", Meminfo, "MemTotal 100 kB\nMemFree: 1 kB\n", 1,
                   "line 1: no \"Field:\""},
        BrokenCase{"MeminfoNotANumber", Meminfo, "MemTotal: 1 kB\nMemFree: abc kB\n", 1,
                   "line 2: value is not a number"},
        BrokenCase{"MeminfoTooManyFields", Meminfo, "MemTotal: 1 kB extra\nX: 2\n", 1,
                   "line 1: 4 fields"},
        BrokenCase{"MeminfoTruncated", Meminfo, "MemTotal: 1 kB\nMemFr", 1, "line 2: 1 fields"},
        BrokenCase{"MeminfoBadName", Meminfo, "Mem-Total: 1 kB\nOk: 1\n", 1,
                   "line 1: field name is not a metric name"},
        BrokenCase{"MeminfoEmptyLinesAreFine", Meminfo, "\nMemTotal: 1 kB\n\n", 1, ""},
        BrokenCase{"LoadavgTruncated", Loadavg, "0.5 1.0", 2,
                   "line 1: load average 3 missing or not a number"},
        BrokenCase{"LoadavgNotANumber", Loadavg, "0.5 1.x 3", 1,
                   "line 1: load average 2 missing or not a number"},
        BrokenCase{"LoadavgGarbage", Loadavg, "zero 1 2 3/4 5\n", 0,
                   "line 1: load average 1 missing"},
        BrokenCase{"LoadavgEmpty", Loadavg, "", 0, "line 1: load average 1 missing"},
        BrokenCase{"DiskstatsShortLine", Diskstats,
                   "8 0 sda 1 2 3 4\n8 1 sda1 1 2 3 4 5 6 7 8 9 10 11\n", 1,
                   "line 1: 7 fields, want 14, 18 or 20"},
        BrokenCase{"DiskstatsBadMajor", Diskstats, "x 0 sda 1 2 3 4 5 6 7 8 9 10 11\n", 0,
                   "line 1: bad major or minor number"},
        BrokenCase{"DiskstatsNonNumber", Diskstats, "8 0 sda 1 2 3 4 5 6 x 8 9 10 11\n", 0,
                   "line 1: field 10 is not a number"},
        BrokenCase{"DiskstatsExtraFieldsIgnored", Diskstats,
                   "8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\n", 1, ""},
        BrokenCase{"MountinfoNoSeparator", Mountinfo,
                   "27 1 254:0 / / rw ext4 /dev/vda rw\n28 1 0:1 / /x rw - tmpfs tmpfs rw\n", 1,
                   "line 1: no \"- fstype source\""},
        BrokenCase{"MountinfoTruncated", Mountinfo, "28 1 0:1 / /x rw - tmpfs tmpfs rw\n27 1 254",
                   1, "line 2: fewer than 6 fields"},
        BrokenCase{"MountinfoNoSource", Mountinfo, "27 1 254:0 / / rw - ext4\n", 0,
                   "line 1: no \"- fstype source\""},
        BrokenCase{"MountinfoDanglingEscape", Mountinfo, "27 1 1:1 / /a\\04 rw - ext4 d rw\n", 1,
                   ""},
        BrokenCase{"NetDevMissingColumns", NetDev, kNetHeader + "  eth1: 1 2 3\n" + kEth0, 1,
                   "line 3: 3 values, want 16"},
        BrokenCase{"NetDevNoColon", NetDev, kNetHeader + "  eth1 1 2\n" + kEth0, 1,
                   "line 3: no \"name:\""},
        BrokenCase{"NetDevEmptyName", NetDev,
                   kNetHeader + "  : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n" + kEth0, 1,
                   "line 3: empty interface name"},
        BrokenCase{"NetDevNonNumber", NetDev,
                   kNetHeader + "  eth1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x\n" + kEth0, 1,
                   "line 3: value 16 is not a number"},
        BrokenCase{"NetDevNoHeader", NetDev, kEth0, 1, ""},
        BrokenCase{"PressureNoTotal", Pressure,
                   "some avg10=0.00 avg60=0.00\nfull avg10=0 total=5\n", 1,
                   "line 1: no numeric total="},
        BrokenCase{"PressureBadTotal", Pressure, "some total=abc\n", 0,
                   "line 1: no numeric total="},
        BrokenCase{"PressureUnknownKind", Pressure, "half total=1\nsome total=2\n", 1,
                   "line 1: neither \"some\" nor \"full\""},
        BrokenCase{"VmstatNoValue", Vmstat, "nr_free_pages\npgfault 10\n", 1,
                   "line 1: no numeric value"},
        BrokenCase{"VmstatNonNumber", Vmstat, "pgfault ten\noom_kill 1\n", 1,
                   "line 1: no numeric value"},
        BrokenCase{"VmstatBadName", Vmstat, "pg-fault 1\noom_kill 1\n", 1,
                   "line 1: field name is not a metric name"},
        BrokenCase{"VmstatBinaryGarbage", Vmstat, std::string("\0\xff\x01 2\n", 6), 0,
                   "line 1: field name is not a metric name"}),
    [](const ::testing::TestParamInfo<BrokenCase>& info) { return info.param.name; });

TEST(ParseProcStatTest, ErrorMessageQuotesTheLineEscaped) {
  auto parsed = ParseProcStat("ctxt \x01\x02\n");
  EXPECT_THAT(std::string(parsed.status.message()), HasSubstr("\\x01\\x02"));
}

}  // namespace
}  // namespace sextant::collector
