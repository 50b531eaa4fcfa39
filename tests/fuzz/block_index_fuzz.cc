// IndexReader over arbitrary bytes (an index file read back from a damaged disk): opening and
// reading every label, postings list and series either succeeds or fails with DataLoss; it
// never reads outside the input and never crashes.
#include <cstdint>
#include <string>
#include <vector>

#include "aggregator/tsdb/block_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sextant::tsdb::IndexChunkMeta;
  using sextant::tsdb::IndexReader;
  auto check = [](const absl::Status& s) {
    if (!s.ok() && s.code() != absl::StatusCode::kDataLoss) __builtin_trap();
  };
  // A copy of exactly `size` bytes, so that reading one byte past the end is caught by ASan.
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto reader = IndexReader::FromBytes(bytes, "fuzz");
  check(reader.status());
  if (!reader.ok()) return 0;
  const IndexReader& r = **reader;
  int budget = 10000;  // bounds the work per input
  for (const std::string& name : r.LabelNames()) {
    for (const std::string& value : r.LabelValues(name)) {
      if (--budget < 0) return 0;
      auto p = r.Postings(name, value);
      check(p.status());
    }
  }
  auto all = r.Postings("", "");
  check(all.status());
  if (!all.ok()) return 0;
  sextant::prom::Labels labels;
  std::vector<IndexChunkMeta> chunks;
  for (uint32_t ref : *all) {
    if (--budget < 0) return 0;
    check(r.Series(ref, &labels, &chunks));
  }
  // References no postings list names.
  for (uint32_t ref : {0u, 1u, 2u, 0xffffffffu}) check(r.Series(ref, &labels, &chunks));
  return 0;
}
