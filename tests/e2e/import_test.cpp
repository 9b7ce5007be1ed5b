// `cartwire import`: the real binary imports generated ThriveCart exports into
// the store that a running hub fills from webhooks, and neither duplicates
// the other.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <tuple>

#include "../support/hub_process.hpp"
#include "../support/postgres.hpp"
#include "../support/thrivecart_payloads.hpp"

using namespace cartwire::testing;
namespace tc = cartwire::testing::thrivecart;

namespace {

const std::string kSecret = "S3cretWord-import";

std::string config() {
  return "runner:\n  workers: 1\n  poll_interval: 100ms\n"
         "sources:\n"
         "  thrivecart:\n"
         "    connector: thrivecart\n"
         "    settings: {secret: \"" + kSecret + "\", account: acme}\n"
         "integrations:\n"
         "  hook:\n"
         "    connector: notifyurl\n"
         "    settings: {url: \"http://127.0.0.1:9/unused\", secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}\n"
         "rules:\n"
         "  - name: upsells\n"
         "    on: product.purchased\n"
         "    where: {item.reference: upsell-*}\n"
         "    do: hook.post\n";
}

const char *kHeader = "Order ID,Invoice ID,Order Date,Customer Email,Customer First Name,Customer Last Name,"
                      "Item Type,Item ID,Item Name,Amount,Currency,Mode\n";

/** Two rows per order (product-12 and upsell-13), as the webhook's order_success() with those items. */
std::string order_rows(int first_order, int orders) {
  std::string out;
  for (int i = first_order; i < first_order + orders; ++i) {
    std::string id = std::to_string(i);
    out += id + ",000000004,2026-01-15 10:00:00,buyer" + id + "@example.com,Ann,Lee,product,12,Course,49.95,USD,live\n";
    out += id + ",000000004,2026-01-15 10:00:00,buyer" + id + "@example.com,Ann,Lee,upsell,13,Coaching,49.95,USD,live\n";
  }
  return out;
}

std::string write_file(HubProcess &hub, const std::string &name, const std::string &text) {
  std::string path = (hub.dir() / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::vector<std::string> import_args(HubProcess &hub, const std::string &file, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"import", "thrivecart", file, "--config", hub.config_path()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

long long events(HubProcess &hub) { return hub.count("SELECT COUNT(*) FROM events"); }
long long jobs(HubProcess &hub) { return hub.count("SELECT COUNT(*) FROM jobs"); }

TEST(Import, FiveThousandRowsThenTheirWebhooksAddNothing) {
  HubProcess hub("import-then-webhooks", config());
  std::string file = write_file(hub, "orders.csv", kHeader + order_rows(100000, 2500));

  // Under the sanitizers an import reads a few hundred rows a second.
  auto [code, out] = hub.run(import_args(hub, file), std::chrono::seconds(100));
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("orders export " + file + ": 5000 row(s) read, 7500 event(s) new, 0 already present, "
                                            "2500 repeated in the file, 0 row(s) unreadable; 0 job(s) created"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find('\r'), std::string::npos) << "no progress line when stderr is not a terminal";
  EXPECT_EQ(events(hub), 7500);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE type = 'order.completed'"), 2500);
  EXPECT_EQ(jobs(hub), 0) << "rules do not run without --run-rules";

  hub.start();
  tc::Item course{"product", "12", "Course", 4995}, coaching{"upsell", "13", "Coaching", 4995};
  for (int i = 100000; i < 102500; i += 25) {
    auto r = hub.post("/hooks/thrivecart", tc::order_success(kSecret, std::to_string(i), {course, coaching}));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // A webhook for an order the export does not hold is new, and runs its rules.
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::order_success(kSecret, "200000", {course, coaching})).status, 200);
  hub.stop();
  EXPECT_EQ(events(hub), 7503);
  EXPECT_EQ(jobs(hub), 1);
}

// A source for imports only has no secret word: the import stores the file through it, and the hub takes no
// webhook for it, saying why.
TEST(Import, ASourceForImportsOnlyTakesTheFileAndNoWebhook) {
  std::string cfg = config();
  const std::string webhook_source = "    settings: {secret: \"" + kSecret + "\", account: acme}\n";
  ASSERT_NE(cfg.find(webhook_source), std::string::npos);
  cfg.replace(cfg.find(webhook_source), webhook_source.size(), "    trigger: csv\n    settings: {account: acme}\n");
  HubProcess hub("import-only-source", cfg);
  std::string file = write_file(hub, "orders.csv", kHeader + order_rows(1, 5));
  auto [code, out] = hub.run(import_args(hub, file, {"--run-rules"}));
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("10 row(s) read, 15 event(s) new, 0 already present, 5 repeated in the file, 0 row(s) "
                     "unreadable; 5 job(s) created"),
            std::string::npos)
      << out;

  hub.start();
  tc::Item course{"product", "12", "Course", 4995};
  auto refused = hub.post("/hooks/thrivecart", tc::order_success(kSecret, "77", {course}));
  EXPECT_EQ(refused.status, 404);
  EXPECT_NE(refused.body.find("source 'thrivecart' is for imports only (trigger csv, cartwire import); it takes no "
                              "webhooks"),
            std::string::npos)
      << refused.body;
  hub.stop();
  EXPECT_EQ(events(hub), 15);
  EXPECT_EQ(hub.log().find("left out"), std::string::npos) << hub.log();
}

TEST(Import, ASecondImportOfTheSameFileAddsNothing) {
  HubProcess hub("import-twice", config());
  std::string file = write_file(hub, "orders.csv", kHeader + order_rows(1, 50));
  auto [code, out] = hub.run(import_args(hub, file));
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("150 event(s) new, 0 already present, 50 repeated in the file"), std::string::npos) << out;
  auto [again, out2] = hub.run(import_args(hub, file, {"--run-rules"}));
  ASSERT_EQ(again, 0) << out2;
  // Every order's second row names the order again: that too was stored before this run.
  EXPECT_NE(out2.find("0 event(s) new, 200 already present, 0 repeated in the file, 0 row(s) unreadable; 0 job(s)"),
            std::string::npos)
      << out2;
  EXPECT_EQ(events(hub), 150);
  EXPECT_EQ(jobs(hub), 0);
}

TEST(Import, RowsOfOrdersTheWebhooksBroughtFirstAreAlreadyPresent) {
  HubProcess hub("webhooks-then-import", config());
  hub.start();
  tc::Item course{"product", "12", "Course", 4995}, coaching{"upsell", "13", "Coaching", 4995};
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::order_success(kSecret, "7", {course, coaching})).status, 200);
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::rebill(kSecret, "7", "000000009", coaching)).status, 200);
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::cancel(kSecret, "7", coaching)).status, 200);
  hub.stop();
  ASSERT_EQ(events(hub), 5);

  std::string orders = write_file(hub, "orders.csv",
                                  std::string(kHeader) + order_rows(7, 2));
  // The rebill row says so in a column the plain orders rows leave out.
  std::string with_type = write_file(hub, "rebills.csv",
                                     "order_id,invoice_id,transaction_type,customer_email,item_reference,amount\n"
                                     "7,000000009,rebill,buyer7@example.com,upsell-13,49.95\n");
  auto [code, out] = hub.run(import_args(hub, orders, {"--kind", "orders"}));
  EXPECT_EQ(code, 0) << out;
  // Order 7 came by webhook; order 8 is new, and its second row repeats the order.
  EXPECT_NE(out.find("3 event(s) new, 4 already present, 1 repeated in the file"), std::string::npos) << out;
  auto [code2, out2] = hub.run(import_args(hub, with_type));
  EXPECT_NE(out2.find("0 event(s) new, 1 already present"), std::string::npos) << out2;

  std::string subscriptions = write_file(hub, "subscriptions.csv",
                                         "Subscription ID,Status,Customer Email,Item Reference\n"
                                         "sub_7,Cancelled,buyer7@example.com,upsell-13\n"
                                         "sub_8,Active,buyer8@example.com,upsell-13\n");
  auto [code3, out3] = hub.run(import_args(hub, subscriptions));
  EXPECT_EQ(code3, 0) << out3;
  EXPECT_NE(out3.find("subscriptions export"), std::string::npos) << out3;
  EXPECT_NE(out3.find("2 row(s) read, 0 event(s) new, 1 already present"), std::string::npos) << out3;
}

