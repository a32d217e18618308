#!/usr/bin/env bash
# MicroDiT_Tiny_2 training-step throughput at a 256 px latent, dit4j vs the authors' PyTorch model,
# masked (0.75) and unmasked, on this machine in one run, alternating the two (two rounds each).
# Prints every JSON line, the dit4j / PyTorch ratio per mask ratio, and the speed-up masking gives.
#   bench/compare-microdit-train.sh /path/to/micro_diffusion [batch] [threads]
# Python must have torch (the same version as dit4j's libtorch for a fair comparison) and numpy;
# PYTHON selects the interpreter (default python3). Both sides run with the same intra-op threads
# (default: the number of cores). JAVA_HOME or ./dit4j's search gives the JDK.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo=${1:?usage: compare-microdit-train.sh /path/to/micro_diffusion [batch] [threads]}
batch=${2:-8}
threads=${3:-$(nproc)}
python=${PYTHON:-python3}
source "$root/bench/java.sh"
export OMP_NUM_THREADS=$threads
echo "# $(date -u +%Y-%m-%d) $(uname -m) $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $threads threads, batch $batch"
rate() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['img_per_s'])" "$1"; }
for round in 1 2; do
  declare -A r=()
  for mask in 0.75 0; do
    ref=$("$python" "$root/bench/microdit_train_reference.py" --repo "$repo" --mask-ratio "$mask" --batch "$batch" --threads "$threads" | tail -1)
    ours=$("$java_bin" --enable-native-access=ALL-UNNAMED -Ddit4j.leakReport=false -cp "$jar" \
           dev.dit4j.bench.MicroDiTTrainThroughput --mask-ratio "$mask" --batch "$batch" | tail -1)
    echo "$ref"
    echo "$ours"
    r[ref$mask]=$(rate "$ref"); r[ours$mask]=$(rate "$ours")
  done
  python3 - "${r[ref0.75]}" "${r[ours0.75]}" "${r[ref0]}" "${r[ours0]}" "$round" <<'PY'
import sys
ref75, ours75, ref0, ours0 = map(float, sys.argv[1:5])
print(f"round {sys.argv[5]}: dit4j / PyTorch = {ours75 / ref75:.3f} at mask 0.75, {ours0 / ref0:.3f} at mask 0; "
      f"masking speed-up: PyTorch {ref75 / ref0:.2f}x, dit4j {ours75 / ours0:.2f}x")
PY
  unset r
done
