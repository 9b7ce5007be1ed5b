#include <gtest/gtest.h>

#include <cartwire/sdk/fields.hpp>

using cartwire::sdk::Json;
namespace fields = cartwire::sdk::fields;

TEST(Fields, TextFoldsEveryFormOfAbsentIntoNothing) {
  Json payload = Json::parse(R"({"a": null, "b": "", "c": "null", "d": [], "e": {}, "f": [1]})");
  for (const char *key : {"a", "b", "c", "d", "e", "f", "missing"})
    EXPECT_FALSE(fields::text(payload, key)) << key;
  EXPECT_FALSE(fields::text(nullptr));
  EXPECT_FALSE(fields::text(Json("x"), "key")) << "a scalar has no members";
}

TEST(Fields, NumbersBecomeTextWithoutPassingThroughADouble) {
  Json payload = Json::parse(R"({"id": 1514394, "whole": 4995.0, "price": 49.95, "neg": -12, "big": 1e300,
                                 "tiny": 0.1, "yes": true, "no": false, "s": "49.95"})");
  EXPECT_EQ(fields::text(payload, "id"), "1514394");
  EXPECT_EQ(fields::text(payload, "whole"), "4995");
  EXPECT_EQ(fields::text(payload, "price"), "49.95");
  EXPECT_EQ(fields::text(payload, "neg"), "-12");
  EXPECT_EQ(fields::text(payload, "big"), "1e+300") << "too large to be whole digits";
  EXPECT_EQ(fields::text(payload, "tiny"), "0.1");
  EXPECT_EQ(fields::text(payload, "yes"), "true");
  EXPECT_EQ(fields::text(payload, "no"), "false");
  EXPECT_EQ(fields::text(payload, "s"), "49.95");
}

TEST(Fields, ObjectTreatsEmptyContainersAsAbsent) {
  Json payload = Json::parse(R"({"empty": {}, "list": [], "full": {"k": 1}, "text": "x"})");
  EXPECT_EQ(fields::object(fields::child(payload, "empty")), nullptr);
  EXPECT_EQ(fields::object(fields::child(payload, "list")), nullptr);
  EXPECT_EQ(fields::object(fields::child(payload, "text")), nullptr);
  EXPECT_EQ(fields::object(fields::child(payload, "missing")), nullptr);
  const Json *full = fields::object(fields::child(payload, "full"));
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(fields::text(*full, "k"), "1");
  EXPECT_EQ(fields::child(Json::array({1}), "k"), nullptr);
}

TEST(Fields, FirstTextTakesTheFirstPresentKey) {
  Json payload = Json::parse(R"({"a": "null", "b": "", "c": "second", "d": "third"})");
  EXPECT_EQ(fields::first_text(&payload, {"a", "b", "c", "d"}), "second");
  EXPECT_FALSE(fields::first_text(&payload, {"a", "b", "x"}));
}

TEST(Fields, Rfc3339IsUtcWithFourDigitYears) {
  EXPECT_EQ(fields::rfc3339(1768471200), "2026-01-15T10:00:00Z");
  EXPECT_EQ(fields::rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(fields::rfc3339(-62135596800), "0001-01-01T00:00:00Z");
}

TEST(Fields, TextReadsAMemberOfANestedObjectThatMayBeAbsent) {
  Json payload = Json::parse(R"({"member": {"email": "bob@example.com", "age": 41}, "empty": {}})");
  EXPECT_EQ(fields::text(fields::object(fields::child(payload, "member")), "email"), "bob@example.com");
  EXPECT_EQ(fields::text(fields::object(fields::child(payload, "member")), "age"), "41");
  EXPECT_FALSE(fields::text(fields::object(fields::child(payload, "empty")), "email"));
  EXPECT_FALSE(fields::text(fields::object(fields::child(payload, "missing")), "email"));
}
