// libFuzzer harness of the topology loader: each input is written to a per-process sandbox as
// topology.yaml and loaded with the built-in actor types. config_error is the expected failure;
// anything else (another exception, a broken invariant, a crash, a sanitizer report, a hang) is
// a finding. See fuzz_entry.hpp and scripts/fuzz.
#include "fuzz_harness.hpp"

#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace {
std::unique_ptr<libra::fuzz::sandbox> box;
}

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  spdlog::set_level(spdlog::level::off);
  box = std::make_unique<libra::fuzz::sandbox>("topology");
  std::atexit([] { box.reset(); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text{reinterpret_cast<const char*>(data), size}; // NOLINT: bytes as text
  libra::fuzz::guarded([&] { (void)libra::fuzz::run_topology(*box, text); });
  return 0;
}
