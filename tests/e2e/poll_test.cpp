// Poll triggers with the real cartwire binary: the ghl plugin's
// contacts_changed trigger against the fake LeadConnector API
// (tests/fakes/ghl.py). Changed contacts become events once, the cursor
// survives a crash, failures back off and recover, `check` validates, and
// nodes sharing a database poll a source one at a time.
#include <Poco/Net/NetException.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "../support/fake_process.hpp"
#include "../support/hub_process.hpp"
#include "../support/postgres.hpp"
#include "../support/sink.hpp"
#include "../support/thrivecart_payloads.hpp"

using namespace cartwire::testing;
using Json = nlohmann::json;

namespace {

// The fake's token and location (tests/fakes/ghl.py).
const std::string kPollToken = "pit-7d1c9e4b-2f3a-4c5d-8e9f-0a1b2c3d4e5f";
const std::string kPollLocation = "ve9EPM428h8vShlRW1KT";

std::string poll_config(const std::string &ghl_url, const std::string &sink_url, const std::string &every = "200ms") {
  return "runner:\n  workers: 1\n  poll_interval: 100ms\n"
         "sources:\n"
         "  ghl-contacts:\n"
         "    connector: ghl\n"
         "    trigger: contacts_changed\n"
         "    every: " + every + "\n"
         "    settings: {token: \"${GHL_TOKEN}\", location_id: " + kPollLocation + ", base_url: \"" + ghl_url + "\"}\n"
         "integrations:\n"
         "  hook:\n"
         "    connector: notifyurl\n"
         "    settings: {url: \"" + sink_url + "\"}\n"
         "rules:\n"
         "  - name: contact-out\n"
         "    on: ghl.contact.changed\n"
         "    do: hook.post\n";
}

std::map<std::string, std::string> poll_env() { return {{"GHL_TOKEN", kPollToken}}; }

std::map<std::string, std::string> api_headers() {
  return {{"Authorization", "Bearer " + kPollToken}, {"Version", "2021-07-28"}, {"Content-Type", "application/json"}};
}

// Changes a contact the way a HighLevel user or automation would: through the API.
std::string upsert_contact(const FakeProcess &fake, const std::string &email, const std::string &first_name) {
  auto r = http("POST", fake.port(), "/contacts/upsert",
                Json{{"locationId", kPollLocation}, {"email", email}, {"firstName", first_name}}.dump(), api_headers());
  if (r.status != 200) throw std::runtime_error("upsert failed: " + r.body);
  return Json::parse(r.body)["contact"]["id"];
}

void tag_contact(const FakeProcess &fake, const std::string &id, const std::string &tag) {
  auto r = http("POST", fake.port(), "/contacts/" + id + "/tags", Json{{"tags", {tag}}}.dump(), api_headers());
  if (r.status != 201) throw std::runtime_error("tagging failed: " + r.body);
}

std::vector<Json> searches(const FakeProcess &fake) {
  std::vector<Json> out;
  for (auto &r : fake.requests())
    if (r["method"] == "POST" && r["path"] == "/contacts/search") out.push_back(r);
  return out;
}

// Waits until the hub has polled `n` more times than `before`.
bool polled(const FakeProcess &fake, std::size_t before, std::size_t n = 3) {
  return eventually([&] { return searches(fake).size() >= before + n; }, std::chrono::seconds(10));
}

long long events(const HubProcess &hub) { return hub.count("SELECT COUNT(*) FROM events"); }

Json stored_cursor(const HubProcess &hub) {
  // Until the hub has created its database and polled once, there is no cursor.
  if (!std::filesystem::exists(hub.db_path())) return Json();
  // The file may exist a moment before its schema does; any other error is the test's.
  try {
    auto rows = query(hub.db_path(), "SELECT cursor FROM poll_state WHERE source = 'ghl-contacts'");
    return rows.empty() ? Json() : Json::parse(rows[0][0]);
  } catch (const std::runtime_error &e) {
    if (std::string(e.what()).find("no such table") == std::string::npos) throw;
    return Json();
  }
}

std::string contact_date(const FakeProcess &fake, const std::string &id) {
  return fake.state()["contacts"][id]["dateUpdated"];
}

}  // namespace

