// The GoHighLevel connector: settings, action dispatch, resource lists, poll triggers.
#pragma once

#include <cartwire/sdk/connector.hpp>

#include "client.hpp"
#include "custom_fields.hpp"

namespace cartwire::ghl {

class GhlConnector : public sdk::Connector {
 public:
  GhlConnector(const Json &settings, const Host &host);

  Result action(const Host &host, const sdk::ActionRequest &request) override;
  Result list(const Host &host, const std::string &name) override;
  sdk::PollReply poll(const Host &host, const sdk::PollRequest &request) override;

 private:
  Client client_;
  CustomFieldCache fields_;
};

}  // namespace cartwire::ghl
