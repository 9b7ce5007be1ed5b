#include <gtest/gtest.h>

#include <tuple>

#include "admin/metrics.hpp"
#include "admin/query.hpp"
#include "store/search_sql.hpp"

using namespace cartwire;

TEST(AdminQuery, ParsesFiltersAndRejectsTypos) {
  store::Search s = admin::parse_search(std::map<std::string, std::string>{
      {"email", "Ann@Example.com"}, {"state", "failed,dead"}, {"integration", "hook"}, {"limit", "10"},
      {"before", "99"}, {"since", "2026-01-15T10:00:00Z"}, {"until", "1768500000000"}, {"item", "upsell-*"}});
  EXPECT_EQ(s.email, "Ann@Example.com");
  EXPECT_EQ(s.states, (std::vector<std::string>{"failed", "dead"}));
  EXPECT_EQ(s.limit, 10);
  EXPECT_EQ(s.before_id, 99);
  EXPECT_EQ(s.since_ms, 1768471200000);
  EXPECT_EQ(s.until_ms, 1768500000000);
  EXPECT_EQ(admin::parse_search(std::map<std::string, std::string>{}).limit, admin::kDefaultPage);
  EXPECT_THROW(admin::parse_search(std::map<std::string, std::string>{{"emial", "x"}}), std::invalid_argument);
  EXPECT_THROW(admin::parse_search(std::map<std::string, std::string>{{"state", "done"}}), std::invalid_argument);
  EXPECT_THROW(admin::parse_search(std::map<std::string, std::string>{{"limit", "0"}}), std::invalid_argument);
  EXPECT_THROW(admin::parse_search(std::map<std::string, std::string>{{"since", "yesterday"}}), std::invalid_argument);
  // A bulk replay's filter comes in a JSON body, as long as the body may be.
  EXPECT_THROW(admin::parse_search(std::map<std::string, std::string>{
                   {"since", "2026-01-15T10:00:00." + std::string(500000, '1') + "Z"}}),
               std::invalid_argument);
  EXPECT_EQ(admin::parse_search(std::map<std::string, std::string>{{"mode", "test"}}).mode, "test");
  try {
    admin::parse_search(std::map<std::string, std::string>{{"mode", "prod"}});
    ADD_FAILURE() << "mode=prod matches no event";
  } catch (const std::invalid_argument &e) {
    EXPECT_STREQ(e.what(), "mode must be live or test (got 'prod')");
  }
  EXPECT_THROW(admin::parse_search(sdk::Json{{"limit", 201}}), std::invalid_argument);
  EXPECT_EQ(admin::parse_search(sdk::Json{{"limit", 500}}, store::kMaxSearchLimit).limit, 500);
  store::Search j = admin::parse_search(sdk::Json{{"state", {"dead"}}, {"event_id", 7}});
  EXPECT_EQ(j.states, std::vector<std::string>{"dead"});
  EXPECT_EQ(j.event_id, 7);
  EXPECT_EQ(admin::parse_time("2026-01-15T11:00:00+01:00"), 1768471200000);
}

TEST(AdminQuery, AnOffsetWhosePlusCameUnencodedIsStillThatOffset) {
  // since=2026-01-15T11:00:00+01:00 typed into a URL: the query string's + is a space.
  store::Search s = admin::parse_search(std::map<std::string, std::string>{{"since", "2026-01-15T11:00:00 01:00"},
                                                                           {"until", "2026-01-15T11:30:00.5 01:00"}});
  EXPECT_EQ(s.since_ms, 1768471200000);
  EXPECT_EQ(s.until_ms, 1768473000500);
  EXPECT_EQ(admin::parse_time("2026-01-15T05:00:00-05:00"), 1768471200000);
  EXPECT_EQ(admin::parse_time("2026-01-15T11:00:00 01"), std::nullopt);
  EXPECT_EQ(admin::parse_time("2026-01-15 11:00:00Z"), std::nullopt);
}

TEST(AdminQuery, ATimeThatDoesNotExistIsRefusedSayingWhy) {
  const std::string rfc3339 = " must be an RFC 3339 time such as 2026-01-15T10:00:00Z or epoch milliseconds";
  for (auto [key, text, why] : {std::tuple{"since", "2026-02-30T00:00:00Z", "there is no day 30 in February 2026"},
                                {"until", "2026-13-45T25:61:00Z", "there is no month 13"},
                                {"since", "2026-01-15T24:00:00Z", "there is no hour 24"},
                                {"until", "2026-01-15T10:00:00 24:00", "there is no offset +24:00"}}) {
    try {
      admin::parse_search(std::map<std::string, std::string>{{key, text}});
      ADD_FAILURE() << key << "=" << text << " is no time";
    } catch (const std::invalid_argument &e) {
      EXPECT_EQ(e.what(), std::string(key) + rfc3339 + " (got '" + text + "': " + why + ")");
    }
  }
  EXPECT_EQ(admin::parse_time("2024-02-29T00:00:00Z"), 1709164800000);
  EXPECT_EQ(admin::parse_time("2026-02-29T00:00:00Z"), std::nullopt);
  try {
    admin::parse_search(std::map<std::string, std::string>{{"since", "yesterday"}});
    ADD_FAILURE() << "since=yesterday is no time";
  } catch (const std::invalid_argument &e) {
    EXPECT_EQ(e.what(), "since" + rfc3339);
  }
}

