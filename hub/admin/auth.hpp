// Who may use the admin listener: a Bearer token, or a login session (cookie)
// whose state-changing requests carry the session's CSRF token in a header.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace cartwire::admin {

inline constexpr const char *kSessionCookie = "cartwire_session";
inline constexpr const char *kCsrfCookie = "cartwire_csrf";
inline constexpr const char *kCsrfHeader = "x-csrf-token";

/** `bytes` random bytes from the system's CSPRNG, as hex. */
std::string random_token(std::size_t bytes = 32);

struct Session {
  std::string id;
  std::string csrf;
  int64_t expires_at = 0;  // ms
};

/** Login sessions, in memory: a restart logs everyone out, which is fine for an admin console. */
class Sessions {
 public:
  /** At most this many live sessions; the one closest to expiry makes room. */
  static constexpr std::size_t kMaxSessions = 256;

  Sessions(std::chrono::milliseconds ttl, std::function<int64_t()> clock_ms);
  Session create();
  /** The live session with this id; expired ones are forgotten here. */
  std::optional<Session> find(const std::string &id);
  void remove(const std::string &id);
  std::size_t size();
  std::chrono::milliseconds ttl() const { return ttl_; }

 private:
  std::chrono::milliseconds ttl_;
  std::function<int64_t()> clock_ms_;
  std::mutex mutex_;
  std::map<std::string, Session> sessions_;
};

/**
 * Wrong admin tokens per client address. Ten within a minute refuse that
 * address every token, right or wrong, for a minute: guessing then takes
 * years even for a short token, and a console that is open to the network
 * is not an easy target. Behind a proxy every client shares its address.
 */
class WrongTokens {
 public:
  static constexpr int kAllowed = 10;
  static constexpr std::chrono::milliseconds kWindow = std::chrono::minutes(1);
  /** At most this many addresses are remembered; the oldest record makes room, refusals last. */
  static constexpr std::size_t kMaxAddresses = 4096;

  explicit WrongTokens(std::function<int64_t()> clock_ms);
  /** How long, in ms, the address is refused still; 0 when it may try. */
  int64_t refused_for(const std::string &address);
  /** Counts one wrong token; true when it is the one that refuses the address. */
  bool count(const std::string &address);

 private:
  struct Record {
    int wrong = 0;
    int64_t since = 0;  // ms: the first wrong token of this window
    int64_t refused_until = 0;
  };
  std::function<int64_t()> clock_ms_;
  std::mutex mutex_;
  std::map<std::string, Record> records_;
};

struct AuthResult {
  enum class Via { none, bearer, session };
  int status = 0;  // 0: allowed; else 401 or 403
  std::string reason;
  Via via = Via::none;
  std::optional<Session> session;
  bool allowed() const { return status == 0; }
};

/**
 * Decide one request. An Authorization header must be "Bearer <token>" with
 * the admin token (and then no CSRF token is needed: browsers never add that
 * header by themselves). Otherwise the session cookie must name a live
 * session, and methods other than GET and HEAD must send that session's
 * CSRF token in X-CSRF-Token.
 */
AuthResult authorize(const std::string &method, const std::string &authorization, const std::string &session_cookie,
                     const std::string &csrf_header, const std::string &token, Sessions &sessions);

/**
 * Set-Cookie values that start a session, and ones that end it. `secure`: the
 * console was reached over https (through a proxy), so the cookies are marked
 * Secure and a browser never sends them over plain http.
 */
std::string session_cookie(const Session &s, std::chrono::milliseconds ttl, bool secure);
std::string csrf_cookie(const Session &s, std::chrono::milliseconds ttl, bool secure);
std::string expired_cookie(const std::string &name, bool secure);

/** Whether a proxy in front said the request came over https (X-Forwarded-Proto, or Forwarded's proto=). */
bool reached_over_https(const std::string &x_forwarded_proto, const std::string &forwarded);

}  // namespace cartwire::admin
