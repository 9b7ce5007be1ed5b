#include <gtest/gtest.h>

#include <Poco/AutoPtr.h>
#include <Poco/Logger.h>
#include <Poco/StreamChannel.h>
#include <cartwire/sdk/abi.h>
#include <cartwire/sdk/connector.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "../../tests/support/eventually.hpp"
#include "app/live_hub.hpp"
#include "config/config.hpp"
#include "plugins/instance.hpp"
#include "plugins/manifest.hpp"
#include "plugins/rate_gate.hpp"
#include "plugins/redactor.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CARTWIRE_TELLS_FREED 1
#endif
#elif defined(__SANITIZE_ADDRESS__)
#define CARTWIRE_TELLS_FREED 1
#endif
#ifdef CARTWIRE_TELLS_FREED
#include <sanitizer/allocator_interface.h>
#endif

using namespace cartwire::plugins;
using cartwire::testing::eventually;

namespace {

std::string fixture(const std::string &name) { return std::string(FIXTURE_PLUGIN_DIR) + "/" + name + ".so"; }

std::string load_reason(Registry &registry, const std::string &name) { return registry.load_file(fixture(name)); }

/** Whether this process has `path` mapped. */
bool mapped(const std::string &path) {
  std::ifstream in("/proc/self/maps");
  for (std::string line; std::getline(in, line);)
    if (line.find(path) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(Registry, LoadsAGoodPlugin) {
  Registry r;
  EXPECT_EQ(load_reason(r, "good"), "");
  const Plugin *p = r.find("good");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->manifest.version, "1.2.3");
  ASSERT_NE(p->manifest.action("echo"), nullptr);
  EXPECT_TRUE(p->manifest.setting("token")->secret);
  EXPECT_EQ(p->build_key, std::string("cartwire-sdk ") + CARTWIRE_SDK_VERSION);
}

TEST(Registry, LoadsTheLibraryOnlyOnceAnInstanceNeedsIt) {
  Registry r;
  ASSERT_EQ(load_reason(r, "good"), "");
  const Plugin *p = r.find("good");
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(mapped(fixture("good")));
  HostServices services;
  services.clock_ms = [] { return int64_t{0}; };
  {
    Instance instance(*p, "lab", {{"token", "t0ken-for-the-test"}}, services, Redactor{});
    EXPECT_TRUE(mapped(fixture("good")));
    CallLog log;
    cartwire::sdk::ActionRequest request;
    request.action = "echo";
    request.params = {{"text", "hi"}};
    EXPECT_EQ(instance.action(request, log).outcome, cartwire::sdk::Outcome::ok);
  }
  // Once used it stays: a connector may have left threads or handlers behind.
  EXPECT_TRUE(mapped(fixture("good")));
  EXPECT_EQ(&p->descriptor(), &p->descriptor());
}

TEST(Registry, AConnectorThatNoLongerLoadsFailsItsInstanceWithTheReason) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("cartwire-registry-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::copy_file(fixture("good"), dir / "good.so", fs::copy_options::overwrite_existing);
  Registry r;
  ASSERT_EQ(r.load_file((dir / "good.so").string()), "");
  const Plugin *p = r.find("good");
  ASSERT_NE(p, nullptr);
  // Replaced (a new file, as an install does) by a connector that fails its checks.
  fs::remove(dir / "good.so");
  fs::copy_file(fixture("wrong_abi"), dir / "good.so");
  HostServices services;
  try {
    Instance instance(*p, "lab", {{"token", "t0ken-for-the-test"}}, services, Redactor{});
    ADD_FAILURE() << "the instance was created";
  } catch (const std::runtime_error &e) {
    EXPECT_EQ(std::string(e.what()), (dir / "good.so").string() +
                                         ": built for Cartwire plugin ABI 99 (cartwire-sdk 99.0.0), but this hub accepts "
                                         "ABI " + std::to_string(CW_ABI_VERSION) +
                                         ". Rebuild the connector against the installed Cartwire SDK.");
  }
  // Fixed again: the next instance loads it.
  fs::remove(dir / "good.so");
  fs::copy_file(fixture("good_copy"), dir / "good.so");
  EXPECT_NO_THROW(Instance(*p, "lab", {{"token", "t0ken-for-the-test"}}, services, Redactor{}));
  fs::remove_all(dir);
}

namespace {

// A plugins folder holding a copy of the good connector, and how `install` puts another file in its place.
struct NextVersion : ::testing::Test {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("cartwire-next-version-" + std::to_string(::getpid()));
  void SetUp() override {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    install(fixture("good"));
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  void install(const std::string &from) const {
    std::filesystem::copy_file(from, dir / "good.so.tmp");
    std::filesystem::rename(dir / "good.so.tmp", dir / "good.so");
  }
  // The versions of the folder's good.so this process has mapped: its path (with " (deleted)" once a
  // new file took its name), or the name of a copy in memory; `with_inode`, then the file's inode, which
  // tells apart the versions kept whose files were replaced in turn (each named "good.so (deleted)").
  std::set<std::string> mapped(bool with_inode = false) const {
    std::ifstream maps("/proc/self/maps");
    std::set<std::string> out;
    for (std::string line; std::getline(maps, line);) {
      auto slash = line.find('/');
      if (slash == std::string::npos) continue;
      std::string name = line.substr(slash);
      if (name.rfind((dir / "good.so").string(), 0) != 0 && name.rfind("/memfd:good.so", 0) != 0) continue;
      std::istringstream fields(line);
      std::string address, permissions, offset, device, inode;
      fields >> address >> permissions >> offset >> device >> inode;
      out.insert(with_inode ? name + " " + inode : name);
    }
    return out;
  }
  // The User-Agent the connector's fetch sends, which names its version.
  static std::string agent(Instance &instance) {
    cartwire::sdk::ActionRequest request;
    request.action = "fetch";
    request.params = {{"url", "http://127.0.0.1:1/nothing-listens-here"}};
    CallLog log;
    instance.action(request, log);
    if (log.exchanges.size() != 1) return "no request";
    return log.exchanges[0].request["headers"].value("user-agent", "none");
  }
  const cartwire::sdk::Json settings = {{"token", "t0ken-for-the-test"}};
  HostServices services;
  NextVersion() { services.clock_ms = [] { return int64_t{0}; }; }
};

}  // namespace

TEST_F(NextVersion, ANewFileOfAConnectorNoInstanceUsedIsReadAtTheNextLoad) {
  Registry r;
  r.load_dir(dir.string());
  const Plugin *first = r.find("good");
  ASSERT_NE(first, nullptr);
  ASSERT_EQ(first->manifest.version, "1.2.3");
  r.load_dir(dir.string());
  EXPECT_EQ(r.find("good"), first) << "the same file is not read again";

  install(GOOD_NEXT_PLUGIN);
  r.load_dir(dir.string());
  const Plugin *next = r.find("good");
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->manifest.version, "1.3.0");
  EXPECT_EQ(first->manifest.version, "1.2.3") << "what a running configuration holds stays valid";
  EXPECT_TRUE(r.rejected().empty());
  EXPECT_EQ(r.plugins().size(), 1u);
  Instance instance(*next, "lab", settings, services, Redactor{});
  EXPECT_EQ(std::string(next->descriptor().version), "1.3.0");
}

TEST_F(NextVersion, ANewFileOfAConnectorInUseRunsBesideItAndTheEarlierIsUnloadedWithItsLastInstance) {
  Registry r;
  r.load_dir(dir.string());
  const Plugin *first = r.find("good");
  ASSERT_NE(first, nullptr);
  auto earlier = std::make_unique<Instance>(*first, "lab", settings, services, Redactor{});

  install(GOOD_NEXT_PLUGIN);
  r.load_dir(dir.string());
  EXPECT_TRUE(r.rejected().empty()) << r.rejected().front().reason;
  const Plugin *next = r.find("good");
  ASSERT_NE(next, nullptr);
  ASSERT_NE(next, first);
  EXPECT_EQ(next->manifest.version, "1.3.0");
  ASSERT_EQ(r.replacements().size(), 1u);
  EXPECT_EQ(r.replacements()[0].was, first);
  r.commit();
  Instance later(*next, "lab", settings, services, Redactor{});
  EXPECT_EQ(std::string(next->descriptor().version), "1.3.0") << "the library loaded from the path was given again";
  // Each instance runs the version it was made of.
  EXPECT_EQ(agent(later), "good/1.3.0");
  EXPECT_EQ(agent(*earlier), "good/1.2.3");
  EXPECT_EQ(mapped().size(), 2u);
  ASSERT_EQ(r.finishing().size(), 1u);
  EXPECT_EQ(r.finishing()[0], first);
  EXPECT_THROW(first->descriptor(), std::runtime_error) << "a replaced version makes no new instance";

  earlier.reset();
  EXPECT_FALSE(first->loaded());
  EXPECT_TRUE(r.finishing().empty());
  std::set<std::string> left = mapped();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(*left.begin(), "/memfd:good.so (deleted)") << "the earlier version is unloaded";
  EXPECT_EQ(agent(later), "good/1.3.0");

  // And the version after it, put in place while 1.3.0 runs from its copy.
  install(fixture("good"));
  r.load_dir(dir.string());
  r.commit();
  Instance third(*r.find("good"), "lab", settings, services, Redactor{});
  EXPECT_EQ(agent(third), "good/1.2.3");
  EXPECT_EQ(agent(later), "good/1.3.0");
}

TEST_F(NextVersion, ANewVersionARefusedReloadLoadedIsLetGoAndTheEarlierRunsOn) {
  Registry r;
  r.load_dir(dir.string());
  const Plugin *first = r.find("good");
  ASSERT_NE(first, nullptr);
  Instance running(*first, "lab", settings, services, Redactor{});
  install(GOOD_NEXT_PLUGIN);
  r.load_dir(dir.string());
  const Plugin *next = r.find("good");
  ASSERT_NE(next, first);
  { Instance probe(*next, "lab", settings, services, Redactor{}); }  // as a reload checks the settings
  r.rollback();
  EXPECT_EQ(r.find("good"), first);
  EXPECT_TRUE(r.replacements().empty());
  EXPECT_EQ(std::string(first->descriptor().version), "1.2.3");
  EXPECT_EQ(mapped().size(), 1u) << "the new version is unloaded";
  Instance again(*first, "lab", settings, services, Redactor{});
  EXPECT_EQ(agent(again), "good/1.2.3");
  // The next reload reads the new file again.
  r.load_dir(dir.string());
  ASSERT_NE(r.find("good"), first);
  EXPECT_EQ(r.find("good")->manifest.version, "1.3.0");
}

TEST_F(NextVersion, AReloadThatThrowsBeforeItCommitsPutsTheEarlierVersionBack) {
  Registry r;
  r.load_dir(dir.string());
  const Plugin *first = r.find("good");
  ASSERT_NE(first, nullptr);
  Instance running(*first, "lab", settings, services, Redactor{});
  install(GOOD_NEXT_PLUGIN);
  // As a reload that fails on its way (a store error while it validates) leaves.
  EXPECT_THROW(
      {
        PendingVersions versions(r);
        r.load_dir(dir.string());
        EXPECT_NE(r.find("good"), first);
        throw std::runtime_error("the store failed");
      },
      std::runtime_error);
  EXPECT_EQ(r.find("good"), first);
  EXPECT_TRUE(r.replacements().empty());
  EXPECT_EQ(agent(running), "good/1.2.3");

  // One that commits runs the new version, and the earlier finishes its calls.
  {
    PendingVersions versions(r);
    r.load_dir(dir.string());
    versions.commit();
  }
  ASSERT_NE(r.find("good"), first);
  EXPECT_EQ(r.find("good")->manifest.version, "1.3.0");
  ASSERT_EQ(r.finishing().size(), 1u);
  EXPECT_EQ(r.finishing()[0], first);
}

TEST_F(NextVersion, AVersionLetGoIsFreedAtTheNextCommitOrRollbackAfterItsLastInstance) {
#ifndef CARTWIRE_TELLS_FREED
  GTEST_SKIP() << "telling freed memory needs AddressSanitizer (CARTWIRE_SANITIZE)";
#else
  auto allocated = [](const Plugin *p) { return __sanitizer_get_ownership(p) != 0; };
  Registry r;
  r.load_dir(dir.string());
  const Plugin *first = r.find("good");
  ASSERT_NE(first, nullptr);
  auto earlier = std::make_unique<Instance>(*first, "lab", settings, services, Redactor{});
  install(GOOD_NEXT_PLUGIN);
  r.load_dir(dir.string());
  r.commit();
  EXPECT_TRUE(allocated(first)) << "an instance of it lives";
  ASSERT_EQ(r.finishing().size(), 1u);

  earlier.reset();
  r.load_dir(dir.string());  // the next reload
  r.commit();
  EXPECT_FALSE(allocated(first)) << "its manifest is kept no longer";
  EXPECT_TRUE(r.finishing().empty());

  // A new version a refused reload loaded is freed with the rollback.
  install(fixture("good"));
  r.load_dir(dir.string());
  const Plugin *refused = r.find("good");
  ASSERT_EQ(refused->manifest.version, "1.2.3");
  { Instance probe(*refused, "lab", settings, services, Redactor{}); }
  r.rollback();
  EXPECT_FALSE(allocated(refused));
  EXPECT_EQ(r.find("good")->manifest.version, "1.3.0");
#endif
}

TEST_F(NextVersion, AVersionAReloadLetGoIsFreedOnceThePreviousConfigurationHasEnded) {
#ifndef CARTWIRE_TELLS_FREED
  GTEST_SKIP() << "telling freed memory needs AddressSanitizer (CARTWIRE_SANITIZE)";
#else
  auto allocated = [](const Plugin *p) { return __sanitizer_get_ownership(p) != 0; };
  std::string file = (dir / "hub.yaml").string();
  std::ofstream(file) << "plugins:\n  dir: " << dir.string() << "\nstorage:\n  path: " << (dir / "hub.db").string()
                      << "\nintegrations:\n  lab:\n    connector: good\n    settings: {token: t0ken-for-the-test}\n"
                         "rules:\n  - name: every-order\n    on: order.completed\n    do: lab.echo\n    with: {text: hi}\n";
  Registry r;
  r.load_dir(dir.string());
  const Plugin *first = r.find("good");
  ASSERT_NE(first, nullptr);
  auto store = cartwire::store::open_sqlite((dir / "hub.db").string());
  {
    cartwire::app::LiveHub hub(cartwire::config::load_config(file), r, *store, services, "node-1");
    hub.start();
    install(GOOD_NEXT_PLUGIN);
    cartwire::sdk::Json reloaded = hub.reload();
    ASSERT_EQ(reloaded["ok"], true) << reloaded.dump();
    // No reload after it: the previous configuration, which alone ran 1.2.3, ends in the background.
    EXPECT_TRUE(eventually([&] { return !allocated(first); })) << "its manifest is kept no longer";
    cartwire::sdk::Json listed = hub.plugins()["loaded"];
    ASSERT_EQ(listed.size(), 1u) << listed.dump();
    EXPECT_EQ(listed[0]["version"], "1.3.0");
    EXPECT_EQ(listed[0]["finishing"], cartwire::sdk::Json::array());
    hub.stop();
  }
#endif
}

TEST_F(NextVersion, AConnectorWhoseFileIsGoneIsListedAsRemovedWithTheVersionKeptForAThreadItLeft) {
  // 1.2.4's instance starts a thread and leaves it running; its file is then removed, and nothing uses it.
  install(GOOD_LEAVES_THREAD_PLUGIN);
  std::string file = (dir / "hub.yaml").string();
  auto configure = [&](bool uses_good) {
    std::ofstream(file) << "plugins:\n  dir: " << dir.string() << "\nstorage:\n  path: " << (dir / "hub.db").string()
                        << "\n"
                        << (uses_good ? "integrations:\n  lab:\n    connector: good\n"
                                        "    settings: {token: t0ken-for-the-test}\n"
                                        "rules:\n  - name: every-order\n    on: order.completed\n    do: lab.echo\n"
                                        "    with: {text: hi}\n"
                                      : "");
  };
  configure(true);
  Registry r;
  r.load_dir(dir.string());
  auto store = cartwire::store::open_sqlite((dir / "hub.db").string());
  cartwire::app::LiveHub hub(cartwire::config::load_config(file), r, *store, services, "node-1");
  hub.start();
  std::filesystem::remove(dir / "good.so");
  configure(false);
  cartwire::sdk::Json reloaded = hub.reload();
  ASSERT_EQ(reloaded["ok"], true) << reloaded.dump();
  // The previous configuration ends in the background, and with it the instance; the library stays loaded.
  cartwire::sdk::Json removed;
  EXPECT_TRUE(eventually([&] {
    removed = hub.plugins()["removed"];
    return removed.size() == 1 && removed[0]["kept"] == cartwire::sdk::Json::array({"1.2.4"});
  })) << removed.dump();
  ASSERT_EQ(removed.size(), 1u) << "listed until the hub restarts";
  EXPECT_EQ(removed[0]["id"], "good");
  EXPECT_EQ(removed[0]["version"], "1.2.4");
  EXPECT_EQ(removed[0]["kept"], cartwire::sdk::Json::array({"1.2.4"}));
  EXPECT_EQ(removed[0]["finishing"], cartwire::sdk::Json::array());
  EXPECT_EQ(hub.plugins()["loaded"], cartwire::sdk::Json::array());
  hub.stop();
}

TEST_F(NextVersion, AVersionLetGoThatLeftAThreadRunningStaysLoadedAndOneThatJoinedItsThreadsIsUnloaded) {
  // 1.2.4's instances each start a thread; this one stops and joins it in on_destroy.
  install(GOOD_LEAVES_THREAD_PLUGIN);
  Registry r;
  r.load_dir(dir.string());
  const Plugin *joins = r.find("good");
  ASSERT_EQ(joins->manifest.version, "1.2.4");
  auto earlier = std::make_unique<Instance>(*joins, "lab", cartwire::sdk::Json{{"token", "joins-its-thread"}},
                                            services, Redactor{});
  install(GOOD_NEXT_PLUGIN);
  r.load_dir(dir.string());
  r.commit();
  const Plugin *after = r.find("good");
  Instance next(*after, "lab", settings, services, Redactor{});
  earlier.reset();
  EXPECT_FALSE(joins->loaded());
  EXPECT_TRUE(r.kept().empty());
  EXPECT_EQ(mapped().size(), 1u) << "1.2.4 is unloaded";

  // This one leaves its thread running: the library stays loaded under it, listed as kept, not finishing.
  install(GOOD_LEAVES_THREAD_PLUGIN);
  r.load_dir(dir.string());
  r.commit();
  const Plugin *leaves = r.find("good");
  ASSERT_EQ(leaves->manifest.version, "1.2.4");
  earlier = std::make_unique<Instance>(*leaves, "lab", settings, services, Redactor{});
  install(GOOD_NEXT_PLUGIN);
  r.load_dir(dir.string());
  r.commit();
  std::set<std::string> before = mapped();
  earlier.reset();
  r.load_dir(dir.string());
  r.commit();
  EXPECT_TRUE(leaves->loaded());
  EXPECT_TRUE(leaves->kept());
  EXPECT_EQ(r.kept(), std::vector<const Plugin *>{leaves});
  EXPECT_EQ(r.finishing(), std::vector<const Plugin *>{after}) << "only 1.3.0, which an instance still uses";
  EXPECT_EQ(mapped(), before) << "no version is unloaded";
  EXPECT_EQ(agent(next), "good/1.3.0");
}

namespace {

// A pipe the versions that leave a timer, a thread key or a signal handler write a byte to whenever what they
// left runs their code: the token of their instance begins with its write end. Never closed: a version kept
// writes to it until the process ends.
struct Told {
  int in = -1, out = -1;
  Told() {
    int ends[2];
    if (::pipe2(ends, O_NONBLOCK | O_CLOEXEC) != 0) return;
    in = ends[0];
    out = ends[1];
  }
  void drain() const {
    char bytes[256];
    while (::read(in, bytes, sizeof bytes) > 0) {
    }
  }
  // Whether a byte arrives (a timer of the versions runs every 10 ms; 30 s bound a test gone wrong).
  bool heard() const {
    pollfd ready{in, POLLIN, 0};
    char byte;
    return ::poll(&ready, 1, 30000) == 1 && ::read(in, &byte, 1) == 1;
  }
};

const Told &told() {
  static const Told pipe;
  return pipe;
}

// An instance made on a thread of its own, which ends once told to: the destructors of its thread keys run then.
class MadeOnAThread {
 public:
  MadeOnAThread(const Plugin &version, const cartwire::sdk::Json &settings, HostServices &services) {
    std::promise<void> made;
    thread_ = std::thread([&, end = end_.get_future()] {
      instance = std::make_unique<Instance>(version, "lab", settings, services, Redactor{});
      made.set_value();
      end.wait();
    });
    made.get_future().wait();
  }
  MadeOnAThread(const MadeOnAThread &) = delete;
  MadeOnAThread &operator=(const MadeOnAThread &) = delete;
  ~MadeOnAThread() { end(); }
  void end() {
    if (!thread_.joinable()) return;
    end_.set_value();
    thread_.join();
  }
  std::unique_ptr<Instance> instance;

 private:
  std::promise<void> end_;
  std::thread thread_;
};

// What the "plugins" logger writes while it lives.
struct PluginsLog {
  std::ostringstream lines;
  Poco::Channel::Ptr was = Poco::Logger::get("plugins").getChannel();
  PluginsLog() { Poco::Logger::get("plugins").setChannel(new Poco::StreamChannel(lines)); }
  ~PluginsLog() { Poco::Logger::get("plugins").setChannel(was); }
};

struct LeftBehind : NextVersion {
  // Puts the version in `file` in the folder and makes `made` an instance of it (token: told's write end, then
  // `token`), puts 1.3.0 in its place (a reload) and destroys the instance: returns that version, let go.
  const Plugin *let_go_used(Registry &r, const std::string &file, const std::string &token,
                            std::optional<MadeOnAThread> &made) {
    install(file);
    r.load_dir(dir.string());
    r.commit();
    const Plugin *version = r.find("good");
    made.emplace(*version, cartwire::sdk::Json{{"token", std::to_string(told().out) + token}}, services);
    install(GOOD_NEXT_PLUGIN);
    r.load_dir(dir.string());
    r.commit();
    made->instance.reset();
    return version;
  }

  // The version in `file` ends in on_destroy, when its token says `ends`, what it left calling its code: it is
  // unloaded. Otherwise it stays loaded, listed as kept, and the log says it `left` that; `runs` (a thread's
  // end, a signal) makes what it left run its code, which writes to told.
  void keeps_what_calls_it(const std::string &file, const std::string &ends, const std::string &left,
                           const std::function<void(MadeOnAThread &)> &runs) {
    PluginsLog log;
    Registry r;
    std::set<std::string> before = mapped(true);  // the versions other tests of this process kept
    std::optional<MadeOnAThread> made;
    const Plugin *ended = let_go_used(r, file, " " + ends, made);
    EXPECT_FALSE(ended->loaded());
    EXPECT_TRUE(r.kept().empty());
    EXPECT_EQ(mapped(true), before) << ended->manifest.version << " is unloaded";
    made.reset();

    const Plugin *leaves = let_go_used(r, file, "", made);
    ASSERT_TRUE(leaves->kept()) << leaves->manifest.version << " is unloaded: what it left runs in unmapped code";
    r.load_dir(dir.string());  // the next reload keeps it
    r.commit();
    EXPECT_TRUE(leaves->loaded());
    EXPECT_TRUE(leaves->kept());
    EXPECT_EQ(r.kept(), std::vector<const Plugin *>{leaves});
    EXPECT_TRUE(r.finishing().empty());
    EXPECT_EQ(mapped(true).size(), before.size() + 1) << leaves->manifest.version << " stays loaded";
    EXPECT_NE(log.lines.str().find("connector good " + leaves->manifest.version + " left " + left +
                                   " after on_destroy; its library stays loaded until the hub restarts"),
              std::string::npos)
        << log.lines.str();
    told().drain();
    runs(*made);
    EXPECT_TRUE(told().heard()) << "what it left ran its code, loaded";
  }
};

}  // namespace

TEST_F(LeftBehind, AVersionLetGoThatLeftATimerArmedStaysLoadedAndOneThatDeletedItIsUnloaded) {
  // 1.2.5's timer starts a thread running its code every 10 ms.
  keeps_what_calls_it(GOOD_LEAVES_TIMER_PLUGIN, "deletes-its-timer", "1 timer running", [](MadeOnAThread &) {});
}

TEST_F(LeftBehind, AVersionLetGoThatLeftAThreadKeyWithItsDestructorStaysLoadedAndOneThatDeletedItIsUnloaded) {
  // 1.2.6's key has a value on the thread that made the instance: as it ends, the key's destructor runs.
  keeps_what_calls_it(GOOD_LEAVES_KEY_PLUGIN, "deletes-its-key", "1 thread key with its destructor",
                      [](MadeOnAThread &made) { made.end(); });
}

TEST_F(LeftBehind, AVersionLetGoThatLeftASignalHandlerStaysLoadedAndOneThatPutBackThePreviousIsUnloaded) {
  keeps_what_calls_it(GOOD_LEAVES_HANDLER_PLUGIN, "resets-its-handler", "1 signal handler installed",
                      [](MadeOnAThread &) { std::raise(SIGUSR2); });
}

TEST_F(NextVersion, AConnectorWhoseFileIsGoneIsLetGoAtTheCommitAndFoundAgainAtARollback) {
  Registry r;
  r.load_dir(dir.string());
  const Plugin *first = r.find("good");
  ASSERT_NE(first, nullptr);
  Instance running(*first, "lab", settings, services, Redactor{});

  std::filesystem::remove(dir / "good.so");
  r.load_dir(dir.string());
  EXPECT_EQ(r.find("good"), nullptr);
  EXPECT_TRUE(r.plugins().empty());
  EXPECT_EQ(r.removals(), std::vector<const Plugin *>{first});
  EXPECT_TRUE(r.rejected().empty());
  r.rollback();  // a reload refused: its configuration uses the connector
  EXPECT_EQ(r.find("good"), first);
  EXPECT_TRUE(r.removals().empty());
  EXPECT_EQ(agent(running), "good/1.2.3");

  r.load_dir(dir.string());
  EXPECT_EQ(r.removals(), std::vector<const Plugin *>{first});
  r.commit();
  EXPECT_EQ(r.find("good"), nullptr);
  EXPECT_TRUE(r.removals().empty());
  EXPECT_EQ(r.finishing(), std::vector<const Plugin *>{first}) << "its instance still runs it";
  EXPECT_EQ(agent(running), "good/1.2.3");
  r.load_dir(dir.string());
  EXPECT_TRUE(r.removals().empty()) << "let go once";

  // The file put back is read again, beside the library still in use.
  install(GOOD_NEXT_PLUGIN);
  r.load_dir(dir.string());
  const Plugin *back = r.find("good");
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->manifest.version, "1.3.0");
  EXPECT_TRUE(r.replacements().empty());
  Instance later(*back, "lab", settings, services, Redactor{});
  EXPECT_EQ(agent(later), "good/1.3.0");
  EXPECT_EQ(agent(running), "good/1.2.3");
}

TEST_F(NextVersion, AFileOfAConnectorInAnotherNameThanItsGoneFileIsANewVersionOfIt) {
  Registry r;
  r.load_dir(dir.string());
  const Plugin *first = r.find("good");
  ASSERT_NE(first, nullptr);
  std::filesystem::copy_file(GOOD_NEXT_PLUGIN, dir / "good-1.3.0.so");
  std::filesystem::remove(dir / "good.so");
  r.load_dir(dir.string());
  EXPECT_TRUE(r.rejected().empty()) << r.rejected().front().reason;
  const Plugin *next = r.find("good");
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->manifest.version, "1.3.0");
  EXPECT_TRUE(r.removals().empty());
  ASSERT_EQ(r.replacements().size(), 1u);
  EXPECT_EQ(r.replacements()[0].was, first);

