#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <regex>
#include <set>
#include <thread>

#include "store/migrations.hpp"
#include "store/postgres_module.hpp"
#include "store/search_sql.hpp"
#include "store/store.hpp"
#include "postgres_proxy.hpp"
#include "store_backends.hpp"

using namespace cartwire::store;
using cartwire::sdk::Json;

namespace {

// `node`'s attempt at `job`, which it claimed: the job's next, under the lease its claim took.
AttemptRecord attempt(const ClaimedJob &job, const std::string &node, int64_t started_at, int64_t duration_ms,
                      const std::string &outcome, const std::string &error = "") {
  return {job.id, job.attempts + 1, started_at, duration_ms, outcome, error, Json::array(), job.due_at, node,
          job.leased_at};
}

// The steps of SQLite's plan of `q` on the database at `path` (EXPLAIN QUERY PLAN's details).
std::vector<std::string> sqlite_plan(const std::string &path, const SqlQuery &q) {
  sqlite3 *db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt *stmt = nullptr;
  std::vector<std::string> steps;
  if (sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + q.sql).c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
    for (std::size_t i = 0; i < q.params.size(); ++i) {
      int at = static_cast<int>(i) + 1;
      if (q.params[i].is_text) sqlite3_bind_text(stmt, at, q.params[i].text.c_str(), -1, SQLITE_TRANSIENT);
      else sqlite3_bind_int64(stmt, at, q.params[i].number);
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) steps.push_back(reinterpret_cast<const char *>(sqlite3_column_text(stmt, 3)));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return steps;
}

// The number a counting statement gives, run on the SQLite file at `path`.
int64_t sqlite_count(const std::string &path, const SqlQuery &q) {
  sqlite3 *db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt *stmt = nullptr;
  int64_t n = -1;
  if (sqlite3_prepare_v2(db, q.sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
    for (std::size_t i = 0; i < q.params.size(); ++i) {
      int at = static_cast<int>(i) + 1;
      if (q.params[i].is_text) sqlite3_bind_text(stmt, at, q.params[i].text.c_str(), -1, SQLITE_TRANSIENT);
      else sqlite3_bind_int64(stmt, at, q.params[i].number);
    }
    if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { store_ = backend_.open(); }
  void TearDown() override { store_.reset(); }

  NewEvent event(const std::string &key, int jobs, const std::string &ordering = "") {
    NewEvent e;
    e.event = {{"type", "product.purchased"},
               {"source", "tc"},
               {"dedupe_key", key},
               {"occurred_at", "2026-01-15T10:00:00Z"},
               {"customer", {{"email", "Ann@Example.com"}}},
               {"order", {{"id", "1514394"}}},
               {"item", {{"reference", "product-12"}}}};
    for (int i = 0; i < jobs; ++i) e.jobs.push_back({"r" + std::to_string(i), "hook", "post", {{"n", i}}, ordering, "", 0});
    return e;
  }

  int64_t scalar(const std::string &sql) { return backend_.scalar(sql); }
  void exec(const std::string &sql) { ASSERT_NO_THROW(backend_.exec(sql)); }
  /** The store as a restarted process opens it. */
  void reopen() {
    store_.reset();
    store_ = backend_.open();
  }
  /** The ids of the jobs a search finds, in its order. */
  std::vector<int64_t> job_ids(const Search &q) {
    std::vector<int64_t> ids;
    for (auto &row : store_->search_jobs(q)) ids.push_back(row.job.id);
    return ids;
  }
  /** The ids of the events a search finds, in its order. */
  std::vector<int64_t> event_ids(const Search &q) {
    std::vector<int64_t> ids;
    for (auto &row : store_->search_events(q)) ids.push_back(row.id);
    return ids;
  }

  cartwire::testing::StoreBackend backend_{GetParam()};
  std::unique_ptr<Store> store_;
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(On, StoreTest, cartwire::testing::kStoreBackends,
                         [](const auto &info) { return info.param; });

TEST_P(StoreTest, AcceptStoresEventsAndJobsOnceByDedupeKey) {
  std::vector<NewEvent> batch = {event("k1", 2), event("k2", 1)};
  auto first = store_->accept(batch, 1000);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_FALSE(first[0].duplicate);
  EXPECT_EQ(first[0].jobs, 2u);
  EXPECT_EQ(batch[0].event["id"], first[0].event_id);
  std::vector<NewEvent> again = {event("k1", 2)};
  auto second = store_->accept(again, 2000);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_TRUE(second[0].duplicate);
  EXPECT_EQ(second[0].event_id, first[0].event_id);
  EXPECT_EQ(store_->count("events"), 2);
  EXPECT_EQ(store_->count("jobs"), 3);
  auto stored = store_->event(first[0].event_id);
  ASSERT_TRUE(stored);
  EXPECT_EQ((*stored)["dedupe_key"], "k1");
}

TEST_P(StoreTest, AnAcceptWaitsForAnotherProcessWritingRatherThanFail) {
  if (!backend_.sqlite()) GTEST_SKIP() << "PostgreSQL's transactions wait for each other's rows";
  std::vector<NewEvent> first = {event("k1", 1)};
  store_->accept(first, 1000);
  // Another process on the file (cartwire import beside cartwire serve) holds the write lock and commits
  // while this store's accept has begun: the accept waits for it, as the busy timeout says, and then writes.
  sqlite3 *other = nullptr;
  ASSERT_EQ(sqlite3_open(backend_.sqlite_path().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other,
                         "BEGIN IMMEDIATE; INSERT INTO poll_state(source, cursor, next_at, failures, updated_at) "
                         "VALUES('other', 'null', 0, 0, 0)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  std::thread commit([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  });
  std::vector<NewEvent> second = {event("k1", 1), event("k2", 1)};
  std::vector<Accepted> accepted;
  EXPECT_NO_THROW(accepted = store_->accept(second, 2000));
  commit.join();
  sqlite3_close(other);
  ASSERT_EQ(accepted.size(), 2u);
  EXPECT_TRUE(accepted[0].duplicate);
  EXPECT_FALSE(accepted[1].duplicate);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM events"), 2);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM poll_state"), 1);
}

TEST_P(StoreTest, ThePayloadOfSeveralEventsIsStoredOnceAndReadBackWithEach) {
  const Json raw = {{"order_id", "1514394"}, {"items", {"a", "b"}}};
  std::vector<NewEvent> batch = {event("o", 1), event("o:a", 1), event("o:b", 0), event("other", 1)};
  for (int i = 0; i < 3; ++i) batch[i].event["raw"] = raw;
  batch[3].event["raw"] = {{"order_id", "2"}};
  auto stored = store_->accept(batch, 1000);
  EXPECT_EQ(batch[1].event["raw"], raw) << "the caller's events keep their raw";
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM payloads"), 2);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM events WHERE body LIKE '%\"raw\"%'"), 0);
  EXPECT_EQ(scalar("SELECT COUNT(DISTINCT payload_id) FROM events WHERE dedupe_key IN ('o', 'o:a', 'o:b')"), 1);
  for (int i = 0; i < 4; ++i) {
    auto e = store_->event(stored[i].event_id);
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)["raw"], batch[i].event["raw"]) << i;
    EXPECT_EQ((*e)["dedupe_key"], batch[i].event["dedupe_key"]);
  }
  auto claimed = store_->claim("node-a", 1000, 60000, 10);
  ASSERT_EQ(claimed.size(), 3u);
  for (auto &j : claimed) EXPECT_EQ(j.event["raw"], store_->event(j.event_id)->at("raw"));

  // A redelivery is all duplicates and leaves no payload behind.
  std::vector<NewEvent> again = {event("o", 1), event("o:a", 1)};
  for (auto &e : again) e.event["raw"] = raw;
  store_->accept(again, 2000);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM payloads"), 2);
  // A redelivery with one event more: the duplicate adds nothing, the new
  // event made of the same payload still gets it.
  std::vector<NewEvent> grown = {event("o", 1), event("o:c", 1)};
  for (auto &e : grown) e.event["raw"] = raw;
  auto more = store_->accept(grown, 2500);
  ASSERT_EQ(more.size(), 2u);
  EXPECT_TRUE(more[0].duplicate);
  EXPECT_FALSE(grown[0].event.contains("id")) << "a duplicate is not numbered";
  EXPECT_FALSE(more[1].duplicate);
  EXPECT_EQ(grown[1].event["id"], more[1].event_id);
  EXPECT_EQ(store_->event(more[1].event_id)->at("raw"), raw);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM payloads"), 3);
  // An event without raw has no payload.
  std::vector<NewEvent> bare = {event("bare", 0)};
  auto plain = store_->accept(bare, 3000);
  EXPECT_FALSE(store_->event(plain[0].event_id)->contains("raw"));
}

TEST_P(StoreTest, ARawTheBatchSharesIsStoredOnceAndLeftOutOfTheEvents) {
  const Json order = {{"order_id", "1514394"}, {"items", {"a", "b"}}};
  const Json other = order;  // equal, but another payload: stored apart
  std::vector<NewEvent> batch = {event("o", 1), event("o:a", 1), event("o:b", 0), event("next", 1)};
  for (int i = 0; i < 3; ++i) batch[i].raw = &order;
  batch[3].raw = &other;
  auto stored = store_->accept(batch, 1000);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM payloads"), 2);
  EXPECT_EQ(scalar("SELECT COUNT(DISTINCT payload_id) FROM events WHERE dedupe_key IN ('o', 'o:a', 'o:b')"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM events WHERE body LIKE '%\"raw\"%'"), 0);
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(batch[i].event.contains("raw")) << "the shared raw stays with the caller";
    auto e = store_->event(stored[i].event_id);
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)["raw"], order) << i;
  }
  auto claimed = store_->claim("node-a", 1000, 60000, 10);
  ASSERT_EQ(claimed.size(), 3u);
  for (auto &j : claimed) EXPECT_EQ(j.event["raw"], order);
}

TEST_P(StoreTest, ConcurrentAcceptsAllReturnCommitted) {
  // Many writers at once share group commits; each returns once its own work
  // is committed, and none is left waiting for a wake-up.
  constexpr int kThreads = 8, kEach = 40;
  std::vector<std::future<void>> writers;
  for (int t = 0; t < kThreads; ++t)
    writers.push_back(std::async(std::launch::async, [&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::vector<NewEvent> batch = {event("t" + std::to_string(t) + ":" + std::to_string(i), 1)};
        auto stored = store_->accept(batch, 1000);
        if (stored.size() != 1 || stored[0].duplicate || stored[0].jobs != 1) throw std::runtime_error("bad accept");
      }
    }));
  for (auto &w : writers) {
    if (w.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
      ADD_FAILURE() << "a writer never returned: a lost wake-up in the group commit";
      std::_Exit(1);  // the stuck thread cannot be joined
    }
    EXPECT_NO_THROW(w.get());
  }
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM events"), kThreads * kEach);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM jobs"), kThreads * kEach);
}

TEST_P(StoreTest, APurchaseIsFoundByItsSourceOrderAndItem) {
  std::vector<NewEvent> batch;
  batch.push_back(event("completed", 0));
  batch.back().event["type"] = "order.completed";
  batch.push_back(event("bought", 0));
  batch.back().event["item"]["amount"] = 4995;
  store_->accept(batch, 1000);
  auto found = store_->purchase("tc", "1514394", "product-12");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ((*found)["dedupe_key"], "bought");
  EXPECT_EQ((*found)["item"]["amount"], 4995);
  EXPECT_EQ((*found)["id"], 2);
  EXPECT_FALSE(store_->purchase("other-source", "1514394", "product-12").has_value());
  EXPECT_FALSE(store_->purchase("tc", "1514395", "product-12").has_value());
  EXPECT_FALSE(store_->purchase("tc", "1514394", "upsell-13").has_value());
}

TEST_P(StoreTest, StoredKeysNamesOnlyTheKeysAlreadyStored) {
  std::vector<NewEvent> batch = {event("k1", 0), event("k2", 0)};
  store_->accept(batch, 1000);
  EXPECT_EQ(store_->stored_keys({"k2", "k3", "k1", "k2"}), (std::set<std::string>{"k1", "k2"}));
  EXPECT_TRUE(store_->stored_keys({}).empty());
  EXPECT_EQ(store_->count("events"), 2);
}

TEST_P(StoreTest, AnEventNamingAnotherKeyOfItsFactStoredIsADuplicateOfTheEventStoredUnderIt) {
  // A refund stored at the start of its minute (an import of a spreadsheet's copy of the export)...
  std::vector<NewEvent> minute = {event("refund:1771149600", 1)};
  auto stored = store_->accept(minute, 1000);
  // ... is the one its webhook, dated at a second of that minute, names; a refund of the next minute is not.
  std::vector<NewEvent> webhook = {event("refund:1771149637", 1), event("refund:1771149697", 1)};
  webhook[0].alternatives = {"refund:1771149600"};
  webhook[1].alternatives = {"refund:1771149660"};
  auto again = store_->accept(webhook, 2000);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_TRUE(again[0].duplicate);
  EXPECT_EQ(again[0].event_id, stored[0].event_id);
  EXPECT_EQ(again[0].jobs, 0u);
  EXPECT_FALSE(again[1].duplicate);
  // In one batch, an event names the key of one before it, and the first stored of several it names.
  std::vector<NewEvent> file = {event("refund:1771149720", 0), event("refund:1771149780", 0),
                                event("refund:1771149721", 0)};
  file[2].alternatives = {"refund:1771149780", "refund:1771149999", "refund:1771149720"};
  auto imported = store_->accept(file, 3000);
  ASSERT_EQ(imported.size(), 3u);
  EXPECT_FALSE(imported[1].duplicate);
  EXPECT_TRUE(imported[2].duplicate);
  EXPECT_EQ(imported[2].event_id, imported[0].event_id);
  EXPECT_EQ(store_->count("events"), 4);
  EXPECT_EQ(store_->count("jobs"), 2);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM events WHERE dedupe_key = 'refund:1771149637'"), 0);
}

