#!/usr/bin/env bash
# Packs what the GPU machine lacks into ignored paths that travel beside the working tree. That
# machine has Python with a CUDA torch (and its headers), CMake and nvcc, but no JDK, no Maven, no
# network, and what travels is at most 64 MiB; gpu-harness.sh builds the shim there against its
# torch and runs from these:
#
#   .cache/device/jdk.tar.xz      a jlink'd Java runtime (44 MB, 20 MB packed; java.sh unpacks it to .jdk)
#   .cache/device/dit-reference/  the authors' code the references import, read from their
#   .cache/device/uvit-reference/ checkouts, never committed: DiT's models.py and diffusion/,
#   .cache/device/microdit-reference/  U-ViT's libs/ (the LDM autoencoder), micro_diffusion's package
#   bench/target/benchmarks.jar   the benchmarks with dit4j inside (built here)
#   .cache/device/cli/            the dit4j command line's jar and its libraries (for `doctor`)
#   .cache/gloo-debian/           gloo's headers, so the shim keeps its Gloo backend (when built here)
#
#   bench/device-pack.sh /path/to/DiT /path/to/U-ViT /path/to/micro_diffusion   # checkouts or bare mirrors
#
# It ends by printing the `carry` list and the size of everything that travels.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -eq 3 ] || { echo "usage: device-pack.sh /path/to/DiT /path/to/U-ViT /path/to/micro_diffusion (checkouts or bare mirrors)" >&2; exit 1; }
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

# The references' imports: PATHS from the checkout or bare repository SRC into DEST.
copy_reference() {
  local src=$1 dest=$2
  shift 2
  mkdir -p "$dest"
  if [ -e "$src/$1" ]; then
    (cd "$src" && cp -r --parents "$@" "$dest/")
  else
    git -C "$src" archive HEAD "$@" | tar -x -C "$dest"
  fi
  for p in "$@"; do [ -e "$dest/$p" ] || { echo "device-pack: no $p in $src" >&2; exit 1; }; done
}
copy_reference "$1" "$pack/dit-reference" models.py diffusion
copy_reference "$2" "$pack/uvit-reference" libs
copy_reference "$3" "$pack/microdit-reference" micro_diffusion

# The command line (its `doctor` reports cuDNN through the generated bindings) and its libraries.
mkdir -p "$pack/cli"
(cd "$root" && mvn -q -B -DskipTests package -pl examples -am && mvn -q -B dependency:copy-dependencies -pl examples \
  -DincludeArtifactIds=picocli,gson -DoutputDirectory="$pack/cli")
cp "$root"/examples/target/dit4j-examples.jar "$pack/cli/"

# gloo's headers, as native/build.sh cached them here (absent: the device shim builds without Gloo).
[ -d "$root/.cache/gloo-debian" ] || bash "$root/native/build.sh" >&2 || true

carry=(.cache/device bench/target/benchmarks.jar)
[ -d "$root/.cache/gloo-debian" ] && carry+=(.cache/gloo-debian)
tree=$(git -C "$root" ls-files -z --cached --others --exclude-standard | (cd "$root" && xargs -0 du -cb 2> /dev/null) | tail -1 | cut -f1)
extra=$(cd "$root" && du -cb "${carry[@]}" | tail -1 | cut -f1)
printf 'carry: ['; printf '"%s",' "${carry[@]}" | sed 's/,$//'; printf ']\n'
echo "travels: working tree $((tree / 1048576)) MiB + carried $((extra / 1048576)) MiB = $(((tree + extra) / 1048576)) MiB (limit 64)"
