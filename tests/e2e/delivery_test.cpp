// The real cartwire binary, the real thrivecart and notifyurl plugins, a local
// Notify URL sink, all over real sockets.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../support/hub_process.hpp"
#include "../support/signature.hpp"
#include "../support/sink.hpp"
#include "../support/thrivecart_payloads.hpp"

using namespace cartwire::testing;
using Json = nlohmann::json;

namespace {

const std::string kTcSecret = "S3cretWord-e2e";
const std::string kHookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

// A ThriveCart order.success webhook as it documents one, on one line.
std::string order_success(const std::string &secret = kTcSecret, const std::string &order_id = "1514394") {
  return "event=order.success&mode=live&mode_int=2&thrivecart_account=acme&thrivecart_secret=" + secret +
         "&base_product=12&base_product_name=Course&order_id=" + order_id +
         "&invoice_id=000000004"
         "&order_date=2026-01-15+10%3A00%3A00&order_timestamp=1768471200&currency=USD"
         "&customer_id=4244502&customer_identifier=cus_abc&customer[id]=4244502"
         "&customer[email]=ann%40example.com&customer[name]=Ann+Lee&customer[first_name]=Ann&customer[last_name]=Lee"
         "&customer[address][country]=US&customer[address][zip]=10001"
         "&order[processor]=stripe&order[total]=9990&order[total_str]=99.90&order[tax]=null"
         "&order[charges][0][item_type]=product&order[charges][0][reference]=12&order[charges][0][name]=Course"
         "&order[charges][0][amount]=4995&order[charges][0][amount_str]=49.95&order[charges][0][type]=single"
         "&order[charges][1][item_type]=upsell&order[charges][1][reference]=13&order[charges][1][name]=Coaching"
         "&order[charges][1][amount]=4995&order[charges][1][amount_str]=49.95&order[charges][1][type]=single"
         "&transactions[product-12]=ch_1&transactions[upsell-13]=ch_2"
         "&purchases[0]=Course&purchases[1]=Coaching&purchase_map[0]=product-12&purchase_map[1]=upsell-13"
         "&purchase_map_flat=product-12%2Cupsell-13&fulfillment[url]=https%3A%2F%2Facme.thrivecart.com%2Fcourse%2Fconfirm%2F";
}

std::string config(const std::string &sink_url, const std::string &runner = "") {
  return (runner.empty() ? "runner:\n  workers: 2\n  poll_interval: 100ms\n  retry: {initial_delay: 200ms, max_delay: 1s, horizon: 1h}\n"
                         : runner) +
         "sources:\n"
         "  thrivecart:\n"
         "    connector: thrivecart\n"
         "    settings: {secret: \"${TC_SECRET}\", account: acme}\n"
         "integrations:\n"
         "  hook:\n"
         "    connector: notifyurl\n"
         "    settings: {url: \"" + sink_url + "\", secret: \"${HOOK_SECRET}\"}\n"
         "rules:\n"
         "  - name: every-order\n"
         "    on: order.completed\n"
         "    do: hook.post\n"
         "  - name: upsells\n"
         "    on: product.purchased\n"
         "    where: {item.reference: upsell-*}\n"
         "    do: hook.post\n"
         "products:\n"
         "  product-12:\n"
         "    - name: course-bought\n"
         "      do: hook.post\n"
         "      with: {data: {email: \"{{customer.email}}\", amount: \"{{item.amount}}\"}}\n";
}

std::map<std::string, std::string> env() { return {{"TC_SECRET", kTcSecret}, {"HOOK_SECRET", kHookSecret}}; }

// How long a test watches, once every job succeeded, for a job sent a second
// time: nothing tells of a request that is not coming. Five of the runners'
// 100 ms poll intervals, in which a job claimed twice would be claimed again
// and sent to the local sink.
constexpr std::chrono::milliseconds kRepeatWindow{500};

std::multiset<std::string> types_of(const std::vector<Recorded> &requests) {
  std::multiset<std::string> out;
  for (auto &r : requests) out.insert(Json::parse(r.body).value("type", "?"));
  return out;
}

// A slow remote: answers each request after `pause`, and one at a time (the
// sink asks its responder under its lock), so that requests queue behind it.
Sink::Responder one_at_a_time(std::chrono::milliseconds pause) {
  return [pause](const Recorded &) {
    std::this_thread::sleep_for(pause);
    return Reply{};
  };
}

// Waits until `jobs` jobs succeeded, then checks that each ran once: one
// attempt on record and one request, with its own webhook-id, at the sink.
void expect_each_job_ran_once(HubProcess &hub, const Sink &sink, int jobs) {
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == jobs; },
                         std::chrono::seconds(30)))
      << hub.log();
  std::this_thread::sleep_for(kRepeatWindow);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts"), jobs);
  EXPECT_EQ(sink.count(), static_cast<std::size_t>(jobs));
  std::set<std::string> ids;
  for (auto &r : sink.requests()) ids.insert(r.headers["webhook-id"]);
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(jobs));
}

}  // namespace

