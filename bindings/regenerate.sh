#!/usr/bin/env bash
# Regenerates the committed bindings with a jextract found on PATH:
#   src/main/java/dev/dit4j/bindings/shim   from native/include/dit4j.h       (class Dit4jNative)
#   src/main/java/dev/dit4j/bindings/cudnn  from cuDNN's headers (subset in cudnn.symbols, class Cudnn)
#   src/main/java/dev/dit4j/bindings/CheckedCalls.java  the checked facade (gen_facade.py)
# cuDNN headers: $CUDNN_INCLUDE, else an importable nvidia.cudnn, else the nvidia-cudnn-cu13 wheel via pip.
# CUDA runtime headers (cuda_runtime_api.h): $CUDA_INCLUDE, else /usr/local/cuda/include.
# Run it after changing dit4j.h, then commit the result. No symbol is bound to a library name:
# dit4j's loader System.load()s libtorch, the shim and cuDNN (when present) by absolute path first.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
src="$here/src/main/java"
pkg="$src/dev/dit4j/bindings"
command -v jextract >/dev/null || { echo "jextract is not on PATH: install jextract 22+ and rerun" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The C compiler's system include directories (for stdint.h), handed to libclang as -isystem
# through jextract's compile_flags.txt (clang ignores -I for system directories).
if command -v cc >/dev/null; then
  cc -E -Wp,-v -x c - </dev/null 2>&1 | sed -n 's/^ \(\/.*\)$/-isystem\1/p' | grep -v '/gcc/' > "$work/compile_flags.txt"
fi
cd "$work"

# --- the shim: every declaration of dit4j.h itself, none of what it includes
header="$repo/native/include/dit4j.h"
jextract --dump-includes "$work/shim.all" "$header" >/dev/null
grep -E "dit4j\.h$" "$work/shim.all" | sed -E 's/[[:space:]]+#.*$//' > "$work/shim.args"
rm -rf "$pkg/shim"
jextract --output "$src" --target-package dev.dit4j.bindings.shim --header-class-name Dit4jNative @"$work/shim.args" "$header"

# --- cuDNN subset
cudnn_inc=${CUDNN_INCLUDE:-}
if [ -z "$cudnn_inc" ]; then
  cudnn_inc=$(python3 -c 'import nvidia.cudnn, os; print(os.path.join(list(nvidia.cudnn.__path__)[0], "include"))' 2>/dev/null || true)
fi
if [ -z "$cudnn_inc" ] || [ ! -f "$cudnn_inc/cudnn.h" ]; then
  python3 -m pip download --quiet --no-deps -d "$work/wheel" nvidia-cudnn-cu13 >&2
  (cd "$work/wheel" && unzip -q -o ./*.whl 'nvidia/cudnn/include/*')
  cudnn_inc="$work/wheel/nvidia/cudnn/include"
fi
cuda_inc=${CUDA_INCLUDE:-/usr/local/cuda/include}
[ -f "$cuda_inc/cuda_runtime_api.h" ] || { echo "cuda_runtime_api.h not found: set CUDA_INCLUDE" >&2; exit 1; }
rm -rf "$pkg/cudnn"
jextract --output "$src" --target-package dev.dit4j.bindings.cudnn --header-class-name Cudnn \
  -I "$cudnn_inc" -I "$cuda_inc" @<(grep -v '^#' "$here/cudnn.symbols") "$cudnn_inc/cudnn.h"
grep -h "CUDNN_MAJOR\|CUDNN_MINOR\|CUDNN_PATCHLEVEL" "$cudnn_inc/cudnn_version.h" | head -3 > "$pkg/cudnn/HEADERS_VERSION.txt"

# --- Java 22 compatibility: jextract 25 emits SymbolLookup.findOrThrow (JDK 23+); dit4j targets
# Java 22, so use the equivalent find(..).orElseThrow. This is the only JDK 23+ API in its output.
for f in "$pkg"/shim/*.java "$pkg"/cudnn/*.java; do
  sed -i -E 's/SYMBOL_LOOKUP\.findOrThrow\(("[A-Za-z0-9_]+")\)/SYMBOL_LOOKUP.find(\1).orElseThrow(() -> new UnsatisfiedLinkError("unresolved symbol: " + \1))/g' "$f"
done

# --- the checked facade over the shim
python3 "$here/gen_facade.py" "$header" "$pkg/CheckedCalls.java"
echo "bindings regenerated in $pkg"
