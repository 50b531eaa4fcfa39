// The "filesystem" source: node_filesystem_* for the mounts of /proc/1/mountinfo, with statfs(2)
// run on worker threads under a deadline so that a hung mount (a dead NFS server) costs a pass at
// most NodeSourceOptions::statfs_timeout and is then skipped until its statfs returns, as
// node_exporter's "stuck mounts".
//
// Threads: the source owns a pool of statfs workers (NodeSourceOptions::statfs_workers) that wait
// for jobs between passes, plus one thread per stuck mount. All of them are detached and share
// the state below through a shared_ptr, so destroying the source while a statfs is blocked is
// safe: the blocked thread finishes (and exits) on its own. Workers only ever start a statfs for
// a job of a pass in progress, and a pass leaves no job unfinished that it has not given up on.
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "collector/node/node_internal.h"
#include "collector/node/proc_parsers.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace sextant::collector::node_internal {
namespace {

struct StatfsJob {
  std::string mount_point;
  // Guarded by StatfsShared::mu.
  bool started = false;
  bool done = false;
  bool abandoned = false;  // the pass gave up waiting: the mount is stuck
  absl::StatusOr<FsStats> result = absl::UnknownError("not run");
};

// What the source and its worker threads share.
struct StatfsShared {
  explicit StatfsShared(int max_idle_workers) : max_idle_workers(max_idle_workers) {}

  const int max_idle_workers;
  absl::Mutex mu;
  std::deque<std::shared_ptr<StatfsJob>> queue ABSL_GUARDED_BY(mu);
  // Mount points whose statfs outlived its pass and has not returned yet, with how many such
  // calls there are (a mount point can be listed twice, over-mounted).
  absl::flat_hash_map<std::string, int> stuck ABSL_GUARDED_BY(mu);
  int workers ABSL_GUARDED_BY(mu) = 0;        // live threads
  int stuck_workers ABSL_GUARDED_BY(mu) = 0;  // of which blocked in an abandoned statfs
  int pending ABSL_GUARDED_BY(mu) = 0;        // jobs of the pass in progress not done yet
  bool shutdown ABSL_GUARDED_BY(mu) = false;
};

void WorkerLoop(std::shared_ptr<StatfsShared> shared, const HostFilesystem* fs) {
  StatfsShared& s = *shared;
  s.mu.Lock();
  while (true) {
    s.mu.Await(absl::Condition(
        +[](StatfsShared* s)
             ABSL_NO_THREAD_SAFETY_ANALYSIS { return s->shutdown || !s->queue.empty(); },
        &s));
    if (s.shutdown) break;
    std::shared_ptr<StatfsJob> job = std::move(s.queue.front());
    s.queue.pop_front();
    job->started = true;
    s.mu.Unlock();
    absl::StatusOr<FsStats> result = fs->Statfs(job->mount_point);
    s.mu.Lock();
    job->done = true;
    job->result = std::move(result);
    if (!job->abandoned) {
      --s.pending;
      continue;
    }
    if (auto it = s.stuck.find(job->mount_point); it != s.stuck.end() && --it->second <= 0) {
      s.stuck.erase(it);
      LogInfo("statfs returned; the mount is monitored again", {{"mountpoint", job->mount_point}});
    }
    --s.stuck_workers;
    // A replacement was started while this thread was stuck: leave if it is not needed.
    if (s.workers - s.stuck_workers > s.max_idle_workers) break;
  }
  --s.workers;
  s.mu.Unlock();
}

struct MountLabels {
  std::string device;
  std::string mount_point;
  std::string fstype;
  bool read_only;
};

class FilesystemSource final : public Source {
 public:
  FilesystemSource(const HostFilesystem& fs, const NodeSourceOptions& options)
      : fs_(fs),
        timeout_(options.statfs_timeout),
        workers_(std::max(1, options.statfs_workers)),
        mount_points_exclude_("filesystem_mount_points_exclude",
                              options.filesystem_mount_points_exclude),
        fs_types_exclude_("filesystem_fs_types_exclude", options.filesystem_fs_types_exclude),
        shared_(std::make_shared<StatfsShared>(workers_)) {}

  ~FilesystemSource() override {
    absl::MutexLock lock(&shared_->mu);
    shared_->shutdown = true;
    shared_->queue.clear();  // empty already: no pass is running
  }

  absl::string_view name() const override { return "filesystem"; }

