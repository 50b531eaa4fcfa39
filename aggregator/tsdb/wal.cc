// WAL format (Prometheus's wlog layout, our code):
//
//   <dir>/00000000, 00000001, ...   segments, %08d, written in order, never appended to once
//                                   a later one exists; at most segment_bytes each unless one
//                                   record alone is larger (a record never spans segments).
//   <dir>/checkpoint.%08d/          a directory of segments in the same format (see below).
//
// A segment is a sequence of 32 KiB pages; the last page may be short (the file simply ends).
// A record is cut into fragments so that no fragment crosses a page boundary:
//
//   fragment: type (1 byte) | length (be16) | CRC-32C of the data (be32) | data (length bytes)
//   type:     1 full record, 2 first, 3 middle, 4 last fragment of a record, plus 0x08 on
//             every fragment of a record whose data is snappy-compressed (block format);
//             0 padding: the rest of the page is zero (written where fewer than 8 bytes are
//             left in a page; a zero-filled tail of a file reads as padding too).
//
// Reading stops at the first damage (bad CRC, a fragment out of sequence or past the page, an
// unknown type, non-zero padding, a file that ends inside a record); see ReadWal in wal.h.
#include "aggregator/tsdb/wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "aggregator/tsdb/crc32c.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "snappy.h"

namespace sextant::tsdb {
namespace {

constexpr int64_t kPageSize = 32 * 1024;
constexpr int64_t kHeaderSize = 7;
constexpr size_t kReadChunk = 32 * kPageSize;  // 1 MiB, a whole number of pages
constexpr absl::string_view kCheckpointPrefix = "checkpoint.";

enum FragmentType : uint8_t { kPadding = 0, kFull = 1, kFirst = 2, kMiddle = 3, kLast = 4 };
constexpr uint8_t kSnappyFlag = 0x08;
// A decompressed record larger than this is damage, not a reason to allocate.
constexpr size_t kMaxRecordBytes = size_t{1} << 30;

std::string SegmentName(const std::string& dir, int n) {
  return absl::StrFormat("%s/%08d", dir, n);
}

absl::Status ErrnoError(absl::string_view what, const std::string& path, int err) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(err)));
}

// Parses a name made only of digits into a non-negative int.
std::optional<int> ParseNumber(absl::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int n = 0;
  if (!absl::SimpleAtoi(s, &n)) return std::nullopt;
  return n;
}

absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr && errno == ENOENT) return std::vector<std::string>();  // nothing there
  if (d == nullptr) return ErrnoError("open directory", dir, errno);
  std::vector<std::string> names;
  while (struct dirent* e = readdir(d)) names.emplace_back(e->d_name);
  closedir(d);
  return names;
}

