// Dispatch: strict priority, FIFO within a priority, filters, error isolation, dead subscribers.
#include "../support/bus_fixture.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>

using namespace libra;
using namespace libra::testing;

TEST_CASE_METHOD(system_fixture, "events published before start are dispatched in priority order",
                 "[bus][dispatch][priority]") {
  bus b{sys};
  auto got = std::make_shared<collector>();
  auto actor = sys.spawn(collecting_actor, got);
  for (auto t : {event_type::tick, event_type::signal, event_type::order_new, event_type::circuit_breaker})
    b.subscribe(t, actor);
  // Interleave all four priorities, lowest first.
  std::size_t n = 0;
  for (int i = 0; i < 50; ++i) {
    REQUIRE(b.publish(make_tick(i)));
    REQUIRE(b.publish(make_signal(i)));
    REQUIRE(b.publish(make_order(event_type::order_new, static_cast<std::uint64_t>(i))));
    REQUIRE(b.publish(make_risk()));
    n += 4;
  }
  b.start();
  REQUIRE(got->wait(n));
  auto evs = got->events();
  REQUIRE(evs.size() == n);
  for (std::size_t i = 1; i < evs.size(); ++i) {
    INFO("position " << i << ": " << to_string(evs[i - 1]) << " then " << to_string(evs[i]));
    CHECK(evs[i - 1].priority() <= evs[i].priority()); // strictly by priority
    if (evs[i - 1].priority() == evs[i].priority())
      CHECK(evs[i - 1].sequence() < evs[i].sequence()); // FIFO within one
  }
  CHECK(evs.front().type() == event_type::circuit_breaker);
  CHECK(evs.back().type() == event_type::tick);
  b.stop(1s);
  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(system_fixture, "a RISK event overtakes a backlog of ticks", "[bus][dispatch][priority]") {
  bus_config cfg;
  cfg.credit_window = 2;
  cfg.batch_size = 1;
  bus b{sys, cfg};
  blocking_subscriber sub{sys};
  auto& got = sub.got;
  auto& actor = sub.actor;
  auto& first_tick_entered = sub.entered;
  auto& release = sub.release;
  b.subscribe(event_type::tick, actor);
  b.subscribe(event_type::circuit_breaker, actor);
  b.start();
  for (int i = 0; i < 1000; ++i)
    REQUIRE(b.publish(make_tick(i)));
  REQUIRE(first_tick_entered.wait());
  REQUIRE(b.publish(make_risk()));
  release.open();
  REQUIRE(got->wait(1001));
  auto evs = got->events();
  auto it =
    std::find_if(evs.begin(), evs.end(), [](const event& e) { return e.type() == event_type::circuit_breaker; });
  REQUIRE(it != evs.end());
  // With W = 2 the subscriber holds at most 2 ticks when the breaker arrives: it comes third.
  CHECK(std::distance(evs.begin(), it) <= 2);
  b.stop(1s);
}

TEST_CASE_METHOD(system_fixture, "a RISK event preempts the batch a subscriber is running, set-aside events keep order",
                 "[bus][dispatch][priority]") {
  bus_config cfg;
  cfg.credit_window = 16;
  cfg.batch_size = 16; // the whole window in one batch: without preemption the breaker would come 17th
  bus b{sys, cfg};
  blocking_subscriber sub{sys};
  auto& got = sub.got;
  auto& actor = sub.actor;
  auto& first_tick_entered = sub.entered;
  auto& release = sub.release;
  b.subscribe(event_type::tick, actor);
  b.subscribe(event_type::circuit_breaker, actor);
  b.start();
  constexpr int ticks = 200;
  for (int i = 0; i < ticks; ++i)
    REQUIRE(b.publish(make_tick(i)));
  REQUIRE(first_tick_entered.wait());
  // The broker fills the window while the first handler is blocked: wait for all of it, or a tick
  // handed after this read would count as the breaker (CI, ASan: 4 read, 17 at the end).
  REQUIRE(eventually([&] { return b.stats().dispatched == cfg.credit_window; }));
  const auto before = b.stats().dispatched; // the ticks in flight (the window)
  REQUIRE(b.publish(make_risk()));
  // The broker has sent the breaker (urgent, past the exhausted window) once it counts as dispatched.
  REQUIRE(eventually([&] { return b.stats().dispatched >= before + 1; }));
  REQUIRE(b.stats().dispatched == before + 1);
  release.open();
  REQUIRE(got->wait(ticks + 1));
  const auto evs = got->events();
  CHECK(evs[0].type() == event_type::tick);
  CHECK(evs[1].type() == event_type::circuit_breaker); // right after the event that was running
  std::int64_t expected = 0;
  for (const auto& e : evs) {
    if (e.type() != event_type::tick)
      continue;
    CHECK(e.get<tick>().bid_size == quantity::from_raw(expected)); // ticks in publish order
    ++expected;
  }
  CHECK(expected == ticks);
  REQUIRE_IDLE(b);
  CHECK(b.stats().handler_calls == ticks + 1);
  b.stop(1s);
}

TEST_CASE_METHOD(system_fixture, "a throwing handler is counted and isolated", "[bus][dispatch][errors]") {
  bus b{sys};
  std::atomic<int> thrower_calls{0};
  std::atomic<int> healthy_calls{0};
  b.subscribe(event_type::tick, [&](const event& e) {
    thrower_calls.fetch_add(1);
    if (e.sequence() % 2 == 0)
      throw std::runtime_error("boom");
  });
  b.subscribe(event_type::tick, [&](const event&) { healthy_calls.fetch_add(1); });
  b.start();
  for (int i = 0; i < 100; ++i)
    REQUIRE(b.publish(make_tick(i)));
  REQUIRE_IDLE(b);
  CHECK(thrower_calls.load() == 100); // its actor survived every throw
  CHECK(healthy_calls.load() == 100);
  auto s = b.stats();
  CHECK(s.errors == 50);
  CHECK(s.handler_calls == 200);
  CHECK(s.handlers == 2);
}

TEST_CASE_METHOD(system_fixture, "filters select events, a throwing filter is counted and skips the event",
                 "[bus][dispatch][filter][errors]") {
  bus b{sys};
  auto usd_jpy = std::make_shared<collector>();
  auto fragile = std::make_shared<collector>();
  auto all = std::make_shared<collector>();
  b.subscribe(
    event_type::tick, [usd_jpy](const event& e) { usd_jpy->add(e); },
    [](const event& e) { return e.get<tick>().instrument == "USD/JPY"; });
  b.subscribe(
    event_type::tick, [fragile](const event& e) { fragile->add(e); },
    [](const event& e) -> bool {
      if (e.get<tick>().bid_size.raw() % 3 == 0)
        throw std::logic_error("filter bug");
      return true;
    });
  b.subscribe(event_type::tick, [all](const event& e) { all->add(e); });
  b.start();
  const instrument_id usd_jpy_id{"USD/JPY"}; // named, not in a ?: (a consteval constructor there crashes clang 14)
  const instrument_id eur_usd_id{"EUR/USD"};
  for (int i = 0; i < 30; ++i)
    REQUIRE(b.publish(make_tick(i, i % 2 == 0 ? usd_jpy_id : eur_usd_id)));
  REQUIRE_IDLE(b);
  CHECK(usd_jpy->size() == 15);
  for (const auto& e : usd_jpy->events())
    CHECK(e.get<tick>().instrument == "USD/JPY");
  CHECK(fragile->size() == 20); // 10 of 30 threw
  CHECK(all->size() == 30);
  CHECK(b.stats().errors == 10);
}

TEST_CASE_METHOD(system_fixture, "a subscriber actor that dies is removed and nothing waits for it",
                 "[bus][dispatch][lifecycle]") {
  bus b{sys};
  auto got = std::make_shared<collector>();
  auto victim = sys.spawn(collecting_actor, got);
  auto survivor = std::make_shared<collector>();
  b.subscribe(event_type::tick, victim);
  b.subscribe(event_type::tick, [survivor](const event& e) { survivor->add(e); });
  b.start();
  for (int i = 0; i < 10; ++i)
    REQUIRE(b.publish(make_tick(i)));
  REQUIRE(got->wait(10));
  {
    caf::scoped_actor self{sys};
    self->monitor(victim);
    caf::anon_send_exit(victim, caf::exit_reason::kill);
    REQUIRE(got_down(self));
  }
  for (int i = 0; i < 1000; ++i)
    REQUIRE(b.publish(make_tick(i)));
  REQUIRE_IDLE(b); // in-flight events to the dead actor do not hold the bus
  CHECK(survivor->size() == 1010);
  CHECK(b.stats().handlers == 1);
  CHECK(b.stats().pending == 0);
}

TEST_CASE_METHOD(system_fixture, "events without subscribers are dispatched to nobody", "[bus][dispatch]") {
  bus b{sys};
  b.start();
  for (int i = 0; i < 5000; ++i)
    REQUIRE(b.publish(make_tick(i)));
  REQUIRE_IDLE(b);
  auto s = b.stats();
  CHECK(s.dispatched == 5000);
  CHECK(s.pending == 0);
  CHECK(s.handler_calls == 0);
}

TEST_CASE_METHOD(system_fixture, "latency percentiles are recorded per priority", "[bus][dispatch][stats]") {
  bus b{sys};
  b.subscribe(event_type::tick, [](const event&) {});
  b.subscribe(event_type::circuit_breaker, [](const event&) {});
  b.start();
  for (int i = 0; i < 100; ++i)
    REQUIRE(b.publish(make_tick(i)));
  REQUIRE(b.publish(make_risk()));
  REQUIRE_IDLE(b);
  auto s = b.stats();
  const auto& md = s.latency_of(priority::market_data);
  CHECK(md.count >= 100 / 16); // sampled: 1 in 16 of single publishes (every RISK event)
  CHECK(md.count <= 100);
  CHECK(md.p50 <= md.p99);
  CHECK(md.p99 <= md.max);
  CHECK(md.max.count() > 0);
  CHECK(s.latency_of(priority::risk).count == 1);
  CHECK(s.latency_of(priority::signals).count == 0);
}

TEST_CASE_METHOD(system_fixture, "a handler may subscribe and publish from inside the bus", "[bus][dispatch]") {
  bus b{sys};
  auto late = std::make_shared<collector>();
  std::atomic<subscription_id> added{0};
  b.subscribe(event_type::tick, [&](const event&) {
    if (added.load() == 0)
      added.store(b.subscribe(event_type::signal, [late](const event& e) { late->add(e); }));
    (void)b.publish(make_signal(1));
  });
  b.start();
  REQUIRE(b.publish(make_tick(1)));
  REQUIRE(late->wait(1));
  CHECK(added.load() != 0);
  REQUIRE_IDLE(b);
}

TEST_CASE_METHOD(system_fixture, "an event staged while the broker is mid-round reaches the subscribers it had passed",
                 "[bus][dispatch]") {
  // A filter runs on the broker, in the middle of its round over the subscribers: the fill it
  // publishes is pulled in by the next subscriber the round visits (which does not take fills),
  // after the round has passed the one that does. Both subscription orders, several rounds each.
  bus b{sys};
  auto fills = std::make_shared<collector>();
  auto take_fills = [&] { b.subscribe(event_type::order_filled, [fills](const event& e) { fills->add(e); }); };
  auto filter_orders = [&] {
    b.subscribe(
      event_type::order_new, [](const event&) {},
      [&b](const event& e) {
        fill f;
        f.client_id = e.get<order>().client_id;
        f.instrument = "EUR/USD";
        (void)b.publish(event::create(event_type::order_filled, "venue.test", f));
        return false; // nothing for this subscriber: the round fills nothing for it
      });
  };
  if (GENERATE(true, false)) {
    take_fills();
    filter_orders();
  } else {
    filter_orders();
    take_fills();
  }
  b.start();
  constexpr std::uint64_t orders = 6;
  for (std::uint64_t i = 1; i <= orders; ++i) {
    REQUIRE(b.publish(make_order(event_type::order_new, i)));
    const bool idle = b.wait_idle(patience);
    INFO("order " << i << ": " << describe(b));
    REQUIRE(idle);
    REQUIRE(fills->size() == i);
  }
}

TEST_CASE_METHOD(system_fixture, "a blocked subscriber's credit in use and lag are reported per priority",
                 "[bus][dispatch][stats]") {
  bus_config cfg;
  cfg.credit_window = 8;
  cfg.batch_size = 4;
  bus b{sys, cfg};
  blocking_subscriber sub{sys};
  b.subscribe(event_type::tick, sub.actor);
  b.subscribe(event_type::circuit_breaker, sub.actor);
  b.start();
  constexpr std::uint64_t ticks = 100;
  for (std::uint64_t i = 0; i < ticks; ++i)
    REQUIRE(b.publish(make_tick(static_cast<std::int64_t>(i))));
  REQUIRE(sub.entered.wait());
  REQUIRE(b.publish(make_risk())); // past the exhausted window, in RISK's own ring
  const auto md = static_cast<std::size_t>(priority::market_data);
  const auto risk = static_cast<std::size_t>(priority::risk);
  // Quiet once the broker has filled the window and handed the breaker: the rest waits in its stages.
  REQUIRE(eventually([&] {
    const auto s = b.subscribers();
    return s.size() == 1 && s[0].in_flight[md] == cfg.credit_window && s[0].in_flight[risk] == 1
           && s[0].lag[md] == ticks - cfg.credit_window;
  }));
  auto s = b.subscribers().at(0);
  CHECK(s.actor == sub.actor);
  CHECK_FALSE(s.callback);
  CHECK(s.credit_window == cfg.credit_window);
  CHECK(s.types == std::vector<event_type>{event_type::tick, event_type::circuit_breaker});
  CHECK(s.handed == cfg.credit_window + 1);
  CHECK(s.handled == 0); // the first tick's handler is still running
  CHECK(s.lag[risk] == 0);
  CHECK(s.in_flight[static_cast<std::size_t>(priority::orders)] == 0);

  sub.release.open();
  REQUIRE(sub.got->wait(ticks + 1));
  REQUIRE_IDLE(b);
  REQUIRE(eventually([&] { return b.subscribers().at(0).handled == ticks + 1; }));
  s = b.subscribers().at(0);
  CHECK(s.handed == ticks + 1);
  CHECK(s.in_flight == std::array<std::uint64_t, priority_count>{});
  CHECK(s.lag == std::array<std::uint64_t, priority_count>{});
  // A callback subscription runs on an actor the bus spawned for it.
  b.subscribe(event_type::signal, [](const event&) {});
  REQUIRE(b.subscribers().size() == 2);
  CHECK(b.subscribers().at(1).callback);
  b.stop(1s);
}