TEST(Import, ARefundRowIsComparedWithItsPurchaseInTheFileOrTheStore) {
  HubProcess hub("import-refunds", config());
  // A refund row has one amount: what was refunded. The purchase decides full or partial.
  std::string file = write_file(hub, "orders.csv",
                                "order_id,transaction_type,order_date,customer_email,item_reference,amount\n"
                                "9001,,2026-01-15 10:00:00,ann@example.com,product-12,49.95\n"
                                "9001,refund,2026-01-20 09:00:00,ann@example.com,product-12,20.00\n"
                                "9002,,2026-01-15 10:00:00,bob@example.com,product-12,49.95\n");
  auto [code, out] = hub.run(import_args(hub, file));
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE type = 'product.partially_refunded' AND order_id = '9001' AND "
                      "json_extract(body, '$.refund.purchased_amount') = 4995"),
            1);
  // A later export's refund of the whole amount, against the purchase stored before.
  std::string later = write_file(hub, "refunds.csv",
                                 "order_id,transaction_type,order_date,customer_email,item_reference,amount\n"
                                 "9002,refund,2026-01-21 09:00:00,bob@example.com,product-12,49.95\n"
                                 "8999,refund,2026-01-21 09:00:00,cy@example.com,product-12,49.95\n");
  auto [code2, out2] = hub.run(import_args(hub, later, {"--kind", "orders"}));
  ASSERT_EQ(code2, 0) << out2;
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE type = 'product.refunded' AND order_id = '9002' AND "
                      "json_extract(body, '$.refund.unverified') IS NULL"),
            1);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE type = 'product.refunded' AND order_id = '8999' AND "
                      "json_extract(body, '$.refund.unverified') = 1"),
            1)
      << "no purchase of order 8999 anywhere: it says so";
}

TEST(Import, ARefundASpreadsheetDatedToTheMinuteIsTheOneItsWebhookBrought) {
  HubProcess hub("import-refund-minute", config());
  hub.start();
  tc::Item course{"product", "12", "Course", 4995};
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::order_success(kSecret, "9101", {course})).status, 200);
  // Refunded at 10:00:37 on 15 February 2026: the webhook's key holds the second.
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::refund(kSecret, "9101", course, 2000, {}, "1771149637")).status, 200);
  hub.stop();
  ASSERT_EQ(events(hub), 3);

  // The export saved again by a spreadsheet in a British locale: its dates to the minute.
  std::string file = write_file(hub, "orders.csv",
                                "Order ID,Transaction Type,Order Date,Customer Email,Item Reference,Amount\r\n"
                                "9101,,15/02/2026 09:58,ann@example.com,product-12,49.95\r\n"
                                "9101,refund,15/02/2026 10:00,ann@example.com,product-12,20.00\r\n"
                                "9102,refund,15/02/2026 10:00,bob@example.com,product-12,20.00\r\n"
                                "9103,refund,15/02/2026,cy@example.com,product-12,20.00\r\n");
  auto [code, out] = hub.run(import_args(hub, file, {"--date-format", "DD/MM/YYYY"}));
  EXPECT_EQ(code, 65) << out;
  EXPECT_NE(out.find(file + ":5: order_date '15/02/2026' has no time: a refund's dedupe key holds its date and time, "
                            "as its webhook's does\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("4 row(s) read, 1 event(s) new, 3 already present, 0 repeated in the file, 1 row(s) unreadable"),
            std::string::npos)
      << out;
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE order_id = '9101' AND type LIKE 'product.%refunded'"), 1);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE order_id = '9102' AND "
                      "dedupe_key = 'tc:acme:refund:9102:product-12:2000:1771149600'"),
            1)
      << "a refund no webhook brought is stored at the start of its minute";
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE body LIKE '%dedupe_alternatives%'"), 0);

  // The same refund from the export as ThriveCart wrote it, with its second, is the one stored to the minute.
  std::string exact = write_file(hub, "exact.csv",
                                 "Order ID,Transaction Type,Order Date,Customer Email,Item Reference,Amount\r\n"
                                 "9102,refund,2026-02-15 10:00:37,bob@example.com,product-12,20.00\r\n");
  std::tie(code, out) = hub.run(import_args(hub, exact));
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("1 row(s) read, 0 event(s) new, 1 already present"), std::string::npos) << out;
  EXPECT_EQ(events(hub), 4);
}

