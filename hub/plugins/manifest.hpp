// A connector's manifest: what it offers, as data the hub checks before running anything.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <cartwire/sdk/json.hpp>

namespace cartwire::plugins {

using Json = sdk::Json;

/** A setting of a connector or a parameter of an action. */
struct FieldSpec {
  std::string name;
  std::string type = "string";  // string | integer | boolean | object | array | any
  /** Required of every instance. */
  bool required = false;
  /**
   * Settings only: the uses that require it when `required` is false, of
   * kRoles ("webhook", "poll": a source of that trigger kind; "action": an
   * integration). A webhook's secret is required of a webhook source only.
   */
  std::vector<std::string> required_for;
  bool secret = false;
  std::string description;
  /** Parameters only: the resource list its value must belong to (e.g. "courses"). */
  std::string list;
  /** Whether an instance used as `role` (webhook, poll or action) needs it. */
  bool required_as(const std::string &role) const;
};

/** The uses a setting may be required for: a webhook source, a poll source, an integration's actions. */
inline const std::vector<std::string> kRoles = {"webhook", "poll", "action"};

struct ActionSpec {
  std::string name;
  std::string description;
  std::vector<FieldSpec> params;
  /** Jobs of this action keep per-customer order within an integration. */
  bool ordered = false;
  const FieldSpec *param(const std::string &name) const;
};

struct TriggerSpec {
  std::string name;
  std::string kind;  // webhook | poll | import
  std::vector<std::string> events;
  std::string description;
  /** Webhook triggers: what follows /hooks/<source> in the URL the cart is given (e.g. "/<token>"); may be empty. */
  std::string path;
  /** Poll triggers: how often a source polls unless hub.yaml says otherwise. */
  int interval_seconds = 0;
};

struct ListSpec {
  std::string name;
  std::string description;
};

/**
 * Where an integration's field mapping may point: fixed fields, and/or the
 * items of a resource list (matched by id, key or name), optionally only
 * items whose "type" is one of `types`.
 */
struct FieldSchema {
  std::vector<FieldSpec> fixed;
  std::string list;
  std::vector<std::string> types;
  bool empty() const { return fixed.empty() && list.empty(); }
};

/** The remote's published request budget, enforced by the hub on outbound calls. */
struct RateLimit {
  int requests = 0;  // 0: none
  double per_seconds = 1;
  /**
   * A setting naming the remote account the limit counts against (GoHighLevel:
   * location_id): instances with the same value share one budget. Empty: each
   * instance has its own.
   */
  std::string shared_by;
};

struct Manifest {
  std::string id;
  std::string version;
  std::string name;
  std::string description;
  std::vector<FieldSpec> settings;
  std::vector<ActionSpec> actions;
  std::vector<TriggerSpec> triggers;
  std::vector<ListSpec> lists;
  FieldSchema fields;
  RateLimit rate_limit;
  /**
   * Keys the hub does not read, each with where it is and the key it most
   * likely misspells: ignored (a later SDK's keys load on this hub), and
   * reported by `cartwire check` and in the log, since a misspelt `secret`
   * leaves a credential unmasked.
   */
  std::vector<std::string> unknown_keys;

  const ActionSpec *action(const std::string &name) const;
  const TriggerSpec *trigger(const std::string &name) const;
  const ListSpec *list(const std::string &name) const;
  const FieldSpec *setting(const std::string &name) const;

  /** Parse and check a manifest; on failure returns nullopt and sets `error`. */
  static std::optional<Manifest> parse(const std::string &text, std::string &error);
};

/** Does `value` have the manifest type `type`? */
bool matches_type(const Json &value, const std::string &type);

}  // namespace cartwire::plugins
