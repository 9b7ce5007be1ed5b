// Several hub nodes on one PostgreSQL database: they share events
// and jobs, a job runs on one node at a time, and the jobs of a node that
// dies are run by another.
#include <gtest/gtest.h>

#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <thread>

#include "../support/fault_remote.hpp"
#include "../support/hub_process.hpp"
#include "../support/postgres.hpp"
#include "../support/postgres_proxy.hpp"
#include "../support/sink.hpp"
#include "../support/thrivecart_payloads.hpp"

using namespace cartwire::testing;

namespace {

const std::string kSecret = "cluster-secret-word";
const std::string kAdminToken = "cluster-admin-token-0123456789";

std::string cluster_config(const Sink &sink, const std::string &node = "", const std::string &lease = "2s") {
  return "runner:\n  workers: 2\n  poll_interval: 100ms\n  lease: " + lease + "\n" +
         (node.empty() ? "" : "  node: " + node + "\n") +
         "  retry: {initial_delay: 100ms, max_delay: 500ms}\n"
         "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: " + kSecret + "}\n"
         "integrations:\n  hook:\n    connector: notifyurl\n    settings: {url: \"" + sink.url() + "\"}\n"
         "rules:\n  - {name: notify, on: order.completed, do: hook.post}\n";
}

// Two nodes started on `db`, once each counts the other among the nodes sharing it.
void start_sharing(const PostgresSchema &db, HubProcess &a, HubProcess &b) {
  a.use_postgresql(db.conninfo());
  b.use_postgresql(db.conninfo());
  a.start();
  b.start();
  for (HubProcess *node : {&a, &b})
    ASSERT_TRUE(eventually([&] { return node->log().find("2 node(s) share this database") != std::string::npos; },
                           std::chrono::seconds(15)))
        << node->log();
}

// hub.yaml's console on `port`, its token from ADMIN_TOKEN.
std::string console(unsigned short port) {
  return "admin:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n  token: \"${ADMIN_TOKEN}\"\n";
}

// The fingerprint of the configuration the last line of `log` that names one (start or reload) gives.
std::string configuration(const std::string &log) {
  std::string out;
  std::regex named("(listening on|reloaded) .*configuration ([0-9a-f]{12})\\)");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), named); it != std::sregex_iterator(); ++it)
    out = (*it)[2];
  return out;
}

int deliver(HubProcess &node, int order) {
  std::string body = thrivecart::order_success(kSecret, std::to_string(500000 + order), {{"product", "12", "Course", 4995}});
  return node.post("/hooks/thrivecart", body).status;
}

// A database role of the hub's own, which a test can stop from logging in, as a database down
// would; declared before the hub, so that the hub has stopped when it is dropped.
class HubRole {
 public:
  explicit HubRole(PostgresSchema &db) : db_(db), name_(db.name() + "_hub") {
    db_.exec("CREATE ROLE " + name_ + " LOGIN");
    db_.exec("GRANT ALL ON SCHEMA " + db_.name() + " TO " + name_);
  }
  ~HubRole() {
    try {
      db_.exec("DROP OWNED BY " + name_ + " CASCADE");
      db_.exec("DROP ROLE " + name_);
    } catch (const std::exception &) {  // the throwaway server goes with the run
    }
  }
  std::string conninfo() const { return db_.conninfo() + " user=" + name_; }
  void login(bool allowed) { db_.exec("ALTER ROLE " + name_ + (allowed ? " LOGIN" : " NOLOGIN")); }

 private:
  PostgresSchema &db_;
  std::string name_;
};

