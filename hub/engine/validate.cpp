#include "engine/validate.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string_view>

#include "engine/engine.hpp"
#include "plugins/crash_note.hpp"
#include "plugins/redactor.hpp"
#include "rules/matcher.hpp"

namespace cartwire::engine {
namespace {

std::string names(const std::vector<plugins::FieldSpec> &fields) {
  std::string out;
  for (auto &f : fields) out += (out.empty() ? "" : ", ") + f.name;
  return out.empty() ? "none" : out;
}

// What was loaded, for "connector X is not loaded"; with none, where the hub looked.
std::string loaded(const plugins::Registry &registry, const config::HubConfig &cfg) {
  std::string out;
  for (auto *p : registry.plugins()) out += (out.empty() ? "" : ", ") + p->manifest.id;
  if (!out.empty()) return "loaded: " + out;
  std::string shipped = config::shipped_connectors();
  return "no connector is in plugins.dir " + cfg.plugins_dir +
         ": point it at the connectors that came with this hub, e.g. plugins: {dir: " +
         (shipped.empty() ? "build/lib/plugins" : shipped) + "}";
}

// Why `connector` is not loaded: its file is gone from plugins.dir since the last reload, or it never was.
std::string not_loaded(const plugins::Registry &registry, const config::HubConfig &cfg, const std::string &connector) {
  for (auto *p : registry.removals())
    if (p->manifest.id == connector)
      return "whose file " + p->path + " is gone from plugins.dir (" + p->manifest.id + " " + p->manifest.version +
             " was loaded from it): put the file back, or remove what uses the connector";
  return "which is not loaded (" + loaded(registry, cfg) + ")";
}

config::Location line_of(const std::map<std::string, config::Location> &lines, const std::string &key,
                         const config::Location &fallback) {
  auto it = lines.find(key);
  return it == lines.end() ? fallback : it->second;
}

// What an instance used as `role` is called, for "required of ...".
std::string role_name(const std::string &role) {
  if (role == "webhook") return "a webhook source";
  if (role == "poll") return "a poll source";
  return "an integration";
}

// `role` is how the instance is used (webhook, poll or action), for the settings required of that use only;
// empty when unknown (a source naming no trigger of its connector, reported apart).
void check_settings(const config::InstanceConfig &inst, const plugins::Manifest &m, const std::string &what,
                    const std::string &role, config::Diagnostics &d) {
  for (auto &spec : m.settings) {
    if (inst.settings.contains(spec.name) || !spec.required_as(role)) continue;
    std::string why = spec.description.empty() ? "" : " (" + spec.description + ")";
    if (spec.required)
      d.error(inst.where, what + " is missing the required setting '" + spec.name + "'" + why);
    else
      d.error(inst.where, what + " is missing the setting '" + spec.name + "', which connector " + m.id +
                              " requires of " + role_name(role) + why);
  }
  for (auto &[key, value] : inst.settings.items()) {
    const plugins::FieldSpec *spec = m.setting(key);
    auto where = line_of(inst.setting_lines, key, inst.where);
    if (!spec) {
      std::vector<std::string> valid;
      for (auto &f : m.settings) valid.push_back(f.name);
      std::string guess = config::closest(key, valid);
      d.error(where, what + " has unknown setting '" + key + "' for connector " + m.id + " (" +
                         (guess.empty() ? "" : "did you mean " + guess + "? ") + "valid settings: " + names(m.settings) + ")");
    } else if (value.is_null()) {  // `location_id:` with its value left out
      d.error(where, what + " setting '" + key + "' has no value" +
                         (spec->description.empty() ? "" : " (" + spec->description + ")") +
                         (spec->required_as(role) ? ": write one after the ':'" : ": write one after the ':', or remove the line"));
    } else if (!plugins::matches_type(value, spec->type)) {
      d.error(where, what + " setting '" + key + "' must be of type " + spec->type);
    }
  }
  // A secret the redactor cannot mask would show in the log and the execution log wherever a remote
  // quotes it back; so short, it is also guessed in a few thousand tries.
  for (auto &[key, value] : inst.settings.items())
    if (const plugins::FieldSpec *spec = m.setting(key); spec && spec->secret && plugins::Redactor::too_short(value))
      d.error(line_of(inst.setting_lines, key, inst.where),
              what + " secret setting '" + key + "' is shorter than " + std::to_string(plugins::Redactor::kShortest) +
                  " characters: so short a secret cannot be kept out of the logs (masking it would mask ordinary "
                  "text) and is easily guessed; use the whole key or secret word the service gives");
  // A secret that falls back to a default written in the file is known to whoever reads the file, or
  // the example it came from (a ThriveCart secret word that lets anyone post orders).
  // One written in the file as it is goes wherever the file goes: backups, version control, a colleague's screen.
  for (auto &[key, value] : inst.settings.items()) {
    const plugins::FieldSpec *spec = m.setting(key);
    if (!spec || !spec->secret || !value.is_string() || value.get_ref<const std::string &>().empty() ||
        inst.setting_variables.count(key))
      continue;
    std::string variable = inst.id + "_" + key;
    std::transform(variable.begin(), variable.end(), variable.begin(),
                   [](unsigned char c) { return std::isalnum(c) ? std::toupper(c) : '_'; });
    d.warning(line_of(inst.setting_lines, key, inst.where),
              what + " secret setting '" + key + "' is written in the file: whoever reads the file (a backup, version "
                     "control) knows it; write " + key + ": ${" + variable + "} and export " + variable);
  }
  for (auto &[key, variable] : inst.defaulted_settings)
    if (const plugins::FieldSpec *spec = m.setting(key); spec && spec->secret)
      d.warning(line_of(inst.setting_lines, key, inst.where),
                what + " secret setting '" + key + "' is the default written in the file, since " + variable +
                    " is unset: whoever reads the file (or the example it came from) knows it; export " + variable);
}

// An integration that sends to a plain http:// URL beyond this machine sends
// customers' data (and any credential of its headers) unencrypted.
void warn_of_plain_http(const config::InstanceConfig &inst, const std::string &what, config::Diagnostics &d) {
  for (auto &[key, value] : inst.settings.items()) {
    if (!value.is_string() || value.get_ref<const std::string &>().rfind("http://", 0) != 0) continue;
    std::string host = sdk::url_host(value.get<std::string>());
    if (host.empty() || sdk::is_this_machine(host)) continue;
    d.warning(line_of(inst.setting_lines, key, inst.where),
              what + " setting '" + key + "' is plain http:// to " + host +
                  ": what it sends (customers' data, and any credential in its headers) crosses the network "
                  "unencrypted; use https://");
  }
}

// A connector's refusal of settings the manifest allowed, at the line of the
// setting it names (quoted), else at the instance.
void probe_settings(const config::InstanceConfig &inst, const plugins::Plugin &plugin, const std::string &what,
                    const SettingsProbe &probe, config::Diagnostics &d) {
  // Left out by the hub, as its connector crashed the last run: no error of hub.yaml, which would
  // refuse a reload of other changes and keep its rules from making jobs, to wait for it.
  if (std::string why = plugins::crash_note::refusal(inst.id, inst.settings.dump()); !why.empty()) {
    d.warning(inst.where, what + " is left out of this run: " + why);
    return;
  }
  auto refusal = probe(plugin, inst);
  if (!refusal) return;
  // The line names the connector already.
  if (std::string own = plugin.manifest.id + ": "; refusal->compare(0, own.size(), own) == 0) refusal->erase(0, own.size());
  config::Location where = inst.where;
  for (auto &[key, line] : inst.setting_lines)  // 'item_types' or a part of it, 'item_types.910708'
    if (refusal->find("'" + key + "'") != std::string::npos || refusal->find("'" + key + ".") != std::string::npos)
      where = line;
  d.error(where, what + ": connector " + plugin.manifest.id + " refuses these settings: " + *refusal);
}

std::string did_you_mean(const std::string &word, const std::vector<std::string> &candidates, const std::string &prefix = "") {
  std::string guess = config::closest(word, candidates);
  return guess.empty() ? "" : " (did you mean " + prefix + guess + "?)";
}

std::vector<std::string> trigger_names(const plugins::Manifest &m) {
  std::vector<std::string> out;
  for (auto &t : m.triggers) out.push_back(t.name);
  return out;
}

const std::vector<std::string> &canonical_types() {
  static const std::vector<std::string> types = {
      "order.completed",         "product.purchased",          "product.refunded",
      "product.partially_refunded", "subscription.charged",    "subscription.charge_failed",
      "subscription.delinquent", "subscription.recovered",     "subscription.canceled",
      "subscription.restarted",  "subscription.completed",     "hub.job.dead"};
  return types;
}

// The fields of the canonical event's fixed parts (docs/events.md); other
// parts (order, subscription, refund, raw) vary by source and are not checked.
const std::vector<std::string> *known_fields(const std::string &part) {
  static const std::map<std::string, std::vector<std::string>> fields = {
      {"customer", {"email", "first_name", "last_name", "name", "phone", "address", "custom_fields"}},
      {"customer.address", {"line1", "line2", "city", "state", "zip", "country"}},
      {"item", {"type", "id", "reference", "name", "amount", "amount_str"}}};
  auto it = fields.find(part);
  return it == fields.end() ? nullptr : &it->second;
}

const std::vector<std::string> &event_roots() {
  static const std::vector<std::string> roots = {"id",    "source",   "type",         "source_type", "occurred_at",
                                                 "mode",  "dedupe_key", "customer",   "order",       "item",
                                                 "subscription", "refund", "raw",     "job",         "original_event", "derived_from"};
  return roots;
}

// Why a dotted path names no field of an event (a typo), or nullopt; the
// text follows the path ("customer.emial is not a field of customer ...").
// An unknown root is certain; an unknown field of customer or item is a
// warning.
struct PathProblem {
  bool certain = false;
  std::string message;
};
std::optional<PathProblem> path_problem(const std::string &path) {
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    std::size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot == std::string::npos ? dot : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  // The path with part i replaced by the guess, for "did you mean".
  auto guess = [&](std::size_t i, const std::vector<std::string> &candidates) -> std::string {
    std::string word = config::closest(parts[i], candidates);
    if (word.empty()) return "";
    std::string out;
    for (std::size_t k = 0; k < parts.size(); ++k) out += (k ? "." : "") + (k == i ? word : parts[k]);
    return " (did you mean " + out + "?)";
  };
  const auto &roots = event_roots();
  if (std::find(roots.begin(), roots.end(), parts[0]) == roots.end())
    return PathProblem{true, " does not name an event field (fields start with customer, order, item, subscription, "
                             "refund, raw, type, ...)" + guess(0, roots)};
  std::string part = parts[0];
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::vector<std::string> *fields = known_fields(part);
    if (!fields) return std::nullopt;
    if (std::find(fields->begin(), fields->end(), parts[i]) == fields->end()) {
      std::string list;
      for (auto &f : *fields) list += (list.empty() ? "" : ", ") + f;
      return PathProblem{false, " is not a field of " + part + " (" + list + ")" + guess(i, *fields)};
    }
    part += "." + parts[i];
  }
  return std::nullopt;
}

// The first text of `value` with more {{ than whole {{field.path}} templates ("" when none).
std::string unclosed_template(const sdk::Json &value) {
  if (value.is_structured()) {
    for (auto &item : value)
      if (std::string broken = unclosed_template(item); !broken.empty()) return broken;
    return {};
  }
  if (!value.is_string()) return {};
  const std::string &text = value.get_ref<const std::string &>();
  std::size_t opened = 0;
  for (std::size_t at = text.find("{{"); at != std::string::npos; at = text.find("{{", at + 2)) ++opened;
  return opened > rules::template_paths(value).size() ? text : std::string();
}

// Event types no source emits, and event fields that do not exist: a rule
// with either never fires, or sends nothing where a value was meant.
void check_event_fields(const config::Rule &rule, const plugins::Registry &registry, const config::HubConfig &cfg,
                        const std::string &what, config::Diagnostics &d) {
  const auto &types = canonical_types();
  for (std::size_t i = 0; i < rule.on.size(); ++i) {
    const std::string &type = rule.on[i];
    if (type == "*" || std::find(types.begin(), types.end(), type) != types.end()) continue;
    // A cart's own type is namespaced by its connector (thrivecart.cart.abandoned).
    std::string ns = type.substr(0, type.find('.'));
    bool namespaced = type.find('.') != std::string::npos && registry.find(ns) != nullptr;
    for (auto &[id, src] : cfg.sources) namespaced = namespaced || (type.find('.') != std::string::npos && src.connector == ns);
    if (namespaced) continue;
    d.warning(i < rule.on_lines.size() ? rule.on_lines[i] : rule.location,
              what + ": no source emits event type '" + type + "'" + did_you_mean(type, types) +
                  "; the types are in docs/events.md, and a cart's own are <connector>.<name>");
  }
  // A filter on a field no event has never matches: a warning, since a third
  // party's connector may add fields of its own.
  for (auto &f : rule.where)
    if (auto problem = path_problem(f.field)) d.warning(f.where, what + ": where " + f.field + problem->message);
  // The hub sets an event's mode, to one of two values: a filter none of whose
  // values can be one never matches (an error: the rule would never run).
  for (auto &f : rule.where) {
    if (f.field != "mode") continue;
    using Op = config::Filter::Op;
    auto can_match = [&](const std::string &v) {
      if (f.op == Op::prefix) return std::string("live").rfind(v, 0) == 0 || std::string("test").rfind(v, 0) == 0;
      return v == "live" || v == "test";
    };
    std::string never;
    for (auto &v : f.values)
      if (!can_match(v)) never += (never.empty() ? "'" : " or '") + v + (f.op == Op::prefix ? "*'" : "'");
    if (never.empty()) continue;
    const std::string modes = ": an event's mode is live or test";
    if (f.op == Op::not_equals)
      d.warning(f.where, what + ": where mode is not " + never + " always holds" + modes);
    else if (std::all_of(f.values.begin(), f.values.end(), [&](auto &v) { return !can_match(v); }))
      d.error(f.where, what + ": where mode " + never + " never matches" + modes);
    else
      d.warning(f.where, what + ": where mode " + never + " never matches" + modes);
  }
  // A {{ that is no {{field.path}} (a typo, or the remote's own template syntax) is sent as it is.
  for (auto &[key, value] : rule.params.items())
    if (std::string broken = unclosed_template(value); !broken.empty())
      d.warning(line_of(rule.param_lines, key, rule.location),
                what + ": '" + broken + "' has a {{ that is not a {{field.path}} template: it is sent as it is");
  for (auto &[key, value] : rule.params.items())
    for (auto &path : rules::template_paths(value))
      if (auto problem = path_problem(path)) {
        std::string message = what + ": template {{" + path + "}}" + problem->message;
        auto where = line_of(rule.param_lines, key, rule.location);
        problem->certain ? d.error(where, message) : d.warning(where, message);
      }
}

std::string refresh_hint(const config::HubConfig &cfg, const std::string &integration, const std::string &list) {
  return "cartwire refresh " + integration + " " + list + " --config " + cfg.file;
}

std::string item_text(const sdk::Json &v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// Looks a list up and warns when it is missing or stale; nullopt when there is nothing to check against.
std::optional<store::CachedList> cached(const config::HubConfig &cfg, const ListLookup &lists, const std::string &integration,
                                       const std::string &list, const config::Location &where, int64_t now_ms,
                                       config::Diagnostics &d) {
  auto found = lists(integration, list);
  if (!found || found->items.empty()) {
    d.warning(where, "the " + list + " list of integration '" + integration +
                         "' is empty or was never fetched, so its ids cannot be checked; run: " +
                         refresh_hint(cfg, integration, list));
    return std::nullopt;
  }
  if (now_ms - found->refreshed_at > kStaleListMs) {
    d.warning(where, "the " + list + " list of integration '" + integration + "' was fetched more than a day ago; run: " +
                         refresh_hint(cfg, integration, list));
  }
  return found;
}

const sdk::Json *find_item(const store::CachedList &list, const std::string &wanted, bool by_name) {
  for (auto &item : list.items) {
    if (!item.is_object()) continue;
    for (const char *key : {"id", "key", "name"}) {
      if (!by_name && std::string(key) != "id") break;
      if (item.contains(key) && item_text(item[key]) == wanted) return &item;
    }
  }
  return nullptr;
}

void check_fields(const config::HubConfig &cfg, const config::InstanceConfig &integ, const plugins::Manifest &m,
                  const ListLookup &lists, int64_t now_ms, config::Diagnostics &d) {
  std::string what = "integration '" + integ.id + "'";
  if (!integ.fields.empty() && m.fields.empty()) {
    d.error(integ.where, what + ": connector " + m.id + " takes no field mapping; remove 'fields:'");
    return;
  }
  std::optional<store::CachedList> list;
  bool list_checked = false;
  for (auto &[remote, path] : integ.fields) {
    auto where = line_of(integ.field_lines, remote, integ.where);
    std::string root = path.substr(0, path.find('.'));
    if (root != "customer" && root != "order" && root != "item" && root != "subscription" && root != "raw" &&
        root != "refund" && root != "mode" && root != "source" && root != "type")
      d.error(where, what + ": field '" + remote + "' maps from '" + path +
                         "', which is not an event field (fields start with customer, order, item, subscription, refund, raw)");
    bool fixed = false;
    for (auto &f : m.fields.fixed) fixed = fixed || f.name == remote;
    if (fixed) continue;
    if (m.fields.list.empty()) {
      d.error(where, what + ": connector " + m.id + " has no field '" + remote + "' (fields: " + names(m.fields.fixed) + ")");
      continue;
    }
    if (!lists) continue;
    if (!list_checked) {
      list = cached(cfg, lists, integ.id, m.fields.list, where, now_ms, d);
      list_checked = true;
    }
    if (!list) continue;
    const sdk::Json *item = find_item(*list, remote, true);
    if (!item) {
      d.error(where, what + ": field '" + remote + "' is not in the " + m.fields.list + " list of " + m.id +
                         " (map by id, key or name; refresh with: " + refresh_hint(cfg, integ.id, m.fields.list) + ")");
      continue;
    }
    std::string type = item->contains("type") ? item_text((*item)["type"]) : "";
    if (!m.fields.types.empty() && std::find(m.fields.types.begin(), m.fields.types.end(), type) == m.fields.types.end()) {
      std::string allowed;
      for (auto &t : m.fields.types) allowed += (allowed.empty() ? "" : ", ") + t;
      d.error(where, what + ": field '" + remote + "' is a " + (type.empty() ? "untyped" : type) + " field; " + m.id +
                         " accepts only " + allowed + " fields in a mapping");
    }
  }
}

bool is_template(const sdk::Json &value) {
  return value.is_string() && value.get<std::string>().find("{{") != std::string::npos;
}

// The item reference `product` is written like, whatever its case and with '_' or
// nothing for '-' (Product-12, upsell_13, Bump-*): product-12, upsell-13, bump-*;
// nullopt when it is like none. Read by hand, not with std::regex, whose matcher
// recurses once a character: a long products: key would overflow the stack of check.
std::optional<std::string> item_reference(std::string_view product) {
  for (std::string_view kind : {"product", "bump", "upsell", "downsell"}) {
    auto same = [](char k, char c) { return k == std::tolower(static_cast<unsigned char>(c)); };
    if (product.size() < kind.size() || !std::equal(kind.begin(), kind.end(), product.begin(), same)) continue;
    std::string_view rest = product.substr(kind.size());
    if (!rest.empty() && (rest.front() == '-' || rest.front() == '_')) rest.remove_prefix(1);
    std::string_view id = rest;
    if (!id.empty() && id.back() == '*') id.remove_suffix(1);
    bool digits = !id.empty() && std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (rest != "*" && !digits) return std::nullopt;
    return std::string(kind) + "-" + std::string(rest);
  }
  return std::nullopt;
}

}  // namespace

// A rule's action, parameters and event fields against its integration's connector.
// Returns how many of its errors name an item missing from a cached list:
// those may be the cache's fault (not refreshed yet), not the rule's.
int check_rule(const config::HubConfig &cfg, const plugins::Registry &registry, const ListLookup &lists,
               int64_t now_ms, const config::Rule &rule, config::Diagnostics &d) {
  int list_errors = 0;
  std::string what = "rule '" + rule.name + "'";
  check_event_fields(rule, registry, cfg, what, d);
  // The carts' item references are <type>-<id>: a product keyed by the bare id (SamCart's 910707) matches none.
  std::string id = rule.product.substr(0, rule.product.find('*'));
  if (!id.empty() && std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isdigit(c); }))
    d.warning(rule.location, what + ": products." + rule.product +
                                 " names a bare id; the carts' item references are product-<id>, bump-<id>, "
                                 "upsell-<id> and downsell-<id>, so no ThriveCart or SamCart event matches it (did you mean product-" +
                                 rule.product + "?)");
  // Item references are lower case, <type>-<id>: Product-12 or product_12 matches no cart's event.
  if (auto reference = item_reference(rule.product); reference && *reference != rule.product)
    d.warning(rule.location, what + ": products." + rule.product +
                                 " is not written as the carts write item references (lower case, product-<id>, "
                                 "bump-<id>, upsell-<id>, downsell-<id>), so no ThriveCart or SamCart event matches "
                                 "it (did you mean " + *reference + "?)");
  if (rule.integration.empty()) return list_errors;  // already reported by the loader
  auto integ = cfg.integrations.find(rule.integration);
  if (integ == cfg.integrations.end()) {
    std::string known, of_connector;
    std::vector<std::string> ids;
    for (auto &[id, inst] : cfg.integrations) {
      known += (known.empty() ? "" : ", ") + id;
      ids.push_back(id);
      // `do: ghl.add_tags`: the connector's name where its integration's belongs.
      if (inst.connector == rule.integration && of_connector.empty()) of_connector = id;
    }
    std::string hint = !of_connector.empty()
                           ? " (did you mean " + of_connector + "." + rule.action + "? '" + rule.integration +
                                 "' is a connector; a rule names the integration that uses it)"
                           : did_you_mean(rule.integration, ids);
    d.error(rule.do_line, what + " uses integration '" + rule.integration + "', which is not configured (integrations: " +
                               (known.empty() ? "none" : known) + ")" + hint);
    return list_errors;
  }
  const plugins::Plugin *p = registry.find(integ->second.connector);
  if (!p) return list_errors;  // reported above
  const plugins::ActionSpec *action = p->manifest.action(rule.action);
  if (!action) {
    std::string known;
    for (auto &a : p->manifest.actions) known += (known.empty() ? "" : ", ") + a.name;
    d.error(rule.do_line, what + ": connector " + p->manifest.id + " has no action '" + rule.action +
                               "' (actions: " + (known.empty() ? "none" : known) + ")");
    return list_errors;
  }
  for (auto &spec : action->params)
    if (spec.required && !rule.params.contains(spec.name))
      d.error(rule.do_line, what + " is missing the required parameter '" + spec.name + "' of " + rule.integration +
                                 "." + rule.action + (spec.description.empty() ? "" : " (" + spec.description + ")"));
  for (auto &[key, value] : rule.params.items()) {
    const plugins::FieldSpec *spec = action->param(key);
    auto where = line_of(rule.param_lines, key, rule.location);
    if (!spec) {
      d.error(where, what + ": " + rule.integration + "." + rule.action + " has no parameter '" + key +
                         "' (parameters: " + names(action->params) + ")");
    } else if (!is_template(value) && !plugins::matches_type(value, spec->type)) {
      d.error(where, what + ": parameter '" + key + "' must be of type " + spec->type);
    } else if (!spec->list.empty() && lists && !is_template(value)) {
      if (auto list = cached(cfg, lists, rule.integration, spec->list, where, now_ms, d)) {
        std::string wanted = item_text(value);
        if (!find_item(*list, wanted, false)) {
          ++list_errors;
          d.error(where, what + ": " + rule.integration + " has no " + spec->list + " item with id " + wanted +
                             " (the cached list has " + std::to_string(list->items.size()) +
                             " items; if it is new, run: " + refresh_hint(cfg, rule.integration, spec->list) + ")");
        }
      }
    }
  }
  return list_errors;
}