TEST_P(StoreTest, ClaimLeasesDueJobsOnlyOnce) {
  std::vector<NewEvent> batch = {event("k1", 3)};
  store_->accept(batch, 1000);
  auto claimed = store_->claim("node-a", 1000, 60000, 2);
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_EQ(claimed[0].params["n"], 0);
  EXPECT_EQ(claimed[0].event["customer"]["email"], "Ann@Example.com");
  EXPECT_EQ(claimed[0].event["id"], claimed[0].event_id);
  auto rest = store_->claim("node-b", 1000, 60000, 10);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_TRUE(store_->claim("node-b", 1000, 60000, 10).empty());
  // An expired lease makes the job claimable again (its node died).
  auto stolen = store_->claim("node-b", 62000, 60000, 10);
  EXPECT_EQ(stolen.size(), 3u);
}

TEST_P(StoreTest, APausedIntegrationIsNotClaimedAndAReleasedJobWaitsUntilItsDueTime) {
  std::vector<NewEvent> batch = {event("k1", 3)};
  batch[0].jobs[2].integration = "crm";
  store_->accept(batch, 1000);
  // hook's rate budget has no room: crm's job only; then room for one of hook's two.
  auto claimed = store_->claim("node-a", 1000, 60000, 10, {}, {{"hook", 0}});
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].integration, "crm");
  claimed = store_->claim("node-a", 1000, 60000, 10, {}, {{"hook", 1}});
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].integration, "hook");
  store_->release({claimed[0].id}, "node-a");
  claimed = store_->claim("node-a", 1000, 60000, 10);
  ASSERT_EQ(claimed.size(), 2u);
  store_->release({claimed[1].id}, "node-a");  // the second hook job waits for a claim at once
  // Put back, due later: no attempt counted, and not claimed before then.
  store_->defer({{claimed[0].id, 5000}}, "node-a");
  auto second = store_->claim("node-a", 1000, 60000, 10);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_TRUE(store_->claim("node-a", 4999, 60000, 10).empty());
  auto again = store_->claim("node-a", 5000, 60000, 10);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempts, 0);
  // A renewed lease keeps a running job from another claim past its first end
  // (crm's, claimed at 1000 and not renewed, has ended by then).
  store_->renew_leases({again[0].id, second[0].id}, "node-a", 200000);
  auto taken = store_->claim("node-b", 70000, 60000, 10);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].integration, "crm");
  store_->renew_leases({again[0].id}, "node-b", 900000);  // not node-b's: nothing changes
  store_->renew_leases({taken[0].id}, "node-b", 900000);
  taken = store_->claim("node-b", 200001, 60000, 10);
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].integration, "hook");
  EXPECT_EQ(taken[1].integration, "hook");
}

TEST_P(StoreTest, ARecordMadeAgainAddsNoAttempt) {
  if (GetParam() == "sqlite") GTEST_SKIP() << "one node on its own file: a record is made once";
  std::vector<NewEvent> batch = {event("k1", 1)};
  store_->accept(batch, 1000);
  auto job = store_->claim("n", 1000, 10, 1).at(0);
  // A commit whose answer was lost is made again: not a late record either.
  AttemptRecord a = attempt(job, "n", 1000, 12, "ok");
  EXPECT_TRUE(store_->finish(a, {JobState::succeeded, 0, ""}, 1012).empty());
  EXPECT_TRUE(store_->finish(a, {JobState::succeeded, 0, ""}, 1050).empty());
  EXPECT_EQ(store_->attempts(job.id).size(), 1u);
  EXPECT_EQ(store_->job(job.id)->state, "succeeded");
}

TEST_P(StoreTest, ALateRecordKeepsItsAttemptAndLeavesTheJobToTheClaimHoldingItNow) {
  std::vector<NewEvent> batch = {event("k1", 1), event("k2", 1), event("k3", 1)};
  store_->accept(batch, 1000);
  auto first = store_->claim("n", 1000, 10, 3);  // leases that end at 1010, during n's attempts
  ASSERT_EQ(first.size(), 3u);
  auto taken = store_->claim("m", 2000, 60000, 2);
  ASSERT_EQ(taken.size(), 2u);
  ASSERT_EQ(taken[0].id, first[0].id);
  // Node m took the first job over and runs it when n's late record comes: n's attempt is on
  // record, and the job stays m's to run and record.
  EXPECT_EQ(store_->finish(attempt(first[0], "n", 1000, 1500, "ok"), {JobState::succeeded, 0, ""}, 2500),
            (LateRecords{{first[0].id, "m"}}));
  EXPECT_EQ(store_->job(first[0].id)->state, "running") << "n's late record ended the job m runs";
  EXPECT_TRUE(store_->finish(attempt(taken[0], "m", 2000, 30, "retryable", "HTTP 503"),
                             {JobState::queued, 9000, "HTTP 503"}, 2530)
                  .empty());
  auto row = store_->job(first[0].id);
  EXPECT_EQ(row->state, "queued");
  EXPECT_EQ(row->attempts, 2) << "n's and m's";
  EXPECT_EQ(row->due_at, 9000);
  EXPECT_EQ(row->last_error, "HTTP 503");
  auto attempts = store_->attempts(first[0].id);
  ASSERT_EQ(attempts.size(), 2u) << "both nodes' attempts are on record";
  EXPECT_EQ(attempts[0].node, "n");
  EXPECT_EQ(attempts[0].outcome, "ok");
  EXPECT_EQ(attempts[1].node, "m");
  // m recorded the second job before n's late record, which leaves it as m left it.
  EXPECT_TRUE(store_->finish(attempt(taken[1], "m", 2000, 30, "permanent", "HTTP 400"),
                             {JobState::failed, 0, "HTTP 400"}, 2030)
                  .empty());
  EXPECT_EQ(store_->finish(attempt(first[1], "n", 1000, 1600, "ok"), {JobState::succeeded, 0, ""}, 2600),
            (LateRecords{{first[1].id, ""}}));
  row = store_->job(first[1].id);
  EXPECT_EQ(row->state, "failed");
  EXPECT_EQ(row->last_error, "HTTP 400");
  EXPECT_EQ(store_->attempts(first[1].id).size(), 2u);
  // n's own claim took the third job again once its lease had ended (n was paused): the attempt
  // under the ended lease is on record, the one under the new lease decides the job.
  auto again = store_->claim("n", 3000, 60000, 1);
  ASSERT_EQ(again.size(), 1u);
  ASSERT_EQ(again[0].id, first[2].id);
  EXPECT_EQ(store_->finish(attempt(first[2], "n", 1000, 2500, "permanent", "HTTP 400"),
                           {JobState::failed, 0, "HTTP 400"}, 3500),
            (LateRecords{{first[2].id, "n"}}));
  EXPECT_EQ(store_->job(first[2].id)->state, "running");
  EXPECT_TRUE(store_->finish(attempt(again[0], "n", 3000, 40, "ok"), {JobState::succeeded, 0, ""}, 3540).empty());
  EXPECT_EQ(store_->job(first[2].id)->state, "succeeded");
  EXPECT_EQ(store_->attempts(first[2].id).size(), 2u);
}

TEST_P(StoreTest, TheAttemptsOfAJobWhoseLeaseEndedDuringOneAreNumberedApart) {
  std::vector<NewEvent> batch = {event("k1", 1), event("k2", 1)};
  store_->accept(batch, 1000);
  auto first = store_->claim("n", 1000, 10, 2);  // leases that end at 1010, during n's attempts
  ASSERT_EQ(first.size(), 2u);
  // Node n (paused past its leases) claims both jobs again; each claim's attempt is its job's first
  // too, as no attempt is on record yet.
  auto again = store_->claim("n", 2000, 60000, 2);
  ASSERT_EQ(again.size(), 2u);
  ASSERT_EQ(again[0].id, first[0].id);
  ASSERT_EQ(again[0].attempts, 0);
  // The first job's late record comes before the new claim's, the second job's after it. The claim's
  // records are told the numbers they were recorded as, which the log and hub.job.dead give.
  store_->finish(attempt(first[0], "n", 1000, 1500, "ok"), {JobState::succeeded, 0, ""}, 2500);
  std::vector<Finished> done = {
      {attempt(again[0], "n", 2000, 600, "retryable", "HTTP 503"), {JobState::queued, 9000, "HTTP 503"}},
      {attempt(again[1], "n", 2000, 700, "ok"), {JobState::succeeded, 0, ""}}};
  ASSERT_EQ(done[0].attempt.number, 1);
  EXPECT_TRUE(store_->finish_batch(done, 2700).empty());
  EXPECT_EQ(done[0].attempt.number, 2) << "after the late record of its job";
  EXPECT_EQ(done[1].attempt.number, 1);
  store_->finish(attempt(first[1], "n", 1000, 1800, "ok"), {JobState::succeeded, 0, ""}, 2800);
  for (auto &job : first) {
    auto attempts = store_->attempts(job.id);
    ASSERT_EQ(attempts.size(), 2u);
    EXPECT_EQ(attempts[0].number, 1);
    EXPECT_EQ(attempts[1].number, 2) << "two attempts by one node numbered alike";
    EXPECT_EQ(store_->job(job.id)->attempts, 2);
  }
  EXPECT_EQ(store_->attempts(first[0].id)[0].started_at, 1000);
  EXPECT_EQ(store_->attempts(first[1].id)[0].started_at, 2000);
  // The next attempt of the job left queued goes on from there.
  auto retry = store_->claim("n", 9000, 60000, 1);
  ASSERT_EQ(retry.size(), 1u);
  store_->finish(attempt(retry[0], "n", 9000, 5, "ok"), {JobState::succeeded, 0, ""}, 9005);
  EXPECT_EQ(store_->attempts(first[0].id).back().number, 3);
}

TEST_P(StoreTest, FinishRecordsAttemptAndSchedulesRetry) {
  std::vector<NewEvent> batch = {event("k1", 1)};
  store_->accept(batch, 1000);
  auto job = store_->claim("n", 1000, 60000, 1).at(0);
  EXPECT_EQ(job.due_at, 1000) << "a new job is due when it is accepted";
  AttemptRecord a{job.id, 1, 1000, 12, "retryable", "HTTP 503", Json::array({{{"request", {{"url", "u"}}}}}),
                  job.due_at, "n", job.leased_at};
  store_->finish(a, {JobState::queued, 6000, "HTTP 503"}, 1012);
  auto row = store_->job(job.id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->state, "queued");
  EXPECT_EQ(row->attempts, 1);
  EXPECT_EQ(row->due_at, 6000);
  EXPECT_EQ(row->last_error, "HTTP 503");
  EXPECT_TRUE(store_->claim("n", 5999, 60000, 1).empty());
  EXPECT_EQ(store_->next_due(), 6000);
  auto again = store_->claim("node-2", 6000, 60000, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempts, 1);
  EXPECT_EQ(again[0].due_at, 6000);
  store_->finish(attempt(again[0], "node-2", 6040, 5, "ok"), {JobState::succeeded, 0, ""}, 6045);
  auto attempts = store_->attempts(job.id);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].outcome, "retryable");
  EXPECT_EQ(attempts[0].exchanges[0]["request"]["url"], "u");
  EXPECT_EQ(attempts[1].outcome, "ok");
  EXPECT_EQ(attempts[0].due_at, 1000);
  EXPECT_EQ(attempts[1].due_at, 6000) << "the retry was due at 6000 and started 40 ms later";
  EXPECT_EQ(attempts[1].started_at, 6040);
  EXPECT_EQ(attempts[0].node, "n");
  EXPECT_EQ(attempts[1].node, "node-2");
  // Attempts recorded before schema 6 have no due time, and before SQLite's 10 (PostgreSQL's 7) no node.
  exec("UPDATE attempts SET due_at = NULL, node = NULL WHERE number = 1");
  EXPECT_EQ(store_->attempts(job.id).at(0).due_at, 0);
  EXPECT_EQ(store_->attempts(job.id).at(0).node, "");
  EXPECT_EQ(store_->job(job.id)->state, "succeeded");
  EXPECT_FALSE(store_->next_due());
}

TEST_P(StoreTest, OrderingKeyRunsJobsOneAtATimeInOrder) {
  std::vector<NewEvent> batch = {event("enrol", 1, "school:ann@example.com"), event("expire", 1, "school:ann@example.com"),
                                 event("other", 1, "school:bob@example.com")};
  store_->accept(batch, 1000);
  auto first = store_->claim("n", 1000, 60000, 10);
  ASSERT_EQ(first.size(), 2u);  // ann's first job and bob's; ann's second waits
  EXPECT_EQ(first[0].event["dedupe_key"], "enrol");
  EXPECT_EQ(first[1].event["dedupe_key"], "other");
  EXPECT_TRUE(store_->claim("n", 1000, 60000, 10).empty());
  store_->finish(attempt(first[0], "n", 1000, 1, "ok"), {JobState::succeeded, 0, ""}, 1001);
  auto next = store_->claim("n", 1001, 60000, 10);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].event["dedupe_key"], "expire");
}

