// The admin API of the real cartwire binary over real sockets: auth, the
// execution log, replays, dry runs, test events, reloads and metrics.
// Actions run on the "good" fixture connector (echo succeeds, explode fails
// for good), and on notifyurl against a local sink when that plugin is built.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <Poco/Net/HTTPCookie.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <future>
#include <regex>
#include <set>

#include "../support/fault_remote.hpp"
#include "../support/hub_process.hpp"
#include "../support/sink.hpp"
#include "../support/thrivecart_payloads.hpp"

using namespace cartwire::testing;
using Json = nlohmann::json;

namespace {

const std::string kTcSecret = "S3cretWord-admin-e2e";
const std::string kLabToken = "lab-token-9f8e7d6c5b4a";
const std::string kAdminToken = "admin-token-0123456789abcdef";
const std::string kHookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

struct ApiReply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> cookies;
  std::set<std::string> secure_cookies;
  std::map<std::string, std::string> headers;  // the last value of each, by the name the hub sent
  Json json() const { return Json::parse(body, nullptr, false); }
};

/** One admin request; `auth` is "bearer", "none", or a session {"cookie", csrf}. */
struct Admin {
  unsigned short port = 0;
  std::vector<std::string> seen;  // every body, to look for secrets

  ApiReply call(const std::string &method, const std::string &path, const std::string &body = "",
             std::map<std::string, std::string> headers = {{"Authorization", "Bearer " + kAdminToken}}) {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    session.setTimeout(Poco::Timespan(20, 0));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    for (auto &[k, v] : headers) request.set(k, v);
    if (method != "GET" && method != "HEAD") {
      request.setContentType("application/json");
      request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream &in = session.receiveResponse(response);
    ApiReply out;
    out.status = static_cast<int>(response.getStatus());
    Poco::StreamCopier::copyToString(in, out.body);
    std::vector<Poco::Net::HTTPCookie> cookies;
    response.getCookies(cookies);
    for (auto &c : cookies) {
      out.cookies[c.getName()] = c.getValue();
      if (c.getSecure()) out.secure_cookies.insert(c.getName());
    }
    for (auto &[name, value] : response) out.headers[name] = value;
    seen.push_back(out.body);
    return out;
  }
  Json get(const std::string &path) {
    ApiReply r = call("GET", path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return r.json();
  }
  ApiReply post(const std::string &path, const Json &body = Json::object()) { return call("POST", path, body.dump()); }
};

/** A plugins folder with thrivecart, the good fixture, a broken one, and notifyurl and thinkific when built. */
std::string plugin_dir(const fs::path &under) {
  fs::path dir = under / "plugins";
  fs::create_directories(dir);
  fs::copy_file(fs::path(CARTWIRE_PLUGIN_DIR) / "thrivecart.so", dir / "thrivecart.so");
  fs::copy_file(fs::path(FIXTURE_PLUGIN_DIR) / "good.so", dir / "good.so");
  fs::copy_file(fs::path(FIXTURE_PLUGIN_DIR) / "wrong_abi.so", dir / "wrong_abi.so");
  for (const char *name : {"notifyurl.so", "thinkific.so"})
    if (fs::exists(fs::path(CARTWIRE_PLUGIN_DIR) / name)) fs::copy_file(fs::path(CARTWIRE_PLUGIN_DIR) / name, dir / name);
  return dir.string();
}

bool fixtures_built() { return fs::exists(fs::path(FIXTURE_PLUGIN_DIR) / "good.so"); }

// How long a test watches for a job that must not be claimed or a request that
// must not be sent, which nothing else tells of: five of lab_config()'s 100 ms
// poll intervals, in which a runner would claim a queued job and send its
// request to the local endpoint.
constexpr std::chrono::milliseconds kQuietWindow{500};

std::string lab_config(unsigned short admin_port, const std::string &extra_rules = "",
                       const std::string &extra_integrations = "", const std::string &extra_runner = "") {
  return "runner:\n  workers: 2\n  poll_interval: 100ms\n" + extra_runner +
         "  retry: {initial_delay: 200ms, max_delay: 1s, horizon: 1h, max_attempts: 1}\n"
         "admin:\n  listen: 127.0.0.1:" + std::to_string(admin_port) + "\n  token: \"${ADMIN_TOKEN}\"\n  max_body_bytes: 16384\n"
         "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: \"${TC_SECRET}\", account: acme}\n"
         "integrations:\n  lab:\n    connector: good\n    settings: {token: \"${LAB_TOKEN}\"}\n" +
         extra_integrations +
         "rules:\n"
         "  - name: every-order\n    on: order.completed\n    do: lab.echo\n    with: {text: \"{{customer.email}}\"}\n"
         "  - name: upsell-breaks\n    on: product.purchased\n    where: {item.reference: upsell-*}\n    do: lab.explode\n" +
         extra_rules;
}

std::map<std::string, std::string> env() {
  return {{"TC_SECRET", kTcSecret}, {"LAB_TOKEN", kLabToken}, {"ADMIN_TOKEN", kAdminToken}, {"HOOK_SECRET", kHookSecret}};
}

std::string order(const std::string &id, const std::string &email) {
  thrivecart::Customer c;
  c.email = email;
  return thrivecart::order_success(kTcSecret, id, {{"product", "12", "Course", 4995}, {"upsell", "13", "Coaching", 4995}}, c);
}

class AdminApi : public ::testing::Test {
 protected:
  void start(const std::string &name, const std::function<std::string(unsigned short)> &config = lab_config_fn(),
             const std::map<std::string, std::string> &more_env = {}) {
    if (!fixtures_built()) GTEST_SKIP() << "fixture plugins not built (build the hub_tests target)";
    std::map<std::string, std::string> vars = env();
    vars.insert(more_env.begin(), more_env.end());
    hub_ = std::make_unique<HubProcess>(name, "", vars);
    hub_->use_plugins_dir(plugin_dir(hub_->dir()));
    // A console port something else took after free_port() found it free: start again on another.
    for (int tries = 1;; ++tries) {
      admin_.port = free_port();
      hub_->write_config(config(admin_.port));
      try {
        hub_->start();
        break;
      } catch (const std::runtime_error &e) {
        if (tries == 3 || std::string(e.what()).find("(admin.listen): ") == std::string::npos) throw;
      }
    }
    ASSERT_TRUE(eventually([&] { return console_answers(); })) << hub_->log();
  }
  // Whether the console's listener answers yet.
  bool console_answers() const {
    try {
      return http("GET", admin_.port, "/healthz").status == 200;
    } catch (...) {
      return false;
    }
  }
  static std::function<std::string(unsigned short)> lab_config_fn() {
    return [](unsigned short port) { return lab_config(port); };
  }
  /** The lab configuration with a rule `look-up` that has the good connector fetch `url` for each order. */
  static std::function<std::string(unsigned short)> look_up_config(const std::string &url) {
    return [url](unsigned short port) {
      return lab_config(port, "  - name: look-up\n    on: order.completed\n    do: lab.fetch\n    with: {url: \"" +
                                  url + "\"}\n");
    };
  }
  /** The lab configuration with a rule `notify` that posts each order to `url` (integration `out`). */
  static std::function<std::string(unsigned short)> notify_config(const std::string &url,
                                                                  const std::string &extra_runner = "") {
    return [url, extra_runner](unsigned short port) {
      return lab_config(port, "  - name: notify\n    on: order.completed\n    do: out.post\n",
                        "  out:\n    connector: notifyurl\n    settings: {url: \"" + url + "\"}\n", extra_runner);
    };
  }
  /** `from` put in place of the hub's good.so, as `install` or `mv` does. */
  void put_good(const fs::path &from) const {
    fs::path plugins = hub_->dir() / "plugins";
    fs::copy_file(from, plugins / "good.so.tmp");
    fs::rename(plugins / "good.so.tmp", plugins / "good.so");
  }
  void TearDown() override {
    // Whatever the API answered, no configured secret was in it.
    for (auto &body : admin_.seen)
      for (auto &secret : {kTcSecret, kLabToken, kAdminToken, kHookSecret.substr(6)})
        EXPECT_EQ(body.find(secret), std::string::npos) << "secret in: " << body;
  }
  bool jobs_settled(int n) {
    return hub_->count("SELECT COUNT(*) FROM jobs WHERE state IN ('succeeded','failed','dead')") == n;
  }

  Admin admin_;
  std::unique_ptr<HubProcess> hub_;
};

}  // namespace

TEST_F(AdminApi, EveryRouteNeedsTheTokenOrASessionWithCsrf) {
  start("admin-auth");
  EXPECT_EQ(admin_.call("GET", "/healthz", "", {}).status, 200);
  EXPECT_EQ(admin_.call("GET", "/readyz", "", {}).status, 200);
  for (std::string path : {"/api/jobs", "/api/integrations", "/metrics", "/api/nowhere"}) {
    ApiReply none = admin_.call("GET", path, "", {});
    EXPECT_EQ(none.status, 401) << path;
    EXPECT_TRUE(none.json().contains("error")) << none.body;
    EXPECT_EQ(admin_.call("GET", path, "", {{"Authorization", "Bearer not-the-token"}}).status, 401) << path;
  }
  EXPECT_EQ(admin_.call("POST", "/api/reload", "", {}).status, 401);
  EXPECT_EQ(admin_.call("POST", "/api/login", R"({"token":"wrong"})", {}).status, 401);

  ApiReply login = admin_.call("POST", "/api/login", Json{{"token", kAdminToken}}.dump(), {});
  ASSERT_EQ(login.status, 200) << login.body;
  std::string sid = login.cookies["cartwire_session"], csrf = login.json()["csrf_token"];
  ASSERT_FALSE(sid.empty());
  EXPECT_TRUE(login.secure_cookies.empty());  // over plain http, as through an SSH tunnel
  // Through a TLS proxy the cookies travel over https only.
  ApiReply proxied = admin_.call("POST", "/api/login", Json{{"token", kAdminToken}}.dump(),
                                 {{"X-Forwarded-Proto", "https"}});
  ASSERT_EQ(proxied.status, 200) << proxied.body;
  EXPECT_EQ(proxied.secure_cookies, (std::set<std::string>{"cartwire_session", "cartwire_csrf"}));
  EXPECT_EQ(login.cookies["cartwire_csrf"], csrf);
  std::string cookie = "cartwire_session=" + sid + "; cartwire_csrf=" + csrf;
  EXPECT_EQ(admin_.call("GET", "/api/integrations", "", {{"Cookie", cookie}}).status, 200);
  EXPECT_EQ(admin_.call("GET", "/api/session", "", {{"Cookie", cookie}}).json()["via"], "session");
  EXPECT_EQ(admin_.call("POST", "/api/reload", "", {{"Cookie", cookie}}).status, 403);
  EXPECT_EQ(admin_.call("POST", "/api/reload", "", {{"Cookie", cookie}, {"X-CSRF-Token", "forged"}}).status, 403);
  EXPECT_EQ(admin_.call("POST", "/api/reload", "", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}).status, 200);
  EXPECT_EQ(admin_.call("POST", "/api/logout", "", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}).status, 200);
  EXPECT_EQ(admin_.call("GET", "/api/integrations", "", {{"Cookie", cookie}}).status, 401);

  // Small enough to sit in the socket buffers: the hub answers without reading it.
  EXPECT_EQ(admin_.post("/api/dry-run", std::string(20000, 'x')).status, 413);
  EXPECT_EQ(admin_.call("GET", "/api/jobs?emial=x").status, 400);
  // No parameter is repeatable: a second value would silently win over the first.
  for (auto [path, name] : std::vector<std::pair<std::string, std::string>>{
           {"/api/jobs?limit=1&limit=2", "limit"}, {"/api/events?state=dead&email=a@b.c&state=dead", "state"}}) {
    ApiReply twice = admin_.call("GET", path);
    EXPECT_EQ(twice.status, 400) << path << ": " << twice.body;
    EXPECT_EQ(twice.json()["error"], "query parameter '" + name + "' is given more than once") << twice.body;
  }
  // ... once the request is authorised: without the token, 401 first.
  EXPECT_EQ(admin_.call("GET", "/api/jobs?limit=1&limit=2", "", {}).status, 401);
  // A parameter name that is no UTF-8 is answered too.
  ApiReply bytes = admin_.call("GET", "/api/jobs?%FF=1");
  EXPECT_EQ(bytes.status, 400) << bytes.body;
  EXPECT_NE(bytes.body.find("unknown filter"), std::string::npos) << bytes.body;
  EXPECT_EQ(admin_.call("DELETE", "/api/jobs").status, 405);
  // The webhook listener does not serve the admin API.
  EXPECT_EQ(http("GET", hub_->port(), "/api/jobs").status, 404);
}

