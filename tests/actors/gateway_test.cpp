// gateway.replay and gateway.synthetic through the registry, on a real actor system and bus (as
// libra-runtime runs them): what they publish, the finished()/failed() contract, bad rows, halt,
// pacing, back-pressure, and param validation. Multi-threaded; waits use the harness (no sleeps).
#include "io_fixture.hpp"

#include <gateway/register.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace libra;
using namespace libra::testing;
using namespace std::chrono_literals;

namespace {

const std::string histdata_rows = "20200101 170000065,1.121200,1.121720,0\n"
                                  "20200101 170010447,1.121200,1.121920,0\n"
                                  "20200101 170011000,1.121210,1.121920,0\n"
                                  "20200101 170011000,1.121220,1.121900,0\n"
                                  "20200101 170012500,1.121230,1.121950,0\n";

std::string replay_yaml(const std::filesystem::path& file, const std::string& extra = "") {
  return fmt::format("file: {}\nformat: histdata_ticks\ninstrument: EUR/USD\n{}", file.string(), extra);
}

const std::initializer_list<event_type> gateway_types{event_type::gateway_connected, event_type::tick,
                                                      event_type::gateway_disconnected};

} // namespace

TEST_CASE("gateways: the family registers its types under their specs' names, as producers", "[actors][gateway]") {
  actor_registry registry;
  actors::register_gateway_actors(registry);
  CHECK(registry.types() == std::vector<std::string>{"gateway.journal", "gateway.replay", "gateway.synthetic"});
  for (const auto& name : registry.types()) {
    CHECK(registry.find(name)->producer);
    CHECK_FALSE(registry.find(name)->description.empty());
  }
  CHECK_THROWS_AS(actors::register_gateway_actors(registry), std::invalid_argument); // names are taken
}

TEST_CASE("replay: the file is opened at spawn: one gone since the check refuses the start",
          "[actors][gateway][replay]") {
  temp_dir dir;
  io_harness h;
  const auto file = dir.write("q.csv", histdata_rows);
  const auto spawn = io_type("gateway.replay").factory(make_params(replay_yaml(file), dir.path()));
  std::filesystem::remove(file);
  actor_context ctx;
  ctx.system = &h.sys;
  ctx.bus = &h.b;
  ctx.name = "gw.test";
  ctx.source = source_id{"gw.test"};
  ctx.log = std::make_shared<spdlog::logger>("libra.gw.test");
  CHECK_THROWS_WITH(spawn(ctx), Catch::Contains(file.string() + ": cannot open"));
}

TEST_CASE("replay: every row becomes a TICK with the file's time in UTC, between CONNECTED and DISCONNECTED",
          "[actors][gateway][replay]") {
  temp_dir dir;
  io_harness h;
  auto got = h.collect(gateway_types);
  auto gw = h.spawn("gateway.replay", make_params(replay_yaml(dir.write("q.csv", histdata_rows)), dir.path()));
  REQUIRE(h.b.start());
  caf::anon_send(gw, run_atom::value);
  REQUIRE(h.wait_end().empty());
  REQUIRE(got->wait(7));
  REQUIRE_IDLE(h.b);
  const auto events = got->events();
  REQUIRE(events.size() == 7);
  // One publisher, one priority (system notices are market data): FIFO.
  CHECK(events.front().type() == event_type::gateway_connected);
  CHECK(events.back().type() == event_type::gateway_disconnected);
  CHECK(events.back().get<libra::system>().component == "gw.test");
  const auto ticks = of_type(events, event_type::tick);
  REQUIRE(ticks.size() == 5);
  const auto& first = ticks.front();
  CHECK(first.time() == std::chrono::sys_days{2020y / 1 / 1} + 22h + 65ms);
  CHECK(first.source() == "gw.test");
  const auto& t = first.get<tick>();
  CHECK(t.instrument == "EUR/USD");
  CHECK(t.bid.to_string() == "1.1212");
  CHECK(t.ask.to_string() == "1.12172");
  CHECK(t.bid_size.is_zero());
  CHECK(t.ask_size.is_zero());
  CHECK(t.last.is_zero());
  CHECK(ticks.back().time() == std::chrono::sys_days{2020y / 1 / 1} + 22h + 12s + 500ms);
  for (std::size_t i = 1; i < ticks.size(); ++i)
    CHECK(ticks[i - 1].time() <= ticks[i].time());
  CHECK_THAT(h.log_text(), Catch::Contains("rows=5 published=5 skipped=0"));
  // finished() exactly once, also when halt comes after the end.
  h.send_then_end(gw, halt_atom::value);
  CHECK(h.finished_calls() == 1);
  CHECK(h.failed_calls() == 0);
}

