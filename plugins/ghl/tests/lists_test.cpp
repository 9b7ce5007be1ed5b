// Resource lists: tags, custom_fields, workflows, campaigns.
#include "support.hpp"

namespace ghl_test {
namespace {

class Lists : public GhlTest {};

TEST_F(Lists, TagsAreNamedByTheirNames) {
  remote.on(std::string("GET /locations/") + kLocation + "/tags",
            answer(200, {{"tags", {{{"id", "flGwEuzsfJOia1i1ikRN"}, {"name", "buyer"}, {"locationId", kLocation}},
                                   {{"id", "k2JtYb8HcW3nQ0pLxV1m"}, {"name", "vip"}}}}}));
  Result r = ghl.list("tags");
  ASSERT_TRUE(r.is_ok()) << r.message;
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(requests()[0].method, "GET");
  EXPECT_EQ(requests()[0].url, url(std::string("/locations/") + kLocation + "/tags"));
  expect_headers(requests()[0], false);
  EXPECT_EQ(r.data["items"], (Json{{{"id", "buyer"}, {"name", "buyer"}, {"tag_id", "flGwEuzsfJOia1i1ikRN"}},
                                   {{"id", "vip"}, {"name", "vip"}, {"tag_id", "k2JtYb8HcW3nQ0pLxV1m"}}}));
}

TEST_F(Lists, CustomFieldsCarryKeyAndType) {
  Json answer_body = contact_fields();
  answer_body["customFields"].push_back({{"id", "opp1"}, {"name", "Stage"}, {"fieldKey", "opportunity.stage"},
                                         {"dataType", "TEXT"}, {"model", "opportunity"}});
  remote.on(std::string("GET /locations/") + kLocation + "/customFields?model=contact", answer(200, answer_body));
  Result r = ghl.list("custom_fields");
  ASSERT_TRUE(r.is_ok()) << r.message;
  ASSERT_EQ(r.data["items"].size(), 4u);  // the opportunity field is left out
  EXPECT_EQ(r.data["items"][0], (Json{{"id", "MgobCB14YMVKuE4Ka8p1"}, {"name", "Company size"},
                                      {"key", "contact.company_size"}, {"type", "TEXT"}}));
  EXPECT_EQ(r.data["items"][2]["type"], "CHECKBOX");
}

TEST_F(Lists, Workflows) {
  remote.on(std::string("GET /workflows/?locationId=") + kLocation,
            answer(200, {{"workflows", {{{"id", "78559bb3-b920-461e-b010-7b2a2816d2a9"}, {"name", "Onboarding"},
                                         {"status", "published"}, {"version", 2}},
                                        {{"id", "w2"}, {"status", "draft"}}}}}));
  Result r = ghl.list("workflows");
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["items"], (Json{{{"id", "78559bb3-b920-461e-b010-7b2a2816d2a9"}, {"name", "Onboarding"},
                                    {"status", "published"}},
                                   {{"id", "w2"}, {"name", "w2"}, {"status", "draft"}}}));
}

TEST_F(Lists, Campaigns) {
  remote.on(std::string("GET /campaigns/?locationId=") + kLocation,
            answer(200, {{"campaigns", {{{"id", "c1"}, {"name", "Nurture"}, {"status", "published"}}}}}));
  Result r = ghl.list("campaigns");
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["items"], (Json{{{"id", "c1"}, {"name", "Nurture"}, {"status", "published"}}}));
}

TEST_F(Lists, AnAnswerWithoutTheListIsPermanent) {
  remote.on(std::string("GET /workflows/?locationId=") + kLocation, answer(200, {{"traceId", "x"}}));
  Result r = ghl.list("workflows");
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("no 'workflows' list"), std::string::npos) << r.message;
}

TEST_F(Lists, ListErrorsAreClassified) {
  remote.on(std::string("GET /campaigns/?locationId=") + kLocation, answer(401, {{"message", "Invalid JWT"}}));
  EXPECT_EQ(ghl.list("campaigns").outcome, Outcome::config);
}

TEST_F(Lists, UnknownList) {
  Result r = ghl.list("courses");
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("no list 'courses'"), std::string::npos);
  EXPECT_TRUE(requests().empty());
}

}  // namespace
}  // namespace ghl_test
