#include "aggregator/tsdb/db.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"

namespace sextant::tsdb {
namespace {

namespace fs = std::filesystem;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t ToMs(absl::Time t) { return absl::ToUnixMillis(t); }

// Size in bytes of the regular files under `dir`, recursively; 0 when missing.
int64_t DirSize(const std::string& dir) {
  std::error_code ec;
  int64_t total = 0;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_regular_file(ec2)) {
      const auto size = it->file_size(ec2);
      if (!ec2) total += static_cast<int64_t>(size);
    }
  }
  return total;
}

absl::Status RemoveDir(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return absl::InternalError(absl::StrCat("remove ", path, ": ", ec.message()));
  return absl::OkStatus();
}

// Deletes a block directory so that a crash part-way leaves no half block behind: renamed to
// <dir>.tmp-for-deletion first (Open removes those), then removed.
absl::Status RemoveBlockDir(const std::string& dir) {
  const std::string doomed = dir + ".tmp-for-deletion";
  std::error_code ec;
  fs::rename(dir, doomed, ec);
  if (ec) return absl::InternalError(absl::StrCat("rename ", dir, ": ", ec.message()));
  return RemoveDir(doomed);
}

// Re-encodes the samples of `series` within [mint, maxt) into fresh chunks, for chunks that
// straddle a block boundary (the head avoids them; this keeps blocks correct regardless).
absl::StatusOr<std::vector<ChunkView>> ClipChunks(const SeriesChunks& series, int64_t mint,
                                                  int64_t maxt) {
  bool clean = true;
  for (const ChunkView& c : series.chunks) {
    if (c.min_time < mint || c.max_time >= maxt) clean = false;
  }
  if (clean) return series.chunks;
  std::vector<ChunkView> out;
  auto chunk = std::make_shared<XorChunk>();
  auto flush = [&] {
    if (chunk->num_samples() == 0) return;
    ChunkView view;
    view.min_time = chunk->min_time();
    view.max_time = chunk->max_time();
    view.bytes = chunk->bytes();
    view.owner = chunk;
    out.push_back(std::move(view));
    chunk = std::make_shared<XorChunk>();
  };
  SampleIterator it(series, mint, maxt - 1);
  while (it.Next()) {
    if (chunk->num_samples() >= XorChunk::kTargetSamples) flush();
    SEXTANT_RETURN_IF_ERROR(chunk->Append(it.t(), it.v()));
  }
  SEXTANT_RETURN_IF_ERROR(it.status());
  flush();
  return out;
}

prometheus::MetricFamily Family(const std::string& name, const std::string& help,
                                prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

void AddValue(prometheus::MetricFamily& f, double v,
              std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (f.type == prometheus::MetricType::Counter) {
    m.counter.value = v;
  } else {
    m.gauge.value = v;
  }
  f.metric.push_back(std::move(m));
}

}  // namespace

