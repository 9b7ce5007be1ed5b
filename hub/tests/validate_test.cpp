#include <gtest/gtest.h>

#include "engine/validate.hpp"

using namespace cartwire;
using cartwire::sdk::Json;

namespace {

constexpr int64_t kNow = 1768471200000;

class ValidateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(registry_.load_file(std::string(FIXTURE_PLUGIN_DIR) + "/good.so"), "");
    cfg_.file = "hub.yaml";
    config::InstanceConfig school;
    school.id = "school";
    school.connector = "good";
    school.settings = {{"token", "t0ken"}};
    school.setting_variables["token"] = "SCHOOL_TOKEN";  // token: ${SCHOOL_TOKEN}
    school.where = {"hub.yaml", 3};
    cfg_.integrations["school"] = school;
    lists_["school/courses"] = {Json::array({{{"id", "42"}, {"name", "Intro"}}}), kNow - 1000};
    lists_["school/profile_fields"] = {
        Json::array({{{"id", "7"}, {"name", "Company"}, {"type", "text"}}, {{"id", "8"}, {"name", "Birthday"}, {"type", "date"}}}),
        kNow - 1000};
  }

  config::Rule enroll(Json course) {
    config::Rule r;
    r.name = "enrol";
    r.on = {"product.purchased"};
    r.integration = "school";
    r.action = "enroll";
    r.params = {{"course_id", course}};
    r.location = {"hub.yaml", 20};
    r.param_lines["course_id"] = {"hub.yaml", 21};
    return r;
  }

  std::string run() {
    engine::ListLookup lookup = [&](const std::string &i, const std::string &l) -> std::optional<store::CachedList> {
      auto it = lists_.find(i + "/" + l);
      if (it == lists_.end()) return std::nullopt;
      return it->second;
    };
    return engine::validate(cfg_, registry_, lookup, kNow).format();
  }

  plugins::Registry registry_;
  config::HubConfig cfg_;
  std::map<std::string, store::CachedList> lists_;
};

}  // namespace

TEST_F(ValidateTest, KnownCourseIsFine) {
  cfg_.rules = {enroll(42), enroll("{{item.id}}")};
  cfg_.rules[1].name = "enrol-by-item";
  EXPECT_EQ(run(), "");
}

TEST_F(ValidateTest, MissingCourseIsAnErrorWithTheRefreshCommand) {
  cfg_.rules = {enroll(99)};
  EXPECT_EQ(run(), "hub.yaml:21: error: rule 'enrol': school has no courses item with id 99 (the cached list has 1 items; "
                   "if it is new, run: cartwire refresh school courses --config hub.yaml)\n");
}

TEST_F(ValidateTest, StaleOrMissingListsWarn) {
  cfg_.rules = {enroll(42)};
  lists_["school/courses"].refreshed_at = kNow - engine::kStaleListMs - 1;
  EXPECT_EQ(run(), "hub.yaml:21: warning: the courses list of integration 'school' was fetched more than a day ago; run: "
                   "cartwire refresh school courses --config hub.yaml\n");
  lists_.erase("school/courses");
  EXPECT_EQ(run(), "hub.yaml:21: warning: the courses list of integration 'school' is empty or was never fetched, so its "
                   "ids cannot be checked; run: cartwire refresh school courses --config hub.yaml\n");
}

TEST_F(ValidateTest, FieldMappingAcceptsFixedAndTextFieldsOnly) {
  auto &school = cfg_.integrations["school"];
  school.fields = {{"phone", "customer.phone"}, {"Company", "customer.custom_fields.company"}, {"7", "customer.email"}};
  EXPECT_EQ(run(), "");
  school.fields = {{"Birthday", "customer.custom_fields.dob"}};
  school.field_lines["Birthday"] = {"hub.yaml", 9};
  EXPECT_EQ(run(), "hub.yaml:9: error: integration 'school': field 'Birthday' is a date field; good accepts only text "
                   "fields in a mapping\n");
  school.fields = {{"Shoe size", "customer.custom_fields.shoe"}};
  school.field_lines["Shoe size"] = {"hub.yaml", 9};
  EXPECT_NE(run().find("hub.yaml:9: error: integration 'school': field 'Shoe size' is not in the profile_fields list of good"),
            std::string::npos);
  school.fields = {{"phone", "{{customer.phone}}"}};
  EXPECT_NE(run().find("maps from '{{customer.phone}}', which is not an event field"), std::string::npos);
}

