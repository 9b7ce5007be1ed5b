// Finds connector plugins in a directory; loads each library only while an instance needs it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/dll/shared_library.hpp>
#include <cartwire/sdk/abi.h>
#include <cartwire/sdk/connector.hpp>

#include "plugins/manifest.hpp"

namespace cartwire::plugins {

/** The file a path names, as stat() tells it apart from a new one written or moved there. */
struct FileStamp {
  uint64_t device = 0;
  uint64_t inode = 0;
  int64_t size = 0;
  int64_t modified_ns = 0;
  bool operator==(const FileStamp &) const = default;
};

/**
 * A connector that passed every check of the registry. Its manifest stays in
 * memory; its library is loaded only once an instance needs it, and from then
 * on for the life of the process: a connector may have started threads or
 * registered handlers that outlive any instance. Thread-safe.
 */
class Plugin {
 public:
  Plugin(std::string path, Manifest manifest, std::string build_key, std::optional<FileStamp> tried = std::nullopt)
      : path(std::move(path)), manifest(std::move(manifest)), build_key(std::move(build_key)), tried_(tried) {}

  /**
   * The connector's entry points. The first call loads the library again and
   * checks it as the registry did (entry point, ABI version, descriptor, the
   * same id and version; in a child process first only when the file is not
   * the one the registry tried there); throws std::runtime_error with the
   * reason when it no longer passes.
   */
  const cw_plugin_descriptor &descriptor() const;
  /**
   * The connector's native seam (see CARTWIRE_NATIVE_KEY), loaded with the
   * descriptor: null unless the plugin offers it with this hub's key.
   */
  const sdk::native::Entry *native() const;
  /**
   * Which seam the hub calls the connector through, as its log says, and for
   * the JSON seam why: its native key and the hub's, when they differ.
   */
  std::string seam() const;
  /** Whether its library is loaded: an instance needed it. It then stays loaded (see above). */
  bool in_use() const;
  /** The file the registry read it from, as stat() told it then. */
  const std::optional<FileStamp> &read_from() const { return tried_; }

  const std::string path;
  const Manifest manifest;
  const std::string build_key;

 private:
  const std::optional<FileStamp> tried_;  // the file the registry loaded in a child process
  mutable std::mutex mutex_;
  mutable boost::dll::shared_library library_;
  mutable const cw_plugin_descriptor *descriptor_ = nullptr;
  mutable const sdk::native::Entry *native_ = nullptr;
  mutable std::string seam_;
};

struct Rejection {
  std::string path;
  std::string reason;  // names the cause and what to do
};

/**
 * Every *.so in a directory is loaded with RTLD_NOW | RTLD_LOCAL, checked
 * (entry point, ABI version, manifest, unique id) and either kept or
 * rejected with a reason. A rejected plugin never stops the others. A kept
 * plugin's library is unloaded again once its manifest is read: connectors
 * no instance uses cost no memory (Plugin::descriptor() loads it on demand).
 *
 * Loading a directory again (a reload) reads a file put in place of a known
 * one (a new version) again, unless its connector is in use: a library stays
 * loaded, and the dynamic loader gives the loaded one for its path, so that
 * one takes a restart, as restart_needed() says. A Plugin the registry no
 * longer finds stays valid for the life of the registry.
 */
class Registry {
 public:
  /** Load every plugin in `dir` (sorted by file name). Safe to call again (reload): known files are kept. */
  void load_dir(const std::string &dir);
  /** Load one file; returns the rejection reason, or "" when loaded. */
  std::string load_file(const std::string &path);

  const Plugin *find(const std::string &id) const;
  std::vector<const Plugin *> plugins() const;
  /** The files rejected, each with the reason of its latest load. */
  const std::vector<Rejection> &rejected() const { return rejected_; }
  /** Files put in place of a connector in use, as of the last load: each with what to do. */
  std::vector<Rejection> restart_needed() const;

 private:
  std::vector<std::unique_ptr<Plugin>> plugins_;
  std::vector<std::unique_ptr<Plugin>> replaced_;  // still used by the instances made before
  std::map<std::string, std::string> restart_needed_;  // path → why
  std::vector<Rejection> rejected_;
  std::map<std::string, std::string> loaded_paths_;  // canonical path → id
};

}  // namespace cartwire::plugins
