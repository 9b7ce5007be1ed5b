// The real cartwire binary with the thrivecart and thinkific plugins against
// the fake Thinkific Admin API (tests/fakes/thinkific.py): ThriveCart
// purchases, refunds and cancellations become Thinkific users and enrollments.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <thread>

#include "../support/fake_process.hpp"
#include "../support/hub_process.hpp"
#include "../support/thrivecart_payloads.hpp"

using namespace cartwire::testing;
using Json = nlohmann::json;
namespace tc = cartwire::testing::thrivecart;

namespace {

const std::string kTcSecret = "S3cretWord-e2e";
const std::string kApiKey = "tk-e2e-api-key";  // the fake's seeded key for subdomain acme
const tc::Item kCourse{"product", "12", "Course", 4995};
const tc::Item kCoaching{"upsell", "13", "Coaching", 4995};

std::string config(const FakeProcess &fake, const std::string &fields = "", const std::string &credentials = "") {
  return "runner:\n  workers: 2\n  poll_interval: 100ms\n  retry: {initial_delay: 200ms, max_delay: 1s, horizon: 1h}\n"
         "sources:\n"
         "  thrivecart:\n"
         "    connector: thrivecart\n"
         "    settings: {secret: \"${TC_SECRET}\", account: acme}\n"
         "integrations:\n"
         "  school:\n"
         "    connector: thinkific\n"
         "    settings: {" +
         (credentials.empty() ? "subdomain: acme, api_key: \"${TK_KEY}\"" : credentials) + ", base_url: \"" +
         fake.url() + "/api/public/v1\"}\n" + fields +
         "products:\n"
         "  product-12:\n"
         "    - name: enrol\n"
         "      do: school.enroll_course\n"
         "      with: {course_id: 42}\n"
         "    - name: expire-on-refund\n"
         "      on: product.refunded\n"
         "      do: school.expire_course\n"
         "      with: {course_id: 42}\n"
         "    - name: expire-on-cancel\n"
         "      on: subscription.canceled\n"
         "      do: school.expire_course\n"
         "      with: {course_id: 42}\n"
         "  upsell-13:\n"
         "    - name: bundle\n"
         "      do: school.enroll_bundle\n"
         "      with: {bundle_id: 7}\n";
}

std::map<std::string, std::string> env() { return {{"TC_SECRET", kTcSecret}, {"TK_KEY", kApiKey}}; }

bool succeeded(const HubProcess &hub, long long n) {
  return eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == n; });
}

Json user_named(const Json &state, const std::string &email) {
  for (auto &u : state["users"])
    if (u["email"] == email) return u;
  return nullptr;
}

/** The enrollments of a user as the API itself reports them (expired, is_free_trial). */
Json enrollments_of(const FakeProcess &fake, long long user_id) {
  auto r = http("GET", fake.port(), "/api/public/v1/enrollments?query%5Buser_id%5D=" + std::to_string(user_id),
                "", {{"X-Auth-API-Key", kApiKey}, {"X-Auth-Subdomain", "acme"}});
  return Json::parse(r.body)["items"];
}

Json requests_to(const FakeProcess &fake, const std::string &method, const std::string &path) {
  Json out = Json::array();
  for (auto &r : fake.requests())
    if (r["method"] == method && r["path"] == path) out.push_back(r);
  return out;
}

}  // namespace

