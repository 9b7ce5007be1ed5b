#include "engine/engine.hpp"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/DigestEngine.h>
#include <Poco/Logger.h>
#include <Poco/SHA2Engine.h>
#include <Poco/Timestamp.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <cartwire/sdk/event.hpp>
#include <cartwire/sdk/file_import.hpp>

#include "plugins/crash_note.hpp"

namespace cartwire::engine {
namespace {

// Looked up once: Poco::Logger::get takes a process-wide lock.
Poco::Logger &engine_log() {
  static Poco::Logger &log = Poco::Logger::get("engine");
  return log;
}

// How often a webhook that could not be stored is logged while the store fails (a full disk).
constexpr int64_t kStoreFailureLogEveryMs = 10000;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

std::shared_ptr<const plugins::Redactor> hub_secrets(const config::HubConfig &config,
                                                     const plugins::Registry &registry, Unlisted unlisted) {
  auto out = std::make_shared<plugins::Redactor>();
  out->add(config.admin.token);
  if (config.storage.driver == "postgresql") {
    try {
      auto parts = store::postgresql_parts(config.storage.url);
      if (auto it = parts.find("password"); it != parts.end()) out->add(it->second);
    } catch (const std::exception &) {
      // A url that cannot be read opened no store: this hub is not running on it.
    }
  }
  for (auto *instances : {&config.sources, &config.integrations}) {
    for (auto &[id, inst] : *instances) {
      const plugins::Plugin *plugin = registry.find(inst.connector);
      for (auto &[key, value] : inst.settings.items()) {
        if (plugins::secret_setting(plugin, key)) out->add_setting(value);
        else if (!plugin && unlisted == Unlisted::every_text && value.is_string()) out->add(value.get<std::string>());
        else if (value.is_string()) out->add_url_credentials(value.get<std::string>());
      }
    }
  }
  // A rule's own URL (a Notify URL post's url) may carry a credential in its query.
  for (auto &rule : config.rules)
    for (auto &[key, value] : rule.params.items())
      if (value.is_string()) out->add_url_credentials(value.get<std::string>());
  return out;
}

std::string rfc3339(int64_t ms) {
  return Poco::DateTimeFormatter::format(Poco::Timestamp(ms * 1000), "%Y-%m-%dT%H:%M:%SZ");
}

std::string settings_digest(const Json &settings) {
  Poco::SHA2Engine digest(Poco::SHA2Engine::SHA_256);
  digest.update(settings.dump());
  return Poco::DigestEngine::digestToHex(digest.digest());
}

Json map_fields(const std::map<std::string, std::string> &mapping, const Json &event) {
  Json out = Json::object();
  for (auto &[remote, path] : mapping) {
    const Json *value = rules::lookup(event, path);
    if (value && !value->is_null()) out[remote] = *value;
  }
  return out;
}

void complete_event(Json &event, const std::string &source, int64_t now_ms) {
  event["source"] = source;
  if (!event.contains("occurred_at")) event["occurred_at"] = rfc3339(now_ms);
  if (!event.contains("mode")) event["mode"] = "live";
}

Engine::Engine(const config::HubConfig &config, const plugins::Registry &registry, store::Store &store,
               plugins::HostServices &services)
    : config_(config),
      registry_(registry),
      store_(store),
      services_(services),
      matcher_(config.rules),
      secrets_(hub_secrets(config, registry, Unlisted::every_text)),
      masked_(hub_secrets(config, registry, Unlisted::by_name)),
      store_outage_(engine_log(), kStoreFailureLogEveryMs, "refused") {
  if (!config.native_calls)
    engine_log().information("plugins.native_calls is false: every connector is called through JSON");
  for (auto &[id, cfg] : config.sources)
    if (auto inst = build(cfg, "source")) sources_[id] = std::move(inst);
  for (auto &[id, cfg] : config.integrations) {
    Target &t = integrations_[id];
    t.instance = build(cfg, "integration");
    t.reads_tree = t.instance && (t.instance->native() || !cfg.fields.empty());
    t.concurrency_limited = cfg.concurrency > 0;
  }
}

std::unique_ptr<plugins::Instance> Engine::build(const config::InstanceConfig &cfg, const char *kind) {
  const plugins::Plugin *plugin = registry_.find(cfg.connector);
  std::string what = std::string(kind) + " '" + cfg.id + "'";
  if (cfg.left_out) {
    unavailable_.push_back({cfg.id, what + " is left out of this run: it has an error in " + config_.file +
                                        " (see above, or cartwire check); fix it and reload"});
    engine_log().error(unavailable_.back().reason);
    return nullptr;
  }
  if (!plugin) {
    unavailable_.push_back({cfg.id, what + ": connector '" + cfg.connector + "' is not loaded"});
    engine_log().error(unavailable_.back().reason);
    return nullptr;
  }
  try {
    plugin->descriptor();  // loads the library when no instance has yet
  } catch (const std::exception &e) {
    unavailable_.push_back({cfg.id, what + ": connector '" + cfg.connector + "' could not be loaded: " + e.what()});
    engine_log().error(unavailable_.back().reason);
    return nullptr;
  }
  try {
    plugins::RateLimit limit{cfg.rate_requests, cfg.rate_per.count() / 1000.0, {}};
    return std::make_unique<plugins::Instance>(*plugin, cfg.id, cfg.settings, services_, *masked_,
                                               config_.native_calls, cfg.rate_requests > 0 ? &limit : nullptr);
  } catch (const plugins::crash_note::Refused &e) {
    unavailable_.push_back({cfg.id, what + " is left out of this run: " + e.what()});
    engine_log().error(unavailable_.back().reason);
    return nullptr;
  } catch (const std::exception &e) {
    unavailable_.push_back({cfg.id, what + ": connector '" + cfg.connector + "' refused its settings: " + e.what()});
    engine_log().error(unavailable_.back().reason);
    return nullptr;
  }
}

const Engine::Target *Engine::target(const std::string &integration) const {
  auto it = integrations_.find(integration);
  return it == integrations_.end() ? nullptr : &it->second;
}

plugins::Instance *Engine::integration(const std::string &id) const {
  const Target *t = target(id);
  return t ? t->instance.get() : nullptr;
}

bool Engine::reads_event_tree(const std::string &integration) const {
  const Target *t = target(integration);
  return t && t->reads_tree;
}

plugins::Instance *Engine::source(const std::string &id) const {
  auto it = sources_.find(id);
  return it == sources_.end() ? nullptr : it->second.get();
}

std::vector<store::NewJob> Engine::plan(const Json &event) const {
  std::vector<store::NewJob> jobs;
  for (const config::Rule *rule : matcher_.match(event)) {
    store::NewJob job;
    job.rule = rule->name;
    job.integration = rule->integration;
    job.action = rule->action;
    job.params = rules::render(rule->params, event);
    if (auto *inst = integration(rule->integration)) {
      const plugins::ActionSpec *spec = inst->plugin().manifest.action(rule->action);
      if (spec && spec->ordered) job.ordering_key = rule->integration + ":" + lower(rules::field_text(event, "customer.email"));
    }
    jobs.push_back(std::move(job));
  }
  return jobs;
}

Replanned Engine::replan(const store::JobRow &job, Json event) const {
  event.erase("id");  // as the accept path matched it, before the store numbered it
  for (auto &planned : plan(event))
    if (planned.rule == job.rule && planned.integration == job.integration && planned.action == job.action)
      return {std::move(planned.params), ""};
  // Why the rule makes no such job now; of rules sharing its name (a warning), the one that runs its action.
  auto find = [&](bool same_action) {
    return std::find_if(config_.rules.begin(), config_.rules.end(), [&](const config::Rule &r) {
      return r.name == job.rule && (!same_action || (r.integration == job.integration && r.action == job.action));
    });
  };
  auto rule = find(true);
  if (rule == config_.rules.end()) rule = find(false);
  std::string named = "rule '" + job.rule + "'";
  if (rule == config_.rules.end()) return {nullptr, named + " is no longer in " + config_.file};
  if (rule->idle)
    return {nullptr,
            named + " is idle: it has an error in " + config_.file + " (see cartwire check); fix it and reload"};
  if (rule->integration != job.integration || rule->action != job.action)
    return {nullptr, named + " now runs " + rule->integration + "." + rule->action + ", not " + job.integration + "." +
                         job.action + " as this job did; replay it with its original rule"};
  return {nullptr, named + " no longer takes this event (its on, product or where changed)"};
}

void Engine::hand_over(std::shared_ptr<Engine> next) {
  std::lock_guard lock(successor_mutex_);
  successor_ = std::move(next);
}

std::shared_ptr<Engine> Engine::successor() const {
  std::lock_guard lock(successor_mutex_);
  return successor_;
}

std::vector<PlannedJob> Engine::dry_run(Json &event) const {
  if (!event.is_object() || !event.contains("type") || !event["type"].is_string())
    throw std::invalid_argument("the event needs a \"type\" such as product.purchased");
  if (!event.contains("occurred_at")) event["occurred_at"] = rfc3339(now_ms());
  if (!event.contains("mode")) event["mode"] = "live";
  if (!event.contains("source")) event["source"] = "admin-test";
  std::vector<PlannedJob> out;
  for (auto &job : plan(event)) {
    PlannedJob p;
    p.available = integration(job.integration) != nullptr;
    // The integration's field mapping, as the runner renders it for the action.
    auto cfg = config_.integrations.find(job.integration);
    if (cfg != config_.integrations.end()) p.fields = map_fields(cfg->second.fields, event);
    // The action itself, its requests recorded and answered without leaving the hub.
    if (auto *inst = integration(job.integration)) {
      sdk::ActionRequest request;
      request.action = job.action;
      request.params = job.params;
      request.event = event;
      request.job = {{"id", 0}, {"attempt", 1}, {"idempotency_key", "dry-run"}};
      request.fields = p.fields;
      plugins::CallLog log;
      sdk::Result result = inst->action(request, log, nullptr, /*dry_run=*/true);
      for (auto &ex : log.exchanges) p.requests.push_back(std::move(ex.request));
      p.outcome = sdk::to_string(result.outcome);
      p.message = result.message;
    }
    p.job = std::move(job);
    out.push_back(std::move(p));
  }
  return out;
}

TestAccepted Engine::accept_test(Json event) {
  if (auto next = successor()) return next->accept_test(std::move(event));
  if (std::string problem = sdk::event_problem(event); !problem.empty()) throw std::invalid_argument(problem);
  int64_t now = now_ms();
  std::string key = event.contains("dedupe_key") ? event["dedupe_key"].get<std::string>()
                                                 : std::to_string(now) + ":" + std::to_string(++test_events_);
  event["dedupe_key"] = "admin-test:" + key;
  // The keys another form of an imported fact is stored under: a test event's key is its own, as a sender's is
  // to the json connector, which drops them too.
  event.erase(sdk::kDedupeAlternatives);
  event["source"] = "admin-test";
  event["mode"] = "test";
  if (!event.contains("occurred_at")) event["occurred_at"] = rfc3339(now);
  std::vector<store::NewEvent> batch(1);
  batch[0].jobs = plan(event);
  batch[0].event = event;
  auto stored = store_.accept(batch, now);
  TestAccepted out{batch[0].event, stored.at(0)};
  engine_log().information("admin test event " + std::to_string(out.accepted.event_id) + " (" +
                       event["type"].get<std::string>() + "): " + std::to_string(out.accepted.jobs) + " job(s)");
  if (out.accepted.jobs && jobs_added_) jobs_added_();
  return out;
}

HookResponse Engine::handle_webhook(const std::string &source_id, sdk::WebhookRequest request) {
  if (auto next = successor()) return next->handle_webhook(source_id, std::move(request));
  HookResponse out = answer_webhook(source_id, std::move(request));
  if (out.status < 400 || out.status >= 500) return out;  // a 5xx is logged where it arises
  // A cart retrying with a mistyped secret, or a scan of /hooks/, must not flood the log.
  constexpr int64_t kQuiet = 10000;
  constexpr std::size_t kMostSources = 64;  // beyond: paths of no configured source share one entry
  std::string unlogged;
  {
    std::lock_guard lock(refusals_mutex_);
    std::string key = config_.sources.count(source_id) || refusals_.size() < kMostSources ? source_id : "";
    LogThrottle &throttle = refusals_[key];
    if (!throttle.due(now_ms(), kQuiet)) return out;
    unlogged = throttle.unlogged("refused");
  }
  Json body = Json::parse(out.body, nullptr, false);
  std::string why = body.is_object() && body.contains("error") && body["error"].is_string()
                        ? body["error"].get<std::string>()
                        : out.body;
  // Both may carry the sender's text: no line break or terminal escape reaches the log.
  auto printable = [](std::string text) {
    std::replace_if(text.begin(), text.end(), [](char c) { return (c >= 0 && c < 0x20) || c == 0x7f; }, '?');
    return text;
  };
  std::string shown = printable(sdk::valid_utf8(source_id.substr(0, 64)));
  why = printable(sdk::valid_utf8(why.substr(0, 300)));
  engine_log().warning("source '" + shown + "': refused a webhook with " + std::to_string(out.status) + ": " + why +
                       unlogged);
  return out;
}

HookResponse Engine::answer_webhook(const std::string &source_id, sdk::WebhookRequest request) {
  auto it = sources_.find(source_id);
  if (it == sources_.end()) {
    bool configured = config_.sources.count(source_id) > 0;
    std::string reason = configured ? "source '" + source_id + "' is configured but unavailable (see the hub log)"
                                    : "no source '" + source_id + "' is configured";
    return {configured ? 503 : 404, sdk::error_text(reason)};
  }
  request.trigger = config_.sources.at(source_id).trigger;
  request.source = source_id;
  // A fatal signal from here to the store, outside the connector, is put down to the hub taking this request.
  plugins::crash_note::Inside inside(source_id, "webhook", request.trigger, 0, &request.body,
                                     plugins::crash_note::Code::hub);
  const plugins::TriggerSpec *t = it->second->plugin().manifest.trigger(request.trigger);
  if (t && t->kind == "poll")
    return {404, sdk::error_text("source '" + source_id + "' is polled; it takes no webhooks")};
  if (t && t->kind == "import")
    return {404, sdk::error_text("source '" + source_id + "' is for imports only (trigger " + t->name +
                                 ", cartwire import); it takes no webhooks")};
  sdk::WebhookReply reply = it->second->webhook(request);
  if (reply.status < 200 || reply.status >= 300) return {reply.status, reply.body, reply.content_type};

  std::vector<store::NewEvent> batch;
  int64_t now = now_ms();
  try {
    batch = prepare(source_id, std::move(reply.events), now, &reply.raw);
  } catch (const std::invalid_argument &e) {
    engine_log().error("source '" + source_id + "': " + e.what());
    return {502, sdk::error_text("the connector produced an invalid event; nothing was stored")};
  } catch (const std::exception &e) {
    return storing_failed(source_id, e);
  }
  if (batch.empty()) return {reply.status, reply.body, reply.content_type};
  Dispatcher *direct = dispatcher_.load();
  std::size_t room = direct ? direct->room() : 0;
  if (room) lease(batch, *direct, room, now);
  std::vector<store::Accepted> stored;
  try {
    stored = store_.accept(batch, now);
  } catch (const std::exception &e) {
    return storing_failed(source_id, e);
  }
  if (store_outage_.lasting()) store_outage_.ended("storing events succeeds again");
  bool queued = !room || hand_over_leased(batch, stored, *direct, now, &reply.raw);
  accepted(source_id, stored, queued);
  return {reply.status, reply.body, reply.content_type};
}

HookResponse Engine::storing_failed(const std::string &source_id, const std::exception &e) {
  store_outage_.failed(now_ms(), "source '" + source_id +
                                     "': storing events failed, webhooks are refused with 503 meanwhile: " + e.what());
  std::string why = public_store_failure(e);
  if (why.empty()) why = "the hub could not store the event";
  else if (dynamic_cast<const store::WriteFailed *>(&e)) why += "; nothing was stored";
  return {503, sdk::error_text(why + "; please retry")};
}

std::string public_store_failure(const std::exception &e) {
  if (dynamic_cast<const store::WriteFailed *>(&e))
    return "the hub cannot write to its store now (its disk is full or failing)";
  if (dynamic_cast<const store::Unreachable *>(&e)) return "the hub cannot reach its database now";
  return {};
}

void Engine::lease(std::vector<store::NewEvent> &batch, const Dispatcher &dispatcher, std::size_t room,
                   int64_t now) const {
  // Ordered jobs and integrations with a concurrency limit need the claim's
  // checks against what else is running; a job whose integration has spent
  // its rate budget waits in the queue for room.
  for (auto &ne : batch)
    for (auto &job : ne.jobs) {
      if (!room) return;
      if (!job.ordering_key.empty()) continue;
      if (const Target *t = target(job.integration);
          t && (t->concurrency_limited || (t->instance && t->instance->rate_wait().count() > 0)))
        continue;
      job.lease_owner = dispatcher.node();
      job.lease_until = now + dispatcher.lease_ms();
      --room;
    }
}

bool Engine::hand_over_leased(std::vector<store::NewEvent> &batch, std::vector<store::Accepted> &stored,
                              Dispatcher &dispatcher, int64_t now, Json *shared_raw) {
  std::vector<store::ClaimedJob> jobs;
  std::vector<std::pair<std::size_t, const Json *>> without_raw;  // trees still to get the payload they share
  bool queued = false;
  for (std::size_t i = 0; i < batch.size() && i < stored.size(); ++i) {
    if (stored[i].duplicate) continue;
    auto &ne = batch[i];
    std::size_t n = std::min(ne.jobs.size(), stored[i].job_ids.size()), last_text = n, last_tree = n;
    for (std::size_t k = 0; k < n; ++k)
      if (!ne.jobs[k].lease_owner.empty()) (reads_event_tree(ne.jobs[k].integration) ? last_tree : last_text) = k;
    for (std::size_t k = 0; k < n; ++k) {
      store::NewJob &job = ne.jobs[k];
      if (job.lease_owner.empty()) {
        queued = true;
        continue;
      }
      store::ClaimedJob c;
      c.id = stored[i].job_ids[k];
      c.event_id = stored[i].event_id;
      c.rule = std::move(job.rule);
      c.integration = std::move(job.integration);
      c.action = std::move(job.action);
      c.params = std::move(job.params);
      // The event as a tree (numbered by the store) for a connector that reads
      // one, else as the text the store wrote, which the runner sends as it
      // is. The batch is done with after this: the last job of each kind
      // takes the event itself.
      if (reads_event_tree(c.integration)) {
        c.event = k == last_tree ? std::move(ne.event) : ne.event;
        if (ne.raw) without_raw.emplace_back(jobs.size(), ne.raw);
      } else {
        c.event_text = k == last_text ? std::move(stored[i].text) : stored[i].text;
      }
      c.created_at = c.due_at = c.leased_at = now;
      jobs.push_back(std::move(c));
    }
  }
  // A copy of the shared payload for each tree, and the last takes the reply's own.
  for (std::size_t j = 0; j < without_raw.size(); ++j) {
    auto [job, raw] = without_raw[j];
    jobs[job].event["raw"] = j + 1 == without_raw.size() && raw == shared_raw ? std::move(*shared_raw) : *raw;
  }
  // A runner that stopped after the jobs were leased to it (a reload or
  // shutdown) puts them back in the queue, where the next runner claims them.
  return (!jobs.empty() && !dispatcher.take(jobs)) || queued;
}

std::vector<store::NewEvent> Engine::prepare(const std::string &source_id, std::vector<Json> events, int64_t now,
                                             Json *shared_raw) const {
  if (shared_raw && shared_raw->is_null()) shared_raw = nullptr;
  // What a cart sent may carry a secret of the hub (its own secret word
  // pasted into a note, a key): it is masked before anything is stored.
  const plugins::Instance *src = source(source_id);
  const plugins::Redactor &secrets = src ? src->redactor() : *masked_;
  if (!secrets.empty()) {
    for (auto &event : events) secrets.scrub(event);
    if (shared_raw) secrets.scrub(*shared_raw);
  }
  std::vector<Json> derived;
  for (auto &event : events)
    if (auto d = delinquency(event, source_id)) derived.push_back(std::move(*d));
  for (auto &d : derived) events.push_back(std::move(d));
  std::vector<store::NewEvent> batch;
  for (auto &event : events) {
    if (!event.is_object() || !event.contains("type") || !event.contains("dedupe_key"))
      throw std::invalid_argument("connector emitted an event without type or dedupe_key");
    store::NewEvent ne;
    ne.alternatives = take_alternatives(event);
    complete_event(event, source_id, now);
    settle_refund(event, source_id);
    // A raw shared by the batch is lent to each event (moved, not copied)
    // while its rules are matched, then taken back.
    bool lent = shared_raw && !event.contains("raw");
    if (lent) event["raw"] = std::move(*shared_raw);
    ne.jobs = plan(event);
    if (lent) {
      *shared_raw = std::move(event["raw"]);
      event.erase("raw");
      ne.raw = shared_raw;
    }
    ne.event = std::move(event);
    batch.push_back(std::move(ne));
  }
  return batch;
}

std::vector<std::string> take_alternatives(Json &event) {
  std::vector<std::string> keys;
  auto it = event.find(sdk::kDedupeAlternatives);
  if (it == event.end()) return keys;
  if (it->is_array())
    for (auto &key : *it)
      if (key.is_string()) keys.push_back(key.get<std::string>());
  event.erase(it);
  return keys;
}

std::optional<std::pair<std::string, std::string>> unverified_refund(const Json &event) {
  auto refund = event.find("refund");
  if (refund == event.end() || !refund->is_object() || refund->value("unverified", false) != true ||
      event.value("type", "") != "product.refunded")
    return std::nullopt;
  const Json *amount = rules::lookup(*refund, "amount"), *order = rules::lookup(event, "order.id"),
             *item = rules::lookup(event, "item.reference");
  if (!amount || !amount->is_number_integer() || !order || !order->is_string() || !item || !item->is_string())
    return std::nullopt;
  return std::pair{order->get<std::string>(), item->get<std::string>()};
}

void settle_refund(Json &event, const Json &purchase) {
  const Json *paid = rules::lookup(purchase, "item.amount");
  if (!paid || !paid->is_number_integer()) return;
  Json &refund = event["refund"];
  refund.erase("unverified");
  refund["purchased_amount"] = *paid;
  if (const Json *paid_str = rules::lookup(purchase, "item.amount_str")) refund["purchased_amount_str"] = *paid_str;
  if (refund["amount"].get<int64_t>() < paid->get<int64_t>()) event["type"] = "product.partially_refunded";
}

Json refund_basis(const Json &purchase) {
  Json basis = Json::object();
  for (const char *field : {"amount", "amount_str"})
    if (const Json *value = rules::lookup(purchase, std::string("item.") + field)) basis["item"][field] = *value;
  return basis;
}

void Engine::settle_refund(Json &event, const std::string &source_id) const {
  auto refund = unverified_refund(event);
  if (!refund) return;
  try {
    // Without a stored purchase the refund stays unverified.
    if (auto bought = store_.purchase(source_id, refund->first, refund->second)) engine::settle_refund(event, *bought);
  } catch (const std::exception &e) {
    engine_log().warning("source '" + source_id + "': looking up the purchase a refund belongs to failed: " + e.what());
  }
}

std::optional<Json> Engine::delinquency(const Json &failed, const std::string &source_id) const {
  static constexpr int kFailuresInARow = 4;
  if (!failed.is_object() || failed.value("type", "") != "subscription.charge_failed") return std::nullopt;
  const Json *subscription = rules::lookup(failed, "subscription.id"), *email = rules::lookup(failed, "customer.email");
  const Json *key = rules::lookup(failed, "dedupe_key");
  if (!subscription || !subscription->is_string() || !email || !email->is_string() || !key || !key->is_string())
    return std::nullopt;
  // A cart that says so itself (SamCart) is not second-guessed.
  const plugins::Instance *src = source(source_id);
  if (!src) return std::nullopt;
  const plugins::TriggerSpec *trigger = src->plugin().manifest.trigger(config_.sources.at(source_id).trigger);
  if (!trigger || std::find(trigger->events.begin(), trigger->events.end(), "subscription.delinquent") !=
                      trigger->events.end())
    return std::nullopt;
  std::vector<std::pair<std::string, std::string>> history;
  try {
    history = store_.subscription_history(source_id, email->get<std::string>(), subscription->get<std::string>(),
                                          kFailuresInARow * 4);
  } catch (const std::exception &e) {
    engine_log().warning("source '" + source_id + "': reading a subscription's failed charges failed: " + e.what());
    return std::nullopt;
  }
  int failures = 1;  // this one
  for (auto &[type, stored_key] : history) {
    if (stored_key == key->get<std::string>()) continue;  // a re-delivery of this failure
    if (type == "subscription.charge_failed") ++failures;
    else if (type == "subscription.delinquent") return std::nullopt;  // said already since the last success
    else break;  // charged, recovered or restarted: the run of failures starts after it
  }
  if (failures < kFailuresInARow) return std::nullopt;
  Json out = failed;
  out["type"] = "subscription.delinquent";
  out["dedupe_key"] = "hub:delinquent:" + key->get<std::string>();
  out["derived_from"] = {{"dedupe_key", *key}, {"reason", std::to_string(failures) + " failed charges in a row"}};
  return out;
}

void Engine::accepted(const std::string &source_id, const std::vector<store::Accepted> &stored, bool queued) {
  std::size_t jobs = 0, fresh = 0;
  // The duplicates of an event stored under another key of their fact (a refund an import of a spreadsheet's
  // copy stored at the start of its minute), by the stored one's id: why its webhook ran no rule.
  std::string elsewhere;
  for (auto &a : stored) {
    jobs += a.jobs;
    fresh += a.duplicate ? 0 : 1;
    if (a.under_alternative) elsewhere += (elsewhere.empty() ? "" : ", ") + std::to_string(a.event_id);
  }
  if (engine_log().information())
    engine_log().information("source '" + source_id + "': " + std::to_string(fresh) + " new event(s), " +
                             std::to_string(stored.size() - fresh) + " duplicate(s), " + std::to_string(jobs) +
                             " job(s)" +
                             (elsewhere.empty() ? ""
                                                : "; duplicates of a fact stored under another key (as an "
                                                  "import stores a refund dated to the minute): event(s) " +
                                                      elsewhere));
  // A poll that a reload left finishing on this configuration wakes the runner of the current one.
  if (jobs && queued) jobs_due();
}

std::size_t Engine::emit(std::vector<Json> events) {
  if (auto next = successor()) return next->emit(std::move(events));
  int64_t now = now_ms();
  std::vector<store::NewEvent> batch = prepare("hub", std::move(events), now);
  auto stored = store_.accept(batch, now);
  std::size_t fresh = 0, jobs = 0;
  for (auto &a : stored) {
    fresh += a.duplicate ? 0 : 1;
    jobs += a.jobs;
  }
  if (jobs && jobs_added_) jobs_added_();
  return fresh;
}

}  // namespace cartwire::engine
