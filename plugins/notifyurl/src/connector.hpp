/**
 * @file connector.hpp
 * The Notify URL connector: action "post" sends the event, signed per
 * Standard Webhooks, to the integration's URL.
 */
#pragma once

#include <cartwire/sdk/connector.hpp>

#include <map>
#include <mutex>
#include <string>

#include "settings.hpp"

namespace cartwire::notifyurl {

class NotifyUrlConnector : public sdk::Connector {
 public:
  /** @throws sdk::ConfigError when the settings are unusable. */
  NotifyUrlConnector(const sdk::Json &settings, const sdk::Host &host);

  sdk::Result action(const sdk::Host &host, const sdk::ActionRequest &request) override;

 private:
  sdk::Result post(const sdk::Host &host, const sdk::ActionRequest &request);

  const Settings settings_;
  // URLs that answered 410 Gone, with when: the endpoint asked to stop
  // receiving webhooks, so they get none until a reload creates the
  // integration anew (Standard Webhooks: disable it).
  std::mutex gone_mutex_;
  std::map<std::string, std::string> gone_;
};

/** "msg_" + the job's idempotency key, with characters unsafe in the id replaced; "" when the job has none. */
std::string webhook_id(const sdk::Json &job);

}  // namespace cartwire::notifyurl
