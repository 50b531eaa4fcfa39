#include "aggregator/tsdb/block.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "aggregator/tsdb/block_index.h"
#include "aggregator/tsdb/chunk_files.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "rapidjson/document.h"

// Block directory layout (Prometheus's):
//   <db_dir>/<ULID>/meta.json   {"ulid": "...", "minTime": ms, "maxTime": ms (exclusive),
//                                "stats": {"numSamples", "numSeries", "numChunks"},
//                                "compaction": {"level": n, "sources": [ULID...]},
//                                "version": 1}
//   <db_dir>/<ULID>/chunks/000001...   chunk segments (chunk_files.cc)
//   <db_dir>/<ULID>/index              index v2 (block_index.cc)
// Written under <ULID>.tmp-for-creation and renamed once every file and directory is fsynced.

namespace sextant::tsdb {
namespace {

constexpr char kUlidAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", strerror(errno)));
}

void RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

int ChunkSamples(absl::string_view bytes) {
  if (bytes.size() < 2) return 0;
  return (static_cast<unsigned char>(bytes[0]) << 8) | static_cast<unsigned char>(bytes[1]);
}

std::string MetaJson(const BlockMeta& m) {
  JsonWriter w;
  w.StartObject();
  w.Key("ulid");
  w.String(m.ulid);
  w.Key("minTime");
  w.Int(m.min_time);
  w.Key("maxTime");
  w.Int(m.max_time);
  w.Key("stats");
  w.StartObject();
  w.Key("numSamples");
  w.Int(m.num_samples);
  w.Key("numSeries");
  w.Int(m.num_series);
  w.Key("numChunks");
  w.Int(m.num_chunks);
  w.EndObject();
  w.Key("compaction");
  w.StartObject();
  w.Key("level");
  w.Int(m.compaction_level);
  w.Key("sources");
  w.StartArray();
  for (const std::string& s : m.sources) w.String(s);
  w.EndArray();
  w.EndObject();
  w.Key("version");
  w.Int(1);
  w.EndObject();
  return w.TakeString() + "\n";
}

// The member `key` of object `obj`, or null. (Not FindMember: comparing rapidjson's member
// iterators is ambiguous in C++20.)
const rapidjson::Value* Member(const rapidjson::Value& obj, const char* key) {
  return obj.HasMember(key) ? &obj[key] : nullptr;
}

absl::StatusOr<BlockMeta> ParseMeta(absl::string_view text, const std::string& path) {
  auto fail = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat("block meta ", path, ": ", what));
  };
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return fail("not a JSON object");
  const rapidjson::Value& root = doc;
  // An absent member reads as 0 unless `required`.
  auto get_int = [&](const rapidjson::Value& obj, const char* key, int64_t* out,
                     bool required = false) {
    const rapidjson::Value* v = Member(obj, key);
    if (v == nullptr) return !required;
    if (!v->IsInt64()) return false;
    *out = v->GetInt64();
    return true;
  };
  BlockMeta m;
  const rapidjson::Value* version = Member(root, "version");
  if (version == nullptr || !version->IsInt() || version->GetInt() != 1) {
    return fail("version is not 1");
  }
  const rapidjson::Value* ulid = Member(root, "ulid");
  if (ulid == nullptr || !ulid->IsString()) return fail("no ulid");
  m.ulid.assign(ulid->GetString(), ulid->GetStringLength());
  if (!get_int(root, "minTime", &m.min_time, true) ||
      !get_int(root, "maxTime", &m.max_time, true)) {
    return fail("bad minTime or maxTime");
  }
  if (const rapidjson::Value* stats = Member(root, "stats"); stats != nullptr) {
    if (!stats->IsObject() || !get_int(*stats, "numSamples", &m.num_samples) ||
        !get_int(*stats, "numSeries", &m.num_series) ||
        !get_int(*stats, "numChunks", &m.num_chunks)) {
      return fail("bad stats");
    }
  }
  if (const rapidjson::Value* compaction = Member(root, "compaction"); compaction != nullptr) {
    if (!compaction->IsObject()) return fail("bad compaction");
    int64_t level = 1;
    if (!get_int(*compaction, "level", &level) || level < 0 || level > 1000) {
      return fail("bad compaction level");
    }
    m.compaction_level = static_cast<int>(level);
    if (const rapidjson::Value* sources = Member(*compaction, "sources"); sources != nullptr) {
      if (!sources->IsArray()) return fail("bad compaction sources");
      for (const auto& s : sources->GetArray()) {
        if (!s.IsString()) return fail("bad compaction sources");
        m.sources.emplace_back(s.GetString(), s.GetStringLength());
      }
    }
  }
  return m;
}