TEST(Delivery, OrderBecomesSignedPostsAndIsStored) {
  Sink sink;
  HubProcess hub("order", config(sink.url()), env());
  hub.start();
  auto reply = hub.post("/hooks/thrivecart", order_success());
  ASSERT_EQ(reply.status, 200) << reply.body << hub.log();

  // The durable write happened before the 2xx.
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events"), 3);  // order.completed + 2 × product.purchased
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs"), 3);    // every-order, upsells, course-bought

  ASSERT_TRUE(sink.wait_for(3)) << hub.log();
  auto requests = sink.requests();
  EXPECT_EQ(types_of(requests), (std::multiset<std::string>{"order.completed", "product.purchased", "product.purchased"}));
  std::set<std::string> ids;
  for (auto &r : requests) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.uri, "/notify");
    EXPECT_TRUE(verify_standard_webhook(kHookSecret, r.headers, r.body)) << r.body;
    EXPECT_FALSE(verify_standard_webhook("whsec_" + std::string(32, 'A'), r.headers, r.body));
    ids.insert(r.headers["webhook-id"]);
    Json body = Json::parse(r.body);
    if (body["data"].contains("email")) {  // the product rule's own data
      EXPECT_EQ(body["data"]["email"], "ann@example.com");
      EXPECT_EQ(body["data"]["amount"], 4995);
    } else if (body["type"] == "product.purchased") {
      EXPECT_EQ(body["data"]["item"]["reference"], "upsell-13");
      EXPECT_EQ(body["data"]["item"]["amount_str"], "49.95");
    } else {
      EXPECT_EQ(body["data"]["order"]["total"], 9990);
    }
    EXPECT_EQ(r.body.find(kTcSecret), std::string::npos) << "the cart secret leaked to the endpoint";
  }
  EXPECT_EQ(ids.size(), 3u);

  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 3; }));
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts WHERE outcome = 'ok'"), 3);
  auto rows = query(hub.db_path(), "SELECT dedupe_key FROM events ORDER BY dedupe_key");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0], "tc:acme:order:1514394");
  EXPECT_EQ(rows[1][0], "tc:acme:order:1514394:item:product-12");
  EXPECT_EQ(rows[2][0], "tc:acme:order:1514394:item:upsell-13");
  // The attempt log holds the request, with the signature header but without the signing secret.
  auto exchanges = query(hub.db_path(), "SELECT exchanges FROM attempts");
  for (auto &row : exchanges) {
    Json ex = Json::parse(row[0]);
    ASSERT_EQ(ex.size(), 1u);
    EXPECT_EQ(ex[0]["request"]["url"], sink.url());
    EXPECT_EQ(ex[0]["response"]["status"], 200);
  }
  EXPECT_EQ(hub.log().find(kTcSecret), std::string::npos);
  EXPECT_EQ(hub.log().find(kHookSecret.substr(6)), std::string::npos);
}

