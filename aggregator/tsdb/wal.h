// The write-ahead log: numbered segment files of 32 KiB pages holding CRC-checked records
// (fragmented across pages as needed), written before samples are acknowledged, replayed at
// start. Checkpoints fold old segments into a compact directory. Format note in wal.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/config.h"

namespace sextant::tsdb {

struct WalOptions {
  // The WAL directory (created when missing). Required.
  std::string dir;
  // kAlways: fsync before Log returns. kInterval: Sync() is called by the owner's timer (the DB,
  // every fsync_interval). kNever: the OS decides. Default kInterval.
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  // A segment is closed and a new one started past this size. Default 128 MiB.
  int64_t segment_bytes = int64_t{128} << 20;
  // Snappy-compress each record that gets smaller (Prometheus's WAL compression; the fragment
  // type byte then carries 0x08). Readers handle both. Default off (the DB turns it on).
  bool compress = false;
};

// Where a read stopped on damage: the first record that could not be read. RepairWal cuts here.
struct WalCorruption {
  int segment = 0;     // segment number
  int64_t offset = 0;  // byte offset in that segment where the unreadable record starts
  std::string reason;  // "crc mismatch", "torn record", "missing segment 3", ...
};

// Appends records to the newest segment. Owned by the DB. Thread-safe: concurrent Log calls
// are serialized; each returns after its records are written to the file (and fsynced under
// kAlways).
class Wal {
 public:
  // Opens `dir`, starting a new segment after the last existing one. Never modifies existing
  // segments except through Repair. Internal/Unavailable on I/O errors, naming the path.
  static absl::StatusOr<std::unique_ptr<Wal>> Open(const WalOptions& options);
  ~Wal();  // Closes (fsyncing unless kNever).

  // Writes the records, in order, as one batch. Internal on a write error (the WAL is then
  // unusable: later calls fail too).
  absl::Status Log(const std::vector<absl::string_view>& records);
  // Log in two steps, for callers that write under a lock and wait for the disk outside it
  // (so that concurrent writers share one fsync): Write writes the records without any fsync
  // and returns their sequence number; SyncThrough(seq) returns once everything up to it is
  // fsynced (at once when it already is). Errors as Log.
  absl::StatusOr<uint64_t> Write(const std::vector<absl::string_view>& records);
  absl::Status SyncThrough(uint64_t seq);
  // fsyncs the current segment if anything was written since the last sync; records the time
  // it took in last_fsync_seconds().
  absl::Status Sync();
  // Closes the current segment and starts the next one; returns the new segment's number.
  absl::StatusOr<int> NextSegment();
  // Deletes segments numbered below `segment` (never the one being written). Internal naming the
  // file when one cannot be deleted.
  absl::Status DeleteSegmentsBefore(int segment);

  // First and last segment numbers present (first > last when none).
  int first_segment() const;
  int last_segment() const;
  double last_fsync_seconds() const;
  int64_t fsyncs() const;
  const std::string& dir() const;

 private:
  Wal() = default;
  struct State;
  std::unique_ptr<State> state_;
};

// Reads every record of the segments numbered [from, to] (to = -1: through the last) in `dir`,
// in order, calling `fn` with each record (the view is valid during the call only); `fn` may
// return an error to stop, which is returned as is. Any damage (bad CRC, a fragment out of
// sequence, garbage past the last record, a file that ends inside a record, a segment missing
// between two present ones) stops the read there: every record before it has gone to `fn`, the
// result is DataLoss, and `*corruption` (when not null) says where. There is no silent cut, not
// even for a torn write at the very end: the caller (the DB) calls RepairWal and logs. Zero bytes
// where a fragment would start are page padding, so a zero-filled tail reads clean. Segments
// missing before the first present one in the range are not an error. Internal on I/O errors.
absl::Status ReadWal(const std::string& dir, int from, int to,
                     const std::function<absl::Status(absl::string_view)>& fn,
                     WalCorruption* corruption);

// Cuts the WAL at the damage: truncates the damaged segment at corruption.offset (deletes it at
// offset 0) and deletes every later segment. Logs one warning line naming the segment, offset and
// reason. Internal on I/O errors.
absl::Status RepairWal(const std::string& dir, const WalCorruption& corruption);

// The segment numbers present in `dir` (names of digits only), ascending; ignores checkpoint
// directories and other files. A missing `dir` has none.
absl::StatusOr<std::vector<int>> ListSegments(const std::string& dir);

// Checkpoints: <dir>/checkpoint.NNNNNNNN is a directory in the same segment format, holding the
// records that still matter from every segment up to NNNNNNNN. Written to a .tmp directory,
// fsynced and renamed into place; older checkpoints are deleted afterwards.
//   `records_through` = N: the checkpoint replaces segments [first, N] and the previous
//   checkpoint; `fn` receives each old record and appends what to keep (rewritten if it likes)
//   to `*keep` (empty = drop). Records come from the previous checkpoint, then from segments
//   [previous checkpoint + 1 (0 when none), N]. FailedPrecondition when the previous checkpoint
//   already covers N; DataLoss when a record cannot be read (repair the WAL first); Internal on
//   I/O errors.
absl::Status WriteCheckpoint(
    const std::string& dir, int records_through,
    const std::function<void(absl::string_view record, std::vector<std::string>* keep)>& fn);
// The newest checkpoint: its directory path and number, or NotFound.
absl::StatusOr<std::pair<std::string, int>> LastCheckpoint(const std::string& dir);

}  // namespace sextant::tsdb
