// libra-runtime: runs a YAML topology of actors on the libra bus.
#include "core/runner.hpp"
#include "core/topology.hpp"

#include <builtin.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <unistd.h>

int main(int argc, char** argv) {
  // Logs (errors included) go to stderr; stdout carries only the summary (and --check's OK).
  spdlog::set_default_logger(
    std::make_shared<spdlog::logger>("", std::make_shared<spdlog::sinks::stderr_color_sink_mt>()));

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
  app.add_option("--stats-json", opts.stats_json,
                 "write statistics to this file as JSON lines: one per stats interval, then the final one "
                 "(\"final\":true); a regular file, refused before the run when it cannot be written");
  bool progress = false;
  bool no_progress = false;
  auto* progress_flag = app.add_flag("--progress", progress, "progress lines on stderr even when it is not a terminal");
  app.add_flag("--no-progress", no_progress, "no progress lines (default: only when stderr is a terminal)")
    ->excludes(progress_flag);
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
               topo.actors.size(), topo.bus.max_queue_size, topo.bus.credit_window, topo.bus.batch_size, topo.workers);
    return 0;
  }
  if (duration_s >= 0)
    opts.duration = std::chrono::milliseconds{static_cast<std::int64_t>(duration_s * 1000)};
  if (stats_interval_s > 0)
    opts.stats_interval = std::chrono::milliseconds{static_cast<std::int64_t>(stats_interval_s * 1000)};
  // Progress lines are for a person watching: by default only when stderr is a terminal.
  opts.progress = progress || (!no_progress && isatty(STDERR_FILENO) == 1);
  return libra::core::run_topology(topo, opts);
}
