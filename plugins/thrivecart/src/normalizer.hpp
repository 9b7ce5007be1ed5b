#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <cartwire/sdk/json.hpp>

namespace cartwire::thrivecart {

/** What the normalizer needs besides the payload. */
struct NormalizeContext {
  /** The `account` setting; names the account in dedupe keys when the payload does not. */
  std::string account;
  /** The host clock, for payloads that carry no date. */
  int64_t now_unix = 0;
  /** What the events keep as `raw`; null: the payload itself. */
  const sdk::Json *raw = nullptr;
  /** Leave `raw` out of the events: the caller hands it over once (WebhookReply::raw). */
  bool raw_apart = false;
};

/**
 * Turn one verified ThriveCart payload (the decoded tree, `thrivecart_secret`
 * already removed) into canonical events (docs/events.md). Never empty for a
 * payload with an `event`: unknown names become `thrivecart.<event>`.
 */
std::vector<sdk::Json> normalize(const sdk::Json &payload, const NormalizeContext &context);

}  // namespace cartwire::thrivecart
