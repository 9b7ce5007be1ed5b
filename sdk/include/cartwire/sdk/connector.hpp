/**
 * @file connector.hpp
 * The C++ face of the SDK: derive from Connector, register it with
 * CARTWIRE_CONNECTOR, build it with cartwire_add_connector() in CMake.
 *
 * @code
 *   #include <cartwire/sdk/connector.hpp>
 *   #include "cartwire_manifest.h"   // generated from manifest.json by cartwire_add_connector()
 *
 *   class Hello : public cartwire::sdk::Connector {
 *    public:
 *     Hello(const cartwire::sdk::Json &settings, const cartwire::sdk::Host &)
 *         : url_(settings.at("url").get<std::string>()) {}
 *     cartwire::sdk::Result action(const cartwire::sdk::Host &host,
 *                                  const cartwire::sdk::ActionRequest &request) override {
 *       auto response = host.http({"POST", url_, {}, request.event.dump()});
 *       return cartwire::sdk::classify(response, "POST " + url_);
 *     }
 *    private:
 *     std::string url_;
 *   };
 *   CARTWIRE_CONNECTOR(Hello)
 * @endcode
 *
 * Threading: the hub calls one instance from several worker threads at once.
 * Keep instance state immutable after construction, or guard it.
 *
 * Errors: never let an exception escape on purpose; if one does, the SDK turns
 * it into a permanent result carrying the exception's text (for an action) or
 * a 500 reply (for a webhook), and the hub keeps running. A value that is no
 * std::exception (`throw 42;`) is told by its type, with the connector's id
 * and the call ("connector acme threw a non-exception value (int) in action
 * add_member").
 */
#pragma once

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>

#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#endif

#include "cartwire/sdk/abi.h"
#include "cartwire/sdk/file_import.hpp"
#include "cartwire/sdk/host.hpp"
#include "cartwire/sdk/json.hpp"
#include "cartwire/sdk/poll.hpp"
#include "cartwire/sdk/result.hpp"
#include "cartwire/sdk/webhook.hpp"

/** Version of the C++ SDK, reported in the plugin's build key. */
#define CARTWIRE_SDK_VERSION "1.11.0"

#define CARTWIRE_DETAIL_STR2(x) #x
#define CARTWIRE_DETAIL_STR(x) CARTWIRE_DETAIL_STR2(x)
#if defined(__clang__)
#define CARTWIRE_DETAIL_COMPILER "clang-" CARTWIRE_DETAIL_STR(__clang_major__) "." CARTWIRE_DETAIL_STR(__clang_minor__)
#elif defined(__GNUC__)
#define CARTWIRE_DETAIL_COMPILER "gcc-" CARTWIRE_DETAIL_STR(__GNUC__) "." CARTWIRE_DETAIL_STR(__GNUC_MINOR__)
#endif
#if defined(__GLIBCXX__) && defined(_GLIBCXX_DEBUG)
#define CARTWIRE_DETAIL_STDLIB "libstdc++-" CARTWIRE_DETAIL_STR(__GLIBCXX__) "-debug"
#elif defined(__GLIBCXX__)
#define CARTWIRE_DETAIL_STDLIB \
  "libstdc++-" CARTWIRE_DETAIL_STR(__GLIBCXX__) "-cxx11abi" CARTWIRE_DETAIL_STR(_GLIBCXX_USE_CXX11_ABI)
#elif defined(_LIBCPP_VERSION)
#define CARTWIRE_DETAIL_STDLIB "libc++-" CARTWIRE_DETAIL_STR(_LIBCPP_VERSION) "-abi" CARTWIRE_DETAIL_STR(_LIBCPP_ABI_VERSION)
#endif

/**
 * What a plugin and the hub must share to pass the SDK's C++ types to each
 * other instead of JSON text: the SDK version, the compiler, the standard
 * library and its ABI, and nlohmann/json with its options. The hub takes the
 * native seam only when the plugin's key equals its own; otherwise, and with
 * a toolchain not named here (an empty key), it uses the JSON seam of abi.h.
 * Defining it before this header (to "", say) sets another key.
 */
