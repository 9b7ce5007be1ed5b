// The real cartwire binary with the thrivecart and ghl plugins against the
// fake LeadConnector API (tests/fakes/ghl.py): ThriveCart orders become
// GoHighLevel contacts, tags, custom field values and workflow enrolments.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <thread>

#include "../support/fake_process.hpp"
#include "../support/hub_process.hpp"
#include "../support/thrivecart_payloads.hpp"

using namespace cartwire::testing;
using Json = nlohmann::json;

namespace {

const std::string kTcSecret = "S3cretWord-ghl-e2e";
// The fake's token and location (tests/fakes/ghl.py).
const std::string kToken = "pit-7d1c9e4b-2f3a-4c5d-8e9f-0a1b2c3d4e5f";
const std::string kLocation = "ve9EPM428h8vShlRW1KT";
const std::string kWorkflow = "78559bb3-b920-461e-b010-7b2a2816d2a9";
const std::string kCompanySizeField = "MgobCB14YMVKuE4Ka8p1";

std::string config(const std::string &ghl_url) {
  return "runner:\n  workers: 2\n  poll_interval: 100ms\n  retry: {initial_delay: 200ms, max_delay: 1s, horizon: 1h}\n"
         "sources:\n"
         "  thrivecart:\n"
         "    connector: thrivecart\n"
         "    settings: {secret: \"${TC_SECRET}\", account: acme}\n"
         "integrations:\n"
         "  crm:\n"
         "    connector: ghl\n"
         "    settings: {token: \"${GHL_TOKEN}\", location_id: " + kLocation + ", base_url: \"" + ghl_url + "\"}\n"
         "    fields: {\"contact.company_size\": \"customer.custom_fields.company_size\"}\n"
         "rules:\n"
         "  - name: upsell-workflow\n"
         "    on: product.purchased\n"
         "    where: {item.reference: upsell-*}\n"
         "    do: crm.add_to_workflow\n"
         "    with: {workflow_id: " + kWorkflow + "}\n"
         "products:\n"
         "  upsell-13:\n"
         "    - name: tag-upsell\n"
         "      do: crm.add_tags\n"
         "      with: {tags: [upsell-13, coaching]}\n";
}

std::map<std::string, std::string> env() { return {{"TC_SECRET", kTcSecret}, {"GHL_TOKEN", kToken}}; }

thrivecart::Customer ann() {
  thrivecart::Customer c;
  c.custom = {{"custom_fields][company_size", "11-50"}};
  return c;
}

std::string upsell_order(const std::string &order_id = "1514394") {
  return thrivecart::order_success(kTcSecret, order_id,
                                   {{"product", "12", "Course", 4995}, {"upsell", "13", "Coaching", 4995}}, ann());
}

Json contact_by_email(const FakeProcess &fake, const std::string &email) {
  Json state = fake.state();
  for (auto &c : state["contacts"])
    if (c.value("email", "") == email) return c;
  return nullptr;
}

std::vector<Json> requests_to(const FakeProcess &fake, const std::string &method, const std::string &path_suffix) {
  std::vector<Json> out;
  Json all = fake.requests();
  for (auto &r : all) {
    std::string path = r["path"];
    if (r["method"] == method && path.size() >= path_suffix.size() &&
        path.compare(path.size() - path_suffix.size(), path_suffix.size(), path_suffix) == 0)
      out.push_back(r);
  }
  return out;
}

long long jobs_in(const HubProcess &hub, const std::string &state) {
  return hub.count("SELECT COUNT(*) FROM jobs WHERE state = '" + state + "'");
}

}  // namespace

