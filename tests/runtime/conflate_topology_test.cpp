// `conflate: by_instrument` on an actor of a topology: the runtime hands it to the actor
// (actor_context::conflate) and actor_type<T> subscribes T's TICK, BAR and ORDER_BOOK with it.
#include "../support/in_process_run.hpp"
#include "../support/process.hpp"
#include "../support/temp_dir.hpp"

#include <builtin.hpp>
#include <libra/libra.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace {

/// A strategy that cannot keep up: 200 us of work per tick.
struct cfl_slow_ticks {
  static constexpr libra::actor_spec spec{.name = "test.slow_ticks", .description = "200 us per tick"};
  explicit cfl_slow_ticks(const libra::params& /*unused*/) {}
  [[nodiscard]] std::vector<libra::subscription> subscriptions() const { return {{libra::event_type::tick}}; }
  void on_event(libra::context& /*unused*/, const libra::event& /*unused*/) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds{200};
    while (std::chrono::steady_clock::now() < until) {
    }
    ++seen;
  }
  void on_exit(libra::context& ctx) const { ctx.log().info("ticks seen: {}", seen); }
  std::uint64_t seen = 0;
};

std::string cfl_gateways() {
  std::string out;
  int seed = 0;
  for (const char* inst : {"EUR/USD", "GBP/USD", "USD/JPY"}) {
    ++seed;
    const auto n = std::to_string(seed);
    out += "  - {name: gw" + n + ", type: gateway.synthetic, params: {instrument: " + inst
           + ", rate: 0, count: 3000, seed: " + n + "}}\n";
  }
  return out;
}

libra::actor_registry cfl_registry() {
  libra::actor_registry r;
  libra::actors::register_builtin_actors(r);
  libra::add_actor<cfl_slow_ticks>(r);
  return r;
}

} // namespace

TEST_CASE("topology: a slow actor with conflate: by_instrument skips stale ticks, and the run accounts for them",
          "[runtime][topology][conflation]") {
  libra::testing::temp_dir dir;
  auto registry = cfl_registry();
  const auto file = dir.write("c.yaml", "bus: {capacity: 100000}\nactors:\n" + cfl_gateways()
                                          + "  - {name: slow, type: test.slow_ticks, conflate: by_instrument}\n");
  const auto topo = libra::core::load_topology(file, registry);
  REQUIRE(topo.actors.back().conflate == libra::conflation::by_instrument);
  const auto run = libra::testing::run_in_process(topo, dir.path() / "summary.txt");
  INFO(run.summary);
  CHECK(run.rc == 0);
  // 9,000 ticks at 200 us each would take 1.8 s; behind, it got the newest per instrument instead.
  const auto conflated = libra::testing::summary_field(run.summary, "conflated");
  REQUIRE(conflated != UINT64_MAX);
  CHECK(conflated > 0);
  CHECK(conflated < 9000);
  CHECK(libra::testing::summary_field(run.summary, "dropped") == 0);
  CHECK(libra::testing::summary_field(run.summary, "published")
        == libra::testing::summary_field(run.summary, "dispatched"));
}

TEST_CASE("topology: conflate: names a known choice, on an actor that subscribes", "[runtime][topology][input]") {
  libra::testing::temp_dir dir;
  auto registry = cfl_registry();
  auto refused = [&](const std::string& actors, const std::string& message) {
    const auto file = dir.write("bad.yaml", "actors:\n" + cfl_gateways() + actors);
    INFO(actors);
    try {
      (void)libra::core::load_topology(file, registry);
      FAIL("accepted");
    } catch (const libra::config_error& e) {
      CHECK_THAT(std::string{e.what()}, Catch::Contains(message));
      CHECK(e.file() == file.string());
      CHECK(e.line() > 3); // the actor's own line, after the three gateways
    }
  };
  refused("  - {name: slow, type: test.slow_ticks, conflate: sometimes}\n", "by_instrument");
  refused("  - {name: gw9, type: gateway.synthetic, conflate: by_instrument, params: {instrument: X}}\n",
          "is a producer");
  // Without the key nothing changes.
  const auto file = dir.write("ok.yaml", "actors:\n" + cfl_gateways() + "  - {name: slow, type: test.slow_ticks}\n");
  CHECK(libra::core::load_topology(file, registry).actors.back().conflate == libra::conflation::none);
}
