#include <gtest/gtest.h>

#include <Poco/String.h>

#include "admin/auth.hpp"
#include "admin/router.hpp"

using namespace cartwire::admin;

namespace {

const std::string kToken = "0123456789abcdef-admin";

struct Clock {
  int64_t now = 1'000'000;
  std::function<int64_t()> fn() {
    return [this] { return now; };
  }
};

}  // namespace

TEST(AdminAuth, RandomTokensAreLongAndDistinct) {
  EXPECT_EQ(random_token().size(), 64u);
  EXPECT_NE(random_token(), random_token());
}

TEST(AdminAuth, BearerTokenMustMatch) {
  Clock clock;
  Sessions sessions(std::chrono::minutes(10), clock.fn());
  EXPECT_TRUE(authorize("POST", "Bearer " + kToken, "", "", kToken, sessions).allowed());
  EXPECT_TRUE(authorize("GET", "bearer " + kToken, "", "", kToken, sessions).allowed());
  EXPECT_EQ(authorize("GET", "Bearer wrong", "", "", kToken, sessions).status, 401);
  EXPECT_EQ(authorize("GET", "Basic " + kToken, "", "", kToken, sessions).status, 401);
  EXPECT_EQ(authorize("GET", "", "", "", kToken, sessions).status, 401);
  // A wrong header is not rescued by a valid cookie.
  Session s = sessions.create();
  EXPECT_EQ(authorize("GET", "Bearer wrong", s.id, s.csrf, kToken, sessions).status, 401);
}

TEST(AdminAuth, SessionsNeedCsrfForChangesAndExpire) {
  Clock clock;
  Sessions sessions(std::chrono::minutes(10), clock.fn());
  Session s = sessions.create();
  EXPECT_NE(s.id, s.csrf);
  EXPECT_TRUE(authorize("GET", "", s.id, "", kToken, sessions).allowed());
  EXPECT_TRUE(authorize("HEAD", "", s.id, "", kToken, sessions).allowed());
  EXPECT_EQ(authorize("POST", "", s.id, "", kToken, sessions).status, 403);
  EXPECT_EQ(authorize("DELETE", "", s.id, "nope", kToken, sessions).status, 403);
  EXPECT_TRUE(authorize("POST", "", s.id, s.csrf, kToken, sessions).allowed());
  EXPECT_EQ(authorize("GET", "", "unknown", "", kToken, sessions).status, 401);

  clock.now += std::chrono::milliseconds(std::chrono::minutes(10)).count() - 1;
  EXPECT_TRUE(authorize("GET", "", s.id, "", kToken, sessions).allowed());
  clock.now += 1;
  auto expired = authorize("GET", "", s.id, "", kToken, sessions);
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(expired.reason.find("expired"), std::string::npos);
  EXPECT_EQ(sessions.size(), 0u);
}

TEST(AdminAuth, SessionCountIsBounded) {
  Clock clock;
  Sessions sessions(std::chrono::minutes(10), clock.fn());
  Session first = sessions.create();
  for (std::size_t i = 0; i < Sessions::kMaxSessions; ++i) {
    clock.now += 1;
    sessions.create();
  }
  EXPECT_EQ(sessions.size(), Sessions::kMaxSessions);
  EXPECT_FALSE(sessions.find(first.id));  // the one closest to expiry made room
}

