// The head's inverted index: interned label strings and, per label pair, the sorted refs of the
// series carrying it, evaluated against matchers as Prometheus's PostingsForMatchers does.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "aggregator/tsdb/types.h"
#include "prom/matcher.h"

namespace sextant::tsdb {

// Label strings stored once, each with a count of the label pairs (in series) holding it. Ids
// are small integers; a freed id is reused. Thread-compatible (the head guards it).
class HeadSymbols {
 public:
  // The id of `s`, adding it when new; counts one more holder.
  uint32_t Intern(absl::string_view s);
  // Drops one holder of `id`; the string is freed with its last holder.
  void Release(uint32_t id);
  // The id of `s` when interned, else -1.
  int64_t Find(absl::string_view s) const;
  // The string of a live id. Needs no lock for an id that a series the caller has locked
  // holds: entries never move (fixed blocks) and an id is reused only after its last holder.
  absl::string_view Get(uint32_t id) const { return At(id).s; }
  size_t size() const { return by_string_.size(); }
  // Bytes held, estimated (strings, entries, map slots).
  int64_t MemoryBytes() const;

 private:
  struct Entry {
    std::string s;
    uint32_t refs = 0;
  };
  static constexpr uint32_t kBlockBits = 12;
  static constexpr uint32_t kBlockSize = uint32_t{1} << kBlockBits;
  static constexpr uint32_t kMaxBlocks = uint32_t{1} << 16;  // 268M ids

  Entry& At(uint32_t id) const {
    return blocks_[id >> kBlockBits].load(std::memory_order_acquire)[id & (kBlockSize - 1)];
  }

  // Entries by id in fixed blocks of kBlockSize, published through `blocks_` so that readers
  // need no lock; `owned_` keeps them.
  std::unique_ptr<std::atomic<Entry*>[]> blocks_ { new std::atomic<Entry*>[ kMaxBlocks ]() };
  std::vector<std::unique_ptr<Entry[]>> owned_;
  uint32_t next_id_ = 0;
  std::vector<uint32_t> free_;
  absl::flat_hash_map<absl::string_view, uint32_t> by_string_;  // views into the entries
};

// Postings: label name id -> label value id -> sorted refs, plus the sorted refs of all series.
// Thread-compatible (the head guards it).
class MemPostings {
 public:
  // Adds `ref` under each (name id, value id) pair of `pairs`.
  void Add(SeriesRef ref, const uint32_t* pairs, size_t num_pairs);
  // Removes the given refs (sorted) from every list holding them; `pairs_of_deleted` lists
  // the pairs they were added under (duplicates allowed).
  void Delete(const std::vector<SeriesRef>& sorted_refs,
              const std::vector<std::pair<uint32_t, uint32_t>>& pairs_of_deleted);

  // Refs (sorted) of the series matching every matcher; none = all. A matcher that matches ""
  // also selects series without its label, as in Prometheus.
  std::vector<SeriesRef> Select(const std::vector<prom::Matcher>& matchers,
                                const HeadSymbols& symbols) const;
  // Names held by at least one ref of `among` (sorted; null = any series), sorted.
  std::vector<std::string> Names(const std::vector<SeriesRef>* among,
                                 const HeadSymbols& symbols) const;
  // Values of `name` held by at least one ref of `among` (sorted; null = any series), sorted.
  std::vector<std::string> Values(absl::string_view name, const std::vector<SeriesRef>* among,
                                  const HeadSymbols& symbols) const;

  const std::vector<SeriesRef>& all() const { return all_; }
  int64_t MemoryBytes() const;

 private:
  using ValueMap = absl::flat_hash_map<uint32_t, std::vector<SeriesRef>>;
  // Refs of the series whose `m.name()` label is set to a value v with Matches(v) == want.
  std::vector<SeriesRef> RefsWhere(const prom::Matcher& m, bool want,
                                   const HeadSymbols& symbols) const;

  absl::flat_hash_map<uint32_t, ValueMap> postings_;
  std::vector<SeriesRef> all_;
};

// Sorted-list helpers, exposed for tests.
std::vector<SeriesRef> IntersectSorted(const std::vector<SeriesRef>& a,
                                       const std::vector<SeriesRef>& b);
std::vector<SeriesRef> SubtractSorted(const std::vector<SeriesRef>& a,
                                      const std::vector<SeriesRef>& b);
// The alternatives of a regex that is a plain literal alternation ("a|b|c", no metacharacters),
// so that matching it is a set lookup; false otherwise.
bool LiteralAlternatives(absl::string_view regex, std::vector<std::string>* out);

}  // namespace sextant::tsdb
