#include <gtest/gtest.h>

#include <string>

#include "cartwire/sdk/signature.hpp"

using cartwire::sdk::hmac_sha256;
using cartwire::sdk::same_secret;
using cartwire::sdk::to_base64;
using cartwire::sdk::to_hex;

// RFC 4231's test cases 1, 2 and 6 (a key longer than SHA-256's block).
TEST(Signature, HmacSha256GivesRfc4231sMacs) {
  EXPECT_EQ(to_hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(to_hex(hmac_sha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(hmac_sha256("Jefe", "what do ya want for nothing?").size(), 32u);
}

TEST(Signature, Base64IsStandardAndPadded) {
  EXPECT_EQ(to_base64(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
  EXPECT_EQ(to_base64("a"), "YQ==");
  EXPECT_EQ(to_base64("ab"), "YWI=");
  EXPECT_EQ(to_base64("abc"), "YWJj");
  EXPECT_EQ(to_base64(""), "");
}

// A body's bytes count as they came, a NUL or a byte that is not UTF-8 included.
TEST(Signature, ASignatureHeaderIsCheckedAgainstTheBodyAsSent) {
  std::string body("{\"id\":\"evt_1\"}\0\xff", 16);
  std::string header = "sha256=" + to_hex(hmac_sha256("whsec", body));
  EXPECT_TRUE(same_secret("sha256=" + to_hex(hmac_sha256("whsec", body)), header));
  EXPECT_FALSE(same_secret("sha256=" + to_hex(hmac_sha256("whsec", body.substr(0, 15))), header));
  EXPECT_FALSE(same_secret("sha256=" + to_hex(hmac_sha256("other", body)), header));
}
