// Finding the event's customer in GoHighLevel: an upsert by email (with the
// names, phone, address and mapped fields) for actions that add something, a
// duplicate lookup by email for actions that only remove.
#pragma once

#include <cartwire/sdk/connector.hpp>

#include <string>

#include "client.hpp"
#include "custom_fields.hpp"

namespace cartwire::ghl {

using sdk::ActionRequest;

struct ContactRef {
  Result result = Result::ok();  // not ok: the action ends with it
  std::string id;                // empty when a lookup found nobody
  bool created = false;
};

/** params.email, else customer.email; empty when neither is there. */
std::string email_of(const ActionRequest &request);

class Contacts {
 public:
  Contacts(const Client &client, CustomFieldCache &fields) : client_(client), fields_(fields) {}

  /** The POST /contacts/upsert body for this request; a non-ok Result when it cannot be built. */
  Result upsert_body(const Host &host, const ActionRequest &request, Json &body) const;
  /** POST /contacts/upsert. */
  ContactRef upsert(const Host &host, const ActionRequest &request) const;
  /** GET /contacts/search/duplicate by email; ok with an empty id when there is no such contact. */
  ContactRef lookup(const Host &host, const ActionRequest &request) const;

 private:
  const Client &client_;
  CustomFieldCache &fields_;
};

}  // namespace cartwire::ghl
