// SamCart Notify URL posts: any JSON object goes through the normaliser.
// Anything escaping it, or any sanitizer report, is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "normalizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace cartwire::samcart;
  auto payload = cartwire::sdk::Json::parse(std::string_view(reinterpret_cast<const char *>(data), size), nullptr, false);
  if (!payload.is_object()) return 0;
  static const Catalog catalog{"USD", {{"1001", "product"}, {"2002", "bump"}, {"3003", "upsell"}}};
  Normalized out = normalize(payload, {catalog, 1768471200});
  for (auto &event : out.events) (void)event.dump();
  return 0;
}
