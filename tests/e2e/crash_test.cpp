// Sustained webhook load while the hub is killed with SIGKILL at random
// moments and restarted; then reconcile what was acknowledged against what
// was stored and delivered. And a connector that crashes the hub: what the
// next start says and does.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "../support/hub_process.hpp"
#include "../support/postgres.hpp"
#include "../support/sink.hpp"
#include "../support/thrivecart_payloads.hpp"

using namespace cartwire::testing;

TEST(CrashSafety, KillNineUnderLoadLosesNothingAcknowledged) {
  const std::string secret = "crash-secret-word";
  Sink sink;
  std::string cfg =
      "runner:\n  workers: 4\n  poll_interval: 100ms\n  lease: 2s\n  retry: {initial_delay: 100ms, max_delay: 500ms}\n"
      "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: " + secret + "}\n"
      "integrations:\n  hook:\n    connector: notifyurl\n    settings: {url: \"" + sink.url() + "\"}\n"
      "rules:\n  - {name: notify, on: order.completed, do: hook.post}\n";
  HubProcess hub("crash-load", cfg);
  hub.start();

  constexpr int kOrders = 300;
  constexpr int kClients = 4;
  std::atomic<int> next{0};
  std::vector<std::set<int>> acked(kClients);
  std::atomic<bool> load_done{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      // Like a cart, re-deliver an order until it is acknowledged.
      for (int order = next++; order < kOrders; order = next++) {
        std::string body = thrivecart::order_success(secret, std::to_string(100000 + order),
                                                     {{"product", "12", "Course", 4995}});
        for (int attempt = 0; attempt < 200; ++attempt) {
          try {
            if (http("POST", hub.port(), "/hooks/thrivecart", body,
                     {{"Content-Type", "application/x-www-form-urlencoded"}}).status == 200) {
              acked[c].insert(order);
              break;
            }
          } catch (...) {
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    });
  }
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pause(150, 700);
  int kills = 0;
  for (; kills < 4 && next < kOrders; ++kills) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause(rng)));
    hub.kill9();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    hub.start();
  }
  for (auto &t : clients) t.join();
  load_done = true;

  std::set<int> all_acked;
  for (auto &s : acked) all_acked.insert(s.begin(), s.end());
  ASSERT_EQ(all_acked.size(), static_cast<std::size_t>(kOrders)) << "some orders were never acknowledged";

  // Every acknowledged order has its events (the order and its one item), and
  // every job reaches a final state.
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE type = 'order.completed'"), kOrders);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE type = 'product.purchased'"), kOrders);
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == kOrders; },
                         std::chrono::seconds(60)))
      << hub.count("SELECT COUNT(*) FROM jobs WHERE state <> 'succeeded'") << " jobs unfinished\n" << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs"), kOrders);
  for (int order = 0; order < kOrders; ++order) {
    std::string key = "tc:acme:order:" + std::to_string(100000 + order);
    ASSERT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE dedupe_key = '" + key + "'"), 1) << key;
  }

  // Delivery: each job reached the sink; a job reached it twice only when the
  // hub died between the remote's answer and recording it (at-least-once).
  std::map<std::string, int> deliveries;
  for (auto &r : sink.requests()) ++deliveries[r.headers["webhook-id"]];
  EXPECT_EQ(deliveries.size(), static_cast<std::size_t>(kOrders));
  int duplicates = 0;
  for (auto &[id, n] : deliveries) duplicates += n - 1;
  std::cout << "[ crash    ] kills=" << kills << " orders=" << kOrders << " duplicate deliveries=" << duplicates
            << " (remote answered, hub killed before recording)\n";
  RecordProperty("kills", kills);
  RecordProperty("duplicate_deliveries", duplicates);
  // A duplicate delivery needs a kill between the remote's answer and the record
  // of the attempt. Workers record the attempts of a claim batch together, so
  // one kill can catch at most a batch (Runner::kMaxBatch = 16) per worker.
  constexpr int kWorkers = 4, kMaxBatch = 16;
  EXPECT_LE(duplicates, kills * kWorkers * kMaxBatch);
  // A success, once recorded, is final: every job has exactly one successful
  // attempt on record, and the sink never failed, so nothing else is recorded.
  EXPECT_EQ(hub.count("SELECT COUNT(DISTINCT job_id) FROM attempts WHERE outcome = 'ok'"), kOrders);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts"), kOrders) << "a job ran again after its success was recorded";
}

namespace {

const std::string kCrashSecret = "crash-note-secret-word";

// A hub with ThriveCart in and the crashing fixture out (any order runs lab.post) and as a source.
// `sources`: more of them.
std::string crashing_hub_config(const std::string &url, const std::string &sources = "") {
  return "runner:\n  workers: 1\n  poll_interval: 50ms\n"
         "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: " + kCrashSecret + "}\n"
         "  crashy:\n    connector: crashes\n" + sources +
         "integrations:\n  lab:\n    connector: crashes\n    settings: {url: \"" + url + "\"}\n"
         "rules:\n  - {name: to-lab, on: order.completed, do: lab.post}\n";
}

int order_for(HubProcess &hub, int order, const std::string &email) {
  thrivecart::Customer customer;
  customer.email = email;
  return hub.post("/hooks/thrivecart", thrivecart::order_success(kCrashSecret, std::to_string(order),
                                                                  {{"product", "12", "Course", 4995}}, customer))
      .status;
}

// A hub configured by crashing_hub_config, with the ThriveCart, Notify URL and crashing
// connectors, and a sink for what they deliver. It leaves no core file when it crashes.
struct CrashingHub {
  Sink sink;
  HubProcess hub;
  explicit CrashingHub(const std::string &name, const std::string &sources = "",
                       std::map<std::string, std::string> env = {})
      : hub(name, "", std::move(env)) {
    rlimit core{};
    ::getrlimit(RLIMIT_CORE, &core);
    core.rlim_cur = 0;
    ::setrlimit(RLIMIT_CORE, &core);
    fs::path dir = hub.dir() / "plugins";
    fs::create_directories(dir);
    for (std::string connector : {"thrivecart", "notifyurl"})
      fs::create_symlink(std::string(CARTWIRE_PLUGIN_DIR) + "/" + connector + ".so", dir / (connector + ".so"));
    fs::create_symlink(CRASHES_PLUGIN, dir / "crashes.so");
    hub.use_plugins_dir(dir.string());
    hub.write_config(crashing_hub_config(sink.url(), sources));
  }
};

// Whether the hub ends within 30 s, ended by `signal`.
::testing::AssertionResult died_of(HubProcess &hub, int signal) {
  std::optional<int> status = hub.ended(std::chrono::seconds(30));
  if (!status) return ::testing::AssertionFailure() << "the hub should have crashed\n" << hub.log();
  if (!WIFSIGNALED(*status) || WTERMSIG(*status) != signal)
    return ::testing::AssertionFailure() << "wait status " << *status << ", not signal " << signal << "\n" << hub.log();
  return ::testing::AssertionSuccess();
}

// Posts an order whose job crashes the hub, which answers 200 or, when the job
// ran first, not at all: the order is stored before its job runs either way.
// Whether the hub then dies of `signal`.
::testing::AssertionResult an_order_ends_it(HubProcess &hub, int order, const std::string &email, int signal) {
  try {
    EXPECT_EQ(order_for(hub, order, email), 200);
  } catch (const std::exception &) {
  }
  return died_of(hub, signal);
}

// A job and its attempts, for expect_failed_by_its_one_attempt(): the job's id follows.
const std::string kJobAndAttempts = "SELECT j.state, j.attempts, a.number, a.outcome, a.error, a.node FROM jobs j "
                                    "JOIN attempts a ON a.job_id = j.id WHERE j.id = ";

// Checks that the rows of kJobAndAttempts are those of a job failed for good with one attempt on record, a
// permanent one whose error holds `error`, made by node `node` when it is given.
void expect_failed_by_its_one_attempt(const std::vector<std::vector<std::string>> &rows, const std::string &error,
                                      const std::string &node = "") {
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "failed");
  EXPECT_EQ(rows[0][1], "1");
  EXPECT_EQ(rows[0][2], "1");
  EXPECT_EQ(rows[0][3], "permanent");
  EXPECT_NE(rows[0][4].find(error), std::string::npos) << rows[0][4];
  if (!node.empty()) EXPECT_EQ(rows[0][5], node);
}