TEST(Import, ARefundsWebhookAfterAnImportDatedItToTheMinuteIsTheRefundStored) {
  HubProcess hub("import-refund-minute-first", config());
  // A spreadsheet's copy of the export, its dates to the minute, imported before the refund's webhook came.
  std::string file = write_file(hub, "orders.csv",
                                "Order ID,Transaction Type,Order Date,Customer Email,Item Reference,Amount\r\n"
                                "9201,,15/02/2026 09:58,ann@example.com,product-12,49.95\r\n"
                                "9201,refund,15/02/2026 10:00,ann@example.com,product-12,20.00\r\n");
  auto [code, out] = hub.run(import_args(hub, file, {"--date-format", "DD/MM/YYYY"}));
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("2 row(s) read, 3 event(s) new, 0 already present"), std::string::npos) << out;
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE dedupe_key = 'tc:acme:refund:9201:product-12:2000:1771149600'"),
            1);

  hub.start();
  // Its webhook: refunded at 10:00:37, the refund stored at the start of that minute.
  tc::Item course{"product", "12", "Course", 4995};
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::refund(kSecret, "9201", course, 2000, {}, "1771149637")).status, 200);
  long long imported = hub.count("SELECT id FROM events WHERE dedupe_key = "
                                 "'tc:acme:refund:9201:product-12:2000:1771149600'");
  EXPECT_TRUE(eventually([&] {
    return hub.log().find("source 'thrivecart': 0 new event(s), 1 duplicate(s), 0 job(s); duplicates of a fact "
                          "stored under another key (as an import stores a refund dated to the minute): event(s) " +
                          std::to_string(imported) + "\n") != std::string::npos;
  })) << hub.log();
  EXPECT_EQ(hub.log().find(kSecret), std::string::npos);
  // As much refunded at 10:01:37 is another refund.
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::refund(kSecret, "9201", course, 2000, {}, "1771149697")).status, 200);
  hub.stop();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE order_id = '9201' AND type LIKE 'product.%refunded'"), 2);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE dedupe_key = 'tc:acme:refund:9201:product-12:2000:1771149697'"),
            1);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE body LIKE '%dedupe_alternatives%'"), 0);
}

TEST(Import, ARefundsWebhookWhileAnImportStoresItToTheMinuteIsStoredOnce) {
  PostgresSchema db;
  HubProcess hub("import-refund-minute-meanwhile", config());
  hub.use_postgresql(db.conninfo());
  hub.start();
  // An import on the same database is storing the refund at the start of its minute: its transaction holds
  // the key's lock (postgres_module.hpp's kDedupeLock, as every accept of a key takes it) and the row, not
  // committed yet.
  const std::string minute = "tc:acme:refund:9301:product-12:2000:1771149600";
  PostgresSchema::Session import(db);
  import.query("BEGIN");
  import.query("SELECT pg_advisory_xact_lock(1129775107, hashtext(COALESCE(current_schema(), '') || '/' || '" +
               minute + "'))");
  import.query("INSERT INTO events(source, type, dedupe_key, occurred_at, received_at, mode, email, order_id, "
               "item_ref, body) VALUES('thrivecart', 'product.refunded', '" + minute +
               "', '2026-02-15T10:00:00Z', 0, 'live', 'ann@example.com', '9301', 'product-12', '{}')");
  // The refund's webhook, refunded at 10:00:37, comes meanwhile.
  tc::Item course{"product", "12", "Course", 4995};
  auto delivered = std::async(std::launch::async, [&] {
    return hub.post("/hooks/thrivecart", tc::refund(kSecret, "9301", course, 2000, {}, "1771149637")).status;
  });
  auto waiting = [&] {
    return db.scalar("SELECT COUNT(*) FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid WHERE "
                     "l.locktype = 'advisory' AND NOT l.granted AND s.application_name = '" + db.name() + "'") > 0;
  };
  bool waited = eventually([&] {
    return waiting() || delivered.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }) && waiting();
  import.query("COMMIT");
  EXPECT_TRUE(waited) << "the webhook's refund was stored without waiting for the import storing it";
  EXPECT_EQ(delivered.get(), 200);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM events WHERE order_id = '9301'"), 1) << "the refund was stored twice";
  hub.stop();
}

TEST(Import, APostgreSQLServerWhoseLockTableIsSmallGetsTheBatchesInParts) {
  // A server of 10 connections and 10 locks per transaction: its lock table holds some 700 locks, and a batch of
  // 1000 rows (500 orders: 1500 dedupe keys, a lock each) takes more.
  PostgresServer server({"max_connections=10", "max_locks_per_transaction=10"});
  PostgresSchema db(server);
  HubProcess hub("import-small-lock-table", config());
  hub.use_postgresql(db.conninfo());
  // A batch and a part of one: 1200 rows, 1800 events, 600 jobs (an upsell each).
  std::string file = write_file(hub, "orders.csv", kHeader + order_rows(1, 600));
  auto [code, out] = hub.run(import_args(hub, file, {"--run-rules"}), std::chrono::seconds(120));
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("orders export " + file + ": 1200 row(s) read, 1800 event(s) new, 0 already present, "
                                            "600 repeated in the file, 0 row(s) unreadable; 600 job(s) created"),
            std::string::npos)
      << out;
  std::string advice = "cartwire import: the database server's lock table is too small to store 1000 rows at once";
  std::size_t told = out.find(advice);
  EXPECT_NE(told, std::string::npos) << out;
  EXPECT_EQ(out.find(advice, told + 1), std::string::npos) << "told once: " << out;
  EXPECT_NE(out.find("raise max_locks_per_transaction"), std::string::npos) << out;
  EXPECT_NE(out.find("1000 rows  "), std::string::npos) << "the progress of the first batch: " << out;
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM events"), 1800);
  EXPECT_EQ(db.scalar("SELECT COUNT(DISTINCT dedupe_key) FROM events"), 1800);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM jobs WHERE rule = 'upsells'"), 600);

  auto [again, out2] = hub.run(import_args(hub, file, {"--run-rules"}), std::chrono::seconds(120));
  ASSERT_EQ(again, 0) << out2;
  EXPECT_NE(out2.find("1200 row(s) read, 0 event(s) new, 2400 already present, 0 repeated in the file, "
                      "0 row(s) unreadable; 0 job(s) created"),
            std::string::npos)
      << out2;
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM events"), 1800);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM jobs"), 600);
}

