// Poll sources in the store (cursor, due time, lease between nodes, events and
// cursor in one transaction) and the `every:` key of a source in hub.yaml.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/config.hpp"
#include "store/store.hpp"
#include "store_backends.hpp"

using namespace cartwire;
using store::PollClaim;
using Json = sdk::Json;

namespace {

class PollStore : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { open(); }
  void TearDown() override { store_.reset(); }
  void open() {
    store_.reset();
    store_ = backend_.open();
  }

  static std::vector<store::NewEvent> changes(std::initializer_list<const char *> keys) {
    std::vector<store::NewEvent> out;
    for (const char *key : keys) {
      store::NewEvent e;
      e.event = {{"type", "ghl.contact.changed"}, {"source", "crm"}, {"dedupe_key", key},
                 {"occurred_at", "2026-01-15T10:00:00.000Z"}};
      e.jobs.push_back({"contact-out", "hook", "post", Json::object(), "", "", 0});
      out.push_back(std::move(e));
    }
    return out;
  }

  cartwire::testing::StoreBackend backend_{GetParam()};
  std::unique_ptr<store::Store> store_;
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(On, PollStore, cartwire::testing::kStoreBackends, [](const auto &info) { return info.param; });

TEST_P(PollStore, TheFirstClaimHasNoCursorAndACommitStoresEventsWithTheNextCursor) {
  PollClaim first = store_->claim_poll("crm", "node-a", 1000, 60000);
  ASSERT_TRUE(first.claimed);
  EXPECT_TRUE(first.cursor.is_null());
  EXPECT_EQ(first.failures, 0);

  auto batch = changes({"c1@t1", "c2@t1"});
  auto stored = store_->commit_poll("crm", "node-a", batch, {{"updated_after", "t1"}}, 1200, 1000);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_FALSE(stored[0].duplicate);
  EXPECT_EQ(stored[1].jobs, 1u);
  EXPECT_EQ(store_->count("events"), 2);
  EXPECT_EQ(store_->count("jobs"), 2);

  // Not due before next_at, for any node.
  PollClaim early = store_->claim_poll("crm", "node-b", 1100, 60000);
  EXPECT_FALSE(early.claimed);
  EXPECT_EQ(early.next_at, 1200);
  PollClaim due = store_->claim_poll("crm", "node-b", 1200, 60000);
  ASSERT_TRUE(due.claimed);
  EXPECT_EQ(due.cursor, (Json{{"updated_after", "t1"}}));
}

TEST_P(PollStore, ARepeatedPollAddsNoEventTwice) {
  ASSERT_TRUE(store_->claim_poll("crm", "node-a", 1000, 60000).claimed);
  auto batch = changes({"c1@t1"});
  store_->commit_poll("crm", "node-a", batch, {{"updated_after", "t1"}}, 1000, 1000);
  ASSERT_TRUE(store_->claim_poll("crm", "node-a", 1000, 60000).claimed);
  auto again = changes({"c1@t1", "c1@t2"});
  auto stored = store_->commit_poll("crm", "node-a", again, {{"updated_after", "t2"}}, 1000, 1000);
  EXPECT_TRUE(stored[0].duplicate);
  EXPECT_EQ(stored[0].jobs, 0u);
  EXPECT_FALSE(stored[1].duplicate);
  EXPECT_EQ(store_->count("events"), 2);
  EXPECT_EQ(store_->count("jobs"), 2);
}

TEST_P(PollStore, OneNodeAtATimeHoldsThePollUntilItsLeaseEnds) {
  ASSERT_TRUE(store_->claim_poll("crm", "node-a", 1000, 5000).claimed);
  PollClaim other = store_->claim_poll("crm", "node-b", 2000, 5000);
  EXPECT_FALSE(other.claimed);
  EXPECT_EQ(other.next_at, 6000);  // when node-a's lease runs out
  // node-a died: after its lease, node-b takes over from the stored cursor.
  PollClaim taken = store_->claim_poll("crm", "node-b", 6001, 5000);
  ASSERT_TRUE(taken.claimed);
  // node-a's late commit stores nothing: not its lease any more.
  auto late = changes({"c9@t9"});
  EXPECT_THROW(store_->commit_poll("crm", "node-a", late, {{"updated_after", "t9"}}, 7000, 6002), std::runtime_error);
  EXPECT_EQ(store_->count("events"), 0);
  auto batch = changes({"c1@t1"});
  store_->commit_poll("crm", "node-b", batch, {{"updated_after", "t1"}}, 7000, 6002);
  EXPECT_EQ(store_->count("events"), 1);
}

TEST_P(PollStore, TheHolderExtendsItsLeaseWhileItPolls) {
  ASSERT_TRUE(store_->claim_poll("crm", "node-a", 1000, 5000).claimed);
  store_->renew_poll("crm", "node-a", 9000);
  PollClaim other = store_->claim_poll("crm", "node-b", 7000, 5000);
  EXPECT_FALSE(other.claimed);
  EXPECT_EQ(other.next_at, 9000);
  store_->renew_poll("crm", "node-b", 20000);  // not its lease: nothing changes
  ASSERT_TRUE(store_->claim_poll("crm", "node-b", 9001, 5000).claimed);
  store_->renew_poll("crm", "node-a", 30000);  // a's lease is b's now
  auto late = changes({"c9@t9"});
  EXPECT_THROW(store_->commit_poll("crm", "node-a", late, {{"updated_after", "t9"}}, 9500, 9002), std::runtime_error);
  auto batch = changes({"c1@t1"});
  EXPECT_EQ(store_->commit_poll("crm", "node-b", batch, {{"updated_after", "t1"}}, 9500, 9002).size(), 1u);
}

TEST_P(PollStore, TheSameNodeResumesItsOwnLeaseAfterARestart) {
  ASSERT_TRUE(store_->claim_poll("crm", "node-a", 1000, 60000).claimed);
  store_.reset();  // killed while polling
  open();
  EXPECT_TRUE(store_->claim_poll("crm", "node-a", 1500, 60000).claimed);
}

TEST_P(PollStore, FailuresCountUpKeepTheCursorAndResetOnSuccess) {
  ASSERT_TRUE(store_->claim_poll("crm", "node-a", 1000, 60000).claimed);
  auto none = changes({});
  store_->commit_poll("crm", "node-a", none, {{"updated_after", "t1"}}, 1000, 1000);
  for (int i = 0; i < 2; ++i) {
    PollClaim c = store_->claim_poll("crm", "node-a", 2000 + i, 60000);
    ASSERT_TRUE(c.claimed);
    EXPECT_EQ(c.failures, i);
    store_->fail_poll("crm", "node-a", "HTTP 503", 2000 + i, 2000 + i);
  }
  PollClaim c = store_->claim_poll("crm", "node-a", 3000, 60000);
  ASSERT_TRUE(c.claimed);
  EXPECT_EQ(c.failures, 2);
  EXPECT_EQ(c.cursor, (Json{{"updated_after", "t1"}}));
  store_->commit_poll("crm", "node-a", none, {{"updated_after", "t2"}}, 3000, 3000);
  EXPECT_EQ(store_->claim_poll("crm", "node-a", 3000, 60000).failures, 0);
}

TEST_P(PollStore, TheStatusShowsTheLastPollItsFailuresAndTheNodePollingNow) {
  EXPECT_FALSE(store_->poll_status("crm", 500)) << "never polled";
  ASSERT_TRUE(store_->claim_poll("crm", "node-a", 1000, 60000).claimed);
  auto polling = store_->poll_status("crm", 1500);
  ASSERT_TRUE(polling);
  EXPECT_EQ(polling->polling_node, "node-a");
  EXPECT_FALSE(polling->polled_at);
  EXPECT_EQ(polling->failures, 0);

  store_->fail_poll("crm", "node-a", "HTTP 503", 5000, 2000);
  auto failed = store_->poll_status("crm", 2500);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->polling_node, "");
  EXPECT_EQ(failed->polled_at, 2000);
  EXPECT_EQ(failed->next_at, 5000);
  EXPECT_EQ(failed->failures, 1);
  EXPECT_EQ(failed->last_error, "HTTP 503");