absl::Status FsyncPath(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open for fsync", path, errno);
  const int rc = fsync(fd);
  const int err = errno;
  close(fd);
  if (rc != 0) return ErrnoError("fsync", path, err);
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

void PutBe16(uint16_t v, char* p) {
  p[0] = static_cast<char>(v >> 8);
  p[1] = static_cast<char>(v);
}

void PutBe32(uint32_t v, char* p) {
  for (int i = 3; i >= 0; --i) {
    p[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

// Bytes a record of `len` bytes takes when it starts at `page_offset` in a page, padding
// included.
int64_t EncodedSize(int64_t len, int64_t page_offset) {
  int64_t size = 0;
  bool first = true;
  while (first || len > 0) {
    const int64_t left = kPageSize - page_offset;
    if (left <= kHeaderSize) {
      size += left;
      page_offset = 0;
      continue;
    }
    const int64_t n = std::min(len, left - kHeaderSize);
    size += kHeaderSize + n;
    page_offset = (page_offset + kHeaderSize + n) % kPageSize;
    len -= n;
    first = false;
  }
  return size;
}

// One open segment file, shared with a concurrent fsync so that rotation may move on.
struct SegmentFile {
  SegmentFile(int fd, std::string path) : fd(fd), path(std::move(path)) {}
  ~SegmentFile() { close(fd); }
  SegmentFile(const SegmentFile&) = delete;
  SegmentFile& operator=(const SegmentFile&) = delete;
  const int fd;
  const std::string path;
};

}  // namespace

struct Wal::State {
  WalOptions options;
  std::atomic<double> last_fsync_seconds{0};
  std::atomic<int64_t> fsyncs{0};

  // Serializes fsyncs (held across fdatasync; never while waiting for mu).
  absl::Mutex sync_mu ABSL_ACQUIRED_BEFORE(mu);
  absl::Mutex mu;
  absl::Status failed ABSL_GUARDED_BY(mu);
  std::shared_ptr<SegmentFile> file ABSL_GUARDED_BY(mu);
  int first ABSL_GUARDED_BY(mu) = 0;
  int current ABSL_GUARDED_BY(mu) = 0;
  int64_t segment_size ABSL_GUARDED_BY(mu) = 0;  // bytes in the current segment
  std::string buf ABSL_GUARDED_BY(mu);           // the batch being encoded
  std::string compressed ABSL_GUARDED_BY(mu);    // scratch for one compressed record
  uint64_t written_seq ABSL_GUARDED_BY(mu) = 0;  // batches written
  uint64_t synced_seq ABSL_GUARDED_BY(mu) = 0;   // batches known fsynced

  absl::Status Fdatasync(const SegmentFile& f) {
    const absl::Time start = absl::Now();
    const int rc = fdatasync(f.fd);
    const int err = errno;
    last_fsync_seconds.store(absl::ToDoubleSeconds(absl::Now() - start));
    fsyncs.fetch_add(1);
    if (rc != 0) return ErrnoError("fdatasync", f.path, err);
    return absl::OkStatus();
  }

  // Creates segment `n` and makes it current (the previous one is closed once no fsync holds
  // it).
  absl::Status CreateSegment(int n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const std::string path = SegmentName(options.dir, n);
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoError("create segment", path, errno);
    file = std::make_shared<SegmentFile>(fd, path);
    current = n;
    segment_size = 0;
    if (options.fsync != FsyncPolicy::kNever) return FsyncPath(options.dir);
    return absl::OkStatus();
  }

  // Writes out `buf`, then closes the current segment (fsynced unless kNever) and starts the
  // next.
  absl::Status Rotate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    SEXTANT_RETURN_IF_ERROR(WriteAll(file->fd, buf, file->path));
    buf.clear();
    if (options.fsync != FsyncPolicy::kNever) {
      SEXTANT_RETURN_IF_ERROR(Fdatasync(*file));
      synced_seq = written_seq;  // every finished batch is in this or earlier, synced segments
    }
    return CreateSegment(current + 1);
  }

  // Appends the fragments of `rec` to `buf`.
  void Encode(absl::string_view rec) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    uint8_t flags = 0;
    if (options.compress && !rec.empty()) {
      compressed.resize(snappy::MaxCompressedLength(rec.size()));
      size_t n = 0;
      snappy::RawCompress(rec.data(), rec.size(), compressed.data(), &n);
      if (n < rec.size()) {
        rec = absl::string_view(compressed.data(), n);
        flags = kSnappyFlag;
      }
    }
    bool first_fragment = true;
    while (first_fragment || !rec.empty()) {
      const int64_t offset = segment_size % kPageSize;
      const int64_t left = kPageSize - offset;
      if (left <= kHeaderSize) {
        buf.append(static_cast<size_t>(left), '\0');
        segment_size += left;
        continue;
      }
      const size_t n = static_cast<size_t>(std::min<int64_t>(rec.size(), left - kHeaderSize));
      const bool last_fragment = n == rec.size();
      uint8_t type = kMiddle;
      if (first_fragment && last_fragment) {
        type = kFull;
      } else if (first_fragment) {
        type = kFirst;
      } else if (last_fragment) {
        type = kLast;
      }
      char header[kHeaderSize];
      header[0] = static_cast<char>(type | flags);
      PutBe16(static_cast<uint16_t>(n), header + 1);
      PutBe32(Crc32c(rec.substr(0, n)), header + 3);
      buf.append(header, kHeaderSize);
      buf.append(rec.data(), n);
      segment_size += kHeaderSize + static_cast<int64_t>(n);
      rec.remove_prefix(n);
      first_fragment = false;
    }
  }

  // fsyncs the current segment unless batch `seq` is already known synced.
  absl::Status SyncThrough(uint64_t seq) ABSL_LOCKS_EXCLUDED(mu, sync_mu) {
    absl::MutexLock sync_lock(&sync_mu);
    std::shared_ptr<SegmentFile> f;
    uint64_t target;
    {
      absl::MutexLock lock(&mu);
      if (synced_seq >= seq) return absl::OkStatus();  // another caller's fsync covered it
      if (!failed.ok()) return failed;
      f = file;
      target = written_seq;
    }
    absl::Status status = Fdatasync(*f);
    absl::MutexLock lock(&mu);
    if (!status.ok()) {
      failed = status;
      return status;
    }
    synced_seq = std::max(synced_seq, target);
    return absl::OkStatus();
  }
};

absl::StatusOr<std::unique_ptr<Wal>> Wal::Open(const WalOptions& options) {
  if (options.dir.empty()) return absl::InvalidArgumentError("wal: no directory given");
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("create directory ", options.dir, ": ", ec.message()));
  }
  SEXTANT_ASSIGN_OR_RETURN(std::vector<int> segments, ListSegments(options.dir));
  int next = segments.empty() ? 0 : segments.back() + 1;
  absl::StatusOr<std::pair<std::string, int>> checkpoint = LastCheckpoint(options.dir);
  if (checkpoint.ok()) {
    next = std::max(next, checkpoint->second + 1);
  } else if (!absl::IsNotFound(checkpoint.status())) {
    return checkpoint.status();
  }
  std::unique_ptr<Wal> wal(new Wal());
  wal->state_ = std::make_unique<State>();
  State& s = *wal->state_;
  s.options = options;
  absl::MutexLock lock(&s.mu);
  s.first = segments.empty() ? next : segments.front();
  SEXTANT_RETURN_IF_ERROR(s.CreateSegment(next));
  return wal;
}