SettingsProbe instance_probe(plugins::HostServices &services, const config::HubConfig &config,
                             const plugins::Registry &registry) {
  return [&services, native_calls = config.native_calls, secrets = hub_secrets(config, registry, Unlisted::by_name)](
             const plugins::Plugin &plugin, const config::InstanceConfig &inst) -> std::optional<std::string> {
    try {
      plugins::Instance probe(plugin, inst.id, inst.settings, services, *secrets, native_calls);
      return std::nullopt;
    } catch (const std::exception &e) {
      return std::string(e.what());
    }
  };
}

config::Diagnostics validate(const config::HubConfig &cfg, const plugins::Registry &registry, const ListLookup &lists,
                             int64_t now_ms, const SettingsProbe &probe, std::set<std::size_t> *broken_rules,
                             std::set<std::string> *broken_sources) {
  config::Diagnostics d;
  std::set<std::string> broken_integrations;
  // Only settings the manifest takes are offered to the connector.
  auto checked = [&](const config::InstanceConfig &inst, const plugins::Plugin &p, const std::string &what,
                     const std::string &role) {
    std::size_t before = d.errors();
    check_settings(inst, p.manifest, what, role, d);
    if (probe && d.errors() == before && inst.settings_complete) probe_settings(inst, p, what, probe, d);
  };
  for (auto &[id, src] : cfg.sources) {
    std::string what = "source '" + id + "'";
    if (src.connector.empty()) continue;  // the loader said so
    std::size_t before = d.errors();
    const plugins::Plugin *p = registry.find(src.connector);
    if (!p) {
      d.error(src.where, what + " uses connector '" + src.connector + "', " + not_loaded(registry, cfg, src.connector));
      continue;
    }
    // A trigger of kind import makes a source for `cartwire import` only: it takes no webhook and is not polled.
    const plugins::TriggerSpec *t = p->manifest.trigger(src.trigger);
    if (!t) {
      std::string known, hint;
      for (auto &trigger : p->manifest.triggers) {
        known += (known.empty() ? "" : ", ") + trigger.name + " (" + trigger.kind + ")";
        if (trigger.kind == src.trigger && hint.empty())  // `trigger: import`, the kind for its name
          hint = " (did you mean " + trigger.name + "? a source names its connector's trigger, " + trigger.name +
                 " being its " + trigger.kind + " trigger)";
      }
      d.error(src.where, what + ": connector " + p->manifest.id + " has no trigger '" + src.trigger +
                             "' (triggers: " + (known.empty() ? "none" : known) + ")" +
                             (hint.empty() ? did_you_mean(src.trigger, trigger_names(p->manifest)) : hint));
    } else if (src.every && t->kind != "poll") {
      d.error(src.every_line, what + ": 'every' applies to poll triggers only; '" + src.trigger + "' is " +
                                  (t->kind == "import" ? "an " : "a ") + t->kind + " trigger");
    }
    checked(src, *p, what, t ? t->kind : "");
    if (broken_sources && d.errors() > before) broken_sources->insert(id);
  }
  for (auto &[id, integ] : cfg.integrations) {
    if (integ.connector.empty()) continue;  // the loader said so
    auto before = d.errors();
    const plugins::Plugin *p = registry.find(integ.connector);
    if (!p) {
      d.error(integ.where, "integration '" + id + "' uses connector '" + integ.connector + "', " +
                               not_loaded(registry, cfg, integ.connector));
    } else {
      checked(integ, *p, "integration '" + id + "'", "action");
      warn_of_plain_http(integ, "integration '" + id + "'", d);
      check_fields(cfg, integ, p->manifest, lists, now_ms, d);
    }
    if (d.errors() > before) broken_integrations.insert(id);
  }
  // The execution log names a job's rule: two rules of one name make jobs no one can tell apart.
  std::map<std::string, config::Location> named;
  for (auto &rule : cfg.rules)
    if (auto [first, fresh] = named.emplace(rule.name, rule.location); !fresh)
      d.warning(rule.location, "rule '" + rule.name + "' has the name of the rule at line " +
                                   std::to_string(first->second.line) +
                                   ": the execution log, its searches and alerts name a job by its rule; give each its own");
  for (std::size_t index = 0; index < cfg.rules.size(); ++index) {
    const config::Rule &rule = cfg.rules[index];
    auto before = d.errors();
    int list_errors = check_rule(cfg, registry, lists, now_ms, rule, d);
    std::size_t rule_errors = d.errors() - before;
    bool own_errors = rule_errors > static_cast<std::size_t>(list_errors);
    if (broken_rules && (own_errors || broken_integrations.count(rule.integration))) broken_rules->insert(index);
  }
  return d;
}

}  // namespace cartwire::engine
