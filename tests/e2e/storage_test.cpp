// The embedded store when its disk misbehaves: a full disk is simulated with
// the hub's file size limit (RLIMIT_FSIZE), lowered to the size of the
// database's log while the hub runs, so that the next write fails as it
// would on a full disk (EFBIG for ENOSPC), and lifted again.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

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

std::size_t occurrences(const std::string &text, const std::string &part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
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
  ASSERT_EQ(deliver(hub, 1).status, 200) << hub.log();
  ASSERT_TRUE(sink.wait_for(1)) << hub.log();
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 1; }));

  fill_the_disk(hub);
  for (int order = 2; order <= 6; ++order) {
    HttpResult refused = deliver(hub, order);
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_NE(refused.body.find("cannot write to its store"), std::string::npos) << refused.body;
  }
  HttpResult ready = http("GET", hub.port(), "/readyz");
  EXPECT_EQ(ready.status, 503) << "a load balancer should send the webhooks elsewhere meanwhile";
  EXPECT_NE(ready.body.find("cannot write to " + hub.db_path()), std::string::npos) << ready.body;
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
  ASSERT_TRUE(eventually([&] { return hub.log().find("claiming jobs failed") != std::string::npos; })) << hub.log();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::string log = hub.log();
  EXPECT_NE(log.find("recording 1 attempt(s) failed (their jobs run again once their leases end): cannot write to " +
                     hub.db_path()),
            std::string::npos)
      << log;
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
