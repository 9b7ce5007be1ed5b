// Thinkific Admin API v1 over the hub's HTTP: authentication headers, query
// encoding, paging and the mapping of answers to results.
#pragma once

#include <cartwire/sdk/host.hpp>
#include <cartwire/sdk/json.hpp>
#include <cartwire/sdk/result.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "settings.hpp"

namespace cartwire::thinkific {

using sdk::Json;
using sdk::Result;
using Query = std::vector<std::pair<std::string, std::string>>;

/** "2026-01-15T10:00:00Z" for a time in milliseconds since the epoch. */
std::string iso8601(int64_t epoch_ms);


/**
 * The standard classification plus Thinkific's own signals: a 429 carries
 * RateLimit-Reset (an epoch or a delay), and older sites answer a spent budget
 * with 403 "Rate Limit Exceeded".
 */
Result classify(const sdk::HttpResponse &response, const std::string &what, int64_t now_ms);

/** A Thinkific 422 body ({"errors": {...}} or {"errors": [...]}) as one line. */
std::string validation_errors(const sdk::HttpResponse &response);

class Api {
 public:
  Api(const Settings &settings, const sdk::Host &host) : settings_(settings), host_(host) {}

  sdk::HttpResponse get(const std::string &path, const Query &query = {}) const;
  /** POST or PUT a JSON body. */
  sdk::HttpResponse send(const std::string &method, const std::string &path, const Json &body) const;

  /** Every item of a paged collection (all pages), or the failure. On success data = {"items": [...]}. */
  Result collect(const std::string &path, Query query = {}) const;

  Result fail(const sdk::HttpResponse &response, const std::string &what) const {
    return classify(response, "Thinkific " + what, now_ms());
  }
  int64_t now_ms() const;
  const Settings &settings() const { return settings_; }

 private:
  sdk::HttpRequest request(const std::string &method, const std::string &path, const Query &query) const;

  const Settings &settings_;
  const sdk::Host &host_;
};

}  // namespace cartwire::thinkific