// Parts grow back: the lock table that could not hold a batch of orders (2000 dedupe keys) holds parts of it,
// and twice as many rows of rebills (a key each), so after a batch's worth of rows in parts the parts double
// and the rebills are stored in fewer transactions than the orders. They stayed of the first batch's size to
// the end of the file.
TEST(Import, AfterABatchOfRowsStoredInPartsThePartsGrowBack) {
  PostgresServer server({"max_connections=10", "max_locks_per_transaction=10"});
  PostgresSchema db(server);
  HubProcess hub("import-parts-grow-back", config());
  hub.use_postgresql(db.conninfo());
  std::string text = "Order ID,Invoice ID,Order Date,Customer Email,Item Type,Item ID,Item Name,Amount,Currency,Mode,"
                     "Transaction Type\n";
  for (int i = 1; i <= 1000; ++i) {  // an order of one item: order.completed and product.purchased
    std::string id = std::to_string(i);
    text += id + ",000000004,2026-01-15 10:00:00,buyer" + id + "@example.com,product,12,Course,49.95,USD,live,\n";
  }
  for (int i = 50000; i < 52000; ++i) {  // subscription.charged
    std::string id = std::to_string(i);
    text += id + "," + std::to_string(900000000 + i) + ",2026-02-15 10:00:00,buyer" + id +
            "@example.com,upsell,13,Coaching,49.95,USD,live,rebill\n";
  }
  std::string file = write_file(hub, "orders.csv", text);
  auto [code, out] = hub.run(import_args(hub, file), std::chrono::seconds(180));
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("orders export " + file + ": 3000 row(s) read, 4000 event(s) new, 0 already present, "
                                            "0 repeated in the file, 0 row(s) unreadable"),
            std::string::npos)
      << out;
  EXPECT_EQ(occurrences(out, "lock table is too small"), 1u) << out;
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM events"), 4000);
  // Rows of one transaction have its xmin.
  auto transactions = [&](const std::string &where) {
    return db.scalar("SELECT COUNT(DISTINCT xmin::text) FROM events WHERE " + where);
  };
  long long orders = transactions("type IN ('order.completed', 'product.purchased')");
  EXPECT_GE(orders, 2) << "the first batch, in parts";
  EXPECT_LT(transactions("type = 'subscription.charged' AND order_id::int < 51000"), orders) << "the second batch";
  EXPECT_LT(transactions("type = 'subscription.charged' AND order_id::int >= 51000"), orders) << "the third";
}

TEST(Import, ReportsUnreadableRowsByLineAndImportsTheRest) {
  HubProcess hub("import-bad-rows", config());
  std::string text = "\xEF\xBB\xBF" + std::string(kHeader) +
                     "1,,2026-01-15 10:00:00,a@example.com,Ann,Lee,product,12,\"Course, \"\"Gold\"\" edition\",49.95,USD,live\r\n"
                     "2,,2026-01-15 10:00:00,b@example.com,Bob,Lee,product,12,Course,forty,USD,live\r\n"
                     "3,,2026-01-15 10:00:00,c@example.com,Cy,Lee,product,12,\"Two\nlines\",49.95,USD,live\r\n"
                     "4,,2026-01-15 10:00:00,d@example.com,Di,Lee,product,12,Course\r\n"
                     "5,,2026-01-15 10:00:00,e@example.com,Ed,\"Lee\"x,product,12,Course,1,USD,live\r\n"
                     "6,,2026-01-15 10:00:00,f@example.com,Fi,Lee,product,12,Course,1,USD,live\r\n";
  std::string file = write_file(hub, "orders.csv", text);
  auto [code, out] = hub.run(import_args(hub, file));
  EXPECT_NE(code, 0) << "unreadable rows make the exit status say so";
  EXPECT_NE(out.find(file + ":3: amount 'forty' is not an amount such as 49.95"), std::string::npos) << out;
  // Shorter than the rows written with it, as Excel writes none.
  EXPECT_NE(out.find(file + ":6: has 9 of the header's 12 fields where the rows around it have 12: a separator "
                            "looks missing, and the values after it would be read in the columns before theirs (its "
                            "last, 'Course', as 'Item Name')\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(file + ":7: malformed quoting"), std::string::npos) << out;
  EXPECT_LT(out.find(file + ":3:"), out.find(file + ":7:")) << "listed in file order";
  EXPECT_NE(out.find("6 row(s) read, 6 event(s) new, 0 already present, 0 repeated in the file, 3 row(s) unreadable"),
            std::string::npos)
      << out;
  auto names = query(hub.db_path(), "SELECT json_extract(e.body, '$.item.name'), json_extract(p.body, '$.line') "
                                    "FROM events e JOIN payloads p ON p.id = e.payload_id "
                                    "WHERE e.type = 'product.purchased' ORDER BY e.order_id");
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[0][0], "Course, \"Gold\" edition");
  EXPECT_EQ(names[1][0], "Two\nlines");
  EXPECT_EQ(names[1][1], "4");
  EXPECT_EQ(names[2][1], "8");
}

TEST(Import, AnExportSavedAgainByASpreadsheetInAEuropeanLocale) {
  HubProcess hub("import-spreadsheet", config());
  // LibreOffice or Excel set to German: semicolons, decimal commas, the amounts' own format, CRLF, and the
  // formatted but empty rows below the data.
  std::string file = write_file(hub, "orders.csv",
                                "\xEF\xBB\xBF order id ;Customer Email;ITEM ID;Item Name;Amount;Order Total\r\n"
                                "6001;ann@example.com;12;\"Kurs \"\"Gold\"\"\r\nAusgabe\";49,95;\"1.234,50\"\r\n"
                                "6002;bob@example.com;12;Kurs;49,95 \xE2\x82\xAC;\xE2\x82\xAC 1.234,50\r\n"
                                ";;;;;\r\n;;;;;\r\n");
  auto [code, out] = hub.run(import_args(hub, file));
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("orders export " + file + ": 2 row(s) read, 4 event(s) new, 0 already present, 0 repeated in "
                     "the file, 0 row(s) unreadable"),
            std::string::npos)
      << out;
  auto rows = query(hub.db_path(), "SELECT json_extract(body, '$.item.name'), json_extract(body, '$.item.amount'), "
                                   "json_extract(body, '$.order.total') FROM events "
                                   "WHERE type = 'product.purchased' ORDER BY order_id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"Kurs \"Gold\"\r\nAusgabe", "4995", "123450"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"Kurs", "4995", "123450"}));
}

TEST(Import, AFirstLineSepAsExcelWritesItNamesTheSeparator) {
  HubProcess hub("import-sep-line", config());
  // Excel in a German locale, told the separator on a line of its own above the header.
  std::string file = write_file(hub, "orders.csv",
                                "sep=;\r\n"
                                "Order ID;Customer Email;Item ID;Amount\r\n"
                                "6101;ann@example.com;12;49,95\r\n"
                                "6102;bob@example.com;12;forty\r\n");
  auto [code, out] = hub.run(import_args(hub, file));
  EXPECT_EQ(code, 65) << out;
  EXPECT_NE(out.find(file + ":4: amount 'forty' is not an amount such as 49.95\n"), std::string::npos) << out;
  EXPECT_NE(out.find("orders export " + file + ": 2 row(s) read, 2 event(s) new, 0 already present, 0 repeated in "
                     "the file, 1 row(s) unreadable"),
            std::string::npos)
      << out;
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE dedupe_key = 'tc:acme:order:6101:item:product-12' AND "
                      "json_extract(body, '$.item.amount') = 4995"),
            1);
}

