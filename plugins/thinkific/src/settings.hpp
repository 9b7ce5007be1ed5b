// The integration's settings, checked once when the connector is created.
#pragma once

#include <cartwire/sdk/json.hpp>

#include <string>

namespace cartwire::thinkific {

inline constexpr const char *kDefaultBaseUrl = "https://api.thinkific.com/api/public/v1";

struct Settings {
  std::string base_url = kDefaultBaseUrl;  // without a trailing slash
  std::string subdomain;
  std::string api_key;
  std::string access_token;
  bool send_welcome_email = true;
};

/** Throws sdk::ConfigError naming the problem (never a secret's value). */
Settings parse_settings(const sdk::Json &settings);

}  // namespace cartwire::thinkific