// The connector sends the order's payload once for its three events; rules
// still read it as each event's `raw`, and each delivery carries it.
// Once through each seam between the hub and its connectors: the same rules
// match and the same deliveries go out.
class SharedPayload : public ::testing::TestWithParam<bool> {};

TEST_P(SharedPayload, RulesAndDeliveriesReadThePayloadTheOrdersEventsShare) {
  Sink sink;
  std::string rules =
      "rules:\n"
      "  - name: coaching-buyers\n"
      "    on: product.purchased\n"
      "    where: {raw.purchases.1: Coaching}\n"
      "    do: hook.post\n"
      "    with: {data: {first: \"{{raw.purchases.0}}\", item: \"{{item.reference}}\"}}\n"
      "  - name: whole-event\n"
      "    on: product.purchased\n"
      "    do: hook.post\n";
  std::string cfg = config(sink.url());
  cfg = cfg.substr(0, cfg.find("rules:\n")) + rules;
  HubProcess hub(GetParam() ? "shared-raw" : "shared-raw-json", cfg, env());
  if (!GetParam()) hub.use_json_seam();
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", order_success()).status, 200) << hub.log();
  // The log says which seam the connectors take.
  EXPECT_NE(hub.log().find("connector thrivecart: built with this hub's toolchain: native calls available"),
            std::string::npos);
  EXPECT_EQ(hub.log().find("plugins.native_calls is false") != std::string::npos, !GetParam()) << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events"), 3);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM payloads"), 1);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE payload_id IS NULL"), 0);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs"), 4);  // each rule once per item

  ASSERT_TRUE(sink.wait_for(4)) << hub.log();
  std::multiset<std::string> items, whole;
  for (auto &r : sink.requests()) {
    Json data = Json::parse(r.body)["data"];
    if (data.contains("first")) {
      EXPECT_EQ(data["first"], "Course");
      items.insert(data["item"].get<std::string>());
    } else {
      // Both items' events carry the order's one payload.
      std::string item = data["item"]["reference"];
      whole.insert(item);
      EXPECT_EQ(data["id"],
                hub.count("SELECT id FROM events WHERE type = 'product.purchased' AND item_ref = '" + item + "'"));
      EXPECT_EQ(data["raw"]["order_id"], "1514394");
      EXPECT_EQ(data["raw"]["purchases"], (Json{"Course", "Coaching"}));
      EXPECT_FALSE(data["raw"].contains("thrivecart_secret"));
    }
  }
  EXPECT_EQ(items, (std::multiset<std::string>{"product-12", "upsell-13"}));
  EXPECT_EQ(whole, items);
}

INSTANTIATE_TEST_SUITE_P(Delivery, SharedPayload, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool> &seam) {
                           return seam.param ? "NativeSeam" : "JsonSeam";
                         });

TEST(Delivery, RedeliveryCreatesNothingNew) {
  Sink sink;
  HubProcess hub("dedupe", config(sink.url()), env());
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", order_success()).status, 200);
  ASSERT_TRUE(sink.wait_for(3));
  ASSERT_EQ(hub.post("/hooks/thrivecart", order_success()).status, 200);
  // The same order as JSON is the same fact.
  Json same = {{"event", "order.success"}, {"thrivecart_account", "acme"}, {"thrivecart_secret", kTcSecret},
               {"order_id", "1514394"}, {"base_product", "12"}, {"customer", {{"email", "ann@example.com"}}},
               {"order", {{"total", "9990"}, {"charges", {{{"item_type", "product"}, {"reference", "12"}, {"amount", "4995"}}}}}}};
  ASSERT_EQ(hub.post("/hooks/thrivecart", same.dump(), "application/json").status, 200);
  // Events and jobs are stored before the 2xx: none is new, and the jobs there ran once each.
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events"), 3);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs"), 3);
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 3; }))
      << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts"), 3);
  EXPECT_EQ(sink.count(), 3u);
}