TEST_F(ValidateTest, WrongTypesAndUnknownsAreErrors) {
  cfg_.integrations["school"].settings["colour"] = "blue";
  cfg_.integrations["school"].setting_lines["colour"] = {"hub.yaml", 5};
  cfg_.rules = {enroll("forty-two")};
  std::string out = run();
  EXPECT_NE(out.find("hub.yaml:5: error: integration 'school' has unknown setting 'colour' for connector good (valid "
                     "settings: token, hook_secret, feed)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("hub.yaml:21: error: rule 'enrol': parameter 'course_id' must be of type integer"), std::string::npos)
      << out;
}

TEST_F(ValidateTest, ASecretTooShortToBeMaskedIsAnErrorThatDoesNotShowIt) {
  auto &school = cfg_.integrations["school"];
  school.setting_lines["token"] = {"hub.yaml", 6};
  school.settings["token"] = "t0k";
  std::string out = run();
  EXPECT_EQ(out, "hub.yaml:6: error: integration 'school' secret setting 'token' is shorter than 4 characters: so short "
                 "a secret cannot be kept out of the logs (masking it would mask ordinary text) and is easily guessed; "
                 "use the whole key or secret word the service gives\n");
  EXPECT_EQ(out.find("t0k"), std::string::npos);
  school.settings["token"] = "t0ke";
  EXPECT_EQ(run(), "");
}

// A webhook's signing secret is needed by a webhook source only: required of it, not of an integration
// or a poll source of the same connector, each told at its place with the reason.
TEST_F(ValidateTest, ASettingRequiredForOneUseIsRequiredOfThatUseAlone) {
  auto source = [](const std::string &id, const std::string &trigger, int line) {
    config::InstanceConfig s;
    s.id = id;
    s.connector = "good";
    s.trigger = trigger;
    s.settings = {{"token", "t0ken"}};
    s.setting_variables["token"] = "LAB_TOKEN";
    s.where = {"hub.yaml", line};
    return s;
  };
  cfg_.sources["lab-hooks"] = source("lab-hooks", "hook", 7);
  cfg_.sources["lab-changes"] = source("lab-changes", "changes", 9);
  EXPECT_EQ(run(), "hub.yaml:9: error: source 'lab-changes' is missing the setting 'feed', which connector good "
                   "requires of a poll source\n"
                   "hub.yaml:7: error: source 'lab-hooks' is missing the setting 'hook_secret', which connector good "
                   "requires of a webhook source (signs the webhooks)\n");
  cfg_.sources["lab-hooks"].settings["hook_secret"] = nullptr;  // `hook_secret:` and nothing after it
  cfg_.sources["lab-hooks"].setting_lines["hook_secret"] = {"hub.yaml", 8};
  cfg_.sources["lab-changes"].settings["feed"] = "orders";
  EXPECT_EQ(run(), "hub.yaml:8: error: source 'lab-hooks' setting 'hook_secret' has no value (signs the webhooks): "
                   "write one after the ':'\n");
  cfg_.sources["lab-hooks"].settings["hook_secret"] = "whsec-of-the-lab";
  cfg_.sources["lab-hooks"].setting_variables["hook_secret"] = "LAB_HOOK_SECRET";
  EXPECT_EQ(run(), "");
}

TEST_F(ValidateTest, ASettingLeftEmptyIsSaidToHaveNoValue) {
  cfg_.integrations["school"].settings["token"] = nullptr;  // `token:` and nothing after it
  cfg_.integrations["school"].setting_lines["token"] = {"hub.yaml", 5};
  EXPECT_EQ(run(), "hub.yaml:5: error: integration 'school' setting 'token' has no value: write one after the ':'\n");
}

TEST_F(ValidateTest, ARuleNamingAConnectorIsPointedToItsIntegration) {
  cfg_.rules = {enroll(42)};
  cfg_.rules[0].integration = "good";
  cfg_.rules[0].do_line = {"hub.yaml", 22};
  EXPECT_EQ(run(), "hub.yaml:22: error: rule 'enrol' uses integration 'good', which is not configured (integrations: "
                   "school) (did you mean school.enroll? 'good' is a connector; a rule names the integration that uses "
                   "it)\n");
  cfg_.rules[0].integration = "shcool";
  EXPECT_EQ(run(), "hub.yaml:22: error: rule 'enrol' uses integration 'shcool', which is not configured (integrations: "
                   "school) (did you mean school?)\n");
}

TEST_F(ValidateTest, AProductWrittenUnlikeTheCartsReferencesWarns) {
  cfg_.rules = {enroll(42), enroll(42), enroll(42), enroll(42)};
  cfg_.rules[0].product = "product-12";
  cfg_.rules[1].product = "Product-12";
  cfg_.rules[2].product = "upsell_13";
  cfg_.rules[3].product = "Bump-*";
  for (std::size_t i = 1; i < cfg_.rules.size(); ++i) cfg_.rules[i].name = "enrol-" + std::to_string(i);
  EXPECT_EQ(run(),
            "hub.yaml:20: warning: rule 'enrol-1': products.Product-12 is not written as the carts write item "
            "references (lower case, product-<id>, bump-<id>, upsell-<id>, downsell-<id>), so no ThriveCart or SamCart "
            "event matches it (did you mean product-12?)\n"
            "hub.yaml:20: warning: rule 'enrol-2': products.upsell_13 is not written as the carts write item references "
            "(lower case, product-<id>, bump-<id>, upsell-<id>, downsell-<id>), so no ThriveCart or SamCart event "
            "matches it (did you mean upsell-13?)\n"
            "hub.yaml:20: warning: rule 'enrol-3': products.Bump-* is not written as the carts write item references "
            "(lower case, product-<id>, bump-<id>, upsell-<id>, downsell-<id>), so no ThriveCart or SamCart event "
            "matches it (did you mean bump-*?)\n");
}

// Read without std::regex, whose matcher recursed once a character: a long products: key overflowed the stack of check.
TEST_F(ValidateTest, AProductKeyOfAnyLengthIsCheckedWithoutAStackThatGrowsWithIt) {
  cfg_.rules = {enroll(42), enroll(42), enroll(42)};
  cfg_.rules[0].product = "product-" + std::string(200000, '1');
  cfg_.rules[1].product = "Upsell" + std::string(200000, '2') + "*";
  cfg_.rules[2].product = "bump-" + std::string(200000, '3') + "x";
  for (std::size_t i = 0; i < cfg_.rules.size(); ++i) cfg_.rules[i].name = "enrol-" + std::to_string(i);
  std::string out = run();
  EXPECT_EQ(out.find("enrol-0"), std::string::npos) << out.substr(0, 300);
  EXPECT_NE(out.find("(did you mean upsell-" + std::string(200000, '2') + "*?)"), std::string::npos) << out.substr(0, 300);
  EXPECT_EQ(out.find("enrol-2"), std::string::npos) << out.substr(0, 300);
}

TEST_F(ValidateTest, ASettingTheConnectorRefusesAPartOfIsReportedAtItsLine) {
  cfg_.integrations["school"].setting_lines["token"] = {"hub.yaml", 6};
  engine::SettingsProbe probe = [](const plugins::Plugin &, const config::InstanceConfig &) -> std::optional<std::string> {
    return "good: setting 'token.910708' must be product, bump, upsell or downsell";
  };
  EXPECT_EQ(engine::validate(cfg_, registry_, {}, kNow, probe).format(),
            "hub.yaml:6: error: integration 'school': connector good refuses these settings: setting 'token.910708' "
            "must be product, bump, upsell or downsell\n");
}

TEST_F(ValidateTest, ASecretWrittenInTheFileWarnsWithTheVariableToUse) {
  auto &school = cfg_.integrations["school"];
  school.setting_variables.clear();  // token: t0ken
  school.setting_lines["token"] = {"hub.yaml", 6};
  std::string out = run();
  EXPECT_EQ(out, "hub.yaml:6: warning: integration 'school' secret setting 'token' is written in the file: whoever reads "
                 "the file (a backup, version control) knows it; write token: ${SCHOOL_TOKEN} and export SCHOOL_TOKEN\n");
  EXPECT_EQ(out.find("t0ken"), std::string::npos);
}
