#!/usr/bin/env bash
# The GPU benchmark suite: dit4j against the authors' PyTorch code on the same GPU in one run.
# Builds the shim against the machine's torch, then runs the sections in order of value, each
# under its own time limit so that one failure or overrun leaves the others' tables. Prints
# JSON lines and tables with the machine, versions and date; paste them into bench/RESULTS.md.
#
#   bench/gpu-harness.sh [/path/to/facebookresearch-DiT] [--smoke] [--only a,b,...]
#
#   --smoke   tiny sizes on the CPU: checks the harness end to end
#   --only    sections to run (default all, in this order): info, fused, train, train-fast,
#             sample, attention, vae, microdit, ddp, sample512, sample-compile, train-max
# Without a DiT path it uses what bench/device-pack.sh packed (the JDK, the jars, DiT's code).
#
# Needs: python with torch (a CUDA build on a GPU machine; its libtorch is what the shim is built
# against unless LIBTORCH says otherwise), numpy and timm for the references; a JDK >= 22 (or the
# packed runtime); cmake + a C++ compiler; bench/target/benchmarks.jar.
# Environment: DEVICE (cuda:0), BATCH (training batch, 256), PEAK_TFLOPS (989 = H100/H200 dense
# bf16), PYTHON (python3), ROUNDS (2), OUT (also copies the log and JMH JSON there when set).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo="$root/.cache/device/dit-reference"
smoke=false
only="info,fused,train,train-fast,sample,attention,vae,microdit,ddp,sample512,sample-compile,train-max"
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=true ;;
    --only) only=$2; shift ;;
    *) repo=$1 ;;
  esac
  shift
done
[ -f "$repo/models.py" ] || { echo "usage: gpu-harness.sh [/path/to/DiT-checkout] [--smoke] [--only ...] (or run bench/device-pack.sh first)" >&2; exit 1; }
python=${PYTHON:-python3}
rounds=${ROUNDS:-2}
export PYTHONUNBUFFERED=1
results=$(mktemp -d)

# The shim for this machine's libtorch (a no-op when up to date), used instead of the one packaged
# in the jar. Where torch has CUDA and the toolkit is there, it has CUDA graphs and NCCL; if that
# build fails, NCCL is left out and then CUDA graphs, so that the benchmarks still run.
export DIT4J_JOBS=${DIT4J_JOBS:-$(nproc)}
build_start=$SECONDS
if ! bash "$root/native/build.sh" >&2; then
  echo "# shim build failed with NCCL: retrying without it" >&2
  DIT4J_CMAKE_ARGS="-DDIT4J_NCCL=OFF" bash "$root/native/build.sh" >&2 || exit 1