// Whether the jobs of `db` that succeeded come to `n` within `wait`.
bool succeeded(const PostgresSchema &db, long long n, std::chrono::milliseconds wait = std::chrono::seconds(15)) {
  return eventually([&] { return db.scalar("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == n; }, wait);
}

// SQL of the pid of the session holding a node name's lock (postgres_module.hpp's kNodeLock,
// 0x43570005) among the hubs of `db`'s schema.
std::string name_holder(const PostgresSchema &db) {
  return "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND "
         "l.granted AND l.classid = 1129775109 AND l.objsubid = 2 AND a.application_name = '" + db.name() + "'";
}

// The sink answers the first request after `delay`, and every other at once.
void delay_first(Sink &sink, std::chrono::milliseconds delay) {
  sink.respond_with([delay, calls = 0](const Recorded &) mutable {
    Reply reply;
    if (calls++ == 0) reply.delay = delay;
    return reply;
  });
}

}  // namespace

TEST(Cluster, NodesShareOneDatabaseAndRunEachJobOnce) {
  PostgresSchema db;
  Sink sink;
  unsigned short b_admin = free_port();
  HubProcess a("cluster-a", cluster_config(sink)),
      b("cluster-b", cluster_config(sink) + console(b_admin), {{"ADMIN_TOKEN", kAdminToken}});
  a.use_postgresql(db.conninfo());
  b.use_postgresql(db.conninfo());
  a.start();
  b.start();

  // Each order reaches one node, and the cart's redelivery the other: stored once.
  constexpr int kOrders = 60;
  for (int order = 0; order < kOrders; ++order) {
    HubProcess &first = order % 2 ? b : a, &second = order % 2 ? a : b;
    ASSERT_EQ(deliver(first, order), 200) << first.log();
    ASSERT_EQ(deliver(second, order), 200) << second.log();
  }
  ASSERT_TRUE(succeeded(db, kOrders, std::chrono::seconds(30)))
      << db.scalar("SELECT COUNT(*) FROM jobs WHERE state <> 'succeeded'") << " jobs unfinished\n"
      << a.log() << b.log();
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM events WHERE type = 'order.completed'"), kOrders);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM jobs"), kOrders);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM attempts"), kOrders);
  std::map<std::string, int> deliveries;
  for (auto &r : sink.requests()) ++deliveries[r.headers["webhook-id"]];
  EXPECT_EQ(deliveries.size(), static_cast<std::size_t>(kOrders));
  for (auto &[id, n] : deliveries) EXPECT_EQ(n, 1) << id << " was delivered " << n << " times";

  // Either node's console reads the shared log: b finds the order a accepted first.
  auto found = http("GET", b_admin, "/api/jobs?order_id=500000", "", {{"Authorization", "Bearer " + kAdminToken}});
  ASSERT_EQ(found.status, 200) << found.body;
  auto items = nlohmann::json::parse(found.body).at("items");
  ASSERT_EQ(items.size(), 1u) << found.body;
  EXPECT_EQ(items[0]["state"], "succeeded");

  // Each attempt names the node that made it; the nodes shared the work.
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM attempts WHERE node IS NULL OR node = ''"), 0);
  EXPECT_EQ(db.scalar("SELECT COUNT(DISTINCT node) FROM attempts"), 2);
  auto job = http("GET", b_admin, "/api/jobs/" + items[0]["id"].dump(), "",
                  {{"Authorization", "Bearer " + kAdminToken}});
  ASSERT_EQ(job.status, 200) << job.body;
  auto node = nlohmann::json::parse(job.body).at("attempts").at(0).at("node");
  ASSERT_TRUE(node.is_string()) << job.body;
  EXPECT_GT(db.scalar("SELECT COUNT(*) FROM attempts WHERE node = '" + node.get<std::string>() + "'"), 0);
}

TEST(Cluster, TheJobOfANodeKilledMidAttemptIsRunByAnother) {
  PostgresSchema db;
  Sink sink;
  // The first attempt hangs at the remote long enough for its node to be killed.
  delay_first(sink, std::chrono::seconds(6));
  HubProcess a("cluster-killed", cluster_config(sink)), b("cluster-survivor", cluster_config(sink));
  a.use_postgresql(db.conninfo());
  b.use_postgresql(db.conninfo());
  a.start();
  b.start();

  ASSERT_EQ(deliver(a, 1), 200);
  ASSERT_TRUE(sink.wait_for(1)) << a.log();
  a.kill9();  // mid-attempt: its lease (2s) is no longer renewed

  ASSERT_TRUE(succeeded(db, 1, std::chrono::seconds(20))) << b.log();
  EXPECT_EQ(sink.count(), 2u) << "the killed node's attempt and the survivor's";
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM attempts WHERE outcome = 'ok'"), 1);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM attempts"), 1) << "the killed node recorded nothing";
  auto requests = sink.requests();
  EXPECT_EQ(requests[0].headers["webhook-id"], requests[1].headers["webhook-id"]) << "the same job, sent again";
}

TEST(Cluster, TheJobOfANodeKilledMidAttemptIsRunByAnotherWithoutWaitingForItsLeaseToEnd) {
  PostgresSchema db;
  Sink sink;
  // The first attempt is held at the remote until the test ends.
  delay_first(sink, std::chrono::minutes(10));
  // Leases of 10 minutes: the job must not wait for its lease to end.
  HubProcess a("cluster-killed-long", cluster_config(sink, "node-a", "10m")),
      b("cluster-survivor-long", cluster_config(sink, "node-b", "10m"));
  start_sharing(db, a, b);

  ASSERT_EQ(deliver(a, 1), 200);
  ASSERT_TRUE(sink.wait_for(1)) << a.log();
  a.kill9();  // mid-attempt: the server ends its sessions, and no session holds its name any more

  ASSERT_TRUE(succeeded(db, 1, std::chrono::seconds(60))) << "before: it waited for its lease to end\n" << b.log();
  EXPECT_EQ(occurrences(b.log(), "cut short the leases of 1 job(s) held under node 'node-a', whose session is gone"),
            1u)
      << b.log();
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM attempts WHERE node = 'node-b' AND outcome = 'ok'"), 1);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM attempts"), 1) << "the killed node recorded nothing";
  auto requests = sink.requests();
  ASSERT_EQ(requests.size(), 2u) << "the killed node's attempt and the survivor's";
  EXPECT_EQ(requests[0].headers["webhook-id"], requests[1].headers["webhook-id"]) << "the same job, sent again";
}

