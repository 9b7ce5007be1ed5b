#include <gtest/gtest.h>

#include <Poco/AutoPtr.h>
#include <Poco/Logger.h>
#include <Poco/StreamChannel.h>

#include <atomic>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "engine/periodic.hpp"

using cartwire::engine::Periodic;

namespace {

std::size_t occurrences(const std::string &text, const std::string &part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

}  // namespace

TEST(Periodic, ATaskThatKeepsFailingIsLoggedOnceUntilItWorksAgain) {
  std::ostringstream lines;
  Poco::AutoPtr<Poco::StreamChannel> channel(new Poco::StreamChannel(lines));
  Poco::Logger::get("periodic-test").setChannel(channel);
  std::atomic<int> runs{0};
  std::atomic<bool> worked{false};
  {
    Periodic task("periodic-test", "counting the nodes", std::chrono::milliseconds(1), [&] {
      int run = ++runs;
      if (run <= 20) throw std::runtime_error("the database is away (" + std::to_string(run) + ")");
      worked = true;
    });
    while (!worked) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }  // waits for a run under way
  std::string log = lines.str();
  EXPECT_EQ(occurrences(log, "counting the nodes failed, tried again later: the database is away (1)"), 1u) << log;
  EXPECT_EQ(occurrences(log, "failed"), 1u) << log;
  EXPECT_EQ(occurrences(log, "counting the nodes works again (19 more failures since the last line about it)"), 1u)
      << log;
  Poco::Logger::get("periodic-test").setChannel(nullptr);
}
