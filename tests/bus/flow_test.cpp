// The trading flow tick -> signal -> order -> fill -> position on the bus: each stage is a
// subscriber that publishes a child event, so the whole chain carries one trace id.
#include "../support/bus_fixture.hpp"

#include <catch2/catch.hpp>

using namespace libra;
using namespace libra::testing;

namespace {
// Handlers run on CAF threads, where Catch assertions are not allowed: count failures instead
// (stats().rejected) and assert on the test thread.
void publish_ok(bus& b, event e) { (void)b.publish(std::move(e)); }
} // namespace

TEST_CASE_METHOD(system_fixture, "tick -> signal -> order -> fill -> position share one trace id",
                 "[bus][flow][trace]") {
  bus b{sys};
  auto chain = std::make_shared<collector>();
  auto record = [chain](const event& e) { chain->add(e); };
  b.subscribe(event_type::tick, [&b, record](const event& e) { // strategy
    record(e);
    const auto& t = e.get<tick>();
    publish_ok(b, e.child_event(event_type::signal, "strategy.sma", signal{t.instrument, side::buy, 0.8, t.ask}));
  });
  b.subscribe(event_type::signal, [&b, record](const event& e) { // risk-approved intent -> venue
    record(e);
    const auto& s = e.get<signal>();
    order o;
    o.id = order_id{42};
    o.client_id = client_order_id{7};
    o.instrument = s.instrument;
    o.quantity = quantity::from_double(1000);
    o.price = s.reference;
    o.side = s.side;
    o.status = order_status::accepted;
    publish_ok(b, e.child_event(event_type::order_new, "execution.paper", o));
  });
  b.subscribe(event_type::order_new, [&b, record](const event& e) { // venue fills
    record(e);
    const auto& o = e.get<order>();
    publish_ok(
      b, e.child_event(event_type::order_filled, "execution.paper",
                       fill{o.id, o.client_id, o.instrument, o.price, o.quantity, money::from_double(0.02), o.side}));
  });
  b.subscribe(event_type::order_filled, [&b, record](const event& e) { // position manager
    record(e);
    const auto& f = e.get<fill>();
    publish_ok(b, e.child_event(event_type::position_opened, "position.manager",
                                position{f.instrument, f.quantity, f.price, -f.fee, money{}}));
  });
  b.subscribe(event_type::position_opened, record);
  b.start();

  const auto origin = make_tick(5);
  REQUIRE(b.publish(origin));
  REQUIRE(chain->wait(5));
  REQUIRE_IDLE(b);
  CHECK(b.stats().rejected == 0);
  auto evs = chain->events();
  REQUIRE(evs.size() == 5);
  const std::vector<event_type> expected{event_type::tick, event_type::signal, event_type::order_new,
                                         event_type::order_filled, event_type::position_opened};
  for (std::size_t i = 0; i < evs.size(); ++i) {
    CHECK(evs[i].type() == expected[i]);
    CHECK(evs[i].trace_id() == origin.trace_id());
  }
  for (std::size_t i = 1; i < evs.size(); ++i)
    CHECK(evs[i].span_id() != evs[i - 1].span_id()); // each hop is its own span
  const auto& pos = evs.back().get<position>();
  CHECK(pos.quantity == quantity::from_double(1000));
  CHECK(pos.realized_pnl == money::from_double(-0.02));
}
