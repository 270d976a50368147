// Runs a loaded topology: spawns its actors on a bus, prints progress, drains on SIGINT/SIGTERM,
// --duration or the end of the data, and prints the summary.
#pragma once

#include "topology.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace libra::core {

struct run_options {
  std::optional<std::chrono::milliseconds> duration;       ///< overrides runtime.duration_s
  std::optional<std::chrono::milliseconds> stats_interval; ///< overrides runtime.stats_interval_s
  std::string stats_json;                                  ///< write the final stats here when set
  bool progress = true;                                    ///< live progress lines on stderr
};

/// Exit code: 0 when the run ended cleanly (data done, signal, or duration), 1 when an actor
/// failed to start or a producer reported a failure.
int run_topology(const topology& topo, const run_options& opts);

} // namespace libra::core
