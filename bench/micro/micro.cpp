// Micro-benchmarks of the per-webhook work: reading a ThriveCart order
// (JSON parse + normalisation), matching rules (10, 1,000 and 10,000 rules:
// the cost must stay flat) and signing a Notify URL delivery.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "normalizer.hpp"
#include "rules/matcher.hpp"
#include "signer.hpp"

namespace {

using cartwire::sdk::Json;

std::string bench_body() {
  std::ifstream in(CARTWIRE_BENCH_BODY);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void BM_ThriveCartParse(benchmark::State &state) {
  const std::string body = bench_body();
  for (auto _ : state) {
    Json payload = Json::parse(body);
    payload.erase("thrivecart_secret");
    // As the connector does: the events leave the payload out, and the reply carries it once.
    cartwire::thrivecart::NormalizeContext context{"benchshop", 1736951527};
    context.raw_apart = true;
    auto events = cartwire::thrivecart::normalize(payload, context);
    benchmark::DoNotOptimize(events);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ThriveCartParse);

// N rules the way a store with many products has them: product rules keyed by
// reference over a few event types, a filter on each, and a few global rules.
std::vector<cartwire::config::Rule> many_rules(int n) {
  static const char *types[] = {"product.purchased", "product.refunded", "subscription.cancelled",
                                "subscription.payment_failed", "order.completed"};
  std::vector<cartwire::config::Rule> rules;
  for (int i = 0; i < n; ++i) {
    cartwire::config::Rule r;
    r.name = "rule-" + std::to_string(i);
    r.on = {types[i % 5]};
    if (i % 100 == 99) {
      r.product = "upsell-*";  // a prefix rule: checked on every event of its type
    } else if (i % 50 != 49) {
      r.product = "product-" + std::to_string(i);
    }
    r.where.push_back({"mode", cartwire::config::Filter::Op::equals, {"live"}, {}});
    r.integration = "sink";
    r.action = "post";
    rules.push_back(std::move(r));
  }
  return rules;
}

void BM_MatchRules(benchmark::State &state) {
  const int n = static_cast<int>(state.range(0));
  cartwire::rules::Matcher matcher(many_rules(n));
  // A purchase of a product in the middle of the list.
  Json event = {{"type", "product.purchased"},
                {"mode", "live"},
                {"item", {{"reference", "product-" + std::to_string((n / 2) / 5 * 5)}}},
                {"customer", {{"email", "jane.doe@example.com"}}}};
  std::size_t matched = 0;
  for (auto _ : state) {
    auto rules = matcher.match(event);
    matched = rules.size();
    benchmark::DoNotOptimize(rules);
  }
  state.counters["rules_matched"] = static_cast<double>(matched);
}
BENCHMARK(BM_MatchRules)->Arg(10)->Arg(1000)->Arg(10000);

void BM_SignDelivery(benchmark::State &state) {
  const cartwire::notifyurl::Signer signer("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  const std::string body = bench_body();
  for (auto _ : state) benchmark::DoNotOptimize(signer.sign("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", 1736951527, body));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_SignDelivery);

}  // namespace

BENCHMARK_MAIN();
