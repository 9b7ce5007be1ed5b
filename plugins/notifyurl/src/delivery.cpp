#include "delivery.hpp"

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeParser.h>

#include <algorithm>
#include <regex>

namespace cartwire::notifyurl {
namespace {

std::string describe(const sdk::HttpResponse &response, const std::string &what) {
  std::string body = sdk::valid_utf8(response.body.substr(0, 300));
  return what + ": HTTP " + std::to_string(response.status) + (body.empty() ? "" : " " + body);
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(const std::string &value,
                                                           std::chrono::system_clock::time_point now) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return sdk::parse_retry_after(value);
  // Poco's parser is lenient enough to read "soon" as a date, so the shape of an
  // IMF-fixdate (RFC 9110 §5.6.7), the form senders must use, is checked first.
  static const std::regex imf_fixdate(R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)");
  if (!std::regex_match(value, imf_fixdate)) return std::nullopt;
  Poco::DateTime when;
  int tzd = 0;
  if (!Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::HTTP_FORMAT, value, when, tzd)) return std::nullopt;
  when.makeUTC(tzd);
  auto at = std::chrono::system_clock::time_point(std::chrono::microseconds(when.timestamp().epochMicroseconds()));
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
  return std::max(delay, std::chrono::milliseconds(0));
}

sdk::Result classify_delivery(const sdk::HttpResponse &response, const std::string &what,
                              std::chrono::system_clock::time_point now) {
  if (response.transport_failed()) return sdk::classify(response, what);
  int status = response.status;
  if (status >= 200 && status < 300) {
    sdk::Json data = {{"status", status}};
    sdk::Json body = response.json();
    if (!body.is_discarded()) data["response"] = body;
    return sdk::Result::ok(data);
  }
  if (sdk::lower(response.header("webhook-delivery")) == "abort-message")
    return sdk::Result::permanent(describe(response, what) +
                                  " (the receiver answered webhook-delivery: abort-message, so it is not retried)");
  if (status >= 300 && status < 400) {
    std::string location = response.header("location");
    return sdk::Result::permanent(describe(response, what) + " (redirects are not followed; set url to the final " +
                                  "address" + (location.empty() ? "" : ", Location: " + location) + ")");
  }
  if (status == 410)
    return sdk::Result::permanent(describe(response, what) +
                                  " (410 Gone: the endpoint asked to stop receiving webhooks; fix or remove "
                                  "the integration)");
  auto delay = parse_retry_after(response.header("retry-after"), now);
  if (delay) return sdk::Result::retryable(describe(response, what), delay);
  return sdk::classify(response, what);
}

}  // namespace cartwire::notifyurl
