#include "delivery.hpp"

namespace cartwire::notifyurl {

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
    return sdk::Result::permanent(sdk::describe(response, what) +
                                  " (the receiver answered webhook-delivery: abort-message, so it is not retried)");
  if (status >= 300 && status < 400) {
    std::string location = response.header("location");
    return sdk::Result::permanent(sdk::describe(response, what) +
                                  " (redirects are not followed; set url to the final address" +
                                  (location.empty() ? "" : ", Location: " + location) + ")");
  }
  if (status == 410)
    return sdk::Result::permanent(sdk::describe(response, what) +
                                  " (410 Gone: the endpoint asked to stop receiving webhooks; fix or remove "
                                  "the integration)");
  auto delay = sdk::parse_retry_after(response.header("retry-after"), now);
  if (delay) return sdk::Result::retryable(sdk::describe(response, what), delay);
  return sdk::classify(response, what);
}

}  // namespace cartwire::notifyurl