TEST(Ghl, UpsellIsTaggedAndEnrolledWithoutReplacingTags) {
  FakeProcess fake("ghl");
  // Ann already exists with a tag of her own, which must survive.
  fake.seed({{"contacts",
              {{"AnnExisting000000001",
                {{"id", "AnnExisting000000001"}, {"locationId", kLocation}, {"email", "ann@example.com"},
                 {"firstName", "Ann"}, {"tags", {"vip"}}, {"customFields", Json::array()},
                 {"dateAdded", "2026-01-01T00:00:00.000Z"}, {"_notes", Json::array()}, {"_tasks", Json::array()}}}}}});
  HubProcess hub("ghl-upsell", config(fake.url()), env());
  hub.start();
  auto reply = hub.post("/hooks/thrivecart", upsell_order());
  ASSERT_EQ(reply.status, 200) << reply.body << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs"), 2);  // tag-upsell, upsell-workflow: the upsell item only

  ASSERT_TRUE(eventually([&] { return jobs_in(hub, "succeeded") == 2; })) << hub.log();
  Json ann_now = contact_by_email(fake, "ann@example.com");
  ASSERT_TRUE(ann_now.is_object());
  EXPECT_EQ(ann_now["id"], "AnnExisting000000001");
  EXPECT_EQ(ann_now["tags"], (Json{"vip", "upsell-13", "coaching"}));
  EXPECT_EQ(ann_now["lastName"], "Lee");
  EXPECT_EQ(fake.state()["workflow_members"][kWorkflow], (Json{"AnnExisting000000001"}));
  EXPECT_EQ(fake.state()["contacts"].size(), 1u);

  auto tag_calls = requests_to(fake, "POST", "/contacts/AnnExisting000000001/tags");
  ASSERT_EQ(tag_calls.size(), 1u);
  EXPECT_EQ(tag_calls[0]["body"], (Json{{"tags", {"upsell-13", "coaching"}}}));
  auto upserts = requests_to(fake, "POST", "/contacts/upsert");
  ASSERT_EQ(upserts.size(), 2u);  // one per job
  for (auto &u : upserts) {
    EXPECT_FALSE(u["body"].contains("tags")) << "an upsert would replace the contact's tags";
    EXPECT_EQ(u["body"]["locationId"], kLocation);
    EXPECT_EQ(u["body"]["email"], "ann@example.com");
  }
  Json all = fake.requests();
  for (auto &r : all) {
    EXPECT_EQ(r["status"].get<int>() / 100, 2) << r.dump();
    EXPECT_EQ(r["headers"]["version"], "2021-07-28");
    EXPECT_EQ(r["headers"]["authorization"], "Bearer " + kToken);
  }
  // The token is a secret setting: the execution log and the hub's log never show it.
  for (auto &row : query(hub.db_path(), "SELECT exchanges FROM attempts"))
    EXPECT_EQ(row[0].find(kToken), std::string::npos) << row[0];
  EXPECT_EQ(hub.log().find(kToken), std::string::npos);
}

TEST(Ghl, MappedCustomFieldArrivesAfterTheListsAreRefreshed) {
  FakeProcess fake("ghl");
  HubProcess hub("ghl-fields", config(fake.url()), env());
  // The resource lists come from the fake through the plugin, so the mapping is checked against them.
  auto [code, output] = hub.run({"refresh", "crm", "--config", hub.config_path()});
  ASSERT_EQ(code, 0) << output;
  EXPECT_NE(output.find("crm.custom_fields:"), std::string::npos) << output;
  auto lists = query(hub.db_path(), "SELECT name, items FROM resource_lists WHERE integration = 'crm' ORDER BY name");
  ASSERT_EQ(lists.size(), 4u);
  EXPECT_EQ(lists[1][0], "custom_fields");
  Json fields = Json::parse(lists[1][1]);
  ASSERT_EQ(fields.size(), 3u);  // contact fields only
  EXPECT_EQ(fields[0], (Json{{"id", kCompanySizeField}, {"name", "Company size"}, {"key", "contact.company_size"},
                             {"type", "TEXT"}}));
  EXPECT_EQ(lists[3][0], "workflows");
  EXPECT_EQ(Json::parse(lists[3][1])[0]["id"], kWorkflow);
  auto [check_code, check_output] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(check_code, 0) << check_output;

  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", upsell_order("1514395")).status, 200);
  ASSERT_TRUE(eventually([&] { return jobs_in(hub, "succeeded") == 2; })) << hub.log();
  Json ann_now = contact_by_email(fake, "ann@example.com");
  ASSERT_TRUE(ann_now.is_object()) << fake.state().dump();
  EXPECT_EQ(ann_now["customFields"], (Json{{{"id", kCompanySizeField}, {"value", "11-50"}}}));
  for (auto &u : requests_to(fake, "POST", "/contacts/upsert"))
    EXPECT_EQ(u["body"]["customFields"],
              (Json{{{"id", kCompanySizeField}, {"key", "contact.company_size"}, {"field_value", "11-50"}}}))
        << "the hub passes the rendered mapping as ActionRequest::fields";
}

