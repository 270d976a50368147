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

# A unity build (LIBRA_UNITY) compiles batches, not the source files: clang-tidy gets a compile
# database with one entry per source file, each with its batch's flags.
db="$(mktemp -d)"
trap 'rm -rf "$db"' EXIT
python3 - "$build/compile_commands.json" "$db/compile_commands.json" <<'PY'
import json, re, sys
entries = []
for e in json.load(open(sys.argv[1])):
    if not re.search(r"/Unity/unity_[^/]*\.cxx$", e["file"]):
        entries.append(e)
        continue
    for src in re.findall(r'^#include "([^"]+)"', open(e["file"]).read(), re.M):
        entries.append(dict(e, file=src, command=e["command"].replace(e["file"], src)))
json.dump(entries, open(sys.argv[2], "w"), indent=1)
PY
# Only translation units this build compiles (the database knows their flags).
mapfile -t tus < <(git ls-files 'runtime/*.cpp' 'actors/*.cpp' ':!actors/examples/*' \
  | while read -r f; do grep -q "\"file\": \"$PWD/$f\"" "$db/compile_commands.json" && echo "$f"; done)
echo "lint: clang-tidy on ${#tus[@]} translation units"
printf '%s\n' "${tus[@]}" | xargs -P "$(nproc)" -n 1 clang-tidy -p "$db" --quiet 2> >(grep -v "warnings generated" >&2)
echo "lint: clean"
