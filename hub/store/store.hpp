// Durable storage of events, jobs and attempts. SQLite is the embedded
// implementation; the interface is written so that a shared SQL server can
// back several hub nodes (leases instead of in-process locks).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "store/group_commit.hpp"

#include <cartwire/sdk/json.hpp>

namespace cartwire::store {

using Json = sdk::Json;

enum class JobState { queued, running, succeeded, failed, dead };
const char *to_string(JobState state);

struct NewJob {
  std::string rule;
  std::string integration;
  std::string action;
  Json params = Json::object();
  /** Jobs with the same key run one at a time, in id order (per customer and integration). Empty: no order. */
  std::string ordering_key;
  /**
   * Set when a worker of this node takes the job as soon as it is stored (no
   * claim): the job is stored running under this node's lease until
   * lease_until. Empty: stored queued, due now.
   */
  std::string lease_owner;
  int64_t lease_until = 0;
};

struct NewEvent {
  Json event;  // canonical event without id; must hold type, source and dedupe_key
  std::vector<NewJob> jobs;
  // The event's `raw` when it is shared with other events of the batch and
  // kept out of `event`; owned by the caller. Stored once per distinct pointer.
  const Json *raw = nullptr;
  // Other dedupe keys the same fact may be stored under (sdk::kDedupeAlternatives): the event is a
  // duplicate of the one stored under any of them, which the accept looks up in its own transaction. Events
  // of one fact name each other's keys (each is looked up by whichever is stored second).
  std::vector<std::string> alternatives;
};

struct Accepted {
  int64_t event_id = 0;
  bool duplicate = false;  // an event with the same dedupe_key was already stored; no jobs added
  bool under_alternative = false;  // a duplicate of the event stored under one of NewEvent::alternatives
  std::size_t jobs = 0;
  std::vector<int64_t> job_ids;  // of the event's jobs, in order; empty for a duplicate
  // The stored event as JSON text, with its id and raw, for every new event
  // that has jobs leased at accept (their runner sends it as it is).
  std::string text;
};

struct ClaimedJob {
  int64_t id = 0;
  int64_t event_id = 0;
  std::string rule;
  std::string integration;
  std::string action;
  Json params;
  Json event;
  // The event as JSON text, for a job handed over at accept to an integration
  // that sends it as it is: `event` stays null until something needs the
  // tree (a dead job). Jobs that read the tree are handed `event` instead.
  std::string event_text;
  int attempts = 0;  // attempts made before this one
  int64_t created_at = 0;
  int64_t due_at = 0;  // when this attempt was due
  int64_t leased_at = 0;  // when this node's lease on it began (its claim, or the accept that handed it over)
};

struct AttemptRecord {
  int64_t job_id = 0;
  int number = 0;
  int64_t started_at = 0;
  int64_t duration_ms = 0;
  std::string outcome;  // ok | retryable | permanent | config
  std::string error;
  Json exchanges = Json::array();  // redacted request/response pairs
  int64_t due_at = 0;  // when the attempt was due; 0: not recorded (attempts stored before schema 6)
  std::string node{};  // the node that made it; "" for attempts stored before SQLite's schema 10, PostgreSQL's 7
  // When the lease it ran under began (ClaimedJob::leased_at), which with `node` names that lease; not stored.
  int64_t leased_at = 0;
};

/** What the runner decided after an attempt. */
struct JobUpdate {
  JobState state = JobState::succeeded;
  int64_t due_at = 0;  // for queued (retry) only
  std::string last_error;
};

/** An attempt with its job's next state, as the runner records them. */
struct Finished {
  AttemptRecord attempt;
  JobUpdate update;
};

/**
 * The jobs whose attempts were recorded late (see Store::finish), by id: the
 * node that holds the job now, or "" when none does (another attempt of it
 * was recorded meanwhile).
 */
using LateRecords = std::map<int64_t, std::string>;

struct JobRow {
  int64_t id = 0;
  int64_t event_id = 0;
  std::string rule, integration, action, state, last_error;
  int attempts = 0;
  int64_t due_at = 0;
  Json params;
};

/** A replay of a job, as its history keeps it (Store::replays). */
struct ReplayRecord {
  int64_t at = 0;
  std::string rule;       // original: sent again as it was | current: given the parameters of its rule as it is now
  int after_attempt = 0;  // the attempts the job had made when it was replayed
  Json params;            // current: the parameters the job had until then; null for original
};

/**
 * Filters of the execution log (admin API). Empty strings and zero numbers do
 * not filter. Results come newest first; `before_id` pages on (the id of the
 * last row seen), which stays fast however deep the log is.
 */
struct Search {
  std::string email;     // matched lower-cased, as stored
  std::string order_id;
  std::string item_ref;  // exact, or a prefix when it ends with '*' (upsell-*)
  std::string integration, action, rule;
  std::string type, source, mode;  // of the event
  std::vector<std::string> states;  // job states, any of
  int64_t event_id = 0;
  int64_t since_ms = 0;  // jobs: created at or after; events: received at or after
  int64_t until_ms = 0;  // before
  int64_t before_id = 0;
  int limit = 50;
};

/** A job with what the execution log shows of its event. */
struct JobSummary {
  JobRow job;
  int64_t created_at = 0, updated_at = 0;
  std::string event_type, source, mode, email, order_id, item_ref;
};

/** An event's searchable columns (the body is read with Store::event). */
struct EventRow {
  int64_t id = 0;
  std::string source, type, dedupe_key, occurred_at, mode, email, order_id, item_ref;
  int64_t received_at = 0;
  int64_t jobs = 0;
};

/** Counts per time bucket for the console's charts (see Store::activity). */
struct Activity {
  struct Bucket {
    int64_t start = 0;  // ms
    int64_t events = 0;
    std::map<std::string, int64_t> jobs;  // by state
  };
  std::vector<Bucket> buckets;  // every bucket of the range, empty ones too, oldest first
  /** Failed and dead jobs of the range by integration, then by state. */
  std::map<std::string, std::map<std::string, int64_t>> failures;
};

/** A cached resource list of an integration. */
struct CachedList {
  Json items = Json::array();  // [{"id": "42", "name": "...", ...}]
  int64_t refreshed_at = 0;
};

/** What Store::claim_poll() found for a poll source. */
struct PollClaim {
  /** True when this node now holds the poll; false when it is not due yet or another node holds it. */
  bool claimed = false;
  /** The cursor of the last successful poll; null before the first. */
  Json cursor = nullptr;
  /** Polls that failed in a row before this one. */
  int failures = 0;
  /**
   * When not claimed: when the poll is due (or its lease ends, or, on a shared store, a few seconds
   * on, to see whether the node holding it was killed meanwhile); look again then.
   */
  int64_t next_at = 0;
  /**
   * When not claimed for it: why the source is left out (Store::leave_out_poll), for the settings
   * the claim named; empty when it is not.
   */
  std::string left_out;
};

/** How a poll source fares, as the console shows it. */
struct PollStatus {
  /** When the last poll ended (successful or not); none before the first. */
  std::optional<int64_t> polled_at;
  /** When the next poll is due. */
  int64_t next_at = 0;
  /** Polls that failed in a row since the last successful one, and the error of the last (never a secret). */
  int failures = 0;
  std::string last_error;
  /** The node polling now, while its lease holds; empty when none is. */
  std::string polling_node;
  /**
   * Why the source is left out after its poll stopped a node (Store::leave_out_poll), and the
   * settings it is left out with; both empty when it is not.
   */
  std::string left_out, left_out_settings;
  /**
   * The node its last mark was ended on (Store::end_left_out_poll, or the start of the node that
   * recorded it: Store::end_left_out_polls); empty while it is marked, or when none was ended.
   */
  std::string left_out_ended_on;
};

/**
 * How often a node on a shared store counts the nodes sharing it (count_nodes), which takes its
 * name again on a new session when the database restarted.
 */
inline constexpr std::chrono::seconds kNodeCountInterval{5};
/**
 * How long after a node connects again to a shared store the other nodes may take to (each does at
 * the latest at its next count, which fails while the database is away and is tried again): until
 * then, a name no session holds may be that of a node that runs.
 */
inline constexpr std::chrono::seconds kRejoinTime = 2 * kNodeCountInterval;

/** Another hub holds what hold_node asked for: it runs on this store already. */
class NodeInUse : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/** A thread of the store could not start (the system is out of threads): no fault of its file or server. */
class ThreadNotStarted : public std::system_error {
 public:
  using std::system_error::system_error;
};

/**
 * The store could not write (its disk is full, a file size limit is reached,
 * a write to its disk failed): nothing of that write was stored, and the same
 * write may succeed once there is room again.
 */
class WriteFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/**
 * The store's database server cannot be reached now (it is down or
 * restarting, or refuses this hub's login): nothing of that statement was
 * done, and it may succeed once the server is back.
 */
class Unreachable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/**
 * The database server's lock table, which all its sessions share, cannot hold
 * the locks the transaction took (PostgreSQL's "out of shared memory", sized
 * by max_locks_per_transaction): nothing of it was stored, and a transaction
 * taking fewer locks (storing fewer events) may fit.
 */
class LockTableFull : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/**
 * Told, on the thread that runs a claim, which job it reads and leases: so
 * that a fatal signal meanwhile (the hub's own code failing on that job's row)
 * is put down to that job. Called with the job's id and the attempts it had
 * made as the claim found it, then with 0 once the claim is past it.
 */
class ClaimWatch {
 public:
  virtual ~ClaimWatch() = default;
  virtual void claiming(int64_t job, int attempts) noexcept = 0;
  /**
   * The row of `job` (with the `attempts` it had made) could not be read into
   * a job: reading it threw `why`. The claim left it out, not leased (or,
   * leased already, put back in the queue), and took the others.
   */
  virtual void unreadable(int64_t job, int attempts, const std::string &why) noexcept {}
};

/** Tells `watch` (if any) of `job` for as long as it lives, then of none. */
class Claiming {
 public:
  Claiming(ClaimWatch *watch, int64_t job, int attempts) noexcept : watch_(watch) {
    if (watch_) watch_->claiming(job, attempts);
  }
  ~Claiming() {
    if (watch_) watch_->claiming(0, 0);
  }
  Claiming(const Claiming &) = delete;
  Claiming &operator=(const Claiming &) = delete;

