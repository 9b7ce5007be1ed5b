#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <cartwire/sdk/webhook.hpp>

namespace cartwire::samcart {

/** The tokens a request presents: the `token` query parameter and the last segment of the path. */
struct PresentedTokens {
  std::optional<std::string> query;
  std::optional<std::string> path;

  bool any() const { return query.has_value() || path.has_value(); }
};

PresentedTokens presented_tokens(const sdk::WebhookRequest &request);

}  // namespace cartwire::samcart