// Writes the files of a block into `dir` (which exists) and fills in `meta`'s stats.
absl::Status WriteBlockFiles(const std::string& dir, const std::vector<SeriesChunks>& series,
                             BlockMeta* meta) {
  std::vector<const SeriesChunks*> order;
  order.reserve(series.size());
  for (const SeriesChunks& s : series) {
    if (!s.chunks.empty()) order.push_back(&s);
  }
  std::stable_sort(order.begin(), order.end(), [](const SeriesChunks* a, const SeriesChunks* b) {
    return prom::Labels::Compare(a->labels, b->labels) < 0;
  });
  const std::string chunks_dir = dir + "/chunks";
  if (mkdir(chunks_dir.c_str(), 0755) != 0) return Errno("mkdir", chunks_dir);
  ChunkSegmentWriter writer(chunks_dir);
  std::vector<IndexSeries> index_series;
  index_series.reserve(order.size());
  for (const SeriesChunks* s : order) {
    std::vector<const ChunkView*> chunks;
    for (const ChunkView& c : s->chunks) chunks.push_back(&c);
    std::stable_sort(chunks.begin(), chunks.end(), [](const ChunkView* a, const ChunkView* b) {
      return a->min_time < b->min_time;
    });
    IndexSeries is;
    is.labels = &s->labels;
    for (const ChunkView* c : chunks) {
      absl::StatusOr<uint64_t> ref = writer.Write(c->bytes);
      if (!ref.ok()) return ref.status();
      is.chunks.push_back({c->min_time, c->max_time, *ref});
      meta->num_samples += ChunkSamples(c->bytes);
      ++meta->num_chunks;
    }
    ++meta->num_series;
    index_series.push_back(std::move(is));
  }
  if (absl::Status s = writer.Finish(); !s.ok()) return s;
  if (absl::Status s = SyncDir(chunks_dir); !s.ok()) return s;
  absl::StatusOr<std::string> index = EncodeIndex(index_series);
  if (!index.ok()) return index.status();
  if (absl::Status s = WriteFileSynced(dir + "/index", *index); !s.ok()) return s;
  if (absl::Status s = WriteFileSynced(dir + "/meta.json", MetaJson(*meta)); !s.ok()) return s;
  return SyncDir(dir);
}

std::vector<uint32_t> Intersect(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// Re-encodes a series whose chunks overlap (blocks compacted vertically) into new chunks of
// XorChunk::kTargetSamples, each timestamp once (the first chunk's sample wins, as
// SampleIterator reads them). Leaves other series alone.
absl::Status Rechunk(SeriesChunks* s) {
  bool overlap = false;
  for (size_t i = 1; i < s->chunks.size(); ++i) {
    overlap |= s->chunks[i].min_time <= s->chunks[i - 1].max_time;
  }
  if (!overlap) return absl::OkStatus();
  std::vector<ChunkView> out;
  XorChunk chunk;
  auto cut = [&] {
    auto bytes = std::make_shared<std::string>(chunk.bytes());
    out.push_back({chunk.min_time(), chunk.max_time(), *bytes, bytes});
    chunk = XorChunk();
  };
  SampleIterator it(*s, kMinTime, kMaxTime);
  while (it.Next()) {
    if (chunk.num_samples() >= XorChunk::kTargetSamples) cut();
    if (absl::Status st = chunk.Append(it.t(), it.v()); !st.ok()) return st;
  }
  if (!it.status().ok()) return it.status();
  if (chunk.num_samples() > 0) cut();
  s->chunks = std::move(out);
  return absl::OkStatus();
}

}  // namespace

std::string NewUlid(int64_t now_ms) {
  // 128 bits: 48-bit timestamp then 80 random bits, written as 26 base32 digits (the first
  // carries 3 bits).
  absl::BitGen gen;
  unsigned char b[16];
  const auto ts = static_cast<uint64_t>(now_ms);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ts >> (8 * (5 - i)));
  for (int i = 6; i < 16; ++i) b[i] = absl::Uniform<unsigned char>(gen);
  std::string out(26, '0');
  for (int i = 0; i < 26; ++i) {
    int digit = 0;
    for (int k = 0; k < 5; ++k) {
      const int bit = i * 5 + k - 2;  // 130 bits with two leading zeros
      const int v = bit < 0 ? 0 : (b[bit / 8] >> (7 - bit % 8)) & 1;
      digit = (digit << 1) | v;
    }
    out[i] = kUlidAlphabet[digit];
  }
  return out;
}