// The sextant_tsdb_* families, read from the Db when scraped.
class Db::Collector : public prometheus::Collectable {
 public:
  explicit Collector(const Db& db) : db_(db) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::MetricType;
    const DbStats s = db_.Stats();
    std::vector<prometheus::MetricFamily> out;
    auto gauge = [&](const std::string& name, const std::string& help, double v) {
      out.push_back(Family(name, help, MetricType::Gauge));
      AddValue(out.back(), v);
    };
    auto counter = [&](const std::string& name, const std::string& help, double v) {
      out.push_back(Family(name, help, MetricType::Counter));
      AddValue(out.back(), v);
    };
    gauge("sextant_tsdb_head_series", "Active series in the head.",
          static_cast<double>(s.head_series));
    gauge("sextant_tsdb_head_chunks", "Chunks in the head (completed and open).",
          static_cast<double>(s.head_chunks));
    gauge("sextant_tsdb_head_chunk_bytes",
          "Encoded bytes of the head's chunks (XOR), as a block would store them.",
          static_cast<double>(s.head_chunk_bytes));
    gauge("sextant_tsdb_head_memory_bytes",
          "Estimated memory the head holds: labels, strings, index and chunks.",
          static_cast<double>(s.head_memory_bytes));
    if (s.head_series > 0 && s.head_min_time != kMaxTime) {
      gauge("sextant_tsdb_head_min_time_seconds", "Oldest sample in the head.",
            static_cast<double>(s.head_min_time) / 1000);
      gauge("sextant_tsdb_head_max_time_seconds", "Newest sample in the head.",
            static_cast<double>(s.head_max_time) / 1000);
    }
    counter("sextant_tsdb_head_samples_appended_total", "Samples appended to the head.",
            static_cast<double>(s.samples_appended));
    out.push_back(Family("sextant_tsdb_samples_rejected_total", "Samples not appended, by reason.",
                         MetricType::Counter));
    AddValue(out.back(), static_cast<double>(db_.rejected_out_of_order_.load()),
             {{"reason", "out_of_order"}});
    AddValue(out.back(), static_cast<double>(db_.rejected_duplicate_.load()),
             {{"reason", "duplicate_timestamp"}});
    AddValue(out.back(), static_cast<double>(db_.rejected_out_of_bounds_.load()),
             {{"reason", "out_of_bounds"}});
    AddValue(out.back(), static_cast<double>(db_.rejected_unknown_series_.load()),
             {{"reason", "unknown_series"}});
    AddValue(out.back(), static_cast<double>(db_.rejected_future_.load()),
             {{"reason", "too_far_in_future"}});
    gauge("sextant_tsdb_blocks", "Blocks on disk.", static_cast<double>(s.blocks));
    gauge("sextant_tsdb_blocks_bytes", "Bytes of the blocks on disk.",
          static_cast<double>(s.blocks_bytes));
    counter("sextant_tsdb_wal_fsyncs_total", "fsync calls on WAL segments.",
            static_cast<double>(s.wal_fsyncs));
    gauge("sextant_tsdb_wal_fsync_duration_seconds", "Duration of the last WAL fsync.",
          s.wal_last_fsync_seconds);
    counter("sextant_tsdb_wal_corruptions_total",
            "Damaged WAL tails found at start and cut at the last good record.",
            static_cast<double>(db_.wal_corruptions_.load()));
    counter("sextant_tsdb_wal_write_failures_total",
            "Commits refused because the WAL write failed.",
            static_cast<double>(db_.wal_write_failures_.load()));
    counter("sextant_tsdb_head_truncations_total", "Head truncations after a block was cut.",
            static_cast<double>(db_.head_truncations_.load()));
    counter("sextant_tsdb_checkpoints_total", "WAL checkpoints written.",
            static_cast<double>(db_.checkpoints_.load()));
    counter("sextant_tsdb_compactions_total", "Blocks written (head cuts and merges).",
            static_cast<double>(db_.compactions_.load()));
    counter("sextant_tsdb_compaction_failures_total", "Failed compaction rounds.",
            static_cast<double>(db_.compaction_failures_.load()));
    counter("sextant_tsdb_retention_blocks_deleted_total", "Blocks deleted by retention.",
            static_cast<double>(db_.retention_deleted_.load()));
    return out;
  }

 private:
  const Db& db_;
};

absl::StatusOr<SeriesRef> Appender::GetOrCreate(const prom::Labels& labels) {
  return db_.GetOrCreate(labels);
}

absl::StatusOr<SeriesRef> Appender::GetOrCreate(const prom::LabelView* labels, size_t n) {
  // The generation first: a handle found after it is valid while it has not moved.
  if (!have_generation_) {
    generation_ = db_.head_.Generation();
    have_generation_ = true;
  }
  last_handle_ = nullptr;
  absl::StatusOr<SeriesRef> ref = db_.GetOrCreate(labels, n, &last_handle_);
  last_ref_ = ref.ok() ? *ref : 0;
  return ref;
}

absl::StatusOr<CommitResult> Appender::Commit() {
  absl::StatusOr<CommitResult> result = db_.Commit(
      samples_, metadata_, have_generation_ ? std::optional<uint32_t>(generation_) : std::nullopt);
  samples_.clear();
  metadata_.clear();
  have_generation_ = false;
  last_ref_ = 0;
  last_handle_ = nullptr;
  return result;
}

Db::Db(const DbOptions& options)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : &RealClock::Get()),
      head_(HeadOptions{options.max_active_series, options.block_range_ms}),
      blocks_(std::make_shared<const BlockList>()) {
  collectable_ = std::make_shared<Collector>(*this);
}

Db::~Db() {
  Stop();
  if (wal_ != nullptr && options_.fsync != FsyncPolicy::kNever) {
    if (absl::Status s = wal_->Sync(); !s.ok()) LogWarn("final WAL sync failed", {{"err", s}});
  }
  wal_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

absl::StatusOr<std::unique_ptr<Db>> Db::Open(const DbOptions& options) {
  if (options.dir.empty()) return absl::InvalidArgumentError("data directory is empty");
  if (options.block_range_ms <= 0) return absl::InvalidArgumentError("block range must be > 0");
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("create data directory ", options.dir, ": ", ec.message()));
  }
  std::unique_ptr<Db> db(new Db(options));
  // One process per data directory, as Prometheus: an advisory lock on <dir>/lock, released
  // by the kernel when the process dies.
  const std::string lock_path = options.dir + "/lock";
  db->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (db->lock_fd_ < 0) {
    return absl::InternalError(absl::StrCat("open ", lock_path, ": ", strerror(errno)));
  }
  if (::flock(db->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("data directory ", options.dir,
                                                      " is in use by another process (", lock_path,
                                                      " is locked)"));
  }
  SEXTANT_RETURN_IF_ERROR(db->Recover());
  return db;
}

