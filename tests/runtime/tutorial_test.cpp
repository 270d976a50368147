// The tutorial (docs/writing-an-actor.md) end to end: its actor, built as a plugin from the doc's
// own code block, loaded by libra-runtime from the topology of its section 4.
#include "../support/process.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#if defined(LIBRA_RUNTIME_BIN) && defined(LIBRA_TUTORIAL_PLUGIN_PATH)

using libra::testing::child_process;

namespace {

/// The ```yaml block of the tutorial that loads the plugin, with the plugin's path filled in.
std::string tutorial_topology() {
  std::ifstream in{std::string{LIBRA_SOURCE_DIR} + "/docs/writing-an-actor.md"};
  std::stringstream text;
  text << in.rdbuf();
  const auto doc = text.str();
  const std::string plugin_line = "plugins: [build/my_actors.so]";
  const auto start = doc.find("```yaml\n" + plugin_line);
  REQUIRE(start != std::string::npos);
  const auto body = start + std::string{"```yaml\n"}.size();
  const auto end = doc.find("```", body);
  REQUIRE(end != std::string::npos);
  auto yaml = doc.substr(body, end - body);
  yaml.replace(0, plugin_line.size(), std::string{"plugins: ["} + LIBRA_TUTORIAL_PLUGIN_PATH + "]");
  return yaml;
}

} // namespace

TEST_CASE("the tutorial's plugin, loaded by the tutorial's topology, runs in libra-runtime",
          "[runtime][process][plugin][docs]") {
  const auto dir =
    std::filesystem::temp_directory_path() / ("libra-tutorial-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "topology.yaml";
  std::ofstream{path} << tutorial_topology();

  child_process check{{LIBRA_RUNTIME_BIN, path.string(), "--check"}};
  INFO(check.err());
  REQUIRE(check.wait() == 0);

  child_process run{{LIBRA_RUNTIME_BIN, path.string(), "--no-progress"}};
  const int rc = run.wait();
  INFO(run.out() << run.err());
  CHECK(rc == 0);
  // The synthetic feed's spread (0.0001) is wider than max_spread (0.00005): every tick alerts.
  CHECK_THAT(run.out() + run.err(), Catch::Contains("TICK=10000") && Catch::Contains("SIGNAL=10000"));
  CHECK_THAT(run.out() + run.err(), Catch::Contains("spread alerts: 10000"));
  std::filesystem::remove_all(dir);
}

#endif