TEST_F(AdminApi, TenWrongTokensFromOneAddressRefuseEveryTokenFromItForAMinute) {
  start("admin-wrong-tokens");
  ApiReply login = admin_.call("POST", "/api/login", Json{{"token", kAdminToken}}.dump(), {});
  ASSERT_EQ(login.status, 200) << login.body;
  std::string cookie = "cartwire_session=" + login.cookies["cartwire_session"];

  // Requests without a token, and expired sessions, are not guesses.
  for (int i = 0; i < 20; ++i) ASSERT_EQ(admin_.call("GET", "/api/jobs", "", {}).status, 401);
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(admin_.call("GET", "/api/jobs", "", {{"Cookie", "cartwire_session=gone"}}).status, 401);
  EXPECT_EQ(admin_.call("GET", "/api/jobs").status, 200);

  // Ten wrong tokens, as Bearer headers and as logins.
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(admin_.call("GET", "/api/jobs", "", {{"Authorization", "Bearer guess-" + std::to_string(i)}}).status,
              401);
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(admin_.call("POST", "/api/login", Json{{"token", "guess-" + std::to_string(i)}}.dump(), {}).status,
              401);

  // Now the right token is refused too, as a header and as a login, with how long.
  ApiReply refused = admin_.call("GET", "/api/jobs");
  EXPECT_EQ(refused.status, 429) << refused.body;
  std::string seconds = refused.headers["Retry-After"];
  ASSERT_FALSE(seconds.empty());
  EXPECT_GT(std::stoi(seconds), 0);
  EXPECT_LE(std::stoi(seconds), 60);
  EXPECT_EQ(refused.json()["error"],
            "too many wrong admin tokens from 127.0.0.1: every token from there is refused for " + seconds + " s more")
      << refused.body;
  EXPECT_EQ(admin_.call("POST", "/api/login", Json{{"token", kAdminToken}}.dump(), {}).status, 429);
  // A session begun before goes on, and health checks are answered.
  EXPECT_EQ(admin_.call("GET", "/api/jobs", "", {{"Cookie", cookie}}).status, 200);
  EXPECT_EQ(admin_.call("GET", "/readyz", "", {}).status, 200);
  EXPECT_EQ(occurrences(hub_->log(), "10 wrong admin tokens from 127.0.0.1 within a minute"), 1u) << hub_->log();
}

TEST_F(AdminApi, SearchesPagesShowsAttemptsAndReplays) {
  start("admin-log");
  for (auto [id, email] : std::vector<std::pair<std::string, std::string>>{
           {"5001", "ann@example.com"}, {"5002", "bob@example.com"}, {"5003", "cat@example.com"}})
    ASSERT_EQ(hub_->post("/hooks/thrivecart", order(id, email)).status, 200);
  ASSERT_TRUE(eventually([&] { return jobs_settled(6); })) << hub_->log();

  Json bob = admin_.get("/api/jobs?email=BOB@example.com");
  ASSERT_EQ(bob["items"].size(), 2u) << bob;
  for (auto &j : bob["items"]) EXPECT_EQ(j["event"]["email"], "bob@example.com");
  Json failed = admin_.get("/api/jobs?state=failed&integration=lab");
  ASSERT_EQ(failed["items"].size(), 3u);
  for (auto &j : failed["items"]) EXPECT_EQ(j["action"], "explode");
  EXPECT_EQ(admin_.get("/api/jobs?order_id=5002&action=echo")["items"].size(), 1u);
  EXPECT_EQ(admin_.get("/api/jobs?item=upsell-*")["items"].size(), 3u);
  EXPECT_EQ(admin_.get("/api/jobs?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z")["items"].size(), 0u);
  for (std::string path : {"/api/jobs?mode=prod", "/api/events?mode=prod"}) {
    ApiReply bad_mode = admin_.call("GET", path);
    EXPECT_EQ(bad_mode.status, 400) << path << ": " << bad_mode.body;
    EXPECT_NE(bad_mode.body.find("mode must be live or test"), std::string::npos) << bad_mode.body;
  }
  // A date-time that does not exist is refused saying which part is out of range.
  for (std::string path : {"/api/jobs?since=2026-02-30T00:00:00Z", "/api/events?since=2026-02-30T00:00:00Z",
                           "/api/stats?since=2026-02-30T00:00:00Z"}) {
    ApiReply no_day = admin_.call("GET", path);
    EXPECT_EQ(no_day.status, 400) << path << ": " << no_day.body;
    EXPECT_EQ(no_day.json().value("error", ""),
              "since must be an RFC 3339 time such as 2026-01-15T10:00:00Z or epoch milliseconds "
              "(got '2026-02-30T00:00:00Z': there is no day 30 in February 2026)")
        << path;
  }

  // Paging: newest first, a cursor until the end.
  std::set<int64_t> ids;
  std::string next;
  int pages = 0;
  do {
    Json page = admin_.get("/api/jobs?integration=lab&limit=4" + (next.empty() ? "" : "&before=" + next));
    for (auto &j : page["items"]) ids.insert(j["id"].get<int64_t>());
    next = page["next"].is_null() ? "" : page["next"].get<std::string>();
    ++pages;
  } while (!next.empty() && pages < 5);
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(ids.size(), 6u);

  Json events = admin_.get("/api/events?email=ann@example.com");
  ASSERT_EQ(events["items"].size(), 3u);  // order.completed and two items
  Json event = admin_.get("/api/events/" + std::to_string(events["items"][0]["id"].get<int64_t>()));
  EXPECT_TRUE(event["event"].contains("customer"));
  EXPECT_TRUE(event["jobs"].is_array());

  int64_t job = failed["items"][0]["id"];
  Json detail = admin_.get("/api/jobs/" + std::to_string(job));
  EXPECT_EQ(detail["job"]["state"], "failed");
  ASSERT_EQ(detail["attempts"].size(), 1u);
  EXPECT_EQ(detail["attempts"][0]["outcome"], "permanent");
  EXPECT_NE(detail["attempts"][0]["error"].get<std::string>().find("kaboom"), std::string::npos);
  EXPECT_TRUE(detail["attempts"][0]["due_at"].is_string()) << detail.dump();
  ASSERT_TRUE(detail["attempts"][0]["wait_ms"].is_number_integer()) << detail.dump();
  EXPECT_GE(detail["attempts"][0]["wait_ms"].get<int64_t>(), 0);
  EXPECT_EQ(detail["event"]["type"], "product.purchased");
  EXPECT_EQ(admin_.call("GET", "/api/jobs/999999").status, 404);

  // A replay runs the job again and keeps its first attempt.
  ASSERT_EQ(admin_.post("/api/jobs/" + std::to_string(job) + "/replay").status, 200);
  ASSERT_TRUE(eventually([&] { return admin_.get("/api/jobs/" + std::to_string(job))["attempts"].size() == 2; }));
  ASSERT_TRUE(eventually([&] { return admin_.get("/api/jobs/" + std::to_string(job))["job"]["state"] == "failed"; }));
  int64_t succeeded = admin_.get("/api/jobs?state=succeeded&limit=1")["items"][0]["id"];
  EXPECT_EQ(admin_.post("/api/jobs/" + std::to_string(succeeded) + "/replay").status, 409);

  ApiReply bulk = admin_.post("/api/jobs/replay", {{"filter", {{"integration", "lab"}, {"email", "cat@example.com"}}}});
  ASSERT_EQ(bulk.status, 200) << bulk.body;
  EXPECT_EQ(bulk.json()["count"], 1);  // cat's failed job; her succeeded one stays
  EXPECT_EQ(bulk.json()["more"], false);
  // A replay that stops at its limit says failed jobs of the filter are left: Ann's and Bob's failed, one taken.
  ApiReply one = admin_.post("/api/jobs/replay", {{"filter", {{"integration", "lab"}, {"state", "failed"}, {"limit", 1}}}});
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.json()["count"], 1);
  EXPECT_EQ(one.json()["more"], true);
  EXPECT_EQ(admin_.post("/api/jobs/replay", {{"filter", {{"stat", "dead"}}}}).status, 400);
  // A replay's limit goes as far as its default, 500.
  ApiReply wide = admin_.post("/api/jobs/replay", {{"filter", {{"email", "nobody@example.com"}, {"limit", 500}}}});
  EXPECT_EQ(wide.status, 200) << wide.body;
  EXPECT_EQ(wide.json()["count"], 0);
  ApiReply too_wide = admin_.post("/api/jobs/replay", {{"filter", {{"email", "nobody@example.com"}, {"limit", 501}}}});
  EXPECT_EQ(too_wide.status, 400) << too_wide.body;
  EXPECT_NE(too_wide.body.find("limit must be a whole number from 1 to 500"), std::string::npos) << too_wide.body;
  // A filter outside "filter" would select everything: refused, nothing replayed.
  ApiReply loose = admin_.post("/api/jobs/replay", {{"integration", "lab"}});
  EXPECT_EQ(loose.status, 400) << loose.body;
  EXPECT_NE(loose.body.find("search filters go under \\\"filter\\\""), std::string::npos) << loose.body;
  EXPECT_EQ(admin_.post("/api/jobs/replay?integration=lab", Json::object()).status, 400);
  // Nor does an empty body: every job is asked for with an empty filter.
  ApiReply empty = admin_.post("/api/jobs/replay", Json::object());
  EXPECT_EQ(empty.status, 400) << empty.body;
  EXPECT_NE(empty.body.find("\\\"filter\\\" is required"), std::string::npos) << empty.body;
  ASSERT_TRUE(eventually([&] { return hub_->count("SELECT COUNT(*) FROM attempts") == 9; })) << hub_->log();
}

