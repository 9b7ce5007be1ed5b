#include <gtest/gtest.h>

#include <cartwire/sdk/money.hpp>

using cartwire::sdk::cents_to_decimal;
using cartwire::sdk::decimal_to_cents;

TEST(Money, CentsToDecimal) {
  EXPECT_EQ(cents_to_decimal(4995), "49.95");
  EXPECT_EQ(cents_to_decimal(7), "0.07");
  EXPECT_EQ(cents_to_decimal(0), "0.00");
  EXPECT_EQ(cents_to_decimal(100), "1.00");
  EXPECT_EQ(cents_to_decimal(-150), "-1.50");
  EXPECT_EQ(cents_to_decimal(INT64_MIN), "-92233720368547758.08");
}

TEST(Money, DecimalToCentsExact) {
  EXPECT_EQ(decimal_to_cents("49.95"), 4995);
  // 0.1 + 0.2 style values that floating point gets wrong.
  EXPECT_EQ(decimal_to_cents("0.29"), 29);
  EXPECT_EQ(decimal_to_cents("1.15"), 115);
  EXPECT_EQ(decimal_to_cents("4.35"), 435);
  EXPECT_EQ(decimal_to_cents("49.9"), 4990);
  EXPECT_EQ(decimal_to_cents("49"), 4900);
  EXPECT_EQ(decimal_to_cents(".5"), 50);
  EXPECT_EQ(decimal_to_cents("1,299.00"), 129900);
  EXPECT_EQ(decimal_to_cents("$12.00"), 1200);
  EXPECT_EQ(decimal_to_cents(" -0.50 "), -50);
  EXPECT_EQ(decimal_to_cents("12.500"), 1250);
}

TEST(Money, DecimalToCentsRejects) {
  EXPECT_FALSE(decimal_to_cents(""));
  EXPECT_FALSE(decimal_to_cents("abc"));
  EXPECT_FALSE(decimal_to_cents("1.2.3"));
  EXPECT_FALSE(decimal_to_cents("12.345"));
  EXPECT_FALSE(decimal_to_cents("."));
  EXPECT_FALSE(decimal_to_cents("-"));
  EXPECT_FALSE(decimal_to_cents("99999999999999999999"));
}

TEST(Money, ACommaGroupsThousandsOrTheAmountIsRefused) {
  EXPECT_EQ(decimal_to_cents("1,299"), 129900);
  EXPECT_EQ(decimal_to_cents("12,345,678.90"), 1234567890);
  EXPECT_EQ(decimal_to_cents("-1,000.5"), -100050);
  // A decimal comma ("49,95" in much of Europe) is no thousands separator: 4,995.00 would be 100 times the amount.
  EXPECT_FALSE(decimal_to_cents("49,95"));
  EXPECT_FALSE(decimal_to_cents("1,2345.00"));
  EXPECT_FALSE(decimal_to_cents("1234,567"));
  EXPECT_FALSE(decimal_to_cents(",123"));
  EXPECT_FALSE(decimal_to_cents("1,,234"));
  EXPECT_FALSE(decimal_to_cents("1,234,"));
  EXPECT_FALSE(decimal_to_cents("1.234,56"));
}
