// enroll_course / expire_course / upsert_user: the exact exchanges with Thinkific.
#include "support.hpp"

using namespace thinkific_test;

namespace {

const std::string kEnrollments =
    "GET /enrollments?query%5Buser_id%5D=501&query%5Bcourse_id%5D=42&page=1&limit=250";

}  // namespace

TEST(ThinkificCourse, NewCustomerIsCreatedWithWelcomeEmailAndEnrolledActivatedNow) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page(Json::array())))
      .on("POST /users", reply(201, user()))
      .on(kEnrollments, reply(200, page(Json::array())))
      .on("POST /enrollments", reply(201, enrollment(9001, 501, 42)));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("enroll_course", {{"course_id", 42}}, event(), job());
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["user_id"], 501);
  EXPECT_EQ(r.data["user_created"], true);
  EXPECT_EQ(r.data["enrollment_id"], 9001);
  EXPECT_EQ(r.data["enrollment"], "created");

  const auto &reqs = harness.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].url, std::string(kBase) + "/users?query%5Bemail%5D=ann%40example.com&page=1&limit=250");
  EXPECT_EQ(reqs[0].headers.at("content-type"), "application/json") << "on every request, GETs too";
  EXPECT_EQ(reqs[1].method, "POST");
  EXPECT_EQ(reqs[1].url, std::string(kBase) + "/users");
  EXPECT_EQ(reqs[1].headers.at("content-type"), "application/json");
  EXPECT_EQ(reqs[1].headers.at("x-auth-api-key"), "tk-secret-key-123");
  EXPECT_EQ(Json::parse(reqs[1].body), (Json{{"email", "ann@example.com"}, {"first_name", "Ann"},
                                             {"last_name", "Lee"}, {"send_welcome_email", true}}));
  EXPECT_EQ(reqs[2].url, std::string(kBase) + "/enrollments?query%5Buser_id%5D=501&query%5Bcourse_id%5D=42&page=1&limit=250");
  EXPECT_EQ(reqs[3].method, "POST");
  EXPECT_EQ(reqs[3].url, std::string(kBase) + "/enrollments");
  EXPECT_EQ(Json::parse(reqs[3].body), (Json{{"course_id", 42}, {"user_id", 501}, {"activated_at", kNow}}));
}

TEST(ThinkificCourse, ParamsOverrideTheEventAndExpiryIsPassedOn) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on("GET /users?query%5Bemail%5D=zed%2Btag%40example.com&page=1&limit=250", reply(200, page(Json::array())))
      .on("POST /users", reply(201, user(777, "zed+tag@example.com")))
      .on("GET /enrollments?query%5Buser_id%5D=777&query%5Bcourse_id%5D=43&page=1&limit=250", reply(200, page(Json::array())))
      .on("POST /enrollments", reply(201, enrollment(9002, 777, 43)));
  auto thinkific = harness.create({{"subdomain", "acme"}, {"api_key", "k"}, {"send_welcome_email", false}});
  Result r = thinkific.action("enroll_course",
                              {{"course_id", "43"}, {"email", "zed+tag@example.com"}, {"first_name", "Zed"},
                               {"last_name", "Ray"}, {"expiry_date", "2027-01-15T10:00:00Z"}},
                              event(), job());
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(Json::parse(harness.requests()[1].body),
            (Json{{"email", "zed+tag@example.com"}, {"first_name", "Zed"}, {"last_name", "Ray"},
                  {"send_welcome_email", false}}));
  EXPECT_EQ(Json::parse(harness.requests()[3].body),
            (Json{{"course_id", 43}, {"user_id", 777}, {"activated_at", kNow}, {"expiry_date", "2027-01-15T10:00:00Z"}}));
}

TEST(ThinkificCourse, ExistingUserIsMatchedExactlyAndCaseInsensitively) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  // The search also returns a near miss first; only the exact address is the customer.
  remote.on(kUsersByEmail, reply(200, page({user(400, "joann@example.com"), user(501, "Ann@Example.com")})))
      .on(kEnrollments, reply(200, page(Json::array())))
      .on("POST /enrollments", reply(201, enrollment(9001, 501, 42)));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("enroll_course", {{"course_id", 42}}, event(), job());
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["user_id"], 501);
  EXPECT_EQ(r.data["user_created"], false);
  ASSERT_EQ(harness.requests().size(), 3u);
  EXPECT_EQ(Json::parse(harness.requests()[2].body)["user_id"], 501);
}

TEST(ThinkificCourse, ExistingUserIsFoundOnAnyPageOfTheSearch) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  // The filter may match parts of addresses: page 1 holds only near misses.
  remote.on(kUsersByEmail, reply(200, page({user(400, "joann@example.com")}, 1, 2, 2)))
      .on("GET /users?query%5Bemail%5D=ann%40example.com&page=2&limit=250",
          reply(200, page({user(501, "ann@example.com")}, 2, 2, 2)))
      .on(kEnrollments, reply(200, page(Json::array())))
      .on("POST /enrollments", reply(201, enrollment(9001, 501, 42)));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("enroll_course", {{"course_id", 42}}, event(), job());
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["user_id"], 501);
  EXPECT_EQ(r.data["user_created"], false) << "no second account for a customer on page 2";
  ASSERT_EQ(harness.requests().size(), 4u);
  EXPECT_EQ(harness.requests()[3].method, "POST");
  EXPECT_EQ(Json::parse(harness.requests()[3].body)["user_id"], 501);
}

