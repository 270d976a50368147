// position.manager: position arithmetic (exact in fixed point) and the POSITION_* events it
// publishes as children of fills and, for marks, of ticks at most every mark_interval_ms.
#include "trading_support.hpp"

#include <position/position_math.hpp>

#include <catch2/catch.hpp>

using namespace libra;
using namespace libra::testing;
using namespace std::chrono_literals;

namespace {

fill make_fill(side sd, const char* qty, const char* px, const char* fee = "0", instrument_id inst = "EUR/USD") {
  return fill{order_id{1}, client_order_id{1}, inst, *price::parse(px), *quantity::parse(qty), *money::parse(fee), sd};
}

event fill_event(side sd, const char* qty, const char* px, const char* fee, timestamp ts = t0,
                 instrument_id inst = "EUR/USD") {
  return event::create(event_type::order_filled, "venue", make_fill(sd, qty, px, fee, inst), trace_context::new_root(),
                       ts);
}

quantity q(const char* s) { return *quantity::parse(s); }
money m(const char* s) { return *money::parse(s); }

} // namespace

TEST_CASE("position math: open, add, partial close, flip, close", "[actors][position]") {
  position p{};
  p.instrument = "EUR/USD";
  actors::apply_fill(p, make_fill(side::buy, "100", "1.1", "0.01")); // open long 100 @ 1.1
  CHECK(p.quantity == q("100"));
  CHECK(p.average_price == px("1.1"));
  CHECK(p.realized_pnl == m("-0.01")); // fees count against realized PnL

  actors::apply_fill(p, make_fill(side::buy, "300", "1.2", "0.02")); // add: (100x1.1 + 300x1.2) / 400
  CHECK(p.quantity == q("400"));
  CHECK(p.average_price == px("1.175"));
  CHECK(p.realized_pnl == m("-0.03"));
  CHECK(actors::mark_to_market(p, px("1.18")) == m("2")); // (1.18 - 1.175) x 400

  actors::apply_fill(p, make_fill(side::sell, "150", "1.3", "0.03")); // reduce: avg unchanged
  CHECK(p.quantity == q("250"));
  CHECK(p.average_price == px("1.175"));
  CHECK(p.realized_pnl == m("18.69")); // -0.03 + (1.3 - 1.175) x 150 - 0.03

  actors::apply_fill(p, make_fill(side::sell, "350", "1.0", "0.04")); // flip to short 100 @ 1.0
  CHECK(p.quantity == q("-100"));
  CHECK(p.average_price == px("1.0"));
  CHECK(p.realized_pnl == m("-25.1"));                    // 18.69 + (1.0 - 1.175) x 250 - 0.04
  CHECK(actors::mark_to_market(p, px("0.99")) == m("1")); // short gains when the price falls

  actors::apply_fill(p, make_fill(side::sell, "100", "0.95")); // add to the short
  CHECK(p.quantity == q("-200"));
  CHECK(p.average_price == px("0.975"));

  actors::apply_fill(p, make_fill(side::buy, "200", "0.9", "0.05")); // close the short
  CHECK(p.quantity.is_zero());
  CHECK(p.average_price == price{});
  CHECK(p.realized_pnl == m("-10.15")); // -25.1 + (0.9 - 0.975) x 200 x -1 - 0.05
  CHECK(actors::mark_to_market(p, px("2")) == money{});
}

TEST_CASE("position math rounds a weighted average to the nearest 1e-9 only", "[actors][position]") {
  position p{};
  actors::apply_fill(p, make_fill(side::buy, "1", "1.000000001"));
  actors::apply_fill(p, make_fill(side::buy, "2", "1.000000002")); // (1.000000001 + 2 x 1.000000002) / 3
  CHECK(p.average_price == px("1.000000002"));
  actors::apply_fill(p, make_fill(side::sell, "3", "1.000000002"));
  CHECK(p.realized_pnl == money{}); // (2e-9 - 2e-9) x 3
}

namespace {
/// The fixture, with the POSITION_* events it saw.
struct position_fixture : trading_fixture {
  std::vector<event> positions() const {
    return published({event_type::position_opened, event_type::position_updated, event_type::position_closed});
  }
};
} // namespace