TEST(AdminQuery, BuildsJobSearchWithParametersInOrder) {
  store::Search s;
  s.email = "Ann@Example.com";
  s.item_ref = "upsell_1*";
  s.states = {"failed"};
  s.before_id = 500;
  s.limit = 21;
  store::SqlQuery q = store::job_search_sql(s);
  // A prefix is a byte range in SQLite (its index serves it) ...
  EXPECT_NE(q.sql.find("WHERE e.email = ? AND e.item_ref >= ? AND e.item_ref < ? AND j.id < ? AND j.state IN (?)"),
            std::string::npos)
      << q.sql;
  EXPECT_NE(q.sql.find("ORDER BY j.id DESC LIMIT ?"), std::string::npos);
  ASSERT_EQ(q.params.size(), 6u);
  EXPECT_EQ(q.params[0].text, "ann@example.com");  // emails are stored lower-case
  EXPECT_EQ(q.params[1].text, "upsell_1");
  EXPECT_EQ(q.params[2].text, "upsell_2");
  EXPECT_EQ(q.params[3].number, 500);
  EXPECT_EQ(q.params[4].text, "failed");
  EXPECT_EQ(q.params[5].number, 21);
  // ... and a LIKE in PostgreSQL, whose wildcards in the reference are literal.
  store::SqlQuery pg = store::job_search_sql(s, store::Dialect::postgresql);
  EXPECT_NE(pg.sql.find("e.item_ref LIKE ? ESCAPE '\\'"), std::string::npos) << pg.sql;
  EXPECT_EQ(pg.params[1].text, "upsell\\_1%");
  EXPECT_EQ(store::job_search_sql({}).sql.find("WHERE"), std::string::npos);
  store::Search huge;
  huge.limit = 100000;
  EXPECT_EQ(store::job_search_sql(huge).params.back().number, store::kMaxSearchLimit);
}

TEST(AdminQuery, ReplayOnlyTouchesFailedOrDeadJobs) {
  store::Search s;
  s.integration = "hook";
  auto any = store::replayable_jobs_sql(s);  // a search of each state, merged
  EXPECT_NE(any.sql.find("j.state IN (?) ORDER BY j.id DESC LIMIT ?) AS s0 UNION ALL SELECT"), std::string::npos)
      << any.sql;
  std::vector<std::string> states;
  for (auto &p : any.params)
    if (p.is_text && p.text != "hook") states.push_back(p.text);
  EXPECT_EQ(states, (std::vector<std::string>{"failed", "dead"}));
  s.states = {"dead", "succeeded"};
  auto dead = store::replayable_jobs_sql(s);
  EXPECT_NE(dead.sql.find("j.state IN (?)"), std::string::npos) << dead.sql;
  EXPECT_EQ(dead.params[1].text, "dead");
  s.states = {"succeeded"};
  EXPECT_NE(store::replayable_jobs_sql(s).sql.find("AND 1 = 0"), std::string::npos);
}

TEST(AdminQuery, EventSearchFiltersOnJobsThroughASubquery) {
  store::Search s;
  s.email = "a@b.c";
  s.integration = "hook";
  s.states = {"dead"};
  auto q = store::event_search_sql(s);
  // SQLite is told to read the event's jobs: it read the integration's for each event.
  EXPECT_NE(q.sql.find("EXISTS (SELECT 1 FROM jobs j INDEXED BY jobs_event WHERE j.event_id = e.id AND "
                       "j.integration = ? AND j.state IN (?))"),
            std::string::npos)
      << q.sql;
  auto pg = store::event_search_sql(s, store::Dialect::postgresql);
  EXPECT_NE(pg.sql.find("EXISTS (SELECT 1 FROM jobs j WHERE j.event_id = e.id AND j.integration = ? AND j.state IN (?))"),
            std::string::npos)
      << pg.sql;
  ASSERT_EQ(q.params.size(), 4u);
  EXPECT_EQ(q.params[1].text, "hook");
  EXPECT_EQ(q.params[2].text, "dead");
}

TEST(AdminMetrics, RendersCountersHistogramAndGauges) {
  admin::Metrics m;
  m.events(2, 1, 3);
  m.attempt("ok", "succeeded", 40);
  m.attempt("retryable", "queued", 2000);
  std::string text = m.render({{"queued", 4}, {"dead", 1}}, true, false);
  EXPECT_NE(text.find("cartwire_events_accepted_total 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("cartwire_jobs_total{state=\"succeeded\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("cartwire_jobs_total{state=\"retry\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("cartwire_attempt_duration_seconds_bucket{le=\"0.05\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("cartwire_attempt_duration_seconds_bucket{le=\"2.5\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("cartwire_attempt_duration_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("cartwire_attempt_duration_seconds_sum 2.040\n"), std::string::npos) << text;
  EXPECT_NE(text.find("cartwire_queue_depth 4\n"), std::string::npos);
  EXPECT_NE(text.find("cartwire_jobs{state=\"dead\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE cartwire_runner_running gauge\ncartwire_runner_running 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE cartwire_poller_running gauge\ncartwire_poller_running 0\n"), std::string::npos) << text;
}

TEST(AdminMetrics, TheDurationSumKeepsEveryMillisecondOfALongRun) {
  admin::Metrics m;
  // A day and a half of attempt time: 6 significant digits would print 129600.
  m.attempt("ok", "succeeded", 129'600'007);
  m.attempt("ok", "succeeded", 5);
  std::string text = m.render({}, true, true);
  EXPECT_NE(text.find("cartwire_attempt_duration_seconds_sum 129600.012\n"), std::string::npos) << text;
}
