// upsert_contact: the exact upsert request, mapped fields, and what is refused before any call.
#include "support.hpp"

namespace ghl_test {
namespace {

class Upsert : public GhlTest {};

TEST_F(Upsert, SendsTheCustomerByEmailWithTheRequiredHeaders) {
  remote.on("POST /contacts/upsert", upserted(true));
  Result r = run("upsert_contact", Json::object());
  ASSERT_TRUE(r.is_ok()) << r.message;
  ASSERT_EQ(requests().size(), 1u);
  const auto &req = requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, url("/contacts/upsert"));
  expect_headers(req, true);
  EXPECT_EQ(body(0), (Json{{"locationId", kLocation},
                           {"email", "ann@example.com"},
                           {"firstName", "Ann"},
                           {"lastName", "Lee"},
                           {"phone", "+15550100"},
                           {"address1", "1 Main St, Apt 2"},
                           {"city", "New York"},
                           {"state", "NY"},
                           {"postalCode", "10001"},
                           {"country", "US"}}));
  EXPECT_EQ(r.data["contact_id"], kContact);
  EXPECT_EQ(r.data["contact_created"], true);
}

TEST_F(Upsert, LeavesOutWhatTheEventLacksAndNeverSendsTags) {
  remote.on("POST /contacts/upsert", upserted());
  Json ev = event();
  ev["customer"] = {{"email", "  bob@example.com "}, {"address", {{"country", "United States"}}}};
  ASSERT_TRUE(run("upsert_contact", Json::object(), Json::object(), ev).is_ok());
  EXPECT_EQ(body(0), (Json{{"locationId", kLocation}, {"email", "bob@example.com"}}));
}

TEST_F(Upsert, TagsGoThroughTheTagEndpointAfterTheUpsert) {
  remote.on("POST /contacts/upsert", upserted());
  remote.on(std::string("POST /contacts/") + kContact + "/tags", answer(201, {{"tags", {"buyer", "coaching"}}}));
  Result r = run("upsert_contact", {{"tags", "buyer, coaching"}});
  ASSERT_TRUE(r.is_ok()) << r.message;
  ASSERT_EQ(requests().size(), 2u);
  EXPECT_FALSE(body(0).contains("tags"));
  EXPECT_EQ(requests()[1].url, url(std::string("/contacts/") + kContact + "/tags"));
  EXPECT_EQ(body(1), (Json{{"tags", {"buyer", "coaching"}}}));
  EXPECT_EQ(r.data["tags"], (Json{"buyer", "coaching"}));
}

TEST_F(Upsert, EmailParameterOverridesTheEvent) {
  remote.on("POST /contacts/upsert", upserted());
  ASSERT_TRUE(run("upsert_contact", {{"email", "billing@acme.test"}}).is_ok());
  EXPECT_EQ(body(0)["email"], "billing@acme.test");
}

TEST_F(Upsert, SourceSettingIsSentWhenSet) {
  auto with_source = harness.create({{"token", kToken}, {"location_id", kLocation}, {"base_url", kBase},
                                     {"source", "Cartwire"}});
  remote.on("POST /contacts/upsert", upserted());
  ASSERT_TRUE(with_source.action("upsert_contact", Json::object(), event(), job()).is_ok());
  EXPECT_EQ(body(0)["source"], "Cartwire");
}

TEST_F(Upsert, NoEmailIsPermanentAndCallsNothing) {
  Json ev = event();
  ev["customer"].erase("email");
  Result r = run("upsert_contact", Json::object(), Json::object(), ev);
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("no customer email"), std::string::npos) << r.message;
  EXPECT_TRUE(requests().empty());
}

TEST_F(Upsert, BadTagsAreRefusedBeforeAnyCall) {
  Result r = run("upsert_contact", {{"tags", {{"name", "x"}}}});
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("'tags'"), std::string::npos) << r.message;
  EXPECT_TRUE(requests().empty());
}

class Mapping : public GhlTest {
 protected:
  std::string fields_path = std::string("GET /locations/") + kLocation + "/customFields?model=contact";
};

TEST_F(Mapping, CustomFieldsMapByKeyIdOrNameWithFieldValue) {
  remote.on(fields_path, answer(200, contact_fields()));
  remote.on("POST /contacts/upsert", upserted());
  Json fields = {{"contact.company_size", "11-50"},  // key
                 {"3sv6UEo51C9Bmpo1cKTq", "10001"},   // id; a NUMERICAL field takes a number
                 {"Interests", "coaching, events"},  // name; a checkbox takes a list
                 {"companyName", "Acme"}};            // fixed field
  Result r = run("upsert_contact", Json::object(), fields);
  ASSERT_TRUE(r.is_ok()) << r.message;
  ASSERT_EQ(requests().size(), 2u);
  EXPECT_EQ(requests()[0].method, "GET");
  EXPECT_EQ(requests()[0].url, url(std::string("/locations/") + kLocation + "/customFields?model=contact"));
  expect_headers(requests()[0], false);
  Json sent = body(1);
  EXPECT_EQ(sent["companyName"], "Acme");
  Json expected = Json::array({
      {{"id", "3sv6UEo51C9Bmpo1cKTq"}, {"key", "contact.pincode"}, {"field_value", 10001}},
      {{"id", "Zt7pQ2xR9sLk4mNb6vC1"}, {"key", "contact.interests"}, {"field_value", {"coaching", "events"}}},
      {{"id", "MgobCB14YMVKuE4Ka8p1"}, {"key", "contact.company_size"}, {"field_value", "11-50"}},
  });
  EXPECT_EQ(sent["customFields"], expected);
}