TEST(Poll, ChangedContactsBecomeEventsOnceAcrossPollsAndACrash) {
  FakeProcess fake("ghl");
  Sink sink;
  std::string old_id = upsert_contact(fake, "old@example.com", "Olga");
  HubProcess hub("poll-ghl", poll_config(fake.url(), sink.url()), poll_env());
  hub.start();

  // The first poll records where the contacts stand: Olga's existing state is no event.
  ASSERT_TRUE(eventually([&] { return stored_cursor(hub).is_object(); })) << hub.log();
  EXPECT_EQ(stored_cursor(hub)["updated_after"], contact_date(fake, old_id));
  ASSERT_TRUE(polled(fake, searches(fake).size(), 2)) << hub.log();
  EXPECT_EQ(events(hub), 0);

  std::string ann = upsert_contact(fake, "ann@example.com", "Ann");
  std::string bob = upsert_contact(fake, "bob@example.com", "Bob");
  ASSERT_TRUE(eventually([&] { return events(hub) == 2; })) << hub.log();
  auto rows = query(hub.db_path(), "SELECT source, type, dedupe_key, email FROM events ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"ghl-contacts", "ghl.contact.changed",
                                               "ghl:" + kPollLocation + ":contact:" + ann + ":" + contact_date(fake, ann),
                                               "ann@example.com"}));
  EXPECT_EQ(rows[1][3], "bob@example.com");
  // Rules turn polled events into jobs like any other.
  ASSERT_TRUE(sink.wait_for(2)) << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE rule = 'contact-out'"), 2);

  // Polls with nothing new add nothing.
  ASSERT_TRUE(polled(fake, searches(fake).size())) << hub.log();
  EXPECT_EQ(events(hub), 2);

  // A contact changed again is one new event.
  tag_contact(fake, ann, "vip");
  ASSERT_TRUE(eventually([&] { return events(hub) == 3; })) << hub.log();
  ASSERT_TRUE(polled(fake, searches(fake).size())) << hub.log();
  EXPECT_EQ(events(hub), 3);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE dedupe_key = 'ghl:" + kPollLocation + ":contact:" + ann + ":" +
                      contact_date(fake, ann) + "'"),
            1);

  // Killed and started again: the stored cursor is where polling resumes, nothing is emitted twice.
  hub.kill9();
  Json cursor = stored_cursor(hub);
  EXPECT_EQ(cursor["updated_after"], contact_date(fake, ann));
  std::size_t before = searches(fake).size();
  hub.start();
  ASSERT_TRUE(polled(fake, before)) << hub.log();
  Json first_after_restart = searches(fake).at(before)["body"];
  EXPECT_EQ(first_after_restart["filters"][0]["value"]["gte"], cursor["updated_after"]) << first_after_restart.dump();
  EXPECT_EQ(events(hub), 3);
  upsert_contact(fake, "bob@example.com", "Robert");
  ASSERT_TRUE(eventually([&] { return events(hub) == 4; })) << hub.log();
  ASSERT_TRUE(polled(fake, searches(fake).size())) << hub.log();
  EXPECT_EQ(events(hub), 4);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE email = 'bob@example.com'"), 2);
  EXPECT_EQ(hub.log().find(kPollToken), std::string::npos) << "the token is a secret setting";
  EXPECT_EQ(hub.stop(), 0);
}

TEST(Poll, AReloadStopsThePollsAndTheNewConfigurationGoesOnFromTheCursor) {
  FakeProcess fake("ghl");
  Sink sink;
  HubProcess hub("poll-reload", poll_config(fake.url(), sink.url()), poll_env());
  hub.start();
  ASSERT_TRUE(eventually([&] { return stored_cursor(hub).is_object(); })) << hub.log();
  upsert_contact(fake, "ann@example.com", "Ann");
  ASSERT_TRUE(eventually([&] { return events(hub) == 1; })) << hub.log();

  hub.write_config(poll_config(fake.url(), sink.url(), "300ms"));
  hub.hangup();
  ASSERT_TRUE(eventually([&] { return hub.log().find("polling contacts_changed every 300ms") != std::string::npos; }))
      << hub.log();
  upsert_contact(fake, "bob@example.com", "Bob");
  ASSERT_TRUE(eventually([&] { return events(hub) == 2; })) << hub.log();
  ASSERT_TRUE(polled(fake, searches(fake).size())) << hub.log();
  EXPECT_EQ(events(hub), 2) << "the new configuration did not start over";
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE email = 'ann@example.com'"), 1);
  EXPECT_EQ(hub.stop(), 0);
}

