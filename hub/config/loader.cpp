// Reads hub.yaml into HubConfig. Every problem is collected with its line so
// that one run of `cartwire check` shows them all.
#include <Poco/Ascii.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string_view>

#include "config/config.hpp"

namespace cartwire::config {
namespace {

namespace fs = std::filesystem;

// The checks below read hub.yaml's text by hand, not with std::regex: its
// matcher recurses once a character, and a long value (a pasted certificate, a
// run of spaces) would overflow the stack of check and serve.

using Poco::Ascii;

// ${NAME} or ${NAME:-default} at text[at] (its '$'), NAME of letters, digits
// and _ and not starting with a digit; nullopt when none is written there.
struct Variable {
  std::size_t length = 0;
  std::string name;
  std::optional<std::string> fallback;  // what follows :-, when written
};
std::optional<Variable> variable_at(const std::string &text, std::size_t at) {
  if (text.compare(at, 2, "${") != 0) return std::nullopt;
  std::size_t start = at + 2, i = start;
  while (i < text.size() && (Ascii::isAlpha(text[i]) || text[i] == '_' || (i > start && Ascii::isDigit(text[i])))) ++i;
  if (i == start) return std::nullopt;
  Variable v;
  v.name = text.substr(start, i - start);
  if (text.compare(i, 2, ":-") == 0) {
    std::size_t close = text.find('}', i + 2);
    if (close == std::string::npos) return std::nullopt;
    v.fallback = text.substr(i + 2, close - i - 2);
    i = close;
  }
  if (i >= text.size() || text[i] != '}') return std::nullopt;
  v.length = i + 1 - at;
  return v;
}

// A products: key: an item reference (product-12, upsell-*) or another name,
// of letters, digits, '_', '.' and '-', with an optional trailing '*'.
bool product_reference(std::string_view product) {
  if (!product.empty() && product.back() == '*') product.remove_suffix(1);
  return !product.empty() && std::all_of(product.begin(), product.end(), [](char c) {
    return Ascii::isAlpha(c) || Ascii::isDigit(c) || c == '_' || c == '.' || c == '-';
  });
}

// Levenshtein distance, for "did you mean".
std::size_t distance(const std::string &a, const std::string &b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

class Loader {
 public:
  /** `allow_unset`: an unset ${VARIABLE} with no default is a warning, its text empty (check --allow-unset). */
  Loader(std::string file, const EnvLookup &env, bool allow_unset = false)
      : file_(std::move(file)), env_(env), allow_unset_(allow_unset) {}

  /** With `keep_going`, a file that parsed is returned whatever its problems (see problems()). */
  HubConfig load(bool keep_going = false) {
    HubConfig cfg;
    cfg.file = file_;
    YAML::Node root;
    std::error_code folder_error;
    if (fs::is_directory(file_, folder_error)) {
      // A container's bind mount of a file missing on the host makes a folder in its place.
      diags_.error({file_, 0}, "is a folder, not a file: name hub.yaml itself (a container that mounts a file "
                               "missing on the host makes a folder in its place)");
      throw ConfigError(diags_);
    }
    try {
      root = YAML::LoadFile(file_);
    } catch (const YAML::BadFile &) {
      diags_.error({file_, 0}, "cannot read the file (does it exist and is it readable?)");
      throw ConfigError(diags_);
    } catch (const YAML::ParserException &e) {
      // A tab indenting the line of the error, or the one above, is its likely cause.
      int line = e.mark.is_null() ? 0 : e.mark.line + 1;
      if (auto tab = last_tab_indent(line); tab && (line == 0 || *tab >= line - 1)) {
        diags_.error({file_, *tab}, "YAML syntax: a tab indents this line; YAML indents with spaces only");
      } else {
        diags_.error(at(e.mark), "YAML syntax: " + e.msg + syntax_hint(e.msg));
      }
      throw ConfigError(diags_);
    } catch (const std::exception &e) {  // a read that fails midway (an I/O error)
      diags_.error({file_, 0}, std::string("cannot read the file: ") + e.what());
      throw ConfigError(diags_);
    }
    duplicate_keys(root);
    std::vector<YAML::Node> merging;
    merge_keys(root, merging);
    if (root.IsNull()) {  // an empty file, or comments only: a file saved before it was written, say
      diags_.error({file_, 0}, "the file is empty (or holds only comments): a hub needs at least sources, "
                               "integrations and rules; config/hub.example.yaml is one to start from");
      throw ConfigError(diags_);
    }
    if (!root.IsMap()) {
      diags_.error(at(root), "the top level must be a mapping with keys such as sources, integrations, rules");
      throw ConfigError(diags_);
    }
    base_dir_ = fs::absolute(fs::path(file_)).parent_path();
    // The defaults are relative paths too: taken relative to the file, not to where the hub is started.
    cfg.storage.path = (base_dir_ / cfg.storage.path).lexically_normal().string();
    cfg.plugins_dir = (base_dir_ / cfg.plugins_dir).lexically_normal().string();
    if (std::string console = shipped_console(); !console.empty()) cfg.admin.web_dir = console;
    try {
      check_keys(root, "top level",
                 {"server", "admin", "storage", "plugins", "runner", "log", "sources", "integrations", "rules", "products"},
                 /*extensions=*/true);
      if (auto n = root["server"]) server(n, cfg.server);
      if (auto n = root["admin"]) admin(n, cfg.admin);
      if (auto n = root["storage"]) storage(n, cfg.storage);
      if (auto n = root["plugins"]) plugins(n, cfg);
      if (auto n = root["runner"]) runner(n, cfg.runner);
      if (auto n = root["log"]) log(n, cfg);
      if (auto n = root["sources"]) instances(n, "sources", cfg.sources, true);
      if (auto n = root["integrations"]) instances(n, "integrations", cfg.integrations, false);
      if (auto n = root["rules"]) rules(n, cfg.rules);
      if (auto n = root["products"]) products(n, cfg.rules);
    } catch (const YAML::Exception &e) {
      // Every read above checks node types first; this is the backstop for YAML the loader did not foresee.
      diags_.error(at(e.mark), "cannot read this value: " + e.msg);
    }
    if (diags_.has_errors() && !keep_going) throw ConfigError(diags_);
    return cfg;
  }

  const Diagnostics &problems() const { return diags_; }

 private:
  Location at(const YAML::Mark &mark) const { return {file_, mark.is_null() ? 0 : mark.line + 1}; }
  Location at(const YAML::Node &node) const { return at(node.Mark()); }

  // A mapping key as text. YAML allows lists and mappings as keys ("? [a, b]");
  // hub.yaml does not: each such key is reported once and read as "".
  std::string key_text(const YAML::Node &key) {
    if (key.IsScalar()) return key.Scalar();
    if (odd_keys_.insert({key.Mark().line, key.Mark().column}).second)
      diags_.error(at(key), std::string("a key must be plain text, not a list or a mapping") +
                                (key.IsMap() ? " (an unquoted template reads as a mapping: write \"{{customer.email}}\", "
                                               "in quotes)"
                                             : ""));
    return {};
  }

  // What usually causes yaml-cpp's terser messages.
  static std::string syntax_hint(const std::string &msg) {
    static const std::map<std::string, std::string> hints = {
        {YAML::ErrorMsg::MAP_VALUE,
         "; this line or the one above is not `key: value`: a key without its ':', a key indented more than the keys "
         "beside it, or an unquoted value holding ': ' (quote it)"},
        {YAML::ErrorMsg::END_OF_SEQ_FLOW, "; a list opened with '[' is not closed with ']'"},
        {YAML::ErrorMsg::END_OF_MAP_FLOW,
         "; a mapping opened with '{' is not closed with '}' (an unquoted {{template}} opens one: quote it)"},
        {YAML::ErrorMsg::END_OF_MAP, "; a key is indented less than the keys of its mapping, or a '- ' item is "
                                     "mixed into a mapping"},
        {YAML::ErrorMsg::END_OF_SEQ, "; an entry of this list is indented differently from the others"},
        {YAML::ErrorMsg::BLOCK_ENTRY, "; a '- ' list item where a `key: value` is expected (check the indentation)"},
        {YAML::ErrorMsg::UNKNOWN_TOKEN, "; a value starting with a character YAML reserves (@, `, %, ...): quote it"},
        {YAML::ErrorMsg::EOF_IN_SCALAR, "; a quote is opened and never closed"},
    };
    auto it = hints.find(msg);
    return it == hints.end() ? "" : it->second;
  }

  // The last line up to `last` indented with a tab (yaml-cpp reports these
  // as something else), or nullopt.
  std::optional<int> last_tab_indent(int last) const {
    std::ifstream in(file_);
    std::string line;
    std::optional<int> found;
    for (int n = 1; std::getline(in, line) && (last == 0 || n <= last); ++n) {
      std::size_t text = line.find_first_not_of(" \t");
      if (text != std::string::npos && line.find('\t') < text) {
        found = n;
        if (last == 0) break;
      }
    }
    return found;
  }

  // YAML keeps one value of a key written twice in a mapping, silently.
  void duplicate_keys(const YAML::Node &node) {
    if (node.IsSequence()) {
      for (const auto &item : node) duplicate_keys(item);
      return;
    }
    if (!node.IsMap()) return;
    std::map<std::string, int> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it->first.IsScalar()) {
        auto [first, fresh] = seen.emplace(it->first.Scalar(), at(it->first).line);
        if (!fresh)
          diags_.error(at(it->first), "'" + it->first.Scalar() + "' is set twice in this mapping (first at line " +
                                          std::to_string(first->second) + "); keep one");
      }
      duplicate_keys(it->second);
    }
  }

