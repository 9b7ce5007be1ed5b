// The stores with the store_faults library preloaded (hub/tests/fixtures/store_faults.cpp): reading a stored
// text that holds "unreadable@" throws, as a row the hub cannot read into a job would. Each test runs on a
// SQLite file and on a PostgreSQL schema.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "store_backends.hpp"

using namespace cartwire::store;

namespace {

class StoreTestUnderFaults : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const char *preloaded = std::getenv("LD_PRELOAD");
    const char *unreadable = std::getenv("STORE_FAULTS_UNREADABLE");
    if (!preloaded || std::string(preloaded).find("store_faults") == std::string::npos || !unreadable ||
        std::string(unreadable) != "unreadable@")
      GTEST_FAIL() << "run with LD_PRELOAD naming store_faults.so and STORE_FAULTS_UNREADABLE=unreadable@, as ctest does";
    store_ = backend_.open();
  }

  // An order of `email`, with one job of integration hook.
  static NewEvent order(const std::string &key, const std::string &email) {
    NewEvent e;
    e.event = {{"type", "product.purchased"},
               {"source", "tc"},
               {"dedupe_key", key},
               {"occurred_at", "2026-01-15T10:00:00Z"},
               {"customer", {{"email", email}}}};
    e.jobs.push_back({"r", "hook", "post", {{"n", 0}}, "", "", 0});
    return e;
  }

  int64_t scalar(const std::string &sql) { return backend_.scalar(sql); }

  cartwire::testing::StoreBackend backend_{GetParam()};
  std::unique_ptr<Store> store_;
};

// Keeps what a claim tells of the rows it could not read.
struct Unread : ClaimWatch {
  struct Told {
    int64_t job;
    int attempts;
    std::string why;
  };
  std::vector<Told> told;
  void claiming(int64_t, int) noexcept override {}
  void unreadable(int64_t job, int attempts, const std::string &why) noexcept override {
    told.push_back({job, attempts, why});
  }
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(On, StoreTestUnderFaults, cartwire::testing::kStoreBackends,
                         [](const auto &info) { return info.param; });

TEST_P(StoreTestUnderFaults, AClaimLeavesOutAJobWhoseRowItCannotReadInTheQueueAndTakesTheOthers) {
  // The job that cannot be read comes first, due first.
  std::vector<NewEvent> batch = {order("k1", "unreadable@example.com"), order("k2", "bob@example.com")};
  auto accepted = store_->accept(batch, 1000);
  ASSERT_EQ(accepted.size(), 2u);
  int64_t bad = accepted[0].job_ids.at(0), good = accepted[1].job_ids.at(0);

  Unread watch;
  std::vector<ClaimedJob> claimed;
  ASSERT_NO_THROW(claimed = store_->claim("node-a", 1000, 60000, 10, {}, {}, &watch));
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, good);
  EXPECT_EQ(claimed[0].event["customer"]["email"], "bob@example.com");
  ASSERT_EQ(watch.told.size(), 1u);
  EXPECT_EQ(watch.told[0].job, bad);
  EXPECT_EQ(watch.told[0].attempts, 0);
  EXPECT_EQ(watch.told[0].why, "the row holds an unreadable text");
  // Not held under a lease: queued as it was, due as it was, and every claim tries it again.
  const std::string as_it_was = "SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND lease_owner IS NULL AND "
                                "lease_until IS NULL AND attempts = 0 AND due_at = 1000 AND id = " +
                                std::to_string(bad);
  EXPECT_EQ(scalar(as_it_was), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM jobs WHERE state = 'running' AND lease_owner = 'node-a' AND id = " +
                   std::to_string(good)),
            1);
  Unread again;
  EXPECT_TRUE(store_->claim("node-b", 1001, 60000, 10, {}, {}, &again).empty());
  ASSERT_EQ(again.told.size(), 1u);
  EXPECT_EQ(again.told[0].job, bad);
  EXPECT_EQ(scalar(as_it_was), 1);

  // Failed as its claim found it, with the reason on record (what the runner does after claims in a row).
  AttemptRecord failing;
  failing.job_id = bad;
  failing.started_at = 1002;
  failing.outcome = "permanent";
  failing.error = "the hub could not read this job's stored row at 3 claims in a row (" + again.told[0].why + ")";
  failing.node = "node-b";
  EXPECT_TRUE(store_->fail_claimed(failing, again.told[0].attempts, 1002));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM jobs WHERE state = 'failed' AND attempts = 1 AND id = " + std::to_string(bad)),
            1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM attempts WHERE number = 1 AND outcome = 'permanent' AND node = 'node-b' AND "
                   "error LIKE '%(the row holds an unreadable text)' AND job_id = " + std::to_string(bad)),
            1);
  Unread none;
  EXPECT_TRUE(store_->claim("node-b", 1003, 60000, 10, {}, {}, &none).empty());
  EXPECT_TRUE(none.told.empty());
}
