// The embedded store when its disk misbehaves: a full disk is simulated with
// the hub's file size limit (RLIMIT_FSIZE), lowered to the size of the
// database's log while the hub runs, so that the next write fails as it
// would on a full disk (EFBIG for ENOSPC), and lifted again. Then database
// files that cannot be the hub's, at serve and check, and one removed while
// the hub runs.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "../support/fake_process.hpp"
#include "../support/hub_process.hpp"
#include "../support/sink.hpp"
#include "../support/thrivecart_payloads.hpp"

using namespace cartwire::testing;

namespace {

const std::string kSecret = "storage-secret-word";

std::string config(const Sink &sink) {
  return "runner:\n  workers: 2\n  poll_interval: 100ms\n  lease: 2s\n"
         "  retry: {initial_delay: 100ms, max_delay: 500ms}\n"
         "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: " + kSecret + "}\n"
         "integrations:\n  hook:\n    connector: notifyurl\n    settings: {url: \"" + sink.url() + "\"}\n"
         "rules:\n  - {name: notify, on: order.completed, do: hook.post}\n";
}

HttpResult deliver(HubProcess &hub, int order) {
  return hub.post("/hooks/thrivecart", thrivecart::order_success(kSecret, std::to_string(700000 + order),
                                                                 {{"product", "12", "Course", 4995}}));
}

// A first order taken, delivered and its job recorded as succeeded: the store worked until now.
::testing::AssertionResult one_order_delivered(HubProcess &hub, const Sink &sink) {
  if (HttpResult taken = deliver(hub, 1); taken.status != 200)
    return ::testing::AssertionFailure() << "order 1: " << taken.status << " " << taken.body << "\n" << hub.log();
  if (!sink.wait_for(1)) return ::testing::AssertionFailure() << "order 1 was not delivered\n" << hub.log();
  if (!eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 1; }))
    return ::testing::AssertionFailure() << "order 1's job was not recorded as succeeded\n" << hub.log();
  return ::testing::AssertionSuccess();
}

// No write may make a file of the hub larger than the database's log is now: its next commit fails.
void fill_the_disk(HubProcess &hub) {
  hub.limit_file_size(std::filesystem::file_size(hub.db_path() + "-wal"));
}

}  // namespace

TEST(StorageFaults, AFullDiskRefusesWebhooksWith503AndTheHubAcceptsAgainOnceThereIsRoom) {
  Sink sink;
  HubProcess hub("storage-full", config(sink));
  hub.start();
  ASSERT_TRUE(one_order_delivered(hub, sink));

  fill_the_disk(hub);
  for (int order = 2; order <= 6; ++order) {
    HttpResult refused = deliver(hub, order);
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_NE(refused.body.find("cannot write to its store"), std::string::npos) << refused.body;
  }
  HttpResult ready = http("GET", hub.port(), "/readyz");
  EXPECT_EQ(ready.status, 503) << "a load balancer should send the webhooks elsewhere meanwhile";
  // The webhook listener is open to the internet: it tells the kind of failure, not the file.
  EXPECT_NE(ready.body.find("the hub cannot write to its store now"), std::string::npos) << ready.body;
  EXPECT_EQ(ready.body.find(hub.db_path()), std::string::npos) << ready.body;
  EXPECT_EQ(http("GET", hub.port(), "/healthz").status, 200) << "the process itself is alive";
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events"), 2) << "the order and its item; nothing of a refused webhook";
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs"), 1);
  // The log says why, with the file and the system's reason, once: not once per refused webhook.
  std::string log = hub.log();
  EXPECT_EQ(occurrences(log, "storing events failed"), 1u) << log;
  EXPECT_NE(log.find("cannot write to " + hub.db_path() + ": disk I/O error; check its disk"), std::string::npos)
      << log;

  hub.limit_file_size(RLIM_INFINITY);
  EXPECT_TRUE(eventually([&] { return http("GET", hub.port(), "/readyz").status == 200; })) << hub.log();
  for (int order = 2; order <= 6; ++order) EXPECT_EQ(deliver(hub, order).status, 200) << hub.log();
  EXPECT_TRUE(sink.wait_for(6)) << hub.log();
  EXPECT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 6; }))
      << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE type = 'order.completed'"), 6);
  log = hub.log();
  EXPECT_EQ(occurrences(log, "storing events succeeds again (4 more refused since the last line about it)"), 1u)
      << log;
}

