#!/usr/bin/env bash
# Configures the one clang-14 tree that holds the ASan+UBSan test suite (scripts/sanitize.sh
# address), the libFuzzer targets (scripts/fuzz) and the coverage counts (scripts/coverage.sh), and
# prints its directory. One tree, not three: the code is compiled once, with the sanitizers and
# gcov instrumentation of runtime/ and actors/, for all three jobs, which saves CI two full builds
# and a run of the suite (coverage is counted during the ASan+UBSan run).
#
#   scripts/clang-tree.sh [BUILD_DIR]   (default: build-clang in the clone)
#
# -O1 -g1 (line tables, enough for the reports' stacks) compiles CAF-heavy code much faster than
# -O2 -g; asserts stay on. Warnings are not errors here (the gcc build with -DLIBRA_WERROR=ON holds
# the code to that). Configures only when the cache lacks these settings, so a second call (the
# other job) is a no-op and rebuilds nothing. Environment: CC/CXX (default clang-14/clang++-14).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build-clang}"
[[ "$build" = /* ]] || build="$PWD/$build"

if ! grep -qs '^LIBRA_FUZZ:BOOL=ON' "$build/CMakeCache.txt" \
  || ! grep -qs '^LIBRA_COVERAGE:BOOL=ON' "$build/CMakeCache.txt" \
  || ! grep -qs '^LIBRA_SANITIZE:STRING=address,undefined$' "$build/CMakeCache.txt" \
  || ! grep -qs '^LIBRA_HEADER_CHECK:BOOL=OFF' "$build/CMakeCache.txt"; then
  CC="${CC:-clang-14}" CXX="${CXX:-clang++-14}" cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DLIBRA_SANITIZE=address,undefined -DLIBRA_FUZZ=ON -DLIBRA_COVERAGE=ON \
    -DLIBRA_BUILD_TESTS=ON -DLIBRA_BUILD_BENCH=OFF -DLIBRA_HEADER_CHECK=OFF -DLIBRA_WERROR=OFF >/dev/null \
    || { echo "clang-tree.sh: configuring $build failed (clang-14 and libclang-rt-14-dev installed?)" >&2; exit 2; }
fi
echo "$build"