TEST(ThinkificCourse, ActiveEnrollmentMakesARetryANoOp) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page({user()})))
      .on(kEnrollments, reply(200, page({enrollment(9001, 501, 42)})));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("enroll_course", {{"course_id", 42}}, event(), {{"id", 7}, {"attempt", 2}, {"idempotency_key", "job_7"}});
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["enrollment"], "already active");
  EXPECT_EQ(harness.requests().size(), 2u);  // no write at all
}

TEST(ThinkificCourse, ExpiredEnrollmentWithoutAnExpiryIsReactivatedUntil2099) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  // The filter's matches are checked: an enrollment in another course is ignored.
  remote.on(kUsersByEmail, reply(200, page({user()})))
      .on(kEnrollments, reply(200, page({enrollment(8000, 501, 41), enrollment(9001, 501, 42, true)})))
      .on("PUT /enrollments/9001", reply(204));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("enroll_course", {{"course_id", 42}}, event(), job());
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["enrollment"], "reactivated");
  ASSERT_EQ(harness.requests().size(), 3u);
  EXPECT_EQ(harness.requests()[2].method, "PUT");
  EXPECT_EQ(Json::parse(harness.requests()[2].body), (Json{{"activated_at", kNow}, {"expiry_date", "2099-12-31T23:59:59Z"}}));
}

TEST(ThinkificCourse, TrialEnrollmentIsActivated) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page({user()})))
      .on(kEnrollments, reply(200, page({enrollment(9001, 501, 42, false, true)})))
      .on("PUT /enrollments/9001", reply(204));
  auto thinkific = harness.create(key_settings());
  ASSERT_TRUE(thinkific.action("enroll_course", {{"course_id", 42}}, event(), job()).is_ok());
  EXPECT_EQ(Json::parse(harness.requests()[2].body), (Json{{"activated_at", kNow}}));
}

TEST(ThinkificCourse, ExpireSetsExpiryToNow) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page({user()})))
      .on(kEnrollments, reply(200, page({enrollment(9001, 501, 42)})))
      .on("PUT /enrollments/9001", reply(204));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("expire_course", {{"course_id", 42}}, event(), job());
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["expired"], 1);
  ASSERT_EQ(harness.requests().size(), 3u);
  EXPECT_EQ(harness.requests()[2].url, std::string(kBase) + "/enrollments/9001");
  EXPECT_EQ(harness.requests()[2].headers.at("content-type"), "application/json");
  EXPECT_EQ(Json::parse(harness.requests()[2].body), (Json{{"expiry_date", kNow}}));
}

TEST(ThinkificCourse, ExpireWithNothingToExpireSucceedsWithoutWrites) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page(Json::array())));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("expire_course", {{"course_id", 42}}, event(), job());
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["reason"], "no Thinkific user with this email");
  EXPECT_EQ(harness.requests().size(), 1u);  // never creates the user

  PluginHarness h2(THINKIFIC_PLUGIN_PATH);
  Remote r2(h2);
  r2.on(kUsersByEmail, reply(200, page({user()})))
      .on(kEnrollments, reply(200, page({enrollment(9001, 501, 42, true)})));
  auto t2 = h2.create(key_settings());
  Result already = t2.action("expire_course", {{"course_id", 42}}, event(), job());
  ASSERT_TRUE(already.is_ok()) << already.message;
  EXPECT_EQ(already.data["reason"], "already expired");
  EXPECT_EQ(h2.requests().size(), 2u);
}

TEST(ThinkificCourse, ValidationFailsBeforeAnyCall) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  auto thinkific = harness.create(key_settings());
  Result missing = thinkific.action("enroll_course", Json::object(), event(), job());
  EXPECT_EQ(missing.outcome, Outcome::permanent);
  EXPECT_NE(missing.message.find("passes no 'course_id'"), std::string::npos) << missing.message;
  Result bad = thinkific.action("enroll_course", {{"course_id", "intro"}}, event(), job());
  EXPECT_EQ(bad.outcome, Outcome::permanent);
  EXPECT_NE(bad.message.find("positive integer"), std::string::npos) << bad.message;
  Result no_email = thinkific.action("enroll_course", {{"course_id", 42}}, {{"type", "product.purchased"}}, job());
  EXPECT_EQ(no_email.outcome, Outcome::permanent);
  EXPECT_NE(no_email.message.find("no customer.email"), std::string::npos) << no_email.message;
  Result bad_expiry = thinkific.action("enroll_course", {{"course_id", 42}, {"expiry_date", "next year"}}, event(), job());
  EXPECT_EQ(bad_expiry.outcome, Outcome::permanent);
  EXPECT_NE(bad_expiry.message.find("ISO 8601"), std::string::npos) << bad_expiry.message;
  // A date-time filled from an event's field may be of any length.
  Result long_expiry = thinkific.action(
      "enroll_course", {{"course_id", 42}, {"expiry_date", "2027-01-15T10:00:00." + std::string(500000, '1') + "Z"}},
      event(), job());
  EXPECT_EQ(long_expiry.outcome, Outcome::permanent);
  EXPECT_NE(long_expiry.message.find("ISO 8601"), std::string::npos);
  EXPECT_LT(long_expiry.message.size(), 300u) << "the value is not quoted whole";
  Result unknown = thinkific.action("delete_course", {{"course_id", 42}}, event(), job());
  EXPECT_EQ(unknown.outcome, Outcome::permanent);
  EXPECT_NE(unknown.message.find("no action 'delete_course'"), std::string::npos);
  EXPECT_TRUE(harness.requests().empty());
}

