// Rate-limited warnings (libra/log.hpp): the rule itself, and an actor that cannot publish (a
// stopped bus, as at the end of a shutdown under back-pressure) logging a bounded number of lines.
#include "../actors/io_fixture.hpp"

#include <libra/log.hpp>

#include <catch2/catch.hpp>

#include <regex>
#include <thread>

using namespace libra;
using namespace libra::testing;

TEST_CASE("log_limiter: occurrences 1..10, then powers of two, each with its count", "[runtime][log]") {
  log_limiter limiter;
  std::vector<std::uint64_t> logged;
  for (int i = 0; i < 100'000; ++i)
    if (const auto n = limiter.count())
      logged.push_back(n);
  CHECK(logged == std::vector<std::uint64_t>{1,  2,   3,   4,   5,    6,    7,    8,    9,     10,    16,   32,
                                             64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536});
  CHECK(limiter.total() == 100'000);
  CHECK_FALSE(worth_logging(0));
  CHECK(worth_logging(std::uint64_t{1} << 63));
  CHECK_FALSE(worth_logging((std::uint64_t{1} << 63) + 1));
}

TEST_CASE("an actor whose events the bus refuses logs a bounded number of warnings, with counts",
          "[runtime][log][actors]") {
  system_fixture fx;
  bus b{fx.sys, bus_config{}};
  REQUIRE(b.start());
  actor_registry registry;
  actors::register_builtin_actors(registry);
  auto fn = registry.find("execution.paper")
              ->factory(params::from_yaml("fee_rate: 0.0001\n", "test.yaml", "actors[0].params", "."));
  auto sink = std::make_shared<text_sink>();
  actor_context ctx;
  ctx.system = &fx.sys;
  ctx.bus = &b;
  ctx.name = "venue";
  ctx.source = source_id{"venue"};
  ctx.log = std::make_shared<spdlog::logger>("libra.venue", sink);
  auto venue = fn(ctx);
  b.stop(); // every publish is refused from now on, as at the end of a drain
  // 1024 market orders with no quote yet: each is rejected (no_market), and the rejection is not
  // published. 1024 is a power of two: its warning is the last one logged.
  constexpr int orders = 1024;
  for (int i = 1; i <= orders; ++i)
    caf::anon_send(venue, make_order(event_type::order_new, static_cast<std::uint64_t>(i)));
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (sink->text().find("occurrences=1024") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{5}); // polled with a deadline: the actor logs on its own
  const auto text = sink->text();
  const std::regex line{"not published: bus full or stopping"};
  const auto lines = std::distance(std::sregex_iterator(text.begin(), text.end(), line), std::sregex_iterator());
  CHECK(lines == 17); // 1..10, 16, 32, ..., 1024
  CHECK_THAT(text, Catch::Contains("type=ORDER_REJECTED occurrences=1024"));
  caf::anon_send_exit(venue, caf::exit_reason::user_shutdown);
}
