#include <gtest/gtest.h>

#include <sstream>

#include "import/csv_reader.hpp"

namespace cartwire::import {
namespace {

std::vector<CsvRecord> read_all(const std::string &text) {
  std::istringstream in(text);
  CsvReader reader(in);
  std::vector<CsvRecord> out;
  CsvRecord record;
  while (reader.next(record)) out.push_back(record);
  EXPECT_EQ(reader.bytes_read(), text.size());
  return out;
}

using Fields = std::vector<std::string>;

TEST(CsvReader, ReadsQuotedFieldsWithCommasLineBreaksAndDoubledQuotes) {
  auto records = read_all(
      "\xEF\xBB\xBFOrder ID,Name,Note\r\n"
      "1,\"Lee, Ann\",\"said \"\"hi\"\"\"\r\n"
      "2,Bob,\"two\nlines\"\r\n"
      "3,  Cy  ,\"  kept  \"\r\n");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].fields, (Fields{"Order ID", "Name", "Note"}));
  EXPECT_EQ(records[1].fields, (Fields{"1", "Lee, Ann", "said \"hi\""}));
  EXPECT_EQ(records[2].fields, (Fields{"2", "Bob", "two\nlines"}));
  EXPECT_EQ(records[3].fields, (Fields{"3", "Cy", "  kept  "}));
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[2].line, 3);
  EXPECT_EQ(records[3].line, 5);  // the quoted line break moved it down one line
  for (auto &r : records) EXPECT_TRUE(r.error.empty()) << r.error;
}

TEST(CsvReader, LinesEndedByACarriageReturnAloneAreLinesToo) {
  // Excel for Mac's older "CSV (Macintosh)": every problem was reported at line 1.
  auto records = read_all("a,b\r1,2\r\r\"x\ny\",3\r4,5");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].fields, (Fields{"a", "b"}));
  EXPECT_EQ(records[1].fields, (Fields{"1", "2"}));
  EXPECT_EQ(records[2].fields, (Fields{"x\ny", "3"}));
  EXPECT_EQ(records[3].fields, (Fields{"4", "5"}));
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[2].line, 4);
  EXPECT_EQ(records[3].line, 6);
}

TEST(CsvReader, AQuotedFieldKeepsItsCarriageReturnsAsTheyAre) {
  // RFC 4180: a quoted field's characters are its text, a "\r" alone as much as "\r\n" or "\n".
  auto records = read_all("a,b\n\"x\ry\",1\n\"x\r\ny\",2\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].fields, (Fields{"x\ry", "1"}));
  EXPECT_EQ(records[2].fields, (Fields{"x\r\ny", "2"}));
  // In a file whose lines end with "\r" alone, too.
  records = read_all("a,b\r\"x\ry\",1\r2,3");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].fields, (Fields{"x\ry", "1"}));
  EXPECT_EQ(records[2].fields, (Fields{"2", "3"}));
  EXPECT_EQ(records[2].line, 4);
}

TEST(CsvReader, SkipsBlankLinesAndReadsALastLineWithoutNewline) {
  auto records = read_all("a,b\n\n1,2\n\n\n3,4");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].line, 3);
  EXPECT_EQ(records[2].line, 6);
  EXPECT_EQ(records[2].fields, (Fields{"3", "4"}));
}

