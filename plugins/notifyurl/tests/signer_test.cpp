// The signer against the Standard Webhooks specification's test vectors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <string>

#include "signer.hpp"

namespace cartwire::notifyurl {
namespace {

using Json = nlohmann::json;
using Headers = std::map<std::string, std::string>;

Json load(const std::string &path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  return Json::parse(in);
}

const Json &vectors() {
  static const Json loaded = load(NOTIFYURL_VECTORS_PATH);
  return loaded;
}

const Json &vector_named(const char *section, const std::string &name) {
  for (const Json &v : vectors()[section])
    if (v["name"] == name) return v;
  throw std::runtime_error(std::string("no vector named ") + name);
}

std::int64_t timestamp_of(const Json &v) { return std::stoll(v["webhook-timestamp"].get<std::string>()); }

Headers headers_of(const Json &v) {
  return {{"webhook-id", v["webhook-id"]},
          {"webhook-timestamp", v["webhook-timestamp"]},
          {"webhook-signature", v["webhook-signature"]}};
}

std::string hex(const std::string &bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0x0F];
  }
  return out;
}

const Json &library_vector() { return vector_named("valid", "library-sign-vector"); }

std::string default_secret() { return vectors()["secrets"]["default"]["serialized"]; }

Verdict verify_library_vector(const Headers &headers, std::int64_t now) {
  return verify(default_secret(), headers, library_vector()["body"].get<std::string>(), now);
}

TEST(Secret, DecodesToTheDocumentedKeyBytesWithOrWithoutPrefix) {
  const Json &secret = vectors()["secrets"]["default"];
  EXPECT_EQ(hex(decode_secret(secret["serialized"].get<std::string>())), secret["key_bytes_hex"]);
  EXPECT_EQ(hex(decode_secret(secret["unprefixed_form_also_accepted"].get<std::string>())), secret["key_bytes_hex"]);
  EXPECT_EQ(decode_secret(secret["serialized"].get<std::string>()).size(), secret["key_length_bytes"]);
}

TEST(Secret, MissingPaddingIsAccepted) {
  EXPECT_EQ(decode_secret("whsec_YWJjZGU="), "abcde");
  EXPECT_EQ(decode_secret("whsec_YWJjZGU"), "abcde");
  EXPECT_EQ(decode_secret("YWJjZA"), "abcd");
}

TEST(Secret, EmptySecretsAreRejected) {
  EXPECT_EQ(vector_named("invalid", "empty-secret")["secret"], "whsec_");
  for (const char *secret : {"", "whsec_", "=="}) {
    try {
      Signer signer(secret);
      ADD_FAILURE() << "accepted '" << secret << "'";
    } catch (const SecretError &e) {
      EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
    }
  }
}

TEST(Secret, MalformedBase64IsRejectedWithoutQuotingIt) {
  for (const char *secret : {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa#w", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwA",
                             "whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_MfKQ 9r8G"}) {
    try {
      Signer signer(secret);
      ADD_FAILURE() << "accepted '" << secret << "'";
    } catch (const SecretError &e) {
      std::string message = e.what();
      EXPECT_NE(message.find("not whsec_ followed by standard base64"), std::string::npos) << message;
      EXPECT_EQ(message.find("MfKQ"), std::string::npos) << message;
    }
  }
}

