// libra-runtime --journal and libra-journal as a user runs them: the default topology journaled,
// verified and traced; corrupt journals reported with file:offset; runs killed with SIGKILL at
// random moments leave a journal that verifies up to its last complete record, and the next run
// appends cleanly.
#include "../support/eventually.hpp"
#include "../support/process.hpp"
#include "../support/temp_dir.hpp"
#include "default_topology.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>

namespace {

using libra::testing::child_process;
using libra::testing::run_output;
using libra::testing::run_process;

using libra::testing::default_topology;
using libra::testing::temp_dir;

run_output journal_tool(std::vector<std::string> args) {
  args.insert(args.begin(), LIBRA_JOURNAL_BIN);
  return run_process(std::move(args));
}

std::uintmax_t journal_size(const std::filesystem::path& dir) {
  std::uintmax_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator{dir, ec})
    if (e.path().extension() == ".journal")
      n += e.file_size(ec);
  return n;
}

/// A synthetic-gateway topology through the full chain, journaling to dir.
std::filesystem::path stress_topology(const std::filesystem::path& where, const std::filesystem::path& journal,
                                      std::uint64_t count) {
  const auto file = where / ("stress-" + std::to_string(count) + ".yaml");
  std::ofstream out{file};
  out << "bus: {capacity: 20000, credit_window: 16, batch_size: 8, drain_timeout_ms: 5000}\n"
      << "runtime: {workers: 2}\n"
      << "logging: {level: warn}\n"
      << "journal: {dir: " << journal.string() << ", segment_mb: 1}\n"
      << "actors:\n"
      << "  - {name: gw, type: gateway.synthetic, params: {instrument: EUR/USD, seed: 7, rate: 0, count: " << count
      << ", start_price: 1.1212, tick_size: 0.00001, spread: 0.0001}}\n"
      << "  - {name: strategy, type: strategy.sma_cross, params: {fast: 5, slow: 20}}\n"
      << "  - {name: risk, type: risk.engine, params: {execution: venue, order_quantity: 1000, max_position: 3000, "
         "max_orders_per_second: 1000000, capital: 1000000, drawdown_warning: 0.05, drawdown_halt: 0.10}}\n"
      << "  - {name: venue, type: execution.paper}\n"
      << "  - {name: positions, type: position.manager}\n";
  return file;
}

} // namespace

TEST_CASE("the default topology journaled, verified and traced from a fill", "[journal][process]") {
  temp_dir dir;
  const auto jdir = dir.path() / "journal";
  const auto topo = default_topology(dir.path());
  const auto stats = dir.path() / "stats.jsonl";
  auto r =
    run_process({LIBRA_RUNTIME_BIN, topo, "--journal", jdir.string(), "--no-progress", "--stats-json", stats.string()});
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK_THAT(r.out, Catch::Contains("journal            " + jdir.string() + ": records "));
  const auto published = libra::testing::summary_field(r.out, "published");
  const auto records = libra::testing::summary_field(r.out, "records");
  CHECK(records == published); // every event admitted is in the journal
  {
    std::ifstream in{stats};
    std::string last;
    for (std::string line; std::getline(in, line);)
      last = line;
    CHECK_THAT(last,
               Catch::Contains("\"journal\":{\"dir\":") && Catch::Contains("\"records\":" + std::to_string(records)));
  }

  auto v = journal_tool({"verify", jdir.string()});
  INFO(v.err);
  CHECK(v.rc == 0);
  CHECK(v.err.empty()); // no gap, no record out of admission order
  CHECK_THAT(v.out, Catch::Contains(": OK (1 segments") && Catch::Contains(std::to_string(records) + " records)"));

  auto fills = journal_tool({"cat", jdir.string(), "--type", "ORDER_FILLED", "--json"});
  REQUIRE(fills.rc == 0);
  std::smatch m;
  REQUIRE(std::regex_search(fills.out, m, std::regex{R"re("trace_id":"([0-9a-f]{32})")re"}));
  const auto trace = m[1].str();
  CHECK_THAT(fills.out, Catch::Contains(R"("type":"ORDER_FILLED")") && !Catch::Contains(R"("type":"TICK")"));

  auto t = journal_tool({"trace", jdir.string(), trace});
  INFO(t.out);
  REQUIRE(t.rc == 0);
  // The chain, indented by stage: tick, signal, order, fill, position.
  CHECK(std::regex_search(t.out, std::regex{"\nTICK #[0-9]+ "}));
  CHECK(std::regex_search(t.out, std::regex{"\n  SIGNAL #"}));
  CHECK(std::regex_search(t.out, std::regex{"\n    ORDER_NEW #"}));
  CHECK(std::regex_search(t.out, std::regex{"\n      ORDER_FILLED #"}));
  CHECK(std::regex_search(t.out, std::regex{"\n        POSITION_(OPENED|UPDATED|CLOSED) #"}));

  auto st = journal_tool({"stats", jdir.string()});
  CHECK(st.rc == 0);
  CHECK_THAT(st.out, Catch::Contains("records   " + std::to_string(records)) && Catch::Contains("TICK="));

  // A second run appends: a second segment, a second run id.
  REQUIRE(run_process({LIBRA_RUNTIME_BIN, topo, "--journal", jdir.string(), "--no-progress"}).rc == 0);
  v = journal_tool({"verify", jdir.string()});
  CHECK(v.rc == 0);
  CHECK_THAT(v.out, Catch::Contains("(2 segments") && Catch::Contains(", 2 runs, "));
}

