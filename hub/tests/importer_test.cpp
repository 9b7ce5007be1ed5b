// run_import against a store that fails part way through a file.
#include <gtest/gtest.h>
#include <unistd.h>

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
