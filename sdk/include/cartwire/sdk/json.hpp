/**
 * @file json.hpp
 * The JSON type of the SDK.
 *
 * Everything the hub and a connector exchange is JSON; the SDK uses
 * nlohmann::json (Debian: nlohmann-json3-dev) and names it `cartwire::sdk::Json`.
 */
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace cartwire::sdk {

/** A JSON value. Objects keep keys sorted, which keeps output stable. */
using Json = nlohmann::json;

/**
 * The object at `key`, or an empty object. Returns a reference into `j` (or
 * to a static empty object), so it can be iterated safely: iterating
 * `j.value(key, Json::object()).items()` would walk a destroyed temporary.
 */
inline const Json &object_at(const Json &j, const char *key) {
  static const Json empty = Json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : empty;
}

/**
 * Whether `text` is well-formed UTF-8 (RFC 3629: shortest forms, no
 * surrogates, nothing past U+10FFFF), the only text JSON carries.
 */
inline bool is_utf8(std::string_view text) {
  std::size_t i = 0, n = text.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (length == 0 || i + length > n) return false;
    char32_t point = c & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      point = (point << 6) | (next & 0x3F);
    }
    if ((length == 3 && (point < 0x800 || (point >= 0xD800 && point <= 0xDFFF))) ||
        (length == 4 && (point < 0x10000 || point > 0x10FFFF)))
      return false;
    i += length;
  }
  return true;
}

/**
 * `json` as text. A Json holding a string that is not UTF-8 (an answer in
 * Latin-1, a cut inside a character, a client's bytes) cannot be written out
 * by dump(): here such bytes become U+FFFD.
 */
inline std::string json_text(const Json &json) { return json.dump(-1, ' ', false, Json::error_handler_t::replace); }

/** `text` as UTF-8, bytes that are not becoming U+FFFD; text that is UTF-8 already is returned as it is. */
inline std::string valid_utf8(std::string text) {
  if (is_utf8(text)) return text;
  return Json::parse(json_text(Json(text))).get<std::string>();
}

/** `{"error": reason}` as text: the reason may quote what was sent. */
inline std::string error_text(const std::string &reason) { return json_text(Json{{"error", reason}}); }

/** A request body read as a JSON object: the object, or why it is not one. */
struct JsonObjectBody {
  std::optional<Json> object;
  /** For a 400 answer; never quotes the body, which may hold a secret. */
  std::string error;
};

/**
 * A webhook's body that must be a JSON object; one of only white space is an
 * empty object. Syntax errors name their byte, not the text around it (the
 * JSON library's own message quotes it), and a number too large to read
 * (1e400) is an error rather than an exception.
 */
inline JsonObjectBody parse_json_object(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return {Json::object(), {}};
  try {
    Json parsed = Json::parse(body);
    if (!parsed.is_object()) return {std::nullopt, std::string("JSON body must be an object, got ") + parsed.type_name()};
    return {std::move(parsed), {}};
  } catch (const Json::parse_error &e) {
    return {std::nullopt, "body is not valid JSON (syntax error at byte " + std::to_string(e.byte) + ")"};
  } catch (const Json::out_of_range &) {
    return {std::nullopt, "body holds a number too large to read (such as 1e400)"};
  }
}

}  // namespace cartwire::sdk