  r.rollback();
  EXPECT_EQ(r.plugins(), std::vector<const Plugin *>{first}) << "one connector of its id";
  r.load_dir(dir.string());
  ASSERT_EQ(r.replacements().size(), 1u) << "the next reload reads it again";
  r.commit();
  ASSERT_EQ(r.plugins().size(), 1u);
  EXPECT_EQ(r.find("good")->manifest.version, "1.3.0");

  // The gone file's name is a new file again: the connector's id in two files.
  install(fixture("good"));
  r.load_dir(dir.string());
  EXPECT_EQ(r.find("good")->manifest.version, "1.3.0");
  ASSERT_EQ(r.rejected().size(), 1u);
  EXPECT_NE(r.rejected()[0].reason.find("duplicate connector id \"good\""), std::string::npos)
      << r.rejected()[0].reason;
}

TEST_F(NextVersion, ALinkMovedToAnotherFileIsANewVersionOfItsConnector) {
  namespace fs = std::filesystem;
  fs::create_directories(dir / "versions");
  fs::copy_file(fixture("good"), dir / "versions" / "good-1.2.3.so");
  fs::copy_file(GOOD_NEXT_PLUGIN, dir / "versions" / "good-1.3.0.so");
  // good.so -> versions/<file>, moved as `ln -sfn` moves it: a new link renamed over the old.
  auto link = [&](const std::string &to) {
    fs::remove(dir / "good.so.tmp");
    fs::create_symlink(fs::path("versions") / to, dir / "good.so.tmp");
    fs::rename(dir / "good.so.tmp", dir / "good.so");
  };
  link("good-1.2.3.so");
  Registry r;
  r.load_dir(dir.string());
  const Plugin *first = r.find("good");
  ASSERT_NE(first, nullptr);
  ASSERT_EQ(first->manifest.version, "1.2.3");
  Instance running(*first, "lab", settings, services, Redactor{});

  link("good-1.3.0.so");
  r.load_dir(dir.string());
  EXPECT_TRUE(r.rejected().empty()) << r.rejected().front().reason;
  const Plugin *next = r.find("good");
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->manifest.version, "1.3.0");
  ASSERT_EQ(r.replacements().size(), 1u);
  EXPECT_EQ(r.replacements()[0].was, first);
  r.commit();
  Instance later(*next, "lab", settings, services, Redactor{});
  EXPECT_EQ(agent(later), "good/1.3.0");
  EXPECT_EQ(agent(running), "good/1.2.3");

  // And back, as an upgrade is undone.
  link("good-1.2.3.so");
  r.load_dir(dir.string());
  EXPECT_TRUE(r.rejected().empty()) << r.rejected().front().reason;
  ASSERT_NE(r.find("good"), nullptr);
  EXPECT_EQ(r.find("good")->manifest.version, "1.2.3");
  EXPECT_EQ(r.plugins().size(), 1u);
}