 private:
  ClaimWatch *watch_;
};

class Store {
 public:
  virtual ~Store() = default;

  /**
   * Store events and their jobs in one transaction. When this returns, all
   * of it is durable; events whose dedupe_key, or one of whose alternatives,
   * is already stored (by an earlier transaction, another process or node,
   * or an earlier event of this batch) are reported as duplicates of it and
   * add nothing. Throws on a storage failure (nothing stored).
   */
  virtual std::vector<Accepted> accept(std::vector<NewEvent> &events, int64_t now_ms) = 0;

  /** Which of `dedupe_keys` are already stored (an import's dry run). */
  virtual std::set<std::string> stored_keys(const std::vector<std::string> &dedupe_keys) = 0;

  /**
   * Claim up to `limit` jobs that are due (queued with due_at <= now, or running
   * with an expired lease), respecting ordering keys, and mark them running
   * under `node`'s lease until now + lease_ms. An integration listed in
   * `concurrency` gets no job while it has that many running already; one in
   * `room` (its rate budget) gets at most that many jobs from this claim.
   * `watch` is told of each job as its row is read, and as it is leased when
   * that comes after (a shared store leases first, and reads the rows of the
   * jobs it leased once that is committed), and of each job whose row could
   * not be read: that job is not leased (a shared store puts it back), and the
   * claim goes on with the others.
   */
  virtual std::vector<ClaimedJob> claim(const std::string &node, int64_t now_ms, int64_t lease_ms, int limit,
                                        const std::map<std::string, int> &concurrency = {},
                                        const std::map<std::string, int> &room = {},
                                        ClaimWatch *watch = nullptr) = 0;