TEST(Import, RowsWithoutTheEmptyCellsAtTheirEndAreReadButNotARowShiftedNorALastLineCutShort) {
  HubProcess hub("import-short-rows", config());
  // Excel writes 16 rows at a time, the header's first, and leaves out the empty cells at the end of all of them:
  // below the header, 15 rows as long as it; then 16 whose currency and mode are empty; then rows that end
  // before their item id. A row shorter than those written with it lacks a separator before its end (7105's
  // currency, 7210's item name); a copy that stopped ends in the middle of a row, without a line end.
  std::string rows;
  auto row = [&](int order, const std::string &rest) {
    rows += std::to_string(order) + ",,2026-01-15 10:00:00,b" + std::to_string(order) + "@example.com,Ann,Lee," +
            rest + "\r\n";
  };
  for (int order = 7101; order <= 7115; ++order)
    row(order, order == 7105 ? "product,12,Course,49.95,live" : "product,12,Course,49.95,USD,live");
  for (int order = 7201; order <= 7216; ++order) row(order, order == 7210 ? "product,12,49.95" : "product,12,Course,49.95");
  row(7301, "upsell");
  row(7302, "upsell");
  std::string file = write_file(hub, "orders.csv", std::string(kHeader) + rows + "7303,,2026-01-15 10:00:00,d@exa");
  auto [code, out] = hub.run(import_args(hub, file));
  EXPECT_EQ(code, 65) << out;
  EXPECT_NE(out.find(file + ":6: has 11 of the header's 12 fields where the rows around it have 12: a separator "
                            "looks missing, and the values after it would be read in the columns before theirs (its "
                            "last, 'live', as 'Currency')\n" +
                     file + ":26: has 9 of the header's 12 fields where the rows around it have 10: a separator "
                            "looks missing, and the values after it would be read in the columns before theirs (its "
                            "last, '49.95', as 'Item Name')\n" +
                     file + ":33: item_id is missing: the row ends before its column 'Item ID'\n" + file +
                     ":34: item_id is missing: the row ends before its column 'Item ID'\n" + file +
                     ":35: the file ends in this row, after 4 of the header's 12 fields and without a line end: it "
                     "looks cut short (export it again)\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("34 row(s) read, 58 event(s) new, 0 already present, 0 repeated in the file, 5 row(s) unreadable"),
            std::string::npos)
      << out;
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE type = 'product.purchased' AND "
                      "json_extract(body, '$.item.amount') = 4995 AND json_extract(body, '$.item.name') = 'Course'"),
            29);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE order_id IN ('7105', '7210')"), 0);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE order_id = '7201' AND json_extract(body, '$.order.currency') "
                      "IS NULL AND json_extract(body, '$.mode') = 'live'"),
            2)
      << "a row without its empty cells at its end";
}

TEST(Import, DatesASpreadsheetRewroteAreReadWithTheDateFormatTheirErrorNames) {
  HubProcess hub("import-date-format", config());
  // Saved again by a spreadsheet in a British locale: day first, and no seconds.
  std::string file = write_file(hub, "orders.csv",
                                "Order ID,Order Date,Customer Email,Item ID,Amount\r\n"
                                "1,15/01/2026 10:00,a@example.com,12,49.95\r\n"
                                "2,2026-01-16 09:30:00,b@example.com,12,49.95\r\n"
                                "3,03/02/2026 18:45,c@example.com,12,49.95\r\n");
  auto [code, out] = hub.run(import_args(hub, file));
  EXPECT_EQ(code, 65) << out;
  EXPECT_NE(out.find(file + ":2: order_date '15/01/2026 10:00' has its day first: import the file with --date-format "
                            "DD/MM/YYYY\n" +
                     file + ":4: order_date '03/02/2026 18:45' has its day or its month first: import the file with "
                            "--date-format DD/MM/YYYY or --date-format MM/DD/YYYY, the order the spreadsheet writes "
                            "dates in\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("3 row(s) read, 2 event(s) new, 0 already present, 0 repeated in the file, 2 row(s) unreadable"),
            std::string::npos)
      << out;

  std::tie(code, out) = hub.run(import_args(hub, file, {"--date-format", "DD/MM/YYYY"}));
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("3 row(s) read, 4 event(s) new, 2 already present"), std::string::npos) << out;
  auto dates = query(hub.db_path(), "SELECT order_id, json_extract(body, '$.occurred_at') FROM events "
                                    "WHERE type = 'product.purchased' ORDER BY order_id");
  EXPECT_EQ(dates, (std::vector<std::vector<std::string>>{{"1", "2026-01-15T10:00:00Z"},
                                                          {"2", "2026-01-16T09:30:00Z"},
                                                          {"3", "2026-02-03T18:45:00Z"}}));

  std::tie(code, out) = hub.run(import_args(hub, file, {"--date-format", "15/01/2026"}));
  EXPECT_EQ(code, 64) << out;
  EXPECT_NE(out.find("cartwire import: --date-format 15/01/2026: say DD/MM/YYYY (15/01/2026 10:00) or MM/DD/YYYY "
                     "(1/15/2026 10:00 AM), the order of day and month in the file's dates"),
            std::string::npos)
      << out;
}

