// Group commit, shared by the stores. Writers that must be durable when they
// return (accepted webhooks, recorded attempts) queue their work; the first
// one to find no commit in progress runs everything queued in one
// transaction, each piece under its own savepoint so that one failure undoes
// only that piece, and commits once. Every writer returns only after the
// commit holding its work: one fsync serves all the writers that arrived
// during the previous one. Each writer sleeps on its own condition, woken
// when its work is committed or when it is to lead the next commit: waking
// every queued writer after each commit cost more CPU than the commits under
// webhook load.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <vector>

namespace cartwire::store {

/** The statements a group commit runs on its connection. */
class GroupTransaction {
 public:
  virtual ~GroupTransaction() = default;
  virtual void begin() = 0;
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

  /** Runs `work` in the next group transaction; returns once it is committed, or throws what undid it. */
  void write(const std::function<void()> &work) {
    Writer me;
    me.work = &work;
    std::unique_lock queue_lock(mutex_);
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
    std::exception_ptr error;
    bool done = false;
    std::condition_variable wake;
  };

  void commit(const std::vector<Writer *> &batch) {
    std::lock_guard lock(connection_);
    try {
      tx_.begin();
      for (Writer *w : batch) {
        tx_.savepoint();
        try {
          (*w->work)();
        } catch (...) {
          w->error = std::current_exception();
          tx_.rollback_to_savepoint();
        }
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
};

}  // namespace cartwire::store