TEST_CASE("libra-journal reports corruption with file and offset", "[journal][process][corrupt]") {
  temp_dir dir;
  const auto jdir = dir.path() / "j";
  const auto topo = default_topology(dir.path());
  // One journaled run serves every section (Catch runs the case once per section): each corrupts
  // its own copy.
  static const temp_dir pristine;
  if (!std::filesystem::exists(pristine.path() / "j"))
    REQUIRE(run_process({LIBRA_RUNTIME_BIN, default_topology(pristine.path()), "--journal",
                         (pristine.path() / "j").string(), "--no-progress"})
              .rc
            == 0);
  std::filesystem::copy(pristine.path() / "j", jdir);
  const auto seg = jdir / "00000001.journal";
  const auto size = std::filesystem::file_size(seg);
  const auto all = journal_tool({"cat", jdir.string()});
  REQUIRE(all.rc == 0);
  const auto lines = std::count(all.out.begin(), all.out.end(), '\n');

  SECTION("a flipped byte: verify and cat fail at file:offset; cat --skip-corrupt goes on") {
    {
      std::fstream f{seg, std::ios::in | std::ios::out | std::ios::binary};
      f.seekg(static_cast<std::streamoff>(size / 2));
      char c = 0;
      f.read(&c, 1);
      c = static_cast<char>(c ^ 0x10);
      f.seekp(static_cast<std::streamoff>(size / 2));
      f.write(&c, 1);
    }
    auto v = journal_tool({"verify", jdir.string()});
    CHECK(v.rc == 1);
    CHECK(std::regex_search(v.err, std::regex{seg.string() + ":[0-9]+: (checksum mismatch|bad record|record length)"}));
    CHECK_THAT(v.out, Catch::Contains("CORRUPT"));
    auto c = journal_tool({"cat", jdir.string()});
    CHECK(c.rc == 1);
    CHECK(std::count(c.out.begin(), c.out.end(), '\n') < lines / 2 + 1);
    auto s = journal_tool({"cat", jdir.string(), "--skip-corrupt"});
    CHECK(s.rc == 1);
    CHECK_THAT(s.err, Catch::Contains("skipped") && Catch::Contains("to the next valid record"));
    CHECK(std::count(s.out.begin(), s.out.end(), '\n') == lines - 1);
  }
  SECTION("a torn tail: a note, not an error; the next run truncates it and appends") {
    std::filesystem::resize_file(seg, size - 7);
    auto v = journal_tool({"verify", jdir.string()});
    CHECK(v.rc == 0);
    CHECK(std::regex_search(v.err, std::regex{seg.string() + ":[0-9]+: torn tail"}));
    auto r = run_process({LIBRA_RUNTIME_BIN, topo, "--journal", jdir.string(), "--no-progress"});
    CHECK(r.rc == 0);
    CHECK_THAT(r.err, Catch::Contains("truncated a torn tail"));
    v = journal_tool({"verify", jdir.string()});
    CHECK(v.rc == 0);
    CHECK(v.err.find("torn tail") == std::string::npos);
  }
  SECTION("a truncated header, a future version, an empty file") {
    std::filesystem::resize_file(seg, 40);
    auto v = journal_tool({"verify", jdir.string()});
    CHECK(v.rc == 1);
    CHECK_THAT(v.err, Catch::Contains(seg.string() + ":0: truncated segment header: 40 of 64 bytes"));
    std::filesystem::resize_file(seg, 0);
    v = journal_tool({"cat", jdir.string()});
    CHECK(v.rc == 1);
    CHECK_THAT(v.err, Catch::Contains(seg.string() + ":0: empty file: no segment header"));
  }
  SECTION("an empty directory, a missing one, a bad trace id") {
    std::filesystem::create_directory(dir.path() / "empty");
    CHECK(journal_tool({"verify", (dir.path() / "empty").string()}).rc == 2);
    CHECK(journal_tool({"stats", (dir.path() / "nope").string()}).rc == 2);
    CHECK(journal_tool({"trace", jdir.string(), "xyz"}).rc == 64);
    CHECK(journal_tool({"trace", jdir.string(), std::string(32, 'f')}).rc == 1);
  }
}

