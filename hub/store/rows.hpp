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
  /** The id of the first event stored under any of these keys, if any: one indexed look-up of them all. */
  virtual std::optional<int64_t> stored_event(const std::vector<std::string> &dedupe_keys) = 0;
  virtual int64_t insert_payload(const std::string &text) = 0;
  virtual int64_t insert_event(const EventColumns &event) = 0;
  /** A job of `event_id`: queued and due now, or running under its lease_owner until lease_until. */
  virtual int64_t insert_job(int64_t event_id, const NewJob &job, const std::string &params, int64_t now_ms) = 0;
};

/**
 * The accept path: events whose dedupe_key, or one of their alternatives, is
 * stored already are reported as duplicates and add nothing. An event's `raw`
 * goes to payloads, once for consecutive events made of the same payload (the
 * items of one order: a raw the batch shares, or equal ones), and only for a
 * new event: a redelivery writes nothing at all.
 */
std::vector<Accepted> insert_events(AcceptWrites &writes, std::vector<NewEvent> &events, int64_t now_ms);

/**
 * An event as stored: its body, and the payload it was made of apart (events
 * stored before SQLite schema 5 carry their raw in the body).
 */
Json with_payload(const std::string &body, const std::string &payload);

/**
 * Rows as the stores' SELECTs give them, whatever the database API: `Row`
 * reads one row's columns with text(column) and number(column).
 */
template <typename Row>
JobRow job_row(const Row &r, int first = 0) {  // id, event_id, rule, integration, action, state, last_error, attempts, due_at, params
  JobRow j;
  j.id = r.number(first + 0);
  j.event_id = r.number(first + 1);
  j.rule = r.text(first + 2);
  j.integration = r.text(first + 3);
  j.action = r.text(first + 4);
  j.state = r.text(first + 5);
  j.last_error = r.text(first + 6);
  j.attempts = static_cast<int>(r.number(first + 7));
  j.due_at = r.number(first + 8);
  j.params = Json::parse(r.text(first + 9), nullptr, false);
  return j;
}

/** The columns of kPollStatusColumns, read at `now_ms` (a lease that ended names no node). */
template <typename Row>
PollStatus poll_status_row(const Row &r, int64_t now_ms) {
  PollStatus p;
  if (int64_t polled_at = r.number(0); polled_at >= 0) p.polled_at = polled_at;
  p.next_at = r.number(1);
  p.failures = static_cast<int>(r.number(2));
  p.last_error = r.text(3);
  if (r.number(5) > now_ms) p.polling_node = r.text(4);
  p.left_out = r.text(6);
  p.left_out_settings = r.text(7);
  p.left_out_ended_on = r.text(8);
  return p;
}
inline constexpr const char *kPollStatusColumns =
    "COALESCE(polled_at, -1), next_at, failures, COALESCE(last_error, ''), COALESCE(lease_owner, ''), "
    "COALESCE(lease_until, 0), COALESCE(left_out, ''), COALESCE(left_out_settings, ''), "
    "COALESCE(left_out_ended_on, '')";

/** The columns of job_search_sql(). */
template <typename Row>
JobSummary job_summary(const Row &r) {
  JobSummary s;
  s.job = job_row(r);
  s.created_at = r.number(10);
  s.updated_at = r.number(11);
  s.event_type = r.text(12);
  s.source = r.text(13);
  s.mode = r.text(14);
  s.email = r.text(15);
  s.order_id = r.text(16);
  s.item_ref = r.text(17);
  return s;
}

/** The columns of event_search_sql(). */
template <typename Row>
EventRow event_row(const Row &r) {
  EventRow e;
  e.id = r.number(0);
  e.source = r.text(1);
  e.type = r.text(2);
  e.dedupe_key = r.text(3);
  e.occurred_at = r.text(4);
  e.received_at = r.number(5);
  e.mode = r.text(6);
  e.email = r.text(7);
  e.order_id = r.text(8);
  e.item_ref = r.text(9);
  e.jobs = r.number(10);
  return e;
}

/** job_id, number, started_at, duration_ms, outcome, error, exchanges, due_at, node. */
template <typename Row>
AttemptRecord attempt_row(const Row &r) {
  AttemptRecord a;
  a.job_id = r.number(0);
  a.number = static_cast<int>(r.number(1));
  a.started_at = r.number(2);
  a.duration_ms = r.number(3);
  a.outcome = r.text(4);
  a.error = r.text(5);
  a.exchanges = Json::parse(r.text(6), nullptr, false);
  a.due_at = r.number(7);
  a.node = r.text(8);
  return a;
}

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

/** The integration of a row of claim_sql(), which ClaimLimits::take() decides by before the row is read. */
template <typename Row>
std::string claimed_integration(const Row &r) {
  return r.text(3);
}

/**
 * Runs `read`, which reads a row of claim_sql(), that of `job` (which had made
 * `attempts`); true when it read it. A row that throws is told to `watch`
 * (ClaimWatch::unreadable) and gives false: the claim leaves that job out and
 * goes on with the others, rather than fail for them all.
 */
template <typename Read>
bool read_or_leave_out(ClaimWatch *watch, int64_t job, int attempts, Read &&read) {
  try {
    read();
    return true;
  } catch (const std::exception &e) {
    if (watch) watch->unreadable(job, attempts, e.what());
    return false;
  }
}

/** A row of claim_sql(): the job leased at `now_ms`. */
template <typename Row>
ClaimedJob claimed_job(const Row &r, int64_t now_ms) {
  ClaimedJob j;
  j.integration = r.text(3);
  j.id = r.number(0);
  j.event_id = r.number(1);
  j.rule = r.text(2);
  j.action = r.text(4);
  j.params = Json::parse(r.text(5), nullptr, false);
  j.attempts = static_cast<int>(r.number(6));
  j.created_at = r.number(7);
  j.due_at = r.number(8);
  j.leased_at = now_ms;
  j.event = with_payload(r.text(9), r.text(10));
  if (j.event.is_object()) j.event["id"] = j.event_id;
  return j;
}

}  // namespace cartwire::store
