#include "settings.hpp"

#include <cartwire/sdk/connector.hpp>

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace cartwire::notifyurl {
namespace {

using sdk::ConfigError;
using sdk::Json;

constexpr long long kMinTimeoutMs = 1000;
constexpr long long kMaxTimeoutMs = 120000;

// The connector owns these: overriding them would break the signature or the body.
constexpr std::array kReservedHeaders = {"content-type", "content-length", "host", "transfer-encoding",
                                         "webhook-id", "webhook-timestamp", "webhook-signature"};

std::string fail(const std::string &what) { return "notifyurl: " + what; }

bool present(const Json &settings, const char *name) {
  auto it = settings.find(name);
  return it != settings.end() && !it->is_null();
}

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string header_value(const std::string &name, const Json &value) {
  std::string text;
  if (value.is_string()) text = value.get<std::string>();
  else if (value.is_number() || value.is_boolean()) text = value.dump();
  else throw ConfigError(fail("header '" + name + "' must have a text value"));
  // A line break would let the value smuggle further headers into the request.
  if (text.find_first_of("\r\n") != std::string::npos || text.find('\0') != std::string::npos)
    throw ConfigError(fail("header '" + name + "' must not contain line breaks"));
  return text;
}

sdk::Headers parse_headers(const Json &headers) {
  if (!headers.is_object()) throw ConfigError(fail("setting 'headers' must be a map of header name to value"));
  sdk::Headers out;
  for (const auto &[name, value] : headers.items()) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char))
      throw ConfigError(fail("header name '" + name + "' is not a valid HTTP header name"));
    std::string key = sdk::lower(name);
    if (std::find(kReservedHeaders.begin(), kReservedHeaders.end(), key) != kReservedHeaders.end())
      throw ConfigError(fail("header '" + name + "' is set by the connector and cannot be configured"));
    out[key] = header_value(name, value);
  }
  return out;
}

std::chrono::milliseconds parse_timeout(const Json &value) {
  long long ms = -1;
  if (value.is_number_integer()) {
    ms = value.get<long long>();
  } else if (value.is_string()) {
    const std::string &text = value.get_ref<const std::string &>();
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (error != std::errc() || end != text.data() + text.size()) ms = -1;
  }
  if (ms < kMinTimeoutMs || ms > kMaxTimeoutMs)
    throw ConfigError(fail("setting 'timeout_ms' must be a whole number of milliseconds from " +
                           std::to_string(kMinTimeoutMs) + " to " + std::to_string(kMaxTimeoutMs)));
  return std::chrono::milliseconds(ms);
}

}  // namespace

std::optional<std::string> url_problem(const std::string &url) {
  if (url.empty()) return "it is empty";
  if (url.find_first_of(" \t\r\n") != std::string::npos) return "it contains whitespace";
  try {
    Poco::URI uri(url);
    if (uri.getScheme() != "http" && uri.getScheme() != "https")
      return "it must be an absolute URL starting with https:// or http://";
    if (uri.getHost().empty()) return "it has no host";
  } catch (const Poco::SyntaxException &) {
    return "it is not a valid URL";
  }
  return std::nullopt;
}

std::string endpoint_of(const std::string &url) {
  try {
    Poco::URI uri(url);
    std::string out = uri.getScheme() + "://" + uri.getHost();
    if (uri.getSpecifiedPort() != 0) out += ":" + std::to_string(uri.getSpecifiedPort());
    // The path as written, where the hub finds the token a hook URL's path may carry; not the query.
    std::size_t path = url.find_first_of("/?#", url.find("://") + 3);
    if (path != std::string::npos && url[path] == '/') out += url.substr(path, url.find_first_of("?#", path) - path);
    return out;
  } catch (const Poco::Exception &) {
    return "the notify URL";
  }
}

Settings Settings::parse(const Json &settings) {
  if (!settings.is_object()) throw ConfigError(fail("settings must be a map"));
  Settings out;
  sdk::SettingsProblems problems;

  problems.check([&] {
    if (!present(settings, "url") || !settings["url"].is_string())
      throw ConfigError(fail("setting 'url' is required: the http(s) address to POST events to"));
    out.url = settings["url"].get<std::string>();
    if (auto problem = url_problem(out.url)) throw ConfigError(fail("setting 'url' is unusable: " + *problem));
  });

  if (present(settings, "secret")) problems.check([&] {
    if (!settings["secret"].is_string()) throw ConfigError(fail("setting 'secret' must be text (whsec_<base64>)"));
    try {
      const std::string &secret = settings["secret"].get_ref<const std::string &>();
      std::size_t bytes = decode_secret(secret).size();
      if (bytes < kMinSecretBytes || bytes > kMaxSecretBytes)
        throw SecretError("the signing secret is " + std::to_string(bytes) + " byte(s) long; Standard Webhooks secrets are " +
                          std::to_string(kMinSecretBytes) + " to " + std::to_string(kMaxSecretBytes) +
                          " random bytes (make one with: echo whsec_$(openssl rand -base64 32))");
      out.signer.emplace(secret);
    } catch (const SecretError &e) {
      throw ConfigError(fail(std::string("setting 'secret' is unusable: ") + e.what()));
    }
  });

  if (present(settings, "format")) problems.check([&] {
    const Json &format = settings["format"];
    if (format == "json") out.format = Format::json;
    else if (format == "form") out.format = Format::form;
    else throw ConfigError(fail("setting 'format' must be \"json\" or \"form\""));
  });

  if (present(settings, "headers")) problems.check([&] { out.headers = parse_headers(settings["headers"]); });
  if (present(settings, "timeout_ms")) problems.check([&] { out.timeout = parse_timeout(settings["timeout_ms"]); });
  problems.done();
  return out;
}

}  // namespace cartwire::notifyurl
