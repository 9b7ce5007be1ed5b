#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/config.hpp"

using namespace cartwire::config;

namespace {

class ConfigTest : public ::testing::Test {
 protected:
  std::string write(const std::string &yaml) {
    dir_ = std::filesystem::temp_directory_path() / ("cw-config-" + std::to_string(::getpid()) + "-" +
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    std::string path = (dir_ / "hub.yaml").string();
    std::ofstream(path) << yaml;
    return path;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Loads and returns the formatted diagnostics (empty when it loads).
  std::string errors(const std::string &yaml, const EnvLookup &env = process_env()) {
    try {
      load_config(write(yaml), env);
      return {};
    } catch (const ConfigError &e) {
      return e.diagnostics().format();
    }
  }

  std::filesystem::path dir_;
};

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string &name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

TEST_F(ConfigTest, LoadsAFullConfiguration) {
  std::string path = write(R"(
server:
  listen: 0.0.0.0:9000
  max_body_bytes: 4096
storage:
  path: data/hub.db
plugins:
  dir: ../plugins
runner:
  workers: 2
  retry: {initial_delay: 1s, max_delay: 10m, horizon: 2d, max_attempts: 5}
sources:
  tc:
    connector: thrivecart
    settings: {secret: "${TC_SECRET}", account: acme}
integrations:
  school:
    connector: thinkific
    concurrency: 3
    settings: {subdomain: acme, api_key: k}
rules:
  - name: upsells
    on: [product.purchased]
    where:
      item.reference: upsell-*
      mode: live
      item.type: [upsell, downsell]
      customer.email: {not: "test@example.com"}
    do: school.enroll_course
    with: {course_id: 42, email: "{{customer.email}}", welcome: true}
products:
  product-12:
    - do: school.enroll_course
      with: {course_id: "42"}
)");
  HubConfig cfg = load_config(path, env_of({{"TC_SECRET", "s3cret"}}));
  EXPECT_EQ(cfg.server.host, "0.0.0.0");
  EXPECT_EQ(cfg.server.port, 9000);
  EXPECT_EQ(cfg.server.max_body_bytes, 4096u);
  EXPECT_EQ(cfg.storage.path, (dir_ / "data/hub.db").string());
  EXPECT_EQ(cfg.plugins_dir, (dir_.parent_path() / "plugins").string());
  EXPECT_EQ(cfg.runner.workers, 2);
  EXPECT_EQ(cfg.runner.retry.initial_delay, std::chrono::seconds(1));
  EXPECT_EQ(cfg.runner.retry.max_delay, std::chrono::minutes(10));
  EXPECT_EQ(cfg.runner.retry.horizon, std::chrono::hours(48));
  EXPECT_EQ(cfg.runner.retry.max_attempts, 5);
  EXPECT_EQ(cfg.sources.at("tc").settings["secret"], "s3cret");
  EXPECT_EQ(cfg.integrations.at("school").concurrency, 3);
  ASSERT_EQ(cfg.rules.size(), 2u);
  const Rule &r = cfg.rules[0];
  EXPECT_EQ(r.name, "upsells");
  EXPECT_EQ(r.integration, "school");
  EXPECT_EQ(r.action, "enroll_course");
  EXPECT_EQ(r.params["course_id"], 42);
  EXPECT_EQ(r.params["welcome"], true);
  ASSERT_EQ(r.where.size(), 4u);
  EXPECT_EQ(r.where[0].field, "item.reference");
  EXPECT_EQ(r.where[0].op, Filter::Op::prefix);
  EXPECT_EQ(r.where[0].values[0], "upsell-");
  EXPECT_EQ(r.where[2].op, Filter::Op::one_of);
  EXPECT_EQ(r.where[3].op, Filter::Op::not_equals);
  const Rule &p = cfg.rules[1];
  EXPECT_EQ(p.product, "product-12");
  EXPECT_EQ(p.on, std::vector<std::string>{"product.purchased"});
  EXPECT_EQ(p.params["course_id"], "42");  // quoted stays a string
  EXPECT_EQ(p.location.line, 33);
}

TEST_F(ConfigTest, ReportsYamlSyntaxWithLine) {
  std::string out = errors("sources:\n  tc:\n    connector: [unclosed\n");
  EXPECT_NE(out.find("hub.yaml:"), std::string::npos) << out;
  EXPECT_NE(out.find("YAML syntax"), std::string::npos) << out;
}

TEST_F(ConfigTest, YamlSyntaxErrorsSayWhatUsuallyCausesThem) {
  std::string out = errors("integrations:\n  hook:\n    connector notifyurl\n    settings: {url: \"http://a/\"}\n");
  EXPECT_NE(out.find("hub.yaml:4: error: YAML syntax: illegal map value; this line or the one above is not `key: "
                     "value`: a key without its ':'"),
            std::string::npos)
      << out;
  out = errors("rules:\n  - on: [order.completed\n    do: hook.post\n");
  EXPECT_NE(out.find("a list opened with '[' is not closed with ']'"), std::string::npos) << out;
  out = errors("rules:\n  - on: order.completed\n    do: hook.post\n    with:\n      email: {{customer.email}}\n");
  EXPECT_NE(out.find("hub.yaml:5: error: a key must be plain text, not a list or a mapping (an unquoted template "
                     "reads as a mapping: write \"{{customer.email}}\", in quotes)"),
            std::string::npos)
      << out;
}

TEST_F(ConfigTest, ATabIndentIsNamedAtItsLine) {
  std::string out = errors("integrations:\n  hook:\n    connector: notifyurl\n\tsettings: {}\n");
  EXPECT_EQ(out, dir_.string() + "/hub.yaml:4: error: YAML syntax: a tab indents this line; YAML indents with spaces "
                                 "only\n");
}

TEST_F(ConfigTest, AKeySetTwiceIsAnErrorAtEachRepeat) {
  std::string out = errors("server:\n  listen: 127.0.0.1:1\n  listen: 127.0.0.1:2\n"
                           "runner:\n  workers: 2\n  retry: {initial_delay: 1s, initial_delay: 2s}\n");
  EXPECT_NE(out.find("hub.yaml:3: error: 'listen' is set twice in this mapping (first at line 2); keep one"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("hub.yaml:6: error: 'initial_delay' is set twice in this mapping (first at line 6); keep one"),
            std::string::npos)
      << out;
}

TEST_F(ConfigTest, UnknownKeyListsValidOnes) {
  std::string out = errors("server:\n  listen: 127.0.0.1:1\n  port: 80\n");
  EXPECT_NE(out.find("hub.yaml:3: error: unknown key 'port' in server (valid keys: listen, max_body_bytes, "
                     "read_timeout, threads)"),
            std::string::npos)
      << out;
}

TEST_F(ConfigTest, RulesWithEveryEntryCommentedOutAreNoRules) {
  std::string path = write("rules:\n#  - {on: order.completed, do: hook.post}\nproducts:\n#  product-12:\n");
  HubConfig cfg = load_config(path, env_of({}));
  EXPECT_TRUE(cfg.rules.empty());
  EXPECT_NE(errors("rules: {on: order.completed}\n").find("hub.yaml:1: error: rules must be a list"), std::string::npos);
}

TEST_F(ConfigTest, AMisspelledKeyIsNamedWithTheKeyItMeans) {
  std::string out = errors("integration:\n  hook:\n    connector: notifyurl\n"
                           "sources:\n  tc:\n    conector: thrivecart\n");
  EXPECT_NE(out.find("hub.yaml:1: error: unknown key 'integration' in top level (did you mean integrations? valid keys: "
                     "admin, integrations, log, plugins, products, rules, runner, server, sources, storage)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("hub.yaml:6: error: unknown key 'conector' in sources.tc (did you mean connector? valid keys: "),
            std::string::npos)
      << out;
}

TEST_F(ConfigTest, AMergeKeyTakesAnAnchoredMappingsKeysThatTheMappingDoesNotSetItself) {
  std::string path = write(R"(x-enrol: &enrol
  on: product.purchased
  do: school.enroll_course
x-course: &course
  with: {course_id: 7, email: "{{customer.email}}"}
  where: {mode: live}
integrations:
  school: {connector: thinkific, settings: {subdomain: acme, api_key: k}}
rules:
  - <<: *enrol
    name: course-7
  - <<: [*enrol, *course]
    name: course-42
    with: {course_id: 42}
products:
  product-12:
    - <<: *enrol
      with: {<<: {course_id: 12, email: "{{customer.email}}"}, course_id: 13}
)");
  HubConfig cfg = load_config(path, env_of({}));
  ASSERT_EQ(cfg.rules.size(), 3u);
  const Rule &a = cfg.rules[0];
  EXPECT_EQ(a.name, "course-7");
  EXPECT_EQ(a.on, std::vector<std::string>{"product.purchased"});
  EXPECT_EQ(a.integration, "school");
  EXPECT_EQ(a.action, "enroll_course");
  EXPECT_EQ(a.do_line.line, 3) << "a merged key keeps the line it is written at";
  const Rule &b = cfg.rules[1];
  EXPECT_EQ(b.params, (Json{{"course_id", 42}})) << "the mapping's own key wins over a merged one";
  ASSERT_EQ(b.where.size(), 1u) << "every mapping of a merged list gives its keys";
  EXPECT_EQ(b.where[0].field, "mode");
  const Rule &c = cfg.rules[2];
  EXPECT_EQ(c.product, "product-12");
  EXPECT_EQ(c.params, (Json{{"course_id", 13}, {"email", "{{customer.email}}"}}));
  EXPECT_EQ(cfg.rules[0].params, Json::object()) << "a merge changes no other mapping using the same anchor";
}

TEST_F(ConfigTest, AMergeKeyOfNoMappingIsAnErrorAtItsLine) {
  std::string out = errors("x-on: &on order.completed\nrules:\n  - name: a\n    do: hook.post\n    <<: *on\n");
  EXPECT_NE(out.find("hub.yaml:5: error: '<<' merges the keys of a mapping (<<: *anchor) or of a list of mappings "
                     "(<<: [*a, *b]) into this one; this one is given text"),
            std::string::npos)
      << out;
  EXPECT_NE(errors("y-defaults: {}\n").find("hub.yaml:1: error: unknown key 'y-defaults' in top level"),
            std::string::npos)
      << "only x- keys are kept for anchors";
}

TEST_F(ConfigTest, AnEmptyFileIsCalledEmpty) {
  for (const char *text : {"", "# sources: to come\n\n"})
    EXPECT_NE(errors(text).find("hub.yaml: error: the file is empty (or holds only comments)"), std::string::npos) << text;
  EXPECT_NE(errors("- sources\n").find("hub.yaml:1: error: the top level must be a mapping"), std::string::npos);
}

TEST_F(ConfigTest, KeysThatAreListsOrMappingsAreRefusedWithTheirLine) {
  std::string out = errors("runner:\n  workers: 2\n? retry: {initial_delay: 1s}\n"
                           "integrations:\n  hook:\n    connector: notifyurl\n    settings: {? [a, b]: x}\n");
  EXPECT_NE(out.find("hub.yaml:3: error: a key must be plain text, not a list or a mapping"), std::string::npos) << out;
  EXPECT_NE(out.find("hub.yaml:7: error: a key must be plain text, not a list or a mapping"), std::string::npos) << out;
}

TEST_F(ConfigTest, MissingEnvironmentVariableNamesItAndTheLine) {
  std::string out = errors("integrations:\n  x:\n    connector: notifyurl\n    settings:\n      secret: ${NOPE_SECRET}\n",
                           env_of({}));
  EXPECT_NE(out.find("hub.yaml:5: error: environment variable NOPE_SECRET is not set"), std::string::npos) << out;
}

TEST_F(ConfigTest, AMalformedVariableIsAnErrorNotText) {
  auto setting = [&](const std::string &value) {
    return errors("sources:\n  tc:\n    connector: thrivecart\n    settings:\n      secret: \"" + value + "\"\n",
                  env_of({{"TC_SECRET", "from-the-environment"}}));
  };
  for (const char *typo : {"${TC_SECRET:changeme}", "${TC SECRET}", "${TC_SECRET", "${}", "pre${1X}post"}) {
    std::string out = setting(typo);
    EXPECT_NE(out.find("hub.yaml:5: error: malformed "), std::string::npos) << typo << ": " << out;
    EXPECT_NE(out.find("write ${NAME} or ${NAME:-default}"), std::string::npos) << out;
    EXPECT_EQ(out.find("from-the-environment"), std::string::npos) << out;
  }
  // A mistyped default may be the secret itself: the error stops before it.
  std::string typo = setting("${TC_SECRET:my-real-secret-word}");
  EXPECT_NE(typo.find("malformed ${TC_SECRET…: write"), std::string::npos) << typo;
  EXPECT_EQ(typo.find("my-real-secret-word"), std::string::npos) << typo;
  EXPECT_NE(setting("${TC SECRET}").find("malformed ${TC SECRET}"), std::string::npos);
  // $${ is the text ${; a lone $ is text.
  HubConfig cfg = load_config(write("integrations:\n  x:\n    connector: n\n"
                                    "    settings: {a: \"pa$$${word}\", b: \"$5 ${V}$\"}\n"),
                              env_of({{"V", "v"}}));
  EXPECT_EQ(cfg.integrations.at("x").settings["a"], "pa$${word}");
  EXPECT_EQ(cfg.integrations.at("x").settings["b"], "$5 v$");
}

TEST_F(ConfigTest, EnvironmentDefaultIsUsed) {
  HubConfig cfg = load_config(write("integrations:\n  x:\n    connector: n\n    settings: {url: \"${U:-http://a/b}\"}\n"),
                              env_of({}));
  EXPECT_EQ(cfg.integrations.at("x").settings["url"], "http://a/b");
}

TEST_F(ConfigTest, ARuleWithoutANameIsNamedByWhatItDoesNotByItsLine) {
  const std::string rules = R"(rules:
  - on: order.completed
    do: crm.upsert_contact
  - on: [product.refunded, subscription.canceled]
    do: crm.add_tags
  - on: order.completed
    do: crm.upsert_contact
  - name: my-own
    on: order.completed
    do: crm.upsert_contact
products:
  product-12:
    - do: school.enroll_course
    - on: product.refunded
      do: school.expire_course
)";
  auto names = [&](const std::string &text) {
    std::vector<std::string> out;
    for (auto &rule : load_config(write(text), env_of({})).rules) out.push_back(rule.name);
    return out;
  };
  std::vector<std::string> named = names(rules);
  EXPECT_EQ(named, (std::vector<std::string>{"order.completed:crm.upsert_contact",
                                             "product.refunded,subscription.canceled:crm.add_tags",
                                             "order.completed:crm.upsert_contact#2", "my-own",
                                             "product-12:school.enroll_course", "product-12:school.expire_course"}));
  // Lines added above: jobs made before keep finding their rule by its name.
  EXPECT_EQ(names("# the seller's rules\n\n" + rules), named);
}

TEST_F(ConfigTest, RuleProblemsCarryLines) {
  std::string out = errors(R"(rules:
  - on: product.purchased
    do: nodot
  - do: a.b
  - on: x
    do: a.b
    when: oops
  -
  - on: y
    do: a.b
)");
  EXPECT_NE(out.find("hub.yaml:3: error: 'do: nodot' must name integration.action"), std::string::npos) << out;
  EXPECT_NE(out.find("hub.yaml:4: error: rule '?:a.b' has no 'on:'"), std::string::npos) << out;
  EXPECT_NE(out.find("hub.yaml:7: error: unknown key 'when' in rule 'x:a.b'"), std::string::npos) << out;
  EXPECT_NE(out.find("hub.yaml:9: warning: an empty rule (a '-' with nothing after it) above this line is skipped"),
            std::string::npos)
      << out;
}

TEST_F(ConfigTest, BadValuesAreExplained) {
  std::string out = errors(R"(server:
  listen: localhost
runner:
  workers: many
  retry:
    horizon: soon
storage:
  driver: mysql
)");
  EXPECT_NE(out.find("hub.yaml:2: error: server.listen must be host:port"), std::string::npos) << out;
  EXPECT_NE(out.find("hub.yaml:4: error: runner.workers must be a whole number from 1 to 256 (got 'many')"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("hub.yaml:6: error: runner.retry.horizon must be a duration"), std::string::npos) << out;
  EXPECT_NE(out.find("hub.yaml:8: error: storage.driver 'mysql' is not supported (use sqlite or postgresql)"),
            std::string::npos)
      << out;
}

TEST_F(ConfigTest, APostgresqlStorageTakesAUrlAndNoFileSettings) {
  std::string path = write("storage:\n  driver: postgresql\n  url: \"${DB_URL}\"\nrunner:\n  node: hub-2\n");
  HubConfig cfg = load_config(path, env_of({{"DB_URL", "postgresql://cartwire:pw@db.internal/cartwire"}}));
  EXPECT_EQ(cfg.storage.driver, "postgresql");
  EXPECT_EQ(cfg.storage.url, "postgresql://cartwire:pw@db.internal/cartwire");
  EXPECT_EQ(cfg.storage.url_at.line, 3);
  EXPECT_EQ(cfg.runner.node, "hub-2");

  std::string out = errors("storage:\n  driver: postgresql\n  path: hub.db\n  synchronous: normal\n");
  EXPECT_NE(out.find("hub.yaml:2: error: storage driver postgresql needs a url, e.g. url: postgresql://"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("hub.yaml:3: error: storage.path is for driver sqlite (this storage is postgresql)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("hub.yaml:4: error: storage.synchronous is for driver sqlite"), std::string::npos) << out;
  out = errors("storage:\n  url: postgresql://db.internal/cartwire\n");
  EXPECT_NE(out.find("hub.yaml:2: error: storage.url is for driver postgresql (this storage is sqlite)"),
            std::string::npos)
      << out;
}

TEST_F(ConfigTest, RetentionIsADurationOrOff) {
  EXPECT_EQ(load_config(write("storage:\n  retention: 90d\n")).storage.retention, std::chrono::hours(24 * 90));
  EXPECT_EQ(load_config(write("storage:\n  retention: off\n")).storage.retention.count(), 0);
  EXPECT_EQ(load_config(write("storage: {}\n")).storage.retention.count(), 0) << "kept for ever unless set";
  for (const char *bad : {"500ms", "soon"}) {
    std::string out = errors(std::string("storage:\n  retention: ") + bad + "\n");
    EXPECT_NE(out.find(std::string("hub.yaml:2: error: storage.retention must be a duration of at least 1s, e.g. 90d, "
                                   "or off (got '") + bad + "')"),
              std::string::npos)
        << out;
  }
}

TEST_F(ConfigTest, AnIntegrationsRateLimitIsRequestsPerDuration) {
  HubConfig cfg = load_config(
      write("integrations:\n  hook:\n    connector: notifyurl\n    rate_limit: {requests: 100, per: 10s}\n"));
  EXPECT_EQ(cfg.integrations.at("hook").rate_requests, 100);
  EXPECT_EQ(cfg.integrations.at("hook").rate_per, std::chrono::seconds(10));
  std::string out = errors("integrations:\n  hook:\n    connector: notifyurl\n    rate_limit: {requests: 0, per: 10ms}\n"
                           "  crm:\n    connector: ghl\n    rate_limit: {requests: 5}\n");
  EXPECT_NE(out.find("hub.yaml:4: error: integrations.hook.rate_limit.requests must be a whole number from 1"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("hub.yaml:4: error: integrations.hook.rate_limit.per must be a duration from 100ms to 24h (got '10ms')"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("hub.yaml:7: error: integrations.crm.rate_limit needs per"), std::string::npos) << out;
  out = errors("integrations:\n  hook:\n    connector: notifyurl\n    rate_limit: {requests: 5, per: 0}\n");
  EXPECT_NE(out.find("rate_limit.per must be a duration from 100ms to 24h (got '0')"), std::string::npos)
      << "no window would be no limit: " << out;
}

TEST_F(ConfigTest, InstanceWithoutConnector) {
  std::string out = errors("sources:\n  Bad Id:\n    settings: {}\n");
  EXPECT_NE(out.find("hub.yaml:2: error: sources id 'Bad Id' must be lower-case"), std::string::npos) << out;
  EXPECT_NE(out.find("hub.yaml:2: error: sources.Bad Id has no 'connector:'"), std::string::npos) << out;
}

TEST_F(ConfigTest, MissingFile) {
  try {
    load_config("/nonexistent/hub.yaml");
    FAIL() << "expected an error";
  } catch (const ConfigError &e) {
    EXPECT_EQ(e.diagnostics().format(),
              "/nonexistent/hub.yaml: error: cannot read the file (does it exist and is it readable?)\n");
  }
}

TEST(Duration, Parses) {
  EXPECT_EQ(parse_duration("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(parse_duration("5s"), std::chrono::seconds(5));
  EXPECT_EQ(parse_duration("10m"), std::chrono::minutes(10));
  EXPECT_EQ(parse_duration("6h"), std::chrono::hours(6));
  EXPECT_EQ(parse_duration("3d"), std::chrono::hours(72));
  EXPECT_EQ(parse_duration("30"), std::chrono::seconds(30));
  EXPECT_FALSE(parse_duration("soon"));
  EXPECT_FALSE(parse_duration("5 weeks"));
  // Absurd lengths are refused rather than overflowing.
  EXPECT_EQ(parse_duration("36500d"), std::chrono::hours(24 * 36500));
  EXPECT_FALSE(parse_duration("36501d"));
  EXPECT_FALSE(parse_duration(std::string(60, '1') + "s"));
  EXPECT_EQ(parse_duration(" 2 ms "), std::chrono::milliseconds(2));
  EXPECT_FALSE(parse_duration("5 m s"));
  EXPECT_FALSE(parse_duration("ms"));
  EXPECT_FALSE(parse_duration(" "));
  // A value as long as hub.yaml allows is read without a stack that grows with it.
  EXPECT_EQ(parse_duration(std::string(200000, ' ') + "5m"), std::chrono::minutes(5));
  EXPECT_FALSE(parse_duration(std::string(200000, '1')));
}

// hub.yaml is read without std::regex, whose matcher recursed once a character:
// a long value (a pasted certificate, a run of spaces) overflowed the stack of check and serve.
TEST_F(ConfigTest, AValueOfAnyLengthIsReadWithoutAStackThatGrowsWithIt) {
  const std::string long_text(200000, 'x');
  HubConfig cfg = load_config(write("integrations:\n  x:\n    connector: n\n    settings: {a: \"${A:-" + long_text +
                                    "}\", b: \"${" + std::string(200000, 'B') + "}\"}\n"),
                              env_of({{std::string(200000, 'B'), "b"}}));
  EXPECT_EQ(cfg.integrations.at("x").settings["a"], long_text);
  EXPECT_EQ(cfg.integrations.at("x").settings["b"], "b");
  std::string open = errors("integrations:\n  x:\n    connector: n\n    settings: {a: \"${A:-" + long_text + "\"}\n",
                            env_of({}));
  EXPECT_NE(open.find("hub.yaml:4: error: malformed ${A…: write"), std::string::npos) << open.substr(0, 300);
  std::string token = errors("admin:\n  token: \"${" + std::string(200000, 'T') + "}\"\n", env_of({}));
  EXPECT_NE(token.find("error: environment variable TTTT"), std::string::npos) << token.substr(0, 300);
  EXPECT_EQ(token.find("must come from the environment"), std::string::npos) << token.substr(0, 300);
  // YAML takes a key this long written as an explicit key (? key, then : value).
  std::string product = errors("products:\n  ? product-" + std::string(200000, '1') + "\n  : nothing\n");
  EXPECT_NE(product.find("must be a list of rules"), std::string::npos) << product.substr(0, 300);
  EXPECT_EQ(product.find("should look like"), std::string::npos) << product.substr(0, 300);
  EXPECT_NE(errors("products:\n  \"product 12\": nothing\n").find("should look like"), std::string::npos);
  EXPECT_NE(errors("products:\n  \"*\": nothing\n").find("should look like"), std::string::npos);
  EXPECT_EQ(errors("products:\n  upsell-*: nothing\n").find("should look like"), std::string::npos);
  std::string every = errors("sources:\n  tc:\n    connector: thrivecart\n    every: \"" + std::string(200000, ' ') +
                             "5 weeks\"\n");
  EXPECT_NE(every.find("hub.yaml:4: error:"), std::string::npos) << every.substr(0, 300);
}

TEST_F(ConfigTest, AdminSectionTakesItsTokenFromTheEnvironment) {
  std::string path = write(R"(
admin:
  listen: 127.0.0.1:9191
  token: "${ADMIN_TOKEN}"
  session_ttl: 30m
  max_body_bytes: 2048
  metrics_public: true
  web_dir: console
)");
  HubConfig cfg = load_config(path, env_of({{"ADMIN_TOKEN", "0123456789abcdef0123"}}));
  EXPECT_TRUE(cfg.admin.enabled);
  EXPECT_EQ(cfg.admin.host, "127.0.0.1");
  EXPECT_EQ(cfg.admin.port, 9191);
  EXPECT_EQ(cfg.admin.token, "0123456789abcdef0123");
  EXPECT_EQ(cfg.admin.session_ttl, std::chrono::minutes(30));
  EXPECT_EQ(cfg.admin.max_body_bytes, 2048u);
  EXPECT_TRUE(cfg.admin.metrics_public);
  EXPECT_EQ(cfg.admin.web_dir, (dir_ / "console").string());

  // Without a token the listener stays off; the defaults stay on localhost.
  HubConfig off = load_config(write("admin:\n  token: \"${ADMIN_TOKEN:-}\"\n"), env_of({}));
  EXPECT_FALSE(off.admin.enabled);
  EXPECT_EQ(off.admin.host, "127.0.0.1");
  EXPECT_EQ(off.admin.port, 8081);
  EXPECT_FALSE(load_config(write("log: {level: info}\n"), env_of({})).admin.enabled);
}

TEST_F(ConfigTest, AdminSectionRejectsLiteralTokensAndUnknownKeys) {
  std::string literal = errors("admin:\n  token: hunter2hunter2hunter2\n");
  EXPECT_NE(literal.find("hub.yaml:2: error: admin.token must come from the environment"), std::string::npos) << literal;
  EXPECT_EQ(literal.find("hunter2"), std::string::npos) << "the error must not repeat the token";
  // A default is a token in the file too; an empty one (off while unset) is not.
  std::string fallback = errors("admin:\n  token: ${T:-hunter2hunter2hunter2}\n", env_of({}));
  EXPECT_NE(fallback.find("hub.yaml:2: error: admin.token must come from the environment alone"), std::string::npos)
      << fallback;
  EXPECT_EQ(fallback.find("hunter2"), std::string::npos) << fallback;
  EXPECT_NE(errors("admin:\n  token: x${T}\n", env_of({{"T", "0123456789abcdef0123"}})).find("alone"),
            std::string::npos);
  std::string shortish = errors("admin:\n  token: ${T}\n", env_of({{"T", "short"}}));
  EXPECT_NE(shortish.find("at least 16 characters"), std::string::npos) << shortish;
  std::string unknown = errors("admin:\n  listen: 127.0.0.1:1\n  tokn: x\n");
  EXPECT_NE(unknown.find("unknown key 'tokn' in admin"), std::string::npos) << unknown;
  EXPECT_NE(errors("admin:\n  listen: nowhere\n").find("admin.listen must be host:port"), std::string::npos);
  EXPECT_NE(errors("admin:\n  metrics_public: maybe\n").find("true or false"), std::string::npos);
}

TEST_F(ConfigTest, NativeCallsAreOnUnlessTurnedOff) {
  EXPECT_TRUE(load_config(write("plugins:\n  dir: p\n"), process_env()).native_calls);
  EXPECT_FALSE(load_config(write("plugins:\n  dir: p\n  native_calls: false\n"), process_env()).native_calls);
  std::string problems = errors("plugins:\n  dir: p\n  native_calls: sometimes\n");
  EXPECT_NE(problems.find(":3:"), std::string::npos) << problems;
  EXPECT_NE(problems.find("plugins.native_calls must be true or false (got 'sometimes')"), std::string::npos)
      << problems;
}
