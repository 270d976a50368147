// The trading actor types together, as the default topology wires them: tick -> SIGNAL ->
// (risk) -> ORDER_NEW -> ORDER_FILLED -> POSITION_*, one trace id per decision.
#include "trading_support.hpp"

#include <catch2/catch.hpp>

#include <array>

using namespace libra;
using namespace libra::testing;
using namespace std::chrono_literals;

TEST_CASE("register_trading_actors registers the four trading types", "[actors][trading]") {
  actor_registry reg;
  actors::register_trading_actors(reg);
  for (const char* type : {"strategy.sma_cross", "risk.engine", "execution.paper", "position.manager"}) {
    const auto* info = reg.find(type);
    REQUIRE(info != nullptr);
    CHECK_FALSE(info->producer);
    CHECK_FALSE(info->description.empty());
    CHECK(info->factory);
  }
  CHECK(reg.types().size() == 4);
  CHECK_THROWS_AS(actors::register_trading_actors(reg), std::invalid_argument); // names are taken
}

TEST_CASE_METHOD(trading_fixture, "tick -> signal -> order -> fill -> position keeps the tick's trace id",
                 "[actors][trading][trace]") {
  spawn("strategy.sma_cross", "strategy.sma", "{fast: 2, slow: 4, instrument: EUR/USD}");
  spawn("risk.engine", "risk", "{execution: venue, order_quantity: 1000, max_position: 1000}");
  spawn("execution.paper", "venue", "{fee_rate: 0.0001}");
  spawn("position.manager", "positions", "{mark_interval_ms: 3600000}");
  start();

  // Mid prices crossing at 5 (up), 7 (down) and 9 (up), see strategy_sma_cross_test.cpp;
  // spread 1 pip around the mid.
  const std::array<const char*, 10> mids{"1.10", "1.09", "1.08", "1.07", "1.08",
                                         "1.10", "1.06", "1.05", "1.11", "1.12"};
  const timestamp t0{std::chrono::seconds{1'577'916'000}};
  const auto half_spread = *price::parse("0.00005");
  std::vector<event> ticks;
  std::size_t decisions = 0;
  for (std::size_t i = 0; i < mids.size(); ++i) {
    const auto mid = *price::parse(mids[i]);
    tick t{};
    t.instrument = "EUR/USD";
    t.bid = mid - half_spread;
    t.ask = mid + half_spread;
    ticks.push_back(event::create(event_type::tick, "gateway.test", t, trace_context::new_root(),
                                  t0 + std::chrono::seconds{static_cast<int>(i)}));
    publish(ticks.back());
    run_until_idle(); // the tick, the signal it may cause, the order, the fill and the position
    if (i == 5 || i == 7 || i == 9)
      ++decisions;
    REQUIRE(published({event_type::position_opened, event_type::position_closed}).size() == decisions);
  }

  const auto evs = published({event_type::signal, event_type::order_new, event_type::order_filled,
                              event_type::order_rejected, event_type::risk_limit_breach, event_type::position_opened,
                              event_type::position_updated, event_type::position_closed});
  CHECK(of_type(evs, event_type::order_rejected).empty());
  CHECK(of_type(evs, event_type::risk_limit_breach).empty());
  CHECK(of_type(evs, event_type::position_updated).empty()); // no marks within an hour
  const std::array<std::size_t, 3> causes{5, 7, 9};
  const std::array<event_type, 3> position_types{event_type::position_opened, event_type::position_closed,
                                                 event_type::position_opened};
  for (std::size_t k = 0; k < causes.size(); ++k) {
    const auto& origin = ticks[causes[k]];
    std::vector<event> chain;
    for (const auto& e : evs)
      if (e.trace_id() == origin.trace_id())
        chain.push_back(e);
    INFO("decision " << k << " on tick " << causes[k]);
    REQUIRE(chain.size() == 4);
    CHECK(chain[0].type() == event_type::signal);
    CHECK(chain[1].type() == event_type::order_new);
    CHECK(chain[2].type() == event_type::order_filled);
    CHECK(chain[3].type() == position_types[k]);
    for (const auto& e : chain)
      CHECK(e.time() == origin.time()); // event time all along
    CHECK(chain[0].source() == "strategy.sma");
    CHECK(chain[1].source() == "venue");
    CHECK(chain[2].source() == "venue");
    CHECK(chain[3].source() == "positions");
    CHECK(chain[1].get<order>().status == order_status::accepted);
    CHECK(chain[1].get<order>().client_id == client_order_id{k + 1});
    CHECK(chain[1].get<order>().id == order_id{k + 1});
  }

  // buy 1000 @ ask 1.10005, sell 1000 @ bid 1.04995: -50.1, fees 0.110005 + 0.104995.
  const auto closed = of_type(evs, event_type::position_closed);
  REQUIRE(closed.size() == 1);
  CHECK(closed[0].get<position>().realized_pnl == *money::parse("-50.315"));
  const auto opened = of_type(evs, event_type::position_opened);
  REQUIRE(opened.size() == 2);
  const auto& last = opened[1].get<position>();
  CHECK(last.quantity == *quantity::parse("1000"));
  CHECK(last.average_price == *price::parse("1.12005"));
  CHECK(last.realized_pnl == *money::parse("-50.427005")); // - 0.112005 fee
  CHECK(last.unrealized_pnl == *money::parse("-0.05"));    // (1.12 - 1.12005) x 1000
}
