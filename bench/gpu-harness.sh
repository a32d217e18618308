#!/usr/bin/env bash
# The GPU benchmark suite: dit4j against the authors' PyTorch DiT on the same GPU in one run, and
# the attention and sampling micro-benchmarks. Prints markdown-ready JSON lines and JMH tables
# with the machine, versions and date; paste them into bench/RESULTS.md.
#
#   bench/gpu-harness.sh /path/to/facebookresearch-DiT            # on a CUDA machine
#   bench/gpu-harness.sh /path/to/facebookresearch-DiT --smoke    # tiny sizes on the CPU: checks the harness
#   bench/gpu-harness.sh [--smoke]                                # with what bench/device-pack.sh packed
#                                                                 # (the JDK, the jar, DiT's code, timm)
#
# Needs: python with torch (CUDA build on a GPU machine; its libtorch is what dit4j's shim is built
# against unless LIBTORCH says otherwise), numpy and timm for the reference; a JDK >= 22 (JAVA_HOME,
# or found in /usr/lib/jvm); cmake + a C++ compiler to build the shim; bench/target/benchmarks.jar
# (built here with Maven when missing; on a machine without Maven, copy it in).
# Environment: DEVICE (cuda:0), BATCH (training batch, 256), PEAK_TFLOPS (989 = H100/H200 dense
# bf16), PYTHON (python3), ROUNDS (2).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo="$root/.cache/device/dit-reference"
if [ $# -gt 0 ] && [ "$1" != "--smoke" ]; then repo=$1; shift; fi
[ -f "$repo/models.py" ] || { echo "usage: gpu-harness.sh [/path/to/DiT-checkout] [--smoke] (or run bench/device-pack.sh first)" >&2; exit 1; }
smoke=false
[ "${1:-}" = "--smoke" ] && smoke=true
# timm for DiT's models.py: the wheel device-pack.sh fetched, imported from the zip (an installed timm also serves)
for whl in "$root"/.cache/device/timm-*.whl; do [ -f "$whl" ] && export PYTHONPATH="$whl${PYTHONPATH:+:$PYTHONPATH}"; done
python=${PYTHON:-python3}
rounds=${ROUNDS:-2}


# The shim for this machine's libtorch (a no-op when up to date), used instead of the one packaged
# in the jar; the loader finds libtorch by the same rules build.sh did.
bash "$root/native/build.sh" >&2
source "$root/bench/java.sh"
java_run=("$java_bin" --enable-native-access=ALL-UNNAMED -Ddit4j.leakReport=false "-Ddit4j.shim=$root/native/build/libdit4j.so" -cp "$jar")

if $smoke; then
  device=cpu model=DiT-S/2 batch=2 peak=0 autocast=bfloat16 steps=(--warmup 1 --steps 1 --windows 1)
  sample_model=DiT-S/2 sample_steps=3 sample_batches="1 2"
  jmh=(-f 0 -wi 0 -i 1 -r 200ms -p device=cpu -p dtype=float32)
  attn_shapes="2x4x64x72,2x4x16x72" attn_backends="MATH" ds_shapes="2x96x16x16x4"
else
  device=${DEVICE:-cuda:0} model=DiT-XL/2 batch=${BATCH:-256} peak=${PEAK_TFLOPS:-989} autocast=bfloat16
  steps=(--warmup 5 --steps 10 --windows 3)
  sample_model=DiT-XL/2 sample_steps=250 sample_batches="1 64"
  jmh=(-p "device=$device" -p dtype=bfloat16)
  # [B,16,256,72]: DiT-XL/2 at 256px; [B,16,1024,72]: at 512px; [B,16,64,72]: a 25% token subset of 256.
  attn_shapes="256x16x256x72,64x16x1024x72,256x16x64x72" attn_backends="FLASH,EFFICIENT,CUDNN,MATH"
  ds_shapes="64x96x32x32x4,64x192x16x16x4"
fi

echo "# dit4j GPU harness, $(date -u +%Y-%m-%d) — $(uname -m), $(nproc) cores"
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/# GPU: /'
echo "# $("$python" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "cuDNN", torch.backends.cudnn.version())')"
echo "# $("$java_bin" -version 2>&1 | head -1)"

echo "## Training step: $model, batch $batch, $autocast autocast, fused AdamW, on $device (alternating)"
for round in $(seq "$rounds"); do
  ref=$("$python" "$root/bench/dit_train_reference.py" --dit-repo "$repo" --model "$model" --batch "$batch" \
        --device "${device%%:*}" --autocast "$autocast" --peak-tflops "$peak" "${steps[@]}" | tail -1)
  ours=$("${java_run[@]}" dev.dit4j.bench.DiTTrainThroughput --model "$model" --batch "$batch" --device "$device" \
         --autocast "$autocast" --peak-tflops "$peak" "${steps[@]}" | tail -1)
  echo "$ref"
  echo "$ours"
  # MFU of both from dit4j's FLOP count (PyTorch's FlopCounterMode misses SDPA on some backends).
  "$python" -c "
import json, sys
a, b, peak = json.loads(sys.argv[1]), json.loads(sys.argv[2]), float(sys.argv[3])
line = 'round $round: dit4j / PyTorch img/s = %.3f' % (b['img_per_s'] / a['img_per_s'])
if peak > 0:
    f = b['train_flops_per_img']
    line += '; MFU PyTorch %.1f%%, dit4j %.1f%% (%.1f GFLOP per training image)' % (100 * a['img_per_s'] * f / (peak * 1e12), 100 * b['img_per_s'] * f / (peak * 1e12), f / 1e9)
print(line)" "$ref" "$ours" "$peak"
done

echo "## Guided sampling: $sample_model, $sample_steps DDPM steps, cfg 4 (eager)"
for b in $sample_batches; do
  "${java_run[@]}" dev.dit4j.bench.DiTSampleThroughput --model "$sample_model" --batch "$b" --steps "$sample_steps" \
    --device "$device" --autocast "$autocast" --repeats 1 | tail -1
done

echo "## Attention forward and forward+backward per backend"
"${java_run[@]}" org.openjdk.jmh.Main AttentionBench "${jmh[@]}" -p "shape=$attn_shapes" -p "backend=$attn_backends" \
  -foe false 2>&1 | sed -n '/^Benchmark/,$p'

echo "## U-DiT downsampled attention (factor 2) against full attention (factor 1) over the same tokens"
"${java_run[@]}" org.openjdk.jmh.Main DownsampledAttentionBench "${jmh[@]}" -p "shape=$ds_shapes" 2>&1 | grep -E '^# flops|^Benchmark|^DownsampledAttentionBench'
