#include <gtest/gtest.h>

#include "rules/matcher.hpp"

using namespace cartwire;
using cartwire::sdk::Json;

namespace {

config::Rule rule(std::string name, std::vector<std::string> on, std::string product = "",
                  std::vector<config::Filter> where = {}) {
  config::Rule r;
  r.name = std::move(name);
  r.on = std::move(on);
  r.product = std::move(product);
  r.where = std::move(where);
  r.integration = "x";
  r.action = "y";
  return r;
}

config::Filter filter(std::string field, config::Filter::Op op, std::vector<std::string> values) {
  config::Filter f;
  f.field = std::move(field);
  f.op = op;
  f.values = std::move(values);
  return f;
}

Json purchase(std::string reference, std::string mode = "live") {
  auto dash = reference.find('-');
  return {{"type", "product.purchased"},
          {"mode", mode},
          {"customer", {{"email", "ann@example.com"}}},
          {"item", {{"type", reference.substr(0, dash)}, {"reference", reference}, {"amount", 4995}}}};
}

std::vector<std::string> names(const std::vector<const config::Rule *> &rules) {
  std::vector<std::string> out;
  for (auto *r : rules) out.push_back(r->name);
  return out;
}

}  // namespace

TEST(Matcher, ProductRulesMatchOnlyTheirReference) {
  rules::Matcher m({rule("p12", {"product.purchased"}, "product-12"), rule("p13", {"product.purchased"}, "product-13")});
  EXPECT_EQ(names(m.match(purchase("product-12"))), std::vector<std::string>{"p12"});
  EXPECT_TRUE(m.match(purchase("product-14")).empty());
}

TEST(Matcher, TypeMustMatch) {
  rules::Matcher m({rule("refund", {"product.refunded"}, "product-12")});
  EXPECT_TRUE(m.match(purchase("product-12")).empty());
  Json refund = purchase("product-12");
  refund["type"] = "product.refunded";
  EXPECT_EQ(m.match(refund).size(), 1u);
}

TEST(Matcher, GlobalRulesAndFiltersAllFireInConfigOrder) {
  using Op = config::Filter::Op;
  rules::Matcher m({
      rule("all", {"*"}),
      rule("upsells", {"product.purchased"}, "", {filter("item.reference", Op::prefix, {"upsell-"})}),
      rule("live", {"product.purchased"}, "", {filter("mode", Op::equals, {"live"})}),
      rule("not-ann", {"product.purchased"}, "", {filter("customer.email", Op::not_equals, {"ann@example.com"})}),
      rule("bump-or-upsell", {"product.purchased"}, "", {filter("item.type", Op::one_of, {"bump", "upsell"})}),
      rule("upsell-prefix-product", {"product.purchased"}, "upsell-*"),
  });
  EXPECT_EQ(names(m.match(purchase("upsell-13"))),
            (std::vector<std::string>{"all", "upsells", "live", "bump-or-upsell", "upsell-prefix-product"}));
  EXPECT_EQ(names(m.match(purchase("product-12", "test"))), std::vector<std::string>{"all"});
}

TEST(Matcher, FiltersOnTheCustomersEmailMatchItWhateverItsCase) {
  using Op = config::Filter::Op;
  // The example of docs/configuration.md: a test buyer who types their address with capitals is still left out.
  rules::Matcher m({
      rule("not-test", {"product.purchased"}, "", {filter("customer.email", Op::not_equals, {"test@example.com"})}),
      rule("ann", {"product.purchased"}, "", {filter("customer.email", Op::equals, {"Ann@Example.com"})}),
      rule("staff", {"product.purchased"}, "", {filter("customer.email", Op::prefix, {"Staff."})}),
      rule("either", {"product.purchased"}, "", {filter("customer.email", Op::one_of, {"bob@example.com", "ANN@example.com"})}),
      rule("mode", {"product.purchased"}, "", {filter("mode", Op::equals, {"LIVE"})}),
  });
  Json tester = purchase("product-12");
  tester["customer"]["email"] = "Test@Example.COM";
  EXPECT_TRUE(m.match(tester).empty());
  Json ann = purchase("product-12");
  ann["customer"]["email"] = "ann@EXAMPLE.com";
  EXPECT_EQ(names(m.match(ann)), (std::vector<std::string>{"not-test", "ann", "either"}));
  Json staff = purchase("product-12");
  staff["customer"]["email"] = "staff.eve@example.com";
  EXPECT_EQ(names(m.match(staff)), (std::vector<std::string>{"not-test", "staff"}));
}

