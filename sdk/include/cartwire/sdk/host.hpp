/**
 * @file host.hpp
 * The hub's services, as a connector uses them.
 */
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "cartwire/sdk/abi.h"
#include "cartwire/sdk/http.hpp"

namespace cartwire::sdk {

namespace native {
/**
 * The hub's services on the native seam (see CARTWIRE_NATIVE_KEY in
 * connector.hpp): the same as cw_host_api's, with C++ types instead of JSON
 * text. Offered only to a plugin built with the hub's toolchain; never throws.
 */
struct HostApi {
  HttpResponse (*http)(void *call_ctx, const HttpRequest &request) noexcept;
};
}  // namespace native

/**
 * A handle on the hub for the duration of one call. Cheap to copy; do not
 * keep it past the call it was given for (the hub ties HTTP exchanges made
 * through it to that call's attempt in the execution log).
 */
class Host {
 public:
  Host(const cw_host_api *api, void *call_ctx) : api_(api), ctx_(call_ctx) {}
  Host(const cw_host_api *api, const native::HostApi *native, void *call_ctx)
      : api_(api), native_(native), ctx_(call_ctx) {}

  /** Perform an outbound request through the hub (timeouts, TLS, logging, redaction). */
  HttpResponse http(const HttpRequest &request) const {
    if (native_) return native_->http(ctx_, request);
    std::string wire = request.to_json().dump();
    char *out = nullptr;
    size_t out_len = 0;
    if (api_->http_callback(ctx_, wire.data(), wire.size(), &out, &out_len) != CW_OK || out == nullptr) {
      api_->free_callback(out);
      HttpResponse failed;
      failed.error = "the hub refused the request";
      return failed;
    }
    Json parsed = Json::parse(std::string_view(out, out_len), nullptr, false);
    api_->free_callback(out);
    if (parsed.is_discarded()) {
      HttpResponse failed;
      failed.error = "the hub answered with malformed JSON";
      return failed;
    }
    return HttpResponse::from_json(parsed);
  }

  void debug(std::string_view message) const { log(CW_LOG_DEBUG, message); }
  void info(std::string_view message) const { log(CW_LOG_INFO, message); }
  void warning(std::string_view message) const { log(CW_LOG_WARNING, message); }
  void error(std::string_view message) const { log(CW_LOG_ERROR, message); }

  /** The hub's clock. */
  std::chrono::system_clock::time_point now() const {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(api_->clock_ms_callback(ctx_)));
  }

 private:
  void log(int level, std::string_view message) const {
    api_->log_callback(ctx_, level, message.data(), message.size());
  }
  const cw_host_api *api_;
  const native::HostApi *native_ = nullptr;
  void *ctx_;
};

}  // namespace cartwire::sdk