TEST(Sign, ReproducesEverySingleSignatureVector) {
  int checked = 0;
  for (const Json &v : vectors()["valid"]) {
    std::string expected = v["webhook-signature"];
    if (expected.find(' ') != std::string::npos) continue;
    Signer signer(v["secret"].get<std::string>());
    EXPECT_EQ(signer.sign(v["webhook-id"].get<std::string>(), timestamp_of(v), v["body"].get<std::string>()), expected)
        << v["name"];
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST(Sign, UnprefixedSecretSignsTheSame) {
  const Json &v = library_vector();
  Signer signer(vectors()["secrets"]["default"]["unprefixed_form_also_accepted"].get<std::string>());
  EXPECT_EQ(signer.sign(v["webhook-id"].get<std::string>(), timestamp_of(v), v["body"].get<std::string>()),
            v["webhook-signature"]);
}

TEST(Sign, MultiSignatureVectorContainsOurSignature) {
  const Json &v = vector_named("valid", "multi-signature-header-one-valid");
  Signer signer(v["secret"].get<std::string>());
  std::string ours = signer.sign(v["webhook-id"].get<std::string>(), timestamp_of(v), v["body"].get<std::string>());
  EXPECT_NE(v["webhook-signature"].get<std::string>().find(" " + ours + " "), std::string::npos);
}

TEST(Verify, AcceptsEveryValidVectorAtItsOwnTime) {
  ASSERT_EQ(vectors()["valid"].size(), 4u);
  for (const Json &v : vectors()["valid"])
    EXPECT_EQ(verify(v["secret"].get<std::string>(), headers_of(v), v["body"].get<std::string>(), timestamp_of(v)),
              Verdict::valid)
        << v["name"];
}

TEST(Verify, RejectsEveryInvalidSignatureVector) {
  int checked = 0;
  for (const Json &v : vectors()["invalid"]) {
    if (!v.contains("webhook-signature")) continue;
    EXPECT_EQ(verify(default_secret(), headers_of(v), v["body"].get<std::string>(), timestamp_of(v)),
              Verdict::no_matching_signature)
        << v["name"];
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST(Verify, RejectsAMissingHeader) {
  for (const Json &name : vector_named("invalid", "missing-header")["missing"]) {
    Headers headers = headers_of(library_vector());
    headers.erase(name.get<std::string>());
    EXPECT_EQ(verify_library_vector(headers, timestamp_of(library_vector())), Verdict::missing_header) << name;
  }
}

TEST(Verify, RejectsANonNumericTimestamp) {
  Headers headers = headers_of(library_vector());
  headers["webhook-timestamp"] = vector_named("invalid", "non-numeric-timestamp")["webhook-timestamp"];
  EXPECT_EQ(verify_library_vector(headers, timestamp_of(library_vector())), Verdict::bad_timestamp);
  for (const char *text : {"", "1614265330x", " 1614265330", "16142653.30"}) {
    headers["webhook-timestamp"] = text;
    EXPECT_EQ(verify_library_vector(headers, timestamp_of(library_vector())), Verdict::bad_timestamp) << text;
  }
}

TEST(Verify, ToleratesFiveMinutesEitherWayAndNoMore) {
  Headers headers = headers_of(library_vector());
  std::int64_t sent = timestamp_of(library_vector());
  EXPECT_EQ(verify_library_vector(headers, sent + kTimestampToleranceSeconds), Verdict::valid);
  EXPECT_EQ(verify_library_vector(headers, sent - kTimestampToleranceSeconds), Verdict::valid);
  EXPECT_EQ(verify_library_vector(headers, sent + kTimestampToleranceSeconds + 1), Verdict::timestamp_out_of_tolerance);
  EXPECT_EQ(verify_library_vector(headers, sent - kTimestampToleranceSeconds - 1), Verdict::timestamp_out_of_tolerance);
}

TEST(Verify, ATimestampAtTheLimitsOfItsTypeIsOutOfTolerance) {
  // Checked before the signature, so anyone can send it: it must not overflow into "within tolerance".
  Headers headers = headers_of(library_vector());
  for (const char *text : {"-9223372036854775808", "9223372036854775807"}) {
    headers["webhook-timestamp"] = text;
    EXPECT_EQ(verify_library_vector(headers, timestamp_of(library_vector())), Verdict::timestamp_out_of_tolerance)
        << text;
  }
}

TEST(Verify, SkipsUnknownVersionsAndMalformedItems) {
  Headers headers = headers_of(library_vector());
  std::string good = headers["webhook-signature"];
  std::string good_mac = good.substr(3);
  headers["webhook-signature"] = "v1 v1a," + good_mac + " v2," + good_mac + " garbage,, v1,#### " + good;
  EXPECT_EQ(verify_library_vector(headers, timestamp_of(library_vector())), Verdict::valid);
  headers["webhook-signature"] = "v1a," + good_mac + " V1," + good_mac + " v1;" + good_mac;
  EXPECT_EQ(verify_library_vector(headers, timestamp_of(library_vector())), Verdict::no_matching_signature);
}

TEST(Verify, AnotherSecretDoesNotMatch) {
  const Json &v = library_vector();
  EXPECT_EQ(verify("whsec_YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4", headers_of(v), v["body"].get<std::string>(),
                   timestamp_of(v)),
            Verdict::no_matching_signature);
}

}  // namespace
}  // namespace cartwire::notifyurl
