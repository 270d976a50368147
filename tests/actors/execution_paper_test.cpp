// execution.paper: venue rejections without a market, acceptance with venue ids, fills at the
// ask (buy) / bid (sell) with fee = notional x fee_rate, and delayed fills at the later quote.
#include "trading_support.hpp"

#include <execution/paper.hpp>

#include <catch2/catch.hpp>

using namespace libra;
using namespace libra::testing;
using namespace std::chrono_literals;

namespace {

/// An approved intent as risk.engine sends it.
event intent(side sd, const char* qty, std::uint64_t client_id, instrument_id inst = "EUR/USD") {
  order o;
  o.client_id = client_order_id{client_id};
  o.instrument = inst;
  o.quantity = *quantity::parse(qty);
  o.price = *price::parse("1.1");
  o.side = sd;
  o.type = order_type::market;
  o.status = order_status::pending;
  return event::create(event_type::order_new, "risk", o, trace_context::new_root(), t0);
}

} // namespace

TEST_CASE("paper fee is notional x rate, exact in fixed point", "[actors][execution]") {
  CHECK(actors::fee_for(*money::parse("110010"), 0.0001) == *money::parse("11.001"));
  CHECK(actors::fee_for(*money::parse("112000"), 0.00002) == *money::parse("2.24"));
  CHECK(actors::fee_for(*money::parse("0.000000015"), 0.1) == *money::parse("0.000000002")); // half up
  CHECK(actors::fee_for(*money::parse("123.45"), 0.0) == money{});
}

TEST_CASE_METHOD(trading_fixture, "paper rejects an intent without a quote (no_market)", "[actors][execution]") {
  spawn("execution.paper", "venue", "{quote_wait_ms: 0}"); // no wait for a first quote
  start();
  publish(quote("1.30000", "1.30010", "GBP/USD")); // another instrument's quote does not help
  run_until_idle();
  const auto in = intent(side::buy, "1000", 7);
  send("venue", in);
  run_until_idle();
  const auto evs = published({event_type::order_new, event_type::order_rejected, event_type::order_filled});
  REQUIRE(evs.size() == 1);
  CHECK(evs[0].type() == event_type::order_rejected);
  CHECK(evs[0].trace_id() == in.trace_id());
  const auto& o = evs[0].get<order>();
  CHECK(o.reason == order_reason::no_market);
  CHECK(o.status == order_status::rejected);
  CHECK(o.client_id == client_order_id{7});
}

TEST_CASE_METHOD(trading_fixture, "paper: an intent before any quote of its instrument waits for the first one",
                 "[actors][execution]") {
  // The intent comes by another path than the ticks (directly from risk, in a distributed topology
  // over another link), and can overtake every tick of its instrument that caused it: the venue
  // waits for that instrument's first quote rather than answer no_market.
  spawn("execution.paper", "venue", "{fee_rate: 0, quote_wait_ms: 500}");
  start();
  const bool other_first = GENERATE(false, true);
  CAPTURE(other_first);
  if (other_first) { // another instrument's quotes came first: they release nothing
    publish(quote("1.30000", "1.30010", "GBP/USD", t0 - 1s));
    run_until_idle();
  }
  const auto in = intent(side::buy, "1000", 3);
  send("venue", in);
  run_until_idle();
  auto orders = [&] {
    return published({event_type::order_new, event_type::order_rejected, event_type::order_filled});
  };
  CHECK(orders().empty());
  if (other_first) {
    publish(quote("1.30001", "1.30011", "GBP/USD", t0 + 1s));
    run_until_idle();
    CHECK(orders().empty());
  }

  SECTION("its instrument's first quote releases it: filled at the quote in force at its time") {
    publish(quote("1.10000", "1.10010", "EUR/USD", t0 - 1s)); // in force at t0
    publish(quote("1.20000", "1.20010", "EUR/USD", t0 + 1s)); // later: not its price
    run_until_idle();
    const auto evs = orders();
    REQUIRE(evs.size() == 2);
    CHECK(evs[0].type() == event_type::order_new);
    CHECK(evs[1].type() == event_type::order_filled);
    CHECK(evs[1].get<fill>().price == *price::parse("1.10010"));
    CHECK(evs[1].trace_id() == in.trace_id());
    SECTION("and its wait's end changes nothing") {
      advance_time(600ms);
      run_until_idle();
      CHECK(orders().size() == 2);
    }
  }
  SECTION("no tick within quote_wait_ms: no_market") {
    advance_time(400ms);
    run_until_idle();
    CHECK(orders().empty());
    advance_time(200ms);
    run_until_idle();
    const auto evs = orders();
    REQUIRE(evs.size() == 1);
    CHECK(evs[0].type() == event_type::order_rejected);
    CHECK(evs[0].get<order>().reason == order_reason::no_market);
    CHECK(evs[0].trace_id() == in.trace_id());
  }
}