TEST_F(NextVersion, TheSameBytesWrittenAgainAreNoNewVersionAndANewBuildOfTheSameVersionIs) {
  Registry r;
  r.load_dir(dir.string());
  const Plugin *first = r.find("good");
  ASSERT_NE(first, nullptr);
  Instance running(*first, "lab", settings, services, Redactor{});

  // Copied again (a deployment that copies every file), then touched: the same connector.
  install(fixture("good"));
  r.load_dir(dir.string());
  EXPECT_EQ(r.find("good"), first);
  EXPECT_TRUE(r.replacements().empty());
  std::filesystem::last_write_time(dir / "good.so",
                                   std::filesystem::last_write_time(dir / "good.so") + std::chrono::hours(1));
  r.load_dir(dir.string());
  EXPECT_EQ(r.find("good"), first);
  EXPECT_TRUE(r.replacements().empty());
  EXPECT_TRUE(r.rejected().empty()) << r.rejected().front().reason;
  EXPECT_EQ(mapped().size(), 1u) << "no second copy of it is loaded";

  // Other bytes of the same version: a new build, which runs from then on.
  install(fixture("good_copy"));
  r.load_dir(dir.string());
  const Plugin *rebuilt = r.find("good");
  ASSERT_NE(rebuilt, first);
  EXPECT_EQ(rebuilt->manifest.version, "1.2.3");
  ASSERT_EQ(r.replacements().size(), 1u);
  EXPECT_EQ(r.replacements()[0].was, first);
}

