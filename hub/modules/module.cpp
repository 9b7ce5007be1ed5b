#include "modules/module.hpp"

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace cartwire::modules {

void *symbol(const char *file, const char *symbol, const char *what) {
  static std::mutex mutex;
  static auto &loaded = *new std::map<std::string, boost::dll::shared_library>;
  std::lock_guard lock(mutex);
  auto it = loaded.find(file);
  if (it == loaded.end()) {
    boost::dll::fs::path bin = boost::dll::program_location().parent_path();
    std::vector<boost::dll::fs::path> candidates;
    for (const char *dir : {CARTWIRE_MODULE_DIRS}) candidates.push_back((bin / dir / file).lexically_normal());
    auto found = std::find_if(candidates.begin(), candidates.end(), [](const boost::dll::fs::path &p) {
      boost::dll::fs::error_code ec;
      return boost::dll::fs::exists(p, ec);
    });
    if (found == candidates.end()) {
      std::string looked;
      for (auto &candidate : candidates) looked += (looked.empty() ? "" : " nor ") + candidate.string();
      throw std::runtime_error(std::string(what) + " module " + file + " could not be loaded: it is neither " + looked +
                               ". Reinstall the hub.");
    }
    boost::dll::shared_library library;
    try {
      library.load(*found, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception &e) {
      throw std::runtime_error(std::string(what) + " module " + found->string() + " could not be loaded: " + e.what());
    }
    it = loaded.emplace(file, std::move(library)).first;
  }
  if (!it->second.has(symbol))
    throw std::runtime_error(std::string(what) + " module " + file + " has no " + symbol + ". Reinstall the hub.");
  return &it->second.get<char>(symbol);
}

}  // namespace cartwire::modules
