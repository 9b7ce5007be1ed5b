// Secrets sweep: a known, distinctive value for the secret setting of every
// source and connector and for the admin token; log level debug; every path
// driven (accepted and refused webhooks, successful, failing and retried
// jobs, dead jobs, list refreshes, every admin GET, login). Then the database
// file (with its WAL), the log and every API answer are searched for each
// secret: there must be no hit.
#include <gtest/gtest.h>

#include <Poco/Base64Encoder.h>
#include <Poco/URI.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <sstream>

#include "../support/fake_process.hpp"
#include "../support/fault_remote.hpp"
#include "../support/hub_process.hpp"
#include "../support/sink.hpp"
#include "../support/thrivecart_payloads.hpp"

using namespace cartwire::testing;
using Json = nlohmann::json;

namespace {

const std::string kTcSecretWord = "tcSecretQx7Lw2Nv";
const std::string kSamcartToken = "scTokenHj4Rm8Zp2K";
const std::string kSigningKey = "signing-key-Bv93Tq-4k8Wz1Lm";  // notifyurl: whsec_ + base64 of these 24 bytes
const std::string kAdminToken = "adminTokenYu6Pc1Xd";
const std::string kPacedToken = "paced-token-Mk52Ds";  // the paced fixture's secret setting
const std::string kHookHeader = "hdr-token-Wq83Lp";  // a Notify URL's extra header value
// The fakes accept only their seeded credentials (tests/fakes/*.py).
const std::string kEnchargeKey = "wk_e2e_4c1d7a9b3f2e8d6c";
const std::string kGhlToken = "pit-7d1c9e4b-2f3a-4c5d-8e9f-0a1b2c3d4e5f";
const std::string kThinkificKey = "tk-e2e-api-key";

std::string whsec() {
  std::ostringstream out;
  Poco::Base64Encoder b64(out);
  b64 << kSigningKey;
  b64.close();
  return "whsec_" + out.str();
}

std::string read_file(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Admin {
  unsigned short port = 0;
  std::string seen;  // every answer, headers and body
  HttpResult call(const std::string &method, const std::string &path, const std::string &body = "",
                  std::map<std::string, std::string> headers = {{"Authorization", "Bearer " + kAdminToken}}) {
    if (!body.empty()) headers["Content-Type"] = "application/json";
    HttpResult r = http(method, port, path, body, headers);
    seen += method + " " + path + " " + std::to_string(r.status) + "\n";
    for (auto &[k, v] : r.headers) seen += k + ": " + v + "\n";
    seen += r.body + "\n";
    return r;
  }
  Json get(const std::string &path) {
    HttpResult r = call("GET", path);
    EXPECT_EQ(r.status, 200) << path << " " << r.body;
    return Json::parse(r.body, nullptr, false);
  }
};

}  // namespace

TEST(SecretsSweep, NoSecretInTheDatabaseLogOrApi) {
  FakeProcess encharge("encharge"), ghl("ghl"), thinkific("thinkific");
  Sink sink;
  // A receiver that echoes what it was sent, the extra header included.
  sink.respond_with([](const Recorded &r) {
    Reply reply;
    reply.body = Json{{"ok", true}, {"key", r.headers.count("x-api-key") ? r.headers.at("x-api-key") : ""}}.dump();
    return reply;
  });
  FaultRemote failing;
  failing.script([](const Hit &hit) {
    // First a 401 (a credential problem, permanent), then 500s and a 429 (retried until dead).
    if (hit.path.find("/auth") != std::string::npos) return Fault::answer(401);
    return hit.number % 2 ? Fault::answer(500) : Fault::answer(429, {{"Retry-After", "0"}});
  });

  Admin admin;
  admin.port = free_port();
  std::map<std::string, std::string> env = {
      {"TC_SECRET", kTcSecretWord}, {"SC_TOKEN", kSamcartToken}, {"HOOK_SECRET", whsec()},
      {"ENCHARGE_KEY", kEnchargeKey}, {"GHL_TOKEN", kGhlToken}, {"TK_KEY", kThinkificKey},
      {"ADMIN_TOKEN", kAdminToken}, {"PACED_TOKEN", kPacedToken}, {"HOOK_HEADER", kHookHeader}};
  HubProcess hub("secrets", "", env);
  fs::path plugins = hub.dir() / "plugins";
  fs::create_directories(plugins);
  for (auto &entry : fs::directory_iterator(CARTWIRE_PLUGIN_DIR)) fs::create_symlink(entry.path(), plugins / entry.path().filename());
  fs::create_symlink(PACED_PLUGIN, plugins / "paced.so");
  hub.use_plugins_dir(plugins.string());
  hub.write_config(
      "admin:\n  listen: 127.0.0.1:" + std::to_string(admin.port) + "\n  token: \"${ADMIN_TOKEN}\"\n"
      "log:\n  level: debug\n"
      "runner:\n  workers: 3\n  poll_interval: 50ms\n  retry: {initial_delay: 100ms, max_delay: 300ms, horizon: 2s}\n"
      "sources:\n"
      "  thrivecart:\n    connector: thrivecart\n    settings: {secret: \"${TC_SECRET}\", account: acme}\n"
      "  samcart:\n    connector: samcart\n    settings: {token: \"${SC_TOKEN}\"}\n"
      "integrations:\n"
      "  hook:\n    connector: notifyurl\n    settings: {url: \"" + sink.url() +
      "\", secret: \"${HOOK_SECRET}\", headers: {X-Api-Key: \"${HOOK_HEADER}\", Accept: application/json}}\n"
      "  mail:\n    connector: encharge\n"
      "    settings: {write_key: \"${ENCHARGE_KEY}\", base_url: \"" + encharge.url() + "/v1\"}\n"
      "  crm:\n    connector: ghl\n"
      "    settings: {token: \"${GHL_TOKEN}\", location_id: ve9EPM428h8vShlRW1KT, base_url: \"" + ghl.url() + "\"}\n"
      "  school:\n    connector: thinkific\n"
      "    settings: {subdomain: acme, api_key: \"${TK_KEY}\", base_url: \"" + thinkific.url() + "/api/public/v1\"}\n"
      "  flaky:\n    connector: paced\n    settings: {url: \"" + failing.url() + "\", token: \"${PACED_TOKEN}\"}\n"
      "  denied:\n    connector: paced\n    settings: {url: \"" + failing.url("/auth") + "\", token: \"${PACED_TOKEN}\"}\n"
      "rules:\n"
      "  - {name: notify, on: [order.completed, product.refunded], do: hook.post}\n"
      "  - {name: track, on: [order.completed, product.purchased, product.refunded], do: mail.track_event,"
      " with: {tags: buyer}}\n"
      "  - {name: tag, on: product.purchased, do: crm.add_tags, with: {tags: [buyer]}}\n"
      "  - {name: flaky, on: order.completed, do: flaky.post}\n"
      "  - {name: denied, on: order.completed, do: denied.post}\n"
      "  - {name: on-dead, on: hub.job.dead, do: hook.post}\n"
      "products:\n"
      "  product-12:\n    - {name: enrol, do: school.enroll_course, with: {course_id: 42}}\n");
  hub.start();
  ASSERT_TRUE(eventually([&] {
    try {
      return http("GET", admin.port, "/healthz").status == 200;
    } catch (...) {
      return false;
    }
  }));

  // Remotes rejecting the credentials once, or failing and then recovering.
  encharge.fail(".*", 401, 1);
  ghl.fail(".*", 500, 2);
  // Webhooks: accepted, re-delivered, refused (wrong secret, wrong token), malformed.
  thrivecart::Item course{"product", "12", "Course", 4995};
  std::string order = thrivecart::order_success(kTcSecretWord, "8801", {course});
  ASSERT_EQ(hub.post("/hooks/thrivecart", order).status, 200);
  ASSERT_EQ(hub.post("/hooks/thrivecart", order).status, 200);
  ASSERT_EQ(hub.post("/hooks/thrivecart", thrivecart::refund(kTcSecretWord, "8801", course, 4995)).status, 200);
  EXPECT_EQ(hub.post("/hooks/thrivecart", thrivecart::order_success("wrong-word", "8802", {course})).status, 401);
  // Other connectors' keys and the admin token in what a buyer typed: masked
  // before the event is stored, and so in what is delivered and recorded.
  ASSERT_EQ(hub.post("/hooks/thrivecart", thrivecart::order_success(kTcSecretWord, "8803", {course}) +
                                              "&customer[custom_fields][note]=" + kEnchargeKey + "+" + kAdminToken +
                                              "+" + kThinkificKey)
                .status,
            200);
  EXPECT_EQ(hub.post("/hooks/thrivecart", "event=order.success&thrivecart_secret=" + kTcSecretWord + "&%zz").status,
            400);
  EXPECT_EQ(hub.post("/hooks/thrivecart", "{\"event\":\"order.success\",\"thrivecart_secret\":\"" + kTcSecretWord +
                                              "\",", "application/json").status,
            400);
  Json samcart = {{"type", "Order"},
                  {"customer", {{"customer_id", 1}, {"email", "sam@example.com"}, {"first_name", "Sam"}}},
                  {"order", {{"id", 5501}, {"total", "49.95"}, {"created_at", "2026-01-15 10:00:00"}}},
                  {"product", {{"id", 910707}, {"name", "Course"}, {"price", "49.95"}}}};
  ASSERT_EQ(hub.post("/hooks/samcart/" + kSamcartToken, samcart.dump(), "application/json").status, 200);
  samcart["order"]["id"] = 5502;
  // A buyer (or a support form) pasting the source's token into what the cart sends.
  samcart["customer"]["notes"] = "my token is " + kSamcartToken;
  ASSERT_EQ(hub.post("/hooks/samcart?token=" + kSamcartToken, samcart.dump(), "application/json").status, 200);
  EXPECT_EQ(hub.post("/hooks/samcart/" + kSamcartToken + "x", samcart.dump(), "application/json").status, 401);
  ASSERT_TRUE(eventually([&] {
    return hub.count("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')") == 0 &&
           hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'dead'") >= 1;
  }, std::chrono::seconds(30)))
      << hub.log();
  EXPECT_GE(hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'"), 5);
  EXPECT_GE(hub.count("SELECT COUNT(*) FROM jobs WHERE state IN ('failed', 'dead')"), 2);
  EXPECT_GE(hub.count("SELECT COUNT(*) FROM attempts WHERE outcome = 'retryable'"), 3);

  // The admin API: login, every read, a list refresh, a replay.
  admin.call("POST", "/api/login", Json{{"token", kAdminToken}}.dump(), {});
  admin.call("GET", "/api/jobs", "", {{"Authorization", "Bearer " + kAdminToken + "-wrong"}});
  admin.call("POST", "/api/integrations/school/lists/refresh");
  for (std::string path : {"/api/session", "/api/sources", "/api/integrations", "/api/rules", "/api/plugins",
                           "/api/stats", "/api/timeline", "/api/events", "/api/jobs", "/api/jobs?state=dead",
                           "/api/jobs?state=failed", "/metrics", "/"})
    admin.call("GET", path);
  for (auto &id : {"hook", "mail", "crm", "school", "flaky", "denied"}) admin.get(std::string("/api/integrations/") + id);
  for (auto &id : {"thrivecart", "samcart"}) admin.call("GET", std::string("/api/sources/") + id);
  // The URL to give SamCart names its token, without showing it.
  Json sources = admin.get("/api/sources");
  bool samcart_path = false;
  for (auto &source : sources["items"])
    samcart_path |= source["id"] == "samcart" && source["path"] == "/hooks/samcart/<token>";
  EXPECT_TRUE(samcart_path) << sources.dump();
  admin.call("GET", "/api/integrations/school/lists/courses");
  for (auto &row : query(hub.db_path(), "SELECT id FROM jobs")) admin.get("/api/jobs/" + row[0]);
  for (auto &row : query(hub.db_path(), "SELECT id FROM events")) admin.get("/api/events/" + row[0]);
  auto dead = query(hub.db_path(), "SELECT id FROM jobs WHERE state = 'dead' LIMIT 1");
  if (!dead.empty()) {
    // The replay's attempt is swept below with the rest: it is on record once it ended.
    std::string attempts_of_dead = "SELECT COUNT(*) FROM attempts WHERE job_id = " + dead[0][0];
    long long tried = hub.count(attempts_of_dead);
    admin.call("POST", "/api/jobs/" + dead[0][0] + "/replay");
    EXPECT_TRUE(eventually([&] { return hub.count(attempts_of_dead) > tried; })) << hub.log();
  }
  ASSERT_EQ(hub.stop(), 0);

  std::string db = read_file(hub.db_path()) + read_file(hub.db_path() + "-wal") + read_file(hub.db_path() + "-shm");
  std::string log = hub.log();
  // The log did record the failures, with their messages (at debug level everything is logged).
  ASSERT_NE(log.find("retry in"), std::string::npos) << log;
  ASSERT_NE(log.find("is dead after"), std::string::npos) << log;
  ASSERT_GT(admin.seen.size(), 10000u);
  const std::map<std::string, std::string> secrets = {
      {"thrivecart secret", kTcSecretWord}, {"samcart token", kSamcartToken}, {"notifyurl secret", whsec()},
      {"notifyurl key", kSigningKey}, {"encharge write key", kEnchargeKey}, {"ghl token", kGhlToken},
      {"thinkific api key", kThinkificKey}, {"admin token", kAdminToken}, {"paced token", kPacedToken},
      {"notifyurl header", kHookHeader}};
  for (auto &[what, value] : secrets) {
    EXPECT_EQ(db.find(value), std::string::npos) << what << " is in the database";
    EXPECT_EQ(log.find(value), std::string::npos) << what << " is in the log:\n"
                                                  << log.substr(log.find(value) > 300 ? log.find(value) - 300 : 0, 600);
    EXPECT_EQ(admin.seen.find(value), std::string::npos)
        << what << " is in an API answer:\n"
        << admin.seen.substr(admin.seen.find(value) > 300 ? admin.seen.find(value) - 300 : 0, 600);
  }
  // The secrets did reach the remotes, so the sweep is not vacuous.
  bool signed_post = false;
  for (auto &r : sink.requests()) signed_post |= !r.headers["webhook-signature"].empty();
  EXPECT_TRUE(signed_post);
  bool bearer_sent = false;
  for (auto &h : failing.hits()) bearer_sent |= h.headers["authorization"] == "Bearer " + kPacedToken;
  EXPECT_TRUE(bearer_sent);
}

TEST(SecretsSweep, AConnectorThatIsNotLoadedHasOnlyItsSecretNamedSettingsMasked) {
  // Nothing says which settings of a missing connector are secret: those
  // named like one are masked in what sources receive, its other values are
  // not (a "live" among them would have masked every event's mode).
  const std::string key = "missing-key-Zt61Pq";
  HubProcess hub("secrets-missing",
                 "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: \"" + kTcSecretWord +
                     "\"}\n"
                     "integrations:\n  gone:\n    connector: not-installed\n"
                     "    settings: {site: example.com, mode: live, api_key: \"" + key + "\"}\n");
  hub.start();
  thrivecart::Item course{"product", "12", "Course", 4995};
  ASSERT_EQ(hub.post("/hooks/thrivecart", thrivecart::order_success(kTcSecretWord, "8901", {course}) +
                                              "&customer[custom_fields][note]=" + key)
                .status,
            200)
      << hub.log();
  auto rows = query(hub.db_path(), "SELECT mode, email, body FROM events WHERE type = 'order.completed'");
  ASSERT_EQ(rows.size(), 1u) << hub.log();
  EXPECT_EQ(rows[0][0], "live");
  EXPECT_NE(rows[0][1].find("@example.com"), std::string::npos) << rows[0][1];
  std::string db = read_file(hub.db_path()) + read_file(hub.db_path() + "-wal");
  EXPECT_EQ(db.find(key), std::string::npos) << "the missing connector's api_key is in the database";
}

TEST(SecretsSweep, ACredentialQuotedBackEncodedOrCarriedInAUrlQueryIsMasked) {
  // A Basic credential whose base64 holds "/", "+" and "=": a remote quotes it
  // JSON-escaped (PHP writes "\/") or percent-encoded in a redirect. Each of
  // its two halves is searched for, so that any form of it is found.
  const std::string user_half = "QmFzaWNVc2Vy", password_half = "OlBhc3N3b3JkWq";
  const std::string basic = "Basic " + user_half + "/+" + password_half + "==";
  const std::string url_token = "urlTokenRv58Kd2w", rule_key = "ruleKeyPz41Hs7n";
  Sink remote;
  remote.respond_with([](const Recorded &r) {
    std::string authorization = r.headers.count("authorization") ? r.headers.at("authorization") : "";
    Reply reply;
    if (r.uri.rfind("/moved", 0) == 0) {
      reply.status = 302;
      std::string encoded;
      Poco::URI::encode(authorization, "/+=", encoded);
      reply.headers["Location"] = "https://login.example/?from=" + encoded;
      return reply;
    }
    reply.status = 401;
    std::string quoted = Json{{"error", "denied"}, {"uri", r.uri}, {"authorization", authorization}}.dump();
    for (std::size_t at = quoted.find('/'); at != std::string::npos; at = quoted.find('/', at + 2)) quoted.insert(at, "\\");
    reply.body = quoted;
    return reply;
  });
  Admin admin;
  admin.port = free_port();
  HubProcess hub("secrets-encoded", "", {{"ADMIN_TOKEN", kAdminToken}, {"BASIC", basic}});
  hub.write_config(
      "admin:\n  listen: 127.0.0.1:" + std::to_string(admin.port) + "\n  token: \"${ADMIN_TOKEN}\"\n"
      "log:\n  level: debug\n"
      "runner:\n  poll_interval: 50ms\n"
      "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: \"" + kTcSecretWord + "\"}\n"
      "integrations:\n"
      "  echo:\n    connector: notifyurl\n    settings: {url: \"" + remote.url("/echo") +
      "\", headers: {Authorization: \"${BASIC}\"}}\n"
      "  moved:\n    connector: notifyurl\n    settings: {url: \"" + remote.url("/moved") +
      "\", headers: {Authorization: \"${BASIC}\"}}\n"
      "  keyed:\n    connector: notifyurl\n    settings: {url: \"" + remote.url("/keyed?token=" + url_token) + "\"}\n"
      "rules:\n"
      "  - {name: echo, on: order.completed, do: echo.post}\n"
      "  - {name: moved, on: order.completed, do: moved.post}\n"
      "  - {name: keyed, on: order.completed, do: keyed.post}\n"
      "  - {name: rule-url, on: order.completed, do: keyed.post, with: {url: \"" +
      remote.url("/rule?api_key=" + rule_key) + "\"}}\n");
  hub.start();
  thrivecart::Item course{"product", "12", "Course", 4995};
  ASSERT_EQ(hub.post("/hooks/thrivecart", thrivecart::order_success(kTcSecretWord, "8951", {course})).status, 200);
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'failed'") == 4; }))
      << hub.log();
  // The remotes did get the credentials.
  ASSERT_EQ(remote.count(), 4u);
  for (auto &r : remote.requests())
    if (r.uri.rfind("/echo", 0) == 0 || r.uri.rfind("/moved", 0) == 0) EXPECT_EQ(r.headers["authorization"], basic);

  Json integrations = admin.get("/api/integrations");
  for (auto &item : integrations["items"])
    if (item["id"] == "keyed") EXPECT_EQ(item["settings"]["url"], remote.url("/keyed?token=[redacted]")) << item.dump();
  admin.get("/api/rules");
  for (auto &row : query(hub.db_path(), "SELECT id FROM jobs")) admin.get("/api/jobs/" + row[0]);
  ASSERT_EQ(hub.stop(), 0);

  std::string db = read_file(hub.db_path()) + read_file(hub.db_path() + "-wal");
  std::string log = hub.log();
  ASSERT_NE(log.find("redirects are not followed"), std::string::npos) << log;
  for (const std::string &value : {user_half, password_half, url_token, rule_key}) {
    // A job keeps the parameters its rule gave it, to send them again on a replay.
    if (value != rule_key) EXPECT_EQ(db.find(value), std::string::npos) << value << " is in the database";
    EXPECT_EQ(log.find(value), std::string::npos) << value << " is in the log:\n" << log;
    EXPECT_EQ(admin.seen.find(value), std::string::npos) << value << " is in an API answer:\n" << admin.seen;
  }
}

namespace {

// A job keeps the parameters its rule gave it, to send them again on a replay; the rule's URL changes
// meanwhile, so the old credential is in no configuration the redactor reads any more. `path(credential)` is
// the rule URL's path; the remote answers `status`, a failure for good. Checks that the API, a replay's
// attempt, the execution log and the log show the old URL with `path("[redacted]")`, never the old credential.
void expect_old_rule_url_masked(const std::string &name, const std::function<std::string(const std::string &)> &path,
                                const std::string &old_credential, const std::string &new_credential, int status) {
  Sink remote;
  remote.respond_with([status](const Recorded &r) {
    Reply reply;
    reply.status = status;
    reply.body = Json{{"error", "refused"}, {"uri", r.uri}}.dump();
    return reply;
  });
  Admin admin;
  admin.port = free_port();
  HubProcess hub(name, "", {{"ADMIN_TOKEN", kAdminToken}});
  auto config = [&](const std::string &credential) {
    return "admin:\n  listen: 127.0.0.1:" + std::to_string(admin.port) + "\n  token: \"${ADMIN_TOKEN}\"\n"
           "log:\n  level: debug\n"
           "runner:\n  poll_interval: 50ms\n"
           "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: \"" + kTcSecretWord + "\"}\n"
           "integrations:\n  hook:\n    connector: notifyurl\n    settings: {url: \"" + remote.url("/hook") + "\"}\n"
           "rules:\n  - {name: rule-url, on: order.completed, do: hook.post, with: {url: \"" +
           remote.url(path(credential)) + "\"}}\n";
  };
  hub.write_config(config(old_credential));
  hub.start();
  thrivecart::Item course{"product", "12", "Course", 4995};
  ASSERT_EQ(hub.post("/hooks/thrivecart", thrivecart::order_success(kTcSecretWord, "8952", {course})).status, 200);
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'failed'") == 1; }))
      << hub.log();
  std::string job = query(hub.db_path(), "SELECT id FROM jobs")[0][0];

  hub.write_config(config(new_credential));
  ASSERT_EQ(admin.call("POST", "/api/reload").status, 200) << admin.seen;
  Json shown = admin.get("/api/jobs/" + job);
  EXPECT_EQ(shown["job"]["params"]["url"], remote.url(path("[redacted]"))) << shown.dump();
  admin.get("/api/jobs?rule=rule-url");
  admin.get("/api/jobs?state=failed");
  admin.get("/api/events");
  admin.get("/api/events/" + shown["job"]["event_id"].dump());
  // Replayed as it was made: the remote gets the old credential once more, and its failure is recorded.
  ASSERT_EQ(admin.call("POST", "/api/jobs/" + job + "/replay", R"({"rule":"original"})").status, 200) << admin.seen;
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM attempts") == 2; })) << hub.log();
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'failed'") == 1; }))
      << hub.log();
  ASSERT_EQ(remote.count(), 2u);
  for (auto &r : remote.requests()) EXPECT_EQ(r.uri, path(old_credential));
  Json replayed = admin.get("/api/jobs/" + job);
  ASSERT_EQ(replayed["attempts"].size(), 2u) << replayed.dump();
  ASSERT_EQ(hub.stop(), 0);

  std::string attempts;
  for (auto &row : query(hub.db_path(), "SELECT exchanges || COALESCE(error, '') FROM attempts")) attempts += row[0];
  ASSERT_NE(attempts.find(path("[redacted]")), std::string::npos) << attempts;
  EXPECT_EQ(attempts.find(old_credential), std::string::npos) << "the execution log keeps the old credential:\n"
                                                              << attempts;
  EXPECT_EQ(hub.log().find(old_credential), std::string::npos) << hub.log();
  EXPECT_EQ(admin.seen.find(old_credential), std::string::npos) << "an API answer shows the old credential:\n"
                                                                << admin.seen;
}

}  // namespace

TEST(SecretsSweep, ARulesUrlCredentialStaysMaskedOnceTheRuleNoLongerHasIt) {
  expect_old_rule_url_masked(
      "secrets-old-rule-url", [](const std::string &key) { return "/rule?api_key=" + key; }, "oldRuleKeyTq58Wc",
      "newRuleKeyPm27Hx", 401);
}

TEST(SecretsSweep, ARulesUrlPathTokenStaysMaskedOnceTheRuleNoLongerHasIt) {
  // An automation service's hook URL carries its token in the path, with no query or userinfo.
  expect_old_rule_url_masked(
      "secrets-old-rule-path", [](const std::string &token) { return "/hooks/catch/123456/" + token + "/"; },
      "q8w2e7r", "k3j9h4g", 410);
}

TEST(SecretsSweep, ANotifyUrlHeaderNamedLikeAKeyIsASecret) {
  // Azure Functions' x-functions-key, API Management's Ocp-Apim-Subscription-Key: credentials without "api-key".
  const std::string function_key = "fnKeyQw83Lp2Zx", subscription_key = "subKeyHn47Tb9c";
  Sink remote;
  remote.respond_with([](const Recorded &) {
    Reply reply;
    reply.status = 401;
    reply.body = R"({"error":"denied"})";
    return reply;
  });
  Admin admin;
  admin.port = free_port();
  HubProcess hub("secrets-key-header", "", {{"ADMIN_TOKEN", kAdminToken}});
  hub.write_config(
      "admin:\n  listen: 127.0.0.1:" + std::to_string(admin.port) + "\n  token: \"${ADMIN_TOKEN}\"\n"
      "log:\n  level: debug\n"
      "runner:\n  poll_interval: 50ms\n"
      "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: \"" + kTcSecretWord + "\"}\n"
      "integrations:\n  function:\n    connector: notifyurl\n    settings:\n      url: \"" + remote.url("/function") +
      "\"\n      headers: {X-Functions-Key: " + function_key + ", Ocp-Apim-Subscription-Key: " + subscription_key +
      ", X-Team: sales}\n"
      "rules:\n  - {name: function, on: order.completed, do: function.post}\n");
  hub.start();
  thrivecart::Item course{"product", "12", "Course", 4995};
  ASSERT_EQ(hub.post("/hooks/thrivecart", thrivecart::order_success(kTcSecretWord, "8961", {course})).status, 200);
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'failed'") == 1; }))
      << hub.log();
  ASSERT_EQ(remote.count(), 1u);
  EXPECT_EQ(remote.requests()[0].headers["x-functions-key"], function_key);
  EXPECT_EQ(remote.requests()[0].headers["ocp-apim-subscription-key"], subscription_key);

  Json integration = admin.get("/api/integrations/function");
  EXPECT_EQ(integration["settings"]["headers"], (Json{{"X-Functions-Key", "[redacted]"},
                                                      {"Ocp-Apim-Subscription-Key", "[redacted]"},
                                                      {"X-Team", "sales"}}))
      << integration.dump();
  Json job = admin.get("/api/jobs/1");
  EXPECT_NE(job.dump().find("sales"), std::string::npos) << "a header that is no credential is shown";
  ASSERT_EQ(hub.stop(), 0);
  std::string db = read_file(hub.db_path()) + read_file(hub.db_path() + "-wal");
  std::string log = hub.log();
  for (const std::string &value : {function_key, subscription_key}) {
    EXPECT_EQ(db.find(value), std::string::npos) << value << " is in the database";
    EXPECT_EQ(log.find(value), std::string::npos) << value << " is in the log:\n" << log;
    EXPECT_EQ(admin.seen.find(value), std::string::npos) << value << " is in an API answer:\n" << admin.seen;
  }
}
