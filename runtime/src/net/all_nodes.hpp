// `libra-runtime TOPOLOGY --all-nodes`: every node of a distributed topology as a child process
// of this one (its own binary with --node NAME), log lines prefixed with `[NAME] `, SIGINT and
// SIGTERM forwarded, and one combined summary at the end.
#pragma once

#include "core/topology.hpp"

#include <string>
#include <vector>

namespace libra::net {

/// Runs every node; returns 0 when every node exited 0, else the exit code of the first node that
/// failed. child_args: options passed on to every node (e.g. --log-level info).
int run_all_nodes(const core::topology& topo, const std::string& topology_file,
                  const std::vector<std::string>& child_args);

} // namespace libra::net
