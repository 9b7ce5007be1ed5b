// cartwire check and start-up behaviour with broken plugins and broken configs.
#include <Poco/Net/NetException.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "../support/hub_process.hpp"

using namespace cartwire::testing;

namespace {

const char *kRules =
    "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: s3cret-word}\n"
    "integrations:\n  hook:\n    connector: notifyurl\n    settings: {url: \"http://127.0.0.1:1/x\"}\n";

// A plugins folder with the real connectors plus broken ones beside them.
std::string mixed_plugins_dir(const fs::path &where) {
  fs::path dir = where / "plugins";
  fs::create_directories(dir);
  for (auto &entry : fs::directory_iterator(CARTWIRE_PLUGIN_DIR))
    if (entry.is_regular_file() && entry.path().extension() == ".so")
      fs::copy_file(entry.path(), dir / entry.path().filename(), fs::copy_options::overwrite_existing);
  for (auto *name : {"wrong_abi.so", "throws.so", "no_entry.so", "bad_manifest.so"})
    fs::copy_file(fs::path(FIXTURE_PLUGIN_DIR) / name, dir / name, fs::copy_options::overwrite_existing);
  fs::create_symlink(dir / "uninstalled.so", dir / "dangling.so");
  fs::create_directories(dir / "folder.so");
  return dir.string();
}

}  // namespace

TEST(Check, AcceptsAGoodConfig) {
  HubProcess hub("check-ok", std::string(kRules) + "rules:\n  - {on: order.completed, do: hook.post}\n");
  auto [code, out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find(": OK: 1 source(s), 1 integration(s), 1 rule(s)"), std::string::npos) << out;
}

TEST(Check, TheExampleConfigurationIsValid) {
  HubProcess hub("check-example", "");
  std::ifstream in(CARTWIRE_EXAMPLE_CONFIG);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // As run.sh runs it, with this build's connectors and a store of the test's own.
  using Edit = std::pair<std::string, std::string>;
  for (auto [from, to] : {Edit{"dir: ../build/lib/plugins", std::string("dir: ") + CARTWIRE_PLUGIN_DIR},
                          Edit{"path: ../var/cartwire.db", "path: " + (hub.dir() / "example.db").string()}}) {
    ASSERT_NE(text.find(from), std::string::npos) << from;
    text.replace(text.find(from), from.size(), to);
  }
  std::string cfg = (hub.dir() / "example.yaml").string();
  std::ofstream(cfg) << text;
  auto [code, out] = hub.run({"check", "--config", cfg});
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find(": OK: 1 source(s), 1 integration(s), 3 rule(s)"), std::string::npos) << out;
  // Its secrets are the file's own until exported.
  EXPECT_NE(out.find("since THRIVECART_SECRET is unset"), std::string::npos) << out;
  EXPECT_NE(out.find("since NOTIFY_SECRET is unset"), std::string::npos) << out;
}

TEST(Check, ASecretThatFallsBackToADefaultWrittenInTheFileIsAWarning) {
  const std::string body = "sources:\n  thrivecart:\n    connector: thrivecart\n    settings:\n"
                           "      secret: ${TC_SECRET:-public-word-1}\n      account: ${TC_ACCOUNT:-acme}\n";
  HubProcess unset("check-secret-default", body);
  auto [code, out] = unset.run({"check", "--config", unset.config_path()});
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find(unset.config_path() + ":11: warning: source 'thrivecart' secret setting 'secret' is the default "
                                           "written in the file, since TC_SECRET is unset: whoever reads the file (or "
                                           "the example it came from) knows it; export TC_SECRET"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("TC_ACCOUNT"), std::string::npos) << "account is no secret:\n" << out;
  EXPECT_EQ(out.find("public-word-1"), std::string::npos) << out;
  HubProcess exported("check-secret-exported", body, {{"TC_SECRET", "s3cret-word"}});
  std::tie(code, out) = exported.run({"check", "--config", exported.config_path()});
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out.find("warning"), std::string::npos) << out;
}

TEST(Check, AllowUnsetChecksAFileWhoseSecretsAreNotInTheEnvironment) {
  // A CI machine: the file names its secrets, none of which is exported there.
  const std::string body = "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secret: \"${TC_SECRET}\"}\n"
                           "integrations:\n  mail:\n    connector: encharge\n"
                           "    settings: {write_key: \"${ENCHARGE_WRITE_KEY}\"}\n"
                           "rules:\n  - {on: product.purchased, do: mail.track_event}\n";
  HubProcess hub("check-allow-unset", body);
  hub.use_postgresql("${CARTWIRE_DATABASE_URL}");
  auto [code, out] = hub.run({"check", "--allow-unset", "--config", hub.config_path()});
  EXPECT_EQ(code, 0) << out;
  for (std::string variable : {"TC_SECRET", "ENCHARGE_WRITE_KEY", "CARTWIRE_DATABASE_URL"})
    EXPECT_NE(out.find("warning: environment variable " + variable +
                       " is not set: what it gives a value is not checked (--allow-unset)"),
              std::string::npos)
        << out;
  EXPECT_EQ(out.find("error"), std::string::npos) << out;

  // Without it, each is an error.
  std::tie(code, out) = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 78) << out;
  EXPECT_NE(out.find("error: environment variable TC_SECRET is not set (export it"), std::string::npos) << out;

  // The rest is checked as ever.
  hub.write_config(body + "  - {on: product.purchased, do: mail.track}\n");
  std::tie(code, out) = hub.run({"check", "--allow-unset", "--config", hub.config_path()});
  EXPECT_EQ(code, 78) << out;
  EXPECT_NE(out.find("connector encharge has no action 'track'"), std::string::npos) << out;
}

