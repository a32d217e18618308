#!/usr/bin/env bash
# Provisions the CPU build of libtorch VERSION (torch==VERSION+cpu, installed with pip) into the
# cache directory CACHE once, and prints its torch root, CACHE/libtorch-VERSION+cpu/torch.
#
#   provision-libtorch.sh 2.13.0 ~/.cache/dit4j
#
# The one provisioning step of dit4j: native/build.sh runs it at build time, and dit4j's Java
# loader runs the copy packaged in the bindings jar at run time, both with the per-user cache
# ($XDG_CACHE_HOME/dit4j, else ~/.cache/dit4j), so a build and a later run share one libtorch.
# Concurrent callers are safe: they take a lock (flock) and pip installs into a temporary
# directory that is renamed into place only when complete.
#
# Environment: PYTHON (default python3); DIT4J_TORCH_INDEX_URL (the pip index tried when the
# configured ones have no such wheel, default https://download.pytorch.org/whl/cpu).
set -euo pipefail
version=${1:?usage: provision-libtorch.sh VERSION CACHE_DIR}
cache=${2:?usage: provision-libtorch.sh VERSION CACHE_DIR}
python=${PYTHON:-python3}
dest="$cache/libtorch-$version+cpu"

die() {
  echo "[dit4j provision] ERROR: $*" >&2
  exit 1
}
# Only the libraries are needed at run time; the build also needs the headers and CMake config.
complete() { [ -f "$1/torch/lib/libtorch.so" ] && [ -f "$1/torch/include/ATen/ATen.h" ] && [ -d "$1/torch/share/cmake/Torch" ]; }

if ! complete "$dest"; then
  command -v "$python" > /dev/null 2>&1 || die "no $python to install torch==$version+cpu with pip"
  mkdir -p "$cache"
  exec 9> "$dest.lock"
  command -v flock > /dev/null 2>&1 && flock 9
  if ! complete "$dest"; then # another process may have finished it while we waited
    echo "[dit4j provision] installing torch==$version+cpu with pip into $dest (once)" >&2
    tmp=$(mktemp -d "$dest.partial.XXXXXX")
    trap 'rm -rf "$tmp" "$tmp.log"' EXIT
    chmod 755 "$tmp"
    pip_args=(-m pip install --quiet --no-deps --no-input --target "$tmp")
    if ! "$python" "${pip_args[@]}" "torch==$version+cpu" > "$tmp.log" 2>&1 < /dev/null &&
      ! "$python" "${pip_args[@]}" --extra-index-url "${DIT4J_TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}" \
        "torch==$version+cpu" >> "$tmp.log" 2>&1 < /dev/null; then
      tail -5 "$tmp.log" >&2 || true
      die "pip could not install torch==$version+cpu"
    fi
    complete "$tmp" || die "pip installed torch==$version+cpu into $tmp but it has no libtorch (lib/, include/, share/cmake/Torch)"
    rm -rf "$dest"
    mv "$tmp" "$dest"
  fi
fi
echo "$dest/torch"