TEST(Import, TextNotInUtf8IsRefusedWithHowToConvertIt) {
  HubProcess hub("import-encodings", config());
  // Excel's "Unicode Text": UTF-16 LE with a byte order mark.
  std::string utf16 = "\xFF\xFE";
  for (char c : std::string("Order ID,Customer Email,Item ID\r\n1,a@example.com,12\r\n")) utf16 += std::string{c, '\0'};
  auto [code, out] = hub.run(import_args(hub, write_file(hub, "unicode.csv", utf16)));
  EXPECT_EQ(code, 65) << out;
  // Its columns are separated by tabs, too: converting the text alone would not do.
  EXPECT_NE(out.find(": line 1: the header is not UTF-8 text but UTF-16 (Excel's \"Unicode Text\", whose columns are "
                     "separated by tabs). Save the export as \"CSV UTF-8\" instead"),
            std::string::npos)
      << out;

  // Rows in Windows-1252 ("Caf\xE9"): those rows are reported, the others imported, and how to
  // convert the file is said once.
  std::string file = write_file(hub, "latin.csv", std::string(kHeader) +
                                                      "1,,2026-01-15 10:00:00,a@example.com,Ann,Lee,product,12,Caf\xE9,"
                                                      "49.95,USD,live\n"
                                                      "2,,2026-01-15 10:00:00,b@example.com,Bob,Lee,product,12,Cafe,"
                                                      "49.95,USD,live\n"
                                                      "3,,2026-01-15 10:00:00,c@example.com,Cy,Lee,product,12,Caf\xE9,"
                                                      "49.95,USD,live\n");
  std::tie(code, out) = hub.run(import_args(hub, file));
  EXPECT_EQ(code, 65) << out;
  EXPECT_NE(out.find(file + ":2: column 'Item Name' is not UTF-8 text\n" + file + ":4: column 'Item Name' is not "
                            "UTF-8 text\n" + file + ": Save the export as \"CSV UTF-8\", or import it again with "
                            "--encoding windows-1252"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("3 row(s) read, 2 event(s) new"), std::string::npos) << out;
}

TEST(Import, EmptyCellsPastTheNamedColumnsDoNotCount) {
  HubProcess hub("import-trailing-cells", config());
  // A sheet once edited to the right of its columns: unnamed columns, and rows whose empty cells there vary.
  std::string file = write_file(hub, "orders.csv",
                                "Order ID,Customer Email,Item ID,Amount,,\r\n"
                                "1,a@example.com,12,49.95,,\r\n"
                                "2,b@example.com,12,49.95,\r\n"
                                "3,c@example.com,12,49.95,,,\r\n"
                                "4,d@example.com,12,49.95\r\n"
                                "5,e@example.com,12,49.95,,note\r\n"
                                "6,f@example.com,12\r\n");
  auto [code, out] = hub.run(import_args(hub, file));
  EXPECT_EQ(code, 65) << out;
  // The last row ends before its amount where the rows written with it do not, as Excel writes none.
  EXPECT_NE(out.find(file + ":7: has 3 of the header's 6 fields where the rows around it have 6"), std::string::npos)
      << out;
  EXPECT_NE(out.find("6 row(s) read, 10 event(s) new, 0 already present, 0 repeated in the file, 1 row(s) unreadable"),
            std::string::npos)
      << out;
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE type = 'product.purchased' AND "
                      "json_extract(body, '$.item.amount') = 4995"),
            5);
}

TEST(Import, AnExportSavedByExcelOnWindowsIsReadWithItsEncoding) {
  HubProcess hub("import-windows-1252", config());
  // Excel's "CSV (Comma delimited)" on Windows: Windows-1252, with its curly quotes and apostrophes.
  std::string file = write_file(hub, "orders.csv", std::string(kHeader) +
                                                       "1,,2026-01-15 10:00:00,a@example.com,Ren\xE9" "e,O\x92" "Brien,product,12,"
                                                       "Caf\xE9 \x93Gold\x94,49.95,USD,live\r\n"
                                                       "2,,2026-01-15 10:00:00,b@example.com,Bob,Lee,product,12,Cafe,"
                                                       "49.95,USD,live\r\n");
  auto [code, out] = hub.run(import_args(hub, file));
  EXPECT_EQ(code, 65) << out;
  EXPECT_NE(out.find(file + ":2: column 'Customer First Name' is not UTF-8 text\n" + file +
                     ": Save the export as \"CSV UTF-8\", or import it again with --encoding windows-1252 (Excel's "
                     "\"CSV\" on Windows) or the encoding it was saved in"),
            std::string::npos)
      << out;

  std::tie(code, out) = hub.run(import_args(hub, file, {"--encoding", "windows-1252"}));
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("2 row(s) read, 2 event(s) new, 2 already present"), std::string::npos) << out;
  auto rows = query(hub.db_path(), "SELECT json_extract(body, '$.customer.first_name'), "
                                   "json_extract(body, '$.customer.last_name'), json_extract(body, '$.item.name') "
                                   "FROM events WHERE type = 'product.purchased' AND order_id = '1'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"Ren\xC3\xA9" "e", "O\xE2\x80\x99" "Brien",
                                               "Caf\xC3\xA9 \xE2\x80\x9CGold\xE2\x80\x9D"}));

  std::tie(code, out) = hub.run(import_args(hub, file, {"--encoding", "utf-16"}));
  EXPECT_EQ(code, 64) << out;
  EXPECT_NE(out.find("--encoding utf-16: not an encoding of one byte per character; save the export as \"CSV "
                     "UTF-8\" instead"),
            std::string::npos)
      << out;
  std::tie(code, out) = hub.run(import_args(hub, file, {"--encoding", "martian"}));
  EXPECT_EQ(code, 64) << out;
  EXPECT_NE(out.find("--encoding martian: no such encoding (e.g. windows-1252, iso-8859-1, iso-8859-15)"),
            std::string::npos)
      << out;
}

TEST(Import, CtrlCIsHeardInAFileOfUnreadableRows) {
  HubProcess hub("import-interrupted-unreadable", config());
  std::string rows;
  for (int i = 0; i < 1000000; ++i) rows += "1,2,3\n";
  std::string file = write_file(hub, "short.csv", std::string(kHeader) + rows);
  // Ctrl-C once the import is under way: no batch of readable rows ever fills.
  auto started = std::chrono::steady_clock::now();
  auto [code, out] = hub.run(import_args(hub, file), std::chrono::seconds(100),
                             [&] { return std::chrono::steady_clock::now() - started > std::chrono::seconds(3); });
  EXPECT_EQ(code, 130) << out;
  EXPECT_NE(out.find(": interrupted after line "), std::string::npos) << out;
}

TEST(Import, AWorkbookNamedCsvIsRefusedWithHowToSaveItAsCsv) {
  HubProcess hub("import-workbook", config());
  // The first bytes of an .xlsx (a zip file) and of an Excel 97-2003 .xls, then bytes CSV would choke on.
  std::string xlsx = std::string("PK\x03\x04\x14\x00\x06\x00", 8) + "\x08\"[Content_Types].xml\xEC,\x9A\n\xFF";
  auto [code, out] = hub.run(import_args(hub, write_file(hub, "orders.csv", xlsx)));
  EXPECT_EQ(code, 65) << out;
  EXPECT_NE(out.find("orders.csv: this is a spreadsheet workbook (.xlsx or .ods), not CSV: open it and save it as "
                     "\"CSV UTF-8\" (Excel) or as \"Text CSV\" in UTF-8 (LibreOffice)"),
            std::string::npos)
      << out;
  std::string xls = std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00\"x\n", 13);
  std::tie(code, out) = hub.run(import_args(hub, write_file(hub, "old.csv", xls)));
  EXPECT_EQ(code, 65) << out;
  EXPECT_NE(out.find("old.csv: this is an Excel 97-2003 workbook (.xls), not CSV: open it and save it as"),
            std::string::npos)
      << out;
  EXPECT_TRUE(!fs::exists(hub.db_path()) || events(hub) == 0);
}

