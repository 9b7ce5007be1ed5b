// Standard Webhooks verification written for the tests with OpenSSL, apart
// from the connector's own signer, so a shared mistake cannot hide.
#pragma once

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <map>
#include <sstream>
#include <string>

namespace cartwire::testing {

inline std::string base64_decode(const std::string &in) {
  std::string out(in.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                          reinterpret_cast<const unsigned char *>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return {};
  std::size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

/** The HMAC-SHA256 of `id.timestamp.body` under `secret` (whsec_...), as raw bytes. */
inline std::string standard_webhook_mac(const std::string &secret, const std::string &id, const std::string &timestamp,
                                        const std::string &body) {
  std::string key = base64_decode(secret.rfind("whsec_", 0) == 0 ? secret.substr(6) : secret);
  std::string content = id + "." + timestamp + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char *>(content.data()),
       content.size(), mac, &mac_len);
  return std::string(reinterpret_cast<const char *>(mac), mac_len);
}

/** The webhook-signature value ("v1,<base64 HMAC-SHA256>") of `body` sent as message `id` at `timestamp`. */
inline std::string sign_standard_webhook(const std::string &secret, const std::string &id, const std::string &timestamp,
                                         const std::string &body) {
  std::string mac = standard_webhook_mac(secret, id, timestamp, body);
  std::string out(4 * ((mac.size() + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()), reinterpret_cast<const unsigned char *>(mac.data()),
                  static_cast<int>(mac.size()));
  return "v1," + out;
}

/** True when `headers` carry a valid v1 signature of `body` under `secret` (whsec_...). */
inline bool verify_standard_webhook(const std::string &secret, const std::map<std::string, std::string> &headers,
                                    const std::string &body) {
  auto get = [&](const char *name) {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  };
  std::string id = get("webhook-id"), ts = get("webhook-timestamp"), sigs = get("webhook-signature");
  if (id.empty() || ts.empty() || sigs.empty()) return false;
  std::string mac = standard_webhook_mac(secret, id, ts, body);
  std::istringstream items(sigs);
  std::string item;
  while (items >> item) {
    if (item.rfind("v1,", 0) != 0) continue;
    std::string given = base64_decode(item.substr(3));
    if (given.size() == mac.size() && CRYPTO_memcmp(given.data(), mac.data(), mac.size()) == 0) return true;
  }
  return false;
}

}  // namespace cartwire::testing
