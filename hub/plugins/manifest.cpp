#include "plugins/manifest.hpp"

#include <Poco/String.h>

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>
#include <string_view>

#include "config/config.hpp"

namespace cartwire::plugins {
namespace {

const std::set<std::string> kTypes = {"string", "integer", "boolean", "object", "array", "any"};
const std::set<std::string> kTriggerKinds = {"webhook", "poll", "import"};

template <typename Words>
std::string joined(const Words &words) {
  return Poco::cat(std::string(", "), words.begin(), words.end());
}

// A key the hub does not read is noted, not refused: it may be a misspelling
// ("secrte", which would leave a credential unmasked) or a key of a later SDK,
// which a manifest may carry for the hubs that read it.
void note_unknown_keys(const Json &obj, const std::vector<std::string> &known, const std::string &where,
                       std::vector<std::string> &notes) {
  for (auto &[key, value] : obj.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string guess = config::closest(key, known);
    notes.push_back(where + " has \"" + key + "\", which this hub does not read and ignores (" +
                    (guess.empty() ? "" : "did you mean " + guess + "? ") + "keys: " + joined(known) + ")");
  }
}

// Throws std::invalid_argument with a path to the offending element.
std::string text(const Json &obj, const char *key, const std::string &where, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) throw std::invalid_argument(where + " has no \"" + key + "\"");
    return {};
  }
  if (!it->is_string()) throw std::invalid_argument(where + ".\"" + key + "\" must be a string");
  return it->get<std::string>();
}

bool flag(const Json &obj, const char *key, const std::string &where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return false;
  if (!it->is_boolean()) throw std::invalid_argument(where + ".\"" + key + "\" must be true or false");
  return it->get<bool>();
}

const Json &array(const Json &obj, const char *key, const std::string &where) {
  static const Json empty = Json::array();
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return empty;
  if (!it->is_array()) throw std::invalid_argument(where + ".\"" + key + "\" must be an array");
  return *it;
}

// The problems of a manifest, each with its place, all of them rather than the
// first: a check that throws is noted and the next one runs.
class Problems {
 public:
  template <typename Check>
  void check(Check &&check) {
    try {
      check();
    } catch (const std::exception &e) {
      list_.push_back(e.what());
    }
  }
  void add(std::string problem) { list_.push_back(std::move(problem)); }
  bool empty() const { return list_.empty(); }
  // At most kShown, then how many more: a manifest wrong throughout is told in one line.
  std::string text() const {
    constexpr std::size_t kShown = 10;
    auto end = list_.begin() + static_cast<std::ptrdiff_t>(std::min(list_.size(), kShown));
    std::string out = Poco::cat(std::string("; "), list_.begin(), end);
    if (list_.size() > kShown) out += "; and " + std::to_string(list_.size() - kShown) + " more";
    return out;
  }

 private:
  std::vector<std::string> list_;
};

// The uses a setting is required for; a use this hub does not know (a later SDK's, or a misspelling) is noted
// and ignored, as a key is.
std::vector<std::string> roles(const Json &spec, const std::string &where, std::vector<std::string> &notes) {
  std::vector<std::string> out;
  auto it = spec.find("required_for");
  if (it == spec.end() || it->is_null()) return out;
  if (!it->is_array() || std::any_of(it->begin(), it->end(), [](const Json &role) { return !role.is_string(); }))
    throw std::invalid_argument(where + ".\"required_for\" must be an array of the uses that need the setting (" +
                                joined(kRoles) + ")");
  for (auto &role : *it) {
    const std::string &name = role.get_ref<const std::string &>();
    if (std::find(kRoles.begin(), kRoles.end(), name) != kRoles.end()) {
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
      continue;
    }
    std::string guess = config::closest(name, kRoles);
    notes.push_back(where + ".required_for has \"" + name + "\", a use this hub does not know and ignores (" +
                    (guess.empty() ? "" : "did you mean " + guess + "? ") + "uses: " + joined(kRoles) + ")");
  }
  return out;
}

// Settings, parameters or fixed fields; only a setting may be required for some uses of its connector.
std::vector<FieldSpec> field_specs(const Json &list, const std::string &where, std::vector<std::string> &notes,
                                   Problems &problems, bool settings = false) {
  std::vector<FieldSpec> out;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string at = where + "[" + std::to_string(i) + "]";
    if (!list[i].is_object()) {
      problems.add(at + " must be an object");
      continue;
    }
    if (settings)
      note_unknown_keys(list[i], {"name", "type", "required", "required_for", "secret", "description", "list"}, at, notes);
    else
      note_unknown_keys(list[i], {"name", "type", "required", "secret", "description", "list"}, at, notes);
    FieldSpec f;
    problems.check([&] { f.name = text(list[i], "name", at, true); });
    problems.check([&] {
      f.type = text(list[i], "type", at, false);
      if (f.type.empty()) f.type = "string";
      if (!kTypes.count(f.type))
        throw std::invalid_argument(at + " has unknown type \"" + f.type + "\" (types: " + joined(kTypes) + ")");
    });
    problems.check([&] { f.required = flag(list[i], "required", at); });
    if (settings) problems.check([&] { f.required_for = roles(list[i], at, notes); });
    problems.check([&] { f.secret = flag(list[i], "secret", at); });
    problems.check([&] { f.description = text(list[i], "description", at, false); });
    problems.check([&] { f.list = text(list[i], "list", at, false); });
    if (!f.name.empty() && !seen.insert(f.name).second) problems.add(at + " repeats the name \"" + f.name + "\"");
    out.push_back(std::move(f));
  }
  return out;
}

