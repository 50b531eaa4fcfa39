// The WAL reader over arbitrary bytes (a segment read back from a damaged disk): ReadWal never
// crashes and either reads the file cleanly or reports DataLoss at a place inside it; cutting
// there with RepairWal leaves a file that reads cleanly with the same records. Every record (and
// the raw input) also goes through the record decoders, and what decodes re-encodes to the same.
#include <stdlib.h>

#include <bit>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "aggregator/tsdb/record.h"
#include "aggregator/tsdb/wal.h"
#include "common/logging.h"

namespace {

using namespace sextant::tsdb;  // NOLINT: a fuzz target's few lines

void CheckDecoders(absl::string_view rec) {
  std::vector<RefSample> samples, again_samples;
  if (DecodeSamples(rec, &samples).ok()) {
    std::string out;
    EncodeSamples(samples, &out);
    if (!DecodeSamples(out, &again_samples).ok() || again_samples.size() != samples.size()) {
      __builtin_trap();
    }
    for (size_t i = 0; i < samples.size(); ++i) {
      if (samples[i].ref != again_samples[i].ref || samples[i].t != again_samples[i].t ||
          std::bit_cast<uint64_t>(samples[i].v) != std::bit_cast<uint64_t>(again_samples[i].v)) {
        __builtin_trap();
      }
    }
  }
  std::vector<RefSeries> series, again_series;
  if (DecodeSeries(rec, &series).ok()) {
    std::string out;
    EncodeSeries(series, &out);
    if (!DecodeSeries(out, &again_series).ok() || again_series.size() != series.size()) {
      __builtin_trap();
    }
    for (size_t i = 0; i < series.size(); ++i) {
      if (series[i].ref != again_series[i].ref || series[i].labels != again_series[i].labels) {
        __builtin_trap();
      }
    }
  }
  std::vector<RefMetadata> metadata, again_metadata;
  if (DecodeMetadata(rec, &metadata).ok()) {
    std::string out;
    EncodeMetadata(metadata, &out);
    if (!DecodeMetadata(out, &again_metadata).ok() || again_metadata.size() != metadata.size()) {
      __builtin_trap();
    }
    for (size_t i = 0; i < metadata.size(); ++i) {
      const RefMetadata& a = metadata[i];
      const RefMetadata& b = again_metadata[i];
      if (a.metric_family_name != b.metric_family_name || a.type != b.type || a.unit != b.unit ||
          a.help != b.help) {
        __builtin_trap();
      }
    }
  }
  (void)PeekRecordType(rec);
}

absl::Status ReadAll(const std::string& dir, std::vector<std::string>* records,
                     WalCorruption* corruption) {
  records->clear();
  return ReadWal(
      dir, 0, -1,
      [&](absl::string_view rec) {
        records->emplace_back(rec);
        return absl::OkStatus();
      },
      corruption);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string* dir = [] {
    sextant::SetLogLevel(sextant::LogLevel::kError);  // RepairWal's warning on every input
    char tmpl[] = "/tmp/wal_fuzz.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) __builtin_trap();
    static std::string path = tmpl;
    std::atexit([] { std::filesystem::remove_all(path); });
    return &path;
  }();
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  {
    std::ofstream f(*dir + "/00000000", std::ios::binary | std::ios::trunc);
    f.write(input.data(), static_cast<std::streamsize>(input.size()));
    if (!f) __builtin_trap();
  }
  std::vector<std::string> records;
  WalCorruption corruption;
  absl::Status status = ReadAll(*dir, &records, &corruption);
  if (!status.ok()) {
    if (!absl::IsDataLoss(status) || corruption.segment != 0 || corruption.offset < 0 ||
        corruption.offset > static_cast<int64_t>(size)) {
      __builtin_trap();
    }
    if (!RepairWal(*dir, corruption).ok()) __builtin_trap();
    std::vector<std::string> again;
    if (!ReadAll(*dir, &again, &corruption).ok() || again != records) __builtin_trap();
  }
  for (const std::string& rec : records) CheckDecoders(rec);
  CheckDecoders(input);
  return 0;
}
