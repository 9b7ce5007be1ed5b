#include "plugins/redactor.hpp"

#include <Poco/Ascii.h>
#include <Poco/Exception.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>

namespace cartwire::plugins {

namespace {

// A secret as a remote may quote it back: percent-encoded in a URL (a
// redirect's Location), form-encoded, or escaped in JSON (PHP's json_encode
// writes "/" as "\/"), each only when it differs from the secret itself.
std::vector<std::string> encodings(const std::string &secret) {
  std::vector<std::string> out;
  std::string percent = sdk::url_encode(secret);
  out.push_back(percent);
  std::string form;
  for (std::size_t i = 0; i < percent.size(); ++i) {
    if (percent.compare(i, 3, "%20") == 0) {
      form += '+';
      i += 2;
    } else {
      form += percent[i];
    }
  }
  out.push_back(form);
  std::string quoted = sdk::Json(secret).dump(-1, ' ', false, sdk::Json::error_handler_t::replace);
  std::string escaped = quoted.substr(1, quoted.size() - 2);
  out.push_back(escaped);
  std::string slashes;
  for (char c : escaped) slashes += c == '/' ? std::string("\\/") : std::string(1, c);
  out.push_back(slashes);
  std::erase_if(out, [&](const std::string &encoded) { return encoded == secret; });
  return out;
}

// Whether a query parameter's name has a word naming a signature or an authentication ("sig",
// "X-Amz-Signature", "oauth_signature", "authCode", "apiSig"), its words parted by punctuation and by a
// capital after a small letter. By words, so "design" and "author" are none.
bool names_signature_or_auth(const std::string &name) {
  auto is_one = [](const std::string &word) {
    return word == "sig" || word.ends_with("sig") || word.starts_with("signature") ||
           (word.starts_with("auth") && !word.starts_with("author"));
  };
  std::string word;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    bool alnum = i < name.size() && Poco::Ascii::isAlphaNumeric(name[i]);
    bool camel = alnum && i > 0 && Poco::Ascii::isUpper(name[i]) && Poco::Ascii::isLower(name[i - 1]);
    if ((!alnum || camel) && !word.empty()) {
      if (is_one(word)) return true;
      word.clear();
    }
    if (alnum) word += Poco::Ascii::toLower(name[i]);
  }
  return false;
}

}  // namespace

void Redactor::add(const std::string &secret) {
  if (secret.size() < kShortest) return;
  if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
  secrets_.push_back(secret);
  for (auto &form : encodings(secret))
    if (std::find(secrets_.begin(), secrets_.end(), form) == secrets_.end()) secrets_.push_back(form);
  // Longest first, so a secret containing another is masked whole.
  std::sort(secrets_.begin(), secrets_.end(), [](auto &a, auto &b) { return a.size() > b.size(); });
  // A credential after its scheme ("Bearer <token>", "Token token=<token>") is
  // a secret on its own too: a remote quoting the token it refused quotes it
  // without the scheme.
  auto space = secret.find(' ');
  if (space == std::string::npos || space == 0 || space > 16) return;
  if (!std::all_of(secret.begin(), secret.begin() + static_cast<std::ptrdiff_t>(space), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_';
      }))
    return;
  std::string credential = secret.substr(space + 1);
  if (credential.find_first_of(" \t") != std::string::npos) return;
  if (auto eq = credential.find('='); eq != std::string::npos && credential.size() - eq - 1 >= 8)
    add(credential.substr(eq + 1));
  if (credential.size() >= 8) add(credential);
}

namespace {

// Each text a secret setting holds: a text as it is, a list by each of its values, a map by the
// values of its credential-named keys; other values as JSON.
template <typename F>
void each_secret_text(const sdk::Json &value, F &&take) {
  if (value.is_object()) {
    for (auto &[key, item] : value.items())
      if (is_credential_header(sdk::lower(key))) each_secret_text(item, take);
  } else if (value.is_array()) {
    for (auto &item : value) each_secret_text(item, take);
  } else {
    take(value.is_string() ? value.get<std::string>() : value.dump());
  }
}

// The shortest credential of a URL's userinfo or query taken for one, and of a token that ends its path.
constexpr std::size_t kUrlCredentialShortest = 8, kShortPathKey = 7;

}  // namespace