TEST_P(StoreTest, RequeueRunningAfterRestartAndReopen) {
  std::vector<NewEvent> batch = {event("k1", 2)};
  store_->accept(batch, 1000);
  ASSERT_EQ(store_->claim("host-1", 1000, 600000, 10).size(), 2u);
  reopen();  // the process died with both jobs running
  EXPECT_EQ(store_->requeue_running("host-2"), 0);
  EXPECT_EQ(store_->requeue_running("host-1"), 2);
  EXPECT_EQ(store_->claim("host-1", 1000, 600000, 10).size(), 2u);
}

TEST_P(StoreTest, AJobWhoseAttemptEndedTheProcessIsFailedOnlyByTheNodeHoldingIt) {
  std::vector<NewEvent> batch = {event("k1", 2)};
  store_->accept(batch, 1000);
  auto claimed = store_->claim("host-1", 1000, 600000, 10);
  ASSERT_EQ(claimed.size(), 2u);
  store_->finish(attempt(claimed[1], "host-1", 1000, 5, "retryable", "503"), {JobState::queued, 1500, "503"}, 1005);
  ASSERT_EQ(store_->claim("host-1", 1500, 600000, 10).size(), 1u);  // its second attempt, under way
  reopen();  // a connector crashed the process during both attempts

  AttemptRecord crashed;
  crashed.started_at = 1600;
  crashed.duration_ms = 40;
  crashed.outcome = "permanent";
  crashed.error = "the hub stopped with SIGSEGV during this attempt";
  crashed.job_id = claimed[1].id;
  EXPECT_FALSE(store_->fail_interrupted(crashed, "host-2", 2000)) << "host-2 does not hold it";
  EXPECT_TRUE(store_->fail_interrupted(crashed, "host-1", 2000));
  EXPECT_FALSE(store_->fail_interrupted(crashed, "host-1", 2001)) << "no longer running";
  auto job = store_->job(claimed[1].id);
  ASSERT_TRUE(job);
  EXPECT_EQ(job->state, "failed");
  EXPECT_EQ(job->attempts, 2);
  EXPECT_EQ(job->last_error, crashed.error);
  auto attempts = store_->attempts(claimed[1].id);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[1].number, 2);
  EXPECT_EQ(attempts[1].due_at, 1500);
  EXPECT_EQ(attempts[1].outcome, "permanent");
  EXPECT_EQ(attempts[1].error, crashed.error);
  // The other job of the batch runs again.
  EXPECT_EQ(store_->requeue_running("host-1"), 1);
  auto again = store_->claim("host-1", 2000, 600000, 10);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, claimed[0].id);
}

TEST_P(StoreTest, AJobWhoseClaimEndedTheProcessIsFailedUnlessItMovedOnSince) {
  std::vector<NewEvent> batch = {event("k1", 3)};
  store_->accept(batch, 1000);
  // A claim is told of each job as it reads and leases it, and of none once past it.
  struct Watch : ClaimWatch {
    std::vector<std::pair<int64_t, int>> told;
    void claiming(int64_t job, int attempts) noexcept override { told.emplace_back(job, attempts); }
  } watch;
  auto claimed = store_->claim("host-1", 1000, 500, 1, {}, {}, &watch);
  ASSERT_EQ(claimed.size(), 1u);
  ASSERT_FALSE(watch.told.empty());
  EXPECT_EQ(watch.told.front(), std::make_pair(claimed[0].id, 0));
  EXPECT_EQ(watch.told.back(), std::make_pair(int64_t{0}, 0));
  store_->finish(attempt(claimed[0], "host-1", 1000, 5, "retryable", "503"), {JobState::queued, 5000, "503"}, 1005);
  auto running = store_->claim("host-2", 1010, 600000, 1);  // the second job, under another node's lease that holds
  ASSERT_EQ(running.size(), 1u);
  ASSERT_NE(running[0].id, claimed[0].id);
  auto expired = store_->claim("host-1", 1020, 10, 1);  // the third, under a lease that ends at 1030
  ASSERT_EQ(expired.size(), 1u);

  AttemptRecord crashed;
  crashed.started_at = 1100;
  crashed.duration_ms = 3;
  crashed.outcome = "permanent";
  crashed.error = "the hub stopped with SIGSEGV while claiming this job";
  crashed.node = "host-1";
  crashed.job_id = claimed[0].id;
  EXPECT_FALSE(store_->fail_claimed(crashed, 0, 2000)) << "it ran since: one attempt more";
  EXPECT_TRUE(store_->fail_claimed(crashed, 1, 2000)) << "queued, as its claim found it";
  EXPECT_FALSE(store_->fail_claimed(crashed, 1, 2001)) << "failed already";
  auto job = store_->job(claimed[0].id);
  ASSERT_TRUE(job);
  EXPECT_EQ(job->state, "failed");
  EXPECT_EQ(job->attempts, 2);
  EXPECT_EQ(job->last_error, crashed.error);
  auto attempts = store_->attempts(claimed[0].id);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[1].number, 2);
  EXPECT_EQ(attempts[1].due_at, 5000);
  EXPECT_EQ(attempts[1].node, "host-1");
  EXPECT_EQ(attempts[1].error, crashed.error);

  crashed.job_id = running[0].id;
  EXPECT_FALSE(store_->fail_claimed(crashed, 0, 2000)) << "running under another node's lease that holds";
  crashed.job_id = expired[0].id;
  EXPECT_TRUE(store_->fail_claimed(crashed, 0, 2000)) << "running under a lease that ended";
  EXPECT_EQ(store_->job(expired[0].id)->state, "failed");
  // A claim that leases its jobs before it reads their rows (PostgreSQL's) crashed under a lease of its own node.
  crashed.node = "host-2";
  crashed.job_id = running[0].id;
  EXPECT_TRUE(store_->fail_claimed(crashed, 0, 2000)) << "running under the lease of the node whose claim crashed";
  EXPECT_EQ(store_->job(running[0].id)->state, "failed");
  ASSERT_EQ(store_->attempts(running[0].id).size(), 1u);
  EXPECT_EQ(store_->attempts(running[0].id)[0].node, "host-2");
  EXPECT_TRUE(store_->claim("host-3", 2000, 600000, 10).empty());
}

TEST_P(StoreTest, AnEventWithJobsLeasedAtAcceptComesBackAsTheTextTheApiReads) {
  const Json order = {{"order_id", "1514394"}, {"note", "a \"quoted\" \u00e9"}};
  std::vector<NewEvent> batch = {event("leased", 1), event("queued", 1), event("leased-own-raw", 1), event("bare", 1)};
  batch[0].raw = batch[1].raw = &order;
  batch[2].event["raw"] = {{"order_id", "7"}};
  batch[3].event["id"] = "connector-7";  // the store numbers events itself
  for (int i : {0, 2, 3}) {
    batch[i].jobs[0].lease_owner = "host-1";
    batch[i].jobs[0].lease_until = 61000;
  }
  auto stored = store_->accept(batch, 1000);
  EXPECT_TRUE(stored[1].text.empty()) << "no job of it was leased";
  for (int i : {0, 2, 3}) {
    ASSERT_FALSE(stored[i].text.empty()) << i;
    EXPECT_EQ(Json::parse(stored[i].text), *store_->event(stored[i].event_id)) << stored[i].text;
  }
  EXPECT_EQ(Json::parse(stored[0].text)["raw"], order);
  EXPECT_FALSE(Json::parse(stored[3].text).contains("raw"));
  EXPECT_EQ(Json::parse(stored[3].text)["id"], stored[3].event_id);
}

TEST_P(StoreTest, AJobLeasedAtAcceptIsStoredRunningAndCanBeReleased) {
  std::vector<NewEvent> batch = {event("k1", 2)};
  batch[0].jobs[0].lease_owner = "host-1";
  batch[0].jobs[0].lease_until = 61000;
  auto stored = store_->accept(batch, 1000);
  ASSERT_EQ(stored.at(0).job_ids.size(), 2u);
  int64_t leased = stored[0].job_ids[0], queued = stored[0].job_ids[1];
  EXPECT_EQ(store_->job(leased)->state, "running");
  EXPECT_EQ(scalar("SELECT lease_until FROM jobs WHERE id = " + std::to_string(leased) + " AND lease_owner = 'host-1'"),
            61000);
  EXPECT_EQ(store_->job(queued)->state, "queued");

  // Another node claims only the queued job while the lease holds.
  auto claimed = store_->claim("host-2", 2000, 60000, 10);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, queued);

  // Only the holder puts it back; then it is claimed like any queued job.
  store_->release({leased}, "host-2");
  EXPECT_EQ(store_->job(leased)->state, "running");
  store_->release({leased}, "host-1");
  EXPECT_EQ(store_->job(leased)->state, "queued");
  claimed = store_->claim("host-2", 2000, 60000, 10);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, leased);
  EXPECT_EQ(claimed[0].attempts, 0);
  EXPECT_EQ(claimed[0].due_at, 1000);

  // A duplicate stores no job, leased or not.
  std::vector<NewEvent> again = {event("k1", 2)};
  again[0].jobs[0].lease_owner = "host-1";
  auto dup = store_->accept(again, 3000);
  EXPECT_TRUE(dup.at(0).duplicate);
  EXPECT_TRUE(dup[0].job_ids.empty());
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM jobs"), 2);
}

TEST_P(StoreTest, AJobLeasedAtAcceptIsRequeuedWhenItsNodeStartsAgain) {
  std::vector<NewEvent> batch = {event("k1", 1)};
  batch[0].jobs[0].lease_owner = "host-1";
  batch[0].jobs[0].lease_until = 600000;
  int64_t id = store_->accept(batch, 1000).at(0).job_ids.at(0);
  reopen();  // the process died before a worker ran it
  EXPECT_TRUE(store_->claim("host-1", 1000, 600000, 10).empty());
  EXPECT_EQ(store_->requeue_running("host-1"), 1);
  auto claimed = store_->claim("host-1", 1000, 600000, 10);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, id);
  EXPECT_EQ(claimed[0].event["dedupe_key"], "k1");
}

TEST_P(StoreTest, AnUpgradeGivesTheJsonConnectorsStoredKeysTheirSource) {
  // Stored before the json connector's keys named their source.
  std::vector<NewEvent> batch = {event("json:k:order:1", 0), event("json:m:msg_1", 0), event("tc:acme:order:1", 0)};
  batch[0].event["source"] = "shop";
  batch[1].event["source"] = "forms";
  store_->accept(batch, 1000);
  // That migration and the ones after it run again.
  const auto &all = backend_.sqlite() ? migrations() : postgresql_migrations();
  std::size_t version = 1;
  while (version <= all.size() && all[version - 1].front() != kJsonKeysNameTheirSource) ++version;
  ASSERT_LE(version, all.size());
  exec("DELETE FROM schema_migrations WHERE version >= " + std::to_string(version));
  // The ones after it add these columns again.
  exec("ALTER TABLE attempts DROP COLUMN node");
  for (const char *column : {"left_out", "left_out_settings", "left_out_by", "left_out_ended_on"})
    exec(std::string("ALTER TABLE poll_state DROP COLUMN ") + column);
  if (!backend_.sqlite())
    exec("ALTER TABLE nodes DROP COLUMN config, DROP COLUMN machine, DROP COLUMN pid, DROP COLUMN pid_start, "
         "DROP COLUMN session_pid, DROP COLUMN session_start");
  reopen();
  EXPECT_EQ(store_->stored_keys({"json:shop:k:order:1", "json:forms:m:msg_1", "tc:acme:order:1", "json:k:order:1"}),
            (std::set<std::string>{"json:shop:k:order:1", "json:forms:m:msg_1", "tc:acme:order:1"}));
}

TEST_P(StoreTest, APingFailsOnceTheStoreCannotBeUsed) {
  EXPECT_NO_THROW(store_->ping());
  backend_.exec("DROP TABLE schema_migrations");
  EXPECT_THROW(store_->ping(), std::exception);
}

TEST_P(StoreTest, PruneRemovesFinishedJobsOlderThanTheCutWithTheirAttemptsAndKeepsTheirEvents) {
  std::vector<NewEvent> batch = {event("done", 1), event("dead", 1), event("running", 1), event("recent", 1)};
  store_->accept(batch, 1000);
  auto claimed = store_->claim("n", 1000, 600000, 10);
  ASSERT_EQ(claimed.size(), 4u);
  store_->finish(attempt(claimed[0], "n", 1000, 1, "ok"), {JobState::succeeded, 0, ""}, 2000);
  store_->finish(attempt(claimed[1], "n", 1000, 1, "permanent", "HTTP 400"), {JobState::dead, 0, "HTTP 400"},
                 2000);
  store_->finish(attempt(claimed[3], "n", 1000, 1, "ok"), {JobState::succeeded, 0, ""}, 9000);
  std::vector<NewEvent> later = {event("queued", 1)};
  store_->accept(later, 1500);

  EXPECT_EQ(store_->prune(5000, 1), 1) << "at most the limit";
  EXPECT_EQ(store_->prune(5000, 500), 1);
  EXPECT_EQ(store_->prune(5000, 500), 0);
  EXPECT_FALSE(store_->job(claimed[0].id));
  EXPECT_FALSE(store_->job(claimed[1].id));
  EXPECT_TRUE(store_->attempts(claimed[0].id).empty());
  EXPECT_EQ(store_->job(claimed[2].id)->state, "running");
  EXPECT_EQ(store_->job(claimed[3].id)->state, "succeeded");
  EXPECT_EQ(store_->attempts(claimed[3].id).size(), 1u);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM jobs"), 3);
  EXPECT_EQ(store_->count("events"), 5);
}