TEST_F(AdminApi, DryRunTestEventConfigViewsAndMetrics) {
  start("admin-tools");
  Json event = {{"type", "order.completed"}, {"customer", {{"email", "dry@example.com"}}}};
  ApiReply dry = admin_.post("/api/dry-run", {{"event", event}});
  ASSERT_EQ(dry.status, 200) << dry.body;
  ASSERT_EQ(dry.json()["jobs"].size(), 1u);
  EXPECT_EQ(dry.json()["jobs"][0]["rule"], "every-order");
  EXPECT_EQ(dry.json()["jobs"][0]["params"]["text"], "dry@example.com");
  EXPECT_EQ(dry.json()["jobs"][0]["integration_available"], true);
  EXPECT_EQ(dry.json()["jobs"][0]["requests"], Json::array()) << "echo sends nothing";
  EXPECT_EQ(dry.json()["jobs"][0]["outcome"], "ok");
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM events"), 0);
  EXPECT_EQ(admin_.post("/api/dry-run", {{"event", {{"customer", {}}}}}).status, 400);

  ApiReply test = admin_.post("/api/events/test", {{"event", event}});
  ASSERT_EQ(test.status, 201) << test.body;
  EXPECT_EQ(test.json()["jobs"], 1);
  auto rows = query(hub_->db_path(), "SELECT source, mode FROM events");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "admin-test");
  EXPECT_EQ(rows[0][1], "test");
  ASSERT_TRUE(eventually([&] { return jobs_settled(1); }));
  EXPECT_EQ(admin_.get("/api/events?mode=test")["items"].size(), 1u);

  Json integrations = admin_.get("/api/integrations");
  ASSERT_EQ(integrations["items"].size(), 1u);
  EXPECT_EQ(integrations["items"][0]["settings"]["token"], "[redacted]");
  EXPECT_EQ(integrations["items"][0]["available"], true);
  EXPECT_EQ(integrations["items"][0]["lists"].size(), 2u);
  EXPECT_EQ(admin_.get("/api/integrations/lab")["id"], "lab");
  Json rules = admin_.get("/api/rules");
  EXPECT_EQ(rules["items"].size(), 2u);
  EXPECT_TRUE(rules["diagnostics"].is_array());
  EXPECT_EQ(admin_.get("/api/sources")["items"][0]["path"], "/hooks/thrivecart");
  Json plugins = admin_.get("/api/plugins");
  std::set<std::string> loaded;
  for (auto &p : plugins["loaded"]) loaded.insert(p["id"]);
  EXPECT_TRUE(loaded.count("good") && loaded.count("thrivecart")) << plugins;
  ASSERT_EQ(plugins["rejected"].size(), 1u) << plugins;
  EXPECT_NE(plugins["rejected"][0]["reason"].get<std::string>().find("ABI"), std::string::npos);

  // The fixture's lists are declared but not served: the route reports the failure per list.
  ApiReply refresh = admin_.post("/api/integrations/lab/lists/refresh");
  EXPECT_EQ(refresh.status, 502) << refresh.body;
  EXPECT_EQ(refresh.json()["lists"].size(), 2u);
  EXPECT_EQ(admin_.post("/api/integrations/lab/lists/nope/refresh").status, 404);
  // A list the connector has not: said at once, not "never fetched".
  ApiReply no_list = admin_.call("GET", "/api/integrations/lab/lists/nope");
  EXPECT_EQ(no_list.status, 404) << no_list.body;
  EXPECT_EQ(no_list.json()["error"], "connector good has no list 'nope'");
  ApiReply unfetched = admin_.call("GET", "/api/integrations/lab/lists/courses");
  EXPECT_EQ(unfetched.status, 404) << unfetched.body;
  EXPECT_NE(unfetched.body.find("the list was never fetched"), std::string::npos) << unfetched.body;

  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("7001", "ann@example.com")).status, 200);
  ASSERT_TRUE(eventually([&] { return jobs_settled(3); }));
  ApiReply metrics = admin_.call("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  for (std::string want : {"cartwire_events_accepted_total 4\n", "cartwire_jobs_total{state=\"succeeded\"} 2\n",
                           "cartwire_jobs_total{state=\"failed\"} 1\n", "cartwire_attempt_duration_seconds_bucket{le=\"",
                           "cartwire_attempt_duration_seconds_count 3\n", "cartwire_queue_depth 0\n"})
    EXPECT_NE(metrics.body.find(want), std::string::npos) << want << " in\n" << metrics.body;
  ApiReply root = admin_.call("GET", "/", "", {});
  EXPECT_EQ(root.status, 200);
}

TEST_F(AdminApi, ATestEventIsCheckedAsTheJsonSourceChecksASendersEvent) {
  start("admin-test-event");
  Json good = {{"type", "order.completed"},
               {"customer", {{"email", "ann@example.com"}}},
               {"item", {{"reference", "product-12"}, {"amount", 4995}}}};
  auto refused = [&](const std::string &pointer, const Json &value, const std::string &reason) {
    Json event = good;
    event[Json::json_pointer(pointer)] = value;
    ApiReply reply = admin_.post("/api/events/test", {{"event", event}});
    EXPECT_EQ(reply.status, 400) << event.dump() << ": " << reply.body;
    EXPECT_EQ(reply.json()["error"], reason) << event.dump();
  };
  refused("/occurred_at", "never", "\"occurred_at\" must be UTC in RFC 3339, e.g. 2026-01-15T10:00:00Z");
  refused("/occurred_at", "2026-02-30T10:00:00Z",
          "\"occurred_at\" must be UTC in RFC 3339, e.g. 2026-01-15T10:00:00Z (there is no day 30 in February 2026)");
  refused("/customer", "ann@example.com", "\"customer\" must be a JSON object");
  refused("/customer/email", {{"address", "ann@example.com"}},
          "\"customer.email\" must be text such as ann@example.com");
  refused("/type", "Hello World", "\"type\" must be an event type such as product.purchased");
  refused("/type", "hub.job.dead", "\"type\" hub.job.dead is the hub's own (hub.* types are raised by the hub)");
  refused("/item/amount", "lots", "\"item.amount\" must be a whole number of cents, e.g. 4995 for 49.95");
  refused("/dedupe_key", 1001, "\"dedupe_key\" must be a text of 1 to 200 characters");
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM events"), 0);
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM jobs"), 0);

  good["dedupe_key"] = "order:1001";
  ApiReply stored = admin_.post("/api/events/test", {{"event", good}});
  ASSERT_EQ(stored.status, 201) << stored.body;
  EXPECT_EQ(stored.json()["event"]["dedupe_key"], "admin-test:order:1001");

  // The keys a connector names for another form of an imported fact are the hub's own: not kept.
  good["dedupe_key"] = "order:1002";
  good["dedupe_alternatives"] = Json::array({"admin-test:order:1001"});
  ApiReply named = admin_.post("/api/events/test", {{"event", good}});
  ASSERT_EQ(named.status, 201) << named.body;
  EXPECT_FALSE(named.json()["event"].contains("dedupe_alternatives")) << named.body;
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM events WHERE body LIKE '%dedupe_alternatives%'"), 0);
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM events"), 2);
}

TEST_F(AdminApi, ReloadSwapsRulesWithoutDroppingWebhooksAndSighupDoesTheSame) {
  start("admin-reload");
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8001", "ann@example.com")).status, 200);
  hub_->write_config(lab_config(admin_.port, "  - name: added\n    on: product.purchased\n    do: lab.echo\n"
                                              "    with: {text: \"{{item.reference}}\"}\n"));
  ApiReply reload = admin_.post("/api/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  EXPECT_EQ(admin_.get("/api/rules")["items"].size(), 3u);
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8002", "ann@example.com")).status, 200);
  // Settings read once at start-up are named: they wait for a restart.
  std::string later = lab_config(admin_.port, "  - name: added\n    on: product.purchased\n    do: lab.echo\n"
                                                "    with: {text: \"{{item.reference}}\"}\n") +
                      "log:\n  level: debug\n";
  later.replace(later.find("max_body_bytes: 16384"), 21, "max_body_bytes: 32768");
  hub_->write_config(later);
  Json moved = admin_.post("/api/reload").json();
  EXPECT_EQ(moved["restart_required"], Json::array({"admin", "log"})) << moved;
  EXPECT_NE(moved.value("message", "").find("; changes to admin, log take effect after a restart"), std::string::npos)
      << moved;
  // 8001: every-order + upsell; 8002: the same plus "added" for both items.
  ASSERT_TRUE(eventually([&] { return jobs_settled(6); })) << hub_->log();

  hub_->write_config(lab_config(admin_.port, "  - name: broken\n    on: order.completed\n    do: lab.nothing\n"));
  ApiReply refused = admin_.post("/api/reload");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("nothing"), std::string::npos);
  EXPECT_EQ(admin_.get("/api/rules")["items"].size(), 3u);

  // Settings its connector refuses: the source would stop taking webhooks.
  std::string refused_settings = lab_config(admin_.port);
  const std::string secret = "secret: \"${TC_SECRET}\"";
  refused_settings.replace(refused_settings.find(secret), secret.size(), "secret: \"\"");
  hub_->write_config(refused_settings);
  refused = admin_.post("/api/reload");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("connector thrivecart refuses these settings"), std::string::npos) << refused.body;
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8003", "ann@example.com")).status, 200) << "the source works on";

  hub_->write_config(lab_config(admin_.port));
  std::smatch pid;
  std::string log = hub_->log();
  ASSERT_TRUE(std::regex_search(log, pid, std::regex("pid ([0-9]+)")));
  ::kill(std::stoi(pid[1].str()), SIGHUP);
  ASSERT_TRUE(eventually([&] { return admin_.get("/api/rules")["items"].size() == 2; })) << hub_->log();
  EXPECT_EQ(http("GET", hub_->port(), "/healthz").status, 200);
  EXPECT_EQ(hub_->stop(), 0) << hub_->log();
}