TEST_F(NextVersion, AFileStatTellsUnchangedIsNotReadAgainAndOneWrittenAgainInPlaceIs) {
  namespace fs = std::filesystem;
  fs::path file = dir / "good.so";
  auto overwrite_start = [&](const std::string &bytes) {
    std::fstream out(file, std::ios::in | std::ios::out | std::ios::binary);  // in place: the same inode and size
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  };
  Registry r;
  r.load_dir(dir.string());
  const Plugin *first = r.find("good");
  ASSERT_NE(first, nullptr);
  // Touched, an hour back: read, and the same bytes.
  auto back = fs::last_write_time(file) - std::chrono::hours(1);
  fs::last_write_time(file, back);
  r.load_dir(dir.string());
  EXPECT_EQ(r.find("good"), first);

  // Its ELF magic overwritten, its time put back: stat() tells the file read before, which is not read
  // again (read, it would be rejected as no library).
  overwrite_start(std::string(4, '\0'));
  fs::last_write_time(file, back);
  r.load_dir(dir.string());
  EXPECT_TRUE(r.rejected().empty()) << r.rejected().front().reason;
  EXPECT_EQ(r.find("good"), first);
  EXPECT_TRUE(r.replacements().empty());

  // Its time changed, as a write in place changes it: read again, and rejected; the version read before runs on.
  fs::last_write_time(file, back + std::chrono::seconds(1));
  r.load_dir(dir.string());
  ASSERT_EQ(r.rejected().size(), 1u);
  EXPECT_NE(r.rejected()[0].reason.find("The hub keeps running connector good 1.2.3."), std::string::npos)
      << r.rejected()[0].reason;
  EXPECT_EQ(r.find("good"), first);

  // Its bytes written back: the version it runs.
  overwrite_start("\x7f" "ELF");
  r.load_dir(dir.string());
  EXPECT_TRUE(r.rejected().empty()) << r.rejected().front().reason;
  EXPECT_EQ(r.find("good"), first);
  EXPECT_TRUE(r.replacements().empty());
}

TEST_F(NextVersion, ARejectedFileRemovedFromTheFolderIsNoLongerReported) {
  std::filesystem::copy_file(fixture("wrong_abi"), dir / "wrong_abi.so");
  Registry r;
  r.load_dir(dir.string());
  ASSERT_EQ(r.rejected().size(), 1u);
  std::filesystem::remove(dir / "wrong_abi.so");
  r.load_dir(dir.string());
  EXPECT_TRUE(r.rejected().empty()) << r.rejected().front().reason;
  EXPECT_NE(r.find("good"), nullptr);
}

TEST_F(NextVersion, ANewFileThatIsNotAVersionOfTheConnectorIsRejectedAndTheEarlierRunsOn) {
  Registry r;
  r.load_dir(dir.string());
  const Plugin *first = r.find("good");
  ASSERT_NE(first, nullptr);
  Instance running(*first, "lab", settings, services, Redactor{});
  std::string path = (dir / "good.so").string();
  const std::string keeps = " The hub keeps running connector good 1.2.3.";

  install(fixture("wrong_abi"));
  r.load_dir(dir.string());
  EXPECT_EQ(r.find("good"), first);
  ASSERT_EQ(r.rejected().size(), 1u);
  EXPECT_EQ(r.rejected()[0].path, path);
  EXPECT_NE(r.rejected()[0].reason.find(path + ": built for Cartwire plugin ABI 99"), std::string::npos)
      << r.rejected()[0].reason;
  EXPECT_TRUE(r.rejected()[0].reason.ends_with(keeps)) << r.rejected()[0].reason;

  install(fixture("bad_manifest"));
  r.load_dir(dir.string());
  EXPECT_EQ(r.find("good"), first);
  ASSERT_EQ(r.rejected().size(), 1u);
  EXPECT_EQ(r.rejected()[0].reason.rfind(path + ": bad manifest: ", 0), 0u) << r.rejected()[0].reason;
  EXPECT_TRUE(r.rejected()[0].reason.ends_with("Fix the connector's manifest.json." + keeps)) << r.rejected()[0].reason;

  install(THRIVECART_PLUGIN);
  r.load_dir(dir.string());
  EXPECT_EQ(r.find("good"), first);
  EXPECT_EQ(r.find("thrivecart"), nullptr);
  ASSERT_EQ(r.rejected().size(), 1u);
  EXPECT_EQ(r.rejected()[0].reason.rfind(path + ": now holds connector thrivecart ", 0), 0u) << r.rejected()[0].reason;
  EXPECT_TRUE(r.rejected()[0].reason.ends_with(", not a version of good. Put thrivecart in a file of its own." + keeps))
      << r.rejected()[0].reason;
  EXPECT_TRUE(r.replacements().empty());
  EXPECT_EQ(agent(running), "good/1.2.3");
}

TEST_F(NextVersion, AFileRejectedOnceIsNoLongerReportedWhenItsFixLoads) {
  install(fixture("wrong_abi"));
  Registry r;
  r.load_dir(dir.string());
  ASSERT_EQ(r.rejected().size(), 1u);
  EXPECT_EQ(r.find("good"), nullptr);

  install(GOOD_NEXT_PLUGIN);
  r.load_dir(dir.string());
  ASSERT_NE(r.find("good"), nullptr);
  EXPECT_TRUE(r.rejected().empty()) << r.rejected().front().reason;
}

TEST(Registry, AnIntegrationsRateBudgetOutlivesItsInstanceAcrossAReload) {
  Registry r;
  ASSERT_EQ(load_reason(r, "good"), "");
  const Plugin *p = r.find("good");
  ASSERT_NE(p, nullptr);
  HostServices services;
  services.clock_ms = [] { return int64_t{0}; };
  cartwire::sdk::Json settings = {{"token", "t0ken-for-the-test"}};
  Instance before(*p, "lab", settings, services, Redactor{});
  EXPECT_EQ(before.rate_room(), 120);  // the fixture's manifest: 120 a minute
  EXPECT_EQ(before.reserve_request().count(), 0);
  // A reload makes new instances: the budget already spent stays spent.
  Instance after(*p, "lab", settings, services, Redactor{});
  EXPECT_EQ(after.rate_room(), 119);
  Instance other(*p, "other-lab", settings, services, Redactor{});
  EXPECT_EQ(other.rate_room(), 120);
}

TEST(Registry, RejectsWrongAbiVersion) {
  Registry r;
  EXPECT_EQ(load_reason(r, "wrong_abi"),
            fixture("wrong_abi") + ": built for Cartwire plugin ABI 99 (cartwire-sdk 99.0.0), but this hub accepts ABI " +
                std::to_string(CW_ABI_VERSION) + ". Rebuild the connector against the installed Cartwire SDK.");
  EXPECT_EQ(r.find("wrong-abi"), nullptr);
}

TEST(Registry, RejectsMissingEntryPoint) {
  Registry r;
  EXPECT_EQ(load_reason(r, "no_entry"),
            fixture("no_entry") + ": is not a Cartwire connector: it does not export cartwire_plugin_descriptor. "
                                  "Build it with cartwire_add_connector() and CARTWIRE_CONNECTOR(...).");
}

TEST(Registry, RejectsThrowingInit) {
  Registry r;
  EXPECT_EQ(load_reason(r, "throws"), fixture("throws") + ": threw while starting (cannot reach license server). "
                                                          "Fix the connector's initialisation; the hub runs on without it.");
}

TEST(Registry, RejectsAStaticInitialiserThatThrowsWithoutLoadingIt) {
  Registry r;
  EXPECT_EQ(load_reason(r, "throws_on_load"),
            fixture("throws_on_load") + ": threw while loading (cannot read /etc/throws-on-load.conf): a static "
                                        "object's constructor throws. Fix the connector's initialisation; the hub "
                                        "runs on without it.");
  EXPECT_FALSE(mapped(fixture("throws_on_load")));
  EXPECT_EQ(r.find("throws-on-load"), nullptr);
}

TEST(Registry, RejectsAStaticInitialiserThatEndsTheProcessAndRunsOn) {
  Registry r;
  EXPECT_EQ(load_reason(r, "aborts_on_load"),
            fixture("aborts_on_load") + ": ends the process that loads it (no licence key found; killed by signal " +
                std::to_string(SIGABRT) + ", " + strsignal(SIGABRT) +
                "): a static initialiser or the entry point crashes or exits. Fix the connector's initialisation; "
                "the hub runs on without it.");
  EXPECT_FALSE(mapped(fixture("aborts_on_load")));
}

TEST(Registry, ALoadThatStallsInTheChildProcessIsMadeHereAfterItsLimit) {
  // In the child process that tries the load first, the initialiser waits for good; the load
  // in this process, after the child's 10 s, goes through.
  ::setenv("STALL_UNDER_PARENT", std::to_string(::getpid()).c_str(), 1);
  Registry r;
  EXPECT_EQ(r.load_file(STALLS_IN_CHILD_PLUGIN), "");
  ::unsetenv("STALL_UNDER_PARENT");
  EXPECT_NE(r.find("good"), nullptr);
}

TEST(Registry, AFileTriedInAChildProcessIsNotTriedThereAgainUntilItChanges) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("cw-counts-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::copy_file(COUNTS_LOADS_PLUGIN, dir / "good.so", fs::copy_options::overwrite_existing);
  std::string counts = (dir / "loads").string();
  auto loads = [&] {
    std::ifstream in(counts);
    return std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n');
  };
  ::setenv("COUNT_LOADS_IN", counts.c_str(), 1);
  {
    Registry r;
    ASSERT_EQ(r.load_file((dir / "good.so").string()), "");
    EXPECT_EQ(loads(), 2) << "the child process, then the hub to read the manifest";
    // A crash in the child leaves no core file: it would hold a copy of the hub's memory, secrets and all.
    std::ifstream in(counts);
    std::string child, hub;
    std::getline(in, child);
    std::getline(in, hub);
    EXPECT_EQ(child, "loaded, dumpable 0");
    EXPECT_EQ(hub, "loaded, dumpable " + std::to_string(prctl(PR_GET_DUMPABLE)));  // this process, as it is
    r.find("good")->descriptor();
    EXPECT_EQ(loads(), 3) << "the hub alone: the file is the one the child loaded";
  }
  {
    Registry r;
    ASSERT_EQ(r.load_file((dir / "good.so").string()), "");
    // A new file at the same path is tried in a child process again.
    fs::copy_file(COUNTS_LOADS_PLUGIN, dir / "new.so");
    fs::rename(dir / "new.so", dir / "good.so");
    fs::remove(counts);
    r.find("good")->descriptor();
    EXPECT_EQ(loads(), 2) << "the child process, then the hub";
  }
  ::unsetenv("COUNT_LOADS_IN");
  fs::remove_all(dir);
}

