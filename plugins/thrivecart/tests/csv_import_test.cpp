// The "csv" import trigger: rows of the exports become the events, and above
// all the dedupe keys, that the webhooks produce for the same facts.
#include <set>
#include <tuple>

#include "fixtures.hpp"

namespace thrivecart_test {
namespace {

using cartwire::sdk::ImportReply;
using cartwire::sdk::ImportRequest;
using cartwire::sdk::ImportRow;
using cartwire::sdk::ImportedRow;

class CsvImport : public ConnectorTest {
 protected:
  ImportReply import(const std::vector<std::string> &header, const std::vector<std::vector<std::string>> &rows,
                     const std::string &kind = "", const std::string &date_format = "") {
    ImportRequest request;
    request.trigger = "csv";
    request.kind = kind;
    request.date_format = date_format;
    request.header = header;
    int64_t line = 2;
    for (auto &values : rows) {
      ImportRow row{line++, Json::object()};
      for (std::size_t i = 0; i < header.size() && i < values.size(); ++i) row.fields[header[i]] = values[i];
      request.rows.push_back(std::move(row));
    }
    return instance_.import(request);
  }

  /** The one row of an order dated `date`, imported with `date_format`. */
  ImportedRow dated(const std::string &date, const std::string &date_format) {
    return import({"order_id", "order_date", "customer_email", "item_id"}, {{"1", date, "a@example.com", "12"}}, "",
                  date_format)
        .rows.at(0);
  }

  /** Each date, imported with its date format, is read as the time given (RFC 3339). */
  void expect_read(const std::vector<std::tuple<std::string, std::string, std::string>> &read) {
    for (auto &[date, date_format, at] : read) {
      ImportedRow row = dated(date, date_format);
      ASSERT_TRUE(row.error.empty()) << date << ": " << row.error;
      EXPECT_EQ(row.events.at(0)["occurred_at"], at) << date;
    }
  }

  std::set<std::string> webhook_keys(const Form &form) {
    std::set<std::string> keys;
    for (auto &event : send(post_form(form)).events) keys.insert(event["dedupe_key"].get<std::string>());
    return keys;
  }