absl::StatusOr<BlockMeta> WriteBlock(const std::string& db_dir, int64_t min_time, int64_t max_time,
                                     const std::vector<SeriesChunks>& series, int compaction_level,
                                     std::vector<std::string> sources, int64_t now_ms) {
  BlockMeta meta;
  meta.ulid = NewUlid(now_ms);
  meta.min_time = min_time;
  meta.max_time = max_time;
  meta.compaction_level = compaction_level;
  meta.sources = std::move(sources);
  if (meta.sources.empty()) meta.sources.push_back(meta.ulid);
  const std::string final_dir = absl::StrCat(db_dir, "/", meta.ulid);
  const std::string tmp_dir = final_dir + ".tmp-for-creation";
  if (mkdir(tmp_dir.c_str(), 0755) != 0) return Errno("mkdir", tmp_dir);
  absl::Status s = WriteBlockFiles(tmp_dir, series, &meta);
  if (s.ok() && rename(tmp_dir.c_str(), final_dir.c_str()) != 0) s = Errno("rename", tmp_dir);
  if (!s.ok()) {
    RemoveAll(tmp_dir);
    return absl::Status(s.code(), absl::StrCat("write block: ", s.message()));
  }
  if (s = SyncDir(db_dir); !s.ok()) return s;
  return meta;
}

struct Block::Impl {
  std::string dir;
  BlockMeta meta;
  std::unique_ptr<IndexReader> index;
  std::unique_ptr<ChunkSegmentReader> chunks;
  int64_t size_bytes = 0;

  // Series refs whose labels may satisfy `matchers` (every series passes MatchesAll after).
  absl::StatusOr<std::vector<uint32_t>> Candidates(
      const std::vector<prom::Matcher>& matchers) const {
    std::optional<std::vector<uint32_t>> set;
    for (const prom::Matcher& m : matchers) {
      if (m.MatchesEmpty()) continue;  // also selects series without the label
      std::vector<uint32_t> refs;
      if (m.type() == prom::MatchType::kEqual) {
        absl::StatusOr<std::vector<uint32_t>> p = index->Postings(m.name(), m.value());
        if (!p.ok()) return p.status();
        refs = *std::move(p);
      } else {
        for (const std::string& v : index->LabelValues(m.name())) {
          if (!m.Matches(v)) continue;
          absl::StatusOr<std::vector<uint32_t>> p = index->Postings(m.name(), v);
          if (!p.ok()) return p.status();
          refs.insert(refs.end(), p->begin(), p->end());
        }
        std::sort(refs.begin(), refs.end());
        refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
      }
      set = set.has_value() ? Intersect(*set, refs) : std::move(refs);
      if (set->empty()) return *std::move(set);
    }
    if (set.has_value()) return *std::move(set);
    return index->Postings("", "");
  }

