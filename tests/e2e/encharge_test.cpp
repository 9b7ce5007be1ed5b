// ThriveCart webhooks through the real hub and the real thrivecart and encharge
// plugins into the fake Encharge (tests/fakes/encharge.py).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "../support/fake_process.hpp"
#include "../support/hub_process.hpp"
#include "../support/thrivecart_payloads.hpp"

using namespace cartwire::testing;
using Json = nlohmann::json;

namespace {

const std::string kTcSecret = "S3cretWord-encharge";
const std::string kWriteKey = "wk_e2e_4c1d7a9b3f2e8d6c";  // one of the fake's write keys

std::string config(const FakeProcess &fake, const std::string &write_key = "${ENCHARGE_WRITE_KEY}") {
  return "runner:\n  workers: 2\n  poll_interval: 100ms\n  retry: {initial_delay: 200ms, max_delay: 1s, horizon: 1h}\n"
         "sources:\n"
         "  thrivecart:\n"
         "    connector: thrivecart\n"
         "    settings: {secret: \"${TC_SECRET}\", account: acme}\n"
         "integrations:\n"
         "  mail:\n"
         "    connector: encharge\n"
         "    settings: {write_key: \"" + write_key + "\", base_url: \"" + fake.url() + "/v1\"}\n"
         "    fields: {company: customer.custom_fields.company}\n"
         "rules:\n"
         "  - name: to-encharge\n"
         "    on: [order.completed, product.purchased, subscription.charged, product.refunded, product.partially_refunded]\n"
         "    do: mail.track_event\n"
         "    with: {tags: thrivecart-customer}\n"
         "  - name: cancellations\n"
         "    on: subscription.canceled\n"
         "    do: mail.track_event\n"
         "    with: {name: \"Cart {{type}}\"}\n"
         "products:\n"
         "  upsell-13:\n"
         "    - name: coaching-tag\n"
         "      do: mail.add_tag\n"
         "      with: {tags: coaching}\n";
}

std::map<std::string, std::string> env() { return {{"TC_SECRET", kTcSecret}, {"ENCHARGE_WRITE_KEY", kWriteKey}}; }

thrivecart::Customer ann() {
  thrivecart::Customer c;
  c.custom = {{"custom_fields][company", "Acme"}};
  return c;
}

// Ann's membership renewed: the order every test here sends.
std::string ann_rebills() {
  return thrivecart::rebill(kTcSecret, "1514394", "000000005", {"product", "12", "Membership", 2900}, ann());
}

Json events(const FakeProcess &fake) { return fake.state()["events"]; }

Json ingest_requests(const FakeProcess &fake) {
  Json out = Json::array();
  for (auto &r : fake.requests())
    if (r["path"] == "/v1/") out.push_back(r);
  return out;
}

void expect_properties(const Json &p, const std::string &type, long long id, long long cents, const std::string &str) {
  EXPECT_EQ(p["item_type"], type) << p.dump();
  EXPECT_EQ(p["item_id"], id) << p.dump();
  EXPECT_EQ(p["item_reference"], type + "-" + std::to_string(id)) << p.dump();
  EXPECT_EQ(p["amount"], cents) << p.dump();
  EXPECT_EQ(p["amount_str"], str) << p.dump();
}

void expect_no_secrets(const HubProcess &hub) {
  EXPECT_EQ(hub.log().find(kWriteKey), std::string::npos) << "the write key reached the hub log";
  for (auto &row : query(hub.db_path(), "SELECT exchanges FROM attempts"))
    EXPECT_EQ(row[0].find(kWriteKey), std::string::npos) << "the write key reached the execution log";
}

}  // namespace

// On each seam: the field mapping (company) and the redaction of the write key
// in the execution log. (Encharge's actions are ordered: their jobs come
// through the claim, not straight from the accept.)
class EnchargeSeams : public ::testing::TestWithParam<bool> {};