TEST_CASE("a journaling run killed with SIGKILL verifies up to its last record, the next appends",
          "[journal][process][crash]") {
  // 20 kills (~0.75 s each here); 10 in the sanitizer and coverage builds, 5-20x slower, which
  // must stay within the per-test timeout (the normal build, in CI too, makes all 20).
#ifdef LIBRA_SLOW_BUILD
  constexpr int kills = 10;
#else
  constexpr int kills = 20;
#endif
  temp_dir dir;
  const auto jdir = dir.path() / "j";
  const auto topo = stress_topology(dir.path(), jdir, 5'000'000);
  std::mt19937_64 rng{std::random_device{}()};
  for (int i = 0; i < kills; ++i) {
    const auto before = journal_size(jdir);
    // Kill once the journal has grown by a random amount (64 B .. 3 MiB: within a record, a
    // segment, across a segment boundary).
    const auto grow = std::uniform_int_distribution<std::uintmax_t>{64, 3u << 20}(rng);
    INFO("kill " << i << " after " << grow << " bytes");
    {
      child_process p{{LIBRA_RUNTIME_BIN, topo.string(), "--no-progress"}};
      REQUIRE(libra::testing::eventually([&] { return journal_size(jdir) >= before + grow; }));
      p.signal(SIGKILL);
      CHECK(p.wait() == -SIGKILL);
    }
    auto v = journal_tool({"verify", jdir.string()});
    INFO(v.err);
    CHECK(v.rc == 0);
    CHECK_THAT(v.out, Catch::Contains(": OK ("));
    // A record cut short is reported as a note (the journal is whole up to it), never an error.
    if (v.err.find("torn tail") != std::string::npos)
      CHECK(std::regex_search(v.err, std::regex{"libra-journal: note: [^\n]*: torn tail: [^\n]*complete up to it"}));
    CHECK(v.out.find("error:") == std::string::npos);
    CHECK(v.err.find("error:") == std::string::npos);
  }
  // A clean run after the kills: repairs what the last one left, appends, ends cleanly.
  const auto small = stress_topology(dir.path(), jdir, 2000);
  auto r = run_process({LIBRA_RUNTIME_BIN, small.string(), "--no-progress"});
  INFO(r.err);
  CHECK(r.rc == 0);
  auto v = journal_tool({"verify", jdir.string()});
  INFO(v.err);
  CHECK(v.rc == 0);
  CHECK_THAT(v.out, Catch::Contains(std::to_string(kills + 1) + " runs"));
  CHECK(v.err.find("torn tail") == std::string::npos);
}

namespace {

/// The sequence numbers of the JSON lines in text (libra-journal's and the recorder's: one form,
/// libra::event_json).
std::set<std::uint64_t> sequences_in(const std::string& text) {
  std::set<std::uint64_t> out;
  const std::regex seq{R"re("sequence":([0-9]+))re"};
  std::istringstream in{text};
  std::smatch m;
  for (std::string line; std::getline(in, line);)
    if (std::regex_search(line, m, seq))
      out.insert(std::stoull(m[1]));
  return out;
}

} // namespace

TEST_CASE("with fsync: every_batch, nothing a handler saw is missing from the journal after SIGKILL",
          "[journal][process][crash]") {
  // The recorder is a handler that writes down what it saw: after a kill at a random moment,
  // every event in its file must be in the journal (the bus hands an event to the handlers only
  // once the journal has it on disk). With fsync none the same kill leaves the recorder ahead of
  // the journal (its write batches are not waited for).
  constexpr int kills = 3;
  temp_dir dir;
  std::mt19937_64 rng{std::random_device{}()};
  for (int i = 0; i < kills; ++i) {
    const auto jdir = dir.path() / ("j" + std::to_string(i));
    const auto rec = dir.path() / ("rec" + std::to_string(i) + ".jsonl");
    const auto topo = dir.path() / "wal.yaml";
    {
      std::ofstream out{topo};
      out
        << "bus: {capacity: 20000}\nlogging: {level: warn}\n"
        << "journal: {dir: " << jdir.string() << ", fsync: every_batch}\n"
        << "actors:\n"
        << "  - {name: gw, type: gateway.synthetic, params: {instrument: EUR/USD, seed: 7, rate: 0, count: 5000000}}\n"
        << "  - {name: strategy, type: strategy.sma_cross, params: {fast: 5, slow: 20}}\n"
        << "  - {name: rec, type: recorder, params: {file: " << rec.string() << "}}\n";
    }
    const auto grow = std::uniform_int_distribution<std::uintmax_t>{1u << 10, 2u << 20}(rng);
    INFO("kill " << i << " once the recorder wrote " << grow << " bytes");
    {
      child_process p{{LIBRA_RUNTIME_BIN, topo.string(), "--no-progress"}};
      REQUIRE(libra::testing::eventually([&] {
        std::error_code ec;
        const auto n = std::filesystem::file_size(rec, ec);
        return !ec && n >= grow;
      }));
      p.signal(SIGKILL);
      CHECK(p.wait() == -SIGKILL);
    }
    const auto seen = sequences_in(libra::testing::read_text(rec));
    const auto cat = journal_tool({"cat", jdir.string(), "--json"});
    INFO(cat.err);
    const auto journaled = sequences_in(cat.out);
    REQUIRE(!seen.empty());
    std::vector<std::uint64_t> missing;
    std::set_difference(seen.begin(), seen.end(), journaled.begin(), journaled.end(), std::back_inserter(missing));
    INFO(seen.size() << " events recorded, " << journaled.size()
                     << " journaled; first missing: " << (missing.empty() ? 0 : missing.front()));
    CHECK(missing.empty());
  }
}
