#include "admin/query.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include <cartwire/sdk/datetime.hpp>

namespace cartwire::admin {
namespace {

int64_t number(const std::string &key, const std::string &text, int64_t min, int64_t max) {
  try {
    std::size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used == text.size() && v >= min && v <= max) return v;
  } catch (const std::exception &) {
  }
  throw std::invalid_argument(key + " must be a whole number from " + std::to_string(min) + " to " +
                              std::to_string(max) + " (got '" + text + "')");
}

// The hub gives every event one of these: any other value would match nothing.
const std::string &mode_of(const std::string &text) {
  if (text == "live" || text == "test") return text;
  throw std::invalid_argument("mode must be live or test (got '" + text + "')");
}

// RFC 3339. A "+" written as it is in a query string arrives as a space: "10:00:00 01:00" is "10:00:00+01:00".
sdk::DateTimeRead read_rfc3339(std::string time) {
  if (time.size() > 6 && time[time.size() - 6] == ' ') time[time.size() - 6] = '+';
  return sdk::read_date_time(time);
}

}  // namespace

std::optional<int64_t> parse_time(const std::string &text) {
  if (text.empty()) return std::nullopt;
  if (std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (text.size() > 15) return std::nullopt;
    return std::stoll(text);
  }
  if (auto read = read_rfc3339(text)) return read.time->unix_milliseconds();
  return std::nullopt;
}

int64_t time_param(const std::string &key, const std::string &text) {
  if (auto t = parse_time(text)) return *t;
  // A date-time of the form is short enough to quote.
  std::string why = read_rfc3339(text).out_of_range;
  throw std::invalid_argument(key + " must be an RFC 3339 time such as 2026-01-15T10:00:00Z or epoch milliseconds" +
                              (why.empty() ? "" : " (got '" + text + "': " + why + ")"));
}

store::Search parse_search(const std::map<std::string, std::string> &query, int max_limit) {
  static const std::set<std::string> states = {"queued", "running", "succeeded", "failed", "dead"};
  store::Search s;
  s.limit = kDefaultPage;
  for (auto &[key, value] : query) {
    if (key == "email") s.email = value;
    else if (key == "order_id") s.order_id = value;
    else if (key == "item") s.item_ref = value;
    else if (key == "integration") s.integration = value;
    else if (key == "action") s.action = value;
    else if (key == "rule") s.rule = value;
    else if (key == "type") s.type = value;
    else if (key == "source") s.source = value;
    else if (key == "mode") s.mode = mode_of(value);
    else if (key == "event_id") s.event_id = number(key, value, 1, INT64_MAX);
    else if (key == "before") s.before_id = number(key, value, 1, INT64_MAX);
    else if (key == "limit") s.limit = static_cast<int>(number(key, value, 1, max_limit));
    else if (key == "since") s.since_ms = time_param(key, value);
    else if (key == "until") s.until_ms = time_param(key, value);
    else if (key == "state") {
      std::size_t start = 0;
      while (start <= value.size()) {
        std::size_t comma = std::min(value.find(',', start), value.size());
        std::string state = value.substr(start, comma - start);
        if (!states.count(state))
          throw std::invalid_argument("state must be queued, running, succeeded, failed or dead (got '" + state + "')");
        s.states.push_back(state);
        start = comma + 1;
      }
    } else {
      throw std::invalid_argument("unknown filter '" + key +
                                  "' (filters: email, order_id, item, integration, action, rule, type, source, mode, "
                                  "state, event_id, since, until, before, limit)");
    }
  }
  return s;
}

store::Search parse_search(const sdk::Json &body, int max_limit) {
  std::map<std::string, std::string> flat;
  for (auto &[key, value] : body.items()) {
    if (value.is_string()) {
      flat[key] = value.get<std::string>();
    } else if (value.is_number_integer()) {
      flat[key] = std::to_string(value.get<int64_t>());
    } else if (key == "state" && value.is_array()) {
      std::string joined;
      for (auto &v : value) joined += (joined.empty() ? "" : ",") + (v.is_string() ? v.get<std::string>() : v.dump());
      flat[key] = joined;
    } else {
      throw std::invalid_argument(key + " must be a string or a whole number");
    }
  }
  return parse_search(flat, max_limit);
}

}  // namespace cartwire::admin