// While a node's session is gone, another node's claim sees its name free and cuts its leases short (to
// 10 s). Back on a new session, the node takes its name again and extends them then, not a third of its
// lease later (here 200 s), so that its attempt under way is not run again by a claim once they end.
TEST(Cluster, ANodeThatTakesItsNameAgainExtendsAtOnceTheLeasesCutShortMeanwhile) {
  PostgresSchema db;
  Sink sink;
  delay_first(sink, std::chrono::seconds(13));  // past the leases cut short, within its timeout
  HubProcess hub("cluster-name-again", cluster_config(sink, "node-a", "10m"));
  hub.use_postgresql(db.conninfo());
  hub.start();
  ASSERT_EQ(deliver(hub, 1), 200) << hub.log();
  ASSERT_TRUE(sink.wait_for(1)) << hub.log();
  const std::string lease_left =
      "SELECT lease_until - (extract(epoch FROM clock_timestamp()) * 1000)::bigint FROM jobs WHERE id = 1";
  ASSERT_GT(db.scalar(lease_left), 9 * 60 * 1000);

  // The node's session ends, and its leases are cut as another node's claim cuts them, all before the node
  // can note in its name's row that it took the name again.
  db.exec("BEGIN; SELECT 1 FROM nodes WHERE name = 'node-a' FOR UPDATE; SELECT pg_terminate_backend((" +
          name_holder(db) + "), 10000); UPDATE jobs SET lease_until = (extract(epoch FROM clock_timestamp()) * "
          "1000)::bigint + 10000 WHERE lease_owner = 'node-a'; COMMIT");
  EXPECT_TRUE(eventually([&] { return db.scalar(lease_left) > 9 * 60 * 1000; }, std::chrono::seconds(8)))
      << "its lease was left to end " << db.scalar(lease_left) << " ms on\n" << hub.log();

  ASSERT_TRUE(succeeded(db, 1, std::chrono::seconds(40))) << hub.log();
  EXPECT_GE(db.scalar("SELECT duration_ms FROM attempts WHERE outcome = 'ok'"), 12000)
      << "the job succeeded by the attempt that was under way, not by one run again";
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM attempts"), 1);
  EXPECT_EQ(sink.count(), 1u) << "the attempt under way was not run again\n" << hub.log();
}

TEST(Cluster, ANodePausedPastItsLeaseRecordsItsAttemptAndLeavesTheJobToTheNodeThatTookItOver) {
  PostgresSchema db;
  Sink sink;
  // Node a's attempt is answered while a is paused; that of b, which took the job over, later.
  sink.respond_with([calls = 0](const Recorded &) mutable {
    Reply reply;
    reply.delay = std::chrono::seconds(calls++ == 0 ? 1 : 6);
    return reply;
  });
  HubProcess a("cluster-paused", cluster_config(sink, "node-a")), b("cluster-taker", cluster_config(sink, "node-b"));
  start_sharing(db, a, b);

  ASSERT_EQ(deliver(a, 1), 200);
  ASSERT_TRUE(sink.wait_for(1)) << a.log();
  a.pause();  // mid-attempt: its lease (2 s) is not renewed
  bool taken_over = sink.wait_for(2);
  a.resume();
  ASSERT_TRUE(taken_over) << b.log();
  // a's attempt is on record, and b goes on with the job.
  ASSERT_TRUE(eventually([&] {
    return a.log().find(") attempt 1 (ok) is on record, but its lease had ended: node node-b holds it now, and its "
                        "attempt decides the job (its requests carry the same idempotency key, job_") !=
           std::string::npos;
  })) << a.log();
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM attempts WHERE node = 'node-a' AND outcome = 'ok'"), 1);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM jobs WHERE state = 'running' AND lease_owner = 'node-b'"), 1)
      << "a's late record ended the job b runs";
  ASSERT_TRUE(succeeded(db, 1, std::chrono::seconds(20))) << b.log();
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM attempts WHERE node = 'node-b' AND outcome = 'ok'"), 1);
  EXPECT_EQ(db.scalar("SELECT attempts FROM jobs"), 2) << "a's attempt and b's";
  EXPECT_EQ(db.scalar("SELECT number FROM attempts WHERE node = 'node-a'"), 1);
  EXPECT_EQ(db.scalar("SELECT number FROM attempts WHERE node = 'node-b'"), 2) << "both attempts numbered 1";
  EXPECT_NE(b.log().find("(hook.post) succeeded on attempt 2"), std::string::npos)
      << "the log numbers the attempt as its record does\n" << b.log();
  auto requests = sink.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].headers["webhook-id"], requests[1].headers["webhook-id"]) << "the same job, sent again";
}

