// Loads connector plugins from a directory and keeps them loaded for the life of the process.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/dll/shared_library.hpp>
#include <cartwire/sdk/abi.h>

#include "plugins/manifest.hpp"

namespace cartwire::plugins {

struct Plugin {
  std::string path;
  const cw_plugin_descriptor *descriptor = nullptr;
  Manifest manifest;
  std::string build_key;
};

struct Rejection {
  std::string path;
  std::string reason;  // names the cause and what to do
};

/**
 * Every *.so in a directory is loaded with RTLD_NOW | RTLD_LOCAL, checked
 * (entry point, ABI version, manifest, unique id) and either kept or
 * rejected with a reason. A rejected plugin never stops the others.
 * Libraries are never unloaded: a connector may have started threads or
 * registered handlers that outlive any instance.
 */
class Registry {
 public:
  /** Load every plugin in `dir` (sorted by file name). Safe to call again (reload): known files are kept. */
  void load_dir(const std::string &dir);
  /** Load one file; returns the rejection reason, or "" when loaded. */
  std::string load_file(const std::string &path);

  const Plugin *find(const std::string &id) const;
  std::vector<const Plugin *> plugins() const;
  const std::vector<Rejection> &rejected() const { return rejected_; }

 private:
  std::vector<std::unique_ptr<Plugin>> plugins_;
  std::vector<boost::dll::shared_library> libraries_;
  std::vector<Rejection> rejected_;
  std::map<std::string, std::string> loaded_paths_;  // canonical path → id
};

}  // namespace cartwire::plugins
