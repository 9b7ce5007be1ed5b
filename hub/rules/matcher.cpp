#include "rules/matcher.hpp"

#include <Poco/Ascii.h>

#include <algorithm>
#include <optional>

namespace cartwire::rules {

const Json *lookup(const Json &event, std::string_view path) {
  const Json *node = &event;
  while (!path.empty()) {
    auto dot = path.find('.');
    std::string_view key = path.substr(0, dot);
    if (node->is_object()) {
      auto it = node->find(std::string(key));
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (node->is_array() && !key.empty() && std::all_of(key.begin(), key.end(), ::isdigit)) {
      std::size_t index = std::stoul(std::string(key));
      if (index >= node->size()) return nullptr;
      node = &(*node)[index];
    } else {
      return nullptr;
    }
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  }
  return node;
}

std::string field_text(const Json &event, std::string_view path) {
  const Json *v = lookup(event, path);
  if (!v || v->is_null() || v->is_object() || v->is_array()) return {};
  if (v->is_string()) return v->get<std::string>();
  return v->dump();
}

std::string product_reference(const Json &event) {
  for (auto path : {"item.reference", "subscription.item_reference", "refund.item_reference"}) {
    std::string ref = field_text(event, path);
    if (!ref.empty()) return ref;
  }
  return {};
}

namespace {

// A template, {{ path }}: the path of letters, digits, '_', '.' and '-', spaces
// around it. Read by hand, not with std::regex, whose matcher recurses once a
// character: a long parameter in hub.yaml would overflow the stack of each job.
struct Template {
  std::size_t length = 0;
  std::string_view path;
};

bool path_char(char c) { return Poco::Ascii::isAlphaNumeric(c) || c == '_' || c == '.' || c == '-'; }

// The template written at text[at], if one is.
std::optional<Template> template_at(std::string_view text, std::size_t at) {
  if (text.compare(at, 2, "{{") != 0) return std::nullopt;
  std::size_t i = at + 2;
  while (i < text.size() && Poco::Ascii::isSpace(text[i])) ++i;
  std::size_t start = i;
  while (i < text.size() && path_char(text[i])) ++i;
  if (i == start) return std::nullopt;
  std::string_view path = text.substr(start, i - start);
  while (i < text.size() && Poco::Ascii::isSpace(text[i])) ++i;
  if (text.compare(i, 2, "}}") != 0) return std::nullopt;
  return Template{i + 2 - at, path};
}

// visit(where, template) for each template of `text`, left to right.
template <typename Visit>
void each_template(std::string_view text, Visit &&visit) {
  std::size_t at = text.find("{{");
  while (at != std::string_view::npos) {
    std::optional<Template> t = template_at(text, at);
    if (t) visit(at, *t);
    at = text.find("{{", t ? at + t->length : at + 1);
  }
}

Json render_value(const Json &value, const Json &event) {
  if (value.is_object()) {
    Json out = Json::object();
    for (auto &[k, v] : value.items()) out[k] = render_value(v, event);
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (auto &v : value) out.push_back(render_value(v, event));
    return out;
  }
  if (!value.is_string()) return value;
  const std::string &text = value.get_ref<const std::string &>();
  if (text.find("{{") == std::string::npos) return value;
  if (std::optional<Template> whole = template_at(text, 0); whole && whole->length == text.size()) {
    const Json *field = lookup(event, whole->path);
    return field ? *field : Json(nullptr);
  }
  std::string out;
  std::size_t last = 0;
  each_template(text, [&](std::size_t at, const Template &t) {
    out.append(text, last, at - last);
    out += field_text(event, t.path);
    last = at + t.length;
  });
  out.append(text, last, std::string::npos);
  return out;
}

void collect_paths(const Json &value, std::vector<std::string> &out) {
  if (value.is_structured()) {
    for (auto &v : value) collect_paths(v, out);
    return;
  }
  if (!value.is_string()) return;
  const std::string &text = value.get_ref<const std::string &>();
  each_template(text, [&](std::size_t, const Template &t) { out.emplace_back(t.path); });
}

bool product_matches(const std::string &pattern, const std::string &reference) {
  if (pattern.empty()) return true;
  if (pattern.back() == '*') return reference.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  return pattern == reference;
}

}  // namespace

Json render(const Json &params, const Json &event) { return render_value(params, event); }

std::vector<std::string> template_paths(const Json &params) {
  std::vector<std::string> out;
  collect_paths(params, out);
  return out;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool accepts(const config::Rule &rule, const Json &event, const std::string &reference) {
  if (!product_matches(rule.product, reference)) return false;
  for (const auto &f : rule.where) {
    std::string value = f.field == "product" ? reference : field_text(event, f.field);
    // An email is kept as the buyer typed it and matched whatever its case (docs/events.md).
    bool any_case = f.field == "customer.email";
    auto same = [&](const std::string &wanted) { return any_case ? lower(value) == lower(wanted) : value == wanted; };
    switch (f.op) {
      case config::Filter::Op::equals:
        if (!same(f.values.front())) return false;
        break;
      case config::Filter::Op::not_equals:
        if (same(f.values.front())) return false;
        break;
      case config::Filter::Op::prefix: {
        std::string start = any_case ? lower(f.values.front()) : f.values.front();
        if ((any_case ? lower(value) : value).compare(0, start.size(), start) != 0) return false;
        break;
      }
      case config::Filter::Op::one_of:
        if (std::none_of(f.values.begin(), f.values.end(), same)) return false;
        break;
    }
  }
  return true;
}

Matcher::Matcher(const std::vector<config::Rule> &rules) : rules_(rules) {
  for (const auto &rule : rules_) {
    if (rule.idle) continue;
    bool exact_product = !rule.product.empty() && rule.product.back() != '*';
    for (const auto &type : rule.on) {
      ByType &bucket = type == "*" ? any_type_ : by_type_[type];
      if (exact_product)
        bucket.by_product[rule.product].push_back(&rule);
      else
        bucket.general.push_back(&rule);
    }
  }
}

void Matcher::collect(const ByType &bucket, const Json &event, const std::string &reference,
                      std::vector<const config::Rule *> &out) const {
  for (const auto *rule : bucket.general)
    if (accepts(*rule, event, reference)) out.push_back(rule);
  if (!reference.empty()) {
    auto it = bucket.by_product.find(reference);
    if (it != bucket.by_product.end())
      for (const auto *rule : it->second)
        if (accepts(*rule, event, reference)) out.push_back(rule);
  }
}

std::vector<const config::Rule *> Matcher::match(const Json &event) const {
  std::vector<const config::Rule *> out;
  std::string reference = product_reference(event);
  std::string type = field_text(event, "type");
  if (auto it = by_type_.find(type); it != by_type_.end()) collect(it->second, event, reference, out);
  collect(any_type_, event, reference, out);
  // Keep the order of hub.yaml so jobs are created in a predictable order.
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace cartwire::rules
