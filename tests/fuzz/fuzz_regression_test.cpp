// The fuzz seed corpus and every kept fuzzer finding (tests/fuzz/corpus/*, tests/fuzz/regressions/*)
// through the fuzzers' own entry points (fuzz_entry.hpp), in the normal suite: each input gives
// its documented outcome (a topology or a config_error; rows or bad rows exactly as the reference
// reader says), never another exception or a crash.
//
// Expected outcomes by file name: "ok-*" loads (topology) / reads without a bad row (market data),
// "err-*" is a config_error / has at least one bad row; the market-data format is the one the
// name contains (histdata, truefx), both otherwise. Other names (fuzzer findings): any documented
// outcome.
#include "../support/temp_dir.hpp"
#include "fuzz_entry.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace libra;
using libra::fuzz::topology_outcome;
namespace md = libra::actors::md;

namespace {

const std::filesystem::path fuzz_dir{LIBRA_SOURCE_DIR "/tests/fuzz"};

std::vector<std::filesystem::path> inputs(const std::string& kind, const std::string& target) {
  std::vector<std::filesystem::path> out;
  const auto dir = fuzz_dir / kind / target;
  if (std::filesystem::is_directory(dir))
    for (const auto& e : std::filesystem::directory_iterator{dir})
      if (e.is_regular_file())
        out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

bool starts_with(const std::filesystem::path& p, std::string_view prefix) {
  return p.filename().string().starts_with(prefix);
}

// Runs f, failing the test case with the reason on a finding or any other exception.
template <class F>
void no_finding(const std::filesystem::path& p, F&& f) {
  INFO(p.string());
  try {
    f();
  } catch (const fuzz::finding& e) {
    FAIL("fuzz finding: " << e.what());
  } catch (const std::exception& e) {
    FAIL("unexpected exception: " << e.what());
  }
}

// The number of bad rows reading text as fmt yields (the reference reader, checked equal to the
// real one by run_market_data).
std::size_t bad_rows(const std::string& text, md::format fmt) {
  const auto items = fuzz::detail::reference_read(text, fmt);
  return static_cast<std::size_t>(std::count_if(items.begin(), items.end(), [](const auto& i) { return !i.row; }));
}

} // namespace

TEST_CASE("fuzz corpus and regressions: topology loader", "[fuzz][runtime][topology]") {
  const auto corpus = inputs("corpus", "topology");
  REQUIRE(corpus.size() >= 5);
  CHECK(std::any_of(corpus.begin(), corpus.end(), [](const auto& p) { return starts_with(p, "ok-"); }));
  CHECK(std::any_of(corpus.begin(), corpus.end(), [](const auto& p) { return starts_with(p, "err-"); }));
  auto all = corpus;
  const auto regressions = inputs("regressions", "topology");
  all.insert(all.end(), regressions.begin(), regressions.end());

  fuzz::sandbox box{"topology-test"};
  for (const auto& p : all)
    no_finding(p, [&] {
      const auto outcome = fuzz::run_topology(box, libra::testing::read_text(p));
      if (starts_with(p, "ok-"))
        CHECK(outcome == topology_outcome::loaded);
      if (starts_with(p, "err-"))
        CHECK(outcome == topology_outcome::config_error);
    });
}

TEST_CASE("fuzz corpus and regressions: market-data parsers and reader", "[fuzz][actors][market_data]") {
  const auto corpus = inputs("corpus", "market_data");
  REQUIRE(corpus.size() >= 5);
  auto all = corpus;
  const auto regressions = inputs("regressions", "market_data");
  all.insert(all.end(), regressions.begin(), regressions.end());

  fuzz::sandbox box{"market-data-test"};
  for (const auto& p : all)
    no_finding(p, [&] {
      const auto text = libra::testing::read_text(p);
      fuzz::run_market_data(box, text);
      const auto name = p.filename().string();
      std::vector<md::format> formats;
      if (name.find("histdata") != std::string::npos)
        formats.push_back(md::format::histdata_ticks);
      if (name.find("truefx") != std::string::npos)
        formats.push_back(md::format::truefx_ticks);
      if (formats.empty())
        formats = {md::format::histdata_ticks, md::format::truefx_ticks};
      for (const auto f : formats) {
        INFO((f == md::format::histdata_ticks ? "as histdata" : "as truefx"));
        if (starts_with(p, "ok-"))
          CHECK(bad_rows(text, f) == 0);
        if (starts_with(p, "err-"))
          CHECK(bad_rows(text, f) > 0);
      }
    });
}

TEST_CASE("fuzz corpus: the reader across its 64 KiB refill boundary", "[fuzz][actors][market_data]") {
  // run_market_data pads one input in four; here every corpus file, with the boundary at its
  // start, one byte in, its middle and its end.
  fuzz::sandbox box{"boundary-test"};
  for (const auto& p : inputs("corpus", "market_data"))
    no_finding(p, [&] {
      const auto text = libra::testing::read_text(p);
      for (const auto f : {md::format::histdata_ticks, md::format::truefx_ticks})
        for (const std::size_t k : {std::size_t{0}, std::size_t{1}, text.size() / 2, text.size()})
          fuzz::detail::compare_reads(box, fuzz::detail::padding(f, std::size_t{64} * 1024 - k) + text, f, "padded");
    });
}

TEST_CASE("fuzz regressions: what each kept finding was about", "[fuzz]") {
  fuzz::sandbox box{"findings-test"};
  SECTION("a topology without 'actors' names the key") {
    const auto file = box.write("topology.yaml", "runtime: {duration_s: 1}\n");
    actor_registry registry;
    actors::register_builtin_actors(registry);
    try {
      (void)core::load_topology(file, registry);
      FAIL("loaded a topology without actors");
    } catch (const config_error& e) {
      CHECK(e.key_path() == "actors");
      CHECK(e.message() == "missing required key (a list of actors)");
    }
  }
  SECTION("a key that is no name is an unknown key with a key path that says so") {
    const std::vector<std::pair<std::string, std::string>> cases{
      {"bus:\n  : 0.5\n", "bus.(null key)"},
      {"bus:\n  \"\": 0.5\n", "bus.(empty key)"},
      {"bus: {? [a, b] : 1}\n", "bus.(non-scalar key)"},
    };
    for (const auto& [head, path] : cases) {
      const auto file = box.write("topology.yaml", head
                                                     + "actors: [{name: g, type: gateway.synthetic, "
                                                       "params: {instrument: EUR/USD}}]\n");
      actor_registry registry;
      actors::register_builtin_actors(registry);
      INFO(head);
      try {
        (void)core::load_topology(file, registry);
        FAIL("loaded a topology with an unknown key");
      } catch (const config_error& e) {
        CHECK(e.key_path() == path);
        CHECK(e.message() == "unknown key");
      }
    }
  }
  SECTION("config_error::what() shows control bytes as \\xNN, message() keeps them") {
    const config_error e{"f.yaml", 1, 3, "(syntax)", std::string{"unknown escape character: \x04\0!", 29}};
    CHECK(std::string{e.what()} == "f.yaml:1:3: (syntax): unknown escape character: \\x04\\x00!");
    CHECK(e.message().size() == 29);
  }
  SECTION("a path with a NUL byte is refused (the OS would open the path up to it)") {
    const auto file =
      box.write("topology.yaml", libra::testing::read_text(fuzz_dir / "regressions/topology/err-nul-in-path.yaml"));
    actor_registry registry;
    actors::register_builtin_actors(registry);
    try {
      (void)core::load_topology(file, registry);
      FAIL("loaded a path with a NUL byte");
    } catch (const config_error& e) {
      CHECK(e.key_path() == "actors[0].params.file");
      CHECK(e.message() == "a path must not contain a NUL byte");
    }
  }
  SECTION("control bytes of a market-data row are escaped in the reason, not cut at a NUL") {
    using namespace std::string_literals;
    const auto r = md::parse_truefx("2013\x17\0\0-01-01 22:00:00.295000+00:00,86.655,86.728"s);
    REQUIRE(std::holds_alternative<std::string>(r));
    CHECK(
      std::get<std::string>(r)
      == "timestamp '2013\\x17\\x00\\x00-01-01 22:00:00.295000+00:00' is not 'YYYY-MM-DD HH:MM:SS[.fraction]+HH:MM'");
  }
}
