// libFuzzer harness of the market-data parsers and the bounded reader of gateway.replay: each
// input is parsed as one line of each format, and read as a file of each format (alone, and
// after a padding that puts the reader's refill boundary inside it) against a reference reader.
// See fuzz_entry.hpp and scripts/fuzz.
#include "fuzz_harness.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace {
std::unique_ptr<libra::fuzz::sandbox> box;
}

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  box = std::make_unique<libra::fuzz::sandbox>("market_data");
  std::atexit([] { box.reset(); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text{reinterpret_cast<const char*>(data), size}; // NOLINT: bytes as text
  libra::fuzz::guarded([&] { libra::fuzz::run_market_data(*box, text); });
  return 0;
}