TEST(StorageFaults, AnAttemptThatEndsWhileTheDiskIsFullIsNotLostTheJobRunsAgainOnceThereIsRoom) {
  Sink sink;
  // The remote takes a second: the disk fills while the attempt is under way.
  sink.respond_with([](const Recorded &) {
    Reply reply;
    reply.delay = std::chrono::seconds(1);
    return reply;
  });
  HubProcess hub("storage-attempt", config(sink));
  hub.start();
  ASSERT_EQ(deliver(hub, 1).status, 200) << hub.log();
  ASSERT_TRUE(sink.wait_for(1)) << hub.log();
  fill_the_disk(hub);

  // The attempt cannot be recorded: tried again while the job's 2 s lease holds, then given up;
  // the job is not marked done, and the workers' claims meanwhile fail without a flood of lines.
  const std::string given_up =
      "recording 1 attempt(s) failed (their jobs run again once their leases end): cannot write to " + hub.db_path();
  ASSERT_TRUE(eventually([&] { return hub.log().find("claiming jobs failed") != std::string::npos; })) << hub.log();
  EXPECT_TRUE(eventually([&] { return hub.log().find(given_up) != std::string::npos; })) << hub.log();
  // A flood is lines that are not written, which nothing else tells of: ten of the 100 ms claims fail meanwhile.
  constexpr std::chrono::milliseconds kFloodWindow{1000};
  std::this_thread::sleep_for(kFloodWindow);
  std::string log = hub.log();
  EXPECT_EQ(occurrences(log, "claiming jobs failed"), 1u) << log;
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'running'"), 1);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts"), 0);
  EXPECT_EQ(sink.count(), 1u);

  sink.respond_with([](const Recorded &) { return Reply{}; });
  hub.limit_file_size(RLIM_INFINITY);
  EXPECT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 1; }))
      << hub.log();
  // At least once: the remote got the job again, under the same idempotency key.
  auto requests = sink.requests();
  ASSERT_EQ(requests.size(), 2u) << hub.log();
  EXPECT_EQ(requests[0].headers["webhook-id"], requests[1].headers["webhook-id"]);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts WHERE outcome = 'ok'"), 1);
}

namespace {

// `cartwire serve` and `cartwire check` on a database file that cannot be the hub's: both say so
// in one line that names the file and what to do, and exit with an error, without a crash.
void expect_refused(HubProcess &hub, const std::string &why) {
  auto [serve_code, served] = hub.run({"serve", "--config", hub.config_path()}, std::chrono::seconds(30));
  EXPECT_EQ(serve_code, 73) << served;
  EXPECT_NE(served.find("Fatal cartwire: cannot open the store at " + hub.db_path() + ": " + why), std::string::npos)
      << served;
  EXPECT_EQ(occurrences(served, " Fatal "), 1u) << served;
  auto [check_code, checked] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(check_code, 78) << checked;
  EXPECT_NE(checked.find("error: storage.path " + hub.db_path() + " cannot be the hub's store: " + why),
            std::string::npos)
      << checked;
}

}  // namespace

TEST(StorageFaults, APollThatCannotBeStoredMakesTheHubNotReadyUntilThereIsRoom) {
  // A hub that only polls (HighLevel's contacts, from tests/fakes/ghl.py): no webhook meets the full disk.
  FakeProcess fake("ghl");
  Sink sink;
  const std::string token = "pit-7d1c9e4b-2f3a-4c5d-8e9f-0a1b2c3d4e5f", location = "ve9EPM428h8vShlRW1KT";
  auto change_contact = [&](const std::string &email) {
    return http("POST", fake.port(), "/contacts/upsert",
                nlohmann::json{{"locationId", location}, {"email", email}, {"firstName", "Ann"}}.dump(),
                {{"Authorization", "Bearer " + token}, {"Version", "2021-07-28"}, {"Content-Type", "application/json"}})
        .status;
  };
  HubProcess hub("storage-poll",
                 "runner:\n  workers: 1\n  poll_interval: 100ms\n"
                 "sources:\n  contacts:\n    connector: ghl\n    trigger: contacts_changed\n    every: 200ms\n"
                 "    settings: {token: \"" + token + "\", location_id: " + location + ", base_url: \"" + fake.url() +
                     "\"}\n"
                 "integrations:\n  hook:\n    connector: notifyurl\n    settings: {url: \"" + sink.url() + "\"}\n"
                 "rules:\n  - {name: contact-out, on: ghl.contact.changed, do: hook.post}\n");
  hub.start();
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM poll_state WHERE cursor != 'null'") == 1; }))
      << hub.log();
  ASSERT_EQ(change_contact("ann@example.com"), 200);
  ASSERT_TRUE(sink.wait_for(1)) << hub.log();
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 1; }));

  fill_the_disk(hub);
  ASSERT_EQ(change_contact("bob@example.com"), 200);
  // Before, /readyz said ready while every poll failed to be stored.
  EXPECT_TRUE(eventually([&] { return http("GET", hub.port(), "/readyz").status == 503; })) << hub.log();
  HttpResult ready = http("GET", hub.port(), "/readyz");
  EXPECT_NE(ready.body.find("the hub cannot write to its store now"), std::string::npos) << ready.body;
  EXPECT_NE(hub.log().find("cannot write to " + hub.db_path() + ": disk I/O error"), std::string::npos) << hub.log();

  hub.limit_file_size(RLIM_INFINITY);
  EXPECT_TRUE(eventually([&] { return http("GET", hub.port(), "/readyz").status == 200; })) << hub.log();
  EXPECT_TRUE(sink.wait_for(2)) << "bob's change, polled again from where the polls stood\n" << hub.log();
}