TEST_P(StoreTest, TheExecutionLogIsSearchedAndReplayedByItsFilters) {
  std::vector<NewEvent> batch = {event("a", 2), event("b", 1)};
  batch[1].event["customer"]["email"] = "bob@example.com";
  batch[1].event["item"]["reference"] = "upsell-13";
  store_->accept(batch, 1000);
  auto claimed = store_->claim("n", 1000, 60000, 10);
  ASSERT_EQ(claimed.size(), 3u);
  store_->finish(attempt(claimed[0], "n", 1000, 1, "ok"), {JobState::succeeded, 0, ""}, 1001);
  store_->finish(attempt(claimed[1], "n", 1000, 1, "permanent", "HTTP 400"), {JobState::dead, 0, "HTTP 400"},
                 1001);
  store_->finish(attempt(claimed[2], "n", 1000, 1, "permanent", "HTTP 422"), {JobState::failed, 0, "HTTP 422"},
                 1001);

  Search by_email;
  by_email.email = "ANN@example.com";
  auto ann = store_->search_jobs(by_email);
  ASSERT_EQ(ann.size(), 2u);
  EXPECT_GT(ann[0].job.id, ann[1].job.id) << "newest first";
  EXPECT_EQ(ann[0].email, "ann@example.com");
  Search upsells;
  upsells.item_ref = "upsell-*";
  ASSERT_EQ(store_->search_jobs(upsells).size(), 1u);
  EXPECT_EQ(store_->search_jobs(upsells)[0].job.state, "failed");
  Search dead_events;
  dead_events.states = {"dead"};
  auto events = store_->search_events(dead_events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].dedupe_key, "a");
  EXPECT_EQ(events[0].jobs, 2);

  Search only_succeeded;
  only_succeeded.states = {"succeeded"};
  EXPECT_TRUE(store_->replay_matching(only_succeeded, 2000).empty()) << "a succeeded job is never replayed";
  Search bobs;
  bobs.email = "bob@example.com";
  EXPECT_EQ(store_->replay_matching(bobs, 2000), std::vector<int64_t>{claimed[2].id});
  EXPECT_EQ(store_->job(claimed[2].id)->state, "queued");
  EXPECT_EQ(store_->job(claimed[1].id)->state, "dead");
}

// An integration's events come newest first, each once however many of its jobs it has, page after page,
// with the event's filters and the job's.
TEST_P(StoreTest, AnIntegrationsEventsAreEachFoundOnceNewestFirstPageAfterPage) {
  for (int i = 0; i < 30; ++i) {
    std::vector<NewEvent> batch = {event("e" + std::to_string(i), 1)};  // a hook job each
    if (i % 3 == 0)
      for (const char *rule : {"c1", "c2"}) batch[0].jobs.push_back({rule, "crm", i % 2 ? "tag" : "post", {}, "", "", 0});
    if (i % 2) batch[0].event["type"] = "product.refunded";
    store_->accept(batch, 1000 + i);
  }
  auto pages = [&](Search search) {
    std::vector<std::string> keys;
    search.limit = 4;
    for (;;) {
      auto found = store_->search_events(search);
      for (auto &e : found) keys.push_back(e.dedupe_key + "/" + std::to_string(e.jobs));
      if (found.size() < 4) return keys;
      search.before_id = found.back().id;
    }
  };
  Search crm;
  crm.integration = "crm";
  EXPECT_EQ(pages(crm), (std::vector<std::string>{"e27/3", "e24/3", "e21/3", "e18/3", "e15/3", "e12/3", "e9/3", "e6/3",
                                                  "e3/3", "e0/3"}));
  Search refunds = crm;
  refunds.type = "product.refunded";
  EXPECT_EQ(pages(refunds), (std::vector<std::string>{"e27/3", "e21/3", "e15/3", "e9/3", "e3/3"}));
  Search tagged = crm;
  tagged.action = "tag";
  tagged.rule = "c2";
  tagged.states = {"queued"};
  EXPECT_EQ(pages(tagged), pages(refunds));
  Search hook;
  hook.integration = "hook";
  EXPECT_EQ(pages(hook).size(), 30u);
  Search none;
  none.integration = "nowhere";
  EXPECT_TRUE(pages(none).empty());
}

// SQLite reads an integration's events from its jobs (jobs_integration_id), newest first: a page reads as
// many jobs as it needs, or the integration's jobs alone when few events have one, where reading every
// event for one with such a job took 0.9 s at a million events.
TEST_P(StoreTest, AnIntegrationsEventsAreReadFromItsJobsOnSQLite) {
  if (!backend_.sqlite()) GTEST_SKIP() << "PostgreSQL plans the search by its statistics of each integration";
  std::vector<NewEvent> batch = {event("a", 2)};
  store_->accept(batch, 1000);
  auto plan = [&](const Search &search) { return sqlite_plan(backend_.sqlite_path(), event_search_sql(search)); };
  Search hook;
  hook.integration = "hook";
  hook.type = "product.purchased";
  auto first = plan(hook);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first[0], "SEARCH j USING INDEX jobs_integration_id (integration=?)");
  hook.before_id = 7;
  auto later = plan(hook);
  ASSERT_FALSE(later.empty());
  EXPECT_EQ(later[0], "SEARCH j USING INDEX jobs_integration_id (integration=? AND id<?)");
  for (auto &step : first) EXPECT_EQ(step.find("SCAN"), std::string::npos) << step;
  for (auto &step : later) EXPECT_EQ(step.find("SCAN"), std::string::npos) << step;
  // Whether a newer job of the event matches too is read from the event's jobs: read from the
  // integration's newer jobs, a search that few events matched read them all for each job it went through.
  for (auto &steps : {first, later}) {
    auto newer = std::find_if(steps.begin(), steps.end(), [](auto &step) { return step.rfind("SEARCH k ", 0) == 0; });
    ASSERT_NE(newer, steps.end());
    EXPECT_EQ(*newer, "SEARCH k USING INDEX jobs_event (event_id=? AND rowid>?)");
  }
}

// A search by integration and state reads the integration's jobs in that state (jobs_integration_state), so
// that one no job matches (an integration's dead jobs, when none died) reads none; it read every job of the
// integration, newest first, looking for one in the state.
TEST_P(StoreTest, AnIntegrationsJobsInAStateAreReadByTheirState) {
  for (int i = 0; i < 6; ++i) {
    std::vector<NewEvent> batch = {event("s" + std::to_string(i), 1)};  // a hook job each
    batch[0].jobs.push_back({"to-crm", "crm", "tag", {}, "", "", 0});
    store_->accept(batch, 1000 + i);
  }
  auto claimed = store_->claim("n", 2000, 60000, 20);
  ASSERT_EQ(claimed.size(), 12u);
  std::vector<int64_t> dead;
  for (auto &job : claimed) {
    bool dies = job.integration == "crm" && job.event_id % 2 == 0;
    store_->finish(attempt(job, "n", 2000, 1, dies ? "permanent" : "ok", dies ? "HTTP 400" : ""),
                   {dies ? JobState::dead : JobState::succeeded, 0, dies ? "HTTP 400" : ""}, 2001);
    if (dies) dead.push_back(job.id);
  }
  std::sort(dead.rbegin(), dead.rend());
  ASSERT_EQ(dead.size(), 3u);
  Search crm_dead;
  crm_dead.integration = "crm";
  crm_dead.states = {"dead"};
  std::vector<int64_t> found;
  for (auto &row : store_->search_jobs(crm_dead)) found.push_back(row.job.id);
  EXPECT_EQ(found, dead) << "newest first";
  auto events = store_->search_events(crm_dead);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_GT(events[0].id, events[1].id);
  for (auto &e : events) EXPECT_EQ(e.id % 2, 0);
  Search crm_failed = crm_dead;
  crm_failed.states = {"failed"};
  EXPECT_TRUE(store_->search_jobs(crm_failed).empty());
  EXPECT_TRUE(store_->search_events(crm_failed).empty());
  Search hook_dead = crm_dead;
  hook_dead.integration = "hook";
  EXPECT_TRUE(store_->search_jobs(hook_dead).empty());
  EXPECT_TRUE(store_->search_events(hook_dead).empty());
  crm_dead.before_id = dead[0];
  found.clear();
  for (auto &row : store_->search_jobs(crm_dead)) found.push_back(row.job.id);
  EXPECT_EQ(found, std::vector<int64_t>(dead.begin() + 1, dead.end())) << "the next page";

  if (!backend_.sqlite()) return;  // PostgreSQL plans it by its statistics of each value
  crm_failed.before_id = 0;
  for (const SqlQuery &q : {job_search_sql(crm_failed), event_search_sql(crm_failed)}) {
    auto steps = sqlite_plan(backend_.sqlite_path(), q);
    ASSERT_FALSE(steps.empty()) << q.sql;
    EXPECT_EQ(steps[0], "SEARCH j USING INDEX jobs_integration_state (integration=? AND state=?)") << q.sql;
    for (auto &step : steps) EXPECT_EQ(step.find("SCAN"), std::string::npos) << step;
  }
}

// A search by integration in several states (a bulk replay's failed and dead) reads the integration's jobs
// state by state (on SQLite from jobs_integration_state) and merges them, newest first, so that one no job
// matches reads none; it read every job of the integration, newest first, looking for one in the states.
TEST_P(StoreTest, AnIntegrationsJobsInSeveralStatesAreReadStateByState) {
  // The crm jobs of six events: dead, failed, succeeded, dead, failed, and the last event's two, failed and dead.
  const std::vector<std::vector<JobState>> ends = {{JobState::dead}, {JobState::failed}, {JobState::succeeded},
                                                   {JobState::dead}, {JobState::failed},
                                                   {JobState::failed, JobState::dead}};
  std::vector<int64_t> events;
  for (std::size_t i = 0; i < ends.size(); ++i) {
    std::vector<NewEvent> batch = {event("s" + std::to_string(i), 1)};  // a hook job each
    for (std::size_t k = 0; k < ends[i].size(); ++k)
      batch[0].jobs.push_back({"to-crm-" + std::to_string(k), "crm", "tag", {}, "", "", 0});
    events.push_back(store_->accept(batch, 1000 + static_cast<int64_t>(i))[0].event_id);
  }
  auto claimed = store_->claim("n", 2000, 60000, 20);
  ASSERT_EQ(claimed.size(), 13u);
  std::vector<int64_t> ended;  // the crm jobs failed or dead, newest first
  std::set<int64_t> ended_events;
  for (auto &job : claimed) {
    JobState end = JobState::succeeded;
    if (job.integration == "crm") {
      std::size_t i = std::find(events.begin(), events.end(), job.event_id) - events.begin();
      end = ends[i][job.rule == "to-crm-0" ? 0 : 1];
    }
    bool ok = end == JobState::succeeded;
    std::string error = ok ? "" : "HTTP 400";
    store_->finish(attempt(job, "n", 2000, 1, ok ? "ok" : "permanent", error), {end, 0, error}, 2001);
    if (!ok) {
      ended.push_back(job.id);
      ended_events.insert(job.event_id);
    }
  }
  std::sort(ended.rbegin(), ended.rend());
  ASSERT_EQ(ended.size(), 6u);
  std::vector<int64_t> newest_events(ended_events.rbegin(), ended_events.rend());
  ASSERT_EQ(newest_events.size(), 5u);

  Search crm;
  crm.integration = "crm";
  crm.states = {"dead", "failed", "dead"};
  EXPECT_EQ(job_ids(crm), ended) << "newest first, each once";
  EXPECT_EQ(event_ids(crm), newest_events) << "the last event once, for its two jobs";
  for (auto &row : store_->search_events(crm)) EXPECT_EQ(row.jobs, row.id == events.back() ? 3 : 2) << row.id;
  Search page = crm;
  page.limit = 2;
  EXPECT_EQ(job_ids(page), std::vector<int64_t>(ended.begin(), ended.begin() + 2));
  EXPECT_EQ(event_ids(page), std::vector<int64_t>(newest_events.begin(), newest_events.begin() + 2));
  page.limit = 3;
  page.before_id = ended[1];
  EXPECT_EQ(job_ids(page), std::vector<int64_t>(ended.begin() + 2, ended.begin() + 5)) << "the next page";
  page.before_id = newest_events[1];
  EXPECT_EQ(event_ids(page), std::vector<int64_t>(newest_events.begin() + 2, newest_events.end())) << "the next page";
  Search hook = crm;
  hook.integration = "hook";
  EXPECT_TRUE(job_ids(hook).empty());
  EXPECT_TRUE(event_ids(hook).empty());

  if (backend_.sqlite()) {  // PostgreSQL plans it by its statistics, which so few rows do not show
    Search any = hook;
    any.states.clear();
    for (const SqlQuery &q : {job_search_sql(hook), event_search_sql(hook), replayable_jobs_sql(any)}) {
      auto steps = sqlite_plan(backend_.sqlite_path(), q);
      ASSERT_FALSE(steps.empty()) << q.sql;
      int searches = 0;
      for (auto &step : steps) {
        if (std::regex_match(step, std::regex("SCAN s[0-9]+"))) continue;  // a state's page, merged with the others
        EXPECT_EQ(step.find("SCAN"), std::string::npos) << step << "\n" << q.sql;
        if (step.find(" j ") != std::string::npos) {
          EXPECT_EQ(step, "SEARCH j USING INDEX jobs_integration_state (integration=? AND state=?)") << q.sql;
          ++searches;
        }
      }
      EXPECT_EQ(searches, 2) << "one search of each state\n" << q.sql;
    }
  }

  Search replay;
  replay.integration = "crm";
  replay.limit = 4;
  EXPECT_EQ(store_->replay_matching(replay, 3000), std::vector<int64_t>(ended.begin(), ended.begin() + 4));
  replay.limit = 500;
  EXPECT_EQ(store_->replay_matching(replay, 3000), std::vector<int64_t>(ended.begin() + 4, ended.end()));
  EXPECT_TRUE(job_ids(crm).empty()) << "all queued again";
}

