// Deterministic mode as a user runs it: config/default.yaml with --deterministic, ten times, five
// of them with the CPU kept busy by other processes, gives the same journal bytes, the same
// recorder file and the same summary trading lines every time.
#include "../support/process.hpp"
#include "../support/temp_dir.hpp"
#include "default_topology.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

namespace {

using libra::testing::child_process;
using libra::testing::temp_dir;

/// Every segment of a journal, in name order, concatenated.
std::string journal_contents(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator{dir})
    if (e.path().extension() == ".journal")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::string out;
  for (const auto& f : files)
    out += libra::testing::read_text(f);
  return out;
}

/// The summary's lines about what was traded (not wall time, rates, latencies or the journal's
/// own throughput, which are the machine's).
struct outcome {
  std::string journal;
  std::string recorder;
  std::string summary;
};

outcome deterministic_run(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const auto topo = libra::testing::default_topology(dir);
  child_process p{
    {LIBRA_RUNTIME_BIN, topo, "--deterministic", "--journal", (dir / "journal").string(), "--no-progress"}};
  const int rc = p.wait();
  INFO(p.err());
  REQUIRE(rc == 0);
  return {journal_contents(dir / "journal"), libra::testing::read_text(dir / "events.jsonl"),
          libra::testing::summary_trading_lines(p.out())};
}

} // namespace

TEST_CASE("deterministic mode: the same journal bytes, recorder file and summary, under load",
          "[journal][process][deterministic]") {
  temp_dir dir;
  const auto first = deterministic_run(dir.path() / "run0");
  REQUIRE(first.journal.size() > 100'000);
  CHECK_THAT(first.recorder, Catch::Contains("\"ORDER_FILLED\""));
  CHECK_THAT(first.summary, Catch::Contains("PnL ") && Catch::Contains("failures           0"));
  for (int i = 1; i < 10; ++i) {
    INFO("run " << i << (i >= 5 ? " (CPU kept busy)" : ""));
    std::vector<std::unique_ptr<child_process>> load;
    if (i >= 5) // two spinning shells: as many as the CI machine's cores
      for (int k = 0; k < 2; ++k)
        load.push_back(
          std::make_unique<child_process>(std::vector<std::string>{"/bin/sh", "-c", "while :; do :; done"}));
    const auto again = deterministic_run(dir.path() / ("run" + std::to_string(i)));
    load.clear(); // killed
    CHECK(again.summary == first.summary);
    CHECK(again.recorder == first.recorder);
    CHECK(again.journal.size() == first.journal.size());
    CHECK((again.journal == first.journal)); // not printed: binary
  }
}
