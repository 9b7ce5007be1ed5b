// The Encharge connector: settings, action dispatch, resource lists.
#pragma once

#include <cartwire/sdk/connector.hpp>

#include "client.hpp"

namespace cartwire::encharge {

class EnchargeConnector : public sdk::Connector {
 public:
  EnchargeConnector(const Json &settings, const Host &host);

  Result action(const Host &host, const sdk::ActionRequest &request) override;
  Result list(const Host &host, const std::string &name) override;

 private:
  const Client client_;
};

}  // namespace cartwire::encharge
