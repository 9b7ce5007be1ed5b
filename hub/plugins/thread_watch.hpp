// Counts what a connector's library leaves that calls its code, so that it is never unloaded under one of them.
#pragma once

#include <atomic>
#include <memory>

namespace cartwire::plugins {

/**
 * The threads started from one connector library's code that still run, and
 * the timers, thread keys and signal handlers that call its code.
 *
 * The hub defines pthread_create (std::thread and every other thread library
 * come to it): a thread whose creator's nearest frame in the hub or in a
 * watched library is that library's is counted until its start routine
 * returns or it exits; a thread started on the loading thread while the
 * library loads (its static initialisers) is counted too. The hub defines
 * timer_create, timer_delete, pthread_key_create, pthread_key_delete,
 * sigaction and signal as well, and knows the function of every timer that
 * starts a thread (SIGEV_THREAD) until it is deleted, the destructor of every
 * key until it is deleted and the handler of every signal: one in a library's
 * code calls it. A library that still has one of them once its last instance
 * is destroyed is not unloaded: it would run on in unmapped code. A callback
 * of the library left with another library (a handler of a timer or a thread
 * pool of its own) is not seen.
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
  /** What the library's code left that calls it: threads running, timers, keys with a destructor, signal handlers. */
  struct Left {
    int threads = 0;
    int timers = 0;
    int keys = 0;
    int handlers = 0;
    bool any() const { return threads > 0 || timers > 0 || keys > 0 || handlers > 0; }
  };
  /** The threads it started that have not ended, and the timers, keys and handlers of its code (once watched). */
  Left left() const;
  /** Its library stays loaded for what it left: the registry's version stays listed. */
  void keep() { kept_ = true; }
  bool kept() const { return kept_.load(); }

 private:
  friend struct ThreadStart;
  std::atomic<int> running_ = 0;
  std::atomic<bool> kept_ = false;
  bool watched_ = false;  // guarded by the watches' mutex
};

}  // namespace cartwire::plugins
