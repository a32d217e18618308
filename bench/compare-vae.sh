#!/usr/bin/env bash
# SD-VAE encode/decode throughput, dit4j vs the authors' LDM autoencoder code (U-ViT's
# libs/autoencoder.py) on this machine, alternating the two, at 256 and 512 px; then the peak
# memory of one 1024x1024 decode, PyTorch untiled, dit4j untiled and tiled (256 px tiles).
#   bench/compare-vae.sh /path/to/U-ViT-checkout [rounds]
# PYTHON selects the interpreter (torch of dit4j's libtorch version, einops). JAVA_HOME or
# ./dit4j's search gives the JDK.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo=${1:?usage: compare-vae.sh /path/to/U-ViT-checkout [rounds]}
rounds=${2:-2}
python=${PYTHON:-python3}
source "$root/bench/java.sh"
run_java() { "$java_bin" --enable-native-access=ALL-UNNAMED -Ddit4j.leakReport=false -cp "$jar" dev.dit4j.bench.VaeThroughput "$@" | tail -1; }
run_python() { "$python" "$root/bench/vae_reference.py" --uvit-repo "$repo" "$@" 2>/dev/null | tail -1; }
echo "# $(date -u +%Y-%m-%d) $(uname -m) $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for size in 256 512; do
  for round in $(seq "$rounds"); do
    ref=$(run_python --size "$size")
    ours=$(run_java --size "$size")
    echo "$ref"
    echo "$ours"
    python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print('size %s round %s: dit4j / PyTorch encode %.3f, decode %.3f' % (sys.argv[3], sys.argv[4], b['encode_img_per_s']/a['encode_img_per_s'], b['decode_img_per_s']/a['decode_img_per_s']))" "$ref" "$ours" "$size" "$round"
  done
done
if [ "${SKIP_MEMORY:-0}" != 1 ]; then
  run_python --memory 1024
  run_java --memory 1024
  run_java --memory 1024 --tile 256
fi
