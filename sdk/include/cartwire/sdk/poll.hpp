/**
 * @file poll.hpp
 * Poll triggers: the hub calls the connector on an interval with the cursor
 * it kept from the previous poll; the connector answers with the events that
 * happened since and the cursor to start from next time.
 */
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "cartwire/sdk/json.hpp"
#include "cartwire/sdk/result.hpp"

namespace cartwire::sdk {

/** One poll of one source. */
struct PollRequest {
  /** Name of the poll trigger in the manifest, e.g. "contacts_changed". */
  std::string trigger;
  /** The cursor returned by the last successful poll, as the connector wrote
   *  it (any JSON); null on the first poll of the source. */
  Json cursor = nullptr;

  static PollRequest from_json(const Json &j) {
    PollRequest r;
    r.trigger = j.value("trigger", "");
    if (auto it = j.find("cursor"); it != j.end()) r.cursor = *it;
    return r;
  }
  Json to_json() const { return {{"trigger", trigger}, {"cursor", cursor}}; }
};

/**
 * What a poll found.
 *
 * `result` says how the poll went, in the classes actions use: ok, retryable
 * (the hub tries again on a later tick, backing off, honouring retry_after),
 * permanent or config (reported as such, tried again on later ticks).
 * Only an ok poll stores anything: its `events` (canonical events, each with
 * at least `type` and `dedupe_key`; the hub adds `id` and `source`) and its
 * `cursor` are stored in one transaction, so a crash replays the poll from
 * the previous cursor and the dedupe keys drop what was already stored.
 * Make `dedupe_key` name the fact (e.g. the record id and its change time) so
 * the same change seen twice is one event and a later change is a new one.
 */
struct PollReply {
  Result result;
  std::vector<Json> events;
  Json cursor = nullptr;

  /** The poll ran: emit `events` (possibly none) and continue from `cursor` next time. */
  static PollReply ok(std::vector<Json> events, Json cursor) {
    PollReply r;
    r.events = std::move(events);
    r.cursor = std::move(cursor);
    return r;
  }
  /** The poll failed: nothing is stored and the cursor stays where it was. */
  static PollReply failed(Result result) {
    PollReply r;
    r.result = std::move(result);
    return r;
  }

  /** Wire form: the Result's fields plus {"events": [...], "cursor": ...}. */
  Json to_json() const {
    Json out = result.to_json();
    out["events"] = events;
    out["cursor"] = cursor;
    return out;
  }
  static PollReply from_json(const Json &j) {
    PollReply r;
    r.result = Result::from_json(j);
    if (auto it = j.find("cursor"); it != j.end()) r.cursor = *it;
    if (auto it = j.find("events"); it != j.end() && it->is_array())
      for (auto &e : *it) r.events.push_back(e);
    return r;
  }
};

}  // namespace cartwire::sdk