TEST(Delivery, RetentionRemovesFinishedJobsAndKeepsTheEventsThatRecogniseARedelivery) {
  Sink sink;
  HubProcess hub("retention", config(sink.url()), env());
  hub.add_storage("  retention: 2s\n");
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", order_success()).status, 200);
  ASSERT_TRUE(sink.wait_for(3));
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 3; }));
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts"), 3);
  // Within a second of passing 2 s (the sweep runs every retention / 4).
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs") == 0; }, std::chrono::seconds(10)))
      << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts"), 0);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events"), 3);
  EXPECT_NE(hub.log().find("retention: removed 3 finished job(s)"), std::string::npos) << hub.log();
  // The cart re-sends the order: still recognised, nothing runs again (no job is stored with its 2xx).
  ASSERT_EQ(hub.post("/hooks/thrivecart", order_success()).status, 200);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs"), 0);
  EXPECT_EQ(sink.count(), 3u);
}

TEST(Delivery, AnAnswerThatIsNotUtf8OrIsCutInsideACharacterOrASecretIsRecordedSafely) {
  Sink sink;
  // Latin-1 text; a body whose cut (log.body_bytes) falls inside a two-byte
  // character; one that echoes the signing secret across the cut.
  std::string latin1 = "caf\xe9 cr\xe8me", cut = std::string(4095, 'a') + "\xc3\xa9 and more",
              echo = std::string(4080, 'b') + kHookSecret;
  sink.respond_with([&, calls = 0](const Recorded &) mutable {
    Reply reply;
    reply.body = std::vector<std::string>{latin1, cut, echo}[calls++ % 3];
    return reply;
  });
  HubProcess hub("not-utf8", config(sink.url()) + "log:\n  body_bytes: 4096\n", env());
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", order_success()).status, 200);
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 3; }))
      << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts"), 3) << "each job once, its answer recorded";
  auto bodies = query(hub.db_path(), "SELECT exchanges FROM attempts ORDER BY id");
  for (auto &row : bodies) {
    Json exchanges = Json::parse(row.at(0));
    std::string body = exchanges.at(0).at("response").at("body");
    if (body.rfind("aaaa", 0) == 0)
      EXPECT_NE(body.find("a\xef\xbf\xbd... [10 more bytes]"), std::string::npos) << "cut inside the \xc3\xa9";
    else if (body.rfind("bbbb", 0) == 0)
      EXPECT_EQ(body.find(kHookSecret.substr(0, 16)), std::string::npos) << "masked whole, then cut";
    else
      EXPECT_EQ(body, "caf\xef\xbf\xbd cr\xef\xbf\xbdme");
  }
}

// Two Notify URLs of one host are told apart by their paths in the execution log and the log; the token
// a chat service's hook URL carries in its path is masked there, and a query is never shown.
TEST(Delivery, AFailedPostNamesItsEndpointByHostAndPathWithAPathsTokenMasked) {
  Sink sink;
  sink.respond_with([](const Recorded &) {
    Reply reply;
    reply.status = 500;
    reply.body = "down";
    return reply;
  });
  const std::string token = "q8Lp2Zx9Qw83Rt5Yu7Io", sig = "Qw83Lp2Zx9Rt";
  HubProcess hub("endpoint-path",
                 "runner:\n  workers: 2\n  poll_interval: 100ms\n  retry: {initial_delay: 10m, max_delay: 1h, horizon: 1h}\n"
                 "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: \"${TC_SECRET}\", account: acme}\n"
                 "integrations:\n"
                 "  chat:\n    connector: notifyurl\n"
                 "    settings: {url: \"" + sink.url("/services/T0AB12CD3/B0CD34EF5/" + token + "?sig=" + sig) + "\"}\n"
                 "  orders:\n    connector: notifyurl\n    settings: {url: \"" + sink.url("/orders") + "\"}\n"
                 "rules:\n"
                 "  - {name: to-chat, on: order.completed, do: chat.post}\n"
                 "  - {name: to-orders, on: order.completed, do: orders.post}\n",
                 env());
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", order_success()).status, 200);
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM attempts") == 2; })) << hub.log();
  auto errors = query(hub.db_path(), "SELECT j.integration, a.error FROM attempts a JOIN jobs j ON j.id = a.job_id "
                                     "ORDER BY j.integration");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].at(1).rfind("POST " + sink.url("/services/T0AB12CD3/B0CD34EF5/[redacted]") + ": HTTP 500", 0), 0u)
      << errors[0].at(1);
  EXPECT_EQ(errors[1].at(1).rfind("POST " + sink.url("/orders") + ": HTTP 500", 0), 0u) << errors[1].at(1);
  for (auto hidden : {token, sig}) {
    EXPECT_EQ(hub.log().find(hidden), std::string::npos) << hidden;
    EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts WHERE error LIKE '%" + hidden + "%' OR exchanges LIKE '%" +
                        hidden + "%'"),
              0)
        << hidden;
  }
}