TEST(Import, RefusesAHeaderOfNoKnownExportWithTheColumnsExpected) {
  HubProcess hub("import-unknown-header", config());
  std::string file = write_file(hub, "payouts.csv", "Date,Payout,Bank\n2026-01-01,10.00,X\n");
  auto [code, out] = hub.run(import_args(hub, file));
  EXPECT_EQ(code, 65) << out;
  EXPECT_NE(out.find("matches no ThriveCart export (found: Date, Payout, Bank)"), std::string::npos) << out;
  EXPECT_NE(out.find("orders: order_id, customer_email, item_id or item_reference"), std::string::npos) << out;
  EXPECT_NE(out.find("limited-subscriptions: subscription_id, status, customer_email, remaining_rebills"),
            std::string::npos)
      << out;
  EXPECT_TRUE(!fs::exists(hub.db_path()) || events(hub) == 0);

  auto [code2, out2] = hub.run(import_args(hub, file, {"--kind", "refunds"}));
  EXPECT_NE(code2, 0);
  EXPECT_NE(out2.find("no 'refunds' export (kinds: limited-subscriptions, subscriptions, orders)"), std::string::npos)
      << out2;
}

TEST(Import, AHeaderOfTwoKindsOfExportIsRefusedUntilKindSaysWhich) {
  HubProcess hub("import-ambiguous", config());
  // An orders export that also names each row's subscription and its status.
  std::string file = write_file(hub, "orders.csv",
                                "Order ID,Customer Email,Item ID,Amount,Subscription ID,Status\n"
                                "5001,ann@example.com,12,49.95,sub_1,active\n");
  auto [code, out] = hub.run(import_args(hub, file));
  EXPECT_EQ(code, 65) << out;
  EXPECT_NE(out.find("the header has the columns of more than one ThriveCart export (subscriptions, orders); say "
                     "which this file is with --kind, e.g. --kind orders"),
            std::string::npos)
      << out;
  EXPECT_TRUE(!fs::exists(hub.db_path()) || events(hub) == 0);

  auto [code2, out2] = hub.run(import_args(hub, file, {"--kind", "orders"}));
  EXPECT_EQ(code2, 0) << out2;
  EXPECT_NE(out2.find("1 row(s) read, 2 event(s) new"), std::string::npos) << out2;

  // As a subscriptions export, an active subscription is no event, and the summary says so.
  auto [code3, out3] = hub.run(import_args(hub, file, {"--kind", "subscriptions"}));
  EXPECT_EQ(code3, 0) << out3;
  EXPECT_NE(out3.find("0 event(s) new, 0 already present, 0 repeated in the file, 0 row(s) unreadable, 1 row(s) "
                      "with nothing to record (see docs/import.md)"),
            std::string::npos)
      << out3;
}

TEST(Import, ColumnRenamesAFileColumnToOneTheConnectorReads) {
  HubProcess hub("import-column", config());
  std::string file = write_file(hub, "tx.csv",
                                "Transaction ID,Customer Email,Product ID,Amount\n"
                                "5101,ann@example.com,12,49.95\n");
  auto [code, out] = hub.run(import_args(hub, file));
  EXPECT_EQ(code, 65) << out;
  EXPECT_NE(out.find("matches no ThriveCart export (found: Transaction ID, Customer Email, Product ID, Amount)"),
            std::string::npos)
      << out;

  auto [code2, out2] = hub.run(import_args(hub, file, {"--column", " transaction id =order_id"}));
  EXPECT_EQ(code2, 0) << out2;
  EXPECT_NE(out2.find("orders export " + file + ": 1 row(s) read, 2 event(s) new"), std::string::npos) << out2;
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE dedupe_key = 'tc:acme:order:5101:item:product-12'"), 1);

  auto [code3, out3] = hub.run(import_args(hub, file, {"--column", "Order Number=order_id"}));
  EXPECT_EQ(code3, 65) << out3;
  EXPECT_NE(out3.find("--column Order Number=order_id: the file has no column 'Order Number' (columns: Transaction "
                      "ID, Customer Email, Product ID, Amount)"),
            std::string::npos)
      << out3;
  auto [code4, out4] = hub.run(import_args(hub, file, {"--column", "order_id"}));
  EXPECT_EQ(code4, 64) << out4;
  EXPECT_NE(out4.find("--column order_id: write the file's column, '=' and the name to read it as"), std::string::npos)
      << out4;
}

TEST(Import, DryRunReportsAndWritesNothing) {
  HubProcess hub("import-dry-run", config());
  std::string file = write_file(hub, "orders.csv", kHeader + order_rows(1, 3));
  auto [code, out] = hub.run(import_args(hub, file, {"--dry-run", "--run-rules"}));
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("dry run, nothing stored: orders export"), std::string::npos) << out;
  EXPECT_NE(out.find("6 row(s) read, 9 event(s) would be new, 0 already present, 3 repeated in the file, "
                     "0 row(s) unreadable; 3 job(s) would be created"),
            std::string::npos)
      << out;
  EXPECT_FALSE(fs::exists(hub.db_path()));

  ASSERT_EQ(hub.run(import_args(hub, file)).first, 0);
  std::string more = write_file(hub, "more.csv", kHeader + order_rows(1, 4));
  auto [code2, out2] = hub.run(import_args(hub, more, {"--dry-run"}));
  ASSERT_EQ(code2, 0) << out2;
  EXPECT_NE(out2.find("3 event(s) would be new, 12 already present, 1 repeated in the file"), std::string::npos)
      << out2;
  EXPECT_EQ(events(hub), 9);
}

TEST(Import, ADryRunSettlesARefundByItsPurchaseInAnEarlierBatchAsTheImportDoes) {
  HubProcess hub("import-dry-run-refund", config() + "  - name: partial refunds\n    on: product.partially_refunded\n"
                                                      "    do: hook.post\n");
  // A refund row has one amount: its purchase, 1000 rows (a batch) before it, tells it is partial.
  std::string rows = "order_id,transaction_type,order_date,customer_email,item_reference,amount\n";
  for (int order = 1; order <= 1000; ++order)
    rows += std::to_string(order) + ",,2026-01-15 10:00:00,buyer" + std::to_string(order) +
            "@example.com,product-12,49.95\n";
  rows += "1,refund,2026-01-20 09:00:00,buyer1@example.com,product-12,20.00\n";
  std::string file = write_file(hub, "orders.csv", rows);
  auto [code, out] = hub.run(import_args(hub, file, {"--dry-run", "--run-rules"}), std::chrono::seconds(120));
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("1001 row(s) read, 2001 event(s) would be new, 0 already present, 0 repeated in the file, "
                     "0 row(s) unreadable; 1 job(s) would be created"),
            std::string::npos)
      << out;
  // The same counts as the import's.
  auto [stored, out2] = hub.run(import_args(hub, file, {"--run-rules"}), std::chrono::seconds(120));
  ASSERT_EQ(stored, 0) << out2;
  EXPECT_NE(out2.find("1001 row(s) read, 2001 event(s) new, 0 already present, 0 repeated in the file, "
                      "0 row(s) unreadable; 1 job(s) created"),
            std::string::npos)
      << out2;
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE type = 'product.partially_refunded'"), 1);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE rule = 'partial refunds'"), 1);
}

