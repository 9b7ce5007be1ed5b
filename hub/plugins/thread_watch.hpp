// Counts the threads a connector's library starts, so that it is never unloaded under one of them.
#pragma once

#include <atomic>
#include <memory>

namespace cartwire::plugins {

/**
 * The threads started from one connector library's code that still run.
 *
 * The hub defines pthread_create (std::thread and every other thread library
 * come to it): a thread whose creator's nearest frame in the hub or in a
 * watched library is that library's is counted until its start routine
 * returns or it exits; a thread started on the loading thread while the
 * library loads (its static initialisers) is counted too. A library that
 * still has a thread running once its last instance is destroyed is not
 * unloaded: the thread would run on in unmapped code. Threads the C library
 * starts by itself (the notifications of a timer_create() timer) are not seen.
 */
class ThreadWatch : public std::enable_shared_from_this<ThreadWatch> {
 public:
  ThreadWatch() = default;
  ThreadWatch(const ThreadWatch &) = delete;
  ThreadWatch &operator=(const ThreadWatch &) = delete;
  ~ThreadWatch() { forget(); }

  /** While it lives, the threads started on this thread are `watch`'s (its library loads); `watch` is a shared_ptr's. */
  class Loading {
   public:
    explicit Loading(ThreadWatch &watch);
    ~Loading();
    Loading(const Loading &) = delete;
    Loading &operator=(const Loading &) = delete;

   private:
    ThreadWatch *previous_;
  };

  /** From now on, the threads the code of the library `handle` (a dlopen() handle) starts are counted. */
  void watch(void *handle);
  /** No longer counts the threads of the library (before it is unloaded: another may be mapped where it was). */
  void forget();
  /** The threads it started that have not ended. */
  int running() const { return running_.load(); }
  /** Its library stays loaded for the threads that run on: the registry's version stays listed. */
  void keep() { kept_ = true; }
  bool kept() const { return kept_.load(); }

 private:
  friend struct ThreadStart;
  std::atomic<int> running_ = 0;
  std::atomic<bool> kept_ = false;
  bool watched_ = false;  // guarded by the watches' mutex
};

}  // namespace cartwire::plugins
