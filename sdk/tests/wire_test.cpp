#include <gtest/gtest.h>

#include <cartwire/sdk/connector.hpp>
#include <cartwire/sdk/webhook.hpp>

using namespace cartwire::sdk;

namespace {

const Json kRaw = {{"event", "order.success"}, {"order", {{"id", "77"}, {"total", "24900"}}}, {"note", "a \"quoted\" é"}};

WebhookReply order_of_three() {
  std::vector<Json> events;
  for (const char *type : {"order.completed", "product.purchased", "bump.purchased"})
    events.push_back({{"type", type}, {"dedupe_key", std::string("k:") + type}, {"raw", kRaw}, {"mode", "live"}});
  return WebhookReply::accept(std::move(events));
}

}  // namespace

TEST(WebhookReply, SharedRawCrossesOnceAndComesBackInEveryEvent) {
  WebhookReply reply = order_of_three();
  std::string wire = WebhookReply(reply).dump(true);
  Json parsed = Json::parse(wire);
  EXPECT_EQ(parsed["raw"], kRaw);
  for (auto &e : parsed["events"]) EXPECT_FALSE(e.contains("raw")) << e.dump();
  // One copy of the payload on the wire, not three.
  std::string needle = "a \\\"quoted\\\"";
  std::size_t copies = 0;
  for (auto at = wire.find(needle); at != std::string::npos; at = wire.find(needle, at + 1)) ++copies;
  EXPECT_EQ(copies, 1u);

  WebhookReply back = WebhookReply::from_json(std::move(parsed));
  ASSERT_EQ(back.events.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(back.events[i], reply.events[i]);
  EXPECT_EQ(back.status, 200);
  EXPECT_EQ(back.body, reply.body);
}

TEST(WebhookReply, ARawSetOnceCrossesOnceAndEachEventReadsIt) {
  auto reply = [] {
    WebhookReply r = order_of_three();
    for (auto &e : r.events) e.erase("raw");
    r.raw = kRaw;
    return r;
  };
  Json parsed = Json::parse(reply().dump(true));
  EXPECT_EQ(parsed["raw"], kRaw);
  for (auto &e : parsed["events"]) EXPECT_FALSE(e.contains("raw")) << e.dump();

  // A connector's test harness reads it back into each event.
  WebhookReply each = WebhookReply::from_json(Json(parsed));
  EXPECT_TRUE(each.raw.is_null());
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(each.events[i], order_of_three().events[i]);

  // The hub keeps it apart, to store it once.
  WebhookReply apart = WebhookReply::from_json(Json(parsed), /*keep_raw_shared=*/true);
  EXPECT_EQ(apart.raw, kRaw);
  for (auto &e : apart.events) EXPECT_FALSE(e.contains("raw"));

  // A hub that does not ask for a shared raw gets it in every event.
  Json old = Json::parse(reply().dump(false));
  EXPECT_FALSE(old.contains("raw"));
  for (auto &e : old["events"]) EXPECT_EQ(e["raw"], kRaw);
  EXPECT_EQ(reply().to_json()["raw"], kRaw);
}

TEST(WebhookReply, WithoutTheHubsRequestEveryEventKeepsItsRaw) {
  Json parsed = Json::parse(order_of_three().dump(false));
  EXPECT_FALSE(parsed.contains("raw"));
  for (auto &e : parsed["events"]) EXPECT_EQ(e["raw"], kRaw);
  // And it reads back as the SDK 1.1 encoding did.
  EXPECT_EQ(Json::parse(order_of_three().dump(false)), order_of_three().to_json());
}

TEST(WebhookReply, DifferentRawsAreNotShared) {
  WebhookReply reply = order_of_three();
  reply.events[2]["raw"]["order"]["id"] = "78";
  Json parsed = Json::parse(WebhookReply(reply).dump(true));
  EXPECT_FALSE(parsed.contains("raw"));
  WebhookReply back = WebhookReply::from_json(std::move(parsed));
  EXPECT_EQ(back.events[1]["raw"]["order"]["id"], "77");
  EXPECT_EQ(back.events[2]["raw"]["order"]["id"], "78");
}

TEST(WebhookReply, AnEventWithoutRawIsLeftWithoutOne) {
  WebhookReply reply = order_of_three();
  reply.events[1].erase("raw");
  Json parsed = Json::parse(WebhookReply(reply).dump(true));
  EXPECT_FALSE(parsed.contains("raw"));
  WebhookReply back = WebhookReply::from_json(std::move(parsed));
  EXPECT_FALSE(back.events[1].contains("raw"));
  EXPECT_EQ(back.events[0]["raw"], kRaw);
}

TEST(WebhookReply, RejectionsAndSingleEventsReadBack) {
  WebhookReply no = WebhookReply::reject(401, "bad \"secret\"");
  WebhookReply back = WebhookReply::from_json(Json::parse(std::move(no).dump(true)));
  EXPECT_EQ(back.status, 401);
  EXPECT_EQ(Json::parse(back.body)["error"], "bad \"secret\"");
  EXPECT_TRUE(back.events.empty());

  WebhookReply one = WebhookReply::accept({{{"type", "x"}, {"dedupe_key", "k"}, {"raw", kRaw}}});
  Json parsed = Json::parse(std::move(one).dump(true));
  EXPECT_EQ(parsed["events"][0]["raw"], kRaw);
}

TEST(WebhookRequest, TheHubAsksForASharedRaw) {
  WebhookRequest r;
  r.body = "{}";
  EXPECT_FALSE(r.to_json().contains("share_raw"));
  EXPECT_EQ(r.to_json(true)["share_raw"], true);
}

TEST(WebhookRequest, TheSourceCrossesTheSeamAndIsEmptyFromAnOlderHub) {
  WebhookRequest r;
  r.trigger = "webhook";
  r.source = "shop";
  r.body = "{}";
  EXPECT_EQ(WebhookRequest::from_json(r.to_json()).source, "shop");
  Json older = r.to_json();
  older.erase("source");
  EXPECT_EQ(WebhookRequest::from_json(older).source, "");
}

TEST(ActionRequest, DumpIsTheJsonOfTheRequestAndReadsBack) {
  ActionRequest r;
  r.action = "enroll \"course\"";
  r.params = {{"course_id", 42}, {"tags", {"a", "b"}}};
  r.event = {{"type", "product.purchased"}, {"raw", kRaw}, {"customer", {{"email", "ann@example.com"}}}};
  r.job = {{"id", 7}, {"attempt", 2}, {"idempotency_key", "job_7"}};
  r.fields = {{"company", "ACME"}};
  EXPECT_EQ(r.dump(), r.to_json().dump());
  EXPECT_EQ(r.dump(r.event.dump()), r.dump()) << "the event given as text";
  ActionRequest back = ActionRequest::from_json(Json::parse(r.dump()));
  EXPECT_EQ(back.action, r.action);
  EXPECT_EQ(back.params, r.params);
  EXPECT_EQ(back.event, r.event);
  EXPECT_EQ(back.job, r.job);
  EXPECT_EQ(back.fields, r.fields);
  const Json partial = {{"action", "post"}};
  ActionRequest sparse = ActionRequest::from_json(partial);
  EXPECT_EQ(sparse.action, "post");
  EXPECT_EQ(sparse.event, Json::object());
  EXPECT_EQ(sparse.fields, Json::object());
}