template <typename T>
const T *by_name(const std::vector<T> &items, const std::string &name) {
  for (auto &item : items)
    if (item.name == name) return &item;
  return nullptr;
}

}  // namespace

bool FieldSpec::required_as(const std::string &role) const {
  return required || std::find(required_for.begin(), required_for.end(), role) != required_for.end();
}

const FieldSpec *ActionSpec::param(const std::string &n) const { return by_name(params, n); }
const ActionSpec *Manifest::action(const std::string &n) const { return by_name(actions, n); }
const TriggerSpec *Manifest::trigger(const std::string &n) const { return by_name(triggers, n); }
const ListSpec *Manifest::list(const std::string &n) const { return by_name(lists, n); }
const FieldSpec *Manifest::setting(const std::string &n) const { return by_name(settings, n); }

bool matches_type(const Json &value, const std::string &type) {
  if (type == "any") return true;
  if (type == "string") return value.is_string() || value.is_number();
  if (type == "integer") {
    if (value.is_number_integer()) return true;
    if (!value.is_string()) return false;
    // Not std::regex: its matcher recurses once a character, and a long value would overflow the stack.
    std::string_view digits = value.get_ref<const std::string &>();
    if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
    return !digits.empty() && std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); });
  }
  if (type == "boolean") return value.is_boolean();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  return false;
}