TEST_CASE_METHOD(position_fixture, "position manager publishes OPENED, UPDATED, CLOSED as children of fills",
                 "[actors][position]") {
  spawn("position.manager", "positions", "{mark_interval_ms: 1000}");
  start();
  publish(quote("1.19", "1.21", "EUR/USD", t0)); // mid 1.2
  run_until_idle();
  const std::vector<event> fills{
    fill_event(side::buy, "100", "1.1", "0.01"), fill_event(side::buy, "300", "1.2", "0.02"),
    fill_event(side::sell, "150", "1.3", "0.03"), fill_event(side::sell, "350", "1.0", "0.04"),
    fill_event(side::buy, "100", "1.1", "0")};
  for (const auto& f : fills)
    publish(f);
  run_until_idle();
  const auto evs = positions();
  REQUIRE(evs.size() == fills.size());
  const std::vector<event_type> types{event_type::position_opened, event_type::position_updated,
                                      event_type::position_updated, event_type::position_updated,
                                      event_type::position_closed};
  for (std::size_t i = 0; i < evs.size(); ++i) {
    CHECK(evs[i].type() == types[i]);
    CHECK(evs[i].trace_id() == fills[i].trace_id());
    CHECK(evs[i].source() == "positions");
    CHECK(evs[i].time() == fills[i].time());
  }
  const auto& opened = evs[0].get<position>();
  CHECK(opened.quantity == q("100"));
  CHECK(opened.unrealized_pnl == m("10")); // marked at mid 1.2
  const auto& flipped = evs[3].get<position>();
  CHECK(flipped.quantity == q("-100"));
  CHECK(flipped.average_price == px("1.0"));
  CHECK(flipped.realized_pnl == m("-25.1"));
  CHECK(flipped.unrealized_pnl == m("-20")); // (1.2 - 1.0) x -100
  const auto& closed = evs[4].get<position>();
  CHECK(closed.quantity.is_zero());
  CHECK(closed.realized_pnl == m("-35.1")); // + (1.1 - 1.0) x 100 x -1
  CHECK(closed.unrealized_pnl == money{});
}

TEST_CASE_METHOD(position_fixture, "position manager reports each position and the PnL it published",
                 "[actors][position][report]") {
  spawn("position.manager", "positions", "{mark_interval_ms: 1000}");
  start();
  publish(quote("1.19", "1.21", "EUR/USD", t0)); // mid 1.2
  publish(quote("99", "101", "XAU/USD", t0));    // mid 100
  run_until_idle();
  publish(fill_event(side::buy, "100", "1.1", "0.01"));
  publish(fill_event(side::sell, "2", "100", "0.5", t0, "XAU/USD"));
  run_until_idle();
  const auto figures = report("positions").figures();
  auto value = [&](const std::string& name, const std::string& inst) {
    for (const auto& f : figures)
      if (f.name == name && f.labels == figure_labels{{"instrument", inst}})
        return f.value;
    FAIL("no figure " << name << " for " << inst);
    return 0.0;
  };
  CHECK(value("position_quantity", "EUR/USD") == 100);
  CHECK(value("position_quantity", "XAU/USD") == -2);
  CHECK(value("pnl_unrealized", "EUR/USD") == Approx(10)); // marked at mid 1.2
  CHECK(value("pnl_realized", "EUR/USD") == Approx(-0.01));
  CHECK(value("pnl_realized", "XAU/USD") == Approx(-0.5));
  CHECK(value("position_fills_total", "EUR/USD") == 1);
  CHECK(report("positions").summary_lines().empty()); // written when the actor ends
  stop();
  CHECK(report("positions").summary_lines()
        == std::vector<std::string>{"position EUR/USD    qty 100 avg 1.1 realized -0.01 unrealized 10",
                                    "position XAU/USD    qty -2 avg 100 realized -0.5 unrealized 0",
                                    "PnL                realized -0.51, unrealized 10.00"});
}

