// Notify URL amounts are decimal major units; events
// carry exact cents plus a decimal string.
#include "support.hpp"

namespace samcart_test {
namespace {

class Money : public ConnectorTest {
 protected:
  /** The purchased item of an Order post whose product.price is `price`. */
  Json item_for(const Json &price) {
    auto events = accept(classic("Order", order(), product(910707, price)), 2);
    return events.size() == 2 ? events[1]["item"] : Json::object();
  }
};

TEST_F(Money, DecimalStringsBecomeExactCents) {
  struct Case {
    Json price;
    int64_t cents;
    const char *text;
  };
  for (const Case &c : std::vector<Case>{{"49.95", 4995, "49.95"},
                                         {"49.9", 4990, "49.90"},
                                         {"49", 4900, "49.00"},
                                         {"1,299.00", 129900, "1299.00"},
                                         {"0.10", 10, "0.10"},
                                         {"0.01", 1, "0.01"},
                                         {"0", 0, "0.00"},
                                         {"$12.00", 1200, "12.00"},
                                         {" 7.5 ", 750, "7.50"},
                                         {"12.500", 1250, "12.50"},
                                         {"1,000,000.99", 100000099, "1000000.99"},
                                         {"-5.00", -500, "-5.00"}}) {
    Json item = item_for(c.price);
    EXPECT_EQ(item["amount"], c.cents) << c.price;
    EXPECT_EQ(item["amount_str"], c.text) << c.price;
  }
}

TEST_F(Money, JsonNumbersAreReadAsTheirDecimalText) {
  // 0.1 + 0.2 style drift must not appear: 19.99 is 1999 cents, never 1998.
  for (const auto &[price, cents] : std::vector<std::pair<Json, int64_t>>{
           {49.95, 4995}, {19.99, 1999}, {0.1, 10}, {1299, 129900}, {49.9, 4990}, {1e2, 10000}}) {
    EXPECT_EQ(item_for(price)["amount"], cents) << price.dump();
  }
}

TEST_F(Money, MissingOrEmptyAmountsAreLeftOut) {
  for (const Json &price : {Json(nullptr), Json(""), Json("null")}) {
    Json item = item_for(price);
    EXPECT_FALSE(item.contains("amount")) << price.dump();
    EXPECT_FALSE(item.contains("amount_str")) << price.dump();
  }
  Json payload = classic("Order");
  payload["product"].erase("price");
  payload["order"].erase("total");
  auto events = accept(payload, 2);
  EXPECT_FALSE(events[1]["item"].contains("amount"));
  EXPECT_FALSE(events[0]["order"].contains("total"));
  EXPECT_FALSE(events[0]["order"].contains("total_str"));
  EXPECT_TRUE(harness_.logs().empty());
}

TEST_F(Money, UnreadableAmountsAreLeftOutWithAWarning) {
  for (const Json &price : {Json("forty"), Json("49.955"), Json("4.9.5"), Json("USD 49")}) {
    Json item = item_for(price);
    EXPECT_FALSE(item.contains("amount")) << price.dump();
  }
  ASSERT_EQ(harness_.logs().size(), 4u);
  EXPECT_NE(harness_.logs()[0].message.find("product.price is not a decimal amount"), std::string::npos)
      << harness_.logs()[0].message;
}

TEST_F(Money, OrderTotalIsConvertedTheSameWay) {
  Json payload = classic("Order");
  payload["order"]["total"] = "1,299.9";
  EXPECT_EQ(accept(payload, 2)[0]["order"], Json({{"id", "19026152"}, {"currency", "USD"}, {"total", 129990},
                                                  {"total_str", "1299.90"}}));
  payload["order"]["total"] = 49.95;
  EXPECT_EQ(accept(payload, 2)[0]["order"]["total"], 4995);
}

}  // namespace
}  // namespace samcart_test