TEST_CASE("replay: TrueFX rows, with and without a fraction of a second", "[actors][gateway][replay]") {
  temp_dir dir;
  io_harness h;
  auto got = h.collect({event_type::tick});
  const auto file = dir.write("usdjpy.csv", "timestamp,bid,ask\n"
                                            "2013-01-01 22:00:00.295000+00:00,86.655,86.728\n"
                                            "2013-01-01 22:09:27+00:00,86.668,86.698\n");
  auto gw = h.spawn(
    "gateway.replay",
    make_params(fmt::format("file: {}\nformat: truefx_ticks\ninstrument: USD/JPY\n", file.string()), dir.path()));
  REQUIRE(h.b.start());
  caf::anon_send(gw, run_atom::value);
  REQUIRE(h.wait_end().empty());
  REQUIRE_IDLE(h.b);
  const auto ticks = got->events();
  REQUIRE(ticks.size() == 2);
  CHECK(ticks[1].time() == std::chrono::sys_days{2013y / 1 / 1} + 22h + 9min + 27s);
  CHECK(ticks[1].get<tick>().instrument == "USD/JPY");
}

TEST_CASE("replay: the real EUR/USD file through a small bus: every row published, refusals retried",
          "[actors][gateway][replay][data]") {
  const std::filesystem::path file{LIBRA_SOURCE_DIR "/data/eurusd_quotes_histdata_20200101.csv"};
  if (!std::filesystem::exists(file)) {
    WARN("no " << file << ": skipped");
    return;
  }
  bus_config cfg;
  cfg.capacity = 64; // far below the file's 9,500 rows: the gateway must wait for the bus
  io_harness h{cfg};
  auto got = h.collect({event_type::tick});
  temp_dir dir;
  auto gw = h.spawn("gateway.replay", make_params(replay_yaml(file), dir.path()));
  REQUIRE(h.b.start());
  caf::anon_send(gw, run_atom::value);
  REQUIRE(h.wait_end().empty());
  REQUIRE(got->wait(9500));
  REQUIRE_IDLE(h.b);
  CHECK(got->size() == 9500);
  const auto s = h.b.stats();
  CHECK(s.dropped_of(priority::market_data) == 0);
  CHECK_THAT(h.log_text(), Catch::Contains("rows=9500 published=9500 skipped=0"));
  CHECK_THAT(h.log_text(), !Catch::Contains("retries=0"));
  const auto events = got->events();
  CHECK(events.front().time() == std::chrono::sys_days{2020y / 1 / 1} + 22h + 65ms);
  CHECK(events.back().time() == std::chrono::sys_days{2020y / 1 / 2} + 4h + 52s + 125ms);
}

