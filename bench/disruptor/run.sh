#!/usr/bin/env bash
# Builds and runs the LMAX Disruptor baseline (DisruptorBench.java); see README.md beside this file.
#
#   bench/disruptor/run.sh [--quick] [--events N] [--trials T] [--mode single|batch|both]
#                          [--wait yielding|busy|blocking] [--batch n] [--json]
#
# --quick is a CI smoke run (--events 200000 --trials 2); arguments after it still override.
# Needs a JDK (javac, java) and the Disruptor jar from Debian: apt-get install -y default-jdk-headless
# libdisruptor-java. Without them it prints one line to stderr and exits 0 (stdout
# {"disruptor": null} when --json was given).
# Environment: DISRUPTOR_JAR (the jar), LIBRA_DISRUPTOR_BUILD (class dir, default
# ${TMPDIR:-/tmp}/libra-disruptor), LIBRA_DISRUPTOR_JAVA_OPTS (replaces the JVM flags below).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/DisruptorBench.java"

json=0
args=()
for a in "$@"; do
  case "$a" in
    --quick) args=(--events 200000 --trials 2 "${args[@]+"${args[@]}"}") ;;
    --json) json=1; args+=("$a") ;;
    *) args+=("$a") ;;
  esac
done

find_jar() {
  if [[ -n "${DISRUPTOR_JAR:-}" && -f "${DISRUPTOR_JAR}" ]]; then
    printf '%s\n' "$DISRUPTOR_JAR"
    return 0
  fi
  local d j
  for d in /usr/share/java /usr/local/share/java; do
    if [[ -f "$d/disruptor.jar" ]]; then
      printf '%s\n' "$d/disruptor.jar"
      return 0
    fi
    # Versioned names only (disruptor-3.4.4.jar), newest version last.
    j="$(find "$d" -maxdepth 1 -name 'disruptor-[0-9]*.jar' 2>/dev/null | sort -V | tail -n 1)"
    if [[ -n "$j" ]]; then
      printf '%s\n' "$j"
      return 0
    fi
  done
  return 1
}

skip() {
  echo "disruptor: skipped (no JDK or libdisruptor-java)" >&2
  if [[ "$json" == 1 ]]; then
    echo '{"disruptor": null}'
  fi
  exit 0
}

javac_bin="$(command -v javac || true)"
java_bin="$(command -v java || true)"
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/javac" && -x "$JAVA_HOME/bin/java" ]]; then
  javac_bin="$JAVA_HOME/bin/javac"
  java_bin="$JAVA_HOME/bin/java"
fi
[[ -n "$javac_bin" && -n "$java_bin" ]] || skip
jar="$(find_jar)" || skip

build="${LIBRA_DISRUPTOR_BUILD:-${TMPDIR:-/tmp}/libra-disruptor}"
classes="$build/classes"
stamp="$classes/DisruptorBench.class"
mkdir -p "$build"
# Recompile when the source or the jar is newer than the classes. Compile into a private directory
# and move it into place, so two runs at once do not see half-written classes.
if [[ ! -f "$stamp" || "$src" -nt "$stamp" || "$jar" -nt "$stamp" ]]; then
  tmp="$(mktemp -d "$build/classes.XXXXXX")"
  "$javac_bin" -nowarn -encoding UTF-8 -cp "$jar" -d "$tmp" "$src" >&2
  rm -rf "$classes"
  mv "$tmp" "$classes"
fi

# A fixed, small heap: the rings are ~10 MB per trial and nothing else is kept, and this runs on a
# shared 2-core machine beside the C++ benchmarks; a fixed size avoids heap resizing mid-trial.
read -r -a jvm_opts <<<"${LIBRA_DISRUPTOR_JAVA_OPTS:--Xms256m -Xmx256m -XX:+UseParallelGC}"
exec "$java_bin" "${jvm_opts[@]}" -cp "$classes:$jar" DisruptorBench "${args[@]+"${args[@]}"}"