TEST(Registry, RejectsBadManifestNamingEveryProblem) {
  Registry r;
  EXPECT_EQ(load_reason(r, "bad_manifest"),
            fixture("bad_manifest") +
                ": bad manifest: manifest.settings[0] has unknown type \"text\" (types: any, array, boolean, integer, "
                "object, string); manifest.actions[0] has no \"name\"; manifest.actions[1].params[0] (enrol.course_id) "
                "names the list \"courses\", which is not in manifest.lists (lists: course, bundles). Fix the "
                "connector's manifest.json.");
}

TEST(Registry, RejectsMissingDependency) {
  Registry r;
  std::string reason = load_reason(r, "missing_dep");
  EXPECT_EQ(reason.rfind(fixture("missing_dep") + ": cannot be loaded (", 0), 0u) << reason;
  EXPECT_NE(reason.find("libcartwire_absent_dependency.so"), std::string::npos) << reason;
  EXPECT_NE(reason.find("Check that every library it needs is installed (ldd "), std::string::npos) << reason;
  EXPECT_EQ(reason.find("Bad file descriptor"), std::string::npos) << reason;
}

TEST(Registry, AFileThatIsNotALibraryIsRejectedWithTheLoadersReasonAlone) {
  auto dir = std::filesystem::temp_directory_path() / ("cw-not-elf-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string empty = (dir / "empty.so").string(), text = (dir / "text.so").string();
  std::ofstream{empty};
  std::ofstream(text) << std::string(4096, '#');
  Registry r;
  // No ldd hint (no library it needs is missing) and no errno text unrelated to the cause.
  EXPECT_EQ(r.load_file(empty), empty + ": cannot be loaded (file too short). Replace it with a connector built with "
                                        "the Cartwire SDK for this machine, or remove it from plugins.dir.");
  EXPECT_EQ(r.load_file(text), text + ": cannot be loaded (invalid ELF header). Replace it with a connector built "
                                      "with the Cartwire SDK for this machine, or remove it from plugins.dir.");
  std::filesystem::remove_all(dir);
}

TEST(Registry, RejectsALibraryCutShortWithoutMappingIt) {
  // A copy still under way: mapping it would end the process with SIGBUS.
  std::ifstream in(fixture("good"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);
  auto dir = std::filesystem::temp_directory_path() / ("cw-cut-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (std::size_t keep : {std::size_t{100}, bytes.size() / 10, bytes.size() / 2, bytes.size() - 1}) {
    std::string path = (dir / ("cut-" + std::to_string(keep) + ".so")).string();
    std::ofstream(path, std::ios::binary) << bytes.substr(0, keep);
    Registry r;
    std::string reason = r.load_file(path);
    EXPECT_EQ(reason, path + ": is cut short or damaged (its ELF headers describe more than its " +
                          std::to_string(keep) + " bytes; was it still being copied?). Copy the connector again; "
                                                 "the hub runs on without it.");
    EXPECT_FALSE(mapped(path));
  }
  std::filesystem::remove_all(dir);
}

TEST(Registry, RejectsDuplicateId) {
  Registry r;
  EXPECT_EQ(load_reason(r, "good"), "");
  EXPECT_EQ(load_reason(r, "good_copy"),
            fixture("good_copy") + ": duplicate connector id \"good\", already loaded from " + fixture("good") +
                ". Remove one of the two files from plugins.dir.");
}

TEST(Registry, LoadDirKeepsTheGoodOnesAndReportsTheRest) {
  Registry r;
  r.load_dir(FIXTURE_PLUGIN_DIR);
  ASSERT_NE(r.find("good"), nullptr);
  EXPECT_EQ(r.plugins().size(), 1u);
  // wrong_abi, no_entry, throws, throws_on_load, aborts_on_load, bad_manifest, missing_dep, good_copy
  EXPECT_EQ(r.rejected().size(), 8u);
}

TEST(Registry, ADanglingLinkOrAFolderNamedSoInTheDirectoryIsReported) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("cw-not-files-" + std::to_string(::getpid()));
  fs::create_directories(dir / "folder.so");
  fs::create_symlink(dir / "removed.so", dir / "dangling.so");
  fs::create_symlink(fixture("good"), dir / "good.so");
  ASSERT_EQ(::mkfifo((dir / "pipe.so").c_str(), 0600), 0);
  Registry r;
  r.load_dir(dir.string());
  EXPECT_NE(r.find("good"), nullptr) << "a link to a connector is loaded";
  ASSERT_EQ(r.rejected().size(), 3u);
  std::map<std::string, std::string> reasons;
  for (auto &rejection : r.rejected()) reasons[rejection.path] = rejection.reason;
  std::string dangling = (dir / "dangling.so").string(), folder = (dir / "folder.so").string();
  EXPECT_EQ(reasons[dangling], dangling + ": is a symbolic link to " + (dir / "removed.so").string() +
                                   ", which does not exist. Point it at a connector, or remove it from plugins.dir.");
  EXPECT_EQ(reasons[folder], folder + ": is a directory, not a connector. Move it out of plugins.dir.");
  std::string pipe = (dir / "pipe.so").string();
  EXPECT_EQ(reasons[pipe], pipe + ": is not a regular file. Remove it from plugins.dir.");
  fs::remove_all(dir);
}

TEST(Registry, MissingDirectoryIsReported) {
  Registry r;
  r.load_dir("/nonexistent/plugins");
  ASSERT_EQ(r.rejected().size(), 1u);
  EXPECT_NE(r.rejected()[0].reason.find("plugins.dir is not a directory"), std::string::npos);
}

TEST(Manifest, ChecksShape) {
  std::string error;
  EXPECT_FALSE(Manifest::parse("[]", error));
  EXPECT_EQ(error, "the manifest is not a JSON object");
  EXPECT_FALSE(Manifest::parse(R"({"id":"Bad Id","version":"1"})", error));
  EXPECT_NE(error.find("must be lower-case"), std::string::npos);
  EXPECT_FALSE(Manifest::parse(R"({"id":"a","version":"1","settings":[{"name":"x","type":"float"}]})", error));
  EXPECT_EQ(error, "manifest.settings[0] has unknown type \"float\" (types: any, array, boolean, integer, object, string)");
  EXPECT_FALSE(Manifest::parse(R"({"id":"a","version":"1","actions":[{"name":"x"},{"name":"x"}]})", error));
  EXPECT_EQ(error, "manifest.actions[1] repeats the action name \"x\"");
  EXPECT_FALSE(Manifest::parse(R"({"id":"a","version":"1","triggers":[{"name":"t","kind":"email"}]})", error));
  EXPECT_EQ(error, "manifest.triggers[0].\"kind\" must be webhook, poll or import");
  EXPECT_FALSE(Manifest::parse(R"({"id":"a","version":"1","triggers":[{"name":"t","kind":"webhook","path":"<token>"}]})",
                               error));
  EXPECT_EQ(error, "manifest.triggers[0].\"path\" must start with '/' or '?' (it follows /hooks/<source>)");
  auto hook = Manifest::parse(R"({"id":"a","version":"1","triggers":[{"name":"t","kind":"webhook","path":"/<token>"}]})",
                              error);
  ASSERT_TRUE(hook) << error;
  EXPECT_EQ(hook->trigger("t")->path, "/<token>");
  auto ok = Manifest::parse(
      R"({"id":"a","version":"1","actions":[{"name":"x","ordered":true,"params":[{"name":"p","required":true,"list":"courses"}]}],
          "lists":[{"name":"courses"}]})",
      error);
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->action("x")->ordered);
  EXPECT_EQ(ok->action("x")->param("p")->list, "courses");
  // A parameter's list is one the manifest declares: the console's pickers and check read its items.
  EXPECT_FALSE(Manifest::parse(
      R"({"id":"a","version":"1","actions":[{"name":"x","params":[{"name":"p","list":"courses"}]}]})", error));
  EXPECT_EQ(error, "manifest.actions[0].params[0] (x.p) names the list \"courses\", which is not in manifest.lists "
                   "(it declares none)");
  // A rate limit shared by the instances of one remote account names the setting that says which.
  EXPECT_FALSE(Manifest::parse(
      R"({"id":"a","version":"1","rate_limit":{"requests":5,"per_seconds":1,"shared_by":"location"}})", error));
  EXPECT_EQ(error, "manifest.rate_limit.\"shared_by\" must name one of manifest.settings");
  auto shared = Manifest::parse(R"({"id":"a","version":"1","settings":[{"name":"location","type":"string"}],
      "rate_limit":{"requests":5,"per_seconds":1,"shared_by":"location"}})",
                                error);
  ASSERT_TRUE(shared) << error;
  EXPECT_EQ(shared->rate_limit.shared_by, "location");
}

// Every problem is told, each with its place, as a compiler lists its errors: not one per build.
TEST(Manifest, NamesEveryProblemWithItsPlace) {
  std::string error;
  EXPECT_FALSE(Manifest::parse(R"({"id":"a","settings":[{"name":"x","type":"float"},{"name":"x"}],
      "actions":[{"name":"go","ordered":"yes","params":[{"type":"integer"}]},7],
      "triggers":[{"name":"t","kind":"poll"}],"fields":{"list":"tags"}})",
                               error));
  EXPECT_EQ(error,
            "manifest has no \"version\"; "
            "manifest.settings[0] has unknown type \"float\" (types: any, array, boolean, integer, object, string); "
            "manifest.settings[1] repeats the name \"x\"; "
            "manifest.actions[0].params[0] has no \"name\"; "
            "manifest.actions[0].\"ordered\" must be true or false; "
            "manifest.actions[1] must be an object; "
            "manifest.triggers[0] is a poll trigger and needs \"interval_seconds\": its default interval, a whole "
            "number of seconds from 1 to 604800; "
            "manifest.fields.\"list\" names \"tags\", which is not in manifest.lists");
  // A manifest wrong throughout is told in one line: the first ten, then how many more.
  std::string many = R"({"id":"a","version":"1","settings":[)";
  for (int i = 0; i < 12; ++i) many += std::string(i ? "," : "") + R"({"name":"s)" + std::to_string(i) + R"(","type":"x"})";
  EXPECT_FALSE(Manifest::parse(many + "]}", error));
  EXPECT_TRUE(error.ends_with("string); and 2 more")) << error;
  EXPECT_NE(error.find("manifest.settings[9] has unknown type"), std::string::npos) << error;
  EXPECT_EQ(error.find("manifest.settings[10]"), std::string::npos) << error;
}

