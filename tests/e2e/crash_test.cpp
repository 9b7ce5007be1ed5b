// Sustained webhook load while the hub is killed with SIGKILL at random
// moments and restarted; then reconcile what was acknowledged against what
// was stored and delivered.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "../support/hub_process.hpp"
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