Wal::~Wal() {
  if (state_ == nullptr || state_->options.fsync == FsyncPolicy::kNever) return;
  absl::Status status = Sync();
  if (!status.ok()) LogWarn("wal: fsync on close failed", {{"err", status}});
}

absl::Status Wal::Log(const std::vector<absl::string_view>& records) {
  SEXTANT_ASSIGN_OR_RETURN(const uint64_t seq, Write(records));
  if (state_->options.fsync == FsyncPolicy::kAlways) return state_->SyncThrough(seq);
  return absl::OkStatus();
}

absl::Status Wal::SyncThrough(uint64_t seq) { return state_->SyncThrough(seq); }

absl::StatusOr<uint64_t> Wal::Write(const std::vector<absl::string_view>& records) {
  State& s = *state_;
  uint64_t seq;
  if (records.empty()) {
    absl::MutexLock lock(&s.mu);
    return s.written_seq;
  }
  {
    absl::MutexLock lock(&s.mu);
    if (!s.failed.ok()) return s.failed;
    s.buf.clear();
    for (absl::string_view rec : records) {
      const int64_t size =
          EncodedSize(static_cast<int64_t>(rec.size()), s.segment_size % kPageSize);
      if (s.segment_size > 0 && s.segment_size + size > s.options.segment_bytes) {
        if (absl::Status status = s.Rotate(); !status.ok()) {
          s.failed = status;
          return status;
        }
      }
      s.Encode(rec);
    }
    if (absl::Status status = WriteAll(s.file->fd, s.buf, s.file->path); !status.ok()) {
      s.failed = status;
      return status;
    }
    if (s.buf.capacity() > size_t{16} << 20) s.buf = std::string();  // don't keep a huge one
    seq = ++s.written_seq;
  }
  return seq;
}

absl::Status Wal::Sync() {
  uint64_t seq;
  {
    absl::MutexLock lock(&state_->mu);
    seq = state_->written_seq;
  }
  return state_->SyncThrough(seq);
}

absl::StatusOr<int> Wal::NextSegment() {
  State& s = *state_;
  absl::MutexLock lock(&s.mu);
  if (!s.failed.ok()) return s.failed;
  s.buf.clear();
  if (absl::Status status = s.Rotate(); !status.ok()) {
    s.failed = status;
    return status;
  }
  return s.current;
}

absl::Status Wal::DeleteSegmentsBefore(int segment) {
  State& s = *state_;
  int current;
  {
    absl::MutexLock lock(&s.mu);
    current = s.current;
  }
  segment = std::min(segment, current);  // never the segment being written
  SEXTANT_ASSIGN_OR_RETURN(std::vector<int> segments, ListSegments(s.options.dir));
  absl::Status result;
  int first = current;
  for (int n : segments) {
    if (n >= segment) {
      first = std::min(first, n);
      continue;
    }
    const std::string path = SegmentName(s.options.dir, n);
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      result.Update(ErrnoError("delete segment", path, errno));
      first = std::min(first, n);
    }
  }
  absl::MutexLock lock(&s.mu);
  s.first = first;
  return result;
}