#ifndef CARTWIRE_NATIVE_KEY
#if defined(CARTWIRE_DETAIL_COMPILER) && defined(CARTWIRE_DETAIL_STDLIB)
#define CARTWIRE_NATIVE_KEY                                                                                      \
  "cartwire-sdk " CARTWIRE_SDK_VERSION " " CARTWIRE_DETAIL_COMPILER " " CARTWIRE_DETAIL_STDLIB " nlohmann-json " \
  CARTWIRE_DETAIL_STR(NLOHMANN_JSON_VERSION_MAJOR) "." CARTWIRE_DETAIL_STR(NLOHMANN_JSON_VERSION_MINOR) "."      \
  CARTWIRE_DETAIL_STR(NLOHMANN_JSON_VERSION_PATCH) "-diagnostics" CARTWIRE_DETAIL_STR(JSON_DIAGNOSTICS)
#else
#define CARTWIRE_NATIVE_KEY ""
#endif
#endif

/** Name of the symbol that offers the native seam; optional, abi.h's entry point stays required. */
#define CW_NATIVE_ENTRY_POINT "cartwire_plugin_native"

namespace cartwire::sdk {

/** Thrown from a connector's constructor when its settings are unusable. */
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/**
 * The problems of a connector's settings, all reported at once: each check
 * that throws ConfigError is noted and the next one runs; done() throws one
 * ConfigError that names them all ("; " between them).
 *
 *   sdk::SettingsProblems problems;
 *   problems.check([&] { out.url = url_setting(settings); });
 *   problems.check([&] { out.timeout = timeout_setting(settings); });
 *   problems.done();
 */
class SettingsProblems {
 public:
  template <typename Check>
  void check(Check &&check) {
    try {
      check();
    } catch (const ConfigError &e) {
      problems_ += (problems_.empty() ? "" : "; ") + std::string(e.what());
    }
  }
  void done() const {
    if (!problems_.empty()) throw ConfigError(problems_);
  }

 private:
  std::string problems_;
};

/**
 * A text setting: "" when absent or null; ConfigError when it is not a string.
 * The message never quotes the value (it may be a secret).
 */
inline std::string string_setting(const Json &settings, const char *name) {
  auto it = settings.find(name);
  if (it == settings.end() || it->is_null()) return {};
  if (it->is_number() || it->is_boolean())  // digits or yes/no written bare in hub.yaml
    throw ConfigError(std::string("setting '") + name + "' must be a string: write it in quotes (unquoted, YAML reads it as " +
                      (it->is_number() ? "a number, and a leading 0 is lost)" : "true or false)"));
  if (!it->is_string()) throw ConfigError(std::string("setting '") + name + "' must be a string");
  return it->get<std::string>();
}

/**
 * The base URL of a remote API the connector sends its credentials to (SDK
 * 1.6.0): the setting `name`, or `fallback` when it is absent, without
 * trailing slashes. ConfigError unless it is https://, or plain http:// to
 * this machine (localhost, 127.0.0.0/8, [::1]), where a local test server
 * runs: over plain HTTP to another host an API key crosses the network in
 * the clear.
 */
inline std::string api_base_url(const Json &settings, const char *name, const std::string &fallback) {
  std::string url = string_setting(settings, name);
  if (url.empty()) url = fallback;
  const std::string refused = std::string("setting '") + name +
                              "' must start with https:// (plain http:// is taken only for this machine, e.g. a local "
                              "test server): the connector sends its credentials there";
  bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0) throw ConfigError(refused);
  while (url.size() > (https ? 8u : 7u) && url.back() == '/') url.pop_back();
  std::string host = url_host(url);
  if (host.empty()) throw ConfigError(std::string("setting '") + name + "' names no host");
  if (!https && !is_this_machine(host)) throw ConfigError(refused);
  return url;
}

