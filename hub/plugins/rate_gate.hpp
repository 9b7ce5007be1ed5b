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
  RateGate(int requests, std::chrono::milliseconds window) : limit_(requests), window_(window) {}

  /** Zero: a slot is held for this thread's next acquire(). Else the time until one frees; nothing is taken. */
  std::chrono::milliseconds reserve() {
    if (limit_ <= 0) return std::chrono::milliseconds(0);
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    while (!sent_.empty() && now - sent_.front() >= window_) sent_.pop_front();
    if (static_cast<int>(sent_.size()) < limit_) {
      sent_.push_back(now);
      reserved_by_this_thread() = this;
      return std::chrono::milliseconds(0);
    }
    return std::max(std::chrono::ceil<std::chrono::milliseconds>(sent_.front() + window_ - now),
                    std::chrono::milliseconds(1));
  }

  /** How long until a slot frees; zero when one is free now. Nothing is taken. */
  std::chrono::milliseconds wait() {
    if (limit_ <= 0) return std::chrono::milliseconds(0);
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    while (!sent_.empty() && now - sent_.front() >= window_) sent_.pop_front();
    if (static_cast<int>(sent_.size()) < limit_) return std::chrono::milliseconds(0);
    return std::max(std::chrono::ceil<std::chrono::milliseconds>(sent_.front() + window_ - now),
                    std::chrono::milliseconds(1));
  }

  /** The budget's average gap between two requests (window / requests); zero without a limit. */
  std::chrono::milliseconds spacing() const {
    return limit_ > 0 ? window_ / limit_ : std::chrono::milliseconds(0);
  }

  /** Ends this thread's reservation if no request used it (the slot stays spent). */
  void release_reservation() {
    if (reserved_by_this_thread() == this) reserved_by_this_thread() = nullptr;
  }

  void acquire() {
    if (limit_ <= 0) return;
    if (reserved_by_this_thread() == this) {
      reserved_by_this_thread() = nullptr;
      return;
    }
    std::unique_lock lock(mutex_);
    for (;;) {
      auto now = std::chrono::steady_clock::now();
      while (!sent_.empty() && now - sent_.front() >= window_) sent_.pop_front();
      if (static_cast<int>(sent_.size()) < limit_) {
        sent_.push_back(now);
        return;
      }
      auto wait = sent_.front() + window_ - now;
      lock.unlock();
      std::this_thread::sleep_for(wait);
      lock.lock();
    }
  }

 private:
  static const RateGate *&reserved_by_this_thread() {
    thread_local const RateGate *gate = nullptr;
    return gate;
  }

  int limit_;
  std::chrono::milliseconds window_;
  std::mutex mutex_;
  std::deque<std::chrono::steady_clock::time_point> sent_;
};

}  // namespace cartwire::plugins