  // Calls fn(labels, chunk metas) for each series matching `matchers`, in label order.
  template <typename Fn>
  absl::Status ForEachSeries(const std::vector<prom::Matcher>& matchers, Fn fn) const {
    absl::StatusOr<std::vector<uint32_t>> refs = Candidates(matchers);
    if (!refs.ok()) return Annotate(refs.status());
    prom::Labels labels;
    std::vector<IndexChunkMeta> metas;
    for (uint32_t ref : *refs) {
      if (absl::Status s = index->Series(ref, &labels, &metas); !s.ok()) return Annotate(s);
      if (!prom::MatchesAll(matchers, labels)) continue;
      if (absl::Status s = fn(labels, metas); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status Annotate(const absl::Status& s) const {
    return absl::Status(s.code(), absl::StrCat("block ", dir, ": ", s.message()));
  }
};

absl::StatusOr<std::unique_ptr<Block>> Block::Open(const std::string& dir) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  const std::string meta_path = dir + "/meta.json";
  absl::StatusOr<std::shared_ptr<const MappedFile>> meta_file = MappedFile::Open(meta_path);
  if (!meta_file.ok()) {
    if (absl::IsNotFound(meta_file.status())) {
      return absl::NotFoundError(absl::StrCat("not a block: no ", meta_path));
    }
    return meta_file.status();
  }
  absl::StatusOr<BlockMeta> meta = ParseMeta((*meta_file)->data(), meta_path);
  if (!meta.ok()) return meta.status();
  impl->meta = *std::move(meta);
  impl->size_bytes = static_cast<int64_t>((*meta_file)->data().size());

  const std::string index_path = dir + "/index";
  absl::StatusOr<std::unique_ptr<IndexReader>> index = IndexReader::Open(index_path);
  if (!index.ok()) {
    if (absl::IsNotFound(index.status())) {
      return absl::DataLossError(absl::StrCat("block ", dir, ": no index file"));
    }
    return index.status();
  }
  impl->index = *std::move(index);
  absl::StatusOr<std::unique_ptr<ChunkSegmentReader>> chunks =
      ChunkSegmentReader::Open(dir + "/chunks");
  if (!chunks.ok()) {
    if (absl::IsNotFound(chunks.status())) {
      return absl::DataLossError(absl::StrCat("block ", dir, ": no chunks directory"));
    }
    return chunks.status();
  }
  impl->chunks = *std::move(chunks);
  impl->size_bytes += impl->index->size_bytes() + impl->chunks->size_bytes();
  auto block = std::unique_ptr<Block>(new Block());
  block->impl_ = std::move(impl);
  return block;
}

Block::~Block() = default;

const BlockMeta& Block::meta() const { return impl_->meta; }
const std::string& Block::dir() const { return impl_->dir; }
int64_t Block::size_bytes() const { return impl_->size_bytes; }

absl::StatusOr<std::vector<SeriesChunks>> Block::Select(const std::vector<prom::Matcher>& matchers,
                                                        int64_t mint, int64_t maxt) const {
  std::vector<SeriesChunks> out;
  absl::Status s = impl_->ForEachSeries(
      matchers, [&](const prom::Labels& labels, const std::vector<IndexChunkMeta>& metas) {
        SeriesChunks series;
        for (const IndexChunkMeta& m : metas) {
          if (m.max_time < mint || m.min_time > maxt) continue;
          ChunkView view;
          view.min_time = m.min_time;
          view.max_time = m.max_time;
          if (absl::Status s = impl_->chunks->Chunk(m.ref, &view.bytes, &view.owner); !s.ok()) {
            return impl_->Annotate(absl::Status(
                s.code(), absl::StrCat("series ", labels.ToString(), ": ", s.message())));
          }
          series.chunks.push_back(std::move(view));
        }
        if (series.chunks.empty()) return absl::OkStatus();
        series.labels = labels;
        out.push_back(std::move(series));
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<std::string>> Block::LabelNames(
    const std::vector<prom::Matcher>& matchers) const {
  if (matchers.empty()) return impl_->index->LabelNames();
  std::set<std::string> names;
  absl::Status s = impl_->ForEachSeries(
      matchers, [&](const prom::Labels& labels, const std::vector<IndexChunkMeta>&) {
        for (const prom::Label& l : labels) names.insert(l.name);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return std::vector<std::string>(names.begin(), names.end());
}

absl::StatusOr<std::vector<std::string>> Block::LabelValues(
    absl::string_view name, const std::vector<prom::Matcher>& matchers) const {
  if (matchers.empty()) return impl_->index->LabelValues(name);
  std::set<std::string> values;
  absl::Status s = impl_->ForEachSeries(
      matchers, [&](const prom::Labels& labels, const std::vector<IndexChunkMeta>&) {
        absl::string_view v = labels.Get(name);
        if (!v.empty()) values.emplace(v);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return std::vector<std::string>(values.begin(), values.end());
}

std::vector<size_t> PlanCompaction(const std::vector<BlockMeta>& metas,
                                   const std::vector<int64_t>& ranges) {
  if (metas.size() < 2) return {};
  std::vector<size_t> order(metas.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return metas[a].min_time < metas[b].min_time; });
  // As Prometheus: overlapping blocks first (vertical compaction), the newest included.
  std::vector<size_t> overlapping;
  int64_t global_maxt = metas[order[0]].max_time;
  for (size_t i = 1; i < order.size(); ++i) {
    const BlockMeta& m = metas[order[i]];
    if (m.min_time < global_maxt) {
      if (overlapping.empty()) overlapping.push_back(order[i - 1]);
      overlapping.push_back(order[i]);
    } else if (!overlapping.empty()) {
      break;
    }
    global_maxt = std::max(global_maxt, m.max_time);
  }
  if (!overlapping.empty()) return overlapping;

  // Then LeveledCompactor.selectDirs over every block but the newest.
  if (ranges.size() < 2) return {};
  order.pop_back();  // the newest block may still be backed up or joined by the next
  const int64_t high_time = metas[order.back()].min_time;
  for (size_t r = 1; r < ranges.size(); ++r) {
    const int64_t tr = ranges[r];
    if (tr <= 0) continue;
    for (size_t i = 0; i < order.size();) {
      const BlockMeta& m = metas[order[i]];
      // Start of the range-aligned window holding this block's start (floor division).
      const int64_t t0 =
          m.min_time >= 0 ? tr * (m.min_time / tr) : tr * ((m.min_time - tr + 1) / tr);
      if (m.max_time > t0 + tr) {  // spans past its window
        ++i;
        continue;
      }
      std::vector<size_t> group;
      for (; i < order.size(); ++i) {
        const BlockMeta& g = metas[order[i]];
        if (g.min_time < t0 || g.max_time > t0 + tr) break;
        group.push_back(order[i]);
      }
      if (group.size() < 2) continue;
      const int64_t mint = metas[group.front()].min_time;
      const int64_t maxt = metas[group.back()].max_time;
      // The whole window is covered, or the window lies before the most recent candidate.
      if (maxt - mint == tr || maxt <= high_time) return group;
    }
  }
  return {};
}

absl::StatusOr<BlockMeta> CompactBlocks(const std::string& db_dir,
                                        const std::vector<const Block*>& blocks, int64_t now_ms) {
  if (blocks.empty()) return absl::InvalidArgumentError("compact: no blocks");
  std::vector<std::vector<SeriesChunks>> parts;
  int64_t mint = kMaxTime, maxt = kMinTime;
  int level = 0;
  std::set<std::string> sources;
  for (const Block* b : blocks) {
    absl::StatusOr<std::vector<SeriesChunks>> s = b->Select({}, kMinTime, kMaxTime);
    if (!s.ok()) return Annotate(s.status(), "compact: ");
    parts.push_back(*std::move(s));
    const BlockMeta& m = b->meta();
    mint = std::min(mint, m.min_time);
    maxt = std::max(maxt, m.max_time);
    level = std::max(level, m.compaction_level);
    if (m.sources.empty()) sources.insert(m.ulid);
    sources.insert(m.sources.begin(), m.sources.end());
  }
  std::vector<SeriesChunks> merged = MergeSeries(std::move(parts));
  for (SeriesChunks& s : merged) {
    if (absl::Status st = Rechunk(&s); !st.ok()) return Annotate(st, "compact: ");
  }
  return WriteBlock(db_dir, mint, maxt, merged, level + 1,
                    std::vector<std::string>(sources.begin(), sources.end()), now_ms);
}

std::vector<size_t> BlocksBeyondRetention(const std::vector<BlockMeta>& metas,
                                          const std::vector<int64_t>& sizes, int64_t retention_ms,
                                          int64_t retention_bytes, int64_t reserved_bytes) {
  std::vector<bool> doomed(metas.size(), false);
  if (retention_ms > 0 && !metas.empty()) {
    int64_t newest = kMinTime;
    for (const BlockMeta& m : metas) newest = std::max(newest, m.max_time);
    for (size_t i = 0; i < metas.size(); ++i) {
      if (metas[i].max_time <= newest - retention_ms) doomed[i] = true;
    }
  }
  if (retention_bytes > 0) {
    // Keep the newest blocks while they fit; the first that does not goes, with all older.
    int64_t total = reserved_bytes;
    bool over = false;
    for (size_t i = metas.size(); i-- > 0;) {
      if (doomed[i]) continue;
      total += i < sizes.size() ? sizes[i] : 0;
      if (total > retention_bytes) over = true;
      if (over) doomed[i] = true;
    }
  }
  std::vector<size_t> out;
  for (size_t i = 0; i < doomed.size(); ++i) {
    if (doomed[i]) out.push_back(i);
  }
  return out;
}

}  // namespace sextant::tsdb
