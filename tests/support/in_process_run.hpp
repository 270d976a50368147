// Runs a loaded topology in the test's own process, as libra-runtime would (run_topology, no
// progress line), for tests that register actor types of their own.
#pragma once

#include "core/runner.hpp"
#include "core/topology.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace libra::testing {

struct in_process_result {
  int rc = -1;
  std::string summary; ///< what run_topology printed as its summary
};

/// Runs topo; the summary goes through summary_path. run_topology blocks the signals it handles in
/// the calling thread and sets the log level: both are restored afterwards.
inline in_process_result run_in_process(const core::topology& topo, const std::filesystem::path& summary_path) {
  in_process_result r;
  std::FILE* summary = std::fopen(summary_path.c_str(), "w");
  if (summary == nullptr)
    return r;
  core::run_options opts;
  opts.progress = false;
  opts.summary = summary;
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  const auto level = spdlog::default_logger()->level();
  r.rc = core::run_topology(topo, opts);
  pthread_sigmask(SIG_SETMASK, &mask, nullptr);
  spdlog::set_level(level);
  std::fclose(summary);
  std::ifstream in{summary_path};
  r.summary.assign(std::istreambuf_iterator<char>{in}, {});
  return r;
}

} // namespace libra::testing
