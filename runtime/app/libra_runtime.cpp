// libra-runtime: runs a YAML topology of actors on the libra bus.
#include "core/metrics.hpp"
#include "core/runner.hpp"
#include "core/topology.hpp"
#include "net/all_nodes.hpp"

#include <builtin.hpp>
#include <libra_version_info.hpp>

#include <CLI/CLI.hpp>
#include <caf/config.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using libra::core::exit_code;

// The same ranges as the topology's runtime.stats_interval_s and runtime.duration_s
// (core/topology.cpp), with the same message: a test runs both and compares.
constexpr double stats_interval_lo = 0.01;
constexpr double stats_interval_hi = 3600;
constexpr double duration_lo = 0;
constexpr double duration_hi = 30.0 * 86400;

constexpr const char* exit_codes_help = R"(Exit codes:
  0    the run ended cleanly (data done, --duration, SIGINT/SIGTERM/SIGHUP), or --check passed
  1    the run failed: an actor failed, failed to start or died; an output write failed
  2    refused before anything ran: bad topology, or an output file (or the journal) that
       cannot be used (unwritable, locked by another run, not a regular file), or a node's
       port that cannot be opened (in use)
  3    --node: a peer node was not reachable within network.connect_timeout_s
  64   bad command line (unknown option, missing topology, number out of range)
  128+N  signal N came again during shutdown: exit at once, no drain, no summary
See config/README.md (topology schema, what libra does on each kind of failure).)";

/// Seconds from the command line as milliseconds, or an error message: finite and within
/// [lo, hi], checked and worded as the topology's; any positive value lasts at least 1 ms.
std::optional<std::string> to_ms(const char* option, double seconds, double lo, double hi,
                                 std::chrono::milliseconds& out) {
  if (!std::isfinite(seconds))
    return fmt::format("{}: expected a finite number", option);
  if (seconds < lo || seconds > hi)
    return fmt::format("{}: {} is out of range [{}, {}]", option, seconds, lo, hi);
  out = std::chrono::milliseconds{static_cast<std::int64_t>(std::ceil(seconds * 1000))};
  return std::nullopt;
}

std::string version_text() {
  return fmt::format("libra-runtime {} (commit {}, {} build, CAF {}.{}.{})", LIBRA_VERSION, LIBRA_GIT_COMMIT,
                     LIBRA_BUILD_TYPE, CAF_MAJOR_VERSION, CAF_MINOR_VERSION, CAF_PATCH_VERSION);
}

} // namespace