int Wal::first_segment() const {
  absl::MutexLock lock(&state_->mu);
  return state_->first;
}

int Wal::last_segment() const {
  absl::MutexLock lock(&state_->mu);
  return state_->current;
}

double Wal::last_fsync_seconds() const { return state_->last_fsync_seconds.load(); }
int64_t Wal::fsyncs() const { return state_->fsyncs.load(); }
const std::string& Wal::dir() const { return state_->options.dir; }

absl::StatusOr<std::vector<int>> ListSegments(const std::string& dir) {
  SEXTANT_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  std::vector<int> segments;
  for (const std::string& name : names) {
    if (std::optional<int> n = ParseNumber(name)) segments.push_back(*n);
  }
  std::sort(segments.begin(), segments.end());
  return segments;
}

namespace {

// Reads the records of one segment file, page by page, reassembling fragments. Reuses its
// buffers across segments.
class SegmentReader {
 public:
  SegmentReader() : chunk_(new char[kReadChunk]) {}

  // OK at a clean end of the file; DataLoss with *corruption filled at damage; fn's error as is.
  absl::Status Read(const std::string& path, int segment,
                    const std::function<absl::Status(absl::string_view)>& fn,
                    WalCorruption* corruption) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError("open segment", path, errno);
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    absl::Status status = ReadFd(fd, path, segment, fn, corruption);
    close(fd);
    return status;
  }

 private:
  absl::Status ReadFd(int fd, const std::string& path, int segment,
                      const std::function<absl::Status(absl::string_view)>& fn,
                      WalCorruption* corruption) {
    record_.clear();
    bool in_record = false;
    bool record_compressed = false;
    int64_t record_start = 0;  // file offset of the record being reassembled
    int64_t file_offset = 0;   // of chunk_[0]
    auto damage = [&](int64_t offset, absl::string_view reason) {
      if (in_record) offset = record_start;
      if (corruption != nullptr) *corruption = WalCorruption{segment, offset, std::string(reason)};
      return absl::DataLossError(
          absl::StrCat("wal segment ", path, " damaged at offset ", offset, ": ", reason));
    };
    while (true) {
      size_t n = 0;
      while (n < kReadChunk) {
        const ssize_t r = read(fd, chunk_.get() + n, kReadChunk - n);
        if (r < 0) {
          if (errno == EINTR) continue;
          return ErrnoError("read segment", path, errno);
        }
        if (r == 0) break;
        n += static_cast<size_t>(r);
      }
      if (n == 0) break;
      for (size_t page = 0; page < n; page += kPageSize) {
        const char* p = chunk_.get() + page;
        const size_t page_len = std::min<size_t>(kPageSize, n - page);
        const int64_t page_offset = file_offset + static_cast<int64_t>(page);
        size_t pos = 0;
        while (pos < page_len) {
          const uint8_t raw_type = static_cast<uint8_t>(p[pos]);
          const uint8_t type = raw_type & ~kSnappyFlag;
          const bool snappy_flag = (raw_type & kSnappyFlag) != 0;
          if (raw_type == kPadding) {
            for (size_t i = pos; i < page_len; ++i) {
              if (p[i] != 0) {
                return damage(page_offset + static_cast<int64_t>(pos), "non-zero page padding");
              }
            }
            break;
          }
          const int64_t frag_offset = page_offset + static_cast<int64_t>(pos);
          if (page_len - pos < kHeaderSize) {
            return damage(frag_offset, page_len < kPageSize ? "torn fragment header"
                                                            : "fragment header crosses page");
          }
          const auto* h = reinterpret_cast<const uint8_t*>(p + pos);
          const size_t len = (size_t{h[1]} << 8) | h[2];
          const uint32_t crc = (uint32_t{h[3]} << 24) | (uint32_t{h[4]} << 16) |
                               (uint32_t{h[5]} << 8) | uint32_t{h[6]};
          if (type > kLast || type == kPadding) {
            return damage(frag_offset, "unknown fragment type");
          }
          if (len > page_len - pos - kHeaderSize) {
            return damage(frag_offset,
                          page_len < kPageSize ? "torn record" : "fragment crosses page");
          }
          const absl::string_view data(p + pos + kHeaderSize, len);
          if ((type == kFull || type == kFirst) == in_record) {
            return damage(frag_offset, "fragment out of sequence");
          }
          if (Crc32c(data) != crc) return damage(frag_offset, "crc mismatch");
          if (in_record && snappy_flag != record_compressed) {
            return damage(frag_offset, "fragment compression flag differs from its record's");
          }
          pos += kHeaderSize + len;
          // Hands a whole record to fn, decompressing it first when flagged.
          auto deliver = [&](absl::string_view rec, bool compressed,
                             int64_t start) -> absl::Status {
            if (!compressed) return fn(rec);
            size_t size = 0;
            if (!snappy::GetUncompressedLength(rec.data(), rec.size(), &size) ||
                size > kMaxRecordBytes) {
              in_record = false;
              return damage(start, "bad compressed record");
            }
            plain_.resize(size);
            if (!snappy::RawUncompress(rec.data(), rec.size(), plain_.data())) {
              in_record = false;
              return damage(start, "bad compressed record");
            }
            return fn(plain_);
          };
          switch (type) {
            case kFull:
              SEXTANT_RETURN_IF_ERROR(deliver(data, snappy_flag, frag_offset));
              break;
            case kFirst:
              in_record = true;
              record_compressed = snappy_flag;
              record_start = frag_offset;
              record_.assign(data.data(), data.size());
              break;
            case kMiddle:
              record_.append(data.data(), data.size());
              break;
            case kLast:
              record_.append(data.data(), data.size());
              in_record = false;
              SEXTANT_RETURN_IF_ERROR(deliver(record_, record_compressed, record_start));
              break;
          }
        }
      }
      file_offset += static_cast<int64_t>(n);
      if (n < kReadChunk) break;
    }
    if (in_record) return damage(record_start, "torn record");
    return absl::OkStatus();
  }