  // YAML 1.1's merge key, which yaml-cpp 0.7 reads as a plain key: `<<: *anchor` (or a list of anchors, the
  // first winning) gives a mapping each key of the anchored mapping(s) it does not set itself. The keys and
  // values are the anchor's own nodes, so their lines stay where they are written. `merging` holds the
  // mappings being merged, so an anchor merged into itself stops.
  void merge_keys(YAML::Node node, std::vector<YAML::Node> &merging) {
    if (node.IsSequence()) {
      for (auto item : node) merge_keys(item, merging);
      return;
    }
    if (!node.IsMap() || std::any_of(merging.begin(), merging.end(), [&](const YAML::Node &m) { return m.is(node); }))
      return;
    merging.push_back(node);
    for (auto it = node.begin(); it != node.end(); ++it) merge_keys(it->second, merging);
    YAML::Node key, from;
    bool merges = false;
    for (auto it = node.begin(); it != node.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == "<<") {
        key = it->first;
        from = it->second;
        merges = true;
      }
    if (merges) {
      std::vector<YAML::Node> maps;
      if (from.IsMap()) maps.push_back(from);
      if (from.IsSequence())
        for (auto item : from) maps.push_back(item);
      if (maps.empty() || std::any_of(maps.begin(), maps.end(), [](const YAML::Node &m) { return !m.IsMap(); })) {
        diags_.error(at(key), std::string("'<<' merges the keys of a mapping (<<: *anchor) or of a list of mappings "
                                          "(<<: [*a, *b]) into this one; this one is given ") +
                                  (from.IsScalar() ? "text" : from.IsNull() ? "nothing" : "a list of other values"));
      }
      node.remove(key);
      for (auto &map : maps) {
        if (!map.IsMap()) continue;
        const YAML::Node &has = node;  // const: its operator[] looks a key up without adding it
        for (auto it = map.begin(); it != map.end(); ++it)
          if (!it->first.IsScalar() || !has[it->first.Scalar()]) node.force_insert(it->first, it->second);
      }
    }
    merging.pop_back();
  }

