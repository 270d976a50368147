// libra::testing::fixture: what it promises an actor author (libra/testing.hpp): actors added as
// a topology adds them, everything run on the test's thread until idle, virtual time for delayed
// messages, and what the actors published, sent, logged and hold, readable between runs.
#include <libra/libra.hpp>
#include <libra/testing.hpp>

#include <caf/atom.hpp>
#include <catch2/catch.hpp>

#include <thread>

using namespace libra;
using namespace std::chrono_literals;

namespace {

const timestamp t_open = timestamp{std::chrono::seconds{1'577'916'000}};

event tick_at(const char* mid, timestamp ts = t_open) {
  const auto px = *price::parse(mid);
  return event::create(event_type::tick, "gateway.test", tick{"EUR/USD", px, px, {}, {}, {}, {}},
                       trace_context::new_root(), ts);
}

using remind_atom = caf::atom_constant<caf::atom("remind")>;

/// Echoes every tick as a SIGNAL (a child), remembers the order of what it saw, and when
/// `reminder_ms` is set, sends itself a reminder that publishes STRATEGY_STOPPED that much later.
struct echo {
  static constexpr actor_spec spec{.name = "test.echo", .description = "echoes ticks as signals"};

  explicit echo(const params& p) : reminder_ms{p.get_in("reminder_ms", std::int64_t{0}, 0, 60'000)} {}

  [[nodiscard]] std::vector<subscription> subscriptions() const {
    return {{event_type::tick}, {event_type::circuit_breaker}};
  }

  void on_event(context& ctx, const event& e) {
    seen.push_back(e.type());
    thread = std::this_thread::get_id();
    if (e.type() != event_type::tick)
      return;
    (void)ctx.publish_child(e, event_type::signal, libra::signal{"EUR/USD", side::buy, 1.0, e.get<tick>().mid()});
    ctx.log().debug("echoed tick seq={}", e.sequence());
    if (reminder_ms > 0)
      ctx.self()->delayed_send(ctx.self(), std::chrono::milliseconds{reminder_ms}, remind_atom::value);
  }

  void on_direct(context& ctx, const event& e) {
    if (auto target = ctx.find("stub"))
      ctx.self()->send(target, e);
  }

  caf::message_handler handlers(context& ctx) {
    return {[&ctx](remind_atom) {
      (void)ctx.publish(event::create(event_type::strategy_stopped, ctx.source(), libra::system{ctx.source()}));
    }};
  }

  std::int64_t reminder_ms;
  std::vector<event_type> seen;
  std::thread::id thread;
};

/// A producer: publishes `count` ticks on run and finishes, or fails when count is 0.
struct burst {
  static constexpr actor_spec spec{
    .name = "test.burst", .description = "ticks on run", .producer = true, .detached = true};

  explicit burst(const params& p) : count{p.get_in("count", std::int64_t{3}, 0, 1000)} {}

  [[nodiscard]] std::vector<subscription> subscriptions() const { return {}; }

  void run(context& ctx) {
    thread = std::this_thread::get_id();
    if (count == 0) {
      ctx.failed("nothing to publish");
      return;
    }
    for (std::int64_t i = 0; i < count; ++i)
      (void)ctx.publish(tick_at("1.1", t_open + std::chrono::seconds{i}));
    ctx.finished();
  }

  std::int64_t count;
  std::thread::id thread;
};

} // namespace

TEST_CASE("fixture: an actor handles what was published once the test runs until idle", "[testing]") {
  testing::fixture f;
  f.add<echo>("echo");
  f.start();
  f.publish(tick_at("1.1"));
  f.publish(tick_at("1.2"));
  CHECK(f.published().empty()); // nothing runs until the test says so
  f.run_until_idle();
  const auto signals = f.published(event_type::signal);
  REQUIRE(signals.size() == 2);
  CHECK(signals[0].get<libra::signal>().reference == *price::parse("1.1"));
  CHECK(signals[1].source() == "echo");
  CHECK(f.published().size() == 4); // the ticks and the signals
  CHECK(f.published({event_type::tick, event_type::signal}).size() == 4);
  CHECK(f.state<echo>("echo").seen.size() == 2);
  CHECK(f.state<echo>("echo").thread == std::this_thread::get_id()); // on the test's thread
  CHECK_THAT(f.log("echo"), Catch::Contains("echoed tick seq="));
}

TEST_CASE("fixture: events published before start are dispatched in priority order", "[testing]") {
  testing::fixture f;
  f.add<echo>("echo");
  f.publish(tick_at("1.1"));
  f.publish(event::create(event_type::circuit_breaker, "risk", risk{risk_rule::circuit_breaker, {}, 0, 0, nullptr}));
  f.start();
  CHECK(f.state<echo>("echo").seen == std::vector<event_type>{event_type::circuit_breaker, event_type::tick});
}

TEST_CASE("fixture: delayed messages wait for advance_time", "[testing]") {
  testing::fixture f;
  f.add<echo>("echo", "{reminder_ms: 500}");
  f.start();
  f.publish(tick_at("1.1"));
  f.run_until_idle();
  CHECK(f.published(event_type::strategy_stopped).empty());
  f.advance_time(499ms);
  CHECK(f.published(event_type::strategy_stopped).empty());
  f.advance_time(1ms);
  CHECK(f.published(event_type::strategy_stopped).size() == 1);
}

TEST_CASE("fixture: direct events, stubs and the directory", "[testing]") {
  testing::fixture f;
  f.add_stub("stub");
  f.add<echo>("echo");
  f.start();
  const auto e = tick_at("1.3");
  f.send("echo", e);
  f.run_until_idle();
  REQUIRE(f.sent_to("stub").size() == 1);
  CHECK(f.sent_to("stub")[0].trace_id() == e.trace_id());
  CHECK_THROWS_AS(f.sent_to("echo"), std::invalid_argument); // not a stub
  CHECK_THROWS_AS(f.actor("nobody"), std::out_of_range);
  CHECK_THROWS_AS(f.state<burst>("echo"), std::logic_error); // not a burst
}

TEST_CASE("fixture: a detached producer runs on the test's thread, and finished and failed are recorded", "[testing]") {
  testing::fixture f;
  f.add<burst>("gen", "{count: 3}");
  f.add<burst>("broken", "{count: 0}");
  f.add<echo>("echo");
  f.start();
  CHECK(f.state<burst>("gen").thread == std::this_thread::get_id());
  CHECK(f.finished("gen") == 1);
  CHECK(f.failures("gen").empty());
  CHECK(f.finished("broken") == 0);
  CHECK(f.failures("broken") == std::vector<std::string>{"nothing to publish"});
  CHECK(f.published(event_type::signal).size() == 3);
}

TEST_CASE("fixture: params are checked as the loader checks them", "[testing][config]") {
  testing::fixture f;
  CHECK_THROWS_WITH(f.add<echo>("a", "{reminder_ms: -1}"), Catch::Contains("actors[0].params.reminder_ms"));
  CHECK_THROWS_WITH(f.add<echo>("b", "{remindr_ms: 5}"), Catch::Contains("actors[0].params.remindr_ms"));
  CHECK_THROWS_AS(f.add<echo>("c", "[1, 2]"), config_error);
  CHECK_THROWS_AS(f.add<echo>("d", "{unclosed"), config_error);
  actor_registry reg;
  add_actor<echo>(reg);
  f.add(reg, "test.echo", "echo");
  CHECK_THROWS_AS(f.add(reg, "test.echo", "echo"), std::invalid_argument); // the name is taken
  CHECK_THROWS_AS(f.add(reg, "test.nope", "other"), std::invalid_argument);
}

TEST_CASE("fixture: stop handles what is staged and ends the actors, then the bus refuses", "[testing]") {
  testing::fixture f;
  f.add<echo>("echo");
  f.start();
  f.publish(tick_at("1.1"));
  REQUIRE(f.bus().wait_idle(1ms)); // on the test coordinator it runs the jobs itself
  CHECK(f.published(event_type::signal).size() == 1);
  f.publish(tick_at("1.2"));
  f.stop(); // runs until idle first: the tick and its echo are handled
  CHECK(f.published(event_type::signal).size() == 2);
  CHECK(f.bus().stats().dropped == 0);
  CHECK(f.bus().stats().rejected == 0);
  CHECK_THROWS_AS(f.publish(tick_at("1.3")), std::runtime_error);
  CHECK_THAT(f.bus_log(), Catch::Contains("bus stopped"));
}

TEST_CASE("fixture: a burst of signals larger than the credit window, ticks behind it, runs to idle", "[testing]") {
  // The fixture's recorder takes every type: its SIGNALS ring fills (W = 16) with more waiting,
  // and the ticks wait behind them (strict priority). The broker once counted the ticks as
  // movable, woke itself forever and never let the recorder run: this hung on the coordinator.
  testing::fixture f;
  f.start();
  for (int i = 0; i < 40; ++i)
    f.publish(
      event::create(event_type::signal, "strategy.test", libra::signal{"EUR/USD", side::buy, 1.0, price::from_raw(i)}));
  for (int i = 0; i < 3; ++i)
    f.publish(tick_at("1.1"));
  REQUIRE(f.bus().wait_idle(5s));
  CHECK(f.published(event_type::signal).size() == 40);
  CHECK(f.published(event_type::tick).size() == 3);
  f.stop();
}
