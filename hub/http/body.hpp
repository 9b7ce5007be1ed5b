// Reading request bodies under a size limit, shared by the webhook and admin listeners.
#pragma once

#include <Poco/Exception.h>
#include <Poco/String.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/HTTPServerSession.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <limits>
#include <string>

namespace cartwire::http {

enum class BodyRead {
  complete,
  /** The declared or actual size passes the limit: answer 413. */
  too_large,
  /** The client stopped sending (read timeout, closed connection) before the end: answer 400. */
  incomplete,
  /** The framing is broken (a Content-Length that is no number, a bad chunk): answer 400. */
  malformed,
};

/**
 * The raw bytes of a listener's connection. Poco's chunked decoder ends a body
 * at a malformed chunk-size line or at a connection closed mid-body exactly as
 * at its last chunk, so a cut-short body would pass for a whole one; chunked
 * bodies are decoded here from these bytes instead.
 */
class RawSource {
 public:
  virtual ~RawSource() = default;
  /** The next byte, or -1 at the end of the connection. Throws Poco::Exception on a timeout or reset. */
  virtual int raw_get() = 0;
  /** Up to `length` bytes; 0 or less at the end of the connection. Throws as raw_get(). */
  virtual int raw_read(char *buffer, std::streamsize length) = 0;
};

/** Whether the request announces a body (RFC 9112 6.3): without either header it has none. */
inline bool has_body(const Poco::Net::HTTPServerRequest &request) {
  return request.hasContentLength() || request.has(Poco::Net::HTTPMessage::TRANSFER_ENCODING);
}

/**
 * A Transfer-Encoding other than exactly one "chunked" ("gzip, chunked", two
 * header lines): the body's end cannot be found, and reading by another rule
 * than a proxy in front would split requests differently (smuggling).
 */
inline bool unframeable(const Poco::Net::HTTPServerRequest &request) {
  if (!request.has(Poco::Net::HTTPMessage::TRANSFER_ENCODING)) return false;
  int lines = 0;
  for (auto &[name, value] : request)
    if (Poco::icompare(name, Poco::Net::HTTPMessage::TRANSFER_ENCODING) == 0) ++lines;
  return lines != 1 || !request.getChunkedTransferEncoding();
}

/**
 * The declared Content-Length; -1 when it is not a number or when two
 * Content-Length lines disagree (RFC 9112 6.3: a proxy that read the other
 * one would split requests differently), INT64_MAX when it does not fit.
 */
inline int64_t declared_length(const Poco::Net::HTTPServerRequest &request) {
  const std::string &text = request.get(Poco::Net::HTTPMessage::CONTENT_LENGTH);
  if (text.empty()) return -1;
  for (auto &[name, value] : request)
    if (Poco::icompare(name, Poco::Net::HTTPMessage::CONTENT_LENGTH) == 0 && value != text) return -1;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    if (value > (std::numeric_limits<int64_t>::max() - (c - '0')) / 10) return std::numeric_limits<int64_t>::max();
    value = value * 10 + (c - '0');
  }
  return value;
}

/**
 * Set by read_body once it has read a body to its end, for the request the
 * calling thread serves. The listener clears it before each request and,
 * when a request that has a body ends without it, closes the connection:
 * kept alive, it would read that body as the next request.
 */
inline bool &body_read_to_end() {
  thread_local bool read = false;
  return read;
}

/** Whether `request` has a body to read (a Content-Length of 0 is none). */
inline bool body_to_read(const Poco::Net::HTTPServerRequest &request) {
  return has_body(request) && (request.getChunkedTransferEncoding() || declared_length(request) != 0);
}

inline RawSource *raw_source(Poco::Net::HTTPServerRequest &request) {
  auto *impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl *>(&request);
  return impl ? dynamic_cast<RawSource *>(&impl->session()) : nullptr;
}

/**
 * A chunked body (RFC 9112 7.1), strictly: each chunk's size line, its data
 * and CRLF, up to the zero-size chunk and the trailer's empty line. Past
 * `max_bytes` the rest is read and dropped, up to 4 x `max_bytes`, so that the
 * client sees the 413 rather than a reset.
 */