  // `extensions`: keys starting with x- are allowed too (the top level's, a place for anchors, as Compose files have).
  void check_keys(const YAML::Node &map, const std::string &what, const std::set<std::string> &allowed,
                  bool extensions = false) {
    if (!map.IsMap()) return;
    for (auto it = map.begin(); it != map.end(); ++it) {
      std::string key = key_text(it->first);
      if (allowed.count(key) || (extensions && key.starts_with("x-"))) continue;
      std::string list;
      for (auto &a : allowed) list += (list.empty() ? "" : ", ") + a;
      std::string guess = closest(key, std::vector<std::string>(allowed.begin(), allowed.end()));
      diags_.error(at(it->first), "unknown key '" + key + "' in " + what + " (" +
                                      (guess.empty() ? "" : "did you mean " + guess + "? ") + "valid keys: " + list + ")");
    }
  }

  bool expect_map(const YAML::Node &node, const std::string &what) {
    if (node.IsMap()) return true;
    if (node.IsNull()) return false;
    diags_.error(at(node), what + " must be a mapping (key: value)");
    return false;
  }

  // ${NAME} and ${NAME:-default} are replaced from the environment, so that
  // secrets stay out of the file; $${ is a literal ${. Any other ${ is an
  // error: taken as text, a mistyped ${TOKEN:default} would be the secret.
  std::string substitute(const std::string &text, const YAML::Node &node) {
    std::string out;
    std::size_t last = 0;
    for (std::size_t at_dollar = text.find("${"); at_dollar != std::string::npos; at_dollar = text.find("${", last)) {
      if (at_dollar > 0 && text[at_dollar - 1] == '$') {  // $${: the text ${
        out.append(text, last, at_dollar - last - 1);
        out += "${";
        last = at_dollar + 2;
        continue;
      }
      out.append(text, last, at_dollar - last);
      std::optional<Variable> m = variable_at(text, at_dollar);
      if (!m) {
        // Quoted up to a default's start at most: what follows may be the secret itself.
        std::size_t end = std::min(text.find_first_of(":}", at_dollar), at_dollar + 40);
        std::string quoted = end < text.size() && text[end] == '}' ? text.substr(at_dollar, end - at_dollar + 1)
                                                                   : text.substr(at_dollar, end - at_dollar) + "…";
        diags_.error(at(node), "malformed " + quoted +
                                   ": write ${NAME} or ${NAME:-default}, NAME made of letters, digits and _ "
                                   "(or $${ for the text ${)");
        return out;
      }
      named_.push_back(m->name);
      if (auto value = env_(m->name)) {
        out += *value;
      } else if (m->fallback) {
        out += *m->fallback;
        if (!m->fallback->empty()) defaulted_.push_back(m->name);
      } else if (allow_unset_) {
        diags_.warning(at(node), "environment variable " + m->name +
                                     " is not set: what it gives a value is not checked (--allow-unset)");
      } else {
        diags_.error(at(node), "environment variable " + m->name +
                                   " is not set (export it, or write ${" + m->name + ":-default})");
      }
      last = at_dollar + m->length;
    }
    out.append(text, last, std::string::npos);
    return out;
  }