TEST(CsvReader, ReportsAMalformedRecordAndGoesOn) {
  auto records = read_all("a,b\n1,\"x\"y\n2,ok\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].line, 2);
  EXPECT_NE(records[1].error.find("malformed quoting"), std::string::npos);
  EXPECT_TRUE(records[2].error.empty());
  EXPECT_EQ(records[2].line, 3);
  EXPECT_EQ(records[2].fields, (Fields{"2", "ok"}));
}

TEST(CsvReader, ReportsAQuoteNeverClosed) {
  auto records = read_all("a,b\n1,2\n3,\"open\n4,5\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2].line, 3);
  EXPECT_NE(records[2].error.find("never closed"), std::string::npos);
}

TEST(CsvReader, ReadsTheSeparatorTheHeaderUses) {
  // A spreadsheet in a European locale saves "CSV" with semicolons, keeping the commas of its decimals.
  auto records = read_all("\xEF\xBB\xBFOrder ID;Name;Amount\r\n1;\"Lee; Ann\";49,95\r\n2;Bob;\"1.234,50\"\r\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].fields, (Fields{"Order ID", "Name", "Amount"}));
  EXPECT_EQ(records[1].fields, (Fields{"1", "Lee; Ann", "49,95"}));
  EXPECT_EQ(records[2].fields, (Fields{"2", "Bob", "1.234,50"}));

  records = read_all("Order ID\tName\tNote\n1\t Ann \t\"a, b; c\"\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].fields, (Fields{"1", "Ann", "a, b; c"}));

  // A header with a quoted comma is still read by commas.
  records = read_all("\"Name; first, last\",Id\nAnn,1\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, (Fields{"Name; first, last", "Id"}));
}

TEST(CsvReader, AFirstLineSepNamesTheSeparatorAndIsNoRecord) {
  // Excel writes "sep=;" above the header of a CSV it is to open again.
  auto records = read_all("sep=;\r\nOrder ID;Name;Amount\r\n1;Lee, Ann;49,95\r\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, (Fields{"Order ID", "Name", "Amount"}));
  EXPECT_EQ(records[0].line, 2);
  EXPECT_EQ(records[1].fields, (Fields{"1", "Lee, Ann", "49,95"}));
  EXPECT_EQ(records[1].line, 3);

  // The separator named wins over the one the header has more of; a byte order mark may come first.
  records = read_all("\xEF\xBB\xBFsep=,\nName;First;Last,Id\nAnn;B;C,1\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, (Fields{"Name;First;Last", "Id"}));
  EXPECT_EQ(records[1].fields, (Fields{"Ann;B;C", "1"}));

  records = read_all("sep=\t\nId\tName\n1\tLee, Ann\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].fields, (Fields{"1", "Lee, Ann"}));

  // Only a line of exactly "sep=" and one character.
  records = read_all("sep=,,\n1,2,3\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, (Fields{"sep=", "", ""}));
  EXPECT_EQ(records[0].line, 1);
}

TEST(CsvReader, SkipsTheEmptyRowsASpreadsheetLeavesAsSeparatorsOnly) {
  auto records = read_all("a,b,c\r\n1,2,3\r\n,,\r\n,\"\", \r\n4,,\r\n,,\r\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2].fields, (Fields{"4", "", ""}));
  EXPECT_EQ(records[2].line, 5);
}

TEST(CsvReader, TellsALastLineWithoutALineEnd) {
  // A file cut short ends in the middle of its last row, with no line end after it.
  auto records = read_all("a,b,c\n1,2\n3,4,5\n6,7");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_FALSE(records[1].unterminated);
  EXPECT_FALSE(records[2].unterminated);
  EXPECT_TRUE(records[3].unterminated);
  EXPECT_EQ(records[3].fields, (Fields{"6", "7"}));
  EXPECT_TRUE(read_all("a,b\n1,\"2\"").back().unterminated);
  EXPECT_FALSE(read_all("a,b\n1,2\r\n").back().unterminated);
  EXPECT_FALSE(read_all("a,b\r1,2\r").back().unterminated);
}

// Excel writes a CSV some rows at a time: the importer counts rows as the sheet does.
TEST(CsvReader, NumbersTheRowsAsASpreadsheetDoesBlankOnesIncluded) {
  auto records = read_all(
      "sep=;\r\n"
      "a;b\r\n"
      "1;\"two\r\nlines\"\r\n"
      "\r\n"
      ";\r\n"
      "2;x\"y\r\n"
      "3;z\r\n"
      "\r"
      "4;w");
  ASSERT_EQ(records.size(), 5u);
  std::vector<int64_t> rows, lines;
  for (auto &r : records) {
    rows.push_back(r.row);
    lines.push_back(r.line);
  }
  EXPECT_EQ(rows, (std::vector<int64_t>{1, 2, 5, 6, 8}));
  EXPECT_EQ(lines, (std::vector<int64_t>{2, 3, 7, 8, 10}));
  EXPECT_FALSE(records[2].error.empty());
}

TEST(CsvReader, EmptyInputHasNoRecords) { EXPECT_TRUE(read_all("").empty()); }

}  // namespace
}  // namespace cartwire::import