TEST(Matcher, ProductReferenceFallsBackToSubscriptionAndRefund) {
  rules::Matcher m({rule("cancel", {"subscription.canceled"}, "product-12")});
  Json cancel = {{"type", "subscription.canceled"}, {"subscription", {{"item_reference", "product-12"}}}};
  EXPECT_EQ(m.match(cancel).size(), 1u);
  Json other = {{"type", "subscription.canceled"}, {"refund", {{"item_reference", "product-99"}}}};
  EXPECT_TRUE(m.match(other).empty());
}

TEST(Matcher, ManyProductRulesStayIndexed) {
  std::vector<config::Rule> many;
  for (int i = 0; i < 5000; ++i) many.push_back(rule("r" + std::to_string(i), {"product.purchased"}, "product-" + std::to_string(i)));
  rules::Matcher m(many);
  EXPECT_EQ(names(m.match(purchase("product-4321"))), std::vector<std::string>{"r4321"});
}

TEST(Template, RendersFieldsKeepingTypes) {
  Json event = purchase("upsell-13");
  event["customer"]["first_name"] = "Ann";
  Json params = {{"email", "{{customer.email}}"},
                 {"amount", "{{ item.amount }}"},
                 {"greeting", "Hi {{customer.first_name}}, thanks for {{item.reference}}!"},
                 {"missing", "{{customer.phone}}"},
                 {"missing_in_text", "tel: {{customer.phone}}"},
                 {"nested", {{"list", {"{{item.type}}", 7}}}},
                 {"plain", "no template"}};
  Json out = rules::render(params, event);
  EXPECT_EQ(out["email"], "ann@example.com");
  EXPECT_EQ(out["amount"], 4995);
  EXPECT_EQ(out["greeting"], "Hi Ann, thanks for upsell-13!");
  EXPECT_TRUE(out["missing"].is_null());
  EXPECT_EQ(out["missing_in_text"], "tel: ");
  EXPECT_EQ(out["nested"]["list"][0], "upsell");
  EXPECT_EQ(out["nested"]["list"][1], 7);
  EXPECT_EQ(out["plain"], "no template");
}

TEST(Template, ListsPaths) {
  auto paths = rules::template_paths({{"a", "{{customer.email}} {{item.reference}}"}, {"b", {{"c", "{{order.id}}"}}}});
  EXPECT_EQ(paths, (std::vector<std::string>{"customer.email", "item.reference", "order.id"}));
  EXPECT_EQ(rules::template_paths({{"a", "{{{order.id}} {{ }} {{a b}} {{x}"}}), std::vector<std::string>{"order.id"});
}

// Read without std::regex, whose matcher recursed once a character: a long
// parameter in hub.yaml overflowed the stack of every job of its rule.
TEST(Template, AParameterOfAnyLengthIsRenderedWithoutAStackThatGrowsWithIt) {
  Json event = purchase("upsell-13");
  const std::string spaces(200000, ' '), path(200000, 'x');
  Json params = {{"spaced", "{{" + spaces + "item.reference" + spaces + "}}"},
                 {"unclosed", "{{" + path},
                 {"text", "ref " + spaces + "{{item.reference}}"}};
  Json out = rules::render(params, event);
  EXPECT_EQ(out["spaced"], "upsell-13");
  EXPECT_EQ(out["unclosed"], "{{" + path);
  EXPECT_EQ(out["text"], "ref " + spaces + "upsell-13");
  EXPECT_EQ(rules::template_paths(params), (std::vector<std::string>{"item.reference", "item.reference"}));
}

TEST(Lookup, WalksObjectsAndArrays) {
  Json e = {{"raw", {{"purchases", {"Course", "Coaching"}}}}};
  EXPECT_EQ(rules::field_text(e, "raw.purchases.1"), "Coaching");
  EXPECT_EQ(rules::field_text(e, "raw.purchases.5"), "");
  EXPECT_EQ(rules::lookup(e, "raw.nothing"), nullptr);
}
