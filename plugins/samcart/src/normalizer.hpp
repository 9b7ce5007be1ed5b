#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <cartwire/sdk/json.hpp>

namespace cartwire::samcart {

/** The integration's settings that shape events. */
struct Catalog {
  /** Currency of the marketplace; posts do not carry one. */
  std::string currency = "USD";
  /** SamCart product id → item kind (product, bump, upsell, downsell). */
  std::map<std::string, std::string> item_types;
};

/** What the normalizer needs besides the payload. */
struct NormalizeContext {
  const Catalog &catalog;
  /** The host clock: the date of posts that carry no date of their own. */
  int64_t now_unix = 0;
  /** Leave `raw` out of the events: the caller hands it over once (WebhookReply::raw). */
  bool raw_apart = false;
};

struct Normalized {
  std::vector<sdk::Json> events;
  /** Things worth telling the operator (no secrets in them). */
  std::vector<std::string> warnings;
};

/**
 * Turn one authenticated Notify URL post (a JSON object) into canonical
 * events (docs/events.md). Never empty for a non-empty payload: a name the
 * documentation does not list becomes `samcart.<name>`, the name in
 * lower-case words (CheckoutFailed → samcart.checkout_failed).
 */
Normalized normalize(const sdk::Json &payload, const NormalizeContext &context);

}  // namespace cartwire::samcart
