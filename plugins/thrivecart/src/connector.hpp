#pragma once

#include <string>

#include <cartwire/sdk/connector.hpp>

namespace cartwire::thrivecart {

/**
 * The ThriveCart connector: a webhook trigger for the account-level
 * "Webhooks & notifications" deliveries and a file import trigger for the
 * CSV exports, which produce the same events. Settings are fixed at construction,
 * so one instance serves concurrent calls without locking.
 */
class ThriveCartConnector : public sdk::Connector {
 public:
  /**
   * @throws sdk::ConfigError when a setting is not text, or `secret` is empty. `secret` may be left out (a
   * source for imports only): every webhook is refused then.
   */
  ThriveCartConnector(const sdk::Json &settings, const sdk::Host &host);

  sdk::WebhookReply webhook(const sdk::Host &host, const sdk::WebhookRequest &request) override;

  /** The "csv" trigger: rows of the orders and subscriptions exports (csv_import.hpp). */
  sdk::ImportReply import(const sdk::Host &host, const sdk::ImportRequest &request) override;

 private:
  std::string secret_;
  std::string account_;
};

}  // namespace cartwire::thrivecart
