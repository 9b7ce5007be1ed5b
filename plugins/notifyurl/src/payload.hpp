/**
 * @file payload.hpp
 * The body of a delivery: {"type", "timestamp", "data"} per the Standard
 * Webhooks payload recommendation, as JSON or as a form like a PHP cart posts.
 */
#pragma once

#include <cartwire/sdk/json.hpp>

#include <string>

namespace cartwire::notifyurl {

/** Borrows its `data` (the event, or the rule's `data` parameter) for the call. */
struct Envelope {
  sdk::Json type;
  sdk::Json timestamp;
  const sdk::Json *data = nullptr;
};

/** `{"type":…,"timestamp":…,"data":…}` in that order, compact. */
std::string json_body(const Envelope &envelope);

/**
 * `type=…&timestamp=…&data[customer][email]=…` as PHP's http_build_query()
 * writes it: bracket keys, lists indexed from 0, true/false as 1/0, nulls and
 * empty lists or maps left out, RFC 1738 escaping (space as '+').
 */
std::string form_body(const Envelope &envelope);

}  // namespace cartwire::notifyurl
