#include <gtest/gtest.h>

#include <cartwire/sdk/event.hpp>

#include <string>
#include <utility>
#include <vector>

using cartwire::sdk::event_problem;
using cartwire::sdk::Json;

namespace {

Json purchase() {
  return {{"type", "product.purchased"},
          {"occurred_at", "2026-01-15T10:00:00Z"},
          {"mode", "live"},
          {"dedupe_key", "order:1001"},
          {"customer", {{"email", "ann@example.com"}}},
          {"item", {{"reference", "course-42"}, {"amount", 4995}, {"amount_str", "49.95"}}}};
}

// The reason for `event` with `key` set to `value`.
std::string problem_with(const std::string &key, Json value) {
  Json event = purchase();
  event[Json::json_pointer(key)] = std::move(value);
  return event_problem(event);
}

}  // namespace

TEST(Event, ACanonicalEventHasNoProblem) {
  EXPECT_EQ(event_problem(purchase()), "");
  Json own = purchase();
  own["type"] = "myshop.cart.abandoned";
  own["occurred_at"] = "2026-01-15T10:00:00.123Z";
  EXPECT_EQ(event_problem(own), "");
  Json bare = {{"type", "order.completed"}, {"customer", {{"email", "ann@example.com"}}}};
  EXPECT_EQ(event_problem(bare), "") << "occurred_at, mode and dedupe_key are the taker's to fill in";
}

TEST(Event, EachProblemIsNamed) {
  EXPECT_EQ(event_problem(Json::array()), "an event must be a JSON object");
  EXPECT_EQ(problem_with("/type", "Hello World"), "\"type\" must be an event type such as product.purchased");
  EXPECT_EQ(problem_with("/type", 7), "\"type\" must be an event type such as product.purchased");
  EXPECT_EQ(problem_with("/type", "hub.job.dead"),
            "\"type\" hub.job.dead is the hub's own (hub.* types are raised by the hub)");
  EXPECT_EQ(problem_with("/customer/email", "ann"),
            "\"customer.email\" is required: it joins the customer across tools");
  const std::string utc = "\"occurred_at\" must be UTC in RFC 3339, e.g. 2026-01-15T10:00:00Z";
  EXPECT_EQ(problem_with("/occurred_at", "never"), utc);
  EXPECT_EQ(problem_with("/occurred_at", "2026-01-15T11:00:00+01:00"), utc);
  EXPECT_EQ(problem_with("/occurred_at", "2026-01-15T10:00:00." + std::string(200000, '1') + "Z"), utc);
  EXPECT_EQ(problem_with("/occurred_at", "2026-02-30T10:00:00Z"), utc + " (there is no day 30 in February 2026)");
  EXPECT_EQ(problem_with("/occurred_at", "2026-13-45T25:61:00Z"), utc + " (there is no month 13)");
  EXPECT_EQ(problem_with("/occurred_at", "2026-01-15T24:00:00Z"), utc + " (there is no hour 24)");
  EXPECT_EQ(problem_with("/occurred_at", "2028-02-29T10:00:00.123456789Z"), "");
  EXPECT_EQ(problem_with("/mode", "prod"), "\"mode\" must be live or test");
  EXPECT_EQ(problem_with("/dedupe_key", 1001), "\"dedupe_key\" must be a text of 1 to 200 characters");
  EXPECT_EQ(problem_with("/dedupe_key", ""), "\"dedupe_key\" must be a text of 1 to 200 characters");
  EXPECT_EQ(problem_with("/dedupe_key", std::string(201, 'k')), "\"dedupe_key\" must be a text of 1 to 200 characters");
}

TEST(Event, ItsPartsAreObjectsAndItsAmountsWholeCents) {
  EXPECT_EQ(problem_with("/customer", "ann@example.com"), "\"customer\" must be a JSON object");
  EXPECT_EQ(problem_with("/item", Json::array()), "\"item\" must be a JSON object");
  EXPECT_EQ(problem_with("/customer/email", {{"address", "ann@example.com"}}),
            "\"customer.email\" must be text such as ann@example.com");
  const std::string cents = " must be a whole number of cents, e.g. 4995 for 49.95";
  EXPECT_EQ(problem_with("/item/amount", "lots"), "\"item.amount\"" + cents);
  EXPECT_EQ(problem_with("/item/amount", 49.95), "\"item.amount\"" + cents);
  EXPECT_EQ(problem_with("/order", {{"total", "99.90"}}), "\"order.total\"" + cents);
  EXPECT_EQ(problem_with("/subscription", {{"amount", nullptr}}), "\"subscription.amount\"" + cents);
  EXPECT_EQ(problem_with("/refund", {{"amount", "20.00"}}), "\"refund.amount\"" + cents);
}

TEST(EventTypeWords, ASourcesOwnNameBecomesTheWordsOfAnEventType) {
  using cartwire::sdk::event_type_words;
  using cartwire::sdk::is_event_type;
  for (auto [name, words] : std::vector<std::pair<std::string, std::string>>{
           {"CheckoutFailed", "checkout_failed"},
           {"Order2Fail", "order2_fail"},
           {"ProspectCreated.V2", "prospect_created.v2"},
           {"cart abandoned/é", "cart_abandoned___"},
           {"..a..b.", "a.b"}}) {
    EXPECT_EQ(event_type_words("samcart", name, "unknown"), words) << name;
    EXPECT_TRUE(is_event_type("samcart." + event_type_words("samcart", name, "unknown"))) << name;
  }
  // No word left: the fallback; a long name is cut so that the whole type has 100 characters.
  EXPECT_EQ(event_type_words("samcart", "...", "unknown"), "unknown");
  EXPECT_EQ(event_type_words("samcart", "", "unknown"), "unknown");
  std::string cut = event_type_words("samcart", std::string(60, 'a') + "." + std::string(60, 'b'), "unknown");
  EXPECT_EQ(("samcart." + cut).size(), 100u);
  EXPECT_TRUE(is_event_type("samcart." + cut)) << cut;
  EXPECT_EQ(event_type_words("samcart", std::string(91, 'a') + ".b", "unknown"), std::string(91, 'a'))
      << "a cut that ends on a dot drops it";
}
