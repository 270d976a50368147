// strategy.sma_cross: crosses of fast/slow moving averages on a crafted price path, the
// instrument filter, bar input, lifecycle events and parameter validation.
#include "trading_support.hpp"

#include <catch2/catch.hpp>

#include <array>

using namespace libra;
using namespace libra::testing;

namespace {

// With fast 2 / slow 4 this path crosses three times (the arithmetic is in the comments):
//  i  price  fast    slow
//  3  1.07   1.075   1.085   below: the first side, no signal
//  5  1.10   1.09    1.0825  above -> BUY at 1.10
//  7  1.05   1.055   1.0725  below -> SELL at 1.05
//  8  1.11   1.08    1.08    equal: no cross, the side stays "below"
//  9  1.12   1.115   1.085   above -> BUY at 1.12
constexpr std::array<const char*, 10> path{"1.10", "1.09", "1.08", "1.07", "1.08",
                                           "1.10", "1.06", "1.05", "1.11", "1.12"};

struct expected_signal {
  std::size_t index;
  libra::side side;
  const char* price;
};
const std::array<expected_signal, 3> crosses{{{5, side::buy, "1.10"}, {7, side::sell, "1.05"}, {9, side::buy, "1.12"}}};

std::vector<event> path_ticks(instrument_id inst = "EUR/USD") {
  std::vector<event> out;
  for (std::size_t i = 0; i < path.size(); ++i)
    out.push_back(quote(path[i], path[i], inst, t0 + std::chrono::seconds{static_cast<int>(i)}));
  return out;
}

void check_signals(const std::vector<event>& sigs, const std::vector<event>& cause, const char* source,
                   double strength = 1.0) {
  REQUIRE(sigs.size() == crosses.size());
  for (std::size_t i = 0; i < crosses.size(); ++i) {
    const auto& s = sigs[i].get<signal>();
    const auto& origin = cause[crosses[i].index];
    CHECK(s.instrument == "EUR/USD");
    CHECK(s.side == crosses[i].side);
    CHECK(s.reference == *price::parse(crosses[i].price));
    CHECK(s.strength == Approx(strength));
    CHECK(sigs[i].trace_id() == origin.trace_id()); // a child of the event that crossed
    CHECK(sigs[i].span_id() != origin.span_id());
    CHECK(sigs[i].time() == origin.time()); // event time, not wall time
    CHECK(sigs[i].source() == source);
    CHECK(sigs[i].priority() == priority::signals);
  }
}

} // namespace

TEST_CASE_METHOD(trading_fixture, "sma_cross signals each cross of the fast and slow average of mid prices",
                 "[actors][strategy]") {
  spawn("strategy.sma_cross", "strategy.sma", "{fast: 2, slow: 4, strength: 0.5}");
  start();
  const auto ticks = path_ticks();
  for (const auto& t : ticks)
    publish(t);
  run_until_idle();
  check_signals(published(event_type::signal), ticks, "strategy.sma", 0.5);
}

TEST_CASE_METHOD(trading_fixture, "sma_cross keeps one pair of averages per instrument and honours its filter",
                 "[actors][strategy]") {
  const bool filtered = GENERATE(true, false);
  spawn("strategy.sma_cross", "strategy.sma",
        filtered ? "{fast: 2, slow: 4, instrument: EUR/USD}" : "{fast: 2, slow: 4}");
  start();
  const auto eur = path_ticks("EUR/USD");
  const auto gbp = path_ticks("GBP/USD");
  for (std::size_t i = 0; i < eur.size(); ++i) { // interleaved: the instruments must not mix
    publish(gbp[i]);
    publish(eur[i]);
  }
  run_until_idle();
  std::vector<event> eur_sigs;
  std::size_t gbp_sigs = 0;
  for (const auto& e : published(event_type::signal))
    if (e.get<signal>().instrument == "EUR/USD")
      eur_sigs.push_back(e);
    else
      ++gbp_sigs;
  check_signals(eur_sigs, eur, "strategy.sma");
  CHECK(gbp_sigs == (filtered ? 0U : 3U));
}

TEST_CASE_METHOD(trading_fixture, "sma_cross with input: bar uses bar closes", "[actors][strategy]") {
  spawn("strategy.sma_cross", "strategy.bars", "{fast: 2, slow: 4, input: bar}");
  start();
  std::vector<event> bars;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const auto close = *price::parse(path[i]);
    bars.push_back(event::create(event_type::bar, "gateway.test",
                                 bar{"EUR/USD", close, close, close, close, quantity{}, std::chrono::minutes{1}},
                                 trace_context::new_root(), t0 + std::chrono::minutes{static_cast<int>(i)}));
  }
  for (const auto& t : path_ticks()) // ticks are not its input
    publish(t);
  for (const auto& e : bars)
    publish(e);
  run_until_idle();
  check_signals(published(event_type::signal), bars, "strategy.bars");
}

TEST_CASE_METHOD(trading_fixture, "sma_cross publishes STRATEGY_STARTED on run and STRATEGY_STOPPED on halt",
                 "[actors][strategy]") {
  spawn("strategy.sma_cross", "strategy.sma", "{}");
  start();
  CHECK(published({event_type::strategy_started, event_type::strategy_stopped}).size() == 1);
  halt("strategy.sma");
  run_until_idle();
  const auto evs = published({event_type::strategy_started, event_type::strategy_stopped});
  REQUIRE(evs.size() == 2);
  CHECK(evs[0].type() == event_type::strategy_started);
  CHECK(evs[1].type() == event_type::strategy_stopped);
  for (const auto& e : evs) {
    CHECK(e.source() == "strategy.sma");
    CHECK(e.get<libra::system>().component == "strategy.sma");
  }
}

TEST_CASE("sma_cross rejects bad params with their key path", "[actors][strategy][config]") {
  actor_registry reg;
  actors::register_trading_actors(reg);
  SECTION("slow must be greater than fast") {
    auto e = factory_error(reg, "strategy.sma_cross", "{fast: 5, slow: 5}");
    CHECK(e.key_path() == "actors[0].params.slow");
    CHECK_THAT(e.message(), Catch::Contains("slow (5) must be greater than fast (5)"));
    CHECK(e.file() == "test.yaml");
    CHECK(e.line() == 1);
    CHECK(e.column() > 1);
  }
  SECTION("fast must be at least 1") {
    CHECK(factory_error(reg, "strategy.sma_cross", "{fast: 0, slow: 4}").key_path() == "actors[0].params.fast");
  }
  SECTION("strength in [0, 1]") {
    CHECK(factory_error(reg, "strategy.sma_cross", "{strength: 1.5}").key_path() == "actors[0].params.strength");
  }
  SECTION("input is tick or bar") {
    auto e = factory_error(reg, "strategy.sma_cross", "{input: candle}");
    CHECK(e.key_path() == "actors[0].params.input");
    CHECK_THAT(e.message(), Catch::Contains("tick, bar"));
  }
  SECTION("instrument must fit an instrument id") {
    CHECK(factory_error(reg, "strategy.sma_cross", "{instrument: ABCDEFGHIJKLMNOPQRST}").key_path()
          == "actors[0].params.instrument");
  }
  SECTION("a misspelt key is left unread, so the loader reports it") {
    auto p = yaml_params("{fast: 2, slow: 4, fsat: 3}");
    (void)reg.find("strategy.sma_cross")->factory(p);
    const auto unread = p.unread();
    REQUIRE(unread.size() == 1);
    CHECK(unread[0].key_path() == "actors[0].params.fsat");
  }
}
