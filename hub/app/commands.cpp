#include "app/commands.hpp"

#include <Poco/Environment.h>
#include <Poco/Logger.h>
#include <Poco/Process.h>
#include <Poco/Util/Application.h>

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <set>
#include <system_error>
#include <thread>

#include "admin/metered_store.hpp"
#include "admin/server.hpp"
#include "app/live_hub.hpp"
#include "engine/engine.hpp"
#include "engine/periodic.hpp"
#include "engine/retention.hpp"
#include "engine/runner.hpp"
#include "engine/validate.hpp"
#include "http/front.hpp"
#include "http/listener.hpp"
#include "plugins/crash_note.hpp"
#include "store/store.hpp"

namespace cartwire::app {
namespace {

using Poco::Util::Application;

// How long a node whose name another node took answers the webhooks it is answering before it ends.
constexpr std::chrono::seconds kAnswerLimit{5};

// Where this node keeps the note a connector's crash leaves: beside a SQLite
// store, in the folder of storage.path (var/ beside hub.yaml by default) for
// a shared one. "" for a store in memory.
std::string crash_note_path(const config::StorageConfig &storage, const std::string &node) {
  namespace fs = std::filesystem;
  if (storage.driver != "postgresql")
    return storage.path == ":memory:" ? "" : fs::weakly_canonical(storage.path).string() + ".crash";
  std::string name = node;
  for (char &c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  fs::path folder = fs::path(storage.path).parent_path();
  fs::create_directories(folder);
  return (folder / ("cartwire-" + name + ".crash")).string();
}

// Says what stopped a run, as `note` tells, and acts on it: fails the job
// whose attempt it cut short (running it again would stop the hub again),
// refuses the webhook, leaves out the instance (a poll source in the store
// too, for every node sharing it: added to `left_out`). True when the note is
// to be kept for the next start (the job could not be failed).
bool act_on(const plugins::crash_note::Note &note, const config::HubConfig &cfg, store::Store &store,
            const std::string &node, Poco::Logger &log, std::vector<std::string> &left_out) {
  bool keep = false;
  // "" for an instance no longer in the file.
  std::string kind = cfg.integrations.count(note.instance) ? "integration"
                     : cfg.sources.count(note.instance)    ? "source"
                                                           : "";
  std::string named =
      kind.empty() ? "'" + note.instance + "', no longer in " + cfg.file + "," : kind + " '" + note.instance + "'";
  std::string what = named + " (" + note.operation +
                     (note.detail.empty() || note.detail == note.operation ? "" : " " + note.detail) +
                     (note.job ? ", job " + std::to_string(note.job) : "") + ")";
  std::string where =
      note.in_hub ? "the hub's own code, not in a connector, as it worked for " + what : "the connector of " + what;
  std::string signal = plugins::crash_note::signal_name(note.signal);
  std::string stopped =
      "the last run of node " + node + " stopped with " + signal + " at " + engine::rfc3339(note.ended_ms) + " inside ";
  std::string said = stopped + where;
  // The attempt that fails the job the note names, for good, as made by `holder`.
  auto failing = [&](const std::string &holder, std::string error) {
    store::AttemptRecord attempt;
    attempt.job_id = note.job;
    attempt.node = holder;
    attempt.started_at = note.started_ms;
    attempt.duration_ms = std::max<int64_t>(0, note.ended_ms - note.started_ms);
    attempt.outcome = "permanent";
    attempt.error = std::move(error);
    return attempt;
  };
  if (!note.jobs.empty()) {
    // One of them is at fault, which one cannot be told: each is recorded alone this time, so that a
    // crash names it and the start after fails it, rather than all of them (or none) again.
    std::string jobs;
    for (int64_t job : note.jobs) jobs += (jobs.empty() ? "" : ", ") + std::to_string(job);
    said = stopped + "the hub's own code, not in a connector, as it recorded the attempts of jobs " + jobs +
           " together; they run again, and this run records each alone, so that the one that stops the hub " +
           "again is named and failed at the start after: upgrade the hub";
    plugins::crash_note::record_alone(note.jobs);
  } else if (note.operation == "claim" && note.job && note.attempts >= 0) {
    // A SQLite claim never committed: the job is queued (or its ended lease is) as it was. A PostgreSQL one
    // committed its lease before it read the row: the job is running under the crashed node's lease, which the
    // other nodes cut short only 10 s on. Each claim would take it and stop the hub again. It is failed unless
    // it moved on since (another node ran it or holds it, or it was replayed).
    said = stopped + "the hub's own code, not in a connector, as it claimed job " + std::to_string(note.job);
    store::AttemptRecord attempt =
        failing(note.node.empty() ? node : note.node,
                "the hub stopped with " + signal + " while claiming this job, in the hub's own code, not in a " +
                    "connector; not run again, since its claim could stop the hub again: replay it once the hub is " +
                    "upgraded");
    try {
      said += store.fail_claimed(attempt, note.attempts, wall_clock_ms())
                  ? "; the job is marked failed rather than claimed again, which could stop the hub again: upgrade "
                    "the hub, then replay it"
                  : "; the job has moved on since (it ran, or was replayed), so it is left as it is";
    } catch (const std::exception &e) {
      said += std::string("; marking the job failed did not work (") + e.what() +
              "), so it is claimed again; the note stays, and the next start tries again";
      keep = true;
    }
  } else if (note.job) {
    // A SQLite file is held by one node at a time: a job left running there under another name (the port,
    // which names the node, changed since, or it was 0, and the name holds the pid) is that dead run's.
    const std::string &holder = cfg.storage.driver != "postgresql" && !note.node.empty() ? note.node : node;
    store::AttemptRecord attempt = failing(
        holder, note.in_hub ? "the hub stopped with " + signal + " while running this job, in the hub's own code, " +
                                  "not in a connector; not run again, since it could stop the hub again: replay it " +
                                  "once the hub is upgraded"
                            : "the hub stopped with " + signal + " during this attempt, inside the connector of " +
                                  "integration '" + note.instance + "'; not run again, since it could stop the hub " +
                                  "again: fix or update the connector, then replay the job");
    std::string fix = note.in_hub ? "upgrade the hub" : "fix or update the connector";
    try {
      said += store.fail_interrupted(attempt, holder, wall_clock_ms())
                  ? "; the job is marked failed rather than run again, which could stop the hub again: " + fix +
                        ", then replay it"
                  : "; the job is no longer this node's to run, so it is left as it is";
    } catch (const std::exception &e) {
      said += std::string("; marking the job failed did not work (") + e.what() +
              "), so it runs again; the note stays, and the next start tries again";
      keep = true;
    }
  } else if (note.operation == "webhook" && kind == "source" && !note.request.empty()) {
    std::string by = note.in_hub
                         ? " in the hub's own code, not in a connector, as source '" + note.instance + "' took it"
                         : " inside the connector of source '" + note.instance + "'";
    std::string after = note.in_hub ? "once the hub is upgraded and restarted, it is taken when sent again"
                                    : "nothing of it is stored: once the connector is fixed or updated and the "
                                      "hub restarted, it is taken when sent again";
    plugins::crash_note::refuse_webhook(note.instance, note.request,
                                        "this request stopped the hub with " + signal + by + " at " +
                                            engine::rfc3339(note.ended_ms) +
                                            ", so it is refused until the hub restarts; " + after);
    said += std::string(note.in_hub ? "; that webhook was not answered" : "; nothing of that webhook was stored") +
            ", and until the next start the same request is refused (503), so that its sender sending it again "
            "does not stop the hub again: " +
            (note.in_hub ? "upgrade the hub" : "fix or update the connector") + ", then restart the hub";
  } else if (note.operation == "webhook") {
    said += note.in_hub ? "; that webhook was not answered, and its sender may send it again: upgrade the hub"
                        : "; nothing of that webhook was stored, and its sender may send it again: fix or update "
                          "the connector";
  } else if (!kind.empty() && (note.operation == "create" || note.operation == "poll")) {
    // Left out until its settings change (a reload) or the next start: so that the hub starts without it,
    // or a poll that would run again at once from the same cursor does not stop it again.
    std::string as = note.operation == "create" ? "as it was created" : "in a poll";
    std::string stopped = note.in_hub ? "the hub stopped with " + signal + " in its own code, not in a connector, " + as
                                      : "its connector stopped the hub with " + signal + " " + as;
    std::string fix = note.in_hub ? "upgrade the hub" : "fix or update the connector";
    // A source is polled again (or created again) when the operator asks, too.
    std::string asked = kind == "source" ? ", or when asked (Poll again in the console: POST /api/sources/" +
                                               note.instance + "/poll-again)"
                                         : "";
    auto &instances = kind == "integration" ? cfg.integrations : cfg.sources;
    auto it = instances.find(note.instance);
    if (it != instances.end())
      plugins::crash_note::refuse_creating(note.instance, it->second.settings.dump(),
                                           stopped + " at " + engine::rfc3339(note.ended_ms) +
                                               "; tried again when its settings change, at the next start" + asked +
                                               ": " + fix);
    said += "; the " + kind + " is left out of this run, so that it does not stop the hub again: " + fix +
            ", then restart the hub";
    // The other nodes sharing the store would poll it from the same cursor: the store leaves it out for
    // them too, with these settings, until this node starts again (a SQLite store's mark goes the same way).
    if (note.operation == "poll" && it != instances.end()) {
      std::string by = note.in_hub ? "the hub stopped node '" + node + "' with " + signal +
                                         " in its own code, not in a connector, in a poll"
                                   : "its connector stopped node '" + node + "' with " + signal + " in a poll";
      try {
        store.leave_out_poll(note.instance, engine::settings_digest(it->second.settings), node,
                             by + " at " + engine::rfc3339(note.ended_ms) +
                                 "; no node polls it with these settings until they change, node '" + node +
                                 "' starts again" + asked + ": " + fix,
                             wall_clock_ms());
        left_out.push_back(note.instance);
        plugins::crash_note::marked_in_store(note.instance);
        if (cfg.storage.driver == "postgresql")
          said += "; no other node of the database polls it with these settings either, until they change or this "
                  "node starts again";
      } catch (const std::exception &e) {
        said += std::string("; recording that in the store did not work (") + e.what() +
                "), so another node of the database may poll it";
      }
    }
  } else {
    said += "; fix or update the connector: the same request may stop the hub again";
  }
  log.error(said);
  return keep;
}

// Says what the last run's crash inside a connector, or in the hub's own code
// as it worked on a job or a webhook, was, and acts on it (act_on), then arms
// the note for this run. The job is failed before the note is emptied: a stop
// in between leaves the note to be read again, and so does a start that cannot
// fail it: this run is armed after that note, kept, and a crash of its own is
// noted after it, for the next start to read both.
void after_a_crash(const config::HubConfig &cfg, store::Store &store, const std::string &node, Poco::Logger &log) {
  std::string path;
  try {
    path = crash_note_path(cfg.storage, node);
  } catch (const std::exception &e) {
    log.warning(std::string("no crash note for this node: ") + e.what() +
                "; a job that stops the hub, in a connector or in its own code, would stop it again at each start");
  }
  std::vector<plugins::crash_note::Note> notes, kept;  // kept: for the next start to read again
  if (!path.empty()) notes = plugins::crash_note::read(path);
  std::vector<std::string> left_out;  // poll sources this start leaves out
  for (const auto &note : notes)
    if (act_on(note, cfg, store, node, log, left_out)) kept.push_back(note);
  // The poll sources this node's last start left out are polled again, by every node: after the marks of
  // this start are in the store, so that no node polls one of those meanwhile.
  try {
    std::string again;
    for (const std::string &source : store.end_left_out_polls(node, left_out))
      again += (again.empty() ? "'" : ", '") + source + "'";
    if (!again.empty())
      log.information("source(s) " + again + " left out at the last start of node " + node +
                      " after a poll that stopped it are polled again");
  } catch (const std::exception &e) {
    log.warning(std::string("the poll sources left out at the last start of this node stay left out: ") + e.what() +
                "; the next start tries again");
  }
  if (path.empty()) return;
  try {
    plugins::crash_note::arm(path, node, kept);
    store.mark_work_with(&plugins::crash_note::work_marks());
  } catch (const std::exception &e) {
    log.warning(std::string("no crash note for this node: ") + e.what() +
                "; a job that stops the hub, in a connector or in its own code, would stop it again at each start");
  }
}

}  // namespace

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string describe(const config::StorageConfig &storage) {
  return storage.driver == "postgresql" ? store::describe_postgresql(storage.url) : storage.path;
}

std::unique_ptr<store::Store> open_store(const config::StorageConfig &storage, bool migrate,
                                         const std::string &node) {
  if (storage.driver == "postgresql") return store::open_postgresql(storage.url, migrate);
  return store::open_sqlite(storage.path, storage.synchronous, node);
}

int check(const config::HubConfig &cfg, const plugins::Registry &registry, const config::Diagnostics &loaded,
          bool allow_unset) {
  // A database URL from a variable left unset (the loader warned): nothing to read or parse.
  bool no_url = allow_unset && cfg.storage.driver == "postgresql" && cfg.storage.url.empty();
  // Lists are read from the store when it exists; check never creates a SQLite file.
  std::unique_ptr<store::Store> store;
  std::string unusable;  // why serve could not open the SQLite file either
  if ((cfg.storage.driver == "postgresql" && !no_url) || std::filesystem::exists(cfg.storage.path)) {
    try {
      store = open_store(cfg.storage, /*migrate=*/false);
    } catch (const std::exception &e) {
      if (cfg.storage.driver == "postgresql")
        std::cerr << describe(cfg.storage) << ": cannot read cached lists: " << e.what() << "\n";
      else
        unusable = reason(e);
    }
  }
  engine::ListLookup lists = [&](const std::string &integration, const std::string &list) {
    return store ? store->load_list(integration, list) : std::nullopt;
  };
  plugins::HostServices services;
  services.clock_ms = wall_clock_ms;
  config::Diagnostics d = loaded;
  if (!unusable.empty())
    d.error({cfg.file, 0}, "storage.path " + cfg.storage.path + " cannot be the hub's store: " + unusable);
  // Rejected plugins first: a connector missing from the rules below is often why.
  for (auto &r : registry.rejected()) d.warning({r.path, 0}, "plugin rejected: " + r.reason);
  for (auto *p : registry.plugins())
    for (auto &note : p->manifest.unknown_keys) d.warning({p->path, 0}, "connector " + p->manifest.id + ": " + note);
  if (cfg.storage.driver == "postgresql" && !no_url) {
    try {
      store::postgresql_parts(cfg.storage.url);
    } catch (const std::invalid_argument &e) {
      d.error(cfg.storage.url_at, std::string("storage.url is not a PostgreSQL connection string: ") + e.what());
    } catch (const std::exception &e) {
      d.error(cfg.storage.url_at, e.what());
    }
  }
  d.append(engine::validate(cfg, registry, lists, wall_clock_ms(), engine::instance_probe(services, cfg, registry)));
  std::cout << d.format();
  std::size_t errors = d.errors();
  std::cout << cfg.file << ": " << (errors ? std::to_string(errors) + " error(s)" : "OK") << ": " << cfg.sources.size()
            << " source(s), " << cfg.integrations.size() << " integration(s), " << cfg.rules.size() << " rule(s), "
            << registry.plugins().size() << " connector(s) loaded\n";
  return errors ? Application::EXIT_CONFIG : Application::EXIT_OK;
}

int refresh(const config::HubConfig &cfg, const plugins::Registry &registry, const std::string &integration,
            const std::vector<std::string> &names) {
  auto it = cfg.integrations.find(integration);
  if (it == cfg.integrations.end()) {
    std::vector<std::string> ids;
    for (auto &[id, inst] : cfg.integrations) ids.push_back(id);
    std::string guess = config::closest(integration, ids), known;
    for (auto &id : ids) known += (known.empty() ? "" : ", ") + id;
    std::cerr << "cartwire refresh: no integration '" << integration << "' in " << cfg.file << " ("
              << (guess.empty() ? "" : "did you mean " + guess + "? ") << "integrations: " << (known.empty() ? "none" : known)
              << ")\n";
    return Application::EXIT_USAGE;
  }
  const plugins::Plugin *plugin = registry.find(it->second.connector);
  if (!plugin) {
    std::cerr << "cartwire refresh: connector '" << it->second.connector << "' is not loaded from " << cfg.plugins_dir
              << "\n";
    return Application::EXIT_CONFIG;
  }
  std::vector<std::string> lists = names;
  if (lists.empty())
    for (auto &l : plugin->manifest.lists) lists.push_back(l.name);
  for (auto &name : lists) {
    if (!plugin->manifest.list(name)) {
      std::string known;
      for (auto &l : plugin->manifest.lists) known += (known.empty() ? "" : ", ") + l.name;
      std::cerr << "cartwire refresh: connector " << plugin->manifest.id << " has no list '" << name
                << "' (lists: " << (known.empty() ? "none" : known) << ")\n";
      return Application::EXIT_USAGE;
    }
  }
  if (lists.empty()) {
    std::cout << integration << ": connector " << plugin->manifest.id << " has no resource lists\n";
    return Application::EXIT_OK;
  }
  std::unique_ptr<store::Store> store;
  try {
    store = open_store(cfg.storage);
  } catch (const std::exception &e) {
    std::cerr << "cartwire refresh: cannot open the store at " << describe(cfg.storage) << ": " << e.what() << "\n";
    return Application::EXIT_CANTCREAT;
  }
  plugins::HostServices services;
  services.clock_ms = wall_clock_ms;
  std::unique_ptr<plugins::Instance> instance;
  try {
    instance = std::make_unique<plugins::Instance>(*plugin, integration, it->second.settings, services,
                                                   *engine::hub_secrets(cfg, registry, engine::Unlisted::by_name));
  } catch (const std::exception &e) {
    std::cerr << "cartwire refresh: " << integration << ": the connector refused its settings: " << e.what() << "\n";
    return Application::EXIT_CONFIG;
  }
  int failures = 0;
  for (auto &name : lists) {
    std::cout << integration << "." << name << ": fetching ..." << std::flush;
    auto started = std::chrono::steady_clock::now();
    plugins::CallLog log;
    sdk::Result r = instance->list(name, log);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    sdk::Json items = r.data.value("items", sdk::Json::array());
    if (!r.is_ok() || !items.is_array()) {
      std::cout << " failed (" << sdk::to_string(r.outcome) << "): " << (r.message.empty() ? "no items" : r.message)
                << "\n";
      ++failures;
      continue;
    }
    store->save_list(integration, name, items, wall_clock_ms());
    std::cout << " " << items.size() << " item(s) in " << log.exchanges.size() << " request(s), " << ms << " ms\n";
  }
  return failures ? Application::EXIT_UNAVAILABLE : Application::EXIT_OK;
}

int serve(const config::HubConfig &cfg, plugins::Registry &registry, const std::function<void()> &wait_for_stop) {
  auto &log = Poco::Logger::get("cartwire");
  // Threads started from here on inherit this mask, so these signals reach
  // only the threads that wait for them: SIGHUP the reload thread, the others
  // wait_for_stop. Unblocked, SIGHUP would end the process.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  admin::Metrics metrics;
  // How the hub ends: 0 while it runs, 1 once a signal stops it, 2 once another node took its name.
  std::atomic<int> ending{0};
  // Nodes that share a store tell their leases apart by this name.
  std::string node = cfg.runner.node;
  if (node.empty())
    node = Poco::Environment::nodeName() + ":" +
           std::to_string(cfg.server.port ? cfg.server.port : static_cast<int>(Poco::Process::id()));
  std::unique_ptr<store::Store> store;
  try {
    // A SQLite file is held for the node before anything in it is read or changed.
    store = std::make_unique<admin::MeteredStore>(open_store(cfg.storage, true, node), metrics);
    store->hold_node(node);
    // Another node that took the name while the database was away has put back the jobs leased under
    // it, to run them: this node ends at once, running and recording nothing more, as if killed, but
    // for the webhooks it is answering (the store refuses them: 503), which the main thread lets it
    // answer first; woken by a SIGTERM, as by a stop. Already stopping, it has nothing more to answer.
    store->on_name_lost([&log, &ending](const std::string &why) {
      log.fatal("stopping at once: " + why + "; this node runs and records nothing more, and the jobs it was " +
                "running are run again by that node: give each node its own runner.node");
      if (ending.exchange(2) == 1) std::_Exit(Application::EXIT_CONFIG);
      ::kill(::getpid(), SIGTERM);
    });
    // What this node's claims cut short of a node killed (its session gone), for its jobs and polls to run again.
    store->on_leases_cut([](const std::string &holder, int jobs, const std::string &source) {
      if (jobs)
        Poco::Logger::get("runner").warning("cut short the leases of " + std::to_string(jobs) +
                                            " job(s) held under node '" + holder + "', whose session is gone");
      else
        Poco::Logger::get("poller").warning("source '" + source + "': cut short the lease of its poll held under " +
                                            "node '" + holder + "', whose session is gone");
    });
  } catch (const store::NodeInUse &e) {
    log.fatal(std::string("cannot start: ") + e.what());
    return Application::EXIT_CONFIG;
  } catch (const store::ThreadNotStarted &e) {
    log.fatal(failed("the store could not start", e, plugins::Redactor()) + ": " + kNoThreadAtStart);
    return Application::EXIT_OSERR;
  } catch (const std::exception &e) {
    log.fatal("cannot open the store at " + describe(cfg.storage) + ": " + reason(e));
    return Application::EXIT_CANTCREAT;
  }
  after_a_crash(cfg, *store, node, log);
  engine::ListLookup lists = [&](const std::string &integration, const std::string &list) {
    return store->load_list(integration, list);
  };
  plugins::HostServices services;
  services.body_limit = cfg.log_body_bytes;
  services.clock_ms = wall_clock_ms;
  // A rule with an error (or whose integration has one, its connector refusing its settings
  // included) is kept idle: listed, never matched.
  std::set<std::size_t> broken;
  std::set<std::string> broken_sources;
  config::Diagnostics d = engine::validate(cfg, registry, lists, wall_clock_ms(),
                                           engine::instance_probe(services, cfg, registry), &broken, &broken_sources);
  for (auto &item : d.items()) {
    if (item.severity == config::Diagnostic::Severity::error) log.error(item.format());
    else log.warning(item.format());
  }
  config::HubConfig running = cfg;
  // A source with an error (a secret it requires missing) would refuse every webhook, or take them unchecked.
  for (const std::string &id : broken_sources) running.sources[id].left_out = true;
  std::string idle;
  for (std::size_t index : broken) {
    running.rules[index].idle = true;
    idle += (idle.empty() ? "" : ", ") + running.rules[index].name;
  }
  if (d.has_errors())
    log.warning("running with the problems above: " +
                (idle.empty() ? std::string("no rule is affected") : "these rules stay idle until fixed: " + idle) +
                "; a source with an error answers its webhooks 503, which its cart may not send again: fix it "
                "and reload");
  LiveHub hub(running, registry, *store, services, node);
  // Each part starts its threads, or the hub ends, before it takes a webhook: the webhook listener, whose
  // port takes connections from its creation, accepts them only once every other part runs.
  std::unique_ptr<http::Front> front;
  try {
    front = std::make_unique<http::Front>([&hub] { return hub.current(); }, cfg.server);
  } catch (const std::system_error &e) {  // its threads, before it listens
    log.fatal(failed("the webhook listener could not start", e, *hub.secrets()) + ": " + kNoThreadAtStart);
    return Application::EXIT_OSERR;
  } catch (const std::exception &e) {
    log.fatal("cannot listen on " + cfg.server.host + ":" + std::to_string(cfg.server.port) + ": " + reason(e));
    return Application::EXIT_OSERR;
  }
  std::unique_ptr<admin::Server> console;
  if (cfg.admin.enabled) {
    admin::Hub hooks;
    hooks.engine = [&hub] { return hub.current(); };
    hooks.reload = [&hub] { return hub.reload(); };
    hooks.plugins = [&hub] { return hub.plugins(); };
    hooks.check = [&hub] { return hub.check(); };
    hooks.secrets = [&hub] { return hub.secrets(); };
    hooks.status = [&hub] { return hub.status(); };
    hooks.node = node;
    try {
      console = std::make_unique<admin::Server>(cfg.admin, std::move(hooks), metrics, wall_clock_ms);
    } catch (const std::system_error &e) {
      log.fatal(failed("the admin console could not start", e, *hub.secrets()) + ": " + kNoThreadAtStart);
      return Application::EXIT_OSERR;
    } catch (const std::exception &e) {
      log.fatal("cannot listen on " + cfg.admin.host + ":" + std::to_string(cfg.admin.port) + " (admin.listen): " +
                reason(e));
      return Application::EXIT_OSERR;
    }
  }
  try {
    hub.start();
  } catch (const std::exception &e) {
    // Rather than take webhooks whose jobs no thread would run.
    log.fatal(std::string(e.what()) + ": " + kNoThreadAtStart);
    return Application::EXIT_OSERR;
  }
  // What the first part that could not start says; the parts after it are not started.
  std::string trouble;
  auto start = [&](const std::string &part, const std::function<void()> &run) {
    if (!trouble.empty()) return;
    try {
      run();
    } catch (const std::exception &e) {
      trouble = failed(part + " could not start", e, *hub.secrets());
    }
  };
  std::unique_ptr<engine::Retention> retention;
  if (cfg.storage.retention.count() > 0)
    start("the removal of old jobs (storage.retention)", [&] {
      retention = std::make_unique<engine::Retention>(*store, cfg.storage.retention, wall_clock_ms);
      retention->start();
    });
  // Nodes sharing a store share each integration's rate budget: each keeps its part. Each
  // notes what it runs, and says which nodes run something else (hub.yaml reloaded on some only).
  std::unique_ptr<engine::Periodic> budgets;
  if (cfg.storage.driver == "postgresql")
    start("the count of the nodes sharing the database", [&] {
      budgets = std::make_unique<engine::Periodic>(
          "cartwire", "counting the nodes that share the database", store::kNodeCountInterval,
          [&, nodes = 1, others = std::string()]() mutable {
            int now = store->count_nodes();
            // After a restart of the database each node takes its name again as it connects again, at
            // the latest at its next count: until the others had the time to, fewer nodes than before is
            // not taken as true, so that this node, back first, does not take their shares meanwhile.
            bool rejoining = std::chrono::steady_clock::now() - store->name_held_since() < store::kRejoinTime;
            if (now >= 1 && (now > nodes || (now < nodes && !rejoining))) {
              nodes = now;
              services.share_rate_budgets(nodes);
              log.information(std::to_string(nodes) + " node(s) share this database: each keeps 1/" +
                              std::to_string(nodes) + " of every integration's rate budget");
            }
            std::string mine = hub.fingerprint(), differ;
            store->note_config(node, mine);
            for (auto &[name, theirs] : store->node_configs())
              if (name != node && !theirs.empty() && theirs != mine)
                differ += (differ.empty() ? "'" : ", '") + name + "' (" + theirs + ")";
            if (differ == others) return;
            others = differ;
            if (differ.empty())
              log.information("every node runs this node's configuration (" + mine + ") again");
            else
              log.warning("node(s) " + differ + " run another configuration than this node (" + mine +
                          "): their sources, integrations or rules differ, so a webhook makes other jobs there; "
                          "reload every node after changing hub.yaml");
          });
    });
  std::atomic<bool> stopping{false};
  std::thread reloader;
  start("the reload on SIGHUP", [&] {
    reloader = std::thread([&] {
      sigset_t hup;
      sigemptyset(&hup);
      sigaddset(&hup, SIGHUP);
      timespec tick{0, 200 * 1000 * 1000};
      while (!stopping) {
        if (sigtimedwait(&hup, nullptr, &tick) != SIGHUP) continue;
        log.information("SIGHUP: reloading " + cfg.file);
        hub.reload();
      }
    });
  });
  if (console) start("the admin console", [&] { console->start(); });
  // Ends what started, the webhook listener first.
  auto stop = [&] {
    stopping = true;
    if (reloader.joinable()) reloader.join();
    front->stop();
    if (console) console->stop();
    budgets.reset();
    retention.reset();
    hub.stop();
  };
  start("the webhook listener", [&] { front->start(); });
  if (!trouble.empty()) {
    // What started ends as at a stop (below); the webhook listener accepted no connection, and those waiting
    // for it are refused as its port closes.
    log.fatal(trouble + ": " + kNoThreadAtStart);
    stop();
    return Application::EXIT_OSERR;
  }
  log.information("cartwire " CARTWIRE_VERSION " listening on http://" + cfg.server.host + ":" +
                  std::to_string(front->port()) + " (store " + describe(cfg.storage) + ", node " + node + ", pid " +
                  std::to_string(Poco::Process::id()) + ", configuration " + hub.fingerprint() + ")");
  if (console) {
    log.information("admin API and console on http://" + cfg.admin.host + ":" + std::to_string(console->port()) +
                    (sdk::is_this_machine(sdk::lower(cfg.admin.host))
                         ? ""
                         : " (reachable beyond this machine: put it behind TLS)"));
  } else if (!cfg.admin.token_variable.empty()) {
    log.information("admin API off: " + cfg.admin.token_variable + " (admin.token) is unset or empty; export it "
                    "(at least 16 characters, e.g. openssl rand -hex 24) and restart");
  } else {
    log.information("admin API off: to enable it, add to " + cfg.file +
                    "\n  admin:\n    listen: 127.0.0.1:8081\n    token: ${CARTWIRE_ADMIN_TOKEN}\n"
                    "and export CARTWIRE_ADMIN_TOKEN (at least 16 characters, e.g. openssl rand -hex 24)");
  }
  wait_for_stop();
  if (int running = 0; !ending.compare_exchange_strong(running, 1)) {
    // Its name lost: no more requests, those under way answered, and the end, within kAnswerLimit.
    std::thread([] {
      std::this_thread::sleep_for(kAnswerLimit);
      std::_Exit(Application::EXIT_CONFIG);
    }).detach();
    front->stop();
    std::_Exit(Application::EXIT_CONFIG);
  }
  log.information("stopping: finishing requests and running jobs");
  stop();
  return Application::EXIT_OK;
}

}  // namespace cartwire::app
