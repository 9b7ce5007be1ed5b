#include "engine/retention.hpp"

#include <Poco/Logger.h>

#include <algorithm>
#include <exception>

namespace cartwire::engine {

Retention::Retention(store::Store &store, std::chrono::milliseconds keep, std::function<int64_t()> clock_ms)
    : store_(store), keep_(keep), clock_ms_(std::move(clock_ms)) {}

Retention::~Retention() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Retention::start() {
  auto every = std::min<std::chrono::milliseconds>(keep_ / 4, std::chrono::hours(1));
  thread_ = std::thread([this, every] {
    auto &log = Poco::Logger::get("retention");
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      try {
        if (int64_t removed = sweep())
          log.information("removed " + std::to_string(removed) + " finished job(s) and their attempts older than " +
                          std::to_string(keep_.count() / 1000) + " s");
      } catch (const std::exception &e) {
        log.warning(std::string("removing old jobs failed, tried again later: ") + e.what());
      }
      lock.lock();
      cv_.wait_for(lock, every, [&] { return stopping_; });
    }
  });
}

int64_t Retention::sweep() {
  int64_t before = clock_ms_() - keep_.count(), total = 0;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    int removed = store_.prune(before, kBatch);
    total += removed;
    if (removed < kBatch) break;
  }
  return total;
}

}  // namespace cartwire::engine