TEST_P(EnchargeSeams, RebillBecomesThriveCartRebill) {
  FakeProcess fake("encharge");
  HubProcess hub(GetParam() ? "encharge-rebill" : "encharge-rebill-json", config(fake), env());
  if (!GetParam()) hub.use_json_seam();
  hub.start();
  auto reply = hub.post("/hooks/thrivecart", ann_rebills());
  ASSERT_EQ(reply.status, 200) << reply.body << hub.log();
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 1; }))
      << hub.log();

  Json got = events(fake);
  ASSERT_EQ(got.size(), 1u) << got.dump(2);
  EXPECT_EQ(got[0]["name"], "ThriveCart rebill");
  expect_properties(got[0]["properties"], "product", 12, 2900, "29.00");
  EXPECT_EQ(got[0]["properties"]["subscription_id"], "sub_1514394");
  EXPECT_EQ(got[0]["user"], (Json{{"email", "ann@example.com"}, {"firstName", "Ann"}, {"lastName", "Lee"},
                                  {"company", "Acme"}, {"tags", "thrivecart-customer"}}));

  Json sent = ingest_requests(fake);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["method"], "POST");
  EXPECT_EQ(sent[0]["headers"]["x-encharge-token"], kWriteKey);
  EXPECT_EQ(sent[0]["status"], 200);

  Json person = fake.state()["people"]["ann@example.com"];
  EXPECT_EQ(person["company"], "Acme");
  EXPECT_EQ(person["tags"], Json::array({"thrivecart-customer"}));
  expect_no_secrets(hub);
}

INSTANTIATE_TEST_SUITE_P(Encharge, EnchargeSeams, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool> &seam) {
                           return seam.param ? "NativeSeam" : "JsonSeam";
                         });

TEST(Encharge, OrderBecomesOneOrderAndOnePurchasePerItem) {
  FakeProcess fake("encharge");
  HubProcess hub("encharge-order", config(fake), env());
  hub.start();
  std::string body = thrivecart::order_success(
      kTcSecret, "1514394", {{"product", "12", "Course", 4995}, {"upsell", "13", "Coaching", 2000}}, ann());
  ASSERT_EQ(hub.post("/hooks/thrivecart", body).status, 200) << hub.log();
  // to-encharge × 3 events, and coaching-tag for upsell-13.
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 4; }))
      << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs"), 4);

  std::map<std::string, std::vector<Json>> by_name;
  for (auto &e : events(fake)) by_name[e["name"]].push_back(e["properties"]);
  ASSERT_EQ(by_name.size(), 2u) << events(fake).dump(2);
  ASSERT_EQ(by_name["ThriveCart order"].size(), 1u);
  expect_properties(by_name["ThriveCart order"][0], "product", 12, 6995, "69.95");
  EXPECT_EQ(by_name["ThriveCart order"][0]["order_id"], 1514394);
  EXPECT_EQ(by_name["ThriveCart order"][0]["currency"], "USD");

  auto &purchases = by_name["ThriveCart purchase"];
  ASSERT_EQ(purchases.size(), 2u);
  std::sort(purchases.begin(), purchases.end(),
            [](const Json &a, const Json &b) { return a["item_reference"] < b["item_reference"]; });
  expect_properties(purchases[0], "product", 12, 4995, "49.95");
  expect_properties(purchases[1], "upsell", 13, 2000, "20.00");

  // The product rule's add_tag went through as an identify, which records no event.
  Json person = fake.state()["people"]["ann@example.com"];
  std::set<std::string> tags(person["tags"].begin(), person["tags"].end());
  EXPECT_EQ(tags, (std::set<std::string>{"thrivecart-customer", "coaching"}));
  int identifies = 0;
  for (auto &r : ingest_requests(fake)) identifies += r["body"]["name"] == "identify";
  EXPECT_EQ(identifies, 1);
  EXPECT_EQ(fake.state()["people"].size(), 1u);
  expect_no_secrets(hub);
}

TEST(Encharge, RefundBecomesThriveCartRefundWithTheRefundedAmount) {
  FakeProcess fake("encharge");
  HubProcess hub("encharge-refund", config(fake), env());
  hub.start();
  thrivecart::Item course{"product", "12", "Course", 4995};
  ASSERT_EQ(hub.post("/hooks/thrivecart", thrivecart::order_success(kTcSecret, "1514394", {course}, ann())).status, 200)
      << hub.log();
  // 20.00 of the 49.95 the hub stored for this item: a partial refund.
  ASSERT_EQ(hub.post("/hooks/thrivecart", thrivecart::refund(kTcSecret, "1514394", course, 2000, ann())).status, 200)
      << hub.log();
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 3; }))
      << hub.log();
  Json got = events(fake);
  ASSERT_EQ(got.size(), 3u) << got.dump(2);
  EXPECT_EQ(got[2]["name"], "ThriveCart refund");
  expect_properties(got[2]["properties"], "product", 12, 2000, "20.00");
  EXPECT_EQ(got[2]["properties"]["partial"], true);
}

