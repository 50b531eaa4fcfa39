#include "aggregator/tsdb/types.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sextant::tsdb {

SampleIterator::SampleIterator(const SeriesChunks& series, int64_t mint, int64_t maxt)
    : series_(series), mint_(mint), maxt_(maxt) {
  int64_t last_max = kMinTime;
  bool any = false;
  for (const ChunkView& c : series_.chunks) {
    if (c.max_time < mint_ || c.min_time > maxt_) continue;
    if (any && c.min_time <= last_max) {
      merged_ = true;
      break;
    }
    last_max = std::max(last_max, c.max_time);
    any = true;
  }
  if (merged_) MergeOverlapping();  // on failure status_ says why
}

bool SampleIterator::MergeOverlapping() {
  struct Item {
    int64_t t;
    size_t chunk;
    double v;
  };
  std::vector<Item> all;
  for (size_t i = 0; i < series_.chunks.size(); ++i) {
    const ChunkView& c = series_.chunks[i];
    if (c.max_time < mint_ || c.min_time > maxt_) continue;
    XorIterator it(c.bytes);
    while (it.Next()) {
      if (it.t() >= mint_ && it.t() <= maxt_) all.push_back({it.t(), i, it.v()});
    }
    if (!it.status().ok()) {
      status_ = absl::DataLossError(absl::StrCat("series ", series_.labels.ToString(),
                                                 ": corrupt chunk: ", it.status().message()));
      return false;
    }
  }
  std::sort(all.begin(), all.end(), [](const Item& a, const Item& b) {
    return a.t != b.t ? a.t < b.t : a.chunk < b.chunk;
  });
  samples_.reserve(all.size());
  for (const Item& item : all) {
    if (!samples_.empty() && samples_.back().first == item.t) continue;
    samples_.emplace_back(item.t, item.v);
  }
  return true;
}

bool SampleIterator::NextInChunks() {
  while (true) {
    if (it_ == nullptr) {
      // Skip chunks wholly outside the range or wholly at or before the last sample returned.
      while (next_chunk_ < series_.chunks.size()) {
        const ChunkView& c = series_.chunks[next_chunk_];
        if (c.min_time > maxt_) {
          next_chunk_ = series_.chunks.size();
          break;
        }
        if (c.max_time < mint_ || (have_last_ && c.max_time <= t_)) {
          ++next_chunk_;
          continue;
        }
        break;
      }
      if (next_chunk_ >= series_.chunks.size()) return false;
      it_ = std::make_unique<XorIterator>(series_.chunks[next_chunk_].bytes);
      ++next_chunk_;
    }
    while (it_->Next()) {
      const int64_t t = it_->t();
      if (t < mint_ || (have_last_ && t <= t_)) continue;
      if (t > maxt_) break;
      t_ = t;
      v_ = it_->v();
      have_last_ = true;
      return true;
    }
    if (!it_->status().ok()) {
      status_ = absl::DataLossError(absl::StrCat("series ", series_.labels.ToString(),
                                                 ": corrupt chunk: ", it_->status().message()));
      return false;
    }
    it_.reset();
  }
}

bool SampleIterator::Next() {
  if (!status_.ok()) return false;
  if (merged_) {
    if (next_sample_ >= samples_.size()) return false;
    t_ = samples_[next_sample_].first;
    v_ = samples_[next_sample_].second;
    ++next_sample_;
    return true;
  }
  return NextInChunks();
}

std::vector<SeriesChunks> MergeSeries(std::vector<std::vector<SeriesChunks>> sources) {
  std::vector<SeriesChunks> all;
  size_t total = 0;
  int non_empty = 0;
  for (const auto& s : sources) {
    total += s.size();
    if (!s.empty()) ++non_empty;
  }
  if (non_empty <= 1) {
    for (auto& s : sources) {
      if (!s.empty()) return std::move(s);
    }
    return all;
  }
  all.reserve(total);
  for (auto& s : sources) {
    for (auto& series : s) all.push_back(std::move(series));
  }
  std::stable_sort(all.begin(), all.end(), [](const SeriesChunks& a, const SeriesChunks& b) {
    return prom::Labels::Compare(a.labels, b.labels) < 0;
  });
  std::vector<SeriesChunks> out;
  out.reserve(all.size());
  for (auto& s : all) {
    if (!out.empty() && out.back().labels == s.labels) {
      auto& chunks = out.back().chunks;
      chunks.insert(chunks.end(), std::make_move_iterator(s.chunks.begin()),
                    std::make_move_iterator(s.chunks.end()));
      std::stable_sort(chunks.begin(), chunks.end(), [](const ChunkView& a, const ChunkView& b) {
        return a.min_time < b.min_time;
      });
      continue;
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> MergeSortedStrings(std::vector<std::vector<std::string>> lists) {
  std::vector<std::string> out;
  for (auto& l : lists) {
    for (auto& s : l) out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace sextant::tsdb