absl::Status Db::Recover() {
  SEXTANT_RETURN_IF_ERROR(OpenBlocks());
  SEXTANT_RETURN_IF_ERROR(ReplayWal());
  WalOptions wal_options;
  wal_options.dir = options_.dir + "/wal";
  wal_options.fsync = options_.fsync;
  wal_options.segment_bytes = options_.wal_segment_bytes;
  wal_options.compress = options_.wal_compression;
  SEXTANT_ASSIGN_OR_RETURN(wal_, Wal::Open(wal_options));
  return absl::OkStatus();
}

absl::Status Db::OpenBlocks() {
  std::vector<std::string> dirs;
  std::error_code ec;
  for (fs::directory_iterator it(options_.dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (!it->is_directory(ec2)) continue;
    const std::string name = it->path().filename().string();
    if (name == "wal") continue;
    if (absl::EndsWith(name, ".tmp-for-creation") || absl::EndsWith(name, ".tmp-for-deletion") ||
        absl::EndsWith(name, ".tmp")) {
      LogInfo("removing leftover temporary block directory", {{"dir", it->path().string()}});
      SEXTANT_RETURN_IF_ERROR(RemoveDir(it->path().string()));
      continue;
    }
    if (!fs::exists(it->path() / "meta.json", ec2)) continue;
    dirs.push_back(it->path().string());
  }
  if (ec) return absl::InternalError(absl::StrCat("list ", options_.dir, ": ", ec.message()));
  std::vector<std::shared_ptr<Block>> blocks;
  for (const std::string& d : dirs) {
    absl::StatusOr<std::unique_ptr<Block>> b = Block::Open(d);
    if (!b.ok()) return Annotate(b.status(), absl::StrCat("open block ", d, ": "));
    blocks.push_back(std::move(*b));
  }
  // A compaction that finished writing its block but crashed before deleting its inputs leaves
  // both: drop every block whose sources another, higher-level block covers.
  std::vector<std::shared_ptr<Block>> kept;
  for (const auto& b : blocks) {
    bool replaced = false;
    for (const auto& other : blocks) {
      if (other == b || other->meta().compaction_level <= b->meta().compaction_level) continue;
      const auto& srcs = other->meta().sources;
      const bool covered = std::all_of(
          b->meta().sources.begin(), b->meta().sources.end(), [&srcs](const std::string& s) {
            return std::find(srcs.begin(), srcs.end(), s) != srcs.end();
          });
      if (covered && !b->meta().sources.empty()) {
        replaced = true;
        break;
      }
    }
    if (replaced) {
      LogInfo("removing block replaced by a compaction", {{"block", b->dir()}});
      const std::string dir = b->dir();
      SEXTANT_RETURN_IF_ERROR(RemoveBlockDir(dir));
      continue;
    }
    kept.push_back(b);
  }
  std::sort(kept.begin(), kept.end(),
            [](const auto& a, const auto& b) { return a->meta().min_time < b->meta().min_time; });
  int64_t max_block_time = kMinTime;
  for (const auto& b : kept) max_block_time = std::max(max_block_time, b->meta().max_time);
  if (!kept.empty()) {
    // Samples the blocks already hold must not come back into the head from the WAL.
    head_.Truncate(max_block_time);
    absl::MutexLock l(&commit_mu_);
    min_valid_ms_ = max_block_time;
    LogInfo("blocks opened",
            {{"blocks", static_cast<int64_t>(kept.size())}, {"max_time_ms", max_block_time}});
  }
  SetBlocks(std::make_shared<const BlockList>(std::move(kept)));
  return absl::OkStatus();
}

absl::Status Db::ReplayWal() {
  const std::string wal_dir = options_.dir + "/wal";
  std::error_code ec;
  if (!fs::exists(wal_dir, ec)) return absl::OkStatus();
  const absl::Time start = absl::Now();
  absl::flat_hash_map<SeriesRef, SeriesRef>& ref_map = replay_ref_map_;
  int64_t n_bad_records = 0;
  std::vector<RefSeries> series;
  std::vector<RefSample> samples;
  std::vector<RefMetadata> metadata;
  int64_t n_series = 0, n_samples = 0, n_unknown = 0, n_skipped = 0;
  // A record whose CRC is right but which does not decode (a bug, not a torn write) is skipped
  // and counted rather than stopping the start.
  auto skip = [&](const absl::Status& s) {
    if (n_bad_records++ == 0) LogWarn("skipping undecodable WAL record", {{"err", s}});
    return absl::OkStatus();
  };
  auto on_record = [&](absl::string_view rec) -> absl::Status {
    absl::StatusOr<RecordType> type = PeekRecordType(rec);
    if (!type.ok()) return skip(type.status());
    switch (*type) {
      case RecordType::kSeries: {
        if (absl::Status s = DecodeSeries(rec, &series); !s.ok()) return skip(s);
        for (RefSeries& s : series) {
          const SeriesRef got = head_.CreateWithRef(s.ref, s.labels);
          if (got != s.ref) ref_map[s.ref] = got;
          ++n_series;
        }
        break;
      }
      case RecordType::kSamples: {
        if (absl::Status s = DecodeSamples(rec, &samples); !s.ok()) return skip(s);
        for (const RefSample& s : samples) {
          SeriesRef ref = s.ref;
          if (!ref_map.empty()) {
            auto it = ref_map.find(ref);
            if (it != ref_map.end()) ref = it->second;
          }
          switch (head_.Append(ref, s.t, s.v)) {
            case AppendOutcome::kOk:
              ++n_samples;
              break;
            case AppendOutcome::kUnknownSeries:
              ++n_unknown;
              break;
            default:
              ++n_skipped;  // already in a block, or a duplicate
              break;
          }
        }
        break;
      }
      case RecordType::kMetadata: {
        if (absl::Status s = DecodeMetadata(rec, &metadata); !s.ok()) return skip(s);
        absl::MutexLock l(&metadata_mu_);
        for (RefMetadata& m : metadata) {
          metadata_[m.metric_family_name] = {m.type, std::move(m.help), std::move(m.unit)};
        }
        break;
      }
    }
    return absl::OkStatus();
  };

  int after = -1;  // the checkpoint covers segments through this number
  absl::StatusOr<std::pair<std::string, int>> checkpoint = LastCheckpoint(wal_dir);
  if (checkpoint.ok()) {
    LogInfo("replaying WAL checkpoint", {{"dir", checkpoint->first}});
    WalCorruption corruption;
    absl::Status s = ReadWal(checkpoint->first, 0, -1, on_record, &corruption);
    if (!s.ok()) return Annotate(s, absl::StrCat("replay checkpoint ", checkpoint->first, ": "));
    after = checkpoint->second;
  } else if (!absl::IsNotFound(checkpoint.status())) {
    return checkpoint.status();
  }
  SEXTANT_ASSIGN_OR_RETURN(std::vector<int> segments, ListSegments(wal_dir));
  segments.erase(
      std::remove_if(segments.begin(), segments.end(), [after](int s) { return s <= after; }),
      segments.end());
  if (!segments.empty()) {
    const int first = segments.front();
    const int last = segments.back();
    for (size_t i = 0; i < segments.size(); ++i) {
      const int seg = segments[i];
      WalCorruption corruption;
      absl::Status s;
      if (i > 0 && seg != segments[i - 1] + 1) {
        // A segment is missing: what follows cannot be trusted to be complete.
        corruption.segment = seg;
        corruption.offset = 0;
        corruption.reason = absl::StrCat("segment ", segments[i - 1] + 1, " is missing");
        s = absl::DataLossError(corruption.reason);
      } else {
        s = ReadWal(wal_dir, seg, seg, on_record, &corruption);
      }
      LogInfo("WAL segment replayed", {{"segment", seg},
                                       {"first", first},
                                       {"last", last},
                                       {"samples", n_samples},
                                       {"series", n_series}});
      if (s.ok()) continue;
      if (!absl::IsDataLoss(s)) return Annotate(s, "replay WAL: ");
      ++wal_corruptions_;
      LogWarn("WAL damaged; cutting it at the last good record", {{"segment", corruption.segment},
                                                                  {"offset", corruption.offset},
                                                                  {"reason", corruption.reason}});
      SEXTANT_RETURN_IF_ERROR(RepairWal(wal_dir, corruption));
      break;  // RepairWal deleted every later segment
    }
  }
  LogInfo("WAL replay done", {{"series", n_series},
                              {"undecodable_records", n_bad_records},
                              {"samples", n_samples},
                              {"skipped_samples", n_skipped},
                              {"unknown_series_samples", n_unknown},
                              {"head_series", head_.NumSeries()},
                              {"duration", absl::Now() - start}});
  return absl::OkStatus();
}

absl::StatusOr<SeriesRef> Db::GetOrCreate(const prom::Labels& labels) {
  return head_.GetOrCreate(labels, /*created=*/nullptr);
}

absl::StatusOr<SeriesRef> Db::GetOrCreate(const prom::LabelView* labels, size_t n, void** handle) {
  const SeriesRef found = head_.Find(prom::Labels::HashOf(labels, n), labels, n, handle);
  if (found != 0) return found;
  std::vector<prom::Label> owned;
  owned.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (labels[i].value.empty()) continue;
    owned.push_back(prom::Label{std::string(labels[i].name), std::string(labels[i].value)});
  }
  return GetOrCreate(prom::Labels::FromSortedUnchecked(std::move(owned)));
}

