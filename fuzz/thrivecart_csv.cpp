// ThriveCart CSV exports as `cartwire import` reads them: records from the
// CSV reader, the first as the header, the rest mapped to events by the
// connector. Like the importer, records that are malformed, not UTF-8,
// longer than the header, or short without a line end (a file cut short) are
// set aside, and a shorter row goes to the connector without its missing
// cells; anything escaping, or any sanitizer report, is a bug.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "csv_import.hpp"
#include "form_decoder.hpp"
#include "import/csv_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char *>(data), size));
  cartwire::import::CsvReader reader(in);
  cartwire::sdk::ImportRequest request;
  request.trigger = "csv";
  cartwire::import::CsvRecord record;
  bool header = true;
  while (reader.next(record)) {
    if (!record.error.empty()) continue;
    bool text = true;
    for (auto &field : record.fields) text = text && cartwire::thrivecart::valid_utf8(field);
    if (!text) continue;
    if (header) {
      request.header = record.fields;
      header = false;
      continue;
    }
    if (record.fields.size() > request.header.size()) continue;
    if (record.fields.size() < request.header.size() && record.unterminated) continue;
    cartwire::sdk::ImportRow row;
    row.line = record.line;
    for (std::size_t i = 0; i < record.fields.size(); ++i)
      row.fields[request.header[i]] = record.fields[i];
    request.rows.push_back(std::move(row));
  }
  auto reply = cartwire::thrivecart::import_rows(request, {"acme", 1768471200});
  for (auto &row : reply.rows)
    for (auto &event : row.events) (void)event.dump();
  return 0;
}