/** One run of an action for one job. */
struct ActionRequest {
  /** Action name from the manifest, e.g. "enroll_course". */
  std::string action;
  /** Parameters from the rule, templates already rendered against the event. */
  Json params = Json::object();
  /** The canonical event that triggered the job. */
  Json event = Json::object();
  /** Job facts: {"id": 17, "attempt": 1, "idempotency_key": "job_17"}. The
   *  idempotency key is stable across every attempt of the job. `attempt` is
   *  the number this attempt is given as it begins: when another attempt of
   *  the job, under a lease that had ended, is recorded first, this one is
   *  recorded one higher. */
  Json job = Json::object();
  /** The integration's field mapping rendered for this event: remote field (as
   *  written in hub.yaml: an id, key or name from the manifest's field schema)
   *  → value. Empty when the integration maps nothing. */
  Json fields = Json::object();

  static ActionRequest from_json(const Json &j) { return from_json(Json(j)); }
  static ActionRequest from_json(Json &&j) {
    ActionRequest r;
    if (!j.is_object()) return r;
    r.action = j.value("action", "");
    auto take = [&](const char *key, Json &into) {
      if (auto it = j.find(key); it != j.end()) into = std::move(*it);
    };
    take("params", r.params);
    take("event", r.event);
    take("job", r.job);
    take("fields", r.fields);
    return r;
  }
  Json to_json() const {
    return {{"action", action}, {"params", params}, {"event", event}, {"job", job}, {"fields", fields}};
  }
  /** to_json().dump(), without copying the event into a new tree first. */
  std::string dump() const { return dump(event.dump()); }
  /** The same with the event given as JSON text (the hub may hold it as text already). */
  std::string dump(const std::string &event_json) const {
    return "{\"action\":" + Json(action).dump() + ",\"event\":" + event_json + ",\"fields\":" + fields.dump() +
           ",\"job\":" + job.dump() + ",\"params\":" + params.dump() + "}";
  }
};

/**
 * Base class of every connector. Override what the manifest declares; the
 * defaults answer "not supported" so the hub reports a clear error.
 */
class Connector {
 public:
  virtual ~Connector() = default;

  /** Run an action. Called concurrently from worker threads. */
  virtual Result action(const Host &host, const ActionRequest &request) {
    (void)host;
    return Result::permanent("this connector has no action '" + request.action + "'");
  }

  /** Turn an inbound webhook request into a reply and canonical events. */
  virtual WebhookReply webhook(const Host &host, const WebhookRequest &request) {
    (void)host;
    (void)request;
    return WebhookReply::reject(404, "this connector has no webhook trigger");
  }

  /**
   * Fetch a resource list, e.g. "courses". Answer
   * Result::ok({{"items", [{"id": "42", "name": "Intro"}, ...]}}); ids are strings.
   */
  virtual Result list(const Host &host, const std::string &name) {
    (void)host;
    return Result::permanent("this connector has no list '" + name + "'");
  }

  /**
   * Map rows of a cart's export to canonical events (see file_import.hpp);
   * with no rows, check the header and name the kind of export.
   */
  virtual ImportReply import(const Host &host, const ImportRequest &request) {
    (void)host;
    return ImportReply::refuse("this connector has no file import trigger '" + request.trigger + "'");
  }

  /**
   * Run a poll trigger once: fetch what changed since `request.cursor` (null
   * on the first poll) and answer PollReply::ok(events, next_cursor), or
   * PollReply::failed(result). Polls of one source never overlap.
   */
  virtual PollReply poll(const Host &host, const PollRequest &request) {
    (void)host;
    return PollReply::failed(Result::permanent("this connector has no poll trigger '" + request.trigger + "'"));
  }
};

