#!/usr/bin/env bash
# Deterministic mode's cost: full-chain ticks/s (gateway -> strategy.sma_cross -> risk.engine ->
# execution.paper -> position.manager, plus the recorder, as config/default.yaml) with
# --deterministic beside the same run free-running, interleaved, same data, same process build.
#
#   bench/deterministic.sh [--build DIR] [--ticks N] [--trials N] [--json FILE]
#
# Ticks come from gateway.synthetic (seeded, rate 0: as fast as possible) so that a run is long
# enough to time; ticks/s = TICK events / the summary's wall time (start-up included). --json FILE
# also writes the medians and the ratio as one JSON object (bench/run.sh collects it).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build"
ticks=300000
trials=3
json=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift ;;
    --ticks) ticks="$2"; shift ;;
    --trials) trials="$2"; shift ;;
    --json) json="$2"; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "bench/deterministic.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
bin="$build/runtime/libra-runtime"
[ -x "$bin" ] || { echo "bench/deterministic.sh: no $bin (build libra-runtime)" >&2; exit 2; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/chain.yaml" <<YAML
bus: {capacity: 100000, credit_window: 16, batch_size: 8, drain_timeout_ms: 5000}
runtime: {workers: 2, stats_interval_s: 1}
logging: {level: warn}
actors:
  - {name: gw, type: gateway.synthetic, params: {instrument: EUR/USD, seed: 7, rate: 0, count: $ticks,
     start_price: 1.1212, tick_size: 0.00001, spread: 0.0001}}
  - {name: strategy, type: strategy.sma_cross, params: {instrument: EUR/USD, fast: 10, slow: 40}}
  - {name: risk, type: risk.engine, params: {execution: venue, order_quantity: 100000, max_order_quantity: 500000,
     max_notional: 200000, max_position: 100000, max_orders_per_second: 1, capital: 1000000,
     drawdown_warning: 0.0005, drawdown_halt: 0.01}}
  - {name: venue, type: execution.paper, params: {fee_rate: 0.00002}}
  - {name: positions, type: position.manager, params: {mark_interval_ms: 60000}}
  - {name: recorder, type: recorder, params: {file: $tmp/events.jsonl, types: [SIGNAL, ORDER_NEW, ORDER_FILLED,
     ORDER_REJECTED, POSITION_OPENED, POSITION_UPDATED, POSITION_CLOSED, RISK_LIMIT_BREACH]}}
YAML

# ticks/s of one run: TICK count / wall time, from the summary.
rate() {
  "$bin" "$tmp/chain.yaml" --no-progress "$@" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  awk '/^wall time/ {w=$3} /^events by type/ {for (i=1;i<=NF;i++) if ($i ~ /^TICK=/) {split($i,a,"="); t=a[2]}}
       END {printf "%.0f\n", t/w}' "$tmp/out"
}

det=(); free=()
for ((i = 0; i < trials; i++)); do
  free+=("$(rate)")
  det+=("$(rate --deterministic)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
fm=$(median "${free[@]}"); dm=$(median "${det[@]}")
echo "libra deterministic mode: $ticks synthetic ticks through the default chain, $trials trials interleaved"
echo
echo "| mode | ticks/s (median) | trials | ratio |"
echo "|---|---|---|---|"
echo "| free-running | $fm | ${free[*]} | 1 |"
echo "| deterministic | $dm | ${det[*]} | $(awk -v d="$dm" -v f="$fm" 'BEGIN {printf "%.2f", d/f}') |"
if [ -n "$json" ]; then
  printf '{"ticks": %s, "trials": %s, "free_ticks_per_s": %s, "deterministic_ticks_per_s": %s}\n' \
    "$ticks" "$trials" "$fm" "$dm" >"$json"
fi
