// Reading request bodies under a size limit, shared by the webhook and admin listeners.
#pragma once

#include <Poco/Net/HTTPServerRequest.h>

#include <cstddef>
#include <istream>
#include <string>

namespace cartwire::http {

enum class BodyRead {
  complete,
  /** The declared or actual size passes the limit: answer 413. */
  too_large,
  /** The client stopped sending (read timeout, closed connection) before the end: answer 400. */
  incomplete,
};

/** Whether the request announces a body (RFC 9112 6.3): without either header it has none. */
inline bool has_body(const Poco::Net::HTTPServerRequest &request) {
  return request.hasContentLength() || request.getChunkedTransferEncoding();
}

/** Reads the body of `request` into `out`, stopping as soon as it passes `max_bytes`. */
inline BodyRead read_body(Poco::Net::HTTPServerRequest &request, std::size_t max_bytes, std::string &out) {
  // Poco reads such a POST until the client closes; the client is waiting for the answer.
  if (!has_body(request)) return BodyRead::complete;
  if (request.hasContentLength() && request.getContentLength64() > static_cast<Poco::Int64>(max_bytes))
    return BodyRead::too_large;
  std::istream &in = request.stream();
  char buffer[8192];
  while (in) {
    in.read(buffer, sizeof buffer);
    out.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (out.size() > max_bytes) return BodyRead::too_large;
  }
  // A read error (timeout, reset, malformed chunk) sets badbit; a short fixed-length body ends early.
  if (in.bad() || (request.hasContentLength() && static_cast<Poco::Int64>(out.size()) < request.getContentLength64()))
    return BodyRead::incomplete;
  return BodyRead::complete;
}

/**
 * After answering 413, reads and drops what the client is still sending, up to
 * `limit` bytes, so that it sees the answer instead of a connection reset.
 * Beyond the limit the connection is closed regardless.
 */
inline void discard_rest(Poco::Net::HTTPServerRequest &request, std::size_t limit) {
  // A body declared larger than the limit is not waited for at all.
  if (!has_body(request) ||
      (request.hasContentLength() && request.getContentLength64() > static_cast<Poco::Int64>(limit)))
    return;
  std::istream &in = request.stream();
  char buffer[8192];
  std::size_t dropped = 0;
  while (in && dropped < limit) {
    in.read(buffer, sizeof buffer);
    dropped += static_cast<std::size_t>(in.gcount());
  }
}

}  // namespace cartwire::http
