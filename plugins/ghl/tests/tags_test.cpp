// add_tags / remove_tags: always the tag endpoints, never the contact's tag array.
#include "support.hpp"

namespace ghl_test {
namespace {

class Tags : public GhlTest {
 protected:
  std::string tags_path = std::string("/contacts/") + kContact + "/tags";
  std::string lookup_path = std::string("/contacts/search/duplicate?locationId=") + kLocation + "&email=ann%40example.com";
};

TEST_F(Tags, AddUpsertsThenPostsTheNames) {
  remote.on("POST /contacts/upsert", upserted());
  remote.on("POST " + tags_path, answer(201, {{"tags", {"vip", "upsell-13", "coaching"}}}));
  Result r = run("add_tags", {{"tags", {"upsell-13", "coaching", "upsell-13", " "}}});
  ASSERT_TRUE(r.is_ok()) << r.message;
  ASSERT_EQ(requests().size(), 2u);
  EXPECT_EQ(requests()[0].url, url("/contacts/upsert"));
  EXPECT_FALSE(body(0).contains("tags"));
  EXPECT_EQ(requests()[1].method, "POST");
  EXPECT_EQ(requests()[1].url, url(tags_path));
  expect_headers(requests()[1], true);
  EXPECT_EQ(body(1), (Json{{"tags", {"upsell-13", "coaching"}}}));
  EXPECT_EQ(r.data["contact_id"], kContact);
  EXPECT_EQ(r.data["tags"], (Json{"vip", "upsell-13", "coaching"}));
}

TEST_F(Tags, ACommaSeparatedStringIsAList) {
  remote.on("POST /contacts/upsert", upserted());
  remote.on("POST " + tags_path, answer(201, {{"tags", {"a", "b c"}}}));
  ASSERT_TRUE(run("add_tags", {{"tags", "a,  b c ,"}}).is_ok());
  EXPECT_EQ(body(1), (Json{{"tags", {"a", "b c"}}}));
}

TEST_F(Tags, RemoveLooksTheContactUpAndDeletesWithABody) {
  remote.on("GET " + lookup_path, answer(200, {{"contact", {{"id", kContact}, {"email", "ann@example.com"}}}}));
  remote.on("DELETE " + tags_path, answer(200, {{"tags", {"vip"}}}));
  Result r = run("remove_tags", {{"tags", "upsell-13"}});
  ASSERT_TRUE(r.is_ok()) << r.message;
  ASSERT_EQ(requests().size(), 2u);
  EXPECT_EQ(requests()[0].method, "GET");
  EXPECT_EQ(requests()[0].url, url(lookup_path));
  expect_headers(requests()[0], false);
  EXPECT_EQ(requests()[1].method, "DELETE");
  EXPECT_EQ(requests()[1].url, url(tags_path));
  expect_headers(requests()[1], true);
  EXPECT_EQ(body(1), (Json{{"tags", {"upsell-13"}}}));
}

TEST_F(Tags, RemoveWithoutAContactDoesNothing) {
  remote.on("GET " + lookup_path, answer(200, {{"contact", nullptr}}));
  Result r = run("remove_tags", {{"tags", "upsell-13"}});
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(requests().size(), 1u);
  EXPECT_EQ(r.data["skipped"], "no contact with this email");
}

TEST_F(Tags, TheEmailIsEncodedInTheLookup) {
  std::string path = std::string("/contacts/search/duplicate?locationId=") + kLocation + "&email=ann%2Btest%40example.com";
  remote.on("GET " + path, answer(200, {{"contact", nullptr}}));
  ASSERT_TRUE(run("remove_tags", {{"tags", "x"}, {"email", "ann+test@example.com"}}).is_ok());
  EXPECT_EQ(requests().at(0).url, url(path));
}

TEST_F(Tags, MissingOrEmptyTagsAreRefusedBeforeAnyCall) {
  for (const Json &params : {Json::object(), Json{{"tags", ""}}, Json{{"tags", Json::array()}}, Json{{"tags", 5}}}) {
    for (const char *action : {"add_tags", "remove_tags"}) {
      Result r = run(action, params);
      EXPECT_EQ(r.outcome, Outcome::permanent) << action << " " << params.dump();
      EXPECT_NE(r.message.find("'tags'"), std::string::npos) << r.message;
    }
  }
  EXPECT_TRUE(requests().empty());
}

TEST_F(Tags, AFailedUpsertStopsBeforeTheTags) {
  remote.on("POST /contacts/upsert", answer(422, {{"statusCode", 422}, {"message", {"email must be an email"}}}));
  Result r = run("add_tags", {{"tags", "x"}});
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("GoHighLevel POST /contacts/upsert: HTTP 422"), std::string::npos) << r.message;
  EXPECT_EQ(requests().size(), 1u);
}

}  // namespace
}  // namespace ghl_test
