// Settings and the two Encharge endpoints the connector talks to: the Ingest
// API (write key) and the REST API (API key, optional).
#pragma once

#include <cartwire/sdk/host.hpp>
#include <cartwire/sdk/http.hpp>
#include <cartwire/sdk/result.hpp>

#include <string>

namespace cartwire::encharge {

using sdk::Host;
using sdk::HttpResponse;
using sdk::Json;
using sdk::Result;

inline constexpr const char *kDefaultIngestUrl = "https://ingest.encharge.io/v1";
inline constexpr const char *kDefaultApiUrl = "https://api.encharge.io/v1";

struct Settings {
  std::string write_key;
  /** Without a trailing slash. */
  std::string base_url;
  /** Empty when not configured. */
  std::string api_key;
  /** Without a trailing slash. */
  std::string api_base_url;

  /** Throws sdk::ConfigError naming the setting at fault (never a secret's value). */
  static Settings parse(const Json &settings);
};

class Client {
 public:
  explicit Client(Settings settings) : settings_(std::move(settings)) {}

  const Settings &settings() const { return settings_; }
  bool has_api_key() const { return !settings_.api_key.empty(); }

  /** POST one event object to the Ingest endpoint (`<base_url>/`). */
  Result ingest(const Host &host, const Json &body) const;

  /**
   * One REST call; `path` starts with '/' (relative to api_base_url), `body`
   * null for none. A missing api_key is a config result naming `purpose`.
   */
  Result rest(const Host &host, const std::string &method, const std::string &path, const Json &body,
              const std::string &purpose) const;

 private:
  Settings settings_;
};

}  // namespace cartwire::encharge