  absl::Status Collect(const PassContext&, MetricSet& out) override {
    SEXTANT_RETURN_IF_ERROR(mount_points_exclude_.status());
    SEXTANT_RETURN_IF_ERROR(fs_types_exclude_.status());
    if (timeout_ <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("statfs_timeout: must be positive");
    }
    // node_exporter reads pid 1's mounts (the host's, under hostPID), else its own.
    absl::string_view path = "/proc/1/mountinfo";
    absl::StatusOr<std::string> text = fs_.ReadFile(path);
    if (absl::IsNotFound(text.status())) {
      path = "/proc/self/mountinfo";
      text = fs_.ReadFile(path);
    }
    if (!text.ok()) return Annotate(text.status(), absl::StrCat("read ", path, ": "));
    Parsed<std::vector<MountInfo>> parsed = ParseMountinfo(*text);

    // The mounts to report, each (device, mount point, fstype) once, first line first.
    std::vector<MountLabels> mounts;
    seen_.clear();
    for (MountInfo& m : parsed.value) {
      if (mount_points_exclude_.Matches(m.mount_point) || fs_types_exclude_.Matches(m.fstype)) {
        continue;
      }
      std::string key = absl::StrCat(m.device, absl::string_view("\0", 1), m.mount_point,
                                     absl::string_view("\0", 1), m.fstype);
      if (!seen_.insert(std::move(key)).second) continue;
      mounts.push_back(
          {std::move(m.device), std::move(m.mount_point), std::move(m.fstype), m.read_only});
    }

    std::vector<std::optional<FsStats>> stats = RunStatfs(mounts);

    for (size_t i = 0; i < mounts.size(); ++i) {
      const MountLabels& m = mounts[i];
      MetricSet::LabelList labels = {
          {"device", m.device}, {"fstype", m.fstype}, {"mountpoint", m.mount_point}};
      out.Gauge("node_filesystem_device_error",
                "Whether an error occurred while getting statistics for the given device.", labels,
                stats[i].has_value() ? 0 : 1);
      if (!stats[i].has_value()) continue;
      const FsStats& st = *stats[i];
      double bsize = static_cast<double>(st.block_size);
      out.Gauge("node_filesystem_size_bytes", "Filesystem size in bytes.", labels,
                static_cast<double>(st.blocks) * bsize);
      out.Gauge("node_filesystem_free_bytes", "Filesystem free space in bytes.", labels,
                static_cast<double>(st.blocks_free) * bsize);
      out.Gauge("node_filesystem_avail_bytes",
                "Filesystem space available to non-root users in bytes.", labels,
                static_cast<double>(st.blocks_avail) * bsize);
      out.Gauge("node_filesystem_files", "Filesystem total file nodes.", labels,
                static_cast<double>(st.files));
      out.Gauge("node_filesystem_files_free", "Filesystem total free file nodes.", labels,
                static_cast<double>(st.files_free));
      out.Gauge("node_filesystem_readonly", "Filesystem read-only status.", labels,
                m.read_only ? 1 : 0);
    }
    // A failed or stuck statfs is the device_error series' news, not the source's failure.
    return Annotate(parsed.status, absl::StrCat(path, ": "));
  }

 private:
  // Runs statfs for each mount not stuck, concurrently, until all return or the timeout passes.
  // Returns per mount what statfs said, or nothing when it failed, did not finish in time (the
  // mount is then stuck if its statfs started) or was skipped because the mount is stuck.
  std::vector<std::optional<FsStats>> RunStatfs(const std::vector<MountLabels>& mounts) {
    std::vector<std::optional<FsStats>> stats(mounts.size());
    std::vector<std::shared_ptr<StatfsJob>> jobs(mounts.size());
    StatfsShared& s = *shared_;
    absl::MutexLock lock(&s.mu);
    int submitted = 0;
    for (size_t i = 0; i < mounts.size(); ++i) {
      if (s.stuck.contains(mounts[i].mount_point)) continue;
      jobs[i] = std::make_shared<StatfsJob>();
      jobs[i]->mount_point = mounts[i].mount_point;
      s.queue.push_back(jobs[i]);
      ++submitted;
    }
    s.pending = submitted;
    // Enough workers that are not stuck for this pass's jobs.
    for (int healthy = s.workers - s.stuck_workers; healthy < std::min(workers_, submitted);
         ++healthy) {
      if (!StartWorker(s)) break;
    }
    if (s.workers - s.stuck_workers > 0) {  // else no thread could be started
      s.mu.AwaitWithDeadline(absl::Condition(
                                 +[](int* pending) { return *pending == 0; }, &s.pending),
                             absl::Now() + timeout_);
    }
    // Give up on the rest: jobs not started are dropped (tried again next pass), and those
    // running make their mounts stuck until they return.
    s.queue.clear();
    s.pending = 0;
    for (size_t i = 0; i < jobs.size(); ++i) {
      StatfsJob* job = jobs[i].get();
      if (job == nullptr) continue;
      if (job->done) {
        if (job->result.ok()) stats[i] = *job->result;
        continue;
      }
      if (!job->started) continue;
      job->abandoned = true;
      ++s.stuck_workers;
      ++s.stuck[job->mount_point];
      LogWarn("statfs did not return in time; skipping the mount until it does",
              {{"mountpoint", job->mount_point}, {"timeout", timeout_}});
    }
    return stats;
  }

  // Starts one detached worker. False when the system refuses a thread.
  bool StartWorker(StatfsShared& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) {
    try {
      std::thread(WorkerLoop, shared_, &fs_).detach();
    } catch (const std::system_error& e) {
      LogWarn("cannot start a statfs thread", {{"err", e.what()}});
      return false;
    }
    ++s.workers;
    return true;
  }

  const HostFilesystem& fs_;
  const absl::Duration timeout_;
  const int workers_;
  CachedMatcher mount_points_exclude_;
  CachedMatcher fs_types_exclude_;
  std::shared_ptr<StatfsShared> shared_;
  absl::flat_hash_set<std::string> seen_;  // reused across passes to spare allocations
};

}  // namespace

std::unique_ptr<Source> NewFilesystemSource(const HostFilesystem& fs,
                                            const NodeSourceOptions& options) {
  return std::make_unique<FilesystemSource>(fs, options);
}

}  // namespace sextant::collector::node_internal