  std::string scalar(const YAML::Node &node, const std::string &what) {
    if (!node.IsScalar()) {
      diags_.error(at(node), what + " must be a single value");
      return {};
    }
    return substitute(node.Scalar(), node);
  }

  Json to_json(const YAML::Node &node) {
    switch (node.Type()) {
      case YAML::NodeType::Map: {
        Json out = Json::object();
        for (auto it = node.begin(); it != node.end(); ++it) out[key_text(it->first)] = to_json(it->second);
        return out;
      }
      case YAML::NodeType::Sequence: {
        Json out = Json::array();
        for (const auto &item : node) out.push_back(to_json(item));
        return out;
      }
      case YAML::NodeType::Scalar: {
        std::string text = substitute(node.Scalar(), node);
        if (node.Tag() == "?") {  // plain (unquoted) scalars get YAML's usual typing
          if (text == "true" || text == "false") return text == "true";
          static const std::regex integer("-?[0-9]{1,18}");
          if (std::regex_match(text, integer) && node.Scalar() == text) return std::stoll(text);
        }
        return text;
      }
      default:
        return nullptr;
    }
  }

  int integer(const YAML::Node &node, const std::string &what, int min, int max) {
    std::string text = scalar(node, what);
    try {
      std::size_t used = 0;
      long value = std::stol(text, &used);
      if (used == text.size() && value >= min && value <= max) return static_cast<int>(value);
    } catch (const std::exception &) {
    }
    diags_.error(at(node), what + " must be a whole number from " + std::to_string(min) + " to " +
                               std::to_string(max) + " (got '" + text + "')");
    return min;
  }

  milliseconds duration(const YAML::Node &node, const std::string &what) {
    std::string text = scalar(node, what);
    if (auto d = parse_duration(text)) return *d;
    diags_.error(at(node), what + " must be a duration such as 500ms, 5s, 10m, 6h or 3d (got '" + text + "')");
    return milliseconds(0);
  }

  std::string path(const YAML::Node &node, const std::string &what) {
    std::string text = scalar(node, what);
    if (text.empty() || fs::path(text).is_absolute()) return text;
    return (base_dir_ / text).lexically_normal().string();
  }

  void server(const YAML::Node &n, ServerConfig &s) {
    if (!expect_map(n, "server")) return;
    check_keys(n, "server", {"listen", "max_body_bytes", "read_timeout", "threads"});
    if (auto l = n["listen"]) listen(l, "server.listen", "127.0.0.1:8080", s.host, s.port);
    if (auto v = n["max_body_bytes"]) s.max_body_bytes = integer(v, "server.max_body_bytes", 1024, 64 << 20);
    if (auto v = n["read_timeout"]) s.read_timeout = duration(v, "server.read_timeout");
    if (auto v = n["threads"]) s.threads = integer(v, "server.threads", 1, 1024);
  }

  void listen(const YAML::Node &l, const std::string &what, const std::string &example, std::string &host, int &port) {
    std::string text = scalar(l, what);
    auto colon = text.rfind(':');
    if (colon == std::string::npos) {
      diags_.error(at(l), what + " must be host:port, e.g. " + example + " (got '" + text + "')");
      return;
    }
    host = text.substr(0, colon);
    try {
      port = std::stoi(text.substr(colon + 1));
    } catch (const std::exception &) {
      port = -1;
    }
    if (port < 0 || port > 65535) diags_.error(at(l), what + " has an invalid port in '" + text + "'");
  }

  bool boolean(const YAML::Node &node, const std::string &what) {
    std::string text = scalar(node, what);
    if (text == "true" || text == "false") return text == "true";
    diags_.error(at(node), what + " must be true or false (got '" + text + "')");
    return false;
  }

