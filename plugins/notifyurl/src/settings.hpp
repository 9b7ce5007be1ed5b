/**
 * @file settings.hpp
 * The integration's settings, checked once when the integration is created.
 */
#pragma once

#include <cartwire/sdk/http.hpp>
#include <cartwire/sdk/json.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "signer.hpp"

namespace cartwire::notifyurl {

enum class Format { json, form };

struct Settings {
  std::string url;
  /** Absent when no secret is configured: deliveries then go unsigned. */
  std::optional<Signer> signer;
  Format format = Format::json;
  /** Extra request headers, names lower-case. */
  sdk::Headers headers;
  std::chrono::milliseconds timeout{15000};

  /** @throws sdk::ConfigError naming the setting; never quotes the secret. */
  static Settings parse(const sdk::Json &settings);
};

/** Why `url` cannot be posted to, or nullopt when it is an absolute http(s) URL. */
std::optional<std::string> url_problem(const std::string &url);

/**
 * scheme://host[:port]/path of `url`, for messages that tell two endpoints of one host apart: never its
 * user info or query, which may carry credentials; the hub masks a token its path carries.
 */
std::string endpoint_of(const std::string &url);

}  // namespace cartwire::notifyurl
