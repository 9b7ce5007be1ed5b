/**
 * @file connector.hpp
 * The Notify URL connector: action "post" sends the event, signed per
 * Standard Webhooks, to the integration's URL.
 */
#pragma once

#include <cartwire/sdk/connector.hpp>

#include "settings.hpp"

namespace cartwire::notifyurl {

class NotifyUrlConnector : public sdk::Connector {
 public:
  /** @throws sdk::ConfigError when the settings are unusable. */
  NotifyUrlConnector(const sdk::Json &settings, const sdk::Host &host);

  sdk::Result action(const sdk::Host &host, const sdk::ActionRequest &request) override;

 private:
  sdk::Result post(const sdk::Host &host, const sdk::ActionRequest &request) const;

  const Settings settings_;
};

/** "msg_" + the job's idempotency key, with characters unsafe in the id replaced; "" when the job has none. */
std::string webhook_id(const sdk::Json &job);

}  // namespace cartwire::notifyurl