// The shorter token of an automation service's hook URL (Zapier's, 7 characters, of letters and digits or of
// letters alone) is masked in the log, the execution log and the admin API, where the words of the path around it
// are shown.
TEST(Delivery, AnAutomationHooksShortPathTokenIsMaskedWhereTheFailureIsShown) {
  int run = 0;
  for (const std::string token : {"abc1234", "zqxwvkp"}) {
    SCOPED_TRACE(token);
    Sink sink;
    sink.respond_with([](const Recorded &) {
      Reply reply;
      reply.status = 410;
      reply.body = "gone";
      return reply;
    });
    unsigned short admin = free_port();
    auto vars = env();
    vars["ADMIN_TOKEN"] = "zap-admin-token-0123456";
    HubProcess hub("endpoint-short-token-" + std::to_string(++run),
                   "runner:\n  workers: 1\n  poll_interval: 100ms\n"
                   "sources:\n  thrivecart:\n    connector: thrivecart\n"
                   "    settings: {secret: \"${TC_SECRET}\", account: acme}\n"
                   "integrations:\n"
                   "  zap:\n    connector: notifyurl\n"
                   "    settings: {url: \"" + sink.url("/hooks/catch/123456/" + token + "/") + "\"}\n"
                   "rules:\n  - {name: to-zap, on: order.completed, do: zap.post}\n"
                   "admin:\n  listen: 127.0.0.1:" + std::to_string(admin) + "\n  token: \"${ADMIN_TOKEN}\"\n",
                   vars);
    hub.start();
    ASSERT_EQ(hub.post("/hooks/thrivecart", order_success()).status, 200);
    ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM attempts") == 1; })) << hub.log();
    ASSERT_EQ(sink.requests().at(0).uri, "/hooks/catch/123456/" + token + "/") << "the URL itself is sent as it is";
    auto errors = query(hub.db_path(), "SELECT error FROM attempts");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].at(0).rfind("POST " + sink.url("/hooks/catch/123456/[redacted]/") + ": HTTP 410", 0), 0u)
        << errors[0].at(0);
    EXPECT_EQ(hub.count("SELECT COUNT(*) FROM attempts WHERE error LIKE '%" + token + "%' OR exchanges LIKE '%" +
                        token + "%'"),
              0);
    auto jobs = http("GET", admin, "/api/jobs?integration=zap", "",
                     {{"Authorization", "Bearer " + vars["ADMIN_TOKEN"]}});
    ASSERT_EQ(jobs.status, 200) << jobs.body;
    EXPECT_NE(jobs.body.find("/hooks/catch/123456/[redacted]/"), std::string::npos) << jobs.body;
    long long id = hub.count("SELECT id FROM jobs");
    auto attempts = http("GET", admin, "/api/jobs/" + std::to_string(id), "",
                         {{"Authorization", "Bearer " + vars["ADMIN_TOKEN"]}});
    ASSERT_EQ(attempts.status, 200) << attempts.body;
    EXPECT_NE(attempts.body.find("/hooks/catch/123456/[redacted]/"), std::string::npos) << attempts.body;
    for (auto &body : {jobs.body, attempts.body}) EXPECT_EQ(body.find(token), std::string::npos) << body;
    hub.stop();
    EXPECT_EQ(hub.log().find(token), std::string::npos) << hub.log();
  }
}