  void admin(const YAML::Node &n, AdminConfig &a) {
    if (!expect_map(n, "admin")) return;
    check_keys(n, "admin", {"listen", "token", "session_ttl", "max_body_bytes", "read_timeout", "metrics_public", "web_dir"});
    if (auto l = n["listen"]) listen(l, "admin.listen", "127.0.0.1:8081", a.host, a.port);
    if (auto t = n["token"]) {
      // A token written into the file, whole or as a default, would end up in
      // backups and version control.
      const std::string text = t.IsScalar() ? t.Scalar() : std::string();
      std::optional<Variable> variable = variable_at(text, 0);
      if (!t.IsScalar() || !variable || variable->length != text.size() ||
          (variable->fallback && !variable->fallback->empty())) {
        diags_.error(at(t), "admin.token must come from the environment alone, e.g. token: ${CARTWIRE_ADMIN_TOKEN} "
                            "(or ${CARTWIRE_ADMIN_TOKEN:-}: off while unset); a token or a default written in the "
                            "file would end up in backups and version control");
      } else {
        a.token_variable = variable->name;
        a.token = scalar(t, "admin.token");
        if (!a.token.empty() && a.token.size() < 16)
          diags_.error(at(t), "admin.token must be at least 16 characters (e.g. openssl rand -hex 24)");
      }
    }
    a.enabled = !a.token.empty();
    if (auto v = n["session_ttl"]) {
      a.session_ttl = duration(v, "admin.session_ttl");
      if (a.session_ttl.count() <= 0) diags_.error(at(v), "admin.session_ttl must be longer than 0, e.g. 12h");
    }
    if (auto v = n["max_body_bytes"]) a.max_body_bytes = integer(v, "admin.max_body_bytes", 1024, 64 << 20);
    if (auto v = n["read_timeout"]) a.read_timeout = duration(v, "admin.read_timeout");
    if (auto v = n["metrics_public"]) a.metrics_public = boolean(v, "admin.metrics_public");
    if (auto v = n["web_dir"]) a.web_dir = path(v, "admin.web_dir");
  }

  void storage(const YAML::Node &n, StorageConfig &s) {
    if (!expect_map(n, "storage")) return;
    check_keys(n, "storage", {"driver", "path", "synchronous", "url", "retention"});
    if (auto v = n["retention"]) {
      std::string text = scalar(v, "storage.retention");
      auto keep = parse_duration(text);
      if (text == "off") s.retention = milliseconds(0);
      else if (keep && keep->count() >= 1000) s.retention = *keep;
      else diags_.error(at(v), "storage.retention must be a duration of at least 1s, e.g. 90d, or off (got '" + text + "')");
    }
    if (auto v = n["driver"]) {
      s.driver = scalar(v, "storage.driver");
      if (s.driver != "sqlite" && s.driver != "postgresql")
        diags_.error(at(v), "storage.driver '" + s.driver + "' is not supported (use sqlite or postgresql)");
    }
    if (auto v = n["path"]) s.path = path(v, "storage.path");
    if (auto v = n["synchronous"]) {
      s.synchronous = scalar(v, "storage.synchronous");
      if (s.synchronous != "full" && s.synchronous != "normal")
        diags_.error(at(v), "storage.synchronous must be 'full' or 'normal'");
    }
    if (auto v = n["url"]) {
      s.url = scalar(v, "storage.url");
      s.url_at = at(v);
      if (s.driver != "postgresql")
        diags_.error(at(v), "storage.url is for driver postgresql (this storage is " + s.driver + ")");
    } else if (s.driver == "postgresql") {
      diags_.error(at(n["driver"]), "storage driver postgresql needs a url, e.g. url: postgresql://cartwire@db.internal/cartwire");
    }
    if (s.driver == "postgresql")
      for (const char *key : {"path", "synchronous"})
        if (auto v = n[key]) diags_.error(at(v), std::string("storage.") + key + " is for driver sqlite (this storage is postgresql)");
  }

  void plugins(const YAML::Node &n, HubConfig &cfg) {
    if (!expect_map(n, "plugins")) return;
    check_keys(n, "plugins", {"dir", "native_calls"});
    if (auto v = n["dir"]) cfg.plugins_dir = path(v, "plugins.dir");
    if (auto v = n["native_calls"]) cfg.native_calls = boolean(v, "plugins.native_calls");
  }

  void runner(const YAML::Node &n, RunnerConfig &r) {
    if (!expect_map(n, "runner")) return;
    check_keys(n, "runner", {"node", "workers", "lease", "poll_interval", "retry"});
    if (auto v = n["node"]) {
      r.node = scalar(v, "runner.node");  // empty: the default
      if (r.node.size() > 200) diags_.error(at(v), "runner.node must be at most 200 characters");
    }
    if (auto v = n["workers"]) r.workers = integer(v, "runner.workers", 1, 256);
    if (auto v = n["lease"]) r.lease = duration(v, "runner.lease");
    if (auto v = n["poll_interval"]) r.poll_interval = duration(v, "runner.poll_interval");
    if (auto rt = n["retry"]; rt && expect_map(rt, "runner.retry")) {
      check_keys(rt, "runner.retry", {"initial_delay", "max_delay", "horizon", "max_attempts"});
      if (auto v = rt["initial_delay"]) r.retry.initial_delay = duration(v, "runner.retry.initial_delay");
      if (auto v = rt["max_delay"]) r.retry.max_delay = duration(v, "runner.retry.max_delay");
      if (auto v = rt["horizon"]) r.retry.horizon = duration(v, "runner.retry.horizon");
      if (auto v = rt["max_attempts"]) r.retry.max_attempts = integer(v, "runner.retry.max_attempts", 0, 1000000);
    }
  }