TEST(StorageFaults, AFileThatIsNotADatabaseIsRefusedWithWhatToDo) {
  Sink sink;
  HubProcess hub("storage-notadb", config(sink));
  std::ofstream(hub.db_path()) << std::string(8192, 'x');
  expect_refused(hub, "it is not a SQLite database (file is not a database); point storage.path at the hub's "
                      "database, or at a new file");
}

TEST(StorageFaults, AFolderInPlaceOfTheDatabaseIsRefusedAtOnce) {
  Sink sink;
  HubProcess hub("storage-folder", config(sink));
  std::filesystem::create_directories(hub.db_path());
  auto started = std::chrono::steady_clock::now();
  expect_refused(hub, "it is a folder, not a database file; point storage.path at a file");
  // Before, serve waited a minute and then said only "Connection attempt failed".
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
}

TEST(StorageFaults, ADatabaseOfANewerSchemaIsRefusedByServeAndCheck) {
  Sink sink;
  HubProcess hub("storage-newer", config(sink));
  hub.start();
  hub.stop();
  sqlite3 *db = nullptr;
  ASSERT_EQ(sqlite3_open(hub.db_path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations(version, applied_at) VALUES(999, 0)", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  expect_refused(hub, "the database schema (version 999) is newer than this cartwire");
  EXPECT_EQ(hub.count("SELECT MAX(version) FROM schema_migrations"), 999) << "nothing was changed";
}

TEST(StorageFaults, ADatabaseThisUserMayNotWriteIsRefusedWithWhatToDo) {
  if (::geteuid() == 0) GTEST_SKIP() << "root may write any file";
  Sink sink;
  HubProcess hub("storage-readonly", config(sink));
  hub.start();
  hub.stop();
  std::filesystem::permissions(hub.db_path(), std::filesystem::perms::owner_read);
  expect_refused(hub, "this user may read it but not write it; let the user that runs cartwire write to it");
  std::filesystem::permissions(hub.db_path(), std::filesystem::perms::none);
  expect_refused(hub, "it cannot be opened (unable to open database file (Permission denied)); let the user that "
                      "runs cartwire read and write it and its folder");
  std::filesystem::permissions(hub.db_path(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST(StorageFaults, ADatabaseRemovedWhileTheHubRunsIsNoLongerWrittenTo) {
  Sink sink;
  HubProcess hub("storage-removed", config(sink));
  hub.start();
  ASSERT_TRUE(one_order_delivered(hub, sink));

  for (const char *suffix : {"", "-wal", "-shm"}) std::filesystem::remove(hub.db_path() + suffix);
  // Before, the hub answered 200 and stored the order in the removed file, gone at the next start.
  HttpResult refused = deliver(hub, 2);
  EXPECT_EQ(refused.status, 503) << refused.body;
  HttpResult ready = http("GET", hub.port(), "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("the hub's store failed its check; the log and the console's /readyz say why"),
            std::string::npos)
      << ready.body;
  EXPECT_EQ(ready.body.find(hub.db_path()), std::string::npos) << ready.body;
  std::string log = hub.log();
  EXPECT_NE(log.find("storing events failed, webhooks are refused with 503 meanwhile: " + hub.db_path() +
                     " was removed or replaced while the hub ran"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("/fd (ls -l shows which) to other names, stop the hub, and move the copies to " + hub.db_path()),
            std::string::npos)
      << log;
  EXPECT_FALSE(std::filesystem::exists(hub.db_path())) << "nothing made a new file in its place";
  EXPECT_EQ(sink.count(), 1u);
}