TEST(Delivery, BadRequestsAreRefusedAndStoreNothing) {
  Sink sink;
  HubProcess hub("refuse", config(sink.url()), env());
  hub.start();
  auto wrong = hub.post("/hooks/thrivecart", order_success("not-the-secret"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_NE(wrong.body.find("error"), std::string::npos);
  auto malformed = hub.post("/hooks/thrivecart", "{\"event\": \"order.success\", ", "application/json");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(malformed.body.find("error"), std::string::npos) << malformed.body;
  EXPECT_EQ(hub.post("/hooks/nowhere", order_success()).status, 404);
  // A source id that is no UTF-8 is answered too, its bytes shown as U+FFFD.
  auto bytes = hub.post("/hooks/%FF", order_success());
  EXPECT_EQ(bytes.status, 404);
  EXPECT_NE(bytes.body.find("no source '\xEF\xBF\xBD' is configured"), std::string::npos) << bytes.body;
  EXPECT_EQ(hub.post("/hooks/thrivecart", std::string(2 * 1024 * 1024, 'x')).status, 413);
  // ThriveCart's setup checks: HEAD and a bare POST both get a 2xx, and record nothing.
  EXPECT_EQ(http("HEAD", hub.port(), "/hooks/thrivecart").status, 200);
  EXPECT_EQ(hub.post("/hooks/thrivecart", "").status, 200);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events"), 0);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs"), 0);
  EXPECT_EQ(hub.log().find("not-the-secret"), std::string::npos);
  EXPECT_EQ(http("GET", hub.port(), "/readyz").status, 200);
  // A user whose cart has the wrong secret finds why in the log; the malformed post that followed
  // within 10 s is counted in the next line about that source, not written.
  std::string log = hub.log();
  std::string refused = "source 'thrivecart': refused a webhook with 401: ";
  EXPECT_NE(log.find(refused), std::string::npos) << log;
  EXPECT_EQ(log.find("refused a webhook with 400"), std::string::npos) << log;
  EXPECT_NE(log.find("source 'nowhere': refused a webhook with 404: no source 'nowhere' is configured"),
            std::string::npos)
      << log;
  // A path's text reaches the log without its terminal escapes.
  EXPECT_EQ(hub.post("/hooks/%1b%5b31mred%1b%5b0m%07", order_success()).status, 404);
  ASSERT_TRUE(eventually([&] { return hub.log().find("?[31mred?[0m?") != std::string::npos; })) << hub.log();
  EXPECT_EQ(hub.log().find('\x1b'), std::string::npos);
  EXPECT_EQ(hub.log().find('\x07'), std::string::npos);
}

TEST(Delivery, SinkDownRetriesThenDeliversWhenItComesBack) {
  unsigned short port = free_port();
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/notify";
  HubProcess hub("retry", config(url), env());
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", order_success()).status, 200);
  // Every job fails at least twice against the closed port, and stays queued.
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT MIN(attempts) FROM jobs") >= 2; })) << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'queued'"), 3);
  EXPECT_GE(hub.count("SELECT COUNT(*) FROM attempts WHERE outcome = 'retryable'"), 6);
  Sink sink(port);
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 3; }))
      << hub.log();
  std::this_thread::sleep_for(kRepeatWindow);
  EXPECT_EQ(sink.count(), 3u);
  // The webhook-id of a message stays the same across its retries; each job has its own.
  std::set<std::string> ids;
  for (auto &r : sink.requests()) ids.insert(r.headers["webhook-id"]);
  EXPECT_EQ(ids.size(), 3u);
}

TEST(Delivery, KillNineAfterAcceptLosesNothing) {
  unsigned short port = free_port();
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/notify";
  HubProcess hub("crash", config(url), env());
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", order_success()).status, 200);
  hub.kill9();
  Sink sink(port);
  hub.start();
  ASSERT_TRUE(sink.wait_for(3)) << hub.log();
  ASSERT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'") == 3; }));
  std::this_thread::sleep_for(kRepeatWindow);
  EXPECT_EQ(sink.count(), 3u);  // exactly once each
  EXPECT_EQ(types_of(sink.requests()),
            (std::multiset<std::string>{"order.completed", "product.purchased", "product.purchased"}));
}