void expect_failed_by_its_one_attempt(HubProcess &hub, const std::string &job, const std::string &error) {
  expect_failed_by_its_one_attempt(query(hub.db_path(), kJobAndAttempts + job), error);
}

// Whether the hub stops within 20 s of its start, as a poll at once stops it: before or after it answers.
bool stops_as_it_starts(HubProcess &hub) {
  try {
    hub.start();
    return hub.ended(std::chrono::seconds(20)).has_value();
  } catch (const std::runtime_error &) {
    return true;
  }
}

// Starts the hub (again), and whether it takes an order for `email` and delivers it: its `delivered`th job done.
::testing::AssertionResult starts_and_delivers(HubProcess &hub, Sink &sink, int order, const std::string &email,
                                                 int delivered) {
  hub.start();
  if (int status = order_for(hub, order, email); status != 200)
    return ::testing::AssertionFailure() << "the order got " << status << "\n" << hub.log();
  if (!sink.wait_for(static_cast<std::size_t>(delivered)) ||
      !eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == delivered; }))
    return ::testing::AssertionFailure() << "not delivered\n" << hub.log();
  return ::testing::AssertionSuccess();
}

// After the restart: whether the webhook `body` that crashed the hub, stored nowhere, is refused 503 with
// `reason` when its sender sends it again (twice, as carts do when they got no answer), while the hub lives
// on and source 'crashy' takes its other webhooks.
::testing::AssertionResult refused_again_and_the_others_taken(HubProcess &hub, const std::string &body,
                                                              const std::string &reason) {
  if (long long stored = hub.count("SELECT COUNT(*) FROM events"); stored != 0)
    return ::testing::AssertionFailure() << stored << " event(s) stored\n" << hub.log();
  for (int again = 0; again < 2; ++again) {
    auto refused = hub.post("/hooks/crashy", body, "text/plain");
    if (refused.status != 503 || refused.body.find(reason) == std::string::npos)
      return ::testing::AssertionFailure() << "sent again: " << refused.status << " " << refused.body;
  }
  if (int status = hub.post("/hooks/crashy", "cy@example.com", "text/plain").status; status != 200)
    return ::testing::AssertionFailure() << "another webhook got " << status << "\n" << hub.log();
  if (long long stored = hub.count("SELECT COUNT(*) FROM events"); stored != 1)
    return ::testing::AssertionFailure() << stored << " event(s) stored after another webhook\n" << hub.log();
  return ::testing::AssertionSuccess();
}

}  // namespace

TEST(CrashSafety, AJobWhoseConnectorCrashesTheHubIsFailedAtTheNextStartNotRunAgain) {
  CrashingHub crashing("crash-note-job");
  HubProcess &hub = crashing.hub;
  Sink &sink = crashing.sink;
  ASSERT_TRUE(starts_and_delivers(hub, sink, 8101, "ann@example.com", 1));

  // The connector's action for this customer ends the process with SIGSEGV.
  ASSERT_TRUE(an_order_ends_it(hub, 8102, "segv@example.com", SIGSEGV));
  std::string job = std::to_string(hub.count("SELECT j.id FROM jobs j JOIN events e ON e.id = j.event_id "
                                             "WHERE e.email = 'segv@example.com'"));
  EXPECT_NE(hub.log().find("cartwire: SIGSEGV inside the connector of 'lab' (action post, job " + job + ")"),
            std::string::npos)
      << hub.log();

  // The next start says what happened and fails that job instead of running it (and dying) again.
  ASSERT_TRUE(starts_and_delivers(hub, sink, 8103, "bob@example.com", 2));
  std::string log = hub.log();
  EXPECT_NE(log.find("stopped with SIGSEGV at "), std::string::npos) << log;
  EXPECT_NE(log.find("inside the connector of integration 'lab' (action post, job " + job +
                     "); the job is marked failed rather than run again"),
            std::string::npos)
      << log;
  expect_failed_by_its_one_attempt(hub, job, "the hub stopped with SIGSEGV during this attempt");
  for (auto &r : sink.requests()) EXPECT_EQ(r.body.find("segv@"), std::string::npos) << r.body;

  // Said once: a clean restart finds no note.
  EXPECT_EQ(hub.stop(), 0);
  hub.start();
  EXPECT_EQ(occurrences(hub.log(), "stopped with SIGSEGV at "), 1u) << hub.log();
}

TEST(CrashSafety, AJobOfAnIntegrationTakenOutOfTheFileSinceItsCrashIsFailedAllTheSame) {
  CrashingHub crashing("crash-note-gone");
  HubProcess &hub = crashing.hub;
  hub.start();
  ASSERT_TRUE(an_order_ends_it(hub, 8151, "segv@example.com", SIGSEGV));

  // The operator takes lab out before starting the hub again.
  hub.write_config("sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: " + kCrashSecret +
                   "}\n");
  hub.start();
  EXPECT_NE(hub.log().find("inside the connector of 'lab', no longer in " + hub.config_path() +
                           ", (action post, job 1); the job is marked failed"),
            std::string::npos)
      << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'failed'"), 1);
}

