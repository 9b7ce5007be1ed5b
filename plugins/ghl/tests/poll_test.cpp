// The contacts_changed poll trigger: the first poll's baseline, events for
// changed contacts, the cursor, paging through POST /contacts/search, errors.
#include <cstdio>

#include "support.hpp"

namespace ghl_test {
namespace {

Json contact(const std::string &id, const std::string &updated, const std::string &added = "2026-01-10T08:00:00.000Z") {
  return {{"id", id},           {"locationId", kLocation}, {"email", id + "@example.com"}, {"firstName", "Ann"},
          {"lastName", "Lee"},  {"phone", "+15550100"},    {"city", "New York"},         {"tags", {"buyer"}},
          {"dateAdded", added}, {"dateUpdated", updated}};
}

// 2026-01-15T10:00:00.000Z plus `n` seconds, as LeadConnector writes times.
std::string at_second(int n) {
  char at[32];
  std::snprintf(at, sizeof at, "2026-01-15T%02d:%02d:%02d.000Z", 10 + n / 3600, n / 60 % 60, n % 60);
  return at;
}

HttpResponse found(const Json &contacts) { return answer(200, {{"contacts", contacts}, {"total", contacts.size()}}); }

class Poll : public GhlTest {
 protected:
  Json search_body(std::size_t i) const {
    EXPECT_EQ(requests().at(i).method, "POST");
    EXPECT_EQ(requests().at(i).url, url("/contacts/search"));
    expect_headers(requests().at(i), true);
    return body(i);
  }
  static Json since(const std::string &at) {
    return {{{"field", "dateUpdated"}, {"operator", "range"}, {"value", {{"gte", at}}}}};
  }
};

TEST_F(Poll, TheFirstPollRecordsWhereTheContactsStandAndEmitsNothing) {
  remote.on("POST /contacts/search", found(Json::array({contact("c2", "2026-01-15T10:00:00.000Z"),
                                            contact("c1", "2026-01-15T10:00:00.000Z"),
                                            contact("c0", "2026-01-14T09:00:00.000Z")})));
  auto reply = ghl.poll("contacts_changed");
  ASSERT_TRUE(reply.result.is_ok()) << reply.result.message;
  EXPECT_TRUE(reply.events.empty());
  EXPECT_EQ(reply.cursor, (Json{{"updated_after", "2026-01-15T10:00:00.000Z"}, {"ids", {"c1", "c2"}}}));
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(search_body(0), (Json{{"locationId", kLocation}, {"page", 1}, {"pageLimit", 100},
                                  {"sort", {{{"field", "dateUpdated"}, {"direction", "desc"}}}}}));
}

TEST_F(Poll, TheFirstPollOfAnEmptyLocationStartsFromTheBeginning) {
  remote.on("POST /contacts/search", found(Json::array()));
  auto first = ghl.poll("contacts_changed");
  ASSERT_TRUE(first.result.is_ok());
  EXPECT_EQ(first.cursor, (Json{{"updated_after", ""}, {"ids", Json::array()}}));
  // With nothing to start from, every contact found later is a change.
  harness.clear_requests();
  remote.on("POST /contacts/search", found(Json::array({contact("c1", "2026-01-15T10:00:00.000Z")})));
  auto second = ghl.poll("contacts_changed", first.cursor);
  ASSERT_TRUE(second.result.is_ok()) << second.result.message;
  EXPECT_EQ(second.events.size(), 1u);
  EXPECT_FALSE(search_body(0).contains("filters"));
}

TEST_F(Poll, ChangedContactsBecomeEventsOnceAndTheCursorMovesOn) {
  Json cursor = {{"updated_after", "2026-01-15T10:00:00.000Z"}, {"ids", {"c1"}}};
  remote.on("POST /contacts/search",
            found(Json::array({contact("c1", "2026-01-15T10:00:00.000Z"),  // emitted by the previous poll
                   contact("c2", "2026-01-15T10:00:00.000Z"),  // same time, not yet seen
                   contact("c3", "2026-01-15T10:05:00.123Z", "2026-01-15T10:05:00.123Z")})));
  auto reply = ghl.poll("contacts_changed", cursor);
  ASSERT_TRUE(reply.result.is_ok()) << reply.result.message;
  ASSERT_EQ(reply.events.size(), 2u);
  EXPECT_EQ(reply.events[0]["raw"]["id"], "c2");
  const Json &e = reply.events[1];
  EXPECT_EQ(e["type"], "ghl.contact.changed");
  EXPECT_EQ(e["source_type"], "contact.created");
  EXPECT_EQ(e["occurred_at"], "2026-01-15T10:05:00.123Z");
  EXPECT_EQ(e["dedupe_key"], std::string("ghl:") + kLocation + ":contact:c3:2026-01-15T10:05:00.123Z");
  EXPECT_EQ(e["customer"], (Json{{"email", "c3@example.com"}, {"first_name", "Ann"}, {"last_name", "Lee"},
                                 {"phone", "+15550100"}, {"address", {{"city", "New York"}}}}));
  EXPECT_EQ(e["raw"], contact("c3", "2026-01-15T10:05:00.123Z", "2026-01-15T10:05:00.123Z"));
  EXPECT_EQ(reply.events[0]["source_type"], "contact.updated");
  EXPECT_EQ(reply.cursor, (Json{{"updated_after", "2026-01-15T10:05:00.123Z"}, {"ids", {"c3"}}}));
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(search_body(0), (Json{{"locationId", kLocation}, {"page", 1}, {"pageLimit", 100},
                                  {"sort", {{{"field", "dateUpdated"}, {"direction", "asc"}}}},
                                  {"filters", since("2026-01-15T10:00:00.000Z")}}));
}

TEST_F(Poll, AContactChangedAgainIsANewEventTheSameChangeIsNot) {
  Json cursor = {{"updated_after", "2026-01-15T10:00:00.000Z"}, {"ids", {"c1"}}};
  remote.on("POST /contacts/search", found(Json::array({contact("c1", "2026-01-15T10:00:00.000Z")})));
  auto unchanged = ghl.poll("contacts_changed", cursor);
  ASSERT_TRUE(unchanged.result.is_ok());
  EXPECT_TRUE(unchanged.events.empty());
  EXPECT_EQ(unchanged.cursor, cursor);

  remote.on("POST /contacts/search", found(Json::array({contact("c1", "2026-01-15T11:00:00.000Z")})));
  auto changed = ghl.poll("contacts_changed", unchanged.cursor);
  ASSERT_EQ(changed.events.size(), 1u);
  EXPECT_EQ(changed.events[0]["dedupe_key"], std::string("ghl:") + kLocation + ":contact:c1:2026-01-15T11:00:00.000Z");
}

TEST_F(Poll, EachPageStartsFromTheLatestChangeSeen) {
  Json page1 = Json::array();
  for (int i = 0; i < 100; ++i) page1.push_back(contact("p" + std::to_string(i), at_second(i)));
  remote.on("POST /contacts/search", found(page1));
  remote.on("POST /contacts/search", found(Json::array({contact("p99", at_second(99)),
                                            contact("q1", "2026-01-15T12:00:00.000Z")})));
  auto reply = ghl.poll("contacts_changed", {{"updated_after", "2026-01-15T09:00:00.000Z"}, {"ids", Json::array()}});
  ASSERT_TRUE(reply.result.is_ok()) << reply.result.message;
  EXPECT_EQ(reply.events.size(), 101u);
  ASSERT_EQ(requests().size(), 2u);
  Json second = search_body(1);
  EXPECT_EQ(second["filters"], since(at_second(99)));
  EXPECT_EQ(second["page"], 1);
  EXPECT_EQ(reply.cursor, (Json{{"updated_after", "2026-01-15T12:00:00.000Z"}, {"ids", {"q1"}}}));
}

TEST_F(Poll, APageOfContactsChangedAtOneTimeMovesThePageNumber) {
  Json page1 = Json::array();
  for (int i = 0; i < 100; ++i) page1.push_back(contact("s" + std::to_string(100 + i), "2026-01-15T10:00:00.000Z"));
  remote.on("POST /contacts/search", found(page1));
  remote.on("POST /contacts/search", found(Json::array({contact("s200", "2026-01-15T10:00:00.000Z")})));
  auto reply = ghl.poll("contacts_changed", {{"updated_after", "2026-01-15T10:00:00.000Z"}, {"ids", Json::array()}});
  ASSERT_TRUE(reply.result.is_ok());
  EXPECT_EQ(reply.events.size(), 101u);
  ASSERT_EQ(requests().size(), 2u);
  EXPECT_EQ(search_body(1)["page"], 2);
  EXPECT_EQ(search_body(1)["filters"], since("2026-01-15T10:00:00.000Z"));
  EXPECT_EQ(reply.cursor["ids"].size(), 101u);
}

TEST_F(Poll, APollStopsAfterTenRequestsAndTheNextGoesOn) {
  int n = 0;
  harness.on_http([&](const HttpRequest &) {
    Json page = Json::array();
    for (int i = 0; i < 100; ++i, ++n) page.push_back(contact("m" + std::to_string(n), at_second(n)));
    return found(page);
  });
  auto reply = ghl.poll("contacts_changed", {{"updated_after", ""}, {"ids", Json::array()}});
  ASSERT_TRUE(reply.result.is_ok());
  EXPECT_EQ(requests().size(), 10u);
  EXPECT_EQ(reply.events.size(), 1000u);
  EXPECT_EQ(reply.cursor, (Json{{"updated_after", at_second(999)}, {"ids", {"m999"}}}));
}

TEST_F(Poll, ARefusedTokenIsAConfigurationProblem) {
  Json cursor = {{"updated_after", "2026-01-15T10:00:00.000Z"}, {"ids", {"c1"}}};
  remote.on("POST /contacts/search",
            answer(401, {{"statusCode", 401}, {"message", "Invalid token: access token is invalid"}}));
  auto denied = ghl.poll("contacts_changed", cursor);
  EXPECT_EQ(denied.result.outcome, Outcome::config);
  EXPECT_NE(denied.result.message.find("check the 'token' setting"), std::string::npos) << denied.result.message;
  EXPECT_TRUE(denied.events.empty());
  EXPECT_TRUE(denied.cursor.is_null());
}

TEST_F(Poll, RateLimitedPollsAreRetryableAfterTheBurstWindow) {
  remote.on("POST /contacts/search", answer(429, {{"statusCode", 429}, {"message", "Too many requests"}},
                                            {{"x-ratelimit-interval-milliseconds", "10000"}}));
  auto reply = ghl.poll("contacts_changed", {{"updated_after", ""}, {"ids", Json::array()}});
  EXPECT_EQ(reply.result.outcome, Outcome::retryable);
  ASSERT_TRUE(reply.result.retry_after.has_value());
  EXPECT_EQ(reply.result.retry_after->count(), 10000);
}

TEST_F(Poll, AnAnswerWithoutContactsIsPermanent) {
  remote.on("POST /contacts/search", answer(200, {{"total", 0}}));
  auto reply = ghl.poll("contacts_changed");
  EXPECT_EQ(reply.result.outcome, Outcome::permanent);
  EXPECT_NE(reply.result.message.find("no 'contacts' list"), std::string::npos) << reply.result.message;
}

TEST_F(Poll, AnUnknownTriggerIsPermanent) {
  auto reply = ghl.poll("deals_changed");
  EXPECT_EQ(reply.result.outcome, Outcome::permanent);
  EXPECT_NE(reply.result.message.find("deals_changed"), std::string::npos);
  EXPECT_TRUE(requests().empty());
}

}  // namespace
}  // namespace ghl_test
