// upsert_person and add_tag (Ingest "identify"), remove_tag (REST DELETE /tags).
#include "support.hpp"

namespace encharge_test {
namespace {

TEST_F(EnchargeTest, UpsertPersonSendsIdentifyWithFieldsAndTags) {
  answer_all(harness, answer(200));
  auto c = harness.create(settings());
  Result r = c.action("upsert_person", {{"tags", "customer"}}, tc_purchase(), {{"id", 1}, {"attempt", 1}},
                      {{"company", "Acme"}});
  ASSERT_TRUE(r.is_ok()) << r.message;
  ASSERT_EQ(harness.requests().size(), 1u);
  const HttpRequest &req = harness.requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, std::string(kIngest) + "/");
  EXPECT_EQ(req.headers.at("x-encharge-token"), kWriteKey);
  EXPECT_EQ(body_of(req), (Json{{"name", "identify"},
                                {"user", {{"email", "ann@example.com"}, {"firstName", "Ann"}, {"lastName", "Lee"},
                                          {"company", "Acme"}, {"tags", "customer"}}}}))
      << req.body;
  EXPECT_EQ(r.data["name"], "identify");
}

TEST_F(EnchargeTest, UpsertPersonWithoutTagsSendsNoTagsKey) {
  answer_all(harness, answer(200));
  auto c = harness.create(settings());
  ASSERT_TRUE(c.action("upsert_person", Json::object(), tc_order()).is_ok());
  Json body = body_of(harness.requests().at(0));
  EXPECT_FALSE(body["user"].contains("tags"));
  EXPECT_FALSE(body.contains("properties"));
}

TEST_F(EnchargeTest, AddTagIsAnIdentifyThatOnlyAdds) {
  answer_all(harness, answer(200));
  auto c = harness.create(settings());
  ASSERT_TRUE(c.action("add_tag", {{"tags", {"buyer", "course-a"}}}, tc_purchase()).is_ok());
  Json body = body_of(harness.requests().at(0));
  EXPECT_EQ(body["name"], "identify");
  EXPECT_EQ(body["user"]["tags"], "buyer,course-a");
}

TEST_F(EnchargeTest, AddTagWithoutAnyTagIsRefused) {
  auto c = harness.create(settings());
  Result r = c.action("add_tag", {{"tags", " , "}}, tc_purchase());
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("names no tag"), std::string::npos) << r.message;
  EXPECT_TRUE(harness.requests().empty());
}

TEST_F(EnchargeTest, RemoveTagCallsRestDeleteWithTheApiKey) {
  answer_all(harness, answer(204, ""));
  auto c = harness.create(settings_with_api_key());
  Result r = c.action("remove_tag", {{"tags", "trial, lead"}}, tc_purchase());
  ASSERT_TRUE(r.is_ok()) << r.message;
  ASSERT_EQ(harness.requests().size(), 1u);
  const HttpRequest &req = harness.requests()[0];
  EXPECT_EQ(req.method, "DELETE");
  EXPECT_EQ(req.url, std::string(kApi) + "/tags");
  EXPECT_EQ(req.headers.at("x-encharge-token"), kApiKey);
  EXPECT_EQ(req.headers.at("content-type"), "application/json");
  EXPECT_EQ(body_of(req), (Json{{"tag", "trial,lead"}, {"email", "ann@example.com"}}));
  EXPECT_EQ(r.data["removed"], "trial,lead");
}

TEST_F(EnchargeTest, RemoveTagWithoutApiKeyIsAConfigProblem) {
  auto c = harness.create(settings());
  Result r = c.action("remove_tag", {{"tags", "trial"}}, tc_purchase());
  EXPECT_EQ(r.outcome, Outcome::config);
  EXPECT_NE(r.message.find("'api_key'"), std::string::npos) << r.message;
  EXPECT_TRUE(harness.requests().empty());
}

TEST_F(EnchargeTest, RemoveTagForAnUnknownPersonIsPermanent) {
  answer_all(harness, answer(404, R"({"error":"Person not found."})"));
  auto c = harness.create(settings_with_api_key());
  Result r = c.action("remove_tag", {{"tags", "trial"}}, tc_purchase());
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("Encharge DELETE /v1/tags: HTTP 404"), std::string::npos) << r.message;
}

TEST_F(EnchargeTest, RestCallsUseTheDefaultApiBase) {
  answer_all(harness, answer(204, ""));
  auto c = harness.create({{"write_key", kWriteKey}, {"api_key", kApiKey}});
  ASSERT_TRUE(c.action("remove_tag", {{"tags", "trial"}}, tc_purchase()).is_ok());
  EXPECT_EQ(harness.requests().at(0).url, "https://api.encharge.io/v1/tags");
}

}  // namespace
}  // namespace encharge_test
