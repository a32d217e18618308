#!/usr/bin/env bash
# SD-VAE encode/decode throughput, dit4j vs the authors' LDM autoencoder code (U-ViT's
# libs/autoencoder.py) on this machine, alternating the two, at 256 and 512 px; then the peak
# memory of one 1024x1024 decode, PyTorch untiled, dit4j untiled (with and without its CPU cache
# of freed tensor memory, Torch.cacheCpuMemory) and tiled (256 px tiles).
#   bench/compare-vae.sh /path/to/U-ViT-checkout [rounds]
# PYTHON selects the interpreter (torch of dit4j's libtorch version, einops). JAVA_HOME or
# ./dit4j's search gives the JDK. REPEATS: timed passes after the warm-up (default 2); SKIP_MEMORY=1
# skips the memory runs, SIZES the sizes (default "256 512"), THREADS the intra-op threads of both
# (default 1), MEMORY_THREADS those of the memory runs (default 2). On a shared machine the
# CPU-time ratio is the steadier one.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo=${1:?usage: compare-vae.sh /path/to/U-ViT-checkout [rounds]}
rounds=${2:-2}
repeats=${REPEATS:-2}
threads=${THREADS:-1}
# Waiting OpenMP threads sleep instead of spinning, so that CPU time counts work, not waiting.
export OMP_WAIT_POLICY=PASSIVE
python=${PYTHON:-python3}
source "$root/bench/java.sh"
run_java() { "$java_bin" --enable-native-access=ALL-UNNAMED -Ddit4j.leakReport=false -cp "$jar" dev.dit4j.bench.VaeThroughput --threads "$threads" "$@" | tail -1; }
run_python() { "$python" "$root/bench/vae_reference.py" --uvit-repo "$repo" --threads "$threads" "$@" 2>/dev/null | tail -1; }
echo "# $("$java_bin" -version 2>&1 | head -1); $("$python" -c 'import torch, sys; print("torch", torch.__version__, "python", sys.version.split()[0])')"
echo "# $(date -u +%Y-%m-%d) $(uname -m) $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg); $threads thread(s)"
for size in ${SIZES:-256 512}; do
  for round in $(seq "$rounds"); do
    ref=$(run_python --size "$size" --repeats "$repeats")
    ours=$(run_java --size "$size" --repeats "$repeats")
    echo "$ref"
    echo "$ours"
    python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print('size %s round %s: dit4j / PyTorch throughput (wall) encode %.3f, decode %.3f; by CPU time encode %.3f, decode %.3f' % (sys.argv[3], sys.argv[4], b['encode_img_per_s']/a['encode_img_per_s'], b['decode_img_per_s']/a['decode_img_per_s'], a['encode_cpu_s_per_img']/b['encode_cpu_s_per_img'], a['decode_cpu_s_per_img']/b['decode_cpu_s_per_img']))" "$ref" "$ours" "$size" "$round"
  done
done
if [ "${SKIP_MEMORY:-0}" != 1 ]; then
  threads=${MEMORY_THREADS:-2}
  run_python --memory 1024
  run_java --memory 1024
  run_java --memory 1024 --cache-mib 0
  run_java --memory 1024 --tile 256
fi