TEST_CASE_METHOD(trading_fixture, "paper accepts and fills a buy at the ask and a sell at the bid with the fee",
                 "[actors][execution]") {
  spawn("execution.paper", "venue", "{fee_rate: 0.0001}");
  start();
  publish(quote("1.10000", "1.10010", "EUR/USD", t0 - 1s));
  publish(quote("1.10002", "1.10012", "EUR/USD", t0)); // in force at t0, the intents' time
  run_until_idle();
  const auto buy = intent(side::buy, "100000", 1);
  const auto sell = intent(side::sell, "50000", 2);
  send("venue", buy);
  send("venue", sell);
  run_until_idle();
  const auto evs = published({event_type::order_new, event_type::order_filled, event_type::order_rejected});
  const auto accepted = of_type(evs, event_type::order_new);
  const auto fills = of_type(evs, event_type::order_filled);
  REQUIRE(accepted.size() == 2);
  REQUIRE(fills.size() == 2);
  CHECK(of_type(evs, event_type::order_rejected).empty());

  CHECK(accepted[0].get<order>().status == order_status::accepted);
  CHECK(accepted[0].get<order>().id == order_id{1});
  CHECK(accepted[1].get<order>().id == order_id{2});
  CHECK(accepted[0].trace_id() == buy.trace_id());
  CHECK(accepted[0].source() == "venue");

  const auto& fb = fills[0].get<fill>();
  CHECK(fills[0].trace_id() == buy.trace_id());
  CHECK(fills[0].time() == buy.time());
  CHECK(fb.id == order_id{1});
  CHECK(fb.client_id == client_order_id{1});
  CHECK(fb.side == side::buy);
  CHECK(fb.price == *price::parse("1.10012"));
  CHECK(fb.quantity == *quantity::parse("100000"));
  CHECK(fb.fee == *money::parse("11.0012")); // 110012 x 0.0001

  const auto& fs = fills[1].get<fill>();
  CHECK(fills[1].trace_id() == sell.trace_id());
  CHECK(fs.side == side::sell);
  CHECK(fs.price == *price::parse("1.10002"));
  CHECK(fs.fee == *money::parse("5.5001")); // 55001 x 0.0001
}

TEST_CASE_METHOD(trading_fixture, "paper fills at the quote in force at the intent's event time",
                 "[actors][execution]") {
  spawn("execution.paper", "venue", "{fee_rate: 0}");
  start();
  publish(quote("1.10000", "1.10010", "EUR/USD", t0));
  publish(quote("1.20000", "1.20010", "EUR/USD", t0 + 2s)); // read before the intent of t0 + 1 s arrives
  run_until_idle();
  auto late = intent(side::buy, "1000", 1);
  late = event::create(event_type::order_new, "risk", late.get<order>(), trace_context::new_root(), t0 + 1s);
  send("venue", late);
  run_until_idle();
  REQUIRE(published({event_type::order_new, event_type::order_filled}).size() == 2);
  auto fills = published(event_type::order_filled);
  REQUIRE(fills.size() == 1);
  CHECK(fills[0].get<fill>().price == *price::parse("1.10010")); // the quote of t0, in force at t0 + 1 s
  CHECK(fills[0].time() == t0 + 1s);

  // An intent younger than every quote read so far waits for the tick stream to reach it.
  auto early = event::create(event_type::order_new, "risk", late.get<order>(), trace_context::new_root(), t0 + 5s);
  send("venue", early);
  run_until_idle();
  REQUIRE(published(event_type::order_new).size() == 2); // accepted
  CHECK(published(event_type::order_filled).size() == 1);
  publish(quote("1.30000", "1.30010", "EUR/USD", t0 + 4s));
  run_until_idle();
  CHECK(published(event_type::order_filled).size() == 1);
  publish(quote("1.40000", "1.40010", "EUR/USD", t0 + 6s));
  run_until_idle();
  fills = published(event_type::order_filled);
  REQUIRE(fills.size() == 2);
  CHECK(fills[1].get<fill>().price == *price::parse("1.30010")); // in force at t0 + 5 s
  CHECK(fills[1].trace_id() == early.trace_id());
  CHECK(fills[1].time() == t0 + 5s);
}

TEST_CASE_METHOD(trading_fixture, "paper with latency fills at the quote of fill time", "[actors][execution]") {
  spawn("execution.paper", "venue", "{latency_ms: 300, fee_rate: 0}");
  start();
  publish(quote("1.10000", "1.10010"));
  run_until_idle();
  const auto buy = intent(side::buy, "1000", 1);
  send("venue", buy);
  run_until_idle();
  REQUIRE(published(event_type::order_new).size() == 1); // accepted now, filled 300 ms later
  publish(quote("1.20000", "1.20010"));
  advance_time(299ms); // the virtual clock: the fill is not due yet
  CHECK(published(event_type::order_filled).empty());
  advance_time(1ms);
  const auto fills = published(event_type::order_filled);
  REQUIRE(fills.size() == 1);
  CHECK(fills[0].get<fill>().price == *price::parse("1.20010"));
  CHECK(fills[0].get<fill>().fee == money{});
  CHECK(fills[0].trace_id() == buy.trace_id());
  CHECK(fills[0].time() == buy.time() + 300ms);
}

TEST_CASE("execution.paper validates its params", "[actors][execution][config]") {
  actor_registry reg;
  actors::register_trading_actors(reg);
  CHECK(factory_error(reg, "execution.paper", "{fee_rate: -0.1}").key_path() == "actors[0].params.fee_rate");
  CHECK(factory_error(reg, "execution.paper", "{latency_ms: 1.5}").key_path() == "actors[0].params.latency_ms");
}
