// gateway.journal as a user runs it: config/default.yaml journaled in deterministic mode, then
// config/backtest.yaml replaying that journal's market data into the same chain gives the same
// orders, fills and PnL, twice over identically; bad journals are refused before anything runs
// (exit 2, file:line) or stop the replay naming file and offset (exit 1); a torn tail ends it.
#include "../support/process.hpp"
#include "../support/temp_dir.hpp"
#include "default_topology.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

using libra::testing::child_process;
using libra::testing::run_output;
using libra::testing::run_process;
using libra::testing::summary_type_counts;
using libra::testing::temp_dir;
namespace fs = std::filesystem;

/// config/backtest.yaml staged in dir as `name`: the journal it reads, the recorder writing
/// `recorder`, and `extra` params appended to gateway.journal's.
std::string backtest_topology(const fs::path& dir, const fs::path& journal, const fs::path& recorder,
                              const std::string& name = "backtest.yaml") {
  auto text = libra::testing::read_text(fs::path{LIBRA_SOURCE_DIR} / "config/backtest.yaml");
  text = std::regex_replace(text, std::regex{"\\.\\./build/journal"}, journal.string());
  text = std::regex_replace(text, std::regex{"\\.\\./build/[a-z-]+\\.jsonl"}, recorder.string());
  const auto file = dir / name;
  std::ofstream{file} << text;
  return file.string();
}

/// A topology of one gateway.journal with these params (flow style) and nothing else.
std::string gateway_only(const temp_dir& dir, const std::string& params, const std::string& name = "gw.yaml") {
  return dir
    .write(name,
           "logging: {level: info}\nactors:\n  - name: gw\n    type: gateway.journal\n    params: {" + params + "}\n")
    .string();
}

/// The default topology journaled in deterministic mode to dir/journal (recorder: dir/events.jsonl).
run_output record_default(const fs::path& dir) {
  const auto topo = libra::testing::default_topology(dir);
  return run_process(
    {LIBRA_RUNTIME_BIN, topo, "--deterministic", "--journal", (dir / "journal").string(), "--no-progress"});
}

void flip_byte(const fs::path& file, std::uintmax_t at) {
  std::fstream f{file, std::ios::in | std::ios::out | std::ios::binary};
  f.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x10);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(&c, 1);
}

} // namespace

/// The summary lines that carry orders, fills and PnL.
std::string order_lines(const std::string& summary) {
  std::istringstream in{summary};
  std::string out;
  for (std::string line; std::getline(in, line);)
    for (const char* prefix : {"orders ", "position ", "PnL ", "failures "})
      if (line.rfind(prefix, 0) == 0) {
        out += line + "\n";
        break;
      }
  return out;
}

TEST_CASE("a deterministic run replayed through gateway.journal gives the same orders, fills and PnL",
          "[journal][process][replay]") {
  temp_dir dir;
  const auto recorded = record_default(dir.path());
  INFO(recorded.err);
  REQUIRE(recorded.rc == 0);
  const auto jdir = dir.path() / "journal";
  const auto recorded_events = libra::testing::read_text(dir.path() / "events.jsonl");
  REQUIRE_THAT(recorded_events, Catch::Contains("\"ORDER_FILLED\""));
  const auto summary = libra::testing::summary_trading_lines(recorded.out);
  REQUIRE_THAT(summary, Catch::Contains("PnL ") && Catch::Contains("orders ") && Catch::Contains("failures "));

  // run i of config/backtest.yaml in deterministic mode, journaled to a fresh directory or not.
  auto backtest = [&](int i, bool journaled) {
    const auto rec = dir.path() / ("backtest-" + std::to_string(i) + ".jsonl");
    const auto topo = backtest_topology(dir.path(), jdir, rec, "backtest-" + std::to_string(i) + ".yaml");
    std::vector<std::string> argv{LIBRA_RUNTIME_BIN, topo, "--deterministic", "--no-progress"};
    if (journaled) {
      argv.emplace_back("--journal");
      argv.push_back((dir.path() / ("journal-" + std::to_string(i))).string());
    }
    auto r = run_process(argv);
    INFO("backtest " << i << ": " << r.err);
    REQUIRE(r.rc == 0);
    CHECK_THAT(r.err, Catch::Contains("end of journal: "));
    return std::pair{r.out, libra::testing::read_text(rec)};
  };

  SECTION("as recorded (journaled too): the same event stream, byte for byte, twice over") {
    // In deterministic mode the subscribers are part of the input: the journal is one, so the
    // backtest journals too for every event (position marks included) to come out the same.
    const auto [out0, events0] = backtest(0, true);
    // The same market gives the same decisions: every SIGNAL, order, fill, position and risk
    // event with its time, sequence and trace ids (the recorder's lines), and the summary.
    CHECK(libra::testing::summary_trading_lines(out0) == summary);
    CHECK(events0 == recorded_events);
    const auto [out1, events1] = backtest(1, true);
    CHECK(libra::testing::summary_trading_lines(out1) == libra::testing::summary_trading_lines(out0));
    CHECK(events1 == events0);
  }
  SECTION("config/backtest.yaml as shipped (no journal): the same orders, fills and PnL, twice over") {
    const auto [out0, events0] = backtest(0, false);
    CHECK(order_lines(out0) == order_lines(recorded.out));
    const auto [out1, events1] = backtest(1, false);
    CHECK(libra::testing::summary_trading_lines(out1) == libra::testing::summary_trading_lines(out0));
    CHECK(events1 == events0);
  }
}