  static std::set<std::string> import_keys(const ImportReply &reply) {
    std::set<std::string> keys;
    for (auto &row : reply.rows)
      for (auto &event : row.events) keys.insert(event["dedupe_key"].get<std::string>());
    return keys;
  }
};

const std::vector<std::string> kOrderHeader = {"Order ID", "Invoice ID", "Order Date", "Customer Email",
                                               "Customer First Name", "Customer Last Name", "Item Type",
                                               "Item ID", "Item Name", "Amount", "Currency", "Mode"};

TEST_F(CsvImport, OrderRowsProduceTheWebhooksDedupeKeys) {
  WebhookRequest request = post(kSection9Body, "application/x-www-form-urlencoded");
  std::set<std::string> from_webhook;
  for (auto &event : send(request).events) from_webhook.insert(event["dedupe_key"].get<std::string>());

  ImportReply reply = import(kOrderHeader, {{"1514394", "000000004", "2026-01-15 10:00:00", "ann@example.com", "Ann",
                                             "Lee", "product", "12", "Course", "49.95", "USD", "live"},
                                            {"1514394", "000000004", "2026-01-15 10:00:00", "ann@example.com", "Ann",
                                             "Lee", "upsell", "13", "Coaching", "$49.95", "USD", "live"}});
  ASSERT_TRUE(reply.error.empty()) << reply.error;
  EXPECT_EQ(reply.kind, "orders");
  EXPECT_EQ(import_keys(reply), from_webhook);

  const Json &purchase = reply.rows.at(1).events.at(1);
  EXPECT_EQ(purchase["type"], "product.purchased");
  EXPECT_EQ(purchase["item"]["reference"], "upsell-13");
  EXPECT_EQ(purchase["item"]["amount"], 4995);
  EXPECT_EQ(purchase["item"]["amount_str"], "49.95");
  EXPECT_EQ(purchase["occurred_at"], "2026-01-15T10:00:00Z");
  EXPECT_EQ(purchase["customer"]["email"], "ann@example.com");
  EXPECT_EQ(purchase["customer"]["name"], "Ann Lee");
  EXPECT_EQ(purchase["order"]["invoice_id"], "000000004");
  EXPECT_EQ(purchase["raw"]["export"], "orders");
  EXPECT_EQ(purchase["raw"]["line"], 3);
  EXPECT_EQ(purchase["raw"]["row"]["Item ID"], "13");
}

TEST_F(CsvImport, RebillAndRefundRowsMatchTheirWebhooks) {
  std::vector<std::string> header = {"order_id", "invoice_id", "transaction_type", "date", "customer_email",
                                     "item_type", "item_id", "amount", "subscription_id", "refund_amount"};
  ImportReply rebill = import(header, {{"1514394", "000000005", "rebill", "2026-02-15T10:00:00+00:00",
                                        "ann@example.com", "upsell", "101", "25.00", "sub_1"}});
  EXPECT_EQ(import_keys(rebill), webhook_keys(subscription_event("order.subscription_payment")));
  EXPECT_EQ(rebill.rows.at(0).events.at(0)["type"], "subscription.charged");

  ImportReply refund = import(header, {{"1514394", "", "refund", "1768899600", "ann@example.com", "product", "12",
                                        "49.95", "", "20.00"}});
  EXPECT_EQ(import_keys(refund), webhook_keys(refund_event("2000")));
  EXPECT_EQ(refund.rows.at(0).events.at(0)["type"], "product.partially_refunded");
  EXPECT_EQ(refund.rows.at(0).events.at(0)["refund"]["amount"], 2000);
}

// A spreadsheet shows and saves dates without their seconds; a refund's key holds them, as its webhook's does.
TEST_F(CsvImport, ARefundDatedToTheMinuteNamesTheKeysOfEachSecondOfIt) {
  std::vector<std::string> header = {"order_id", "transaction_type", "order_date", "customer_email", "item_reference",
                                     "amount"};
  ImportReply reply = import(header, {{"1514394", "refund", "20/01/2026 09:00", "ann@example.com", "product-12", "20.00"},
                                      {"1514394", "refund", "2026-01-20 09:00:30", "ann@example.com", "product-12", "20.00"},
                                      {"1514394", "refund", "20/01/2026", "ann@example.com", "product-12", "20.00"},
                                      {"1514394", "refund", "", "ann@example.com", "product-12", "20.00"}},
                             "", "DD/MM/YYYY");
  ASSERT_EQ(reply.rows.size(), 4u);
  const Json &minute = reply.rows[0].events.at(0);
  EXPECT_EQ(minute["dedupe_key"], "tc:acme:refund:1514394:product-12:2000:1768899600");
  const Json &keys = minute[cartwire::sdk::kDedupeAlternatives];
  ASSERT_EQ(keys.size(), 59u);
  EXPECT_EQ(keys.front(), "tc:acme:refund:1514394:product-12:2000:1768899601");
  EXPECT_EQ(keys.back(), "tc:acme:refund:1514394:product-12:2000:1768899659");
  // One of them is the webhook's, refunded at 09:00:30.
  Form webhook = refund_event("2000", false);
  for (auto &[name, value] : webhook)
    if (name == "date_unix") value = "1768899630";
  std::string from_webhook = *webhook_keys(webhook).begin();
  EXPECT_NE(std::find(keys.begin(), keys.end(), from_webhook), keys.end()) << from_webhook;

  // With its seconds, the key is the webhook's, and the one an import to the minute stored is named.
  const Json &second = reply.rows[1].events.at(0);
  EXPECT_EQ(second["dedupe_key"], from_webhook);
  EXPECT_EQ(second[cartwire::sdk::kDedupeAlternatives],
            Json::array({"tc:acme:refund:1514394:product-12:2000:1768899600"}));

  EXPECT_EQ(reply.rows[2].error,
            "order_date '20/01/2026' has no time: a refund's dedupe key holds its date and time, as its webhook's does");
  EXPECT_EQ(reply.rows[3].error, "order_date is empty: a refund's dedupe key holds its date and time, as its webhook's does");

  // Other events' keys hold no date: they name no others.
  ImportReply order = import(header, {{"1514394", "", "20/01/2026 09:00", "ann@example.com", "product-12", "49.95"}},
                             "", "DD/MM/YYYY");
  for (auto &event : order.rows.at(0).events) EXPECT_FALSE(event.contains(cartwire::sdk::kDedupeAlternatives));
}

// A refund's key holds its amount in cents, as its webhook's does: a row without one could match no webhook.
TEST_F(CsvImport, ARefundWithoutAnAmountIsReportedAsItsKeyCouldMatchNoWebhook) {
  std::vector<std::string> header = {"order_id", "transaction_type", "order_date", "customer_email", "item_reference",
                                     "amount", "refund_amount"};
  ImportReply reply = import(header, {{"1514394", "refund", "2026-01-20 09:00:00", "ann@example.com", "product-12", "", ""},
                                      {"1514394", "refund", "2026-01-20 09:00:00", "ann@example.com", "product-12", "", "20.00"},
                                      {"1514394", "refund", "2026-01-20 09:00:00", "ann@example.com", "product-12", "20.00", ""}});
  ASSERT_EQ(reply.rows.size(), 3u);
  EXPECT_EQ(reply.rows[0].error, "amount and refund_amount are empty: a refund's dedupe key holds the amount refunded, "
                                 "as its webhook's does");
  EXPECT_TRUE(reply.rows[0].events.empty());
  for (std::size_t i : {1u, 2u}) {
    EXPECT_EQ(reply.rows[i].error, "") << i;
    EXPECT_EQ(reply.rows[i].events.at(0)["dedupe_key"], "tc:acme:refund:1514394:product-12:2000:1768899600") << i;
  }
}

// A rebill's key holds its order and invoice, as its webhook's does: a row without the invoice could match no webhook.
TEST_F(CsvImport, ARebillWithoutAnInvoiceIsReportedAsItsKeyCouldMatchNoWebhook) {
  std::vector<std::string> header = {"order_id", "invoice_id", "transaction_type", "date", "customer_email",
                                     "item_type", "item_id", "amount", "subscription_id"};
  ImportReply reply = import(header, {{"1514394", "", "rebill", "2026-02-15T10:00:00+00:00", "ann@example.com",
                                       "upsell", "101", "25.00", "sub_1"},
                                      {"1514394", "000000005", "rebill", "2026-02-15T10:00:00+00:00",
                                       "ann@example.com", "upsell", "101", "25.00", "sub_1"}});
  ASSERT_EQ(reply.rows.size(), 2u);
  EXPECT_EQ(reply.rows[0].error,
            "invoice_id is empty: a rebill's dedupe key holds its order_id and invoice_id, as its webhook's does");
  EXPECT_TRUE(reply.rows[0].events.empty());
  EXPECT_EQ(reply.rows[1].error, "");
  EXPECT_EQ(reply.rows[1].events.at(0)["dedupe_key"], *webhook_keys(subscription_event("order.subscription_payment"))
                                                           .begin());

  ImportReply without = import({"order_id", "transaction_type", "date", "customer_email", "item_reference",
                                "subscription_id"},
                               {{"1514394", "rebill", "1771149600", "ann@example.com", "upsell-101", "sub_1"}});
  ASSERT_EQ(without.rows.size(), 1u);
  EXPECT_EQ(without.rows[0].error, "the file has no invoice_id: a rebill's dedupe key holds its order_id and "
                                   "invoice_id, as its webhook's does");
  EXPECT_TRUE(without.rows[0].events.empty());
}

TEST_F(CsvImport, SubscriptionExportsGiveCancellationsAndCompletions) {
  std::vector<std::string> header = {"Subscription ID", "Status", "Customer Email", "Item Reference", "Amount",
                                     "Cancelled Date"};
  ImportReply reply = import(header, {{"sub_1", "Cancelled", "ann@example.com", "upsell-101", "25.00",
                                       "2026-03-01 08:00:00"},
                                      {"sub_2", "Active", "bob@example.com", "product-12", "10.00", ""}});
  ASSERT_TRUE(reply.error.empty()) << reply.error;
  EXPECT_EQ(reply.kind, "subscriptions");
  EXPECT_EQ(import_keys(reply), webhook_keys(subscription_event("order.subscription_cancelled")));
  EXPECT_EQ(reply.rows.at(0).events.at(0)["type"], "subscription.canceled");
  EXPECT_EQ(reply.rows.at(0).events.at(0)["item"]["reference"], "upsell-101");
  EXPECT_TRUE(reply.rows.at(1).events.empty());
  EXPECT_TRUE(reply.rows.at(1).error.empty());

  ImportReply limited = import({"subscription_id", "status", "email", "remaining_rebills", "completed_date"},
                               {{"sub_3", "active", "cy@example.com", "0", "2026-04-01"},
                                {"sub_4", "active", "di@example.com", "2", ""},
                                {"sub_5", "active", "ed@example.com", "two", ""}});
  EXPECT_EQ(limited.kind, "limited-subscriptions");
  ASSERT_EQ(limited.rows.at(0).events.size(), 1u);
  EXPECT_EQ(limited.rows.at(0).events.at(0)["type"], "subscription.completed");
  EXPECT_EQ(limited.rows.at(0).events.at(0)["dedupe_key"], "tc:acme:completed:sub_3");
  EXPECT_EQ(limited.rows.at(0).events.at(0)["occurred_at"], "2026-04-01T00:00:00Z");
  EXPECT_TRUE(limited.rows.at(1).events.empty());
  EXPECT_EQ(limited.rows.at(2).error, "remaining_rebills 'two' is not a count");
}

TEST_F(CsvImport, HeaderNamesMatchWhateverTheirCaseAndSpacing) {
  ImportReply reply = import({"  ORDER id ", "customer-email", "Relevant Item Name", "item_reference", "TOTAL"},
                             {{"77", "ann@example.com", "Course", "bump-12", "9.5"}});
  ASSERT_TRUE(reply.error.empty()) << reply.error;
  const Json &purchase = reply.rows.at(0).events.at(1);
  EXPECT_EQ(purchase["dedupe_key"], "tc:acme:order:77:item:bump-12");
  EXPECT_EQ(purchase["item"]["name"], "Course");
  EXPECT_EQ(purchase["item"]["amount"], 950);
}

TEST_F(CsvImport, AmountsAsASpreadsheetWritesThemInAnyLocale) {
  const std::vector<std::pair<std::string, int64_t>> cases = {
      {"49,95", 4995},
      {"49,9", 4990},
      {"1.234,50", 123450},
      {"1 234,50", 123450},
      {"1\xC2\xA0" "234,50", 123450},  // a no-break space between the thousands
      {"\xE2\x82\xAC" "49,95", 4995},
      {"49,95 \xE2\x82\xAC", 4995},
      {"\xC2\xA3" "12.00", 1200},
      {"-\xE2\x82\xAC" "5,00", -500},
      {"USD 49.95", 4995},
      {"49.95 EUR", 4995},
      {"1,234.50", 123450},
      {"$1,299", 129900},
      {"1,234", 123400},
      {"1.000", 100000},  // a thousand in a locale whose decimal mark is a comma, not one
      {"12.500 \xE2\x82\xAC", 1250000},
      {"1.234.567", 123456700},
      {"49,9500", 4995}};
  for (auto &[text, cents] : cases) {
    ImportReply reply = import({"order_id", "customer_email", "item_id", "amount"}, {{"1", "a@example.com", "12", text}});
    ASSERT_TRUE(reply.rows.at(0).error.empty()) << text << ": " << reply.rows[0].error;
    EXPECT_EQ(reply.rows[0].events.at(1)["item"]["amount"], cents) << text;
  }
  for (std::string text : {"49,95,00", "1,2,3", "12.34,5", "1.234.5", "4 9,95", "EUR", "49.95 E", "0.125", "0,125",
                           "1,234.567"}) {
    ImportReply reply = import({"order_id", "customer_email", "item_id", "amount"}, {{"1", "a@example.com", "12", text}});
    EXPECT_EQ(reply.rows.at(0).error, "amount '" + text + "' is not an amount such as 49.95") << text;
  }
}

TEST_F(CsvImport, DatesASpreadsheetRewroteAreReadInTheOrderTheDateFormatGives) {
  // Without --date-format, which day and month come first is not guessed: the error says which option reads it.
  EXPECT_EQ(dated("15/01/2026 10:00", "").error,
            "order_date '15/01/2026 10:00' has its day first: import the file with --date-format DD/MM/YYYY");
  EXPECT_EQ(dated("1/15/2026 10:00 AM", "").error,
            "order_date '1/15/2026 10:00 AM' has its month first: import the file with --date-format MM/DD/YYYY");
  EXPECT_EQ(dated("01/02/2026", "").error,
            "order_date '01/02/2026' has its day or its month first: import the file with --date-format DD/MM/YYYY "
            "or --date-format MM/DD/YYYY, the order the spreadsheet writes dates in");

  expect_read({
      {"15/01/2026 10:00", "DD/MM/YYYY", "2026-01-15T10:00:00Z"},
      {"01/02/2026", "DD/MM/YYYY", "2026-02-01T00:00:00Z"},
      {"15.01.2026 22:05:09", "DD/MM/YYYY", "2026-01-15T22:05:09Z"},
      {"1/15/2026 10:00 AM", "MM/DD/YYYY", "2026-01-15T10:00:00Z"},
      {"1/15/2026 10:00:30 pm", "MM/DD/YYYY", "2026-01-15T22:00:30Z"},
      {"12/31/2026 12:30 AM", "MM/DD/YYYY", "2026-12-31T00:30:00Z"},
      {"01/02/2026 12:00 PM", "MM/DD/YYYY", "2026-01-02T12:00:00Z"},
      {"2026-01-15 10:00", "MM/DD/YYYY", "2026-01-15T10:00:00Z"}});

  EXPECT_EQ(dated("1/15/2026 10:00 AM", "DD/MM/YYYY").error,
            "order_date '1/15/2026 10:00 AM' is not a DD/MM/YYYY date but MM/DD/YYYY: import the file with "
            "--date-format MM/DD/YYYY");
  for (std::string date : {"31/02/2026", "15/01/2026 24:00", "15/01/2026 13:00 PM", "15/13/2026"})
    EXPECT_EQ(dated(date, "DD/MM/YYYY").error, "order_date '" + date + "' is not a date") << date;
  // A date of no form it reads: the form to write it in, without the option the file is imported with already.
  EXPECT_EQ(dated("15/01/202", "").error,
            "order_date '15/01/202' is not a date (use 2026-01-15 10:00:00, ISO 8601, unix seconds, or 15/01/2026 "
            "10:00 with --date-format DD/MM/YYYY)");
  EXPECT_EQ(dated("15/01/202", "DD/MM/YYYY").error,
            "order_date '15/01/202' is not a date (use 2026-01-15 10:00:00, ISO 8601, unix seconds, or 15/01/2026 "
            "10:00)");
  EXPECT_EQ(dated("15/01/2026 10:00 o'clock", "MM/DD/YYYY").error,
            "order_date '15/01/2026 10:00 o'clock' is not a date (use 2026-01-15 10:00:00, ISO 8601, unix seconds, "
            "or 1/15/2026 10:00 AM)");
  for (std::string date : {"15/01/2026 10:0", "15/01/2026 10:00:0", "15/01/2026 1000", "15/01/2026 10:00 AMX",
                           "15/01-2026", "015/01/2026", "15/01/02026", "15/01/2026 10:00M", "15/01/2026 T",
                           "15/01/2026 123:00", "2026/01/015"})
    EXPECT_EQ(dated(date, "DD/MM/YYYY").error.rfind("order_date '" + date + "' is not a date", 0), 0u) << date;
  expect_read({{"01/15/2026T10:00", "MM/DD/YYYY", "2026-01-15T10:00:00Z"},
               {"01/15/2026 T 10:00 p.m.", "MM/DD/YYYY", "2026-01-15T22:00:00Z"},
               {"2026/1/15  10:00:59PM", "", "2026-01-15T22:00:59Z"}});
  // A cell of any length is read at once: a run of spaces a spreadsheet kept between the date and the time is
  // a run of spaces, and a long cell that is no date is reported as such.
  std::string spaced = "1/15/2026" + std::string(200000, ' ') + "10:00";
  expect_read({{spaced, "MM/DD/YYYY", "2026-01-15T10:00:00Z"}});
  std::string trailed = "1/15/2026 10:00" + std::string(200000, ' ') + "h";
  EXPECT_EQ(dated(trailed, "MM/DD/YYYY").error.rfind("order_date '1/15/2026 10:00   ", 0), 0u);
  EXPECT_NE(dated(trailed, "MM/DD/YYYY").error.find("' is not a date (use 2026-01-15 10:00:00"), std::string::npos);
  std::string digits(200000, '1');
  EXPECT_EQ(dated(digits + "/01/2026", "DD/MM/YYYY").error, "order_date '" + digits + "/01/2026' is not a date (use "
            "2026-01-15 10:00:00, ISO 8601, unix seconds, or 15/01/2026 10:00)");
  EXPECT_EQ(import({"order_id", "customer_email", "item_id"}, {}, "", "YYYY/DD/MM").error,
            "date format 'YYYY/DD/MM' is neither DD/MM/YYYY nor MM/DD/YYYY");
}

// LibreOffice's default date and time in an American or a German locale, Excel's short date in many.
TEST_F(CsvImport, ASpreadsheetsDatesWithTwoDigitYearsAreOfThisCentury) {
  expect_read({
      {"01/15/26 10:00 AM", "MM/DD/YYYY", "2026-01-15T10:00:00Z"},
      {"1/5/26", "MM/DD/YYYY", "2026-01-05T00:00:00Z"},
      {"15.01.26 22:05", "DD/MM/YYYY", "2026-01-15T22:05:00Z"},
      {"31/12/99 23:59:59", "DD/MM/YYYY", "2099-12-31T23:59:59Z"}});
  EXPECT_EQ(dated("15.01.26 22:05", "").error,
            "order_date '15.01.26 22:05' has its day first: import the file with --date-format DD/MM/YYYY");
}

// Excel or LibreOffice in Japanese, Chinese or Korean: the year first, then the month, with or without the option.
TEST_F(CsvImport, ASpreadsheetsDatesWithTheYearFirstAreReadWithoutTheOption) {
  expect_read({
      {"2026/1/15 10:00", "", "2026-01-15T10:00:00Z"},
      {"2026/01/05 22:05:09", "DD/MM/YYYY", "2026-01-05T22:05:09Z"},
      {"2026.1.5", "MM/DD/YYYY", "2026-01-05T00:00:00Z"},
      {"2026-1-15 9:30 PM", "", "2026-01-15T21:30:00Z"}});
  EXPECT_EQ(dated("2026/15/01 10:00", "").error, "order_date '2026/15/01 10:00' is not a date");
}

TEST_F(CsvImport, BadRowsAreReportedOneByOne) {
  ImportReply reply = import(kOrderHeader, {{"1", "", "", "ann@example.com", "", "", "product", "12", "", "12.x"},
                                            {"", "", "", "ann@example.com", "", "", "product", "12", "", "1"},
                                            {"3", "", "yesterday", "ann@example.com", "", "", "product", "12"},
                                            {"4", "", "", "ann@example.com", "", "", "gift", "12"},
                                            {"5", "", "", "ann@example.com", "", "", "product", "12", "", "", "", "demo"},
                                            {"6", "", "", "ann@example.com", "", "", "product", "12"}});
  ASSERT_EQ(reply.rows.size(), 6u);
  EXPECT_EQ(reply.rows[0].error, "amount '12.x' is not an amount such as 49.95");
  EXPECT_EQ(reply.rows[1].error, "order_id is empty");
  EXPECT_EQ(reply.rows[2].error.rfind("order_date 'yesterday' is not a date", 0), 0u) << reply.rows[2].error;
  EXPECT_EQ(reply.rows[3].error, "item type 'gift' is not product, bump, upsell or downsell");
  EXPECT_EQ(reply.rows[4].error, "mode 'demo' is neither live nor test");
  EXPECT_TRUE(reply.rows[5].error.empty());
  EXPECT_EQ(reply.rows[5].line, 7);
  EXPECT_EQ(reply.rows[5].events.size(), 2u);
}

// Excel leaves out the empty cells at the end of some rows: the hub sends such a row without them.
TEST_F(CsvImport, ARowShorterThanTheHeaderIsReadUnlessItEndsBeforeWhatIdentifiesItsEvent) {
  std::vector<std::string> header = {"order_id", "transaction_type", "order_date", "customer_email", "item_type",
                                     "item_id", "amount", "refund_amount", "currency"};
  ImportReply reply = import(header, {{"1", "", "2026-01-15 10:00:00", "a@example.com", "upsell", "13", "49.95"},
                                      {"1", "refund", "2026-01-20 09:00:00", "a@example.com", "upsell", "13", "49.95"},
                                      {"2", "", "2026-01-15 10:00:00", "b@example.com", "upsell"}});
  ASSERT_TRUE(reply.error.empty()) << reply.error;
  ASSERT_EQ(reply.rows.size(), 3u);
  ASSERT_TRUE(reply.rows[0].error.empty()) << reply.rows[0].error;
  EXPECT_EQ(reply.rows[0].events.at(1)["dedupe_key"], "tc:acme:order:1:item:upsell-13");
  EXPECT_EQ(reply.rows[0].events.at(1)["item"]["amount"], 4995);
  // A refund's amount is in its key: a refund row that ends before it is not read as a refund of the whole item.
  EXPECT_EQ(reply.rows[1].error, "refund_amount is missing: the row ends before its column 'refund_amount'");
  EXPECT_EQ(reply.rows[2].error, "item_id is missing: the row ends before its column 'item_id'");
  // The item's type is in its key too: a row that ends before it is no purchase of a product.
  EXPECT_EQ(import({"order_id", "customer_email", "item_id", "item_type"}, {{"3", "c@example.com", "13"}})
                .rows.at(0)
                .error,
            "item_type is missing: the row ends before its column 'item_type'");

  ImportReply subscriptions = import({"Subscription ID", "Customer Email", "Status", "Item Reference"},
                                     {{"sub_1", "a@example.com", "Cancelled"}, {"sub_2", "b@example.com"}});
  ASSERT_EQ(subscriptions.rows.size(), 2u);
  EXPECT_EQ(subscriptions.rows[0].events.at(0)["dedupe_key"], "tc:acme:cancel:sub_1");
  EXPECT_EQ(subscriptions.rows[1].error, "status is missing: the row ends before its column 'Status'");
}

TEST_F(CsvImport, RefusesHeadersOfNoKnownExport) {
  ImportReply reply = import({"Date", "Amount", "Note"}, {});
  EXPECT_NE(reply.error.find("matches no ThriveCart export (found: Date, Amount, Note)"), std::string::npos)
      << reply.error;
  EXPECT_NE(reply.error.find("orders: order_id, customer_email, item_id or item_reference"), std::string::npos);
  EXPECT_NE(reply.error.find("subscriptions: subscription_id, status, customer_email"), std::string::npos);

  ImportReply wrong_kind = import(kOrderHeader, {}, "subscriptions");
  EXPECT_NE(wrong_kind.error.find("lacks columns of a ThriveCart subscriptions export: subscription_id, status"),
            std::string::npos)
      << wrong_kind.error;
  EXPECT_NE(import(kOrderHeader, {}, "payouts").error.find("no 'payouts' export"), std::string::npos);
  ImportReply checked = import(kOrderHeader, {}, "orders");
  EXPECT_TRUE(checked.error.empty());
  EXPECT_EQ(checked.kind, "orders");
}

TEST(CsvImportAccount, NeedsTheAccountForItsKeys) {
  PluginHarness harness(THRIVECART_PLUGIN_PATH);
  auto instance = harness.create({{"secret", kSecret}});
  ImportRequest request;
  request.header = kOrderHeader;
  EXPECT_NE(instance.import(request).error.find("set the source's 'account' setting"), std::string::npos);
  request.header.push_back("ThriveCart Account");
  request.rows.push_back({2, {{"Order ID", "9"}, {"Customer Email", "a@example.com"}, {"Item Type", "product"}, {"Item ID", "12"},
                              {"ThriveCart Account", "acme"}}});
  ImportReply reply = instance.import(request);
  ASSERT_TRUE(reply.error.empty()) << reply.error;
  EXPECT_EQ(reply.rows.at(0).events.at(0)["dedupe_key"], "tc:acme:order:9");
}

}  // namespace
}  // namespace thrivecart_test
