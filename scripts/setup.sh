#!/usr/bin/env bash
# Installs exactly what libra's build and tests need, from Debian's packages; with --ci also what
# CI's extra jobs need (sanitizers and fuzzers with clang, coverage, benchmark baselines, load-test
# plots).
# Idempotent; runs as root on a fresh machine, or through sudo otherwise.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libcaf-dev               # C++ Actor Framework 0.17
  libconcurrentqueue-dev   # moodycamel::ConcurrentQueue (the broker's staging queues)
  libspdlog-dev libfmt-dev # logging
  libyaml-cpp-dev          # topology files
  libcli11-dev             # command lines of tools and benchmarks
  libxxhash-dev            # XXH3 checksums of the event journal
  prometheus-cpp-dev       # libra-runtime --metrics (the pull exposer)
  curl                     # the metrics test scrapes /metrics
  catch2                   # tests (v2)
  openssl                  # the tests' TLS certificates (a CA and node certificates, made per run)
  iproute2 nftables        # the network tests' namespaces: a partition, a lossy link (root only)
  clang-format clang-tidy python3 # formatting and lint checks
)
if [ "${1:-}" = "--ci" ]; then
  packages+=(
    clang-14 libclang-rt-14-dev llvm-14  # ASan+UBSan, libFuzzer (scripts/fuzz), llvm-cov (coverage)
    gnuplot-nox                          # scripts/loadtest's plots
    gcovr                                # scripts/coverage.sh
    default-jdk-headless libdisruptor-java # the LMAX Disruptor baseline (bench/disruptor)
  )
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: not root and no sudo: install ${missing[*]} by hand" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