TEST(Poll, AReloadDuringAPollRunsTheNewConfigurationAtOnceAndPollsThatSourceOnlyAfterIt) {
  FakeProcess fake("ghl");
  Sink sink;
  const std::string secret = "S3cretWord-poll-reload";
  // Beside the polled source, a ThriveCart source whose orders go to the same endpoint.
  auto config = [&](const std::string &every) {
    std::string cfg = poll_config(fake.url(), sink.url(), every);
    cfg.insert(cfg.find("integrations:"), "  thrivecart:\n    connector: thrivecart\n    settings: {account: acme, secret: \"" +
                                              secret + "\"}\n");
    return cfg + "  - name: order-out\n    on: order.completed\n    do: hook.post\n";
  };
  HubProcess hub("poll-reload-at-once", config("200ms"), poll_env());
  hub.start();
  ASSERT_TRUE(eventually([&] { return stored_cursor(hub).is_object(); })) << hub.log();

  // The next poll is held at the remote, and finds Ann once it is answered.
  fake.hold("^/contacts/search$");
  ASSERT_TRUE(eventually([&] { return fake.held() == 1; })) << hub.log();
  upsert_contact(fake, "ann@example.com", "Ann");
  std::size_t before = searches(fake).size();
  hub.write_config(config("300ms"));
  hub.hangup();
  bool reloaded = eventually([&] { return hub.log().find("reloaded ") != std::string::npos; });
  if (!reloaded) fake.release();  // so that the test ends
  ASSERT_TRUE(reloaded) << "the reload waited for the poll under way\n" << hub.log();
  EXPECT_NE(hub.log().find("; still under way on the previous configuration: 0 attempt(s), 1 poll"), std::string::npos)
      << hub.log();

  // An order is delivered by the new configuration meanwhile, and the source is not polled again.
  ASSERT_EQ(hub.post("/hooks/thrivecart", thrivecart::order_success(secret, "9101", {{"product", "12", "Course", 4995}})).status, 200);
  ASSERT_TRUE(eventually([&] { return sink.count() == 1; })) << hub.log();
  EXPECT_EQ(fake.held(), 1);
  EXPECT_EQ(searches(fake).size(), before) << "the new configuration polled the source during its poll";

  // The held poll stores Ann; the new configuration goes on from its cursor.
  auto contacts = [&] { return hub.count("SELECT COUNT(*) FROM events WHERE source = 'ghl-contacts'"); };
  fake.release();
  ASSERT_TRUE(eventually([&] { return contacts() == 1; })) << hub.log();
  ASSERT_TRUE(eventually([&] {
    return hub.log().find("what was still under way on the previous configuration has ended (0 attempt(s), 1 poll)") !=
           std::string::npos;
  })) << hub.log();
  ASSERT_TRUE(polled(fake, before + 1)) << hub.log();
  auto calls = searches(fake);
  std::sort(calls.begin(), calls.end(), [](const Json &x, const Json &y) { return x["started"] < y["started"]; });
  for (std::size_t i = 1; i < calls.size(); ++i)
    EXPECT_GT(calls[i]["started"], calls[i - 1]["ended"]) << "poll " << i + 1 << " began during poll " << i;
  EXPECT_EQ(contacts(), 1);
  ASSERT_TRUE(eventually([&] { return sink.count() == 2; })) << hub.log();
  EXPECT_EQ(hub.stop(), 0) << hub.log();
}

