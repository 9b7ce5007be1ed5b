// enroll_bundle / expire_bundle.
#include "support.hpp"

using namespace thinkific_test;

namespace {

const std::string kBundleEnrollments = "GET /bundles/7/enrollments?query%5Buser_id%5D=501&page=1&limit=250";

Json bundle7() {
  return {{"id", 7}, {"name", "Widget Mastery Bundle"}, {"description", ""}, {"tagline", nullptr},
          {"banner_image_url", nullptr}, {"course_ids", {42, 43}}, {"bundle_card_image_url", nullptr}};
}

}  // namespace

TEST(ThinkificBundle, EnrolsActivatedNow) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page({user()})))
      .on(kBundleEnrollments, reply(200, page(Json::array())))
      .on("POST /bundles/7/enrollments", reply(201));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("enroll_bundle", {{"bundle_id", 7}}, event(), job());
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["enrollment"], "created");
  ASSERT_EQ(harness.requests().size(), 3u);
  EXPECT_EQ(harness.requests()[1].url, std::string(kBase) + "/bundles/7/enrollments?query%5Buser_id%5D=501&page=1&limit=250");
  EXPECT_EQ(harness.requests()[2].method, "POST");
  EXPECT_EQ(harness.requests()[2].url, std::string(kBase) + "/bundles/7/enrollments");
  EXPECT_EQ(Json::parse(harness.requests()[2].body), (Json{{"user_id", 501}, {"activated_at", kNow}}));
}

TEST(ThinkificBundle, AcceptedAsynchronouslyIsSuccess) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page({user()})))
      .on(kBundleEnrollments, reply(200, page(Json::array())))
      .on("POST /bundles/7/enrollments", reply(202));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("enroll_bundle", {{"bundle_id", "7"}}, event(), job());
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["enrollment"], "accepted");
}

TEST(ThinkificBundle, ExistingActiveIsANoOpAndExpiredIsReactivated) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page({user()})))
      .on(kBundleEnrollments, reply(200, page({enrollment(1, 501, 42), enrollment(2, 501, 43)})))
      .on(kBundleEnrollments, reply(200, page({enrollment(1, 501, 42, true), enrollment(2, 501, 43, true)})))
      .on("GET /bundles/7", reply(200, bundle7()))
      .on("PUT /bundles/7/enrollments", reply(204));
  auto thinkific = harness.create(key_settings());
  Result first = thinkific.action("enroll_bundle", {{"bundle_id", 7}}, event(), job());
  ASSERT_TRUE(first.is_ok()) << first.message;
  EXPECT_EQ(first.data["enrollment"], "already active");
  EXPECT_EQ(harness.requests().size(), 3u);
  Result second = thinkific.action("enroll_bundle", {{"bundle_id", 7}}, event(), job());
  ASSERT_TRUE(second.is_ok()) << second.message;
  EXPECT_EQ(second.data["enrollment"], "reactivated");
  ASSERT_EQ(harness.requests().size(), 7u);
  EXPECT_EQ(harness.requests()[6].method, "PUT");
  EXPECT_EQ(Json::parse(harness.requests()[6].body),
            (Json{{"user_id", 501}, {"activated_at", kNow}, {"expiry_date", "2099-12-31T23:59:59Z"}}));
}

// The bundle's list may show a course the user bought on its own: that one
// course is not the bundle, and the enrolment still gives the others.
TEST(ThinkificBundle, ACourseBoughtAloneIsNotTheWholeBundle) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page({user()})))
      .on(kBundleEnrollments, reply(200, page({enrollment(1, 501, 42)})))
      .on("GET /bundles/7", reply(200, bundle7()))
      .on("POST /bundles/7/enrollments", reply(201));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("enroll_bundle", {{"bundle_id", 7}}, event(), job());
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["enrollment"], "created");
  ASSERT_EQ(harness.requests().size(), 4u);
  EXPECT_EQ(harness.requests()[2].url, std::string(kBase) + "/bundles/7");
  EXPECT_EQ(harness.requests()[3].method, "POST");
  EXPECT_EQ(Json::parse(harness.requests()[3].body), (Json{{"user_id", 501}, {"activated_at", kNow}}));
}

TEST(ThinkificBundle, ExpireUpdatesTheBundleEnrollmentToNow) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page({user()})))
      .on(kBundleEnrollments, reply(200, page({enrollment(1, 501, 42), enrollment(2, 501, 43)})))
      .on("PUT /bundles/7/enrollments", reply(204));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("expire_bundle", {{"bundle_id", 7}}, event(), job());
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["expired"], true);
  ASSERT_EQ(harness.requests().size(), 3u);
  EXPECT_EQ(harness.requests()[2].method, "PUT");
  EXPECT_EQ(harness.requests()[2].url, std::string(kBase) + "/bundles/7/enrollments");
  EXPECT_EQ(Json::parse(harness.requests()[2].body), (Json{{"user_id", 501}, {"expiry_date", kNow}}));
}

TEST(ThinkificBundle, ExpireWithoutEnrollmentDoesNothing) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page({user()}))).on(kBundleEnrollments, reply(200, page(Json::array())));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("expire_bundle", {{"bundle_id", 7}}, event(), job());
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["reason"], "not enrolled in the bundle");
  EXPECT_EQ(harness.requests().size(), 2u);
}

TEST(ThinkificBundle, UnknownBundleIsPermanent) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page({user()})))
      .on("GET /bundles/99/enrollments?query%5Buser_id%5D=501&page=1&limit=250", reply(404, {{"error", "Record not found."}}));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("enroll_bundle", {{"bundle_id", 99}}, event(), job());
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("HTTP 404"), std::string::npos) << r.message;
  EXPECT_EQ(harness.requests().size(), 2u);
}
