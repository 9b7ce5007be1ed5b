// The hub's core: sources and integrations built from config, the accept path
// (verify → normalise → match → store), and the plan of jobs for an event.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "engine/log_throttle.hpp"
#include "plugins/instance.hpp"
#include "plugins/registry.hpp"
#include "rules/matcher.hpp"
#include "store/store.hpp"

namespace cartwire::engine {

using Json = sdk::Json;

struct HookResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

/** An integration's field mapping (remote field -> event path) rendered for one event; absent fields are left out. */
Json map_fields(const std::map<std::string, std::string> &mapping, const Json &event);

/**
 * What dry_run() reports for one job: the job as it would be stored, the
 * mapped fields, and the requests its action would send (redacted; each
 * answered 200 with an empty object, as by a remote that knows nothing yet).
 */
struct PlannedJob {
  store::NewJob job;
  Json fields = Json::object();
  bool available = false;  // the integration is up; false means the job would fail with a config error
  Json requests = Json::array();
  /** The action's own verdict on those made-up answers: "ok", or why it would stop. */
  std::string outcome, message;
};

/** What Engine::replan() makes of a job: the parameters its rule gives it now, or why it cannot. */
struct Replanned {
  Json params;          // when nothing is refused
  std::string refused;  // why the rule as it is now makes no such job of its event
};

/** What accept_test() stored. */
struct TestAccepted {
  Json event;
  store::Accepted accepted;
};

/** An instance that could not be created, with the reason (shown at start-up and by `check`). */
struct Unavailable {
  std::string id;
  std::string reason;
};

/**
 * Takes new jobs that are due now straight to a worker of this node, without
 * a claim: the engine stores them running under the node's lease, then hands
 * them over. A crash before they run leaves them leased to the node, which
 * requeues them when it starts again. The runner implements it.
 */
class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  /** How many more jobs it takes now: 0 when it is not running or already has enough waiting. */
  virtual std::size_t room() = 0;
  virtual const std::string &node() const = 0;
  virtual int64_t lease_ms() const = 0;
  /**
   * Jobs stored under its lease, moved in when it takes them. When it has
   * stopped it puts them back in the queue for a claim and returns false.
   */
  virtual bool take(std::vector<store::ClaimedJob> &jobs) = 0;
};

class Engine {
 public:
  Engine(const config::HubConfig &config, const plugins::Registry &registry, store::Store &store,
         plugins::HostServices &services);

  /**
   * Handle a request to /hooks/<source_id>. Answers 2xx only after the events
   * and jobs are durable. A refusal (4xx) is logged with its reason, at most
   * once per source every 10 s (the next line counts those in between).
   */
  HookResponse handle_webhook(const std::string &source_id, sdk::WebhookRequest request);

  /**
   * Store events raised by the hub itself (such as hub.job.dead) with the jobs
   * their rules produce. Returns the number of new events.
   */
  std::size_t emit(std::vector<Json> events);

  /**
   * Every secret of this configuration, every text setting of a connector
   * that is not loaded included, for what leaves the hub through the admin
   * API (see hub_secrets).
   */
  const std::shared_ptr<const plugins::Redactor> &secrets() const { return secrets_; }

  /** The jobs an event produces under the current rules (used by accept and by dry runs). */
  std::vector<store::NewJob> plan(const Json &event) const;

  /**
   * The parameters a job gets from its rule as it is in this configuration (a
   * replay with the current rule): those of the job plan() makes of its
   * stored event under the rule of the job's name, templates rendered as for
   * a new job. Refused when that rule is gone, idle, runs another integration
   * or action, or no longer takes the event.
   */
  Replanned replan(const store::JobRow &job, Json event) const;

  /**
   * An event as the admin API posts it, completed the way sources complete
   * theirs (occurred_at, mode), then the jobs it would create and what each
   * would send, without storing or sending anything. Throws
   * std::invalid_argument when the event has no type.
   */
  std::vector<PlannedJob> dry_run(Json &event) const;