  std::unique_ptr<char[]> chunk_;
  std::string record_;
  std::string plain_;  // a decompressed record
};

}  // namespace

absl::Status ReadWal(const std::string& dir, int from, int to,
                     const std::function<absl::Status(absl::string_view)>& fn,
                     WalCorruption* corruption) {
  SEXTANT_ASSIGN_OR_RETURN(std::vector<int> segments, ListSegments(dir));
  SegmentReader reader;
  int previous = -1;
  for (int n : segments) {
    if (n < from || (to >= 0 && n > to)) continue;
    if (previous >= 0 && n != previous + 1) {
      if (corruption != nullptr) {
        *corruption = WalCorruption{n, 0, absl::StrCat("missing segment ", previous + 1)};
      }
      return absl::DataLossError(
          absl::StrCat("wal ", dir, ": segment ", previous + 1, " missing before ", n));
    }
    previous = n;
    SEXTANT_RETURN_IF_ERROR(reader.Read(SegmentName(dir, n), n, fn, corruption));
  }
  return absl::OkStatus();
}

absl::Status RepairWal(const std::string& dir, const WalCorruption& corruption) {
  const std::string path = SegmentName(dir, corruption.segment);
  if (corruption.offset == 0) {
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoError("delete segment", path, errno);
    }
  } else if (truncate(path.c_str(), corruption.offset) != 0) {
    return ErrnoError("truncate segment", path, errno);
  } else {
    SEXTANT_RETURN_IF_ERROR(FsyncPath(path));
  }
  SEXTANT_ASSIGN_OR_RETURN(std::vector<int> segments, ListSegments(dir));
  int deleted = 0;
  for (int n : segments) {
    if (n <= corruption.segment) continue;
    const std::string later = SegmentName(dir, n);
    if (unlink(later.c_str()) != 0 && errno != ENOENT) {
      return ErrnoError("delete segment", later, errno);
    }
    ++deleted;
  }
  SEXTANT_RETURN_IF_ERROR(FsyncPath(dir));
  LogWarn("wal repaired: cut at damage", {{"dir", dir},
                                          {"segment", corruption.segment},
                                          {"offset", corruption.offset},
                                          {"reason", corruption.reason},
                                          {"later_segments_deleted", deleted}});
  return absl::OkStatus();
}

