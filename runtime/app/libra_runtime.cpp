// libra-runtime: runs a YAML topology of actors on the libra bus.
#include "core/runner.hpp"
#include "core/topology.hpp"

#include <builtin.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

int main(int argc, char** argv) {
  CLI::App app{"libra-runtime: runs a trading topology of CAF actors on the libra event bus"};
  std::string file;
  bool check = false;
  std::string log_level;
  double duration_s = -1;
  double stats_interval_s = -1;
  libra::core::run_options opts;
  app.add_option("topology", file, "topology file (YAML); see config/README.md")->required();
  app.add_flag("--check", check, "validate the topology (and its data files and plugins), then exit");
  app
    .add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off (overrides logging.level)")
    ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app
    .add_option("--duration", duration_s,
                "stop after S seconds (overrides runtime.duration_s; 0 = until the data ends)")
    ->check(CLI::NonNegativeNumber);
  app
    .add_option("--stats-interval", stats_interval_s,
                "seconds between progress lines (overrides runtime.stats_interval_s)")
    ->check(CLI::PositiveNumber);
  app.add_option("--stats-json", opts.stats_json, "write the final statistics as JSON to this file");
  bool quiet = false;
  app.add_flag("--no-progress", quiet, "no live progress lines on stderr");
  CLI11_PARSE(app, argc, argv);

  libra::actor_registry registry;
  libra::actors::register_builtin_actors(registry);
  libra::core::topology topo;
  try {
    topo = libra::core::load_topology(file, registry);
  } catch (const libra::config_error& err) {
    fmt::print(stderr, "libra-runtime: error: {}\n", err.what());
    return 2;
  }
  if (!log_level.empty())
    topo.log_level = log_level;
  if (check) {
    fmt::print("{}: OK ({} actors, bus capacity {}, credit window {}, batch {}, {} workers)\n", file,
               topo.actors.size(), topo.bus.capacity, topo.bus.credit_window, topo.bus.batch_size, topo.workers);
    return 0;
  }
  if (duration_s >= 0)
    opts.duration = std::chrono::milliseconds{static_cast<std::int64_t>(duration_s * 1000)};
  if (stats_interval_s > 0)
    opts.stats_interval = std::chrono::milliseconds{static_cast<std::int64_t>(stats_interval_s * 1000)};
  opts.progress = !quiet;
  return libra::core::run_topology(topo, opts);
}
