// run_import against a store that fails part way through a file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "admin/metered_store.hpp"
#include "admin/metrics.hpp"
#include "import/importer.hpp"
#include "plugins/instance.hpp"
#include "plugins/redactor.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"

using namespace cartwire;

namespace {

// A store whose reads of a purchase fail, as when the database server goes away.
class PurchasesUnreadable : public admin::MeteredStore {
 public:
  using admin::MeteredStore::MeteredStore;
  std::optional<store::Json> purchase(const std::string &, const std::string &, const std::string &) override {
    throw std::runtime_error("the connection to PostgreSQL is lost");
  }
};

// A store where a refund's webhook, dated 10:00:37, commits as the import's batch with that refund, dated to
// the minute, is about to be stored: after the import looked at which keys are stored, were it to look first.
class WebhookMeanwhile : public admin::MeteredStore {
 public:
  using admin::MeteredStore::MeteredStore;
  std::vector<store::Accepted> accept(std::vector<store::NewEvent> &events, int64_t now_ms) override {
    bool refund = std::any_of(events.begin(), events.end(), [](const store::NewEvent &ne) {
      return ne.event.value("type", "").find("refunded") != std::string::npos;
    });
    if (refund && !delivered_) {
      delivered_ = true;
      std::vector<store::NewEvent> webhook(1);
      webhook[0].event = {{"type", "product.refunded"},
                          {"source", "thrivecart"},
                          {"dedupe_key", "tc:acme:refund:9001:product-12:2000:1771149637"},
                          {"occurred_at", "2026-02-15T10:00:37Z"}};
      webhook[0].alternatives = {"tc:acme:refund:9001:product-12:2000:1771149600"};
      admin::MeteredStore::accept(webhook, now_ms);
    }
    return admin::MeteredStore::accept(events, now_ms);
  }

 private:
  bool delivered_ = false;
};

class Importer : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("cw-importer-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    ASSERT_EQ(registry_.load_file(THRIVECART_PLUGIN), "");
    plugin_ = registry_.find("thrivecart");
    ASSERT_NE(plugin_, nullptr);
    services_.clock_ms = [] { return int64_t{1000}; };
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  plugins::Registry registry_;
  const plugins::Plugin *plugin_ = nullptr;
  plugins::HostServices services_;
  admin::Metrics metrics_;
};

}  // namespace

TEST_F(Importer, AStoreThatCannotReadARefundsPurchaseSaysWhichRowsAreStored) {
  plugins::Instance source(*plugin_, "thrivecart", {{"secret", "S3cretWord-import"}, {"account", "acme"}}, services_, plugins::Redactor{});
  PurchasesUnreadable store(store::open_sqlite((dir_ / "hub.db").string()), metrics_);
  // The first batch, lines 2 and 3, is stored; the refund of line 4 is of an order not in its batch,
  // whose purchase the store is asked for.
  std::istringstream in("order_id,transaction_type,order_date,customer_email,item_reference,amount\n"
                        "9001,,2026-01-15 10:00:00,ann@example.com,product-12,49.95\n"
                        "9002,,2026-01-15 10:00:00,bob@example.com,product-12,49.95\n"
                        "9001,refund,2026-01-20 09:00:00,ann@example.com,product-12,20.00\n");
  import::ImportOptions options;
  options.batch_rows = 2;
  try {
    import::run_import(in, source, "thrivecart", store, {}, options, 1000, {});
    FAIL() << "the import went on without the purchase";
  } catch (const import::StoreFailed &e) {
    EXPECT_EQ(e.through_line, 3);
    EXPECT_EQ(e.stats.events_new, 4) << "an order.completed and a product.purchased of each order";
    EXPECT_STREQ(e.what(), "the connection to PostgreSQL is lost");
  }
  EXPECT_EQ(store.count("events"), 4);

  // A dry run stores nothing, whatever it read before.
  std::istringstream again(in.str());
  options.dry_run = true;
  try {
    import::run_import(again, source, "thrivecart", store, {}, options, 1000, {});
    FAIL() << "the dry run went on without the purchase";
  } catch (const import::StoreFailed &e) {
    EXPECT_EQ(e.through_line, 0) << "nothing is stored by a dry run";
  }
}

TEST_F(Importer, ARefundItsWebhookStoresWhileTheImportRunsIsStoredOnce) {
  plugins::Instance source(*plugin_, "thrivecart", {{"secret", "S3cretWord-import"}, {"account", "acme"}}, services_,
                           plugins::Redactor{});
  WebhookMeanwhile store(store::open_sqlite((dir_ / "hub.db").string()), metrics_);
  // A spreadsheet's copy of the export: the refund is dated to the minute, its webhook to the second.
  std::string file =
      "order_id,transaction_type,order_date,customer_email,item_reference,amount\n"
      "9001,,15/02/2026 09:58,ann@example.com,product-12,49.95\n"
      "9001,refund,15/02/2026 10:00,ann@example.com,product-12,20.00\n";
  std::istringstream in(file);
  import::ImportOptions options;
  options.date_format = sdk::kDayFirst;
  import::ImportStats stats = import::run_import(in, source, "thrivecart", store, {}, options, 1000, {});
  EXPECT_EQ(stats.events_new, 2u) << "the order's order.completed and product.purchased";
  EXPECT_EQ(stats.events_present, 1u) << "the refund, which its webhook stored";
  EXPECT_EQ(store.count("events"), 3);
  EXPECT_TRUE(store.stored_keys({"tc:acme:refund:9001:product-12:2000:1771149600"}).empty())
      << "the refund was stored twice";

  // A dry run of the file counts it present too.
  std::istringstream again(file);
  options.dry_run = true;
  stats = import::run_import(again, source, "thrivecart", store, {}, options, 1000, {});
  EXPECT_EQ(stats.events_new, 0u);
  EXPECT_EQ(stats.events_present, 3u);
}