absl::StatusOr<std::pair<std::string, int>> LastCheckpoint(const std::string& dir) {
  SEXTANT_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  int best = -1;
  for (const std::string& name : names) {
    absl::string_view rest = name;
    if (!absl::ConsumePrefix(&rest, kCheckpointPrefix)) continue;
    if (std::optional<int> n = ParseNumber(rest); n && *n > best) best = *n;
  }
  if (best < 0) return absl::NotFoundError(absl::StrCat("no checkpoint in ", dir));
  return std::make_pair(absl::StrFormat("%s/%s%08d", dir, kCheckpointPrefix, best), best);
}

absl::Status WriteCheckpoint(
    const std::string& dir, int records_through,
    const std::function<void(absl::string_view record, std::vector<std::string>* keep)>& fn) {
  int from = 0;
  std::optional<std::string> previous;
  absl::StatusOr<std::pair<std::string, int>> last = LastCheckpoint(dir);
  if (last.ok()) {
    if (last->second >= records_through) {
      return absl::FailedPreconditionError(
          absl::StrCat("checkpoint ", last->second, " already covers segment ", records_through));
    }
    previous = last->first;
    from = last->second + 1;
  } else if (!absl::IsNotFound(last.status())) {
    return last.status();
  }

  const std::string final_dir =
      absl::StrFormat("%s/%s%08d", dir, kCheckpointPrefix, records_through);
  const std::string tmp_dir = final_dir + ".tmp";
  std::error_code ec;
  std::filesystem::remove_all(tmp_dir, ec);  // a leftover of an interrupted checkpoint
  if (ec) return absl::InternalError(absl::StrCat("remove ", tmp_dir, ": ", ec.message()));
  {
    WalOptions options;
    options.dir = tmp_dir;
    options.fsync = FsyncPolicy::kNever;  // one Sync at the end
    SEXTANT_ASSIGN_OR_RETURN(std::unique_ptr<Wal> out, Wal::Open(options));
    std::vector<std::string> keep;
    std::vector<absl::string_view> batch;
    size_t pending = 0;
    auto flush = [&]() -> absl::Status {
      batch.assign(keep.begin(), keep.end());
      SEXTANT_RETURN_IF_ERROR(out->Log(batch));
      keep.clear();
      pending = 0;
      return absl::OkStatus();
    };
    auto visit = [&](absl::string_view record) -> absl::Status {
      const size_t before = keep.size();
      fn(record, &keep);
      for (size_t i = before; i < keep.size(); ++i) pending += keep[i].size();
      if (pending >= (size_t{1} << 20)) return flush();
      return absl::OkStatus();
    };
    WalCorruption corruption;
    if (previous) {
      SEXTANT_RETURN_IF_ERROR(ReadWal(*previous, 0, -1, visit, &corruption),
                              _.Prepend("checkpoint: read previous checkpoint: "));
    }
    SEXTANT_RETURN_IF_ERROR(ReadWal(dir, from, records_through, visit, &corruption),
                            _.Prepend("checkpoint: read segments: "));
    SEXTANT_RETURN_IF_ERROR(flush());
    SEXTANT_RETURN_IF_ERROR(out->Sync());
  }
  SEXTANT_ASSIGN_OR_RETURN(std::vector<int> written, ListSegments(tmp_dir));
  for (int n : written) SEXTANT_RETURN_IF_ERROR(FsyncPath(SegmentName(tmp_dir, n)));
  SEXTANT_RETURN_IF_ERROR(FsyncPath(tmp_dir));
  if (rename(tmp_dir.c_str(), final_dir.c_str()) != 0) {
    return ErrnoError(absl::StrCat("rename ", tmp_dir, " to"), final_dir, errno);
  }
  SEXTANT_RETURN_IF_ERROR(FsyncPath(dir));

  // Older checkpoints (and leftovers of interrupted ones) go.
  SEXTANT_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  for (const std::string& name : names) {
    absl::string_view rest = name;
    if (!absl::ConsumePrefix(&rest, kCheckpointPrefix)) continue;
    absl::ConsumeSuffix(&rest, ".tmp");
    std::optional<int> n = ParseNumber(rest);
    if (!n || *n >= records_through) continue;
    std::filesystem::remove_all(absl::StrCat(dir, "/", name), ec);
    if (ec) return absl::InternalError(absl::StrCat("remove ", dir, "/", name, ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace sextant::tsdb
