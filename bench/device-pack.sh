#!/usr/bin/env bash
# Packs what the GPU machine lacks into ignored paths that travel beside the working tree. That
# machine has Python with a CUDA torch (and its headers), CMake and nvcc, but no JDK, no Maven, no
# network, and what travels is at most 64 MiB; gpu-harness.sh builds the shim there against its
# torch and runs from these:
#
#   .cache/device/jdk.tar.xz      a jlink'd Java runtime (44 MB, 20 MB packed; java.sh unpacks it to .jdk)
#   .cache/device/dit-reference/  the authors' DiT code the reference imports (models.py, diffusion/),
#                                 read from their checkout, never committed
#   .cache/device/timm-*.whl      timm, which DiT's models.py imports (Python imports it from the wheel)
#   bench/target/benchmarks.jar   the benchmarks with dit4j inside (built here)
#   .cache/gloo-debian/           gloo's headers, so the shim keeps its Gloo backend (when built here)
#
#   bench/device-pack.sh /path/to/DiT             # a checkout, or a bare mirror of facebookresearch/DiT
#   PYTHON=python3 bench/device-pack.sh ...       # the pip that downloads timm (default: python3)
#
# It ends by printing the `carry` list and the size of everything that travels.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dit=${1:?usage: device-pack.sh /path/to/DiT (checkout or bare mirror)}
python=${PYTHON:-python3}
source "$root/bench/java.sh" # java_bin (JDK >= 22) and the benchmarks jar, built when missing
jdk_home=$(dirname "$(dirname "$java_bin")")

pack="$root/.cache/device"
rm -rf "$pack" && mkdir -p "$pack"

# The runtime: the modules the benchmarks, JMH and the JVM flags the scripts pass need. libjvm.so
# is most of it and xz packs it well.
runtime=$(mktemp -d)
"$jdk_home/bin/jlink" --add-modules java.base,java.logging,java.management,jdk.management,jdk.unsupported \
  --strip-debug --no-header-files --no-man-pages --output "$runtime/jdk"
tar -C "$runtime" -cf - jdk | xz -T0 -6 > "$pack/jdk.tar.xz"
rm -rf "$runtime"

# The reference's imports: DiT's models.py and diffusion/ (from a work tree or a bare repository).
ref="$pack/dit-reference"
mkdir -p "$ref"
if [ -f "$dit/models.py" ]; then
  cp "$dit/models.py" "$ref/" && cp -r "$dit/diffusion" "$ref/"
else
  git -C "$dit" archive HEAD models.py diffusion | tar -x -C "$ref"
fi
[ -f "$ref/models.py" ] && [ -d "$ref/diffusion" ] || { echo "device-pack: no models.py and diffusion/ in $dit" >&2; exit 1; }

# timm, without its optional dependencies (DiT's models.py uses three of its layers).
"$python" -m pip download --no-deps -q -d "$pack" timm

# gloo's headers, as native/build.sh cached them here (absent: the device shim builds without Gloo).
[ -d "$root/.cache/gloo-debian" ] || bash "$root/native/build.sh" >&2 || true

carry=(.cache/device bench/target/benchmarks.jar)
[ -d "$root/.cache/gloo-debian" ] && carry+=(.cache/gloo-debian)
tree=$(git -C "$root" ls-files -z --cached --others --exclude-standard | (cd "$root" && xargs -0 du -cb 2> /dev/null) | tail -1 | cut -f1)
extra=$(cd "$root" && du -cb "${carry[@]}" | tail -1 | cut -f1)
printf 'carry: ['; printf '"%s",' "${carry[@]}" | sed 's/,$//'; printf ']\n'
echo "travels: working tree $((tree / 1048576)) MiB + carried $((extra / 1048576)) MiB = $(((tree + extra) / 1048576)) MiB (limit 64)"
