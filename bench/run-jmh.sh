#!/usr/bin/env bash
# Runs dit4j's JMH suite and prints the results table with machine, date and versions.
#   bench/run-jmh.sh                      the CPU defaults (host overhead, linear fwd+bwd, attention)
#   bench/run-jmh.sh -p device=cuda:0 -p dtype=bfloat16 -p backend=FLASH,EFFICIENT,CUDNN,MATH
# Extra arguments go to JMH. Needs a JDK >= 22 (JAVA_HOME, or found like ./dit4j does).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/bench/java.sh"
out=${OUT_DIR:-$root/bench/target}
echo "# $(date -u +%Y-%m-%d) $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# $("$java_bin" -version 2>&1 | head -1)"
"$java_bin" --enable-native-access=ALL-UNNAMED -jar "$jar" -rf json -rff "$out/jmh-result.json" "$@"