TEST(ThinkificCourse, AnExpiryDateThatDoesNotExistIsRefusedBeforeAnyCall) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  auto thinkific = harness.create(key_settings());
  for (auto [expiry, why] : {std::pair{"2026-02-30T23:59:59Z", "there is no day 30 in February 2026"},
                             {"2026-13-45T25:61:00Z", "there is no month 13"},
                             {"2027-02-29T00:00Z", "there is no day 29 in February 2027"},
                             {"2026-12-31T24:00:00+01:00", "there is no hour 24"},
                             {"2026-12-31T23:59:59+2500", "there is no offset +25:00"}}) {
    Result r = thinkific.action("enroll_course", {{"course_id", 42}, {"expiry_date", expiry}}, event(), job());
    EXPECT_EQ(r.outcome, Outcome::permanent) << expiry;
    EXPECT_EQ(r.message, "thinkific: 'expiry_date' must be an ISO 8601 date-time such as 2026-12-31T23:59:59Z, not \"" +
                             std::string(expiry) + "\" (" + why + ")");
  }
  EXPECT_TRUE(harness.requests().empty());
}

TEST(ThinkificCourse, AnExpiryDateWithoutSecondsOrWithAnOffsetWithoutColonIsPassedOn) {
  for (std::string expiry : {"2028-02-29T10:00Z", "2027-01-15T10:00:00.250+0530", "2027-01-15T10:00-05:00"}) {
    PluginHarness harness(THINKIFIC_PLUGIN_PATH);
    Remote remote(harness);
    remote.on(kUsersByEmail, reply(200, page({user()})))
        .on(kEnrollments, reply(200, page(Json::array())))
        .on("POST /enrollments", reply(201, enrollment(9001, 501, 42)));
    Result r = harness.create(key_settings())
                   .action("enroll_course", {{"course_id", 42}, {"expiry_date", expiry}}, event(), job());
    ASSERT_TRUE(r.is_ok()) << expiry << ": " << r.message;
    EXPECT_EQ(Json::parse(harness.requests().back().body)["expiry_date"], expiry);
  }
}

TEST(ThinkificCourse, NamelessCustomerCannotBeCreated) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page(Json::array())));
  auto thinkific = harness.create(key_settings());
  Json e = {{"customer", {{"email", "ann@example.com"}}}};
  Result r = thinkific.action("enroll_course", {{"course_id", 42}}, e, job());
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("needs a first and last name"), std::string::npos) << r.message;
  EXPECT_EQ(harness.requests().size(), 1u);
}

TEST(ThinkificCourse, SingleNameFieldIsSplit) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page(Json::array()))).on("POST /users", reply(201, user()));
  auto thinkific = harness.create(key_settings());
  Json e = {{"customer", {{"email", "ann@example.com"}, {"name", "Ann Marie Lee"}}}};
  ASSERT_TRUE(thinkific.action("upsert_user", Json::object(), e, job()).is_ok());
  Json body = Json::parse(harness.requests()[1].body);
  EXPECT_EQ(body["first_name"], "Ann Marie");
  EXPECT_EQ(body["last_name"], "Lee");
}

TEST(ThinkificCourse, CreateRaceTakesTheUserThatNowExists) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page(Json::array())))
      .on(kUsersByEmail, reply(200, page({user(612)})))
      .on("POST /users", reply(422, {{"errors", {{"email", {"has already been taken"}}}}}));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("upsert_user", Json::object(), event(), job());
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(r.data["user_id"], 612);
  EXPECT_EQ(r.data["created"], false);
  EXPECT_EQ(harness.requests().size(), 3u);
}

TEST(ThinkificCourse, UnknownCourseIsPermanentWithThinkificsReasons) {
  PluginHarness harness(THINKIFIC_PLUGIN_PATH);
  Remote remote(harness);
  remote.on(kUsersByEmail, reply(200, page({user()})))
      .on("GET /enrollments?query%5Buser_id%5D=501&query%5Bcourse_id%5D=999&page=1&limit=250", reply(200, page(Json::array())))
      .on("POST /enrollments", reply(422, {{"errors", {"Course could not be found."}}}));
  auto thinkific = harness.create(key_settings());
  Result r = thinkific.action("enroll_course", {{"course_id", 999}}, event(), job());
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_EQ(r.message, "Thinkific POST /enrollments: HTTP 422 Course could not be found.");
}