  /**
   * Store a synthetic event through the same path as webhooks, marked source
   * "admin-test" and mode "test" so that live-only rules skip it and it can
   * be told apart; its dedupe_key is namespaced to never collide with a real
   * fact, and it names no other key (sdk::kDedupeAlternatives is dropped).
   * Throws std::invalid_argument with the reason when the event is not
   * one a sender may give (sdk::event_problem, as the json connector checks).
   */
  TestAccepted accept_test(Json event);

  /**
   * After a configuration reload: requests that still reach this engine (the
   * webhook listener keeps the engine it started with) are handed to `next`.
   */
  void hand_over(std::shared_ptr<Engine> next);

  /**
   * A source's events as its connector emitted them (from a webhook or a
   * poll), completed with source, occurred_at and mode, with the jobs the
   * rules make of them. A `shared_raw` (the payload every event of a webhook
   * reply shares) stays out of the events and is stored once; each NewEvent
   * points at it. A refund its source could not verify is settled first
   * (settle_refund). The other keys an event names for its fact
   * (sdk::kDedupeAlternatives) are taken out of it into its NewEvent, for the
   * accept to look up in its transaction (take_alternatives).
   * Throws std::invalid_argument when an event lacks type or dedupe_key.
   */
  std::vector<store::NewEvent> prepare(const std::string &source_id, std::vector<Json> events, int64_t now,
                                       Json *shared_raw = nullptr) const;
  /**
   * A product.refunded event whose source could not tell a full refund from a
   * partial one (refund.unverified) is compared with the stored purchase of
   * the same item on the same order: a smaller amount makes it
   * product.partially_refunded. Without a stored purchase it stays as it is.
   */
  void settle_refund(Json &event, const std::string &source_id) const;
  /**
   * For a source whose cart never says a subscription is delinquent: the
   * subscription.delinquent event its 4th failed charge in a row makes (none
   * when there is one since the last successful charge).
   */
  std::optional<Json> delinquency(const Json &failed, const std::string &source_id) const;
  /** Log what a source's batch stored and wake the runner when it queued jobs for a claim. */
  void accepted(const std::string &source_id, const std::vector<store::Accepted> &stored, bool queued = true);

  plugins::Instance *integration(const std::string &id) const;
  /**
   * Whether an integration's jobs read their event as a tree (a field mapping,
   * or a connector on the native seam) rather than send it as JSON text.
   */
  bool reads_event_tree(const std::string &integration) const;
  /** A source's instance; null when it is not configured or could not be created. */
  plugins::Instance *source(const std::string &id) const;
  const std::vector<Unavailable> &unavailable() const { return unavailable_; }
  const config::HubConfig &config() const { return config_; }
  /** The connectors this configuration's instances were created from. */
  const plugins::Registry &registry() const { return registry_; }
  store::Store &store() { return store_; }
  int64_t now_ms() const { return services_.clock_ms(); }

  /** Jobs were put back in the queue outside the accept path (a replay): wake the runner. */
  void jobs_due() {
    if (auto next = successor()) return next->jobs_due();
    if (jobs_added_) jobs_added_();
  }

  /** Called after new jobs were stored, to wake the runner. */
  void on_jobs_added(std::function<void()> callback) { jobs_added_ = std::move(callback); }

  /** Where webhooks' new jobs go straight to a worker; null: every job waits for a claim. */
  void dispatch_to(Dispatcher *dispatcher) { dispatcher_ = dispatcher; }

 private:
  HookResponse answer_webhook(const std::string &source_id, sdk::WebhookRequest request);
  /** A webhook's events could not be stored: its 503, and a log line once in a while. */
  HookResponse storing_failed(const std::string &source_id, const std::exception &e);
  std::unique_ptr<plugins::Instance> build(const config::InstanceConfig &cfg, const char *kind);
  std::shared_ptr<Engine> successor() const;
  /** Mark up to `room` jobs of the batch to be stored under the dispatcher's lease. */
  void lease(std::vector<store::NewEvent> &batch, const Dispatcher &dispatcher, std::size_t room, int64_t now) const;
  /**
   * Hand the leased jobs that were stored to the dispatcher, consuming the
   * batch and the payload its events share; true when jobs were left for a
   * claim.
   */
  bool hand_over_leased(std::vector<store::NewEvent> &batch, std::vector<store::Accepted> &stored,
                        Dispatcher &dispatcher, int64_t now, Json *shared_raw);