TEST_CASE("replay: a bad row stops the run with file:line (on_bad_row: error)", "[actors][gateway][replay]") {
  temp_dir dir;
  io_harness h;
  auto got = h.collect(gateway_types);
  const auto file = dir.write("bad.csv", "20200101 170000065,1.121200,1.121720,0\n"
                                         "20200101 170000066,1.121200,1.121720,0\n"
                                         "20200101 170000067,1.121900,1.121720,0\n"
                                         "20200101 170000068,1.121200,1.121720,0\n");
  auto gw = h.spawn("gateway.replay", make_params(replay_yaml(file, "on_bad_row: error\n"), dir.path()));
  REQUIRE(h.b.start());
  caf::anon_send(gw, run_atom::value);
  const auto expected = file.string() + ":3: crossed quote: bid 1.121900 is above ask 1.121720";
  CHECK(h.wait_end() == "failed: " + expected);
  REQUIRE_IDLE(h.b);
  const auto events = got->events();
  CHECK(of_type(events, event_type::tick).size() == 2); // stopped at the bad row
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().type() == event_type::gateway_disconnected);
  CHECK_THAT(h.log_text(), Catch::Contains("[error] bad row: " + expected));
  h.send_then_end(gw, halt_atom::value);
  CHECK(h.failed_calls() == 1);
  CHECK(h.finished_calls() == 0);
}

TEST_CASE("replay: bad rows are counted and skipped (on_bad_row: skip)", "[actors][gateway][replay]") {
  temp_dir dir;
  io_harness h;
  auto got = h.collect({event_type::tick});
  std::string text;
  for (int i = 0; i < 40; ++i) // every other row is bad
    text += fmt::format("20200101 1700{:02}000,1.1212,1.1217,0\n20200101 1700{:02}500,bad,1.1217,0\n", i, i);
  // The truncated last line is the 41st bad row.
  const auto file = dir.write("mixed.csv", text + "20200101 170100000,1.1212,1.1217");
  auto gw = h.spawn("gateway.replay", make_params(replay_yaml(file, "on_bad_row: skip\n"), dir.path()));
  REQUIRE(h.b.start());
  caf::anon_send(gw, run_atom::value);
  REQUIRE(h.wait_end().empty());
  REQUIRE_IDLE(h.b);
  CHECK(got->size() == 40);
  const auto log = h.log_text();
  CHECK_THAT(log, Catch::Contains("rows=40 published=40 skipped=41"));
  CHECK_THAT(log,
             Catch::Contains("skipped bad row (1 so far): " + file.string() + ":2: bid 'bad' is not a decimal number"));
  CHECK_THAT(log, Catch::Contains("(32 so far)"));
  CHECK_THAT(log, !Catch::Contains("(11 so far)")); // rate-limited
}

TEST_CASE("replay: limit caps the rows", "[actors][gateway][replay]") {
  temp_dir dir;
  io_harness h;
  auto got = h.collect({event_type::tick});
  auto gw =
    h.spawn("gateway.replay", make_params(replay_yaml(dir.write("q.csv", histdata_rows), "limit: 3\n"), dir.path()));
  REQUIRE(h.b.start());
  caf::anon_send(gw, run_atom::value);
  REQUIRE(h.wait_end().empty());
  REQUIRE_IDLE(h.b);
  CHECK(got->size() == 3);
}

TEST_CASE("replay: speed paces the file's time gaps", "[actors][gateway][replay][pacing]") {
  temp_dir dir;
  io_harness h;
  auto got = h.collect({event_type::tick});
  // 12.435 s of file time at speed 50: at least 0.249 s.
  auto gw =
    h.spawn("gateway.replay", make_params(replay_yaml(dir.write("q.csv", histdata_rows), "speed: 50\n"), dir.path()));
  REQUIRE(h.b.start());
  const auto started = std::chrono::steady_clock::now();
  caf::anon_send(gw, run_atom::value);
  REQUIRE(h.wait_end().empty());
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(took >= 12435ms / 50);
  REQUIRE_IDLE(h.b);
  CHECK(got->size() == 5);
}

TEST_CASE("replay: halt stops a paced replay, finished() once, after GATEWAY_DISCONNECTED",
          "[actors][gateway][replay][halt]") {
  temp_dir dir;
  io_harness h;
  auto got = h.collect(gateway_types);
  // speed 0.001: the second row is due in hours.
  auto gw = h.spawn("gateway.replay",
                    make_params(replay_yaml(dir.write("q.csv", histdata_rows), "speed: 0.001\n"), dir.path()));
  REQUIRE(h.b.start());
  caf::anon_send(gw, run_atom::value);
  REQUIRE(got->wait(2)); // CONNECTED, first tick
  caf::anon_send(gw, halt_atom::value);
  REQUIRE(h.wait_end().empty());
  REQUIRE_IDLE(h.b);
  const auto events = got->events();
  REQUIRE(events.size() == 3);
  CHECK(events.back().type() == event_type::gateway_disconnected);
  CHECK_THAT(h.log_text(), Catch::Contains("gateway stopped (halted): rows=2 published=1"));
  h.send_then_end(gw, halt_atom::value);
  CHECK(h.finished_calls() == 1);
}

