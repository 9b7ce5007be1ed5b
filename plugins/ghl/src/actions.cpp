#include "actions.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <regex>

#include <cartwire/sdk/datetime.hpp>

#include "strings.hpp"

namespace cartwire::ghl {
namespace {

std::string param(const ActionRequest &r, const char *name) {
  auto it = r.params.find(name);
  if (it == r.params.end() || it->is_null()) return {};
  if (it->is_string()) return trim(it->get<std::string>());
  if (it->is_number()) return it->dump();
  return {};
}

bool retried(const ActionRequest &r) {
  auto it = r.job.find("attempt");
  return it != r.job.end() && it->is_number_integer() && it->get<long long>() > 1;
}

std::string contact_path(const std::string &id) { return "/contacts/" + sdk::url_encode(id); }

Json with_contact(Result &r, const ContactRef &c) {
  Json data = r.data.is_object() ? r.data : Json::object();
  data["contact_id"] = c.id;
  if (c.created) data["contact_created"] = true;
  return data;
}

// Adds (after an upsert) or removes (after a lookup) the rule's tags through the tag endpoints.
Result tag_call(const ActionContext &ctx, const char *method, bool upsert) {
  std::string error;
  auto tags = parse_tags(ctx.request.params.value("tags", Json()), error);
  if (!error.empty()) return Result::permanent(error);
  ContactRef c = upsert ? ctx.contacts.upsert(ctx.host, ctx.request) : ctx.contacts.lookup(ctx.host, ctx.request);
  if (!c.result.is_ok()) return c.result;
  if (c.id.empty()) return Result::ok({{"skipped", "no contact with this email"}});
  Result r = ctx.client.call(ctx.host, method, contact_path(c.id) + "/tags", Json{{"tags", tags}});
  if (!r.is_ok()) return r;
  Json data = with_contact(r, c);
  return Result::ok(data);
}

std::string required(const ActionContext &ctx, const char *name, std::string &error) {
  std::string v = param(ctx.request, name);
  if (v.empty()) error = "parameter '" + std::string(name) + "' is required";
  return v;
}

// Safe re-runs for calls that create: on a retry, an identical item made by
// an earlier attempt that timed out counts as done.
bool already_there(const ActionContext &ctx, const std::string &contact_id, const char *collection,
                   const std::function<bool(const Json &)> &same, Result &failure) {
  if (!retried(ctx.request)) return false;
  Result r = ctx.client.call(ctx.host, "GET", contact_path(contact_id) + "/" + collection);
  if (!r.is_ok()) {
    failure = r;
    return false;
  }
  auto it = r.data.find(collection);
  if (it == r.data.end() || !it->is_array()) return false;
  for (auto &item : *it)
    if (item.is_object() && same(item)) return true;
  return false;
}

std::string string_field(const Json &j, const char *key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result membership(const ActionContext &ctx, const char *id_param, const char *segment, const char *method, bool upsert,
                  const Json &body) {
  std::string error;
  std::string id = required(ctx, id_param, error);
  if (!error.empty()) return Result::permanent(error);
  ContactRef c = upsert ? ctx.contacts.upsert(ctx.host, ctx.request) : ctx.contacts.lookup(ctx.host, ctx.request);
  if (!c.result.is_ok()) return c.result;
  if (c.id.empty()) return Result::ok({{"skipped", "no contact with this email"}});
  Result r = ctx.client.call(ctx.host, method, contact_path(c.id) + "/" + segment + "/" + sdk::url_encode(id), body);
  if (!r.is_ok()) return r;
  return Result::ok(with_contact(r, c));
}

}  // namespace

std::vector<std::string> parse_tags(const Json &value, std::string &error) {
  error.clear();
  std::vector<std::string> raw;
  if (value.is_string()) {
    std::string all = value.get<std::string>();
    std::size_t start = 0;
    for (std::size_t comma; (comma = all.find(',', start)) != std::string::npos; start = comma + 1)
      raw.push_back(all.substr(start, comma - start));
    raw.push_back(all.substr(start));
  } else if (value.is_array()) {
    for (auto &v : value) {
      if (!v.is_string() && !v.is_number()) {
        error = "parameter 'tags' must list tag names, found " + v.dump();
        return {};
      }
      raw.push_back(v.is_string() ? v.get<std::string>() : v.dump());
    }
  } else if (!value.is_null()) {
    error = "parameter 'tags' must be a list of tag names or a comma-separated string";
    return {};
  }
  std::vector<std::string> out;
  for (auto &t : raw) {
    std::string name = trim(t);
    if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  if (out.empty() && error.empty()) error = "parameter 'tags' names no tag";
  return out;
}

std::string due_date(const ActionContext &ctx, std::string &error) {
  error.clear();
  std::string explicit_date = param(ctx.request, "due_date");
  if (!explicit_date.empty()) {
    // ISO 8601 as the action has taken it: a date alone, a time without seconds or zone, +0530 for +05:30.
    auto read = sdk::read_date_time(explicit_date, {.date_alone = true,
                                                    .minutes_alone = true,
                                                    .zone = sdk::Zone::optional,
                                                    .offset_without_colon = true});
    if (!read)
      error = "parameter 'due_date' must be an ISO 8601 date such as 2026-01-20T11:00:00Z" +
              (read.out_of_range.empty() ? "" : ", not " + explicit_date + " (" + read.out_of_range + ")");
    return explicit_date;
  }
  long long days = 1;
  if (auto it = ctx.request.params.find("due_in_days"); it != ctx.request.params.end() && !it->is_null()) {
    std::string s = it->is_string() ? trim(it->get<std::string>()) : it->dump();
    if (!std::regex_match(s, std::regex("[0-9]{1,4}"))) {
      error = "parameter 'due_in_days' must be a whole number of days (0-9999)";
      return {};
    }
    days = std::stoll(s);
  }
  // The event time keeps the date stable across retries of the job.
  std::time_t base = std::chrono::system_clock::to_time_t(ctx.host.now());
  std::string occurred = string_field(ctx.request.event, "occurred_at");
  std::tm tm{};
  if (occurred.size() >= 19 &&
      std::sscanf(occurred.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec) == 6) {
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    base = timegm(&tm);
  }
  std::time_t due = base + static_cast<std::time_t>(days) * 86400;
  std::tm out{};
  gmtime_r(&due, &out);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &out);
  return buffer;
}

Result upsert_contact(const ActionContext &ctx) {
  std::vector<std::string> tags;
  if (auto it = ctx.request.params.find("tags"); it != ctx.request.params.end() && !it->is_null()) {
    std::string error;
    tags = parse_tags(*it, error);
    if (!error.empty()) return Result::permanent(error);
  }
  ContactRef c = ctx.contacts.upsert(ctx.host, ctx.request);
  if (!c.result.is_ok()) return c.result;
  Json data = {{"contact_id", c.id}, {"contact_created", c.created}};
  if (!tags.empty()) {
    // Never through the upsert's `tags`, which would replace the contact's tags.
    Result r = ctx.client.call(ctx.host, "POST", contact_path(c.id) + "/tags", Json{{"tags", tags}});
    if (!r.is_ok()) return r;
    data["tags"] = r.data.value("tags", Json::array());
  }
  return Result::ok(data);
}

Result add_tags(const ActionContext &ctx) { return tag_call(ctx, "POST", true); }
Result remove_tags(const ActionContext &ctx) { return tag_call(ctx, "DELETE", false); }

Result add_note(const ActionContext &ctx) {
  std::string error;
  Json body = {{"body", required(ctx, "body", error)}};
  if (!error.empty()) return Result::permanent(error);
  if (auto t = param(ctx.request, "title"); !t.empty()) body["title"] = t;
  if (auto u = param(ctx.request, "user_id"); !u.empty()) body["userId"] = u;
  ContactRef c = ctx.contacts.upsert(ctx.host, ctx.request);
  if (!c.result.is_ok()) return c.result;
  Result failure = Result::ok();
  bool done = already_there(ctx, c.id, "notes", [&](const Json &note) {
    return string_field(note, "body") == body["body"] && string_field(note, "title") == body.value("title", "");
  }, failure);
  if (!failure.is_ok()) return failure;
  if (done) return Result::ok({{"contact_id", c.id}, {"skipped", "the note exists from an earlier attempt"}});
  Result r = ctx.client.call(ctx.host, "POST", contact_path(c.id) + "/notes", body);
  if (!r.is_ok()) return r;
  return Result::ok(with_contact(r, c));
}

Result add_task(const ActionContext &ctx) {
  std::string error;
  std::string title = required(ctx, "title", error);
  if (!error.empty()) return Result::permanent(error);
  std::string due = due_date(ctx, error);
  if (!error.empty()) return Result::permanent(error);
  Json body = {{"title", title}, {"dueDate", due}, {"completed", false}};
  if (auto b = param(ctx.request, "body"); !b.empty()) body["body"] = b;
  if (auto a = param(ctx.request, "assigned_to"); !a.empty()) body["assignedTo"] = a;
  ContactRef c = ctx.contacts.upsert(ctx.host, ctx.request);
  if (!c.result.is_ok()) return c.result;
  Result failure = Result::ok();
  bool done = already_there(ctx, c.id, "tasks", [&](const Json &task) {
    return string_field(task, "title") == title && string_field(task, "body") == body.value("body", "") &&
           string_field(task, "dueDate").rfind(due.substr(0, 16), 0) == 0;
  }, failure);
  if (!failure.is_ok()) return failure;
  if (done) return Result::ok({{"contact_id", c.id}, {"skipped", "the task exists from an earlier attempt"}});
  Result r = ctx.client.call(ctx.host, "POST", contact_path(c.id) + "/tasks", body);
  if (!r.is_ok()) return r;
  return Result::ok(with_contact(r, c));
}

Result add_to_workflow(const ActionContext &ctx) {
  Json body = Json::object();
  if (auto t = param(ctx.request, "event_start_time"); !t.empty()) body["eventStartTime"] = t;
  return membership(ctx, "workflow_id", "workflow", "POST", true, body);
}

Result remove_from_workflow(const ActionContext &ctx) {
  return membership(ctx, "workflow_id", "workflow", "DELETE", false, Json::object());
}

Result add_to_campaign(const ActionContext &ctx) {
  return membership(ctx, "campaign_id", "campaigns", "POST", true, Json::object());
}

Result remove_from_campaign(const ActionContext &ctx) {
  return membership(ctx, "campaign_id", "campaigns", "DELETE", false, nullptr);
}

}  // namespace cartwire::ghl
