/**
 * @file testing/plugin_harness.hpp
 * The SDK test kit: load a built connector (.so) through the same C seam the
 * hub uses, give it a fake host, and call its actions, webhook trigger and
 * lists and poll triggers from a unit test, without a hub.
 *
 * @code
 *   cartwire::sdk::testing::PluginHarness harness(CONNECTOR_PATH);
 *   harness.on_http([](const HttpRequest &r) { return HttpResponse{201, {}, R"({"id":1})"}; });
 *   auto instance = harness.create({{"url", "https://example.test/hook"}});
 *   Result result = instance.action("post", {}, event);
 *   EXPECT_EQ(harness.requests().size(), 1u);
 * @endcode
 *
 * The fake host records every outbound request, answers it with the handler
 * given to on_http() (by default: a transport error), collects log lines and
 * serves a clock pinned with set_now_ms(). Not thread-safe: one test, one thread.
 */
#pragma once

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cartwire/sdk/abi.h"
#include "cartwire/sdk/file_import.hpp"
#include "cartwire/sdk/http.hpp"
#include "cartwire/sdk/json.hpp"
#include "cartwire/sdk/poll.hpp"
#include "cartwire/sdk/result.hpp"
#include "cartwire/sdk/webhook.hpp"

namespace cartwire::sdk::testing {

/** One log line a connector wrote through the host. */
struct LogLine {
  int level;
  std::string message;
};

class PluginHarness {
 public:
  using HttpHandler = std::function<HttpResponse(const HttpRequest &)>;

  /** Load the plugin at `path`. Throws std::runtime_error when it cannot be loaded. */
  explicit PluginHarness(const std::string &path) {
    handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) throw std::runtime_error(std::string("cannot load ") + path + ": " + dlerror());
    auto entry = reinterpret_cast<cw_entry_point_fn>(dlsym(handle_, CW_ENTRY_POINT));
    if (!entry) throw std::runtime_error(path + " does not export " CW_ENTRY_POINT);
    descriptor_ = entry();
    if (!descriptor_ || descriptor_->abi_version != CW_ABI_VERSION)
      throw std::runtime_error(path + " was built for another Cartwire ABI version");
    api_.abi_version = CW_ABI_VERSION;
    api_.alloc_callback = [](size_t size) { return static_cast<char *>(std::malloc(size ? size : 1)); };
    api_.free_callback = [](char *buffer) { std::free(buffer); };
    api_.log_callback = [](void *ctx, int level, const char *message, size_t len) {
      static_cast<PluginHarness *>(ctx)->logs_.push_back({level, std::string(message, len)});
    };
    api_.http_callback = [](void *ctx, const char *request, size_t len, char **out, size_t *out_len) {
      auto *self = static_cast<PluginHarness *>(ctx);
      HttpRequest parsed = HttpRequest::from_json(Json::parse(std::string_view(request, len)));
      self->requests_.push_back(parsed);
      HttpResponse answer;
      if (self->handler_) {
        answer = self->handler_(parsed);
      } else {
        answer.error = "no HTTP handler set in the test";
      }
      *out = copy(answer.to_json().dump(), out_len);
      return static_cast<int>(CW_OK);
    };
    api_.clock_ms_callback = [](void *ctx) { return static_cast<PluginHarness *>(ctx)->now_ms_; };
  }

  PluginHarness(const PluginHarness &) = delete;
  PluginHarness &operator=(const PluginHarness &) = delete;
  // The library stays loaded for the life of the process, as in the hub.
  ~PluginHarness() = default;

  const cw_plugin_descriptor &descriptor() const { return *descriptor_; }
  Json manifest() const { return Json::parse(descriptor_->manifest_json); }

  /** Answer every outbound request with `handler`. */
  void on_http(HttpHandler handler) { handler_ = std::move(handler); }
  /** Outbound requests made so far, oldest first. */
  const std::vector<HttpRequest> &requests() const { return requests_; }
  void clear_requests() { requests_.clear(); }
  const std::vector<LogLine> &logs() const { return logs_; }
  void set_now_ms(int64_t now_ms) { now_ms_ = now_ms; }

  /** A created connector instance; destroyed with the object. */
  class Instance {
   public:
    Instance(PluginHarness &harness, void *instance) : harness_(&harness), instance_(instance) {}
    Instance(Instance &&other) noexcept : harness_(other.harness_), instance_(other.instance_) {
      other.instance_ = nullptr;
    }
    Instance(const Instance &) = delete;
    ~Instance() {
      if (instance_) harness_->descriptor_->on_destroy(instance_);
    }

    Result action(const std::string &name, const Json &params, const Json &event = Json::object(),
                  const Json &job = {{"id", 1}, {"attempt", 1}, {"idempotency_key", "job_1"}},
                  const Json &fields = Json::object()) {
      Json request = {{"action", name}, {"params", params}, {"event", event}, {"job", job}, {"fields", fields}};
      return Result::from_json(call("action", request));
    }
    WebhookReply webhook(const WebhookRequest &request) {
      return WebhookReply::from_json(call("webhook", request.to_json(/*share_raw=*/true)));
    }
    Result list(const std::string &name) { return Result::from_json(call("list", {{"list", name}})); }
    /** Map rows of an export through an import trigger (no rows: check the header). */
    ImportReply import(const ImportRequest &request) { return ImportReply::from_json(call("import", request.to_json())); }
    /** One poll of `trigger` from `cursor` (null: the source's first poll). */
    PollReply poll(const std::string &trigger, const Json &cursor = nullptr) {
      return PollReply::from_json(call("poll", PollRequest{trigger, cursor}.to_json()));
    }

    /** Raw call through the seam; throws when the plugin reports CW_FAILED. */
    Json call(const std::string &operation, const Json &request) {
      std::string wire = request.dump();
      char *out = nullptr;
      size_t out_len = 0;
      int rc = harness_->descriptor_->on_call(instance_, harness_, operation.c_str(), wire.data(), wire.size(),
                                              &out, &out_len);
      std::string text(out ? out : "", out_len);
      std::free(out);
      if (rc != CW_OK) throw std::runtime_error("plugin call failed: " + text);
      return Json::parse(text);
    }

   private:
    PluginHarness *harness_;
    void *instance_;
  };

  /** Create an instance; throws std::runtime_error with the plugin's message when it refuses. */
  Instance create(const Json &settings) {
    std::string wire = settings.dump();
    void *instance = nullptr;
    char *error = nullptr;
    size_t error_len = 0;
    int rc = descriptor_->on_create(&api_, this, wire.data(), wire.size(), &instance, &error, &error_len);
    if (rc != CW_OK) {
      std::string text(error ? error : "", error_len);
      std::free(error);
      throw std::runtime_error(text);
    }
    return Instance(*this, instance);
  }

 private:
  static char *copy(const std::string &text, size_t *len) {
    char *buffer = static_cast<char *>(std::malloc(text.size() + 1));
    std::memcpy(buffer, text.data(), text.size());
    buffer[text.size()] = '\0';
    *len = text.size();
    return buffer;
  }

  void *handle_ = nullptr;
  const cw_plugin_descriptor *descriptor_ = nullptr;
  cw_host_api api_{};
  HttpHandler handler_;
  std::vector<HttpRequest> requests_;
  std::vector<LogLine> logs_;
  int64_t now_ms_ = 1768471200000;  // 2026-01-15T10:00:00Z
};

}  // namespace cartwire::sdk::testing
