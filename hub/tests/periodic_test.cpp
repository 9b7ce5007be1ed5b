#include <gtest/gtest.h>

#include <Poco/AutoPtr.h>
#include <Poco/Logger.h>
#include <Poco/StreamChannel.h>

#include <atomic>
#include <sstream>
#include <stdexcept>

#include "../../tests/support/eventually.hpp"
#include "engine/periodic.hpp"

using cartwire::engine::Periodic;
using cartwire::testing::eventually;

namespace {

std::size_t occurrences(const std::string &text, const std::string &part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

}  // namespace

TEST(Periodic, ATaskThatKeepsFailingIsLoggedOnceAMinuteUntilItWorksAgain) {
  std::ostringstream lines;
  Poco::AutoPtr<Poco::StreamChannel> channel(new Poco::StreamChannel(lines));
  Poco::Logger::get("periodic-test").setChannel(channel);
  std::atomic<int> runs{0};
  std::atomic<int64_t> clock{1'000'000};  // moved by the task only: however fast or slow the runs come
  std::atomic<bool> worked{false};
  {
    Periodic task(
        "periodic-test", "counting the nodes", std::chrono::milliseconds(1),
        [&] {
          int run = ++runs;
          if (run == 11) clock += Periodic::kFailureLogEveryMs;  // a minute after the first failure
          if (run <= 20) throw std::runtime_error("the database is away (" + std::to_string(run) + ")");
          worked = true;
        },
        [&] { return clock.load(); });
    EXPECT_TRUE(eventually([&] { return worked.load(); }));
  }  // waits for a run under way
  std::string log = lines.str();
  EXPECT_EQ(occurrences(log, "failed"), 2u) << log;
  EXPECT_EQ(occurrences(log, "counting the nodes failed, tried again later: the database is away (1)\n"), 1u) << log;
  EXPECT_EQ(occurrences(log, "counting the nodes failed, tried again later: the database is away (11) (9 more failures "
                             "since the last line about it)"),
            1u)
      << log;
  EXPECT_EQ(occurrences(log, "counting the nodes works again (9 more failures since the last line about it)"), 1u)
      << log;
  Poco::Logger::get("periodic-test").setChannel(nullptr);
}