// A search by integration with another filter that names few rows (a rare event type, an email, a time
// range of few jobs) reads those rows by that filter's index on SQLite, then their jobs, where it read the
// integration's jobs newest first, every one of them when none matched (0.3 to 0.6 s at 400,000 jobs); a
// filter of many rows still reads the integration's newest jobs, as many as the page needs.
TEST_P(StoreTest, AnIntegrationsSearchByAFilterOfFewRowsReadsThoseRows) {
  std::vector<NewEvent> purchases;  // kDriveRows purchases at 1000, from tc, live, a hook job each
  for (int i = 0; i < kDriveRows; ++i) purchases.push_back(event("p" + std::to_string(i), 1));
  int64_t last_purchase = store_->accept(purchases, 1000).back().job_ids[0];
  std::vector<int64_t> refunds;  // six refunds at 5000 to 5005, newest first, each with a hook job and a crm job
  std::vector<int64_t> refund_jobs;  // their hook jobs, newest first
  for (int i = 0; i < 6; ++i) {
    std::vector<NewEvent> batch = {event("r" + std::to_string(i), 1)};
    batch[0].event["type"] = "product.refunded";
    batch[0].event["customer"]["email"] = "Rae@Example.com";
    if (i % 2 == 0) batch[0].event["source"] = "sc";
    if (i % 3 == 0) batch[0].event["mode"] = "test";
    batch[0].jobs.push_back({"to-crm", "crm", "tag", {}, "", "", 0});
    auto accepted = store_->accept(batch, 5000 + i);
    refunds.insert(refunds.begin(), accepted[0].event_id);
    refund_jobs.insert(refund_jobs.begin(), accepted[0].job_ids[0]);
  }
  auto pick = [](const std::vector<int64_t> &ids, std::vector<int> at) {
    std::vector<int64_t> out;
    for (int i : at) out.push_back(ids[static_cast<std::size_t>(i)]);
    return out;
  };
  Search hook;
  hook.integration = "hook";
  Search refunded = hook;
  refunded.type = "product.refunded";
  Search absent = hook;
  absent.type = "order.completed";
  Search window = hook;  // 5002 to 5004
  window.since_ms = 5002;
  window.until_ms = 5005;
  Search later = hook;
  later.since_ms = 9000;
  Search earlier = hook;
  earlier.until_ms = 1000;
  Search rae = hook;
  rae.email = "RAE@example.com";
  Search from_sc = refunded;
  from_sc.source = "sc";
  Search tests = rae;
  tests.mode = "test";
  // Refunds are numbered r0 (oldest, index 5) to r5 (newest, index 0).
  for (auto &[search, found] : std::vector<std::pair<Search, std::vector<int>>>{{refunded, {0, 1, 2, 3, 4, 5}},
                                                                               {absent, {}},
                                                                               {window, {1, 2, 3}},
                                                                               {later, {}},
                                                                               {earlier, {}},
                                                                               {rae, {0, 1, 2, 3, 4, 5}},
                                                                               {from_sc, {1, 3, 5}},
                                                                               {tests, {2, 5}}}) {
    EXPECT_EQ(job_ids(search), pick(refund_jobs, found)) << search.type << search.since_ms << search.email;
    EXPECT_EQ(event_ids(search), pick(refunds, found)) << search.type << search.since_ms << search.email;
    Search page = search;  // two at a time
    page.limit = 2;
    std::vector<int64_t> jobs, events;
    for (auto more = job_ids(page); !more.empty(); more = job_ids(page)) {
      jobs.insert(jobs.end(), more.begin(), more.end());
      page.before_id = more.back();
    }
    page.before_id = 0;
    for (auto more = event_ids(page); !more.empty(); more = event_ids(page)) {
      events.insert(events.end(), more.begin(), more.end());
      page.before_id = more.back();
    }
    EXPECT_EQ(jobs, pick(refund_jobs, found)) << "page after page";
    EXPECT_EQ(events, pick(refunds, found)) << "page after page";
  }
  Search crm_refunds = refunded;
  crm_refunds.integration = "crm";
  for (auto &row : store_->search_events(crm_refunds)) EXPECT_EQ(row.jobs, 2) << row.id;
  EXPECT_EQ(event_ids(crm_refunds), refunds);
  Search purchased = hook;
  purchased.type = "product.purchased";
  auto newest = job_ids(purchased);
  ASSERT_EQ(newest.size(), 50u);
  EXPECT_EQ(newest.front(), last_purchase);

  if (!backend_.sqlite()) return;  // PostgreSQL plans each search by its statistics
  auto count = [&](const SqlQuery &q) { return sqlite_count(backend_.sqlite_path(), q); };
  for (const Search &search : {refunded, absent, window, later, earlier, rae, from_sc, tests}) {
    Drive for_jobs = choose_drive(search, false, count), for_events = choose_drive(search, true, count);
    EXPECT_NE(for_jobs, Drive::integration) << search.type << search.since_ms << search.email;
    EXPECT_NE(for_events, Drive::integration) << search.type << search.since_ms << search.email;
    Search failed = search;
    failed.states = {"failed", "dead"};
    for (const SqlQuery &q : {job_search_sql(search, Dialect::sqlite, for_jobs),
                              event_search_sql(search, Dialect::sqlite, for_events),
                              job_search_sql(failed, Dialect::sqlite, for_jobs),
                              event_search_sql(failed, Dialect::sqlite, for_events),
                              replayable_jobs_sql(search, Dialect::sqlite, for_jobs)}) {
      auto steps = sqlite_plan(backend_.sqlite_path(), q);
      ASSERT_FALSE(steps.empty()) << q.sql;
      for (auto &step : steps) {
        if (std::regex_match(step, std::regex("SCAN s[0-9]+"))) continue;  // a state's page, merged with the others
        EXPECT_EQ(step.find("SCAN"), std::string::npos) << step << "\n" << q.sql;
        EXPECT_EQ(step.find("jobs_integration"), std::string::npos) << step << "\n" << q.sql;
      }
    }
  }
  EXPECT_EQ(choose_drive(purchased, false, count), Drive::integration) << "a type of many events";
  auto steps = sqlite_plan(backend_.sqlite_path(), job_search_sql(purchased, Dialect::sqlite, Drive::integration));
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps[0], "SEARCH j USING INDEX jobs_integration_id (integration=?)") << "the integration's newest jobs";
}

TEST_P(StoreTest, AReplayWithTheCurrentRulesParametersKeepsThoseItReplacedInTheJobsHistory) {
  std::vector<NewEvent> batch = {event("a", 1)};
  store_->accept(batch, 1000);
  auto claimed = store_->claim("n", 1000, 60000, 10);
  ASSERT_EQ(claimed.size(), 1u);
  int64_t id = claimed[0].id;
  EXPECT_FALSE(store_->replay_with(id, {{"n", 42}}, 1500)) << "a job running (on any node) is not replayed";
  EXPECT_EQ(store_->job(id)->params, (Json{{"n", 0}}));
  EXPECT_TRUE(store_->replays(id).empty());

  store_->finish(attempt(claimed[0], "n", 1000, 1, "permanent", "HTTP 404"), {JobState::failed, 0, "HTTP 404"}, 1001);
  ASSERT_TRUE(store_->replay(id, 2000));
  auto original = store_->claim("n", 2000, 60000, 10);
  ASSERT_EQ(original.size(), 1u);
  EXPECT_EQ(original[0].params, (Json{{"n", 0}})) << "a replay with the original rule sends what the job was made with";
  store_->finish(attempt(original[0], "n", 2000, 1, "permanent", "HTTP 404"), {JobState::dead, 0, "HTTP 404"}, 2001);

  ASSERT_TRUE(store_->replay_with(id, {{"n", 42}}, 3000));
  EXPECT_FALSE(store_->replay_with(id, {{"n", 43}}, 3001)) << "queued by the first";
  EXPECT_FALSE(store_->replay(id, 3001));
  auto current = store_->claim("n", 3000, 60000, 10);
  ASSERT_EQ(current.size(), 1u);
  EXPECT_EQ(current[0].params, (Json{{"n", 42}}));
  EXPECT_EQ(current[0].attempts, 2) << "numbering goes on";
  EXPECT_EQ(store_->job(id)->params, (Json{{"n", 42}}));
  auto history = store_->replays(id);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].at, 2000);
  EXPECT_EQ(history[0].rule, "original");
  EXPECT_EQ(history[0].after_attempt, 1);
  EXPECT_TRUE(history[0].params.is_null());
  EXPECT_EQ(history[1].at, 3000);
  EXPECT_EQ(history[1].rule, "current");
  EXPECT_EQ(history[1].after_attempt, 2);
  EXPECT_EQ(history[1].params, (Json{{"n", 0}})) << "the parameters it had until then";
  EXPECT_EQ(store_->attempts(id).size(), 2u);

  // A job retention removes takes its history with it.
  store_->finish(attempt(current[0], "n", 3000, 1, "ok"), {JobState::succeeded, 0, ""}, 3001);
  EXPECT_EQ(store_->prune(4000, 10), 1);
  EXPECT_TRUE(store_->replays(id).empty());
}

TEST_P(StoreTest, ASubscriptionsHistoryIsItsOwnNewestFirst) {
  auto charge = [&](const std::string &key, const std::string &type, const std::string &subscription) {
    NewEvent e = event(key, 0);
    e.event["type"] = type;
    e.event["subscription"] = {{"id", subscription}};
    return e;
  };
  std::vector<NewEvent> batch = {charge("f1", "subscription.charge_failed", "s1"),
                                 charge("ok", "subscription.charged", "s1"),
                                 charge("f2", "subscription.charge_failed", "s1"),
                                 charge("other", "subscription.charge_failed", "s2")};
  store_->accept(batch, 1000);
  auto history = store_->subscription_history("tc", "ANN@example.com", "s1", 10);
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0], (std::pair<std::string, std::string>{"subscription.charge_failed", "f2"}));
  EXPECT_EQ(history[1].second, "ok");
  EXPECT_EQ(store_->subscription_history("tc", "ann@example.com", "s1", 1).size(), 1u);
  EXPECT_TRUE(store_->subscription_history("other-source", "ann@example.com", "s1", 10).empty());
}

TEST_P(StoreTest, CountRefusesUnknownTables) { EXPECT_EQ(store_->count("events; DROP TABLE events"), -1); }

TEST_P(StoreTest, ResourceListsAreCachedAndReplaced) {
  EXPECT_FALSE(store_->load_list("school", "courses"));
  store_->save_list("school", "courses", Json::array({{{"id", "1"}, {"name", "A"}}}), 1000);
  store_->save_list("school", "courses", Json::array({{{"id", "2"}, {"name", "B"}}, {{"id", "3"}, {"name", "C"}}}), 2000);
  auto list = store_->load_list("school", "courses");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->refreshed_at, 2000);
  ASSERT_EQ(list->items.size(), 2u);
  EXPECT_EQ(list->items[0]["id"], "2");
  EXPECT_FALSE(store_->load_list("school", "bundles"));
}

TEST_P(StoreTest, ActivityCountsEventsAndJobOutcomesPerBucket) {
  std::vector<NewEvent> early = {event("a1", 2), event("a2", 0)};
  store_->accept(early, 1000);
  std::vector<NewEvent> late = {event("b1", 1)};
  store_->accept(late, 3500);
  std::vector<NewEvent> outside = {event("c1", 1)};
  store_->accept(outside, 4000);  // the range is [0, 4000)
  auto claimed = store_->claim("n", 5000, 60000, 10);
  ASSERT_EQ(claimed.size(), 4u);
  store_->finish(attempt(claimed[0], "n", 5000, 1, "ok"), {JobState::succeeded, 0, ""}, 5001);
  store_->finish(attempt(claimed[1], "n", 5000, 1, "permanent", "HTTP 400"), {JobState::dead, 0, "HTTP 400"},
                 5001);
  store_->finish(attempt(claimed[2], "n", 5000, 1, "permanent", "HTTP 422"), {JobState::failed, 0, "HTTP 422"},
                 5001);

  Activity a = store_->activity(0, 4000, 1000);
  ASSERT_EQ(a.buckets.size(), 4u);
  EXPECT_EQ(a.buckets[0].start, 0);
  EXPECT_EQ(a.buckets[0].events, 0);
  EXPECT_EQ(a.buckets[1].start, 1000);
  EXPECT_EQ(a.buckets[1].events, 2);
  EXPECT_EQ(a.buckets[1].jobs, (std::map<std::string, int64_t>{{"dead", 1}, {"succeeded", 1}}));
  EXPECT_EQ(a.buckets[2].events, 0);
  EXPECT_EQ(a.buckets[3].events, 1);
  EXPECT_EQ(a.buckets[3].jobs, (std::map<std::string, int64_t>{{"failed", 1}}));
  ASSERT_EQ(a.failures.size(), 1u);
  EXPECT_EQ(a.failures["hook"], (std::map<std::string, int64_t>{{"dead", 1}, {"failed", 1}}));
  EXPECT_THROW(store_->activity(10, 10, 1000), std::invalid_argument);
}

