// cartwire: the command-line entry point.
#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionException.h>
#include <Poco/Util/OptionProcessor.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <sstream>

#include "app/commands.hpp"

namespace cartwire {
namespace {

using Poco::Util::Option;
using Poco::Util::OptionSet;

void setup_logging(const std::string &level) {
  Poco::AutoPtr<Poco::PatternFormatter> pattern(new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p %s: %t"));
  Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(pattern, new Poco::ConsoleChannel));
  Poco::Logger::root().setChannel(channel);
  Poco::Logger::root().setLevel(level);
  // Loggers created before this point keep their old level; bring them along.
  std::vector<std::string> names;
  Poco::Logger::names(names);
  for (auto &n : names) Poco::Logger::get(n).setLevel(level);
}

// A command: its arguments as the help writes them, how many it takes at least
// (and what to say when they are missing) and at most, what it does, and the
// options it reads beside --help.
struct Command {
  std::string name;
  std::string args;
  std::size_t min_args;
  std::string missing;
  std::size_t max_args;
  std::string summary;
  std::vector<std::string> options;

  std::string usage() const { return "cartwire " + name + (args.empty() ? "" : " " + args) + " [OPTIONS]"; }
};

const std::vector<Command> kCommands = {
    {"serve", "", 0, "", 0, "run the hub: accept webhooks and run the rules' jobs",
     {"config", "daemon", "umask", "pidfile"}},
    {"check", "", 0, "", 0, "validate hub.yaml against the connectors and cached lists", {"config", "allow-unset"}},
    {"refresh", "INTEGRATION [LIST..]", 1,
     "name the integration, e.g. cartwire refresh school courses --config hub.yaml",
     std::numeric_limits<std::size_t>::max(), "fetch an integration's resource lists (courses, tags, ...)",
     {"config"}},
    {"import", "SOURCE FILE.csv", 2,
     "name the source and the file, e.g. cartwire import thrivecart orders.csv --config hub.yaml", 2,
     "backfill a cart's CSV export as events, never duplicating webhooks",
     {"config", "kind", "dry-run", "run-rules", "column", "encoding", "date-format"}},
    {"version", "", 0, "", 0, "print the version", {}},
};

// A store at var/cartwire.db of the folder the command runs in, when this one's
// is the default beside hub.yaml: where hubs started from that folder kept the
// default store before it moved beside the file. Its jobs would never run.
void warn_of_a_store_left_behind(const config::HubConfig &cfg) {
  namespace fs = std::filesystem;
  fs::path beside = (fs::absolute(cfg.file).parent_path() / "var" / "cartwire.db").lexically_normal();
  fs::path here = fs::absolute("var/cartwire.db").lexically_normal();
  std::error_code ec;
  if (cfg.storage.driver != "sqlite" || fs::path(cfg.storage.path) != beside || !fs::is_regular_file(here, ec) ||
      fs::equivalent(here, beside, ec))
    return;
  Poco::Logger::get("cartwire").warning(
      "another store is at " + here.string() + ", in the folder this command runs from; this hub's is " +
      beside.string() + ", beside " + cfg.file + ", as storage.path is unset. Hubs started from this folder kept "
      "their store there before: if it holds your events and jobs, stop the hub and set storage.path: " +
      here.string() + " in " + cfg.file);
}

const Command *find_command(const std::string &name) {
  auto it = std::find_if(kCommands.begin(), kCommands.end(), [&](auto &c) { return c.name == name; });
  return it == kCommands.end() ? nullptr : &*it;
}

class CartwireApp : public Poco::Util::ServerApplication {
 public:
  /**
   * ServerApplication::run(argc, argv), with an unknown option or one missing
   * its value refused as a usage error: ServerApplication would log Poco's
   * message and exit with EXIT_CONFIG.
   */
  int run_command_line(int argc, char **argv) {
    if (!options_are_usable(argc, argv)) return EXIT_USAGE;
    return run(argc, argv);
  }