  /**
   * Record an attempt and move its job on, in one transaction. The attempt is
   * always recorded: it was made. Its job moves on only while the lease the
   * attempt ran under (attempt.node's, begun at attempt.leased_at) still holds
   * it. A record that comes after that lease ended and another claim took the
   * job (another node's, or this node's again) leaves the job to that claim's
   * attempt, and is returned as late; so is one that comes after another
   * attempt of the job was recorded. An attempt recorded already (a record
   * made again after a commit whose answer was lost) is not added again.
   */
  virtual LateRecords finish(const AttemptRecord &attempt, const JobUpdate &update, int64_t now_ms) = 0;

  /**
   * finish() for several jobs, in one transaction (all or nothing). Each
   * attempt's number becomes the one it was recorded as: one higher than the
   * claim gave it when another attempt of its job was recorded meanwhile (one
   * under a lease that had ended, recorded late).
   */
  virtual LateRecords finish_batch(std::vector<Finished> &done, int64_t now_ms) = 0;

  /** Put every job `node` left running back in the queue (start-up after a crash). */
  virtual int requeue_running(const std::string &node) = 0;

  /**
   * A job whose attempt `node`'s process died in (a connector crashed the
   * hub): `attempt`, numbered and given its due time and node here, is recorded as
   * the job's last and the job failed for good, so that no start runs it
   * again. False when `node` no longer holds the job running.
   */
  virtual bool fail_interrupted(AttemptRecord attempt, const std::string &node, int64_t now_ms) = 0;