  const config::HubConfig &config_;
  const plugins::Registry &registry_;
  store::Store &store_;
  plugins::HostServices &services_;
  rules::Matcher matcher_;
  std::shared_ptr<const plugins::Redactor> secrets_;
  std::shared_ptr<const plugins::Redactor> masked_;  // what events and records are cleared of: by_name
  std::map<std::string, std::unique_ptr<plugins::Instance>> sources_;
  /** What the accept path asks of an integration, found with one lookup per job. */
  struct Target {
    std::unique_ptr<plugins::Instance> instance;  // null: unavailable
    bool reads_tree = false;                      // see reads_event_tree
    bool concurrency_limited = false;             // its jobs need the claim's count of those running
  };
  const Target *target(const std::string &integration) const;
  std::map<std::string, Target, std::less<>> integrations_;
  std::vector<Unavailable> unavailable_;
  std::function<void()> jobs_added_;
  std::atomic<Dispatcher *> dispatcher_{nullptr};
  mutable std::mutex successor_mutex_;
  std::shared_ptr<Engine> successor_;
  std::atomic<uint64_t> test_events_{0};

  std::mutex refusals_mutex_;
  std::map<std::string, LogThrottle, std::less<>> refusals_;  // each source's; bounded: see handle_webhook
  Outage store_outage_;  // webhooks whose events could not be stored
};

/** Which settings that no loaded connector's manifest describes count as secret. */
enum class Unlisted {
  /** Those named like one, as an instance itself judges them (plugins::secret_setting). */
  by_name,
  /** Those too, and every text setting of a connector that is not loaded: nothing says which are
   *  secret. Too wide to mask what is stored (a setting "live" would mask every live event's mode). */
  every_text,
};

/**
 * Every secret a configuration holds: the admin token, the PostgreSQL
 * password, and each source's and integration's secret settings.
 */
std::shared_ptr<const plugins::Redactor> hub_secrets(const config::HubConfig &config,
                                                     const plugins::Registry &registry, Unlisted unlisted);

/**
 * A store failure as the webhook listener, open to the internet, tells it:
 * its kind (a disk that cannot be written, a database out of reach), never
 * the file, host or login its message names; empty for another failure.
 */
std::string public_store_failure(const std::exception &e);

/** RFC 3339 UTC text of a millisecond timestamp. */
std::string rfc3339(int64_t ms);

/**
 * What tells a source's settings from others in the store (a poll source left
 * out with them, Store::leave_out_poll): the hex SHA-256 of their JSON text,
 * which never shows a secret.
 */
std::string settings_digest(const Json &settings);

/** What every stored event carries: its source, occurred_at (now when it has none) and mode (live by default). */
void complete_event(Json &event, const std::string &source, int64_t now_ms);

/**
 * Takes sdk::kDedupeAlternatives out of `event`: the other keys its fact may
 * be stored under (a refund a spreadsheet's copy of an export dated to the
 * minute, whose webhook's key holds the second), for NewEvent::alternatives,
 * which the store's accept looks up in the transaction that stores the event.
 * Empty when it names none.
 */
std::vector<std::string> take_alternatives(Json &event);

/**
 * The order id and item reference of a product.refunded event whose source
 * could not tell a full refund from a partial one (refund.unverified), or
 * nullopt for any other event (docs/events.md, "Refunds").
 */
std::optional<std::pair<std::string, std::string>> unverified_refund(const Json &event);

/**
 * Settles such a refund against the product.purchased event of its item:
 * records what was paid, and a smaller refund makes it
 * product.partially_refunded.
 */
void settle_refund(Json &event, const Json &purchase);

/** Of a purchase, what settle_refund() reads: enough to settle a refund against later. */
Json refund_basis(const Json &purchase);

}  // namespace cartwire::engine
