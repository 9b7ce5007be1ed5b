// SQL text for execution-log searches, kept apart from the database so the
// filter logic can be tested without one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace cartwire::store {

/** One positional parameter of a statement. */
struct SqlParam {
  bool is_text = true;
  std::string text;
  int64_t number = 0;
};

struct SqlQuery {
  std::string sql;
  std::vector<SqlParam> params;
};

/** Where the SQL runs: the few places the two stores' SQL differs. */
enum class Dialect { sqlite, postgresql };

/** The most rows one search returns. */
inline constexpr int kMaxSearchLimit = 500;

/** Lower-cases ASCII letters (emails are stored and searched in lower case). */
std::string ascii_lower(std::string s);

/**
 * What a search by integration reads first on SQLite: the integration's jobs newest first, or the
 * rows one of its other filters names, read by that filter's own index (an email's events from
 * events_email, an order's from events_order, an item's from events_item, a type's from events_type,
 * a time range's jobs from jobs_created or events from events_received) and sorted.
 */
enum class Drive { integration, email, order, item, type, time };

/** The most rows a search by integration reads by another filter's index (see choose_drive). */
inline constexpr int kDriveRows = 1000;

/**
 * The Drive of a search by integration on SQLite: the first of its other filters whose index holds
 * fewer than kDriveRows rows for it, as `count` finds running each statement given (one number, a
 * count up to kDriveRows); else the integration's jobs. Read newest first, these stop at the page's
 * last row when many match, but go through all of them when none or few do, which a filter of few
 * rows reads at once. `events`: for event_search_sql, else for job_search_sql and replayable_jobs_sql.
 */
Drive choose_drive(const Search &query, bool events, const std::function<int64_t(const SqlQuery &)> &count);

/** The columns are those SqliteStore::search_jobs reads, in order. */
SqlQuery job_search_sql(const Search &query, Dialect dialect = Dialect::sqlite, Drive drive = Drive::integration);
SqlQuery event_search_sql(const Search &query, Dialect dialect = Dialect::sqlite, Drive drive = Drive::integration);
/** Ids of the failed or dead jobs (states narrowed to those) that the query matches. */
SqlQuery replayable_jobs_sql(const Search &query, Dialect dialect = Dialect::sqlite,
                             Drive drive = Drive::integration);
/** The states a replay of `query` takes: failed and dead, narrowed by the query's own states. */
std::vector<std::string> replayable_states(const Search &query);

/**
 * A claim's candidates, in the order they are due: queued jobs due at now_ms
 * and running jobs whose lease has ended, without those waiting for an
 * earlier job of their ordering key or of an `excluded` integration. Columns:
 * id, event_id, rule, integration, action, params, attempts, created_at,
 * due_at, event body, payload body ('' for none).
 */
SqlQuery claim_sql(int64_t now_ms, int limit, const std::vector<std::string> &excluded);

/**
 * Ids of up to `limit` finished jobs last changed before `before_ms`
 * (Store::prune), from `jobs`: SQLite's planner prefers the state index, and
 * is told "jobs INDEXED BY jobs_finished".
 */
SqlQuery prunable_jobs_sql(int64_t before_ms, int limit, const std::string &jobs = "jobs");

}  // namespace cartwire::store
