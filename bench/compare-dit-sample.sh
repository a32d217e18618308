#!/usr/bin/env bash
# Guided DDPM sampling throughput, dit4j vs the authors' PyTorch model, on this machine in one run,
# alternating the two (two rounds each): sample.py's chain ([z; z], forward_with_cfg, respaced
# steps) on seeded random weights in eval mode, float32. Prints both JSON lines per round and the
# ratio of seconds per image (above 1: dit4j is faster).
#   bench/compare-dit-sample.sh /path/to/facebookresearch-DiT [model] [batch] [steps]
# Python must have torch (the same version as dit4j's libtorch for a fair comparison) and timm;
# PYTHON selects the interpreter (default python3). JAVA_HOME or ./dit4j's search gives the JDK.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo=${1:?usage: compare-dit-sample.sh /path/to/DiT-checkout [model] [batch] [steps]}
model=${2:-DiT-S/2}
batch=${3:-4}
steps=${4:-50}
python=${PYTHON:-python3}
source "$root/bench/java.sh"
echo "# $(date -u +%Y-%m-%d) $(uname -m) $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
ratios=()
for round in 1 2; do
  ref=$("$python" "$root/bench/dit_sample_reference.py" --dit-repo "$repo" --model "$model" --batch "$batch" --steps "$steps" \
        --repeats 2 2>/dev/null | tail -1)
  ours=$("$java_bin" --enable-native-access=ALL-UNNAMED -Ddit4j.leakReport=false -cp "$jar" \
         dev.dit4j.bench.DiTSampleThroughput --model "$model" --batch "$batch" --steps "$steps" --repeats 2 | tail -1)
  echo "$ref"
  echo "$ours"
  r=$(python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print(round(a['seconds_per_image']/b['seconds_per_image'],3))" "$ref" "$ours")
  ratios+=("$r")
  echo "round $round: PyTorch s / dit4j s = $r"
done
echo "ratios: ${ratios[*]}"