TEST(Poll, AHubThatCannotStartItsPollerSaysWhyPollsNothingAndStopsWithoutTakingWebhooks) {
  FakeProcess fake("ghl");
  Sink sink;
  // While this file holds N, each thread of the hub starts N threads more, and no other.
  std::filesystem::path no_threads =
      std::filesystem::temp_directory_path() / ("cartwire-poll-start-thread-faults-" + std::to_string(::getpid()));
  std::map<std::string, std::string> env = poll_env();
  env["LD_PRELOAD"] = STORE_FAULTS_PRELOAD;
  env["THREAD_FAULTS"] = no_threads.string();
  HubProcess hub("poll-start-threads", poll_config(fake.url(), sink.url()), env);
  // The main thread's: the store's, the webhook listener's two, the runner's two (a lease keeper, a worker),
  // then the first of the poller's two (a lease keeper, its loop).
  std::ofstream(no_threads) << 6;
  auto [code, out] = hub.run({"serve", "--config", hub.config_path()}, std::chrono::seconds(20));
  std::filesystem::remove(no_threads);
  EXPECT_EQ(code, 71) << out;
  EXPECT_NE(out.find("the poller could not start (Resource temporarily unavailable): the hub does not start; free "
                     "threads (or raise its limit: ulimit -u, systemd TasksMax) and start it again"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("listening on"), std::string::npos) << out;
  EXPECT_TRUE(searches(fake).empty()) << out;
  EXPECT_THROW(hub.post("/hooks/ghl-contacts", "{}", "application/json"), Poco::Net::ConnectionRefusedException);
}

TEST(Poll, AReloadWhoseNewPollerCannotStartEveryThreadPollsNothingUntilTheNextReloadStartsOne) {
  FakeProcess fake("ghl");
  Sink sink;
  // While this file holds N, each thread of the hub starts N threads more, and no other.
  std::filesystem::path no_threads =
      std::filesystem::temp_directory_path() / ("cartwire-poll-thread-faults-" + std::to_string(::getpid()));
  std::filesystem::remove(no_threads);
  std::map<std::string, std::string> env = poll_env();
  env["LD_PRELOAD"] = STORE_FAULTS_PRELOAD;
  env["THREAD_FAULTS"] = no_threads.string();
  unsigned short admin_port = free_port();
  const std::string admin_token = "admin-token-for-the-poll-test";
  env["ADMIN_TOKEN"] = admin_token;
  HubProcess hub("poll-reload-threads",
                 poll_config(fake.url(), sink.url()) + "admin:\n  listen: 127.0.0.1:" + std::to_string(admin_port) +
                     "\n  token: \"${ADMIN_TOKEN}\"\n",
                 env);
  auto admin = [&](const std::string &path) {
    return http("GET", admin_port, path, "", {{"Authorization", "Bearer " + admin_token}}).body;
  };
  hub.start();
  ASSERT_TRUE(eventually([&] { return stored_cursor(hub).is_object(); })) << hub.log();
  EXPECT_EQ(Json::parse(admin("/api/status"))["poller"]["running"], true);
  EXPECT_NE(admin("/metrics").find("\ncartwire_poller_running 1\n"), std::string::npos);

  // The reload's own: the one that loads plugins, the new runner's worker and lease keeper, then one of the
  // new poller's two (its loop and its lease keeper).
  std::ofstream(no_threads) << 4;
  hub.hangup();
  bool told = eventually([&] { return hub.log().find("; the new poller could not start (") != std::string::npos; });
  std::filesystem::remove(no_threads);
  ASSERT_TRUE(told) << hub.log();
  EXPECT_NE(hub.log().find("): no source is polled until a reload (POST /api/reload or SIGHUP) or a restart starts one"),
            std::string::npos)
      << hub.log();
  Json status = Json::parse(admin("/api/status"));
  EXPECT_EQ(status["poller"]["running"], false) << status.dump();
  EXPECT_EQ(status["poller"]["reason"].get<std::string>().rfind("the new poller could not start (", 0), 0)
      << status.dump();
  EXPECT_NE(status["poller"]["hint"].get<std::string>().find("POST /api/reload or send SIGHUP"), std::string::npos)
      << status.dump();
  EXPECT_EQ(status["runner"]["running"], true) << status.dump();
  std::string metrics = admin("/metrics");
  EXPECT_NE(metrics.find("\ncartwire_poller_running 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\ncartwire_runner_running 1\n"), std::string::npos) << metrics;

  // As it says: the source is not polled (five of its intervals).
  std::size_t before = searches(fake).size();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_EQ(searches(fake).size(), before) << hub.log();

  // The next reload polls it again, and the hub stops.
  hub.hangup();
  ASSERT_TRUE(polled(fake, before)) << hub.log();
  status = Json::parse(admin("/api/status"));
  EXPECT_EQ(status["poller"]["running"], true) << status.dump();
  EXPECT_TRUE(status["poller"]["reason"].is_null()) << status.dump();
  EXPECT_NE(admin("/metrics").find("\ncartwire_poller_running 1\n"), std::string::npos);
  EXPECT_EQ(hub.stop(), 0) << hub.log();
}

TEST(Poll, FailedPollsBackOffKeepTheCursorAndRecover) {
  FakeProcess fake("ghl");
  Sink sink;
  HubProcess hub("poll-fail", poll_config(fake.url(), sink.url()), poll_env());
  hub.start();
  ASSERT_TRUE(eventually([&] { return stored_cursor(hub).is_object(); })) << hub.log();
  fake.fail("^/contacts/search$", 503, 2);
  std::string ann = upsert_contact(fake, "ann@example.com", "Ann");
  ASSERT_TRUE(eventually([&] { return events(hub) == 1; })) << hub.log();
  std::string log = hub.log();
  EXPECT_NE(log.find("source 'ghl-contacts': poll failed, retryable: GoHighLevel POST /contacts/search: HTTP 503"), std::string::npos) << log;
  EXPECT_NE(log.find("(2 failure(s) in a row)"), std::string::npos) << log;
  EXPECT_NE(log.find("polling works again after 2 failed poll(s)"), std::string::npos) << log;
  auto state = query(hub.db_path(), "SELECT failures, COALESCE(last_error, '') FROM poll_state");
  EXPECT_EQ(state.at(0), (std::vector<std::string>{"0", ""}));
  // The failed polls stored nothing; the poll after them found Ann from the cursor they kept.
  std::vector<int> statuses;
  for (auto &call : searches(fake)) statuses.push_back(call["status"]);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 503), 2);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE email = 'ann@example.com'"), 1);
}

