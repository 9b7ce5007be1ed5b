// What the stores share above their SQL: how an accepted batch becomes rows
// (events, the payloads they were made of, jobs), how a stored event is read
// back, and which jobs one claim may take.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace cartwire::store {

/** The searchable columns of an event, and its body as stored (no id, no raw). */
struct EventColumns {
  std::string source, type, dedupe_key, occurred_at, mode, email, order_id, item_ref, body;
  int64_t received_at = 0;
  std::optional<int64_t> payload_id;
};

/** The writes of an accept, inside a transaction the caller holds. */
class AcceptWrites {
 public:
  virtual ~AcceptWrites() = default;
  /** The id of the event stored under this key, if any. */
  virtual std::optional<int64_t> stored_event(const std::string &dedupe_key) = 0;
  virtual int64_t insert_payload(const std::string &text) = 0;
  virtual int64_t insert_event(const EventColumns &event) = 0;
  /** A job of `event_id`: queued and due now, or running under its lease_owner until lease_until. */
  virtual int64_t insert_job(int64_t event_id, const NewJob &job, const std::string &params, int64_t now_ms) = 0;
};

/**
 * The accept path: events whose dedupe_key is stored already are reported as
 * duplicates and add nothing. An event's `raw` goes to payloads, once for
 * consecutive events made of the same payload (the items of one order: a raw
 * the batch shares, or equal ones), and only for a new event: a redelivery
 * writes nothing at all.
 */
std::vector<Accepted> insert_events(AcceptWrites &writes, std::vector<NewEvent> &events, int64_t now_ms);

/**
 * An event as stored: its body, and the payload it was made of apart (events
 * stored before SQLite schema 5 carry their raw in the body).
 */
Json with_payload(const std::string &body, const std::string &payload);

/** Which jobs of a claim's candidates (in order) it may take, by the limits Store::claim() describes. */
class ClaimLimits {
 public:
  /** `running`: the running jobs of each integration listed in `concurrency`. */
  ClaimLimits(const std::map<std::string, int> &concurrency, const std::map<std::string, int> &room,
              std::map<std::string, int> running)
      : concurrency_(concurrency), room_(room), running_(std::move(running)) {}

  /** Integrations that get nothing from this claim (at their concurrency limit or without rate room). */
  std::vector<std::string> excluded() const;
  /** Whether the claim may take one more job of `integration`; counts it when it may. */
  bool take(const std::string &integration);

 private:
  const std::map<std::string, int> &concurrency_;
  const std::map<std::string, int> &room_;
  std::map<std::string, int> running_, taken_;
};

}  // namespace cartwire::store