TEST(Ghl, RateLimitedCallIsRetriedAfterTheBurstWindow) {
  FakeProcess fake("ghl");
  std::string cfg = config(fake.url());
  // No mapping and the upsell tag rule only: two calls a job (upsert, tags).
  cfg = cfg.substr(0, cfg.find("    fields:"));
  cfg += "products:\n  upsell-13:\n    - name: tag-upsell\n      do: crm.add_tags\n      with: {tags: \"upsell-13\"}\n";
  HubProcess hub("ghl-429", cfg, env());
  hub.start();
  // A small budget, spent just before the order arrives: the hub's upsert gets
  // the API's 429 (X-RateLimit-* headers, no Retry-After) and must wait the window out.
  fake.seed({{"rate_limit", {{"max", 2}, {"interval_ms", 3000}}}});
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(http("GET", fake.port(), "/workflows/?locationId=" + kLocation, "",
                   {{"Authorization", "Bearer " + kToken}, {"Version", "2021-07-28"}})
                  .status,
              200);
  ASSERT_EQ(hub.post("/hooks/thrivecart", upsell_order("1514396")).status, 200);
  ASSERT_TRUE(eventually([&] { return jobs_in(hub, "succeeded") == 1; }, std::chrono::seconds(20))) << hub.log();

  auto upserts = requests_to(fake, "POST", "/contacts/upsert");
  ASSERT_EQ(upserts.size(), 2u) << fake.requests().dump();
  EXPECT_EQ(upserts[0]["status"], 429);
  EXPECT_EQ(upserts[0]["body"]["email"], "ann@example.com");
  EXPECT_EQ(upserts[1]["status"], 200);
  auto tag_calls = requests_to(fake, "POST", "/tags");
  ASSERT_EQ(tag_calls.size(), 1u);
  EXPECT_EQ(tag_calls[0]["status"], 201);
  auto attempts = query(hub.db_path(), "SELECT outcome, started_at FROM attempts ORDER BY number");
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0][0], "retryable");
  EXPECT_EQ(attempts[1][0], "ok");
  // The retry waited for the window the headers named, not the 200 ms back-off.
  EXPECT_GE(std::stoll(attempts[1][1]) - std::stoll(attempts[0][1]), 2500);
  EXPECT_EQ(contact_by_email(fake, "ann@example.com")["tags"], (Json{"upsell-13"}));
}

TEST(Ghl, ScriptedTooManyRequestsHonoursRetryAfterThenSucceeds) {
  FakeProcess fake("ghl");
  fake.fail("^/contacts/[^/]+/tags$", 429, 1,
            {{"Retry-After", "1"}, {"X-RateLimit-Max", "100"}, {"X-RateLimit-Remaining", "0"},
             {"X-RateLimit-Interval-Milliseconds", "10000"}});
  HubProcess hub("ghl-retry-after", config(fake.url()), env());
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", upsell_order("1514397")).status, 200);
  ASSERT_TRUE(eventually([&] { return jobs_in(hub, "succeeded") == 2; }, std::chrono::seconds(20))) << hub.log();
  auto tag_calls = requests_to(fake, "POST", "/tags");
  ASSERT_EQ(tag_calls.size(), 2u);
  EXPECT_EQ(tag_calls[0]["status"], 429);
  EXPECT_EQ(tag_calls[1]["status"], 201);
  EXPECT_EQ(fake.state()["contacts"].size(), 1u) << "the repeated upsert found the same contact";
  EXPECT_EQ(contact_by_email(fake, "ann@example.com")["tags"], (Json{"upsell-13", "coaching"}));
  auto attempts = query(hub.db_path(),
                        "SELECT a.outcome, a.started_at FROM attempts a JOIN jobs j ON j.id = a.job_id "
                        "WHERE j.action = 'add_tags' ORDER BY a.number");
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0][0], "retryable");
  EXPECT_GE(std::stoll(attempts[1][1]) - std::stoll(attempts[0][1]), 900);  // Retry-After: 1 (s)
}

TEST(Ghl, TwoIntegrationsOnOneLocationShareItsRateBudget) {
  FakeProcess fake("ghl");
  // HighLevel counts requests per location, whichever integration makes them.
  // The fake allows 4 a second; each integration is held to 3: together they
  // stay within it only if they share one budget.
  fake.seed({{"rate_limit", {{"max", 4}, {"interval_ms", 1000}}}});
  std::string crm = "    connector: ghl\n"
                    "    settings: {token: \"${GHL_TOKEN}\", location_id: " + kLocation + ", base_url: \"" + fake.url() +
                    "\"}\n"
                    "    rate_limit: {requests: 3, per: 1s}\n";
  std::string cfg = "runner:\n  workers: 4\n  poll_interval: 100ms\n  retry: {initial_delay: 200ms, max_delay: 1s}\n"
                    "sources:\n  thrivecart:\n    connector: thrivecart\n"
                    "    settings: {secret: \"${TC_SECRET}\", account: acme}\n"
                    "integrations:\n  sales:\n" + crm + "  support:\n" + crm +
                    "rules:\n"
                    "  - {name: sales-tag, on: order.completed, do: sales.add_tags, with: {tags: [buyer]}}\n"
                    "  - {name: support-tag, on: order.completed, do: support.add_tags, with: {tags: [supported]}}\n";
  HubProcess hub("ghl-shared-budget", cfg, env());
  hub.start();
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(hub.post("/hooks/thrivecart", upsell_order(std::to_string(1514400 + i))).status, 200);
  ASSERT_TRUE(eventually([&] { return jobs_in(hub, "succeeded") == 8; }, std::chrono::seconds(30))) << hub.log();
  Json requests = fake.requests();
  std::size_t limited = 0;
  for (auto &r : requests) limited += r["status"] == 429;
  EXPECT_EQ(limited, 0u) << requests.dump();
  EXPECT_GE(requests.size(), 16u);  // an upsert and the tags for each job
}
