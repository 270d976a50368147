// start / stop / drain / RAII and the stats identity.
#include "../support/bus_fixture.hpp"

#include <catch2/catch.hpp>

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <atomic>
#include <sstream>

using namespace libra;
using namespace libra::testing;

namespace {
void check_identity(const bus_stats& s) {
  INFO("published=" << s.published << " dispatched=" << s.dispatched << " dropped=" << s.dropped
                    << " pending=" << s.pending);
  CHECK(s.published == s.dispatched + s.dropped + s.pending);
}
} // namespace

TEST_CASE_METHOD(system_fixture, "start and stop report the running state", "[bus][lifecycle]") {
  bus b{sys};
  CHECK_FALSE(b.is_running());
  CHECK(b.start());
  CHECK_FALSE(b.start()); // already running
  CHECK(b.is_running());
  CHECK(b.stop(1s) == 0);
  CHECK_FALSE(b.is_running());
  CHECK_FALSE(b.start()); // a stopped bus stays stopped
  CHECK(b.stop(1s) == 0); // idempotent
}

TEST_CASE_METHOD(system_fixture, "stop drains everything staged", "[bus][lifecycle][drain]") {
  bus_config cfg;
  cfg.credit_window = 1; // slow delivery: most events are still staged when stop() begins
  cfg.batch_size = 1;
  bus b{sys, cfg};
  std::atomic<int> calls{0};
  b.subscribe(event_type::tick, [&calls](const event&) { calls.fetch_add(1); });
  b.start();
  for (int i = 0; i < 2000; ++i)
    REQUIRE(b.publish(make_tick(i)));
  CHECK(b.stop(patience) == 0);
  CHECK(calls.load() == 2000); // drained means handled, not just sent
  auto s = b.stats();
  CHECK(s.dispatched == 2000);
  CHECK(s.pending == 0);
  check_identity(s);
}

TEST_CASE_METHOD(system_fixture, "stop with a timeout drops an exact number of events", "[bus][lifecycle][drain]") {
  bus_config cfg;
  cfg.credit_window = 1;
  cfg.batch_size = 1;
  bus b{sys, cfg};
  gate release;
  countdown entered{1};
  countdown left{1};
  std::atomic<int> calls{0};
  b.subscribe(event_type::tick, [&](const event&) {
    if (calls.fetch_add(1) == 0) {
      entered.count_down();
      release.wait(); // the first event blocks the subscriber until the test says so
      left.count_down();
    }
  });
  for (int i = 0; i < 10; ++i)
    REQUIRE(b.publish(make_tick(i)));
  for (int i = 0; i < 3; ++i)
    REQUIRE(b.publish(make_signal(i))); // nobody subscribes: dispatched at once
  b.start();
  REQUIRE(entered.wait());
  // 1 tick is with the blocked handler (window 1), 9 are staged and cannot move.
  const auto dropped = b.stop(100ms);
  release.open();
  REQUIRE(left.wait()); // stop() does not wait for a blocked handler; the test must, before its locals go
  CHECK(calls.load() == 1);
  CHECK(dropped == 9);
  auto s = b.stats();
  CHECK(s.dropped == 9);
  CHECK(s.dropped_of(priority::market_data) == 9);
  CHECK(s.dropped_of(priority::risk) == 0);
  CHECK(s.dispatched == 4);
  CHECK(s.pending == 0);
  check_identity(s);
}

TEST_CASE_METHOD(system_fixture, "a never-started bus drops what was staged when stopped", "[bus][lifecycle]") {
  bus b{sys};
  for (int i = 0; i < 5; ++i)
    REQUIRE(b.publish(make_tick(i)));
  REQUIRE(b.publish(make_risk()));
  CHECK(b.stop(1s) == 6);
  auto s = b.stats();
  CHECK(s.dropped_of(priority::risk) == 1);
  check_identity(s);
}

TEST_CASE_METHOD(system_fixture, "destroying a running bus drains it", "[bus][lifecycle][raii]") {
  std::atomic<int> calls{0};
  {
    bus b{sys};
    b.subscribe(event_type::tick, [&calls](const event&) { calls.fetch_add(1); });
    b.start();
    for (int i = 0; i < 500; ++i)
      REQUIRE(b.publish(make_tick(i)));
  } // ~bus: stop(default_drain_timeout)
  CHECK(calls.load() == 500);
}

TEST_CASE_METHOD(system_fixture, "destroying a bus that never started does not hang", "[bus][lifecycle][raii]") {
  {
    bus b{sys};
    b.subscribe(event_type::tick, [](const event&) {});
    REQUIRE(b.publish(make_tick(1)));
  }
  SUCCEED("the actor system can still shut down: no bus actor is left behind");
}

