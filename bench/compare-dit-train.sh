#!/usr/bin/env bash
# DiT training-step throughput, dit4j vs the authors' PyTorch model, on this machine in one run,
# alternating the two (two rounds each). Prints both JSON lines per round and the ratio.
#   bench/compare-dit-train.sh /path/to/facebookresearch-DiT [model] [batch]
# Python must have torch (the same version as dit4j's libtorch for a fair comparison), numpy and timm;
# PYTHON selects the interpreter (default python3). JAVA_HOME or ./dit4j's search gives the JDK.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo=${1:?usage: compare-dit-train.sh /path/to/DiT-checkout [model] [batch]}
model=${2:-DiT-S/2}
batch=${3:-8}
python=${PYTHON:-python3}
source "$root/bench/java.sh"
echo "# $(date -u +%Y-%m-%d) $(uname -m) $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
ratios=()
for round in 1 2; do
  ref=$("$python" "$root/bench/dit_train_reference.py" --dit-repo "$repo" --model "$model" --batch "$batch" | tail -1)
  ours=$("$java_bin" --enable-native-access=ALL-UNNAMED -Ddit4j.leakReport=false -cp "$jar" \
         dev.dit4j.bench.DiTTrainThroughput --model "$model" --batch "$batch" | tail -1)
  echo "$ref"
  echo "$ours"
  r=$(python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print(round(b['img_per_s']/a['img_per_s'],3))" "$ref" "$ours")
  ratios+=("$r")
  echo "round $round: dit4j / PyTorch = $r"
done
echo "ratios: ${ratios[*]}"
