#!/usr/bin/env bash
# Line and branch coverage of libra's own code (runtime/ and actors/) by the test suite.
#
#   scripts/coverage.sh [--fail-under-line N] [--build DIR] [--html DIR] [--reuse]
#
# Counted in the clang tree (scripts/clang-tree.sh, build-clang by default), where runtime/ and
# actors/ carry gcov instrumentation beside ASan+UBSan: the suite's ASan+UBSan run
# (scripts/sanitize.sh address) is also the coverage run, so CI builds and runs the suite once for
# both. Without --reuse this script does that run first; with --reuse it only reports the counts the
# last run left in DIR (CI: right after scripts/sanitize.sh address). Then it prints gcovr's summary
# and per-file table of runtime/ and actors/ (tests/, bench/ and build trees are not counted), read
# through llvm-cov gcov for a clang tree (gcov for a gcc one). Exits 1 when line coverage is below
# N percent (default 90: 91.1% measured in the clang tree; raise it as coverage grows), 2 on a usage error.
# Only runtime/ and actors/ are instrumented: a public header's inline code counts as far as those
# libraries use it. Branch figures leave out the branches only exception handling adds
# (--exclude-throw-branches) and those the compiler proves unreachable. --html DIR also writes a
# browsable report there. Needs gcovr and llvm-14 (scripts/setup.sh --ci).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
fail_under=90
build="$root/build-clang"
html=""
reuse=false
usage() { sed -n '4,4p' "$0" | sed 's/^# \{0,1\}/usage: /' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --fail-under-line) [ $# -ge 2 ] || usage; fail_under="$2"; shift 2 ;;
    --fail-under-line=*) fail_under="${1#*=}"; shift ;;
    --build) [ $# -ge 2 ] || usage; build="$2"; shift 2 ;;
    --html) [ $# -ge 2 ] || usage; html="$2"; shift 2 ;;
    --reuse) reuse=true; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "coverage.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ "$fail_under" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "coverage.sh: --fail-under-line wants a percentage" >&2; exit 2; }
[[ "$build" = /* ]] || build="$PWD/$build"
command -v gcovr >/dev/null || { echo "coverage.sh: gcovr is missing (bash scripts/setup.sh --ci)" >&2; exit 2; }

if ! $reuse; then
  bash "$root/scripts/sanitize.sh" address "$build"
fi
grep -qs '^LIBRA_COVERAGE:BOOL=ON' "$build/CMakeCache.txt" \
  || { echo "coverage.sh: $build is not instrumented (-DLIBRA_COVERAGE=ON; scripts/clang-tree.sh makes one)" >&2; exit 2; }
[ -n "$(find "$build" -name '*.gcda' -print -quit)" ] \
  || { echo "coverage.sh: no counts in $build: run the suite there first, or drop --reuse" >&2; exit 2; }

# The gcov reader must match the compiler's format: llvm-cov gcov of the same major version for clang.
gcov=(gcov)
compiler="$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")"
if "$compiler" --version 2>/dev/null | grep -q clang; then
  major="$("$compiler" -dumpversion | cut -d. -f1)"
  gcov=("llvm-cov-$major" gcov)
  command -v "${gcov[0]}" >/dev/null || { echo "coverage.sh: ${gcov[0]} is missing (bash scripts/setup.sh --ci)" >&2; exit 2; }
fi

re_root="$(printf '%s' "$root" | sed 's/[][\.*^$+?(){}|]/\\&/g')"
report=()
[ -n "$html" ] && { mkdir -p "$html"; report=(--html-details "$html/index.html"); }
status=0
# Only the instrumented trees are searched: a stale .gcno elsewhere made gcovr 5.2 assert (and hang with -j).
timeout 600 gcovr --root "$root" --object-directory "$build" -j 2 --gcov-executable "${gcov[*]}" \
  --filter "$re_root/runtime/" --filter "$re_root/actors/" --exclude "$re_root/build[^/]*/" \
  --exclude-throw-branches --exclude-unreachable-branches \
  --txt --print-summary --fail-under-line "$fail_under" "${report[@]}" "$build/runtime" "$build/actors" || status=$?
if [ "$status" -ne 0 ]; then
  echo "coverage.sh: line coverage is below $fail_under% (or gcovr failed, status $status)" >&2
  exit 1
fi
echo "coverage.sh: line coverage at or above $fail_under%"