TEST(Delivery, AReloadWhileJobsWaitForAWorkerRunsEachOnce) {
  Sink sink;
  // A slow endpoint: the jobs of the orders below wait for the two workers
  // when the reload stops the runner they were handed to.
  sink.respond_with(one_at_a_time(std::chrono::milliseconds(60)));
  HubProcess hub("reload-handed-over", config(sink.url()), env());
  hub.start();
  constexpr int kOrders = 10;  // 3 jobs each
  for (int i = 0; i < kOrders; ++i)
    ASSERT_EQ(hub.post("/hooks/thrivecart", order_success(kTcSecret, std::to_string(7000 + i))).status, 200);
  ASSERT_LT(sink.count(), 3u * kOrders);
  hub.hangup();
  ASSERT_TRUE(eventually([&] { return hub.log().find("reloaded") != std::string::npos; })) << hub.log();
  expect_each_job_ran_once(hub, sink, 3 * kOrders);
}

TEST(Delivery, JobsThatWaitBehindSlowAttemptsPastHalfTheirLeaseRunOnce) {
  Sink sink;
  // Every request takes 200 ms, one at a time: the batches the two workers
  // take (24 jobs, ~4.8 s) would outlast the 2 s lease, and a claim would run
  // their last jobs a second time if they were not put back in the queue
  // first. The half of the lease left when an attempt starts (1 s) is ample
  // for one attempt, even on a loaded machine.
  sink.respond_with(one_at_a_time(std::chrono::milliseconds(200)));
  HubProcess hub("lease-half", config(sink.url(), "runner:\n  workers: 2\n  poll_interval: 100ms\n  lease: 2s\n"), env());
  hub.start();
  constexpr int kOrders = 8;  // 3 jobs each
  for (int i = 0; i < kOrders; ++i)
    ASSERT_EQ(hub.post("/hooks/thrivecart", order_success(kTcSecret, std::to_string(7100 + i))).status, 200);
  expect_each_job_ran_once(hub, sink, 3 * kOrders);
}

TEST(Delivery, DeadJobRaisesHubJobDeadForItsOwnRule) {
  Sink sink;
  sink.respond_with([](const Recorded &r) {
    return r.uri == "/broken" ? Reply{503, R"({"error":"down"})", {}} : Reply{};
  });
  std::string cfg =
      "runner:\n  workers: 2\n  poll_interval: 100ms\n  retry: {initial_delay: 100ms, max_delay: 200ms, max_attempts: 3}\n"
      "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: \"${TC_SECRET}\"}\n"
      "integrations:\n"
      "  broken:\n    connector: notifyurl\n    settings: {url: \"" + sink.url("/broken") + "\"}\n"
      "  alerts:\n    connector: notifyurl\n    settings: {url: \"" + sink.url("/alerts") + "\"}\n"
      "rules:\n"
      "  - {name: order-out, on: order.completed, do: broken.post}\n"
      "  - {name: alert, on: hub.job.dead, do: alerts.post}\n";
  unsigned short admin = free_port();
  auto vars = env();
  vars["ADMIN_TOKEN"] = "dead-job-admin-token-0123";
  HubProcess hub("dead", cfg + "admin:\n  listen: 127.0.0.1:" + std::to_string(admin) + "\n  token: \"${ADMIN_TOKEN}\"\n",
                 vars);
  hub.start();
  ASSERT_EQ(hub.post("/hooks/thrivecart", order_success()).status, 200);
  ASSERT_TRUE(eventually([&] {
    for (auto &r : sink.requests())
      if (r.uri == "/alerts") return true;
    return false;
  })) << hub.log();
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM jobs WHERE rule = 'order-out' AND state = 'dead' AND attempts = 3"), 1);
  for (auto &r : sink.requests()) {
    if (r.uri != "/alerts") continue;
    Json body = Json::parse(r.body);
    EXPECT_EQ(body["type"], "hub.job.dead");
    EXPECT_EQ(body["data"]["job"]["rule"], "order-out");
    EXPECT_EQ(body["data"]["job"]["attempts"], 3);
    EXPECT_EQ(body["data"]["customer"]["email"], "ann@example.com");
  }
  // Replayed, it dies again (its 4th attempt, past max_attempts): a second alert.
  long long id = hub.count("SELECT id FROM jobs WHERE rule = 'order-out'");
  auto replay = http("POST", admin, "/api/jobs/" + std::to_string(id) + "/replay", "{}",
                     {{"Authorization", "Bearer " + vars["ADMIN_TOKEN"]}, {"Content-Type", "application/json"}});
  ASSERT_EQ(replay.status, 200) << replay.body;
  auto alerts = [&] {
    std::vector<Json> out;
    for (auto &r : sink.requests())
      if (r.uri == "/alerts") out.push_back(Json::parse(r.body));
    return out;
  };
  ASSERT_TRUE(eventually([&] { return alerts().size() == 2; })) << hub.log();
  EXPECT_EQ(alerts()[1]["data"]["job"]["attempts"], 4);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE type = 'hub.job.dead'"), 2);
}