  /**
   * A job whose claim a process died in (the hub's own code failed on its
   * row, which would stop it again at each claim): `attempt`, numbered and
   * given its due time here, is recorded as the job's last and the job failed
   * for good, if it has not moved on since: it is still queued, or running
   * under a lease that has ended or under a lease of `attempt.node` (the
   * crashed claim's own: a shared store commits a claim's leases before it
   * reads the rows), with the `attempts` it had then. False when it moved on
   * (another node ran it or holds it, or it was replayed), and nothing changes.
   */
  virtual bool fail_claimed(AttemptRecord attempt, int attempts, int64_t now_ms) = 0;

  /** Put these jobs back in the queue if `node` still holds them running (a worker could not take them). */
  virtual void release(const std::vector<int64_t> &job_ids, const std::string &node) = 0;

  /** release() with a due time per job, {id, due_at}, in one write; no attempt is counted. */
  virtual void defer(const std::vector<std::pair<int64_t, int64_t>> &jobs, const std::string &node) = 0;

  /** Extend to `lease_until` the leases `node` holds on these running jobs (an attempt outlasting the lease). */
  virtual void renew_leases(const std::vector<int64_t> &job_ids, const std::string &node, int64_t lease_until) = 0;

  /** The earliest due_at among queued jobs, if any. */
  virtual std::optional<int64_t> next_due() = 0;

  /** Replace the cached items of one list. */
  virtual void save_list(const std::string &integration, const std::string &name, const Json &items,
                         int64_t now_ms) = 0;
  virtual std::optional<CachedList> load_list(const std::string &integration, const std::string &name) = 0;