TEST(ThinkificE2E, RefreshFetchesEveryListAndCheckUsesThem) {
  FakeProcess fake("thinkific");
  HubProcess hub("thinkific-refresh", config(fake), env());
  auto [typo_code, typo] = hub.run({"refresh", "shcool", "--config", hub.config_path()});
  EXPECT_EQ(typo_code, 64) << typo;
  EXPECT_NE(typo.find("cartwire refresh: no integration 'shcool' in " + hub.config_path() +
                      " (did you mean school? integrations: school)"),
            std::string::npos)
      << typo;
  auto [code, out] = hub.run({"refresh", "school", "--config", hub.config_path()});
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("school.courses: fetching ... 260 item(s) in 2 request(s)"), std::string::npos) << out;
  EXPECT_NE(out.find("school.bundles: fetching ... 2 item(s) in 2 request(s)"), std::string::npos) << out;
  EXPECT_NE(out.find("school.custom_profile_fields: fetching ... 3 item(s) in 1 request(s)"), std::string::npos) << out;
  EXPECT_EQ(out.find(kApiKey), std::string::npos);
  auto rows = query(hub.db_path(), "SELECT items FROM resource_lists WHERE integration = 'school' AND name = 'bundles'");
  ASSERT_EQ(rows.size(), 1u);
  Json bundles = Json::parse(rows[0][0]);
  ASSERT_EQ(bundles.size(), 2u);
  EXPECT_EQ(bundles[0]["id"], "7");
  EXPECT_EQ(bundles[0]["name"], "Widget Mastery Bundle");

  auto [ok_code, ok_out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(ok_code, 0) << ok_out;

  // With the lists cached, a course that does not exist and a non-text field are config errors.
  std::string bad = config(fake, "    fields: {Country: customer.address.country}\n");
  bad.replace(bad.find("course_id: 42"), 13, "course_id: 9999");
  hub.write_config(bad);
  auto [bad_code, bad_out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_NE(bad_code, 0);
  EXPECT_NE(bad_out.find("has no courses item with id 9999"), std::string::npos) << bad_out;
  EXPECT_NE(bad_out.find("field 'Country' is a country field; thinkific accepts only text"), std::string::npos)
      << bad_out;
}

TEST(ThinkificE2E, PurchaseCreatesTheUserAndAnActivatedEnrollment) {
  FakeProcess fake("thinkific");
  HubProcess hub("thinkific-purchase", config(fake), env());
  hub.start();
  auto reply = hub.post("/hooks/thrivecart", tc::order_success(kTcSecret, "7001", {kCourse}));
  ASSERT_EQ(reply.status, 200) << reply.body << hub.log();
  ASSERT_TRUE(succeeded(hub, 1)) << hub.log();

  Json state = fake.state();
  Json ann = user_named(state, "ann@example.com");
  ASSERT_FALSE(ann.is_null()) << state["users"].dump();
  EXPECT_EQ(ann["first_name"], "Ann");
  EXPECT_EQ(ann["last_name"], "Lee");
  EXPECT_EQ(state["welcome_emails"], Json::array({"ann@example.com"}));

  Json enrollments = enrollments_of(fake, ann["id"].get<long long>());
  ASSERT_EQ(enrollments.size(), 1u);
  EXPECT_EQ(enrollments[0]["course_id"], 42);
  EXPECT_EQ(enrollments[0]["is_free_trial"], false);
  EXPECT_EQ(enrollments[0]["expired"], false);
  EXPECT_TRUE(enrollments[0]["activated_at"].is_string());
  EXPECT_TRUE(enrollments[0]["expiry_date"].is_null());

  Json posts = requests_to(fake, "POST", "/api/public/v1/enrollments");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]["status"], 201);
  EXPECT_EQ(posts[0]["headers"]["x-auth-subdomain"], "acme");
  EXPECT_TRUE(posts[0]["body"].contains("activated_at"));

  // The key is redacted from the attempt log and never reaches the hub's log.
  auto exchanges = query(hub.db_path(), "SELECT exchanges FROM attempts");
  ASSERT_EQ(exchanges.size(), 1u);
  EXPECT_EQ(exchanges[0][0].find(kApiKey), std::string::npos);
  EXPECT_EQ(hub.log().find(kApiKey), std::string::npos);

  // A re-delivery of the same order does nothing new: no job is stored with its 2xx, and the one there stays done.
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::order_success(kTcSecret, "7001", {kCourse})).status, 200);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs"), 1);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'"), 1);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts"), 1);
  EXPECT_EQ(requests_to(fake, "POST", "/api/public/v1/users").size(), 1u);
}