TEST_F(AdminApi, AReloadRunsTheNewConfigurationAtOnceWhileAnAttemptUnderWayFinishesOnThePrevious) {
  if (!fs::exists(fs::path(CARTWIRE_PLUGIN_DIR) / "notifyurl.so")) GTEST_SKIP() << "notifyurl not built";
  // The first request (an attempt of the first configuration) is answered once the test releases it.
  FaultRemote remote;
  remote.script([](const Hit &hit) { return hit.number == 1 ? Fault::held() : Fault::answer(200); });
  auto config = [&](const std::string &path) { return notify_config(remote.url(path)); };
  start("admin-reload-at-once", config("/first"));
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8101", "ann@example.com")).status, 200);
  ASSERT_TRUE(eventually([&] { return remote.count() == 1; })) << hub_->log();

  // The reload is answered while the attempt is held, and says so.
  hub_->write_config(config("/second")(admin_.port));
  Admin reloader{admin_.port, {}};
  auto reloading = std::async(std::launch::async, [&] { return reloader.post("/api/reload"); });
  bool answered = reloading.wait_for(std::chrono::seconds(15)) == std::future_status::ready;
  if (!answered) remote.release();  // so that the test ends
  ASSERT_TRUE(answered) << "the reload waited for the attempt under way\n" << hub_->log();
  ApiReply reload = reloading.get();
  ASSERT_EQ(reload.status, 200) << reload.body;
  // The held attempt, and those of its worker's batch, recorded together with it.
  EXPECT_GE(reload.json()["finishing"]["attempts"], 1) << reload.body;
  EXPECT_EQ(reload.json()["finishing"]["polls"], 0) << reload.body;
  EXPECT_NE(reload.json()["message"].get<std::string>().find("; still under way on the previous configuration: "),
            std::string::npos)
      << reload.body;

  // A webhook's job is delivered by the new configuration while the attempt of the previous one is held.
  auto notified = [&](const std::string &state) {
    return hub_->count("SELECT COUNT(*) FROM jobs WHERE rule = 'notify' AND state = '" + state + "'");
  };
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8102", "bob@example.com")).status, 200);
  ASSERT_TRUE(eventually([&] { return notified("succeeded") == 1; })) << hub_->log();
  ASSERT_EQ(remote.count(), 2u);
  EXPECT_EQ(remote.hits()[1].path, "/second");
  EXPECT_EQ(notified("running"), 1) << "the first attempt is still under way";
  EXPECT_EQ(hub_->log().find("what was still under way"), std::string::npos) << hub_->log();

  // Then it ends, and is recorded once: one attempt each, nothing ran twice.
  remote.release();
  ASSERT_TRUE(eventually([&] { return notified("succeeded") == 2; })) << hub_->log();
  ASSERT_TRUE(eventually([&] { return jobs_settled(6); })) << hub_->log();
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM attempts WHERE job_id IN (SELECT id FROM jobs WHERE rule = 'notify')"),
            2);
  EXPECT_EQ(remote.count(), 2u);
  EXPECT_EQ(remote.hits()[0].path, "/first");
  ASSERT_TRUE(eventually([&] {
    return hub_->log().find("what was still under way on the previous configuration has ended (") !=
           std::string::npos;
  })) << hub_->log();
  EXPECT_EQ(hub_->stop(), 0) << hub_->log();
}

TEST_F(AdminApi, APreviousConfigurationRecordsAnAttemptOnceTheStoreIsBackWhileItsLeaseHoldsAndAStopGivesUp) {
  if (!fs::exists(fs::path(CARTWIRE_PLUGIN_DIR) / "notifyurl.so")) GTEST_SKIP() << "notifyurl not built";
  // The first request is answered once the test releases it, and the store refuses to record the
  // attempts at the remote (as a database that is away would) while the file `away` is there.
  FaultRemote remote;
  remote.script([](const Hit &hit) { return hit.number == 1 ? Fault::held() : Fault::answer(200); });
  auto config = [&](const std::string &path) { return notify_config(remote.url(path), "  lease: 10m\n"); };
  fs::path away = fs::temp_directory_path() / ("cartwire-store-away-" + std::to_string(::getpid()));
  std::ofstream(away) << "away";
  start("admin-reload-record-again", config("/first-configuration"),
        {{"LD_PRELOAD", STORE_FAULTS_PRELOAD},
         {"STORE_FAULTS_REFUSE", "-configuration"},
         {"STORE_FAULTS_REFUSE_WHILE", away.string()}});
  auto tried_again = [&] {
    std::string log = hub_->log();
    std::size_t times = 0;
    for (auto at = log.find("failed, tried again while their leases hold"); at != std::string::npos;
         at = log.find("failed, tried again while their leases hold", at + 1))
      ++times;
    return times;
  };
  const std::string given_up = "failed (their jobs run again once their leases end)";
  auto notified = [&](const std::string &state) {
    return hub_->count("SELECT COUNT(*) FROM jobs WHERE rule = 'notify' AND state = '" + state + "'");
  };

  // A reload while an attempt is under way; the attempt ends, and its record fails, then the store is back.
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8111", "ann@example.com")).status, 200);
  ASSERT_TRUE(eventually([&] { return remote.count() == 1; })) << hub_->log();
  hub_->write_config(config("/second-configuration")(admin_.port));
  ApiReply reload = admin_.post("/api/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  EXPECT_GE(reload.json()["finishing"]["attempts"], 1) << reload.body;
  remote.release();
  ASSERT_TRUE(eventually([&] { return tried_again() == 1; })) << hub_->log();
  fs::remove(away);
  // Recorded once, from the attempt under way, long before its lease could end: not run again.
  ASSERT_TRUE(eventually([&] { return notified("succeeded") == 1; })) << hub_->log();
  ASSERT_TRUE(eventually([&] {
    return hub_->log().find("what was still under way on the previous configuration has ended (") !=
           std::string::npos;
  })) << hub_->log();
  EXPECT_NE(hub_->log().find(" succeeded on try "), std::string::npos) << hub_->log();
  EXPECT_EQ(remote.count(), 1u) << hub_->log();
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM attempts WHERE job_id IN (SELECT id FROM jobs WHERE rule = 'notify')"),
            1);
  EXPECT_EQ(hub_->log().find(given_up), std::string::npos) << hub_->log();

  // The store away again as an attempt ends, then a reload, and the store stays away: a stop gives the
  // record up rather than wait while the lease holds (10 minutes, past the test's time limit).
  std::ofstream(away) << "away";
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8112", "bob@example.com")).status, 200);
  ASSERT_TRUE(eventually([&] { return tried_again() == 2; })) << hub_->log();
  EXPECT_EQ(remote.count(), 2u);
  hub_->write_config(config("/third-configuration")(admin_.port));
  ASSERT_EQ(admin_.post("/api/reload").status, 200);
  EXPECT_EQ(hub_->stop(), 0) << hub_->log();
  fs::remove(away);
  EXPECT_NE(hub_->log().find(given_up), std::string::npos) << hub_->log();
  EXPECT_EQ(notified("running"), 1);
}

TEST_F(AdminApi, AReloadRunsANewVersionOfAConnectorInUseWhileTheEarlierFinishesItsCall) {
  // The first request (a job on the first version) is answered once the test releases it.
  FaultRemote remote;
  remote.script([](const Hit &hit) { return hit.number == 1 ? Fault::held() : Fault::answer(200); });
  start("admin-new-version", look_up_config(remote.url()));
  fs::path plugins = hub_->dir() / "plugins";
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8201", "ann@example.com")).status, 200);
  ASSERT_TRUE(eventually([&] { return remote.count() == 1; })) << hub_->log();
  EXPECT_EQ(remote.hits()[0].headers["user-agent"], "good/1.2.3");

  // The next version, put in place as `install` does, and a reload while the call on the first runs.
  put_good(GOOD_NEXT_PLUGIN);
  Admin reloader{admin_.port, {}};
  auto reloading = std::async(std::launch::async, [&] { return reloader.post("/api/reload"); });
  auto listed = [&](const std::string &id) {
    Json plugins = admin_.get("/api/plugins");
    for (auto &p : plugins["loaded"])
      if (p["id"] == id) return p;
    return Json();
  };
  ASSERT_TRUE(eventually([&] { return listed("good")["version"] == "1.3.0"; })) << hub_->log();
  EXPECT_EQ(listed("good")["finishing"], Json::array({"1.2.3"}));
  EXPECT_TRUE(hub_->maps("/memfd:good.so")) << "the new version is loaded beside the first";
  EXPECT_TRUE(hub_->maps((plugins / "good.so").string())) << "the first is still loaded";
  // The reload is answered while the call runs; a webhook's job runs the new version meanwhile.
  ApiReply reload = reloading.get();
  ASSERT_EQ(reload.status, 200) << reload.body;
  EXPECT_EQ(reload.json()["connectors"], (Json::array({{{"id", "good"}, {"version", "1.3.0"}, {"was", "1.2.3"}}})))
      << reload.body;
  EXPECT_NE(reload.json()["message"].get<std::string>().find("; connector good runs 1.3.0 in place of 1.2.3"),
            std::string::npos) << reload.body;
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8202", "bob@example.com")).status, 200);
  ASSERT_TRUE(eventually([&] { return remote.count() == 2; })) << hub_->log();
  EXPECT_EQ(remote.hits()[1].headers["user-agent"], "good/1.3.0");
  EXPECT_EQ(listed("good")["finishing"], Json::array({"1.2.3"})) << "its call is still under way";
  EXPECT_TRUE(hub_->maps((plugins / "good.so").string()));

  remote.release();
  ASSERT_TRUE(eventually([&] { return jobs_settled(6); })) << hub_->log();
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM attempts WHERE job_id IN (SELECT id FROM jobs WHERE rule = 'look-up')"),
            2) << "each job ran once";

  // Nothing uses the first version any more: it is unloaded, and no longer listed.
  ASSERT_TRUE(eventually([&] { return hub_->log().find("unloaded connector good 1.2.3") != std::string::npos; }))
      << hub_->log();
  EXPECT_FALSE(hub_->maps((plugins / "good.so").string()));
  EXPECT_EQ(listed("good")["finishing"], Json::array());
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8203", "cy@example.com")).status, 200);
  ASSERT_TRUE(eventually([&] { return remote.count() == 3; })) << hub_->log();
  EXPECT_EQ(remote.hits()[2].headers["user-agent"], "good/1.3.0");

  // A stop unloads every connector and says nothing of it: the log names the version the reload let go.
  EXPECT_EQ(hub_->stop(), 0) << hub_->log();
  EXPECT_EQ(occurrences(hub_->log(), "unloaded connector "), 1u) << hub_->log();
}

