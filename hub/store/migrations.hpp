// Versioned schema. Each entry is one migration; never edit a released one, append a new one.
#pragma once

#include <string>
#include <vector>

namespace cartwire::store {

// The json connector's keys before SDK 1.6 (json:k:…, json:m:…) with the source they came to, as
// it writes them since (json:<source>:k:…): a sender's redelivery across the upgrade is known.
inline constexpr const char kJsonKeysNameTheirSource[] =
    "UPDATE events SET dedupe_key = 'json:' || source || ':' || substr(dedupe_key, 6) "
    "WHERE dedupe_key LIKE 'json:k:%' OR dedupe_key LIKE 'json:m:%'";

inline const std::vector<std::vector<std::string>> &migrations() {
  static const std::vector<std::vector<std::string>> all = {
      // 1: events, jobs, attempts
      {
          "CREATE TABLE events ("
          " id INTEGER PRIMARY KEY,"
          " source TEXT NOT NULL,"
          " type TEXT NOT NULL,"
          " dedupe_key TEXT NOT NULL UNIQUE,"
          " occurred_at TEXT NOT NULL,"
          " received_at INTEGER NOT NULL,"
          " mode TEXT NOT NULL,"
          " email TEXT NOT NULL,"
          " order_id TEXT NOT NULL,"
          " item_ref TEXT NOT NULL,"
          " body TEXT NOT NULL)",
          "CREATE INDEX events_email ON events(email, received_at)",
          "CREATE INDEX events_order ON events(order_id)",
          "CREATE INDEX events_received ON events(received_at)",
          "CREATE TABLE jobs ("
          " id INTEGER PRIMARY KEY,"
          " event_id INTEGER NOT NULL REFERENCES events(id),"
          " rule TEXT NOT NULL,"
          " integration TEXT NOT NULL,"
          " action TEXT NOT NULL,"
          " params TEXT NOT NULL,"
          " state TEXT NOT NULL,"
          " attempts INTEGER NOT NULL,"
          " due_at INTEGER NOT NULL,"
          " ordering_key TEXT,"
          " lease_owner TEXT,"
          " lease_until INTEGER,"
          " last_error TEXT,"
          " created_at INTEGER NOT NULL,"
          " updated_at INTEGER NOT NULL)",
          "CREATE INDEX jobs_due ON jobs(state, due_at)",
          "CREATE INDEX jobs_event ON jobs(event_id)",
          "CREATE INDEX jobs_ordering ON jobs(ordering_key, state) WHERE ordering_key IS NOT NULL",
          "CREATE TABLE attempts ("
          " id INTEGER PRIMARY KEY,"
          " job_id INTEGER NOT NULL REFERENCES jobs(id),"
          " number INTEGER NOT NULL,"
          " started_at INTEGER NOT NULL,"
          " duration_ms INTEGER NOT NULL,"
          " outcome TEXT NOT NULL,"
          " error TEXT,"
          " exchanges TEXT NOT NULL)",
          "CREATE INDEX attempts_job ON attempts(job_id, number)",
      },
      // 2: cached resource lists of integrations (courses, tags, ...)
      {
          "CREATE TABLE resource_lists ("
          " integration TEXT NOT NULL,"
          " name TEXT NOT NULL,"
          " items TEXT NOT NULL,"
          " refreshed_at INTEGER NOT NULL,"
          " PRIMARY KEY (integration, name))",
      },
      // 3: execution log search, newest first (admin API)
      {
          "CREATE INDEX jobs_state_id ON jobs(state, id)",
          "CREATE INDEX jobs_integration_id ON jobs(integration, id)",
          "CREATE INDEX jobs_created ON jobs(created_at)",
          "CREATE INDEX events_item ON events(item_ref)",
          "CREATE INDEX events_type ON events(type, received_at)",
      },
      // 4: poll sources: the cursor of the last successful poll, when the next is due, who holds it
      {
          "CREATE TABLE poll_state ("
          " source TEXT PRIMARY KEY,"
          " cursor TEXT NOT NULL,"
          " next_at INTEGER NOT NULL,"
          " failures INTEGER NOT NULL,"
          " last_error TEXT,"
          " lease_owner TEXT,"
          " lease_until INTEGER,"
          " polled_at INTEGER,"
          " updated_at INTEGER NOT NULL)",
      },
      // 5: what a source sent, stored once for all the events made of it
      // (an order of three items was three copies of the same payload)
      {
          "CREATE TABLE payloads (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
          "ALTER TABLE events ADD COLUMN payload_id INTEGER REFERENCES payloads(id)",
      },
      // 6: when each attempt was due; started_at - due_at is how long it waited for a worker
      // (NULL for attempts recorded before)
      {
          "ALTER TABLE attempts ADD COLUMN due_at INTEGER",
      },
      // 7: retention finds finished jobs by when they finished
      {
          "CREATE INDEX jobs_finished ON jobs(updated_at) WHERE state IN ('succeeded', 'failed', 'dead')",
      },
      // 8: the json connector's keys name their source
      {
          kJsonKeysNameTheirSource,
      },
      // 9: each replay of a job: when, after which attempt, and the parameters a replay with the
      // current rule replaced
      {
          "CREATE TABLE IF NOT EXISTS replays (id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL REFERENCES jobs(id), "
          "at INTEGER NOT NULL, rule TEXT NOT NULL, after_attempt INTEGER NOT NULL, params TEXT)",
          "CREATE INDEX IF NOT EXISTS replays_job ON replays(job_id, id)",
      },
      // 10: the node that made each attempt
      {
          "ALTER TABLE attempts ADD COLUMN node TEXT",
      },
      // 11: an integration's jobs in one state, newest first: a search by integration and state reads the
      // jobs that match, not every job of the integration (SQLite keeps no statistics of single values)
      {
          "CREATE INDEX IF NOT EXISTS jobs_integration_state ON jobs(integration, state, id)",
      },
      // 12: a poll source left out after its poll stopped a node: why, the digest of the settings it
      // is left out with, and the node that left it out
      {
          "ALTER TABLE poll_state ADD COLUMN left_out TEXT",
          "ALTER TABLE poll_state ADD COLUMN left_out_settings TEXT",
          "ALTER TABLE poll_state ADD COLUMN left_out_by TEXT",
      },
      // 13: the node a source's mark was ended on (an operator's "poll again" there, or the start of the
      // node that recorded it), which the recording node, still running without the source, reads
      {
          "ALTER TABLE poll_state ADD COLUMN left_out_ended_on TEXT",
      },
  };
  return all;
}

/**
 * The PostgreSQL schema, versioned on its own: its first version is the
 * SQLite schema as of version 6, in PostgreSQL's types.
 */
inline const std::vector<std::vector<std::string>> &postgresql_migrations() {
  static const std::vector<std::vector<std::string>> all = {
      // 1: events and what they were made of, jobs, attempts, lists, poll sources
      {
          "CREATE TABLE payloads (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)",
          "CREATE TABLE events ("
          " id BIGSERIAL PRIMARY KEY,"
          " source TEXT NOT NULL,"
          " type TEXT NOT NULL,"
          " dedupe_key TEXT NOT NULL UNIQUE,"
          " occurred_at TEXT NOT NULL,"
          " received_at BIGINT NOT NULL,"
          " mode TEXT NOT NULL,"
          " email TEXT NOT NULL,"
          " order_id TEXT NOT NULL,"
          " item_ref TEXT NOT NULL,"
          " body TEXT NOT NULL,"
          " payload_id BIGINT REFERENCES payloads(id))",
          "CREATE INDEX events_email ON events(email, received_at)",
          "CREATE INDEX events_order ON events(order_id)",
          "CREATE INDEX events_received ON events(received_at)",
          "CREATE INDEX events_item ON events(item_ref text_pattern_ops)",
          "CREATE INDEX events_type ON events(type, received_at)",
          "CREATE TABLE jobs ("
          " id BIGSERIAL PRIMARY KEY,"
          " event_id BIGINT NOT NULL REFERENCES events(id),"
          " rule TEXT NOT NULL,"
          " integration TEXT NOT NULL,"
          " action TEXT NOT NULL,"
          " params TEXT NOT NULL,"
          " state TEXT NOT NULL,"
          " attempts INTEGER NOT NULL,"
          " due_at BIGINT NOT NULL,"
          " ordering_key TEXT,"
          " lease_owner TEXT,"
          " lease_until BIGINT,"
          " last_error TEXT,"
          " created_at BIGINT NOT NULL,"
          " updated_at BIGINT NOT NULL)",
          "CREATE INDEX jobs_due ON jobs(state, due_at, id)",
          "CREATE INDEX jobs_event ON jobs(event_id)",
          "CREATE INDEX jobs_ordering ON jobs(ordering_key, state) WHERE ordering_key IS NOT NULL",
          "CREATE INDEX jobs_state_id ON jobs(state, id)",
          "CREATE INDEX jobs_integration_id ON jobs(integration, id)",
          "CREATE INDEX jobs_created ON jobs(created_at)",
          "CREATE TABLE attempts ("
          " id BIGSERIAL PRIMARY KEY,"
          " job_id BIGINT NOT NULL REFERENCES jobs(id),"
          " number INTEGER NOT NULL,"
          " started_at BIGINT NOT NULL,"
          " duration_ms BIGINT NOT NULL,"
          " outcome TEXT NOT NULL,"
          " error TEXT,"
          " exchanges TEXT NOT NULL,"
          " due_at BIGINT)",
          "CREATE INDEX attempts_job ON attempts(job_id, number)",
          "CREATE TABLE resource_lists ("
          " integration TEXT NOT NULL,"
          " name TEXT NOT NULL,"
          " items TEXT NOT NULL,"
          " refreshed_at BIGINT NOT NULL,"
          " PRIMARY KEY (integration, name))",
          "CREATE TABLE poll_state ("
          " source TEXT PRIMARY KEY,"
          " cursor TEXT NOT NULL,"
          " next_at BIGINT NOT NULL,"
          " failures INTEGER NOT NULL,"
          " last_error TEXT,"
          " lease_owner TEXT,"
          " lease_until BIGINT,"
          " polled_at BIGINT,"
          " updated_at BIGINT NOT NULL)",
      },
      // 2: retention finds finished jobs by when they finished
      {
          "CREATE INDEX jobs_finished ON jobs(updated_at) WHERE state IN ('succeeded', 'failed', 'dead')",
      },
      // 3: the names nodes have run under; a node is live while it holds its name's lock
      {
          "CREATE TABLE nodes(name TEXT PRIMARY KEY, started_at BIGINT NOT NULL)",
      },
      // 4: as SQLite's 8, the json connector's keys name their source
      {
          kJsonKeysNameTheirSource,
      },
      // 5: what each node runs, for the others to compare with theirs
      {
          "ALTER TABLE nodes ADD COLUMN config TEXT",
      },
      // 6: as SQLite's 9, each replay of a job
      {
          "CREATE TABLE IF NOT EXISTS replays (id BIGSERIAL PRIMARY KEY, job_id BIGINT NOT NULL REFERENCES jobs(id), "
          "at BIGINT NOT NULL, rule TEXT NOT NULL, after_attempt INTEGER NOT NULL, params TEXT)",
          "CREATE INDEX IF NOT EXISTS replays_job ON replays(job_id, id)",
      },
      // 7: as SQLite's 10, the node that made each attempt
      {
          "ALTER TABLE attempts ADD COLUMN node TEXT",
      },
      // 8: the process holding each node's name (its machine, pid and start) and its session, so
      // that a node started again tells its previous process's session from another node's
      {
          "ALTER TABLE nodes ADD COLUMN machine TEXT, ADD COLUMN pid INTEGER, ADD COLUMN pid_start BIGINT, "
          "ADD COLUMN session_pid INTEGER, ADD COLUMN session_start BIGINT",
      },
      // 9: as SQLite's 12, a poll source left out after its poll stopped a node
      {
          "ALTER TABLE poll_state ADD COLUMN left_out TEXT, ADD COLUMN left_out_settings TEXT, "
          "ADD COLUMN left_out_by TEXT",
      },
      // 10: as SQLite's 13, the node a source's mark was ended on
      {
          "ALTER TABLE poll_state ADD COLUMN left_out_ended_on TEXT",
      },
  };
  return all;
}

}  // namespace cartwire::store
