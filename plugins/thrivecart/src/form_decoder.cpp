#include "form_decoder.hpp"

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include <algorithm>
#include <string>
#include <vector>

namespace cartwire::thrivecart {
namespace {

using sdk::Json;

// Deeper nesting than any ThriveCart payload; the cap keeps a hostile body from
// building an arbitrarily deep tree.
constexpr std::size_t kMaxDepth = 32;

std::string percent_decode(std::string_view text, std::size_t pair, const char *part) {
  // Poco only maps '+' to a space after a '?', so the form rule is applied first;
  // a literal plus arrives as %2B and survives.
  std::string spaced(text);
  std::replace(spaced.begin(), spaced.end(), '+', ' ');
  std::string out;
  try {
    Poco::URI::decode(spaced, out, false);
  } catch (const Poco::Exception &) {
    // The exception text quotes the input, which may be the secret word.
    throw FormError("form body: malformed %-escape in the " + std::string(part) + " of pair " +
                    std::to_string(pair + 1));
  }
  if (!valid_utf8(out))
    throw FormError("form body: the " + std::string(part) + " of pair " + std::to_string(pair + 1) +
                    " is not valid UTF-8");
  return out;
}

// "a[b][0][]" → {"a", "b", "0", ""}. A key that does not follow the bracket
// grammar is used whole, as one name.
std::vector<std::string> split_key(const std::string &key) {
  std::size_t open = key.find('[');
  if (open == std::string::npos || open == 0) return {key};
  std::vector<std::string> path{key.substr(0, open)};
  std::size_t pos = open;
  while (pos < key.size()) {
    if (key[pos] != '[') return {key};
    std::size_t close = key.find(']', pos);
    if (close == std::string::npos) return {key};
    path.push_back(key.substr(pos + 1, close - pos - 1));
    pos = close + 1;
  }
  return path;
}

bool list_index(const std::string &key, std::size_t &index) {
  if (key.empty() || key.size() > 9) return false;
  if (key.size() > 1 && key[0] == '0') return false;
  index = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return false;
    index = index * 10 + static_cast<std::size_t>(c - '0');
  }
  return true;
}

// PHP's `name[]` appends after the highest numeric key so far.
std::string next_index(const Json &node) {
  std::size_t next = 0, index = 0;
  for (auto it = node.begin(); it != node.end(); ++it)
    if (list_index(it.key(), index)) next = std::max(next, index + 1);
  return std::to_string(next);
}

void insert(Json &root, const std::vector<std::string> &path, std::string value) {
  Json *node = &root;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (!node->is_object()) *node = Json::object();
    std::string key = (i > 0 && path[i].empty()) ? next_index(*node) : path[i];
    if (i + 1 == path.size()) {
      (*node)[key] = std::move(value);
      return;
    }
    node = &(*node)[key];
  }
}

void to_lists(Json &node) {
  if (!node.is_object()) return;
  for (auto &child : node) to_lists(child);
  if (node.empty()) return;
  std::vector<Json *> slots(node.size(), nullptr);
  std::size_t index = 0;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!list_index(it.key(), index) || index >= slots.size()) return;
    slots[index] = &it.value();
  }
  Json list = Json::array();
  for (Json *slot : slots) list.push_back(std::move(*slot));
  node = std::move(list);
}

}  // namespace

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      auto b = static_cast<unsigned char>(text[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return false;
    }
    i += extra + 1;
  }
  return true;
}

Json decode_form(std::string_view body) {
  Json root = Json::object();
  std::size_t pair = 0, start = 0;
  while (start <= body.size()) {
    std::size_t end = body.find('&', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view item = body.substr(start, end - start);
    // Stray line breaks between pairs carry no meaning in a form body.
    while (!item.empty() && (item.front() == '\r' || item.front() == '\n')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == '\r' || item.back() == '\n')) item.remove_suffix(1);
    if (!item.empty()) {
      std::size_t eq = item.find('=');
      std::string key = percent_decode(item.substr(0, eq), pair, "key");
      std::string value = eq == std::string_view::npos ? std::string() : percent_decode(item.substr(eq + 1), pair, "value");
      if (!key.empty()) {
        auto path = split_key(key);
        if (path.size() > kMaxDepth)
          throw FormError("form body: the key of pair " + std::to_string(pair + 1) + " is nested too deeply");
        insert(root, path, std::move(value));
      }
      ++pair;
    }
    start = end + 1;
  }
  // The top level is the payload itself, never a list, even for "0=…&1=…".
  for (auto &child : root) to_lists(child);
  return root;
}

}  // namespace cartwire::thrivecart
