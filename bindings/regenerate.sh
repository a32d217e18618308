#!/usr/bin/env bash
# Regenerates the committed bindings with a jextract found on PATH:
#   src/main/java/dev/dit4j/bindings/shim   from native/include/dit4j.h       (class Dit4jNative)
#   src/main/java/dev/dit4j/bindings/cudnn  from cuDNN's headers (subset in cudnn.symbols, class Cudnn)
#   src/main/java/dev/dit4j/bindings/CheckedCalls.java  the checked facade (gen_facade.py)
# cuDNN headers: $CUDNN_INCLUDE, else an importable nvidia.cudnn, else the nvidia-cudnn-cu13 wheel via pip.
# CUDA runtime headers (cuda_runtime_api.h, for cudaStream_t): $CUDA_INCLUDE, else /usr/local/cuda/include.
# Run it after changing dit4j.h or cudnn.symbols, then commit the result. No --library is given:
# the generated classes resolve symbols with SymbolLookup.loaderLookup() (then the default lookup),
# so dit4j's loader must System.load() libtorch, the shim and cuDNN (when present) by absolute path
# before a generated class is initialized. Needs: jextract (22+), python3, and for the wheel, pip + unzip.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
src="$here/src/main/java"
pkg="$src/dev/dit4j/bindings"
command -v jextract >/dev/null || {
  echo "regenerate.sh: no jextract on PATH; install jextract 22 or newer and put its bin/ on PATH" >&2; exit 1; }