// A misspelt "secret" would leave a credential unmasked: the key is named with the one it
// most likely means. A key of a later SDK is ignored the same way, and the manifest loads.
TEST(Manifest, NamesTheKeysItDoesNotRead) {
  std::string error;
  auto m = Manifest::parse(R"({"id":"a","version":"1","settings":[{"name":"api_key","secrte":true}],
      "actions":[{"name":"go","orderd":true}],"retries":3})",
                           error);
  ASSERT_TRUE(m) << error;
  EXPECT_FALSE(m->setting("api_key")->secret);
  EXPECT_EQ(m->unknown_keys,
            (std::vector<std::string>{
                "manifest has \"retries\", which this hub does not read and ignores (keys: id, version, name, "
                "description, settings, actions, triggers, lists, fields, rate_limit)",
                "manifest.settings[0] has \"secrte\", which this hub does not read and ignores (did you mean secret? "
                "keys: name, type, required, required_for, secret, description, list)",
                "manifest.actions[0] has \"orderd\", which this hub does not read and ignores (did you mean ordered? "
                "keys: name, description, params, ordered)"}));
  auto clean = Manifest::parse(R"({"id":"a","version":"1","settings":[{"name":"api_key","secret":true}]})", error);
  ASSERT_TRUE(clean) << error;
  EXPECT_TRUE(clean->unknown_keys.empty());
}

// A setting may be required for some uses of its connector only; "required": true stays every use.
TEST(Manifest, ASettingIsRequiredForTheUsesItNames) {
  std::string error;
  auto m = Manifest::parse(R"({"id":"a","version":"1","settings":[
      {"name":"api_key","required":true},
      {"name":"webhook_secret","required_for":["webhook"]},
      {"name":"feed","required_for":["poll","action","webhooks"]}],
      "actions":[{"name":"go","params":[{"name":"p","required_for":["action"]}]}]})",
                           error);
  ASSERT_TRUE(m) << error;
  for (const auto &role : kRoles) EXPECT_TRUE(m->setting("api_key")->required_as(role)) << role;
  EXPECT_TRUE(m->setting("webhook_secret")->required_as("webhook"));
  EXPECT_FALSE(m->setting("webhook_secret")->required_as("poll"));
  EXPECT_FALSE(m->setting("webhook_secret")->required_as("action"));
  EXPECT_FALSE(m->setting("webhook_secret")->required);
  EXPECT_EQ(m->setting("feed")->required_for, (std::vector<std::string>{"poll", "action"}));
  // A use this hub does not know (a later SDK's, or a misspelling) is named and ignored, as a key is.
  EXPECT_EQ(m->unknown_keys,
            (std::vector<std::string>{
                "manifest.settings[2].required_for has \"webhooks\", a use this hub does not know and ignores (did "
                "you mean webhook? uses: webhook, poll, action)",
                "manifest.actions[0].params[0] has \"required_for\", which this hub does not read and ignores (keys: "
                "name, type, required, secret, description, list)"}));
  EXPECT_FALSE(Manifest::parse(R"({"id":"a","version":"1","settings":[{"name":"s","required_for":"webhook"}]})", error));
  EXPECT_EQ(error, "manifest.settings[0].\"required_for\" must be an array of the uses that need the setting (webhook, "
                   "poll, action)");
}

TEST(Manifest, TypeMatching) {
  EXPECT_TRUE(matches_type("42", "integer"));
  EXPECT_TRUE(matches_type(42, "integer"));
  EXPECT_FALSE(matches_type("4x", "integer"));
  EXPECT_TRUE(matches_type(42, "string"));
  EXPECT_FALSE(matches_type(Json::object(), "string"));
  EXPECT_TRUE(matches_type(true, "boolean"));
  EXPECT_FALSE(matches_type("true", "boolean"));
  EXPECT_TRUE(matches_type("-7", "integer"));
  EXPECT_FALSE(matches_type("-", "integer"));
  EXPECT_FALSE(matches_type("", "integer"));
  // A value of hub.yaml as long as the file allows is told without a stack that grows with it.
  EXPECT_TRUE(matches_type(std::string(500000, '4'), "integer"));
  EXPECT_FALSE(matches_type(std::string(500000, '4') + "x", "integer"));
}

TEST(Redactor, MasksSecretsEverywhere) {
  Redactor r;
  r.add("abc");  // too short to mask safely
  r.add("s3cret-token");
  r.add("s3cret-token-long");
  EXPECT_EQ(r.apply("a s3cret-token-long b s3cret-token c abc"), "a [redacted] b [redacted] c abc");
  auto headers = r.headers({{"authorization", "Bearer xyz"}, {"x-auth-api-key", "k"}, {"x-note", "has s3cret-token"},
                            {"content-type", "application/json"}});
  EXPECT_EQ(headers["authorization"], "[redacted]");
  EXPECT_EQ(headers["x-auth-api-key"], "[redacted]");
  EXPECT_EQ(headers["x-note"], "has [redacted]");
  EXPECT_EQ(headers["content-type"], "application/json");
}

TEST(Redactor, AnIdempotencyKeyIsShownAsTheRequestsNameNotACredential) {
  // The same key on every attempt of a job is how a duplicate is traced in the execution log.
  Redactor r;
  r.add("s3cret-token");
  auto headers = r.headers({{"Idempotency-Key", "job_42"}, {"x-idempotency-key-secret", "s3cret-token"}});
  EXPECT_EQ(headers["Idempotency-Key"], "job_42");
  EXPECT_EQ(headers["x-idempotency-key-secret"], "[redacted]");
  EXPECT_FALSE(is_credential_header("idempotency-key"));
}

TEST(Redactor, AHeaderNamedLikeAKeyIsACredential) {
  Redactor r;
  auto headers = r.headers({{"x-functions-key", "fn-1"}, {"ocp-apim-subscription-key", "sub-1"}, {"x-team", "sales"}});
  EXPECT_EQ(headers["x-functions-key"], "[redacted]");
  EXPECT_EQ(headers["ocp-apim-subscription-key"], "[redacted]");
  EXPECT_EQ(headers["x-team"], "sales");
  r.add_setting({{"X-Functions-Key", "fnKeyQw83Lp2Zx"}, {"X-Team", "sales-team"}});
  EXPECT_EQ(r.apply("key fnKeyQw83Lp2Zx of sales-team"), "key [redacted] of sales-team");
}

TEST(Redactor, ACredentialIsMaskedWithoutItsSchemeToo) {
  Redactor r;
  r.add_setting({{"Authorization", "Bearer SECRETHEADERVAL12345"}, {"X-Token", "Token token=tk_9f8e7d6c5b"}});
  EXPECT_EQ(r.apply("401: invalid token SECRETHEADERVAL12345"), "401: invalid token [redacted]");
  EXPECT_EQ(r.apply("sent Bearer SECRETHEADERVAL12345"), "sent [redacted]");
  EXPECT_EQ(r.apply("unknown key tk_9f8e7d6c5b"), "unknown key [redacted]");
  EXPECT_EQ(r.apply("Bearer and Token stay"), "Bearer and Token stay") << "the schemes are no secrets";
  Redactor words;
  words.add("correct horse battery staple");  // a passphrase: its words are not secrets one by one
  EXPECT_EQ(words.apply("battery staple"), "battery staple");
}

TEST(Redactor, ASecretIsMaskedInTheFormsARemoteQuotesItIn) {
  Redactor r;
  r.add("ab/cd+ef gh=\"ij");
  EXPECT_EQ(r.apply("raw ab/cd+ef gh=\"ij"), "raw [redacted]");
  EXPECT_EQ(r.apply("Location: /x?k=ab%2Fcd%2Bef%20gh%3D%22ij"), "Location: /x?k=[redacted]");
  EXPECT_EQ(r.apply("form k=ab%2Fcd%2Bef+gh%3D%22ij"), "form k=[redacted]");
  EXPECT_EQ(r.apply(R"({"k":"ab/cd+ef gh=\"ij"})"), R"({"k":"[redacted]"})");
  EXPECT_EQ(r.apply(R"({"k":"ab\/cd+ef gh=\"ij"})"), R"({"k":"[redacted]"})");
  Redactor copy;
  copy.add_all(r);
  EXPECT_EQ(copy.apply("ab%2Fcd%2Bef%20gh%3D%22ij"), "[redacted]");
}

TEST(Redactor, ASettingTooShortToMaskIsToldApart) {
  EXPECT_TRUE(Redactor::too_short(Json("abc")));
  EXPECT_TRUE(Redactor::too_short(Json(123)));
  EXPECT_FALSE(Redactor::too_short(Json("abcd")));
  EXPECT_FALSE(Redactor::too_short(Json("")));
  EXPECT_TRUE(Redactor::too_short(Json::array({"long-enough", "x9"})));
  // A map (a Notify URL's headers) by its credential-named keys only, as add_setting() takes it.
  EXPECT_TRUE(Redactor::too_short(Json{{"Authorization", "abc"}, {"Accept", "j"}}));
  EXPECT_FALSE(Redactor::too_short(Json{{"Authorization", "Bearer abc"}, {"Accept", "j"}}));
  Redactor r;
  r.add_setting(Json{{"Authorization", "abc"}});
  EXPECT_EQ(r.apply("abc"), "abc") << "what too_short() tells apart is what add_setting() leaves out";
}

TEST(Redactor, AUrlSettingsQueryCredentialsAreSecrets) {
  Redactor r;
  r.add_url_credentials("https://hooks.example/in?token=tok-7Rw2Lp9q&sig=sig%2F8Hd3Ks&page=2&site=pages-of-site");
  r.add_url_credentials("https://user:pass-4Fv8Nq@example.com/x?api_key=short");
  r.add_url_credentials("not a url, token=plainTextTok12");
  EXPECT_EQ(r.apply("https://hooks.example/in?token=tok-7Rw2Lp9q&sig=sig%2F8Hd3Ks&page=2&site=pages-of-site"),
            "https://hooks.example/in?token=[redacted]&sig=[redacted]&page=2&site=pages-of-site");
  EXPECT_EQ(r.apply("https://user:pass-4Fv8Nq@example.com/x?api_key=short"),
            "https://user:[redacted]@example.com/x?api_key=short")
      << "a value shorter than 8 characters is left, as it would mask common words";
  EXPECT_EQ(r.apply("plainTextTok12"), "plainTextTok12");
}