  /**
   * Poll sources. A poll is claimed by one node at a time: claim_poll() takes
   * the source's lease until now + lease_ms when the poll is due (its next_at
   * has come), no other node holds an unexpired lease (on a shared store,
   * the lease of a node killed, whose name no session holds, ends a few
   * seconds on, as for jobs) and the source is not left out with these
   * `settings` (leave_out_poll()). The holder then ends
   * the poll with commit_poll() or fail_poll(), which release the lease and
   * set when the poll is due next; meanwhile it extends the lease with
   * renew_poll() (a poll outlasting it).
   */
  virtual PollClaim claim_poll(const std::string &source, const std::string &node, int64_t now_ms,
                               int64_t lease_ms, const std::string &settings = "") = 0;
  /**
   * A poll source whose poll stopped `node`'s last run (its crash note) is
   * left out: a claim_poll() naming these `settings` (a digest of the
   * source's settings) is refused, with `why`, on every node sharing the
   * store, so that another node does not poll it from the same cursor and
   * stop too. The lease `node` held on it (that run's) is released. The mark
   * lasts until end_left_out_polls() or end_left_out_poll(), or until another
   * mark takes its place.
   */
  virtual void leave_out_poll(const std::string &source, const std::string &settings, const std::string &node,
                              const std::string &why, int64_t now_ms) = 0;
  /**
   * Ends the marks of leave_out_poll() that `node` recorded (at its previous
   * start), but those of the sources in `kept` (this start's): a start tries
   * the others again. A SQLite file, which one node holds at a time, ends
   * every mark but those. Returns the sources whose marks ended, each now
   * ended on `node` (PollStatus::left_out_ended_on).
   */
  virtual std::vector<std::string> end_left_out_polls(const std::string &node,
                                                      const std::vector<std::string> &kept = {}) = 0;
  /**
   * Ends the mark of leave_out_poll() on `source`, whatever its settings and
   * whichever node recorded it, for every node sharing the store (an
   * operator's "poll again", once the connector is fixed, asked of `node`),
   * which is then the node it was ended on (PollStatus::left_out_ended_on).
   * Returns the node that recorded it; nullopt when the source had none.
   */
  virtual std::optional<std::string> end_left_out_poll(const std::string &source, const std::string &node) = 0;
  /** The poll state of `source` at `now_ms`; none before its first poll was claimed. */
  virtual std::optional<PollStatus> poll_status(const std::string &source, int64_t now_ms) = 0;
  /** Extend to `lease_until` the lease `node` holds on the poll of `source`, if it still holds it. */
  virtual void renew_poll(const std::string &source, const std::string &node, int64_t lease_until) = 0;
  /**
   * Store a poll's events (as accept() does) and its new cursor in one
   * transaction, reset the failure count and release the lease. Throws, and
   * stores nothing, when `node` no longer holds the lease.
   */
  virtual std::vector<Accepted> commit_poll(const std::string &source, const std::string &node,
                                            std::vector<NewEvent> &events, const Json &cursor, int64_t next_at,
                                            int64_t now_ms) = 0;
  /** Count a failed poll (the cursor stays), keep its error (never a secret) and release the lease. */
  virtual void fail_poll(const std::string &source, const std::string &node, const std::string &error,
                         int64_t next_at, int64_t now_ms) = 0;

  virtual std::optional<JobRow> job(int64_t id) = 0;
  virtual std::optional<Json> event(int64_t id) = 0;
  /**
   * The subscription events of `source` for one subscription of one customer
   * (charge_failed, charged, recovered, restarted, delinquent), newest first,
   * at most `limit`: {type, dedupe_key}.
   */
  virtual std::vector<std::pair<std::string, std::string>> subscription_history(const std::string &source,
                                                                                 const std::string &email,
                                                                                 const std::string &subscription_id,
                                                                                 int limit) = 0;
  /** The first stored product.purchased event of `source` for this order and item reference. */
  virtual std::optional<Json> purchase(const std::string &source, const std::string &order_id,
                                       const std::string &item_ref) = 0;
  virtual std::vector<AttemptRecord> attempts(int64_t job_id) = 0;
  virtual int64_t count(const std::string &table) = 0;
  /**
   * Throws when the store cannot be reached (readiness), or WriteFailed while
   * it cannot write; cheap at any size.
   */
  virtual void ping() = 0;

  /**
   * Hold the name `node` for as long as this store is open: a store that
   * several nodes share refuses a name another open store holds, and a SQLite
   * file any second hub (throws NodeInUse).
   */
  virtual void hold_node(const std::string &node) { (void)node; }