inline BodyRead read_chunked(RawSource &in, std::size_t max_bytes, std::string &out) {
  enum class Line { ok, end, malformed };
  std::string text;
  std::size_t framing = 0;  // size lines, extensions and trailers: bounded too
  constexpr std::size_t kMaxFraming = 64 * 1024;
  auto line = [&]() {
    text.clear();
    for (;;) {
      int c = in.raw_get();
      if (c < 0) return Line::end;
      if (c == '\n') {
        if (!text.empty() && text.back() == '\r') text.pop_back();
        return Line::ok;
      }
      if (text.size() >= 4096 || ++framing > kMaxFraming) return Line::malformed;
      text += static_cast<char>(c);
    }
  };
  const uint64_t drop_limit = 4 * static_cast<uint64_t>(max_bytes);
  uint64_t total = 0;
  char scratch[8192];
  try {
    for (;;) {
      if (Line l = line(); l != Line::ok) return l == Line::end ? BodyRead::incomplete : BodyRead::malformed;
      uint64_t size = 0;
      std::size_t i = 0;
      for (; i < text.size() && std::isxdigit(static_cast<unsigned char>(text[i])); ++i) {
        if (i >= 15) return BodyRead::malformed;
        char c = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
        size = size * 16 + static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
      }
      if (i == 0) return BodyRead::malformed;
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
      if (i < text.size() && text[i] != ';') return BodyRead::malformed;  // ';' starts a chunk extension
      if (size == 0) {
        for (;;) {  // trailer fields, up to an empty line
          if (Line l = line(); l != Line::ok) return l == Line::end ? BodyRead::incomplete : BodyRead::malformed;
          if (text.empty()) return total > max_bytes ? BodyRead::too_large : BodyRead::complete;
        }
      }
      total += size;
      if (total > max_bytes + drop_limit) return BodyRead::too_large;
      for (uint64_t left = size; left > 0;) {
        bool keep = total <= max_bytes;
        std::streamsize want = static_cast<std::streamsize>(std::min<uint64_t>(left, sizeof scratch));
        int n = in.raw_read(scratch, want);
        if (n <= 0) return BodyRead::incomplete;
        if (keep) out.append(scratch, static_cast<std::size_t>(n));
        left -= static_cast<uint64_t>(n);
      }
      if (total > max_bytes) out.clear();
      if (Line l = line(); l != Line::ok || !text.empty())
        return l == Line::end ? BodyRead::incomplete : BodyRead::malformed;
    }
  } catch (const Poco::Exception &) {
    return BodyRead::incomplete;  // timed out or reset
  }
}

/**
 * Reads the body of `request` into `out`, stopping as soon as it passes
 * `max_bytes`. A client that asked to hear "100 Continue" first hears it here,
 * unless the body it declares is too large.
 */
inline BodyRead read_body(Poco::Net::HTTPServerRequest &request, Poco::Net::HTTPServerResponse &response,
                          std::size_t max_bytes, std::string &out) {
  // Poco reads such a POST until the client closes; the client is waiting for the answer.
  if (!has_body(request)) return BodyRead::complete;
  if (unframeable(request)) return BodyRead::malformed;
  int64_t declared = -1;
  bool chunked = request.getChunkedTransferEncoding();  // chunked framing wins over a Content-Length (RFC 9112 6.3)
  // ... but a request with both is answered and the connection closed (RFC 9112 6.1).
  if (chunked && request.hasContentLength()) response.setKeepAlive(false);
  if (!chunked) {
    declared = declared_length(request);
    if (declared < 0) return BodyRead::malformed;
    if (declared > static_cast<int64_t>(max_bytes)) return BodyRead::too_large;
  }
  if (request.getExpectContinue() && response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK) response.sendContinue();
  BodyRead result;
  if (RawSource *raw = chunked ? raw_source(request) : nullptr) {
    result = read_chunked(*raw, max_bytes, out);
  } else {
    std::istream &in = request.stream();
    char buffer[8192];
    while (in && out.size() <= max_bytes) {
      in.read(buffer, sizeof buffer);
      out.append(buffer, static_cast<std::size_t>(in.gcount()));
    }
    // A read error (timeout, reset) sets badbit; a short fixed-length body ends early.
    if (out.size() > max_bytes) result = BodyRead::too_large;
    else if (in.bad() || (declared >= 0 && static_cast<int64_t>(out.size()) < declared)) result = BodyRead::incomplete;
    else result = BodyRead::complete;
  }
  body_read_to_end() = result == BodyRead::complete;
  return result;
}

/** JSON bodies nested deeper than this are refused: no cart sends more than a handful of levels. */
inline constexpr std::size_t kMaxJsonNesting = 64;

/**
 * Whether `body`, when it is JSON (its first character other than white space
 * is '{' or '['), nests arrays and objects deeper than `limit`. Reading,
 * copying and writing a JSON tree recurse once per level, so a body of a few
 * thousand '[' would end the process on a thread's stack.
 */
inline bool json_nested_deeper_than(const std::string &body, std::size_t limit) {
  std::size_t bom = body.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;  // JSON readers skip a UTF-8 BOM
  std::size_t start = body.find_first_not_of(" \t\r\n", bom);
  if (start == std::string::npos || (body[start] != '{' && body[start] != '[')) return false;
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = start; i < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return true;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return false;
}

/**
 * After answering 413, reads and drops what the client is still sending, up to
 * `limit` bytes, so that it sees the answer instead of a connection reset.
 * Beyond the limit the connection is closed regardless. (A chunked body read
 * by read_chunked was dropped there.)
 */
inline void discard_rest(Poco::Net::HTTPServerRequest &request, std::size_t limit) {
  // A body declared larger than the limit is not waited for at all.
  if (!has_body(request) || unframeable(request)) return;
  if (request.getChunkedTransferEncoding()) {
    if (raw_source(request)) return;
  } else if (int64_t declared = declared_length(request); declared < 0 || declared > static_cast<int64_t>(limit)) {
    return;
  }
  std::istream &in = request.stream();
  char buffer[8192];
  std::size_t dropped = 0;
  while (in && dropped < limit) {
    in.read(buffer, sizeof buffer);
    dropped += static_cast<std::size_t>(in.gcount());
  }
}

}  // namespace cartwire::http
