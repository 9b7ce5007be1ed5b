// The connector's actions. Each resolves the contact first (upsert for
// actions that add, lookup for actions that remove), then makes its call.
#pragma once

#include <string>
#include <vector>

#include "contact.hpp"

namespace cartwire::ghl {

struct ActionContext {
  const Host &host;
  const Client &client;
  const Contacts &contacts;
  const ActionRequest &request;
};

/** Tag names from a list or a comma-separated string, trimmed, without repeats. */
std::vector<std::string> parse_tags(const Json &value, std::string &error);

/** The task's dueDate: `due_date`, else the event time (or now) plus `due_in_days` (default 1). */
std::string due_date(const ActionContext &ctx, std::string &error);

Result upsert_contact(const ActionContext &ctx);
Result add_tags(const ActionContext &ctx);
Result remove_tags(const ActionContext &ctx);
Result add_note(const ActionContext &ctx);
Result add_task(const ActionContext &ctx);
Result add_to_workflow(const ActionContext &ctx);
Result remove_from_workflow(const ActionContext &ctx);
Result add_to_campaign(const ActionContext &ctx);
Result remove_from_campaign(const ActionContext &ctx);

}  // namespace cartwire::ghl
