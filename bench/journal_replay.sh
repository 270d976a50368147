#!/usr/bin/env bash
# Journal replay speed in events/s: `libra-journal cat` (decode and print every record) and the
# gateway.journal actor at speed max (decode and publish every TICK on the bus, no subscriber
# but the runtime's monitor), free-running and deterministic, on the same journal in one run.
#
#   bench/journal_replay.sh [--build DIR] [--ticks N] [--trials N] [--json FILE]
#
# The journal is recorded first from gateway.synthetic (seeded, TICKs only journaled). cat's rate
# = records / its wall time (process start included); gateway.journal's = TICK events / the
# summary's wall time (start-up included, as bench/deterministic.sh). --json FILE also writes the
# medians and the trials as one JSON object (bench/run.sh collects it).
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
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "bench/journal_replay.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
bin="$build/runtime/libra-runtime"
tool="$build/runtime/libra-journal"
for b in "$bin" "$tool"; do
  [ -x "$b" ] || { echo "bench/journal_replay.sh: no $b (build libra-runtime libra-journal)" >&2; exit 2; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/record.yaml" <<YAML
logging: {level: warn}
journal: {dir: $tmp/journal, types: [TICK]}
actors:
  - {name: gw, type: gateway.synthetic, params: {instrument: EUR/USD, seed: 7, rate: 0, count: $ticks}}
YAML
cat >"$tmp/replay.yaml" <<YAML
logging: {level: warn}
actors:
  - {name: gw, type: gateway.journal, params: {dir: $tmp/journal, speed: max}}
YAML
"$bin" "$tmp/record.yaml" --no-progress >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
records=$("$tool" stats "$tmp/journal" | awk '/^records/ {print $2}')
bytes=$(cat "$tmp/journal"/*.journal | wc -c)

now() { date +%s.%N; }
cat_rate() {
  local t0 t1
  t0=$(now)
  "$tool" cat "$tmp/journal" >/dev/null
  t1=$(now)
  awk -v n="$records" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f\n", n/(b-a)}'
}
replay_rate() {
  "$bin" "$tmp/replay.yaml" --no-progress "$@" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  awk '/^wall time/ {w=$3} /^events by type/ {for (i=1;i<=NF;i++) if ($i ~ /^TICK=/) {split($i,a,"="); t=a[2]}}
       END {printf "%.0f\n", t/w}' "$tmp/out"
}

cat_r=(); free=(); det=()
for ((i = 0; i < trials; i++)); do
  cat_r+=("$(cat_rate)")
  free+=("$(replay_rate)")
  det+=("$(replay_rate --deterministic)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "libra journal replay: $records TICK records ($bytes bytes), $trials trials interleaved"
echo
echo "| reader | events/s (median) | trials |"
echo "|---|---|---|"
echo "| libra-journal cat (text to /dev/null) | $(median "${cat_r[@]}") | ${cat_r[*]} |"
echo "| gateway.journal, speed max, free-running | $(median "${free[@]}") | ${free[*]} |"
echo "| gateway.journal, speed max, deterministic | $(median "${det[@]}") | ${det[*]} |"
if [ -n "$json" ]; then
  printf '{"records": %s, "bytes": %s, "trials": %s, "cat_events_per_s": %s, "replay_free_events_per_s": %s, "replay_deterministic_events_per_s": %s}\n' \
    "$records" "$bytes" "$trials" "$(median "${cat_r[@]}")" "$(median "${free[@]}")" "$(median "${det[@]}")" >"$json"
fi
