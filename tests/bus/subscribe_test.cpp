// subscribe / unsubscribe / handler limits.
#include "../support/bus_fixture.hpp"
#include "../support/eventually.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <future>
#include <thread>
#include <vector>

using namespace libra;
using namespace libra::testing;
using namespace std::chrono_literals;

TEST_CASE_METHOD(system_fixture, "subscribe returns distinct ids and unsubscribe removes once", "[bus][subscribe]") {
  bus b{sys};
  auto a = b.subscribe(event_type::tick, [](const event&) {});
  auto c = b.subscribe(event_type::tick, [](const event&) {});
  auto d = b.subscribe(event_type::bar, [](const event&) {});
  CHECK(a != 0);
  CHECK(a != c);
  CHECK(c != d);
  CHECK(b.stats().handlers == 3);
  CHECK(b.unsubscribe(c));
  CHECK_FALSE(b.unsubscribe(c));
  CHECK_FALSE(b.unsubscribe(987654));
  CHECK(b.stats().handlers == 2);
}

TEST_CASE_METHOD(system_fixture, "max_handlers_per_type is enforced per type with a clear error", "[bus][subscribe]") {
  bus_config cfg;
  cfg.max_handlers_per_type = 3;
  bus b{sys, cfg};
  std::vector<subscription_id> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(b.subscribe(event_type::tick, [](const event&) {}));
  CHECK_THROWS_WITH(b.subscribe(event_type::tick, [](const event&) {}),
                    Catch::Contains("TICK") && Catch::Contains("max_handlers_per_type = 3"));
  CHECK_NOTHROW(b.subscribe(event_type::bar, [](const event&) {})); // other types unaffected
  REQUIRE(b.unsubscribe(ids.front()));
  CHECK_NOTHROW(b.subscribe(event_type::tick, [](const event&) {})); // room again
}

TEST_CASE_METHOD(system_fixture, "unsubscribe_handler matches a handler's identity, not its code", "[bus][subscribe]") {
  bus b{sys};
  std::atomic<int> calls{0};
  handler h = [&calls](const event&) { calls.fetch_add(1); };
  handler copy = h;
  handler lookalike = [&calls](const event&) { calls.fetch_add(1); };
  b.subscribe(event_type::tick, h);
  b.subscribe(event_type::tick, h);
  b.subscribe(event_type::bar, h);
  b.subscribe(event_type::tick, lookalike);
  CHECK(b.stats().handlers == 4);
  CHECK_FALSE(b.unsubscribe_handler(event_type::signal, h)); // wrong type
  CHECK(b.unsubscribe_handler(event_type::tick, copy));      // a copy has the same identity
  CHECK(b.stats().handlers == 2);                            // both TICK subscriptions of h went
  CHECK_FALSE(b.unsubscribe_handler(event_type::tick, h));
  b.start();
  REQUIRE(b.publish(make_tick(1)));
  REQUIRE_IDLE(b);
  CHECK(calls.load() == 1); // only the lookalike still receives ticks
}

TEST_CASE_METHOD(system_fixture, "no handler call after unsubscribe returns", "[bus][subscribe]") {
  bus b{sys};
  std::atomic<int> calls{0};
  auto id = b.subscribe(event_type::tick, [&calls](const event&) { calls.fetch_add(1); });
  b.start();
  for (int i = 0; i < 100; ++i)
    REQUIRE(b.publish(make_tick(i)));
  REQUIRE_IDLE(b);
  CHECK(calls.load() == 100);
  REQUIRE(b.unsubscribe(id));
  for (int i = 0; i < 100; ++i)
    REQUIRE(b.publish(make_tick(i)));
  REQUIRE_IDLE(b);
  CHECK(calls.load() == 100);
  CHECK(b.stats().dispatched == 200); // events with no subscriber are still dispatched (to none)
}

TEST_CASE_METHOD(system_fixture, "unsubscribe returns only once the call running for the subscription has",
                 "[bus][subscribe]") {
  // What a handler uses may go once unsubscribe returns: a call in progress must have ended.
  bus b{sys};
  auto st = std::make_shared<blocking_subscriber::shared_state>(); // outlives a failed REQUIRE
  auto finished = std::make_shared<std::atomic<bool>>(false);
  const auto id = b.subscribe(event_type::tick, [st, finished](const event&) {
    st->entered.count_down();
    st->release.wait();
    finished->store(true);
  });
  b.start();
  REQUIRE(b.publish(make_tick(1)));
  REQUIRE(st->entered.wait());
  auto unsubscribed = std::async(std::launch::async, [&] {
    const bool removed = b.unsubscribe(id);
    return removed && finished->load(); // the call had returned
  });
  // A wrong implementation returns now, with the call still blocked; a right one cannot return
  // before the gate opens.
  (void)unsubscribed.wait_for(100ms);
  st->release.open();
  CHECK(unsubscribed.get());
  REQUIRE_IDLE(b);
}

