#include "payload.hpp"

namespace cartwire::notifyurl {
namespace {

using sdk::Json;

std::string escape(const std::string &text) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0x0F];
    }
  }
  return out;
}

std::string scalar(const Json &value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "1" : "0";
  return sdk::json_text(value);
}

void append(std::string &out, const std::string &key, const Json &value) {
  if (value.is_null()) return;
  if (value.is_object()) {
    for (const auto &[name, child] : value.items()) append(out, key + "[" + name + "]", child);
    return;
  }
  if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) append(out, key + "[" + std::to_string(i) + "]", value[i]);
    return;
  }
  if (!out.empty()) out += '&';
  out += escape(key);
  out += '=';
  out += escape(scalar(value));
}

}  // namespace

std::string json_body(const Envelope &envelope) {
  // Built by hand because sdk::Json sorts keys, and the spec's order reads better.
  // Invalid UTF-8 from a source becomes U+FFFD rather than failing the delivery.
  return R"({"type":)" + sdk::json_text(envelope.type) + R"(,"timestamp":)" + sdk::json_text(envelope.timestamp) +
         R"(,"data":)" + sdk::json_text(*envelope.data) + "}";
}

std::string form_body(const Envelope &envelope) {
  std::string out;
  append(out, "type", envelope.type);
  append(out, "timestamp", envelope.timestamp);
  append(out, "data", *envelope.data);
  return out;
}

}  // namespace cartwire::notifyurl