TEST(CrashSafety, AJobIsFailedAllTheSameWhenTheNodesNameChangedSinceItsCrash) {
  CrashingHub crashing("crash-note-renamed");
  HubProcess &hub = crashing.hub;
  hub.start();
  ASSERT_TRUE(an_order_ends_it(hub, 8161, "segv@example.com", SIGSEGV));

  // The node is named otherwise at the next start, as a port of 0 names it by its pid: the job is still failed.
  std::string config = crashing_hub_config(crashing.sink.url());
  hub.write_config("runner:\n  node: renamed\n" + config.substr(std::string("runner:\n").size()));
  hub.start();
  EXPECT_NE(hub.log().find("inside the connector of integration 'lab' (action post, job 1); the job is marked failed"),
            std::string::npos)
      << hub.log();
  auto rows = query(hub.db_path(), "SELECT j.state, a.node FROM jobs j JOIN attempts a ON a.job_id = j.id");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "failed");
  EXPECT_NE(rows[0][1], "renamed") << "the attempt was the crashed node's";
}

TEST(CrashSafety, AStackOverflowInAConnectorIsNotedToo) {
  CrashingHub crashing("crash-note-overflow");
  HubProcess &hub = crashing.hub;
  hub.start();
  ASSERT_TRUE(an_order_ends_it(hub, 8201, "overflow@example.com", SIGSEGV));

  hub.start();
  EXPECT_NE(hub.log().find("inside the connector of integration 'lab' (action post, job 1); the job is marked failed"),
            std::string::npos)
      << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'failed'"), 1);
}

namespace {

// lab's connector crashes as it is created; hook posts to `url`.
std::string crashing_lab_config(const std::string &url) {
  return "runner:\n  poll_interval: 50ms\n"
         "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: " + kCrashSecret + "}\n"
         "integrations:\n  lab:\n    connector: crashes\n    settings: {url: \"segv:\"}\n"
         "  hook:\n    connector: notifyurl\n    settings: {url: \"" + url + "\"}\n"
         "rules:\n  - {name: to-lab, on: order.completed, do: lab.post}\n"
         "  - {name: to-hook, on: order.completed, do: hook.post}\n";
}

// A start that creating lab stops (as serve checks its settings); hook posts to `url`.
void crash_creating_lab(HubProcess &hub, const std::string &url) {
  hub.write_config(crashing_lab_config(url));
  EXPECT_THROW(hub.start(), std::runtime_error);
  EXPECT_NE(hub.log().find("cartwire: SIGSEGV inside the connector of 'lab' (create)"), std::string::npos)
      << hub.log();
}

}  // namespace