TEST_CASE_METHOD(system_fixture, "published == dispatched + dropped + pending at quiet points", "[bus][stats]") {
  bus_config cfg;
  cfg.capacity = 1000;
  bus b{sys, cfg};
  b.subscribe(event_type::tick, [](const event&) {});
  b.subscribe(
    event_type::signal, [](const event&) {}, [](const event& e) { return e.sequence() % 2 == 0; });
  check_identity(b.stats());
  for (int i = 0; i < 600; ++i)
    REQUIRE(b.publish(i % 3 == 0 ? make_signal(i) : make_tick(i)));
  check_identity(b.stats()); // not started: all pending
  CHECK(b.stats().pending == 600);
  b.start();
  REQUIRE_IDLE(b);
  auto s = b.stats();
  check_identity(s);
  CHECK(s.dispatched == 600);
  CHECK(s.handler_calls == 400 + 100);
}

TEST_CASE_METHOD(system_fixture, "after a timed-out stop, wait_idle waits for the handler still running",
                 "[bus][lifecycle][drain]") {
  bus b{sys};
  gate release;
  countdown entered{1};
  std::atomic<int> calls{0};
  std::atomic<bool> returned{false};
  b.subscribe(event_type::tick, [&](const event&) {
    if (calls.fetch_add(1) == 0) {
      entered.count_down();
      release.wait();
      returned.store(true);
    }
  });
  for (int i = 0; i < 5; ++i)
    REQUIRE(b.publish(make_tick(i)));
  b.start();
  REQUIRE(entered.wait());
  b.stop(50ms); // times out on the blocked handler
  CHECK_FALSE(b.wait_idle(50ms));
  CHECK_FALSE(returned.load());
  release.open();
  REQUIRE_IDLE(b);
  CHECK(returned.load());   // true: the handler has returned, what it uses may go now
  CHECK(calls.load() == 1); // no call starts after stop() returned
  CHECK(b.wait_idle(0ms));
}

TEST_CASE_METHOD(system_fixture, "after a timed-out stop, wait_idle waits for a subscriber actor's handler",
                 "[bus][lifecycle][drain]") {
  bus b{sys};
  blocking_subscriber sub{sys};
  b.subscribe(event_type::tick, sub.actor);
  for (int i = 0; i < 5; ++i)
    REQUIRE(b.publish(make_tick(i)));
  b.start();
  REQUIRE(sub.entered.wait());
  b.stop(50ms);
  CHECK_FALSE(b.wait_idle(20ms));
  sub.release.open();
  REQUIRE_IDLE(b);
  CHECK(sub.got->size() == 1); // the rest were handed over but never run: the bus had stopped
}

TEST_CASE_METHOD(system_fixture, "a subscriber actor may outlive its bus with events still handed to it",
                 "[bus][lifecycle][raii]") {
  // Its rings point at its subscriptions; the bus's registry and broker are gone when it goes on
  // (ASan and TSan see a read of a freed subscription).
  blocking_subscriber sub{sys};
  caf::scoped_actor self{sys};
  {
    bus b{sys};
    b.subscribe(event_type::tick, sub.actor);
    for (int i = 0; i < 5; ++i)
      REQUIRE(b.publish(make_tick(i)));
    b.start();
    REQUIRE(sub.entered.wait());
    self->monitor(b.broker());
    CHECK(b.stop(50ms) == 0); // the other 4 are in the subscriber's ring already
  }
  REQUIRE(got_down(self)); // the broker's
  self->monitor(sub.actor);
  sub.release.open();
  caf::anon_send_exit(sub.actor, caf::exit_reason::user_shutdown); // after the events it holds
  REQUIRE(got_down(self));                                         // the subscriber's
  CHECK(sub.got->size() == 1);                                     // the rest were skipped: their bus had stopped
}

TEST_CASE_METHOD(system_fixture, "a bus logs to the logger its host gives it, at the host's level", "[bus][logging]") {
  auto out = std::make_shared<std::ostringstream>();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*out);
  auto host_log = std::make_shared<spdlog::logger>("host", sink);
  host_log->set_level(spdlog::level::warn);
  bus_config cfg;
  cfg.logger = host_log;
  cfg.capacity = 20;
  {
    bus b{sys, cfg};
    for (int i = 0; i < 16; ++i)
      REQUIRE(b.publish(make_tick(i)));
    b.stop(0ms); // never started: a warning (events dropped), then an info line (bus stopped)
  }
  const auto text = out->str();
  CHECK_THAT(text, Catch::Contains("dropped 16 events"));
  CHECK_THAT(text, !Catch::Contains("bus stopped")); // info: below the host's level
}