// Only SQLite files can hold events from before payloads: PostgreSQL's schema began with them.
class OlderSqliteFile : public StoreTest {};
INSTANTIATE_TEST_SUITE_P(On, OlderSqliteFile, ::testing::Values(std::string("sqlite")),
                         [](const auto &info) { return info.param; });

TEST_P(OlderSqliteFile, EventsStoredBeforePayloadsKeepTheirRawInTheBody) {
  std::vector<NewEvent> batch = {event("old", 1)};
  auto stored = store_->accept(batch, 1000);
  // As schema 4 wrote it: raw inside the body, no payload.
  exec("UPDATE events SET body = json_set(body, '$.raw', json('{\"order_id\":\"7\"}')), payload_id = NULL");
  auto e = store_->event(stored[0].event_id);
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["raw"], (Json{{"order_id", "7"}}));
  auto claimed = store_->claim("n", 1000, 60000, 10);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].event["raw"], (Json{{"order_id", "7"}}));
}

// Several hub nodes on one PostgreSQL database: each node is a store of its own.
class SharedStore : public ::testing::Test {
 protected:
  static NewEvent order(const std::string &key, int jobs) {
    NewEvent e;
    e.event = {{"type", "product.purchased"}, {"source", "tc"}, {"dedupe_key", key},
               {"occurred_at", "2026-01-15T10:00:00Z"}, {"customer", {{"email", "ann@example.com"}}}};
    for (int i = 0; i < jobs; ++i) e.jobs.push_back({"r", "hook", "post", {{"n", i}}, "", "", 0});
    return e;
  }

  // An order of `jobs` jobs on `store`, each failed for good after one attempt: jobs to replay.
  static std::vector<ClaimedJob> failed_jobs(Store &store, int jobs) {
    std::vector<NewEvent> batch = {order("o", jobs)};
    store.accept(batch, 1000);
    auto claimed = store.claim("a", 1000, 60000, jobs);
    EXPECT_EQ(claimed.size(), static_cast<std::size_t>(jobs));
    for (auto &j : claimed)
      store.finish(attempt(j, "a", 1000, 1, "permanent", "HTTP 404"), {JobState::failed, 0, "HTTP 404"}, 1001);
    return claimed;
  }

  // Waits until `claim` has ended, or waits for the lock on a row of jobs (a session that waits for a row's
  // lock holds a lock on the row meanwhile).
  template <typename T>
  void until_it_ends_or_waits_for_a_row(std::future<T> &claim) {
    for (int i = 0; i < 500; ++i) {
      if (claim.wait_for(std::chrono::milliseconds(10)) == std::future_status::ready) return;
      if (backend_.scalar("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'tuple' AND relation = 'jobs'::regclass") > 0)
        return;
    }
  }

  cartwire::testing::StoreBackend backend_{"postgresql"};
};

TEST_F(SharedStore, NodesStartingTogetherMigrateOnce) {
  std::vector<std::future<std::unique_ptr<Store>>> nodes;
  for (int i = 0; i < 4; ++i) nodes.push_back(std::async(std::launch::async, [&] { return backend_.open(); }));
  for (auto &n : nodes) EXPECT_NO_THROW(n.get());
  EXPECT_EQ(backend_.scalar("SELECT COUNT(*) FROM schema_migrations"),
            static_cast<int64_t>(postgresql_migrations().size()));
  EXPECT_EQ(backend_.scalar("SELECT COUNT(DISTINCT version) FROM schema_migrations"),
            static_cast<int64_t>(postgresql_migrations().size()));
}

TEST_F(SharedStore, AClaimLeavesAJobWhoseEndedLeaseItsNodeFinishedMeanwhile) {
  auto a = backend_.open(), b = backend_.open();
  std::vector<NewEvent> batch = {order("o", 1)};
  a->accept(batch, 1000);
  auto job = a->claim("node-a", 1000, 2000, 1).at(0);
  // Node a, its lease ended, records its attempt; node b's claim comes in meanwhile.
  cartwire::testing::PostgresSchema::Session node_a(backend_.schema());
  node_a.query("BEGIN");
  node_a.query("UPDATE jobs SET state = 'succeeded', lease_owner = NULL, lease_until = NULL WHERE id = " +
               std::to_string(job.id));
  auto claim = std::async(std::launch::async, [&] { return b->claim("node-b", 5000, 2000, 10); });
  until_it_ends_or_waits_for_a_row(claim);
  node_a.query("COMMIT");
  EXPECT_TRUE(claim.get().empty()) << "a finished job was leased again";
  EXPECT_TRUE(b->claim("node-b", 5000, 2000, 10).empty()) << "a finished job was leased again";
  EXPECT_EQ(b->job(job.id)->state, "succeeded");
}

TEST_F(SharedStore, AnOrderingKeysJobsAreNumberedInTheOrderTheirAcceptsCommit) {
  auto a = backend_.open(), b = backend_.open();
  // Node a is in the middle of accepting the enrolment (its job numbered, not committed)...
  cartwire::testing::PostgresSchema::Session node_a(backend_.schema());
  std::vector<NewEvent> first = {order("bootstrap", 0)};
  int64_t event = a->accept(first, 1000).at(0).event_id;
  node_a.query("BEGIN");
  node_a.query("SELECT pg_advisory_xact_lock(" + std::to_string(kOrderingLock) + ", " + lock_key("'school:ann'") +
               ")");
  node_a.query("INSERT INTO jobs(event_id, rule, integration, action, params, state, attempts, due_at, ordering_key, "
               "created_at, updated_at) VALUES(" + std::to_string(event) +
               ", 'enrol', 'school', 'enroll', '{}', 'queued', 0, 1000, 'school:ann', 1000, 1000)");
  // ... when node b accepts the expiry of the same customer and course.
  auto expire = std::async(std::launch::async, [&] {
    std::vector<NewEvent> batch = {order("refund", 1)};
    batch[0].jobs[0].ordering_key = "school:ann";
    return b->accept(batch, 1100);
  });
  EXPECT_EQ(expire.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout) << "waits for a's commit";
  node_a.query("COMMIT");
  expire.get();
  auto claimed = b->claim("node-b", 2000, 60000, 10);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].rule, "enrol") << "the expiry ran before the enrolment it follows";
}

TEST_F(SharedStore, TwoNodesReplayingOneJobAtOnceReplayItOnce) {
  auto a = backend_.open(), b = backend_.open();
  auto claimed = failed_jobs(*a, 20);
  ASSERT_EQ(claimed.size(), 20u);
  for (auto &j : claimed) {
    auto current = std::async(std::launch::async, [&] { return a->replay_with(j.id, {{"n", 100}}, 2000); });
    auto original = std::async(std::launch::async, [&] { return b->replay(j.id, 2000); });
    EXPECT_EQ(int{current.get()} + int{original.get()}, 1) << "job " << j.id;
    EXPECT_EQ(a->replays(j.id).size(), 1u) << "job " << j.id;
  }
}

TEST_F(SharedStore, AReplayOfAFilterListsOnlyTheJobsItReplayed) {
  auto a = backend_.open();
  auto claimed = failed_jobs(*a, 2);
  ASSERT_EQ(claimed.size(), 2u);
  std::string taken = std::to_string(claimed[0].id);
  // Another node is replaying one of them (not committed yet)...
  cartwire::testing::PostgresSchema::Session other(backend_.schema());
  std::string other_pid = other.query("SELECT pg_backend_pid()").at(0).at(0);
  other.query("BEGIN");
  other.query("SELECT id FROM jobs WHERE id = " + taken + " FOR UPDATE");
  // ... when this node replays every failed job: it waits for that one.
  Search every;
  every.limit = 10;
  auto replayed = std::async(std::launch::async, [&] { return a->replay_matching(every, 2000); });
  bool waits = false;
  for (int i = 0; i < 1000 && !waits; ++i) {
    waits = backend_.scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE " + other_pid +
                            " = ANY(pg_blocking_pids(pid))") > 0;
    if (!waits) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  other.query("UPDATE jobs SET state = 'queued' WHERE id = " + taken);
  other.query("COMMIT");
  ASSERT_TRUE(waits) << "the replay did not wait for the other node's";
  EXPECT_EQ(replayed.get(), (std::vector<int64_t>{claimed[1].id})) << "the other node replayed job " << taken;
  EXPECT_TRUE(a->replays(claimed[0].id).empty());
  EXPECT_EQ(a->replays(claimed[1].id).size(), 1u);
}

