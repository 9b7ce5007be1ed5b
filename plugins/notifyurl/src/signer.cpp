#include "signer.hpp"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/HMACEngine.h>
#include <Poco/SHA2Engine.h>

#include <charconv>
#include <iterator>
#include <optional>
#include <sstream>
#include <vector>

#include <cartwire/sdk/secret.hpp>

namespace cartwire::notifyurl {
namespace {

// HMACEngine reads BLOCK_SIZE and DIGEST_SIZE from its engine; Poco's
// SHA2Engine does not declare them, so name the SHA-256 figures here.
class Sha256Engine : public Poco::SHA2Engine {
 public:
  enum { BLOCK_SIZE = 64, DIGEST_SIZE = 32 };
  Sha256Engine() : Poco::SHA2Engine(Poco::SHA2Engine::SHA_256) {}
};

constexpr std::string_view kPrefix = "whsec_";

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/** Standard base64 to bytes, missing `=` padding allowed; nullopt when malformed. */
std::optional<std::string> base64_decode(std::string_view text) {
  std::string padded(text);
  while (!padded.empty() && padded.back() == '=') padded.pop_back();
  for (char c : padded)
    if (!is_base64_char(c)) return std::nullopt;
  // Four characters carry three bytes; a lone trailing character carries none.
  if (padded.size() % 4 == 1) return std::nullopt;
  padded.append((4 - padded.size() % 4) % 4, '=');
  try {
    std::istringstream in(padded);
    Poco::Base64Decoder decoder(in);
    return std::string((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
  } catch (const Poco::Exception &) {
    return std::nullopt;
  }
}

std::string base64_encode(const std::vector<unsigned char> &bytes) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  encoder.close();
  return out.str();
}

std::vector<unsigned char> mac(const std::string &key, std::string_view id, std::string_view timestamp,
                               std::string_view body) {
  Poco::HMACEngine<Sha256Engine> hmac(key.data(), key.size());
  hmac.update(id.data(), id.size());
  hmac.update('.');
  hmac.update(timestamp.data(), timestamp.size());
  hmac.update('.');
  hmac.update(body.data(), body.size());
  return hmac.digest();
}

const std::string *find(const std::map<std::string, std::string> &headers, const char *name) {
  auto it = headers.find(name);
  return it == headers.end() ? nullptr : &it->second;
}

}  // namespace

std::string decode_secret(std::string_view secret) {
  if (secret.substr(0, kPrefix.size()) == kPrefix) secret.remove_prefix(kPrefix.size());
  if (secret.empty()) throw SecretError("the signing secret is empty (expected whsec_ followed by base64)");
  std::optional<std::string> key = base64_decode(secret);
  if (!key) throw SecretError("the signing secret is not whsec_ followed by standard base64");
  if (key->empty()) throw SecretError("the signing secret decodes to an empty key");
  return *key;
}

Signer::Signer(std::string_view secret) : key_(decode_secret(secret)) {}

std::string Signer::sign(std::string_view id, std::int64_t timestamp_seconds, std::string_view body) const {
  return "v1," + base64_encode(mac(key_, id, std::to_string(timestamp_seconds), body));
}

const char *to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::valid: return "valid";
    case Verdict::missing_header: return "missing header";
    case Verdict::bad_timestamp: return "bad timestamp";
    case Verdict::timestamp_out_of_tolerance: return "timestamp out of tolerance";
    case Verdict::no_matching_signature: return "no matching signature";
  }
  return "unknown";
}

Verdict verify(std::string_view secret, const std::map<std::string, std::string> &headers, std::string_view body,
               std::int64_t now_seconds) {
  std::string key = decode_secret(secret);
  const std::string *id = find(headers, "webhook-id");
  const std::string *timestamp = find(headers, "webhook-timestamp");
  const std::string *signatures = find(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) return Verdict::missing_header;

  std::int64_t sent = 0;
  const char *end = timestamp->data() + timestamp->size();
  auto [stop, error] = std::from_chars(timestamp->data(), end, sent);
  if (timestamp->empty() || error != std::errc() || stop != end) return Verdict::bad_timestamp;
  // Compared without a difference, which a timestamp near the int64 limits would overflow.
  if (sent < now_seconds - kTimestampToleranceSeconds || sent > now_seconds + kTimestampToleranceSeconds)
    return Verdict::timestamp_out_of_tolerance;

  // Recompute over the header's own timestamp text, exactly as it was sent.
  std::vector<unsigned char> expected = mac(key, *id, *timestamp, body);
  std::string_view list = *signatures;
  while (!list.empty()) {
    std::size_t space = list.find(' ');
    std::string_view item = list.substr(0, space);
    list = space == std::string_view::npos ? std::string_view() : list.substr(space + 1);
    std::size_t comma = item.find(',');
    if (comma == std::string_view::npos || item.substr(0, comma) != "v1") continue;
    std::optional<std::string> candidate = base64_decode(item.substr(comma + 1));
    if (candidate && sdk::same_secret(std::string_view(reinterpret_cast<const char *>(expected.data()), expected.size()), *candidate)) return Verdict::valid;
  }
  return Verdict::no_matching_signature;
}

}  // namespace cartwire::notifyurl
