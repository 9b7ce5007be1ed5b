// Settings are checked when the integration is created, with messages that name the problem.
#include "support.hpp"

namespace notifyurl_test {
namespace {

class Settings : public PluginTest {
 protected:
  void expect_refused(const Json &settings, const std::string &text) {
    std::string message = creation_error(settings);
    EXPECT_NE(message.find(text), std::string::npos) << "message: " << message << "\nsettings: " << settings;
  }
};

TEST_F(Settings, GoodSettingsAreAccepted) {
  EXPECT_EQ(creation_error(settings({{"format", "json"}, {"headers", {{"Authorization", "Bearer t"}}}})), "");
  EXPECT_EQ(creation_error({{"url", "http://localhost:8080/hook"}, {"secret", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}),
            "");
}

TEST_F(Settings, UrlMustBeAnAbsoluteHttpUrl) {
  expect_refused(Json::object(), "notifyurl: setting 'url' is required");
  expect_refused({{"url", 42}}, "setting 'url' is required");
  expect_refused({{"url", ""}}, "setting 'url' is unusable: it is empty");
  expect_refused({{"url", "ftp://example.com/in"}}, "starting with https:// or http://");
  expect_refused({{"url", "/cartwire"}}, "starting with https:// or http://");
  expect_refused({{"url", "example.com/cartwire"}}, "starting with https:// or http://");
  expect_refused({{"url", "https:///cartwire"}}, "it has no host");
  expect_refused({{"url", "https://example.com/a b"}}, "whitespace");
}

TEST_F(Settings, BadSecretsAreRefusedWithoutQuotingThem) {
  expect_refused(settings({{"secret", ""}}), "setting 'secret' is unusable: the signing secret is empty");
  expect_refused(settings({{"secret", "whsec_"}}), "the signing secret is empty");
  expect_refused(settings({{"secret", 1234}}), "setting 'secret' must be text");
  std::string message = creation_error(settings({{"secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa$w"}}));
  EXPECT_NE(message.find("not whsec_ followed by standard base64"), std::string::npos) << message;
  EXPECT_EQ(message.find("MfKQ9r8"), std::string::npos) << message;
}

TEST_F(Settings, ASecretKeyOutsideTwentyFourToSixtyFourBytesIsRefused) {
  expect_refused(settings({{"secret", "whsec_YWJj"}}),
                 "setting 'secret' is unusable: the signing secret is 3 byte(s) long; Standard Webhooks secrets are "
                 "24 to 64 random bytes (make one with: echo whsec_$(openssl rand -base64 32))");
  expect_refused(settings({{"secret", "whsec_" + std::string(88, 'A')}}), "the signing secret is 66 byte(s) long");
  EXPECT_EQ(creation_error(settings({{"secret", "whsec_" + std::string(32, 'A')}})), "") << "24 bytes";
  EXPECT_EQ(creation_error(settings({{"secret", "whsec_" + std::string(84, 'A') + "AA=="}})), "") << "64 bytes";
}

TEST_F(Settings, FormatIsJsonOrForm) {
  expect_refused(settings({{"format", "xml"}}), "setting 'format' must be \"json\" or \"form\"");
  expect_refused(settings({{"format", 1}}), "setting 'format' must be \"json\" or \"form\"");
}

TEST_F(Settings, ExtraHeadersCannotBreakTheRequest) {
  expect_refused(settings({{"headers", "X-A: 1"}}), "setting 'headers' must be a map");
  expect_refused(settings({{"headers", {{"Webhook-Signature", "v1,x"}}}}),
                 "header 'Webhook-Signature' is set by the connector");
  expect_refused(settings({{"headers", {{"content-type", "text/plain"}}}}), "is set by the connector");
  expect_refused(settings({{"headers", {{"Bad Header", "x"}}}}), "header name 'Bad Header' is not a valid");
  expect_refused(settings({{"headers", {{"X-A", "1\r\nX-B: 2"}}}}), "header 'X-A' must not contain line breaks");
  expect_refused(settings({{"headers", {{"X-A", {1, 2}}}}}), "header 'X-A' must have a text value");
}

TEST_F(Settings, EveryProblemIsNamedAtOnce) {
  std::string message = creation_error({{"url", "ftp://example.com"},
                                        {"format", "xml"},
                                        {"headers", {{"Host", "evil"}}},
                                        {"timeout_ms", 5}});
  for (const char *problem : {"setting 'url' is unusable", "setting 'format' must be", "header 'Host' is set by the",
                              "setting 'timeout_ms' must be"})
    EXPECT_NE(message.find(problem), std::string::npos) << problem << " in: " << message;
}

TEST_F(Settings, TimeoutIsBounded) {
  const std::string range = "setting 'timeout_ms' must be a whole number of milliseconds from 1000 to 120000";
  expect_refused(settings({{"timeout_ms", 10}}), range);
  expect_refused(settings({{"timeout_ms", 600000}}), range);
  expect_refused(settings({{"timeout_ms", "5s"}}), range);
  expect_refused(settings({{"timeout_ms", 1.5}}), range);
}

}  // namespace
}  // namespace notifyurl_test
