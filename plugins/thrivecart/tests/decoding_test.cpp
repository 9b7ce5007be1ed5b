// How a form body becomes the payload tree, seen through `raw`.
#include "fixtures.hpp"

namespace thrivecart_test {
namespace {

class Decoding : public ConnectorTest {
 protected:
  /** The raw tree of the first event of an order.success delivered as `body`. */
  Json raw_of(const std::string &body) {
    WebhookReply reply = send(post(body, "application/x-www-form-urlencoded"));
    EXPECT_EQ(reply.status, 200) << reply.body;
    if (reply.events.empty()) return Json();
    return reply.events[0]["raw"];
  }
  std::string head() { return encode(common_fields("order.success")); }
};

TEST_F(Decoding, PlusIsASpaceAndPercentEscapesDecode) {
  Json raw = raw_of(head() + "&base_product_name=Course+%26+Workbook&note=a%2Bb%20c&url=https%3A%2F%2Fx.test%2F%3Fq%3D1");
  EXPECT_EQ(raw["base_product_name"], "Course & Workbook");
  EXPECT_EQ(raw["note"], "a+b c");
  EXPECT_EQ(raw["url"], "https://x.test/?q=1");
}

TEST_F(Decoding, Section9BodyDecodesToTheExpectedTree) {
  Json raw = raw_of(kSection9Body);
  EXPECT_EQ(raw["order_date"], "2026-01-15 10:00:00");
  EXPECT_EQ(raw["customer"]["email"], "ann@example.com");
  EXPECT_EQ(raw["customer"]["name"], "Ann Lee");
  EXPECT_EQ(raw["customer"]["address"], Json({{"country", "US"}, {"zip", "10001"}}));
  EXPECT_EQ(raw["order"]["total"], "9990");
  EXPECT_EQ(raw["order"]["tax"], "null");
  ASSERT_TRUE(raw["order"]["charges"].is_array());
  ASSERT_EQ(raw["order"]["charges"].size(), 2u);
  EXPECT_EQ(raw["order"]["charges"][1]["reference"], "13");
  EXPECT_EQ(raw["transactions"], Json({{"product-12", "ch_1"}, {"upsell-13", "ch_2"}}));
  EXPECT_EQ(raw["purchases"], Json({"Course", "Coaching"}));
  EXPECT_EQ(raw["purchase_map"], Json({"product-12", "upsell-13"}));
  EXPECT_EQ(raw["purchase_map_flat"], "product-12,upsell-13");
  EXPECT_EQ(raw["fulfillment"]["url"], "https://acme.thrivecart.com/course/confirm/");
  EXPECT_EQ(raw["thrivecart_account"], "acme");
  EXPECT_FALSE(raw.contains("thrivecart_secret"));
}

TEST_F(Decoding, EncodedBracketsAreBracketsToo) {
  Json raw = raw_of(encode(order_success(), /*keep_brackets=*/false));
  EXPECT_EQ(raw["customer"]["email"], "ann@example.com");
  EXPECT_EQ(raw["order"]["charges"][3]["reference"], "13");
}

TEST_F(Decoding, NumericSegmentsBecomeListsOnlyWhenDenseFromZero) {
  Json raw = raw_of(head() +
                    "&dense[1]=b&dense[0]=a&dense[2]=c"  // order of arrival does not matter
                    "&gap[0]=a&gap[2]=c"                  // a hole keeps it an object
                    "&late[1]=b&late[2]=c"                // not starting at 0
                    "&zero[00]=a&zero[1]=b"               // "00" is a name, not an index
                    "&push[]=x&push[]=y"                  // PHP append syntax
                    "&deep[0][k][0]=v&deep[1][k]=w"
                    "&ten[0]=0&ten[1]=1&ten[2]=2&ten[3]=3&ten[4]=4&ten[5]=5&ten[6]=6&ten[7]=7&ten[8]=8&ten[9]=9&ten[10]=10");
  EXPECT_EQ(raw["dense"], Json({"a", "b", "c"}));
  EXPECT_EQ(raw["gap"], Json({{"0", "a"}, {"2", "c"}}));
  EXPECT_EQ(raw["late"], Json({{"1", "b"}, {"2", "c"}}));
  EXPECT_EQ(raw["zero"], Json({{"00", "a"}, {"1", "b"}}));
  EXPECT_EQ(raw["push"], Json({"x", "y"}));
  EXPECT_EQ(raw["deep"], Json::parse(R"([{"k":["v"]},{"k":"w"}])"));
  ASSERT_TRUE(raw["ten"].is_array());
  ASSERT_EQ(raw["ten"].size(), 11u);
  EXPECT_EQ(raw["ten"][10], "10");
}

TEST_F(Decoding, OddKeysAndPairsAreTolerated) {
  Json raw = raw_of(head() + "&&flag&empty=&half[open=1&trail[a]x=2&=lost&dup=1&dup=2");
  EXPECT_EQ(raw["flag"], "");
  EXPECT_EQ(raw["empty"], "");
  EXPECT_EQ(raw["half[open"], "1");
  EXPECT_EQ(raw["trail[a]x"], "2");
  EXPECT_EQ(raw["dup"], "2");
  EXPECT_FALSE(raw.contains(""));
}

TEST_F(Decoding, LineBreaksBetweenPairsAreIgnored) {
  std::string body = kSection9Body;
  body.insert(body.find("&customer_id"), "\r\n");
  body.insert(body.find("&order[processor]") + 1, "\n");
  Json raw = raw_of(body);
  EXPECT_EQ(raw["currency"], "USD");
  EXPECT_EQ(raw["customer_id"], "4244502");
  EXPECT_EQ(raw["order"]["processor"], "stripe");
}

TEST_F(Decoding, NullTextMeansAbsent) {
  auto events = accept(with(common_fields("order.success"), {{"order[total]", "9990"},
                                                             {"customer[contactno]", "null"},
                                                             {"customer[how_did_you_hear]", "null"},
                                                             {"customer[address][line1]", "null"},
                                                             {"customer_identifier", "null"},
                                                             {"base_product_name", "null"},
                                                             {"order[total_str]", "null"}}),
                       1);
  Json event = events[0];
  EXPECT_FALSE(event["customer"].contains("phone"));
  EXPECT_FALSE(event["customer"]["custom_fields"].contains("how_did_you_hear"));
  EXPECT_EQ(event["customer"]["address"]["line1"], "");
  EXPECT_FALSE(event["item"].contains("name"));
  EXPECT_EQ(event["item"]["amount"], 9990);
  EXPECT_EQ(event["item"]["amount_str"], "99.90");  // derived, "null" was no decimal
  EXPECT_EQ(event["order"]["total_str"], "99.90");
  EXPECT_EQ(event["raw"]["customer"]["contactno"], "null");  // raw stays as sent
}

}  // namespace
}  // namespace thrivecart_test
