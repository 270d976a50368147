#!/usr/bin/env bash
# Line and branch coverage of libra's own code (runtime/ and actors/) by the test suite.
#
#   scripts/coverage.sh [--fail-under-line N] [--build DIR] [--html DIR]
#
# Builds a gcc Debug tree with gcov instrumentation (-DLIBRA_COVERAGE=ON; build-coverage by
# default), runs the suite in it (ctest -j2), then prints gcovr's summary and per-file table of
# runtime/ and actors/ (tests/, bench/ and build trees are not counted). Exits 1 when line coverage
# is below N percent (default 89: 89.7% measured with the journal and libra::testing in; raise it as coverage grows), 2 on a
# usage error.
# Only runtime/ and actors/ are instrumented: a public header's inline code counts as far as those
# libraries use it. Branch figures leave out the branches only exception handling adds
# (--exclude-throw-branches) and those gcc proves unreachable. --html DIR also writes a browsable
# report there.
# Needs gcovr (scripts/setup.sh --ci). The SDK package test (an install and an out-of-tree build)
# is left out: it adds no coverage. Environment: LIBRA_STRESS_EVENTS (default 50000, as under the
# sanitizers: the stress test's code paths are the same with fewer events).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
fail_under=89
build="$root/build-coverage"
html=""
usage() { sed -n '4,4p' "$0" | sed 's/^# \{0,1\}/usage: /' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --fail-under-line) [ $# -ge 2 ] || usage; fail_under="$2"; shift 2 ;;
    --fail-under-line=*) fail_under="${1#*=}"; shift ;;
    --build) [ $# -ge 2 ] || usage; build="$2"; shift 2 ;;
    --html) [ $# -ge 2 ] || usage; html="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "coverage.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ "$fail_under" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "coverage.sh: --fail-under-line wants a percentage" >&2; exit 2; }
[[ "$build" = /* ]] || build="$PWD/$build"
command -v gcovr >/dev/null || { echo "coverage.sh: gcovr is missing (bash scripts/setup.sh --ci)" >&2; exit 2; }

# -O0 without debug info: gcov needs neither, and it compiles faster; asserts stay on.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O0" \
  -DLIBRA_COVERAGE=ON -DLIBRA_BUILD_BENCH=OFF -DLIBRA_WERROR=OFF >/dev/null
cmake --build "$build"

# Counts from an earlier run would add up with this one's.
find "$build" -name '*.gcda' -delete
rm -rf "$build/gcov-limited" "$build/gcov-errors.log"
export LIBRA_STRESS_EVENTS="${LIBRA_STRESS_EVENTS:-50000}"
# A test child run under a file size limit (ulimit -f) would write truncated .gcda files and spoil
# every later merge into them: its counts go there instead, and are dropped. libgcov's messages go
# to a file, not to the stderr the tests read.
export LIBRA_GCOV_LIMITED_PREFIX="$build/gcov-limited"
export GCOV_ERROR_FILE="$build/gcov-errors.log"
ctest --test-dir "$build" --output-on-failure -j2 -E '^sdk_package$'

# Paths are filtered as regular expressions on absolute paths.
re_root="$(printf '%s' "$root" | sed 's/[][\.*^$+?(){}|]/\\&/g')"
report=()
[ -n "$html" ] && { mkdir -p "$html"; report=(--html-details "$html/index.html"); }
status=0
# Only the instrumented libraries' trees are searched: a tree once built with other flags keeps
# .gcno files whose line numbers disagree (gcovr 5.2 then asserts, and with -j hangs); the timeout
# turns any such hang into a failure instead of a stalled CI.
timeout 600 gcovr --root "$root" --object-directory "$build" -j 2 \
  --filter "$re_root/runtime/" --filter "$re_root/actors/" --exclude "$re_root/build[^/]*/" \
  --exclude-throw-branches --exclude-unreachable-branches \
  --txt --print-summary --fail-under-line "$fail_under" "${report[@]}" "$build/runtime" "$build/actors" || status=$?
if [ -s "$GCOV_ERROR_FILE" ]; then
  echo "coverage.sh: libgcov reported $(wc -l <"$GCOV_ERROR_FILE") problem(s) (first: $(head -n 1 "$GCOV_ERROR_FILE"))" >&2
fi
if [ "$status" -ne 0 ]; then
  echo "coverage.sh: line coverage is below $fail_under% (or gcovr failed, status $status)" >&2
  exit 1
fi
echo "coverage.sh: line coverage at or above $fail_under%"