// A hook URL's path may carry its token (/services/T…/B…/<token>): a segment written as a key is a secret;
// a word, a name or a number is not, so that a Notify URL's failure names the endpoint.
TEST(Redactor, AUrlSettingsPathTokensAreSecrets) {
  Redactor r;
  r.add_url_credentials("https://hooks.example.com/services/T0AB12CD3/B0CD34EF5/q8Lp2Zx9Qw83Rt5Yu7Io?x=1");
  r.add_url_credentials("https://hooks.example.com/api/webhooks/1187/aB3-dE5_gH7%2FjK9mN1pQ3#top");
  const std::string named = "https://hooks.example.com/in/order-confirmations-2026/12345678901234567/v2-hooks/";
  r.add_url_credentials(named);
  EXPECT_EQ(r.apply("POST https://hooks.example.com/services/T0AB12CD3/B0CD34EF5/q8Lp2Zx9Qw83Rt5Yu7Io: HTTP 500"),
            "POST https://hooks.example.com/services/T0AB12CD3/B0CD34EF5/[redacted]: HTTP 500");
  EXPECT_EQ(r.apply("/api/webhooks/1187/aB3-dE5_gH7%2FjK9mN1pQ3 and aB3-dE5_gH7/jK9mN1pQ3"),
            "/api/webhooks/1187/[redacted] and [redacted]")
      << "as written and decoded";
  EXPECT_EQ(r.apply(named), named);
}

// An automation service's hook URL ends in a shorter token (Zapier's /hooks/catch/<account>/<token>/, 7
// characters): letters and digits alone, mixed; words, versions, ids and names of its path and of others are
// shown.
TEST(Redactor, AUrlSettingsShortPathTokensAreSecretsAndItsWordsAreNot) {
  Redactor r;
  for (auto url : {"https://hooks.zapier.com/hooks/catch/123456/abc1234/",
                   "https://hooks.zapier.com/hooks/catch/98765/o6o9wt0", "https://hooks.example.com/in/x7Kp2Qm?page=2"})
    r.add_url_credentials(url);
  EXPECT_EQ(r.apply("POST https://hooks.zapier.com/hooks/catch/123456/abc1234/: HTTP 410"),
            "POST https://hooks.zapier.com/hooks/catch/123456/[redacted]/: HTTP 410");
  EXPECT_EQ(r.apply("/hooks/catch/98765/o6o9wt0 and /in/x7Kp2Qm"), "/hooks/catch/98765/[redacted] and /in/[redacted]");
  const std::vector<std::string> ordinary = {"https://shop.example.com/api/v2/orders",
                                             "https://hub.example.com/webhook/thrivecart",
                                             "https://shop.example.com/hooks/webhook2/python3",
                                             "https://shop.example.com/v1beta/base64/sha256/x509",
                                             "https://shop.example.com/in/order-confirmations-2026/2026-01-15/utf_16le",
                                             "https://shop.example.com/api/1234567",
                                             "https://shop.example.com/customers/cus4242/orders",
                                             "https://dns.example.com/aws/route53",
                                             "https://shop.example.com/archive/orders2026",
                                             "https://shop.example.com/partners/99designs",
                                             "https://shop.example.com/hooks/catch/all/catalogue",
                                             "https://shop.example.com/with/keys/rotation"};
  Redactor words;
  for (auto &url : ordinary) words.add_url_credentials(url);
  for (auto &url : ordinary) EXPECT_EQ(words.apply(url), url);
}

// A hook service's URL of a known shape carries its token where a word could be: after Zapier's
// /hooks/catch/<account>/ (letters alone, a digit at one end, before /silent/), after IFTTT's /with/key/, as the
// endpoint of a Pipedream host; Make's and n8n's are keys of 16 characters or more.
TEST(Redactor, AHookUrlsTokenIsASecretWhateverItsLettersAfterItsKnownShape) {
  Redactor r;
  for (auto url : {"https://hooks.zapier.com/hooks/catch/123456/abcdefg/",
                   "https://hooks.zapier.com/hooks/catch/123456/qwerty7/silent/",
                   "https://hooks.zapier.com/hooks/catch/123456/4zxcvbn",
                   "https://maker.ifttt.com/trigger/order_paid/with/key/dKpqBxYzWvUtSrQnMlKjHg",
                   "https://maker.ifttt.com/trigger/refund/json/with/key/hGfEdCbA-zYxWvUtSr_QpO",
                   "https://eoxkqwzmhvtrplb.m.pipedream.net", "https://hook.eu1.make.com/k8d3mq2v7x9p1w4z6n5b0c3r8t2y7h1j",
                   "https://n8n.example.com/webhook/3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b"})
    r.add_url_credentials(url);
  EXPECT_EQ(r.apply("POST https://hooks.zapier.com/hooks/catch/123456/abcdefg/: HTTP 410"),
            "POST https://hooks.zapier.com/hooks/catch/123456/[redacted]/: HTTP 410");
  EXPECT_EQ(r.apply("/hooks/catch/123456/qwerty7/silent/ and /hooks/catch/123456/4zxcvbn"),
            "/hooks/catch/123456/[redacted]/silent/ and /hooks/catch/123456/[redacted]");
  EXPECT_EQ(r.apply("https://maker.ifttt.com/trigger/order_paid/with/key/dKpqBxYzWvUtSrQnMlKjHg"),
            "https://maker.ifttt.com/trigger/order_paid/with/key/[redacted]");
  EXPECT_EQ(r.apply("/trigger/refund/json/with/key/hGfEdCbA-zYxWvUtSr_QpO"), "/trigger/refund/json/with/key/[redacted]");
  EXPECT_EQ(r.apply("POST https://eoxkqwzmhvtrplb.m.pipedream.net: HTTP 500"),
            "POST https://[redacted].m.pipedream.net: HTTP 500");
  EXPECT_EQ(r.apply("https://hook.eu1.make.com/k8d3mq2v7x9p1w4z6n5b0c3r8t2y7h1j"), "https://hook.eu1.make.com/[redacted]");
  EXPECT_EQ(r.apply("https://n8n.example.com/webhook/3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b"),
            "https://n8n.example.com/webhook/[redacted]");
  EXPECT_EQ(r.apply("hooks catch silent trigger order_paid refund json with key webhook"),
            "hooks catch silent trigger order_paid refund json with key webhook")
      << "the words of the shapes are shown";
}

TEST(Redactor, AQueryNameIsASignatureOrAuthByItsWordsNotByLettersInsideOtherWords) {
  const std::string url =
      "https://hooks.example/in?design=landing-page-2&author=jane-doe-writer&X-Amz-Signature=ab12cd34ef56"
      "&oauth_signature=Qw83Lp2Zx9&authCode=Zx9Qw83Lp2&apiSig=Lp2Zx9Qw83&signed_by=shop-owner-team";
  Redactor r;
  r.add_url_credentials(url);
  EXPECT_EQ(r.apply(url),
            "https://hooks.example/in?design=landing-page-2&author=jane-doe-writer&X-Amz-Signature=[redacted]"
            "&oauth_signature=[redacted]&authCode=[redacted]&apiSig=[redacted]&signed_by=shop-owner-team");
  EXPECT_EQ(r.apply("a landing-page-2 by jane-doe-writer"), "a landing-page-2 by jane-doe-writer")
      << "plain words of a URL's other parameters are no secrets elsewhere either";
}

