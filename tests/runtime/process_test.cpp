// libra-runtime as a user runs it: exit codes, the summary, SIGINT handling.
#include "../support/process.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>

#ifdef LIBRA_RUNTIME_BIN

using namespace std::chrono_literals;
using libra::testing::child_process;
using libra::testing::summary_field;

namespace {

std::filesystem::path write_topology(const std::string& name, const std::string& yaml) {
  auto dir = std::filesystem::temp_directory_path() / ("libra-proc-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  std::ofstream{path} << yaml;
  return path;
}

} // namespace

TEST_CASE("libra-runtime --check accepts the shipped topologies", "[runtime][process]") {
  for (const auto* name : {"default.yaml", "stress.yaml", "risk-breaker.yaml"}) {
    child_process p{{LIBRA_RUNTIME_BIN, std::string{LIBRA_SOURCE_DIR} + "/config/" + name, "--check"}};
    INFO(name << ": " << p.err());
    CHECK(p.wait() == 0);
    CHECK_THAT(p.out(), Catch::Contains("OK"));
  }
}

TEST_CASE("libra-runtime exits 2 with a located message on a bad topology", "[runtime][process]") {
  auto path = write_topology("bad.yaml", "actors:\n  - name: gw\n    type: gateway.nope\n");
  child_process p{{LIBRA_RUNTIME_BIN, path.string()}};
  CHECK(p.wait() == 2);
  CHECK_THAT(p.err(), Catch::Contains(path.string() + ":3:11: actors[0].type: unknown actor type 'gateway.nope'"));
  CHECK(p.out().empty()); // nothing started, no summary
  std::filesystem::remove_all(path.parent_path());
}

TEST_CASE("SIGINT and SIGTERM drain the bus, print the summary and exit 0", "[runtime][process][signal]") {
  const int sig = GENERATE(SIGINT, SIGTERM);
  const std::string sig_name = sig == SIGINT ? "SIGINT" : "SIGTERM";
  auto path = write_topology("endless.yaml", R"(runtime:
  stats_interval_s: 0.05
actors:
  - name: gen
    type: gateway.synthetic
    params:
      instrument: EUR/USD
      seed: 7
      rate: 20000
      count: 0
)");
  // --progress: stderr is a pipe here, and progress lines are only for terminals by default.
  child_process p{{LIBRA_RUNTIME_BIN, path.string(), "--progress"}};
  // The first progress line says the actors run and events flow: now interrupt it.
  REQUIRE(p.wait_for_output("ev/s", 30s));
  p.signal(sig);
  const int rc = p.wait();
  INFO(sig_name << ": " << p.err() << p.out());
  CHECK(rc == 0);
  CHECK_THAT(p.out(), Catch::Contains("(" + sig_name + ")"));
  const auto published = summary_field(p.out(), "published");
  const auto dispatched = summary_field(p.out(), "dispatched");
  const auto dropped = summary_field(p.out(), "dropped");
  REQUIRE(published != UINT64_MAX);
  CHECK(published > 0);
  CHECK(published == dispatched + dropped); // nothing lost silently: all delivered or counted
  std::filesystem::remove_all(path.parent_path());
}

#endif