  void log(const YAML::Node &n, HubConfig &cfg) {
    if (!expect_map(n, "log")) return;
    check_keys(n, "log", {"level", "body_bytes"});
    if (auto v = n["body_bytes"])
      cfg.log_body_bytes = static_cast<std::size_t>(integer(v, "log.body_bytes", 0, 1 << 20));
    if (auto v = n["level"]) {
      std::string level = scalar(v, "log.level");
      static const std::set<std::string> levels = {"debug", "information", "info", "warning", "error"};
      if (!levels.count(level))
        diags_.error(at(v), "log.level must be debug, info, warning or error (got '" + level + "')");
      cfg.log_level = level == "info" ? "information" : level;
    }
  }

  void instances(const YAML::Node &n, const std::string &section, std::map<std::string, InstanceConfig> &out,
                 bool is_source) {
    if (!expect_map(n, section)) return;
    static const std::regex id_re("[a-z0-9][a-z0-9_-]{0,63}");
    for (auto it = n.begin(); it != n.end(); ++it) {
      InstanceConfig inst;
      inst.id = key_text(it->first);
      inst.where = at(it->first);
      if (!std::regex_match(inst.id, id_re))
        diags_.error(inst.where, section + " id '" + inst.id +
                                     "' must be lower-case letters, digits, '-' or '_' (at most 64)");
      const YAML::Node body = it->second;
      std::string what = section + "." + inst.id;
      if (!expect_map(body, what)) {
        if (body.IsNull()) diags_.error(inst.where, what + " needs at least 'connector:'");
        continue;
      }
      if (is_source) check_keys(body, what, {"connector", "trigger", "every", "settings"});
      else check_keys(body, what, {"connector", "settings", "concurrency", "rate_limit", "fields"});
      if (auto c = body["connector"]) inst.connector = scalar(c, what + ".connector");
      else diags_.error(inst.where, what + " has no 'connector:' (the plugin id, e.g. thrivecart)");
      if (auto t = body["trigger"]) inst.trigger = scalar(t, what + ".trigger");
      if (auto e = body["every"]) {
        inst.every_line = at(e);
        std::string text = scalar(e, what + ".every");
        inst.every = parse_duration(text);
        if (!inst.every || *inst.every < milliseconds(100) || *inst.every > std::chrono::hours(24 * 7))
          diags_.error(inst.every_line, what + ".every must be a duration from 100ms to 7d, e.g. 5m (got '" + text + "')");
      }
      if (auto c = body["concurrency"]) inst.concurrency = integer(c, what + ".concurrency", 0, 1024);
      if (auto r = body["rate_limit"]; r && expect_map(r, what + ".rate_limit")) {
        check_keys(r, what + ".rate_limit", {"requests", "per"});
        if (auto n = r["requests"]) inst.rate_requests = integer(n, what + ".rate_limit.requests", 1, 1000000);
        else diags_.error(at(r), what + ".rate_limit needs requests, e.g. {requests: 100, per: 10s}");
        if (auto p = r["per"]) {
          std::string text = scalar(p, what + ".rate_limit.per");
          auto per = parse_duration(text);
          if (per && *per >= milliseconds(100) && *per <= std::chrono::hours(24)) inst.rate_per = *per;
          else diags_.error(at(p), what + ".rate_limit.per must be a duration from 100ms to 24h (got '" + text + "')");
        } else {
          diags_.error(at(r), what + ".rate_limit needs per, e.g. {requests: 100, per: 10s}");
        }
      }
      if (auto s = body["settings"]; s && expect_map(s, what + ".settings")) {
        std::size_t problems = diags_.items().size();
        for (auto si = s.begin(); si != s.end(); ++si) {
          std::string key = key_text(si->first);
          defaulted_.clear();
          named_.clear();
          inst.settings[key] = to_json(si->second);
          if (!defaulted_.empty()) inst.defaulted_settings[key] = defaulted_.front();
          if (!named_.empty()) inst.setting_variables[key] = named_.front();
          inst.setting_lines[key] = at(si->first);
        }
        inst.settings_complete = diags_.items().size() == problems;
      }
      if (auto f = body["fields"]; f && expect_map(f, what + ".fields")) {
        for (auto fi = f.begin(); fi != f.end(); ++fi) {
          std::string remote = key_text(fi->first);
          std::string path = scalar(fi->second, what + ".fields." + remote);
          if (path.find("{{") != std::string::npos) {
            diags_.error(at(fi->second), what + ".fields." + remote +
                                             " takes an event field path such as customer.custom_fields.company, "
                                             "without {{ }}");
          }
          inst.fields[remote] = path;
          inst.field_lines[remote] = at(fi->first);
        }
      }
      out[inst.id] = std::move(inst);
    }
  }

