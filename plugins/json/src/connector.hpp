#pragma once

#include <string>

#include <cartwire/sdk/connector.hpp>

namespace cartwire::json {

/**
 * The hub's own JSON endpoint: events already in Cartwire's shape
 * (docs/events.md), posted by the seller's checkout, scripts or another hub,
 * signed per Standard Webhooks with the source's secret. The body is one
 * event, {"events": [...]} (up to kMaxEvents), or a Notify URL post
 * ({"type", "timestamp", "data": event}), so one hub's Notify URL can feed
 * another. Settings are fixed at construction: one instance serves
 * concurrent calls.
 */
class JsonConnector : public sdk::Connector {
 public:
  static constexpr std::size_t kMaxEvents = 100;

  /** @throws sdk::ConfigError when the secret is missing or not a Standard Webhooks secret. */
  JsonConnector(const sdk::Json &settings, const sdk::Host &host);

  sdk::WebhookReply webhook(const sdk::Host &host, const sdk::WebhookRequest &request) override;

 private:
  std::string secret_;
};

}  // namespace cartwire::json
