// publish / publish_many: admission, sequence numbers, capacity, rejection.
#include "../support/bus_fixture.hpp"

#include <catch2/catch.hpp>

using namespace libra;
using namespace libra::testing;

TEST_CASE_METHOD(system_fixture, "publish assigns increasing sequence numbers at admission", "[bus][publish]") {
  bus b{sys};
  auto got = std::make_shared<collector>();
  auto actor = sys.spawn(collecting_actor, got);
  b.subscribe(event_type::tick, actor);
  b.start();
  auto pub = b.make_publisher();
  for (int i = 0; i < 1000; ++i)
    REQUIRE(pub.publish(make_tick(i)));
  REQUIRE(got->wait(1000));
  auto evs = got->events();
  for (std::size_t i = 0; i < evs.size(); ++i) {
    CHECK(evs[i].sequence() == i + 1);
    CHECK(evs[i].get<tick>().bid_size.raw() == static_cast<std::int64_t>(i)); // publish order kept
  }
  b.stop(1s);
  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(system_fixture, "each priority is refused exactly at its share of max_queue_size",
                 "[bus][publish][capacity]") {
  bus_config cfg;
  cfg.max_queue_size = 100;
  bus b{sys, cfg}; // not started: admitted events stay pending
  int ticks = 0;
  while (b.publish(make_tick(ticks)))
    ++ticks;
  CHECK(ticks == 80); // MARKET_DATA may fill 80%
  int signals = 0;
  while (b.publish(make_signal(signals)))
    ++signals;
  CHECK(signals == 10); // SIGNALS up to 90%
  int orders = 0;
  while (b.publish(make_order(event_type::order_new, static_cast<std::uint64_t>(orders))))
    ++orders;
  CHECK(orders == 5); // ORDERS up to 95%
  int risks = 0;
  while (b.publish(make_risk()))
    ++risks;
  CHECK(risks == 5); // RISK may use all of it: a tick flood never refuses a risk event
  auto s = b.stats();
  CHECK(s.published == 100);
  CHECK(s.pending == 100);
  CHECK(b.queue_size() == 100);
  CHECK(s.rejected == 4);
  CHECK(s.rejected_full == 4);
  CHECK(s.pending_by_priority[static_cast<std::size_t>(priority::market_data)] == 80);
  CHECK(s.pending_by_priority[static_cast<std::size_t>(priority::risk)] == 5);
}

TEST_CASE_METHOD(system_fixture, "publish_many admits the prefix that fits", "[bus][publish][capacity]") {
  bus_config cfg;
  cfg.max_queue_size = 10;
  bus b{sys, cfg};
  std::vector<event> batch;
  for (int i = 0; i < 15; ++i)
    batch.push_back(make_tick(i));
  CHECK(b.publish_many(batch) == 8); // ticks' share of 10
  CHECK(b.publish_many(batch) == 0);
  auto s = b.stats();
  CHECK(s.published == 8);
  CHECK(s.rejected_full == 2); // one refusal per call: the call stops at the first refused event
}

TEST_CASE_METHOD(system_fixture, "capacity frees up as events are dispatched", "[bus][publish][capacity]") {
  bus_config cfg;
  cfg.max_queue_size = 8;
  bus b{sys, cfg};
  std::atomic<int> calls{0};
  b.subscribe(event_type::tick, [&calls](const event&) { calls.fetch_add(1); });
  b.start();
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 6; ++i) // MARKET_DATA's 80% of 8; the running bus may free slots meanwhile
      REQUIRE(b.publish(make_tick(i)));
    REQUIRE(b.wait_idle(patience));
    CHECK(b.queue_size() == 0);
  }
  CHECK(calls.load() == 300);
}

TEST_CASE_METHOD(system_fixture, "publish after stop returns false and counts as rejected", "[bus][publish]") {
  bus b{sys};
  b.start();
  REQUIRE(b.publish(make_tick(1)));
  CHECK(b.stop(1s) == 0);
  CHECK_FALSE(b.is_running());
  CHECK_FALSE(b.publish(make_tick(2)));
  std::vector<event> two{make_tick(3), make_tick(4)};
  CHECK(b.publish_many(two) == 0);
  auto s = b.stats();
  CHECK(s.rejected_closed == 2);
  CHECK(s.published == 1);
}
