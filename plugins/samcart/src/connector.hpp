#pragma once

#include <string>

#include <cartwire/sdk/connector.hpp>

#include "normalizer.hpp"

namespace cartwire::samcart {

/**
 * The SamCart connector: one webhook trigger for Notify URL posts. SamCart
 * does not sign them, so the hook URL carries a secret token. Settings are
 * fixed at construction, so one instance serves concurrent calls without locking.
 */
class SamCartConnector : public sdk::Connector {
 public:
  /** Shortest token accepted: the URL is the only credential. */
  static constexpr std::size_t kMinTokenLength = 16;

  /** @throws sdk::ConfigError on a missing or short token, or a bad currency or item_types. */
  SamCartConnector(const sdk::Json &settings, const sdk::Host &host);

  sdk::WebhookReply webhook(const sdk::Host &host, const sdk::WebhookRequest &request) override;

 private:
  std::string token_;
  Catalog catalog_;
};

}  // namespace cartwire::samcart
