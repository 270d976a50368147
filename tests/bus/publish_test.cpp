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

TEST_CASE_METHOD(system_fixture, "each priority is refused exactly at its share of capacity",
                 "[bus][publish][capacity]") {
  bus_config cfg;
  cfg.capacity = 100;
  bus b{sys, cfg}; // not started: admitted events stay pending
  // Each loop is bounded (capacity is 100): a bus that never refuses fails the CHECK instead of
  // filling the memory.
  int ticks = 0;
  while (ticks <= 100 && b.publish(make_tick(ticks)))
    ++ticks;
  CHECK(ticks == 80); // MARKET_DATA may fill 80%
  int signals = 0;
  while (signals <= 100 && b.publish(make_signal(signals)))
    ++signals;
  CHECK(signals == 10); // SIGNALS up to 90%
  int orders = 0;
  while (orders <= 100 && b.publish(make_order(event_type::order_new, static_cast<std::uint64_t>(orders))))
    ++orders;
  CHECK(orders == 5); // ORDERS up to 95%
  int risks = 0;
  while (risks <= 100 && b.publish(make_risk()))
    ++risks;
  CHECK(risks == 5); // RISK may use all of it: a tick flood never refuses a risk event
  auto s = b.stats();
  CHECK(s.published == 100);
  CHECK(s.pending == 100);
  CHECK(b.pending() == 100);
  CHECK(s.rejected == 4);
  CHECK(s.rejected_full == 4);
  CHECK(s.pending_of(priority::market_data) == 80);
  CHECK(s.pending_of(priority::risk) == 5);
}

TEST_CASE_METHOD(system_fixture, "publish_many admits the prefix that fits", "[bus][publish][capacity]") {
  bus_config cfg;
  cfg.capacity = 20;
  bus b{sys, cfg};
  std::vector<event> batch;
  for (int i = 0; i < 25; ++i)
    batch.push_back(make_tick(i));
  CHECK(b.publish_many(batch) == 16); // ticks' share of 20
  CHECK(b.publish_many(batch) == 0);
  auto s = b.stats();
  CHECK(s.published == 16);
  CHECK(s.rejected_full == 9 + 25); // counted per event refused, as publish() counts them
  CHECK(s.rejected == s.rejected_full);
}

TEST_CASE_METHOD(system_fixture, "publish_many on a stopped bus counts every event as rejected",
                 "[bus][publish][stats]") {
  bus b{sys};
  b.stop(1s);
  std::vector<event> batch{make_tick(1), make_signal(2), make_risk()};
  CHECK(b.publish_many(batch) == 0);
  auto s = b.stats();
  CHECK(s.rejected_closed == 3);
  CHECK(s.rejected == 3);
  CHECK(s.published == 0);
}

TEST_CASE_METHOD(system_fixture,
                 "a capacity too small for the admission shares is refused, with the smallest that fits",
                 "[bus][publish][config]") {
  bus_config cfg;
  cfg.capacity = 2; // ticks and signals would both round down to one slot
  CHECK_THROWS_AS(bus(sys, cfg), bus_error);
  CHECK_THROWS_WITH(bus(sys, cfg), Catch::Contains("too small for admission_shares"));
  CHECK_THAT(invalid_reason(cfg), Catch::Matchers::Contains("use capacity >= "));
  // The smallest capacity it names is accepted, and one less is not.
  const auto text = invalid_reason(cfg);
  const auto at = text.find(">= ") + 3;
  const auto smallest = std::stoul(text.substr(at));
  cfg.capacity = smallest;
  CHECK(invalid_reason(cfg).empty());
  cfg.capacity = smallest - 1;
  CHECK_FALSE(invalid_reason(cfg).empty());
  // Without reserves any capacity works: the seed's bus.
  cfg.capacity = 2;
  cfg.admission_shares = no_reserve;
  CHECK(invalid_reason(cfg).empty());
  // Shares must fall from RISK's 1 and stay positive.
  cfg.capacity = 1000;
  cfg.admission_shares = {0.9, 0.9, 0.9, 0.9};
  CHECK_THAT(invalid_reason(cfg), Catch::Matchers::Contains("RISK's share must be 1"));
  cfg.admission_shares = {1.0, 0.8, 0.9, 0.5};
  CHECK_THAT(invalid_reason(cfg), Catch::Matchers::Contains("SIGNALS's share must be in (0, 0.8]"));
  cfg.admission_shares = {1.0, 0.9, 0.8, 0.0};
  CHECK_FALSE(invalid_reason(cfg).empty());
}

TEST_CASE_METHOD(system_fixture, "capacity frees up as events are dispatched", "[bus][publish][capacity]") {
  bus_config cfg;
  cfg.capacity = 20;
  bus b{sys, cfg};
  std::atomic<int> calls{0};
  b.subscribe(event_type::tick, [&calls](const event&) { calls.fetch_add(1); });
  b.start();
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 16; ++i) // MARKET_DATA's 80% of 20; the running bus may free slots meanwhile
      REQUIRE(b.publish(make_tick(i)));
    REQUIRE_IDLE(b);
    CHECK(b.pending() == 0);
  }
  CHECK(calls.load() == 800);
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
  CHECK(s.rejected_closed == 3); // one per event refused, publish_many included
  CHECK(s.published == 1);
}

TEST_CASE_METHOD(system_fixture, "publish and publish_many say why they refused", "[bus][publish]") {
  bus_config cfg;
  cfg.capacity = 20;
  bus b{sys, cfg};
  for (int i = 0; i < 16; ++i)
    REQUIRE(b.publish(make_tick(i)).status() == publish_status::accepted);
  const auto full = b.publish(make_tick(16));
  CHECK_FALSE(full);
  CHECK(full.status() == publish_status::full);
  CHECK(b.publish(make_signal(1)).status() == publish_status::accepted); // SIGNALS' share is 18
  std::vector<event> batch{make_signal(2), make_signal(3), make_signal(4)};
  const auto some = b.publish_many(batch);
  CHECK(some.accepted == 1);
  CHECK(some.status == publish_status::full);
  b.stop(1s);
  CHECK(b.publish(make_risk()).status() == publish_status::closed);
  const auto none = b.publish_many(batch);
  CHECK(none.accepted == 0);
  CHECK(none.status == publish_status::closed);
  CHECK(to_string(publish_status::full) == "full");
  auto s = b.stats();
  CHECK(s.rejected_full == 1 + 2);
  CHECK(s.rejected_closed == 1 + 3);
}
