// Resource lists, every page.
#include "support.hpp"

using namespace thinkific_test;

TEST(ThinkificLists, CoursesFollowEveryPage) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on("GET /courses?page=1&limit=250",
            reply(200, page({{{"id", 1}, {"name", "Intro"}, {"slug", "intro"}, {"product_id", 11}}}, 1, 3, 3)))
      .on("GET /courses?page=2&limit=250", reply(200, page({{{"id", 42}, {"name", "Widgets"}, {"product_id", 52}}}, 2, 3, 3)))
      .on("GET /courses?page=3&limit=250", reply(200, page({{{"id", 43}, {"name", "Gadgets"}}}, 3, 3, 3)));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.list("courses");
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["items"], (Json{{{"id", "1"}, {"name", "Intro"}, {"key", "intro"}, {"product_id", "11"}},
                                   {{"id", "42"}, {"name", "Widgets"}, {"product_id", "52"}},
                                   {{"id", "43"}, {"name", "Gadgets"}}}));
  EXPECT_EQ(harness.requests().size(), 3u);
}

TEST(ThinkificLists, BundlesAreTheBundleProductsKeyedByBundleId) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on("GET /products?page=1&limit=250",
            reply(200, page({{{"id", 1001}, {"productable_type", "Course"}, {"productable_id", 1}, {"name", "Intro"}},
                             {{"id", 2007}, {"productable_type", "Bundle"}, {"productable_id", 7}, {"name", "Mastery"},
                              {"status", "published"}}},
                            1, 2, 3)))
      .on("GET /products?page=2&limit=250",
          reply(200, page({{{"id", 2008}, {"productable_type", "Bundle"}, {"productable_id", 8.0}, {"name", "Gadgets"},
                            {"status", "draft"}}},
                          2, 2, 3)));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.list("bundles");
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["items"],
            (Json{{{"id", "7"}, {"name", "Mastery"}, {"product_id", "2007"}, {"status", "published"}},
                  {{"id", "8"}, {"name", "Gadgets"}, {"product_id", "2008"}, {"status", "draft"}}}));
}

TEST(ThinkificLists, CustomProfileFieldsCarryTheirType) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on("GET /custom_profile_field_definitions?page=1&limit=250",
            reply(200, page({{{"id", 1}, {"label", "Company Name"}, {"field_type", "text"}, {"required", false}},
                             {{"id", 2}, {"label", "Country"}, {"field_type", "country"}, {"required", true}}})));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.list("custom_profile_fields");
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["items"],
            (Json{{{"id", "1"}, {"name", "Company Name"}, {"key", "company_name"}, {"type", "text"}, {"required", false}},
                  {{"id", "2"}, {"name", "Country"}, {"key", "country"}, {"type", "country"}, {"required", true}}}));
}

TEST(ThinkificLists, ANumberNoIntegerHoldsIsNoIdAndNoNextPage) {
  // Casting such a number to an integer was undefined; the list is the page fetched, the id the number's text.
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on("GET /courses?page=1&limit=250",
            reply(200, {{"items", {{{"id", 1e300}, {"name", "Huge"}}, {{"id", 42}, {"name", "Widgets"}}}},
                        {"meta", {{"pagination", {{"current_page", 1}, {"next_page", 1e300}}}}}}));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.list("courses");
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["items"], (Json{{{"id", "1e+300"}, {"name", "Huge"}}, {{"id", "42"}, {"name", "Widgets"}}}));
  EXPECT_EQ(harness.requests().size(), 1u);
}

TEST(ThinkificLists, AFailedPageFailsTheListAndUnknownListsAreRefused) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on("GET /courses?page=1&limit=250", reply(200, page({{{"id", 1}, {"name", "Intro"}}}, 1, 2, 2)))
      .on("GET /courses?page=2&limit=250", reply(503, {{"error", "down"}}));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.list("courses");
  EXPECT_EQ(r.outcome, Outcome::retryable);
  EXPECT_NE(r.message.find("Thinkific GET /courses: HTTP 503"), std::string::npos) << r.message;
  Result unknown = thinkific.list("lessons");
  EXPECT_EQ(unknown.outcome, Outcome::permanent);
  EXPECT_NE(unknown.message.find("no list 'lessons'"), std::string::npos);
}