TEST_F(AdminApi, AVersionLetGoThatLeftAThreadRunningStaysLoadedAndTheHubRunsOn) {
  Sink sink;
  start("admin-leaves-thread", look_up_config(sink.url()));
  auto install = [&](const fs::path &from) {
    put_good(from);
    ApiReply reload = admin_.post("/api/reload");
    ASSERT_EQ(reload.status, 200) << reload.body;
  };
  auto listed = [&](const std::string &id) {
    Json plugins = admin_.get("/api/plugins");
    for (auto &p : plugins["loaded"])
      if (p["id"] == id) return p;
    return Json();
  };

  // 1.2.4: each instance starts a thread that calls into the library and is never stopped.
  install(GOOD_LEAVES_THREAD_PLUGIN);
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8301", "ann@example.com")).status, 200);
  ASSERT_TRUE(eventually([&] { return sink.count() == 1; })) << hub_->log();
  EXPECT_EQ(sink.requests()[0].headers["user-agent"], "good/1.2.4");

  // 1.3.0 takes its place: 1.2.4 is let go once its instances are destroyed, and its library, which its threads
  // still run, is kept loaded: the hub runs on.
  install(GOOD_NEXT_PLUGIN);
  const std::string warning = "connector good 1.2.4 left ";
  std::optional<int> ended;
  ASSERT_TRUE(eventually([&] {
    return hub_->log().find(warning) != std::string::npos || (ended = hub_->ended(std::chrono::milliseconds(1)));
  })) << hub_->log();
  // Nothing tells of an end that is not coming: the thread left running calls into its library every 5 ms,
  // and so ends the hub at once if the library is unloaded under it; a test watches for a hundred of its calls.
  constexpr std::chrono::milliseconds kCrashWindow{500};
  if (!ended) ended = hub_->ended(kCrashWindow);
  ASSERT_FALSE(ended) << "the hub ended, wait status " << *ended << "\n" << hub_->log();
  std::string log = hub_->log();
  std::string line = log.substr(log.find(warning), log.find('\n', log.find(warning)) - log.find(warning));
  EXPECT_NE(line.find(" running after on_destroy; its library stays loaded until the hub restarts"),
            std::string::npos) << line;
  EXPECT_EQ(log.find("unloaded connector good 1.2.4"), std::string::npos) << log;
  EXPECT_TRUE(hub_->maps("/memfd:good.so")) << "1.2.4 was read from a copy, and stays mapped";
  EXPECT_EQ(listed("good")["version"], "1.3.0");
  EXPECT_EQ(listed("good")["finishing"], Json::array());
  EXPECT_EQ(listed("good")["kept"], Json::array({"1.2.4"}));

  // And runs the new version.
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8302", "bob@example.com")).status, 200);
  ASSERT_TRUE(eventually([&] { return sink.count() == 2; })) << hub_->log();
  EXPECT_EQ(sink.requests()[1].headers["user-agent"], "good/1.3.0");
  EXPECT_EQ(occurrences(hub_->log(), warning), 1u) << "said once";
  EXPECT_EQ(hub_->stop(), 0) << hub_->log();
}

