// Removes secret values from anything the hub records or logs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <cartwire/sdk/http.hpp>
#include <cartwire/sdk/json.hpp>

namespace cartwire::plugins {

class Redactor {
 public:
  static constexpr const char *kMask = "[redacted]";
  /** The shortest secret masked: a shorter one would mask common text. */
  static constexpr std::size_t kShortest = 4;

  /**
   * Remember a secret value, and the forms a remote may quote it back in
   * (percent- and form-encoded, JSON-escaped); values shorter than
   * kShortest characters are ignored (they would mask common text).
   */
  void add(const std::string &secret);
  /**
   * Remember a secret setting's value: a text as it is; a list by each of its
   * values; a map (a Notify URL's extra headers) by the values of its
   * credential-named keys (see is_credential_header), the others being plain
   * settings such as an Accept header.
   */
  void add_setting(const sdk::Json &value);
  /** Whether add_setting(value) would leave a value out as too short to mask (an empty one aside). */
  static bool too_short(const sdk::Json &value);
  /**
   * Remember the credentials a URL setting carries although the setting is no
   * secret: its userinfo's password (or the whole userinfo) and the values of
   * its query parameters named like a secret (token, key, or a word such as
   * sig or auth: X-Amz-Signature, authCode, but not design or author), of
   * 8 characters or more, the segments of its path that are written as keys
   * are (16 characters or more, a letter and a digit side by side three times
   * or more: a hook URL's token; or, ending the path, 7 or more of letters and
   * digits alone, a letter and a digit side by side twice or more: x7Kp2Qm,
   * not route53), the segment after a hook path's known shape whatever its
   * letters (Zapier's /hooks/catch/<digits>/<token>, IFTTT's /with/key/<key>),
   * and the endpoint of a Pipedream host (<endpoint>.m.pipedream.net). Text
   * that is no http(s) URL adds nothing.
   */
  void add_url_credentials(const std::string &text);
  /**
   * These secrets and the credentials of the URLs among `tree`'s texts (see
   * add_url_credentials), when those add any; nullopt when they are known
   * already. For what the configuration no longer holds: the parameters a job
   * kept from its rule as it was, an API answer showing them.
   */
  std::optional<Redactor> with_url_credentials(const sdk::Json &tree) const;
  /** Remember every secret `other` holds. */
  void add_all(const Redactor &other);
  /** A secret setting's value as shown: the mask, or a map or list with those same values masked. */
  static sdk::Json masked(const sdk::Json &value);
  /** Every occurrence of every secret replaced by the mask. */
  std::string apply(std::string text) const;
  /** apply() on every text value of a JSON tree, in place (keys stay as they are). */
  void scrub(sdk::Json &tree) const;
  /** Header values of credential-bearing headers masked, then apply() on the rest. */
  sdk::Headers headers(const sdk::Headers &headers) const;
  bool empty() const { return secrets_.empty(); }

 private:
  std::vector<std::string> secrets_;
};

/** Headers whose value is a credential whatever it is (authorization, *token*, *key*, ...). */
bool is_credential_header(const std::string &lower_name);

/** Whether a setting no manifest describes is secret, by its name (*token*, *secret*, *key*, ...). */
bool looks_secret(const std::string &key);

}  // namespace cartwire::plugins