 protected:
  void defineOptions(OptionSet &options) override {
    ServerApplication::defineOptions(options);
    options.addOption(Option("help", "h", "show this help")
                          .callback(Poco::Util::OptionCallback<CartwireApp>(this, &CartwireApp::on_help)));
    options.addOption(Option("config", "c", "path to hub.yaml (default: config/hub.yaml)")
                          .argument("FILE")
                          .binding("cartwire.config"));
    options.addOption(Option("allow-unset", "", "check: an unset ${VARIABLE} (a CI machine without the secrets) is "
                                                "a warning, and what it gives a value is not checked")
                          .binding("cartwire.check.allow_unset"));
    options.addOption(Option("kind", "", "import: the kind of export (e.g. orders); default: read from the header")
                          .argument("KIND")
                          .binding("cartwire.import.kind"));
    options.addOption(Option("dry-run", "", "import: report what would be stored, store nothing")
                          .binding("cartwire.import.dry_run"));
    options.addOption(Option("run-rules", "", "import: create the rules' jobs for new events, as webhooks do")
                          .binding("cartwire.import.run_rules"));
    options.addOption(Option("column", "", "import: read the file's column COLUMN as NAME (repeatable), e.g. "
                                           "--column \"Transaction ID=order_id\"")
                          .argument("COLUMN=NAME")
                          .repeatable(true)
                          .callback(Poco::Util::OptionCallback<CartwireApp>(this, &CartwireApp::on_column)));
    options.addOption(Option("encoding", "", "import: the file's text encoding when not UTF-8, e.g. windows-1252 "
                                             "(Excel's \"CSV\" on Windows)")
                          .argument("NAME")
                          .binding("cartwire.import.encoding"));
    options.addOption(Option("date-format", "", "import: the order of day and month in dates such as 15/01/2026 "
                                                "10:00 that a spreadsheet rewrote: DD/MM/YYYY or MM/DD/YYYY")
                          .argument("FORMAT")
                          .binding("cartwire.import.date_format"));
  }

  void on_column(const std::string &, const std::string &value) {
    std::size_t eq = value.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) {
      bad_column_ = value;
      return;
    }
    columns_.emplace_back(value.substr(0, eq), value.substr(eq + 1));
  }

  void on_help(const std::string &, const std::string &) {
    help_ = true;
    stopOptionsProcessing();
  }

  // Reads the options as ServerApplication's processing will; false, having
  // said why, for one it would refuse or one the command does not read.
  bool options_are_usable(int argc, char **argv) {
    OptionSet options;
    defineOptions(options);
    Poco::Util::OptionProcessor processor(options);
    std::string arg, command, written;
    std::vector<std::pair<std::string, std::string>> given;  // option name, as written
    try {
      for (int i = 1; i < argc; ++i) {
        arg = argv[i];
        std::string name, value;
        if (!processor.process(arg, name, value)) {
          if (command.empty()) command = arg;
          continue;
        }
        if (written.empty()) written = arg;  // "--config" of "--config FILE": its name comes with FILE
        if (name.empty()) continue;
        if (name == "help") return true;  // help is shown whatever follows, as Poco's processing stops there
        given.emplace_back(name, written);
        written.clear();
      }
      processor.checkRequired();
    } catch (const Poco::Util::UnknownOptionException &) {
      std::cerr << "cartwire: unknown option '" << arg << "' (see --help)\n";
      return false;
    } catch (const Poco::Util::MissingArgumentException &e) {
      std::cerr << "cartwire: option --" << e.message() << " (see --help)\n";  // "config requires FILE"
      return false;
    } catch (const Poco::Util::OptionException &e) {
      std::cerr << "cartwire: " << arg << ": " << e.displayText() << " (see --help)\n";
      return false;
    }
    const Command *known = find_command(command);
    if (!known) return true;  // main() says what is wrong with the command
    for (auto &[name, written] : given) {
      if (std::find(known->options.begin(), known->options.end(), name) != known->options.end()) continue;
      std::cerr << "cartwire " << command << ": option '" << written << "' is not one this command reads (see cartwire "
                << command << " --help)\n";
      return false;
    }
    return true;
  }

  void print_help() {
    std::ostringstream commands;
    for (auto &c : kCommands)
      commands << "  " << std::left << std::setw(30) << c.name + (c.args.empty() ? "" : " " + c.args) << c.summary
               << "\n";
    Poco::Util::HelpFormatter help(options());
    help.setCommand("cartwire");
    help.setUsage("COMMAND [ARGS] [OPTIONS]");
    help.setWidth(100);  // the command lines below are up to 99 characters
    help.setHeader("Cartwire: carts' webhooks to your tools, on your own server.\n\nCommands:\n" + commands.str() +
                   "\ncartwire COMMAND --help shows a command's arguments and options.\n\nOptions:");
    help.format(std::cout);
  }

  // One command's help: what it does and the options it reads.
  void print_help(const Command &command) {
    OptionSet read;
    for (auto &option : options())
      if (option.fullName() == "help" ||
          std::find(command.options.begin(), command.options.end(), option.fullName()) != command.options.end())
        read.addOption(option);
    Poco::Util::HelpFormatter help(read);
    help.setCommand(command.usage());
    help.setWidth(100);
    help.setHeader(command.summary + "\n\nOptions:");
    help.format(std::cout);
  }