TEST(ThinkificE2E, RefundExpiresTheEnrollment) {
  FakeProcess fake("thinkific");
  HubProcess hub("thinkific-refund", config(fake), env());
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::order_success(kTcSecret, "7002", {kCourse})).status, 200);
  ASSERT_TRUE(succeeded(hub, 1)) << hub.log();
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::refund(kTcSecret, "7002", kCourse, 4995)).status, 200);
  ASSERT_TRUE(succeeded(hub, 2)) << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE rule = 'expire-on-refund' AND state = 'succeeded'"), 1);

  Json ann = user_named(fake.state(), "ann@example.com");
  Json enrollments = enrollments_of(fake, ann["id"].get<long long>());
  ASSERT_EQ(enrollments.size(), 1u);
  EXPECT_EQ(enrollments[0]["expired"], true);
  EXPECT_TRUE(enrollments[0]["expiry_date"].is_string());
  Json puts = requests_to(fake, "PUT", "/api/public/v1/enrollments/" + enrollments[0]["id"].dump());
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0]["status"], 204);
  EXPECT_EQ(puts[0]["body"].size(), 1u);
  EXPECT_TRUE(puts[0]["body"].contains("expiry_date"));
}

TEST(ThinkificE2E, ABuyerWhoseEnrollmentExpiredGetsAccessAgainOnTheNextPurchase) {
  FakeProcess fake("thinkific");
  HubProcess hub("thinkific-rebuy", config(fake), env());
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::order_success(kTcSecret, "7005", {kCourse})).status, 200);
  ASSERT_TRUE(succeeded(hub, 1)) << hub.log();
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::refund(kTcSecret, "7005", kCourse, 4995)).status, 200);
  ASSERT_TRUE(succeeded(hub, 2)) << hub.log();
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::order_success(kTcSecret, "7006", {kCourse})).status, 200);
  ASSERT_TRUE(succeeded(hub, 3)) << hub.log();

  // The same enrollment, active again: the API takes no null expiry_date,
  // so "no end" is a date far ahead.
  Json ann = user_named(fake.state(), "ann@example.com");
  Json enrollments = enrollments_of(fake, ann["id"].get<long long>());
  ASSERT_EQ(enrollments.size(), 1u);
  EXPECT_EQ(enrollments[0]["expired"], false);
  EXPECT_EQ(enrollments[0]["is_free_trial"], false);
  EXPECT_EQ(enrollments[0]["expiry_date"], "2099-12-31T23:59:59Z");
  Json puts = requests_to(fake, "PUT", "/api/public/v1/enrollments/" + enrollments[0]["id"].dump());
  ASSERT_EQ(puts.size(), 2u);
  EXPECT_EQ(puts[1]["status"], 204);
}

TEST(ThinkificE2E, APartialRefundKeepsTheEnrollment) {
  FakeProcess fake("thinkific");
  HubProcess hub("thinkific-partial-refund", config(fake), env());
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::order_success(kTcSecret, "7005", {kCourse})).status, 200);
  ASSERT_TRUE(succeeded(hub, 1)) << hub.log();
  // ThriveCart does not say whether a refund is partial: 20.00 of the 49.95 stored for this item is.
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::refund(kTcSecret, "7005", kCourse, 2000)).status, 200);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE type = 'product.partially_refunded'"
                      " AND json_extract(body, '$.refund.purchased_amount') = 4995"
                      " AND json_extract(body, '$.refund.purchased_amount_str') = '49.95'"
                      " AND json_extract(body, '$.refund.unverified') IS NULL"),
            1);
  // The whole amount of another order's item is a full refund, and expires it.
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::order_success(kTcSecret, "7006", {kCourse})).status, 200);
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::refund(kTcSecret, "7006", kCourse, 4995)).status, 200);
  ASSERT_TRUE(succeeded(hub, 3)) << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE rule = 'expire-on-refund'"), 1);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE type = 'product.refunded'"
                      " AND json_extract(body, '$.refund.purchased_amount') = 4995"),
            1);
  // A refund of an order the hub never saw cannot be checked: it says so.
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::refund(kTcSecret, "6999", kCourse, 2000)).status, 200);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE type = 'product.refunded'"
                      " AND json_extract(body, '$.refund.unverified') = 1"),
            1);
}