TEST_CASE_METHOD(position_fixture, "position manager marks to market at most every mark_interval_ms of event time",
                 "[actors][position]") {
  spawn("position.manager", "positions", "{mark_interval_ms: 1000}");
  start();
  publish(quote("1.0999", "1.1001", "EUR/USD", t0)); // flat: no marks
  run_until_idle();
  CHECK(positions().empty());
  publish(fill_event(side::buy, "1000", "1.1", "0", t0));
  run_until_idle();
  REQUIRE(positions().size() == 1);
  // Ticks at +0.5 s (too early), +1.0 s (mark), +1.5 s (too early), +2.5 s (mark).
  std::vector<event> ticks{
    quote("1.1009", "1.1011", "EUR/USD", t0 + 500ms), quote("1.1019", "1.1021", "EUR/USD", t0 + 1000ms),
    quote("1.1029", "1.1031", "EUR/USD", t0 + 1500ms), quote("1.0989", "1.0991", "EUR/USD", t0 + 2500ms),
    quote("1.0989", "1.0991", "GBP/USD", t0 + 5000ms)}; // no GBP position
  for (const auto& t : ticks)
    publish(t);
  run_until_idle();
  const auto evs = positions();
  REQUIRE(evs.size() == 3);
  CHECK(evs[1].type() == event_type::position_updated);
  CHECK(evs[1].trace_id() == ticks[1].trace_id());
  CHECK(evs[1].time() == ticks[1].time());
  CHECK(evs[1].get<position>().unrealized_pnl == m("2")); // (1.102 - 1.1) x 1000
  CHECK(evs[2].trace_id() == ticks[3].trace_id());
  CHECK(evs[2].get<position>().unrealized_pnl == m("-1")); // (1.099 - 1.1) x 1000
  CHECK(evs[2].get<position>().quantity == q("1000"));
}

TEST_CASE_METHOD(position_fixture,
                 "position manager marks a fill that overtook its tick at the mid of the fill's time, once it comes",
                 "[actors][position]") {
  spawn("position.manager", "positions", "{mark_interval_ms: 3600000}");
  start();
  publish(quote("1.0999", "1.1001", "EUR/USD", t0)); // mid 1.1
  run_until_idle();
  // Two fills stamped +1 s and +2 s reach the actor before any tick of their time (fills travel at
  // ORDERS priority, ticks behind them): nothing is published for them yet.
  const auto first = fill_event(side::buy, "1000", "1.1", "0", t0 + 1s);
  const auto second = fill_event(side::buy, "1000", "1.1", "0", t0 + 2s);
  publish(first);
  publish(second);
  run_until_idle();
  CHECK(positions().empty());
  // The tick of +1 s applies the first (marked at its mid 1.102), not the second.
  publish(quote("1.1019", "1.1021", "EUR/USD", t0 + 1s));
  run_until_idle();
  REQUIRE(positions().size() == 1);
  CHECK(positions()[0].trace_id() == first.trace_id());
  CHECK(positions()[0].get<position>().unrealized_pnl == m("2")); // (1.102 - 1.1) x 1000
  // A tick past +2 s applies the second, marked at the mid in force at +2 s (1.102, not this
  // tick's 1.104).
  publish(quote("1.1039", "1.1041", "EUR/USD", t0 + 3s));
  run_until_idle();
  const auto evs = positions();
  REQUIRE(evs.size() == 2);
  CHECK(evs[1].trace_id() == second.trace_id());
  CHECK(evs[1].type() == event_type::position_updated);
  CHECK(evs[1].time() == second.time());
  CHECK(evs[1].get<position>().quantity == q("2000"));
  CHECK(evs[1].get<position>().unrealized_pnl == m("4")); // (1.102 - 1.1) x 2000
}

TEST_CASE_METHOD(position_fixture, "position manager marks a fill that came before any tick at the mid of its time",
                 "[actors][position]") {
  spawn("position.manager", "positions", "{mark_interval_ms: 3600000}");
  start();
  // The fill overtook every tick (ORDERS priority): no mid is known yet, so nothing is published.
  const auto f = fill_event(side::buy, "1000", "1.1", "0", t0 + 1s);
  publish(f);
  run_until_idle();
  CHECK(positions().empty());
  // Its tick comes: the position opens marked at that mid, as it would had the tick come first.
  publish(quote("1.1019", "1.1021", "EUR/USD", t0 + 1s));
  run_until_idle();
  REQUIRE(positions().size() == 1);
  CHECK(positions()[0].trace_id() == f.trace_id());
  CHECK(positions()[0].type() == event_type::position_opened);
  CHECK(positions()[0].get<position>().unrealized_pnl == m("2")); // (1.102 - 1.1) x 1000
}