std::optional<Manifest> Manifest::parse(const std::string &source, std::string &error) {
  Json root = Json::parse(source, nullptr, false);
  if (root.is_discarded() || !root.is_object()) {
    error = "the manifest is not a JSON object";
    return std::nullopt;
  }
  Manifest m;
  Problems problems;
  // A check that throws names its place; each runs, so that every problem is told at once.
  auto check = [&](auto &&step) { problems.check(step); };
  // An array that is not one is told, and read as empty.
  auto array_of = [&](const Json &obj, const char *key, const std::string &where) -> const Json & {
    static const Json empty = Json::array();
    const Json *found = &empty;
    check([&] { found = &array(obj, key, where); });
    return *found;
  };
  std::vector<std::string> &notes = m.unknown_keys;
  note_unknown_keys(root,
                    {"id", "version", "name", "description", "settings", "actions", "triggers", "lists", "fields",
                     "rate_limit"},
                    "manifest", notes);
  check([&] {
    m.id = text(root, "id", "manifest", true);
    if (!std::regex_match(m.id, std::regex("[a-z0-9][a-z0-9_-]{0,63}")))
      throw std::invalid_argument("manifest.\"id\" \"" + m.id + "\" must be lower-case letters, digits, '-' or '_'");
  });
  check([&] { m.version = text(root, "version", "manifest", true); });
  check([&] { m.name = text(root, "name", "manifest", false); });
  check([&] { m.description = text(root, "description", "manifest", false); });
  m.settings = field_specs(array_of(root, "settings", "manifest"), "manifest.settings", notes, problems, true);
  const Json &actions = array_of(root, "actions", "manifest");
  for (std::size_t i = 0; i < actions.size(); ++i) {
    std::string at = "manifest.actions[" + std::to_string(i) + "]";
    if (!actions[i].is_object()) {
      problems.add(at + " must be an object");
      continue;
    }
    note_unknown_keys(actions[i], {"name", "description", "params", "ordered"}, at, notes);
    ActionSpec a;
    check([&] { a.name = text(actions[i], "name", at, true); });
    check([&] { a.description = text(actions[i], "description", at, false); });
    a.params = field_specs(array_of(actions[i], "params", at), at + ".params", notes, problems);
    check([&] { a.ordered = flag(actions[i], "ordered", at); });
    if (!a.name.empty() && m.action(a.name)) problems.add(at + " repeats the action name \"" + a.name + "\"");
    m.actions.push_back(std::move(a));
  }
  const Json &triggers = array_of(root, "triggers", "manifest");
  for (std::size_t i = 0; i < triggers.size(); ++i) {
    std::string at = "manifest.triggers[" + std::to_string(i) + "]";
    if (!triggers[i].is_object()) {
      problems.add(at + " must be an object");
      continue;
    }
    note_unknown_keys(triggers[i], {"name", "kind", "events", "description", "path", "interval_seconds"}, at, notes);
    TriggerSpec t;
    check([&] { t.name = text(triggers[i], "name", at, true); });
    check([&] {
      t.kind = text(triggers[i], "kind", at, true);
      if (!kTriggerKinds.count(t.kind)) throw std::invalid_argument(at + ".\"kind\" must be webhook, poll or import");
    });
    for (auto &e : array_of(triggers[i], "events", at))
      if (e.is_string()) t.events.push_back(e.get<std::string>());
    check([&] { t.description = text(triggers[i], "description", at, false); });
    check([&] {
      t.path = text(triggers[i], "path", at, false);
      if (!t.path.empty() && t.path.front() != '/' && t.path.front() != '?')
        throw std::invalid_argument(at + ".\"path\" must start with '/' or '?' (it follows /hooks/<source>)");
    });
    if (t.kind == "poll") {
      check([&] {
        auto interval = triggers[i].find("interval_seconds");
        if (interval == triggers[i].end() || !interval->is_number_integer() || interval->get<int64_t>() < 1 ||
            interval->get<int64_t>() > 7 * 86400)
          throw std::invalid_argument(at + " is a poll trigger and needs \"interval_seconds\": its default interval, "
                                           "a whole number of seconds from 1 to 604800");
        t.interval_seconds = interval->get<int>();
      });
    }
    m.triggers.push_back(std::move(t));
  }
  const Json &lists = array_of(root, "lists", "manifest");
  for (std::size_t i = 0; i < lists.size(); ++i) {
    std::string at = "manifest.lists[" + std::to_string(i) + "]";
    if (!lists[i].is_object()) {
      problems.add(at + " must be an object");
      continue;
    }
    note_unknown_keys(lists[i], {"name", "description"}, at, notes);
    ListSpec l;
    check([&] { l.name = text(lists[i], "name", at, true); });
    check([&] { l.description = text(lists[i], "description", at, false); });
    m.lists.push_back(std::move(l));
  }
  // A parameter's list is one the manifest declares: the console's pickers and
  // check's validation of its values read that list's items.
  std::vector<std::string> list_names;
  for (auto &l : m.lists) list_names.push_back(l.name);
  for (std::size_t i = 0; i < actions.size(); ++i) {
    auto params = actions[i].find("params");
    if (params == actions[i].end() || !params->is_array()) continue;
    for (std::size_t j = 0; j < params->size(); ++j) {
      const Json &param = (*params)[j];
      auto list = param.find("list");
      if (list == param.end() || !list->is_string() || list->get_ref<const std::string &>().empty() ||
          m.list(list->get<std::string>()))
        continue;
      auto name = [](const Json &obj) {
        auto it = obj.find("name");
        return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string("?");
      };
      std::string at = "manifest.actions[" + std::to_string(i) + "].params[" + std::to_string(j) + "]";
      problems.add(at + " (" + name(actions[i]) + "." + name(param) + ") names the list \"" + list->get<std::string>() +
                   "\", which is not in manifest.lists (" +
                   (list_names.empty() ? "it declares none" : "lists: " + joined(list_names)) + ")");
    }
  }
  if (auto it = root.find("fields"); it != root.end() && !it->is_null()) {
    if (it->is_array()) {
      m.fields.fixed = field_specs(*it, "manifest.fields", notes, problems);
    } else if (it->is_object()) {
      note_unknown_keys(*it, {"fixed", "list", "types"}, "manifest.fields", notes);
      m.fields.fixed = field_specs(array_of(*it, "fixed", "manifest.fields"), "manifest.fields.fixed", notes, problems);
      check([&] {
        m.fields.list = text(*it, "list", "manifest.fields", false);
        if (!m.fields.list.empty() && !m.list(m.fields.list))
          throw std::invalid_argument("manifest.fields.\"list\" names \"" + m.fields.list +
                                      "\", which is not in manifest.lists");
      });
      for (auto &t : array_of(*it, "types", "manifest.fields"))
        if (t.is_string()) m.fields.types.push_back(t.get<std::string>());
    } else {
      problems.add("manifest.\"fields\" must be an array or an object");
    }
  }
  if (auto it = root.find("rate_limit"); it != root.end() && !it->is_null()) {
    check([&] {
      if (!it->is_object() || !it->contains("requests") || !(*it)["requests"].is_number_integer() ||
          !it->contains("per_seconds") || !(*it)["per_seconds"].is_number() || (*it)["per_seconds"].get<double>() <= 0)
        throw std::invalid_argument("manifest.\"rate_limit\" must be {\"requests\": N, \"per_seconds\": S}");
      note_unknown_keys(*it, {"requests", "per_seconds", "shared_by"}, "manifest.rate_limit", notes);
      m.rate_limit.requests = (*it)["requests"].get<int>();
      m.rate_limit.per_seconds = (*it)["per_seconds"].get<double>();
      if (auto by = it->find("shared_by"); by != it->end() && !by->is_null()) {
        if (!by->is_string() || !m.setting(by->get<std::string>()))
          throw std::invalid_argument("manifest.rate_limit.\"shared_by\" must name one of manifest.settings");
        m.rate_limit.shared_by = by->get<std::string>();
      }
    });
  }
  if (!problems.empty()) {
    error = problems.text();
    return std::nullopt;
  }
  return m;
}

}  // namespace cartwire::plugins