absl::StatusOr<CommitResult> Db::Commit(std::vector<PendingSample>& samples,
                                        std::vector<RefMetadata>& metadata,
                                        std::optional<uint32_t> generation) {
  CommitResult result;
  // Far-future samples would move the head's window for every series (and overflow time
  // arithmetic near the int64 limits): refuse them up front.
  const int64_t max_valid = ToMs(clock_->Now()) + options_.max_future_ms;
  absl::ReleasableMutexLock commit_lock(&commit_mu_);
  // As Prometheus's appender: nothing older than half a block range before the newest sample,
  // nor older than what is being or has been cut into blocks, so a block once cut is final.
  int64_t min_valid = std::max(min_valid_ms_, kMinTime / 2);
  const int64_t head_max = head_.MaxTime();
  const int64_t half_range = options_.block_range_ms / 2;
  if (head_max != kMinTime && head_max > kMinTime + half_range) {
    min_valid = std::max(min_valid, head_max - half_range);
  }
  {
    const size_t before = samples.size();
    samples.erase(std::remove_if(samples.begin(), samples.end(),
                                 [min_valid](const PendingSample& s) { return s.t < min_valid; }),
                  samples.end());
    result.rejected.out_of_bounds += static_cast<int64_t>(before - samples.size());
    const size_t before_future = samples.size();
    samples.erase(std::remove_if(samples.begin(), samples.end(),
                                 [max_valid](const PendingSample& s) { return s.t > max_valid; }),
                  samples.end());
    result.rejected.too_far_in_future += static_cast<int64_t>(before_future - samples.size());
  }
  if (!generation.has_value() || *generation != head_.Generation()) {
    // A truncation ran since the lookups (or none were made here): the handles may be stale.
    for (PendingSample& s : samples) s.handle = nullptr;
  }
  std::vector<SeriesRef> unlogged;
  std::vector<void*> handles;
  head_.Validate(samples, &result.rejected, &unlogged, &handles);

  std::vector<RefSeries> new_series;
  for (SeriesRef ref : unlogged) {
    absl::StatusOr<prom::Labels> labels = head_.SeriesLabels(ref);
    if (labels.ok()) new_series.push_back({ref, std::move(*labels)});
  }
  std::vector<RefMetadata> changed;
  if (!metadata.empty()) {
    absl::MutexLock l(&metadata_mu_);
    for (RefMetadata& m : metadata) {
      auto it = metadata_.find(m.metric_family_name);
      if (it != metadata_.end() && it->second.type == m.type && it->second.help == m.help &&
          it->second.unit == m.unit) {
        continue;
      }
      changed.push_back(m);
    }
  }

  std::string series_rec, samples_rec, metadata_rec;
  std::vector<absl::string_view> records;
  if (!new_series.empty()) {
    EncodeSeries(new_series, &series_rec);
    records.push_back(series_rec);
  }
  if (!samples.empty()) {
    std::vector<RefSample> refs;
    refs.reserve(samples.size());
    for (const PendingSample& s : samples) refs.push_back({s.ref, s.t, s.v});
    EncodeSamples(refs, &samples_rec);
    records.push_back(samples_rec);
  }
  if (!changed.empty()) {
    EncodeMetadata(changed, &metadata_rec);
    records.push_back(metadata_rec);
  }
  uint64_t wal_seq = 0;
  if (!records.empty()) {
    absl::StatusOr<uint64_t> seq = wal_->Write(records);
    if (!seq.ok()) {
      ++wal_write_failures_;
      return Annotate(seq.status(), "write WAL: ");
    }
    wal_seq = *seq;
  }
  head_.Apply(samples, &handles);
  if (!changed.empty()) {
    absl::MutexLock l(&metadata_mu_);
    for (RefMetadata& m : changed) {
      metadata_[m.metric_family_name] = {m.type, std::move(m.help), std::move(m.unit)};
    }
  }
  result.appended = static_cast<int64_t>(samples.size());
  samples_appended_ += result.appended;
  rejected_out_of_order_ += result.rejected.out_of_order;
  rejected_duplicate_ += result.rejected.duplicate_differ;
  rejected_out_of_bounds_ += result.rejected.out_of_bounds;
  rejected_unknown_series_ += result.rejected.unknown_series;
  rejected_future_ += result.rejected.too_far_in_future;
  commit_lock.Release();
  // fsync: always waits here, outside the commit lock, so that commits waiting meanwhile share
  // the next fsync (group commit). Until it returns, nothing of this commit is acknowledged.
  if (options_.fsync == FsyncPolicy::kAlways && wal_seq > 0) {
    if (absl::Status s = wal_->SyncThrough(wal_seq); !s.ok()) {
      ++wal_write_failures_;
      return Annotate(s, "fsync WAL: ");
    }
  }
  return result;
}

