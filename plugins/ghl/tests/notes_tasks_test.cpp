// add_note / add_task: bodies, due dates, and safe retries.
#include "support.hpp"

namespace ghl_test {
namespace {

class Notes : public GhlTest {
 protected:
  std::string notes_path = std::string("/contacts/") + kContact + "/notes";
  std::string tasks_path = std::string("/contacts/") + kContact + "/tasks";
};

TEST_F(Notes, NoteAfterTheUpsert) {
  remote.on("POST /contacts/upsert", upserted());
  remote.on("POST " + notes_path, answer(201, {{"note", {{"id", "n1"}, {"body", "Bought Coaching"}}}}));
  Result r = run("add_note", {{"body", "Bought Coaching"}, {"title", "Upsell"}, {"user_id", "u1"}});
  ASSERT_TRUE(r.is_ok()) << r.message;
  ASSERT_EQ(requests().size(), 2u);
  EXPECT_EQ(requests()[1].method, "POST");
  EXPECT_EQ(requests()[1].url, url(notes_path));
  expect_headers(requests()[1], true);
  EXPECT_EQ(body(1), (Json{{"body", "Bought Coaching"}, {"title", "Upsell"}, {"userId", "u1"}}));
  EXPECT_EQ(r.data["note"]["id"], "n1");
}

TEST_F(Notes, NoteWithoutBodyIsRefusedBeforeAnyCall) {
  Result r = run("add_note", {{"body", "  "}});
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_EQ(r.message, "parameter 'body' is required");
  EXPECT_TRUE(requests().empty());
}

TEST_F(Notes, ARetryFindsTheNoteAnEarlierAttemptMade) {
  remote.on("POST /contacts/upsert", upserted());
  remote.on("GET " + notes_path, answer(200, {{"notes", {{{"id", "n1"}, {"body", "Bought Coaching"}, {"title", ""}}}}}));
  Result r = run("add_note", {{"body", "Bought Coaching"}}, Json::object(), event(), 2);
  ASSERT_TRUE(r.is_ok()) << r.message;
  ASSERT_EQ(requests().size(), 2u);
  EXPECT_EQ(requests()[1].method, "GET");
  EXPECT_EQ(r.data["skipped"], "the note exists from an earlier attempt");
}

TEST_F(Notes, ARetryWithoutAnEarlierNoteCreatesIt) {
  remote.on("POST /contacts/upsert", upserted());
  remote.on("GET " + notes_path, answer(200, {{"notes", {{{"id", "n0"}, {"body", "Other"}}}}}));
  remote.on("POST " + notes_path, answer(201, {{"note", {{"id", "n1"}}}}));
  ASSERT_TRUE(run("add_note", {{"body", "Bought Coaching"}}, Json::object(), event(), 3).is_ok());
  ASSERT_EQ(requests().size(), 3u);
  EXPECT_EQ(requests()[2].method, "POST");
}

TEST_F(Notes, TaskIsDueDaysAfterTheEvent) {
  remote.on("POST /contacts/upsert", upserted());
  remote.on("POST " + tasks_path, answer(201, {{"task", {{"id", "t1"}}}}));
  Result r = run("add_task", {{"title", "Call Ann"}, {"body", "About coaching"}, {"due_in_days", 3},
                              {"assigned_to", "u1"}});
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(requests()[1].url, url(tasks_path));
  expect_headers(requests()[1], true);
  EXPECT_EQ(body(1), (Json{{"title", "Call Ann"}, {"body", "About coaching"}, {"dueDate", "2026-01-18T10:00:00Z"},
                           {"completed", false}, {"assignedTo", "u1"}}));
}

TEST_F(Notes, TaskDefaultsToOneDayAndTakesStringDays) {
  remote.on("POST /contacts/upsert", upserted());
  remote.on("POST " + tasks_path, answer(201, {{"task", {{"id", "t1"}}}}));
  ASSERT_TRUE(run("add_task", {{"title", "Call"}}).is_ok());
  EXPECT_EQ(body(1)["dueDate"], "2026-01-16T10:00:00Z");
  ASSERT_TRUE(run("add_task", {{"title", "Call"}, {"due_in_days", "0"}}).is_ok());
  EXPECT_EQ(body(3)["dueDate"], "2026-01-15T10:00:00Z");
}

TEST_F(Notes, TaskWithoutEventTimeUsesTheClock) {
  remote.on("POST /contacts/upsert", upserted());
  remote.on("POST " + tasks_path, answer(201, {{"task", {{"id", "t1"}}}}));
  harness.set_now_ms(1768557600000);  // 2026-01-16T10:00:00Z
  Json ev = event();
  ev.erase("occurred_at");
  ASSERT_TRUE(run("add_task", {{"title", "Call"}, {"due_in_days", 2}}, Json::object(), ev).is_ok());
  EXPECT_EQ(body(1)["dueDate"], "2026-01-18T10:00:00Z");
}

TEST_F(Notes, TaskExplicitDueDateWins) {
  remote.on("POST /contacts/upsert", upserted());
  remote.on("POST " + tasks_path, answer(201, {{"task", {{"id", "t1"}}}}));
  ASSERT_TRUE(run("add_task", {{"title", "Call"}, {"due_date", "2026-02-01T09:30:00Z"}, {"due_in_days", 3}}).is_ok());
  EXPECT_EQ(body(1)["dueDate"], "2026-02-01T09:30:00Z");
}

TEST_F(Notes, BadTaskParamsAreRefusedBeforeAnyCall) {
  EXPECT_EQ(run("add_task", Json::object()).message, "parameter 'title' is required");
  EXPECT_NE(run("add_task", {{"title", "x"}, {"due_in_days", "soon"}}).message.find("'due_in_days'"), std::string::npos);
  EXPECT_NE(run("add_task", {{"title", "x"}, {"due_in_days", -1}}).message.find("'due_in_days'"), std::string::npos);
  EXPECT_NE(run("add_task", {{"title", "x"}, {"due_date", "next week"}}).message.find("'due_date'"), std::string::npos);
  // A date filled from an event's field may be of any length.
  EXPECT_NE(run("add_task", {{"title", "x"}, {"due_date", "2026-02-01T09:30:00." + std::string(500000, '1') + "Z"}})
                .message.find("'due_date'"),
            std::string::npos);
  EXPECT_TRUE(requests().empty());
}

TEST_F(Notes, ADueDateThatDoesNotExistIsRefusedBeforeAnyCall) {
  for (auto [date, why] : {std::pair{"2026-02-30", "there is no day 30 in February 2026"},
                           {"2026-02-29T09:30:00Z", "there is no day 29 in February 2026"},
                           {"2026-13-45T25:61:00Z", "there is no month 13"},
                           {"2026-02-01T24:00", "there is no hour 24"},
                           {"2026-02-01T09:60:00+01:00", "there is no minute 60"},
                           {"2026-02-01T09:30:00-2400", "there is no offset -24:00"}})
    EXPECT_EQ(run("add_task", {{"title", "x"}, {"due_date", date}}).message,
              "parameter 'due_date' must be an ISO 8601 date such as 2026-01-20T11:00:00Z, not " + std::string(date) +
                  " (" + why + ")");
  EXPECT_TRUE(requests().empty());
}

TEST_F(Notes, ADueDateOfAnyFormTheActionTakesIsSentAsWritten) {
  remote.on("POST /contacts/upsert", upserted());
  remote.on("POST " + tasks_path, answer(201, {{"task", {{"id", "t1"}}}}));
  for (std::string date : {"2028-02-29", "2026-02-01T09:30", "2026-02-01T09:30:00", "2026-02-01T09:30+01:00",
                           "2026-02-01T09:30:00.250+0530", "2026-02-01T09:30:00.123456789Z"}) {
    Result r = run("add_task", {{"title", "Call"}, {"due_date", date}});
    ASSERT_TRUE(r.is_ok()) << date << ": " << r.message;
    EXPECT_EQ(Json::parse(requests().back().body)["dueDate"], date);
  }
}

TEST_F(Notes, ARetryFindsTheTaskAnEarlierAttemptMade) {
  remote.on("POST /contacts/upsert", upserted());
  remote.on("GET " + tasks_path,
            answer(200, {{"tasks", {{{"id", "t1"}, {"title", "Call"}, {"body", ""}, {"dueDate", "2026-01-16T10:00:00.000Z"}}}}}));
  Result r = run("add_task", {{"title", "Call"}}, Json::object(), event(), 2);
  ASSERT_TRUE(r.is_ok()) << r.message;
  EXPECT_EQ(requests().size(), 2u);
  EXPECT_EQ(r.data["skipped"], "the task exists from an earlier attempt");
}

}  // namespace
}  // namespace ghl_test