TEST_F(AdminApi, AReloadLetsGoOfAConnectorWhoseFileIsGoneAndIsRefusedWhileTheConfigurationUsesIt) {
  if (!fs::exists(fs::path(CARTWIRE_PLUGIN_DIR) / "notifyurl.so"))
    GTEST_SKIP() << "the notifyurl connector is not built in " << CARTWIRE_PLUGIN_DIR;
  Sink sink;
  start("admin-file-gone", look_up_config(sink.url()));
  fs::path plugins = hub_->dir() / "plugins";
  auto listed = [&](const std::string &id) {
    Json plugins = admin_.get("/api/plugins");
    for (auto &p : plugins["loaded"])
      if (p["id"] == id) return p;
    return Json();
  };
  std::string notifyurl = listed("notifyurl").value("version", "");
  ASSERT_FALSE(notifyurl.empty());

  // No source or integration uses notifyurl: the reload lets it go, and says so.
  fs::remove(plugins / "notifyurl.so");
  ApiReply reload = admin_.post("/api/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  std::string gone = (plugins / "notifyurl.so").string();
  EXPECT_EQ(reload.json()["removed"], Json::array({{{"id", "notifyurl"}, {"version", notifyurl}, {"path", gone}}}))
      << reload.body;
  std::string said =
      "; connector notifyurl " + notifyurl + " is no longer loaded: " + gone + " is gone from plugins.dir";
  EXPECT_NE(reload.json()["message"].get<std::string>().find(said), std::string::npos) << reload.body;
  EXPECT_NE(hub_->log().find(said), std::string::npos) << hub_->log();
  EXPECT_TRUE(listed("notifyurl").is_null());
  EXPECT_EQ(admin_.post("/api/reload").json()["removed"], Json::array()) << "let go once";

  // The lab's connector: the reload is refused with the reason, and the lab runs on.
  fs::remove(plugins / "good.so");
  ApiReply refused = admin_.post("/api/reload");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("integration 'lab' uses connector 'good', whose file " + (plugins / "good.so").string() +
                              " is gone from plugins.dir (good 1.2.3 was loaded from it): put the file back, or "
                              "remove what uses the connector"),
            std::string::npos) << refused.body;
  EXPECT_EQ(refused.json()["removed"], Json::array());
  EXPECT_EQ(listed("good").value("version", ""), "1.2.3");
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8401", "ann@example.com")).status, 200);
  ASSERT_TRUE(eventually([&] { return sink.count() == 1; })) << hub_->log();
  EXPECT_EQ(sink.requests()[0].headers["user-agent"], "good/1.2.3");

  // Files put back are read again.
  fs::copy_file(fs::path(FIXTURE_PLUGIN_DIR) / "good.so", plugins / "good.so");
  fs::copy_file(fs::path(CARTWIRE_PLUGIN_DIR) / "notifyurl.so", plugins / "notifyurl.so");
  reload = admin_.post("/api/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  EXPECT_EQ(reload.json()["removed"], Json::array());
  EXPECT_EQ(listed("notifyurl").value("version", ""), notifyurl);
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8402", "bob@example.com")).status, 200);
  ASSERT_TRUE(eventually([&] { return sink.count() == 2; })) << hub_->log();
}

TEST_F(AdminApi, AConnectorWhoseFileIsGoneIsListedAsRemovedUntilItsCallUnderWayEnds) {
  if (!fs::exists(fs::path(CARTWIRE_PLUGIN_DIR) / "notifyurl.so")) GTEST_SKIP() << "notifyurl not built";
  // The first request (an attempt of the first configuration) is answered once the test releases it.
  FaultRemote remote;
  remote.script([](const Hit &hit) { return hit.number == 1 ? Fault::held() : Fault::answer(200); });
  start("admin-removed-finishing", notify_config(remote.url()));
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8501", "ann@example.com")).status, 200);
  ASSERT_TRUE(eventually([&] { return remote.count() == 1; })) << hub_->log();

  // Its file removed, and a configuration that no longer uses it: the reload lets it go while its call runs.
  fs::path file = hub_->dir() / "plugins" / "notifyurl.so";
  fs::remove(file);
  hub_->write_config(lab_config(admin_.port));
  ApiReply reload = admin_.post("/api/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  ASSERT_EQ(reload.json()["removed"].size(), 1u) << reload.body;
  std::string version = reload.json()["removed"][0].value("version", "");
  Json plugins = admin_.get("/api/plugins");
  for (auto &p : plugins["loaded"]) EXPECT_NE(p["id"], "notifyurl") << plugins;
  EXPECT_EQ(plugins["removed"], (Json::array({{{"id", "notifyurl"}, {"name", "Notify URL"}, {"version", version},
                                               {"path", file.string()}, {"finishing", Json::array({version})},
                                               {"kept", Json::array()}}})))
      << plugins;

  // Once its call has ended it is unloaded, and listed no more.
  remote.release();
  ASSERT_TRUE(eventually([&] { return hub_->log().find("unloaded connector notifyurl") != std::string::npos; }))
      << hub_->log();
  EXPECT_EQ(admin_.get("/api/plugins")["removed"], Json::array());
  EXPECT_EQ(hub_->stop(), 0) << hub_->log();
}

TEST_F(AdminApi, AReloadNamesANewBuildOfTheSameVersionAndLeavesTheSameFileCopiedAgain) {
  start("admin-same-version");
  // The same file copied again: nothing changes, and nothing is said of it.
  put_good(fs::path(FIXTURE_PLUGIN_DIR) / "good.so");
  ApiReply reload = admin_.post("/api/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  EXPECT_EQ(reload.json()["connectors"], Json::array()) << reload.body;
  EXPECT_EQ(reload.json()["message"].get<std::string>().find("connector good"), std::string::npos) << reload.body;

  // Another build of 1.2.3 runs in its place, and is told as such.
  put_good(fs::path(FIXTURE_PLUGIN_DIR) / "good_copy.so");
  reload = admin_.post("/api/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  EXPECT_EQ(reload.json()["connectors"], (Json::array({{{"id", "good"}, {"version", "1.2.3"}, {"was", "1.2.3"}}})))
      << reload.body;
  std::string said = "; connector good runs a new build of 1.2.3 in place of the earlier one";
  EXPECT_NE(reload.json()["message"].get<std::string>().find(said), std::string::npos) << reload.body;
  EXPECT_NE(hub_->log().find(said), std::string::npos) << hub_->log();
  EXPECT_EQ(hub_->log().find("in place of 1.2.3"), std::string::npos) << hub_->log();
  EXPECT_EQ(hub_->stop(), 0) << hub_->log();
}

TEST_F(AdminApi, AReloadWithNoThreadToFinishThePreviousConfigurationFinishesItAndRunsTheNew) {
  // While this file holds N, each thread of the hub starts N threads more, and no other.
  fs::path no_threads = fs::temp_directory_path() / ("cartwire-thread-faults-" + std::to_string(::getpid()));
  fs::remove(no_threads);
  start("admin-reload-no-thread", lab_config_fn(),
        {{"LD_PRELOAD", STORE_FAULTS_PRELOAD}, {"THREAD_FAULTS", no_threads.string()}});
  hub_->write_config(lab_config(admin_.port, "  - name: added\n    on: order.completed\n    do: lab.echo\n"
                                              "    with: {text: added}\n"));
  // The reload's own: the one that loads plugins, then the new runner's two workers and its lease keeper.
  std::ofstream(no_threads) << 4;
  ApiReply reload = admin_.post("/api/reload");
  fs::remove(no_threads);
  ASSERT_EQ(reload.status, 200) << reload.body;
  EXPECT_EQ(reload.json()["ok"], true) << reload.body;
  std::string said = "; no thread could be started to wait for the previous configuration (";
  std::string message = reload.json().value("message", "");
  EXPECT_NE(message.find(said), std::string::npos) << reload.body;
  EXPECT_TRUE(message.ends_with("): it was finished before this answer")) << reload.body;
  EXPECT_NE(hub_->log().find(said), std::string::npos) << hub_->log();

  // The new configuration runs: its rule's job is run by its runner.
  EXPECT_EQ(admin_.get("/api/rules")["items"].size(), 3u);
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8601", "ann@example.com")).status, 200);
  ASSERT_TRUE(eventually([&] { return jobs_settled(3); })) << hub_->log();
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM jobs WHERE rule = 'added' AND state = 'succeeded'"), 1);
  EXPECT_EQ(hub_->stop(), 0) << hub_->log();
}

TEST_F(AdminApi, AReloadWhoseNewRunnerCannotStartEveryThreadRunsNoJobUntilTheNextReloadStartsOne) {
  // While this file holds N, each thread of the hub starts N threads more, and no other.
  fs::path no_threads = fs::temp_directory_path() / ("cartwire-thread-faults-" + std::to_string(::getpid()));
  fs::remove(no_threads);
  start("admin-reload-runner-threads", lab_config_fn(),
        {{"LD_PRELOAD", STORE_FAULTS_PRELOAD}, {"THREAD_FAULTS", no_threads.string()}});
  Json status = admin_.get("/api/status");
  EXPECT_EQ(status["runner"]["running"], true) << status.dump();
  EXPECT_TRUE(status["runner"]["reason"].is_null()) << status.dump();
  EXPECT_EQ(status["poller"]["running"], true) << status.dump();
  std::string metrics = admin_.call("GET", "/metrics").body;
  EXPECT_NE(metrics.find("\ncartwire_runner_running 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\ncartwire_poller_running 1\n"), std::string::npos) << metrics;
  // The reload's own: the one that loads plugins, then one of the new runner's three (two workers, a lease keeper).
  std::ofstream(no_threads) << 2;
  ApiReply reload = admin_.post("/api/reload");
  fs::remove(no_threads);
  ASSERT_EQ(reload.status, 200) << reload.body;
  EXPECT_EQ(reload.json()["ok"], true) << reload.body;
  std::string message = reload.json().value("message", "");
  std::size_t said = message.find("; the new runner could not start (");
  ASSERT_NE(said, std::string::npos) << reload.body;
  EXPECT_NE(message.find("): no job runs until a reload (POST /api/reload or SIGHUP) or a restart starts one", said),
            std::string::npos)
      << reload.body;
  EXPECT_NE(hub_->log().find("; the new runner could not start ("), std::string::npos) << hub_->log();
  // Where an operator who did not read the answer looks: the console's status, and the metrics.
  status = admin_.get("/api/status");
  EXPECT_EQ(status["runner"]["running"], false) << status.dump();
  EXPECT_EQ(status["runner"]["reason"].get<std::string>().rfind("the new runner could not start (", 0), 0)
      << status.dump();
  EXPECT_NE(status["runner"]["hint"].get<std::string>().find("POST /api/reload or send SIGHUP"), std::string::npos)
      << status.dump();
  EXPECT_TRUE(status["runner"]["since"].is_string()) << status.dump();
  EXPECT_EQ(status["poller"]["running"], true) << status.dump();
  metrics = admin_.call("GET", "/metrics").body;
  EXPECT_NE(metrics.find("\ncartwire_runner_running 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\ncartwire_poller_running 1\n"), std::string::npos) << metrics;
  // Webhooks are still taken: the node stays ready.
  EXPECT_EQ(admin_.call("GET", "/readyz", "", {}).status, 200);

  // As it says: an order is stored, and its jobs wait in the queue, none claimed.
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8701", "ann@example.com")).status, 200);
  std::this_thread::sleep_for(kQuietWindow);
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM jobs WHERE state = 'queued'"), 2) << hub_->log();
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM attempts"), 0) << hub_->log();

  // The next reload starts a runner of its own, which runs them, and the hub stops.
  reload = admin_.post("/api/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  EXPECT_EQ(reload.json().value("message", "").find("could not"), std::string::npos) << reload.body;
  ASSERT_TRUE(eventually([&] { return jobs_settled(2); })) << hub_->log();
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM attempts"), 2);
  status = admin_.get("/api/status");
  EXPECT_EQ(status["runner"]["running"], true) << status.dump();
  EXPECT_TRUE(status["runner"]["reason"].is_null()) << status.dump();
  EXPECT_TRUE(status["runner"]["hint"].is_null()) << status.dump();
  EXPECT_NE(admin_.call("GET", "/metrics").body.find("\ncartwire_runner_running 1\n"), std::string::npos);
  EXPECT_EQ(hub_->stop(), 0) << hub_->log();
}

TEST_F(AdminApi, AReloadThatFailsOnItsWayKeepsThePreviousConfigurationAndConnectorVersions) {
  // The store refuses (as a read-only database would) what names integration 'refusing', which the
  // reload reads the courses list of as it validates a rule that enrolls in one.
  start("admin-reload-fails", lab_config_fn(),
        {{"LD_PRELOAD", STORE_FAULTS_PRELOAD}, {"STORE_FAULTS_REFUSE", "refusing"}});
  put_good(GOOD_NEXT_PLUGIN);
  hub_->write_config(lab_config(admin_.port, "  - name: enroll\n    on: order.completed\n    do: refusing.enroll\n"
                                              "    with: {course_id: 7}\n",
                                "  refusing:\n    connector: good\n    settings: {token: \"${LAB_TOKEN}\"}\n"));
  auto version = [&] {
    Json plugins = admin_.get("/api/plugins");
    for (auto &p : plugins["loaded"])
      if (p["id"] == "good") return p["version"].get<std::string>();
    return std::string("not listed");
  };

  ApiReply failed = admin_.post("/api/reload");
  EXPECT_EQ(failed.status, 422) << failed.body;
  EXPECT_EQ(failed.json()["ok"], false) << failed.body;
  std::string message = failed.json().value("message", "");
  EXPECT_EQ(message.rfind("reloading " + hub_->config_path() + " failed (reading the courses list of integration "
                          "'refusing' from the store failed: ", 0),
            0u)
      << failed.body;
  EXPECT_TRUE(message.ends_with("); the hub keeps running the previous configuration")) << failed.body;
  EXPECT_EQ(failed.json()["connectors"], Json::array()) << failed.body;
  EXPECT_EQ(version(), "1.2.3") << "the new version it loaded is let go";
  EXPECT_EQ(admin_.get("/api/rules")["items"].size(), 2u);
  EXPECT_NE(hub_->log().find("reload of " + hub_->config_path() + " failed; still running the previous "
                             "configuration: "),
            std::string::npos)
      << hub_->log();
  EXPECT_NE(hub_->log().find("connector good 1.3.0 is not used"), std::string::npos) << hub_->log();

  // A SIGHUP fails the same way, and the hub runs on.
  hub_->hangup();
  ASSERT_TRUE(eventually([&] {
    std::string log = hub_->log();
    std::size_t first = log.find(" failed; still running the previous configuration: ");
    return first != std::string::npos &&
           log.find(" failed; still running the previous configuration: ", first + 1) != std::string::npos;
  })) << hub_->log();
  EXPECT_EQ(version(), "1.2.3");
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8401", "ann@example.com")).status, 200);
  ASSERT_TRUE(eventually([&] { return jobs_settled(2); })) << hub_->log();

  // Once the store takes it, the reload runs the new version.
  hub_->write_config(lab_config(admin_.port));
  ApiReply reload = admin_.post("/api/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  EXPECT_EQ(reload.json()["connectors"], (Json::array({{{"id", "good"}, {"version", "1.3.0"}, {"was", "1.2.3"}}})))
      << reload.body;
  EXPECT_EQ(version(), "1.3.0");
  EXPECT_EQ(hub_->stop(), 0) << hub_->log();
}

TEST_F(AdminApi, ANewVersionOfAConnectorThatRefusesTheConfigurationOrIsBrokenLeavesTheRunningOne) {
  Sink sink;
  start("admin-version-refused", look_up_config(sink.url()));
  fs::path plugins = hub_->dir() / "plugins";
  auto version = [&] {
    Json plugins = admin_.get("/api/plugins");
    for (auto &p : plugins["loaded"])
      if (p["id"] == "good") return p["version"].get<std::string>();
    return std::string("not listed");
  };
  // Its settings need a region the lab does not give: the reload is refused, and 1.2.3 runs on.
  put_good(GOOD_STRICT_PLUGIN);
  ApiReply refused = admin_.post("/api/reload");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("integration 'lab' is missing the required setting 'region'"), std::string::npos)
      << refused.body;
  EXPECT_EQ(refused.json()["connectors"], Json::array());
  EXPECT_EQ(version(), "1.2.3");
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8301", "ann@example.com")).status, 200);
  ASSERT_TRUE(eventually([&] { return sink.count() == 1; })) << hub_->log();
  EXPECT_EQ(sink.requests()[0].headers["user-agent"], "good/1.2.3");
  EXPECT_FALSE(hub_->maps("/memfd:good.so")) << "2.0.0 is not kept loaded";

  // Another ABI: rejected with the reason, and 1.2.3 runs on.
  put_good(fs::path(FIXTURE_PLUGIN_DIR) / "wrong_abi.so");
  ApiReply reload = admin_.post("/api/reload");
  EXPECT_EQ(reload.status, 200) << reload.body;
  EXPECT_NE(reload.body.find("good.so: built for Cartwire plugin ABI 99"), std::string::npos) << reload.body;
  EXPECT_NE(reload.body.find("The hub keeps running connector good 1.2.3."), std::string::npos) << reload.body;
  EXPECT_EQ(version(), "1.2.3");
  Json rejected = admin_.get("/api/plugins")["rejected"];
  EXPECT_NE(rejected.dump().find((plugins / "good.so").string() + ": built for Cartwire plugin ABI 99"),
            std::string::npos) << rejected;
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("8302", "bob@example.com")).status, 200);
  ASSERT_TRUE(eventually([&] { return sink.count() == 2; })) << hub_->log();
  EXPECT_EQ(sink.requests()[1].headers["user-agent"], "good/1.2.3");
}

TEST_F(AdminApi, ARefreshOfASlowListIsAnsweredPastTheReadTimeout) {
  if (!fs::exists(fs::path(CARTWIRE_PLUGIN_DIR) / "thinkific.so")) GTEST_SKIP() << "thinkific not built";
  FaultRemote remote;
  remote.script([](const Hit &) {
    Fault page = Fault::slow(std::chrono::milliseconds(2500));
    page.body = R"({"items": [{"id": 42, "name": "Slow course"}], "meta": {"pagination": {"next_page": null}}})";
    return page;
  });
  std::string school = "  school:\n    connector: thinkific\n    settings: {subdomain: acme, api_key: \"${LAB_TOKEN}\", "
                       "base_url: \"" + remote.url("/api/public/v1") + "\"}\n";
  start("admin-refresh-slow", [&](unsigned short port) {
    std::string cfg = lab_config(port, "", school);
    // The admin listener cuts a request whose answer takes longer than this.
    cfg.replace(cfg.find("  max_body_bytes: 16384\n"), 0, "  read_timeout: 1s\n");
    return cfg;
  });
  auto started = std::chrono::steady_clock::now();
  ApiReply refreshed = admin_.post("/api/integrations/school/lists/courses/refresh");
  auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_EQ(refreshed.json()["lists"][0]["count"], 1) << refreshed.body;
  EXPECT_GT(waited, std::chrono::milliseconds(2000)) << "the remote answered after 2.5 s";
  EXPECT_EQ(admin_.get("/api/integrations/school/lists/courses")["items"].size(), 1u);
}

TEST_F(AdminApi, ADryRunShowsTheRequestsAnActionWouldSendWithoutSendingThem) {
  Sink sink;
  start("admin-dry-requests", look_up_config(sink.url("/customers?email={{customer.email}}")));
  Json event = {{"type", "order.completed"}, {"customer", {{"email", "dry@example.com"}}}};
  ApiReply dry = admin_.post("/api/dry-run", {{"event", event}});
  ASSERT_EQ(dry.status, 200) << dry.body;
  Json lookup, planned = dry.json();
  for (auto &job : planned["jobs"])
    if (job["rule"] == "look-up") lookup = job;
  ASSERT_FALSE(lookup.is_null()) << dry.body;
  ASSERT_EQ(lookup["requests"].size(), 1u) << lookup;
  EXPECT_EQ(lookup["requests"][0]["method"], "GET");
  EXPECT_EQ(lookup["requests"][0]["url"], sink.url("/customers?email=dry@example.com"));
  EXPECT_EQ(lookup["requests"][0]["headers"].value("authorization", ""), "[redacted]") << lookup;
  // The fixture's fetch always asks for a retry, quoting the transport error: none, the answer was made up.
  EXPECT_EQ(lookup["outcome"], "retryable");
  EXPECT_EQ(lookup["message"], "");
  std::this_thread::sleep_for(kQuietWindow);
  EXPECT_EQ(sink.count(), 0u) << "a dry run sent a request";
  EXPECT_EQ(hub_->count("SELECT COUNT(*) FROM events"), 0);
  // TearDown checks that the lab token (its Authorization) is in no answer.
}

TEST_F(AdminApi, ADryRunShowsTheValuesAnIntegrationsFieldMappingWouldSend) {
  start("admin-dry-fields", [](unsigned short port) {
    return lab_config(port, "  - name: mapped\n    on: order.completed\n    do: mapped.echo\n    with: {text: hi}\n",
                      "  mapped:\n    connector: good\n    settings: {token: \"${LAB_TOKEN}\"}\n"
                      "    fields: {phone: customer.phone}\n");
  });
  auto fields_of = [&](const Json &event) {
    ApiReply dry = admin_.post("/api/dry-run", {{"event", event}});
    EXPECT_EQ(dry.status, 200) << dry.body;
    Json planned = dry.json();
    for (auto &job : planned["jobs"])
      if (job["rule"] == "mapped") return job["fields"];
    ADD_FAILURE() << "no job for rule mapped: " << dry.body;
    return Json();
  };
  Json event = {{"type", "order.completed"}, {"customer", {{"email", "dry@example.com"}, {"phone", "+1 555 0100"}}}};
  EXPECT_EQ(fields_of(event), (Json{{"phone", "+1 555 0100"}}));
  event["customer"]["phone"] = nullptr;
  EXPECT_EQ(fields_of(event), Json::object()) << "a null value maps to nothing";
  event["customer"].erase("phone");
  EXPECT_EQ(fields_of(event), Json::object()) << "nor does an absent one";
  // The rule of the integration without a mapping shows none.
  Json planned = admin_.post("/api/dry-run", {{"event", event}}).json();
  ASSERT_EQ(planned["jobs"].size(), 2u) << planned;
  for (auto &job : planned["jobs"])
    if (job["rule"] == "every-order") EXPECT_EQ(job["fields"], Json::object()) << job;
}

TEST_F(AdminApi, AnUnusedConnectorIsListedButNotLoadedUntilAReloadUsesIt) {
  if (!fs::exists(fs::path(CARTWIRE_PLUGIN_DIR) / "notifyurl.so"))
    GTEST_SKIP() << "the notifyurl connector is not built in " << CARTWIRE_PLUGIN_DIR;
  Sink sink;
  start("admin-unused");
  // notifyurl is in plugins.dir but no instance uses it: listed with its manifest, its library not in memory.
  Json plugins = admin_.get("/api/plugins"), notifyurl;
  for (auto &p : plugins["loaded"])
    if (p["id"] == "notifyurl") notifyurl = p;
  ASSERT_FALSE(notifyurl.is_null());
  EXPECT_EQ(notifyurl["actions"], Json::array({"post"}));
  EXPECT_TRUE(notifyurl["calls"].is_null()) << "how it is called is known once it is loaded";
  EXPECT_TRUE(hub_->maps("/plugins/thrivecart.so"));
  EXPECT_TRUE(hub_->maps("/plugins/good.so"));
  EXPECT_FALSE(hub_->maps("/plugins/notifyurl.so"));

  hub_->write_config(lab_config(admin_.port, "  - name: notify\n    on: order.completed\n    do: hook.post\n",
                                "  hook:\n    connector: notifyurl\n    settings: {url: \"" + sink.url() +
                                    "\", secret: \"${HOOK_SECRET}\"}\n"));
  ApiReply reload = admin_.post("/api/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  EXPECT_TRUE(hub_->maps("/plugins/notifyurl.so"));
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("9101", "ann@example.com")).status, 200);
  ASSERT_TRUE(sink.wait_for(1)) << hub_->log();
  EXPECT_EQ(Json::parse(sink.requests().at(0).body)["type"], "order.completed");
  auto calls = [&](const std::string &id) {
    Json loaded = admin_.get("/api/plugins")["loaded"];
    for (auto &p : loaded)
      if (p["id"] == id) return std::pair{p["calls"], p["calls_why"]};
    return std::pair{Json(), Json()};
  };
  EXPECT_EQ(calls("notifyurl").first, "native");
  EXPECT_EQ(calls("notifyurl").second, "built with this hub's toolchain: native calls available");

  hub_->use_json_seam();
  hub_->write_config(lab_config(admin_.port, "  - name: notify\n    on: order.completed\n    do: hook.post\n",
                                "  hook:\n    connector: notifyurl\n    settings: {url: \"" + sink.url() +
                                    "\", secret: \"${HOOK_SECRET}\"}\n"));
  ASSERT_EQ(admin_.post("/api/reload").status, 200);
  EXPECT_EQ(calls("notifyurl").first, "json");
  EXPECT_EQ(calls("notifyurl").second, "plugins.native_calls is false in hub.yaml: every connector is called through JSON");
}

TEST_F(AdminApi, ReplayedDeadNotifyJobSucceedsAndItsRequestIsRedacted) {
  if (!fs::exists(fs::path(CARTWIRE_PLUGIN_DIR) / "notifyurl.so"))
    GTEST_SKIP() << "the notifyurl connector is not built in " << CARTWIRE_PLUGIN_DIR;
  Sink sink;
  std::atomic<int> calls{0};
  sink.respond_with([&](const Recorded &) {
    Reply r;
    if (calls++ == 0) r.status = 503;  // the first delivery fails; max_attempts 1 makes the job dead
    return r;
  });
  auto config = [&](const std::string &version) {
    return [&, version](unsigned short port) {
      return lab_config(port,
                        "  - name: notify\n    on: order.completed\n    do: hook.post\n"
                        "    with: {data: {rule: " + version + ", email: \"{{customer.email}}\"}}\n",
                        "  hook:\n    connector: notifyurl\n    settings: {url: \"" + sink.url() +
                            "\", secret: \"${HOOK_SECRET}\"}\n");
    };
  };
  start("admin-notify", config("first"));
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("9001", "ann@example.com")).status, 200);
  Json dead;
  ASSERT_TRUE(eventually([&] {
    dead = admin_.get("/api/jobs?integration=hook&state=dead");
    return dead["items"].size() == 1;
  })) << hub_->log();
  std::string id = std::to_string(dead["items"][0]["id"].get<int64_t>());
  // The rule changes before the replay (docs/console.md): the replay sends what the job was given.
  hub_->write_config(config("second")(admin_.port));
  ASSERT_EQ(admin_.post("/api/reload").status, 200);
  ASSERT_EQ(admin_.post("/api/jobs/" + id + "/replay").status, 200);
  ASSERT_TRUE(eventually([&] { return admin_.get("/api/jobs/" + id)["job"]["state"] == "succeeded"; })) << hub_->log();
  Json detail = admin_.get("/api/jobs/" + id);
  EXPECT_EQ(detail["job"]["params"]["data"]["rule"], "first");
  EXPECT_EQ(Json::parse(sink.requests().back().body)["data"], (Json{{"rule", "first"}, {"email", "ann@example.com"}}));
  ASSERT_EQ(detail["attempts"].size(), 2u);
  EXPECT_EQ(detail["attempts"][0]["outcome"], "retryable");
  EXPECT_EQ(detail["attempts"][1]["outcome"], "ok");
  Json request = detail["attempts"][1]["exchanges"][0]["request"];
  EXPECT_EQ(request["url"], sink.url());
  EXPECT_EQ(request.dump().find(kHookSecret.substr(6)), std::string::npos);
  EXPECT_EQ(sink.count(), 2u);
}

