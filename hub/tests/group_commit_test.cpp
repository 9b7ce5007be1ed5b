#include "store/group_commit.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <mutex>
#include <string>
#include <thread>

#include "plugins/crash_note.hpp"

namespace cartwire::store {
namespace {

class NoStatements : public GroupTransaction {
 public:
  void begin() override {}
  void savepoint() override {}
  void rollback_to_savepoint() override {}
  void release_savepoint() override {}
  void commit() override {}
  void rollback() noexcept override {}
};

thread_local const void *held = nullptr;

// Each thread's mark, as `inner` keeps them (or one per thread here); counts the writers that
// queued (GroupCommit asks for a writer's mark as it queues it), so that a test can wait for them.
class CountingMarks : public WorkMarks {
 public:
  explicit CountingMarks(WorkMarks *inner = nullptr) : inner_(inner) {}

  const void *mine() const noexcept override {
    {
      std::lock_guard lock(mutex_);
      ++queued_;
    }
    changed_.notify_all();
    return inner_ ? inner_->mine() : held;
  }
  const void *swap(const void *mark) noexcept override {
    if (inner_) return inner_->swap(mark);
    const void *was = held;
    held = mark;
    return was;
  }
  void wait_for_writers(int n) const {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queued_ >= n; });
  }

 private:
  WorkMarks *inner_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  mutable int queued_ = 0;
};

// Three writers: the first leads a commit whose work waits until the other two have queued, so
// that those two are committed together, by one of them. On writer i's thread, before its
// write: hold(i); its work: work(i), on whichever thread does it; after its write: after(i).
using Step = std::function<void(int)>;
void three_writers(GroupCommit &group, const CountingMarks &marks, const Step &hold, const Step &work,
                   const Step &after = [](int) {}) {
  auto writer = [&](int i) {
    hold(i);
    group.write([&] {
      if (i == 0) marks.wait_for_writers(3);
      work(i);
    });
    after(i);
  };
  std::thread first(writer, 0);
  marks.wait_for_writers(1);
  std::thread second(writer, 1);
  marks.wait_for_writers(2);
  std::thread third(writer, 2);
  first.join();
  second.join();
  third.join();
}

TEST(GroupCommit, EachWritersWorkIsDoneUnderThatWritersMarkWhicheverThreadDoesIt) {
  NoStatements tx;
  std::mutex connection;
  GroupCommit group(tx, connection);
  CountingMarks marks;
  group.mark_with(&marks);
  const std::string mark[3] = {"first", "second", "third"};
  std::mutex seen_mutex;
  std::thread::id writer_thread[3], worker_thread[3];
  const void *seen[3] = {}, *after[3] = {};
  three_writers(
      group, marks,
      [&](int i) {
        held = &mark[i];
        std::lock_guard lock(seen_mutex);
        writer_thread[i] = std::this_thread::get_id();
      },
      [&](int i) {
        std::lock_guard lock(seen_mutex);
        worker_thread[i] = std::this_thread::get_id();
        seen[i] = held;
      },
      [&](int i) {
        std::lock_guard lock(seen_mutex);
        after[i] = held;
      });
  int done_by_another = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(seen[i], &mark[i]) << "writer " << i << "'s work";
    EXPECT_EQ(after[i], &mark[i]) << "writer " << i << "'s thread holds its own mark again";
    if (worker_thread[i] != writer_thread[i]) ++done_by_another;
  }
  EXPECT_EQ(done_by_another, 1) << "one writer's work is done by the other writer of its group";
}

// The hub's crash notes: a fatal signal in a writer's work, done by the thread that leads its
// group, names what that writer works on (its job), not what the leader works on.
TEST(GroupCommitDeathTest, AFatalSignalInAWritersWorkDoneByAnotherThreadNamesThatWritersJob) {
  std::string dir = testing::TempDir() + "group-commit-XXXXXX";
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  std::string note = dir + "/crash.note";
  const std::string instance = "school", detail = "enrol";
  EXPECT_EXIT(
      {
        plugins::crash_note::arm(note, "node-a");
        NoStatements tx;
        std::mutex connection;
        GroupCommit group(tx, connection);
        CountingMarks marks(&plugins::crash_note::work_marks());
        group.mark_with(&marks);
        std::optional<plugins::crash_note::Inside> inside[3];
        three_writers(
            group, marks,
            [&](int i) {
              inside[i].emplace(instance, "record", detail, 101 + i, nullptr, plugins::crash_note::Code::hub);
            },
            [&](int i) {
              if (i == 2) std::abort();
            });
        std::exit(0);
      },
      testing::KilledBySignal(SIGABRT), "job 103");
  auto notes = plugins::crash_note::read(note);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].job, 103);
  EXPECT_EQ(notes[0].signal, SIGABRT);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cartwire::store
