#include "aggregator/tsdb/head.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "aggregator/tsdb/chunk.h"
#include "aggregator/tsdb/postings.h"

namespace sextant::tsdb {

namespace head_internal {
// Test hook: replaces prom::Labels::Hash() for the head's series map, so that tests can force
// hash collisions. Null = the real hash.
std::atomic<uint64_t (*)(const prom::Labels&)> labels_hash_for_testing{nullptr};
}  // namespace head_internal

namespace {

constexpr size_t kStripes = 4096;  // a power of two
constexpr int64_t kMallocOverhead = 16;

uint64_t HashOf(const prom::Labels& labels) {
  auto* hook = head_internal::labels_hash_for_testing.load(std::memory_order_relaxed);
  return hook != nullptr ? hook(labels) : labels.Hash();
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) --q;
  return q;
}

template <typename Map>
int64_t MapBytes(const Map& m) {
  if (m.capacity() == 0) return 0;
  return static_cast<int64_t>(m.capacity() * (sizeof(typename Map::value_type) + 1)) +
         kMallocOverhead;
}

void AtomicMin(std::atomic<int64_t>& a, int64_t v) {
  int64_t cur = a.load(std::memory_order_relaxed);
  while (v < cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

void AtomicMax(std::atomic<int64_t>& a, int64_t v) {
  int64_t cur = a.load(std::memory_order_relaxed);
  while (v > cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

// A copy of an open chunk for a query.
ChunkView CopyOf(const XorChunk& c) {
  const absl::string_view b = c.bytes();
  std::shared_ptr<char[]> data(new char[b.size()]);
  std::memcpy(data.get(), b.data(), b.size());
  const char* p = data.get();
  return ChunkView{c.min_time(), c.max_time(), absl::string_view(p, b.size()),
                   std::shared_ptr<const void>(std::move(data), p)};
}

// The completed chunks of a series, oldest first, in one immutable allocation shared with
// queries; sealing or dropping a chunk builds a new one (a few hundred bytes per 120 samples).
// Layout (host byte order; memory only, never written out):
//   n entries of {min_time int64, max_time int64, offset uint32, size uint32}
//   then the encoded XOR chunks, entry i at [offset, offset + size) from the start.
// Thread-compatible (the series' lock guards it).
class SealedChunks {
 public:
  uint32_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  int64_t min_time(uint32_t i) const { return Load<int64_t>(i * kEntry); }
  int64_t max_time(uint32_t i) const { return Load<int64_t>(i * kEntry + 8); }
  absl::string_view bytes(uint32_t i) const {
    return {data_.get() + Load<uint32_t>(i * kEntry + 16), Load<uint32_t>(i * kEntry + 20)};
  }
  ChunkView View(uint32_t i) const {
    return ChunkView{min_time(i), max_time(i), bytes(i),
                     std::shared_ptr<const void>(data_, data_.get())};
  }

  // Adds `c` as the newest chunk.
  void Add(const XorChunk& c) { Rebuild(0, &c); }
  // Drops the chunks whose samples are all before `mint`; returns how many.
  uint32_t DropBefore(int64_t mint) {
    uint32_t drop = 0;
    while (drop < n_ && max_time(drop) < mint) ++drop;
    if (drop > 0) Rebuild(drop, nullptr);
    return drop;
  }
  // The allocation: control block, entries, bytes, malloc's own.
  int64_t MemoryBytes() const { return data_ == nullptr ? 0 : 16 + alloc_ + 16; }

 private:
  static constexpr size_t kEntry = 24;

  template <typename T>
  T Load(size_t at) const {
    T v;
    std::memcpy(&v, data_.get() + at, sizeof(T));
    return v;
  }
  template <typename T>
  static void Store(char* p, size_t at, T v) {
    std::memcpy(p + at, &v, sizeof(T));
  }

  // Keeps chunks [from, n_) and appends `add` when non-null.
  void Rebuild(uint32_t from, const XorChunk* add) {
    const uint32_t n = n_ - from + (add != nullptr ? 1 : 0);
    if (n == 0) {
      data_.reset();
      n_ = 0;
      alloc_ = 0;
      return;
    }
    size_t total = n * kEntry;
    for (uint32_t i = from; i < n_; ++i) total += bytes(i).size();
    if (add != nullptr) total += add->bytes().size();
    std::shared_ptr<char[]> data(new char[total]);
    char* p = data.get();
    uint32_t offset = static_cast<uint32_t>(n * kEntry);
    uint32_t j = 0;
    auto put = [&](int64_t min_t, int64_t max_t, absl::string_view b) {
      Store(p, j * kEntry, min_t);
      Store(p, j * kEntry + 8, max_t);
      Store(p, j * kEntry + 16, offset);
      Store(p, j * kEntry + 20, static_cast<uint32_t>(b.size()));
      std::memcpy(p + offset, b.data(), b.size());
      offset += static_cast<uint32_t>(b.size());
      ++j;
    };
    for (uint32_t i = from; i < n_; ++i) put(min_time(i), max_time(i), bytes(i));
    if (add != nullptr) put(add->min_time(), add->max_time(), add->bytes());
    data_ = std::move(data);
    n_ = n;
    alloc_ = static_cast<uint32_t>(total);
  }

  std::shared_ptr<const char[]> data_;
  uint32_t n_ = 0;
  uint32_t alloc_ = 0;
};

// One series: its interned labels and its chunks. Labels are fixed at creation; the chunk fields
// are guarded by the lock of the stripe its ref falls on (Stripe::by_ref), which also keeps the
// series alive. A per-series mutex would cost 8 bytes and, with Debian's Abseil (deadlock
// detection on), a node in Abseil's lock graph per series.
struct MemSeries {
  MemSeries(SeriesRef r, std::unique_ptr<uint32_t[]> ids, uint32_t n, uint32_t gen)
      : ref(r), label_ids(std::move(ids)), num_labels(n), created_gen(gen) {}

  const SeriesRef ref;
  const std::unique_ptr<uint32_t[]> label_ids;  // name id, value id, ... in label order
  const uint32_t num_labels;
  const uint32_t created_gen;  // Head's truncation generation at creation

  SealedChunks sealed;
  XorChunk open;           // empty only while the series has no samples
  uint64_t last_bits = 0;  // bits of the newest value
  bool had_samples = false;
  // Whether the series' record is in the WAL; set by the commit that first logs it (commits are
  // serialized, readers hold the stripe lock shared, hence atomic).
  mutable std::atomic<bool> logged{false};

  bool Empty() const { return sealed.empty() && open.num_samples() == 0; }
};

// Series whose ref (by_ref) or hash (by_hash) falls on this stripe.
struct Stripe {
  mutable absl::Mutex mu;
  absl::flat_hash_map<SeriesRef, std::unique_ptr<MemSeries>> by_ref ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<uint64_t, MemSeries*> by_hash ABSL_GUARDED_BY(mu);
  // Further series whose hash by_hash already holds (real hash collisions).
  absl::flat_hash_map<uint64_t, std::vector<MemSeries*>> conflicts ABSL_GUARDED_BY(mu);
};

// The estimated heap bytes of an XorChunk's buffer, which grows by doubling from 15 bytes.
int64_t OpenChunkHeapBytes(const XorChunk& c) {
  const size_t size = c.bytes().size();
  if (size <= 15) return 0;
  size_t cap = 15;
  while (cap < size) cap *= 2;
  return static_cast<int64_t>(cap + 1) + kMallocOverhead;
}

}  // namespace

// Lock order: truncate_mu -> create_mu -> stripe -> index_mu, at most one stripe at a time.
struct Head::Impl {
  explicit Impl(const HeadOptions& o) : options(o), stripes(new Stripe[kStripes]) {}

  Stripe& ByRef(SeriesRef ref) const { return stripes[ref & (kStripes - 1)]; }
  Stripe& ByHash(uint64_t hash) const { return stripes[hash & (kStripes - 1)]; }

  // The series with this ref, or null; valid while `s.mu` is held.
  static MemSeries* FindRef(const Stripe& s, SeriesRef ref) ABSL_SHARED_LOCKS_REQUIRED(s.mu) {
    auto it = s.by_ref.find(ref);
    return it == s.by_ref.end() ? nullptr : it->second.get();
  }

  // A label string of a series the caller has locked (its stripe): no index lock needed, see
  // HeadSymbols::Get.
  absl::string_view LiveSymbol(uint32_t id) const ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return symbols.Get(id);
  }

  // Labels: prom::Labels, or a container of prom::LabelView without empty values.
  template <typename Labels>
  bool SameLabels(const MemSeries& m, const Labels& labels) const {
    if (m.num_labels != labels.size()) return false;
    size_t i = 0;
    for (const auto& label : labels) {
      if (LiveSymbol(m.label_ids[2 * i]) != label.name ||
          LiveSymbol(m.label_ids[2 * i + 1]) != label.value) {
        return false;
      }
      ++i;
    }
    return true;
  }

  // The series with these labels in its hash stripe `s`, or null; valid while `s.mu` is held.
  template <typename Labels>
  MemSeries* FindLabels(const Stripe& s, uint64_t hash, const Labels& labels) const
      ABSL_SHARED_LOCKS_REQUIRED(s.mu) {
    auto it = s.by_hash.find(hash);
    if (it == s.by_hash.end()) return nullptr;
    if (SameLabels(*it->second, labels)) return it->second;
    auto c = s.conflicts.find(hash);
    if (c == s.conflicts.end()) return nullptr;
    for (MemSeries* m : c->second) {
      if (SameLabels(*m, labels)) return m;
    }
    return nullptr;
  }

  // The ref of the series with these labels, or 0.
  template <typename Labels>
  SeriesRef Lookup(uint64_t hash, const Labels& labels, void** handle = nullptr) const {
    const Stripe& s = ByHash(hash);
    absl::ReaderMutexLock l(&s.mu);
    MemSeries* m = FindLabels(s, hash, labels);
    if (handle != nullptr) *handle = m;
    return m == nullptr ? 0 : m->ref;
  }

  // Lookup() for sorted, unique label views, skipping empty values as prom::Labels does.
  SeriesRef Find(uint64_t hash, const prom::LabelView* labels, size_t n,
                 void** handle = nullptr) const {
    absl::InlinedVector<prom::LabelView, 16> set;
    for (size_t i = 0; i < n; ++i) {
      if (!labels[i].value.empty()) set.push_back(labels[i]);
    }
    return Lookup(hash, set, handle);
  }

  prom::Labels LabelsOf(const MemSeries& m) const {
    std::vector<prom::Label> out;
    out.reserve(m.num_labels);
    absl::ReaderMutexLock l(&index_mu);
    for (uint32_t i = 0; i < m.num_labels; ++i) {
      out.push_back(prom::Label{std::string(symbols.Get(m.label_ids[2 * i])),
                                std::string(symbols.Get(m.label_ids[2 * i + 1]))});
    }
    return prom::Labels::FromSortedUnchecked(std::move(out));
  }

  bool RefInUse(SeriesRef ref) const {
    const Stripe& s = ByRef(ref);
    absl::ReaderMutexLock l(&s.mu);
    return FindRef(s, ref) != nullptr;
  }

  // Creates and indexes a series under a ref not in use.
  void Insert(SeriesRef ref, uint64_t hash, const prom::Labels& labels, bool logged = false)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(create_mu) {
    const uint32_t n = static_cast<uint32_t>(labels.size());
    auto ids = std::make_unique<uint32_t[]>(2 * n);
    {
      absl::MutexLock l(&index_mu);
      size_t i = 0;
      for (const prom::Label& label : labels) {
        ids[2 * i] = symbols.Intern(label.name);
        ids[2 * i + 1] = symbols.Intern(label.value);
        ++i;
      }
    }
    auto series =
        std::make_unique<MemSeries>(ref, std::move(ids), n, gen.load(std::memory_order_relaxed));
    series->logged.store(logged, std::memory_order_relaxed);
    MemSeries* m = series.get();
    {
      // By ref first: whoever finds the series by its labels finds its ref usable.
      Stripe& s = ByRef(ref);
      absl::MutexLock l(&s.mu);
      s.by_ref.emplace(ref, std::move(series));
    }
    {
      Stripe& s = ByHash(hash);
      absl::MutexLock l(&s.mu);
      auto [it, inserted] = s.by_hash.emplace(hash, m);
      if (!inserted) s.conflicts[hash].push_back(m);
    }
    {
      absl::MutexLock l(&index_mu);
      postings.Add(ref, m->label_ids.get(), n);
    }
    num_series.fetch_add(1, std::memory_order_relaxed);
  }

  // Appends a sample that passed validation, cutting the open chunk when due. False (nothing
  // appended) when `t` is not after the newest sample.
  bool AppendLocked(MemSeries& m, int64_t t, double v) {  // with m's ref stripe held
    if (m.open.num_samples() > 0) {
      if (t <= m.open.max_time()) return false;
      const int64_t range = options.chunk_range_ms;
      if (m.open.num_samples() >= XorChunk::kTargetSamples ||
          (range > 0 && FloorDiv(t, range) != FloorDiv(m.open.min_time(), range))) {
        m.sealed.Add(m.open);
        m.open = XorChunk();
      }
    }
    if (!m.open.Append(t, v).ok()) return false;  // cannot happen: cut at kTargetSamples
    if (m.open.num_samples() == 1) num_chunks.fetch_add(1, std::memory_order_relaxed);
    m.last_bits = std::bit_cast<uint64_t>(v);
    m.had_samples = true;
    return true;
  }

  // Whether (t, v) can follow the series' newest sample.
  AppendOutcome Check(bool has_newest, int64_t newest_t, uint64_t newest_bits, int64_t t,
                      double v) const {
    if (t < min_valid_time.load(std::memory_order_relaxed)) return AppendOutcome::kOutOfBounds;
    if (!has_newest || t > newest_t) return AppendOutcome::kOk;
    if (t < newest_t) return AppendOutcome::kOutOfOrder;
    return std::bit_cast<uint64_t>(v) == newest_bits ? AppendOutcome::kDuplicate
                                                     : AppendOutcome::kDuplicateDiffer;
  }

  const HeadOptions options;
  const std::unique_ptr<Stripe[]> stripes;

  // Serializes creating and deleting series (appends and queries never take it).
  absl::Mutex create_mu;
  SeriesRef next_ref ABSL_GUARDED_BY(create_mu) = 1;

  // Interned strings and postings.
  mutable absl::Mutex index_mu;
  HeadSymbols symbols ABSL_GUARDED_BY(index_mu);
  MemPostings postings ABSL_GUARDED_BY(index_mu);

  // Appliers share it; Truncate holds it alone, so that chunks and times it recomputes stay
  // exact.
  absl::Mutex truncate_mu;

  std::atomic<int64_t> num_series{0};
  std::atomic<int64_t> num_chunks{0};
  std::atomic<int64_t> min_time{kMaxTime};
  std::atomic<int64_t> max_time{kMinTime};
  std::atomic<int64_t> min_valid_time{kMinTime};
  // Truncate calls so far. A series that never had samples is removed only by a Truncate that
  // started after the one current at its creation, so that its first batch has time to land.
  std::atomic<uint32_t> gen{0};
};

Head::Head(const HeadOptions& options) : impl_(std::make_unique<Impl>(options)) {}
Head::~Head() = default;

SeriesRef Head::Find(uint64_t hash, const prom::LabelView* labels, size_t n, void** handle) const {
  return impl_->Find(hash, labels, n, handle);
}

uint32_t Head::Generation() const { return impl_->gen.load(std::memory_order_acquire); }

absl::StatusOr<SeriesRef> Head::GetOrCreate(const prom::Labels& labels, bool* created) {
  if (created != nullptr) *created = false;
  const uint64_t hash = HashOf(labels);
  if (SeriesRef ref = impl_->Lookup(hash, labels); ref != 0) return ref;
  absl::MutexLock l(&impl_->create_mu);
  if (SeriesRef ref = impl_->Lookup(hash, labels); ref != 0) return ref;
  const int64_t max = impl_->options.max_active_series;
  if (max > 0 && impl_->num_series.load(std::memory_order_relaxed) >= max) {
    return absl::ResourceExhaustedError(absl::StrCat("head: active series limit of ", max,
                                                     " reached; not creating ", labels.ToString()));
  }
  const SeriesRef ref = impl_->next_ref++;
  impl_->Insert(ref, hash, labels);
  if (created != nullptr) *created = true;
  return ref;
}

SeriesRef Head::CreateWithRef(SeriesRef ref, const prom::Labels& labels) {
  const uint64_t hash = HashOf(labels);
  absl::MutexLock l(&impl_->create_mu);
  if (SeriesRef existing = impl_->Lookup(hash, labels); existing != 0) return existing;
  if (ref == 0 || impl_->RefInUse(ref)) ref = impl_->next_ref;  // a corrupt log; stay unique
  impl_->next_ref = std::max(impl_->next_ref, ref + 1);
  impl_->Insert(ref, hash, labels, /*logged=*/true);
  return ref;
}

void Head::Validate(std::vector<PendingSample>& batch, RejectCounts* rejected,
                    std::vector<SeriesRef>* unlogged, std::vector<void*>* handles) const {
  struct Newest {
    bool exists = false;
    bool has = false;
    int64_t t = 0;
    uint64_t bits = 0;
    MemSeries* series = nullptr;
  };
  if (handles != nullptr) handles->clear();
  absl::flat_hash_map<SeriesRef, Newest> newest;
  newest.reserve(batch.size());
  size_t kept = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const PendingSample& s = batch[i];
    auto [it, inserted] = newest.try_emplace(s.ref);
    Newest& n = it->second;
    if (inserted) {
      const Stripe& stripe = impl_->ByRef(s.ref);
      absl::ReaderMutexLock l(&stripe.mu);
      MemSeries* m =
          s.handle != nullptr ? static_cast<MemSeries*>(s.handle) : Impl::FindRef(stripe, s.ref);
      if (m != nullptr) {
        n.series = m;
        if (unlogged != nullptr && !m->logged.load(std::memory_order_relaxed)) {
          m->logged.store(true, std::memory_order_relaxed);
          unlogged->push_back(s.ref);
        }
        n.exists = true;
        n.has = m->open.num_samples() > 0;
        n.t = m->open.max_time();
        n.bits = m->last_bits;
      }
    }
    AppendOutcome outcome = AppendOutcome::kUnknownSeries;
    if (n.exists) outcome = impl_->Check(n.has, n.t, n.bits, s.t, s.v);
    switch (outcome) {
      case AppendOutcome::kOk:
        n.has = true;
        n.t = s.t;
        n.bits = std::bit_cast<uint64_t>(s.v);
        batch[kept++] = s;
        if (handles != nullptr) handles->push_back(n.series);
        break;
      case AppendOutcome::kDuplicate:
        break;
      case AppendOutcome::kOutOfOrder:
        if (rejected != nullptr) ++rejected->out_of_order;
        break;
      case AppendOutcome::kDuplicateDiffer:
        if (rejected != nullptr) ++rejected->duplicate_differ;
        break;
      case AppendOutcome::kOutOfBounds:
        if (rejected != nullptr) ++rejected->out_of_bounds;
        break;
      case AppendOutcome::kUnknownSeries:
        if (rejected != nullptr) ++rejected->unknown_series;
        break;
    }
  }
  batch.resize(kept);
}

void Head::Apply(const std::vector<PendingSample>& batch, const std::vector<void*>* handles) {
  absl::ReaderMutexLock tl(&impl_->truncate_mu);
  int64_t min_t = kMaxTime;
  int64_t max_t = kMinTime;
  const bool use_handles = handles != nullptr && handles->size() == batch.size();
  for (size_t i = 0; i < batch.size(); ++i) {
    const PendingSample& s = batch[i];
    Stripe& stripe = impl_->ByRef(s.ref);
    absl::MutexLock l(&stripe.mu);
    MemSeries* m =
        use_handles ? static_cast<MemSeries*>((*handles)[i]) : Impl::FindRef(stripe, s.ref);
    if (m == nullptr) continue;
    if (impl_->AppendLocked(*m, s.t, s.v)) {
      min_t = std::min(min_t, s.t);
      max_t = std::max(max_t, s.t);
    }
  }
  if (min_t <= max_t) {
    AtomicMin(impl_->min_time, min_t);
    AtomicMax(impl_->max_time, max_t);
  }
}

AppendOutcome Head::Append(SeriesRef ref, int64_t t, double v) {
  absl::ReaderMutexLock tl(&impl_->truncate_mu);
  Stripe& stripe = impl_->ByRef(ref);
  absl::MutexLock l(&stripe.mu);
  MemSeries* m = Impl::FindRef(stripe, ref);
  if (m == nullptr) return AppendOutcome::kUnknownSeries;
  const AppendOutcome outcome =
      impl_->Check(m->open.num_samples() > 0, m->open.max_time(), m->last_bits, t, v);
  if (outcome != AppendOutcome::kOk) return outcome;
  impl_->AppendLocked(*m, t, v);
  AtomicMin(impl_->min_time, t);
  AtomicMax(impl_->max_time, t);
  return outcome;
}

std::vector<SeriesChunks> Head::Select(const std::vector<prom::Matcher>& matchers, int64_t mint,
                                       int64_t maxt) const {
  std::vector<SeriesRef> refs;
  {
    absl::ReaderMutexLock l(&impl_->index_mu);
    refs = impl_->postings.Select(matchers, impl_->symbols);
  }
  std::vector<SeriesChunks> out;
  for (SeriesRef ref : refs) {
    const Stripe& stripe = impl_->ByRef(ref);
    absl::ReaderMutexLock l(&stripe.mu);
    const MemSeries* m = Impl::FindRef(stripe, ref);
    if (m == nullptr) continue;
    SeriesChunks sc;
    for (uint32_t i = 0; i < m->sealed.size(); ++i) {
      if (m->sealed.min_time(i) <= maxt && m->sealed.max_time(i) >= mint) {
        sc.chunks.push_back(m->sealed.View(i));
      }
    }
    if (m->open.num_samples() > 0 && m->open.min_time() <= maxt && m->open.max_time() >= mint) {
      sc.chunks.push_back(CopyOf(m->open));  // a copy: the open chunk grows
    }
    if (sc.chunks.empty()) continue;
    sc.labels = impl_->LabelsOf(*m);
    out.push_back(std::move(sc));
  }
  std::sort(out.begin(), out.end(),
            [](const SeriesChunks& a, const SeriesChunks& b) { return a.labels < b.labels; });
  return out;
}

std::vector<std::string> Head::LabelNames(const std::vector<prom::Matcher>& matchers) const {
  absl::ReaderMutexLock l(&impl_->index_mu);
  if (matchers.empty()) return impl_->postings.Names(nullptr, impl_->symbols);
  const std::vector<SeriesRef> refs = impl_->postings.Select(matchers, impl_->symbols);
  return impl_->postings.Names(&refs, impl_->symbols);
}

std::vector<std::string> Head::LabelValues(absl::string_view name,
                                           const std::vector<prom::Matcher>& matchers) const {
  absl::ReaderMutexLock l(&impl_->index_mu);
  if (matchers.empty()) return impl_->postings.Values(name, nullptr, impl_->symbols);
  const std::vector<SeriesRef> refs = impl_->postings.Select(matchers, impl_->symbols);
  return impl_->postings.Values(name, &refs, impl_->symbols);
}

void Head::Truncate(int64_t mint) {
  Impl& h = *impl_;
  absl::MutexLock tl(&h.truncate_mu);
  absl::MutexLock cl(&h.create_mu);
  AtomicMax(h.min_valid_time, mint);
  const uint32_t gen = h.gen.fetch_add(1, std::memory_order_relaxed);

  // Drop old chunks; note the series left empty and the times of what remains.
  struct Victim {
    SeriesRef ref;
    uint64_t hash;
  };
  std::vector<Victim> victims;
  int64_t min_t = kMaxTime;
  int64_t max_t = kMinTime;
  int64_t dropped = 0;
  for (size_t i = 0; i < kStripes; ++i) {
    Stripe& s = h.stripes[i];
    absl::MutexLock l(&s.mu);
    for (const auto& [ref, series] : s.by_ref) {
      MemSeries& m = *series;
      dropped += m.sealed.DropBefore(mint);
      if (m.open.num_samples() > 0 && m.open.max_time() < mint) {
        m.open = XorChunk();
        ++dropped;
      }
      if (m.Empty()) {
        if (m.had_samples || m.created_gen < gen) victims.push_back({m.ref, HashOf(h.LabelsOf(m))});
        continue;
      }
      min_t = std::min(min_t, m.sealed.empty() ? m.open.min_time() : m.sealed.min_time(0));
      max_t = std::max(max_t, m.open.num_samples() > 0 ? m.open.max_time()
                                                       : m.sealed.max_time(m.sealed.size() - 1));
    }
  }
  h.num_chunks.fetch_sub(dropped, std::memory_order_relaxed);
  h.min_time.store(min_t, std::memory_order_relaxed);
  h.max_time.store(max_t, std::memory_order_relaxed);

  // Remove the empty series: from the ref map (checking again, under the lock, that they are
  // empty), then from the hash map, then from the index.
  std::vector<SeriesRef> removed;
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  std::vector<uint32_t> ids;
  for (const Victim& v : victims) {
    std::unique_ptr<MemSeries> owned;
    {
      Stripe& s = h.ByRef(v.ref);
      absl::MutexLock l(&s.mu);
      auto it = s.by_ref.find(v.ref);
      if (it == s.by_ref.end()) continue;
      if (!it->second->Empty()) continue;
      owned = std::move(it->second);
      s.by_ref.erase(it);
    }
    {
      Stripe& s = h.ByHash(v.hash);
      absl::MutexLock l(&s.mu);
      MemSeries* m = owned.get();
      auto c = s.conflicts.find(v.hash);
      auto it = s.by_hash.find(v.hash);
      if (it != s.by_hash.end() && it->second == m) {
        if (c == s.conflicts.end()) {
          s.by_hash.erase(it);
        } else {
          it->second = c->second.back();
          c->second.pop_back();
        }
      } else if (c != s.conflicts.end()) {
        c->second.erase(std::remove(c->second.begin(), c->second.end(), m), c->second.end());
      }
      if (c != s.conflicts.end() && c->second.empty()) s.conflicts.erase(c);
    }
    removed.push_back(v.ref);
    for (uint32_t i = 0; i < owned->num_labels; ++i) {
      pairs.emplace_back(owned->label_ids[2 * i], owned->label_ids[2 * i + 1]);
      ids.push_back(owned->label_ids[2 * i]);
      ids.push_back(owned->label_ids[2 * i + 1]);
    }
  }
  if (removed.empty()) return;
  std::sort(removed.begin(), removed.end());
  absl::MutexLock l(&h.index_mu);
  h.postings.Delete(removed, pairs);
  for (uint32_t id : ids) h.symbols.Release(id);
  h.num_series.fetch_sub(static_cast<int64_t>(removed.size()), std::memory_order_relaxed);
}

bool Head::HasSeries(SeriesRef ref) const { return impl_->RefInUse(ref); }

absl::StatusOr<prom::Labels> Head::SeriesLabels(SeriesRef ref) const {
  const Stripe& s = impl_->ByRef(ref);
  absl::ReaderMutexLock l(&s.mu);
  const MemSeries* m = Impl::FindRef(s, ref);
  if (m == nullptr) return absl::NotFoundError(absl::StrCat("head: no series with ref ", ref));
  return impl_->LabelsOf(*m);
}

int64_t Head::MinTime() const { return impl_->min_time.load(std::memory_order_relaxed); }
int64_t Head::MaxTime() const { return impl_->max_time.load(std::memory_order_relaxed); }
int64_t Head::MinValidTime() const { return impl_->min_valid_time.load(std::memory_order_relaxed); }
int64_t Head::NumSeries() const { return impl_->num_series.load(std::memory_order_relaxed); }
int64_t Head::NumChunks() const { return impl_->num_chunks.load(std::memory_order_relaxed); }

int64_t Head::ChunkBytes() const {
  int64_t bytes = 0;
  for (size_t i = 0; i < kStripes; ++i) {
    const Stripe& s = impl_->stripes[i];
    absl::ReaderMutexLock l(&s.mu);
    for (const auto& [ref, series] : s.by_ref) {
      const MemSeries& m = *series;
      for (uint32_t c = 0; c < m.sealed.size(); ++c) {
        bytes += static_cast<int64_t>(m.sealed.bytes(c).size());
      }
      if (m.open.num_samples() > 0) bytes += static_cast<int64_t>(m.open.bytes().size());
    }
  }
  return bytes;
}

int64_t Head::MemoryBytes() const {
  int64_t bytes = static_cast<int64_t>(sizeof(Impl) + kStripes * sizeof(Stripe));
  for (size_t i = 0; i < kStripes; ++i) {
    const Stripe& s = impl_->stripes[i];
    absl::ReaderMutexLock l(&s.mu);
    bytes += MapBytes(s.by_ref) + MapBytes(s.by_hash) + MapBytes(s.conflicts);
    for (const auto& [hash, list] : s.conflicts) {
      bytes += static_cast<int64_t>(list.capacity() * sizeof(MemSeries*)) + kMallocOverhead;
    }
    for (const auto& [ref, series] : s.by_ref) {
      const MemSeries& m = *series;
      bytes += static_cast<int64_t>(sizeof(MemSeries)) + kMallocOverhead;
      bytes += static_cast<int64_t>(m.num_labels * 2 * sizeof(uint32_t)) + kMallocOverhead;
      bytes += m.sealed.MemoryBytes();
      bytes += OpenChunkHeapBytes(m.open);
    }
  }
  absl::ReaderMutexLock l(&impl_->index_mu);
  return bytes + impl_->symbols.MemoryBytes() + impl_->postings.MemoryBytes();
}

}  // namespace sextant::tsdb
