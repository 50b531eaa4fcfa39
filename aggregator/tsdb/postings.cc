#include "aggregator/tsdb/postings.h"

#include <algorithm>
#include <cstdlib>

#include "absl/container/flat_hash_set.h"
#include "common/logging.h"

namespace sextant::tsdb {
namespace {

// Per heap allocation: glibc's header plus rounding, roughly.
constexpr int64_t kMallocOverhead = 16;

template <typename Map>
int64_t MapBytes(const Map& m) {
  if (m.capacity() == 0) return 0;
  return static_cast<int64_t>(m.capacity() * (sizeof(typename Map::value_type) + 1)) +
         kMallocOverhead;
}

template <typename T>
int64_t VectorBytes(const std::vector<T>& v) {
  if (v.capacity() == 0) return 0;
  return static_cast<int64_t>(v.capacity() * sizeof(T)) + kMallocOverhead;
}

// Merges disjoint sorted lists into one sorted list.
std::vector<SeriesRef> Union(std::vector<const std::vector<SeriesRef>*> lists) {
  if (lists.empty()) return {};
  if (lists.size() == 1) return *lists[0];
  size_t n = 0;
  for (const auto* l : lists) n += l->size();
  std::vector<SeriesRef> out;
  out.reserve(n);
  for (const auto* l : lists) out.insert(out.end(), l->begin(), l->end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool IsRegexMeta(char c) {
  switch (c) {
    case '\\':
    case '.':
    case '+':
    case '*':
    case '?':
    case '(':
    case ')':
    case '[':
    case ']':
    case '{':
    case '}':
    case '^':
    case '$':
    case '|':
      return true;
    default:
      return false;
  }
}

}  // namespace

uint32_t HeadSymbols::Intern(absl::string_view s) {
  auto it = by_string_.find(s);
  if (it != by_string_.end()) {
    ++At(it->second).refs;
    return it->second;
  }
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    if (next_id_ >= kMaxBlocks * kBlockSize) {
      LogError("label string table full", {{"strings", static_cast<int64_t>(next_id_)}});
      std::abort();
    }
    id = next_id_++;
    if ((id >> kBlockBits) == owned_.size()) {
      owned_.push_back(std::make_unique<Entry[]>(kBlockSize));
      blocks_[id >> kBlockBits].store(owned_.back().get(), std::memory_order_release);
    }
  }
  Entry& e = At(id);
  e.s.assign(s.data(), s.size());
  e.refs = 1;
  by_string_.emplace(absl::string_view(e.s), id);
  return id;
}

void HeadSymbols::Release(uint32_t id) {
  Entry& e = At(id);
  if (--e.refs > 0) return;
  by_string_.erase(absl::string_view(e.s));
  std::string().swap(e.s);  // free the heap buffer of a long string
  free_.push_back(id);
}

int64_t HeadSymbols::Find(absl::string_view s) const {
  auto it = by_string_.find(s);
  return it == by_string_.end() ? -1 : static_cast<int64_t>(it->second);
}

int64_t HeadSymbols::MemoryBytes() const {
  int64_t bytes = static_cast<int64_t>(owned_.size() * kBlockSize * sizeof(Entry)) +
                  static_cast<int64_t>(kMaxBlocks * sizeof(std::atomic<Entry*>)) +
                  MapBytes(by_string_) + VectorBytes(free_);
  for (uint32_t id = 0; id < next_id_; ++id) {
    const Entry& e = At(id);
    if (e.s.capacity() > 15) bytes += static_cast<int64_t>(e.s.capacity() + 1) + kMallocOverhead;
  }
  return bytes;
}

void MemPostings::Add(SeriesRef ref, const uint32_t* pairs, size_t num_pairs) {
  auto insert = [ref](std::vector<SeriesRef>& list) {
    if (list.empty() || list.back() < ref) {
      list.push_back(ref);
    } else {
      auto it = std::lower_bound(list.begin(), list.end(), ref);
      if (it == list.end() || *it != ref) list.insert(it, ref);
    }
  };
  for (size_t i = 0; i < num_pairs; ++i) insert(postings_[pairs[2 * i]][pairs[2 * i + 1]]);
  insert(all_);
}

void MemPostings::Delete(const std::vector<SeriesRef>& sorted_refs,
                         const std::vector<std::pair<uint32_t, uint32_t>>& pairs_of_deleted) {
  if (sorted_refs.empty()) return;
  auto deleted = [&sorted_refs](SeriesRef r) {
    return std::binary_search(sorted_refs.begin(), sorted_refs.end(), r);
  };
  absl::flat_hash_set<std::pair<uint32_t, uint32_t>> done;
  for (const auto& pair : pairs_of_deleted) {
    if (!done.insert(pair).second) continue;
    auto name_it = postings_.find(pair.first);
    if (name_it == postings_.end()) continue;
    auto value_it = name_it->second.find(pair.second);
    if (value_it == name_it->second.end()) continue;
    std::vector<SeriesRef>& list = value_it->second;
    list.erase(std::remove_if(list.begin(), list.end(), deleted), list.end());
    if (list.empty()) {
      name_it->second.erase(value_it);
      if (name_it->second.empty()) postings_.erase(name_it);
    } else if (list.capacity() > 2 * list.size() + 8) {
      list.shrink_to_fit();
    }
  }
  all_ = SubtractSorted(all_, sorted_refs);
}

std::vector<SeriesRef> MemPostings::RefsWhere(const prom::Matcher& m, bool want,
                                              const HeadSymbols& symbols) const {
  const int64_t name_id = symbols.Find(m.name());
  if (name_id < 0) return {};
  auto name_it = postings_.find(static_cast<uint32_t>(name_id));
  if (name_it == postings_.end()) return {};
  const ValueMap& values = name_it->second;

  // When the values v with Matches(v) == want form a known finite set, look them up.
  std::vector<std::string> literals;
  bool lookup = false;
  switch (m.type()) {
    case prom::MatchType::kEqual:
    case prom::MatchType::kNotEqual:
      lookup = want == (m.type() == prom::MatchType::kEqual);
      if (lookup) literals.push_back(m.value());
      break;
    case prom::MatchType::kRegexMatch:
    case prom::MatchType::kRegexNoMatch:
      lookup = want == (m.type() == prom::MatchType::kRegexMatch) &&
               LiteralAlternatives(m.value(), &literals);
      break;
  }
  std::vector<const std::vector<SeriesRef>*> lists;
  if (lookup) {
    for (const std::string& lit : literals) {
      const int64_t id = symbols.Find(lit);
      if (id < 0) continue;
      auto it = values.find(static_cast<uint32_t>(id));
      if (it != values.end()) lists.push_back(&it->second);
    }
    std::sort(lists.begin(), lists.end());
    lists.erase(std::unique(lists.begin(), lists.end()), lists.end());
  } else {
    for (const auto& [value_id, refs] : values) {
      if (m.Matches(symbols.Get(value_id)) == want) lists.push_back(&refs);
    }
  }
  return Union(std::move(lists));
}

std::vector<SeriesRef> MemPostings::Select(const std::vector<prom::Matcher>& matchers,
                                           const HeadSymbols& symbols) const {
  // As Prometheus's PostingsForMatchers: a matcher that does not match "" needs its label set
  // to a matching value (intersected); one that matches "" selects everything except the series
  // whose label holds a value it rejects (subtracted).
  std::vector<std::vector<SeriesRef>> include;
  std::vector<std::vector<SeriesRef>> exclude;
  for (const prom::Matcher& m : matchers) {
    if (m.MatchesEmpty()) {
      exclude.push_back(RefsWhere(m, false, symbols));
    } else {
      include.push_back(RefsWhere(m, true, symbols));
      if (include.back().empty()) return {};
    }
  }
  std::vector<SeriesRef> out;
  if (include.empty()) {
    out = all_;
  } else {
    std::sort(include.begin(), include.end(),
              [](const auto& a, const auto& b) { return a.size() < b.size(); });
    out = std::move(include[0]);
    for (size_t i = 1; i < include.size() && !out.empty(); ++i) {
      out = IntersectSorted(out, include[i]);
    }
  }
  for (const auto& ex : exclude) {
    if (out.empty()) break;
    if (!ex.empty()) out = SubtractSorted(out, ex);
  }
  return out;
}

namespace {

// Whether two sorted lists share an element.
bool Overlap(const std::vector<SeriesRef>& a, const std::vector<SeriesRef>& b) {
  const auto& small = a.size() <= b.size() ? a : b;
  const auto& large = a.size() <= b.size() ? b : a;
  return std::any_of(small.begin(), small.end(), [&large](SeriesRef r) {
    return std::binary_search(large.begin(), large.end(), r);
  });
}

}  // namespace

std::vector<std::string> MemPostings::Names(const std::vector<SeriesRef>* among,
                                            const HeadSymbols& symbols) const {
  std::vector<std::string> out;
  if (among != nullptr && among->empty()) return out;
  for (const auto& [name_id, values] : postings_) {
    bool keep = among == nullptr;
    for (auto it = values.begin(); !keep && it != values.end(); ++it) {
      keep = Overlap(it->second, *among);
    }
    if (keep) out.emplace_back(symbols.Get(name_id));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> MemPostings::Values(absl::string_view name,
                                             const std::vector<SeriesRef>* among,
                                             const HeadSymbols& symbols) const {
  std::vector<std::string> out;
  const int64_t name_id = symbols.Find(name);
  if (name_id < 0) return out;
  auto name_it = postings_.find(static_cast<uint32_t>(name_id));
  if (name_it == postings_.end()) return out;
  for (const auto& [value_id, refs] : name_it->second) {
    if (among == nullptr || Overlap(refs, *among)) out.emplace_back(symbols.Get(value_id));
  }
  std::sort(out.begin(), out.end());
  return out;
}

int64_t MemPostings::MemoryBytes() const {
  int64_t bytes = MapBytes(postings_) + VectorBytes(all_);
  for (const auto& [name_id, values] : postings_) {
    bytes += MapBytes(values);
    for (const auto& [value_id, refs] : values) bytes += VectorBytes(refs);
  }
  return bytes;
}

std::vector<SeriesRef> IntersectSorted(const std::vector<SeriesRef>& a,
                                       const std::vector<SeriesRef>& b) {
  std::vector<SeriesRef> out;
  out.reserve(std::min(a.size(), b.size()));
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<SeriesRef> SubtractSorted(const std::vector<SeriesRef>& a,
                                      const std::vector<SeriesRef>& b) {
  std::vector<SeriesRef> out;
  out.reserve(a.size());
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

bool LiteralAlternatives(absl::string_view regex, std::vector<std::string>* out) {
  out->clear();
  // Printable ASCII only: a value with bad UTF-8 (read as U+FFFD) can then never match.
  for (char c : regex) {
    if (c < 0x20 || c > 0x7e || (c != '|' && IsRegexMeta(c))) return false;
  }
  size_t start = 0;
  while (true) {
    const size_t bar = regex.find('|', start);
    out->emplace_back(regex.substr(start, bar == absl::string_view::npos ? bar : bar - start));
    if (bar == absl::string_view::npos) break;
    start = bar + 1;
  }
  return true;
}

}  // namespace sextant::tsdb
