#!/usr/bin/env bash
# Runs every libra benchmark (and the Disruptor baseline when a JDK is present) in bounded time and
# writes bench/results.json (all figures) and bench/results.md (all tables).
#
#   bench/run.sh [--quick] [--build DIR] [--out DIR]
#
# The build is build-bench (Release); --build DIR uses DIR instead, as configured if it is.
# --quick is the CI smoke run (seconds): it proves the programs build and run, not the figures.
# Full run: about 8 min on the 2-core machine (libra-bench-net about 1, the journal replay and
# deterministic-mode scripts about 1 each). Every figure is measured
# beside its baseline in the same run, interleaved; read the ratios, not the absolute numbers (the
# machine drifts).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-bench"
out="$root/bench"
quick=0
build_given=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --build) build="$2"; build_given=1; shift ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$out"

targets=(libra-bench-throughput libra-bench-publish libra-bench-latency libra-bench-priority libra-bench-memory
  libra-bench-journal libra-bench-conflation libra-bench-net)
# Configure every time: cheap, and it stamps the current commit into the results. A tree that
# --build names and that is configured already keeps its settings (CI's smoke run uses the test
# tree, which has built the benchmarks: nothing to compile); a new one is Release, without tests.
if [ "$build_given" = 1 ] && [ -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" >/dev/null
else
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLIBRA_BUILD_TESTS=OFF >/dev/null
fi
# The two scripts that time libra-runtime and libra-journal as processes need them too.
cmake --build "$build" --target "${targets[@]}" libra-runtime libra-journal

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
md="$tmp/results.md"
start=$(date +%s)

# name, then the program's arguments (full run | quick run)
run() {
  local name="$1"; shift
  local t0=$(date +%s)
  echo "bench/run.sh: $name ..." >&2
  "$build/bench/libra-bench-$name" "$@" --json "$tmp/$name.json" | tee -a "$md"
  echo >>"$md"
  echo "bench/run.sh: $name done in $(( $(date +%s) - t0 )) s" >&2
}

# A script (bench/NAME.sh) that times libra-runtime as a process; its JSON goes in as NAME.
script() {
  local name="$1"; shift
  local t0=$(date +%s)
  echo "bench/run.sh: $name ..." >&2
  { echo "## $name"; echo; bash "$root/bench/$name.sh" --build "$build" "$@" --json "$tmp/$name.json"; } | tee -a "$md"
  echo >>"$md"
  echo "bench/run.sh: $name done in $(( $(date +%s) - t0 )) s" >&2
}

# W x k: the scaling table; the default (64:32) is chosen from it (see bench/README.md).
combos="1:1,4:1,4:4,16:1,16:8,64:8,64:32,256:32"
if [ "$quick" = 1 ]; then
  run throughput --quick --combos 16:8 --subscribers 4 --publishers 2
  run publish --quick
  run latency --quick
  run priority --quick
  run memory --quick
  run journal --quick
  run conflation --quick --rates 0,1000000
  run net --quick
  script journal_replay --ticks 20000 --trials 1
  script deterministic --ticks 20000 --trials 1
  disruptor_args=(--quick --batch 64 --json)
else
  run throughput --events 1000000 --trials 5 --combos "$combos"
  run publish --events 1000000 --trials 5
  run latency --seconds 1 --trials 3
  # Three probes (RISK, ORDER_NEW, SIGNAL) per W:k: fewer combos keep the run within minutes.
  run priority --combos 1:1,4:4,16:8,64:32,256:32
  run memory
  run journal --events 1000000 --trials 5
  run conflation --events 1000000 --trials 5 --rates 0,1000000
  # Two processes on loopback; ~1 min (a node pair per link window W).
  run net
  # Journal replay (libra-journal cat, gateway.journal) and deterministic mode's cost, ~1 min each.
  script journal_replay --ticks 300000 --trials 3
  script deterministic --ticks 300000 --trials 3
  disruptor_args=(--events 1000000 --trials 5 --batch 64 --json)
fi

# The LMAX Disruptor (Java) baseline: 1 producer -> 1 consumer, 128-byte events.
echo "bench/run.sh: disruptor ..." >&2
if bash "$root/bench/disruptor/run.sh" "${disruptor_args[@]}" >"$tmp/disruptor.out"; then
  tail -n 1 "$tmp/disruptor.out" >"$tmp/disruptor.json"
  { echo "## LMAX Disruptor (Java)"; echo; sed '$d' "$tmp/disruptor.out"; echo; } | tee -a "$md"
else
  echo "bench/run.sh: the Disruptor baseline failed" >&2
  exit 1
fi

# One JSON document: each program's own JSON under its name.
{
  echo "{"
  echo "  \"quick\": $([ "$quick" = 1 ] && echo true || echo false),"
  echo "  \"seconds\": $(( $(date +%s) - start )),"
  sep=""
  for name in throughput publish latency priority memory journal conflation net journal_replay deterministic; do
    printf '%s  "%s": ' "$sep" "$name"
    cat "$tmp/$name.json"
    sep=","
  done
  printf ',  "disruptor_java": '
  cat "$tmp/disruptor.json"
  echo "}"
} >"$out/results.json"
cp "$md" "$out/results.md"
echo "bench/run.sh: wrote $out/results.json and $out/results.md in $(( $(date +%s) - start )) s" >&2
