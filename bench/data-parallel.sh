#!/usr/bin/env bash
# Data-parallel benchmarks on this machine, Gloo over loopback:
#   bench/data-parallel.sh train [N...]      training img/s of the main job's DiT at global batch 64, 1 process and N processes
#   bench/data-parallel.sh allreduce [N]     all-reduce time and bandwidth for a DiT-B-sized gradient (130M floats), N processes
# Each process gets cores/N libtorch threads (DIT4J_BENCH_THREADS overrides). Extra arguments after
# "--" go to the Java benchmark (e.g. -- --steps 20).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/bench/java.sh"
what=${1:-train}; shift || true
counts=(); while [ $# -gt 0 ] && [ "$1" != "--" ]; do counts+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
cores=$(nproc)

# run_job N CLASS ARGS...: N local processes with the launcher's environment; rank 0's output
run_job() {
  local n=$1 cls=$2; shift 2
  local port; port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local threads=${DIT4J_BENCH_THREADS:-$(( cores / n > 0 ? cores / n : 1 ))}
  local pids=() r
  for ((r = 0; r < n; r++)); do
    MASTER_ADDR=127.0.0.1 MASTER_PORT=$port RANK=$r WORLD_SIZE=$n LOCAL_RANK=$r OMP_NUM_THREADS=$threads \
      "$java_bin" --enable-native-access=ALL-UNNAMED -Xmn64m -cp "$jar" "$cls" "$@" &
    pids+=($!)
  done
  local status=0
  for p in "${pids[@]}"; do wait "$p" || status=$?; done
  return $status
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
case "$what" in
  train)
    [ ${#counts[@]} -gt 0 ] || counts=(2)
    OMP_NUM_THREADS=$cores "$java_bin" --enable-native-access=ALL-UNNAMED -Xmn64m -cp "$jar" dev.dit4j.bench.DataParallelThroughput --ddp off "$@"
    for n in "${counts[@]}"; do run_job "$n" dev.dit4j.bench.DataParallelThroughput "$@"; done ;;
  allreduce)
    run_job "${counts[0]:-2}" dev.dit4j.bench.AllReduceBandwidth "$@" ;;
  *) echo "usage: bench/data-parallel.sh train|allreduce [processes...] [-- options]" >&2; exit 2 ;;
esac
