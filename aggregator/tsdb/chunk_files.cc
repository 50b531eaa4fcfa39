#include "aggregator/tsdb/chunk_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "aggregator/tsdb/crc32c.h"

// Chunk segment file format (Prometheus's chunks format 1, tsdb/docs/format/chunks.md):
//   magic 0x85BD40DD <be32> | version 1 <1 byte> | padding 0 <3 bytes>
//   then chunks, each:
//     len <uvarint: bytes of data> | encoding <1 byte: 1 = XOR> | data <len bytes> |
//     CRC32C <be32, over encoding and data>
// data is the XOR chunk exactly as XorChunk writes it (2-byte sample count, then the bit
// stream). A chunk reference is segment index (000001 is 0) << 32 | offset of its len field.
// Segments are cut before a chunk would take them past 512 MiB.

namespace sextant::tsdb {
namespace {

constexpr uint32_t kSegmentMagic = 0x85BD40DD;
constexpr char kSegmentVersion = 1;
constexpr size_t kSegmentHeaderSize = 8;
constexpr char kEncodingXor = 1;
constexpr size_t kFlushBytes = 1 << 20;

void PutBe32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

void PutUvarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

uint32_t Be32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", strerror(errno)));
}

std::string SegmentName(uint32_t index) { return absl::StrFormat("%06d", index + 1); }

}  // namespace

absl::StatusOr<std::shared_ptr<const MappedFile>> MappedFile::Open(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no file ", path));
    return Errno("open", path);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    absl::Status s = Errno("stat", path);
    close(fd);
    return s;
  }
  void* addr = nullptr;
  const size_t size = static_cast<size_t>(st.st_size);
  if (size > 0) {
    addr = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (addr == MAP_FAILED) {
      absl::Status s = Errno("mmap", path);
      close(fd);
      return s;
    }
  }
  close(fd);
  return std::shared_ptr<const MappedFile>(new MappedFile(path, addr, size));
}

MappedFile::~MappedFile() {
  if (addr_ != nullptr) munmap(addr_, size_);
}

absl::Status WriteFileSynced(const std::string& path, absl::string_view contents) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", path);
  while (!contents.empty()) {
    const ssize_t n = write(fd, contents.data(), contents.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status s = Errno("write", path);
      close(fd);
      return s;
    }
    contents.remove_prefix(static_cast<size_t>(n));
  }
  if (fsync(fd) != 0) {
    absl::Status s = Errno("fsync", path);
    close(fd);
    return s;
  }
  if (close(fd) != 0) return Errno("close", path);
  return absl::OkStatus();
}

absl::Status SyncDir(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open directory", dir);
  if (fsync(fd) != 0) {
    absl::Status s = Errno("fsync directory", dir);
    close(fd);
    return s;
  }
  close(fd);
  return absl::OkStatus();
}

ChunkSegmentWriter::ChunkSegmentWriter(std::string dir, uint64_t max_segment_bytes)
    : dir_(std::move(dir)), max_segment_bytes_(max_segment_bytes) {}

ChunkSegmentWriter::~ChunkSegmentWriter() {
  if (fd_ >= 0) close(fd_);
}

