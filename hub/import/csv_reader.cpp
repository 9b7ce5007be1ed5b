#include "import/csv_reader.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace cartwire::import {
namespace {

constexpr unsigned char kOptions = CSV_STRICT | CSV_STRICT_FINI;

/** Spaces trimmed around unquoted fields: not tabs when tabs separate them. */
int is_space(unsigned char c) { return c == CSV_SPACE; }

/**
 * The separator of a header line: a comma, unless it has more semicolons (a
 * spreadsheet's "CSV" in a locale whose decimal mark is a comma) or tabs.
 */
unsigned char separator_of(const std::string &header) {
  std::size_t commas = 0, semicolons = 0, tabs = 0;
  bool quoted = false;
  for (char c : header) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    commas += c == ',';
    semicolons += c == ';';
    tabs += c == '\t';
  }
  if (semicolons > commas && semicolons >= tabs) return ';';
  if (tabs > commas) return CSV_TAB;
  return CSV_COMMA;
}

/**
 * The separator a first line "sep=;" names (also "sep=," or "sep=" and a
 * tab), as Excel writes it above the header of a CSV meant to be opened by
 * Excel again; nullopt for any other line.
 */
std::optional<unsigned char> named_separator(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() != 5 || line.substr(0, 4) != "sep=" || line[4] == '"' || line[4] == '\n') return std::nullopt;
  return static_cast<unsigned char>(line[4]);
}

}  // namespace

CsvReader::CsvReader(std::istream &in) : in_(in) {
  if (csv_init(&parser_, kOptions) != 0) throw std::runtime_error("cannot start the CSV parser");
  csv_set_space_func(&parser_, is_space);
}

CsvReader::~CsvReader() { csv_free(&parser_); }

void CsvReader::on_field(void *data, size_t len, void *self) {
  auto *reader = static_cast<CsvReader *>(self);
  reader->fields_.emplace_back(static_cast<const char *>(data), len);
}

void CsvReader::on_record(int, void *self) {
  auto *reader = static_cast<CsvReader *>(self);
  ++reader->rows_;
  // A spreadsheet saves the empty rows below its data as separators only: blank lines too.
  if (std::any_of(reader->fields_.begin(), reader->fields_.end(), [](auto &f) { return !f.empty(); }))
    reader->ready_.push_back(
        {reader->record_start_, reader->rows_, std::move(reader->fields_), {}, reader->at_end_});
  reader->fields_.clear();
}

void CsvReader::restart() {
  csv_free(&parser_);
  fields_.clear();
  if (csv_init(&parser_, kOptions) != 0) throw std::runtime_error("cannot restart the CSV parser");
  csv_set_space_func(&parser_, is_space);
  csv_set_delim(&parser_, separator_);
}

bool CsvReader::read_line() {
  if (chunk_at_ == std::string::npos) {
    if (!std::getline(in_, chunk_)) return false;
    chunk_ended_ = !in_.eof();
    bytes_ += chunk_.size() + (chunk_ended_ ? 1 : 0);
    chunk_at_ = 0;
  }
  std::size_t cr = chunk_.find('\r', chunk_at_);
  if (cr != std::string::npos && cr + 1 < chunk_.size()) {
    line_.assign(chunk_, chunk_at_, cr - chunk_at_);
    chunk_at_ = cr + 1;
    line_end_ = '\r';
    return true;
  }
  line_.assign(chunk_, chunk_at_);
  chunk_at_ = std::string::npos;
  line_end_ = chunk_ended_ ? '\n' : 0;
  return true;
}

bool CsvReader::next(CsvRecord &record) {
  // libcsv pushes records through callbacks; feed it a line at a time so that
  // each record knows the line it started on.
  while (ready_.empty() && !finished_) {
    if (!read_line()) {
      finished_ = true;
      at_end_ = true;
      if (csv_fini(&parser_, on_field, on_record, this) != 0) {
        ready_.push_back({record_start_, ++rows_, std::move(fields_),
                          "a quoted field opened here is never closed (the rest of the file is inside it)"});
        fields_.clear();
      }
      break;
    }
    ++line_number_;
    if (line_number_ == 1) {
      if (line_.rfind("\xEF\xBB\xBF", 0) == 0) line_.erase(0, 3);
      auto named = named_separator(line_);
      separator_ = named ? *named : separator_of(line_);
      csv_set_delim(&parser_, separator_);
      if (named) continue;  // the header is on the next line
    }
    // A record starts on the first line fed while the parser is between records; a blank line is a row of
    // no record (the parser skips it).
    if (parser_.pstate == 0 && fields_.empty()) {
      record_start_ = line_number_;
      if (line_.empty() || line_ == "\r") ++rows_;
    }
    if (line_end_) line_ += line_end_;
    if (csv_parse(&parser_, line_.data(), line_.size(), on_field, on_record, this) != line_.size()) {
      ready_.push_back({record_start_, ++rows_, std::move(fields_),
                        "malformed quoting: a quote inside an unquoted field, or text after a closing quote"});
      restart();
    }
  }
  if (ready_.empty()) return false;
  record = std::move(ready_.front());
  ready_.pop_front();
  return true;
}

}  // namespace cartwire::import
