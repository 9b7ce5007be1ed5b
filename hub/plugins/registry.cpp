#include "plugins/registry.hpp"

#include <Poco/DigestEngine.h>
#include <Poco/DigestStream.h>
#include <Poco/Logger.h>
#include <Poco/SHA2Engine.h>
#include <Poco/StreamCopier.h>

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

namespace cartwire::plugins {
namespace {

namespace fs = std::filesystem;

std::string abi_mismatch(const std::string &path, uint32_t found, const char *build_key) {
  return path + ": built for Cartwire plugin ABI " + std::to_string(found) + " (" +
         (build_key ? build_key : "unknown SDK") + "), but this hub accepts ABI " + std::to_string(CW_ABI_VERSION) +
         ". Rebuild the connector against the installed Cartwire SDK.";
}

// A library whose entry point threw stays loaded for the life of the process:
// the connector may have started threads or registered handlers before it failed;
// so does one that left a thread running, or a timer, a thread key or a signal
// handler calling its code (Library::~Library). Its file stays counted as
// loaded, and its copy stays open (its name, which the dynamic loader knows it
// by, is not given to another).
void keep_loaded(Library &loaded) {
  static std::mutex mutex;
  // Never destroyed: at the exit the threads run on while static objects are destroyed.
  static auto *kept = new std::vector<boost::dll::shared_library>;
  std::lock_guard lock(mutex);
  kept->push_back(std::move(loaded.library));
  loaded.file.clear();
  loaded.copy = -1;
}

// Why `path` is not a file to load (plugins.dir lists whatever ends in .so: a
// dangling link, a folder, a FIFO), or nullopt. Only files are read: reading a
// FIFO would wait for a writer.
std::optional<std::string> not_a_file(const std::string &path) {
  std::error_code ec, link_ec;
  fs::file_status status = fs::status(path, ec);
  if (fs::is_regular_file(status)) return std::nullopt;
  bool missing = status.type() == fs::file_type::not_found;
  if (missing && fs::is_symlink(fs::symlink_status(path, link_ec)))
    return path + ": is a symbolic link to " + fs::read_symlink(path, link_ec).string() +
           ", which does not exist. Point it at a connector, or remove it from plugins.dir.";
  if (missing) return std::nullopt;  // the loader says so
  if (fs::is_directory(status)) return path + ": is a directory, not a connector. Move it out of plugins.dir.";
  return path + ": is not a regular file" + (ec ? " (" + ec.message() + ")" : "") + ". Remove it from plugins.dir.";
}

// Why `path` cannot be mapped safely, or nullopt. The dynamic loader maps
// what the ELF headers describe and reads it: for a file cut short (a copy
// still under way) that read is past the end of the file, and the process gets
// SIGBUS. So the headers are checked against the file's size first.
std::optional<std::string> truncated(const std::string &path, const std::string &file) {
  std::ifstream in(file, std::ios::binary);
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  if (!in || ec) return std::nullopt;  // the loader reports what is wrong
  Elf64_Ehdr header{};
  if (!in.read(reinterpret_cast<char *>(&header), sizeof header) ||
      std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64)
    return std::nullopt;  // not a 64-bit ELF file: the loader says so
  auto reaches = [&](uint64_t offset, uint64_t count, uint64_t each) {
    return each != 0 && count > 0 && (offset > size || count > (size - offset) / each);
  };
  bool cut = reaches(header.e_phoff, header.e_phnum, header.e_phentsize) ||
             (header.e_shoff != 0 && reaches(header.e_shoff, header.e_shnum, header.e_shentsize));
  if (!cut && header.e_phentsize == sizeof(Elf64_Phdr)) {
    in.seekg(static_cast<std::streamoff>(header.e_phoff));
    for (int i = 0; i < header.e_phnum && !cut; ++i) {
      Elf64_Phdr ph{};
      if (!in.read(reinterpret_cast<char *>(&ph), sizeof ph)) cut = true;
      else cut = ph.p_type == PT_LOAD && (ph.p_offset > size || ph.p_filesz > size - ph.p_offset);
    }
  }
  if (!cut) return std::nullopt;
  return path + ": is cut short or damaged (its ELF headers describe more than its " + std::to_string(size) +
         " bytes; was it still being copied?). Copy the connector again; the hub runs on without it.";
}

// Whether nothing is at `path` any more: the file was removed or moved away (a dangling link is something).
bool gone(const std::string &path) {
  std::error_code ec;
  return fs::symlink_status(path, ec).type() == fs::file_type::not_found;
}

// Whether `a` and `b` name the same entry of a folder (not the file a link there leads to).
bool same_path(const std::string &a, const std::string &b) {
  std::error_code ec;
  return fs::absolute(a, ec).lexically_normal() == fs::absolute(b, ec).lexically_normal();
}

// SHA-256 of the file at `path` (hex), or "" when it is no file or cannot be read (a FIFO would wait for a writer).
std::string digest_of(const std::string &path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return {};
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  Poco::SHA2Engine sha(Poco::SHA2Engine::SHA_256);
  Poco::DigestOutputStream out(sha);
  Poco::StreamCopier::copyStream(in, out);
  out.close();
  if (in.bad()) return {};
  return Poco::DigestEngine::digestToHex(sha.digest());
}

std::optional<FileStamp> stamp_of(const std::string &path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileStamp{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), static_cast<int64_t>(st.st_size),
                   static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

// Why `path` cannot be loaded in this process, tried in a child process
// first, or nullopt. An exception escaping a static initialiser unwinds
// through the dynamic loader, which keeps its lock and leaves the library
// half set up; a crash or an exit() there ends the process. Neither can be
// undone in the hub. A child that is still loading after 10 s tells nothing:
// the library is then loaded here, as it would have been without the child.
std::optional<std::string> fails_to_load(const std::string &path, const std::string &file) {
  constexpr int kThrew = 70;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return std::nullopt;  // cannot tell: the load itself is the test
  pid_t child = fork();
  if (child < 0) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return std::nullopt;
  }
  if (child == 0) {
    dup2(pipe_fds[1], STDERR_FILENO);  // what terminate(), a sanitizer or the plugin says of its end
    prctl(PR_SET_DUMPABLE, 0);  // a crash here dumps no copy of the hub's memory, secrets and all
    // glibc declares dlopen noexcept, so a call to it gets no handler; called
    // through a pointer that is not, the exception reaches the one below.
    static void *(*volatile open_library)(const char *, int) = dlopen;
    try {
      if (void *lib = open_library(file.c_str(), RTLD_NOW | RTLD_LOCAL))
        if (auto entry = reinterpret_cast<cw_entry_point_fn>(dlsym(lib, CW_ENTRY_POINT))) {
          try {
            entry();
          } catch (...) {  // reported by the load in the hub
          }
        }
    } catch (const std::exception &e) {
      if (write(STDERR_FILENO, e.what(), std::strlen(e.what())) < 0) _exit(kThrew);
      _exit(kThrew);
    } catch (...) {
      _exit(kThrew);
    }
    _exit(0);
  }
  close(pipe_fds[1]);
  std::string said;
  char buffer[4096];
  bool ended = false;  // the child closed its end: it has exited, or is about to
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd readable{pipe_fds[0], POLLIN, 0};
    int ready = left.count() > 0 ? poll(&readable, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    ssize_t n = read(pipe_fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ended = n == 0;
      break;
    }
    if (said.size() < 4096) said.append(buffer, static_cast<std::size_t>(n));
  }
  close(pipe_fds[0]);
  int status = 0;
  while (ended) {  // it closed its stderr: it ends, or goes on without it until the limit
    pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) break;
    if (done < 0 && errno != EINTR) return std::nullopt;  // cannot tell: the load itself is the test
    if (std::chrono::steady_clock::now() >= deadline) ended = false;
    else std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // A child still loading after the limit hangs in an initialiser, or on a lock another thread held
  // at the fork (a reload while workers run): it tells nothing, and the load below is the test.
  if (!ended) {
    kill(child, SIGKILL);
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    Poco::Logger::get("plugins").warning(path + ": still loading after 10 s in a child process; loading it here");
    return std::nullopt;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  std::string text;  // on one line, spaces collapsed, at most 300 bytes
  for (char c : said) {
    bool space = c == ' ' || c == '\n' || c == '\r' || c == '\t';
    if (space && (text.empty() || text.back() == ' ')) continue;
    text += space ? ' ' : c;
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  const std::string fix = "Fix the connector's initialisation; the hub runs on without it.";
  if (WIFEXITED(status) && WEXITSTATUS(status) == kThrew)
    return path + ": threw while loading (" + (text.empty() ? "an exception that is no std::exception" : text) +
           "): a static object's constructor throws. " + fix;
  std::string how = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status)) + ", " +
                                              strsignal(WTERMSIG(status))
                                        : "exit status " + std::to_string(WEXITSTATUS(status));
  return path + ": ends the process that loads it (" + (text.empty() ? "" : text + "; ") + how +
         "): a static initialiser or the entry point crashes or exits. " + fix;
}

// Why the dynamic loader refused `path` and what to do, from the loader's message.
std::string cannot_load(const std::string &path, const std::string &file, std::string error) {
  if (error.rfind(file + ": ", 0) == 0) error.erase(0, file.size() + 2);
  // "libfoo.so.1: cannot open shared object file: ..." names a library the connector needs
  // (when the file itself cannot be opened, nothing stands before "cannot").
  if (error.find(": cannot open shared object file") != std::string::npos)
    return path + ": cannot be loaded (" + error + "). Check that every library it needs is installed (ldd " + path +
           ").";
  return path + ": cannot be loaded (" + error +
         "). Replace it with a connector built with the Cartwire SDK for this machine, or remove it from plugins.dir.";
}

// The canonical paths of the files a library is loaded from as they are (not
// a copy), each with how many: the dynamic loader gives that library for the
// path again, so another version of the file is read from a copy.
std::mutex direct_mutex;
std::map<std::string, int> &loaded_directly() {
  static std::map<std::string, int> paths;
  return paths;
}

bool is_loaded_directly(const std::string &canonical) {
  std::lock_guard lock(direct_mutex);
  return loaded_directly().count(canonical) > 0;
}

// A private copy of `path` in memory (a file descriptor), or -1 with `reason` set.
int copy_in_memory(const std::string &path, std::string &reason) {
  // Executable, as a kernel whose vm.memfd_noexec is 1 otherwise makes it (MFD_EXEC, Linux 6.3, which this
  // libc's headers do not name yet); a kernel before 6.3 refuses the flag, and every copy is executable there.
  constexpr unsigned kExecutable = 0x0010U;
  std::string name = fs::path(path).filename().string();
  int out = memfd_create(name.c_str(), MFD_CLOEXEC | kExecutable);
  if (out < 0 && errno == EINVAL) out = memfd_create(name.c_str(), MFD_CLOEXEC);
  std::error_code ec;
  if (out < 0) ec.assign(errno, std::generic_category());
  else fs::copy_file(path, "/proc/self/fd/" + std::to_string(out), fs::copy_options::overwrite_existing, ec);
  if (!ec) return out;
  reason = path + ": cannot be copied into memory to load it beside the version in use (" + ec.message() +
           "). Check that it can be read, or restart the hub to run it.";
  if (out >= 0) ::close(out);
  return -1;
}

// Loads `path` into `into` and checks its entry point, ABI version and
// descriptor; returns the descriptor, or nullptr with `reason` set. The child
// process is spared for the file `tried` names, loaded there already. While a
// library is loaded from the file itself, it is read from a private copy.
const cw_plugin_descriptor *open_connector(const std::string &path, Library &into, std::string &reason,
                                           const std::optional<FileStamp> &tried = std::nullopt) {
  if (auto problem = not_a_file(path)) {
    reason = *problem;
    return nullptr;
  }
  std::error_code ec;
  std::string canonical = fs::weakly_canonical(path, ec).string();
  // A link is loaded by the file it leads to: the dynamic loader gives the library it has for a name, which for
  // the link's would be the version it led to before it was moved.
  std::string file = fs::is_symlink(path, ec) ? canonical : path;
  if (is_loaded_directly(canonical)) {
    into.copy = copy_in_memory(path, reason);
    if (into.copy < 0) return nullptr;
    file = "/proc/self/fd/" + std::to_string(into.copy);
  }
  if (auto problem = truncated(path, file)) {
    reason = *problem;
    return nullptr;
  }
  if (!tried || stamp_of(path) != tried) {
    if (auto problem = fails_to_load(path, file)) {
      reason = *problem;
      return nullptr;
    }
  }
  boost::dll::shared_library &lib = into.library;
  boost::dll::fs::error_code failed;
  into.name = path;  // until its descriptor names it
  into.threads = std::make_shared<ThreadWatch>();
  {
    ThreadWatch::Loading loading(*into.threads);  // what its static initialisers start is its own
    lib.load(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, failed);
  }
  if (failed) {
    // Boost gives every failure the code EBADF ("Bad file descriptor"); the dynamic loader says why.
    const char *error = dlerror();
    reason = cannot_load(path, file, error ? error : failed.message());
    return nullptr;
  }
  into.threads->watch(lib.native());
  if (into.copy < 0) {
    std::lock_guard lock(direct_mutex);
    into.file = canonical;
    ++loaded_directly()[canonical];
  }
  if (!lib.has(CW_ENTRY_POINT)) {
    reason = path + ": is not a Cartwire connector: it does not export " CW_ENTRY_POINT
                    ". Build it with cartwire_add_connector() and CARTWIRE_CONNECTOR(...).";
    return nullptr;
  }
  const cw_plugin_descriptor *d = nullptr;
  try {
    d = lib.get<const cw_plugin_descriptor *()>(CW_ENTRY_POINT)();
  } catch (const std::exception &e) {
    reason = path + ": threw while starting (" + std::string(e.what()) +
             "). Fix the connector's initialisation; the hub runs on without it.";
    keep_loaded(into);
    return nullptr;
  } catch (...) {
    reason = path + ": threw while starting. Fix the connector's initialisation; the hub runs on without it.";
    keep_loaded(into);
    return nullptr;
  }
  if (!d) {
    reason = path + ": " CW_ENTRY_POINT " returned no descriptor. Fix the connector's registration.";
    return nullptr;
  }
  if (d->abi_version != CW_ABI_VERSION) {
    reason = abi_mismatch(path, d->abi_version, d->build_key);
    return nullptr;
  }
  if (!d->id || !d->version || !d->manifest_json || !d->on_create || !d->on_call || !d->on_destroy) {
    reason = path + ": its descriptor is incomplete (id, version, manifest and the three on_* functions are required). Rebuild it with the Cartwire SDK.";
    return nullptr;
  }
  into.name = std::string(d->id) + " " + d->version;
  return d;
}

// The plugin's native seam, when it was built with this hub's toolchain; else
// null, and `why` says what differs, so that its author can build to match.
const sdk::native::Entry *open_native(const boost::dll::shared_library &lib, std::string &why) {
  static const std::string kKey = CARTWIRE_NATIVE_KEY;
  if (kKey.empty()) {
    why = "this hub's toolchain has no native key";
    return nullptr;
  }
  if (!lib.has(CW_NATIVE_ENTRY_POINT)) {
    why = "it offers no native seam (built before SDK 1.5.0)";
    return nullptr;
  }
  const sdk::native::Entry *entry = lib.get<const sdk::native::Entry *()>(CW_NATIVE_ENTRY_POINT)();
  if (!entry || !entry->key || !entry->webhook || !entry->action) {
    why = "its native seam is incomplete";
    return nullptr;
  }
  if (entry->key != kKey) {
    why = "its native key \"" + std::string(entry->key) + "\" is not this hub's \"" + kKey + "\"";
    return nullptr;
  }
  return entry;
}

}  // namespace

std::string earlier_build(const Plugin &was, const Plugin &now) {
  if (was.manifest.version != now.manifest.version) return was.manifest.version;
  return was.digest == now.digest ? "the same build" : "an earlier build of it";
}

namespace {

// What a library left that calls its code, as the log says it: "1 thread running and 1 timer running".
std::string left_behind(const ThreadWatch::Left &left) {
  std::vector<std::string> parts;
  auto count = [&](int n, const char *one, const char *many, const char *doing) {
    if (n > 0) parts.push_back(std::to_string(n) + " " + (n == 1 ? one : many) + doing);
  };
  count(left.threads, "thread", "threads", " running");
  count(left.timers, "timer", "timers", " running");
  count(left.keys, "thread key", "thread keys", " with its destructor");
  count(left.handlers, "signal handler", "signal handlers", " installed");
  std::string said;
  for (size_t i = 0; i < parts.size(); ++i)
    said += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
  return said;
}

}  // namespace

Library::~Library() {
  // A thread its code started that runs on, or a timer, a thread key's destructor or a signal handler that calls
  // it, would run in unmapped code: the library stays loaded.
  ThreadWatch::Left left = threads && library.is_loaded() ? threads->left() : ThreadWatch::Left{};
  if (left.any()) {
    threads->keep();
    keep_loaded(*this);
    Poco::Logger::get("plugins").warning(
        "connector " + name + " left " + left_behind(left) + " after " + (descriptor ? "on_destroy" : "its loading") +
        "; its library stays loaded until the hub restarts. A connector stops in on_destroy every thread, timer, "
        "thread key and signal handler it starts (see docs/sdk.md).");
    return;
  }
  if (threads) threads->forget();
  library.unload();
  if (!file.empty()) {
    std::lock_guard lock(direct_mutex);
    if (--loaded_directly()[file] == 0) loaded_directly().erase(file);
  }
  if (copy >= 0) ::close(copy);
  if (retired) Poco::Logger::get("plugins").information("unloaded connector " + name + ": nothing uses it any more");
}

void Registry::load_dir(const std::string &dir) {
  auto &log = Poco::Logger::get("plugins");
  std::error_code ec;
  std::erase_if(rejected_, [&](const Rejection &r) { return r.path == dir; });  // as of this load
  if (!fs::is_directory(dir, ec)) {
    rejected_.push_back({dir, dir + ": plugins.dir is not a directory; no connectors were loaded. Set plugins.dir in hub.yaml to the folder holding the connector .so files."});
    log.error(rejected_.back().reason);
    return;
  }
  // A connector whose file is gone is no longer found, unless a new file of its id takes its place below.
  for (auto &p : plugins_)
    if (!removed(p.get()) && gone(p->path)) removed_.push_back(p.get());
  std::erase_if(rejected_, [](const Rejection &r) { return gone(r.path); });  // a file removed is reported no more
  std::erase_if(hashed_, [](auto &file) { return gone(file.first); });
  std::vector<fs::path> files;
  for (auto &entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".so") files.push_back(entry.path());  // whatever it is: see not_a_file
  std::sort(files.begin(), files.end());
  for (auto &file : files) {
    std::string reason = load_file(file.string());
    if (!reason.empty()) log.error("plugin rejected: " + reason);
  }
}

std::string Registry::load_file(const std::string &path) {
  std::error_code ec;
  std::string canonical = fs::weakly_canonical(path, ec).string();
  std::optional<FileStamp> stamp = stamp_of(path);  // before the tries: a file written meanwhile is tried again
  std::erase_if(rejected_, [&](const Rejection &r) { return r.path == path; });  // as of this load
  auto reject = [&](std::string reason) {
    rejected_.push_back({path, reason});
    return reason;
  };
  // A new file in place of a known one: a new version of that connector, which takes its place once it passes.
  std::vector<std::unique_ptr<Plugin>>::iterator known = plugins_.end();
  if (auto was = loaded_paths_.find(canonical); was != loaded_paths_.end()) {
    known = std::find_if(plugins_.begin(), plugins_.end(), [&](auto &p) { return p.get() == was->second; });
    if (known == plugins_.end() || (*known)->read_from() == stamp) return {};
  }
  // A link of plugins.dir moved to another file (acme.so -> acme-1.3.so): a new version of the connector read through it.
  if (known == plugins_.end())
    known = std::find_if(plugins_.begin(), plugins_.end(), [&](auto &p) { return same_path(p->path, path); });
  std::string digest = digest_at(path, canonical, stamp);
  // The bytes of the version read from this name, copied again or touched: the connector it runs.
  if (known != plugins_.end() && !digest.empty() && digest == (*known)->digest) return {};
  std::string keeps = known == plugins_.end() ? "" : " The hub keeps running connector " + (*known)->manifest.id +
                                                         " " + (*known)->manifest.version + ".";

  // Unloaded when this returns: a connector no instance uses needs only its manifest.
  Library library;
  std::string reason;
  const cw_plugin_descriptor *d = open_connector(path, library, reason);
  if (!d) return reject(reason + keeps);

  std::string error;
  auto manifest = Manifest::parse(d->manifest_json, error);
  if (!manifest) return reject(path + ": bad manifest: " + error + ". Fix the connector's manifest.json." + keeps);
  if (manifest->id != d->id)
    return reject(path + ": bad manifest: id \"" + manifest->id + "\" differs from the descriptor id \"" + d->id +
                  "\"." + keeps);
  if (known != plugins_.end() && manifest->id != (*known)->manifest.id)
    return reject(path + ": now holds connector " + manifest->id + " " + manifest->version + ", not a version of " +
                  (*known)->manifest.id + ". Put " + manifest->id + " in a file of its own." + keeps);
  if (known == plugins_.end()) {  // a new file of a connector whose file is gone: a new version of it
    auto gone = std::find_if(removed_.begin(), removed_.end(), [&](auto *p) { return p->manifest.id == manifest->id; });
    if (gone != removed_.end())
      known = std::find_if(plugins_.begin(), plugins_.end(), [&](auto &p) { return p.get() == *gone; });
  }
  const Plugin *existing = find(manifest->id);
  if (existing && known == plugins_.end()) {
    return reject(path + ": duplicate connector id \"" + manifest->id + "\", already loaded from " + existing->path +
                  ". Remove one of the two files from plugins.dir.");
  }

  auto plugin = std::make_unique<Plugin>(path, std::move(*manifest), d->build_key ? d->build_key : "", stamp,
                                         std::move(digest));
  for (auto &note : plugin->manifest.unknown_keys)
    Poco::Logger::get("plugins").warning("connector " + plugin->manifest.id + ": " + note);
  loaded_paths_[canonical] = plugin.get();
  if (known == plugins_.end()) {
    Poco::Logger::get("plugins").information("loaded connector " + plugin->manifest.id + " " +
                                             plugin->manifest.version + " from " + path);
    plugins_.push_back(std::move(plugin));
    return {};
  }
  Poco::Logger::get("plugins").information("loaded connector " + plugin->manifest.id + " " +
                                           plugin->manifest.version + " from " + path + " in place of " +
                                           earlier_build(**known, *plugin) +
                                           ((*known)->path == path ? "" : " from " + (*known)->path));
  std::erase(removed_, known->get());
  pending_.push_back({known->get(), plugin.get()});
  replaced_.push_back(std::move(*known));
  *known = std::move(plugin);
  return {};
}

std::string Registry::digest_at(const std::string &path, const std::string &canonical,
                                const std::optional<FileStamp> &stamp) {
  if (auto was = hashed_.find(canonical); stamp && was != hashed_.end() && was->second.stamp == *stamp)
    return was->second.digest;
  std::string digest = digest_of(path);
  // Noted only for a file unchanged while it was read, and written a second ago or more: one written again
  // within the same tick of the file system's clock, with the same size, would look the same to stat().
  int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  if (stamp && !digest.empty() && stamp_of(path) == stamp && stamp->modified_ns < now_ns - 1'000'000'000)
    hashed_[canonical] = {*stamp, digest};
  else
    hashed_.erase(canonical);
  return digest;
}

void Registry::commit() {
  for (auto &r : pending_) r.was->retire();
  pending_.clear();
  for (const Plugin *gone : removed_) {
    auto slot = std::find_if(plugins_.begin(), plugins_.end(), [&](auto &p) { return p.get() == gone; });
    gone->retire();
    replaced_.push_back(std::move(*slot));
    plugins_.erase(slot);
  }
  removed_.clear();
  let_go();
}

void Registry::rollback() {
  for (auto r = pending_.rbegin(); r != pending_.rend(); ++r) {
    auto now = std::find_if(plugins_.begin(), plugins_.end(), [&](auto &p) { return p.get() == r->now; });
    auto was = std::find_if(replaced_.begin(), replaced_.end(), [&](auto &p) { return p.get() == r->was; });
    if (now == plugins_.end() || was == replaced_.end()) continue;
    std::unique_ptr<Plugin> next = std::move(*now);
    for (auto &[path, read] : loaded_paths_)
      if (read == next.get()) read = was->get();  // its file is read again by the next load
    *now = std::move(*was);
    replaced_.erase(was);
    next->retire();
    Poco::Logger::get("plugins").information("connector " + next->manifest.id + " " + next->manifest.version +
                                             " is not used: the reload was refused; " + (*now)->manifest.version +
                                             " runs on");
    replaced_.push_back(std::move(next));
  }
  pending_.clear();
  removed_.clear();
  let_go();
}

void Registry::let_go() {
  // A path no version the registry finds was read from is a new file when one is put there.
  std::erase_if(loaded_paths_, [&](auto &entry) {
    return std::none_of(plugins_.begin(), plugins_.end(), [&](auto &p) { return p.get() == entry.second; });
  });
  free_unloaded();
}

void Registry::free_unloaded() {
  // A version let go whose library is unloaded is needed no more: no instance of it lives, and none is made.
  std::erase_if(replaced_, [](auto &p) { return !p->loaded(); });
}

bool Registry::removed(const Plugin *plugin) const {
  return std::find(removed_.begin(), removed_.end(), plugin) != removed_.end();
}

std::shared_ptr<const Library> Plugin::load() const {
  std::lock_guard lock(mutex_);
  if (retired_)
    throw std::runtime_error("connector " + manifest.id + " " + manifest.version + " was replaced by a new version");
  if (library_) return library_;
  auto library = std::make_shared<Library>();
  std::string reason;
  const cw_plugin_descriptor *d = open_connector(path, *library, reason, tried_);
  if (!d) throw std::runtime_error(reason);
  if (d->id != manifest.id || d->version != manifest.version)
    throw std::runtime_error(path + ": now holds connector " + d->id + " " + d->version + ", not the " + manifest.id +
                             " " + manifest.version + " the hub read from it; reload the hub to use the new file.");
  std::string why;
  library->descriptor = d;
  library->native = open_native(library->library, why);
  library->seam = library->native ? "built with this hub's toolchain: native calls available"
                                  : "built with another toolchain or SDK: JSON calls (" + why + ")";
  library->name = manifest.id + " " + manifest.version;
  Poco::Logger::get("plugins").information("connector " + manifest.id + ": " + library->seam);
  library_ = library;
  last_ = library;
  threads_ = library->threads;
  return library_;
}

const cw_plugin_descriptor &Plugin::descriptor() const { return *load()->descriptor; }

const sdk::native::Entry *Plugin::native() const { return load()->native; }

std::string Plugin::seam() const { return load()->seam; }

bool Plugin::in_use() const {
  std::lock_guard lock(mutex_);
  return library_ != nullptr;
}

bool Plugin::loaded() const {
  std::lock_guard lock(mutex_);
  return !last_.expired() || (threads_ && threads_->kept());
}

bool Plugin::kept() const {
  std::lock_guard lock(mutex_);
  return last_.expired() && threads_ && threads_->kept();
}

void Plugin::retire() const {
  std::shared_ptr<const Library> library;  // let go of outside the lock: it may be the last
  std::lock_guard lock(mutex_);
  retired_ = true;
  if (library_) library_->retired = true;
  library = std::move(library_);
}

std::vector<const Plugin *> Registry::finishing() const {
  std::vector<const Plugin *> out;
  for (auto &p : replaced_)
    if (p->loaded() && !p->kept()) out.push_back(p.get());
  return out;
}

std::vector<const Plugin *> Registry::kept() const {
  std::vector<const Plugin *> out;
  for (auto &p : replaced_)
    if (p->kept()) out.push_back(p.get());
  return out;
}

std::vector<const Plugin *> Registry::loaded_let_go() const {
  std::vector<const Plugin *> out;
  for (auto &p : replaced_)
    if (p->loaded()) out.push_back(p.get());
  return out;
}

const Plugin *Registry::find(const std::string &id) const {
  for (auto &p : plugins_)
    if (p->manifest.id == id && !removed(p.get())) return p.get();
  return nullptr;
}

std::vector<const Plugin *> Registry::plugins() const {
  std::vector<const Plugin *> out;
  for (auto &p : plugins_)
    if (!removed(p.get())) out.push_back(p.get());
  return out;
}

}  // namespace cartwire::plugins
