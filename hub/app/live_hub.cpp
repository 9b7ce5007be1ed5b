#include "app/live_hub.hpp"

#include <Poco/DigestEngine.h>
#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/SHA2Engine.h>

#include <chrono>
#include <map>
#include <stdexcept>

#include "engine/validate.hpp"
#include "http/listener.hpp"
#include "plugins/crash_note.hpp"

namespace cartwire::app {
namespace {

Poco::Logger &logger() { return Poco::Logger::get("cartwire"); }

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

sdk::Json diagnostics_json(const config::Diagnostics &d) {
  sdk::Json out = sdk::Json::array();
  for (auto &item : d.items())
    out.push_back({{"severity", item.severity == config::Diagnostic::Severity::error ? "error" : "warning"},
                   {"file", item.where.file}, {"line", item.where.line}, {"message", item.message},
                   {"text", item.format()}});
  return out;
}

// Settings read once at start-up: changing them needs a restart.
sdk::Json restart_required(const config::HubConfig &was, const config::HubConfig &now) {
  sdk::Json out = sdk::Json::array();
  if (was.server.host != now.server.host || was.server.port != now.server.port ||
      was.server.max_body_bytes != now.server.max_body_bytes || was.server.read_timeout != now.server.read_timeout ||
      was.server.threads != now.server.threads)
    out.push_back("server");
  if (was.storage.driver != now.storage.driver || was.storage.path != now.storage.path ||
      was.storage.synchronous != now.storage.synchronous || was.storage.url != now.storage.url ||
      was.storage.retention != now.storage.retention)
    out.push_back("storage");
  if (was.runner.node != now.runner.node) out.push_back("runner.node");
  const auto &a = was.admin, &b = now.admin;
  if (a.enabled != b.enabled || a.host != b.host || a.port != b.port || a.token != b.token ||
      a.session_ttl != b.session_ttl || a.max_body_bytes != b.max_body_bytes || a.metrics_public != b.metrics_public ||
      a.web_dir != b.web_dir || a.read_timeout != b.read_timeout)
    out.push_back("admin");
  if (was.log_level != now.log_level || was.log_body_bytes != now.log_body_bytes) out.push_back("log");
  return out;
}

// What `config` does, as fingerprint() digests it.
sdk::Json what_it_does(const config::HubConfig &config, const plugins::Registry &registry) {
  sdk::Json out = {{"sources", sdk::Json::object()}, {"integrations", sdk::Json::object()}, {"rules", sdk::Json::array()}};
  for (auto [kind, instances] : {std::pair{"sources", &config.sources}, std::pair{"integrations", &config.integrations}})
    for (auto &[id, inst] : *instances) {
      const plugins::Plugin *plugin = registry.find(inst.connector);
      sdk::Json settings = sdk::Json::object();
      for (auto &[key, value] : inst.settings.items())
        settings[key] = plugin && !plugins::secret_setting(plugin, key) ? value : sdk::Json("(secret)");
      sdk::Json fields = sdk::Json::object();
      for (auto &[remote, path] : inst.fields) fields[remote] = path;
      out[kind][id] = {{"connector", inst.connector}, {"settings", settings}, {"trigger", inst.trigger},
                       {"every", inst.every ? inst.every->count() : 0}, {"concurrency", inst.concurrency},
                       {"rate", {inst.rate_requests, inst.rate_per.count()}}, {"fields", fields}};
    }
  for (auto &rule : config.rules) {
    sdk::Json where = sdk::Json::array();
    for (auto &f : rule.where) where.push_back({f.field, static_cast<int>(f.op), f.values});
    out["rules"].push_back({{"name", rule.name}, {"on", rule.on}, {"product", rule.product}, {"where", where},
                            {"do", rule.integration + "." + rule.action}, {"with", rule.params}, {"idle", rule.idle}});
  }
  return out;
}

// "2 attempt(s), 1 poll": what a reload left finishing on the previous configuration.
std::string under_way(std::size_t attempts, bool polling) {
  return std::to_string(attempts) + " attempt(s), " + (polling ? "1 poll" : "0 polls");
}

}  // namespace

std::string reason(const std::exception &e) {
  if (auto *poco = dynamic_cast<const Poco::Exception *>(&e)) return poco->displayText();
  return e.what();
}

std::string failed(const std::string &what, const std::exception &e, const plugins::Redactor &secrets) {
  return what + " (" + secrets.apply(reason(e)) + ")";
}

LiveHub::LiveHub(const config::HubConfig &config, plugins::Registry &registry, store::Store &store,
                 plugins::HostServices &services, std::string node)
    : registry_(registry), store_(store), services_(services), node_(std::move(node)) {
  generations_.push_back(build(std::make_unique<config::HubConfig>(config)));
}

LiveHub::~LiveHub() { stop(); }

LiveHub::Generation LiveHub::build(std::unique_ptr<config::HubConfig> config) {
  // The parts go with the last holder of the engine (a webhook still inside it): its runner and
  // poller first, then its instances (the connector versions it runs), then its configuration.
  auto parts = std::make_shared<Parts>();
  parts->config = std::move(config);
  parts->engine = std::make_unique<engine::Engine>(*parts->config, registry_, store_, services_);
  parts->runner = std::make_unique<engine::Runner>(*parts->engine, parts->config->runner, node_);
  parts->poller = std::make_unique<engine::Poller>(
      *parts->engine, parts->config->runner, node_, polls_,
      [this](const std::string &source, const std::string &ended_on) { take_back(source, ended_on); });
  Generation g;
  g.runner = parts->runner.get();
  g.poller = parts->poller.get();
  Poco::SHA2Engine digest(Poco::SHA2Engine::SHA_256);
  digest.update(what_it_does(*parts->config, registry_).dump());
  g.fingerprint = Poco::DigestEngine::digestToHex(digest.digest()).substr(0, 12);
  g.engine = std::shared_ptr<engine::Engine>(parts, parts->engine.get());
  // Where its last holder lets go (a configuration's background finish, a request), which holds no lock of the
  // hub's: the registry lock is held only where a current configuration is held as well, never its last holder.
  parts->freed.then = [this] {
    std::lock_guard registry(registry_mutex_);
    registry_.free_unloaded();
  };
  return g;
}

std::shared_ptr<engine::Engine> LiveHub::current() const {
  std::lock_guard lock(state_mutex_);
  return generations_.back().engine;
}

void LiveHub::start() {
  std::lock_guard lock(state_mutex_);
  Generation &now = generations_.back();
  try {
    now.runner->start();
  } catch (const std::exception &e) {
    throw std::runtime_error(failed("the runner could not start", e, *now.engine->secrets()));
  }
  try {
    now.poller->start();
  } catch (const std::exception &e) {
    now.runner->stop();
    throw std::runtime_error(failed("the poller could not start", e, *now.engine->secrets()));
  }
  runner_ = poller_ = Running{true, now_ms(), ""};
}

sdk::Json LiveHub::status() const {
  auto json = [](const Running &r) {
    sdk::Json reason = nullptr, hint = nullptr;
    if (!r.running) {
      reason = r.reason;
      hint = "POST /api/reload or send SIGHUP to start it again; when threads keep running out, raise the "
             "hub's thread limit (ulimit -u, systemd TasksMax) and reload";
    }
    return sdk::Json{{"running", r.running}, {"since", engine::rfc3339(r.since)}, {"reason", reason}, {"hint", hint}};
  };
  std::lock_guard lock(state_mutex_);
  return {{"runner", json(runner_)}, {"poller", json(poller_)}};
}

void LiveHub::take_back(const std::string &source, const std::string &ended_on) {
  std::lock_guard lock(taking_back_mutex_);
  if (stopped_ || !plugins::crash_note::allow_creating(source)) return;
  logger().warning("source '" + source + "' is polled again: its mark in the store, recorded by this node, was "
                   "ended on node '" + ended_on + "'; this node creates it again (a reload)");
  reload_asked_ = true;
  if (reloading_) return;  // the reload under way reloads again once it ends
  try {
    taking_back_ = std::async(std::launch::async, [this] { reload_taken_back(); });
    reloading_ = true;
  } catch (const std::exception &e) {
    reload_asked_ = false;
    logger().error("source '" + source + "' is not polled by this node yet: no thread could be started for the "
                   "reload (" + e.what() + "); the next reload (POST /api/reload or SIGHUP) creates it");
  }
}

void LiveHub::reload_taken_back() {
  for (;;) {
    {
      std::lock_guard lock(taking_back_mutex_);
      if (!reload_asked_ || stopped_) {
        reloading_ = false;
        return;
      }
      reload_asked_ = false;
    }
    std::string failed;
    try {
      sdk::Json answer = reload();
      if (!answer.value("ok", false)) failed = answer.value("message", std::string());
    } catch (const std::exception &e) {
      failed = current()->secrets()->apply(e.what());
    }
    if (!failed.empty())
      logger().error("a source whose mark in the store was ended on another node is not polled by this node yet: " +
                     failed + "; the next reload (POST /api/reload or SIGHUP) creates it");
  }
}

void LiveHub::stop() {
  // A reload that takes back a source is not left to start the runner and the poller again.
  std::future<void> taking_back;
  {
    std::lock_guard lock(taking_back_mutex_);
    stopped_ = true;
    taking_back = std::move(taking_back_);
  }
  if (taking_back.valid()) taking_back.wait();
  std::lock_guard reload(reload_mutex_);
  engine::Runner *runner = nullptr;
  engine::Poller *poller = nullptr;
  {
    std::lock_guard lock(state_mutex_);
    runner = generations_.back().runner;
    poller = generations_.back().poller;
  }
  poller->stop();
  runner->stop();
  // And what earlier configurations still finish: a record that fails is no longer tried again.
  std::vector<Finishing> finishing;
  {
    std::lock_guard lock(finishing_mutex_);
    finishing.swap(finishing_);
  }
  for (auto &f : finishing)
    if (auto alive = f.engine.lock()) f.runner->give_up();
  for (auto &f : finishing) f.ended.wait();
}

void LiveHub::finish(Generation &previous, std::size_t attempts, bool polling, const std::string &file) {
  auto wait = [attempts, polling, file](Generation &left) {
    left.poller->stop();
    left.runner->finish();
    if (attempts || polling)
      logger().information("reload of " + file + ": what was still under way on the previous configuration has "
                           "ended (" + under_way(attempts, polling) + ")");
    // Now, not with the future: the connector versions it alone ran are unloaded with it.
    left = Generation{};
  };
  std::unique_lock lock(finishing_mutex_);
  std::erase_if(finishing_, [](const Finishing &f) {
    return f.ended.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  });
  try {
    // A copy: `previous` stays whole here when no thread can be started.
    finishing_.push_back({std::async(std::launch::async, [wait, previous]() mutable { wait(previous); }),
                          previous.engine, previous.runner});
  } catch (...) {
    lock.unlock();
    wait(previous);
    throw;
  }
  previous = Generation{};  // the thread holds it alone
}

config::Diagnostics LiveHub::validate(const config::HubConfig &config) const {
  engine::ListLookup lists = [this](const std::string &integration, const std::string &list) {
    try {
      return store_.load_list(integration, list);
    } catch (const std::exception &e) {
      throw std::runtime_error("reading the " + list + " list of integration '" + integration +
                               "' from the store failed: " + e.what());
    }
  };
  config::Diagnostics d =
      engine::validate(config, registry_, lists, now_ms(), engine::instance_probe(services_, config, registry_));
  for (auto &r : registry_.rejected()) d.warning({r.path, 0}, "plugin rejected: " + r.reason);
  for (auto *p : registry_.plugins())
    for (auto &note : p->manifest.unknown_keys) d.warning({p->path, 0}, "connector " + p->manifest.id + ": " + note);
  return d;
}

config::Diagnostics LiveHub::check() const {
  std::lock_guard registry(registry_mutex_);
  std::shared_ptr<engine::Engine> e = current();
  return validate(e->config());
}

std::shared_ptr<const plugins::Redactor> LiveHub::secrets() const { return current()->secrets(); }

std::string LiveHub::fingerprint() const {
  std::lock_guard lock(state_mutex_);
  return generations_.back().fingerprint;
}

sdk::Json LiveHub::plugins() const {
  std::lock_guard registry(registry_mutex_);
  sdk::Json loaded = sdk::Json::array();
  bool native_calls = current()->config().native_calls;
  std::map<std::string, sdk::Json> finishing;  // id → the earlier versions still loaded
  for (auto *p : registry_.finishing()) finishing[p->manifest.id].push_back(p->manifest.version);
  std::map<std::string, sdk::Json> kept;  // id → the earlier versions that stay loaded for a thread they left
  for (auto *p : registry_.kept()) kept[p->manifest.id].push_back(p->manifest.version);
  std::map<std::string, const plugins::Plugin *> last;  // id → the latest version let go, finishing or kept
  for (auto *p : registry_.loaded_let_go()) last[p->manifest.id] = p;
  for (auto *p : registry_.plugins()) {
    sdk::Json actions = sdk::Json::array(), triggers = sdk::Json::array(), lists = sdk::Json::array();
    for (auto &a : p->manifest.actions) actions.push_back(a.name);
    for (auto &t : p->manifest.triggers) triggers.push_back(t.name);
    for (auto &l : p->manifest.lists) lists.push_back(l.name);
    // Known once an instance loaded it; asking does not load it.
    sdk::Json calls = nullptr, calls_why = nullptr;
    if (p->in_use()) {
      calls = native_calls && p->native() ? "native" : "json";
      calls_why = native_calls ? p->seam() : "plugins.native_calls is false in hub.yaml: every connector is called through JSON";
    }
    loaded.push_back({{"id", p->manifest.id}, {"name", p->manifest.name}, {"version", p->manifest.version},
                      {"path", p->path}, {"build", p->build_key}, {"actions", actions}, {"triggers", triggers},
                      {"lists", lists},
                      {"finishing", finishing.count(p->manifest.id) ? finishing[p->manifest.id] : sdk::Json::array()},
                      {"kept", kept.count(p->manifest.id) ? kept[p->manifest.id] : sdk::Json::array()},
                      {"calls", calls}, {"calls_why", calls_why}});
  }
  // A connector a reload let go for its file, while the calls under way on it finish.
  sdk::Json removed = sdk::Json::array();
  for (auto &[id, p] : last)
    if (!registry_.find(id))
      removed.push_back({{"id", id}, {"name", p->manifest.name}, {"version", p->manifest.version}, {"path", p->path},
                         {"finishing", finishing.count(id) ? finishing[id] : sdk::Json::array()},
                         {"kept", kept.count(id) ? kept[id] : sdk::Json::array()}});
  sdk::Json rejected = sdk::Json::array();
  for (auto &r : registry_.rejected()) rejected.push_back({{"path", r.path}, {"reason", r.reason}});
  return {{"loaded", loaded}, {"removed", removed}, {"rejected", rejected}};
}

sdk::Json LiveHub::reload() {
  // Another reload may be loading plugins: wait for it, keeping the caller's
  // connection alive meanwhile (as loading plugins below does).
  std::unique_lock reload(reload_mutex_, std::defer_lock);
  while (!reload.try_lock_for(std::chrono::milliseconds(500))) http::keep_connection_alive();
  std::unique_lock registry(registry_mutex_);
  std::string file = current()->config().file;
  auto not_run = [&](const std::string &message, const sdk::Json &diagnostics) {
    return sdk::Json{{"ok", false}, {"message", message}, {"diagnostics", diagnostics},
                     {"restart_required", sdk::Json::array()}, {"connectors", sdk::Json::array()},
                     {"removed", sdk::Json::array()}, {"finishing", {{"attempts", 0}, {"polls", 0}}}};
  };
  auto refused = [&](const config::Diagnostics &d) {
    logger().error("reload of " + file + " refused; still running the previous configuration:\n" + d.format());
    return not_run(file + " has errors; the hub keeps running the previous configuration", diagnostics_json(d));
  };
  // The new versions of connectors it loads run only if it switches to the new configuration.
  plugins::PendingVersions versions(registry_);
  config::Diagnostics d;
  sdk::Json restart, connectors = sdk::Json::array(), removed = sdk::Json::array();
  std::string changed;  // what the message says of connectors replaced or removed
  Generation g;
  try {
    auto next = std::make_unique<config::HubConfig>();
    try {
      *next = config::load_config(file);
    } catch (const config::ConfigError &e) {
      return refused(e.diagnostics());
    }
    // Loading a plugin tries it in a child process first, which may take its time.
    d = http::keeping_connection_alive([&] {
      registry_.load_dir(next->plugins_dir);
      return validate(*next);
    });
    if (d.has_errors()) return refused(d);
    restart = restart_required(current()->config(), *next);
    for (auto &r : registry_.replacements()) {
      connectors.push_back({{"id", r.now->manifest.id}, {"version", r.now->manifest.version},
                            {"was", r.was->manifest.version}});
      const std::string &version = r.now->manifest.version;
      changed += "; connector " + r.now->manifest.id + " runs " +
                 (version != r.was->manifest.version ? version + " in place of " + r.was->manifest.version
                  : r.now->digest != r.was->digest ? "a new build of " + version + " in place of the earlier one"
                                                   : version + " from " + r.now->path + " in place of " + r.was->path);
    }
    for (auto *p : registry_.removals()) {
      removed.push_back({{"id", p->manifest.id}, {"version", p->manifest.version}, {"path", p->path}});
      changed += "; connector " + p->manifest.id + " " + p->manifest.version + " is no longer loaded: " + p->path +
                 " is gone from plugins.dir";
    }
    g = build(std::move(next));
  } catch (const std::exception &e) {
    // A store that fails while a rule's list is read, say: nothing changed.
    std::string why = current()->secrets()->apply(e.what());
    logger().error("reload of " + file + " failed; still running the previous configuration: " + why);
    return not_run("reloading " + file + " failed (" + why + "); the hub keeps running the previous configuration",
                   sdk::Json::array());
  }
  Generation previous;
  std::shared_ptr<const plugins::Redactor> secrets = g.engine->secrets();
  {
    std::lock_guard lock(state_mutex_);
    previous = generations_.back();
    for (auto &old : generations_) old.engine->hand_over(g.engine);
    generations_.push_back(std::move(g));
  }
  // The earlier versions are let go: each is unloaded once the instances of the previous configurations are.
  versions.commit();
  registry.unlock();
  // From here on the new configuration runs: a step that fails is told in the answer and the log, and the
  // others are taken all the same.
  std::string trouble;
  // Returns what failed and why, or "" when it ran.
  auto step = [&](const std::string &what, const std::string &so, const std::function<void()> &run) -> std::string {
    try {
      run();
      return "";
    } catch (const std::exception &e) {
      std::string why = failed(what, e, *secrets);
      trouble += "; " + why + ": " + so;
      return why;
    }
  };
  // Since when it runs, or not: a runner that ran on runs on in the new one.
  auto note = [](Running &state, const std::string &why) {
    if (state.running != why.empty() || state.reason != why) state = Running{why.empty(), now_ms(), why};
  };
  // The previous runner and poller start nothing more, and put back the jobs they held but had not begun.
  // The new ones start at once: the store leases a job to one attempt at a time, and a claim counts every
  // attempt under way against `concurrency` and the order of its ordering key; a poll under way stores
  // what it found before the new poller polls that source.
  std::size_t attempts = 0;
  step("the previous runner could not put back the jobs it held but had not begun",
       "each runs again once its lease ends", [&] { attempts = previous.runner->stop_starting(); });
  bool polling = previous.poller->stop_starting();
  std::vector<Generation> earlier;  // let go of outside the lock (what began on them keeps its own)
  std::unique_lock lock(state_mutex_);
  note(runner_, step("the new runner could not start",
                     "no job runs until a reload (POST /api/reload or SIGHUP) or a restart starts one",
                     [&] { generations_.back().runner->start(false); }));  // the previous runner put back what it held
  note(poller_, step("the new poller could not start",
                     "no source is polled until a reload (POST /api/reload or SIGHUP) or a restart starts one",
                     [&] { generations_.back().poller->start(); }));
  earlier.assign(std::make_move_iterator(generations_.begin()), std::make_move_iterator(generations_.end() - 1));
  generations_.erase(generations_.begin(), generations_.end() - 1);
  const Generation &now = generations_.back();
  std::string counts = std::to_string(now.engine->config().rules.size()) + " rule(s), " +
                       std::to_string(now.engine->config().integrations.size()) + " integration(s)";
  std::string fingerprint = now.fingerprint;
  lock.unlock();
  step("no thread could be started to wait for the previous configuration", "it was finished before this answer",
       [&] { finish(previous, attempts, polling, file); });
  std::string later;
  if (!restart.empty()) {
    std::string keys;
    for (auto &key : restart) keys += (keys.empty() ? "" : ", ") + key.get<std::string>();
    later = "; changes to " + keys + " take effect after a restart";
  }
  std::string finishing =
      attempts || polling ? "; still under way on the previous configuration: " + under_way(attempts, polling) : "";
  // The log names the configuration, which nodes sharing a store compare.
  std::string message = "reloaded " + file + " (" + counts + ")" + changed + later + finishing + trouble;
  std::string said = "reloaded " + file + " (" + counts + "; configuration " + fingerprint + ")" + changed + later +
                     finishing + trouble;
  if (trouble.empty()) logger().information(said);
  else logger().error(said);
  for (auto &item : d.items()) logger().warning(item.format());
  return {{"ok", true}, {"message", message}, {"diagnostics", diagnostics_json(d)}, {"restart_required", restart},
          {"connectors", connectors}, {"removed", removed},
          {"finishing", {{"attempts", attempts}, {"polls", polling ? 1 : 0}}}};
}

}  // namespace cartwire::app
