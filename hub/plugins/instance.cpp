#include "plugins/instance.hpp"

#include <Poco/Logger.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "plugins/crash_note.hpp"

namespace cartwire::plugins {

struct CallContext {
  Instance *instance;
  CallLog *log;  // may be null (webhook calls record no exchanges)
  bool dry = false;  // a dry run: requests are recorded, never sent
  const Redactor *own = nullptr;  // the call's secrets when they are more than the instance's
  const Redactor &secrets() const { return own ? *own : instance->redactor(); }
};

namespace {

char *alloc(size_t size) {
  void *p = std::malloc(size ? size : 1);
  if (!p) std::abort();
  return static_cast<char *>(p);
}

void release(char *buffer) { std::free(buffer); }

char *copy_out(const std::string &text, size_t *len) {
  char *buffer = alloc(text.size() + 1);
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  *len = text.size();
  return buffer;
}

// A recorded text: secrets masked first (a cut could split one), then cut at
// `limit`, then made valid UTF-8 (an answer in Latin-1, a cut inside a
// character), or the attempt could not be stored as JSON.
std::string recorded(const Redactor &r, const std::string &text, std::size_t limit) {
  std::string masked = r.apply(text);
  if (masked.size() > limit)
    masked = masked.substr(0, limit) + "... [" + std::to_string(masked.size() - limit) + " more bytes]";
  return sdk::valid_utf8(std::move(masked));
}

sdk::Headers recorded(const Redactor &r, const sdk::Headers &headers) {
  sdk::Headers masked = r.headers(headers);
  if (std::all_of(masked.begin(), masked.end(), [](auto &h) { return sdk::is_utf8(h.first) && sdk::is_utf8(h.second); }))
    return masked;
  sdk::Headers out;
  for (auto &[name, value] : masked) out[sdk::valid_utf8(name)] = sdk::valid_utf8(value);
  return out;
}

// A URL or an error is recorded whole: the cut is for bodies.
constexpr std::size_t kWhole = std::string::npos;

// An outbound request as the execution log keeps it.
sdk::Json recorded(const Redactor &r, const sdk::HttpRequest &req, std::size_t body_limit) {
  return {{"method", req.method},
          {"url", recorded(r, req.url, kWhole)},
          {"headers", recorded(r, req.headers)},
          {"body", recorded(r, req.body, body_limit)}};
}

void log_callback(void *ctx, int level, const char *message, size_t len) {
  auto *call = static_cast<CallContext *>(ctx);
  auto &logger = Poco::Logger::get("connector." + call->instance->plugin().manifest.id);
  std::string text = call->instance->name() + ": " + call->secrets().apply(std::string(message, len));
  switch (level) {
    case CW_LOG_DEBUG: logger.debug(text); break;
    case CW_LOG_INFO: logger.information(text); break;
    case CW_LOG_WARNING: logger.warning(text); break;
    default: logger.error(text); break;
  }
}

int http_callback(void *ctx, const char *request, size_t len, char **response, size_t *response_len);
int64_t clock_callback(void *ctx);

const cw_host_api kHostApi = {CW_ABI_VERSION, &alloc, &release, &log_callback, &http_callback, &clock_callback};

}  // namespace

// Friends of Instance reach its services through this accessor.
struct HostAccess {
  static HostServices &services(Instance &i) { return i.services_; }
  static RateGate &rate_gate(Instance &i) { return *i.rate_gate_; }
};

namespace {

// The answer a dry run gives every request: 200 with an empty object, as a
// remote that knows nothing yet would (searches find nothing). Past
// kDryRequests a call is stopped.
constexpr std::size_t kDryRequests = 10;

sdk::HttpResponse dry_exchange(CallContext *call, const sdk::HttpRequest &req) {
  const Redactor &r = call->secrets();
  std::size_t limit = HostAccess::services(*call->instance).body_limit;
  sdk::HttpResponse made_up;
  if (call->log->exchanges.size() >= kDryRequests) {
    made_up.error = "dry run: stopped after " + std::to_string(kDryRequests) + " requests";
    return made_up;
  }
  Exchange ex;
  ex.request = recorded(r, req, limit);
  ex.response = {{"dry_run", true}};
  call->log->exchanges.push_back(std::move(ex));
  made_up.status = 200;
  made_up.headers["content-type"] = "application/json";
  made_up.body = "{}";
  return made_up;
}

// One outbound request on behalf of a call, recorded (redacted) in its log.
sdk::HttpResponse exchange(CallContext *call, const sdk::HttpRequest &req) {
  if (call->dry && call->log) return dry_exchange(call, req);
  HostServices &services = HostAccess::services(*call->instance);
  HostAccess::rate_gate(*call->instance).acquire();
  auto started = std::chrono::steady_clock::now();
  sdk::HttpResponse resp = services.client.perform(req);
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  if (call->log) {
    const Redactor &r = call->secrets();
    Exchange ex;
    ex.request = recorded(r, req, services.body_limit);
    if (resp.transport_failed()) {
      ex.response = {{"error", recorded(r, resp.error, kWhole)}, {"timeout", resp.timed_out}};
    } else {
      ex.response = {{"status", resp.status},
                     {"headers", recorded(r, resp.headers)},
                     {"body", recorded(r, resp.body, services.body_limit)}};
    }
    ex.duration_ms = elapsed.count();
    call->log->exchanges.push_back(std::move(ex));
  }
  return resp;
}

int http_callback(void *ctx, const char *request, size_t len, char **response, size_t *response_len) {
  auto *call = static_cast<CallContext *>(ctx);
  sdk::Json parsed = sdk::Json::parse(std::string_view(request, len), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    *response = copy_out(sdk::Json{{"error", "malformed request JSON"}}.dump(), response_len);
    return CW_OK;
  }
  *response = copy_out(exchange(call, sdk::HttpRequest::from_json(parsed)).to_json().dump(), response_len);
  return CW_OK;
}

// Header names are lower case, as HttpRequest::from_json makes them on the JSON seam.
bool lower_case_names(const sdk::Headers &headers) {
  return std::all_of(headers.begin(), headers.end(), [](auto &h) { return sdk::lower(h.first) == h.first; });
}

sdk::HttpResponse native_http(void *ctx, const sdk::HttpRequest &request) noexcept {
  try {
    auto *call = static_cast<CallContext *>(ctx);
    if (lower_case_names(request.headers)) return exchange(call, request);
    sdk::HttpRequest lowered = request;
    lowered.headers.clear();
    for (auto &[name, value] : request.headers) lowered.headers[sdk::lower(name)] = value;
    return exchange(call, lowered);
  } catch (const std::exception &e) {
    sdk::HttpResponse failed;
    failed.error = std::string("the hub could not send the request: ") + e.what();
    return failed;
  }
}

const sdk::native::HostApi kNativeHost = {&native_http};

int64_t clock_callback(void *ctx) {
  auto *call = static_cast<CallContext *>(ctx);
  return HostAccess::services(*call->instance).clock_ms();
}

}  // namespace

const cw_host_api *host_api() { return &kHostApi; }

bool secret_setting(const Plugin *plugin, const std::string &key) {
  const FieldSpec *spec = plugin ? plugin->manifest.setting(key) : nullptr;
  return spec ? spec->secret : looks_secret(key);
}

namespace {

// The budget an instance spends: its own, or that of the remote account its
// connector's limit counts against (RateLimit::shared_by).
std::string rate_budget(const Plugin &plugin, const std::string &name, const sdk::Json &settings) {
  const std::string &by = plugin.manifest.rate_limit.shared_by;
  if (by.empty() || !settings.is_object()) return name;
  auto it = settings.find(by);
  if (it == settings.end() || !it->is_string() || it->get_ref<const std::string &>().empty()) return name;
  return plugin.manifest.id + " " + by + "=" + it->get<std::string>();
}

}  // namespace

Instance::Instance(const Plugin &plugin, std::string name, const sdk::Json &settings, HostServices &services,
                   const Redactor &hub_secrets, bool native_calls, const RateLimit *rate_limit)
    : plugin_(plugin),
      library_(plugin.load()),
      descriptor_(*library_->descriptor),
      native_(native_calls ? library_->native : nullptr),
      name_(std::move(name)),
      services_(services),
      masked_settings_(settings),
      rate_gate_(services.rate_gate(rate_budget(plugin, name_, settings),
                                    rate_limit ? *rate_limit : plugin.manifest.rate_limit)) {
  for (auto &[key, value] : settings.items()) {
    if (secret_setting(&plugin, key)) {
      redactor_.add_setting(value);
      masked_settings_[key] = Redactor::masked(value);
    } else if (value.is_string()) {
      redactor_.add_url_credentials(value.get<std::string>());
    }
  }
  redactor_.add_all(hub_secrets);
  // A URL shown with the credentials in its query masked.
  for (auto &[key, value] : masked_settings_.items())
    if (value.is_string()) value = redactor_.apply(value.get<std::string>());
  std::string wire = settings.dump();
  if (std::string why = crash_note::refusal(name_, wire); !why.empty()) throw crash_note::Refused(why);
  CallContext ctx{this, nullptr};
  char *error = nullptr;
  size_t error_len = 0;
  static const std::string kNoDetail;
  crash_note::Inside inside(name_, "create", kNoDetail, 0);
  int rc = descriptor_.on_create(&kHostApi, &ctx, wire.data(), wire.size(), &handle_, &error, &error_len);
  if (rc != CW_OK) {
    std::string message = redactor_.apply(error ? std::string(error, error_len) : "no reason given");
    release(error);
    throw std::runtime_error(message);
  }
}

Instance::~Instance() {
  if (handle_) descriptor_.on_destroy(handle_);
}

sdk::Json Instance::call(const char *operation, const std::string &wire, CallLog *log, bool dry_run,
                         const Redactor *own) {
  CallContext ctx{this, log, dry_run, own};
  char *out = nullptr;
  size_t out_len = 0;
  int rc = descriptor_.on_call(handle_, &ctx, operation, wire.data(), wire.size(), &out, &out_len);
  std::string text = out ? std::string(out, out_len) : std::string();
  release(out);
  if (rc != CW_OK) throw std::runtime_error(ctx.secrets().apply("connector failed: " + text));
  sdk::Json parsed = sdk::Json::parse(text, nullptr, false);
  if (parsed.is_discarded()) throw std::runtime_error("connector answered with malformed JSON");
  return parsed;
}

sdk::Result Instance::action(const sdk::ActionRequest &request, CallLog &log, const std::string *event_text,
                             bool dry_run) {
  // A slot reserved before the action and not used by a request is not kept for a later call.
  struct EndReservation {
    RateGate &gate;
    ~EndReservation() { gate.release_reservation(); }
  } end_reservation{*rate_gate_};
  auto job = request.job.find("id");
  crash_note::Inside inside(name_, "action", request.action,
                            job != request.job.end() && job->is_number_integer() ? job->get<int64_t>() : 0);
  // A job keeps the parameters its rule gave it: a URL among them may carry a
  // credential the rule as it is now, whose secrets the instance knows, no longer has.
  std::optional<Redactor> own = redactor_.with_url_credentials(request.params);
  if (native_) {
    CallContext ctx{this, &log, dry_run, own ? &*own : nullptr};
    sdk::Result r;
    if (event_text) {
      sdk::ActionRequest with_event = request;
      with_event.event = sdk::Json::parse(*event_text, nullptr, false);
      r = native_->action(handle_, &kNativeHost, &ctx, with_event);
    } else {
      r = native_->action(handle_, &kNativeHost, &ctx, request);
    }
    r.message = sdk::valid_utf8(ctx.secrets().apply(r.message));
    return r;
  }
  try {
    sdk::Result r = sdk::Result::from_json(call("action", event_text ? request.dump(*event_text) : request.dump(), &log,
                                                dry_run, own ? &*own : nullptr));
    r.message = (own ? *own : redactor_).apply(r.message);
    return r;
  } catch (const std::exception &e) {
    return sdk::Result::permanent(e.what());
  }
}

sdk::WebhookReply Instance::webhook(const sdk::WebhookRequest &request) {
  if (std::string why = crash_note::webhook_refusal(name_, request.body); !why.empty())
    return sdk::WebhookReply::reject(503, why);
  crash_note::Inside inside(name_, "webhook", request.trigger, 0, &request.body);
  if (native_) {
    CallContext ctx{this, nullptr};
    return native_->webhook(handle_, &kNativeHost, &ctx, request);
  }
  std::string wire;
  try {
    wire = request.to_json(/*share_raw=*/true).dump();
  } catch (const sdk::Json::type_error &) {
    // JSON text carries UTF-8 only (the native seam hands the connector the bytes).
    return sdk::WebhookReply::reject(400, "the request is not valid UTF-8 text (body, headers or query)");
  }
  try {
    return sdk::WebhookReply::from_json(call("webhook", wire, nullptr), /*keep_raw_shared=*/true);
  } catch (const std::exception &e) {
    return sdk::WebhookReply::reject(500, e.what());
  }
}

sdk::ImportReply Instance::import(const sdk::ImportRequest &request) {
  crash_note::Inside inside(name_, "import", request.kind, 0);
  try {
    sdk::Json answer = call("import", request.to_json(), nullptr);
    if (!answer.contains("kind"))
      return sdk::ImportReply::refuse("connector " + plugin_.manifest.id + " cannot import files (" +
                                      redactor_.apply(answer.value("message", "no answer")) +
                                      "; it may be built with an SDK older than 1.1.0)");
    sdk::ImportReply reply = sdk::ImportReply::from_json(answer);
    reply.error = redactor_.apply(reply.error);
    return reply;
  } catch (const std::exception &e) {
    return sdk::ImportReply::refuse(e.what());
  }
}

sdk::Result Instance::list(const std::string &name, CallLog &log) {
  crash_note::Inside inside(name_, "list", name, 0);
  try {
    sdk::Result r = sdk::Result::from_json(call("list", {{"list", name}}, &log));
    r.message = redactor_.apply(r.message);
    return r;
  } catch (const std::exception &e) {
    return sdk::Result::permanent(e.what());
  }
}

sdk::PollReply Instance::poll(const sdk::PollRequest &request) {
  crash_note::Inside inside(name_, "poll", request.trigger, 0);
  try {
    sdk::PollReply r = sdk::PollReply::from_json(call("poll", request.to_json(), nullptr));
    r.result.message = redactor_.apply(r.result.message);
    return r;
  } catch (const std::exception &e) {
    return sdk::PollReply::failed(sdk::Result::permanent(e.what()));
  }
}

}  // namespace cartwire::plugins
