/**
 * @file delivery.hpp
 * What one answer from the receiver means for the job.
 */
#pragma once

#include <cartwire/sdk/http.hpp>
#include <cartwire/sdk/result.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace cartwire::notifyurl {

/**
 * sdk::classify() plus the Standard Webhooks rules: 3xx is permanent (redirects
 * are not followed), 410 is permanent (the endpoint asked to stop), a
 * `webhook-delivery: abort-message` header is permanent, and any failed answer
 * carrying a Retry-After is retryable after that delay.
 * @param what  names the call in messages, e.g. "POST https://example.com".
 * @param now   the hub's clock, for Retry-After given as an HTTP date.
 */
sdk::Result classify_delivery(const sdk::HttpResponse &response, const std::string &what,
                              std::chrono::system_clock::time_point now);

}  // namespace cartwire::notifyurl