TEST(Cluster, ANodeThatCannotStartItsCountOfTheNodesSaysWhyAndStopsWithoutTakingWebhooks) {
  PostgresSchema db;
  Sink sink;
  // While this file holds N, each thread of the hub starts N threads more, and no other.
  fs::path no_threads = fs::temp_directory_path() / ("cartwire-cluster-thread-faults-" + std::to_string(::getpid()));
  HubProcess hub("cluster-no-count", cluster_config(sink),
                 {{"LD_PRELOAD", STORE_FAULTS_PRELOAD}, {"THREAD_FAULTS", no_threads.string()}});
  hub.use_postgresql(db.conninfo());
  // The main thread's: the webhook listener's two (a watchdog, a worker), the runner's three (a lease keeper,
  // two workers), then the count of the nodes.
  std::ofstream(no_threads) << 5;
  auto [code, out] = hub.run({"serve", "--config", hub.config_path()}, std::chrono::seconds(20));
  fs::remove(no_threads);
  EXPECT_EQ(code, 71) << out;
  EXPECT_NE(out.find("the count of the nodes sharing the database could not start (Resource temporarily "
                     "unavailable): the hub does not start; free threads (or raise its limit: ulimit -u, systemd "
                     "TasksMax) and start it again"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("listening on"), std::string::npos) << out;
  EXPECT_THROW(hub.post("/hooks/thrivecart", ""), Poco::Net::ConnectionRefusedException);
}

TEST(Cluster, TheDatabasePasswordIsNeverShownAndAUrlThatCannotServeIsExplained) {
  PostgresSchema db;
  Sink sink;
  const std::string password = "db-pass-never-shown-7d3f";
  HubProcess hub("cluster-secret", cluster_config(sink));
  hub.use_postgresql(db.conninfo() + " password=" + password);  // the tests' server trusts the local user
  hub.start();
  ASSERT_EQ(deliver(hub, 7), 200);
  ASSERT_TRUE(succeeded(db, 1)) << hub.log();
  auto [code, out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out.find(password), std::string::npos) << out;
  EXPECT_EQ(hub.stop(), 0);
  std::string log = hub.log();
  EXPECT_EQ(log.find(password), std::string::npos) << log;
  EXPECT_NE(log.find("(store postgresql (host="), std::string::npos) << log;

  // The harness writes the url at line 5 of hub.yaml.
  hub.use_postgresql("host=/tmp port");
  std::tie(code, out) = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 78) << out;
  EXPECT_NE(out.find(hub.config_path() + ":5: error: storage.url is not a PostgreSQL connection string: missing \"...\" "
                                         "after \"...\""),
            std::string::npos)
      << out;
  // libpq quotes what it cannot read, which may be the password.
  hub.use_postgresql("postgresql://cartwire:Hunter%zzsecret@localhost/cartwire");
  std::tie(code, out) = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 78) << out;
  EXPECT_NE(out.find("storage.url is not a PostgreSQL connection string: invalid percent-encoded token"),
            std::string::npos)
      << out;
  std::tie(code, out) = hub.run({"serve", "--config", hub.config_path()});
  EXPECT_EQ(code, 73) << out;
  for (auto &text : {out, hub.log()}) EXPECT_EQ(text.find("Hunter"), std::string::npos) << text;

  hub.use_postgresql("host=/nonexistent-cartwire-db dbname=cartwire password=" + password);
  std::tie(code, out) = hub.run({"serve", "--config", hub.config_path()});
  EXPECT_EQ(code, 73) << out;  // EX_CANTCREAT
  EXPECT_NE(out.find("cannot open the store at postgresql (host=/nonexistent-cartwire-db dbname=cartwire): "
                     "cannot connect to PostgreSQL"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find(password), std::string::npos) << out;
}

TEST(Cluster, ANodeWhoseDatabaseConnectionsDropReconnectsAndLosesNothing) {
  PostgresSchema db;
  Sink sink;
  unsigned short admin = free_port();
  HubProcess hub("cluster-reconnect", cluster_config(sink) + console(admin), {{"ADMIN_TOKEN", kAdminToken}});
  hub.use_postgresql(db.conninfo());
  hub.start();
  ASSERT_EQ(deliver(hub, 1), 200);
  ASSERT_TRUE(succeeded(db, 1));

  // As a database restart or failover would: every connection of the hub ends. The next webhook's
  // transaction finds its connection ended as it begins, and begins again on a new one; a read
  // (a readiness check, the console's) is sent again on a new one.
  ASSERT_GE(db.drop_connections(), 2);
  EXPECT_EQ(http("GET", hub.port(), "/readyz").status, 200) << hub.log();
  EXPECT_EQ(http("GET", admin, "/api/jobs", "", {{"Authorization", "Bearer " + kAdminToken}}).status, 200) << hub.log();
  ASSERT_EQ(deliver(hub, 2), 200) << hub.log();
  ASSERT_TRUE(succeeded(db, 2)) << hub.log();
  EXPECT_TRUE(eventually([&] {
    return http("GET", admin, "/readyz").status == 200 && http("GET", hub.port(), "/readyz").status == 200;
  }));
  EXPECT_EQ(sink.count(), 2u);
}

TEST(Cluster, ReadyzSaysWhileTheDatabaseCannotBeReachedAndWebhooksAreRefusedForARetry) {
  PostgresSchema db;
  HubRole role(db);
  Sink sink;
  unsigned short admin = free_port();
  HubProcess hub("cluster-readyz", cluster_config(sink) + console(admin), {{"ADMIN_TOKEN", kAdminToken}});
  hub.use_postgresql(role.conninfo());
  hub.start();
  ASSERT_EQ(deliver(hub, 1), 200) << hub.log();
  EXPECT_EQ(http("GET", hub.port(), "/readyz").status, 200);
  EXPECT_EQ(http("GET", admin, "/readyz").status, 200);

  role.login(false);
  ASSERT_GE(db.drop_connections(), 1);
  // The first look meets the dropped connection and tries a new one, as the next ones do: each meets
  // the refused login and says so.
  for (int round = 0; round < 2; ++round)
    for (unsigned short port : {hub.port(), admin}) {
      HttpResult ready = http("GET", port, "/readyz");
      EXPECT_EQ(ready.status, 503) << port << ": " << ready.body;
      if (port == admin) {
        EXPECT_NE(ready.body.find("not permitted to log in"), std::string::npos) << round << ": " << ready.body;
      } else {  // open to the internet: the kind of failure, not the database's host or login
        EXPECT_NE(ready.body.find("the hub cannot reach its database now"), std::string::npos) << ready.body;
        EXPECT_EQ(ready.body.find("not permitted"), std::string::npos) << ready.body;
      }
    }
  EXPECT_EQ(http("GET", hub.port(), "/healthz").status, 200) << "the process itself is alive";
  HttpResult refused =
      hub.post("/hooks/thrivecart", thrivecart::order_success(kSecret, "500002", {{"product", "12", "Course", 4995}}));
  EXPECT_EQ(refused.status, 503) << "nothing can be stored: the cart is told the order was not taken";
  EXPECT_EQ(refused.body, R"({"error":"the hub cannot reach its database now; please retry"})");
  // Each worker claims every 100 ms meanwhile: the log says so once every 10 s, not each time.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::string log = hub.log();
  std::size_t lines = 0;
  for (std::size_t at = log.find("claiming jobs failed"); at != std::string::npos;
       at = log.find("claiming jobs failed", at + 1))
    ++lines;
  EXPECT_EQ(lines, 1u) << log;

  role.login(true);
  EXPECT_TRUE(eventually([&] {
    return http("GET", hub.port(), "/readyz").status == 200 && http("GET", admin, "/readyz").status == 200;
  })) << hub.log();
  ASSERT_EQ(deliver(hub, 2), 200) << hub.log();
  EXPECT_TRUE(succeeded(db, 2)) << hub.log();
  // The log says when the outage ended, with the failures since its last line about them, once.
  EXPECT_TRUE(eventually([&] { return hub.log().find("claiming jobs succeeds again (") != std::string::npos; }))
      << hub.log();
  log = hub.log();
  std::size_t back = log.find("claiming jobs succeeds again (");
  EXPECT_EQ(log.find("claiming jobs succeeds again", back + 1), std::string::npos) << log;
}

