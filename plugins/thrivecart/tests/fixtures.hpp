// Payloads built from every field ThriveCart documents for its webhooks.
#pragma once

#include "support.hpp"

namespace thrivecart_test {

/** ThriveCart's documented order.success example, byte for byte, on one line. */
inline const std::string kSection9Body =
    "event=order.success&mode=live&mode_int=2&thrivecart_account=acme&thrivecart_secret=S3cretWord"
    "&base_product=12&base_product_name=Course&order_id=1514394&invoice_id=000000004"
    "&order_date=2026-01-15+10%3A00%3A00&order_timestamp=1768471200&currency=USD"
    "&customer_id=4244502&customer_identifier=cus_abc&customer[id]=4244502"
    "&customer[email]=ann%40example.com&customer[name]=Ann+Lee&customer[first_name]=Ann&customer[last_name]=Lee"
    "&customer[address][country]=US&customer[address][zip]=10001"
    "&order[processor]=stripe&order[total]=9990&order[total_str]=99.90&order[tax]=null"
    "&order[charges][0][item_type]=product&order[charges][0][reference]=12&order[charges][0][name]=Course"
    "&order[charges][0][amount]=4995&order[charges][0][amount_str]=49.95&order[charges][0][type]=single"
    "&order[charges][1][item_type]=upsell&order[charges][1][reference]=13&order[charges][1][name]=Coaching"
    "&order[charges][1][amount]=4995&order[charges][1][amount_str]=49.95&order[charges][1][type]=single"
    "&transactions[product-12]=ch_1&transactions[upsell-13]=ch_2"
    "&purchases[0]=Course&purchases[1]=Coaching&purchase_map[0]=product-12&purchase_map[1]=upsell-13"
    "&purchase_map_flat=product-12%2Cupsell-13&fulfillment[url]=https%3A%2F%2Facme.thrivecart.com%2Fcourse%2Fconfirm%2F";

/** Top-level fields every order event carries (§4). */
inline Form common_fields(const std::string &event) {
  return {{"event", event},
          {"mode", "live"},
          {"mode_int", "2"},
          {"thrivecart_account", "acme"},
          {"thrivecart_secret", kSecret},
          {"base_product", "12"},
          {"base_product_name", "Course"},
          {"base_product_label", "Course (annual)"},
          {"base_product_owner", "110359"},
          {"order_id", "1514394"},
          {"invoice_id", "000000004"},
          {"currency", "USD"},
          {"customer_id", "4244502"},
          {"affiliate", "null"},
          {"customer[id]", "4244502"},
          {"customer[email]", "ann@example.com"},
          {"customer[name]", "Ann Lee"},
          {"customer[first_name]", "Ann"},
          {"customer[last_name]", "Lee"},
          {"customer[business_name]", "Lee & Co"},
          {"customer[ip_address]", "203.0.113.7"},
          {"customer[checkbox_confirmation]", "false"},
          {"customer[client_user_agent]", "Mozilla/5.0 (X11; Linux x86_64)"},
          {"customer[origin]", "vanity"},
          {"customer[client_meta_fbp]", "fb.1.1697072452426.266636192"},
          {"customer[contactno]", "+1 555 0100"},
          {"customer[how_did_you_hear]", "Podcast"},
          {"customer[custom_fields][company_size]", "11-50"},
          {"customer[address][line1]", "1 Main St"},
          {"customer[address][line2]", "Suite 5"},
          {"customer[address][city]", "New York"},
          {"customer[address][state]", "NY"},
          {"customer[address][zip]", "10001"},
          {"customer[address][country]", "US"}};
}

/**
 * order.success with every §4–§6 field. Charged now: product-12 (single row
 * plus its recurring descriptor), bump-12 (no amount_str) and upsell-13.
 */
inline Form order_success() {
  Form form = common_fields("order.success");
  Form rest = {
      {"order_date", "2026-01-15 10:00:00"},
      {"order_timestamp", "1768471200"},
      {"customer_identifier", "cus_abc"},
      {"order[id]", "1514394"},
      {"order[invoice_id]", "000000004"},
      {"order[processor]", "stripe"},
      {"order[tax]", "null"},
      {"order[tax_type]", "us-tx"},
      {"order[total]", "10990"},
      {"order[total_str]", "109.90"},
      {"order[total_gross]", "10990"},
      {"order[total_gross_str]", "109.90"},
      {"order[date]", "2026-01-15 10:00:00"},
      {"order[date_iso8601]", "2026-01-15T10:00:00+00:00"},
      {"order[date_unix]", "1768471200"},
      {"order[tracking_id]", "null"},
  };
  form.insert(form.end(), rest.begin(), rest.end());
  auto charge = [&](int n, const std::string &item_type, const std::string &ref, const std::string &name,
                    const std::string &amount, const std::string &type, bool with_str) {
    std::string at = "order[charges][" + std::to_string(n) + "]";
    std::string decimal = amount.substr(0, amount.size() - 2) + "." + amount.substr(amount.size() - 2);
    Form rows = {{at + "[item_type]", item_type},
                 {at + "[reference]", ref},
                 {at + "[item_identifier]", item_type + "_" + ref},
                 {at + "[name]", name},
                 {at + "[label]", ""},
                 {at + "[amount]", amount},
                 {at + "[original_amount]", amount},
                 {at + "[original_amount_str]", decimal},
                 {at + "[amount_gross]", amount},
                 {at + "[amount_gross_str]", decimal},
                 {at + "[tax_paid]", "0"},
                 {at + "[tax_paid_str]", "0.00"},
                 {at + "[type]", type},
                 {at + "[quantity]", "1"},
                 {at + "[unit_price]", amount},
                 {at + "[unit_price_str]", decimal},
                 {at + "[payment_plan_id]", "83322"},
                 {at + "[payment_plan_name]", "Monthly ($49.95)"},
                 {at + "[defer]", "false"},
                 {at + "[related_to_recur]", type == "recurring" ? "true" : "false"}};
    if (with_str) rows.emplace_back(at + "[amount_str]", decimal);
    if (type == "recurring") {
      rows.emplace_back(at + "[frequency]", "month");
      rows.emplace_back(at + "[frequency_days]", "30");
      rows.emplace_back(at + "[defer_date]", "1771149600");
    }
    form.insert(form.end(), rows.begin(), rows.end());
  };
  charge(0, "product", "12", "Course", "4995", "single", true);
  charge(1, "product", "12", "Course", "4995", "recurring", true);
  charge(2, "bump", "12", "Workbook", "1000", "single", false);
  charge(3, "upsell", "13", "Coaching", "4995", "single", true);
  Form tail = {{"order[future_charges][0][item_type]", "product"},
               {"order[future_charges][0][reference]", "12"},
               {"order[future_charges][0][amount]", "4995"},
               {"order[future_charges][0][amount_str]", "49.95"},
               {"order[future_charges][0][type]", "recurring"},
               {"order[future_charges][0][frequency]", "month"},
               {"order[future_charges][0][due]", "2026-02-15 10:00:00"},
               {"transactions[product-12]", "ch_1"},
               {"transactions[bump-12]", "ch_1"},
               {"transactions[upsell-13]", "ch_2"},
               {"subscriptions[product-12]", "sub_1"},
               {"subscription_ids[product-12]", "3498819"},
               {"purchases[0]", "Course"},
               {"purchases[1]", "Workbook"},
               {"purchases[2]", "Coaching"},
               {"purchase_map[0]", "product-12"},
               {"purchase_map[1]", "bump-12"},
               {"purchase_map[2]", "upsell-13"},
               {"purchase_map_flat", "product-12, bump-12,upsell-13"},
               {"accessible_purchases[0]", "Course"},
               {"accessible_purchase_map[0]", "product-12"},
               {"accessible_purchase_map_flat", "product-12"},
               {"fulfillment[url]", "https://acme.thrivecart.com/course/confirm/"},
               {"fulfillment[id]", "77"},
               {"fulfillment[hash]", "abc123"}};
  form.insert(form.end(), tail.begin(), tail.end());
  return form;
}

/** Subscription / rebill events (§7): upsell-101, subscription sub_1. */
inline Form subscription_event(const std::string &event) {
  Form form = common_fields(event);
  Form rest = {{"subscription_id", "sub_1"},
               {"invoice_id", "000000005"},
               {"date", "2026-02-15 10:00:00"},
               {"date_iso8601", "2026-02-15T10:00:00+00:00"},
               {"date_unix", "1771149600"},
               {"subscription[type]", "upsell"},
               {"subscription[id]", "101"},
               {"subscription[product_id]", "12"},
               {"subscription[name]", "Coaching"},
               {"subscription[label]", "Monthly coaching"},
               {"subscription[processor]", "stripe"},
               {"subscription[currency]", "USD"},
               {"subscription[invoice_id]", "000000005"},
               {"subscription[amount]", "2500"},
               {"subscription[amount_str]", "25.00"},
               {"subscription[original_amount]", "2500"},
               {"subscription[original_amount_str]", "25.00"},
               {"subscription[amount_gross]", "2500"},
               {"subscription[amount_gross_str]", "25.00"},
               {"subscription[tax_paid]", "0"},
               {"subscription[tax_paid_str]", "0.00"},
               {"subscription[frequency]", "month"},
               {"subscription[frequency_days]", "30"},
               {"subscription[remaining_rebills]", "3"},
               {"subscription[billing_period_end]", "1773828000"},
               {"subscription[billing_period_end_iso8601]", "2026-03-18T10:00:00+00:00"}};
  return with(form, rest);
}

/** order.refund of `refund_amount` cents for product-12, whose charge was 4995. */
inline Form refund_event(const std::string &refund_amount, bool with_charges = true) {
  Form form = with(common_fields("order.refund"), {{"date", "2026-01-20 09:00:00"},
                                                   {"date_iso8601", "2026-01-20T09:00:00+00:00"},
                                                   {"date_unix", "1768899600"},
                                                   {"refund[type]", "product"},
                                                   {"refund[id]", "12"},
                                                   {"refund[amount]", refund_amount}});
  if (with_charges)
    form = with(form, {{"order[total]", "4995"},
                       {"order[total_str]", "49.95"},
                       {"order[charges][0][item_type]", "product"},
                       {"order[charges][0][reference]", "12"},
                       {"order[charges][0][name]", "Course"},
                       {"order[charges][0][amount]", "4995"},
                       {"order[charges][0][amount_str]", "49.95"},
                       {"order[charges][0][type]", "single"}});
  return form;
}

}  // namespace thrivecart_test
