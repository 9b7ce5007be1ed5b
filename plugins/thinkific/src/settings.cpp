#include "settings.hpp"

#include <cartwire/sdk/connector.hpp>

namespace cartwire::thinkific {
Settings parse_settings(const sdk::Json &settings) {
  if (!settings.is_object()) throw sdk::ConfigError("thinkific: settings must be an object");
  Settings s;
  sdk::SettingsProblems problems;
  problems.check([&] {
    s.subdomain = sdk::string_setting(settings, "subdomain");
    s.api_key = sdk::string_setting(settings, "api_key");
    s.access_token = sdk::string_setting(settings, "access_token");
    bool key_auth = !s.api_key.empty() || !s.subdomain.empty();
    if (key_auth && !s.access_token.empty())
      throw sdk::ConfigError("thinkific: set either access_token or api_key + subdomain, not both");
    if (!key_auth && s.access_token.empty())
      throw sdk::ConfigError("thinkific: set api_key and subdomain (private app) or access_token (OAuth app)");
    if (key_auth && s.api_key.empty()) throw sdk::ConfigError("thinkific: subdomain is set but api_key is missing");
    if (key_auth && s.subdomain.empty())
      throw sdk::ConfigError("thinkific: api_key is set but subdomain is missing (acme for acme.thinkific.com)");
    if (s.subdomain.find('.') != std::string::npos || s.subdomain.find('/') != std::string::npos)
      throw sdk::ConfigError("thinkific: subdomain must be the bare site name (acme, not acme.thinkific.com)");
  });
  problems.check([&] { s.base_url = sdk::api_base_url(settings, "base_url", s.base_url); });
  if (auto it = settings.find("send_welcome_email"); it != settings.end() && !it->is_null()) problems.check([&] {
    if (!it->is_boolean()) throw sdk::ConfigError("thinkific: setting 'send_welcome_email' must be true or false");
    s.send_welcome_email = it->get<bool>();
  });
  problems.done();
  return s;
}

}  // namespace cartwire::thinkific
