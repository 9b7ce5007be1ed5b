#include "api.hpp"

#include <cartwire/sdk/http.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace cartwire::thinkific {
namespace {

// The documented maximum page size; fewer round trips against a 120/min budget.
constexpr int kPageLimit = 250;
// A site never has this many pages at 250 a page; stops a server that loops.
constexpr int kMaxPages = 2000;

bool contains_ci(const std::string &haystack, const std::string &needle) {
  return sdk::lower(haystack).find(sdk::lower(needle)) != std::string::npos;
}

std::optional<std::chrono::milliseconds> rate_limit_reset(const sdk::HttpResponse &response, int64_t now_ms) {
  std::string value = response.header("ratelimit-reset");
  if (value.empty()) return sdk::parse_retry_after(response.header("retry-after"));
  char *end = nullptr;
  double n = std::strtod(value.c_str(), &end);
  // "inf", "nan" and numbers past any epoch in milliseconds are no reset time
  // (and no integer holds some of them); neither is a delay over a year.
  constexpr double kLatestEpochMs = 1e13;  // the year 2286
  constexpr int64_t kMaxDelayMs = 365LL * 24 * 3600 * 1000;
  if (end == value.c_str() || !std::isfinite(n) || n < 0 || n > kLatestEpochMs)
    return sdk::parse_retry_after(response.header("retry-after"));
  // The docs disagree on the unit: an epoch (seconds or ms) or a delay in ms.
  int64_t delay;
  if (n > 1e12)
    delay = static_cast<int64_t>(n) - now_ms;
  else if (n > 1e9)
    delay = static_cast<int64_t>(n * 1000) - now_ms;
  else
    delay = static_cast<int64_t>(n);
  if (delay > kMaxDelayMs) return sdk::parse_retry_after(response.header("retry-after"));
  return std::chrono::milliseconds(delay < 0 ? 0 : delay);
}

}  // namespace

std::string iso8601(int64_t epoch_ms) {
  std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

Result classify(const sdk::HttpResponse &response, const std::string &what, int64_t now_ms) {
  Result r = sdk::classify(response, what);
  if (response.status == 429) {
    r.retry_after = rate_limit_reset(response, now_ms);
  } else if (response.status == 403 && contains_ci(response.body, "rate limit")) {
    r = Result::retryable(r.message, rate_limit_reset(response, now_ms));
  } else if (response.status == 422) {
    std::string detail = validation_errors(response);
    if (!detail.empty()) r.message = what + ": HTTP 422 " + detail;
  }
  return r;
}

std::string validation_errors(const sdk::HttpResponse &response) {
  Json body = response.json();
  if (!body.is_object()) return {};
  auto errors = body.find("errors");
  if (errors == body.end()) return body.contains("error") && body["error"].is_string() ? body["error"].get<std::string>() : "";
  auto text = [](const Json &v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  std::string out;
  if (errors->is_array()) {
    for (auto &e : *errors) out += (out.empty() ? "" : "; ") + text(e);
  } else if (errors->is_object()) {
    for (auto &[field, messages] : errors->items()) {
      std::string joined;
      if (messages.is_array())
        for (auto &m : messages) joined += (joined.empty() ? "" : ", ") + text(m);
      else
        joined = text(messages);
      out += (out.empty() ? "" : "; ") + field + " " + joined;
    }
  } else {
    out = text(*errors);
  }
  return out;
}

int64_t Api::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(host_.now().time_since_epoch()).count();
}

sdk::HttpRequest Api::request(const std::string &method, const std::string &path, const Query &query) const {
  sdk::HttpRequest r;
  r.method = method;
  r.url = settings_.base_url + path;
  for (std::size_t i = 0; i < query.size(); ++i)
    r.url += (i ? "&" : "?") + sdk::url_encode(query[i].first) + "=" + sdk::url_encode(query[i].second);
  r.headers["accept"] = "application/json";
  r.headers["content-type"] = "application/json";  // on every request, as the API's documentation asks
  if (!settings_.access_token.empty()) {
    r.headers["authorization"] = "Bearer " + settings_.access_token;
  } else {
    r.headers["x-auth-api-key"] = settings_.api_key;
    r.headers["x-auth-subdomain"] = settings_.subdomain;
  }
  return r;
}

sdk::HttpResponse Api::get(const std::string &path, const Query &query) const {
  return host_.http(request("GET", path, query));
}

sdk::HttpResponse Api::send(const std::string &method, const std::string &path, const Json &body) const {
  sdk::HttpRequest r = request(method, path, {});
  r.body = body.dump();
  return host_.http(r);
}

Result Api::collect(const std::string &path, Query query) const {
  Json items = Json::array();
  query.emplace_back("page", "1");
  query.emplace_back("limit", std::to_string(kPageLimit));
  int page = 1;
  for (int fetched = 0; fetched < kMaxPages; ++fetched) {
    query[query.size() - 2].second = std::to_string(page);
    sdk::HttpResponse response = get(path, query);
    if (!response.success()) return fail(response, "GET " + path);
    Json body = response.json();
    if (!body.is_object() || !body.contains("items") || !body["items"].is_array())
      return Result::retryable("Thinkific GET " + path + ": the answer has no \"items\" list");
    for (auto &item : body["items"]) items.push_back(item);
    const Json *pagination = nullptr;
    if (auto meta = body.find("meta"); meta != body.end() && meta->is_object())
      if (auto p = meta->find("pagination"); p != meta->end() && p->is_object()) pagination = &*p;
    if (!pagination) break;
    auto next = pagination->find("next_page");
    if (next == pagination->end() || !next->is_number()) break;
    // Compared as a number before it is made one: 1e300 fits no int.
    double next_page = next->get<double>();
    if (!(next_page > page) || next_page > kMaxPages) break;
    page = static_cast<int>(next_page);
  }
  return Result::ok({{"items", std::move(items)}});
}

}  // namespace cartwire::thinkific
