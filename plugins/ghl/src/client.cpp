#include "client.hpp"

#include <cartwire/sdk/connector.hpp>

#include <chrono>
#include <cstdlib>

namespace cartwire::ghl {
namespace {

std::string what_of(const std::string &method, const std::string &path) {
  return "GoHighLevel " + method + " " + path.substr(0, path.find('?'));
}

}  // namespace

Settings Settings::parse(const Json &settings) {
  if (!settings.is_object()) throw sdk::ConfigError("settings must be an object");
  Settings s;
  sdk::SettingsProblems problems;
  problems.check([&] {
    s.token = sdk::string_setting(settings, "token");
    if (s.token.empty())
      throw sdk::ConfigError("setting 'token' is required: a Private Integration Token or location access token");
  });
  problems.check([&] {
    s.location_id = sdk::string_setting(settings, "location_id");
    if (s.location_id.empty())
      throw sdk::ConfigError("setting 'location_id' is required: the sub-account (location) id");
    if (s.location_id.find_first_of("/?#& ") != std::string::npos)
      throw sdk::ConfigError("setting 'location_id' must be a bare location id such as ve9EPM428h8vShlRW1KT");
  });
  problems.check([&] { s.base_url = sdk::api_base_url(settings, "base_url", kDefaultBaseUrl); });
  problems.check([&] { s.source = sdk::string_setting(settings, "source"); });
  problems.done();
  return s;
}

Result outcome(const HttpResponse &response, const std::string &what) {
  Result r = sdk::classify(response, what);
  if (response.status == 401)
    r.message += " (check the 'token' setting: it must be a token of this location with the contacts scopes)";
  if (response.status != 429 || r.retry_after) return r;
  if (response.header("x-ratelimit-daily-remaining") == "0") {
    // No reset time is published for the daily budget; pausing beats hammering.
    r.retry_after = std::chrono::minutes(15);
    r.message += " (daily request budget used up)";
    return r;
  }
  std::string interval = response.header("x-ratelimit-interval-milliseconds");
  char *end = nullptr;
  long long ms = interval.empty() ? 0 : std::strtoll(interval.c_str(), &end, 10);
  r.retry_after = std::chrono::milliseconds(ms > 0 && end && *end == '\0' ? ms : 10000);
  return r;
}

HttpResponse Client::send(const Host &host, const std::string &method, const std::string &path,
                          const Json &body) const {
  sdk::HttpRequest request;
  request.method = method;
  request.url = settings_.base_url + path;
  request.headers["authorization"] = "Bearer " + settings_.token;
  request.headers["version"] = kApiVersion;
  request.headers["accept"] = "application/json";
  if (!body.is_null()) {
    request.headers["content-type"] = "application/json";
    request.body = body.dump();
  }
  HttpResponse response = host.http(request);
  if (!response.success() && !response.transport_failed()) {
    Json parsed = response.json();
    if (parsed.is_object() && parsed.contains("traceId") && parsed["traceId"].is_string())
      host.debug(what_of(method, path) + ": HTTP " + std::to_string(response.status) + " traceId " +
                 parsed["traceId"].get<std::string>());
  }
  return response;
}

Result Client::call(const Host &host, const std::string &method, const std::string &path, const Json &body) const {
  return outcome(send(host, method, path, body), what_of(method, path));
}

}  // namespace cartwire::ghl
