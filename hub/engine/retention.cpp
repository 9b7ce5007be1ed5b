#include "engine/retention.hpp"

#include <Poco/Logger.h>

#include <algorithm>

namespace cartwire::engine {

Retention::Retention(store::Store &store, std::chrono::milliseconds keep, std::function<int64_t()> clock_ms)
    : store_(store), keep_(keep), clock_ms_(std::move(clock_ms)) {}

Retention::~Retention() {
  stopping_ = true;
  sweeper_.reset();
}

void Retention::start() {
  auto every = std::min<std::chrono::milliseconds>(keep_ / 4, std::chrono::hours(1));
  sweeper_ = std::make_unique<Periodic>("retention", "removing old jobs", every, [this] {
    if (int64_t removed = sweep())
      Poco::Logger::get("retention")
          .information("removed " + std::to_string(removed) + " finished job(s) and their attempts older than " +
                       std::to_string(keep_.count() / 1000) + " s");
  });
}

int64_t Retention::sweep() {
  int64_t before = clock_ms_() - keep_.count(), total = 0;
  while (!stopping_) {
    int removed = store_.prune(before, kBatch);
    total += removed;
    if (removed < kBatch) break;
  }
  return total;
}

}  // namespace cartwire::engine