TEST_F(AdminApi, AReplayWithTheCurrentRuleIsRefusedWhenTheRuleMakesNoSuchJobNow) {
  auto with_rule = [](const std::string &upsell_rule) {
    return [upsell_rule](unsigned short port) {
      std::string cfg = lab_config(port);
      std::string was = "  - name: upsell-breaks\n    on: product.purchased\n    where: {item.reference: upsell-*}\n"
                        "    do: lab.explode\n";
      return cfg.replace(cfg.find(was), was.size(), upsell_rule);
    };
  };
  start("admin-replay-current");
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("9201", "ann@example.com")).status, 200);
  ASSERT_EQ(hub_->post("/hooks/thrivecart", order("9202", "bob@example.com")).status, 200);
  auto failed = [&] {
    return hub_->count("SELECT COUNT(*) FROM jobs WHERE rule = 'upsell-breaks' AND state IN ('failed', 'dead')");
  };
  ASSERT_TRUE(eventually([&] { return failed() == 2; })) << hub_->log();
  auto upsell_job_of = [&](const std::string &email) {
    return std::to_string(hub_->count("SELECT j.id FROM jobs j JOIN events e ON e.id = j.event_id "
                                      "WHERE j.rule = 'upsell-breaks' AND e.email = '" + email + "'"));
  };
  std::string ann = upsell_job_of("ann@example.com"), bob = upsell_job_of("bob@example.com");
  auto replay = [&](const std::string &id, const std::string &rule) {
    return admin_.post("/api/jobs/" + id + "/replay", {{"rule", rule}});
  };
  auto refused = [&](const std::string &id, const std::string &reason) {
    Json before = admin_.get("/api/jobs/" + id);
    ApiReply r = replay(id, "current");
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_NE(r.json().value("error", "").find(reason), std::string::npos) << r.body;
    Json after = admin_.get("/api/jobs/" + id);
    EXPECT_EQ(after["job"], before["job"]) << "nothing changed";
    EXPECT_EQ(after["replays"], before["replays"]);
  };

  ApiReply unknown = replay(ann, "latest");
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_NE(unknown.json().value("error", "").find("\"rule\" must be \"original\""), std::string::npos) << unknown.body;

  // The rule now runs another action.
  hub_->write_config(
      with_rule("  - name: upsell-breaks\n    on: product.purchased\n    do: lab.echo\n    with: {text: hi}\n")(admin_.port));
  ASSERT_EQ(admin_.post("/api/reload").status, 200);
  refused(ann, "rule 'upsell-breaks' now runs lab.echo, not lab.explode as this job did");
  // The rule is gone.
  hub_->write_config(with_rule("")(admin_.port));
  ASSERT_EQ(admin_.post("/api/reload").status, 200);
  refused(ann, "rule 'upsell-breaks' is no longer in " + hub_->config_path());

  // The rule takes Bob's orders only: in a bulk replay, his job is replayed and Ann's refused, with the reason.
  // Another rule of the same name (a warning) runs another action: the reason is the one of the rule that
  // runs the job's.
  hub_->write_config(with_rule("  - name: upsell-breaks\n    on: product.purchased\n    do: lab.echo\n"
                               "    with: {text: hi}\n"
                               "  - name: upsell-breaks\n    on: product.purchased\n"
                               "    where: {item.reference: upsell-*, customer.email: bob@example.com}\n"
                               "    do: lab.explode\n")(admin_.port));
  ASSERT_EQ(admin_.post("/api/reload").status, 200);
  refused(ann, "rule 'upsell-breaks' no longer takes this event");
  ApiReply bulk = admin_.post("/api/jobs/replay", {{"filter", {{"rule", "upsell-breaks"}}}, {"rule", "current"}});
  ASSERT_EQ(bulk.status, 200) << bulk.body;
  Json b = bulk.json();
  EXPECT_EQ(b["rule"], "current");
  EXPECT_EQ(b["replayed"], Json::array({std::stoll(bob)}));
  EXPECT_EQ(b["count"], 1);
  ASSERT_EQ(b["refused"].size(), 1u) << b.dump();
  EXPECT_EQ(b["refused"][0]["id"], std::stoll(ann));
  EXPECT_EQ(b["refused"][0]["rule"], "upsell-breaks");
  EXPECT_NE(b["refused"][0]["reason"].get<std::string>().find("no longer takes this event"), std::string::npos);
  EXPECT_EQ(b["more"], false);
  ASSERT_TRUE(eventually([&] { return admin_.get("/api/jobs/" + bob)["job"]["attempts"] == 2; })) << hub_->log();
  Json bobs = admin_.get("/api/jobs/" + bob);
  ASSERT_EQ(bobs["replays"].size(), 1u);
  EXPECT_EQ(bobs["replays"][0]["rule"], "current");
  EXPECT_EQ(bobs["replays"][0]["replaced_params"], Json::object());
  EXPECT_EQ(admin_.get("/api/jobs/" + ann)["replays"], Json::array());
  // With the original rule, Ann's job is replayed all the same.
  ApiReply original =
      admin_.post("/api/jobs/replay", {{"filter", {{"rule", "upsell-breaks"}, {"email", "ann@example.com"}}}});
  ASSERT_EQ(original.status, 200) << original.body;
  EXPECT_EQ(original.json()["replayed"], Json::array({std::stoll(ann)}));
  EXPECT_EQ(original.json()["refused"], Json::array());
  ASSERT_TRUE(eventually([&] { return admin_.get("/api/jobs/" + ann)["job"]["attempts"] == 2; })) << hub_->log();
  EXPECT_EQ(admin_.get("/api/jobs/" + ann)["replays"][0]["rule"], "original");

  // A bulk replay that reached its limit with refused jobs says where the older ones begin: pressed
  // again with the same filter alone, it would meet the same refused jobs.
  ASSERT_TRUE(eventually([&] { return failed() == 2; })) << hub_->log();
  hub_->write_config(with_rule("  - name: upsell-breaks\n    on: product.purchased\n"
                               "    where: {item.reference: upsell-*, customer.email: ann@example.com}\n"
                               "    do: lab.explode\n")(admin_.port));
  ASSERT_EQ(admin_.post("/api/reload").status, 200);
  Json first = admin_.post("/api/jobs/replay", {{"filter", {{"rule", "upsell-breaks"}, {"limit", 1}}}, {"rule", "current"}})
                   .json();
  EXPECT_EQ(first["replayed"], Json::array()) << first.dump();
  ASSERT_EQ(first["refused"].size(), 1u) << first.dump();
  EXPECT_EQ(first["refused"][0]["id"], std::stoll(bob));
  EXPECT_EQ(first["more"], true);
  ASSERT_EQ(first["before"], bob) << "the id to continue below, as text like a page's next: " << first.dump();
  Json older = admin_
                   .post("/api/jobs/replay", {{"filter", {{"rule", "upsell-breaks"}, {"limit", 1}, {"before", first["before"]}}},
                                              {"rule", "current"}})
                   .json();
  EXPECT_EQ(older["replayed"], Json::array({std::stoll(ann)})) << older.dump();
  EXPECT_EQ(older["more"], false);
  EXPECT_FALSE(older.contains("before")) << older.dump();

  // A rule with an error the hub started with (explode takes no text) is idle.
  ASSERT_TRUE(eventually([&] { return admin_.get("/api/jobs/" + ann)["job"]["attempts"] == 3; })) << hub_->log();
  ASSERT_TRUE(eventually([&] { return failed() == 2; })) << hub_->log();
  hub_->stop();
  hub_->write_config(with_rule("  - name: upsell-breaks\n    on: product.purchased\n    do: lab.explode\n"
                               "    with: {text: hello}\n")(admin_.port));
  hub_->start();
  ASSERT_TRUE(eventually([&] { return console_answers(); })) << hub_->log();
  ASSERT_NE(hub_->log().find("these rules stay idle until fixed: upsell-breaks"), std::string::npos) << hub_->log();
  refused(bob, "rule 'upsell-breaks' is idle");
}

