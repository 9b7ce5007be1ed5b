// Waiting in tests for what the code under test does in its own time: poll
// the awaited condition, bounded, rather than sleep a fixed time.
#pragma once

#include <chrono>
#include <thread>

namespace cartwire::testing {

/** Poll `predicate` until it holds or `timeout` passes. */
template <typename F>
bool eventually(F predicate, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return predicate();
}

}  // namespace cartwire::testing