TEST(ThinkificE2E, SubscriptionCancelExpiresTheEnrollment) {
  FakeProcess fake("thinkific");
  HubProcess hub("thinkific-cancel", config(fake), env());
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::order_success(kTcSecret, "7003", {kCourse})).status, 200);
  ASSERT_TRUE(succeeded(hub, 1)) << hub.log();
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::cancel(kTcSecret, "7003", kCourse)).status, 200);
  ASSERT_TRUE(succeeded(hub, 2)) << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE rule = 'expire-on-cancel' AND state = 'succeeded'"), 1);
  Json ann = user_named(fake.state(), "ann@example.com");
  Json enrollments = enrollments_of(fake, ann["id"].get<long long>());
  ASSERT_EQ(enrollments.size(), 1u);
  EXPECT_EQ(enrollments[0]["expired"], true);
}

TEST(ThinkificE2E, UpsellEnrolsInTheBundle) {
  FakeProcess fake("thinkific");
  HubProcess hub("thinkific-bundle", config(fake), env());
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::order_success(kTcSecret, "7004", {kCourse, kCoaching})).status, 200);
  ASSERT_TRUE(succeeded(hub, 2)) << hub.log();
  Json ann = user_named(fake.state(), "ann@example.com");
  Json enrollments = enrollments_of(fake, ann["id"].get<long long>());
  std::set<long long> active;
  for (auto &e : enrollments)
    if (!e["expired"].get<bool>() && !e["is_free_trial"].get<bool>()) active.insert(e["course_id"].get<long long>());
  EXPECT_EQ(active, (std::set<long long>{42, 43}));  // the course, and the bundle's 42 + 43
  Json posts = requests_to(fake, "POST", "/api/public/v1/bundles/7/enrollments");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]["body"]["user_id"], ann["id"]);
  EXPECT_TRUE(posts[0]["body"].contains("activated_at"));
  EXPECT_EQ(requests_to(fake, "POST", "/api/public/v1/users").size(), 1u);  // one user for both jobs
}

// The bundle's enrollment list shows course 42, bought on its own first; the
// bundle still gives course 43.
TEST(ThinkificE2E, ABuyerOfOneCourseOfTheBundleGetsTheOthersWithIt) {
  FakeProcess fake("thinkific");
  HubProcess hub("thinkific-course-then-bundle", config(fake), env());
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::order_success(kTcSecret, "7010", {kCourse})).status, 200);
  ASSERT_TRUE(succeeded(hub, 1)) << hub.log();
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::order_success(kTcSecret, "7011", {kCoaching})).status, 200);
  ASSERT_TRUE(succeeded(hub, 2)) << hub.log();
  Json ann = user_named(fake.state(), "ann@example.com");
  std::set<long long> active;
  for (auto &e : enrollments_of(fake, ann["id"].get<long long>()))
    if (!e["expired"].get<bool>() && !e["is_free_trial"].get<bool>()) active.insert(e["course_id"].get<long long>());
  EXPECT_EQ(active, (std::set<long long>{42, 43}));
  EXPECT_EQ(requests_to(fake, "POST", "/api/public/v1/bundles/7/enrollments").size(), 1u);
}

