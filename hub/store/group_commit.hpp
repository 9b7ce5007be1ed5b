// Group commit, shared by the stores. Writers that must be durable when they
// return (accepted webhooks, recorded attempts) queue their work; the first
// one to find no commit in progress runs everything queued in one
// transaction, each piece under its own savepoint so that one failure undoes
// only that piece, and commits once. The locks the pieces name are taken
// first, all of the group's together (see GroupTransaction::lock). Every
// writer returns only after the commit holding its work: one fsync serves
// all the writers that arrived during the previous one. Each writer sleeps
// on its own condition, woken when its work is committed or when it is to
// lead the next commit: waking every queued writer after each commit cost
// more CPU than the commits under webhook load. A leader does each writer's
// work under that writer's mark (WorkMarks), so that a crash in it is put
// down to what that writer works on, not to the leader's own work.
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace cartwire::store {

/** A lock a writer's work needs (a shared store's lock on a key), of a kind (the first key) on a key. */
struct KeyLock {
  int kind = 0;
  std::string key;
};

/**
 * What each thread works on, as the hub's crash notes know it: a mark a
 * writer's thread holds while it waits for its work to be committed.
 */
class WorkMarks {
 public:
  virtual ~WorkMarks() = default;
  /** This thread's mark; null for none. */
  virtual const void *mine() const noexcept = 0;
  /** Makes `mark` (another thread's, held while it is used here) this thread's; returns the one replaced. */
  virtual const void *swap(const void *mark) noexcept = 0;
};

/** The statements a group commit runs on its connection. */
class GroupTransaction {
 public:
  virtual ~GroupTransaction() = default;
  virtual void begin() = 0;
  /**
   * Takes, right after begin() and held until the transaction ends, the
   * locks every writer of the group named. A store that nodes share takes
   * them in one order, the same on every node, so that two groups never
   * each hold a lock the other waits for. A store of one node takes none.
   */
  virtual void lock(const std::vector<KeyLock> &locks) { (void)locks; }
  virtual void savepoint() = 0;
  virtual void rollback_to_savepoint() = 0;
  virtual void release_savepoint() = 0;
  virtual void commit() = 0;
  /** Ends a failed transaction, if one is open; never throws. */
  virtual void rollback() noexcept = 0;
};

class GroupCommit {
 public:
  /** `connection` is held while a group runs; other users of the connection take it too. */
  GroupCommit(GroupTransaction &transaction, std::mutex &connection) : tx_(transaction), connection_(connection) {}

  /** Whose marks a leader takes on as it does each writer's work; none until set. */
  void mark_with(WorkMarks *marks) { marks_ = marks; }

  /**
   * Runs `work` in the next group transaction; returns once it is committed,
   * or throws what undid it. The group takes `locks` before any work runs.
   */
  void write(const std::function<void()> &work, const std::vector<KeyLock> &locks = {}) {
    Writer me;
    me.work = &work;
    me.locks = &locks;
    std::unique_lock queue_lock(mutex_);
    WorkMarks *marks = marks_;
    if (marks) me.mark = marks->mine();
    queue_.push_back(&me);
    while (!me.done) {
      if (committing_) {
        me.wake.wait(queue_lock);
        continue;
      }
      committing_ = true;
      std::vector<Writer *> batch;
      batch.swap(queue_);
      queue_lock.unlock();
      commit(batch);
      queue_lock.lock();
      committing_ = false;
      for (Writer *w : batch) {
        w->done = true;
        if (w != &me) w->wake.notify_one();
      }
      // Those that queued during this commit: the oldest leads the next one.
      if (!queue_.empty()) queue_.front()->wake.notify_one();
    }
    if (me.error) std::rethrow_exception(me.error);
  }

 private:
  struct Writer {
    const std::function<void()> *work = nullptr;
    const std::vector<KeyLock> *locks = nullptr;
    const void *mark = nullptr;  // what the writer's thread works on, while it waits
    std::exception_ptr error;
    bool done = false;
    std::condition_variable wake;
  };

  void commit(const std::vector<Writer *> &batch) {
    std::lock_guard lock(connection_);
    try {
      tx_.begin();
      std::vector<KeyLock> locks;
      for (Writer *w : batch) locks.insert(locks.end(), w->locks->begin(), w->locks->end());
      if (!locks.empty()) tx_.lock(locks);
      WorkMarks *marks = marks_;
      for (Writer *w : batch) {
        tx_.savepoint();
        const void *own = marks ? marks->swap(w->mark) : nullptr;
        try {
          (*w->work)();
        } catch (...) {
          w->error = std::current_exception();
        }
        if (marks) marks->swap(own);
        if (w->error) tx_.rollback_to_savepoint();
        tx_.release_savepoint();
      }
      tx_.commit();
    } catch (...) {
      std::exception_ptr failure = std::current_exception();
      tx_.rollback();
      for (Writer *w : batch)
        if (!w->error) w->error = failure;
    }
  }

  GroupTransaction &tx_;
  std::mutex &connection_;
  std::mutex mutex_;
  std::vector<Writer *> queue_;
  bool committing_ = false;
  std::atomic<WorkMarks *> marks_{nullptr};
};

}  // namespace cartwire::store
