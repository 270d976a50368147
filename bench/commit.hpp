// The commit a benchmark was built from.
#pragma once

namespace libra::bench {

/// git describe --dirty of the source tree at build time (bench/commit.cpp).
const char* build_commit() noexcept;

} // namespace libra::bench
