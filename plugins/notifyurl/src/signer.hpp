/**
 * @file signer.hpp
 * Standard Webhooks v1 (HMAC-SHA256) signing and verification, as its
 * specification has them. Free of the SDK's connector machinery so
 * tests and fake receivers can use it directly.
 */
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cartwire::notifyurl {

/** Thrown for an unusable secret. The message never contains the secret. */
class SecretError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/** The sizes of a signing secret's key that Standard Webhooks allows. */
inline constexpr std::size_t kMinSecretBytes = 24, kMaxSecretBytes = 64;

/** Seconds the receiver tolerates between webhook-timestamp and its clock. */
inline constexpr std::int64_t kTimestampToleranceSeconds = 300;

/**
 * The key bytes of a secret: `whsec_` + standard base64, the prefix optional,
 * missing `=` padding accepted. Throws SecretError for an empty key or bad base64.
 */
std::string decode_secret(std::string_view secret);

/** Holds one decoded key; immutable, so one instance may sign from several threads. */
class Signer {
 public:
  /** @throws SecretError as decode_secret(). */
  explicit Signer(std::string_view secret);

  /** "v1,<base64 HMAC-SHA256 of `id.timestamp.body`>". */
  std::string sign(std::string_view id, std::int64_t timestamp_seconds, std::string_view body) const;

 private:
  std::string key_;
};

/** Why a delivery failed verification; `valid` when it passed. */
enum class Verdict { valid, missing_header, bad_timestamp, timestamp_out_of_tolerance, no_matching_signature };

const char *to_string(Verdict verdict);

/**
 * Check a delivery the way a receiver must: the three webhook-* headers
 * (lower-case names) present, |now - timestamp| within the tolerance, and at
 * least one `v1` item of webhook-signature matching in constant time.
 * @throws SecretError when `secret` itself is unusable.
 */
Verdict verify(std::string_view secret, const std::map<std::string, std::string> &headers, std::string_view body,
               std::int64_t now_seconds);

}  // namespace cartwire::notifyurl