std::shared_ptr<const Db::BlockList> Db::blocks() const {
  absl::MutexLock l(&blocks_mu_);
  return blocks_;
}

void Db::SetBlocks(std::shared_ptr<const BlockList> blocks) {
  absl::MutexLock l(&blocks_mu_);
  blocks_ = std::move(blocks);
}

absl::StatusOr<std::vector<SeriesChunks>> Db::Select(const std::vector<prom::Matcher>& matchers,
                                                     int64_t mint, int64_t maxt) const {
  // The head first, then the block list: a block cut meanwhile is added before the head lets go
  // of its samples, so they are seen at least once (duplicates merge away).
  std::vector<std::vector<SeriesChunks>> parts;
  parts.push_back(head_.Select(matchers, mint, maxt));
  std::shared_ptr<const BlockList> list = blocks();
  for (const auto& b : *list) {
    if (b->meta().max_time <= mint || b->meta().min_time > maxt) continue;
    SEXTANT_ASSIGN_OR_RETURN(std::vector<SeriesChunks> part, b->Select(matchers, mint, maxt));
    parts.push_back(std::move(part));
  }
  // Blocks come before the head in the merged chunk order (ties keep source order).
  std::rotate(parts.begin(), parts.begin() + 1, parts.end());
  return MergeSeries(std::move(parts));
}

