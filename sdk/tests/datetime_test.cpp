#include <gtest/gtest.h>

#include <cartwire/sdk/datetime.hpp>

#include <string>

using cartwire::sdk::DateTimeForm;
using cartwire::sdk::read_date_time;
using cartwire::sdk::Zone;

namespace {

// Unix seconds of `text` in `form`, or -1 when it is no date-time.
int64_t seconds(const std::string &text, const DateTimeForm &form = {}) {
  auto read = read_date_time(text, form);
  return read ? read.time->unix_seconds() : -1;
}

// Why `text` is out of range, "" when it is in range or of another form.
std::string out_of_range(const std::string &text, const DateTimeForm &form = {}) {
  return read_date_time(text, form).out_of_range;
}

}  // namespace

TEST(DateTime, ReadsRfc3339) {
  auto read = read_date_time("2026-01-15T10:20:30Z");
  ASSERT_TRUE(read);
  EXPECT_EQ(read.time->year, 2026);
  EXPECT_EQ(read.time->month, 1);
  EXPECT_EQ(read.time->day, 15);
  EXPECT_EQ(read.time->hour, 10);
  EXPECT_EQ(read.time->minute, 20);
  EXPECT_EQ(read.time->second, 30);
  EXPECT_EQ(read.time->offset_minutes, 0);
  EXPECT_EQ(read.out_of_range, "");
  EXPECT_EQ(seconds("2026-01-15T10:00:00Z"), 1768471200);
  EXPECT_EQ(seconds("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(read_date_time("1969-12-31T23:59:59Z").time->unix_seconds(), -1) << "before 1970 counts back";
}

TEST(DateTime, ReadsFractionsOfOneToNineDigits) {
  EXPECT_EQ(read_date_time("2026-01-15T10:00:00.5Z").time->nanosecond, 500000000);
  EXPECT_EQ(read_date_time("2026-01-15T10:00:00.123Z").time->nanosecond, 123000000);
  EXPECT_EQ(read_date_time("2026-01-15T10:00:00.123456789Z").time->nanosecond, 123456789);
  EXPECT_EQ(read_date_time("2026-01-15T10:00:00.000000001Z").time->nanosecond, 1);
  EXPECT_EQ(read_date_time("2026-01-15T10:00:00.250Z").time->unix_milliseconds(), 1768471200250);
  EXPECT_EQ(read_date_time("2026-01-15T10:00:00.9999Z").time->unix_milliseconds(), 1768471200999) << "cut, not rounded";
  EXPECT_EQ(read_date_time("1969-12-31T23:59:59.500Z").time->unix_milliseconds(), -500);
  EXPECT_FALSE(read_date_time("2026-01-15T10:00:00.1234567890Z")) << "ten digits are finer than a nanosecond";
  EXPECT_FALSE(read_date_time("2026-01-15T10:00:00.Z"));
  EXPECT_FALSE(read_date_time("2026-01-15T10:00.5Z", {.minutes_alone = true})) << "a fraction is of a second";
}

TEST(DateTime, ReadsZAndOffsets) {
  EXPECT_EQ(seconds("2026-01-15T11:00:00+01:00"), 1768471200);
  EXPECT_EQ(seconds("2026-01-15T05:00:00-05:00"), 1768471200);
  EXPECT_EQ(seconds("2026-01-15T15:30:00+05:30"), 1768471200);
  EXPECT_EQ(seconds("2026-01-15T10:00:00-00:00"), 1768471200);
  EXPECT_EQ(read_date_time("2026-01-15T15:30:00+05:30").time->offset_minutes, 330);
  EXPECT_EQ(read_date_time("2026-01-15T05:00:00-05:00").time->offset_minutes, -300);
  EXPECT_EQ(seconds("2026-01-15T23:59:00+23:59"), 1768435200);
  EXPECT_EQ(out_of_range("2026-01-15T10:00:00+24:00"), "there is no offset +24:00");
  EXPECT_EQ(out_of_range("2026-01-15T10:00:00-01:60"), "there is no offset -01:60");
  for (const char *bad : {"2026-01-15T10:00:00", "2026-01-15T10:00:00+0100", "2026-01-15T10:00:00+01",
                          "2026-01-15T10:00:00+1:00", "2026-01-15T10:00:00z", "2026-01-15T10:00:00 Z",
                          "2026-01-15T10:00:00+01:00:00", "2026-01-15T10:00:00ZZ", "2026-01-15T10:00:00UTC"})
    EXPECT_FALSE(read_date_time(bad)) << bad;
}

TEST(DateTime, ChecksTheDayAgainstItsMonthAndLeapYears) {
  EXPECT_NE(seconds("2024-02-29T00:00:00Z"), -1);
  EXPECT_NE(seconds("2000-02-29T00:00:00Z"), -1) << "a fourth century is a leap year";
  EXPECT_EQ(out_of_range("2026-02-29T00:00:00Z"), "there is no day 29 in February 2026");
  EXPECT_EQ(out_of_range("1900-02-29T00:00:00Z"), "there is no day 29 in February 1900");
  EXPECT_EQ(out_of_range("2100-02-29T00:00:00Z"), "there is no day 29 in February 2100");
  EXPECT_EQ(out_of_range("2026-02-30T00:00:00Z"), "there is no day 30 in February 2026");
  EXPECT_EQ(out_of_range("0900-02-29T00:00:00Z"), "there is no day 29 in February 0900") << "the year as written";
  EXPECT_EQ(out_of_range("0001-04-31T00:00:00Z"), "there is no day 31 in April 0001");
  const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (int month = 1; month <= 12; ++month) {
    std::string mm = (month < 10 ? "0" : "") + std::to_string(month);
    std::string last = std::to_string(days[month - 1]), after = std::to_string(days[month - 1] + 1);
    EXPECT_TRUE(read_date_time("2026-" + mm + "-" + last + "T12:00:00Z")) << mm;
    EXPECT_FALSE(read_date_time("2026-" + mm + "-" + after + "T12:00:00Z")) << mm;
    EXPECT_NE(out_of_range("2026-" + mm + "-" + after + "T12:00:00Z"), "") << mm;
  }
  EXPECT_EQ(out_of_range("2026-01-00T00:00:00Z"), "there is no day 00 in January 2026");
  EXPECT_EQ(out_of_range("2026-13-01T00:00:00Z"), "there is no month 13");
  EXPECT_EQ(out_of_range("2026-00-01T00:00:00Z"), "there is no month 00");
  EXPECT_EQ(out_of_range("2026-13-45T25:61:00Z"), "there is no month 13");
}

TEST(DateTime, ChecksTheTime) {
  EXPECT_EQ(out_of_range("2026-01-15T24:00:00Z"), "there is no hour 24");
  EXPECT_EQ(out_of_range("2026-01-15T25:61:00Z"), "there is no hour 25");
  EXPECT_EQ(out_of_range("2026-01-15T10:61:00Z"), "there is no minute 61");
  EXPECT_EQ(out_of_range("2026-01-15T10:00:61Z"), "there is no second 61");
  EXPECT_EQ(seconds("2026-12-31T23:59:60Z"), seconds("2027-01-01T00:00:00Z")) << "a leap second";
  EXPECT_EQ(seconds("2026-01-15T23:59:59Z") + 1, seconds("2026-01-16T00:00:00Z"));
}

TEST(DateTime, RefusesOtherShapes) {
  for (const char *bad : {"", "yesterday", "2026-1-15T10:00:00Z", "2026-01-15T1:00:00Z", "26-01-15T10:00:00Z",
                          "2026/01/15T10:00:00Z", "2026-01-15t10:00:00Z", "2026-01-15 10:00:00Z",
                          "2026-01-15T10:00Z", "2026-01-15", "2026-01-15T", " 2026-01-15T10:00:00Z",
                          "2026-01-15T10:00:00Z ", "+2026-01-15T10:00:00Z", "2026-01-15T10:00:0aZ"}) {
    EXPECT_FALSE(read_date_time(bad)) << bad;
    EXPECT_EQ(out_of_range(bad), "") << bad;
  }
}

TEST(DateTime, TakesTheVariantsItsFormAllows) {
  EXPECT_EQ(seconds("2026-01-15", {.date_alone = true}), 1768435200);
  EXPECT_FALSE(read_date_time("2026-01-15", {.date_alone = true}).time->offset_minutes);
  EXPECT_EQ(out_of_range("2026-02-30", {.date_alone = true}), "there is no day 30 in February 2026");
  EXPECT_EQ(seconds("2026-01-15T10:00Z", {.minutes_alone = true}), 1768471200);
  EXPECT_EQ(seconds("2026-01-15T10:00:00Z", {.minutes_alone = true}), 1768471200);
  EXPECT_EQ(seconds("2026-01-15 10:00:00Z", {.space_for_t = true}), 1768471200);
  EXPECT_EQ(seconds("2026-01-15t10:00:00z", {.lower_case = true}), 1768471200);
  EXPECT_EQ(seconds("2026-01-15T15:30:00+0530", {.offset_without_colon = true}), 1768471200);
  EXPECT_EQ(seconds("2026-01-15T15:30:00+05:30", {.offset_without_colon = true}), 1768471200);
  EXPECT_EQ(seconds("2026-01-15T10:00:00", {.zone = Zone::optional}), 1768471200) << "no zone reads as UTC";
  EXPECT_FALSE(read_date_time("2026-01-15T10:00:00", {.zone = Zone::optional}).time->offset_minutes);
  EXPECT_EQ(seconds(" \t2026-01-15 11:00:00 \n+01:00\r\n ", {.space_for_t = true, .spaces = true}), 1768471200);
  EXPECT_EQ(seconds("2026-01-15T10:00:00Z", {.zone = Zone::utc}), 1768471200);
  EXPECT_FALSE(read_date_time("2026-01-15T10:00:00+00:00", {.zone = Zone::utc}));
  EXPECT_FALSE(read_date_time("2026-01-15T10:00:00", {.zone = Zone::utc}));
  EXPECT_FALSE(read_date_time("2026-01-15T10:00:00", {.zone = Zone::required}));
  EXPECT_FALSE(read_date_time("2026-01-15T10:00+01:00", {.zone = Zone::optional})) << "seconds unless minutes_alone";
  EXPECT_FALSE(read_date_time("2026-01-15 Z", {.date_alone = true, .zone = Zone::optional}));
}

// One pass over the text, whatever its length: a payload's or a template's value of any size is answered at once.
TEST(DateTime, AnswersAHugeTextAtOnce) {
  const std::string run(200000, '1');
  EXPECT_FALSE(read_date_time(run));
  EXPECT_FALSE(read_date_time("2026-01-15T10:00:00." + run + "Z"));
  EXPECT_FALSE(read_date_time("2026-01-15T10:00:00Z" + run));
  EXPECT_FALSE(read_date_time(std::string(200000, ' ') + "2026-01-15T10:00:00Z"));
  const std::string spaces(200000, ' ');
  EXPECT_EQ(seconds(spaces + "2026-01-15T10:00:00" + spaces + "Z" + spaces, {.spaces = true}), 1768471200);
}
