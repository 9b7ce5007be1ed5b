// ThriveCart webhook bodies as the connector reads them: a form (PHP bracket
// keys) or a JSON object, then normalised to canonical events. Malformed input
// may be refused with FormError; anything else escaping, or any sanitizer
// report, is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "form_decoder.hpp"
#include "normalizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace cartwire::thrivecart;
  std::string_view body(reinterpret_cast<const char *>(data), size);
  cartwire::sdk::Json payload;
  std::size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && body[first] == '{') {
    payload = cartwire::sdk::Json::parse(body, nullptr, false);
    if (!payload.is_object()) return 0;
  } else {
    try {
      payload = decode_form(body);
    } catch (const FormError &) {
      return 0;
    }
  }
  payload.erase("thrivecart_secret");
  for (auto &event : normalize(payload, {"acme", 1768471200})) (void)event.dump();
  return 0;
}
