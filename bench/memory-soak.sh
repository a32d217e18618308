#!/usr/bin/env bash
# Memory soak of the main job's DiT (bench/src/main/java/dev/dit4j/bench/MemorySoak.java): N training
# steps at batch 64, then N guided DDPM sampling steps at batch 100, printing resident memory, malloc's
# bytes, the JVM's native memory (NMT), the Java heap and Torch.liveTensors() every 1,000 steps.
#   bench/memory-soak.sh [train-steps (10000)] [sample-steps (= train-steps)] [more MemorySoak options]
# The JVM gets ./dit4j's options (DIT4J_JAVA_OPTS, default -Xmn64m); DIT4J_JAVA_OPTS= (empty) measures
# the JVM's defaults, DIT4J_JAVA_OPTS=-XX:+AlwaysPreTouch the native side alone (the heap touched up front).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
train=${1:-10000}
sample=${2:-$train}
shift $(( $# < 2 ? $# : 2 ))
source "$root/bench/java.sh"
echo "# JVM options: '${DIT4J_JAVA_OPTS--Xmn64m}'"
# shellcheck disable=SC2086
exec "$java_bin" --enable-native-access=ALL-UNNAMED -XX:NativeMemoryTracking=summary ${DIT4J_JAVA_OPTS--Xmn64m} -cp "$jar" \
  dev.dit4j.bench.MemorySoak --train-steps "$train" --sample-steps "$sample" "$@"