TEST_F(Mapping, ANumberFieldTakesANumberAndRefusesText) {
  remote.on(fields_path, answer(200, contact_fields()));
  remote.on("POST /contacts/upsert", upserted());
  for (auto [given, sent] : {std::pair{Json("49.95"), Json(49.95)}, {Json(" -7 "), Json(-7)}, {Json(12), Json(12)}}) {
    Result r = run("upsert_contact", Json::object(), {{"contact.pincode", given}});
    ASSERT_TRUE(r.is_ok()) << r.message;
    EXPECT_EQ(body(requests().size() - 1)["customFields"][0]["field_value"], sent) << given;
  }
  std::size_t before = requests().size();
  Result r = run("upsert_contact", Json::object(), {{"contact.pincode", "1,299"}});
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_EQ(r.message,
            "custom field 'contact.pincode' is a NUMERICAL field, and '1,299' is not a number such as 42 or 49.95");
  EXPECT_EQ(requests().size(), before) << "nothing is sent";
}

TEST_F(Mapping, KeyWithoutTheContactPrefixAlsoMaps) {
  remote.on(fields_path, answer(200, contact_fields()));
  remote.on("POST /contacts/upsert", upserted());
  ASSERT_TRUE(run("upsert_contact", Json::object(), {{"company_size", "11-50"}}).is_ok());
  EXPECT_EQ(body(1)["customFields"][0]["id"], "MgobCB14YMVKuE4Ka8p1");
}

TEST_F(Mapping, FixedFieldsOverrideTheEventAndNeedNoFieldList) {
  remote.on("POST /contacts/upsert", upserted());
  ASSERT_TRUE(run("upsert_contact", Json::object(), {{"firstName", "Annie"}}).is_ok());
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(body(0)["firstName"], "Annie");
  EXPECT_FALSE(body(0).contains("customFields"));
}

TEST_F(Mapping, BlankValuesAreLeftOut) {
  remote.on("POST /contacts/upsert", upserted());
  ASSERT_TRUE(run("upsert_contact", Json::object(), {{"contact.company_size", ""}, {"companyName", ""}}).is_ok());
  ASSERT_EQ(requests().size(), 1u);  // nothing to map, so no field list either
  EXPECT_FALSE(body(0).contains("customFields"));
  EXPECT_FALSE(body(0).contains("companyName"));
}

TEST_F(Mapping, TheFieldListIsCachedAcrossActions) {
  remote.on(fields_path, answer(200, contact_fields()));
  remote.on("POST /contacts/upsert", upserted());
  ASSERT_TRUE(run("upsert_contact", Json::object(), {{"contact.company_size", "1"}}).is_ok());
  ASSERT_TRUE(run("upsert_contact", Json::object(), {{"contact.company_size", "2"}}).is_ok());
  ASSERT_EQ(requests().size(), 3u);
  EXPECT_EQ(requests()[2].url, url("/contacts/upsert"));
  EXPECT_EQ(body(2)["customFields"][0]["field_value"], "2");
}

TEST_F(Mapping, AnUnknownFieldRefetchesOnceThenFailsPermanently) {
  remote.on(fields_path, answer(200, contact_fields()));
  Result r = run("upsert_contact", Json::object(), {{"contact.shoe_size", "44"}});
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("'contact.shoe_size' is not a contact custom field"), std::string::npos) << r.message;
  ASSERT_EQ(requests().size(), 2u);  // cached copy, then one refresh; no upsert
  EXPECT_EQ(requests()[1].method, "GET");
}

TEST_F(Mapping, FileFieldsAreRefused) {
  remote.on(fields_path, answer(200, contact_fields()));
  Result r = run("upsert_contact", Json::object(), {{"contact.contract", "x"}});
  EXPECT_EQ(r.outcome, Outcome::permanent);
  EXPECT_NE(r.message.find("FILE_UPLOAD"), std::string::npos) << r.message;
}

TEST_F(Mapping, AFailingFieldListFailsTheActionTheSameWay) {
  remote.on(fields_path, answer(503, {{"message", "down"}}));
  Result r = run("upsert_contact", Json::object(), {{"contact.company_size", "1"}});
  EXPECT_EQ(r.outcome, Outcome::retryable);
  EXPECT_EQ(requests().size(), 1u);
}

}  // namespace
}  // namespace ghl_test