  int main(const ArgVec &args) override {
    if (help_) {
      if (const Command *of = args.empty() ? nullptr : find_command(args.front()))
        print_help(*of);
      else
        print_help();
      return EXIT_OK;
    }
    if (args.empty()) {
      print_help();
      return EXIT_USAGE;
    }
    const std::string &command = args.front();
    const Command *known = find_command(command);
    if (!known) {
      std::string names;
      for (auto &c : kCommands) names += (names.empty() ? "" : ", ") + c.name;
      std::cerr << "cartwire: unknown command '" << command << "' (commands: " << names << "; see --help)\n";
      return EXIT_USAGE;
    }
    if (args.size() - 1 < known->min_args) {
      std::cerr << "cartwire " << command << ": " << known->missing << "\n";
      return EXIT_USAGE;
    }
    if (args.size() - 1 > known->max_args) {
      std::cerr << "cartwire " << command << ": unexpected argument '" << args[known->max_args + 1]
                << "' (usage: " << known->usage() << ")\n";
      return EXIT_USAGE;
    }
    // A write past the file size limit (ulimit -f, systemd's LimitFSIZE) fails with EFBIG, which
    // the store reports as a write it cannot make (as a full disk), rather than end the process.
    ::signal(SIGXFSZ, SIG_IGN);
    if (command == "serve") {
      // A SIGHUP while the hub starts (a deployment that starts it and reloads it at once) would
      // end it: held until serve's reload thread takes it, as a reload once the hub runs.
      sigset_t hangup;
      sigemptyset(&hangup);
      sigaddset(&hangup, SIGHUP);
      pthread_sigmask(SIG_BLOCK, &hangup, nullptr);
    }
    if (command == "version") {
      std::cout << "cartwire " << CARTWIRE_VERSION << " (plugin ABI " << CW_ABI_VERSION << ")\n";
      return EXIT_OK;
    }
    if (!bad_column_.empty()) {
      std::cerr << "cartwire import: --column " << bad_column_
                << ": write the file's column, '=' and the name to read it as, e.g. --column \"Transaction "
                   "ID=order_id\"\n";
      return EXIT_USAGE;
    }
    std::string path = config().getString("cartwire.config", "config/hub.yaml");
    if (!config().has("cartwire.config") && !std::filesystem::exists(path)) {
      std::cerr << "cartwire " << command << ": no " << path
                << " here; name the configuration with --config FILE (config/hub.example.yaml is an example to start "
                   "from)\n";
      return EXIT_CONFIG;
    }
    bool allow_unset = config().has("cartwire.check.allow_unset");
    config::HubConfig cfg;
    config::Diagnostics loaded;  // check goes on past the loader's problems, to show every one
    try {
      cfg = command == "check" ? config::load_config_for_check(path, loaded, config::process_env(), allow_unset)
                               : config::load_config(path);
    } catch (const config::ConfigError &e) {
      std::cerr << e.diagnostics().format();
      return EXIT_CONFIG;
    }
    setup_logging(command == "serve" ? cfg.log_level : "warning");
    // Poco's application logger, which setup_logging brought along, says at debug
    // level each subsystem it stops on the way out: Poco's business, not the hub's.
    logger().setLevel(std::min(logger().getLevel(), static_cast<int>(Poco::Message::PRIO_INFORMATION)));
    // check reports the plugins it rejects itself: the loader's log would say so twice.
    if (command == "check") Poco::Logger::get("plugins").setLevel("fatal");
    warn_of_a_store_left_behind(cfg);
    plugins::Registry registry;
    registry.load_dir(cfg.plugins_dir);
    if (command == "check") return app::check(cfg, registry, loaded, allow_unset);
    if (command == "import") {
      app::ImportCommand import;
      import.kind = config().getString("cartwire.import.kind", "");
      import.dry_run = config().has("cartwire.import.dry_run");
      import.run_rules = config().has("cartwire.import.run_rules");
      import.columns = columns_;
      import.encoding = config().getString("cartwire.import.encoding", "");
      import.date_format = config().getString("cartwire.import.date_format", "");
      return app::import_file(cfg, registry, args[1], args[2], import);
    }
    if (command == "refresh")
      return app::refresh(cfg, registry, args[1], std::vector<std::string>(args.begin() + 2, args.end()));
    return app::serve(cfg, registry, [this] { waitForTerminationRequest(); });
  }

 private:
  bool help_ = false;
  std::vector<std::pair<std::string, std::string>> columns_;
  std::string bad_column_;
};

}  // namespace
}  // namespace cartwire

int main(int argc, char **argv) {
  try {
    cartwire::CartwireApp app;
    return app.run_command_line(argc, argv);
  } catch (const Poco::Exception &e) {
    std::cerr << e.displayText() << std::endl;
    return Poco::Util::Application::EXIT_SOFTWARE;
  }
}
