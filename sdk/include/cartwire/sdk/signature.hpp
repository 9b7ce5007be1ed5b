/**
 * @file signature.hpp
 * Webhook signatures: HMAC-SHA256 of a body under the source's secret, in the
 * hex or base64 text a sender writes in its signature header (SDK 1.8.0).
 *
 * Needs OpenSSL's libcrypto: link the connector with Cartwire::signature
 * (`cartwire_add_connector(... LIBRARIES Cartwire::signature)`).
 *
 * @code
 *   // Acme-Signature: sha256=<hex of HMAC-SHA256(secret, body)>
 *   std::string given = request.header("acme-signature");
 *   std::string expected = "sha256=" + sdk::to_hex(sdk::hmac_sha256(secret_, request.body));
 *   if (!sdk::same_secret(expected, given)) return WebhookReply::reject(401, "Acme-Signature does not match the body");
 * @endcode
 */
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>
#include <string>
#include <string_view>

#include "cartwire/sdk/secret.hpp"

namespace cartwire::sdk {

/** HMAC-SHA256 (RFC 2104) of `message` under `key`: 32 bytes. */
inline std::string hmac_sha256(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char *>(message.data()), message.size(), mac, &length))
    throw std::runtime_error("HMAC-SHA256 failed in OpenSSL");
  return std::string(reinterpret_cast<const char *>(mac), length);
}

/** Bytes as lower-case hex ("\x5b\xdc" → "5bdc"). */
inline std::string to_hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

/** Bytes as standard base64 (RFC 4648, with `=` padding, no line breaks). */
inline std::string to_base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                reinterpret_cast<const unsigned char *>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

}  // namespace cartwire::sdk