  ASSERT_TRUE(store_->claim_poll("crm", "node-b", 5000, 60000).claimed);
  auto none = changes({});
  store_->commit_poll("crm", "node-b", none, {{"updated_after", "t1"}}, 9000, 6000);
  auto recovered = store_->poll_status("crm", 6500);
  ASSERT_TRUE(recovered);
  EXPECT_EQ(recovered->polled_at, 6000);
  EXPECT_EQ(recovered->next_at, 9000);
  EXPECT_EQ(recovered->failures, 0);
  EXPECT_EQ(recovered->last_error, "");

  // A node that died polling names no node once its lease ended.
  ASSERT_TRUE(store_->claim_poll("crm", "node-a", 9000, 1000).claimed);
  EXPECT_EQ(store_->poll_status("crm", 9500)->polling_node, "node-a");
  EXPECT_EQ(store_->poll_status("crm", 10001)->polling_node, "");
}

TEST_P(PollStore, ASourceLeftOutIsNotClaimedWithItsSettingsByAnyNodeUntilItsNodeStartsAgain) {
  // node-a's poll stopped it; started again, it leaves the source out, and lets go of the lease it held.
  ASSERT_TRUE(store_->claim_poll("crm", "node-a", 1000, 60000, "settings-1").claimed);
  store_->leave_out_poll("crm", "settings-1", "node-a", "its connector stopped node 'node-a'", 2000);
  auto status = store_->poll_status("crm", 2000);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->polling_node, "");
  EXPECT_EQ(status->left_out, "its connector stopped node 'node-a'");
  EXPECT_EQ(status->left_out_settings, "settings-1");

  // No node claims it with those settings, node-a's own included; with others (changed), one does.
  for (const char *node : {"node-b", "node-a"}) {
    PollClaim refused = store_->claim_poll("crm", node, 3000, 60000, "settings-1");
    EXPECT_FALSE(refused.claimed) << node;
    EXPECT_EQ(refused.left_out, "its connector stopped node 'node-a'") << node;
  }
  PollClaim changed = store_->claim_poll("crm", "node-b", 3000, 60000, "settings-2");
  EXPECT_TRUE(changed.claimed);
  EXPECT_EQ(changed.left_out, "");
  auto none = changes({});
  store_->commit_poll("crm", "node-b", none, {{"updated_after", "t1"}}, 3000, 3000);
  EXPECT_FALSE(store_->claim_poll("crm", "node-b", 4000, 60000, "settings-1").claimed) << "the mark holds still";

  // Another node's start ends none of node-a's marks on a shared store (a SQLite file is one node's, whatever its
  // name); node-a's start ends them, but those it leaves out again.
  EXPECT_EQ(store_->end_left_out_polls("node-b", {"crm"}), std::vector<std::string>{});
  EXPECT_EQ(store_->end_left_out_polls("node-a", {"crm"}), std::vector<std::string>{});
  EXPECT_FALSE(store_->claim_poll("crm", "node-b", 4000, 60000, "settings-1").claimed);
  EXPECT_EQ(store_->end_left_out_polls("node-a"), std::vector<std::string>{"crm"});
  EXPECT_EQ(store_->poll_status("crm", 4000)->left_out, "");
  EXPECT_EQ(store_->poll_status("crm", 4000)->left_out_ended_on, "node-a");
  PollClaim again = store_->claim_poll("crm", "node-b", 4000, 60000, "settings-1");
  EXPECT_TRUE(again.claimed);
  EXPECT_EQ(again.left_out, "");
  EXPECT_EQ(again.cursor, Json({{"updated_after", "t1"}})) << "polled on from where the cursor stood";
  EXPECT_EQ(store_->end_left_out_polls("node-a"), std::vector<std::string>{});
}