fi
echo "# shim built in $((SECONDS - build_start)) s"
source "$root/bench/java.sh"
cp="$jar"
for extra in "$root"/.cache/device/cli/*.jar; do [ -f "$extra" ] && cp="$cp:$extra"; done
java_run=("$java_bin" --enable-native-access=ALL-UNNAMED -Ddit4j.leakReport=false "-Ddit4j.shim=$root/native/build/libdit4j.so" -cp "$cp")

if $smoke; then
  device=cpu model=DiT-S/2 batch=2 peak=0 autocast=bfloat16 steps=(--warmup 1 --steps 1 --windows 1)
  sample_model=DiT-S/2 sample_steps=3 sample_batches="1 2" max_batches="4" sample512_size=64
  jmh=(-f 0 -wi 0 -i 1 -r 200ms -p device=cpu -p dtype=bfloat16)
  attn_shapes="2x4x64x72,2x4x16x72" attn_backends="MATH" ds_shapes="2x96x16x16x4"
  vae_size=64 microdit_model=MicroDiT_Tiny_2 microdit_batch=2 short_steps=(--warmup 1 --steps 1 --windows 1)
  fused_shape=2,16,64 fused_time=2 fused_require=()
else
  device=${DEVICE:-cuda:0} model=DiT-XL/2 batch=${BATCH:-256} peak=${PEAK_TFLOPS:-989} autocast=bfloat16
  steps=(--warmup 3 --steps 8 --windows 3)
  sample_model=DiT-XL/2 sample_steps=250 sample_batches="1 64" max_batches="384 512" sample512_size=512
  jmh=(-f 0 -wi 2 -i 3 -w 1s -r 1s -p "device=$device" -p dtype=bfloat16)
  # [B,16,256,72]: DiT-XL/2 at 256 px; [B,16,1024,72]: at 512 px; [B,16,64,72]: a 25% token subset of 256.
  attn_shapes="256x16x256x72,64x16x1024x72,256x16x64x72" attn_backends="FLASH,EFFICIENT,CUDNN,MATH"
  ds_shapes="64x96x32x32x4,64x192x16x16x4"
  vae_size=512 microdit_model=MicroDiT_XL_2 microdit_batch=256 short_steps=(--warmup 2 --steps 5 --windows 3)
  # DiT-XL/2's blocks at 256 px: [N, 256 tokens, 1152]
  fused_shape=32,256,1152 fused_time=20 fused_require=(--require-kernels)
fi

# section NAME FUNCTION: runs a section unless --only leaves it out; its commands have time limits.
section() {
  local name=$1 start=$SECONDS rc
  [[ ",$only," == *",$name,"* ]] || return 0
  echo
  "$2"
  rc=$?
  [ $rc -eq 0 ] || echo "(section $name: last command failed, rc $rc; 124 = over its time limit)"
  echo "(section $name: $((SECONDS - start)) s)"
}
# limited SECONDS COMMAND...: a command under a time limit (its own output; rc 124 when cut off).
limited() {
  local limit=$1
  shift
  timeout --kill-after=10 "$limit" "$@"
}

info() {
  echo "# dit4j GPU harness, $(date -u '+%Y-%m-%d %H:%M UTC') — $(uname -m), $(nproc) cores"
  command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader | sed 's/^/# GPU: /'
  echo "# $("$python" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "cuDNN", torch.backends.cudnn.version())')"
  echo "# $("$java_bin" -version 2>&1 | head -1)"
  # dit4j's own view: libtorch, CUDA, cuDNN's version through the generated bindings, SDPA backends
  [ -n "$(ls "$root"/.cache/device/cli/*.jar 2> /dev/null)" ] && limited 60 "${java_run[@]}" dev.dit4j.examples.Main doctor
}

train_round() {
  local b=$1 round=$2
  shift 2
  local ref ours
  ref=$(limited 240 "$python" "$root/bench/dit_train_reference.py" --dit-repo "$repo" --model "$model" --batch "$b" \
    --device "${device%%:*}" --autocast "$autocast" --peak-tflops "$peak" --pinned "$@" | tail -1)
  ours=$(limited 240 "${java_run[@]}" dev.dit4j.bench.DiTTrainThroughput --model "$model" --batch "$b" --device "$device" \
    --autocast "$autocast" --peak-tflops "$peak" --pinned true "$@" | tail -1)
  echo "$ref"
  echo "$ours"
  # MFU of both from dit4j's FLOP count (PyTorch's FlopCounterMode misses SDPA on some backends).
  "$python" - "$ref" "$ours" "$peak" "$round" << 'EOF' || true
import json, sys
try:
    a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
except ValueError:
    sys.exit("(no comparison: a side printed no result)")
peak, rnd = float(sys.argv[3]), sys.argv[4]
line = 'round %s, batch %d: dit4j / PyTorch img/s = %.3f' % (rnd, b['batch'], b['img_per_s'] / a['img_per_s'])
if peak > 0:
    f = b['train_flops_per_img']
    line += '; MFU PyTorch %.1f%%, dit4j %.1f%% (%.1f GFLOP per training image)' % (
        100 * a['img_per_s'] * f / (peak * 1e12), 100 * b['img_per_s'] * f / (peak * 1e12), f / 1e9)
print(line)
EOF
}

train() {
  echo "## Training step: $model, batch $batch, $autocast autocast, fused AdamW, pinned non-blocking batches, on $device (alternating)"
  for round in $(seq "$rounds"); do train_round "$batch" "$round" "${steps[@]}"; done
}

# Each side's fastest step: dit4j's captured in a CUDA graph, PyTorch's through torch.compile (its
# compile is the first warm-up step, reported as compile_seconds); on the CPU (--smoke) both eager.
train_fast() {
  echo "## Training step, fastest forms: dit4j in a CUDA graph, PyTorch with torch.compile; $model, batch $batch, $autocast autocast"
  local mode=compile graph=true
  $smoke && mode=eager graph=false
  limited 400 "$python" "$root/bench/dit_train_reference.py" --dit-repo "$repo" --model "$model" --batch "$batch" \
    --device "${device%%:*}" --autocast "$autocast" --peak-tflops "$peak" --pinned --mode "$mode" "${steps[@]}" | tail -1
  limited 240 "${java_run[@]}" dev.dit4j.bench.DiTTrainThroughput --model "$model" --batch "$batch" --device "$device" \
    --autocast "$autocast" --peak-tflops "$peak" --pinned true --graph "$graph" "${steps[@]}" | tail -1
}

# The data-parallel trainer on this device's backend (NCCL on a GPU) in a one-process job: its
# steps equal the single-process trainer's, then its throughput against no process group.
ddp() {
  echo "## Data-parallel trainer, world size 1, on $device"
  local env=(env MASTER_ADDR=127.0.0.1 MASTER_PORT=29517 RANK=0 WORLD_SIZE=1 LOCAL_RANK=0)
  limited 120 "${env[@]}" "${java_run[@]}" dev.dit4j.bench.DataParallelThroughput --device "$device" --check true --steps 5 | tail -1
  for mode in on off; do
    limited 120 "${env[@]}" "${java_run[@]}" dev.dit4j.bench.DataParallelThroughput --device "$device" --ddp "$mode" \
      "${short_steps[@]}" | tail -1
  done
}

# The largest batch: each side at a few sizes, short windows; an out-of-memory ends that side's line.
train_max() {
  echo "## Training step at larger batches (short windows; OOM = does not fit)"
  for b in $max_batches; do train_round "$b" max --warmup 2 --steps 3 --windows 1; done
}

sample() {
  echo "## Guided sampling: $sample_model, $sample_steps DDPM steps, cfg 4, $autocast autocast"
  local modes="eager,graph"
  $smoke && modes="eager"
  limited 300 "${java_run[@]}" dev.dit4j.bench.DiTSampleThroughput --model "$sample_model" --batch "${sample_batches// /,}" \
    --steps "$sample_steps" --device "$device" --autocast "$autocast" --repeats 1 --mode "$modes" | grep '^{'
  # bfloat16 weights instead of autocast (no per-step weight casts, half the activation traffic)
  limited 200 "${java_run[@]}" dev.dit4j.bench.DiTSampleThroughput --model "$sample_model" --batch "${sample_batches// /,}" \
    --steps "$sample_steps" --device "$device" --weights bfloat16 --repeats 1 --mode "$modes" | grep '^{'
  for b in $sample_batches; do
    limited 200 "$python" "$root/bench/dit_sample_reference.py" --dit-repo "$repo" --model "$sample_model" --batch "$b" \
      --steps "$sample_steps" --device "${device%%:*}" --autocast "$autocast" --repeats 1 --mode eager | tail -1
  done
  sample_compiled "${sample_batches%% *}"
}

# torch.compile's sampling (its compile is timed apart); batch 1 with the others, larger ones as their own section.
sample_compiled() {
  for b in "$@"; do
    limited 300 "$python" "$root/bench/dit_sample_reference.py" --dit-repo "$repo" --model "$sample_model" --batch "$b" \
      --steps "$sample_steps" --device "${device%%:*}" --autocast "$autocast" --repeats 1 --mode compile | tail -1
  done
}
sample_compiled_large() {
  echo "## Guided sampling with torch.compile at larger batches"
  sample_compiled ${sample_batches#* }
}

# TFLOP/s of JMH's attention timings: forward 4·B·H·N²·D, forward+backward 3.5× that (as FlashAttention counts).
attention_flops() {
  "$python" - "$1" << 'EOF'
import json, sys
for r in json.load(open(sys.argv[1])):
    p = r["params"]
    if "backend" not in p:
        continue
    b, h, n, d = map(int, p["shape"].split("x"))
    f = 4 * b * h * n * n * d * (3.5 if r["benchmark"].endswith("forwardBackward") else 1)
    s = r["primaryMetric"]["score"] / 1e3  # ms/op -> s
    print("%-16s %-10s %-18s %9.3f ms  %8.2f TFLOP/s" % (r["benchmark"].rsplit(".", 1)[1], p["backend"], p["shape"], s * 1e3, f / s / 1e12))
EOF
}

attention() {
  echo "## Attention forward and forward+backward per backend ($autocast inputs)"
  limited 300 "${java_run[@]}" org.openjdk.jmh.Main AttentionBench "${jmh[@]}" -p "shape=$attn_shapes" -p "backend=$attn_backends" \
    -foe false -tu ms -rf json -rff "$results/attention.json" 2>&1 | sed -n '/^Benchmark/,$p'
  [ -f "$results/attention.json" ] && attention_flops "$results/attention.json"
  echo "## U-DiT downsampled attention (factor 2) against full attention (factor 1) over the same tokens"
  limited 200 "${java_run[@]}" org.openjdk.jmh.Main DownsampledAttentionBench "${jmh[@]}" -p "shape=$ds_shapes" -tu ms 2>&1 |
    grep -E '^# flops|^Benchmark|^DownsampledAttentionBench'
}

vae() {
  echo "## SD autoencoder (KL-f8, random weights): encode and decode of a ${vae_size} px image, batch 1"
  for dt in float32 bfloat16; do
    limited 150 "$python" "$root/bench/vae_reference.py" --uvit-repo "$root/.cache/device/uvit-reference" --device "$device" \
      --dtype "$dt" --size "$vae_size" --batch 1 --repeats 2 | tail -1
    limited 150 "${java_run[@]}" dev.dit4j.bench.VaeThroughput --device "$device" --dtype "$dt" --size "$vae_size" --batch 1 \
      --repeats 2 --cache-mib 0 | tail -1
  done
}

microdit() {
  echo "## MicroDiT masked training step: $microdit_model, 256 px, 75% of patches masked, batch $microdit_batch, $autocast autocast"
  limited 200 "$python" "$root/bench/microdit_train_reference.py" --repo "$root/.cache/device/microdit-reference" \
    --model "$microdit_model" --mask-ratio 0.75 --batch "$microdit_batch" --device "$device" --autocast "$autocast" \
    "${short_steps[@]}" | tail -1
  limited 200 "${java_run[@]}" dev.dit4j.bench.MicroDiTTrainThroughput --model "$microdit_model" --mask-ratio 0.75 \
    --batch "$microdit_batch" --device "$device" --autocast "$autocast" "${short_steps[@]}" | tail -1
}

# `dit4j sample` end to end at 512 px (DiT-XL/2 on 64x64 latents, SD's autoencoder), random weights
# in the released formats written by the authors' code; two counts, so that the difference is the
# per-image time without the JVM start and the loading.
sample512() {
  echo "## dit4j sample: $sample_model at ${sample512_size} px, DDPM $sample_steps, cfg 4, $autocast autocast, batch 16, decoded (random weights)"
  local dit="$results/dit-512.pt" vae="$results/sd-vae.pth" n start
  limited 180 "$python" "$root/bench/write_random_weights.py" --dit-repo "$repo" --uvit-repo "$root/.cache/device/uvit-reference" \
    --model "$sample_model" --image-size "$sample512_size" --dit "$dit" --vae "$vae" || return
  for n in 16 32; do
    start=$SECONDS
    limited 300 "${java_run[@]}" dev.dit4j.examples.Main sample --model "$sample_model" --weights "$dit" --vae "$vae" \
      --image-size "$sample512_size" --steps "$sample_steps" --device "$device" --autocast "$autocast" --count $n --batch 16 \
      --out "$results/sample512-$n" 2>&1 | tail -1
    echo "count $n: $((SECONDS - start)) s wall (JVM start and loading included)"
  done
}

# The shim's fused adaLN kernels (LayerNorm + modulate, gated residual) against the composite ATen
# ops, forward and every gradient, float32 / bfloat16 / bfloat16 autocast, then both timed (bfloat16
# forward + backward). On a GPU it fails when the shim was built without the kernels.
fused() {
  echo "## Fused adaLN kernels against the composite ops: [N, L, D] = [$fused_shape] on $device"
  limited 180 "${java_run[@]}" dev.dit4j.bench.FusedKernelsCheck --device "$device" --shape "$fused_shape" --time "$fused_time" \
    "${fused_require[@]}" | grep '^{'
}

section info info
section fused fused
section train train
section train-fast train_fast
section sample sample
section attention attention
section vae vae
section microdit microdit
section ddp ddp
section sample512 sample512
section sample-compile sample_compiled_large
section train-max train_max
[ -n "${OUT:-}" ] && cp "$results"/*.json "$OUT/" 2> /dev/null
rm -rf "$results"
exit 0