TEST(Cluster, AnAttemptThatEndsWhileTheDatabaseIsAwayIsRecordedWhenItIsBack) {
  PostgresSchema db;
  HubRole role(db);
  Sink sink;
  sink.respond_with([](const Recorded &) {
    Reply reply;
    reply.delay = std::chrono::seconds(2);
    return reply;
  });
  // A lease far longer than the outage: the job must not wait for it to end and then run again.
  HubProcess hub("cluster-record", cluster_config(sink, "", "30s"));
  hub.use_postgresql(role.conninfo());
  hub.start();
  ASSERT_EQ(deliver(hub, 1), 200) << hub.log();
  ASSERT_TRUE(sink.wait_for(1)) << hub.log();

  // While the remote takes its time, the database goes away; it is back a second after the attempt ended.
  role.login(false);
  ASSERT_GE(db.drop_connections(), 1);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  role.login(true);

  EXPECT_TRUE(succeeded(db, 1, std::chrono::seconds(10))) << hub.log();
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM attempts"), 1) << hub.log();
  EXPECT_EQ(sink.count(), 1u) << "the job ran again";
  EXPECT_NE(hub.log().find("recording 1 attempt(s) succeeded on try"), std::string::npos) << hub.log();
}

TEST(Cluster, AJobOfAnIntegrationANodeDoesNotHaveYetIsRetriedUntilANodeThatHasItRunsIt) {
  PostgresSchema db;
  Sink sink;
  // hub.yaml changes node by node: a already has the integration crm and its rule, b does not yet.
  // crm's jobs are stored queued (it has a concurrency cap) and claimed by any node; its rate
  // limit keeps them waiting for a few seconds, while b's workers look for jobs.
  std::string config_b = cluster_config(sink, "node-b"), config_a = cluster_config(sink, "node-a");
  config_a.insert(config_a.find("rules:\n"), "  crm:\n    connector: notifyurl\n    concurrency: 4\n"
                                               "    rate_limit: {requests: 5, per: 1s}\n"
                                               "    settings: {url: \"" + sink.url("/crm") + "\"}\n");
  config_a += "  - {name: crm, on: order.completed, do: crm.post}\n";
  HubProcess a("cluster-config-a", config_a), b("cluster-config-b", config_b);
  a.use_postgresql(db.conninfo());
  b.use_postgresql(db.conninfo());
  a.start();
  b.start();

  constexpr int kOrders = 20;
  for (int order = 0; order < kOrders; ++order) ASSERT_EQ(deliver(a, order), 200) << a.log();
  ASSERT_TRUE(succeeded(db, 2 * kOrders, std::chrono::seconds(30)))
      << db.query("SELECT id, integration, state, last_error FROM jobs WHERE state <> 'succeeded'").size()
      << " jobs not succeeded\n" << b.log();
  EXPECT_EQ(sink.count(), 2u * kOrders);
  // Node b took some of crm's jobs and put them back for a retry, saying why; it sent nothing.
  EXPECT_GT(db.scalar("SELECT COUNT(*) FROM attempts WHERE outcome = 'retryable' AND error = "
                      "'integration ''crm'' is not in the configuration of node node-b; retried until a node has it'"),
            0);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM attempts WHERE outcome <> 'ok' AND error NOT LIKE '%node node-b%'"), 0);
}

