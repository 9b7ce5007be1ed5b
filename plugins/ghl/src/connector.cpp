#include "connector.hpp"

#include <map>

#include "actions.hpp"
#include "lists.hpp"
#include "poll.hpp"

namespace cartwire::ghl {

GhlConnector::GhlConnector(const Json &settings, const Host &) : client_(Settings::parse(settings)) {}

Result GhlConnector::action(const Host &host, const sdk::ActionRequest &request) {
  static const std::map<std::string, Result (*)(const ActionContext &)> actions = {
      {"upsert_contact", upsert_contact},   {"add_tags", add_tags},
      {"remove_tags", remove_tags},         {"add_note", add_note},
      {"add_task", add_task},               {"add_to_workflow", add_to_workflow},
      {"remove_from_workflow", remove_from_workflow}, {"add_to_campaign", add_to_campaign},
      {"remove_from_campaign", remove_from_campaign},
  };
  auto it = actions.find(request.action);
  if (it == actions.end()) return Connector::action(host, request);
  Contacts contacts(client_, fields_);
  return it->second(ActionContext{host, client_, contacts, request});
}

Result GhlConnector::list(const Host &host, const std::string &name) { return fetch_list(host, client_, name); }

sdk::PollReply GhlConnector::poll(const Host &host, const sdk::PollRequest &request) {
  if (request.trigger == "contacts_changed") return poll_contacts_changed(host, client_, request.cursor);
  return Connector::poll(host, request);
}

}  // namespace cartwire::ghl
