// Finds connector plugins in a directory; loads each library only while an instance needs it.
#pragma once

#include <atomic>
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
#include "plugins/thread_watch.hpp"

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
 * One version of a connector's library, loaded: it stays loaded while its
 * Plugin is the registry's and while an instance made of it lives, then is
 * unloaded, unless a thread its code started still runs, or a timer, a thread
 * key's destructor or a signal handler calls its code: it then stays loaded
 * until the process ends (ThreadWatch), and the log says so. A version loaded
 * beside another of its file (a new version put in place of one in use) is
 * read from a private copy in memory, so that the dynamic loader, which gives
 * the library it has for a path or a file, reads the new file.
 */
struct Library {
  Library() = default;
  Library(const Library &) = delete;
  Library &operator=(const Library &) = delete;
  ~Library();

  boost::dll::shared_library library;
  const cw_plugin_descriptor *descriptor = nullptr;
  const sdk::native::Entry *native = nullptr;
  std::string seam;
  std::string name;  // "<id> <version>" once an instance may use it
  mutable std::atomic<bool> retired = false;  // a reload let its version go: its unloading is logged
  std::string file;  // the file's canonical path, when the library was read from it
  int copy = -1;     // the private copy it was read from, held open while loaded; -1: the file itself
  std::shared_ptr<ThreadWatch> threads;  // the threads its code started, and what else calls it
};

/**
 * A connector that passed every check of the registry. Its manifest stays in
 * memory; its library is loaded only once an instance needs it, and from then
 * on until a reload puts a new version in its place (retire()); the instances
 * made of it keep it loaded until the last one is destroyed. Thread-safe.
 */
class Plugin {
 public:
  Plugin(std::string path, Manifest manifest, std::string build_key, std::optional<FileStamp> tried = std::nullopt,
         std::string digest = {})
      : path(std::move(path)), manifest(std::move(manifest)), build_key(std::move(build_key)),
        digest(std::move(digest)), tried_(tried) {}

  /**
   * The connector's library, loaded by the first call: loaded again and
   * checked as the registry did (entry point, ABI version, descriptor, the
   * same id and version; in a child process first only when the file is not
   * the one the registry tried there); throws std::runtime_error with the
   * reason when it no longer passes, or once a new version replaced this one.
   */
  std::shared_ptr<const Library> load() const;
  /** The connector's entry points (load()). */
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
  /** Whether its library is loaded: an instance needed it, and no new version replaced it. */
  bool in_use() const;
  /**
   * Whether its library is loaded for the plugin or for an instance still
   * living, or stays loaded for what it left calling its code (ThreadWatch).
   */
  bool loaded() const;
  /** Whether its library stays loaded until the process ends, for what it left calling its code. */
  bool kept() const;
  /** The file the registry read it from, as stat() told it then. */
  const std::optional<FileStamp> &read_from() const { return tried_; }
  /**
   * A new version took its place: load() refuses from now on, and the library
   * is unloaded once the last instance made of it is destroyed.
   */
  void retire() const;

  const std::string path;
  const Manifest manifest;
  const std::string build_key;
  const std::string digest;  // SHA-256 of the file as the registry read it (hex); "" when it could not be read

 private:
  const std::optional<FileStamp> tried_;  // the file the registry loaded in a child process
  mutable std::mutex mutex_;
  mutable std::shared_ptr<const Library> library_;
  mutable std::weak_ptr<const Library> last_;  // the library while anything holds it
  mutable std::shared_ptr<const ThreadWatch> threads_;  // the threads of the library it loaded
  mutable bool retired_ = false;
};

/**
 * What `now` runs in place of `was`, as the log says it: the earlier version,
 * or "an earlier build of it" (another file of the same version), or "the
 * same build" (its bytes, from another name).
 */
std::string earlier_build(const Plugin &was, const Plugin &now);

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
 * one (a new version). It must be the same connector (its id) and pass every
 * check, else it is rejected and the known version stays. The new version
 * takes the place of the known one at once, for whatever find() is asked
 * next; commit() then lets the replaced versions go (each is unloaded once
 * no instance uses it), or rollback() puts them back (a reload refused for
 * its configuration). A connector whose file is gone from the directory is
 * no longer found from then on either (removals()), and is let go or put
 * back alike; a new file of its id in another name is a new version of it,
 * and so is the file a link of the directory leads to once the link is moved
 * to another. A file with the bytes of the version read from its name (copied
 * again, touched) is not a new version. A file is hashed again only when
 * stat() tells it changed since it was hashed (see digest_at()).
 * A Plugin the registry no longer finds stays valid until the last instance
 * made of it is destroyed and then free_unloaded() (or a commit or rollback)
 * is called.
 */