TEST(AdminOff, WithoutATokenTheListenerStaysOffAndTheLogSaysHow) {
  HubProcess hub("admin-off", "admin:\n  token: \"${NO_SUCH_ADMIN_TOKEN:-}\"\n");
  hub.start();
  // The admin block is there: what is missing is its variable.
  EXPECT_NE(hub.log().find("admin API off: NO_SUCH_ADMIN_TOKEN (admin.token) is unset or empty; export it"),
            std::string::npos)
      << hub.log();
  EXPECT_NE(http("GET", hub.port(), "/healthz").status, 0);
  // Without an admin block, the log shows the block to add.
  HubProcess bare("admin-absent", "");
  bare.start();
  EXPECT_NE(bare.log().find("admin API off: to enable it, add to "), std::string::npos) << bare.log();
}

TEST_F(AdminApi, StatsCountEventsAndOutcomesPerBucketAndTheTimelineGathersOneCustomer) {
  start("admin-insight");
  for (auto [id, email] : std::vector<std::pair<std::string, std::string>>{{"7001", "ann@example.com"},
                                                                          {"7002", "bob@example.com"}})
    ASSERT_EQ(hub_->post("/hooks/thrivecart", order(id, email)).status, 200);
  ASSERT_TRUE(eventually([&] { return jobs_settled(4); })) << hub_->log();

  Json stats = admin_.get("/api/stats?bucket=1h");
  ASSERT_EQ(stats["buckets"].size(), 24u) << stats;
  EXPECT_EQ(stats["bucket_seconds"], 3600);
  int64_t events = 0, succeeded = 0, failed = 0;
  for (auto &b : stats["buckets"]) {
    events += b["events"].get<int64_t>();
    succeeded += b["jobs"]["succeeded"].get<int64_t>();
    failed += b["jobs"]["failed"].get<int64_t>();
  }
  EXPECT_EQ(events, hub_->count("SELECT COUNT(*) FROM events"));
  EXPECT_EQ(events, 6);  // per order: order.completed and two items
  EXPECT_EQ(succeeded, 2);  // every-order
  EXPECT_EQ(failed, 2);     // upsell-breaks
  EXPECT_EQ(stats["totals"]["events"], 6);
  EXPECT_EQ(stats["totals"]["jobs"]["failed"], 2);
  EXPECT_EQ(stats["failures_by_integration"], Json::parse(R"([{"integration": "lab", "failed": 2, "dead": 0}])"));
  // The newest bucket holds now (the one before it too, should the hour have turned meanwhile).
  EXPECT_EQ(stats["buckets"][22]["events"].get<int64_t>() + stats["buckets"][23]["events"].get<int64_t>(), 6);
  EXPECT_EQ(stats["buckets"][0]["events"], 0);

  Json old = admin_.get("/api/stats?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z&bucket=1d");
  ASSERT_EQ(old["buckets"].size(), 1u);
  EXPECT_EQ(old["buckets"][0]["start"], "2000-01-01T00:00:00Z");
  EXPECT_EQ(old["totals"]["events"], 0);
  for (std::string bad : {"bucket=7x", "bucket=10", "since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
                          "since=2000-01-01T00:00:00Z&bucket=1m", "since=yesterday", "nope=1"}) {
    ApiReply r = admin_.call("GET", "/api/stats?" + bad);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_TRUE(r.json().contains("error")) << r.body;
  }

  Json ann = admin_.get("/api/timeline?email=ANN@example.com");
  EXPECT_EQ(ann["email"], "ann@example.com");
  ASSERT_EQ(ann["items"].size(), 3u) << ann;
  std::size_t jobs = 0;
  for (auto &item : ann["items"]) {
    EXPECT_EQ(item["email"], "ann@example.com");
    EXPECT_EQ(item["customer"]["name"], "Ann Lee");
    for (auto &j : item["job_list"]) {
      EXPECT_EQ(j["event_id"], item["id"]);
      ++jobs;
    }
  }
  EXPECT_EQ(jobs, 2u);
  Json first = admin_.get("/api/timeline?email=ann@example.com&limit=2");
  ASSERT_EQ(first["items"].size(), 2u);
  ASSERT_TRUE(first["next"].is_string());
  Json rest = admin_.get("/api/timeline?email=ann@example.com&limit=2&before=" + first["next"].get<std::string>());
  EXPECT_EQ(rest["items"].size(), 1u);
  EXPECT_TRUE(rest["next"].is_null());
  EXPECT_EQ(admin_.get("/api/timeline?email=nobody@example.com")["items"].size(), 0u);
  EXPECT_EQ(admin_.call("GET", "/api/timeline").status, 400);
  EXPECT_EQ(admin_.call("GET", "/api/timeline", "", {}).status, 401);
}

TEST_F(AdminApi, ConsoleFilesAreServedWithAStrictContentSecurityPolicy) {
  start("admin-console");
  Poco::Net::HTTPClientSession session("127.0.0.1", admin_.port);
  Poco::Net::HTTPRequest request("GET", "/", Poco::Net::HTTPMessage::HTTP_1_1);
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::string body;
  Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
  ASSERT_EQ(response.getStatus(), Poco::Net::HTTPResponse::HTTP_OK) << body;
  EXPECT_EQ(response.getContentType(), "text/html; charset=utf-8");
  EXPECT_NE(body.find("/js/app.js"), std::string::npos);
  std::string csp = response.get("Content-Security-Policy", "");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(http("GET", admin_.port, "/vendor/chart.umd.min.js").status, 200);
  // HEAD says what GET would send (a link checker or cache reads the length), without the body.
  for (const char *path : {"/", "/js/app.js", "/healthz"}) {
    HttpResult get = http("GET", admin_.port, path), head = http("HEAD", admin_.port, path);
    EXPECT_EQ(head.status, get.status) << path;
    EXPECT_EQ(head.headers["Content-Length"], std::to_string(get.body.size())) << path;
    EXPECT_EQ(head.body, "") << path;
  }
}