TEST(ThinkificE2E, RateLimitedThenSucceeds) {
  FakeProcess fake("thinkific");
  fake.fail("^/api/public/v1/enrollments$", 429, 1, {{"RateLimit-Reset", "300"}});
  HubProcess hub("thinkific-429", config(fake), env());
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::order_success(kTcSecret, "7005", {kCourse})).status, 200);
  ASSERT_TRUE(succeeded(hub, 1)) << hub.log();
  EXPECT_EQ(hub.count("SELECT attempts FROM jobs"), 2);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts WHERE outcome = 'retryable'"), 1);
  auto errors = query(hub.db_path(), "SELECT error FROM attempts WHERE outcome = 'retryable'");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0][0].find("HTTP 429"), std::string::npos) << errors[0][0];
  int statuses_429 = 0;
  for (auto &r : fake.requests()) statuses_429 += r["status"] == 429;
  EXPECT_EQ(statuses_429, 1);
  // The second attempt found the user the first one created.
  EXPECT_EQ(requests_to(fake, "POST", "/api/public/v1/users").size(), 1u);
  EXPECT_EQ(requests_to(fake, "POST", "/api/public/v1/enrollments").size(), 1u);
}

TEST(ThinkificE2E, OutageIsRetriedWithBearerToken) {
  FakeProcess fake("thinkific");
  fake.fail("^/api/public/v1/users$", 503, 2);
  HubProcess hub("thinkific-503", config(fake, "", "access_token: \"${TK_TOKEN}\""),
                 {{"TC_SECRET", kTcSecret}, {"TK_TOKEN", "tk-e2e-oauth-token"}});
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::order_success(kTcSecret, "7006", {kCourse})).status, 200);
  ASSERT_TRUE(succeeded(hub, 1)) << hub.log();
  EXPECT_EQ(hub.count("SELECT attempts FROM jobs"), 3);
  Json posts = requests_to(fake, "POST", "/api/public/v1/enrollments");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]["headers"]["authorization"], "Bearer tk-e2e-oauth-token");
  EXPECT_FALSE(posts[0]["headers"].contains("x-auth-api-key"));
  EXPECT_EQ(hub.log().find("tk-e2e-oauth-token"), std::string::npos);
}

TEST(ThinkificE2E, MappedCustomFieldBecomesAProfileField) {
  FakeProcess fake("thinkific");
  HubProcess hub("thinkific-fields", config(fake, "    fields: {company: customer.custom_fields.company}\n"), env());
  hub.start();
  tc::Customer ann;
  ann.custom = {{"custom_fields][company", "Acme Ltd"}};
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::order_success(kTcSecret, "7007", {kCourse}, ann)).status, 200);
  ASSERT_TRUE(succeeded(hub, 1)) << hub.log();
  Json user = user_named(fake.state(), "ann@example.com");
  ASSERT_FALSE(user.is_null());
  ASSERT_EQ(user["custom_profile_fields"].size(), 1u) << user.dump();
  EXPECT_EQ(user["custom_profile_fields"][0]["custom_profile_field_definition_id"], 1);
  EXPECT_EQ(user["custom_profile_fields"][0]["label"], "Company");
  EXPECT_EQ(user["custom_profile_fields"][0]["value"], "Acme Ltd");
}