absl::Status ChunkSegmentWriter::Flush() {
  absl::string_view rest = buffer_;
  while (!rest.empty()) {
    const ssize_t n = write(fd_, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write", path_);
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status ChunkSegmentWriter::CloseSegment() {
  if (fd_ < 0) return absl::OkStatus();
  absl::Status s = Flush();
  if (s.ok() && fsync(fd_) != 0) s = Errno("fsync", path_);
  if (close(fd_) != 0 && s.ok()) s = Errno("close", path_);
  fd_ = -1;
  return s;
}

absl::Status ChunkSegmentWriter::Cut() {
  if (absl::Status s = CloseSegment(); !s.ok()) return s;
  path_ = absl::StrCat(dir_, "/", SegmentName(segment_));
  fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return Errno("create", path_);
  ++segment_;
  buffer_.clear();
  PutBe32(&buffer_, kSegmentMagic);
  buffer_.push_back(kSegmentVersion);
  buffer_.append(3, '\0');
  size_ = buffer_.size();
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ChunkSegmentWriter::Write(absl::string_view xor_chunk) {
  std::string head;
  PutUvarint(&head, xor_chunk.size());
  head.push_back(kEncodingXor);
  const uint64_t total = head.size() + xor_chunk.size() + 4;
  if (fd_ < 0 || (size_ > kSegmentHeaderSize && size_ + total > max_segment_bytes_)) {
    if (absl::Status s = Cut(); !s.ok()) return s;
  }
  if (size_ > 0xffffffffu) {
    return absl::InternalError(absl::StrCat("segment ", path_, " past 4 GiB"));
  }
  const uint64_t ref = MakeChunkRef(segment_ - 1, static_cast<uint32_t>(size_));
  buffer_.append(head);
  buffer_.append(xor_chunk.data(), xor_chunk.size());
  uint32_t crc = Crc32c(absl::string_view(&head[head.size() - 1], 1));
  crc = Crc32cExtend(crc, xor_chunk);
  PutBe32(&buffer_, crc);
  size_ += total;
  if (buffer_.size() >= kFlushBytes) {
    if (absl::Status s = Flush(); !s.ok()) return s;
  }
  return ref;
}

absl::Status ChunkSegmentWriter::Finish() { return CloseSegment(); }

absl::StatusOr<std::unique_ptr<ChunkSegmentReader>> ChunkSegmentReader::Open(
    const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no directory ", dir));
    return Errno("open directory", dir);
  }
  std::vector<std::string> names;
  while (struct dirent* e = readdir(d)) {
    absl::string_view name = e->d_name;
    if (name.size() == 6 && std::all_of(name.begin(), name.end(), absl::ascii_isdigit)) {
      names.emplace_back(name);
    }
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  auto reader = std::unique_ptr<ChunkSegmentReader>(new ChunkSegmentReader());
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string path = absl::StrCat(dir, "/", names[i]);
    if (names[i] != SegmentName(static_cast<uint32_t>(i))) {
      return absl::DataLossError(
          absl::StrCat("chunk segment ", path, ": expected ", SegmentName(i), " (gap)"));
    }
    absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::Open(path);
    if (!file.ok()) return file.status();
    absl::string_view data = (*file)->data();
    if (data.size() < kSegmentHeaderSize) {
      return absl::DataLossError(absl::StrCat("chunk segment ", path, ": ", data.size(),
                                              " bytes, shorter than the header"));
    }
    if (Be32(data.data()) != kSegmentMagic) {
      return absl::DataLossError(
          absl::StrFormat("chunk segment %s: bad magic 0x%08x", path, Be32(data.data())));
    }
    if (data[4] != kSegmentVersion) {
      return absl::DataLossError(
          absl::StrCat("chunk segment ", path, ": unsupported version ", int{data[4]}));
    }
    reader->segments_.push_back(*std::move(file));
  }
  return reader;
}

absl::Status ChunkSegmentReader::Chunk(uint64_t ref, absl::string_view* bytes,
                                       std::shared_ptr<const void>* owner) const {
  const uint64_t segment = ref >> 32;
  const uint64_t offset = ref & 0xffffffffu;
  if (segment >= segments_.size()) {
    return absl::DataLossError(
        absl::StrCat("chunk reference ", ref, ": segment ", segment + 1, " of ", segments_.size()));
  }
  const MappedFile& file = *segments_[segment];
  absl::string_view data = file.data();
  auto fail = [&](absl::string_view what) {
    return absl::DataLossError(
        absl::StrCat("chunk segment ", file.path(), " offset ", offset, ": ", what));
  };
  if (offset < kSegmentHeaderSize || offset >= data.size()) return fail("offset out of range");
  uint64_t len = 0;
  size_t pos = offset;
  for (int shift = 0;; shift += 7) {
    if (pos >= data.size() || shift > 63) return fail("bad chunk length");
    const auto byte = static_cast<unsigned char>(data[pos++]);
    len |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) break;
  }
  // encoding byte + data + CRC must fit.
  if (len > data.size() || data.size() - pos < len + 5) return fail("chunk past end of file");
  if (data[pos] != kEncodingXor) {
    return fail(absl::StrCat("unsupported chunk encoding ", int{data[pos]}));
  }
  const absl::string_view covered = data.substr(pos, len + 1);
  if (Crc32c(covered) != Be32(data.data() + pos + 1 + len)) return fail("checksum mismatch");
  *bytes = covered.substr(1);
  *owner = segments_[segment];
  return absl::OkStatus();
}

int64_t ChunkSegmentReader::size_bytes() const {
  int64_t total = 0;
  for (const auto& s : segments_) total += static_cast<int64_t>(s->data().size());
  return total;
}

}  // namespace sextant::tsdb