TEST(Cluster, NodesShareAnIntegrationsRateBudget) {
  PostgresSchema db;
  FaultRemote remote;
  // The endpoint takes 2 requests a second, whichever node sends them.
  std::string config = "runner:\n  workers: 4\n  poll_interval: 50ms\n"
                       "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: " + kSecret + "}\n"
                       "integrations:\n  hook:\n    connector: notifyurl\n    rate_limit: {requests: 2, per: 1s}\n"
                       "    settings: {url: \"" + remote.url() + "\"}\n"
                       "rules:\n  - {name: notify, on: order.completed, do: hook.post}\n";
  HubProcess a("cluster-rate-a", config), b("cluster-rate-b", config);
  ASSERT_NO_FATAL_FAILURE(start_sharing(db, a, b));
  constexpr int kOrders = 10;
  for (int order = 0; order < kOrders; ++order) ASSERT_EQ(deliver(order % 2 ? b : a, order), 200);
  ASSERT_TRUE(eventually([&] { return remote.hits().size() == kOrders; }, std::chrono::seconds(30)))
      << remote.hits().size() << " of " << kOrders << "\n" << a.log() << b.log();
  // Each node sends one request a second: of any three requests in a row, two are one node's, a
  // second apart when they leave (800 ms leaves room for their way to the remote on a loaded machine).
  auto hits = remote.hits();
  for (std::size_t i = 0; i + 2 < hits.size(); ++i)
    EXPECT_GE(std::chrono::duration_cast<std::chrono::milliseconds>(hits[i + 2].arrived - hits[i].arrived).count(), 800)
        << "requests " << i + 1 << " to " << i + 3;
}

TEST(Cluster, EachNodeSaysWhichNodesRunAnotherConfiguration) {
  PostgresSchema db;
  Sink sink;
  std::string config_a = cluster_config(sink, "node-a"), config_b = cluster_config(sink, "node-b");
  HubProcess a("cluster-differ-a", config_a), b("cluster-differ-b", config_b);
  ASSERT_NO_FATAL_FAILURE(start_sharing(db, a, b));
  // Their names and ports apart, the nodes run the same sources, integrations and rules.
  std::string before = configuration(a.log());
  ASSERT_FALSE(before.empty()) << a.log();
  EXPECT_EQ(configuration(b.log()), before) << b.log();

  // hub.yaml gets a rule more on node a, which is reloaded; node b is not yet. Each node says so.
  const std::string rule = "  - {name: again, on: order.completed, do: hook.post}\n";
  a.write_config(config_a + rule);
  a.hangup();
  ASSERT_TRUE(eventually([&] { return a.log().find("reloaded ") != std::string::npos; })) << a.log();
  std::string after = configuration(a.log());
  EXPECT_NE(after, before);
  EXPECT_TRUE(eventually([&] {
    return a.log().find("node(s) 'node-b' (" + before + ") run another configuration than this node (" + after +
                        "): their sources, integrations or rules differ, so a webhook makes other jobs there; "
                        "reload every node after changing hub.yaml") != std::string::npos;
  }, std::chrono::seconds(15)))
      << a.log();
  EXPECT_TRUE(eventually([&] {
    return b.log().find("node(s) 'node-a' (" + after + ") run another configuration than this node (" + before +
                        ")") != std::string::npos;
  }, std::chrono::seconds(15)))
      << b.log();

  // Node b reloaded too: both say that every node runs their configuration again.
  b.write_config(config_b + rule);
  b.hangup();
  ASSERT_TRUE(eventually([&] { return b.log().find("reloaded ") != std::string::npos; })) << b.log();
  EXPECT_EQ(configuration(b.log()), after);
  for (HubProcess *node : {&a, &b})
    EXPECT_TRUE(eventually([&] {
      return node->log().find("every node runs this node's configuration (" + after + ") again") != std::string::npos;
    }, std::chrono::seconds(15)))
        << node->log();
}

TEST(Cluster, CheckReadsTheDatabaseWithoutChangingIt) {
  PostgresSchema db;
  Sink sink;
  HubProcess hub("cluster-check", cluster_config(sink));
  hub.use_postgresql(db.conninfo());
  auto [code, out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("cannot read cached lists: the database's schema is at version 0"), std::string::npos) << out;
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '" + db.name() + "'"), 0)
      << "check created tables in a shared database";
}

TEST(Cluster, ASecondNodeUnderANameInUseIsRefused) {
  PostgresSchema db;
  Sink sink;
  HubProcess a("cluster-name-a", cluster_config(sink, "web-1")), b("cluster-name-b", cluster_config(sink, "web-1"));
  a.use_postgresql(db.conninfo());
  b.use_postgresql(db.conninfo());
  a.start();
  auto [code, out] = b.run({"serve", "--config", b.config_path()});
  EXPECT_EQ(code, 78) << out;  // EX_CONFIG
  EXPECT_NE(out.find("cannot start: another hub node runs as 'web-1' on this database: give each node its own "
                     "runner.node"),
            std::string::npos)
      << out;
  ASSERT_EQ(deliver(a, 1), 200) << "the first node runs on";
}

