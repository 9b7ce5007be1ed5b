#include <gtest/gtest.h>

#include <string>

#include "cartwire/sdk/secret.hpp"

using cartwire::sdk::same_secret;

TEST(SameSecret, EqualOnlyWhenEveryByteAndTheLengthMatch) {
  EXPECT_TRUE(same_secret("abc", "abc"));
  EXPECT_TRUE(same_secret("", ""));
  EXPECT_FALSE(same_secret("abc", "abd"));
  EXPECT_FALSE(same_secret("abc", "ab"));
  EXPECT_FALSE(same_secret("abc", "abcd"));
  EXPECT_FALSE(same_secret("abc", ""));
  EXPECT_FALSE(same_secret("", "abc"));
}

TEST(SameSecret, ComparesBytesNotCStrings) {
  std::string with_nul("ab\0c", 4);
  EXPECT_TRUE(same_secret(with_nul, std::string("ab\0c", 4)));
  EXPECT_FALSE(same_secret(with_nul, std::string("ab\0d", 4)));
  EXPECT_FALSE(same_secret(with_nul, "ab"));
}
