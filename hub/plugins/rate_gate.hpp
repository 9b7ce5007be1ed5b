// Holds outbound requests back so an integration stays within its remote's published budget.
#pragma once

#include <algorithm>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>

namespace cartwire::plugins {

/**
 * At most `requests` calls in any window of `window`; acquire() waits for a
 * free slot. A runner asks with reserve() before it starts a job: when the
 * budget is spent it learns how long until a slot frees (and gives the job
 * back to the queue until then rather than hold a worker); otherwise the slot
 * is taken for the first request the job makes on this thread.
 */
class RateGate {
 public:
  using Clock = std::chrono::steady_clock;

  RateGate(int requests, std::chrono::milliseconds window)
      : requests_(requests), per_(window), limit_(requests), window_(window) {}

  /**
   * Keep this node's share of a budget that `nodes` nodes spend together:
   * requests / nodes in each window, or, when there are more nodes than
   * requests, one request in a window as many times longer as it takes.
   */
  void share(int nodes) {
    std::lock_guard lock(mutex_);
    nodes = std::max(nodes, 1);
    limit_ = requests_ <= 0 ? requests_ : std::max(requests_ / nodes, 1);
    window_ = requests_ >= nodes || requests_ <= 0 ? per_ : per_ * ((nodes + requests_ - 1) / requests_);
  }

  /** Zero: a slot is held for this thread's next acquire(). Else the time until one frees; nothing is taken. */
  std::chrono::milliseconds reserve() {
    if (requests_ <= 0) return std::chrono::milliseconds(0);
    std::lock_guard lock(mutex_);
    auto now = Clock::now();
    auto wait = wait_locked(now);
    if (wait.count() == 0) {
      sent_.push_back(now);
      reservation() = {this, now};
    }
    return wait;
  }

  /** How long until a slot frees; zero when one is free now. Nothing is taken. */
  std::chrono::milliseconds wait() {
    if (requests_ <= 0) return std::chrono::milliseconds(0);
    std::lock_guard lock(mutex_);
    return wait_locked(Clock::now());
  }

  /** Requests the budget allows now; -1 without a limit. Nothing is taken. */
  int room() {
    if (requests_ <= 0) return -1;
    std::lock_guard lock(mutex_);
    wait_locked(Clock::now());
    return limit_ - static_cast<int>(sent_.size());
  }

  /** The budget's average gap between two requests (window / requests); zero without a limit. */
  std::chrono::milliseconds spacing() {
    if (requests_ <= 0) return std::chrono::milliseconds(0);
    std::lock_guard lock(mutex_);
    return window_ / limit_;
  }

  /** Ends this thread's reservation if no request used it (the slot stays spent). */
  void release_reservation() {
    if (reservation().gate == this) reservation() = {};
  }

  void acquire() {
    if (requests_ <= 0) return;
    std::unique_lock lock(mutex_);
    if (Reservation held = reservation(); held.gate == this) {
      reservation() = {};
      // The reserved slot is counted from now, when the request goes out.
      if (auto it = std::find(sent_.begin(), sent_.end(), held.at); it != sent_.end()) {
        sent_.erase(it);
        sent_.push_back(Clock::now());
        return;
      }
    }
    for (;;) {
      auto now = Clock::now();
      auto wait = wait_locked(now);
      if (wait.count() == 0) {
        sent_.push_back(now);
        return;
      }
      lock.unlock();
      std::this_thread::sleep_for(wait);
      lock.lock();
    }
  }

 private:
  struct Reservation {
    const RateGate *gate = nullptr;
    Clock::time_point at;
  };
  static Reservation &reservation() {
    thread_local Reservation held;
    return held;
  }

  // With mutex_ held: forgets requests older than the window; zero when a slot is free.
  std::chrono::milliseconds wait_locked(Clock::time_point now) {
    while (!sent_.empty() && now - sent_.front() >= window_) sent_.pop_front();
    if (static_cast<int>(sent_.size()) < limit_) return std::chrono::milliseconds(0);
    return std::max(std::chrono::ceil<std::chrono::milliseconds>(sent_.front() + window_ - now),
                    std::chrono::milliseconds(1));
  }

  const int requests_;                  // the whole budget, as configured
  const std::chrono::milliseconds per_;
  int limit_;                           // this node's share (share()), guarded by mutex_
  std::chrono::milliseconds window_;
  std::mutex mutex_;
  std::deque<Clock::time_point> sent_;
};

}  // namespace cartwire::plugins