namespace native {
/**
 * The native seam: a connector's webhook and action operations with the
 * SDK's types, for a hub built with the same toolchain (`key` equal to its
 * CARTWIRE_NATIVE_KEY, compared before anything else is read). They behave
 * as the same operations over on_call do, and never throw.
 */
struct Entry {
  const char *key;
  WebhookReply (*webhook)(void *instance, const HostApi *host, void *call_ctx, const WebhookRequest &request) noexcept;
  Result (*action)(void *instance, const HostApi *host, void *call_ctx, const ActionRequest &request) noexcept;
};
}  // namespace native

namespace detail {

inline const cw_host_api *&host_api() {
  static const cw_host_api *api = nullptr;
  return api;
}

inline char *copy_out(const std::string &text, size_t *len) {
  char *buffer = host_api()->alloc_callback(text.size() + 1);
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  *len = text.size();
  return buffer;
}

/** The connector's id, from its manifest: set by CARTWIRE_CONNECTOR's entry point, named when it throws. */
inline std::atomic<const char *> &connector_id() {
  static std::atomic<const char *> id{""};
  return id;
}

// The type of the value being handled as the C++ ABI names it ("int", "char
// const*"), or "" where the ABI does not tell it.
inline std::string thrown_type() {
#if __has_include(<cxxabi.h>)
  if (const std::type_info *type = abi::__cxa_current_exception_type()) {
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> name(abi::__cxa_demangle(type->name(), nullptr, nullptr, &status),
                                                     &std::free);
    return status == 0 && name ? std::string(name.get()) : std::string(type->name());
  }
#endif
  return {};
}

// The text of the exception being handled, as valid UTF-8: a parser's message
// may quote the invalid bytes it stopped at, and JSON carries UTF-8 only. A
// value that is no std::exception (`throw 42;`) has no text: its type is told,
// with the connector and `call`, where it was thrown ("action enroll").
inline std::string exception_text(const std::string &call) {
  std::string text;
  try {
    throw;
  } catch (const std::exception &e) {
    text = e.what();
  } catch (...) {
    std::string type = thrown_type();
    std::string id = connector_id().load(std::memory_order_relaxed);
    return "connector " + (id.empty() ? "" : id + " ") + "threw a non-exception value" +
           (type.empty() ? "" : " (" + valid_utf8(std::move(type)) + ")") + " in " + valid_utf8(call);
  }
  return valid_utf8(std::move(text));
}

// What a call's failure says: the exception's text, or what was thrown instead of one.
inline std::string threw(const std::string &call) {
  try {
    throw;
  } catch (const std::exception &) {
    return "connector threw: " + exception_text(call);
  } catch (...) {
    return exception_text(call);
  }
}

// `key` of a request, when it is text.
inline std::string request_text(const Json &request, const char *key) {
  auto it = request.find(key);
  return it != request.end() && it->is_string() ? it->get<std::string>() : std::string();
}

template <typename T>
int on_create(const cw_host_api *api, void *ctx, const char *settings, size_t len, void **instance,
              char **error, size_t *error_len) {
  host_api() = api;
  try {
    Json parsed = Json::parse(std::string_view(settings, len));
    *instance = new T(parsed, Host(api, ctx));
    return CW_OK;
  } catch (...) {
    *error = copy_out(exception_text("create"), error_len);
    return CW_FAILED;
  }
}

inline std::string dispatch(Connector &c, const Host &host, const std::string &operation, Json request) {
  if (operation == "action") {
    ActionRequest action;
    try {
      action = ActionRequest::from_json(std::move(request));
      return c.action(host, action).to_json().dump();
    } catch (...) {
      return Result::permanent(threw("action " + action.action)).to_json().dump();
    }
  }
  if (operation == "webhook") {
    try {
      return c.webhook(host, WebhookRequest::from_json(request)).dump(request.value("share_raw", false));
    } catch (...) {
      return WebhookReply::reject(500, threw("webhook " + request_text(request, "trigger"))).to_json().dump();
    }
  }
  if (operation == "list") {
    try {
      return c.list(host, request.value("list", "")).to_json().dump();
    } catch (...) {
      return Result::permanent(threw("list " + request_text(request, "list"))).to_json().dump();
    }
  }
  if (operation == "poll") {
    try {
      return c.poll(host, PollRequest::from_json(request)).to_json().dump();
    } catch (...) {
      return PollReply::failed(Result::permanent(threw("poll " + request_text(request, "trigger")))).to_json().dump();
    }
  }
  if (operation == "import") {
    try {
      return c.import(host, ImportRequest::from_json(request)).to_json().dump();
    } catch (...) {
      return ImportReply::refuse(threw("import " + request_text(request, "trigger"))).to_json().dump();
    }
  }
  return Result::permanent("unknown operation '" + operation + "'").to_json().dump();
}

inline int on_call(void *instance, void *ctx, const char *operation, const char *request, size_t len,
                   char **response, size_t *response_len) {
  try {
    Json parsed = Json::parse(std::string_view(request, len));
    std::string out =
        dispatch(*static_cast<Connector *>(instance), Host(host_api(), ctx), operation, std::move(parsed));
    *response = copy_out(out, response_len);
    return CW_OK;
  } catch (...) {
    *response = copy_out(exception_text(operation), response_len);
    return CW_FAILED;
  }
}

inline void on_destroy(void *instance) { delete static_cast<Connector *>(instance); }

inline WebhookReply native_webhook(void *instance, const native::HostApi *native, void *ctx,
                                   const WebhookRequest &request) noexcept {
  try {
    return static_cast<Connector *>(instance)->webhook(Host(host_api(), native, ctx), request);
  } catch (...) {
    return WebhookReply::reject(500, threw("webhook " + request.trigger));
  }
}

inline Result native_action(void *instance, const native::HostApi *native, void *ctx,
                            const ActionRequest &request) noexcept {
  try {
    return static_cast<Connector *>(instance)->action(Host(host_api(), native, ctx), request);
  } catch (...) {
    return Result::permanent(threw("action " + request.action));
  }
}

}  // namespace detail
}  // namespace cartwire::sdk

