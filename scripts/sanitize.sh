#!/usr/bin/env bash
# Builds the test suite under a sanitizer and runs all of it; any report fails the run.
#
#   scripts/sanitize.sh address|thread [BUILD_DIR]
#
# address = ASan + UBSan with clang-14, in the tree the fuzzers and coverage share
# (scripts/clang-tree.sh, build-clang; the run also leaves the counts scripts/coverage.sh reads);
# thread = TSan with gcc (build-tsan), against a TSan-built CAF, on the tests that race inside the
# test process (Catch tag [process] marks the ones that start libra-runtime or libra-journal: their
# processes run the same bus, broker, runner and node code the in-process tests race on, at many
# times the cost under TSan; the normal and ASan+UBSan runs take them). Warnings are not errors here: the
# normal build (-DLIBRA_WERROR=ON) already holds the code to that, and the sanitizer
# instrumentation adds warnings of its own (-Wtsan on atomic_thread_fence in moodycamel's header).
# The SDK package test is left out: it installs and builds an out-of-tree project without the
# sanitizer runtime, which is a packaging check, not a memory or thread check.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
kind="${1:-}"
case "$kind" in
  address) build="$(bash "$root/scripts/clang-tree.sh" ${2:+"$2"})" ;;
  thread) build="${2:-$root/build-tsan}" ;;
  *) echo "usage: scripts/sanitize.sh address|thread [BUILD_DIR]" >&2; exit 2 ;;
esac

if [ "$kind" = thread ]; then
  # TSan needs CAF's own code instrumented too, or every message handed between actors is reported
  # (scripts/caf-tsan.sh builds it once from Debian's source of the installed version, and caches it).
  caf_lib="$(bash "$root/scripts/caf-tsan.sh")"
  export LD_LIBRARY_PATH="$caf_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "sanitize.sh: CAF instrumented for TSan from $caf_lib"
  # -O1 -g1 (line tables, enough for the reports' stacks) compiles CAF-heavy code much faster than
  # -O2 -g, which matters in CI; asserts stay on.
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DLIBRA_SANITIZE=thread -DLIBRA_BUILD_BENCH=OFF -DLIBRA_HEADER_CHECK=OFF -DLIBRA_WERROR=OFF \
    -DLIBRA_PROCESS_TESTS=OFF >/dev/null
fi
# The test programs and what their tests run, not the compile-only checks (the documentation's code
# blocks: the normal build compiles them) nor the fuzzers (scripts/fuzz builds them).
cmake --build "$build" --target libra-tests libra-tutorial-tests

# halt_on_error: the first report ends the process (and so fails its test).
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/sanitizers/tsan.supp"
# The stress test's 4 x 1M events take minutes under a sanitizer; 4 x 50k still races plenty.
export LIBRA_STRESS_EVENTS="${LIBRA_STRESS_EVENTS:-50000}"
# A tree with gcov instrumentation (the clang tree: scripts/coverage.sh reads its counts) starts
# from zero counts. A child under a file-size limit (runtime_hardening_test) writes its counts under
# LIBRA_GCOV_LIMITED_PREFIX, where they are dropped: the limit would truncate the tree's .gcda files.
if grep -qs '^LIBRA_COVERAGE:BOOL=ON' "$build/CMakeCache.txt"; then
  find "$build" -name '*.gcda' -delete
  rm -rf "$build/gcov-limited"
  export LIBRA_GCOV_LIMITED_PREFIX="$build/gcov-limited"
fi
ctest --test-dir "$build" --output-on-failure -j2 -E '^sdk_package$'
echo "sanitize.sh: $kind: all tests passed with no report"
