#!/usr/bin/env bash
# The SDK as an outside author uses it: install libra into a temporary prefix, build the example
# actor (actors/examples) against it with find_package(libra), load it into libra-runtime as a
# plugin and check that it ran; then test that actor with libra::testing from the installed
# package, in a program without any test framework.
set -euo pipefail
build=$1
src=$(cd "$2" && pwd)
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

mkdir -p "$tmp/consumer"
cat > "$tmp/consumer/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.18)
project(libra_consumer_test CXX)
find_package(libra 0.1 REQUIRED)
add_executable(tick_counter_test tick_counter_test.cpp $src/actors/examples/tick_counter.cpp)
target_link_libraries(tick_counter_test PRIVATE libra::testing)
target_compile_features(tick_counter_test PRIVATE cxx_std_20)
CMAKE
cat > "$tmp/consumer/tick_counter_test.cpp" <<'CPP'
// example.tick_counter on libra::testing, with no test framework: 5 ticks, every 2 -> 2 signals.
#include <libra/libra.hpp>
#include <libra/testing.hpp>

#include <cstdio>

LIBRA_PLUGIN(registry); // defined in tick_counter.cpp

int main() {
  libra::actor_registry registry;
  libra_register_actors(registry);
  libra::testing::fixture f;
  f.add(registry, "example.tick_counter", "counter", "{every: 2}");
  f.start();
  const auto px = libra::price::from_double(1.1);
  for (int i = 0; i < 5; ++i)
    f.publish(libra::event::create(libra::event_type::tick, "feed", libra::tick{"EUR/USD", px, px, {}, {}, {}, {}}));
  f.run_until_idle();
  const auto signals = f.published(libra::event_type::signal).size();
  f.stop();
  if (signals != 2 || f.log("counter").find("ticks seen: 5") == std::string::npos) {
    std::printf("FAIL: %zu signals, log: %s\n", signals, f.log("counter").c_str());
    return 1;
  }
  std::puts("libra::testing: 2 signals from 5 ticks");
  return 0;
}
CPP
cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" > "$tmp/consumer.log"
cmake --build "$tmp/consumer/build" >> "$tmp/consumer.log" || { cat "$tmp/consumer.log"; exit 1; }
"$tmp/consumer/build/tick_counter_test"

echo "sdk package: installed, example built out of tree, plugin loaded and ran, tested with libra::testing"