TEST(Encharge, OtherEventsGetTheRenderedNameTemplate) {
  FakeProcess fake("encharge");
  HubProcess hub("encharge-cancel", config(fake), env());
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart",
                     thrivecart::cancel(kTcSecret, "1514394", {"product", "12", "Membership", 2900}, ann()))
                .status,
            200)
      << hub.log();
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 1; }))
      << hub.log();
  Json got = events(fake);
  ASSERT_EQ(got.size(), 1u) << got.dump(2);
  EXPECT_EQ(got[0]["name"], "Cart subscription.canceled");
  EXPECT_EQ(got[0]["properties"]["item_reference"], "product-12");
}

TEST(Encharge, ServiceUnavailableIsRetriedThenDelivered) {
  FakeProcess fake("encharge");
  fake.fail("^/v1/?$", 503, 2);
  HubProcess hub("encharge-retry", config(fake), env());
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", ann_rebills()).status, 200);
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 1; }))
      << hub.log();
  EXPECT_EQ(hub.count("SELECT attempts FROM jobs"), 3);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts WHERE outcome = 'retryable'"), 2);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts WHERE outcome = 'ok'"), 1);
  auto errors = query(hub.db_path(), "SELECT error FROM attempts WHERE outcome = 'retryable'");
  for (auto &row : errors) EXPECT_NE(row[0].find("HTTP 503"), std::string::npos) << row[0];

  Json sent = ingest_requests(fake);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0]["status"], 503);
  EXPECT_EQ(sent[1]["status"], 503);
  EXPECT_EQ(sent[2]["status"], 200);
  EXPECT_EQ(sent[0]["body"], sent[2]["body"]) << "a retry sends the same event";
  Json got = events(fake);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["name"], "ThriveCart rebill");
  expect_no_secrets(hub);
}

TEST(Encharge, WrongWriteKeyFailsOnceAsAConfigProblem) {
  FakeProcess fake("encharge");
  HubProcess hub("encharge-badkey", config(fake, "wk_not_a_key"), env());
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", ann_rebills()).status, 200);
  // A failed job is done with (a retried one stays queued, then dies): no attempt follows.
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'failed'") == 1; }))
      << hub.log();
  EXPECT_EQ(hub.count("SELECT attempts FROM jobs"), 1);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts WHERE outcome = 'config'"), 1);
  EXPECT_EQ(ingest_requests(fake).size(), 1u);
  EXPECT_EQ(ingest_requests(fake)[0]["status"], 401);
  EXPECT_TRUE(events(fake).empty());
  // The log says what to do about it, and never quotes the key.
  EXPECT_NE(hub.log().find("(a configuration problem of integration 'mail': fix its credentials or settings in "
                           "hub.yaml, reload, then replay the job)"),
            std::string::npos)
      << hub.log();
  EXPECT_EQ(hub.log().find("wk_not_a_key"), std::string::npos);
}

// A key from the environment is not read again by a reload: the log says to restart.
TEST(Encharge, WrongWriteKeyFromTheEnvironmentNamesItsVariableAndARestart) {
  FakeProcess fake("encharge");
  auto wrong = env();
  wrong["ENCHARGE_WRITE_KEY"] = "wk_not_a_key_either";
  HubProcess hub("encharge-badenvkey", config(fake), wrong);
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", ann_rebills()).status, 200);
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'failed'") == 1; }))
      << hub.log();
  EXPECT_NE(hub.log().find("(a configuration problem of integration 'mail': fix its settings in hub.yaml and reload, "
                           "or the environment variables they come from (ENCHARGE_WRITE_KEY for write_key), which "
                           "the hub reads only when it starts, and restart it; then replay the job)"),
            std::string::npos)
      << hub.log();
  EXPECT_EQ(hub.log().find("wk_not_a_key_either"), std::string::npos);
}
