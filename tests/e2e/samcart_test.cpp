// The real cartwire binary with the samcart and notifyurl plugins: a SamCart
// Notify URL post becomes signed posts to a local Notify URL sink.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>
#include <thread>

#include "../support/hub_process.hpp"
#include "../support/signature.hpp"
#include "../support/sink.hpp"

using namespace cartwire::testing;
using Json = nlohmann::json;

namespace {

const std::string kScToken = "sc-e2e-7f3a9c1d5b2e8f40";
const std::string kHookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

// SamCart's documented example post; `product` replaced when given.
std::string purchase(const Json &product = nullptr) {
  Json body = {{"type", "Order"},
               {"customer",
                {{"customer_id", 88123}, {"first_name", "Ann"}, {"last_name", "Lee"}, {"email", "ann@example.com"},
                 {"phone_number", "+15555550100"}, {"billing_address", "1 Main St"}, {"billing_city", "New York"},
                 {"billing_state", "NY"}, {"billing_zip", "10001"}, {"billing_country", "US"}}},
               {"order",
                {{"id", 19026152}, {"total", "49.95"}, {"ip_address", "203.0.113.7"}, {"subscription_id", nullptr},
                 {"custom_fields", Json::array({{{"name", "Company"}, {"slug", "company"}, {"value", "Acme"}}})},
                 {"transaction_id", Json::array({"ch_3Nabc"})}, {"created_at", "2026-01-15 10:00:00"}}},
               {"product", {{"id", 910707}, {"name", "Course"}, {"price", "49.95"}, {"transaction_id", "ch_3Nabc"}}},
               {"affiliate", {{"id", nullptr}, {"token", nullptr}}},
               {"processor", "Stripe"}};
  if (!product.is_null()) body["product"] = product;
  return body.dump();
}

std::string config(const std::string &sink_url) {
  return "runner:\n  workers: 2\n  poll_interval: 100ms\n  retry: {initial_delay: 200ms, max_delay: 1s, horizon: 1h}\n"
         "sources:\n"
         "  samcart:\n"
         "    connector: samcart\n"
         "    settings: {token: \"${SC_TOKEN}\", item_types: {\"910708\": bump}}\n"
         "integrations:\n"
         "  hook:\n"
         "    connector: notifyurl\n"
         "    settings: {url: \"" + sink_url + "\", secret: \"${HOOK_SECRET}\"}\n"
         "rules:\n"
         "  - name: every-order\n"
         "    on: order.completed\n"
         "    do: hook.post\n"
         "products:\n"
         "  product-910707:\n"
         "    - name: course-bought\n"
         "      do: hook.post\n"
         "      with: {data: {email: \"{{customer.email}}\", amount: \"{{item.amount}}\"}}\n"
         "  bump-910708:\n"
         "    - name: workbook-bought\n"
         "      do: hook.post\n";
}

std::map<std::string, std::string> env() { return {{"SC_TOKEN", kScToken}, {"HOOK_SECRET", kHookSecret}}; }

}  // namespace

TEST(SamCart, PurchaseBecomesSignedPostsAndRedeliveryCreatesNothingNew) {
  Sink sink;
  HubProcess hub("samcart", config(sink.url()), env());
  hub.start();
  auto reply = hub.post("/hooks/samcart/" + kScToken, purchase(), "application/json");
  ASSERT_EQ(reply.status, 200) << reply.body << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events"), 2);  // order.completed + product.purchased
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs"), 2);    // every-order, course-bought

  ASSERT_TRUE(sink.wait_for(2)) << hub.log();
  for (auto &r : sink.requests()) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_TRUE(verify_standard_webhook(kHookSecret, r.headers, r.body)) << r.body;
    Json body = Json::parse(r.body);
    if (body["data"].contains("email")) {
      EXPECT_EQ(body["data"]["email"], "ann@example.com");
      EXPECT_EQ(body["data"]["amount"], 4995);
    } else {
      EXPECT_EQ(body["type"], "order.completed");
      EXPECT_EQ(body["data"]["order"]["total"], 4995);
      EXPECT_EQ(body["data"]["source_type"], "Order");
    }
  }

  // The same post again, with the token as a query parameter this time.
  ASSERT_EQ(hub.post("/hooks/samcart?token=" + kScToken, purchase(), "application/json").status, 200);
  // The order's bump, posted on its own: one new purchase, the order is not repeated.
  Json bump = {{"id", 910708}, {"name", "Workbook"}, {"price", "19.00"}, {"transaction_id", "ch_3Nabc"}};
  ASSERT_EQ(hub.post("/hooks/samcart/" + kScToken, purchase(bump), "application/json").status, 200);
  ASSERT_TRUE(sink.wait_for(3)) << hub.log();
  // Events and jobs are stored before the 2xx: one of each is new, and the jobs there ran once each.
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events"), 3);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs"), 3);
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 3; }))
      << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts"), 3);
  EXPECT_EQ(sink.count(), 3u);
  auto rows = query(hub.db_path(), "SELECT dedupe_key FROM events ORDER BY dedupe_key");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0], "sc:order:19026152");
  EXPECT_EQ(rows[1][0], "sc:order:19026152:product:910707");
  EXPECT_EQ(rows[2][0], "sc:order:19026152:product:910708");
  EXPECT_EQ(hub.log().find(kScToken), std::string::npos) << "the hook URL token reached the log";
}

TEST(SamCart, WrongOrMissingTokenIsRefusedAndStoresNothing) {
  Sink sink;
  HubProcess hub("samcart-refuse", config(sink.url()), env());
  hub.start();
  auto wrong = hub.post("/hooks/samcart/not-the-token-at-all", purchase(), "application/json");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_NE(wrong.body.find("does not match"), std::string::npos) << wrong.body;
  EXPECT_EQ(hub.post("/hooks/samcart", purchase(), "application/json").status, 401);
  EXPECT_EQ(hub.post("/hooks/samcart/" + kScToken, "{\"type\": \"Order\", ", "application/json").status, 400);
  // Setup checks need no token.
  EXPECT_EQ(http("HEAD", hub.port(), "/hooks/samcart").status, 200);
  EXPECT_EQ(http("GET", hub.port(), "/hooks/samcart").status, 200);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events"), 0);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs"), 0);
  EXPECT_EQ(hub.log().find("not-the-token-at-all"), std::string::npos);
  EXPECT_EQ(hub.log().find(kScToken), std::string::npos);
}
