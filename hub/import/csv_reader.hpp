// Streaming RFC 4180 reading (libcsv) with the file line each record starts on.
#pragma once

#include <csv.h>

#include <cstdint>
#include <deque>
#include <istream>
#include <string>
#include <vector>

namespace cartwire::import {

/** One record of the file: its fields, or why it could not be read. */
struct CsvRecord {
  /** Line of the file (1-based) where the record starts. */
  int64_t line = 0;
  /**
   * The record's row as a spreadsheet numbers it (1-based, the header's
   * is 1): blank lines and rows of empty fields, which are not returned,
   * count, and a record with quoted line breaks is one row.
   */
  int64_t row = 0;
  std::vector<std::string> fields;
  /** Non-empty when the record is malformed; its fields are then incomplete. */
  std::string error;
  /**
   * The record is the file's last line and no line end follows it: a file
   * cut short (a copy or a download that stopped) ends so, in the middle of
   * its last row. Spreadsheets end every row with a line end.
   */
  bool unterminated = false;
};

/**
 * Reads comma-separated records from a stream: quoted fields with embedded
 * commas, line breaks and doubled quotes, CRLF or LF line ends, a UTF-8 byte
 * order mark before the first record, blank lines and records of empty fields
 * only skipped. Semicolons or tabs separate the fields instead when the first
 * line has more of them than commas. A first line "sep=X" (Excel's, above
 * the header) is no record: X separates the fields. Spaces around an
 * unquoted field are trimmed. A malformed record (text after a closing quote,
 * a quote inside an unquoted field) is returned with an error and reading
 * goes on at the next line; a quote still open at the end of the file makes
 * the last record an error.
 */
class CsvReader {
 public:
  explicit CsvReader(std::istream &in);
  ~CsvReader();
  CsvReader(const CsvReader &) = delete;
  CsvReader &operator=(const CsvReader &) = delete;

  /** The next record; false at the end of the stream. */
  bool next(CsvRecord &record);

  /** Bytes consumed from the stream so far (for progress). */
  uint64_t bytes_read() const { return bytes_; }

 private:
  static void on_field(void *data, size_t len, void *self);
  static void on_record(int terminator, void *self);
  void restart();
  /**
   * The next line into line_, without its end: "\n", "\r\n" (whose "\r" is
   * kept, for the parser), or a "\r" alone, as Excel for Mac's older
   * "CSV (Macintosh)" ends lines. line_end_: the '\n' or '\r' that ended
   * it (0 at the end of the file), given back to the parser as it is, so
   * that a quoted field keeps it.
   */
  bool read_line();

  std::istream &in_;
  csv_parser parser_{};
  std::deque<CsvRecord> ready_;
  std::vector<std::string> fields_;
  std::string line_;
  char line_end_ = 0;
  std::string chunk_;  // what getline read last, split further at each "\r" alone
  std::size_t chunk_at_ = std::string::npos;  // where its unread part starts; npos: all read
  bool chunk_ended_ = false;
  int64_t line_number_ = 0;
  int64_t rows_ = 0;
  int64_t record_start_ = 1;
  uint64_t bytes_ = 0;
  bool finished_ = false;
  /** Set while the parser is given the end of the file: a record it completes then is unterminated. */
  bool at_end_ = false;
  unsigned char separator_ = CSV_COMMA;
};

}  // namespace cartwire::import
