// Shared helpers for the ThriveCart connector tests: payload builders that
// encode exactly as ThriveCart does, and a harness-backed webhook caller.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <cartwire/sdk/testing/plugin_harness.hpp>

namespace thrivecart_test {

using cartwire::sdk::Json;
using cartwire::sdk::WebhookReply;
using cartwire::sdk::WebhookRequest;
using cartwire::sdk::testing::PluginHarness;

/** Ordered form fields; keys keep their literal brackets, as ThriveCart sends them. */
using Form = std::vector<std::pair<std::string, std::string>>;

inline constexpr const char *kSecret = "S3cretWord";

/** application/x-www-form-urlencoded encoding: space as '+', the rest %XX. */
inline std::string form_escape(const std::string &text, bool keep_brackets) {
  std::string out;
  for (unsigned char c : text) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                 c == '_' || c == '.' || c == '*' || (keep_brackets && (c == '[' || c == ']'));
    if (plain) {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

inline std::string encode(const Form &form, bool keep_brackets = true) {
  std::string body;
  for (auto &[key, value] : form) {
    if (!body.empty()) body += '&';
    body += form_escape(key, keep_brackets) + '=' + form_escape(value, false);
  }
  return body;
}

/** The same fields as the JSON tree ThriveCart's JSON option sends (all values strings). */
inline Json to_json(const Form &form) {
  Json root = Json::object();
  for (auto &[key, value] : form) {
    std::vector<std::string> path;
    std::size_t open = key.find('[');
    path.push_back(key.substr(0, open));
    while (open != std::string::npos) {
      std::size_t close = key.find(']', open);
      path.push_back(key.substr(open + 1, close - open - 1));
      open = key.find('[', close);
    }
    Json *node = &root;
    for (std::size_t i = 0; i < path.size(); ++i) {
      Json::json_pointer pointer("/" + path[i]);
      if (i + 1 == path.size()) {
        (*node)[pointer] = value;
      } else {
        bool next_is_index =
            !path[i + 1].empty() && path[i + 1].find_first_not_of("0123456789") == std::string::npos;
        if (!node->contains(pointer)) (*node)[pointer] = next_is_index ? Json::array() : Json::object();
        node = &(*node)[pointer];
      }
    }
  }
  return root;
}

inline Form with(Form form, const Form &extra) {
  for (auto &[key, value] : extra) {
    bool replaced = false;
    for (auto &field : form)
      if (field.first == key) field.second = value, replaced = true;
    if (!replaced) form.emplace_back(key, value);
  }
  return form;
}

inline Form without(Form form, const std::string &key) {
  std::erase_if(form, [&](auto &field) { return field.first == key; });
  return form;
}

inline WebhookRequest post(std::string body, const std::string &content_type) {
  WebhookRequest request;
  request.trigger = "webhook";
  request.method = "POST";
  request.body = std::move(body);
  if (!content_type.empty()) request.headers["content-type"] = content_type;
  return request;
}

inline WebhookRequest post_form(const Form &form) {
  return post(encode(form), "application/x-www-form-urlencoded");
}

inline WebhookRequest post_json(const Json &payload) { return post(payload.dump(), "application/json"); }

/** Loads the real plugin and keeps one configured instance. */
class ConnectorTest : public ::testing::Test {
 protected:
  explicit ConnectorTest(Json settings = {{"secret", kSecret}, {"account", "acme"}})
      : harness_(THRIVECART_PLUGIN_PATH), instance_(harness_.create(settings)) {}

  WebhookReply send(const WebhookRequest &request) { return instance_.webhook(request); }

  /** Sends the form and expects a 200 with `count` events. */
  std::vector<Json> accept(const Form &form, std::size_t count) { return accept(post_form(form), count); }
  std::vector<Json> accept(const WebhookRequest &request, std::size_t count) {
    WebhookReply reply = send(request);
    EXPECT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.events.size(), count);
    return reply.events;
  }

  PluginHarness harness_;
  PluginHarness::Instance instance_;
};

}  // namespace thrivecart_test