TEST(Redactor, UrlCredentialsOfATreeAreAddedOnlyWhenNew) {
  Redactor r;
  r.add("known-Secret-9x");
  r.add_url_credentials("https://hooks.example/in?token=tok-7Rw2Lp9q");
  Json known = {{"url", "https://hooks.example/in?token=tok-7Rw2Lp9q"}, {"n", 3}};
  EXPECT_FALSE(r.with_url_credentials(known)) << "nothing new: no copy";
  EXPECT_FALSE(r.with_url_credentials(Json{{"url", "https://hooks.example/in?token=[redacted]"}}))
      << "a credential masked already is no new one";
  Json old = {{"params", {{"url", "https://hooks.example/in?api_key=old-Key-4Fv8Nq&page=2"}}},
              {"error", "denied for old-Key-4Fv8Nq"}};
  auto more = r.with_url_credentials(old);
  ASSERT_TRUE(more);
  EXPECT_EQ(more->apply(old.dump()),
            R"({"error":"denied for [redacted]","params":{"url":"https://hooks.example/in?api_key=[redacted]&page=2"}})");
  EXPECT_EQ(more->apply("known-Secret-9x"), "[redacted]") << "the secrets it was made from stay";
  EXPECT_EQ(r.apply("old-Key-4Fv8Nq"), "old-Key-4Fv8Nq") << "the original is left as it was";
  Json path = {{"params", {{"url", "https://hooks.zapier.com/hooks/catch/123456/q8w2e7r/"}}}};
  auto token = r.with_url_credentials(path);
  ASSERT_TRUE(token) << "a URL with neither query nor userinfo may carry a token in its path";
  EXPECT_EQ(token->apply(path.dump()), R"({"params":{"url":"https://hooks.zapier.com/hooks/catch/123456/[redacted]/"}})");
}

TEST(Redactor, AUrlsCredentialIsMaskedAsItIsWrittenInTheUrl) {
  // Percent-encoded otherwise than the redactor would encode it: lowercase hex, an unreserved character encoded.
  const std::string url = "https://user:pa%2fss-4Fv8Nq@example.com/x?token=tok%2f7Rw2Lp9q&api_key=k%2DQw83Lp2Zx";
  Redactor r;
  r.add_url_credentials(url);
  EXPECT_EQ(r.apply(url), "https://user:[redacted]@example.com/x?token=[redacted]&api_key=[redacted]");
  EXPECT_EQ(r.apply("password pa/ss-4Fv8Nq, token tok/7Rw2Lp9q, key k-Qw83Lp2Zx"),
            "password [redacted], token [redacted], key [redacted]")
      << "and as a remote quotes it decoded";
}

namespace {

/** The good fixture, called through the native seam or the JSON seam. */
struct BothSeams {
  BothSeams() {
    EXPECT_EQ(registry.load_file(fixture("good")), "");
    const Plugin *p = registry.find("good");
    native = std::make_unique<Instance>(*p, "lab", settings, services, Redactor{}, /*native_calls=*/true);
    json = std::make_unique<Instance>(*p, "lab", settings, services, Redactor{}, /*native_calls=*/false);
  }
  const cartwire::sdk::Json settings = {{"token", "t0ken-for-the-test"}};
  Registry registry;
  HostServices services;
  std::unique_ptr<Instance> native, json;
};

}  // namespace

TEST(RateGate, AReservationCountsAsTheFirstRequestAndAFullBudgetSaysHowLongToWait) {
  RateGate gate(2, std::chrono::milliseconds(60000));
  EXPECT_EQ(gate.spacing(), std::chrono::milliseconds(30000));
  EXPECT_EQ(gate.reserve(), std::chrono::milliseconds(0));
  gate.acquire();  // the reserved slot: returns at once, takes nothing more
  EXPECT_EQ(gate.wait(), std::chrono::milliseconds(0)) << "one slot left";
  EXPECT_EQ(gate.reserve(), std::chrono::milliseconds(0));
  gate.release_reservation();  // unused, but the slot stays spent
  auto wait = gate.wait();
  EXPECT_GT(wait, std::chrono::milliseconds(59000));
  EXPECT_LE(wait, std::chrono::milliseconds(60000));
  EXPECT_GT(gate.reserve(), std::chrono::milliseconds(59000)) << "nothing is taken when the budget is spent";
  RateGate unlimited(0, std::chrono::milliseconds(1000));
  EXPECT_EQ(unlimited.reserve(), std::chrono::milliseconds(0));
  EXPECT_EQ(unlimited.spacing(), std::chrono::milliseconds(0));
}

TEST(RateGate, NodesSharingABudgetEachKeepTheirShare) {
  RateGate gate(100, std::chrono::milliseconds(10000));
  gate.share(2);
  EXPECT_EQ(gate.room(), 50);
  EXPECT_EQ(gate.spacing(), std::chrono::milliseconds(200));
  gate.share(3);
  EXPECT_EQ(gate.room(), 33) << "33 each: never more than the 100 together";
  for (int i = 0; i < 33; ++i) gate.acquire();
  EXPECT_GT(gate.wait(), std::chrono::milliseconds(9000));
  gate.share(1);  // the other nodes stopped: the whole budget again
  EXPECT_EQ(gate.room(), 67);

  // More nodes than requests: one request in a longer window each.
  RateGate small(3, std::chrono::milliseconds(1000));
  small.share(5);
  EXPECT_EQ(small.room(), 1);
  EXPECT_EQ(small.spacing(), std::chrono::milliseconds(2000)) << "5 nodes x 1 request / 2 s <= 3 requests / s";
  RateGate unlimited(0, std::chrono::milliseconds(1000));
  unlimited.share(4);
  EXPECT_EQ(unlimited.room(), -1);
}

TEST(Redactor, AMapSettingIsMaskedValueByValueAndTreesAreScrubbed) {
  Redactor r;
  // Credential-named headers are secrets; an Accept header is not, and masking
  // "application/json" everywhere would hide what the log is for.
  cartwire::sdk::Json headers = {
      {"Authorization", "Bearer abc-123-xyz"}, {"X-Api-Key", "partner-77"}, {"Accept", "application/json"}};
  r.add_setting(headers);
  EXPECT_EQ(Redactor::masked(headers), (cartwire::sdk::Json{{"Authorization", "[redacted]"},
                                                            {"X-Api-Key", "[redacted]"},
                                                            {"Accept", "application/json"}}));
  EXPECT_EQ(Redactor::masked("plain-secret"), "[redacted]");
  cartwire::sdk::Json tree = {{"note", "call partner-77 now"},
                              {"list", {"Bearer abc-123-xyz", 5}},
                              {"type", "application/json"},
                              {"partner-77", "keys stay"}};
  r.scrub(tree);
  EXPECT_EQ(tree, (cartwire::sdk::Json{{"note", "call [redacted] now"},
                                       {"list", {"[redacted]", 5}},
                                       {"type", "application/json"},
                                       {"partner-77", "keys stay"}}));
}

TEST(Seams, AConnectorBuiltWithTheHubsToolchainTakesTheNativeSeamUnlessTurnedOff) {
  BothSeams seams;
  EXPECT_TRUE(seams.native->native());
  EXPECT_FALSE(seams.json->native());
  // Built with another toolchain: loaded, and called through the JSON seam.
  Registry r;
  ASSERT_EQ(r.load_file(OTHER_TOOLCHAIN_PLUGIN), "");
  const Plugin *other = r.find("good");
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->native(), nullptr);
  // Its log line says what differs, for its author to build to match.
  EXPECT_EQ(other->seam(), "built with another toolchain or SDK: JSON calls (its native key \"cartwire-sdk 1.5.0 "
                           "another-compiler\" is not this hub's \"" CARTWIRE_NATIVE_KEY "\")");
  EXPECT_EQ(seams.native->plugin().seam(), "built with this hub's toolchain: native calls available");
  HostServices services;
  Instance instance(*other, "lab", seams.settings, services, Redactor{});
  EXPECT_FALSE(instance.native());
  CallLog log;
  cartwire::sdk::ActionRequest request;
  request.action = "echo";
  request.params = {{"text", "hi"}};
  EXPECT_EQ(instance.action(request, log).data, request.params);
}

TEST(Seams, ActionsGiveTheSameResultOnBothSeams) {
  BothSeams seams;
  cartwire::sdk::ActionRequest request;
  request.action = "echo";
  request.params = {{"text", "héllo"}, {"n", 3}};
  request.event = {{"type", "order.completed"}};
  CallLog log_native, log_json;
  auto a = seams.native->action(request, log_native);
  auto b = seams.json->action(request, log_json);
  EXPECT_TRUE(a.is_ok());
  EXPECT_EQ(a.to_json(), b.to_json());

  // A connector that throws: a permanent result with the exception's text, on both.
  request.action = "explode";
  a = seams.native->action(request, log_native);
  b = seams.json->action(request, log_json);
  EXPECT_EQ(a.outcome, cartwire::sdk::Outcome::permanent);
  EXPECT_EQ(a.message, "connector threw: kaboom in explode");
  EXPECT_EQ(a.to_json(), b.to_json());
}

// A value that is no std::exception has no text: what it is, the connector and the call are told.
TEST(Seams, AConnectorThatThrowsNoExceptionIsToldWithTheTypeItThrew) {
  BothSeams seams;
  cartwire::sdk::ActionRequest request;
  request.action = "explode";
  CallLog log_native, log_json;
  for (auto [thrown, type] : {std::pair{"int", "int"}, std::pair{"text", "char const*"}}) {
    request.params = {{"throw", thrown}};
    auto a = seams.native->action(request, log_native);
    auto b = seams.json->action(request, log_json);
    EXPECT_EQ(a.outcome, cartwire::sdk::Outcome::permanent);
    EXPECT_EQ(a.message, std::string("connector good threw a non-exception value (") + type + ") in action explode");
    EXPECT_EQ(a.to_json(), b.to_json());
  }
  cartwire::sdk::WebhookRequest hook;
  hook.method = "POST";
  hook.trigger = "webhook";
  hook.body = "throw 42";
  auto a = seams.native->webhook(hook);
  auto b = seams.json->webhook(hook);
  EXPECT_EQ(a.status, 500);
  EXPECT_NE(a.body.find("connector good threw a non-exception value (int) in webhook webhook"), std::string::npos)
      << a.body;
  EXPECT_EQ(a.to_json(), b.to_json());
}

TEST(Seams, AnActionsHttpExchangeIsRecordedAndRedactedAlikeOnBothSeams) {
  BothSeams seams;
  cartwire::sdk::ActionRequest request;
  request.action = "fetch";
  request.params = {{"url", "http://127.0.0.1:1/nothing-listens-here"}};
  const std::string event_text = R"({"id":7,"type":"order.completed"})";
  CallLog log_native, log_json;
  // The event as the store wrote it: the native seam parses it, the JSON seam sends it.
  auto a = seams.native->action(request, log_native, &event_text);
  auto b = seams.json->action(request, log_json, &event_text);
  EXPECT_EQ(a.outcome, cartwire::sdk::Outcome::retryable);
  EXPECT_FALSE(a.message.empty());
  EXPECT_EQ(a.data, (cartwire::sdk::Json{{"event_type", "order.completed"}}));
  EXPECT_EQ(a.to_json(), b.to_json());
  ASSERT_EQ(log_native.exchanges.size(), 1u);
  ASSERT_EQ(log_json.exchanges.size(), 1u);
  const auto &ex = log_native.exchanges[0];
  EXPECT_EQ(ex.request, log_json.exchanges[0].request);
  EXPECT_EQ(ex.response, log_json.exchanges[0].response);
  EXPECT_EQ(ex.request["url"], "http://127.0.0.1:1/nothing-listens-here");
  EXPECT_EQ(ex.request.dump().find("t0ken-for-the-test"), std::string::npos) << ex.request.dump();
  EXPECT_TRUE(ex.response.contains("error")) << ex.response.dump();
}

TEST(Instance, MasksTheHubsSecretsItWasGivenInWhatItRecords) {
  Registry registry;
  ASSERT_EQ(registry.load_file(fixture("good")), "");
  HostServices services;
  services.clock_ms = [] { return int64_t{0}; };
  Redactor hub;
  hub.add("admin-token-of-the-hub");
  Instance instance(*registry.find("good"), "lab", {{"token", "t0ken-for-the-test"}}, services, hub);
  cartwire::sdk::ActionRequest request;
  request.action = "fetch";
  // A rule that maps another secret into a URL: the record keeps the URL, not the secret.
  request.params = {{"url", "http://127.0.0.1:1/hook?key=admin-token-of-the-hub"}};
  CallLog log;
  instance.action(request, log);
  ASSERT_EQ(log.exchanges.size(), 1u);
  EXPECT_EQ(log.exchanges[0].request["url"], "http://127.0.0.1:1/hook?key=[redacted]");
  EXPECT_EQ(instance.redactor().apply("t0ken-for-the-test admin-token-of-the-hub"), "[redacted] [redacted]");
}

TEST(Seams, WebhooksGiveTheSameReplyOnBothSeams) {
  BothSeams seams;
  cartwire::sdk::WebhookRequest request;
  request.method = "POST";
  request.body = R"({"order_id": 4815, "items": ["Course", "Coaching"]})";
  auto a = seams.native->webhook(request);
  auto b = seams.json->webhook(request);
  EXPECT_EQ(a.status, 202);
  ASSERT_EQ(a.events.size(), 2u);
  // The payload stays shared, apart from the events, on both seams.
  EXPECT_EQ(a.raw["items"][1], "Coaching");
  EXPECT_FALSE(a.events[0].contains("raw"));
  EXPECT_EQ(a.to_json(), b.to_json());

  request.body = "throw";
  a = seams.native->webhook(request);
  b = seams.json->webhook(request);
  EXPECT_EQ(a.status, 500);
  EXPECT_NE(a.body.find("connector threw: kaboom in webhook"), std::string::npos) << a.body;
  EXPECT_EQ(a.to_json(), b.to_json());
}

TEST(Seams, ARequestTheJsonSeamCannotCarryIsRefusedWithTheReason) {
  BothSeams seams;
  cartwire::sdk::WebhookRequest request;
  request.method = "POST";
  request.body = "{\"name\": \"\xff\xfe\"}";
  auto reply = seams.json->webhook(request);
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(reply.body.find("not valid UTF-8"), std::string::npos) << reply.body;
  EXPECT_TRUE(reply.events.empty());
  // The native seam hands the bytes to the connector, which judges them: this
  // one throws, quoting them, and its answer is still valid UTF-8 JSON.
  auto judged = seams.native->webhook(request);
  EXPECT_EQ(judged.status, 500);
  EXPECT_NE(judged.body.find("connector threw"), std::string::npos) << judged.body;
  EXPECT_FALSE(cartwire::sdk::Json::parse(judged.body, nullptr, false).is_discarded()) << judged.body;
}