/**
 * Export CLASS as this library's connector. Use once, in one source file, after
 * including the generated "cartwire_manifest.h". CLASS must derive from
 * cartwire::sdk::Connector and be constructible from (const Json &settings, const Host &).
 */
#define CARTWIRE_CONNECTOR(CLASS)                                                                  \
  extern "C" __attribute__((visibility("default"))) const cw_plugin_descriptor *                   \
  cartwire_plugin_descriptor(void) {                                                               \
    ::cartwire::sdk::detail::connector_id() = cartwire_manifest::id;                               \
    static const cw_plugin_descriptor descriptor = {                                               \
        CW_ABI_VERSION,                                                                            \
        "cartwire-sdk " CARTWIRE_SDK_VERSION,                                                      \
        cartwire_manifest::id,                                                                     \
        cartwire_manifest::version,                                                                \
        cartwire_manifest::json,                                                                   \
        &::cartwire::sdk::detail::on_create<CLASS>,                                                \
        &::cartwire::sdk::detail::on_call,                                                         \
        &::cartwire::sdk::detail::on_destroy,                                                      \
    };                                                                                             \
    return &descriptor;                                                                            \
  }                                                                                                \
  extern "C" __attribute__((visibility("default"))) const ::cartwire::sdk::native::Entry *         \
  cartwire_plugin_native(void) {                                                                   \
    static const ::cartwire::sdk::native::Entry entry = {                                          \
        CARTWIRE_NATIVE_KEY,                                                                       \
        &::cartwire::sdk::detail::native_webhook,                                                  \
        &::cartwire::sdk::detail::native_action,                                                   \
    };                                                                                             \
    return &entry;                                                                                 \
  }
