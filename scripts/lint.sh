#!/usr/bin/env bash
# Format and lint checks: clang-format (no diff allowed) and clang-tidy (.clang-tidy's checks,
# warnings are errors) over libra's own sources. Needs a configured build dir for
# compile_commands.json (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}

mapfile -t all < <(git ls-files '*.cpp' '*.hpp')
echo "lint: clang-format on ${#all[@]} files"
clang-format --dry-run -Werror "${all[@]}"

# Only translation units this build compiles (compile_commands.json knows their flags).
mapfile -t tus < <(git ls-files 'runtime/*.cpp' 'actors/*.cpp' ':!actors/examples/*' \
  | while read -r f; do grep -q "\"file\": \"$PWD/$f\"" "$build/compile_commands.json" && echo "$f"; done)
echo "lint: clang-tidy on ${#tus[@]} translation units"
printf '%s\n' "${tus[@]}" | xargs -P "$(nproc)" -n 1 clang-tidy -p "$build" --quiet 2> >(grep -v "warnings generated" >&2)
echo "lint: clean"