TEST(AdminAuth, TenWrongTokensWithinAMinuteRefuseTheAddressForAMinute) {
  Clock clock;
  WrongTokens wrong(clock.fn());
  for (int i = 1; i < WrongTokens::kAllowed; ++i) EXPECT_FALSE(wrong.count("10.0.0.1")) << i;
  EXPECT_EQ(wrong.refused_for("10.0.0.1"), 0);
  EXPECT_TRUE(wrong.count("10.0.0.1"));
  EXPECT_EQ(wrong.refused_for("10.0.0.1"), 60'000);
  EXPECT_EQ(wrong.refused_for("10.0.0.2"), 0);  // another address is not refused

  clock.now += 59'999;
  EXPECT_EQ(wrong.refused_for("10.0.0.1"), 1);
  clock.now += 1;
  EXPECT_EQ(wrong.refused_for("10.0.0.1"), 0);
  // Afterwards it starts from nothing again.
  EXPECT_FALSE(wrong.count("10.0.0.1"));
}

TEST(AdminAuth, WrongTokensSpreadOverMoreThanAMinuteRefuseNothing) {
  Clock clock;
  WrongTokens wrong(clock.fn());
  for (int i = 0; i < 3 * WrongTokens::kAllowed; ++i) {
    EXPECT_FALSE(wrong.count("10.0.0.1")) << i;
    clock.now += 7'000;  // fewer than ten in any window
  }
  EXPECT_EQ(wrong.refused_for("10.0.0.1"), 0);
}

TEST(AdminAuth, WrongTokensRememberABoundedNumberOfAddressesKeepingTheRefusedOnes) {
  Clock clock;
  WrongTokens wrong(clock.fn());
  for (int i = 0; i < WrongTokens::kAllowed; ++i) wrong.count("10.0.0.1");
  clock.now += 1;
  for (std::size_t i = 0; i < WrongTokens::kMaxAddresses + 10; ++i) wrong.count("10.1." + std::to_string(i));
  // The refused address's record is the oldest, but it still holds: spraying addresses does not lift a refusal.
  EXPECT_GT(wrong.refused_for("10.0.0.1"), 0);
}

TEST(AdminAuth, CookiesAreStrictAndTheSessionOneIsHttpOnly) {
  Session s{"sid", "csrf", 0};
  std::string session = session_cookie(s, std::chrono::hours(1), false);
  EXPECT_NE(session.find("cartwire_session=sid"), std::string::npos) << session;
  EXPECT_NE(session.find("HttpOnly"), std::string::npos) << session;
  EXPECT_NE(session.find("SameSite=Strict"), std::string::npos) << session;
  EXPECT_NE(session.find("path=/"), std::string::npos) << session;
  std::string csrf = csrf_cookie(s, std::chrono::hours(1), false);
  EXPECT_NE(csrf.find("cartwire_csrf=csrf"), std::string::npos) << csrf;
  EXPECT_EQ(csrf.find("HttpOnly"), std::string::npos) << csrf;
  // Plain http (an SSH tunnel to 127.0.0.1): a Secure cookie would not come back.
  EXPECT_EQ(Poco::toLower(session).find("secure"), std::string::npos) << session;
}

TEST(AdminAuth, CookiesAreSecureWhenAProxySaysTheConsoleWasReachedOverHttps) {
  Session s{"sid", "csrf", 0};
  for (auto &cookie : {session_cookie(s, std::chrono::hours(1), true), csrf_cookie(s, std::chrono::hours(1), true),
                       expired_cookie(kSessionCookie, true)})
    EXPECT_NE(Poco::toLower(cookie).find("; secure"), std::string::npos) << cookie;

  EXPECT_TRUE(reached_over_https("https", ""));
  EXPECT_TRUE(reached_over_https("HTTPS", ""));
  EXPECT_TRUE(reached_over_https("https, http", ""));  // the first proxy is the browser's
  EXPECT_FALSE(reached_over_https("http", ""));
  EXPECT_FALSE(reached_over_https("http, https", ""));
  EXPECT_FALSE(reached_over_https("", ""));
  EXPECT_TRUE(reached_over_https("", "for=192.0.2.60;proto=https;by=203.0.113.43"));
  EXPECT_TRUE(reached_over_https("", "proto=\"https\", for=10.0.0.1"));
  EXPECT_FALSE(reached_over_https("", "for=192.0.2.60;proto=http"));
}

TEST(AdminRouter, MatchesPatternsAndReportsMethods) {
  Router router;
  router.add("GET", "/api/jobs", [](Request &) { return Response::of(200, "list"); });
  router.add("GET", "/api/jobs/{id}", [](Request &) { return Response::of(200, "one"); });
  router.add("POST", "/api/jobs/{id}/replay", [](Request &) { return Response::of(200, "replay"); });
  auto m = router.match("GET", "/api/jobs/42");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.params, std::vector<std::string>{"42"});
  Request req;
  EXPECT_EQ((*m.handler)(req).json, "one");
  EXPECT_NE(router.match("HEAD", "/api/jobs/").handler, nullptr);
  auto wrong = router.match("GET", "/api/jobs/42/replay");
  EXPECT_EQ(wrong.handler, nullptr);
  EXPECT_TRUE(wrong.path_known);
  EXPECT_EQ(wrong.allowed, std::vector<std::string>{"POST"});
  EXPECT_FALSE(router.match("GET", "/api/nothing").path_known);
}
