#include "csv_import.hpp"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <cartwire/sdk/http.hpp>
#include <cartwire/sdk/money.hpp>

#include "export_amount.hpp"
#include "export_date.hpp"
#include "payload.hpp"

namespace cartwire::thrivecart {
namespace {

using sdk::ImportReply;
using sdk::ImportRequest;
using sdk::ImportedRow;

/** A column the mapping reads, under its own name and the other names exports use for it. */
struct Column {
  std::string name;
  std::vector<std::string> aliases;
};

/** One kind of export: the columns read, and which must be there (each entry: one of these). */
struct Format {
  std::string kind;
  std::vector<Column> columns;
  std::vector<std::vector<std::string>> required;
};

std::vector<Column> customer_columns() {
  return {{"customer_email", {"email", "email_address", "customer_email_address"}},
          {"customer_first_name", {"first_name", "firstname", "customer_firstname"}},
          {"customer_last_name", {"last_name", "lastname", "customer_lastname"}},
          {"customer_name", {"name", "full_name", "customer_full_name"}},
          {"customer_phone", {"phone", "contactno", "phone_number", "customer_contactno"}},
          {"business_name", {"customer_business_name", "company"}},
          {"address_line1", {"line1", "address_1", "address"}},
          {"address_line2", {"line2", "address_2"}},
          {"address_city", {"city"}},
          {"address_state", {"state", "region"}},
          {"address_zip", {"zip", "postcode", "postal_code"}},
          {"address_country", {"country"}},
          {"thrivecart_account", {"account"}},
          {"mode", {}},
          {"currency", {}},
          {"order_id", {}},
          {"item_type", {"relevant_item_type"}},
          {"item_id", {"relevant_item_id", "product_id", "reference"}},
          {"item_reference", {"relevant_item_reference"}},
          {"item_name", {"relevant_item_name", "product_name"}},
          {"amount", {"item_amount", "relevant_item_amount", "total", "price"}}};
}

std::vector<Column> with(std::vector<Column> base, std::vector<Column> extra) {
  base.insert(base.end(), extra.begin(), extra.end());
  return base;
}

const std::vector<Format> &formats() {
  static const std::vector<Format> all = [] {
    std::vector<Column> subscription = {{"subscription_id", {"subscription"}},
                                        {"status", {"subscription_status"}},
                                        {"frequency", {"billing_frequency"}},
                                        {"cancelled_date", {"canceled_date", "cancellation_date", "date_cancelled"}},
                                        {"completed_date", {"date_completed", "last_payment_date"}}};
    // Checked in this order: a limited-subscriptions header is also a subscriptions header.
    return std::vector<Format>{
        {"limited-subscriptions",
         with(customer_columns(), with(subscription, {{"remaining_rebills", {"rebills_remaining", "payments_remaining",
                                                                             "remaining_payments"}},
                                                      {"total_rebills", {"total_payments", "number_of_payments"}}})),
         {{"subscription_id"}, {"status"}, {"customer_email"}, {"remaining_rebills"}}},
        {"subscriptions", with(customer_columns(), subscription),
         {{"subscription_id"}, {"status"}, {"customer_email"}}},
        {"orders",
         with(customer_columns(), {{"invoice_id", {"invoice", "invoice_number"}},
                                   {"transaction_type", {"transaction", "event_type"}},
                                   {"order_date", {"date", "transaction_date", "order_date_iso8601"}},
                                   {"order_timestamp", {"date_unix", "timestamp"}},
                                   {"order_total", {"total_order", "order_amount"}},
                                   {"refund_amount", {"amount_refunded"}},
                                   {"base_product", {"base_product_id"}},
                                   {"base_product_name", {}},
                                   {"processor", {"payment_processor"}},
                                   {"subscription_id", {}}}),
         {{"order_id"}, {"customer_email"}, {"item_id", "item_reference"}}}};
  }();
  return all;
}

/** "Order ID " → "order_id": lower case, runs of anything but letters and digits become one '_'. */
std::string header_key(std::string_view name) {
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c)) {
      out += static_cast<char>(std::tolower(c));
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

/** Where each of a format's columns sits in the header (by the name written there). */
struct Layout {
  const Format *format = nullptr;
  std::map<std::string, std::string> column;  // canonical name → header name as written

  bool has(const std::string &name) const { return column.count(name) > 0; }
  std::vector<std::string> missing() const {
    std::vector<std::string> out;
    for (auto &group : format->required) {
      bool found = false;
      for (auto &name : group) found = found || has(name);
      if (found) continue;
      std::string alternatives;
      for (auto &name : group) alternatives += (alternatives.empty() ? "" : " or ") + name;
      out.push_back(alternatives);
    }
    return out;
  }
};

Layout layout_of(const Format &format, const std::vector<std::string> &header) {
  Layout layout{&format, {}};
  for (auto &column : format.columns) {
    for (auto &written : header) {
      std::string key = header_key(written);
      bool match = key == column.name;
      for (auto &alias : column.aliases) match = match || key == alias;
      // The column's own name wins over an alias when a file has both.
      if (match && (!layout.has(column.name) || key == column.name)) layout.column[column.name] = written;
    }
  }
  return layout;
}

std::string joined(const std::vector<std::string> &names) {
  std::string out;
  for (auto &n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string expected_columns() {
  std::string out;
  for (auto &format : formats()) {
    std::vector<std::string> required;
    for (auto &group : format.required) {
      std::string alternatives;
      for (auto &name : group) alternatives += (alternatives.empty() ? "" : " or ") + name;
      required.push_back(alternatives);
    }
    out += "\n  " + format.kind + ": " + joined(required);
  }
  return out;
}

/** A row that cannot become events; what() names the column and the problem. */
class RowError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/**
 * One row's values by canonical column name; blank cells read as absent, and
 * so do the cells past the end of a row shorter than the header, as Excel
 * writes a row whose cells at its end are empty.
 */
struct Cells {
  const Layout &layout;
  const Json &fields;
  DayMonth day_month = DayMonth::unknown;

  /**
   * Refuses the row when it ends before one of these columns of the file: they identify its event (they
   * make its dedupe key, or say which event it is), and a row cut short is not read as if they were empty.
   */
  void present(std::initializer_list<const char *> names) const {
    for (const char *name : names)
      if (auto it = layout.column.find(name); it != layout.column.end() && !fields.contains(it->second))
        throw RowError(std::string(name) + " is missing: the row ends before its column '" + it->second + "'");
  }

  std::optional<std::string> operator()(const std::string &name) const {
    auto it = layout.column.find(name);
    if (it == layout.column.end()) return std::nullopt;
    auto value = text(child(fields, it->second));
    if (!value) return std::nullopt;
    std::string trimmed = *value;
    trimmed.erase(0, trimmed.find_first_not_of(" \t\r\n"));
    trimmed.erase(trimmed.find_last_not_of(" \t\r\n") + 1);
    if (trimmed.empty()) return std::nullopt;
    return trimmed;
  }
};

std::string need(const Cells &cells, const std::string &name) {
  cells.present({name.c_str()});
  auto value = cells(name);
  if (!value) throw RowError(name + " is empty");
  return *value;
}

/** A date column read (see read_export_date); nullopt when the cell is blank. */
std::optional<ExportDate> date_cell(const Cells &cells, const std::string &name) {
  auto value = cells(name);
  if (!value) return std::nullopt;
  ExportDate date = read_export_date(*value, cells.day_month);
  if (!date.seconds) throw RowError(name + " '" + *value + "' " + date.problem);
  return date;
}

/** Unix seconds of a date column; nullopt when the cell is blank. */
std::optional<int64_t> date_seconds(const Cells &cells, const std::string &name) {
  auto date = date_cell(cells, name);
  return date ? date->seconds : std::nullopt;
}

/**
 * The other keys a refund dated to the minute `at` may be stored under (sdk::kDedupeAlternatives). Its key
 * holds its date as the webhook's date_unix, to the second: a date without seconds (10:00, as a spreadsheet
 * shows and saves dates by default) is any second of its minute. (A date with them names the minute's start,
 * where an import of such a copy of the export stored it, as the webhook's refund does: see normalize.)
 */
void refund_alternatives(Json &event, int64_t at, int64_t span) {
  std::string key = event.value("dedupe_key", ""), date = ":" + std::to_string(at);
  if (span != 60 || at < 0 || key.size() < date.size() ||
      key.compare(key.size() - date.size(), date.size(), date) != 0)
    return;
  std::string start = key.substr(0, key.size() - date.size() + 1);
  Json keys = Json::array();
  for (int64_t second = 1; second < 60; ++second) keys.push_back(start + std::to_string(at + second));
  event[sdk::kDedupeAlternatives] = std::move(keys);
}

/** Cents and their decimal text from a decimal amount ("49.95", "$1,299.00", "49,95 €"). */
std::optional<std::pair<int64_t, std::string>> money(const Cells &cells, const std::string &name) {
  auto value = cells(name);
  if (!value) return std::nullopt;
  auto amount = export_cents(*value);
  if (!amount) throw RowError(name + " '" + *value + "' is not an amount such as 49.95");
  return std::make_pair(*amount, sdk::cents_to_decimal(*amount));
}

void put_amount(Json &out, const std::string &key, const std::optional<std::pair<int64_t, std::string>> &amount) {
  if (!amount) return;
  out[key] = std::to_string(amount->first);
  out[key + "_str"] = amount->second;
}

/** (item_type, id) from item_reference ("upsell-13") or item_type (default product) and item_id. */
std::pair<std::string, std::string> item_of(const Cells &cells, bool required) {
  static const std::vector<std::string> kTypes = {"product", "bump", "upsell", "downsell"};
  std::string type, id;
  if (auto reference = cells("item_reference")) {
    auto dash = reference->find('-');
    if (dash == std::string::npos) throw RowError("item_reference '" + *reference + "' is not like upsell-13");
    type = sdk::lower(reference->substr(0, dash));
    id = reference->substr(dash + 1);
  } else if (auto item_id = cells("item_id")) {
    if (required) cells.present({"item_type"});
    type = sdk::lower(cells("item_type").value_or("product"));
    id = *item_id;
  } else if (required) {
    cells.present({"item_id", "item_reference"});
    throw RowError("item_id is empty");
  } else {
    return {};
  }
  if (std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end())
    throw RowError("item type '" + type + "' is not product, bump, upsell or downsell");
  if (id.empty()) throw RowError("the item id is empty");
  return {type, id};
}

/** What every payload carries: event, account, mode, currency, customer. */
Json base_payload(const std::string &event, const Cells &cells, const NormalizeContext &context) {
  Json p = {{"event", event}};
  cells.present({"thrivecart_account"});
  std::string account = cells("thrivecart_account").value_or(context.account);
  if (account.empty())
    throw RowError("thrivecart_account is empty and the source has no 'account' setting");
  p["thrivecart_account"] = account;
  if (auto mode = cells("mode")) {
    std::string m = sdk::lower(*mode);
    if (m != "live" && m != "test") throw RowError("mode '" + *mode + "' is neither live nor test");
    p["mode"] = m;
  }
  if (auto currency = cells("currency")) p["currency"] = *currency;
  if (auto order_id = cells("order_id")) p["order_id"] = *order_id;
  Json customer = {{"email", need(cells, "customer_email")}};
  for (auto [column, key] : {std::pair{"customer_first_name", "first_name"}, {"customer_last_name", "last_name"},
                             {"customer_name", "name"}, {"customer_phone", "phone"},
                             {"business_name", "business_name"}})
    if (auto value = cells(column)) customer[key] = *value;
  Json address = Json::object();
  for (auto [column, key] : {std::pair{"address_line1", "line1"}, {"address_line2", "line2"}, {"address_city", "city"},
                             {"address_state", "state"}, {"address_zip", "zip"}, {"address_country", "country"}})
    if (auto value = cells(column)) address[key] = *value;
  if (!address.empty()) customer["address"] = std::move(address);
  p["customer"] = std::move(customer);
  return p;
}

std::string lowered_type(const Cells &cells) { return sdk::lower(cells("transaction_type").value_or("")); }

/** An orders row: one item of an order (order.success), or a rebill or refund of one. */
Json order_payload(const Cells &cells, const NormalizeContext &context, ExportDate &refund_date) {
  cells.present({"transaction_type"});
  std::string type = lowered_type(cells);
  need(cells, "order_id");
  auto [item_type, item_id] = item_of(cells, true);
  auto amount = money(cells, "amount");
  std::string date_column = cells("order_timestamp") ? "order_timestamp" : "order_date";
  auto date = date_cell(cells, date_column);
  // Unix seconds as text, empty when the cell is blank.
  std::string when = date && date->seconds ? std::to_string(*date->seconds) : "";
  if (type.empty() || type == "order" || type == "charge" || type == "purchase" || type == "sale" ||
      type == "order.success") {
    Json p = base_payload("order.success", cells, context);
    Json charge = {{"item_type", item_type}, {"reference", item_id}, {"type", "single"}};
    if (auto name = cells("item_name")) charge["name"] = *name;
    put_amount(charge, "amount", amount);
    Json order = {{"charges", Json::array({charge})}};
    put_amount(order, "total", money(cells, "order_total"));
    if (auto processor = cells("processor")) order["processor"] = *processor;
    p["order"] = std::move(order);
    if (auto invoice = cells("invoice_id")) p["invoice_id"] = *invoice;
    if (auto base = cells("base_product")) p["base_product"] = *base;
    if (auto name = cells("base_product_name")) p["base_product_name"] = *name;
    if (!when.empty()) p["order_timestamp"] = when;
    return p;
  }
  if (type == "rebill" || type == "subscription_payment" || type == "recurring" ||
      type == "order.subscription_payment") {
    cells.present({"invoice_id", "subscription_id", "order_timestamp", "order_date"});
    // Its key holds the order and the invoice, as the webhook's does: without the invoice it could match none.
    if (!cells("invoice_id")) {
      std::string why = ": a rebill's dedupe key holds its order_id and invoice_id, as its webhook's does";
      throw RowError((cells.layout.has("invoice_id") ? "invoice_id is empty" : "the file has no invoice_id") + why);
    }
    Json p = base_payload("order.subscription_payment", cells, context);
    Json subscription = {{"type", item_type}, {"id", item_id}};
    if (auto name = cells("item_name")) subscription["name"] = *name;
    put_amount(subscription, "amount", amount);
    p["subscription"] = std::move(subscription);
    p["invoice_id"] = *cells("invoice_id");
    if (auto id = cells("subscription_id")) p["subscription_id"] = *id;
    if (!when.empty()) p["date_unix"] = when;
    return p;
  }
  if (type == "refund" || type == "order.refund") {
    cells.present({"amount", "refund_amount", "order_timestamp", "order_date"});
    // Its key holds its date, as the webhook's holds date_unix: without one it could match no webhook.
    if (!date || date->span > 60)
      throw RowError(date_column + (date ? " '" + *cells(date_column) + "' has no time" : " is empty") +
                     ": a refund's dedupe key holds its date and time, as its webhook's does");
    refund_date = *date;
    Json p = base_payload("order.refund", cells, context);
    Json refund = {{"type", item_type}, {"id", item_id}};
    auto refunded = money(cells, "refund_amount");
    // Its key holds the amount refunded, as the webhook's holds refund.amount: without one it could match none.
    if (!refunded && !amount)
      throw RowError("amount and refund_amount are empty: a refund's dedupe key holds the amount refunded, as its "
                     "webhook's does");
    put_amount(refund, "amount", refunded ? refunded : amount);
    p["refund"] = std::move(refund);
    if (refunded && amount) {
      // Both amounts: the charged one lets the normalizer tell a partial refund from a full one.
      Json charge = {{"item_type", item_type}, {"reference", item_id}, {"type", "single"}};
      put_amount(charge, "amount", amount);
      p["order"] = {{"charges", Json::array({charge})}};
    }
    if (!when.empty()) p["date_unix"] = when;
    return p;
  }
  throw RowError("transaction_type '" + type + "' is not order, rebill or refund");
}

/**
 * A subscriptions row: a cancelled subscription is the cancellation the
 * webhook reports; a limited one that ran its course is its completion.
 * Other states (active, paused, ...) describe no event: nullopt.
 */
std::optional<Json> subscription_payload(const Cells &cells, const NormalizeContext &context, bool limited) {
  std::string status = sdk::lower(need(cells, "status"));
  std::string id = need(cells, "subscription_id");
  std::optional<int64_t> remaining;
  if (limited) {
    cells.present({"remaining_rebills"});
    if (auto value = cells("remaining_rebills")) {
      Json count = *value;
      remaining = cents(&count);
      if (!remaining || *remaining < 0) throw RowError("remaining_rebills '" + *value + "' is not a count");
    }
  }
  bool cancelled = status == "cancelled" || status == "canceled";
  bool completed = limited && (status == "completed" || status == "complete" || status == "finished" ||
                               (remaining == 0 && status != "paused" && !cancelled));
  if (!cancelled && !completed) {
    need(cells, "customer_email");  // a row that cannot become an event is still checked for what it lacks
    return std::nullopt;
  }
  Json p = base_payload(cancelled ? "order.subscription_cancelled" : "order.subscription_completed", cells, context);
  p["subscription_id"] = id;
  Json subscription = Json::object();
  auto [item_type, item_id] = item_of(cells, false);
  if (!item_type.empty()) {
    subscription["type"] = item_type;
    subscription["id"] = item_id;
  }
  if (auto name = cells("item_name")) subscription["name"] = *name;
  put_amount(subscription, "amount", money(cells, "amount"));
  if (auto frequency = cells("frequency")) subscription["frequency"] = *frequency;
  if (limited) subscription["remaining_rebills"] = remaining ? Json(std::to_string(*remaining)) : Json(nullptr);
  p["subscription"] = std::move(subscription);
  if (auto when = date_seconds(cells, cancelled ? "cancelled_date" : "completed_date"))
    p["date_unix"] = std::to_string(*when);
  return p;
}

std::vector<Json> row_events(const Layout &layout, const sdk::ImportRow &row, DayMonth day_month,
                             const NormalizeContext &context) {
  Cells cells{layout, row.fields, day_month};
  std::optional<Json> payload;
  ExportDate refund_date;
  if (layout.format->kind == "orders") {
    payload = order_payload(cells, context, refund_date);
  } else {
    payload = subscription_payload(cells, context, layout.format->kind == "limited-subscriptions");
  }
  if (!payload) return {};
  // What the source sent is the row, not the payload rebuilt from it.
  Json raw = {{"export", layout.format->kind}, {"line", row.line}, {"row", row.fields}};
  NormalizeContext with_raw = context;
  with_raw.raw = &raw;
  std::vector<Json> events = normalize(*payload, with_raw);
  if (refund_date.seconds)
    for (auto &event : events) refund_alternatives(event, *refund_date.seconds, refund_date.span);
  return events;
}

}  // namespace

ImportReply import_rows(const ImportRequest &request, const NormalizeContext &context) {
  const Format *format = nullptr;
  Layout layout;
  if (!request.kind.empty()) {
    for (auto &f : formats())
      if (f.kind == request.kind) format = &f;
    if (!format) {
      std::vector<std::string> kinds;
      for (auto &f : formats()) kinds.push_back(f.kind);
      return ImportReply::refuse("ThriveCart has no '" + request.kind + "' export (kinds: " + joined(kinds) + ")");
    }
    layout = layout_of(*format, request.header);
    if (auto missing = layout.missing(); !missing.empty())
      return ImportReply::refuse("the header lacks columns of a ThriveCart " + format->kind +
                                 " export: " + joined(missing) + " (found: " + joined(request.header) + ")");
  } else {
    // The first kind whose columns are all there (limited-subscriptions
    // before subscriptions), unless the header fits an orders export too.
    std::vector<std::string> fits;
    for (auto &f : formats()) {
      Layout candidate = layout_of(f, request.header);
      if (!candidate.missing().empty()) continue;
      fits.push_back(f.kind);
      if (!format) {
        layout = candidate;
        format = &f;
      }
    }
    if (format && std::find(fits.begin(), fits.end(), "orders") != fits.end() && fits.front() != "orders")
      return ImportReply::refuse("the header has the columns of more than one ThriveCart export (" + joined(fits) +
                                 "); say which this file is with --kind, e.g. --kind orders");
    if (!format)
      return ImportReply::refuse("the header matches no ThriveCart export (found: " + joined(request.header) +
                                 "). Columns expected, in any case and with spaces or underscores:" +
                                 expected_columns());
  }
  if (context.account.empty() && !layout.has("thrivecart_account"))
    return ImportReply::refuse(
        "set the source's 'account' setting to the ThriveCart account (subdomain), or add a thrivecart_account "
        "column: the dedupe keys that match imported rows to webhook deliveries name the account");

  DayMonth day_month = DayMonth::unknown;
  if (request.date_format == sdk::kDayFirst) {
    day_month = DayMonth::day_first;
  } else if (request.date_format == sdk::kMonthFirst) {
    day_month = DayMonth::month_first;
  } else if (!request.date_format.empty()) {
    return ImportReply::refuse("date format '" + request.date_format + "' is neither " + sdk::kDayFirst + " nor " +
                               sdk::kMonthFirst);
  }

  ImportReply reply;
  reply.kind = format->kind;
  for (auto &row : request.rows) {
    ImportedRow out;
    out.line = row.line;
    try {
      out.events = row_events(layout, row, day_month, context);
    } catch (const RowError &e) {
      out.error = e.what();
    }
    reply.rows.push_back(std::move(out));
  }
  return reply;
}

}  // namespace cartwire::thrivecart
