// Retention of the execution log (storage.retention): finished jobs and their
// attempts older than the retention are removed in the background, a batch
// at a time, so that accepts and attempts never wait long behind it. Events
// stay: they are what redeliveries are recognised by (dedupe keys), what a
// refund is checked against and what a subscription's failed charges are
// counted from.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "engine/periodic.hpp"
#include "store/store.hpp"

namespace cartwire::engine {

class Retention {
 public:
  /** Jobs per delete transaction. */
  static constexpr int kBatch = 500;

  Retention(store::Store &store, std::chrono::milliseconds keep, std::function<int64_t()> clock_ms);
  /** Stops a sweep under way after its batch. */
  ~Retention();
  Retention(const Retention &) = delete;
  Retention &operator=(const Retention &) = delete;

  /** Sweeps now, then every `keep` / 4 (at most hourly), until the destructor. */
  void start();

  /** One sweep: removes every finished job older than `keep`, batch by batch; returns how many. */
  int64_t sweep();

 private:
  store::Store &store_;
  std::chrono::milliseconds keep_;
  std::function<int64_t()> clock_ms_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<Periodic> sweeper_;
};

}  // namespace cartwire::engine
