// The integration's field mapping → Thinkific custom profile fields (text only).
#include "support.hpp"

using namespace thinkific_test;

namespace {

const char *kDefinitions = "GET /custom_profile_field_definitions?page=1&limit=250";

Json definitions() {
  return page({{{"id", 1}, {"label", "Company"}, {"field_type", "text"}, {"required", false}},
               {{"id", 2}, {"label", "Country"}, {"field_type", "country"}, {"required", false}},
               {{"id", 3}, {"label", "Job title"}, {"field_type", "text"}, {"required", true}}});
}

}  // namespace

TEST(ThinkificFields, MappedFieldsGoOnTheNewUserByIdKeyOrLabel) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kDefinitions, reply(200, definitions()))
      .on(kUsersByEmail, reply(200, page(Json::array())))
      .on("POST /users", reply(201, user()));
  auto thinkific = harness.create(key_settings());
  Json fields = {{"company", "Acme"}, {"3", 42}};
  Result r = thinkific.action("upsert_user", Json::object(), event(), job(), fields);
  ASSERT_TRUE(r.is_ok()) << r.message;
  ASSERT_EQ(harness.requests().size(), 3u);
  EXPECT_EQ(harness.requests()[0].url, std::string(kBase) + "/custom_profile_field_definitions?page=1&limit=250");
  Json body = Json::parse(harness.requests()[2].body);
  EXPECT_EQ(body["custom_profile_fields"],
            (Json{{{"custom_profile_field_definition_id", 3}, {"value", "42"}},
                  {{"custom_profile_field_definition_id", 1}, {"value", "Acme"}}}));
  EXPECT_EQ(body["send_welcome_email"], true);

  // Labels in any case, and the definitions are not fetched again for a while.
  harness.clear_requests();
  Result again = thinkific.action("upsert_user", Json::object(), event(), job(), {{"Job Title", "CTO"}});
  ASSERT_TRUE(again.is_ok()) << again.message;
  ASSERT_EQ(harness.requests().size(), 2u);
  EXPECT_EQ(Json::parse(harness.requests()[1].body)["custom_profile_fields"],
            (Json{{{"custom_profile_field_definition_id", 3}, {"value", "CTO"}}}));
}

TEST(ThinkificFields, NonTextFieldIsRefusedWithAClearError) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kDefinitions, reply(200, definitions()));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("enroll_course", {{"course_id", 42}}, event(), job(), {{"Country", "US"}});
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_EQ(r.message, "thinkific: custom profile field 'Country' is a country field; only text fields can be mapped");
  EXPECT_EQ(harness.requests().size(), 1u);  // nothing written
}

TEST(ThinkificFields, UnknownFieldIsRefusedAfterARefetch) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kDefinitions, reply(200, definitions()));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("upsert_user", Json::object(), event(), job(), {{"Shoe size", "44"}});
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("'Shoe size', which is not a custom profile field"), std::string::npos) << r.message;
  EXPECT_EQ(harness.requests().size(), 2u);  // cached copy, then a fresh one
}

TEST(ThinkificFields, ExistingUserGetsOnlyChangedFields) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  Json current = {{{"id", 70}, {"label", "Company"}, {"value", "Acme"}, {"custom_profile_field_definition_id", 1}},
                  {{"id", 71}, {"label", "Job title"}, {"value", "CEO"}, {"custom_profile_field_definition_id", 3}}};
  remote.on(kDefinitions, reply(200, definitions()))
      .on(kUsersByEmail, reply(200, page({user(501, "ann@example.com", current)})))
      .on("PUT /users/501", reply(204));
  auto thinkific = harness.create(key_settings());
  Result same = thinkific.action("upsert_user", Json::object(), event(), job(), {{"Company", "Acme"}});
  ASSERT_TRUE(same.is_ok()) << same.message;
  EXPECT_EQ(harness.requests().size(), 2u);  // nothing to update

  Result changed = thinkific.action("upsert_user", Json::object(), event(), job(), {{"Company", "Acme"}, {"3", "CTO"}});
  ASSERT_TRUE(changed.is_ok()) << changed.message;
  ASSERT_EQ(harness.requests().size(), 4u);
  EXPECT_EQ(harness.requests()[3].method, "PUT");
  EXPECT_EQ(harness.requests()[3].url, std::string(kBase) + "/users/501");
  EXPECT_EQ(Json::parse(harness.requests()[3].body),
            (Json{{"custom_profile_fields", {{{"custom_profile_field_definition_id", 3}, {"value", "CTO"}}}}}));
}

TEST(ThinkificFields, NoMappingMeansNoDefinitionsRequest) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page({user()})));
  auto thinkific = harness.create(key_settings());
  ASSERT_TRUE(thinkific.action("upsert_user", Json::object(), event(), job()).is_ok());
  EXPECT_EQ(harness.requests().size(), 1u);
}
