// Execution-log filters from a request's query string (or a JSON body with the same keys).
#pragma once

#include <map>
#include <optional>
#include <string>

#include <cartwire/sdk/json.hpp>

#include "store/store.hpp"

namespace cartwire::admin {

inline constexpr int kDefaultPage = 50;
inline constexpr int kMaxPage = 200;

/**
 * Keys: email, order_id, item (reference, trailing * = prefix), integration,
 * action, rule, type, source, mode (live or test), state (comma-separated),
 * event_id, since, until (RFC 3339 or epoch milliseconds), before (paging
 * cursor), limit (1..max_limit, 200 for a page). Unknown keys and bad
 * values throw std::invalid_argument naming the key, so that a typo never
 * silently widens a search or a replay.
 */
store::Search parse_search(const std::map<std::string, std::string> &query, int max_limit = kMaxPage);

/** The same keys from a JSON object; `state` may also be an array. */
store::Search parse_search(const sdk::Json &body, int max_limit = kMaxPage);

/** "2026-01-15T10:00:00Z" (any RFC 3339 offset) or milliseconds since the epoch. */
std::optional<int64_t> parse_time(const std::string &text);

/**
 * parse_time() of the parameter `key`; std::invalid_argument naming it when
 * `text` is no time, and what is out of range in a date-time that does not
 * exist ("since must be ... (got '2026-02-30T00:00:00Z': there is no day 30
 * in February 2026)").
 */
int64_t time_param(const std::string &key, const std::string &text);

}  // namespace cartwire::admin