TEST(Cluster, ANodeWhoseNameAnotherTookWhileTheDatabaseRestartedStopsAtOnceAndRecordsNothing) {
  PostgresServer server;  // of this test's own: it restarts
  PostgresSchema db(server);
  HubRole role(db);
  Sink sink;
  // The first attempt is under way at the remote while the database restarts.
  delay_first(sink, std::chrono::seconds(8));
  HubProcess first("cluster-taken-first", cluster_config(sink, "web-1")),
      second("cluster-taken-second", cluster_config(sink, "web-1"));
  first.use_postgresql(role.conninfo());
  second.use_postgresql(db.conninfo());
  first.start();
  ASSERT_EQ(deliver(first, 1), 200) << first.log();
  ASSERT_TRUE(sink.wait_for(1)) << first.log();

  // The database restarts, and the first node cannot connect again until a second node started
  // under its name holds it: the second puts the job leased under the name back and runs it.
  role.login(false);
  server.pause();
  server.resume();
  second.start();
  ASSERT_TRUE(succeeded(db, 1)) << second.log();
  role.login(true);

  // The first node, connected again, finds its name taken: it ends at once, without recording its attempt.
  std::optional<int> ended = first.ended(std::chrono::seconds(20));
  ASSERT_TRUE(ended.has_value()) << "two nodes run as web-1\n" << first.log();
  EXPECT_TRUE(WIFEXITED(*ended) && WEXITSTATUS(*ended) == 78) << *ended << "\n" << first.log();
  EXPECT_EQ(occurrences(first.log(), "stopping at once: another hub node runs as 'web-1' on this database: it took "
                                     "the name while this node's connection to the database was lost (a restart or "
                                     "failover of the database); this node runs and records nothing more, and the "
                                     "jobs it was running are run again by that node: give each node its own "
                                     "runner.node"),
            1u)
      << first.log();
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM attempts"), 1) << "the first node recorded its attempt too";
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'"), 1);

  // The second node runs on alone.
  ASSERT_EQ(deliver(second, 2), 200) << second.log();
  EXPECT_TRUE(succeeded(db, 2)) << second.log();
  EXPECT_EQ(sink.count(), 3u) << "the first node's attempt, the second's of the same job, and the next order's";
}

TEST(Cluster, ANodeWhoseNameAnotherTookAnswersTheWebhookItIsReadingBeforeItEnds) {
  PostgresServer server;  // of this test's own: it restarts
  PostgresSchema db(server);
  HubRole role(db);
  Sink sink;
  HubProcess first("cluster-answers-first", cluster_config(sink, "web-1")),
      second("cluster-answers-second", cluster_config(sink, "web-1"));
  first.use_postgresql(role.conninfo());
  second.use_postgresql(db.conninfo());
  first.start();
  ASSERT_EQ(deliver(first, 1), 200) << first.log();

  // The database restarts, and a second node started under the first's name holds it before the
  // first can connect again.
  role.login(false);
  server.pause();
  server.resume();
  second.start();

  // A cart is sending the first node a webhook: its headers and half its body are in.
  std::string body = thrivecart::order_success(kSecret, "500002", {{"product", "12", "Course", 4995}});
  std::string request = "POST /hooks/thrivecart HTTP/1.1\r\nHost: x\r\nContent-Type: "
                        "application/x-www-form-urlencoded\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\n\r\n" + body;
  std::size_t half = request.size() - body.size() / 2;
  Poco::Net::StreamSocket cart(Poco::Net::SocketAddress("127.0.0.1", first.port()));
  cart.setReceiveTimeout(Poco::Timespan(20, 0));
  auto send = [&](std::size_t from, std::size_t to) {
    while (from < to) from += static_cast<std::size_t>(cart.sendBytes(request.data() + from, static_cast<int>(to - from)));
  };
  send(0, half);

  // The first node connects again and finds its name taken: it answers that webhook (storing
  // nothing) before it ends.
  role.login(true);
  ASSERT_TRUE(eventually([&] { return first.log().find("stopping at once") != std::string::npos; })) << first.log();
  std::string answer;
  try {
    send(half, request.size());
    char buffer[4096];
    for (int n; (n = cart.receiveBytes(buffer, sizeof buffer)) > 0;) answer.append(buffer, static_cast<std::size_t>(n));
  } catch (const Poco::Exception &e) {
    ADD_FAILURE() << "the node ended without answering: " << e.displayText();
  }
  EXPECT_EQ(answer.compare(0, 12, "HTTP/1.1 503"), 0) << answer << "\n" << first.log();
  EXPECT_NE(answer.find("please retry"), std::string::npos) << answer;
  std::optional<int> ended = first.ended(std::chrono::seconds(20));
  ASSERT_TRUE(ended.has_value()) << first.log();
  EXPECT_TRUE(WIFEXITED(*ended) && WEXITSTATUS(*ended) == 78) << *ended << "\n" << first.log();

  const std::string stored = "SELECT COUNT(*) FROM events WHERE order_id = ";
  EXPECT_EQ(db.scalar(stored + "'500002'"), 0);

  // The cart sends it again, to the second node, which stores it as the first order.
  ASSERT_EQ(deliver(second, 2), 200) << second.log();
  EXPECT_EQ(db.scalar(stored + "'500002'"), db.scalar(stored + "'500001'"));
}

TEST(Cluster, ANodeBackFromANetworkCutEndsItsOwnSessionThatStillHoldsItsNameAndRunsOn) {
  PostgresSchema db;
  PostgresProxy network(db.conninfo());
  Sink sink;
  HubProcess hub("cluster-cut", cluster_config(sink, "web-1"));
  hub.use_postgresql(network.through(db.conninfo()));
  hub.start();
  ASSERT_EQ(deliver(hub, 1), 200) << hub.log();
  ASSERT_TRUE(succeeded(db, 1)) << hub.log();
  const std::string holder = name_holder(db);
  long long before = db.scalar(holder);
  ASSERT_GT(before, 0) << "no session holds the node's name";

  // The network between the node and the database fails and heals before the server notices:
  // the node's sessions there, the one holding its name among them, live on.
  network.cut();
  auto stored = [&](int order) {
    try {
      return deliver(hub, order) == 200;
    } catch (const std::exception &) {
      return false;  // the hub has ended
    }
  };
  ASSERT_TRUE(eventually([&] { return stored(2); })) << hub.log();
  EXPECT_FALSE(hub.ended(std::chrono::milliseconds(0)).has_value()) << hub.log();
  ASSERT_TRUE(succeeded(db, 2)) << hub.log();
  EXPECT_EQ(sink.count(), 2u);
  long long after = db.scalar(holder);
  EXPECT_GT(after, 0) << "no session holds the node's name";
  EXPECT_NE(after, before) << "the name is still held by the session from before the cut";
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = " + std::to_string(before)), 0)
      << "the session from before the cut was not ended";
  EXPECT_EQ(hub.log().find("stopping at once"), std::string::npos) << hub.log();
}