void Redactor::add_setting(const sdk::Json &value) {
  each_secret_text(value, [&](const std::string &text) { add(text); });
}

bool Redactor::too_short(const sdk::Json &value) {
  bool found = false;
  each_secret_text(value, [&](const std::string &text) { found |= !text.empty() && text.size() < kShortest; });
  return found;
}

void Redactor::add_url_credentials(const std::string &text) {
  try {
    Poco::URI uri(text);
    if (uri.getScheme() != "http" && uri.getScheme() != "https") return;
    // A credential as the URL writes it and decoded: its percent-encoding (%2f, an encoded '-') may
    // not be the one add() derives from the decoded value.
    auto keep = [&](const std::string &written, bool plus_is_space, std::size_t shortest = kUrlCredentialShortest) {
      std::string decoded;
      Poco::URI::decode(written, decoded, plus_is_space);
      if (decoded.size() < shortest || decoded == kMask) return;  // masked already
      add(decoded);
      add(written);
    };
    // The password of user:password, or a token given as the whole userinfo (kept as written).
    const std::string &userinfo = uri.getUserInfo();
    std::size_t colon = userinfo.find(':');
    keep(colon == std::string::npos ? userinfo : userinfo.substr(colon + 1), false);
    std::string query = uri.getRawQuery();
    for (std::size_t start = 0; start <= query.size();) {
      std::size_t end = std::min(query.find('&', start), query.size());
      std::string pair = query.substr(start, end - start);
      start = end + 1;
      std::size_t eq = pair.find('=');
      if (eq == std::string::npos) continue;
      std::string name;
      Poco::URI::decode(pair.substr(0, eq), name, true);
      if (looks_secret(name) || names_signature_or_auth(name)) keep(pair.substr(eq + 1), true);
    }
    // The host of a hook URL may be its token: Pipedream's <endpoint>.m.pipedream.net.
    const std::string &host = uri.getHost();
    std::size_t dot = host.find('.');
    if (dot != std::string::npos && sdk::lower(host.substr(dot)) == ".m.pipedream.net")
      keep(host.substr(0, dot), false, kShortPathKey);
    // A token in the path, as a chat service's hook URL carries one (/services/T0/B0/<token>): a segment
    // of 16 characters or more that mixes letters and digits as keys do (a letter and a digit side by
    // side three times or more), as Make's (/<32 letters and digits>) and n8n's (/webhook/<uuid>) do too.
    // A shorter one ends the path and is of letters and digits alone, 7 of them or more, where letters and
    // digits take turns twice or more (x7Kp2Qm). After a hook path's known shape the segment is its token
    // whatever its letters: Zapier's /hooks/catch/<account digits>/<token>/ (abcdefg as well as abc1234)
    // and IFTTT's /with/key/<key>. A word, a version (v2), a word with a number before or after it
    // (webhook2, route53, orders2026), an id before the end (Slack's T0AB12CD3), a name such as
    // order-confirmations-2026 or a number is none.
    struct Segment {
      std::string written, decoded;
      bool last;
    };
    std::vector<Segment> segments;
    std::size_t path = text.find_first_of("/?#", text.find("://") + 3);
    std::size_t end = text.find_first_of("?#", path);
    for (std::size_t start = path; start < end && text[start] == '/';) {
      std::size_t slash = std::min(text.find('/', start + 1), end);
      Segment segment{text.substr(start + 1, slash - start - 1), {}, text.find_first_not_of('/', slash) >= end};
      start = slash;
      Poco::URI::decode(segment.written, segment.decoded, false);
      segments.push_back(std::move(segment));
    }
    auto is = [&](std::size_t i, const char *word) { return Poco::icompare(segments[i].decoded, word) == 0; };
    auto number = [](const std::string &s) {
      return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return Poco::Ascii::isDigit(c); });
    };
    for (std::size_t i = 0; i < segments.size(); ++i) {
      const std::string &decoded = segments[i].decoded;
      int mixed = 0;
      for (std::size_t j = 1; j < decoded.size(); ++j)
        mixed += (Poco::Ascii::isDigit(decoded[j - 1]) && Poco::Ascii::isAlpha(decoded[j])) ||
                 (Poco::Ascii::isAlpha(decoded[j - 1]) && Poco::Ascii::isDigit(decoded[j]));
      bool alphanumeric =
          std::all_of(decoded.begin(), decoded.end(), [](char c) { return Poco::Ascii::isAlphaNumeric(c); });
      bool key = decoded.size() >= 16 && mixed >= 3;
      bool short_key = segments[i].last && alphanumeric && decoded.size() >= kShortPathKey && mixed >= 2;
      bool hook_token = (i >= 3 && is(i - 3, "hooks") && is(i - 2, "catch") && number(segments[i - 1].decoded)) ||
                        (i >= 2 && is(i - 2, "with") && is(i - 1, "key"));
      if (key || short_key || hook_token) keep(segments[i].written, false, kShortPathKey);
    }
  } catch (const Poco::Exception &) {
    // No URL, or a malformed escape in it: it carries no credential to tell.
  }
}