absl::StatusOr<std::vector<std::string>> Db::LabelNames(const std::vector<prom::Matcher>& matchers,
                                                        int64_t mint, int64_t maxt) const {
  std::vector<std::vector<std::string>> parts;
  if (head_.NumSeries() > 0 && head_.MaxTime() >= mint && head_.MinTime() <= maxt) {
    parts.push_back(head_.LabelNames(matchers));
  }
  std::shared_ptr<const BlockList> list = blocks();
  for (const auto& b : *list) {
    if (b->meta().max_time <= mint || b->meta().min_time > maxt) continue;
    SEXTANT_ASSIGN_OR_RETURN(std::vector<std::string> part, b->LabelNames(matchers));
    parts.push_back(std::move(part));
  }
  return MergeSortedStrings(std::move(parts));
}

absl::StatusOr<std::vector<std::string>> Db::LabelValues(absl::string_view name,
                                                         const std::vector<prom::Matcher>& matchers,
                                                         int64_t mint, int64_t maxt) const {
  std::vector<std::vector<std::string>> parts;
  if (head_.NumSeries() > 0 && head_.MaxTime() >= mint && head_.MinTime() <= maxt) {
    parts.push_back(head_.LabelValues(name, matchers));
  }
  std::shared_ptr<const BlockList> list = blocks();
  for (const auto& b : *list) {
    if (b->meta().max_time <= mint || b->meta().min_time > maxt) continue;
    SEXTANT_ASSIGN_OR_RETURN(std::vector<std::string> part, b->LabelValues(name, matchers));
    parts.push_back(std::move(part));
  }
  return MergeSortedStrings(std::move(parts));
}

std::map<std::string, MetricMetadata> Db::Metadata(absl::string_view metric) const {
  std::map<std::string, MetricMetadata> out;
  absl::MutexLock l(&metadata_mu_);
  if (metric.empty()) {
    out.insert(metadata_.begin(), metadata_.end());
  } else if (auto it = metadata_.find(metric); it != metadata_.end()) {
    out.insert(*it);
  }
  return out;
}

absl::Status Db::SyncWal() { return wal_->Sync(); }

absl::Status Db::CutBlock(int64_t mint, int64_t maxt) {
  const absl::Time start = absl::Now();
  std::vector<SeriesChunks> series;
  {
    // From here on no commit may add samples before maxt: they would miss the block.
    absl::MutexLock commit_lock(&commit_mu_);
    min_valid_ms_ = std::max(min_valid_ms_, maxt);
    series = head_.Select({}, mint, maxt - 1);
  }
  int64_t samples = 0;
  for (SeriesChunks& s : series) {
    SEXTANT_ASSIGN_OR_RETURN(s.chunks, ClipChunks(s, mint, maxt),
                             _.Prepend(absl::StrCat("series ", s.labels.ToString(), ": ")));
    for (const ChunkView& c : s.chunks) {
      samples += XorIterator(c.bytes).num_samples();
    }
  }
  series.erase(std::remove_if(series.begin(), series.end(),
                              [](const SeriesChunks& s) { return s.chunks.empty(); }),
               series.end());
  if (!series.empty()) {
    SEXTANT_ASSIGN_OR_RETURN(
        BlockMeta meta, WriteBlock(options_.dir, mint, maxt, series, 1, {}, ToMs(clock_->Now())));
    const std::string block_dir = absl::StrCat(options_.dir, "/", meta.ulid);
    SEXTANT_ASSIGN_OR_RETURN(std::unique_ptr<Block> block, Block::Open(block_dir));
    auto list = std::make_shared<BlockList>(*blocks());
    list->push_back(std::move(block));
    std::sort(list->begin(), list->end(),
              [](const auto& a, const auto& b) { return a->meta().min_time < b->meta().min_time; });
    SetBlocks(std::move(list));
    ++compactions_;
    LogInfo("head cut into block", {{"block", meta.ulid},
                                    {"min_time_ms", mint},
                                    {"max_time_ms", maxt},
                                    {"series", meta.num_series},
                                    {"samples", samples},
                                    {"duration", absl::Now() - start}});
  }
  {
    // Under the commit lock, so no commit sits between Validate and Apply while series go.
    absl::MutexLock commit_lock(&commit_mu_);
    head_.Truncate(maxt);
  }
  ++head_truncations_;
  return CheckpointWal(maxt);
}

