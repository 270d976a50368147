// Fault injection: handlers and filters that throw, a subscriber that blocks, stop() under
// concurrent publishers. The bus must isolate each fault, count it, and lose nothing silently.
#include "../support/bus_fixture.hpp"

#include <catch2/catch.hpp>

#include <future>
#include <thread>

using namespace libra;
using namespace libra::testing;

TEST_CASE_METHOD(system_fixture, "a handler throwing on every 7th event and a throwing filter are counted and isolated",
                 "[bus][fault]") {
  bus b{sys, bus_config{}};
  constexpr std::int64_t n = 700;
  std::atomic<std::int64_t> calls{0};
  auto healthy = std::make_shared<collector>();
  b.subscribe(event_type::tick, [&](const event&) {
    if (calls.fetch_add(1) % 7 == 6)
      throw std::runtime_error("every 7th");
  });
  b.subscribe(
    event_type::tick, [](const event&) {},
    [](const event& e) -> bool {
      if (e.get<tick>().bid_size.raw() % 10 == 0)
        throw std::logic_error("filter fault");
      return true;
    });
  b.subscribe(event_type::tick, [healthy](const event& e) { healthy->add(e); });
  b.start();
  for (std::int64_t i = 0; i < n; ++i)
    REQUIRE(b.publish(make_tick(i)));
  REQUIRE(healthy->wait(n));
  REQUIRE_IDLE(b);
  CHECK(calls.load() == n);                  // the thrower got every event: a throw loses nothing else
  CHECK(b.stats().errors == n / 7 + n / 10); // 100 handler throws + 70 filter throws, each counted
  const auto evs = healthy->events();
  for (std::int64_t i = 0; i < n; ++i)
    CHECK(evs[static_cast<std::size_t>(i)].get<tick>().bid_size.raw() == i); // the others are untouched
  b.stop(1s);
}

TEST_CASE_METHOD(system_fixture,
                 "a blocked subscriber holds capacity, not the others: back-pressure exactly at the bound, "
                 "everything delivered after release",
                 "[bus][fault][capacity]") {
  bus_config cfg;
  cfg.capacity = 1000;   // MARKET_DATA may fill 80%: 800
  cfg.credit_window = 1; // the slow one, stuck on its first event, then takes nothing more
  cfg.batch_size = 1;
  bus b{sys, cfg};
  gate release;
  countdown slow_entered{1};
  std::atomic<bool> first{true};
  auto slow = std::make_shared<collector>();
  auto fast = std::make_shared<collector>();
  b.subscribe(event_type::tick, [&, slow](const event& e) {
    if (first.exchange(false)) {
      slow_entered.count_down();
      release.wait();
    }
    slow->add(e);
  });
  b.subscribe(event_type::tick, [fast](const event& e) { fast->add(e); });
  b.start();
  REQUIRE(b.publish(make_tick(0)));
  REQUIRE(slow_entered.wait()); // the slow one is stuck in its handler from now on
  REQUIRE(fast->wait(1));
  REQUIRE(eventually([&] { return b.stats().pending == 0; })); // tick 0 left the stages (both had it)
  std::int64_t accepted = 1;
  while (accepted <= 1000 && b.publish(make_tick(accepted))) // bounded: capacity is 1000
    ++accepted;
  // Nothing leaves while one interested subscriber has not had it: admission stops exactly when
  // 800 are pending.
  CHECK(accepted == 801);
  CHECK(b.stats().pending == 800);
  CHECK(b.stats().rejected_full == 1);
  CHECK_FALSE(b.publish(make_tick(accepted)));
  CHECK(b.stats().rejected_full == 2);
  // The fast subscriber is not held back by the slow one: it gets all 800 meanwhile.
  const auto total = static_cast<std::size_t>(accepted);
  REQUIRE(fast->wait(total));
  CHECK(slow->size() == 0);
  release.open();
  REQUIRE(slow->wait(total));
  REQUIRE_IDLE(b);
  const auto evs = slow->events();
  for (std::size_t i = 0; i < evs.size(); ++i)
    CHECK(evs[i].get<tick>().bid_size.raw() == static_cast<std::int64_t>(i)); // everything, in order
  const auto s = b.stats();
  CHECK(s.published == total);
  CHECK(s.dispatched == total);
  CHECK(s.pending == 0);
  b.stop(1s);
}