TEST(Cluster, ANodeStartedAgainEndsItsPreviousProcessSessionThatStillHoldsItsNameAndNoOtherNodes) {
  PostgresSchema db;
  PostgresProxy network(db.conninfo());
  Sink sink;
  HubProcess first("cluster-again-first", cluster_config(sink, "web-1")),
      second("cluster-again-second", cluster_config(sink, "web-1")),
      elsewhere("cluster-again-elsewhere", cluster_config(sink, "web-1"));
  for (HubProcess *node : {&first, &second, &elsewhere}) node->use_postgresql(network.through(db.conninfo()));
  first.start();
  ASSERT_EQ(deliver(first, 1), 200) << first.log();
  ASSERT_TRUE(succeeded(db, 1)) << first.log();
  const std::string holder = name_holder(db);
  long long before = db.scalar(holder);
  ASSERT_GT(before, 0) << "no session holds the node's name";

  // The network between the node and the database fails, and the node crashes: the server keeps
  // its sessions, the one holding its name among them, until its keepalives give up.
  network.cut();
  first.kill9();
  ASSERT_EQ(db.scalar(holder), before);

  // Had that process run on another machine (as its row says now), it might run still: a node
  // started under its name does not end its session, and exits.
  std::string machine = db.query("SELECT machine FROM nodes WHERE name = 'web-1'").at(0).at(0);
  ASSERT_FALSE(machine.empty()) << "the name's row does not say where its process runs";
  db.exec("UPDATE nodes SET machine = 'another machine' WHERE name = 'web-1'");
  auto [code, out] = elsewhere.run({"serve", "--config", elsewhere.config_path()});
  EXPECT_EQ(code, 78) << out;
  EXPECT_NE(out.find("cannot start: another hub node runs as 'web-1' on this database"), std::string::npos) << out;
  EXPECT_EQ(db.scalar(holder), before) << "the session of a process elsewhere was ended";

  // On this machine, where that process runs no more, the node started again (as systemd does after
  // a crash) ends its session, takes the name and runs.
  db.exec("UPDATE nodes SET machine = '" + machine + "' WHERE name = 'web-1'");
  ASSERT_NO_THROW(second.start()) << "the previous process's session kept the name";
  ASSERT_EQ(deliver(second, 2), 200) << second.log();
  ASSERT_TRUE(succeeded(db, 2)) << second.log();
  EXPECT_EQ(sink.count(), 2u);
  long long after = db.scalar(holder);
  EXPECT_GT(after, 0) << "no session holds the node's name";
  EXPECT_NE(after, before);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = " + std::to_string(before)), 0)
      << "the previous process's session was not ended";

  // A node started under the name while that one runs, on this machine, is refused and ends none of its sessions.
  auto [again, said] = elsewhere.run({"serve", "--config", elsewhere.config_path()});
  EXPECT_EQ(again, 78) << said;
  EXPECT_NE(said.find("cannot start: another hub node runs as 'web-1' on this database"), std::string::npos) << said;
  EXPECT_EQ(db.scalar(holder), after) << "the running node's session was ended";
  ASSERT_EQ(deliver(second, 3), 200) << "the running node runs on\n" << second.log();
}

TEST(Cluster, ANodeBackFromADatabaseRestartBeforeAnotherKeepsItsShareOfTheRateBudgets) {
  PostgresServer server;  // of this test's own: it restarts
  PostgresSchema db(server);
  HubRole role(db);
  Sink sink;
  HubProcess slow("cluster-count-slow", cluster_config(sink, "node-slow")),
      quick("cluster-count-quick", cluster_config(sink, "node-quick"));
  slow.use_postgresql(role.conninfo());
  quick.use_postgresql(db.conninfo());
  slow.start();
  quick.start();
  for (HubProcess *node : {&slow, &quick})
    ASSERT_TRUE(eventually([&] { return node->log().find("2 node(s) share this database") != std::string::npos; },
                           std::chrono::seconds(15)))
        << node->log();

  // The database restarts; each node's count fails meanwhile. Node quick is back first and counts
  // while node slow still cannot connect.
  const std::string failed = "counting the nodes that share the database failed",
                    again = "counting the nodes that share the database works again";
  role.login(false);
  server.pause();
  for (HubProcess *node : {&slow, &quick})
    ASSERT_TRUE(eventually([&] { return node->log().find(failed) != std::string::npos; })) << node->log();
  server.resume();
  ASSERT_TRUE(eventually([&] { return quick.log().find(again) != std::string::npos; })) << quick.log();
  role.login(true);
  ASSERT_TRUE(eventually([&] { return slow.log().find(again) != std::string::npos; })) << slow.log();

  // Node quick kept its half of each rate budget meanwhile.
  EXPECT_EQ(quick.log().find("1 node(s) share this database"), std::string::npos) << quick.log();
  EXPECT_EQ(occurrences(quick.log(), "node(s) share this database"), 1u) << quick.log();
}
