// A HostFilesystem for the node source tests: files from a fixture tree (optional) overridden or
// removed per path, statfs answers from a table, and statfs calls that block until released.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "collector/host_fs.h"

namespace sextant::collector::testing {

// Thread-safe. Its state lives in a shared_ptr that a blocked Statfs call holds, so the fake may
// be destroyed while a call is blocked (as long as that call is released later).
class FakeHostFs final : public HostFilesystem {
 public:
  // `root` "" has no fixture: only SetFile'd files exist.
  explicit FakeHostFs(std::string root = "") : rooted_(root.empty() ? "/nonexistent" : root) {
    has_root_ = !root.empty();
  }

  void SetFile(const std::string& path, std::string content) {
    absl::MutexLock lock(&state_->mu);
    state_->files[path] = std::move(content);
  }
  void RemoveFile(const std::string& path) {
    absl::MutexLock lock(&state_->mu);
    state_->files[path] = absl::NotFoundError(path + ": no such file");
  }
  void SetStatfs(const std::string& path, absl::StatusOr<FsStats> stats) {
    absl::MutexLock lock(&state_->mu);
    state_->statfs[path] = std::move(stats);
  }
  // Loads a table of "mountpoint<TAB>bsize blocks bfree bavail files ffree" lines.
  void LoadStatfsTable(const std::string& table) {
    for (absl::string_view line : absl::StrSplit(table, '\n', absl::SkipEmpty())) {
      std::vector<absl::string_view> parts = absl::StrSplit(line, '\t');
      if (parts.size() != 2) continue;
      std::vector<absl::string_view> n = absl::StrSplit(parts[1], ' ');
      if (n.size() != 6) continue;
      FsStats st;
      uint64_t* fields[] = {&st.block_size,   &st.blocks, &st.blocks_free,
                            &st.blocks_avail, &st.files,  &st.files_free};
      for (size_t i = 0; i < 6; ++i) (void)absl::SimpleAtoi(n[i], fields[i]);
      SetStatfs(std::string(parts[0]), st);
    }
  }
  // Statfs(path) blocks from now until Unblock(path).
  void Block(const std::string& path) {
    absl::MutexLock lock(&state_->mu);
    state_->blocked.insert(path);
  }
  void Unblock(const std::string& path) {
    absl::MutexLock lock(&state_->mu);
    state_->blocked.erase(path);
  }
  // How many Statfs(path) calls started, and how many returned.
  int statfs_calls(const std::string& path) const {
    absl::MutexLock lock(&state_->mu);
    return state_->calls[path];
  }
  int statfs_returns(const std::string& path) const {
    absl::MutexLock lock(&state_->mu);
    return state_->returns[path];
  }
  // Waits until `n` calls of Statfs(path) have returned (true) or 10 s passed (false).
  bool AwaitReturns(const std::string& path, int n) const {
    std::shared_ptr<State> state = state_;
    absl::MutexLock lock(&state->mu);
    auto ready = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return state->returns[path] >= n; };
    return state->mu.AwaitWithTimeout(absl::Condition(&ready), absl::Seconds(10));
  }

  absl::StatusOr<std::string> ReadFile(absl::string_view path, size_t max_bytes) const override {
    {
      absl::MutexLock lock(&state_->mu);
      auto it = state_->files.find(path);
      if (it != state_->files.end()) return it->second;
    }
    if (!has_root_) return absl::NotFoundError(std::string(path));
    return rooted_.ReadFile(path, max_bytes);
  }
  absl::StatusOr<std::vector<DirEntry>> ListDir(absl::string_view path) const override {
    if (!has_root_) return absl::NotFoundError(std::string(path));
    return rooted_.ListDir(path);
  }
  absl::StatusOr<FsStats> Statfs(absl::string_view path) const override {
    std::shared_ptr<State> state = state_;  // the fake may go while this call blocks
    std::string p(path);
    absl::MutexLock lock(&state->mu);
    ++state->calls[p];
    auto unblocked = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !state->blocked.contains(p); };
    state->mu.Await(absl::Condition(&unblocked));
    ++state->returns[p];
    auto it = state->statfs.find(p);
    if (it == state->statfs.end()) return absl::NotFoundError(p + ": no such mount");
    return it->second;
  }

 private:
  struct State {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, absl::StatusOr<std::string>> files ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<std::string, absl::StatusOr<FsStats>> statfs ABSL_GUARDED_BY(mu);
    absl::flat_hash_set<std::string> blocked ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<std::string, int> calls ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<std::string, int> returns ABSL_GUARDED_BY(mu);
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
  RootedFilesystem rooted_;
  bool has_root_ = false;
};

}  // namespace sextant::collector::testing