TEST(Check, AnIntegrationPostingOverPlainHttpBeyondThisMachineIsAWarning) {
  HubProcess hub("check-plain-http",
                 "integrations:\n"
                 "  far:\n    connector: notifyurl\n    settings: {url: \"http://crm.example.com/hook\"}\n"
                 "  near:\n    connector: notifyurl\n    settings: {url: \"http://127.0.0.1:9090/hook\"}\n"
                 "  safe:\n    connector: notifyurl\n    settings: {url: \"https://crm.example.com/hook\"}\n");
  auto [code, out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("warning: integration 'far' setting 'url' is plain http:// to crm.example.com: what it sends "
                     "(customers' data, and any credential in its headers) crosses the network unencrypted; use "
                     "https://"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("'near' setting"), std::string::npos) << "this machine's own endpoint\n" << out;
  EXPECT_EQ(out.find("'safe' setting"), std::string::npos) << out;
}

TEST(Check, NamesFileLineAndWhatIsWrong) {
  HubProcess hub("check-bad", std::string(kRules) +
                                  "rules:\n"
                                  "  - on: order.completed\n"
                                  "    do: hook.postt\n"
                                  "  - on: order.completed\n"
                                  "    do: school.enroll\n"
                                  "  - on: order.completed\n"
                                  "    do: hook.post\n"
                                  "    with: {colour: blue, data: \"{{cutsomer.email}}\"}\n");
  auto [code, out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 78) << out;  // EX_CONFIG
  std::string file = hub.config_path();
  // The harness writes 6 lines (server, storage, plugins) before the body;
  // an action's problems are reported at its `do:` line.
  EXPECT_NE(out.find(file + ":17: error: rule 'order.completed:hook.postt': connector notifyurl has no action 'postt' (actions: post)"),
            std::string::npos) << out;
  EXPECT_NE(out.find(file + ":19: error: rule 'order.completed:school.enroll' uses integration 'school', which is not configured "
                            "(integrations: hook)"),
            std::string::npos) << out;
  EXPECT_NE(out.find(file + ":22: error: rule 'order.completed:hook.post': hook.post has no parameter 'colour'"), std::string::npos) << out;
  EXPECT_NE(out.find(file + ":22: error: rule 'order.completed:hook.post': template {{cutsomer.email}} does not name an event field"),
            std::string::npos) << out;
  EXPECT_NE(out.find("(did you mean customer.email?)"), std::string::npos) << out;
  EXPECT_NE(out.find("4 error(s)"), std::string::npos) << out;
}

TEST(Check, AModeFilterThatNeverMatchesIsAnErrorAndABrokenTemplateAWarning) {
  HubProcess hub("check-never", std::string(kRules) +
                                    "rules:\n"
                                    "  - on: order.completed\n"
                                    "    where: {mode: Live}\n"
                                    "    do: hook.post\n"
                                    "  - on: order.completed\n"
                                    "    do: hook.post\n"
                                    "    with: {data: {email: \"{{customer.email}\"}}\n"
                                    "  - on: order.completed\n"
                                    "    where: {mode: {not: sandbox}}\n"
                                    "    do: hook.post\n"
                                    "  - on: order.completed\n"
                                    "    where: {mode: [live, sandbox]}\n"
                                    "    do: hook.post\n"
                                    "  - on: order.completed\n"
                                    "    where: {mode: te*}\n"
                                    "    do: hook.post\n");
  auto [code, out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 78) << out;
  std::string file = hub.config_path();
  EXPECT_NE(out.find(file + ":17: error: rule 'order.completed:hook.post': where mode 'Live' never matches: an event's mode is live or "
                            "test"),
            std::string::npos)
      << out;
  // Sent as it is: a typo, or the remote's own template syntax.
  EXPECT_NE(out.find(file + ":21: warning: rule 'order.completed:hook.post#2': '{{customer.email}' has a {{ that is not a {{field.path}} "
                            "template: it is sent as it is"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(file + ":23: warning: rule 'order.completed:hook.post#3': where mode is not 'sandbox' always holds"), std::string::npos)
      << out;
  EXPECT_NE(out.find(file + ":26: warning: rule 'order.completed:hook.post#4': where mode 'sandbox' never matches"), std::string::npos)
      << out;
  EXPECT_EQ(out.find("hook.post#5"), std::string::npos) << "te* matches test: " << out;
  EXPECT_NE(out.find("1 error(s)"), std::string::npos) << out;
}

TEST(Check, TyposInEventTypesAndFieldsAreNamedWithAGuess) {
  HubProcess hub("check-typos", std::string(kRules) +
                                    "rules:\n"
                                    "  - on: [order.complete, subscription.cancelled, thrivecart.cart.abandoned]\n"
                                    "    where: {item.refrence: upsell-*}\n"
                                    "    do: hook.post\n"
                                    "    with: {data: \"{{customer.emial}}\"}\n"
                                    "  - on: job.dead\n"
                                    "    do: hook.post\n");
  auto [code, out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 0) << "warnings only: a third party's connector may emit other types\n" << out;
  std::string file = hub.config_path();
  for (auto want : {":16: warning: rule 'order.complete,subscription.cancelled,thrivecart.cart.abandoned:hook.post': no source emits event type 'order.complete' (did you mean "
                    "order.completed?)",
                    ":16: warning: rule 'order.complete,subscription.cancelled,thrivecart.cart.abandoned:hook.post': no source emits event type 'subscription.cancelled' (did you mean "
                    "subscription.canceled?)",
                    ":17: warning: rule 'order.complete,subscription.cancelled,thrivecart.cart.abandoned:hook.post': where item.refrence is not a field of item (type, id, reference, "
                    "name, amount, amount_str) (did you mean item.reference?)",
                    ":19: warning: rule 'order.complete,subscription.cancelled,thrivecart.cart.abandoned:hook.post': template {{customer.emial}} is not a field of customer",
                    ":20: warning: rule 'job.dead:hook.post': no source emits event type 'job.dead' (did you mean hub.job.dead?)"})
    EXPECT_NE(out.find(file + want), std::string::npos) << want << "\n" << out;
  EXPECT_EQ(out.find("thrivecart.cart.abandoned'"), std::string::npos) << "a cart's own type is known\n" << out;
}

// A source for imports only names its connector's import trigger: no secret word, and what is wrong with it
// is still an error at its line.
TEST(Check, ASourceForImportsOnlyNeedsNoSecretWord) {
  const std::string rest =
      "integrations:\n  hook:\n    connector: notifyurl\n    settings: {url: \"http://127.0.0.1:1/x\"}\n"
      "rules:\n  - {on: order.completed, do: hook.post}\n";
  HubProcess hub("check-import-source",
                 "sources:\n  history:\n    connector: thrivecart\n    trigger: csv\n    settings: {account: acme}\n" +
                     rest);
  auto [code, out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find(": OK: 1 source(s), 1 integration(s), 1 rule(s)"), std::string::npos) << out;
  EXPECT_EQ(out.find("secret"), std::string::npos) << out;

  hub.write_config("sources:\n  history:\n    connector: thrivecart\n    trigger: csv\n    every: 5m\n"
                   "    settings: {acount: acme}\n" + rest);
  auto [every, out2] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(every, 78) << out2;
  std::string file = hub.config_path();
  EXPECT_NE(out2.find(file + ":11: error: source 'history': 'every' applies to poll triggers only; 'csv' is an import "
                             "trigger"),
            std::string::npos)
      << out2;
  EXPECT_NE(out2.find(file + ":12: error: source 'history' has unknown setting 'acount' for connector thrivecart (did "
                             "you mean account?"),
            std::string::npos)
      << out2;

  hub.write_config("sources:\n  history:\n    connector: thrivecart\n    trigger: import\n" + rest);
  auto [kind, out3] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(kind, 78) << out3;
  EXPECT_NE(out3.find(file + ":8: error: source 'history': connector thrivecart has no trigger 'import' (triggers: "
                             "webhook (webhook), csv (import)) (did you mean csv? a source names its connector's "
                             "trigger, csv being its import trigger)"),
            std::string::npos)
      << out3;
}

TEST(Check, MissingRequiredSettingAndUnknownSetting) {
  HubProcess hub("check-settings",
                 "sources:\n  thrivecart:\n    connector: thrivecart\n    settings: {secrett: x}\n");
  auto [code, out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 78) << out;
  EXPECT_NE(out.find(":8: error: source 'thrivecart' is missing the setting 'secret', which connector thrivecart requires "
                     "of a webhook source (ThriveCart secret word"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(":10: error: source 'thrivecart' has unknown setting 'secrett' for connector thrivecart (did you mean "
                     "secret? valid settings: "),
            std::string::npos) << out;
}

TEST(Check, SettingsTheConnectorRefusesAreErrorsAtTheirLine) {
  // The manifests allow both (a text token, a text secret); the connectors do not.
  HubProcess hub("check-refused",
                 "sources:\n"
                 "  samcart:\n"
                 "    connector: samcart\n"
                 "    settings:\n"
                 "      token: short\n"
                 "integrations:\n"
                 "  hook:\n"
                 "    connector: notifyurl\n"
                 "    settings: {url: \"http://127.0.0.1:1/x\", secret: whsec_YWJj}\n");
  auto [code, out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 78) << out;
  EXPECT_NE(out.find(":11: error: source 'samcart': connector samcart refuses these settings: "), std::string::npos)
      << out;
  EXPECT_NE(out.find("token"), std::string::npos) << out;
  EXPECT_NE(out.find(":15: error: integration 'hook': connector notifyurl refuses these settings: setting 'secret' is "
                     "unusable: the signing secret is 3 byte(s) long"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("YWJj"), std::string::npos) << "the secret is not quoted:\n" << out;
  EXPECT_NE(out.find("2 error(s)"), std::string::npos) << out;
}

TEST(Check, ShowsTheLoadersProblemsAndTheRulesTogether) {
  HubProcess hub("check-all", std::string(kRules) +
                                  "runer:\n  workers: 2\n"
                                  "rules:\n"
                                  "  - on: order.completed\n"
                                  "    do: my-endpont.post\n");
  auto [code, out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 78) << out;
  std::string file = hub.config_path();
  EXPECT_NE(out.find(file + ":15: error: unknown key 'runer' in top level"), std::string::npos) << out;
  EXPECT_NE(out.find(file + ":19: error: rule 'order.completed:my-endpont.post' uses integration 'my-endpont', which is not configured"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("2 error(s)"), std::string::npos) << out;
}

TEST(Check, AProductKeyedByABareIdIsAWarningThatNamesTheReference) {
  HubProcess hub("check-bare-id", std::string(kRules) +
                                      "products:\n"
                                      "  910707:\n"
                                      "    - {name: course, do: hook.post}\n"
                                      "  product-12:\n"
                                      "    - {name: ok, do: hook.post}\n");
  auto [code, out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 0) << out;  // a source of one's own (connector json) may send such references
  EXPECT_NE(out.find(hub.config_path() + ":17: warning: rule 'course': products.910707 names a bare id; the carts' "
                                         "item references are product-<id>, bump-<id>, upsell-<id> and downsell-<id>, "
                                         "so no ThriveCart or SamCart event matches it (did you mean product-910707?)"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("rule 'ok'"), std::string::npos) << out;
}

TEST(Check, TwoRulesOfOneNameAreAWarning) {
  HubProcess hub("check-same-name", std::string(kRules) +
                                        "rules:\n"
                                        "  - {name: notify, on: order.completed, do: hook.post}\n"
                                        "  - {name: notify, on: product.purchased, do: hook.post}\n");
  auto [code, out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find(hub.config_path() + ":17: warning: rule 'notify' has the name of the rule at line 16: the "
                                         "execution log, its searches and alerts name a job by its rule; give each "
                                         "its own"),
            std::string::npos)
      << out;
}

TEST(Check, AFolderWithoutConnectorsIsNamedWithWhatToSet) {
  HubProcess hub("check-empty-plugins", kRules);
  fs::create_directories(hub.dir() / "no-connectors");
  hub.use_plugins_dir((hub.dir() / "no-connectors").string());
  hub.write_config(kRules);
  auto [code, out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 78) << out;
  EXPECT_NE(out.find("which is not loaded (no connector is in plugins.dir " + (hub.dir() / "no-connectors").string() +
                     ": point it at the connectors that came with this hub, e.g. plugins: {dir: " +
                     CARTWIRE_PLUGIN_DIR + "})"),
            std::string::npos)
      << out;
}

TEST(Check, SyntaxErrorInYaml) {
  HubProcess hub("check-yaml", "rules:\n  - on: [order.completed\n");
  auto [code, out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 78) << out;
  EXPECT_NE(out.find(hub.config_path() + ":"), std::string::npos) << out;
  EXPECT_NE(out.find("YAML syntax"), std::string::npos) << out;
}

TEST(Check, AConfigurationThatIsAFolderIsNamedAndAReloadOfOneIsRefused) {
  HubProcess hub("config-folder", std::string(kRules) + "rules:\n  - {on: order.completed, do: hook.post}\n");
  // What a container's bind mount of a hub.yaml missing on the host leaves at the path.
  fs::path folder = hub.dir() / "mounted.yaml";
  fs::create_directories(folder);
  const std::string said = folder.string() + ": error: is a folder, not a file: name hub.yaml itself";
  for (const char *command : {"check", "serve"}) {
    auto [code, out] = hub.run({command, "--config", folder.string()}, std::chrono::seconds(10));
    EXPECT_EQ(code, 78) << command << ": " << out;  // EX_CONFIG, as for any other configuration error
    EXPECT_NE(out.find(said), std::string::npos) << command << ": " << out;
  }
  // A running hub whose file turns into a folder refuses the reload and runs on.
  hub.start();
  fs::rename(hub.config_path(), hub.dir() / "hub.yaml.saved");
  fs::create_directories(hub.config_path());
  hub.hangup();
  ASSERT_TRUE(eventually([&] { return hub.log().find("reload of " + hub.config_path() + " refused") != std::string::npos; }))
      << hub.log();
  EXPECT_NE(hub.log().find(hub.config_path() + ": error: is a folder, not a file"), std::string::npos) << hub.log();
  EXPECT_EQ(hub.post("/hooks/thrivecart", "thrivecart_secret=s3cret-word&event=order.success&order_id=7&base_product=1"
                                          "2&customer[email]=ann@example.com").status,
            200);
  EXPECT_TRUE(eventually([&] { return hub.count("SELECT COUNT(*) FROM jobs") == 1; })) << "the running rules went on";
  fs::remove(hub.config_path());
  fs::rename(hub.dir() / "hub.yaml.saved", hub.config_path());
  EXPECT_EQ(hub.stop(), 0) << hub.log();
}

TEST(Startup, TheDefaultStoreAndPluginsFolderAreBesideTheFileWhereverTheCommandRuns) {
  HubProcess hub("defaults-beside-file", "");
  // hub.yaml without storage and plugins: its store is var/cartwire.db and its connectors plugins/, beside it.
  fs::path site = hub.dir() / "site";
  fs::create_directories(site);
  fs::create_directory_symlink(CARTWIRE_PLUGIN_DIR, site / "plugins");
  std::ofstream(site / "hub.yaml") << "sources:\n  thrivecart:\n    connector: thrivecart\n"
                                      "    settings: {secret: s3cret-word, account: acme}\n";
  std::ofstream(site / "orders.csv") << "Order ID,Customer Email,Item ID,Amount\n1001,ann@example.com,12,49.95\n";
  ASSERT_NE(fs::current_path(), site);
  auto [code, out] = hub.run({"import", "thrivecart", (site / "orders.csv").string(), "--config", (site / "hub.yaml").string()});
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("2 event(s) new"), std::string::npos) << out;
  ASSERT_TRUE(fs::exists(site / "var" / "cartwire.db")) << out;
  EXPECT_EQ(scalar((site / "var" / "cartwire.db").string(), "SELECT COUNT(*) FROM events"), 2);
}

TEST(Startup, ASighupWhileTheHubStartsIsAReloadOnceItRuns) {
  // A deployment that starts the hub and reloads it at once (a config tool's start, then its reload
  // handler): the hub reads its configuration from a pipe here, so that it is still starting when the
  // SIGHUP comes. Before, the SIGHUP ended it.
  HubProcess hub("hup-at-start", kRules);
  std::stringstream text;
  text << std::ifstream(hub.config_path()).rdbuf();
  fs::path pipe = hub.dir() / "hub-pipe.yaml";
  ASSERT_EQ(::mkfifo(pipe.c_str(), 0600), 0);
  auto previous_sigpipe = ::signal(SIGPIPE, SIG_IGN);  // a hub that died leaves the pipe without a reader
  // Writes the configuration once the hub opens the pipe to read it; `then` runs in between.
  auto feed = [&](const std::function<void()> &then) {
    int fd = -1;
    if (!eventually([&] { return (fd = ::open(pipe.c_str(), O_WRONLY | O_NONBLOCK)) >= 0; })) return false;
    then();
    ::fcntl(fd, F_SETFL, 0);
    std::string yaml = text.str();
    bool written = ::write(fd, yaml.data(), yaml.size()) == static_cast<ssize_t>(yaml.size());
    ::close(fd);
    return written;
  };
  std::string log = (hub.dir() / "pipe.log").string();
  pid_t parent = ::getpid(), pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    die_with(parent);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execl(CARTWIRE_BIN, CARTWIRE_BIN, "serve", "--config", pipe.c_str(), static_cast<char *>(nullptr));
    ::_exit(127);
  }
  auto read_log = [&] {
    std::stringstream out;
    out << std::ifstream(log).rdbuf();
    return out.str();
  };
  EXPECT_TRUE(feed([&] { ::kill(pid, SIGHUP); })) << "the hub never read its configuration";
  // Once it is up (done with the pipe), the reload reads the pipe again.
  int status = 0;
  bool up = eventually([&] {
    if (::waitpid(pid, &status, WNOHANG) == pid) return true;
    try {
      return http("GET", hub.port(), "/healthz").status == 200;
    } catch (...) {
      return false;
    }
  });
  EXPECT_TRUE(up && feed([] {})) << read_log();
  bool reloaded = eventually([&] { return read_log().find("cartwire: reloaded " + pipe.string()) != std::string::npos; });
  bool running = ::waitpid(pid, &status, WNOHANG) == 0;
  EXPECT_TRUE(running) << (WIFSIGNALED(status) ? "ended by signal " + std::to_string(WTERMSIG(status)) : "exited")
                       << "\n" << read_log();
  EXPECT_TRUE(reloaded) << read_log();
  if (running) {
    EXPECT_EQ(http("GET", hub.port(), "/healthz").status, 200);
    ::kill(pid, SIGTERM);
    ::waitpid(pid, &status, 0);
  }
  ::signal(SIGPIPE, previous_sigpipe);
}

TEST(Startup, AStoreLeftInTheFolderTheCommandRunsFromIsPointedOut) {
  HubProcess hub("store-left-behind", "");
  // hub.yaml without storage: its store is var/cartwire.db beside it. Run from a folder that
  // has a var/cartwire.db of its own, where a hub started there kept its default store before.
  fs::path site = hub.dir() / "site", start = hub.dir() / "start";
  fs::create_directories(site);
  fs::create_directories(start / "var");
  fs::create_directory_symlink(CARTWIRE_PLUGIN_DIR, site / "plugins");
  std::ofstream(site / "hub.yaml") << "sources:\n  thrivecart:\n    connector: thrivecart\n"
                                      "    settings: {secret: s3cret-word, account: acme}\n";
  std::ofstream(site / "orders.csv") << "Order ID,Customer Email,Item ID,Amount\n1001,ann@example.com,12,49.95\n";
  std::ofstream(start / "var" / "cartwire.db") << "";
  std::vector<std::string> import = {"import", "thrivecart", (site / "orders.csv").string(), "--config",
                                     (site / "hub.yaml").string()};
  auto [code, out] = hub.run(import, std::chrono::seconds(60), {}, start.string());
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("another store is at " + (start / "var" / "cartwire.db").string() +
                     ", in the folder this command runs from; this hub's is " +
                     (site / "var" / "cartwire.db").string()),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("set storage.path: " + (start / "var" / "cartwire.db").string()), std::string::npos) << out;
  // Run from the folder of hub.yaml, the two are one: nothing to say.
  auto [again, said] = hub.run(import, std::chrono::seconds(60), {}, site.string());
  ASSERT_EQ(again, 0) << said;
  EXPECT_EQ(said.find("another store"), std::string::npos) << said;
}

TEST(Startup, BrokenPluginsAreReportedAndTheHubRunsOn) {
  HubProcess hub("plugins", std::string(kRules) + "rules:\n  - {on: order.completed, do: hook.post}\n");
  hub.use_plugins_dir(mixed_plugins_dir(hub.dir()));
  hub.write_config(std::string(kRules) + "rules:\n  - {on: order.completed, do: hook.post}\n");
  auto [code, out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("wrong_abi.so: built for Cartwire plugin ABI 99"), std::string::npos) << out;
  std::string dangling = (hub.dir() / "plugins" / "dangling.so").string();
  std::string folder = (hub.dir() / "plugins" / "folder.so").string();
  EXPECT_NE(out.find(dangling + ": warning: plugin rejected: " + dangling + ": is a symbolic link to "),
            std::string::npos) << out;
  EXPECT_NE(out.find(folder + ": warning: plugin rejected: " + folder + ": is a directory"), std::string::npos) << out;
  // A bad manifest is told with every problem, each with its place.
  const std::string manifest_problems =
      "bad_manifest.so: bad manifest: manifest.settings[0] has unknown type \"text\" (types: any, array, boolean, "
      "integer, object, string); manifest.actions[0] has no \"name\"; manifest.actions[1].params[0] "
      "(enrol.course_id) names the list \"courses\", which is not in manifest.lists (lists: course, bundles). Fix "
      "the connector's manifest.json.";
  EXPECT_NE(out.find(manifest_problems), std::string::npos) << out;
  hub.start();
  std::string log = hub.log();
  EXPECT_NE(log.find("plugin rejected: "), std::string::npos) << log;
  EXPECT_NE(log.find("throws.so: threw while starting (cannot reach license server)"), std::string::npos) << log;
  EXPECT_NE(log.find("no_entry.so: is not a Cartwire connector"), std::string::npos) << log;
  EXPECT_NE(log.find(manifest_problems), std::string::npos) << log;
  EXPECT_NE(log.find("plugin rejected: " + dangling + ": is a symbolic link to "), std::string::npos) << log;
  EXPECT_NE(log.find("plugin rejected: " + folder + ": is a directory, not a connector"), std::string::npos) << log;
  EXPECT_NE(log.find("loaded connector thrivecart"), std::string::npos) << log;
  EXPECT_EQ(hub.post("/hooks/thrivecart", "").status, 200);
}

// A source lacking a setting its use requires (the fixture's hook_secret, as a webhook's signing secret)
// starts left out: its webhooks are refused with 503 and nothing is stored, rather than taken unchecked.
TEST(Startup, ASourceMissingASettingItsUseRequiresTakesNoWebhookUntilFixedAndReloaded) {
  const std::string source = "sources:\n  lab-hooks:\n    connector: good\n    trigger: hook\n    settings:\n"
                             "      token: ${LAB_TOKEN}\n";
  HubProcess hub("source-left-out", "", {{"LAB_TOKEN", "t0ken-of-the-lab"}, {"LAB_HOOK_SECRET", "hook-secret-of-the-lab"}});
  fs::path dir = hub.dir() / "plugins";
  fs::create_directories(dir);
  fs::copy_file(fs::path(FIXTURE_PLUGIN_DIR) / "good.so", dir / "good.so");
  hub.use_plugins_dir(dir.string());
  hub.write_config(source);
  hub.start();
  auto refused = hub.post("/hooks/lab-hooks", R"({"order":1})", "application/json");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events"), 0);
  std::string log = hub.log();
  EXPECT_NE(log.find(hub.config_path() + ":8: error: source 'lab-hooks' is missing the setting 'hook_secret', which "
                     "connector good requires of a webhook source (signs the webhooks)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("source 'lab-hooks' is left out of this run: it has an error in " + hub.config_path()),
            std::string::npos)
      << log;

  hub.write_config(source + "      hook_secret: ${LAB_HOOK_SECRET}\n");
  hub.hangup();
  ASSERT_TRUE(eventually([&] { return occurrences(hub.log(), "reloaded ") == 1; })) << hub.log();
  auto taken = hub.post("/hooks/lab-hooks", R"({"order":1})", "application/json");
  EXPECT_EQ(taken.status, 202) << taken.body;
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events"), 2);
}

TEST(Startup, ANewVersionOfAConnectorIsReadByAReloadWhetherInUseOrNot) {
  const std::string lab = "  lab:\n    connector: good\n    settings: {token: t0ken-of-the-lab}\n";
  HubProcess hub("plugins-next", kRules);
  fs::path dir = hub.dir() / "plugins";
  fs::create_directories(dir);
  for (auto *name : {"thrivecart.so", "notifyurl.so"}) fs::copy_file(fs::path(CARTWIRE_PLUGIN_DIR) / name, dir / name);
  // As `install` puts a file in place: a new file under the name.
  auto install = [&](const fs::path &from) {
    fs::copy_file(from, dir / "good.so.tmp");
    fs::rename(dir / "good.so.tmp", dir / "good.so");
  };
  install(fs::path(FIXTURE_PLUGIN_DIR) / "good.so");
  hub.use_plugins_dir(dir.string());
  hub.write_config(kRules);
  hub.start();
  ASSERT_NE(hub.log().find("loaded connector good 1.2.3"), std::string::npos) << hub.log();

  // No integration uses it yet: the reload reads the new version, and the integration it adds runs it.
  install(GOOD_NEXT_PLUGIN);
  hub.write_config(std::string(kRules) + lab);
  hub.hangup();
  ASSERT_TRUE(eventually([&] { return occurrences(hub.log(), "reloaded ") == 1; })) << hub.log();
  std::string log = hub.log();
  EXPECT_NE(log.find("loaded connector good 1.3.0"), std::string::npos) << log;
  EXPECT_NE(log.find("connector good: built with this hub's toolchain"), std::string::npos) << "the lab runs it\n" << log;
  EXPECT_EQ(log.find("integration 'lab': connector"), std::string::npos) << log;

  // In use, it is replaced all the same: the lab runs the version put in its place, the earlier is unloaded.
  install(fs::path(FIXTURE_PLUGIN_DIR) / "good.so");
  hub.hangup();
  ASSERT_TRUE(eventually([&] { return occurrences(hub.log(), "reloaded ") == 2; })) << hub.log();
  log = hub.log();
  EXPECT_NE(log.find("loaded connector good 1.2.3 from " + (dir / "good.so").string() + " in place of 1.3.0"),
            std::string::npos) << log;
  EXPECT_NE(log.find("; connector good runs 1.2.3 in place of 1.3.0"), std::string::npos) << log;
  ASSERT_TRUE(eventually([&] { return hub.log().find("unloaded connector good 1.3.0") != std::string::npos; }))
      << hub.log();
  auto [code, out] = hub.run({"check", "--config", hub.config_path()});
  EXPECT_EQ(code, 0) << out;

  ASSERT_EQ(hub.stop(), 0);
  hub.start();
  EXPECT_NE(hub.log().find("loaded connector good 1.2.3"), std::string::npos) << hub.log();
}

TEST(Startup, RulesWithErrorsStayIdleAndTheOthersRun) {
  HubProcess hub("idle-rules",
                 "sources:\n"
                 "  thrivecart: {connector: thrivecart, settings: {secret: s3cret-word}}\n"
                 "  other-cart: {connector: not-installed-cart}\n"
                 "integrations:\n"
                 "  hook: {connector: notifyurl, settings: {url: \"http://127.0.0.1:1/x\"}}\n"
                 "  crm: {connector: not-installed}\n"
                 "  short-key: {connector: notifyurl, settings: {url: \"http://127.0.0.1:1/y\", secret: whsec_c2hvcnQ=}}\n"
                 "rules:\n"
                 "  - {name: notify, on: order.completed, do: hook.post}\n"
                 "  - {name: typo, on: order.completed, do: hook.postt}\n"
                 "  - {name: to-crm, on: order.completed, do: crm.tag}\n"
                 "  - {name: signed, on: order.completed, do: short-key.post}\n");
  hub.start();
  std::string log = hub.log();
  // short-key's connector refuses its 5-byte secret: its rule is idle too.
  EXPECT_NE(log.find("these rules stay idle until fixed: typo, to-crm, signed"), std::string::npos) << log;
  ASSERT_EQ(hub.post("/hooks/thrivecart", "thrivecart_secret=s3cret-word&event=order.success&order_id=9&base_product=1"
                                          "2&customer[email]=ann@example.com").status,
            200);
  // The event's jobs are stored with it before the 2xx.
  auto rules = query(hub.db_path(), "SELECT rule FROM jobs");
  ASSERT_EQ(rules.size(), 1u) << "a rule with an error made a job";
  EXPECT_EQ(rules[0][0], "notify");
  auto other = hub.post("/hooks/other-cart", "{}", "application/json");
  EXPECT_EQ(other.status, 503) << other.body;
}

TEST(Startup, ASecondHubOnAPortInUseSaysSoAndStops) {
  HubProcess first("port-first", kRules);
  first.start();
  HubProcess second("port-second", kRules);
  std::string port = std::to_string(first.port());
  std::string cfg = (second.dir() / "taken.yaml").string();
  std::ofstream(cfg) << "server:\n  listen: 127.0.0.1:" << port << "\nstorage:\n  path: "
                     << (second.dir() / "other.db").string() << "\nplugins:\n  dir: " << CARTWIRE_PLUGIN_DIR << "\n"
                     << kRules;
  // Two hubs sharing a port would each take some of the webhooks; the second one stops instead.
  auto [code, out] = second.run({"serve", "--config", cfg}, std::chrono::seconds(10));
  EXPECT_EQ(code, 71) << out;  // EX_OSERR
  EXPECT_NE(out.find("cannot listen on 127.0.0.1:" + port + ": "), std::string::npos) << out;
  EXPECT_NE(out.find("Address already in use"), std::string::npos) << "and why:\n" << out;
  EXPECT_EQ(first.post("/hooks/thrivecart", "").status, 200) << "the first hub serves on";
}

// Runs `cartwire serve` with `config_body` while the hub's main thread may start `threads` threads, and no
// thread may start after them (as on a system out of threads), and checks that the hub says which part could
// not start, why and what to do, and ends with status 71 (EX_OSERR) having taken no webhook. The main thread
// starts, in order: the store's thread, the webhook listener's two (a watchdog, a worker), the admin
// console's two (when enabled), the runner's five (a lease keeper, four workers), the removal of old jobs
// (with storage.retention), the reload on SIGHUP, the admin console's acceptor, the webhook listener's.
void expect_no_start(const std::string &name, const std::string &config_body, int threads, const std::string &part,
                     std::map<std::string, std::string> env = {}, const std::string &storage = "") {
  SCOPED_TRACE(name + ": " + std::to_string(threads) + " thread(s)");
  fs::path no_threads = fs::temp_directory_path() / ("cartwire-start-thread-faults-" + std::to_string(::getpid()));
  env["LD_PRELOAD"] = STORE_FAULTS_PRELOAD;
  env["THREAD_FAULTS"] = no_threads.string();
  HubProcess hub(name, config_body, env);
  if (!storage.empty()) hub.add_storage(storage);
  std::ofstream(no_threads) << threads;
  auto [code, out] = hub.run({"serve", "--config", hub.config_path()}, std::chrono::seconds(20));
  fs::remove(no_threads);
  EXPECT_EQ(code, 71) << out;
  EXPECT_NE(out.find(part + " could not start (Resource temporarily unavailable): the hub does not start; free "
                            "threads (or raise its limit: ulimit -u, systemd TasksMax) and start it again"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("listening on"), std::string::npos) << out;
  EXPECT_THROW(hub.post("/hooks/thrivecart", ""), Poco::Net::ConnectionRefusedException);
  EXPECT_EQ(hub.count("SELECT COUNT(*) FROM events"), 0);
}

TEST(Startup, AHubThatCannotStartItsWebhookListenerSaysWhyAndWhatToDoAndStops) {
  // Its watchdog. (Its first worker is not made to fail: Poco's pool then leaks that worker, which the
  // sanitizers of the tests' build report as the hub ends, with status 1.)
  expect_no_start("no-listener-watchdog", kRules, 1, "the webhook listener");
  // Its acceptor, the last part started: the runner and the reload thread had started, and end first.
  expect_no_start("no-listener-acceptor", kRules, 9, "the webhook listener");
}

TEST(Startup, AHubThatCannotStartItsAdminConsoleSaysWhyAndWhatToDoAndStops) {
  std::string admin = std::string(kRules) + "admin:\n  listen: 127.0.0.1:" + std::to_string(free_port()) +
                      "\n  token: \"${ADMIN_TOKEN}\"\n";
  std::map<std::string, std::string> env = {{"ADMIN_TOKEN", "admin-token-for-the-start-test"}};
  expect_no_start("no-admin-watchdog", admin, 3, "the admin console", env);
  expect_no_start("no-admin-acceptor", admin, 11, "the admin console", env);
}

TEST(Startup, AHubThatCannotStartTheRemovalOfOldJobsSaysWhyAndWhatToDoAndStops) {
  expect_no_start("no-retention", kRules, 8, "the removal of old jobs (storage.retention)", {}, "  retention: 30d\n");
}

TEST(Startup, AHubThatCannotStartItsReloadOnSighupSaysWhyAndWhatToDoAndStops) {
  expect_no_start("no-reload-thread", kRules, 8, "the reload on SIGHUP");
}

TEST(Startup, AHubThatCannotStartItsRunnerSaysWhyAndStopsWithoutTakingWebhooks) {
  // One of the runner's five.
  expect_no_start("start-no-runner", kRules, 4, "the runner");
}

TEST(Startup, AHubThatCannotStartItsStoresThreadSaysWhyAndWhatToDoAndStops) {
  // The first thread the hub starts: that of the SQLite file's checkpoints.
  expect_no_start("start-no-store-thread", kRules, 0, "the store");
}

TEST(Startup, ASecondHubOnTheSameSqliteFileSaysSoAndStops) {
  HubProcess first("sqlite-first", kRules);
  first.start();
  HubProcess second("sqlite-second", kRules);
  std::string cfg = (second.dir() / "same-file.yaml").string();
  std::ofstream(cfg) << "server:\n  listen: 127.0.0.1:" << free_port() << "\nstorage:\n  path: " << first.db_path()
                     << "\nplugins:\n  dir: " << CARTWIRE_PLUGIN_DIR << "\n" << kRules;
  // Two hubs on one file would take turns for its write lock, and answer webhooks 503 meanwhile.
  auto [code, out] = second.run({"serve", "--config", cfg}, std::chrono::seconds(10));
  EXPECT_EQ(code, 78) << out;  // EX_CONFIG
  EXPECT_NE(out.find("another hub (node "), std::string::npos) << out;
  EXPECT_NE(out.find("runs on " + first.db_path() + ": one SQLite file serves one hub"), std::string::npos) << out;
  EXPECT_EQ(first.post("/hooks/thrivecart", "").status, 200) << "the first hub serves on";
  // Nor through another name of the file.
  fs::create_symlink(first.db_path(), second.dir() / "alias.db");
  std::string via_link = (second.dir() / "via-link.yaml").string();
  std::ofstream(via_link) << "server:\n  listen: 127.0.0.1:" << free_port() << "\nstorage:\n  path: "
                          << (second.dir() / "alias.db").string() << "\nplugins:\n  dir: " << CARTWIRE_PLUGIN_DIR
                          << "\n" << kRules;
  std::tie(code, out) = second.run({"serve", "--config", via_link}, std::chrono::seconds(10));
  EXPECT_EQ(code, 78) << out;
  EXPECT_NE(out.find("another hub (node "), std::string::npos) << out;
  // A hub that dies frees the file with it.
  first.kill9();
  first.start();
  EXPECT_EQ(first.post("/hooks/thrivecart", "").status, 200);
}

TEST(Startup, AHubWhosePortWasTakenBeforeItStartedIsStartedOnAnother) {
  // What happens when another test's server takes the port free_port() found.
  HubProcess hub("port-moved", kRules);
  unsigned short taken = hub.port();
  Poco::Net::ServerSocket squatter = listen_alone(taken);
  hub.start();
  EXPECT_NE(hub.port(), taken);
  EXPECT_NE(hub.log().find("cannot listen on 127.0.0.1:" + std::to_string(taken)), std::string::npos) << hub.log();
  EXPECT_EQ(hub.post("/hooks/thrivecart", "").status, 200);
}

TEST(Startup, UnknownCommandAndHelp) {
  HubProcess hub("cli", "");
  auto [code, out] = hub.run({"frobnicate"});
  EXPECT_EQ(code, 64) << out;
  EXPECT_NE(out.find("unknown command 'frobnicate'"), std::string::npos);
  auto [help_code, help] = hub.run({"--help"});
  EXPECT_EQ(help_code, 0);
  EXPECT_NE(help.find("serve"), std::string::npos);
  // Each command is one line: the help is not wrapped in the middle of a description.
  EXPECT_NE(help.find("backfill a cart's CSV export as events, never duplicating webhooks\n"), std::string::npos) << help;
  EXPECT_NE(help.find("\nOptions:\n\n"), std::string::npos) << help;
  // Without --config, and no config/hub.yaml where it runs: say how to name one.
  auto [bare_code, bare] = hub.run({"check"});
  EXPECT_EQ(bare_code, 78) << bare;
  EXPECT_NE(bare.find("cartwire check: no config/hub.yaml here; name the configuration with --config FILE"),
            std::string::npos)
      << bare;
  auto [v_code, version] = hub.run({"version"});
  EXPECT_EQ(v_code, 0);
  EXPECT_EQ(version.rfind("cartwire ", 0), 0u);
}

TEST(Startup, AnUnknownOptionOrOneWithoutItsValueIsAUsageError) {
  HubProcess hub("cli-options", "");
  auto [code, out] = hub.run({"--bogus"});
  EXPECT_EQ(code, 64) << out;  // EX_USAGE, not EX_CONFIG
  EXPECT_NE(out.find("cartwire: unknown option '--bogus' (see --help)"), std::string::npos) << out;
  std::tie(code, out) = hub.run({"check", "--config"});
  EXPECT_EQ(code, 64) << out;
  EXPECT_NE(out.find("cartwire: option --config requires FILE (see --help)"), std::string::npos) << out;
  std::tie(code, out) = hub.run({"check", "--config", hub.config_path(), "--kind"});
  EXPECT_EQ(code, 64) << out;
  EXPECT_NE(out.find("cartwire: option --kind requires KIND"), std::string::npos) << out;
}

namespace {

// Each command line is a usage error (exit 64, EX_USAGE) whose output says the text beside it.
void expect_usage_errors(HubProcess &hub, const std::vector<std::pair<std::vector<std::string>, std::string>> &cases) {
  for (auto &[args, said] : cases) {
    auto [code, out] = hub.run(args);
    EXPECT_EQ(code, 64) << out;
    EXPECT_NE(out.find(said), std::string::npos) << out;
  }
}

}  // namespace

TEST(Startup, ACommandRefusesOptionsItDoesNotReadAndHelpComesFirst) {
  HubProcess hub("cli-command-options", "");
  expect_usage_errors(
      hub, {{{"serve", "--dry-run", "--config", hub.config_path()},
             "cartwire serve: option '--dry-run' is not one this command reads (see cartwire serve --help)"},
            {{"check", "--config", hub.config_path(), "--kind", "orders"},
             "cartwire check: option '--kind' is not one this command reads"},
            {{"--column", "a=b", "version"}, "cartwire version: option '--column' is not one this command reads"}});
  // Help is shown whatever follows it.
  for (std::vector<std::string> args : {std::vector<std::string>{"--help", "--kind"},
                                        std::vector<std::string>{"check", "--help", "--bogus"}}) {
    auto [code, out] = hub.run(args);
    EXPECT_EQ(code, 0) << out;
    EXPECT_NE(out.find("usage: cartwire"), std::string::npos) << out;
  }
}

TEST(Startup, ACommandRefusesArgumentsItDoesNotTake) {
  HubProcess hub("cli-arguments", "");
  expect_usage_errors(
      hub, {{{"check", "foo", "--config", hub.config_path()},
             "cartwire check: unexpected argument 'foo' (usage: cartwire check [OPTIONS])"},
            {{"serve", "--config", hub.config_path(), "now"}, "cartwire serve: unexpected argument 'now'"},
            {{"version", "extra"}, "cartwire version: unexpected argument 'extra'"},
            {{"import", "thrivecart", "a.csv", "b.csv"},
             "cartwire import: unexpected argument 'b.csv' (usage: cartwire import SOURCE FILE.csv [OPTIONS])"}});
}

TEST(Startup, ACommandMissingItsArgumentsSaysWhatToName) {
  HubProcess hub("cli-missing-arguments", "");
  expect_usage_errors(
      hub, {{{"refresh", "--config", hub.config_path()},
             "cartwire refresh: name the integration, e.g. cartwire refresh school courses --config hub.yaml"},
            {{"import", "thrivecart", "--config", hub.config_path()},
             "cartwire import: name the source and the file, e.g. cartwire import thrivecart orders.csv"}});
}

TEST(Startup, ACommandsHelpShowsItsArgumentsAndTheOptionsItReads) {
  HubProcess hub("cli-command-help", "");
  auto [code, help] = hub.run({"import", "--help"});
  EXPECT_EQ(code, 0) << help;
  EXPECT_EQ(help.rfind("usage: cartwire import SOURCE FILE.csv [OPTIONS]\n", 0), 0u) << help;
  for (auto option : {"--config=FILE", "--kind=KIND", "--dry-run", "--column=COLUMN=NAME"})
    EXPECT_NE(help.find(option), std::string::npos) << option << "\n" << help;
  EXPECT_NE(help.find("webhooks\n\nOptions:\n\n-h, --help"), std::string::npos) << help;
  EXPECT_EQ(help.find("--daemon"), std::string::npos) << help;
  std::tie(code, help) = hub.run({"check", "--help"});
  EXPECT_EQ(code, 0) << help;
  EXPECT_EQ(help.rfind("usage: cartwire check [OPTIONS]\nvalidate hub.yaml", 0), 0u) << help;
  EXPECT_NE(help.find("--config=FILE"), std::string::npos) << help;
  EXPECT_EQ(help.find("--kind"), std::string::npos) << help;
  EXPECT_EQ(help.find("Commands:"), std::string::npos) << help;
}

TEST(Startup, ADebugLogEndsWithTheHubsLinesNotPocosOwn) {
  HubProcess hub("cli-debug-exit", std::string("log: {level: debug}\n") + kRules);
  Poco::Net::ServerSocket squatter = listen_alone(hub.port());
  auto [code, out] = hub.run({"serve", "--config", hub.config_path()}, std::chrono::seconds(20));
  EXPECT_EQ(code, 71) << out;  // EX_OSERR: the port is taken
  EXPECT_NE(out.find("cannot listen on 127.0.0.1:" + std::to_string(hub.port())), std::string::npos) << out;
  EXPECT_EQ(out.find("Uninitializing subsystem"), std::string::npos) << out;
}