  /**
   * Each writer's work done in a shared commit (an accept, an attempt's
   * record, a claim) is done under that writer's mark in `marks`, whichever
   * thread does it, from then on.
   */
  virtual void mark_work_with(WorkMarks *marks) { (void)marks; }
  /**
   * `lost` is called, once, by the thread that finds that another node holds
   * this node's name now: it took it while this node's connection to a
   * shared store was lost. From then on the store refuses every claim and
   * every write (NodeInUse). A store of one node never calls it.
   */
  virtual void on_name_lost(std::function<void(const std::string &why)> lost) { (void)lost; }
  /**
   * `cut` is called, after the claim that did it, each time this node cut
   * short what was leased under the name of a node whose session is gone (it
   * was killed): with that name, and how many jobs' leases, or the source
   * whose poll's lease it was (jobs 0). A store of one node never calls it.
   */
  virtual void on_leases_cut(std::function<void(const std::string &node, int jobs, const std::string &source)> cut) {
    (void)cut;
  }
  /**
   * Since when this node holds its name as it does now: since it took it at
   * its start, or again after its connection to a shared store was lost (a
   * restart of the database, which every node's connection comes back from
   * in turn). Long ago for a store of one node.
   */
  virtual std::chrono::steady_clock::time_point name_held_since() { return {}; }
  /** How many nodes hold their names on this store now (this one included): 1 for a store of one node. */
  virtual int count_nodes() { return 1; }
  /**
   * Notes what `node` runs now (the fingerprint of its configuration), for
   * the other nodes to compare with theirs; a store of one node keeps none.
   */
  virtual void note_config(const std::string &node, const std::string &fingerprint) {
    (void)node;
    (void)fingerprint;
  }
  /** What each node holding its name runs, as it noted it ("" for one that noted none yet), by node. */
  virtual std::map<std::string, std::string> node_configs() { return {}; }

  /** Execution log search (see Search); at most `limit` rows. */
  virtual std::vector<JobSummary> search_jobs(const Search &query) = 0;
  virtual std::vector<EventRow> search_events(const Search &query) = 0;

  /**
   * Put a failed or dead job back in the queue, due now, with the parameters
   * it has; its attempts stay recorded and numbering goes on, and the replay
   * is added to its history (replays). False when the job is in another
   * state (a job running on another node included), and nothing changes.
   */
  virtual bool replay(int64_t job_id, int64_t now_ms) = 0;
  /**
   * replay() with new parameters (those its rule gives it now): the job's
   * parameters become `params`, and those it had are kept in its history.
   */
  virtual bool replay_with(int64_t job_id, const Json &params, int64_t now_ms) = 0;
  /** replay() every failed or dead job the query matches (up to its limit); returns their ids. */
  virtual std::vector<int64_t> replay_matching(const Search &query, int64_t now_ms) = 0;
  /** The replays of a job, oldest first. */
  virtual std::vector<ReplayRecord> replays(int64_t job_id) = 0;

  /**
   * Remove up to `limit` finished jobs (succeeded, failed, dead) last changed
   * before `before_ms`, with their attempts, in one transaction; returns how
   * many. Their events stay.
   */
  virtual int prune(int64_t before_ms, int limit) = 0;

  /** Number of jobs in each state. */
  virtual std::map<std::string, int64_t> job_counts() = 0;

  /**
   * Events received and jobs created in [since_ms, until_ms), counted in
   * buckets of bucket_ms starting at since_ms (jobs by their current state).
   */
  virtual Activity activity(int64_t since_ms, int64_t until_ms, int64_t bucket_ms) = 0;
};

/**
 * Open (and migrate) the SQLite store at `path`; creates the file and its
 * directory. With `node`, the store holds the file for that node (hold_node)
 * before it reads or changes anything in it.
 */
std::unique_ptr<Store> open_sqlite(const std::string &path, const std::string &synchronous = "full",
                                   const std::string &node = "");

/**
 * Connect to (and migrate) the PostgreSQL store that several hub nodes share;
 * `conninfo` is a libpq connection string or URI. Loads the PostgreSQL module
 * with the first call. Without `migrate`, a database whose schema is not this
 * hub's is refused rather than changed (commands that only read). Throws when
 * the module or the server cannot be reached.
 */
std::unique_ptr<Store> open_postgresql(const std::string &conninfo, bool migrate = true);

/** The parts of a libpq connection string or URI that are set, by keyword; throws std::invalid_argument. */
std::map<std::string, std::string> postgresql_parts(const std::string &conninfo);

/** The database a connection string names, for messages: where it is, never its password. */
std::string describe_postgresql(const std::string &conninfo);

}  // namespace cartwire::store
