#!/usr/bin/env bash
# Builds a ThreadSanitizer-instrumented libcaf_core from Debian's own source of the installed CAF
# and prints the directory that holds it (for LD_LIBRARY_PATH).
#
#   scripts/caf-tsan.sh [CACHE_DIR]   (default: /var/cache/libra-caf-tsan/CAF_VERSION-gccGCC_VERSION
#                                      when writable (root, as in CI), else
#                                      ${XDG_CACHE_HOME:-~/.cache}/libra/caf-tsan-...: outside the
#                                      clone, so a second CI run on the machine reuses it)
#
# Why: Debian's libcaf_core is not instrumented, so TSan cannot see the atomics CAF's mailboxes
# synchronise with, and reports every message handed from one actor to another as a race (about
# 1,900 reports in the bus tests alone). With CAF's own code instrumented those false reports go
# away and the real ones stay visible. Same version, same build_config.hpp as Debian's package
# (checked), so the library is a drop-in for the test run. Built once per cache directory: only
# libcaf_core (libra links nothing else of CAF), at -O1, through ccache when it is installed.
set -euo pipefail

version="$(dpkg-query -W -f='${source:Upstream-Version}' libcaf-dev)"
# The compiler is part of the key: its TSan runtime must match the one libra's build links.
key="$version-gcc$(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion)"
if [ -n "${1:-}" ]; then
  cache="$1"
elif mkdir -p /var/cache/libra-caf-tsan 2>/dev/null && [ -w /var/cache/libra-caf-tsan ]; then
  cache="/var/cache/libra-caf-tsan/$key"
else
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/libra/caf-tsan-$key"
fi
lib="$cache/build/lib/libcaf_core.so.$version"
if [ -f "$lib" ]; then
  dirname "$lib"
  exit 0
fi
mkdir -p "$cache"
cd "$cache"

tarball="actor-framework_${version}.orig.tar.gz"
if [ ! -f "$tarball" ]; then
  # Debian's source package: needs deb-src entries, added next to the deb ones when missing.
  if ! apt-get source --help >/dev/null 2>&1 || ! grep -rqs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      sed 's/^Types: deb$/Types: deb-src/' "$f" >"/etc/apt/sources.list.d/libra-src-$(basename "$f")"
    done
    apt-get update -q >&2
  fi
  # Only the upstream tarball is needed; a missing Debian patch archive does not matter here.
  apt-get source -q --download-only "actor-framework=$(dpkg-query -W -f='${source:Version}' libcaf-dev)" >&2 || true
  [ -f "$tarball" ] || { echo "caf-tsan.sh: could not fetch $tarball" >&2; exit 1; }
fi
rm -rf src && mkdir src && tar xzf "$tarball" -C src --strip-components=1

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S src -B build -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" \
  -DCAF_NO_EXAMPLES=yes -DCAF_NO_UNIT_TESTS=yes -DCAF_NO_OPENCL=yes -DCAF_NO_OPENSSL=yes \
  -DCAF_NO_PYTHON=yes -DCAF_NO_TOOLS=yes -DCAF_NO_IO=yes -DCAF_NO_SUMMARY=yes >&2
# The library must match the headers libra compiles against.
if ! diff -q <(grep '^#' build/libcaf_core/caf/detail/build_config.hpp) \
             <(grep '^#' /usr/include/caf/detail/build_config.hpp) >/dev/null; then
  echo "caf-tsan.sh: build_config.hpp differs from the installed one" >&2
  exit 1
fi
cmake --build build --target libcaf_core_shared >&2
[ -f "$lib" ] || { echo "caf-tsan.sh: $lib was not built" >&2; exit 1; }
dirname "$lib"
