// The LeadConnector v2 client: settings, the headers every call carries, and
// how an answer becomes a Result (the 429 handling the API's headers allow).
#pragma once

#include <cartwire/sdk/host.hpp>
#include <cartwire/sdk/http.hpp>
#include <cartwire/sdk/result.hpp>

#include <string>

namespace cartwire::ghl {

using sdk::Host;
using sdk::HttpResponse;
using sdk::Json;
using sdk::Result;

inline constexpr const char *kApiVersion = "2021-07-28";
inline constexpr const char *kDefaultBaseUrl = "https://services.leadconnectorhq.com";

struct Settings {
  std::string base_url;
  std::string token;
  std::string location_id;
  std::string source;

  /** Throws sdk::ConfigError naming the setting at fault (never its value when secret). */
  static Settings parse(const Json &settings);
};


/**
 * classify() plus what a 429 from LeadConnector needs: Retry-After is not
 * documented there, so without it the wait comes from the burst window
 * (X-RateLimit-Interval-Milliseconds), or a long pause when the daily budget
 * is what ran out.
 */
Result outcome(const HttpResponse &response, const std::string &what);

class Client {
 public:
  explicit Client(Settings settings) : settings_(std::move(settings)) {}

  const Settings &settings() const { return settings_; }
  const std::string &location_id() const { return settings_.location_id; }

  /** One request; `path` starts with '/' and carries an encoded query. `body` null: none. */
  HttpResponse send(const Host &host, const std::string &method, const std::string &path,
                    const Json &body = nullptr) const;
  /** send() and outcome(), naming the call "GoHighLevel <METHOD> <path without query>". */
  Result call(const Host &host, const std::string &method, const std::string &path,
              const Json &body = nullptr) const;

 private:
  Settings settings_;
};

}  // namespace cartwire::ghl