std::optional<Redactor> Redactor::with_url_credentials(const sdk::Json &tree) const {
  std::optional<Redactor> out;
  auto visit = [&](auto &self, const sdk::Json &value) -> void {
    if (value.is_structured()) {
      for (auto &item : value) self(self, item);
      return;
    }
    if (!value.is_string()) return;
    const std::string &text = value.get_ref<const std::string &>();
    if (text.find("://") == std::string::npos) return;
    Redactor found;
    found.add_url_credentials(text);
    const Redactor &known = out ? *out : *this;
    if (std::all_of(found.secrets_.begin(), found.secrets_.end(), [&](const std::string &secret) {
          return std::find(known.secrets_.begin(), known.secrets_.end(), secret) != known.secrets_.end();
        }))
      return;
    if (!out) out = *this;
    out->add_all(found);
  };
  visit(visit, tree);
  return out;
}

void Redactor::add_all(const Redactor &other) {
  // Their encoded forms are among them already.
  for (auto &secret : other.secrets_)
    if (std::find(secrets_.begin(), secrets_.end(), secret) == secrets_.end()) secrets_.push_back(secret);
  std::sort(secrets_.begin(), secrets_.end(), [](auto &a, auto &b) { return a.size() > b.size(); });
}

sdk::Json Redactor::masked(const sdk::Json &value) {
  if (!value.is_structured()) return kMask;
  sdk::Json out = value;
  if (out.is_object()) {
    for (auto &[key, item] : out.items())
      if (is_credential_header(sdk::lower(key))) item = masked(item);
  } else {
    for (auto &item : out) item = masked(item);
  }
  return out;
}

std::string Redactor::apply(std::string text) const {
  for (auto &secret : secrets_) {
    for (std::size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
      text.replace(pos, secret.size(), kMask);
      pos += std::char_traits<char>::length(kMask);
    }
  }
  return text;
}

void Redactor::scrub(sdk::Json &tree) const {
  if (tree.is_string()) {
    std::string &text = tree.get_ref<std::string &>();
    for (auto &secret : secrets_)
      if (text.find(secret) != std::string::npos) {
        text = apply(std::move(text));
        break;
      }
  } else if (tree.is_structured()) {
    for (auto &item : tree) scrub(item);
  }
}

bool is_credential_header(const std::string &name) {
  // A request's name, the same on each attempt of a job: what traces a duplicate in the execution log.
  if (name == "idempotency-key") return false;
  // "key" takes in x-functions-key and ocp-apim-subscription-key, which no other needle does.
  static const char *needles[] = {"authorization", "token", "key", "secret", "password", "cookie"};
  for (auto *n : needles)
    if (name.find(n) != std::string::npos) return true;
  return false;
}

bool looks_secret(const std::string &key) {
  std::string k = sdk::lower(key);
  return is_credential_header(k);
}

sdk::Headers Redactor::headers(const sdk::Headers &in) const {
  sdk::Headers out;
  for (auto &[name, value] : in) out[name] = is_credential_header(sdk::lower(name)) ? kMask : apply(value);
  return out;
}

}  // namespace cartwire::plugins