TEST_P(PollStore, AnOperatorEndsTheMarkOfASourceLeftOutForEveryNodeWithoutItsNodeStartingAgain) {
  ASSERT_TRUE(store_->claim_poll("crm", "node-a", 1000, 60000, "settings-1").claimed);
  auto none = changes({});
  store_->commit_poll("crm", "node-a", none, {{"updated_after", "t1"}}, 1000, 1000);
  store_->leave_out_poll("crm", "settings-1", "node-a", "its connector stopped node 'node-a'", 2000);
  EXPECT_EQ(store_->poll_status("crm", 2000)->left_out_ended_on, "");
  EXPECT_EQ(store_->end_left_out_poll("shop", "node-b"), std::nullopt) << "a source never polled has no mark";

  // Asked of node-b: node-a, which runs on without the source, reads there that the mark was ended on node-b.
  EXPECT_EQ(store_->end_left_out_poll("crm", "node-b"), std::optional<std::string>("node-a"));
  auto ended = store_->poll_status("crm", 3000);
  EXPECT_EQ(ended->left_out, "");
  EXPECT_EQ(ended->left_out_settings, "");
  EXPECT_EQ(ended->left_out_ended_on, "node-b");
  PollClaim again = store_->claim_poll("crm", "node-b", 3000, 60000, "settings-1");
  EXPECT_TRUE(again.claimed) << "another node polls it, node-a never having started again";
  EXPECT_EQ(again.left_out, "");
  EXPECT_EQ(again.cursor, Json({{"updated_after", "t1"}})) << "polled on from where the cursor stood";

  EXPECT_EQ(store_->end_left_out_poll("crm", "node-c"), std::nullopt) << "no mark is left to end";
  EXPECT_EQ(store_->end_left_out_polls("node-a"), std::vector<std::string>{}) << "nor at node-a's next start";
  EXPECT_EQ(store_->poll_status("crm", 3000)->left_out_ended_on, "node-b") << "ended there, once";

  // A new mark is not one that was ended.
  store_->leave_out_poll("crm", "settings-1", "node-a", "its connector stopped node 'node-a' again", 4000);
  EXPECT_EQ(store_->poll_status("crm", 4000)->left_out_ended_on, "");
  EXPECT_EQ(store_->end_left_out_poll("crm", "node-c"), std::optional<std::string>("node-a"));
  EXPECT_EQ(store_->poll_status("crm", 4000)->left_out_ended_on, "node-c");
}