command -v python3 >/dev/null || { echo "regenerate.sh: python3 is required" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"   # jextract reads ./compile_flags.txt, if any, from here

# --- preflight: can this jextract's libclang resolve <stdint.h>? Some builds (a libclang whose own
# resource dir is absolute, plus a second copy of clang's builtin headers in the jextract image) hide
# glibc's stdint.h. Then hand libclang the C compiler's system directories through compile_flags.txt.
printf '#include <stdint.h>\nint32_t probe(int64_t x);\n' > probe.h
probe() { jextract --output "$work/probe.out" --target-package probe probe.h >/dev/null 2>&1; }
if ! probe; then
  if command -v cc >/dev/null; then
    cc -E -Wp,-v -x c - </dev/null 2>&1 | sed -n 's/^ \(\/.*\)$/-isystem\1/p' | grep -v '/gcc/' > compile_flags.txt || true
  fi
  probe || { echo "regenerate.sh: $(command -v jextract) cannot resolve <stdint.h>; fix its libclang setup" >&2; exit 1; }
fi
jextract --version | sed 's/^/  /' >&2

# --- the shim: every declaration of dit4j.h itself, none of what it includes (jextract's default
# would also bind everything reached through <stdint.h>)
header="$repo/native/include/dit4j.h"
[ -f "$header" ] || { echo "regenerate.sh: $header not found" >&2; exit 1; }
jextract --dump-includes "$work/shim.all" "$header" >/dev/null
grep -E "^--include-[a-z]+ .*# header: .*/native/include/dit4j\.h$" "$work/shim.all" \
  | sed -E 's/[[:space:]]+#.*$//' > "$work/shim.args"
[ -s "$work/shim.args" ] || { echo "regenerate.sh: no declarations found in $header" >&2; exit 1; }
rm -rf "$pkg/shim"
jextract --output "$src" --target-package dev.dit4j.bindings.shim --header-class-name Dit4jNative \
  @"$work/shim.args" "$header"

# --- cuDNN subset
cudnn_inc=${CUDNN_INCLUDE:-}
if [ -z "$cudnn_inc" ]; then
  cudnn_inc=$(python3 -c 'import nvidia.cudnn, os; print(os.path.join(list(nvidia.cudnn.__path__)[0], "include"))' 2>/dev/null || true)
fi
if [ -z "$cudnn_inc" ] || [ ! -f "$cudnn_inc/cudnn.h" ]; then
  echo "regenerate.sh: fetching cuDNN headers from the nvidia-cudnn-cu13 wheel" >&2
  python3 -m pip download --quiet --no-deps -d "$work/wheel" nvidia-cudnn-cu13 >&2
  (cd "$work/wheel" && unzip -q -o ./*.whl 'nvidia/cudnn/include/*')
  cudnn_inc="$work/wheel/nvidia/cudnn/include"
fi
[ -f "$cudnn_inc/cudnn.h" ] || { echo "regenerate.sh: cudnn.h not found in $cudnn_inc (set CUDNN_INCLUDE)" >&2; exit 1; }
cuda_inc=${CUDA_INCLUDE:-/usr/local/cuda/include}
[ -f "$cuda_inc/cuda_runtime_api.h" ] || {
  echo "regenerate.sh: cuda_runtime_api.h not found in $cuda_inc (set CUDA_INCLUDE)" >&2; exit 1; }

# cudnn.symbols -> jextract options; "enum-constants T" becomes one --include-constant per
# enumerator of "typedef enum {...} T;" in cuDNN's headers (deprecated aliases left out).
python3 - "$here/cudnn.symbols" "$cudnn_inc" > "$work/cudnn.args" <<'PY'
import glob, os, re, sys
symbols, inc = sys.argv[1], sys.argv[2]
text = ""
for h in sorted(glob.glob(os.path.join(inc, "cudnn*.h"))):
    if not re.search(r"_v\d+\.h$", h):          # cudnn_*_v9.h are copies of cudnn_*.h
        text += open(h, encoding="utf-8", errors="replace").read() + "\n"
text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
text = re.sub(r"//[^\n]*", " ", text)
enums = {m.group(2): m.group(1) for m in
         re.finditer(r"typedef\s+enum\s*\w*\s*\{([^{}]*)\}\s*(\w+)\s*;", text)}
for line in open(symbols, encoding="utf-8"):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    if line.startswith("enum-constants "):
        name = line.split()[1]
        if name not in enums:
            sys.exit(f"regenerate.sh: no 'typedef enum {{...}} {name};' in {inc}")
        for item in enums[name].split(","):
            words = item.split("=")[0].split()
            if words and "CUDNN_DEPRECATED_ENUM" not in words:
                print("--include-constant", words[0])
    else:
        print(line)
PY
rm -rf "$pkg/cudnn"
jextract --output "$src" --target-package dev.dit4j.bindings.cudnn --header-class-name Cudnn \
  -I "$cudnn_inc" -I "$cuda_inc" @"$work/cudnn.args" "$cudnn_inc/cudnn.h"
grep -h "define CUDNN_MAJOR\|define CUDNN_MINOR\|define CUDNN_PATCHLEVEL" "$cudnn_inc/cudnn_version.h" \
  > "$pkg/cudnn/HEADERS_VERSION.txt"

# --- Java 22 compatibility: jextract 25 (master) emits SymbolLookup.findOrThrow (JDK 23+); dit4j targets
# Java 22, so use the equivalent find(..).orElseThrow. This is the only JDK 23+ API in its output.
for f in "$pkg"/shim/*.java "$pkg"/cudnn/*.java; do
  sed -i -E 's/SYMBOL_LOOKUP\.findOrThrow\(("[A-Za-z0-9_]+")\)/SYMBOL_LOOKUP.find(\1).orElseThrow(() -> new UnsatisfiedLinkError("unresolved symbol: " + \1))/g' "$f"
done
if grep -l "SYMBOL_LOOKUP\.findOrThrow" "$pkg"/shim/*.java "$pkg"/cudnn/*.java; then
  echo "regenerate.sh: findOrThrow left in the files above (not Java 22)" >&2; exit 1
fi

# --- the checked facade over the shim
python3 "$here/gen_facade.py" "$header" "$pkg/CheckedCalls.java"
echo "bindings regenerated in $pkg"