TEST(Poll, ARefusedTokenIsReportedAsAConfigurationProblemWithoutTheToken) {
  FakeProcess fake("ghl");
  Sink sink;
  unsigned short admin_port = free_port();
  const std::string admin_token = "admin-token-for-the-poll-test";
  HubProcess hub("poll-token",
                 poll_config(fake.url(), sink.url()) + "admin:\n  listen: 127.0.0.1:" + std::to_string(admin_port) +
                     "\n  token: \"${ADMIN_TOKEN}\"\n",
                 {{"GHL_TOKEN", "pit-00000000-wrong-token-0000"}, {"ADMIN_TOKEN", admin_token}});
  hub.start();
  ASSERT_TRUE(eventually([&] { return hub.log().find("poll failed") != std::string::npos; })) << hub.log();
  // The console shows the source as polled, with its failures and the last error, and no webhook path.
  auto sources = http("GET", admin_port, "/api/sources", "", {{"Authorization", "Bearer " + admin_token}});
  ASSERT_EQ(sources.status, 200) << sources.body;
  Json source = Json::parse(sources.body)["items"].at(0);
  EXPECT_EQ(source["kind"], "poll") << source.dump();
  EXPECT_TRUE(source["path"].is_null()) << source.dump();
  EXPECT_EQ(source["poll"]["every_ms"], 200) << source.dump();
  EXPECT_GE(source["poll"]["failures"], 1) << source.dump();
  EXPECT_TRUE(source["poll"]["polled_at"].is_string()) << source.dump();
  EXPECT_NE(source["poll"]["last_error"].get<std::string>().find("HTTP 401"), std::string::npos) << source.dump();
  EXPECT_EQ(sources.body.find("pit-00000000-wrong-token-0000"), std::string::npos) << sources.body;
  std::string log = hub.log();
  EXPECT_NE(log.find("poll failed, a configuration problem (check the source's settings): GoHighLevel POST "
                     "/contacts/search: HTTP 401"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("pit-00000000-wrong-token-0000"), std::string::npos) << log;
  auto state = query(hub.db_path(), "SELECT cursor, failures > 0 FROM poll_state");
  EXPECT_EQ(state.at(0), (std::vector<std::string>{"null", "1"}));
  EXPECT_EQ(hub.post("/hooks/ghl-contacts", "{}", "application/json").status, 404);
}

TEST(Poll, APollThatOutlastsTheLeaseIsNotStartedAgainByAnotherNode) {
  PostgresSchema db;
  FakeProcess fake("ghl");
  Sink sink;
  std::string config = poll_config(fake.url(), sink.url());
  config.insert(config.find("sources:"), "  lease: 2s\n");
  HubProcess a("poll-node-a", config, poll_env()), b("poll-node-b", config, poll_env());
  a.use_postgresql(db.conninfo());
  b.use_postgresql(db.conninfo());
  a.start();
  b.start();
  ASSERT_TRUE(polled(fake, 0)) << a.log() << b.log();

  // The next poll takes two and a half leases at the remote (it is listed once answered).
  fake.slow("^/contacts/search$", 5);
  std::size_t before = searches(fake).size();
  auto slow_answered = [&] {
    auto calls = searches(fake);
    return std::any_of(calls.begin(), calls.end(), [](const Json &c) {
      return c["ended"].get<double>() - c["started"].get<double>() >= 5;
    });
  };
  ASSERT_TRUE(eventually([&] { return slow_answered() && searches(fake).size() >= before + 3; },
                         std::chrono::seconds(20)))
      << a.log() << b.log();

  // One poll at a time at the remote: each started after the one before it ended.
  auto calls = searches(fake);
  std::sort(calls.begin(), calls.end(), [](const Json &x, const Json &y) { return x["started"] < y["started"]; });
  for (std::size_t i = 1; i < calls.size(); ++i)
    EXPECT_GT(calls[i]["started"], calls[i - 1]["ended"]) << "poll " << i + 1 << " began during poll " << i;
  for (HubProcess *node : {&a, &b})
    EXPECT_EQ(node->log().find("is no longer leased"), std::string::npos) << node->log();
}

TEST(Poll, APollOfANodeKilledMidPollIsTakenOverWithoutWaitingForItsLeaseToEnd) {
  PostgresSchema db;
  FakeProcess fake("ghl");
  Sink sink;
  // Leases of 10 minutes: the poll must not wait for the killed node's lease to end.
  auto config = [&](const std::string &node) {
    std::string yaml = poll_config(fake.url(), sink.url());
    return yaml.insert(yaml.find("sources:"), "  lease: 10m\n  node: " + node + "\n");
  };
  std::map<std::string, HubProcess> nodes;
  for (const std::string name : {"poll-a", "poll-b"}) {
    nodes.try_emplace(name, "poll-kill-" + name, config(name), poll_env());
    nodes.at(name).use_postgresql(db.conninfo());
    nodes.at(name).start();
  }
  ASSERT_TRUE(polled(fake, 0)) << nodes.at("poll-a").log() << nodes.at("poll-b").log();

  // The next poll is held at the remote until the test ends; the node making it is killed meanwhile.
  fake.slow("^/contacts/search$", 600);
  std::string polling;
  ASSERT_TRUE(eventually([&] {
    auto rows = db.query("SELECT lease_owner FROM poll_state WHERE lease_owner IS NOT NULL AND updated_at < "
                         "extract(epoch FROM now()) * 1000 - 1000");
    if (!rows.empty()) polling = rows[0][0];
    return !polling.empty();
  })) << nodes.at("poll-a").log() << nodes.at("poll-b").log();
  std::string other = polling == "poll-a" ? "poll-b" : "poll-a";
  std::size_t before = searches(fake).size();
  nodes.at(polling).kill9();

  EXPECT_TRUE(eventually([&] { return searches(fake).size() > before; }, std::chrono::seconds(60)))
      << "before: no node polled until the lease ended\n" << nodes.at(other).log();
  EXPECT_EQ(nodes.at(other).log().find("is no longer leased"), std::string::npos) << nodes.at(other).log();
  std::string cut = "source 'ghl-contacts': cut short the lease of its poll held under node '" + polling +
                    "', whose session is gone";
  EXPECT_EQ(occurrences(nodes.at(other).log(), cut), 1u) << nodes.at(other).log();
}

TEST(Poll, CheckValidatesPollSources) {
  FakeProcess fake("ghl");
  Sink sink;
  std::string cfg = poll_config(fake.url(), sink.url());
  HubProcess hub("poll-check", cfg, poll_env());
  auto [ok_code, ok_output] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(ok_code, 0) << ok_output;

  std::string bad_trigger = cfg;
  bad_trigger.replace(bad_trigger.find("trigger: contacts_changed"), 25, "trigger: deals_changed");
  hub.write_config(bad_trigger);
  auto [code, output] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("connector ghl has no trigger 'deals_changed' (triggers: contacts_changed (poll))"),
            std::string::npos)
      << output;

  std::string bad_every = cfg;
  bad_every.replace(bad_every.find("every: 200ms"), 12, "every: 10ms");
  hub.write_config(bad_every);
  std::tie(code, output) = hub.run({"check", "--config", hub.config_path()});
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find(":14: error: sources.ghl-contacts.every must be a duration from 100ms to 7d, e.g. 5m (got '10ms')"),
            std::string::npos)
      << output;

  hub.write_config(
      "sources:\n  cart:\n    connector: thrivecart\n    every: 5m\n    settings: {secret: s3cret, account: acme}\n");
  std::tie(code, output) = hub.run({"check", "--config", hub.config_path()});
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find(":10: error: source 'cart': 'every' applies to poll triggers only; 'webhook' is a webhook trigger"),
            std::string::npos)
      << output;
}