TEST(Delivery, TheFourthFailedChargeInARowMakesTheSubscriptionDelinquent) {
  Sink sink;
  HubProcess hub("delinquent",
                 "runner:\n  workers: 2\n  poll_interval: 100ms\n"
                 "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: \"${TC_SECRET}\", account: acme}\n"
                 "integrations:\n  hook:\n    connector: notifyurl\n"
                 "    settings: {url: \"" + sink.url() + "\", secret: \"${HOOK_SECRET}\"}\n"
                 "rules:\n  - {name: dunning, on: subscription.delinquent, do: hook.post}\n",
                 env());
  hub.start();
  const thrivecart::Item membership{"product", "12", "Membership", 2900};
  auto failed = [&](int day) {
    return hub.post("/hooks/thrivecart",
                    thrivecart::rebill_failed(kTcSecret, "9100", std::to_string(1771149600 + day * 86400), membership))
        .status;
  };
  auto delinquent = [&] { return hub.count("SELECT COUNT(*) FROM events WHERE type = 'subscription.delinquent'"); };
  for (int day = 0; day < 3; ++day) ASSERT_EQ(failed(day), 200);
  EXPECT_EQ(delinquent(), 0) << "three failures are not yet delinquency";
  ASSERT_EQ(failed(3), 200);
  EXPECT_EQ(delinquent(), 1);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events WHERE type = 'subscription.delinquent' AND dedupe_key = "
                      "'hub:delinquent:tc:acme:rebill_failed:sub_9100:1771408800' AND json_extract(body, "
                      "'$.derived_from.reason') = '4 failed charges in a row' AND json_extract(body, "
                      "'$.subscription.id') = 'sub_9100'"),
            1);
  ASSERT_EQ(failed(3), 200);  // the cart re-delivers the fourth failure
  ASSERT_EQ(failed(4), 200);  // a fifth: still the same delinquency
  EXPECT_EQ(delinquent(), 1);
  ASSERT_TRUE(eventually([&] { return sink.requests().size() == 1; })) << hub.log();
  EXPECT_EQ(Json::parse(sink.requests()[0].body)["type"], "subscription.delinquent");
  // A successful charge ends the run; four more failures make it delinquent again.
  ASSERT_EQ(hub.post("/hooks/thrivecart", thrivecart::rebill(kTcSecret, "9100", "000000009", membership)).status, 200);
  for (int day = 10; day < 13; ++day) ASSERT_EQ(failed(day), 200);
  EXPECT_EQ(delinquent(), 1);
  ASSERT_EQ(failed(13), 200);
  EXPECT_EQ(delinquent(), 2);
}
