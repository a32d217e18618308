#!/usr/bin/env bash
# Runs dit4j's JMH suite and prints the results table with machine, date and versions.
#   bench/run-jmh.sh                      the CPU defaults (host overhead, linear fwd+bwd, attention)
#   bench/run-jmh.sh -p device=cuda:0 -p dtype=bfloat16 -p backend=FLASH,EFFICIENT,CUDNN,MATH
# Extra arguments go to JMH. Needs a JDK >= 22 (JAVA_HOME, or found like ./dit4j does).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
java_bin="${JAVA_HOME:+$JAVA_HOME/bin/java}"
if [ -z "$java_bin" ] || ! "$java_bin" -version 2>&1 | grep -qE 'version "(2[2-9]|[3-9][0-9])'; then
  java_bin=$(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | while read -r j; do
    "$j" -version 2>&1 | grep -qE 'version "(2[2-9]|[3-9][0-9])' && { echo "$j"; break; }; done)
fi
[ -n "$java_bin" ] || { echo "needs a JDK >= 22 (set JAVA_HOME)" >&2; exit 1; }
jar="$root/bench/target/benchmarks.jar"
[ -f "$jar" ] || (cd "$root" && mvn -q -B -DskipTests package -pl bench -am)
out=${OUT_DIR:-$root/bench/target}
echo "# $(date -u +%Y-%m-%d) $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# $("$java_bin" -version 2>&1 | head -1)"
"$java_bin" --enable-native-access=ALL-UNNAMED -jar "$jar" -rf json -rff "$out/jmh-result.json" "$@"