  void filters(const YAML::Node &n, Rule &rule) {
    if (!expect_map(n, "where")) return;
    for (auto it = n.begin(); it != n.end(); ++it) {
      Filter f;
      f.field = key_text(it->first);
      f.where = at(it->first);
      const YAML::Node v = it->second;
      if (v.IsSequence()) {
        f.op = Filter::Op::one_of;
        for (const auto &item : v) f.values.push_back(scalar(item, "where." + f.field));
      } else if (v.IsMap()) {
        check_keys(v, "where." + f.field, {"not"});
        f.op = Filter::Op::not_equals;
        if (auto x = v["not"]) f.values.push_back(scalar(x, "where." + f.field + ".not"));
      } else {
        std::string text = scalar(v, "where." + f.field);
        if (!text.empty() && text.back() == '*') {
          f.op = Filter::Op::prefix;
          text.pop_back();
        }
        f.values.push_back(text);
      }
      rule.where.push_back(std::move(f));
    }
  }

  void rule(const YAML::Node &n, std::vector<Rule> &out, const std::string &product) {
    Rule r;
    r.location = at(n);
    r.product = product;
    if (n.IsNull()) {
      // The parser places an empty entry where the next one starts.
      diags_.warning(r.location, "an empty rule (a '-' with nothing after it) above this line is skipped");
      return;
    }
    if (!expect_map(n, "a rule")) return;
    r.name = n["name"] ? scalar(n["name"], "rule name") : default_name(n, product);
    check_keys(n, "rule '" + r.name + "'", {"name", "on", "where", "do", "with"});
    r.do_line = r.location;
    if (auto on = n["on"]) {
      if (on.IsSequence()) {
        for (const auto &t : on) {
          r.on.push_back(scalar(t, "on"));
          r.on_lines.push_back(at(t));
        }
      } else {
        r.on.push_back(scalar(on, "on"));
        r.on_lines.push_back(at(on));
      }
    } else if (!product.empty()) {
      r.on.push_back("product.purchased");
      r.on_lines.push_back(r.location);
    } else {
      diags_.error(r.location, "rule '" + r.name + "' has no 'on:' (an event type such as product.purchased, or '*')");
    }
    if (auto w = n["where"]) filters(w, r);
    if (auto d = n["do"]) {
      r.do_line = at(d);
      std::string target = scalar(d, "do");
      auto dot = target.find('.');
      if (dot == std::string::npos || dot == 0 || dot + 1 == target.size()) {
        diags_.error(at(d), "'do: " + target + "' must name integration.action, e.g. school.enroll_course");
      } else {
        r.integration = target.substr(0, dot);
        r.action = target.substr(dot + 1);
      }
    } else {
      diags_.error(r.location, "rule '" + r.name + "' has no 'do:' (integration.action)");
    }
    if (auto w = n["with"]; w && expect_map(w, "with")) {
      r.params = to_json(w);
      for (auto it = w.begin(); it != w.end(); ++it) r.param_lines[key_text(it->first)] = at(it->first);
    }
    out.push_back(std::move(r));
  }

  /**
   * The name of a rule that has none: what it does, `<product>:<do>` under
   * products, `<on>:<do>` among the global rules (`order.completed:crm.add_tags`),
   * `#2` on the second of the same, and so on. Jobs keep their rule's name and a
   * replay with the current rule finds it by that name: it stays the same when
   * lines above it are added or removed.
   */
  std::string default_name(const YAML::Node &n, const std::string &product) {
    auto text = [](const YAML::Node &node) {
      if (node && node.IsScalar()) return node.Scalar();
      std::string joined;
      if (node && node.IsSequence())
        for (const auto &item : node) joined += (joined.empty() ? "" : ",") + (item.IsScalar() ? item.Scalar() : "?");
      return joined.empty() ? std::string("?") : joined;
    };
    std::string name = (product.empty() ? text(n["on"]) : product) + ":" + text(n["do"]);
    int same = ++default_names_[name];
    return same == 1 ? name : name + "#" + std::to_string(same);
  }