TEST(CrashSafety, AnInstanceWhoseCreationCrashedTheHubIsLeftOutOfTheNextStart) {
  CrashingHub crashing("crash-note-create");
  HubProcess &hub = crashing.hub;
  Sink &sink = crashing.sink;
  crash_creating_lab(hub, sink.url());

  // The next start runs without lab, and says why.
  hub.start();
  std::string log = hub.log();
  EXPECT_NE(log.find("inside the connector of integration 'lab' (create); the integration is left out of this run"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("integration 'lab' is left out of this run: its connector stopped the hub with SIGSEGV as it "
                     "was created at "),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("refuse"), std::string::npos) << "lab's settings are not at fault\n" << log;
  ASSERT_EQ(order_for(hub, 8301, "ann@example.com"), 200);
  ASSERT_TRUE(sink.wait_for(1)) << hub.log();
  // to-lab's job is made, and waits for lab (retried), rather than never being made.
  EXPECT_TRUE(eventually([&] {
    return hub.count("SELECT COUNT(*) FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.integration = 'lab' "
                     "AND a.error LIKE '%integration ''lab'' is not available%'") > 0;
  })) << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE integration = 'lab' AND state IN ('succeeded', 'failed')"), 0);
}

TEST(CrashSafety, AReloadIsNotRefusedWhileAnInstanceIsLeftOutAfterItsCrash) {
  CrashingHub crashing("crash-note-reload");
  HubProcess &hub = crashing.hub;
  Sink &sink = crashing.sink;
  Sink other;
  crash_creating_lab(hub, sink.url());
  hub.start();

  // Another change, lab's settings as they were: reloaded, and lab still left out.
  hub.write_config(crashing_lab_config(other.url()));
  hub.hangup();
  ASSERT_TRUE(eventually([&] { return hub.log().find("reloaded " + hub.config_path()) != std::string::npos; }))
      << hub.log();
  EXPECT_EQ(hub.log().find("reload of "), std::string::npos) << hub.log();
  ASSERT_EQ(order_for(hub, 8311, "ann@example.com"), 200);
  ASSERT_TRUE(other.wait_for(1)) << hub.log();
  EXPECT_TRUE(sink.requests().empty());
  EXPECT_FALSE(hub.ended(std::chrono::milliseconds(1))) << hub.log();
}

TEST(CrashSafety, APollThatCrashedTheHubIsNotRunAgainAtTheNextStart) {
  CrashingHub crashing("crash-note-poll", "  polled:\n    connector: crashes\n    trigger: changes\n"
                                          "    every: 200ms\n");
  HubProcess &hub = crashing.hub;
  Sink &sink = crashing.sink;
  // The first poll, at once, stops the hub.
  ASSERT_TRUE(stops_as_it_starts(hub)) << "the poll should have crashed the hub\n" << hub.log();
  EXPECT_NE(hub.log().find("cartwire: SIGSEGV inside the connector of 'polled' (poll changes)"), std::string::npos)
      << hub.log();

  ASSERT_TRUE(starts_and_delivers(hub, sink, 8401, "ann@example.com", 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // three poll intervals
  EXPECT_FALSE(hub.ended(std::chrono::milliseconds(1))) << hub.log();
  EXPECT_NE(hub.log().find("inside the connector of source 'polled' (poll changes); the source is left out of this run"),
            std::string::npos)
      << hub.log();
}

TEST(CrashSafety, APollThatCrashedTheHubIsPolledAgainOnTheOperatorsWordOnceItsConnectorIsFixed) {
  const std::string token = "crash-note-admin-token-0123456789";
  unsigned short admin = free_port();
  CrashingHub crashing("crash-note-poll-again", "", {{"ADMIN_TOKEN", token}});
  HubProcess &hub = crashing.hub;
  // The source's poll crashes until this file exists: its connector fixed, with the same settings.
  fs::path fixed = hub.dir() / "fixed";
  hub.write_config(crashing_hub_config(crashing.sink.url(), "  polled:\n    connector: crashes\n    trigger: changes\n"
                                                            "    every: 200ms\n    settings: {url: \"fixed-when:" +
                                                                fixed.string() + "\"}\n") +
                   "admin:\n  listen: 127.0.0.1:" + std::to_string(admin) + "\n  token: \"${ADMIN_TOKEN}\"\n");
  ASSERT_TRUE(stops_as_it_starts(hub)) << "the poll should have crashed the hub\n" << hub.log();
  hub.start();
  auto call = [&](const std::string &method, const std::string &path) {
    return http(method, admin, path, "", {{"Authorization", "Bearer " + token}});
  };
  auto polled = [&] {
    auto r = call("GET", "/api/sources");
    EXPECT_EQ(r.status, 200) << r.body;
    nlohmann::json listed = nlohmann::json::parse(r.body);
    for (auto &source : listed.at("items"))
      if (source.at("id") == "polled") return source;
    return nlohmann::json();
  };
  EXPECT_EQ(polled().value("left_out", false), true) << polled();
  EXPECT_EQ(polled().value("available", true), false) << polled();

  auto anonymous = http("POST", admin, "/api/sources/polled/poll-again", "");
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  auto unknown = call("POST", "/api/sources/nope/poll-again");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  auto webhook = call("POST", "/api/sources/crashy/poll-again");
  EXPECT_EQ(webhook.status, 409) << webhook.body;
  EXPECT_NE(webhook.body.find("source 'crashy' is not left out after a crash: it takes its webhooks as usual"),
            std::string::npos)
      << webhook.body;

  // The connector fixed, the operator polls it again, without a restart or a change of its settings.
  std::ofstream(fixed.string()) << "fixed\n";
  auto again = call("POST", "/api/sources/polled/poll-again");
  ASSERT_EQ(again.status, 200) << again.body << hub.log();
  nlohmann::json answer = nlohmann::json::parse(again.body);
  EXPECT_EQ(answer.value("ok", false), true) << answer;
  EXPECT_EQ(answer["source"].value("left_out", true), false) << answer;
  EXPECT_EQ(answer["source"].value("available", false), true) << answer;
  EXPECT_NE(hub.log().find("source 'polled' is polled again, as asked by the admin token from 127.0.0.1: its mark in "
                           "the store, recorded by node "),
            std::string::npos)
      << hub.log();
  EXPECT_EQ(hub.log().find(token), std::string::npos) << "the token is never logged";
  // Polled again: its order reaches the sink through the rule, and the hub runs on.
  ASSERT_TRUE(eventually([&] { return !polled()["poll"]["polled_at"].is_null(); })) << polled() << hub.log();
  EXPECT_EQ(polled()["poll"].value("failures", -1), 0) << polled();
  EXPECT_FALSE(hub.ended(std::chrono::milliseconds(1))) << hub.log();

  auto twice = call("POST", "/api/sources/polled/poll-again");
  EXPECT_EQ(twice.status, 409) << twice.body;
  EXPECT_NE(twice.body.find("it is polled as usual"), std::string::npos) << twice.body;
}

TEST(CrashSafety, APollThatCrashedANodeIsNotRunByTheOtherNodesOfItsDatabase) {
  PostgresSchema db;
  const std::string token = "crash-note-admin-token-0123456789";
  unsigned short b_admin = free_port();
  // A source whose poll crashes, unless its url is "store-fault:" (no fault without the preloaded library).
  auto polled = [](const std::string &url) {
    return "  polled:\n    connector: crashes\n    trigger: changes\n    every: 200ms\n" +
           (url.empty() ? "" : "    settings: {url: \"" + url + "\"}\n");
  };
  // Node `node`'s hub.yaml: a lease that holds well past a restart.
  auto config = [](CrashingHub &hub, const std::string &node, const std::string &sources, const std::string &more) {
    std::string yaml = crashing_hub_config(hub.sink.url(), sources) + more;
    yaml.insert(yaml.find("runner:\n") + 8, "  node: " + node + "\n  lease: 60s\n");
    hub.hub.write_config(yaml);
  };
  std::string console = "admin:\n  listen: 127.0.0.1:" + std::to_string(b_admin) + "\n  token: \"${ADMIN_TOKEN}\"\n";
  CrashingHub a("crash-note-poll-a"), b("crash-note-poll-b", "", {{"ADMIN_TOKEN", token}});
  a.hub.use_postgresql(db.conninfo());
  b.hub.use_postgresql(db.conninfo());
  config(a, "a", polled(""), "");
  config(b, "b", polled(""), console);

  // a's first poll stops it. b, started meanwhile, cuts short a's lease on the poll (a's name is held by no
  // session), which then ends 10 s on, and a is started again within them, as its supervisor would.
  ASSERT_TRUE(stops_as_it_starts(a.hub)) << "the poll should have crashed node a\n" << a.hub.log();
  ASSERT_NE(a.hub.log().find("cartwire: SIGSEGV inside the connector of 'polled' (poll changes)"), std::string::npos)
      << a.hub.log();
  const std::string lease = "SELECT lease_until FROM poll_state WHERE source = 'polled' AND lease_owner = 'a'";
  long long leased_until = db.scalar(lease);
  b.hub.start();
  ASSERT_TRUE(eventually([&] { return db.scalar(lease) < leased_until; }, std::chrono::seconds(30))) << b.hub.log();
  a.hub.start();
  EXPECT_NE(a.hub.log().find("inside the connector of source 'polled' (poll changes); the source is left out of this "
                             "run, so that it does not stop the hub again: fix or update the connector, then restart "
                             "the hub; no other node of the database polls it with these settings either"),
            std::string::npos)
      << a.hub.log();

  // b does not poll it from the same cursor, to stop in turn: it says why, through three poll intervals.
  const std::string why = "its connector stopped node 'a' with SIGSEGV in a poll at ";
  ASSERT_TRUE(eventually([&] { return b.hub.log().find("source 'polled' is left out: " + why) != std::string::npos; },
                         std::chrono::seconds(40)))
      << b.hub.log();
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_FALSE(b.hub.ended(std::chrono::milliseconds(1))) << b.hub.log();
  EXPECT_FALSE(a.hub.ended(std::chrono::milliseconds(1))) << a.hub.log();
  auto sources = [&] {
    auto r = http("GET", b_admin, "/api/sources", "", {{"Authorization", "Bearer " + token}});
    EXPECT_EQ(r.status, 200) << r.body;
    nlohmann::json listed = nlohmann::json::parse(r.body);
    for (auto &source : listed.at("items"))
      if (source.at("id") == "polled") return source;
    return nlohmann::json();
  };
  auto listed = sources();
  EXPECT_EQ(listed.value("available", true), false) << listed;
  EXPECT_NE(listed.value("reason", "").find("source 'polled' is left out: " + why), std::string::npos) << listed;
  EXPECT_NE(listed.value("reason", "").find("no node polls it with these settings until they change, node 'a' "
                                            "starts again, or when asked (Poll again in the console: POST "
                                            "/api/sources/polled/poll-again): fix or update the connector"),
            std::string::npos)
      << listed;

  // Its settings changed on b (the connector told to poll what it can), b polls it.
  config(b, "b", polled("store-fault:"), console);
  b.hub.hangup();
  ASSERT_TRUE(eventually([&] {
    return db.scalar("SELECT COUNT(*) FROM events WHERE dedupe_key = 'crashes:polled'") == 1;
  })) << b.hub.log();
  EXPECT_EQ(sources().value("available", false), true);
  EXPECT_FALSE(b.hub.ended(std::chrono::milliseconds(1))) << b.hub.log();

  // a's next start ends what it left out.
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM poll_state WHERE left_out_by = 'a'"), 1);
  EXPECT_EQ(a.hub.stop(), 0);
  config(a, "a", polled("store-fault:"), "");
  a.hub.start();
  EXPECT_NE(a.hub.log().find("source(s) 'polled' left out at the last start of node a after a poll that stopped it "
                             "are polled again"),
            std::string::npos)
      << a.hub.log();
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM poll_state WHERE left_out IS NOT NULL"), 0);
}

TEST(CrashSafety, ANodeWhosePollCrashedItPollsTheSourceAgainOnceAnotherNodeIsAskedToPollItAgain) {
  PostgresSchema db;
  const std::string token = "crash-note-admin-token-0123456789";
  unsigned short b_admin = free_port();
  CrashingHub a("crash-note-again-a"), b("crash-note-again-b", "", {{"ADMIN_TOKEN", token}});
  // The source's poll crashes until this file exists: its connector fixed, with the same settings on both nodes.
  fs::path fixed = a.hub.dir() / "fixed";
  std::string polled = "  polled:\n    connector: crashes\n    trigger: changes\n    every: 200ms\n"
                       "    settings: {url: \"fixed-when:" + fixed.string() + "\"}\n";
  auto config = [&](CrashingHub &hub, const std::string &node, const std::string &more) {
    std::string yaml = crashing_hub_config(hub.sink.url(), polled) + more;
    yaml.insert(yaml.find("runner:\n") + 8, "  node: " + node + "\n");
    hub.hub.write_config(yaml);
  };
  a.hub.use_postgresql(db.conninfo());
  b.hub.use_postgresql(db.conninfo());
  config(a, "a", "");
  config(b, "b", "admin:\n  listen: 127.0.0.1:" + std::to_string(b_admin) + "\n  token: \"${ADMIN_TOKEN}\"\n");

  // a's first poll stops it; started again, a leaves the source out, and so does b, started then.
  ASSERT_TRUE(stops_as_it_starts(a.hub)) << "the poll should have crashed node a\n" << a.hub.log();
  a.hub.start();
  ASSERT_NE(a.hub.log().find("inside the connector of source 'polled' (poll changes); the source is left out of this "
                             "run"),
            std::string::npos)
      << a.hub.log();
  b.hub.start();
  ASSERT_TRUE(eventually([&] { return b.hub.log().find("source 'polled' is left out: ") != std::string::npos; }))
      << b.hub.log();

  // The connector fixed, Poll again is asked of b alone, which then stops: a alone may poll the source.
  std::ofstream(fixed.string()) << "fixed\n";
  auto again = http("POST", b_admin, "/api/sources/polled/poll-again", "", {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(again.status, 200) << again.body << b.hub.log();
  EXPECT_NE(again.body.find("its mark in the store, recorded by node 'a', is ended for every node"), std::string::npos)
      << again.body;
  EXPECT_EQ(b.hub.stop(), 0);
  const std::string polled_at = "SELECT COALESCE(polled_at, 0) FROM poll_state WHERE source = 'polled'";
  long long before = db.scalar(polled_at);

  // a polls it again, without a restart, and says why, once.
  ASSERT_TRUE(eventually([&] { return db.scalar(polled_at) > before; }, std::chrono::seconds(30))) << a.hub.log();
  EXPECT_EQ(occurrences(a.hub.log(), "source 'polled' is polled again: its mark in the store, recorded by this node, "
                                     "was ended on node 'b'; this node creates it again (a reload)"),
            1u)
      << a.hub.log();
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM events WHERE dedupe_key = 'crashes:polled'"), 1);
  EXPECT_EQ(a.hub.stop(), 0) << "node a ran on from its start after the crash\n" << a.hub.log();
}

TEST(CrashSafety, AWebhookThatCrashesItsConnectorIsNamedAndRefusedAfterTheRestart) {
  CrashingHub crashing("crash-note-webhook");
  HubProcess &hub = crashing.hub;
  hub.start();
  // The source's connector aborts on this body, as a failed assertion does.
  try {
    hub.post("/hooks/crashy", "abort@example.com", "text/plain");
  } catch (...) {
  }
  ASSERT_TRUE(died_of(hub, SIGABRT));

  hub.start();
  EXPECT_NE(hub.log().find("stopped with SIGABRT at "), std::string::npos) << hub.log();
  EXPECT_NE(hub.log().find("inside the connector of source 'crashy' (webhook); nothing of that webhook was stored, "
                           "and until the next start the same request is refused (503)"),
            std::string::npos)
      << hub.log();
  EXPECT_TRUE(refused_again_and_the_others_taken(
      hub, "abort@example.com", "this request stopped the hub with SIGABRT inside the connector of source 'crashy'"));
}

namespace {

// The hub with store_faults preloaded: storing a text that holds "store-fault" ends it with SIGSEGV, in the
// hub's own code, outside every connector.
std::map<std::string, std::string> faulting_store() { return {{"LD_PRELOAD", STORE_FAULTS_PRELOAD}}; }

}  // namespace

TEST(CrashSafety, AJobThatCrashesTheHubsOwnCodeIsFailedAtTheNextStartNotRunAgain) {
  CrashingHub crashing("crash-note-hub-job", "", faulting_store());
  HubProcess &hub = crashing.hub;
  Sink &sink = crashing.sink;
  ASSERT_TRUE(starts_and_delivers(hub, sink, 8501, "ann@example.com", 1));

  // The connector's action for this customer ends, and recording its attempt faults in the hub.
  ASSERT_TRUE(an_order_ends_it(hub, 8502, "record@example.com", SIGSEGV));
  std::string job = std::to_string(hub.count("SELECT j.id FROM jobs j JOIN events e ON e.id = j.event_id "
                                             "WHERE e.email = 'record@example.com'"));
  EXPECT_NE(hub.log().find("cartwire: SIGSEGV in the hub's own code, not in a connector, working for 'lab' (action "
                           "post, job " + job + ")"),
            std::string::npos)
      << hub.log();

  // The next start says what happened and fails that job instead of running it (and dying) again.
  ASSERT_TRUE(starts_and_delivers(hub, sink, 8503, "bob@example.com", 2));
  std::string log = hub.log();
  EXPECT_NE(log.find("stopped with SIGSEGV at "), std::string::npos) << log;
  EXPECT_NE(log.find("inside the hub's own code, not in a connector, as it worked for integration 'lab' (action "
                     "post, job " + job + "); the job is marked failed rather than run again, which could stop the "
                     "hub again: upgrade the hub, then replay it"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("inside the connector"), std::string::npos) << "no connector is to blame\n" << log;
  expect_failed_by_its_one_attempt(hub, job,
                                   "the hub stopped with SIGSEGV while running this job, in the hub's own code, "
                                   "not in a connector; not run again");
  EXPECT_FALSE(hub.ended(std::chrono::milliseconds(1))) << hub.log();
}

TEST(CrashSafety, AJobWhoseClaimCrashesTheHubsOwnCodeIsFailedAtTheNextStartNotClaimedAgain) {
  // Reading a stored text that holds "claim-fault" faults in the hub: a claim reading the job's event does.
  auto env = faulting_store();
  env["STORE_FAULTS_READ"] = "claim-fault";
  CrashingHub crashing("crash-note-hub-claim", "", env);
  HubProcess &hub = crashing.hub;
  Sink &sink = crashing.sink;
  // With a concurrency cap, lab's jobs are stored queued, and a worker claims them.
  std::string config = crashing_hub_config(sink.url());
  config.insert(config.find("rules:\n"), "    concurrency: 1\n");
  hub.write_config(config);
  ASSERT_TRUE(starts_and_delivers(hub, sink, 8801, "ann@example.com", 1));

  // The order is stored; the claim of its job faults, and its transaction never commits.
  ASSERT_TRUE(an_order_ends_it(hub, 8802, "claim-fault@example.com", SIGSEGV));
  std::string job = std::to_string(hub.count("SELECT j.id FROM jobs j JOIN events e ON e.id = j.event_id "
                                             "WHERE e.email = 'claim-fault@example.com'"));
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND id = " + job), 1);
  EXPECT_NE(hub.log().find("cartwire: SIGSEGV in the hub's own code, not in a connector, claiming job " + job +
                           "; the hub stops"),
            std::string::npos)
      << hub.log();

  // The next start fails that job rather than claim it (and die) again, and runs on.
  ASSERT_TRUE(starts_and_delivers(hub, sink, 8803, "bob@example.com", 2));
  std::string log = hub.log();
  EXPECT_NE(log.find("inside the hub's own code, not in a connector, as it claimed job " + job + "; the job is marked "
                     "failed rather than claimed again, which could stop the hub again: upgrade the hub, then replay "
                     "it"),
            std::string::npos)
      << log;
  expect_failed_by_its_one_attempt(hub, job,
                                   "the hub stopped with SIGSEGV while claiming this job, in the hub's own code, "
                                   "not in a connector; not run again");
  for (auto &r : sink.requests()) EXPECT_EQ(r.body.find("claim-fault@"), std::string::npos) << r.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // four poll intervals
  EXPECT_FALSE(hub.ended(std::chrono::milliseconds(1))) << hub.log();
}

TEST(CrashSafety, AJobWhoseClaimCrashedANodeIsNotClaimedByTheOtherNodesOfItsDatabase) {
  PostgresSchema db;
  // Reading a stored text that holds "claim-fault" faults in either node: a claim reading the job's event does.
  auto env = faulting_store();
  env["STORE_FAULTS_READ"] = "claim-fault";
  CrashingHub a("crash-note-claim-a", "", env), b("crash-note-claim-b", "", env);
  // Node `node`'s hub.yaml: lab's jobs stored queued (a concurrency cap), for a worker to claim, under a lease
  // that holds well past a restart.
  auto config = [](CrashingHub &hub, const std::string &node) {
    std::string yaml = crashing_hub_config(hub.sink.url());
    yaml.insert(yaml.find("rules:\n"), "    concurrency: 1\n");
    yaml.insert(yaml.find("runner:\n") + 8, "  node: " + node + "\n  lease: 60s\n");
    hub.hub.write_config(yaml);
  };
  a.hub.use_postgresql(db.conninfo());
  b.hub.use_postgresql(db.conninfo());
  config(a, "a");
  config(b, "b");

  // a's claim of the order's job faults as it reads the row, the job leased to a already.
  a.hub.start();
  ASSERT_TRUE(an_order_ends_it(a.hub, 8901, "claim-fault@example.com", SIGSEGV));
  std::string job = std::to_string(db.scalar("SELECT j.id FROM jobs j JOIN events e ON e.id = j.event_id "
                                             "WHERE e.email = 'claim-fault@example.com'"));
  EXPECT_NE(a.hub.log().find("cartwire: SIGSEGV in the hub's own code, not in a connector, claiming job " + job +
                             "; the hub stops"),
            std::string::npos)
      << a.hub.log();
  const std::string lease = "SELECT lease_until FROM jobs WHERE id = " + job + " AND state = 'running' AND "
                            "lease_owner = 'a'";
  long long leased_until = db.scalar(lease);
  EXPECT_GT(leased_until, 0) << "the job should be held under a's lease";

  // b, started meanwhile, cuts short a's lease (a's name is held by no session), which then ends 10 s on,
  // and a is started again within them, as its supervisor would. A b that claims the job stops as it starts.
  try {
    b.hub.start();
  } catch (const std::runtime_error &) {
  }
  std::optional<int> b_ended;
  ASSERT_TRUE(eventually([&] {
    if (!b_ended) b_ended = b.hub.ended(std::chrono::milliseconds(1));
    return b_ended || db.scalar(lease) < leased_until;
  }, std::chrono::seconds(30)));
  ASSERT_FALSE(b_ended) << "b claimed the job and stopped too\n" << b.hub.log();
  EXPECT_NE(b.hub.log().find("cut short the leases of 1 job(s) held under node 'a', whose session is gone"),
            std::string::npos)
      << b.hub.log();
  a.hub.start();
  EXPECT_NE(a.hub.log().find("inside the hub's own code, not in a connector, as it claimed job " + job + "; the job "
                             "is marked failed rather than claimed again, which could stop the hub again: upgrade "
                             "the hub, then replay it"),
            std::string::npos)
      << a.hub.log();
  expect_failed_by_its_one_attempt(db.query(kJobAndAttempts + job),
                                   "the hub stopped with SIGSEGV while claiming this job, in the hub's own code, "
                                   "not in a connector; not run again",
                                   "a");

  // A later order, sent to b, is delivered by either node, and both run on.
  EXPECT_EQ(order_for(b.hub, 8902, "bob@example.com"), 200);
  EXPECT_TRUE(eventually([&] { return db.scalar("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 1; }))
      << a.hub.log() << b.hub.log();
  EXPECT_EQ(a.sink.requests().size() + b.sink.requests().size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // four poll intervals
  EXPECT_FALSE(b.hub.ended(std::chrono::milliseconds(1))) << b.hub.log();
  EXPECT_FALSE(a.hub.ended(std::chrono::milliseconds(1))) << a.hub.log();
}

TEST(CrashSafety, AJobWhoseRowClaimsCannotReadIsFailedWithTheReasonWhileTheOthersRunAndRunsOnceReplayed) {
  PostgresSchema db;
  const std::string token = "crash-note-admin-token-0123456789";
  unsigned short admin = free_port();
  auto env = faulting_store();
  env["ADMIN_TOKEN"] = token;
  CrashingHub crashing("claim-unreadable", "", env);
  HubProcess &hub = crashing.hub;
  // Reading a stored text that holds "unreadable@" throws while this file is there: a claim reading the
  // job's event, once its lease is committed, does.
  fs::path unreadable = hub.dir() / "unreadable";
  hub.env()["STORE_FAULTS_UNREADABLE"] = "unreadable@";
  hub.env()["STORE_FAULTS_UNREADABLE_WHILE"] = unreadable.string();
  hub.use_postgresql(db.conninfo());
  std::string config = crashing_hub_config(crashing.sink.url());
  config.insert(config.find("rules:\n"), "    concurrency: 1\n");
  config.insert(config.find("runner:\n") + 8, "  lease: 60s\n");
  hub.write_config(config + "admin:\n  listen: 127.0.0.1:" + std::to_string(admin) + "\n  token: \"${ADMIN_TOKEN}\"\n");
  std::ofstream(unreadable).put('\n');
  hub.start();

  // The claims leave the job out, back in the queue, and say why; the third fails it with an attempt that
  // says so. The claims run the job of a later order, and the hub runs on.
  ASSERT_EQ(order_for(hub, 8951, "unreadable@example.com"), 200);
  ASSERT_EQ(order_for(hub, 8952, "bob@example.com"), 200);
  std::string job = std::to_string(db.scalar("SELECT j.id FROM jobs j JOIN events e ON e.id = j.event_id "
                                             "WHERE e.email = 'unreadable@example.com'"));
  EXPECT_TRUE(eventually([&] { return db.scalar("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 1; }))
      << hub.log();
  ASSERT_TRUE(eventually([&] {
    return db.scalar("SELECT COUNT(*) FROM jobs WHERE state = 'failed' AND lease_owner IS NULL AND id = " + job) == 1;
  })) << hub.log();
  const std::string why = "the hub could not read this job's stored row at 3 claims in a row (the row holds an "
                          "unreadable text); not run: replay it once its row can be read";
  expect_failed_by_its_one_attempt(db.query(kJobAndAttempts + job), why);
  std::string log = hub.log();
  for (std::string claims : {"1 of 3", "2 of 3"})
    EXPECT_NE(log.find("job " + job + ": its stored row could not be read (the row holds an unreadable text); left "
                       "for the next claim (" + claims + " claims in a row before it is failed)"),
              std::string::npos)
        << log;
  EXPECT_NE(log.find("job " + job + " failed for good: " + why), std::string::npos) << log;
  EXPECT_EQ(log.find("claiming jobs failed"), std::string::npos) << log;
  ASSERT_EQ(crashing.sink.requests().size(), 1u);
  EXPECT_NE(crashing.sink.requests()[0].body.find("bob@"), std::string::npos);
  EXPECT_FALSE(hub.ended(std::chrono::milliseconds(1))) << hub.log();

  // Once its row can be read, the job replayed runs.
  fs::remove(unreadable);
  auto replayed = http("POST", admin, "/api/jobs/" + job + "/replay", "", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(replayed.status, 200) << replayed.body;
  EXPECT_TRUE(eventually([&] { return db.scalar("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 2; }))
      << hub.log();
  EXPECT_EQ(crashing.sink.requests().size(), 2u);
}

TEST(CrashSafety, ABatchWhoseRecordCrashesTheHubIsRecordedOneJobAtATimeAndOnlyItsCulpritFailed) {
  CrashingHub crashing("crash-note-hub-batch", "", faulting_store());
  HubProcess &hub = crashing.hub;
  Sink &sink = crashing.sink;
  // An order makes three jobs, handed over together to the one worker: two post to the sink, the third is
  // lab's, whose attempt's record faults in the hub.
  hub.write_config("runner:\n  workers: 1\n  poll_interval: 50ms\n"
                   "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: " + kCrashSecret + "}\n"
                   "integrations:\n  hook:\n    connector: notifyurl\n    settings: {url: \"" + sink.url() + "\"}\n"
                   "  lab:\n    connector: crashes\n    settings: {url: \"" + sink.url() + "\"}\n"
                   "rules:\n  - {name: to-hook, on: order.completed, do: hook.post}\n"
                   "  - {name: to-hook-too, on: order.completed, do: hook.post}\n"
                   "  - {name: to-lab, on: order.completed, do: lab.post}\n");
  hub.start();
  ASSERT_TRUE(an_order_ends_it(hub, 8551, "record@example.com", SIGSEGV));
  auto ids = query(hub.db_path(), "SELECT id FROM jobs ORDER BY id");
  ASSERT_EQ(ids.size(), 3u);
  std::string lab = std::to_string(hub.count("SELECT id FROM jobs WHERE integration = 'lab'"));
  ASSERT_EQ(lab, ids[2][0]);
  std::string batch = ids[0][0] + ", " + ids[1][0] + ", " + lab;
  EXPECT_NE(hub.log().find("cartwire: SIGSEGV in the hub's own code, not in a connector, recording the attempts of "
                           "jobs " + batch + " together"),
            std::string::npos)
      << hub.log();

  // The next start says so and records them one at a time: the first two are recorded, and lab's stops it again,
  // named alone (before or after the start is ready).
  try {
    hub.start();
  } catch (const std::runtime_error &) {
  }
  ASSERT_TRUE(died_of(hub, SIGSEGV));
  EXPECT_NE(hub.log().find("as it recorded the attempts of jobs " + batch + " together; they run again, and this "
                           "run records each alone"),
            std::string::npos)
      << hub.log();
  EXPECT_NE(hub.log().find("cartwire: SIGSEGV in the hub's own code, not in a connector, working for 'lab' (action "
                           "post, job " + lab + ")"),
            std::string::npos)
      << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE integration = 'hook' AND state = 'succeeded'"), 2)
      << hub.log();

  // The start after fails lab's job alone, and runs on.
  hub.start();
  EXPECT_NE(hub.log().find("as it worked for integration 'lab' (action post, job " + lab + "); the job is marked "
                           "failed rather than run again"),
            std::string::npos)
      << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'failed' AND id = " + lab), 1);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.integration = 'hook'"),
            2);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // four poll intervals
  EXPECT_FALSE(hub.ended(std::chrono::milliseconds(1))) << hub.log();
}

TEST(CrashSafety, AWebhookThatCrashesTheHubsOwnCodeIsNamedAndRefusedAfterTheRestart) {
  CrashingHub crashing("crash-note-hub-webhook", "", faulting_store());
  HubProcess &hub = crashing.hub;
  hub.start();
  // The source's connector takes it; storing its event faults in the hub.
  try {
    hub.post("/hooks/crashy", "store-fault@example.com", "text/plain");
  } catch (...) {
  }
  ASSERT_TRUE(died_of(hub, SIGSEGV));
  EXPECT_NE(hub.log().find("cartwire: SIGSEGV in the hub's own code, not in a connector, working for 'crashy' "
                           "(webhook)"),
            std::string::npos)
      << hub.log();

  hub.start();
  EXPECT_NE(hub.log().find("inside the hub's own code, not in a connector, as it worked for source 'crashy' (webhook); "
                           "that webhook was not answered, and until the next start the same request is refused (503)"),
            std::string::npos)
      << hub.log();
  EXPECT_TRUE(refused_again_and_the_others_taken(hub, "store-fault@example.com",
                                                "this request stopped the hub with SIGSEGV in the hub's own code, not "
                                                "in a connector, as source 'crashy' took it"));
  EXPECT_EQ(hub.log().find("inside the connector"), std::string::npos) << "no connector is to blame\n" << hub.log();
}

TEST(CrashSafety, APollWhoseEventsCrashTheHubsOwnCodeIsNotRunAgainAtTheNextStart) {
  CrashingHub crashing("crash-note-hub-poll",
                       "  polled:\n    connector: crashes\n    trigger: changes\n    every: 200ms\n"
                       "    settings: {url: \"store-fault:\"}\n",
                       faulting_store());
  HubProcess &hub = crashing.hub;
  Sink &sink = crashing.sink;
  // The first poll, at once, finds an order; storing it faults in the hub.
  ASSERT_TRUE(stops_as_it_starts(hub)) << "storing the poll's events should have crashed the hub\n" << hub.log();
  EXPECT_NE(hub.log().find("cartwire: SIGSEGV in the hub's own code, not in a connector, working for 'polled' (poll "
                           "changes)"),
            std::string::npos)
      << hub.log();

  // The next start leaves the source out rather than poll from the same cursor and die again.
  ASSERT_TRUE(starts_and_delivers(hub, sink, 8701, "ann@example.com", 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // three poll intervals
  EXPECT_FALSE(hub.ended(std::chrono::milliseconds(1))) << hub.log();
  std::string log = hub.log();
  EXPECT_NE(log.find("the hub's own code, not in a connector, as it worked for source 'polled' (poll changes); the "
                     "source is left out of this run, so that it does not stop the hub again: upgrade the hub"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("inside the connector"), std::string::npos) << "no connector is to blame\n" << log;
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE email = 'store-fault@example.com'"), 0);
}

TEST(CrashSafety, AStartThatCannotFailTheCrashedJobKeepsTheNoteAndNotesACrashOfItsOwn) {
  CrashingHub crashing("crash-note-kept", "", faulting_store());
  HubProcess &hub = crashing.hub;
  hub.start();
  ASSERT_TRUE(an_order_ends_it(hub, 8601, "segv@example.com", SIGSEGV));

  // The next start cannot mark the job failed: its store refuses the record, as a read-only one would, and so it
  // does the attempt that runs the job again. lab is out of the file, so that the job waits rather than stop the
  // hub again.
  hub.write_config("runner:\n  workers: 1\n  poll_interval: 50ms\n"
                   "sources:\n  crashy:\n    connector: crashes\n");
  hub.env()["STORE_FAULTS_REFUSE"] = "integration 'lab'";
  hub.start();
  EXPECT_NE(hub.log().find("marking the job failed did not work ("), std::string::npos) << hub.log();
  EXPECT_NE(hub.log().find("so it runs again; the note stays, and the next start tries again"), std::string::npos)
      << hub.log();
  // A crash of this run is noted all the same: a webhook its source's connector aborts on.
  try {
    hub.post("/hooks/crashy", "abort@example.com", "text/plain");
  } catch (...) {
  }
  ASSERT_TRUE(died_of(hub, SIGABRT));
  EXPECT_NE(hub.log().find("cartwire: SIGABRT inside the connector of 'crashy' (webhook)"), std::string::npos)
      << hub.log();

  // The start after reads both notes: the job is failed, the webhook sent again is refused, and the hub runs on.
  hub.env().erase("STORE_FAULTS_REFUSE");
  hub.start();
  EXPECT_NE(hub.log().find("inside the connector of 'lab', no longer in " + hub.config_path() + ", (action post, job "
                           "1); the job is marked failed rather than run again"),
            std::string::npos)
      << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'failed'"), 1) << hub.log();
  EXPECT_NE(hub.log().find("inside the connector of source 'crashy' (webhook)"), std::string::npos) << hub.log();
  auto refused = hub.post("/hooks/crashy", "abort@example.com", "text/plain");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_FALSE(hub.ended(std::chrono::milliseconds(1))) << hub.log();

  // Acted on, neither note is read again.
  EXPECT_EQ(hub.stop(), 0);
  hub.start();
  EXPECT_EQ(occurrences(hub.log(), "the last run of node "), 3u) << hub.log();
}