TEST_F(SharedStore, TwoNodesCannotHoldOneName) {
  auto a = backend_.open(), b = backend_.open();
  EXPECT_NO_THROW(a->hold_node("web-1"));
  try {
    b->hold_node("web-1");
    FAIL() << "two stores hold web-1";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("another hub node runs as 'web-1'"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(b->hold_node("web-2"));
  a.reset();  // node a stops: its name is free
  EXPECT_NO_THROW(backend_.open()->hold_node("web-1"));
}

TEST_F(SharedStore, TheSchemaIsNotMigratedUnderNodesOfAnEarlierVersion) {
  auto earlier = backend_.open();
  earlier->hold_node("web-1");
  auto other = backend_.open();
  other->hold_node("web-2");
  // As an earlier cartwire left the database: one migration behind this one.
  const int64_t latest = static_cast<int64_t>(postgresql_migrations().size());
  backend_.exec("DELETE FROM schema_migrations WHERE version = " + std::to_string(latest));
  try {
    backend_.open();
    FAIL() << "migrated the schema under two running nodes";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("the database's schema is at version " + std::to_string(latest - 1) +
                                         " and this cartwire's at " + std::to_string(latest) +
                                         ", and 2 node(s) of an earlier cartwire run on it ('web-1', 'web-2'): stop "
                                         "every node, then start the new version (nothing was changed)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(backend_.scalar("SELECT MAX(version) FROM schema_migrations"), latest - 1);
  // A node of their own version, which has nothing to migrate, starts beside them.
  backend_.exec("INSERT INTO schema_migrations(version, applied_at) VALUES(" + std::to_string(latest) + ", 0)");
  EXPECT_NO_THROW(backend_.open()->hold_node("web-3"));
}

TEST_F(SharedStore, HubsInTwoSchemasOfOneDatabaseNeitherShareNamesNorWaitForEachOther) {
  cartwire::testing::StoreBackend staging{"postgresql"};
  auto production = backend_.open(), other = staging.open();
  EXPECT_NO_THROW(production->hold_node("web-1"));
  EXPECT_NO_THROW(other->hold_node("web-1")) << "another hub's node of the same name";
  std::vector<NewEvent> batch = {order("o", 1)}, same = {order("o", 1)};
  // Production is in the middle of a claim and of storing the dedupe key "o"...
  cartwire::testing::PostgresSchema::Session busy(backend_.schema());
  busy.query("BEGIN");
  busy.query("SELECT pg_advisory_xact_lock(" + std::to_string(kClaimLock) + ", " + lock_key() + ")");
  busy.query("SELECT pg_advisory_xact_lock(" + std::to_string(kDedupeLock) + ", " + lock_key("'o'") + ")");
  // ... which holds up neither the other hub's accept of its own "o" nor its claim.
  auto other_work = std::async(std::launch::async, [&] {
    other->accept(same, 1000);
    return other->claim("web-1", 1000, 60000, 10).size();
  });
  ASSERT_EQ(other_work.wait_for(std::chrono::seconds(5)), std::future_status::ready) << "waited for production's locks";
  EXPECT_EQ(other_work.get(), 1u);
  // Production's own accept of "o" waits for them, as it should.
  auto own = std::async(std::launch::async, [&] { return production->accept(batch, 1000); });
  EXPECT_EQ(own.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  busy.query("COMMIT");
  EXPECT_FALSE(own.get().at(0).duplicate);
}

TEST_F(SharedStore, TheNodesCountedAreThoseRunningOnThisHubsSchema) {
  auto a = backend_.open(), b = backend_.open();
  a->hold_node("web-1");
  EXPECT_EQ(a->count_nodes(), 1);
  b->hold_node("web-2");
  cartwire::testing::StoreBackend staging{"postgresql"};
  auto other = staging.open();
  other->hold_node("web-3");  // another hub's node
  EXPECT_EQ(a->count_nodes(), 2);
  EXPECT_EQ(b->count_nodes(), 2);
  EXPECT_EQ(other->count_nodes(), 1);
  // The server ends a closed connection's session, and its locks, a moment after.
  auto settled = [&] {
    for (int i = 0; i < 250 && a->count_nodes() != 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return a->count_nodes();
  };
  b.reset();  // web-2 stops (or dies: its session ends either way)
  EXPECT_EQ(settled(), 1);
  backend_.open()->hold_node("web-2");  // held only while that store is open
  EXPECT_EQ(settled(), 1);
}

TEST_F(SharedStore, ANodeWhoseConnectionsWereDroppedIsCountedAgainWithoutWriting) {
  auto a = backend_.open(), b = backend_.open();
  a->hold_node("web-1");
  b->hold_node("web-2");
  EXPECT_EQ(b->count_nodes(), 2);
  ASSERT_GE(backend_.schema().drop_connections(), 2);  // as a database restart would
  // Node a stores nothing meanwhile: counting the nodes, as each node does every few seconds,
  // connects it again and takes its name back (a first count may meet the dropped connection).
  auto count = [](Store &s) {
    try {
      return s.count_nodes();
    } catch (const std::exception &) {
      return -1;
    }
  };
  int seen = -1;
  for (int i = 0; i < 50 && seen != 2; ++i) {
    count(*a);
    seen = count(*b);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(seen, 2);
}

TEST_F(SharedStore, AClaimOnANewSessionTakesTheNodesNameBackFirst) {
  auto a = backend_.open();
  a->hold_node("web-1");
  std::vector<NewEvent> batch = {order("o", 1)};
  a->accept(batch, 1000);
  auto held_since = a->name_held_since();
  ASSERT_GE(backend_.schema().drop_connections(), 4);  // as a database restart would
  // Node a only claims: its claim, on a new session, takes the name back before it leases a job.
  EXPECT_EQ(a->claim("web-1", 2000, 60000, 10).size(), 1u);
  EXPECT_THROW(backend_.open()->hold_node("web-1"), NodeInUse) << "a leased a job under a name it did not hold";
  EXPECT_GT(a->name_held_since(), held_since) << "held on the new session since it took it again";
}

TEST_F(SharedStore, AClaimAfterTheSessionHoldingTheNameWasEndedTakesTheNameBackFirst) {
  auto a = backend_.open();
  a->hold_node("web-1");
  std::vector<NewEvent> batch = {order("o", 1)};
  a->accept(batch, 1000);
  // An administrator ends the session holding a's name, and only it.
  std::string holder = std::to_string(backend_.scalar(
      "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = " + std::to_string(kNodeLock) +
      "::int4::oid AND objsubid = 2 AND objid = " + lock_key("'web-1'") + "::oid"));
  ASSERT_EQ(backend_.scalar("SELECT COUNT(*) FROM pg_terminate_backend(" + holder + ", 10000) AS ended WHERE ended"), 1);
  // Node a's claim, on its own session, takes the name back before it leases a job under it.
  auto claimed = a->claim("web-1", 2000, 60000, 10);
  EXPECT_THROW(backend_.open()->hold_node("web-1"), NodeInUse) << "a leased a job under a name no session held";
  if (claimed.empty()) claimed = a->claim("web-1", 2000, 60000, 10);
  EXPECT_EQ(claimed.size(), 1u);
}

namespace {

// The count of this schema's advisory locks of `kind` (postgres_module.hpp) on `what` (as lock_key() takes it)
// that are (not) granted: the tests running beside it on the server take theirs under their own schema's keys.
std::string advisory_locks(int kind, const std::string &what, bool granted) {
  return "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = " + std::to_string(kind) +
         "::int4::oid AND objsubid = 2 AND objid = " + lock_key(what) + "::oid AND " + (granted ? "" : "NOT ") +
         "granted";
}

// Waits until `sql` counts `n`.
bool counts(const cartwire::testing::StoreBackend &backend, const std::string &sql, int64_t n) {
  for (int i = 0; i < 500 && backend.scalar(sql) != n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return backend.scalar(sql) == n;
}

}  // namespace

TEST_F(SharedStore, AConnectionMadeAgainEndsItsOldSessionThatACutLeftHoldingItsTransactionsLocks) {
  cartwire::testing::PostgresProxy proxy(backend_.schema().conninfo());
  auto a = open_postgresql(proxy.through(backend_.schema().conninfo()));
  // Node a's accept waits, inside its transaction, for an order's dedupe key that another session holds.
  cartwire::testing::PostgresSchema::Session other(backend_.schema());
  other.query("BEGIN");
  other.query("SELECT pg_advisory_xact_lock(" + std::to_string(kDedupeLock) + ", " + lock_key("'o'") + ")");
  auto cut_off = std::async(std::launch::async, [&] {
    std::vector<NewEvent> batch = {order("o", 1)};
    a->accept(batch, 1000);
  });
  ASSERT_TRUE(counts(backend_, advisory_locks(kDedupeLock, "'o'", false), 1));
  // The network between a and the server is cut: a's accept fails, while on the server its session
  // goes on, takes the key once the other session lets it go, and holds it, idle in its transaction.
  proxy.cut();
  EXPECT_THROW(cut_off.get(), std::exception);
  other.query("COMMIT");
  ASSERT_TRUE(counts(backend_, advisory_locks(kDedupeLock, "'o'", true), 1));
  // Node a's next write, on a new session, ends that old one: the key is free for the cart's retry
  // (to any node). Before, the server kept the old session, and the key, for a minute.
  std::vector<NewEvent> next = {order("p", 1)};
  EXPECT_NO_THROW(a->accept(next, 2000));
  EXPECT_EQ(backend_.scalar(advisory_locks(kDedupeLock, "'o'", true)), 0) << "the old session still holds the key";
  std::vector<NewEvent> retry = {order("o", 1)};
  EXPECT_NO_THROW(backend_.open()->accept(retry, 3000));
}

TEST_F(SharedStore, AClaimSessionACutLeftIdleInItsTransactionIsEndedByTheServerSoThatOtherNodesClaim) {
  cartwire::testing::PostgresProxy proxy(backend_.schema().conninfo());
  auto a = open_postgresql(proxy.through(backend_.schema().conninfo()));
  auto b = backend_.open();
  std::vector<NewEvent> batch = {order("o", 1)};
  b->accept(batch, 1000);
  // Node a's claim waits, inside its transaction, for the claim lock another session holds.
  cartwire::testing::PostgresSchema::Session other(backend_.schema());
  other.query("BEGIN");
  other.query("SELECT pg_advisory_xact_lock(" + std::to_string(kClaimLock) + ", " + lock_key() + ")");
  auto cut_off = std::async(std::launch::async, [&] { return a->claim("web-1", 2000, 60000, 10); });
  ASSERT_TRUE(counts(backend_, advisory_locks(kClaimLock, "''", false), 1));
  // The network between a and the server is cut, and node a is gone (a crash, a kill): its claim's
  // session takes the lock once the other session lets it go, and holds it, idle in its transaction.
  proxy.cut();
  EXPECT_THROW(cut_off.get(), std::exception);
  a.reset();
  other.query("COMMIT");
  ASSERT_TRUE(counts(backend_, advisory_locks(kClaimLock, "''", true), 1));
  // Node b's claim waits (10 s at most) until the server ends that session, a few seconds idle in a
  // claim's transaction, and claims. Before, the server ended it after a minute, and every node's
  // claims failed meanwhile.
  std::vector<ClaimedJob> claimed;
  EXPECT_NO_THROW(claimed = b->claim("web-2", 2000, 60000, 10));
  EXPECT_EQ(claimed.size(), 1u);
}

TEST_F(SharedStore, ANodeWhoseNameAnotherTookWhileItWasCutOffClaimsAndWritesNothingMore) {
  auto a = backend_.open();
  a->hold_node("web-1");
  std::vector<std::string> told;
  a->on_name_lost([&](const std::string &why) { told.push_back(why); });
  std::vector<NewEvent> batch = {order("o", 1)};
  a->accept(batch, 1000);
  auto running = a->claim("web-1", 1000, 60000, 1).at(0);
  std::vector<NewEvent> more = {order("p", 1)};
  a->accept(more, 1000);
  // The database restarts; node b, started under the same name, holds it before a is back.
  ASSERT_GE(backend_.schema().drop_connections(), 4);
  auto b = backend_.open();
  b->hold_node("web-1");
  EXPECT_THROW(a->claim("web-1", 2000, 60000, 10), NodeInUse);
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0], "another hub node runs as 'web-1' on this database: it took the name while this node's "
                     "connection to the database was lost (a restart or failover of the database)");
  // Nor does a record the attempt it was making, renew its lease, or store anything; it is told once.
  EXPECT_THROW(a->finish(attempt(running, "web-1", 1000, 5, "ok"), {JobState::succeeded, 0, ""}, 2000),
               NodeInUse);
  EXPECT_THROW(a->renew_leases({running.id}, "web-1", 90000), NodeInUse);
  std::vector<NewEvent> later = {order("q", 1)};
  EXPECT_THROW(a->accept(later, 2000), NodeInUse);
  EXPECT_THROW(a->claim("web-1", 2000, 60000, 10), NodeInUse);
  EXPECT_EQ(told.size(), 1u);
  // Node b puts back what was leased under the name, and runs both jobs.
  EXPECT_EQ(b->requeue_running("web-1"), 1);
  EXPECT_EQ(b->claim("web-1", 2000, 60000, 10).size(), 2u);
  EXPECT_TRUE(b->attempts(running.id).empty());
}

TEST_F(SharedStore, AClaimUnderWayAsItsNodeLosesItsNameHasItsJobsPutBackByTheNodeTakingTheName) {
  auto a = backend_.open();
  a->hold_node("web-1");
  std::vector<NewEvent> batch = {order("o", 1)};
  a->accept(batch, 1000);
  // Node a's claim, past its look at the name, waits to lease the job: another session holds the jobs table
  // against writes (a claim leaves a row another session holds, and waits for none).
  cartwire::testing::PostgresSchema::Session other(backend_.schema());
  other.query("BEGIN");
  other.query("LOCK TABLE jobs IN EXCLUSIVE MODE");
  auto claiming = std::async(std::launch::async, [&] { return a->claim("web-1", 2000, 60000, 10); });
  ASSERT_TRUE(counts(backend_,
                     "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'relation' AND relation = 'jobs'::regclass AND "
                     "NOT granted AND pid IN (SELECT pid FROM pg_stat_activity WHERE application_name = "
                     "current_schema())",
                     1));
  ASSERT_EQ(backend_.scalar(advisory_locks(kClaimLock, "''", true)), 1);
  // Meanwhile the session holding a's name ends, and node b, started under the name, puts back what is leased
  // under it: it waits for a's claim (before: it found nothing, and a's claim then leased the job under the
  // name, which no node ran or renewed until its lease ended).
  std::string holder = std::to_string(backend_.scalar(
      "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = " + std::to_string(kNodeLock) +
      "::int4::oid AND objsubid = 2 AND objid = " + lock_key("'web-1'") + "::oid"));
  ASSERT_EQ(backend_.scalar("SELECT COUNT(*) FROM pg_terminate_backend(" + holder + ", 10000) AS ended WHERE ended"), 1);
  auto b = backend_.open();
  b->hold_node("web-1");
  auto requeueing = std::async(std::launch::async, [&] { return b->requeue_running("web-1"); });
  for (int i = 0; i < 500 && requeueing.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready &&
                  backend_.scalar(advisory_locks(kClaimLock, "''", false)) == 0;
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  other.query("COMMIT");
  EXPECT_EQ(claiming.get().size(), 1u);
  EXPECT_EQ(requeueing.get(), 1);
  EXPECT_EQ(b->claim("web-1", 3000, 60000, 10).size(), 1u);
}

TEST_F(SharedStore, AClaimCutsShortTheLeasesHeldUnderNamesNoSessionHoldsAndLeavesThoseOfLiveNodes) {
  auto a = backend_.open(), b = backend_.open(), c = backend_.open();
  a->hold_node("web-1");
  b->hold_node("web-2");
  c->hold_node("web-3");
  std::vector<NewEvent> batch = {order("o", 1), order("p", 1), order("q", 1), order("r", 1)};
  a->accept(batch, 1000);
  auto killed = a->claim("web-1", 1000, 600000, 2);
  ASSERT_EQ(killed.size(), 2u);
  int64_t live = c->claim("web-3", 1000, 600000, 1).at(0).id;
  // A lease under a name that no node holds nor has a row of in nodes (an earlier cartwire's).
  int64_t unknown = c->claim("web-3", 1000, 600000, 1).at(0).id;
  backend_.exec("UPDATE jobs SET lease_owner = 'web-9' WHERE id = " + std::to_string(unknown));
  // Node a is killed: the server ends its sessions, and its name is free; the leases hold for 10 minutes.
  a.reset();
  ASSERT_TRUE(counts(backend_, advisory_locks(kNodeLock, "'web-1'", true), 0));
  auto leases_until = [&](int64_t until) {
    return backend_.scalar("SELECT COUNT(*) FROM jobs WHERE state = 'running' AND lease_until = " +
                           std::to_string(until));
  };
  // Node b's claims leave them alone for a while after it took its name (the other nodes may be connecting
  // again after a restart of the database)...
  EXPECT_TRUE(b->claim("web-2", 2000, 60000, 10).empty());
  EXPECT_EQ(leases_until(601000), 4);
  std::this_thread::sleep_for(kRejoinTime);
  // ... then end the leases under free names 10 s on: the time for a supervisor to start a crashed node again.
  EXPECT_TRUE(b->claim("web-2", 3000, 60000, 10).empty());
  EXPECT_EQ(leases_until(13000), 3) << "before: they held until 601000";
  EXPECT_EQ(backend_.scalar("SELECT lease_until FROM jobs WHERE lease_owner = 'web-3'"), 601000)
      << "the lease of a node that runs was cut short";
  // Node a, started again meanwhile, fails the job whose attempt crashed it (its crash note), still leased to it.
  {
    auto again = backend_.open();
    again->hold_node("web-1");
    AttemptRecord crashed;
    crashed.job_id = killed[0].id;
    crashed.outcome = "permanent";
    crashed.error = "the hub stopped with SIGSEGV during this attempt";
    EXPECT_TRUE(again->fail_interrupted(crashed, "web-1", 4000));
  }
  // Once they end, b's claim takes the others, and never the live node's.
  std::set<int64_t> claimed;
  for (auto &job : b->claim("web-2", 13001, 60000, 10)) claimed.insert(job.id);
  EXPECT_EQ(claimed, (std::set<int64_t>{killed[1].id, unknown}));
  EXPECT_EQ(backend_.scalar("SELECT COUNT(*) FROM jobs WHERE state = 'running' AND lease_owner = 'web-3' AND id = " +
                            std::to_string(live)),
            1);
}

TEST_F(SharedStore, ANodeBackFromARestartOfTheDatabaseFirstCutsShortNoLeasesOfTheNodesNotBackYet) {
  auto a = backend_.open(), b = backend_.open();
  a->hold_node("web-1");
  b->hold_node("web-2");
  std::vector<NewEvent> batch = {order("o", 1)};
  a->accept(batch, 1000);
  int64_t running = a->claim("web-1", 1000, 600000, 1).at(0).id;
  std::string lease = "SELECT lease_until FROM jobs WHERE state = 'running' AND lease_owner = 'web-1' AND id = " +
                      std::to_string(running);
  std::this_thread::sleep_for(kRejoinTime);  // b has held its name that long
  ASSERT_GE(backend_.schema().drop_connections(), 8);  // as a restart of the database would
  // Node b is back first: a's name is free until a connects again, at its next count at the latest, while
  // a's attempt of the job runs.
  EXPECT_TRUE(b->claim("web-2", 2000, 60000, 10).empty());
  EXPECT_EQ(backend_.scalar(lease), 601000) << "the lease of a node not back yet was cut short";
  EXPECT_EQ(a->count_nodes(), 2);  // a is back, and holds its name again
  std::this_thread::sleep_for(kRejoinTime);
  EXPECT_TRUE(b->claim("web-2", 3000, 60000, 10).empty());
  EXPECT_EQ(backend_.scalar(lease), 601000) << "the lease of a node that runs was cut short";
}

TEST_F(SharedStore, AReadAfterTheServerEndedTheConnectionsIsSentAgainOnANewOne) {
  auto a = backend_.open();
  std::vector<NewEvent> batch = {order("o", 1)};
  int64_t job = a->accept(batch, 1000).at(0).job_ids.at(0);
  ASSERT_GE(backend_.schema().drop_connections(), 4);  // as a database restart would
  // The first read on each connection (a readiness check, the console's) meets its ended session.
  EXPECT_NO_THROW(a->ping());
  EXPECT_EQ(a->count("jobs"), 1);
  ASSERT_TRUE(a->job(job).has_value());
  EXPECT_EQ(a->job(job)->state, "queued");
}

TEST_F(SharedStore, ACommandThatOnlyReadsChangesNoSchema) {
  try {
    open_postgresql(backend_.schema().conninfo(), /*migrate=*/false);
    FAIL() << "opened a database without this hub's schema";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("schema is at version 0"), std::string::npos) << e.what();
  }
  EXPECT_EQ(backend_.scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '" +
                            backend_.schema().name() + "'"),
            0);
  backend_.open();  // as a serving node: migrated
  EXPECT_NO_THROW(open_postgresql(backend_.schema().conninfo(), /*migrate=*/false));
}

TEST_F(SharedStore, NodesClaimingAtOnceNeverTakeTheSameJob) {
  auto a = backend_.open(), b = backend_.open();
  constexpr int kJobs = 300;
  for (int i = 0; i < kJobs / 10; ++i) {
    std::vector<NewEvent> batch = {order("o" + std::to_string(i), 10)};
    a->accept(batch, 1000);
  }
  auto drain = [](Store &store, const std::string &node) {
    std::vector<int64_t> ids;
    for (int empty = 0; empty < 3;) {
      auto claimed = store.claim(node, 1000, 60000, 7);
      if (claimed.empty()) ++empty;
      for (auto &j : claimed) ids.push_back(j.id);
    }
    return ids;
  };
  auto from_a = std::async(std::launch::async, drain, std::ref(*a), "node-a");
  auto from_b = std::async(std::launch::async, drain, std::ref(*b), "node-b");
  std::vector<int64_t> ids = from_a.get(), of_b = from_b.get();
  EXPECT_FALSE(ids.empty());
  EXPECT_FALSE(of_b.empty());
  ids.insert(ids.end(), of_b.begin(), of_b.end());
  std::set<int64_t> distinct(ids.begin(), ids.end());
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kJobs)) << "a job was leased twice";
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(backend_.scalar("SELECT COUNT(*) FROM jobs WHERE state = 'running' AND lease_owner IN ('node-a', 'node-b')"),
            kJobs);
}

TEST_F(SharedStore, AClaimLeavesAJobWhoseRowAnotherTransactionHoldsToTheNextClaimRatherThanWaitForIt) {
  auto a = backend_.open();
  std::vector<NewEvent> batch = {order("o", 2)};
  std::vector<int64_t> jobs = a->accept(batch, 1000).at(0).job_ids;
  ASSERT_EQ(jobs.size(), 2u);
  std::string first = std::to_string(jobs[0]), second = std::to_string(jobs[1]);
  // Another transaction (a group commit recording a late attempt, say) holds the second job's row, and
  // takes the first's next: the other order than a claim's.
  cartwire::testing::PostgresSchema::Session other(backend_.schema());
  other.query("BEGIN");
  other.query("SELECT id FROM jobs WHERE id = " + second + " FOR UPDATE");
  auto claim = std::async(std::launch::async, [&] { return a->claim("web-1", 1000, 60000, 10); });
  until_it_ends_or_waits_for_a_row(claim);
  // Before, the claim held the first job's row and waited for the second's: the server broke the deadlock by
  // failing one of the two transactions.
  std::string failed;
  try {
    other.query("UPDATE jobs SET attempts = attempts WHERE id = " + first);
  } catch (const std::exception &e) {
    failed = e.what();
  }
  other.query("COMMIT");
  EXPECT_EQ(failed, "");
  std::vector<ClaimedJob> claimed;
  EXPECT_NO_THROW(claimed = claim.get());
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, jobs[0]);
  // The next claim takes the job left.
  claimed = a->claim("web-1", 1000, 60000, 10);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, jobs[1]);
}

TEST_F(SharedStore, AConcurrencyLimitCountsTheRunningJobsOfEveryNode) {
  auto a = backend_.open(), b = backend_.open();
  std::vector<NewEvent> batch = {order("o", 5)};
  a->accept(batch, 1000);
  EXPECT_EQ(a->claim("node-a", 1000, 60000, 10, {{"hook", 2}}).size(), 2u);
  EXPECT_TRUE(b->claim("node-b", 1000, 60000, 10, {{"hook", 2}}).empty());
  EXPECT_EQ(b->claim("node-b", 1000, 60000, 10, {{"hook", 3}}).size(), 1u);
}

TEST_F(SharedStore, AnEventDeliveredToTwoNodesAtOnceIsStoredOnce) {
  auto a = backend_.open(), b = backend_.open();
  constexpr int kKeys = 60;
  auto deliver = [](Store &store) {
    int stored = 0;
    for (int i = 0; i < kKeys; ++i) {
      std::vector<NewEvent> batch = {order("k" + std::to_string(i), 1), order("k" + std::to_string(i) + ":item", 1)};
      for (auto &accepted : store.accept(batch, 1000)) stored += !accepted.duplicate;
    }
    return stored;
  };
  auto by_a = std::async(std::launch::async, deliver, std::ref(*a));
  auto by_b = std::async(std::launch::async, deliver, std::ref(*b));
  EXPECT_EQ(by_a.get() + by_b.get(), 2 * kKeys);
  EXPECT_EQ(backend_.scalar("SELECT COUNT(*) FROM events"), 2 * kKeys);
  EXPECT_EQ(backend_.scalar("SELECT COUNT(*) FROM jobs"), 2 * kKeys);
}

TEST_F(SharedStore, AnEventWaitsForAnotherNodeStoringItsFactUnderAnotherKeyAndIsADuplicateOfIt) {
  auto store = backend_.open();
  // Another node or process stores the fact under `key` and holds the locks its accept takes, not committed
  // yet, while this store's accept of `event` is under way; true when that accept waited for it, and found it.
  auto meanwhile = [&](const std::string &key, const std::vector<std::string> &locks, NewEvent event) {
    cartwire::testing::PostgresSchema::Session other(backend_.schema());
    other.query("BEGIN");
    for (const std::string &lock : locks)
      other.query("SELECT pg_advisory_xact_lock(" + std::to_string(kDedupeLock) + ", " + lock_key("'" + lock + "'") +
                  ")");
    other.query("INSERT INTO events(source, type, dedupe_key, occurred_at, received_at, mode, email, order_id, "
                "item_ref, body) VALUES('tc', 'product.refunded', '" + key + "', '2026-02-15T10:00:00Z', 0, 'live', "
                "'ann@example.com', '9301', 'product-12', '{}')");
    std::vector<NewEvent> batch = {std::move(event)};
    auto accepted = std::async(std::launch::async, [&] { return store->accept(batch, 1000); });
    bool waited = counts(backend_,
                         "SELECT COUNT(*) FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid WHERE l.locktype = "
                         "'advisory' AND NOT l.granted AND s.application_name = '" + backend_.schema().name() + "'",
                         1);
    other.query("COMMIT");
    auto stored = accepted.get();
    EXPECT_TRUE(waited) << "the accept of " << key << "'s fact did not wait for it";
    return stored.size() == 1 && stored[0].duplicate;
  };
  // An import stores a refund at the start of its minute (its own key's lock) as its webhook, dated at
  // 10:00:37, names that key.
  NewEvent webhook = order("refund:1771149637", 1);
  webhook.alternatives = {"refund:1771149600"};
  EXPECT_TRUE(meanwhile("refund:1771149600", {"refund:1771149600"}, webhook)) << "the refund was stored twice";
  // A webhook stores a refund at 10:01:37 (its own key's lock and the minute's start, which it names) as an
  // import of a spreadsheet's copy dated to the minute names each second of it.
  NewEvent minute = order("refund:1771149660", 1);
  for (int second = 1; second < 60; ++second) minute.alternatives.push_back("refund:" + std::to_string(1771149660 + second));
  EXPECT_TRUE(meanwhile("refund:1771149697", {"refund:1771149697", "refund:1771149660"}, minute))
      << "the refund was stored twice";
  EXPECT_EQ(backend_.scalar("SELECT COUNT(*) FROM events"), 2);
  EXPECT_EQ(backend_.scalar("SELECT COUNT(*) FROM jobs"), 0);
}

TEST_F(SharedStore, TwoNodesAcceptingTheSameEventsInOppositeOrderDoNotDeadlock) {
  auto a = backend_.open(), b = backend_.open();
  // Another node is storing the keys "x" and "y": a's accept waits for x, b's for y...
  cartwire::testing::PostgresSchema::Session busy(backend_.schema());
  busy.query("BEGIN");
  for (const char *key : {"'x'", "'y'"})
    busy.query("SELECT pg_advisory_xact_lock(" + std::to_string(kDedupeLock) + ", " + lock_key(key) + ")");
  auto accept = [](Store &store, std::vector<NewEvent> batch) {
    int stored = 0;
    for (auto &accepted : store.accept(batch, 1000)) stored += !accepted.duplicate;
    return stored;
  };
  // ... each having received k1 and k2 in the other's order.
  auto by_a = std::async(std::launch::async, accept, std::ref(*a),
                         std::vector<NewEvent>{order("k1", 1), order("x", 1), order("k2", 1)});
  auto by_b = std::async(std::launch::async, accept, std::ref(*b),
                         std::vector<NewEvent>{order("k2", 1), order("y", 1), order("k1", 1)});
  auto waiting = [&] {
    return backend_.scalar("SELECT COUNT(*) FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid "
                           "WHERE l.locktype = 'advisory' AND NOT l.granted AND s.application_name = '" +
                           backend_.schema().name() + "'");
  };
  for (int i = 0; i < 500 && waiting() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(waiting(), 2) << "both accepts wait for a lock";
  busy.query("COMMIT");
  int stored = 0;
  for (auto *accepted : {&by_a, &by_b}) {
    try {
      stored += accepted->get();
    } catch (const std::exception &e) {
      ADD_FAILURE() << e.what();
    }
  }
  EXPECT_EQ(stored, 4);
  EXPECT_EQ(backend_.scalar("SELECT COUNT(*) FROM events"), 4);
  EXPECT_EQ(backend_.scalar("SELECT COUNT(*) FROM jobs"), 4);
}

TEST(PostgresStore, AServerThatCannotBeReachedIsAClearError) {
  try {
    open_postgresql("host=/nonexistent-cartwire-socket-dir dbname=cartwire connect_timeout=2");
    FAIL() << "opened a store without a server";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect to PostgreSQL"), std::string::npos) << e.what();
  }
}