  void rules(const YAML::Node &n, std::vector<Rule> &out) {
    if (n.IsNull()) return;  // every rule commented out
    if (!n.IsSequence()) {
      diags_.error(at(n), "rules must be a list (each entry starts with '- ')");
      return;
    }
    for (const auto &r : n) rule(r, out, "");
  }

  void products(const YAML::Node &n, std::vector<Rule> &out) {
    if (!expect_map(n, "products")) return;
    for (auto it = n.begin(); it != n.end(); ++it) {
      std::string product = key_text(it->first);
      if (!product_reference(product))
        diags_.error(at(it->first), "product reference '" + product + "' should look like product-12 or upsell-*");
      // Copy the node: it->second lives in a proxy that dies with the expression.
      const YAML::Node list = it->second;
      if (!list.IsSequence()) {
        diags_.error(at(list), "products." + product + " must be a list of rules");
        continue;
      }
      for (const auto &r : list) rule(r, out, product);
    }
  }

  std::string file_;
  const EnvLookup &env_;
  bool allow_unset_;
  fs::path base_dir_;
  Diagnostics diags_;
  std::set<std::pair<int, int>> odd_keys_;
  std::map<std::string, int> default_names_;  // how many rules without a name have each default name
  std::vector<std::string> defaulted_;  // variables substitute() took the written default of
  std::vector<std::string> named_;      // variables substitute() was asked for
};

}  // namespace

EnvLookup process_env() {
  return [](const std::string &name) -> std::optional<std::string> {
    const char *value = std::getenv(name.c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  };
}

std::optional<milliseconds> parse_duration(const std::string &text) {
  // [spaces] digits [spaces] [ms|s|m|h|d] [spaces]
  std::size_t i = 0, end = text.size();
  while (i < end && Ascii::isSpace(text[i])) ++i;
  while (end > i && Ascii::isSpace(text[end - 1])) --end;
  std::size_t digits = i;
  while (i < end && Ascii::isDigit(text[i])) ++i;
  std::string_view number(text.data() + digits, i - digits);
  while (i < end && Ascii::isSpace(text[i])) ++i;
  std::string_view unit(text.data() + i, end - i);
  if (number.empty() || !(unit.empty() || unit == "ms" || unit == "s" || unit == "m" || unit == "h" || unit == "d"))
    return std::nullopt;
  long long factor = unit == "ms"                  ? 1
                     : unit.empty() || unit == "s" ? 1000
                     : unit == "m"                 ? 60000
                     : unit == "h"                 ? 3600000
                                                   : 86400000;
  // Up to about 100 years: anything longer is a typo, and would overflow.
  constexpr long long kMaxMs = 100LL * 365 * 86400000;
  long long n = 0;
  for (char c : number) {
    n = n * 10 + (c - '0');
    if (n > kMaxMs / factor) return std::nullopt;
  }
  return milliseconds(n * factor);
}

std::string closest(const std::string &word, const std::vector<std::string> &candidates) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 4) + 1;
  for (auto &c : candidates)
    if (std::size_t dist = distance(word, c); dist < best_distance) {
      best = c;
      best_distance = dist;
    }
  if (best.empty())
    for (auto &c : candidates)
      if (c.size() > word.size() && c.compare(c.size() - word.size(), word.size(), word) == 0 &&
          c[c.size() - word.size() - 1] == '.')
        return c;
  return best;
}

#ifndef CARTWIRE_SHIPPED_CONNECTORS  // the loader built alone (its fuzz target): the build tree's folders
#define CARTWIRE_SHIPPED_CONNECTORS "lib/plugins"
#define CARTWIRE_SHIPPED_CONSOLE "share/cartwire/web"
#endif

namespace {

// The first of `dirs`, relative to this executable's folder, that exists; "" for none.
std::string beside_the_executable(std::initializer_list<const char *> dirs) {
  std::error_code ec;
  fs::path bin = fs::read_symlink("/proc/self/exe", ec).parent_path();
  if (ec) return "";
  for (const char *dir : dirs)
    if (fs::path p = (bin / dir).lexically_normal(); fs::is_directory(p, ec)) return p.string();
  return "";
}

}  // namespace

std::string shipped_connectors() { return beside_the_executable({CARTWIRE_SHIPPED_CONNECTORS}); }
std::string shipped_console() { return beside_the_executable({CARTWIRE_SHIPPED_CONSOLE}); }

HubConfig load_config(const std::string &path, const EnvLookup &env) { return Loader(path, env).load(); }

HubConfig load_config_for_check(const std::string &path, Diagnostics &problems, const EnvLookup &env,
                                bool allow_unset) {
  Loader loader(path, env, allow_unset);
  HubConfig cfg = loader.load(true);
  problems.append(loader.problems());
  return cfg;
}

}  // namespace cartwire::config