TEST(ThinkificE2E, AJobOfAWrongCourseReplayedWithTheRuleAsFixedEnrolsTheRightCourse) {
  FakeProcess fake("thinkific");
  const std::string token = "thinkific-admin-token-0123456789";
  unsigned short admin = free_port();
  auto vars = env();
  vars["ADMIN_TOKEN"] = token;
  std::string admin_block = "admin:\n  listen: 127.0.0.1:" + std::to_string(admin) + "\n  token: \"${ADMIN_TOKEN}\"\n";
  auto call = [&](const std::string &method, const std::string &path, const Json &body = nullptr) {
    return http(method, admin, path, body.is_null() ? "" : body.dump(),
                {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
  };
  // A course id the hub cannot tell is wrong (no course list is cached): the enrolment fails.
  std::string wrong = config(fake);
  wrong.replace(wrong.find("course_id: 42"), 13, "course_id: 9999");
  HubProcess hub("thinkific-replay-current", wrong + admin_block, vars);
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", tc::order_success(kTcSecret, "7008", {kCourse})).status, 200);
  auto state_is = [&](const std::string &state, int attempts) {
    return eventually([&] {
      return hub.count("SELECT COUNT(*) FROM jobs WHERE rule = 'enrol' AND state = '" + state +
                       "' AND attempts = " + std::to_string(attempts)) == 1;
    });
  };
  ASSERT_TRUE(state_is("failed", 1)) << hub.log();
  std::string id = std::to_string(hub.count("SELECT id FROM jobs WHERE rule = 'enrol'"));
  auto courses_asked = [&] {
    std::vector<Json> out;
    for (auto &r : requests_to(fake, "POST", "/api/public/v1/enrollments")) out.push_back(r["body"]["course_id"]);
    return out;
  };
  ASSERT_EQ(courses_asked(), std::vector<Json>{9999});

  // The rule is fixed and reloaded.
  hub.write_config(config(fake) + admin_block);
  auto reload = call("POST", "/api/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  ASSERT_EQ(Json::parse(reload.body)["ok"], true) << reload.body;

  // With the original rule, the replay sends the course the job was made with.
  auto original = call("POST", "/api/jobs/" + id + "/replay", {{"rule", "original"}});
  ASSERT_EQ(original.status, 200) << original.body;
  EXPECT_EQ(Json::parse(original.body)["rule"], "original");
  ASSERT_TRUE(state_is("failed", 2)) << hub.log();
  EXPECT_EQ(courses_asked(), (std::vector<Json>{9999, 9999}));

  // With the current rule, it enrols the course of the rule as it is now.
  auto current = call("POST", "/api/jobs/" + id + "/replay", {{"rule", "current"}});
  ASSERT_EQ(current.status, 200) << current.body;
  EXPECT_EQ(Json::parse(current.body)["rule"], "current");
  ASSERT_TRUE(state_is("succeeded", 3)) << hub.log();
  EXPECT_EQ(courses_asked(), (std::vector<Json>{9999, 9999, 42}));
  Json ann = user_named(fake.state(), "ann@example.com");
  ASSERT_FALSE(ann.is_null());
  Json enrollments = enrollments_of(fake, ann["id"].get<long long>());
  ASSERT_EQ(enrollments.size(), 1u);
  EXPECT_EQ(enrollments[0]["course_id"], 42);

  // The job shows what it sends now, each replay, and the course it was given before.
  auto detail_reply = call("GET", "/api/jobs/" + id);
  ASSERT_EQ(detail_reply.status, 200) << detail_reply.body;
  Json detail = Json::parse(detail_reply.body);
  EXPECT_EQ(detail["job"]["params"], (Json{{"course_id", 42}}));
  ASSERT_EQ(detail["replays"].size(), 2u) << detail.dump();
  EXPECT_EQ(detail["replays"][0]["rule"], "original");
  EXPECT_EQ(detail["replays"][0]["after_attempt"], 1);
  EXPECT_FALSE(detail["replays"][0].contains("replaced_params"));
  EXPECT_EQ(detail["replays"][1]["rule"], "current");
  EXPECT_EQ(detail["replays"][1]["after_attempt"], 2);
  EXPECT_EQ(detail["replays"][1]["replaced_params"], (Json{{"course_id", 9999}}));
  ASSERT_EQ(detail["attempts"].size(), 3u);
  EXPECT_EQ(detail["attempts"][1]["outcome"], detail["attempts"][0]["outcome"]);
  EXPECT_EQ(detail["attempts"][2]["outcome"], "ok");
  Json sent;
  for (auto &ex : detail["attempts"][2]["exchanges"])
    if (ex["request"]["method"] == "POST" && ex["request"]["url"] == fake.url() + "/api/public/v1/enrollments")
      sent = Json::parse(ex["request"]["body"].get<std::string>());
  EXPECT_EQ(sent["course_id"], 42) << detail["attempts"][2]["exchanges"].dump();
  EXPECT_EQ(detail_reply.body.find(kApiKey), std::string::npos);
}