absl::Status Db::CheckpointWal(int64_t mint) {
  const absl::Time start = absl::Now();
  SEXTANT_ASSIGN_OR_RETURN(int next, wal_->NextSegment());
  const int through = next - 1;
  std::vector<RefSeries> series;
  std::vector<RefSample> samples;
  int64_t kept_series = 0, kept_samples = 0;
  absl::Status decode_error;
  absl::Status s = WriteCheckpoint(
      wal_->dir(), through, [&](absl::string_view rec, std::vector<std::string>* keep) {
        absl::StatusOr<RecordType> type = PeekRecordType(rec);
        if (!type.ok()) return;
        switch (*type) {
          case RecordType::kSeries: {
            if (!DecodeSeries(rec, &series).ok()) return;
            // Drop series the head no longer has, and replayed duplicates (their samples are
            // rewritten to the ref the head kept).
            series.erase(std::remove_if(series.begin(), series.end(),
                                        [this](const RefSeries& r) {
                                          return replay_ref_map_.contains(r.ref) ||
                                                 !head_.HasSeries(r.ref);
                                        }),
                         series.end());
            if (series.empty()) return;
            kept_series += static_cast<int64_t>(series.size());
            keep->emplace_back();
            EncodeSeries(series, &keep->back());
            break;
          }
          case RecordType::kSamples: {
            if (!DecodeSamples(rec, &samples).ok()) return;
            for (RefSample& r : samples) {
              if (auto it = replay_ref_map_.find(r.ref); it != replay_ref_map_.end()) {
                r.ref = it->second;
              }
            }
            samples.erase(std::remove_if(samples.begin(), samples.end(),
                                         [this, mint](const RefSample& r) {
                                           return r.t < mint || !head_.HasSeries(r.ref);
                                         }),
                          samples.end());
            if (samples.empty()) return;
            kept_samples += static_cast<int64_t>(samples.size());
            keep->emplace_back();
            EncodeSamples(samples, &keep->back());
            break;
          }
          case RecordType::kMetadata:
            keep->emplace_back(rec);
            break;
        }
      });
  if (!s.ok()) return Annotate(s, "WAL checkpoint: ");
  SEXTANT_RETURN_IF_ERROR(wal_->DeleteSegmentsBefore(next));
  replay_ref_map_.clear();  // the records it translated are all in the checkpoint now
  ++checkpoints_;
  LogInfo("WAL checkpoint written", {{"through_segment", through},
                                     {"series", kept_series},
                                     {"samples", kept_samples},
                                     {"duration", absl::Now() - start}});
  return absl::OkStatus();
}

absl::Status Db::MergeBlocks() {
  std::vector<int64_t> ranges;
  int64_t max_range = options_.block_range_ms;
  const int64_t retention_ms = absl::ToInt64Milliseconds(options_.retention_time);
  int64_t cap = int64_t{31} * 24 * 3600 * 1000;
  if (retention_ms > 0) cap = std::min(cap, retention_ms / 10);
  for (int64_t r = options_.block_range_ms; r <= cap; r *= 3) {
    ranges.push_back(r);
    max_range = r;
  }
  if (ranges.size() < 2) return absl::OkStatus();
  (void)max_range;
  while (true) {
    std::shared_ptr<const BlockList> list = blocks();
    std::vector<BlockMeta> metas;
    for (const auto& b : *list) metas.push_back(b->meta());
    std::vector<size_t> plan = PlanCompaction(metas, ranges);
    if (plan.size() < 2) return absl::OkStatus();
    std::vector<const Block*> inputs;
    for (size_t i : plan) inputs.push_back((*list)[i].get());
    const absl::Time start = absl::Now();
    SEXTANT_ASSIGN_OR_RETURN(BlockMeta meta,
                             CompactBlocks(options_.dir, inputs, ToMs(clock_->Now())));
    SEXTANT_ASSIGN_OR_RETURN(std::unique_ptr<Block> merged,
                             Block::Open(absl::StrCat(options_.dir, "/", meta.ulid)));
    auto next = std::make_shared<BlockList>();
    std::vector<std::string> removed;
    for (size_t i = 0; i < list->size(); ++i) {
      if (std::find(plan.begin(), plan.end(), i) != plan.end()) {
        removed.push_back((*list)[i]->dir());
      } else {
        next->push_back((*list)[i]);
      }
    }
    next->push_back(std::move(merged));
    std::sort(next->begin(), next->end(),
              [](const auto& a, const auto& b) { return a->meta().min_time < b->meta().min_time; });
    SetBlocks(std::move(next));
    ++compactions_;
    LogInfo("blocks compacted", {{"block", meta.ulid},
                                 {"inputs", static_cast<int64_t>(plan.size())},
                                 {"level", meta.compaction_level},
                                 {"min_time_ms", meta.min_time},
                                 {"max_time_ms", meta.max_time},
                                 {"series", meta.num_series},
                                 {"duration", absl::Now() - start}});
    for (const std::string& d : removed) SEXTANT_RETURN_IF_ERROR(RemoveBlockDir(d));
  }
}

