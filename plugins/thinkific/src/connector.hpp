// The Thinkific connector: settings, and dispatch of actions and lists.
#pragma once

#include <cartwire/sdk/connector.hpp>

#include "settings.hpp"
#include "users.hpp"

namespace cartwire::thinkific {

class ThinkificConnector : public sdk::Connector {
 public:
  ThinkificConnector(const sdk::Json &settings, const sdk::Host &host);

  sdk::Result action(const sdk::Host &host, const sdk::ActionRequest &request) override;
  sdk::Result list(const sdk::Host &host, const std::string &name) override;

 private:
  const Settings settings_;
  Definitions definitions_;
};

}  // namespace cartwire::thinkific
