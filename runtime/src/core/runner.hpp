// Runs a loaded topology: spawns its actors on a bus, prints progress, drains on SIGINT/SIGTERM,
// --duration or the end of the data, and prints the summary.
#pragma once

#include "topology.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

namespace libra::core {

struct run_options {
  std::optional<std::chrono::milliseconds> duration;       ///< overrides runtime.duration_s
  std::optional<std::chrono::milliseconds> stats_interval; ///< overrides runtime.stats_interval_s
  std::string stats_json;        ///< JSON lines: one per stats interval, then the final one, when set
  bool progress = true;          ///< live progress lines on stderr
  std::FILE* summary = nullptr;  ///< where the summary goes; stdout when null
  std::filesystem::path journal; ///< journal to this directory (overrides the topology's journal.dir)
  bool deterministic = false;    ///< --deterministic: as runtime.deterministic (journal/deterministic.hpp)
  std::string node;              ///< run this node of a distributed topology (topo.actors: its actors only); empty: all
  std::string
    metrics; ///< --metrics: serve Prometheus metrics here (overrides metrics.listen); empty: as the topology says
};

/// libra-runtime's exit codes (README, config/README and --help list them).
enum exit_code : int {
  exit_ok = 0,          ///< the run ended cleanly: data done, --duration, SIGINT/SIGTERM/SIGHUP
  exit_failure = 1,     ///< the run failed: an actor failed, failed to start or died, an output write failed
  exit_bad_input = 2,   ///< refused before anything ran: bad topology, unusable output file
  exit_unreachable = 3, ///< a distributed node: a peer node was not reachable within network.connect_timeout_s
  exit_usage = 64,      ///< bad command line (EX_USAGE)
  exit_signal = 128,    ///< + the signal number: a second signal during shutdown, no drain, no summary
};

/// Runs the topology until its data ends, its duration, a signal or a failure; drains within
/// bus.drain_timeout_ms (the budget of the whole shutdown) and prints the summary. Returns an
/// exit_code: exit_ok, exit_failure (a failure at any phase of the run, including the drain and
/// the last writes) or exit_bad_input (an output refused before anything ran).
int run_topology(const topology& topo, const run_options& opts);

} // namespace libra::core