TEST_P(PollStore, ASourceLeftOutBeforeItsFirstPollIsLeftOutAllTheSame) {
  store_->leave_out_poll("shop", "settings-1", "node-a", "why", 1000);
  EXPECT_EQ(store_->claim_poll("shop", "node-b", 1000, 60000, "settings-1").left_out, "why");
  if (backend_.sqlite()) EXPECT_EQ(store_->end_left_out_polls("node-b"), std::vector<std::string>{"shop"});
  else EXPECT_EQ(store_->end_left_out_polls("node-b"), std::vector<std::string>{});
}

TEST_P(PollStore, SourcesArePolledIndependently) {
  ASSERT_TRUE(store_->claim_poll("crm", "node-a", 1000, 60000).claimed);
  EXPECT_TRUE(store_->claim_poll("shop", "node-b", 1000, 60000).claimed);
}

namespace {

std::string write_yaml(const std::filesystem::path &dir, const std::string &yaml) {
  std::filesystem::create_directories(dir);
  std::string path = (dir / "hub.yaml").string();
  std::ofstream(path) << yaml;
  return path;
}

class PollConfig : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_ = std::filesystem::temp_directory_path() /
                               ("cw-poll-" + std::to_string(::getpid()) + "-" +
                                ::testing::UnitTest::GetInstance()->current_test_info()->name());
};

}  // namespace

TEST_F(PollConfig, SourcesTakeEveryAsTheirPollInterval) {
  config::HubConfig cfg = config::load_config(
      write_yaml(dir_, "sources:\n  crm:\n    connector: ghl\n    trigger: contacts_changed\n    every: 90s\n"));
  ASSERT_TRUE(cfg.sources.at("crm").every.has_value());
  EXPECT_EQ(cfg.sources.at("crm").every->count(), 90000);
  EXPECT_EQ(cfg.sources.at("crm").every_line.line, 5);
  config::HubConfig plain = config::load_config(write_yaml(dir_, "sources:\n  tc:\n    connector: thrivecart\n"));
  EXPECT_FALSE(plain.sources.at("tc").every.has_value());
}

TEST_F(PollConfig, AnIntervalOutOfRangeIsAnErrorWithItsLine) {
  for (const char *bad : {"50ms", "8d", "soon"}) {
    try {
      config::load_config(write_yaml(dir_, std::string("sources:\n  crm:\n    connector: ghl\n    every: ") + bad + "\n"));
      FAIL() << bad;
    } catch (const config::ConfigError &e) {
      EXPECT_NE(std::string(e.what()).find(":4: error: sources.crm.every must be a duration from 100ms to 7d"),
                std::string::npos)
          << e.what();
    }
  }
  try {
    config::load_config(write_yaml(dir_, "integrations:\n  crm:\n    connector: ghl\n    every: 5m\n"));
    FAIL();
  } catch (const config::ConfigError &e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'every' in integrations.crm"), std::string::npos) << e.what();
  }
}
