#include "client.hpp"

#include <cartwire/sdk/connector.hpp>

namespace cartwire::encharge {
namespace {

// "https://ingest.encharge.io/v1" → "/v1": names the call in messages without the host.
std::string path_of(const std::string &url) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "" : url.substr(slash);
}

}  // namespace

Settings Settings::parse(const Json &settings) {
  if (!settings.is_object()) throw sdk::ConfigError("settings must be an object");
  Settings s;
  sdk::SettingsProblems problems;
  problems.check([&] {
    s.write_key = sdk::string_setting(settings, "write_key");
    if (s.write_key.empty())
      throw sdk::ConfigError("setting 'write_key' is required: the account write key from Encharge > Account > Info");
  });
  problems.check([&] { s.base_url = sdk::api_base_url(settings, "base_url", kDefaultIngestUrl); });
  problems.check([&] { s.api_key = sdk::string_setting(settings, "api_key"); });
  problems.check([&] { s.api_base_url = sdk::api_base_url(settings, "api_base_url", kDefaultApiUrl); });
  problems.done();
  return s;
}

Result Client::ingest(const Host &host, const Json &body) const {
  sdk::HttpRequest request;
  request.method = "POST";
  request.url = settings_.base_url + "/";
  request.headers["content-type"] = "application/json";
  request.headers["accept"] = "application/json";
  request.headers["x-encharge-token"] = settings_.write_key;
  request.body = body.dump();
  return sdk::classify(host.http(request), "Encharge POST " + path_of(request.url));
}

Result Client::rest(const Host &host, const std::string &method, const std::string &path, const Json &body,
                    const std::string &purpose) const {
  if (!has_api_key())
    return Result::config(purpose + " needs the Encharge REST API key: set the integration's 'api_key' setting");
  sdk::HttpRequest request;
  request.method = method;
  request.url = settings_.api_base_url + path;
  request.headers["accept"] = "application/json";
  request.headers["x-encharge-token"] = settings_.api_key;
  if (!body.is_null()) {
    request.headers["content-type"] = "application/json";
    request.body = body.dump();
  }
  return sdk::classify(host.http(request), "Encharge " + method + " " + path_of(request.url));
}

}  // namespace cartwire::encharge