TEST_CASE_METHOD(system_fixture,
                 "stop() while 4 threads keep publishing: no deadlock, later publishes refused and counted, "
                 "published == dispatched + dropped",
                 "[bus][fault][lifecycle]") {
  bus_config cfg;
  cfg.capacity = 10'000;
  bus b{sys, cfg};
  std::atomic<std::uint64_t> handled{0};
  b.subscribe(event_type::tick, [&](const event&) { handled.fetch_add(1); });
  b.subscribe(event_type::order_new, [&](const event&) { handled.fetch_add(1); });
  b.start();
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> refused_after_stop{0};
  std::atomic<std::uint64_t> accepted_after_stop{0};
  std::atomic<bool> stopped{false};
  countdown publishing{4};
  std::vector<std::thread> threads;
  for (int p = 0; p < 4; ++p)
    threads.emplace_back([&, p] {
      auto pub = b.make_publisher();
      publishing.count_down();
      for (std::int64_t i = 0; !done.load(); ++i) {
        const bool was_stopped = stopped.load();
        const bool ok = static_cast<bool>(pub.publish(
          i % 5 == 0 ? make_order(event_type::order_new, static_cast<std::uint64_t>(i)) : make_tick(i * 4 + p)));
        (ok ? accepted : refused).fetch_add(1);
        if (was_stopped)
          (ok ? accepted_after_stop : refused_after_stop).fetch_add(1);
      }
    });
  // Each wait is asserted after the threads are joined: a REQUIRE that throws with them running
  // would terminate the process.
  const bool started = publishing.wait();
  const bool flowing = started && eventually([&] { return accepted.load() >= 20'000; }); // events are flowing
  const auto dropped = b.stop(50ms);
  stopped.store(true);
  // Keep publishing against the stopped bus for a while, then end.
  const bool refusing = eventually([&] { return refused_after_stop.load() >= 1000; });
  done.store(true);
  for (auto& t : threads)
    t.join();
  REQUIRE(started);
  REQUIRE(flowing);
  REQUIRE(refusing);
  CHECK(accepted_after_stop.load() == 0); // stop() closed admission before it returned
  const auto s = b.stats();
  CHECK(s.published == accepted.load());
  CHECK(s.rejected == refused.load()); // every refusal counted (full or closed)
  CHECK(s.rejected_closed >= refused_after_stop.load());
  CHECK(s.dropped == dropped);
  CHECK(s.pending == 0);
  CHECK(s.published == s.dispatched + s.dropped); // nothing lost silently
  CHECK(b.stop(1s) == 0);                         // idempotent
}

TEST_CASE_METHOD(system_fixture, "a RISK event is admitted while MARKET_DATA has filled its share of the bus",
                 "[bus][fault][capacity]") {
  bus_config cfg;
  cfg.capacity = 100;
  bus b{sys, cfg}; // not started: nothing leaves
  int ticks = 0;
  while (ticks <= 100 && b.publish(make_tick(ticks))) // bounded: capacity is 100
    ++ticks;
  CHECK(ticks == 80);               // ticks stop at their 80% share...
  CHECK(b.publish(make_signal(1))); // ...signals, orders and risk still get in
  CHECK(b.publish(make_order(event_type::order_cancelled, 1)));
  CHECK(b.publish(make_risk()));
  CHECK(b.stats().pending == 83);
  CHECK(b.stop(0ms) == 83);
}

TEST_CASE_METHOD(system_fixture,
                 "a subscriber actor killed mid-stream: its subscription goes, the others get everything, the "
                 "counts add up and stop() returns",
                 "[bus][fault][lifecycle]") {
  constexpr int total = 20'000;
  constexpr int dies_at = 500; // well inside the stream: a credit window in flight, a backlog staged
  bus b{sys};
  auto victim_seen = std::make_shared<std::atomic<int>>(0);
  // The victim quits from inside its handler, in the middle of a batch (CAF drops the rest of its
  // mailbox, including deliveries in flight, when it terminates).
  // The counter goes in as a spawn argument, not a capture: CAF 0.17 spawning a function without
  // arguments dereferences a null std::shared_ptr<std::tuple<>> (UBSan reports it in
  // caf/detail/init_fun_factory.hpp).
  auto victim = sys.spawn(
    [](caf::event_based_actor* self, std::shared_ptr<std::atomic<int>> seen) -> caf::behavior {
      return {on_events([self, seen](const event&) {
        if (seen->fetch_add(1) + 1 == dies_at)
          self->quit(caf::exit_reason::kill);
      })};
    },
    victim_seen);
  auto survivor = std::make_shared<collector>();
  b.subscribe(event_type::tick, victim);
  b.subscribe(event_type::tick, [survivor](const event& e) { survivor->add(e); });
  b.start();
  caf::scoped_actor self{sys};
  self->monitor(victim);
  // The dead subscriber's cursor must not hold capacity for long.
  for (int i = 0; i < total; ++i)
    if (!eventually([&] { return static_cast<bool>(b.publish(make_tick(i))); }))
      FAIL("tick " << i << " refused for " << patience.count() << " s");
  REQUIRE(got_down(self));
  REQUIRE_IDLE(b); // nothing waits for the dead actor's acks
  CHECK(victim_seen->load() >= dies_at);
  CHECK(victim_seen->load() < total);
  REQUIRE(survivor->wait(total));
  const auto evs = survivor->events();
  CHECK(evs.size() == static_cast<std::size_t>(total));
  for (std::size_t i = 0; i < evs.size(); ++i)
    REQUIRE(evs[i].get<tick>().bid_size.raw() == static_cast<std::int64_t>(i)); // everything, in order
  auto s = b.stats();
  CHECK(s.handlers == 1);
  CHECK(s.published == static_cast<std::uint64_t>(total));
  CHECK(s.published == s.dispatched + s.pending + s.dropped);
  CHECK(s.pending == 0);
  CHECK(b.stop(patience) == 0);
  s = b.stats();
  CHECK(s.published == s.dispatched + s.dropped);
}

TEST_CASE_METHOD(system_fixture,
                 "a handler unsubscribes itself mid-stream and another thread subscribes while events flow",
                 "[bus][fault][subscribe]") {
  constexpr int total = 20'000;
  constexpr int quits_after = 100;
  bus b{sys};
  auto whole = std::make_shared<collector>();
  b.subscribe(event_type::tick, [whole](const event& e) { whole->add(e); });
  // Catch2's assertions are not thread-safe: the handler records, the test thread checks.
  auto quitter_calls = std::make_shared<std::atomic<int>>(0);
  auto quitter_unsubscribed = std::make_shared<std::atomic<bool>>(false);
  subscription_id quitter = 0; // set before start(), read by the handler after it
  quitter = b.subscribe(event_type::tick, [&b, &quitter, quitter_calls, quitter_unsubscribed](const event&) {
    if (quitter_calls->fetch_add(1) + 1 == quits_after)
      quitter_unsubscribed->store(b.unsubscribe(quitter));
  });
  b.start();
  std::atomic<int> published{0};
  std::atomic<bool> publisher_stuck{false}; // the publisher thread records, the test thread asserts
  std::promise<void> late_subscribed;
  std::thread publisher{[&, subscribed = late_subscribed.get_future()] {
    for (int i = 0; i < total; ++i) {
      // Halfway, hold on until the late subscription exists, so that events flow after it
      // whatever the speeds (otherwise a fast bus could finish during subscribe()).
      if (i == total / 2 && subscribed.wait_for(patience) != std::future_status::ready) {
        publisher_stuck.store(true);
        return;
      }
      if (!eventually([&] { return static_cast<bool>(b.publish(make_tick(i))); })) {
        publisher_stuck.store(true);
        return;
      }
      published.store(i + 1);
    }
  }};
  const bool quarter = eventually([&] { return published.load() >= total / 4 || publisher_stuck.load(); });
  auto late = std::make_shared<collector>();
  b.subscribe(event_type::tick, [late](const event& e) { late->add(e); });
  late_subscribed.set_value();
  // Ticks up to `after` may have been published before subscribe() returned (the last of them may
  // just not have been counted yet); tick after + 1 is published once this load has been made.
  const int after = published.load();
  publisher.join();
  REQUIRE(quarter);
  REQUIRE_FALSE(publisher_stuck.load());
  REQUIRE(whole->wait(total));
  REQUIRE_IDLE(b);

  CHECK(quitter_unsubscribed->load());
  CHECK(quitter_calls->load() == quits_after); // not one call after its unsubscribe returned
  const auto w = whole->events();
  REQUIRE(w.size() == static_cast<std::size_t>(total));
  for (std::size_t i = 0; i < w.size(); ++i)
    REQUIRE(w[i].get<tick>().bid_size.raw() == static_cast<std::int64_t>(i));
  // The late subscriber gets a gap-free, ordered suffix that starts no later than after + 1.
  const auto l = late->events();
  REQUIRE_FALSE(l.empty());
  const auto first = l.front().get<tick>().bid_size.raw();
  CHECK(first <= after + 1);
  REQUIRE(l.size() == static_cast<std::size_t>(total - first));
  for (std::size_t i = 0; i < l.size(); ++i)
    REQUIRE(l[i].get<tick>().bid_size.raw() == first + static_cast<std::int64_t>(i));
  CHECK(b.stats().handlers == 2);
}
