// When a lease keeper (the runner's for its jobs, the poller's for its poll) extends its leases: every
// third of the lease, and at once when this node took its name again on a new session of a shared store.
#pragma once

#include <algorithm>
#include <chrono>

#include "store/store.hpp"

namespace cartwire::engine {

/**
 * While a node's session is gone (a network cut the server noticed, an
 * administrator ending it), the other nodes see its name free and cut its
 * leases short (to store::kRejoinTime). Back on a new session, it takes its
 * name again and must extend its leases then, not a third of a lease later,
 * or they end under its attempts and another node runs them again. A store
 * of one node never takes its name again: its keeper wakes only to renew.
 * Not thread-safe: one keeper's.
 */
class LeaseRenewals {
 public:
  LeaseRenewals(store::Store &store, std::chrono::milliseconds lease)
      : store_(store), every_(std::max(lease / 3, std::chrono::milliseconds(10))),
        name_since_(store.name_held_since()), next_(Clock::now() + every_) {}

  /** How long the keeper waits before it asks due() again. */
  std::chrono::milliseconds wait() const {
    return name_since_ == Clock::time_point{} ? every_ : std::min(every_, kLookForNameEvery);
  }

  /** Whether to extend the leases now; when so, the next renewal is due a third of a lease later. */
  bool due() {
    auto now = Clock::now();
    auto since = store_.name_held_since();
    if (now < next_ && since == name_since_) return false;
    name_since_ = since;
    next_ = now + every_;
    return true;
  }

 private:
  using Clock = std::chrono::steady_clock;
  // Well within kRejoinTime, so that leases cut short are extended before they end.
  static constexpr std::chrono::milliseconds kLookForNameEvery{1000};

  store::Store &store_;
  std::chrono::milliseconds every_;
  Clock::time_point name_since_, next_;
};

}  // namespace cartwire::engine
