#!/usr/bin/env bash
# The SDK as an outside author uses it: install libra into a temporary prefix, build the example
# actor (actors/examples) against it with find_package(libra), load it into libra-runtime as a
# plugin and check that it ran.
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log"
cmake -S "$src/actors/examples" -B "$tmp/example" -DCMAKE_PREFIX_PATH="$tmp/prefix" > "$tmp/configure.log"
cmake --build "$tmp/example" > "$tmp/build.log"
plugin="$tmp/example/libra_example_plugin.so"
test -f "$plugin"

cat > "$tmp/topology.yaml" <<YAML
plugins: [$plugin]
actors:
  - name: gen
    type: gateway.synthetic
    params: {instrument: EUR/USD, seed: 3, count: 5000}
  - name: counter
    type: example.tick_counter
    params: {every: 100}
YAML
"$tmp/prefix/bin/libra-runtime" "$tmp/topology.yaml" --check
"$tmp/prefix/bin/libra-runtime" "$tmp/topology.yaml" --no-progress > "$tmp/run.out" 2>&1 || { cat "$tmp/run.out"; exit 1; }
grep -q "TICK=5000" "$tmp/run.out" || { echo "expected 5000 ticks"; cat "$tmp/run.out"; exit 1; }
grep -q "SIGNAL=50" "$tmp/run.out" || { echo "expected 50 signals from the plugin actor"; cat "$tmp/run.out"; exit 1; }
echo "sdk package: installed, example built out of tree, plugin loaded and ran"
