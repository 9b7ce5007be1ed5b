// hub.yaml as the loader reads it. Bad input must end in ConfigError (with
// file:line diagnostics); anything else escaping, or any sanitizer report, is a bug.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const std::string path = "/tmp/cartwire-fuzz-hub-" + std::to_string(::getpid()) + ".yaml";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char *>(data), static_cast<std::streamsize>(size));
  }
  // Every ${VAR} resolves, so the fuzzer reaches past the environment check.
  auto env = [](const std::string &name) -> std::optional<std::string> {
    if (name == "UNSET") return std::nullopt;
    return "value-of-" + name;
  };
  try {
    cartwire::config::HubConfig cfg = cartwire::config::load_config(path, env);
    (void)cfg.rules.size();
  } catch (const cartwire::config::ConfigError &e) {
    (void)e.diagnostics().format();
  }
  return 0;
}