TEST_CASE("gateway.journal: types, instruments and speed", "[journal][process][replay]") {
  temp_dir dir;
  const auto recorded = record_default(dir.path());
  REQUIRE(recorded.rc == 0);
  const auto jdir = dir.path() / "journal";
  const auto original = summary_type_counts(recorded.out);
  REQUIRE(original.at("TICK") > 1000);

  SECTION("types: all replays every recorded event, plus this gateway's own CONNECTED/DISCONNECTED") {
    // Deterministic: its bursts of ORDERS and SIGNALS (more than credit_window at once) once spun
    // the broker there.
    const auto r = run_process({LIBRA_RUNTIME_BIN, gateway_only(dir, "dir: " + jdir.string() + ", types: all"),
                                "--deterministic", "--no-progress"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    auto expected = original;
    ++expected["GATEWAY_CONNECTED"];
    ++expected["GATEWAY_DISCONNECTED"];
    CHECK(summary_type_counts(r.out) == expected);
  }
  SECTION("the default is the market data: TICK only from this journal") {
    const auto r = run_process({LIBRA_RUNTIME_BIN, gateway_only(dir, "dir: " + jdir.string()), "--no-progress"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    const auto counts = summary_type_counts(r.out);
    CHECK(counts.at("TICK") == original.at("TICK"));
    CHECK(counts.count("SIGNAL") == 0);
    CHECK(counts.count("ORDER_FILLED") == 0);
  }
  SECTION("an instruments filter that matches nothing replays nothing") {
    const auto r = run_process(
      {LIBRA_RUNTIME_BIN, gateway_only(dir, "dir: " + jdir.string() + ", instruments: [GBP/USD]"), "--no-progress"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK(summary_type_counts(r.out).count("TICK") == 0);
    CHECK_THAT(r.err, Catch::Contains(", 0 replayed"));
  }
  SECTION("params checked like any actor's: an unknown key") {
    const auto r =
      run_process({LIBRA_RUNTIME_BIN, gateway_only(dir, "dir: " + jdir.string() + ", sped: 2"), "--check"});
    INFO(r.err);
    CHECK(r.rc == 2);
    CHECK_THAT(r.err, Catch::Contains("actors[0].params.sped: unknown key"));
  }
  SECTION("speed: a factor on the recorded pace, in deterministic mode") {
    // The 9,500 ticks span 6 hours of event time: at x1e6, 22 ms of (wall-clock) delays.
    const auto r = run_process({LIBRA_RUNTIME_BIN,
                                gateway_only(dir, "dir: " + jdir.string() + ", speed: 1000000, instruments: [EUR/USD]"),
                                "--deterministic", "--no-progress"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK(summary_type_counts(r.out).at("TICK") == original.at("TICK"));
  }
}

TEST_CASE("gateway.journal refuses a bad journal directory before anything runs", "[journal][process][replay]") {
  temp_dir dir;
  fs::create_directories(dir.path() / "empty");
  const auto file = dir.write("a-file", "not a journal\n");
  const auto stray = dir.path() / "stray";
  fs::create_directories(stray);
  std::ofstream{stray / "00000001.journal", std::ios::binary} << std::string(100, 'x');
  // A journal of SIGNALs only (none made: the segment has its header and no record).
  const auto signals = dir.path() / "signals";
  const auto rec = dir.write("rec.yaml", "journal: {dir: " + signals.string()
                                           + ", types: [SIGNAL]}\nactors:\n  - {name: gw, type: gateway.synthetic, "
                                             "params: {instrument: EUR/USD, count: 10}}\n");
  REQUIRE(run_process({LIBRA_RUNTIME_BIN, rec.string(), "--no-progress"}).rc == 0);
  struct bad_case {
    std::string params;
    std::string message;
  };
  const std::vector<bad_case> cases{
    {"dir: " + (dir.path() / "nope").string(), "does not exist"},
    {"dir: " + file.string(), "is not a directory"},
    {"dir: " + (dir.path() / "empty").string(), "holds no journal segment"},
    {"dir: " + stray.string(), "bad journal segment: " + (stray / "00000001.journal").string() + ":0: "},
    {"dir: " + dir.path().string() + ", speed: fast", "actors[0].params.speed: expected `max`, `recorded` or a factor"},
    {"dir: " + dir.path().string() + ", speed: -1", "actors[0].params.speed: expected `max`, `recorded` or a factor"},
    {"dir: " + dir.path().string() + ", types: some", "actors[0].params.types: expected `all` or a list"},
    {"dir: " + dir.path().string() + ", types: [TICKS]", "unknown event type 'TICKS'"},
    {"dir: [a, b]", "actors[0].params.dir: expected a string"},
    {"dir: " + signals.string(), "actors[0].params.dir: the journal '" + signals.string()
                                   + "' records none of TICK, BAR, ORDER_BOOK (it records "
                                     "SIGNAL)"},
    {"types: all", "actors[0].params.dir: missing required key"},
  };
  for (const auto& c : cases) {
    const auto topo = gateway_only(dir, c.params, "bad.yaml");
    for (const bool check : {true, false}) {
      auto argv = std::vector<std::string>{LIBRA_RUNTIME_BIN, topo};
      if (check)
        argv.emplace_back("--check");
      const auto r = run_process(argv);
      INFO(c.params << (check ? " (--check)" : "") << ": " << r.err);
      CHECK(r.rc == 2);
      // file:line:column: key.path: what
      CHECK(std::regex_search(r.err, std::regex{std::regex_replace(topo, std::regex{R"([.^$|()\[\]{}*+?\\])"}, R"(\$&)")
                                                + ":[0-9]+:[0-9]+: actors\\[0\\]\\.params"}));
      CHECK_THAT(r.err, Catch::Contains(c.message));
      CHECK(r.out.find("events by type") == std::string::npos); // nothing ran
    }
  }
}

TEST_CASE("gateway.journal stops at a corrupt record naming file and offset, a torn tail ends it",
          "[journal][process][replay][corrupt]") {
  temp_dir dir;
  REQUIRE(record_default(dir.path()).rc == 0);
  const auto jdir = dir.path() / "journal";
  const auto seg = jdir / "00000001.journal";
  const auto size = fs::file_size(seg);
  const auto topo = gateway_only(dir, "dir: " + jdir.string());

  SECTION("a flipped byte: exit 1, the same file:offset as libra-journal verify") {
    flip_byte(seg, size / 2);
    const auto v = run_process({LIBRA_JOURNAL_BIN, "verify", jdir.string()});
    REQUIRE(v.rc == 1);
    std::smatch where;
    REQUIRE(std::regex_search(v.err, where, std::regex{seg.string() + ":[0-9]+: "}));
    for (const bool deterministic : {false, true}) {
      auto argv = std::vector<std::string>{LIBRA_RUNTIME_BIN, topo, "--no-progress"};
      if (deterministic)
        argv.emplace_back("--deterministic");
      const auto r = run_process(argv);
      INFO(r.err);
      CHECK(r.rc == 1);
      CHECK_THAT(r.err, Catch::Contains("journal corrupt: " + where.str()));
      CHECK_THAT(r.out, Catch::Contains("journal corrupt: " + where.str())); // the summary's reason
      // Up to it, the replay went on: some ticks went out.
      const auto counts = summary_type_counts(r.out);
      CHECK(counts.count("TICK") == 1);
    }
  }
  SECTION("a torn tail: a warning, the replay ends at the last whole record, exit 0") {
    fs::resize_file(seg, size - 7);
    const auto r = run_process({LIBRA_RUNTIME_BIN, topo, "--deterministic", "--no-progress"});
    INFO(r.err);
    CHECK(r.rc == 0);
    CHECK(std::regex_search(r.err, std::regex{"journal torn tail .*" + seg.string() + ":[0-9]+: torn tail"}));
    CHECK_THAT(r.err, Catch::Contains("end of journal (torn tail)"));
    CHECK(summary_type_counts(r.out).at("TICK") > 1000);
  }
}