class Registry {
 public:
  /**
   * Load every plugin in `dir` (sorted by file name). Safe to call again
   * (reload): known files are kept, a connector whose file is no longer
   * there is one of the removals(), and a rejected file no longer there is
   * not reported any more.
   */
  void load_dir(const std::string &dir);
  /** Load one file; returns the rejection reason, or "" when loaded. */
  std::string load_file(const std::string &path);
  /**
   * The versions the loads since the last commit or rollback replaced, and the
   * connectors whose file they found gone, are let go; a file put back later
   * is read as a new one.
   */
  void commit();
  /**
   * The versions the loads since the last commit or rollback replaced are put
   * back, and the new ones let go; the connectors whose file they found gone
   * are found again.
   */
  void rollback();
  /**
   * Frees the versions let go whose library is unloaded: no instance of them
   * lives, and none is made. Called by commit() and rollback(), and by the
   * owner once it has destroyed instances (a configuration it ran ended).
   */
  void free_unloaded();

  const Plugin *find(const std::string &id) const;
  std::vector<const Plugin *> plugins() const;
  /** The files rejected, each with the reason of its latest load. */
  const std::vector<Rejection> &rejected() const { return rejected_; }
  /** Versions a new one replaced whose library is still loaded: instances made of them still live. */
  std::vector<const Plugin *> finishing() const;
  /** Versions let go whose library stays loaded until the process ends, for what they left calling their code. */
  std::vector<const Plugin *> kept() const;
  /** Versions let go whose library is still loaded (finishing, or kept), in the order they were let go. */
  std::vector<const Plugin *> loaded_let_go() const;
  /** What the loads since the last commit or rollback replaced: the earlier version, and the new one. */
  struct Replacement {
    const Plugin *was;
    const Plugin *now;
  };
  const std::vector<Replacement> &replacements() const { return pending_; }
  /** The connectors whose file the loads since the last commit or rollback found gone, no new version in its place. */
  const std::vector<const Plugin *> &removals() const { return removed_; }

 private:
  bool removed(const Plugin *plugin) const;
  /**
   * SHA-256 of the file at `path` (hex; "" when it cannot be read), read
   * again only when stat() tells another file at `canonical` than the one
   * hashed last (its device, inode, size or time of modification). A file
   * written less than a second before it was read is read again each time:
   * written again within the same tick of the file system's clock, with the
   * same size, it would look the same to stat().
   */
  std::string digest_at(const std::string &path, const std::string &canonical, const std::optional<FileStamp> &stamp);
  /** After a commit or rollback: forgets the paths and frees the versions nothing uses any more (free_unloaded()). */
  void let_go();

  std::vector<std::unique_ptr<Plugin>> plugins_;
  std::vector<std::unique_ptr<Plugin>> replaced_;  // still used by the instances made before
  std::vector<Replacement> pending_;  // replaced since the last commit or rollback
  std::vector<const Plugin *> removed_;  // found gone since the last commit or rollback
  std::vector<Rejection> rejected_;
  std::map<std::string, const Plugin *> loaded_paths_;  // canonical path → the version read from it
  struct Hashed {
    FileStamp stamp;
    std::string digest;
  };
  std::map<std::string, Hashed> hashed_;  // canonical path → the file last hashed there, and its digest
};

/**
 * The versions a reload's loads put in place, let go by commit() once it runs
 * the new configuration; any other way out of the reload (refused, or failed
 * on the way: a store error while it validates, a connector that throws as it
 * is built) puts the earlier versions back (Registry::rollback()).
 */
class PendingVersions {
 public:
  explicit PendingVersions(Registry &registry) : registry_(registry) {}
  ~PendingVersions() {
    if (!committed_) registry_.rollback();
  }
  PendingVersions(const PendingVersions &) = delete;
  PendingVersions &operator=(const PendingVersions &) = delete;
  void commit() {
    registry_.commit();
    committed_ = true;
  }

 private:
  Registry &registry_;
  bool committed_ = false;
};

}  // namespace cartwire::plugins