TEST_CASE("replay: halt before run finishes without announcing anything", "[actors][gateway][replay][halt]") {
  temp_dir dir;
  io_harness h;
  auto got = h.collect(gateway_types);
  auto gw = h.spawn("gateway.replay", make_params(replay_yaml(dir.write("q.csv", histdata_rows)), dir.path()));
  REQUIRE(h.b.start());
  caf::anon_send(gw, halt_atom::value);
  REQUIRE(h.wait_end().empty());
  h.send_then_end(gw, run_atom::value); // too late: stays stopped
  REQUIRE_IDLE(h.b);
  CHECK(got->size() == 0);
  CHECK(h.finished_calls() == 1);
}

TEST_CASE("replay: params are validated by the factory, located", "[actors][gateway][replay][params]") {
  temp_dir dir;
  const auto file = dir.write("q.csv", histdata_rows);
  auto error_of = [&](const std::string& yaml) { return factory_error("gateway.replay", yaml, dir.path()); };
  CHECK_THAT(error_of("format: histdata_ticks\ninstrument: EUR/USD\n"), Catch::Contains("file: missing required key"));
  CHECK_THAT(error_of(replay_yaml(dir.path() / "nope.csv")), Catch::Contains("actors[0].params.file"));
  CHECK_THAT(error_of(fmt::format("file: {}\nformat: csv\ninstrument: EUR/USD\n", file.string())),
             Catch::Contains("actors[0].params.format"));
  CHECK_THAT(
    error_of(fmt::format("file: {}\ninstrument: ABCDEFGHIJKLMNOP\n", file.string())),
    Catch::Contains("instrument: 'ABCDEFGHIJKLMNOP' has 16 bytes (16 characters); a name has at most 15 bytes"));
  CHECK_THAT(error_of(replay_yaml(file, "speed: -1\n")), Catch::Contains("actors[0].params.speed"));
  CHECK_THAT(error_of(replay_yaml(file, "on_bad_row: ignore\n")), Catch::Contains("actors[0].params.on_bad_row"));
  CHECK_THAT(error_of(replay_yaml(file, "limit: 0\n")), Catch::Contains("actors[0].params.limit"));
  // The wrong format shows on the first row, at check time.
  CHECK_THAT(error_of(fmt::format("file: {}\nformat: truefx_ticks\ninstrument: EUR/USD\n", file.string())),
             Catch::Contains("format: " + file.string() + ":1: expected the header 'timestamp,bid,ask'")
               && Catch::Contains("is the file in truefx_ticks format?"));
  // An empty file (or one with only blank lines) is a mistake, not an instant end of data.
  const auto empty = dir.write("empty.csv", "");
  CHECK_THAT(error_of(replay_yaml(empty)), Catch::Contains("file: '" + empty.string() + "' has no data rows"));
  CHECK_THAT(error_of(replay_yaml(empty, "on_bad_row: skip\n")), Catch::Contains("is empty"));
  CHECK_THAT(error_of(replay_yaml(dir.write("blank.csv", "\n\n"))), Catch::Contains("has no data rows"));
  // Relative paths are resolved against the topology's directory; all keys are read.
  auto p = make_params("file: q.csv\nformat: histdata_ticks\ninstrument: EUR/USD\nspeed: 2\non_bad_row: skip\n"
                       "limit: 10\n",
                       dir.path());
  CHECK(io_type("gateway.replay").factory(p));
  CHECK(p.unread().empty());
}