TEST_CASE_METHOD(system_fixture, "two handlers that remove each other's subscriptions at once do not deadlock",
                 "[bus][subscribe]") {
  // Inside a handler unsubscribe cannot wait for the other's call: it is waiting for this one.
  bus b{sys};
  auto both_in = std::make_shared<countdown>(2);
  std::atomic<subscription_id> tick_id{0};
  std::atomic<subscription_id> signal_id{0};
  std::atomic<int> removed{0};
  auto remove_other = [&, both_in](std::atomic<subscription_id>& other) {
    both_in->count_down();
    if (both_in->wait())
      removed.fetch_add(b.unsubscribe(other.load()) ? 1 : 0);
  };
  tick_id = b.subscribe(event_type::tick, [&](const event&) { remove_other(signal_id); });
  signal_id = b.subscribe(event_type::signal, [&](const event&) { remove_other(tick_id); });
  b.start();
  REQUIRE(b.publish(make_tick(1)));
  REQUIRE(b.publish(make_signal(1)));
  REQUIRE_IDLE(b);
  CHECK(removed.load() == 2);
  CHECK(b.stats().handlers == 0);
}

TEST_CASE_METHOD(system_fixture, "subscribing after stop is refused", "[bus][subscribe]") {
  bus b{sys};
  b.start();
  b.stop(1s);
  CHECK_THROWS_AS(b.subscribe(event_type::tick, [](const event&) {}), bus_error);
}

TEST_CASE_METHOD(system_fixture, "invalid bus settings are refused", "[bus][config]") {
  bus_config cfg;
  cfg.capacity = 0;
  CHECK_THROWS_WITH(bus(sys, cfg), Catch::Contains("capacity"));
  cfg = {};
  cfg.credit_window = 0;
  CHECK_THROWS_WITH(bus(sys, cfg), Catch::Contains("credit_window"));
  cfg = {};
  cfg.credit_window = max_credit_window + 1; // each subscriber would get a ring this large
  CHECK_THROWS_WITH(bus(sys, cfg), Catch::Contains("credit_window"));
  cfg.credit_window = max_credit_window;
  CHECK_NOTHROW(bus(sys, cfg));
  cfg = {};
  cfg.credit_window = 4;
  cfg.batch_size = 8;
  CHECK_THROWS_WITH(bus(sys, cfg), Catch::Contains("batch_size"));
}