absl::Status Db::ApplyRetention() {
  std::shared_ptr<const BlockList> list = blocks();
  if (list->empty()) return absl::OkStatus();
  std::vector<BlockMeta> metas;
  std::vector<int64_t> sizes;
  for (const auto& b : *list) {
    metas.push_back(b->meta());
    sizes.push_back(b->size_bytes());
  }
  const int64_t wal_bytes = options_.retention_bytes > 0 ? DirSize(options_.dir + "/wal") : 0;
  std::vector<size_t> drop =
      BlocksBeyondRetention(metas, sizes, absl::ToInt64Milliseconds(options_.retention_time),
                            options_.retention_bytes, wal_bytes);
  if (drop.empty()) return absl::OkStatus();
  auto next = std::make_shared<BlockList>();
  std::vector<std::string> removed;
  for (size_t i = 0; i < list->size(); ++i) {
    if (std::find(drop.begin(), drop.end(), i) != drop.end()) {
      removed.push_back((*list)[i]->dir());
      LogInfo("retention deletes block", {{"block", (*list)[i]->meta().ulid},
                                          {"min_time_ms", (*list)[i]->meta().min_time},
                                          {"max_time_ms", (*list)[i]->meta().max_time},
                                          {"bytes", sizes[i]}});
    } else {
      next->push_back((*list)[i]);
    }
  }
  SetBlocks(std::move(next));
  for (const std::string& d : removed) {
    SEXTANT_RETURN_IF_ERROR(RemoveBlockDir(d));
    ++retention_deleted_;
  }
  return absl::OkStatus();
}

absl::Status Db::CutHeadBefore(int64_t maxt) {
  absl::MutexLock l(&compact_mu_);
  const int64_t range = options_.block_range_ms;
  if (maxt < kMinTime / 2 + range) return absl::OkStatus();
  while (head_.NumSeries() > 0) {
    const int64_t hmin = head_.MinTime();
    if (hmin == kMaxTime) break;
    const int64_t mint = FloorDiv(hmin, range) * range;
    if (mint > maxt - range) break;  // whole ranges only
    SEXTANT_RETURN_IF_ERROR(CutBlock(mint, mint + range));
  }
  return absl::OkStatus();
}

absl::Status Db::CompactOnce() {
  absl::MutexLock l(&compact_mu_);
  const int64_t range = options_.block_range_ms;
  while (head_.NumSeries() > 0) {
    const int64_t hmin = head_.MinTime();
    const int64_t hmax = head_.MaxTime();
    if (hmin == kMaxTime || hmax - hmin <= range / 2 * 3) break;
    const int64_t mint = FloorDiv(hmin, range) * range;
    SEXTANT_RETURN_IF_ERROR(CutBlock(mint, mint + range));
  }
  SEXTANT_RETURN_IF_ERROR(MergeBlocks());
  return ApplyRetention();
}

DbStats Db::Stats() const {
  DbStats s;
  s.head_series = head_.NumSeries();
  s.head_chunks = head_.NumChunks();
  s.head_memory_bytes = head_.MemoryBytes();
  s.head_chunk_bytes = head_.ChunkBytes();
  s.head_min_time = head_.MinTime();
  s.head_max_time = head_.MaxTime();
  std::shared_ptr<const BlockList> list = blocks();
  s.blocks = static_cast<int64_t>(list->size());
  for (const auto& b : *list) s.blocks_bytes += b->size_bytes();
  s.samples_appended = samples_appended_.load();
  if (wal_ != nullptr) {
    s.wal_fsyncs = wal_->fsyncs();
    s.wal_last_fsync_seconds = wal_->last_fsync_seconds();
  }
  return s;
}

void Db::Start() {
  if (started_) return;
  started_ = true;
  if (options_.fsync == FsyncPolicy::kInterval) {
    fsync_thread_ = std::thread([this] { FsyncLoop(); });
  }
  compaction_thread_ = std::thread([this] { CompactionLoop(); });
}

void Db::Stop() {
  if (!started_) return;
  started_ = false;
  stop_.Notify();
  if (fsync_thread_.joinable()) fsync_thread_.join();
  if (compaction_thread_.joinable()) compaction_thread_.join();
}

void Db::FsyncLoop() {
  while (!clock_->WaitFor(stop_, options_.fsync_interval)) {
    if (absl::Status s = wal_->Sync(); !s.ok()) LogWarn("WAL fsync failed", {{"err", s}});
  }
}

void Db::CompactionLoop() {
  absl::Status last;
  while (!clock_->WaitFor(stop_, options_.compaction_interval)) {
    absl::Status s = CompactOnce();
    if (!s.ok()) {
      ++compaction_failures_;
      if (s != last) LogWarn("compaction failed", {{"err", s}});
    } else if (!last.ok()) {
      LogInfo("compaction recovered", {});
    }
    last = s;
  }
}

}  // namespace sextant::tsdb