TEST_CASE("synthetic: seeded quotes, count, the same seed gives the same prices", "[actors][gateway][synthetic]") {
  const std::string yaml =
    "instrument: BTC/USD\nseed: 42\nrate: 0\ncount: 1000\nstart_price: 100.5\ntick_size: 0.5\nspread: 1\n";
  auto run_once = [&] {
    temp_dir dir;
    io_harness h;
    auto got = h.collect(gateway_types);
    auto gw = h.spawn("gateway.synthetic", make_params(yaml, dir.path()), "gw.synth");
    REQUIRE(h.b.start());
    caf::anon_send(gw, run_atom::value);
    REQUIRE(h.wait_end().empty());
    REQUIRE_IDLE(h.b);
    CHECK(h.finished_calls() == 1);
    return got->events();
  };
  const auto a = run_once();
  const auto b = run_once();
  REQUIRE(a.size() == 1002);
  REQUIRE(b.size() == 1002);
  CHECK(a.front().type() == event_type::gateway_connected);
  CHECK(a.back().type() == event_type::gateway_disconnected);
  bool moved = false;
  for (std::size_t i = 1; i + 1 < a.size(); ++i) {
    const auto& x = a[i].get<tick>();
    const auto& y = b[i].get<tick>();
    CHECK(x.bid == y.bid);
    CHECK((x.ask - x.bid).to_string() == "1");
    CHECK(x.bid.raw() > 0);
    CHECK(x.bid.raw() % 500'000'000 == 0); // on the tick grid (start 100.5 - spread/2 = 100)
    CHECK(x.instrument == "BTC/USD");
    CHECK(a[i].source() == "gw.synth");
    moved = moved || x.bid != a[1].get<tick>().bid;
  }
  CHECK(moved);
}

TEST_CASE("synthetic: count 0 runs until halted", "[actors][gateway][synthetic][halt]") {
  temp_dir dir;
  io_harness h;
  auto got = h.collect({event_type::tick});
  auto gw = h.spawn("gateway.synthetic", make_params("instrument: EUR/USD\nrate: 2000\n", dir.path()));
  REQUIRE(h.b.start());
  caf::anon_send(gw, run_atom::value);
  REQUIRE(got->wait(20));
  caf::anon_send(gw, halt_atom::value);
  REQUIRE(h.wait_end().empty());
  h.send_then_end(gw, halt_atom::value);
  CHECK(h.finished_calls() == 1);
  CHECK_THAT(h.log_text(), Catch::Contains("gateway stopped (halted)"));
}

TEST_CASE("synthetic: params are validated by the factory", "[actors][gateway][synthetic][params]") {
  temp_dir dir;
  auto error_of = [&](const std::string& yaml) { return factory_error("gateway.synthetic", yaml, dir.path()); };
  CHECK_THAT(error_of("seed: 1\n"), Catch::Contains("instrument: missing required key"));
  CHECK_THAT(error_of("instrument: X\nseed: -1\n"), Catch::Contains("seed: expected a non-negative integer"));
  CHECK_THAT(error_of("instrument: X\nrate: -5\n"), Catch::Contains("actors[0].params.rate"));
  CHECK_THAT(error_of("instrument: X\nstart_price: abc\n"), Catch::Contains("start_price: expected a plain decimal"));
  CHECK_THAT(error_of("instrument: X\ntick_size: 0\n"), Catch::Contains("tick_size: must be above 0"));
  CHECK_THAT(error_of("instrument: X\nspread: -0.1\n"), Catch::Contains("spread: must be at least 0"));
  CHECK_THAT(error_of("instrument: X\nstart_price: 0.0001\nspread: 0.001\n"),
             Catch::Contains("start_price: must leave the bid"));
  auto p = make_params(
    "instrument: X\nseed: 7\nrate: 10\ncount: 5\nstart_price: 1.1\ntick_size: 0.00001\nspread: 0.0001\n", dir.path());
  CHECK(io_type("gateway.synthetic").factory(p));
  CHECK(p.unread().empty());
}
