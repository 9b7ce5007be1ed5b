/**
 * @file http.hpp
 * Outbound HTTP as a connector sees it, and the standard way to classify an answer.
 */
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <locale>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "cartwire/sdk/json.hpp"
#include "cartwire/sdk/result.hpp"

namespace cartwire::sdk {

/** Header names are compared case-insensitively; the map keeps them lower-case. */
using Headers = std::map<std::string, std::string>;

/** Lower-case an ASCII header name. */
inline std::string lower(std::string text) {
  for (auto &c : text)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return text;
}

/** ASCII upper case. */
inline std::string upper(std::string text) {
  for (auto &c : text)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return text;
}

/** Percent-encodes all but RFC 3986's unreserved characters, for a path segment or query value. */
inline std::string url_encode(const std::string &text) {
  static const char *hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

/**
 * The host an http:// or https:// URL names, lower-cased, without user info
 * or port ("[::1]" keeps its brackets); "" for another scheme or no host.
 */
inline std::string url_host(const std::string &url) {
  std::size_t scheme = url.rfind("https://", 0) == 0 ? 8 : url.rfind("http://", 0) == 0 ? 7 : 0;
  if (!scheme) return "";
  std::string authority = url.substr(scheme);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (std::size_t at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  std::string host = !authority.empty() && authority[0] == '[' ? authority.substr(0, authority.find(']') + 1)
                                                               : authority.substr(0, authority.find(':'));
  return lower(host);
}

/** Whether `host` (as url_host gives it, or bare "::1") is this machine: localhost, 127.0.0.0/8, ::1. */
inline bool is_this_machine(const std::string &host) {
  return host == "localhost" || host == "[::1]" || host == "::1" ||
         (host.rfind("127.", 0) == 0 && host.find_first_not_of("0123456789.") == std::string::npos);
}

/** One outbound request. The hub performs it (see Host::http). */
struct HttpRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{15000};

  Json to_json() const {
    return {{"method", method}, {"url", url}, {"headers", headers}, {"body", body},
            {"timeout_ms", timeout.count()}};
  }
  static HttpRequest from_json(const Json &j) {
    HttpRequest r;
    r.method = j.value("method", "GET");
    r.url = j.value("url", "");
    for (auto &[k, v] : object_at(j, "headers").items())
      if (v.is_string()) r.headers[lower(k)] = v.get<std::string>();
    r.body = j.value("body", "");
    r.timeout = std::chrono::milliseconds(j.value("timeout_ms", 15000));
    return r;
  }
};

/** The answer to an HttpRequest: an HTTP status, or a transport error. */
struct HttpResponse {
  /** HTTP status; 0 when no answer came (see `error`). */
  int status = 0;
  Headers headers;
  std::string body;
  /** Non-empty when the request failed before an answer (connect, TLS, timeout). */
  std::string error;
  bool timed_out = false;

  bool transport_failed() const { return status == 0; }
  bool success() const { return status >= 200 && status < 300; }
  /** The value of a header (name in any case), or "". */
  std::string header(const std::string &name) const {
    auto it = headers.find(lower(name));
    return it == headers.end() ? std::string() : it->second;
  }
  /** The body parsed as JSON, or a discarded value when it is not JSON. */
  Json json() const { return Json::parse(body, nullptr, false); }

  Json to_json() const {
    if (status == 0) return {{"error", error}, {"timeout", timed_out}};
    return {{"status", status}, {"headers", headers}, {"body", body}};
  }
  static HttpResponse from_json(const Json &j) {
    HttpResponse r;
    if (j.contains("error")) {
      r.error = j.value("error", "");
      r.timed_out = j.value("timeout", false);
      return r;
    }
    r.status = j.value("status", 0);
    for (auto &[k, v] : object_at(j, "headers").items())
      if (v.is_string()) r.headers[lower(k)] = v.get<std::string>();
    r.body = j.value("body", "");
    return r;
  }
};

/**
 * Parse a Retry-After value (RFC 9110 §10.2.3): delta-seconds (digits only),
 * or an HTTP date in the IMF-fixdate form senders must use ("Thu, 15 Jan 2026
 * 10:02:00 GMT"), counted from `now` (a date past is no delay). Anything else
 * ("soon", "1e9", "-5", "inf") and delays over a year are treated as absent.
 */
inline std::optional<std::chrono::milliseconds> parse_retry_after(
    const std::string &value, std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
  constexpr long long kMaxSeconds = 365LL * 24 * 3600;
  if (value.size() == 29 && value.compare(25, 4, " GMT") == 0) {
    std::tm tm{};
    std::istringstream in(value);
    in.imbue(std::locale::classic());
    in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S GMT");
    if (in.fail()) return std::nullopt;
    // Compared in seconds first: a date centuries away does not fit the clock's nanoseconds.
    long long ahead = static_cast<long long>(timegm(&tm)) - std::chrono::system_clock::to_time_t(now);
    if (ahead > kMaxSeconds) return std::nullopt;
    if (ahead <= 0) return std::chrono::milliseconds(0);
    auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
    return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(at - now), std::chrono::milliseconds(0));
  }
  if (value.empty() || value.size() > 12) return std::nullopt;
  long long seconds = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  if (seconds > kMaxSeconds) return std::nullopt;
  return std::chrono::seconds(seconds);
}

/** An answer in a Result's message: "<what>: HTTP <status> <first 300 bytes of the body, as UTF-8>". */
inline std::string describe(const HttpResponse &response, const std::string &what) {
  std::string body = valid_utf8(response.body.substr(0, 300));
  return what + ": HTTP " + std::to_string(response.status) + (body.empty() ? "" : " " + body);
}

/**
 * The usual mapping of an HTTP answer to a Result:
 *  - transport error or timeout, 408, 429, 5xx → retryable (Retry-After honoured);
 *  - 401 and 403 → config (credentials are wrong);
 *  - other 4xx, 3xx → permanent;
 *  - 2xx → ok, with the JSON body (when it is JSON) as data.
 * @param what  names the call in messages, e.g. "Thinkific POST /enrollments".
 */
inline Result classify(const HttpResponse &response, const std::string &what) {
  if (response.transport_failed())
    return Result::retryable(what + ": " + (response.timed_out ? "timed out" : response.error));
  int s = response.status;
  if (s >= 200 && s < 300) {
    Json data = response.json();
    return Result::ok(data.is_discarded() ? Json::object() : data);
  }
  if (s == 408 || s == 429 || s >= 500)
    return Result::retryable(describe(response, what), parse_retry_after(response.header("retry-after")));
  if (s == 401 || s == 403) return Result::config(describe(response, what));
  return Result::permanent(describe(response, what));
}

}  // namespace cartwire::sdk