TEST_CASE_METHOD(system_fixture, "an actor subscribes itself and receives events as messages",
                 "[bus][subscribe][sdk]") {
  bus b{sys};
  auto got = std::make_shared<collector>();
  auto actor = sys.spawn(collecting_actor, got);
  auto id = b.subscribe(event_type::tick, actor);
  b.subscribe(event_type::signal, actor);
  CHECK(b.subscriber_actor(id) == actor);
  b.start();
  REQUIRE(b.publish(make_tick(1)));
  REQUIRE(b.publish(make_signal(2)));
  REQUIRE(b.publish(make_order(event_type::order_new, 3))); // not subscribed
  REQUIRE(got->wait(2));
  REQUIRE_IDLE(b);
  auto evs = got->events();
  REQUIRE(evs.size() == 2);
  // Both types reach the actor (in priority order if they were staged together: SIGNAL first).
  CHECK(std::count_if(evs.begin(), evs.end(), [](const event& e) { return e.type() == event_type::tick; }) == 1);
  CHECK(std::count_if(evs.begin(), evs.end(), [](const event& e) { return e.type() == event_type::signal; }) == 1);
  b.stop(1s);
  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(system_fixture, "one handler on several types runs on one actor, never concurrently with itself",
                 "[bus][subscribe][concurrency]") {
  bus b{sys};
  std::atomic<bool> inside{false};
  std::atomic<int> overlaps{0};
  std::array<std::uint64_t, event_type_count> last_seq{}; // touched by the handler only
  std::atomic<int> out_of_order{0};
  std::atomic<int> calls{0};
  handler h = [&](const event& e) {
    if (inside.exchange(true))
      overlaps.fetch_add(1);
    auto& last = last_seq[static_cast<std::size_t>(e.type())];
    if (e.sequence() <= last)
      out_of_order.fetch_add(1);
    last = e.sequence();
    calls.fetch_add(1);
    inside.store(false);
  };
  const std::array types{event_type::tick, event_type::signal, event_type::order_new};
  std::vector<subscription_id> ids;
  for (auto t : types)
    ids.push_back(b.subscribe(t, h));
  CHECK(b.subscriber_actor(ids[0]) == b.subscriber_actor(ids[1]));
  CHECK(b.subscriber_actor(ids[1]) == b.subscriber_actor(ids[2]));
  CHECK(b.subscriber_actor(ids[0]) != b.subscriber_actor(b.subscribe(event_type::tick, [](const event&) {})));
  b.start();
  constexpr int per_thread = 20'000;
  std::atomic<bool> stuck{false}; // a publisher refused for the whole patience (asserted below)
  {
    std::vector<std::jthread> publishers;
    for (auto t : types)
      publishers.emplace_back([&b, &stuck, t] {
        for (int i = 0; i < per_thread; ++i) {
          auto e = t == event_type::tick ? make_tick(i) : t == event_type::signal ? make_signal(i) : make_order(t, 1);
          if (!eventually([&] { return static_cast<bool>(b.publish(e)); })) {
            stuck.store(true);
            return;
          }
        }
      });
  }
  REQUIRE_FALSE(stuck.load());
  REQUIRE_IDLE(b);
  b.stop(patience);
  CHECK(calls.load() == 3 * per_thread);
  CHECK(overlaps.load() == 0);     // sequenced: a handler alone touching state needs no lock
  CHECK(out_of_order.load() == 0); // FIFO per publisher within each priority
}

TEST_CASE_METHOD(system_fixture, "a handler keeps its actor until its last subscription goes", "[bus][subscribe]") {
  bus b{sys};
  auto got = std::make_shared<collector>();
  handler h = [got](const event& e) { got->add(e); };
  auto tick_id = b.subscribe(event_type::tick, h);
  auto risk_id = b.subscribe(event_type::circuit_breaker, h);
  const auto actor = b.subscriber_actor(tick_id);
  REQUIRE(b.unsubscribe(tick_id));
  CHECK(b.subscriber_actor(risk_id) == actor);
  b.start();
  REQUIRE(b.publish(make_tick(1)));
  REQUIRE(b.publish(make_risk()));
  REQUIRE_IDLE(b);
  REQUIRE(got->size() == 1);
  CHECK(got->events()[0].type() == event_type::circuit_breaker);
  REQUIRE(b.unsubscribe(risk_id));
  CHECK_FALSE(b.subscriber_actor(risk_id));
  // Subscribing the same handler again gets a new actor.
  auto again = b.subscribe(event_type::tick, h);
  CHECK(b.subscriber_actor(again));
  CHECK(b.subscriber_actor(again) != actor);
}

namespace {
void ignore_event(const event& /*e*/) {}
void ignore_event_too(const event& /*e*/) {}
} // namespace

TEST_CASE_METHOD(system_fixture, "a plain function is one handler however often it is passed", "[bus][subscribe]") {
  bus b{sys};
  auto a = b.subscribe(event_type::tick, ignore_event);
  auto c = b.subscribe(event_type::circuit_breaker, &ignore_event);
  auto d = b.subscribe(event_type::tick, ignore_event_too);
  CHECK(b.subscriber_actor(a) == b.subscriber_actor(c));
  CHECK(b.subscriber_actor(a) != b.subscriber_actor(d));
  CHECK(handler{ignore_event} == handler{&ignore_event});
  CHECK_FALSE(handler{ignore_event} == handler{ignore_event_too});
  CHECK(b.unsubscribe_handler(event_type::tick, ignore_event));
  CHECK(b.stats().handlers == 2);
}

TEST_CASE_METHOD(system_fixture, "write_ahead: the other subscribers get an event only once the writer confirmed it",
                 "[bus][write_ahead]") {
  bus b{sys, bus_config{}};
  auto written = std::make_shared<std::atomic<std::uint64_t>>(0);
  // The counter is an argument, not a capture: CAF 0.17 spawning a function of no arguments binds
  // a reference to a null pointer (UBSan).
  auto writer = sys.spawn(
    [](caf::event_based_actor*, const std::shared_ptr<std::atomic<std::uint64_t>>& n) -> caf::behavior {
      return {[n](delivery& d) { d.consume([&](const event&) { n->fetch_add(1); }); }};
    },
    written);
  (void)b.subscribe(event_type::tick, writer);
  std::atomic<std::uint64_t> seen{0};
  std::atomic<std::uint64_t> last_seq{0};
  (void)b.subscribe(event_type::tick, [&](const event& e) {
    last_seq = e.sequence();
    ++seen;
  });
  // Published before the writer is named (their wake-ups may have the broker look at the
  // subscribers already): the write-ahead applies to them all the same.
  for (int i = 0; i < 10; ++i)
    REQUIRE(b.publish(make_tick(i)));
  auto confirm = b.write_ahead(writer);
  CHECK_THROWS_AS(b.write_ahead(writer), bus_error); // one writer per bus
  REQUIRE(b.start());
  // The writer has all ten; the handler none, as nothing is confirmed.
  REQUIRE(libra::testing::eventually([&] { return written->load() == 10; }));
  CHECK(seen == 0);
  CHECK_FALSE(b.wait_idle(std::chrono::milliseconds{50})); // they wait: pending, not lost
  confirm(4);
  REQUIRE(libra::testing::eventually([&] { return seen == 4; }));
  CHECK(last_seq == 4);
  confirm(3); // never backwards
  confirm(10);
  REQUIRE(b.wait_idle(std::chrono::seconds{10}));
  CHECK(seen == 10);
  CHECK(last_seq == 10);
  b.stop();
  bus late{sys, bus_config{}};
  REQUIRE(late.start());
  CHECK_THROWS_AS(late.write_ahead(writer), bus_error); // not once running
  late.stop();
}
