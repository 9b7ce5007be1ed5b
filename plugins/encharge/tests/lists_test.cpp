// The tags and fields lists (REST API).
#include "support.hpp"

namespace encharge_test {
namespace {

TEST_F(EnchargeTest, TagsListComesFromTagsManagement) {
  harness.on_http([](const HttpRequest &) {
    return answer(200, R"({"tags":[{"tag":"buyer","color":"#f00","count":12,"createdAt":"2025-01-01T00:00:00Z"},
                                    {"tag":"vip","count":0},{"color":"#000"}]})");
  });
  auto c = harness.create(settings_with_api_key());
  Result r = c.list("tags");
  ASSERT_TRUE(r.is_ok()) << r.message;
  ASSERT_EQ(harness.requests().size(), 1u);
  const HttpRequest &req = harness.requests()[0];
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.url, std::string(kApi) + "/tags-management");
  EXPECT_EQ(req.headers.at("x-encharge-token"), kApiKey);
  EXPECT_TRUE(req.body.empty());
  EXPECT_EQ(r.data["items"], (Json::parse(R"([{"id":"buyer","name":"buyer","count":12},
                                              {"id":"vip","name":"vip","count":0}])")));
}

TEST_F(EnchargeTest, FieldsListIsKeyedByApiName) {
  harness.on_http([](const HttpRequest &) {
    return answer(200, R"({"items":[
      {"name":"email","title":"Email","type":"string","format":"email","readOnly":false},
      {"name":"companySize","title":"Company size","type":"string"},
      {"name":"seats","title":"Seats","type":"number","readOnly":true}]})");
  });
  auto c = harness.create(settings_with_api_key());
  Result r = c.list("fields");
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(harness.requests().at(0).url, std::string(kApi) + "/fields");
  EXPECT_EQ(r.data["items"], (Json::parse(R"([
      {"id":"email","name":"email","title":"Email","type":"string","read_only":false},
      {"id":"companySize","name":"companySize","title":"Company size","type":"string"},
      {"id":"seats","name":"seats","title":"Seats","type":"number","read_only":true}])")));
}

TEST_F(EnchargeTest, ListsNeedTheApiKey) {
  auto c = harness.create(settings());
  Result r = c.list("tags");
  EXPECT_EQ(r.outcome, Outcome::config);
  EXPECT_NE(r.message.find("api_key"), std::string::npos);
  EXPECT_EQ(c.list("fields").outcome, Outcome::config);
  EXPECT_TRUE(harness.requests().empty());
}

TEST_F(EnchargeTest, ListErrorsAreClassified) {
  answer_all(harness, answer(401, R"({"error":"Unauthorized"})"));
  auto c = harness.create(settings_with_api_key());
  Result r = c.list("fields");
  EXPECT_EQ(r.outcome, Outcome::config);
  EXPECT_NE(r.message.find("Encharge GET /v1/fields: HTTP 401"), std::string::npos) << r.message;
  EXPECT_EQ(r.message.find(kApiKey), std::string::npos);
  answer_all(harness, answer(502, "bad gateway"));
  EXPECT_EQ(c.list("tags").outcome, Outcome::retryable);
}

TEST_F(EnchargeTest, EmptyOrOddListBodiesGiveEmptyLists) {
  answer_all(harness, answer(200, R"({"tags":null})"));
  auto c = harness.create(settings_with_api_key());
  Result r = c.list("tags");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r.data["items"], Json::array());
}

}  // namespace
}  // namespace encharge_test