TEST(Import, RunRulesCreatesTheJobsAWebhookWould) {
  HubProcess hub("import-run-rules", config());
  ASSERT_EQ(hub.run(import_args(hub, write_file(hub, "a.csv", kHeader + order_rows(1, 2)))).first, 0);
  EXPECT_EQ(jobs(hub), 0);
  auto [code, out] = hub.run(import_args(hub, write_file(hub, "b.csv", kHeader + order_rows(1, 5)), {"--run-rules"}));
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("9 event(s) new, 8 already present, 3 repeated in the file, 0 row(s) unreadable; 3 job(s) created"),
            std::string::npos)
      << out;
  EXPECT_EQ(jobs(hub), 3);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE rule = 'upsells' AND state = 'queued'"), 3);
}

TEST(Import, NamesTheSourceAndFileItCannotUse) {
  HubProcess hub("import-usage", config());
  auto [code, out] = hub.run(import_args(hub, (hub.dir() / "missing.csv").string()));
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("cannot read"), std::string::npos) << out;
  auto [code2, out2] = hub.run({"import", "samcart", "x.csv", "--config", hub.config_path()});
  EXPECT_NE(code2, 0);
  EXPECT_NE(out2.find("no source 'samcart'"), std::string::npos) << out2;
}

}  // namespace

TEST(Import, ShowsProgressInPlaceOnATerminalAndLineByLineElsewhere) {
  HubProcess hub("import-progress", config());
  std::string file = write_file(hub, "orders.csv", kHeader + order_rows(1, 1000));
  // script(1) gives the command a terminal, as a user at a shell has.
  std::string command = "script -qec \"'" CARTWIRE_BIN "' import thrivecart '" + file + "' --config '" +
                        hub.config_path() + "'\" /dev/null 2>&1";
  std::string terminal;
  FILE *pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) terminal.append(buffer, n);
  ASSERT_EQ(pclose(pipe), 0) << terminal;
  EXPECT_NE(terminal.find("\r\033[K"), std::string::npos) << terminal;
  EXPECT_NE(terminal.find(" rows/s  "), std::string::npos) << terminal;
  EXPECT_NE(terminal.find("ETA "), std::string::npos) << terminal;
  EXPECT_NE(terminal.find("2000 row(s) read"), std::string::npos) << terminal;

  // Not a terminal (a log file): a line of its own each tenth of the file, none rewritten in place.
  auto [code, out] = hub.run(import_args(hub, file));
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos) << out;
  EXPECT_EQ(out.find('\033'), std::string::npos) << out;
  std::size_t line = out.find("1000 rows  ");
  ASSERT_NE(line, std::string::npos) << out;
  std::size_t end = out.find('\n', line);
  std::string progress = out.substr(line, end - line);
  EXPECT_NE(progress.find(" rows/s  "), std::string::npos) << progress;
  EXPECT_NE(progress.find("%  ETA "), std::string::npos) << progress;
  EXPECT_NE(out.find("2000 row(s) read, 0 event(s) new"), std::string::npos) << out;
}

TEST(Import, CtrlCEndsAfterTheBatchInProgressAndARunAgainFinishes) {
  HubProcess hub("import-interrupted", config());
  std::string file = write_file(hub, "orders.csv", kHeader + order_rows(1, 2500));

  // Ctrl-C once the first batch is stored (before that, the store may not exist yet).
  auto first_batch_stored = [&] {
    try {
      return events(hub) > 0;
    } catch (const std::runtime_error &) {
      return false;
    }
  };
  auto [code, out] = hub.run(import_args(hub, file), std::chrono::seconds(120), first_batch_stored);
  ASSERT_EQ(code, 130) << out;
  long long stored = events(hub);
  EXPECT_GT(stored, 0);
  EXPECT_LT(stored, 7500);
  EXPECT_EQ(stored % 1500, 0) << "whole batches of 1000 rows (500 orders, 1500 events) are stored";
  std::string rows = std::to_string(stored / 3 * 2);
  EXPECT_NE(out.find("orders export " + file + ": " + rows + " row(s) read, " + std::to_string(stored) +
                     " event(s) new"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(file + ": interrupted after line " + std::to_string(stored / 3 * 2 + 1) +
                     ": the rows up to it are stored. Run the same import again"),
            std::string::npos)
      << out;

  auto [again, rest] = hub.run(import_args(hub, file), std::chrono::seconds(180));
  ASSERT_EQ(again, 0) << rest;
  EXPECT_NE(rest.find("5000 row(s) read, " + std::to_string(7500 - stored) + " event(s) new"), std::string::npos)
      << rest;
  EXPECT_EQ(events(hub), 7500);
}

TEST(Import, AStoreFailingMidFileSaysWhichRowsAreStored) {
  // How large the store of one batch (1000 rows: 500 orders) is, imported alone.
  HubProcess one("import-one-batch", config());
  auto [imported, report] = one.run(import_args(one, write_file(one, "orders.csv", kHeader + order_rows(1, 500))));
  ASSERT_EQ(imported, 0) << report;
  auto batch = std::filesystem::file_size(one.db_path());

  // No file of the import may grow past one batch and a half, as on a disk that fills: the first batch is
  // stored, the second cannot be.
  HubProcess hub("import-store-fails", config());
  std::string file = write_file(hub, "orders.csv", kHeader + order_rows(1, 2500));
  hub.limit_runs_file_size(batch * 3 / 2);
  auto [code, out] = hub.run(import_args(hub, file), std::chrono::seconds(120));
  ASSERT_EQ(code, 74) << out;
  EXPECT_NE(out.find(file + ": the rows up to line 1001 are stored (1500 new event(s), 0 job(s)), the ones after it "
                            "are not. Run the same import again once the store can be written"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("cartwire import: " + file + ": storing the rows after line 1001 failed: "), std::string::npos)
      << out;
  EXPECT_EQ(events(hub), 1500);
}