int main(int argc, char** argv) {
  // Logs (errors included) go to stderr; stdout carries only the summary (and --check's OK).
  spdlog::set_default_logger(
    std::make_shared<spdlog::logger>("", std::make_shared<spdlog::sinks::stderr_color_sink_mt>()));

  CLI::App app{"libra-runtime: runs a trading topology of CAF actors on the libra event bus"};
  app.footer(exit_codes_help);
  app.set_version_flag("--version", version_text(), "print the version, git commit, build type and CAF version");
  std::string file;
  bool check = false;
  std::string log_level;
  std::optional<double> duration_s;
  std::optional<double> stats_interval_s;
  libra::core::run_options opts;
  app.add_option("topology", file, "topology file (YAML); see config/README.md")->required();
  app.add_flag("--check", check, "validate the topology (and its data files and plugins), then exit");
  app
    .add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off (overrides logging.level)")
    ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--duration", duration_s,
                 "stop after S seconds, 0 .. 2592000 (overrides runtime.duration_s; 0 = until the data ends)");
  app.add_option("--stats-interval", stats_interval_s,
                 "seconds between progress lines and --stats-json lines, 0.01 .. 3600 (overrides "
                 "runtime.stats_interval_s)");
  app.add_option("--stats-json", opts.stats_json,
                 "write statistics to this file as JSON lines: one per stats interval, then the final one "
                 "(\"final\":true); a regular file, refused before the run when it cannot be written");
  app.add_option("--journal", opts.journal,
                 "journal every event the bus admits to this directory (created when missing; overrides the "
                 "topology's journal.dir, keeps its other journal settings); read it with libra-journal");
  app
    .add_option("--metrics", opts.metrics,
                "serve Prometheus metrics at http://ADDRESS/metrics: HOST:PORT, or PORT for 127.0.0.1 (overrides "
                "metrics.listen; port 0 picks a free one; docs/operations.md lists the metrics)")
    ->transform(CLI::Validator(
      [](std::string& text) {
        try {
          text = libra::core::metrics_address(text);
          return std::string{};
        } catch (const std::invalid_argument& ex) {
          return std::string{ex.what()};
        }
      },
      "ADDRESS"));
  app.add_flag("--deterministic", opts.deterministic,
               "deterministic mode (as runtime.deterministic: true): every actor on one thread in a fixed order, "
               "so that the same input gives the same journal, recorder file and summary");
  std::string node;
  bool all_nodes = false;
  auto* node_opt = app.add_option("--node", node,
                                  "run this node of a distributed topology (its actors only; "
                                  "see nodes: in config/README.md)");
  app
    .add_flag("--all-nodes", all_nodes,
              "run every node of a distributed topology as child processes of this one, with one combined summary")
    ->excludes(node_opt);
  bool progress = false;
  bool no_progress = false;
  auto* progress_flag = app.add_flag("--progress", progress, "progress lines on stderr even when it is not a terminal");
  app.add_flag("--no-progress", no_progress, "no progress lines (default: only when stderr is a terminal)")
    ->excludes(progress_flag);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) { // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    (void)app.exit(e); // prints the message; CLI11's own codes (105, 106, 109...) are not ours
    return exit_code::exit_usage;
  }
  if (duration_s) {
    std::chrono::milliseconds ms{};
    if (auto err = to_ms("--duration", *duration_s, duration_lo, duration_hi, ms)) {
      fmt::print(stderr, "libra-runtime: error: {}\nRun with --help for more information.\n", *err);
      return exit_code::exit_usage;
    }
    opts.duration = ms;
  }
  if (stats_interval_s) {
    std::chrono::milliseconds ms{};
    if (auto err = to_ms("--stats-interval", *stats_interval_s, stats_interval_lo, stats_interval_hi, ms)) {
      fmt::print(stderr, "libra-runtime: error: {}\nRun with --help for more information.\n", *err);
      return exit_code::exit_usage;
    }
    opts.stats_interval = ms;
  }

  libra::actor_registry registry;
  libra::actors::register_builtin_actors(registry);
  libra::core::topology topo;
  try {
    topo = libra::core::load_topology(file, registry);
  } catch (const libra::config_error& err) {
    fmt::print(stderr, "libra-runtime: error: {}\n", err.what());
    return exit_code::exit_bad_input;
  }
  if (!log_level.empty())
    topo.log_level = log_level;
  if (!node.empty() || all_nodes) {
    if (topo.network.nodes.empty()) {
      fmt::print(stderr, "libra-runtime: error: {}: {} needs a topology with nodes: (config/README.md)\n", file,
                 all_nodes ? "--all-nodes" : "--node");
      return exit_code::exit_usage;
    }
    if (!node.empty() && topo.network.find(node) == nullptr) {
      std::vector<std::string> names;
      for (const auto& n : topo.network.nodes)
        names.push_back(n.name);
      fmt::print(stderr, "libra-runtime: error: --node: no node named '{}' in {} (nodes: {})\n", node, file,
                 fmt::join(names, ", "));
      return exit_code::exit_usage;
    }
  } else if (!topo.network.nodes.empty() && !check) {
    fmt::print(stderr,
               "libra-runtime: error: {} is a distributed topology ({} nodes): run one node with --node NAME, "
               "or all of them with --all-nodes\n",
               file, topo.network.nodes.size());
    return exit_code::exit_usage;
  }
  if (topo.network.insecure)
    fmt::print(stderr,
               "libra-runtime: warning: {}: network.insecure: true: links are plain TCP and anyone who can reach a "
               "node's port can join the topology; use network.tls off a trusted network\n",
               file);
  if (check) {
    fmt::print("{}: OK ({} actors, bus capacity {}, credit window {}, batch {}, {} workers{})\n", file,
               topo.actors.size(), topo.bus.capacity, topo.bus.credit_window, topo.bus.batch_size, topo.workers,
               topo.network.nodes.empty() ? std::string{} : fmt::format(", {} nodes", topo.network.nodes.size()));
    return exit_code::exit_ok;
  }
  if (all_nodes) {
    if (!opts.stats_json.empty() || !opts.journal.empty() || !opts.metrics.empty()) {
      fmt::print(
        stderr, "libra-runtime: error: --all-nodes: --stats-json, --journal and --metrics are per node (use --node)\n");
      return exit_code::exit_usage;
    }
    std::vector<std::string> pass; // options every node gets
    if (!log_level.empty())
      pass.insert(pass.end(), {"--log-level", log_level});
    if (duration_s)
      pass.insert(pass.end(), {"--duration", fmt::format("{}", *duration_s)});
    if (stats_interval_s)
      pass.insert(pass.end(), {"--stats-interval", fmt::format("{}", *stats_interval_s)});
    pass.emplace_back(progress ? "--progress" : "--no-progress");
    return libra::net::run_all_nodes(topo, file, pass);
  }
  if (!node.empty()) {
    // This node's actors only; the others run in their own processes.
    std::erase_if(topo.actors, [&](const libra::core::actor_spec& a) { return a.node != node; });
    opts.node = node;
  }
  // Progress lines are for a person watching: by default only when stderr is a terminal.
  opts.progress = progress || (!no_progress && isatty(STDERR_FILENO) == 1);
  return libra::core::run_topology(topo, opts);
}
