#include "admin/auth.hpp"

#include <Poco/Net/HTTPCookie.h>
#include <Poco/RandomStream.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <vector>

#include "cartwire/sdk/secret.hpp"

namespace cartwire::admin {

std::string random_token(std::size_t bytes) {
  // Poco's RandomInputStream reads the kernel's CSPRNG (getrandom / /dev/urandom).
  Poco::RandomInputStream in;
  std::vector<char> raw(bytes);
  in.read(raw.data(), static_cast<std::streamsize>(raw.size()));
  std::ostringstream hex;
  for (char c : raw) hex << std::hex << std::setw(2) << std::setfill('0') << (static_cast<unsigned>(c) & 0xffU);
  return hex.str();
}

Sessions::Sessions(std::chrono::milliseconds ttl, std::function<int64_t()> clock_ms)
    : ttl_(ttl), clock_ms_(std::move(clock_ms)) {}

Session Sessions::create() {
  Session s{random_token(), random_token(), clock_ms_() + ttl_.count()};
  std::lock_guard lock(mutex_);
  int64_t now = clock_ms_();
  std::erase_if(sessions_, [&](const auto &entry) { return entry.second.expires_at <= now; });
  if (sessions_.size() >= kMaxSessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
      if (it->second.expires_at < oldest->second.expires_at) oldest = it;
    sessions_.erase(oldest);
  }
  sessions_[s.id] = s;
  return s;
}

std::optional<Session> Sessions::find(const std::string &id) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires_at <= clock_ms_()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void Sessions::remove(const std::string &id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(id);
}

std::size_t Sessions::size() {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

WrongTokens::WrongTokens(std::function<int64_t()> clock_ms) : clock_ms_(std::move(clock_ms)) {}

int64_t WrongTokens::refused_for(const std::string &address) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(address);
  if (it == records_.end()) return 0;
  return std::max<int64_t>(0, it->second.refused_until - clock_ms_());
}

bool WrongTokens::count(const std::string &address) {
  std::lock_guard lock(mutex_);
  int64_t now = clock_ms_();
  auto it = records_.find(address);
  if (it == records_.end()) {
    if (records_.size() >= kMaxAddresses) {
      std::erase_if(records_, [&](const auto &entry) {
        return entry.second.refused_until <= now && now - entry.second.since >= kWindow.count();
      });
      // The oldest record that refuses nothing, else the refusal that ends first: sending
      // wrong tokens from many addresses does not lift a refusal early.
      auto key = [](const Record &r) { return std::max(r.since, r.refused_until); };
      if (records_.size() >= kMaxAddresses)
        records_.erase(std::min_element(records_.begin(), records_.end(), [&](const auto &a, const auto &b) {
          return key(a.second) < key(b.second);
        }));
    }
    it = records_.emplace(address, Record{0, now, 0}).first;
  }
  Record &r = it->second;
  if (now - r.since >= kWindow.count()) r = Record{0, now, r.refused_until};
  if (++r.wrong < kAllowed) return false;
  r = Record{0, now, now + kWindow.count()};
  return true;
}

AuthResult authorize(const std::string &method, const std::string &authorization, const std::string &session_cookie,
                     const std::string &csrf_header, const std::string &token, Sessions &sessions) {
  AuthResult out;
  if (!authorization.empty()) {
    static const std::string scheme = "Bearer ";
    bool bearer = authorization.size() > scheme.size() &&
                  std::equal(scheme.begin(), scheme.end(), authorization.begin(),
                             [](char a, char b) { return std::tolower(a) == std::tolower(b); });
    if (!bearer || !sdk::same_secret(token, authorization.substr(scheme.size()))) {
      out.status = 401;
      out.reason = "invalid admin token (send Authorization: Bearer <admin.token>)";
      return out;
    }
    out.via = AuthResult::Via::bearer;
    return out;
  }
  if (session_cookie.empty()) {
    out.status = 401;
    out.reason = "authentication required: send Authorization: Bearer <admin.token>, or log in with POST /api/login";
    return out;
  }
  out.session = sessions.find(session_cookie);
  if (!out.session) {
    out.status = 401;
    out.reason = "the session has expired or is unknown; log in again";
    return out;
  }
  out.via = AuthResult::Via::session;
  if (method != "GET" && method != "HEAD" && !sdk::same_secret(out.session->csrf, csrf_header)) {
    out.status = 403;
    out.reason = "missing or wrong X-CSRF-Token header (the csrf_token returned by POST /api/login)";
  }
  return out;
}

namespace {

std::string cookie(const std::string &name, const std::string &value, int64_t max_age_s, bool http_only, bool secure) {
  Poco::Net::HTTPCookie c(name, value);
  c.setPath("/");
  c.setHttpOnly(http_only);
  c.setSecure(secure);
  c.setSameSite(Poco::Net::HTTPCookie::SAME_SITE_STRICT);
  c.setMaxAge(static_cast<int>(max_age_s));
  return c.toString();
}

}  // namespace

std::string session_cookie(const Session &s, std::chrono::milliseconds ttl, bool secure) {
  return cookie(kSessionCookie, s.id, ttl.count() / 1000, true, secure);
}

// Readable by the console's script, which copies it into the X-CSRF-Token header.
std::string csrf_cookie(const Session &s, std::chrono::milliseconds ttl, bool secure) {
  return cookie(kCsrfCookie, s.csrf, ttl.count() / 1000, false, secure);
}

std::string expired_cookie(const std::string &name, bool secure) {
  return cookie(name, "", 0, name == kSessionCookie, secure);
}

bool reached_over_https(const std::string &x_forwarded_proto, const std::string &forwarded) {
  // The first proxy's word, the one nearest the browser: "https, http" came over https.
  auto first = [](const std::string &list) {
    std::string value = Poco::trim(list.substr(0, list.find(',')));
    return Poco::toLower(value);
  };
  if (!x_forwarded_proto.empty()) return first(x_forwarded_proto) == "https";
  // RFC 7239: Forwarded: for=192.0.2.60;proto=https;by=203.0.113.43
  Poco::StringTokenizer pairs(first(forwarded), ";", Poco::StringTokenizer::TOK_TRIM);
  for (const std::string &pair : pairs)
    if (pair == "proto=https" || pair == "proto=\"https\"") return true;
  return false;
}

}  // namespace cartwire::admin
