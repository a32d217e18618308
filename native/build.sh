#!/usr/bin/env bash
# Builds dit4j's native shim (libdit4j.so). The one entry point the Maven build calls; run it
# from anywhere. Rerunning it when nothing changed is a quick no-op.
#
#  1. finds libtorch by the rules dit4j's Java loader applies at run time: $LIBTORCH (a libtorch
#     root with include/ lib/ share/cmake/Torch, or a python torch package directory, or the
#     site-packages holding one); else the torch that python3 would import; else the CPU build
#     torch==2.13.0+cpu, provisioned once into the per-user cache by provision-libtorch.sh;
#  2. configures (only when the build is not configured for that libtorch) and builds
#     native/ with CMake into native/build;
#  3. writes native/build/dit4j-native.properties (the libtorch version the shim was built for),
#     which the native jar carries beside the shim.
#
# Environment: LIBTORCH (see above), DIT4J_JOBS (parallel compile jobs, default 2),
# DIT4J_TORCH_INDEX_URL (pip index for provisioning, default https://download.pytorch.org/whl/cpu).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here") # main's gloo step caches headers under $repo/.cache
build="$here/build"
cpu_version="2.13.0"
user_cache="${XDG_CACHE_HOME:-$HOME/.cache}/dit4j"
jobs="${DIT4J_JOBS:-2}"

say() { echo "[dit4j native] $*"; }
die() {
  echo "[dit4j native] ERROR: $*" >&2
  exit 1
}

# A torch root holds the headers, the libraries and the CMake config.
is_root() { [ -f "$1/include/ATen/ATen.h" ] && [ -d "$1/lib" ] && [ -d "$1/share/cmake/Torch" ]; }

# ---- 1. libtorch ----------------------------------------------------------------------------
torch_dir=""
if [ -n "${LIBTORCH:-}" ]; then
  for candidate in "$LIBTORCH" "$LIBTORCH/torch"; do
    if is_root "$candidate"; then
      torch_dir=$(cd "$candidate" && pwd)
      break
    fi
  done
  [ -n "$torch_dir" ] || die "LIBTORCH=$LIBTORCH is not a libtorch: expected include/ATen/ATen.h, lib/ and share/cmake/Torch in it (a libtorch zip root or a python torch package directory)"
  source="LIBTORCH"
elif command -v python3 > /dev/null 2>&1 &&
  py_torch=$(python3 -c 'import importlib.util, os; s = importlib.util.find_spec("torch"); print(os.path.dirname(s.origin) if s and s.origin else "")' 2> /dev/null) &&
  [ -n "$py_torch" ] && is_root "$py_torch"; then
  torch_dir=$(cd "$py_torch" && pwd)
  source="python3's torch"
else
  torch_dir=$(bash "$here/provision-libtorch.sh" "$cpu_version" "$user_cache") ||
    die "no libtorch found: set LIBTORCH to a libtorch (https://pytorch.org/get-started/locally/, LibTorch C++ zip) or to a python torch package directory"
  source="the user cache"
fi

# ---- 2. its version -------------------------------------------------------------------------
version=""
if [ -f "$torch_dir/version.py" ]; then
  version=$(sed -n "s/^__version__ *= *['\"]\([^'\"]*\)['\"].*/\1/p" "$torch_dir/version.py" | head -1)
fi
if [ -z "$version" ] && [ -f "$torch_dir/build-version" ]; then
  version=$(head -1 "$torch_dir/build-version" | tr -d '[:space:]')
fi
if [ -z "$version" ]; then
  header="$torch_dir/include/torch/headeronly/version.h"
  [ -f "$header" ] || header="$torch_dir/include/torch/csrc/api/include/torch/version.h"
  version=$(sed -n 's/^#define TORCH_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)/\2/p' "$header" 2> /dev/null | paste -sd. -)
fi
[ -n "$version" ] || die "cannot read the libtorch version in $torch_dir (no version.py or build-version)"
cuda=false
[ -f "$torch_dir/lib/libtorch_cuda.so" ] && cuda=true
say "libtorch $version (CUDA: $cuda) from $source: $torch_dir"

# ---- 3. configure and build -----------------------------------------------------------------
command -v cmake > /dev/null 2>&1 || die "cmake is required to build the native shim (apt install cmake / pip install cmake)"
generator="Unix Makefiles"
command -v ninja > /dev/null 2>&1 && generator="Ninja"
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2> /dev/null | head -1; }
if [ ! -f "$build/CMakeCache.txt" ] || [ "$(cache_value LIBTORCH_DIR)" != "$torch_dir" ] ||
  [ "$(cache_value CMAKE_HOME_DIRECTORY)" != "$here" ] || [ ! -f "$build/build.ninja" -a ! -f "$build/Makefile" ]; then
  say "configuring (cmake, $generator) for $torch_dir"
  mkdir -p "$build"
  rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
  configure() {
    cmake -S "$here" -B "$build" -G "$generator" -DCMAKE_BUILD_TYPE=Release -DLIBTORCH_DIR="$torch_dir" "$@" \
      > "$build/cmake-configure.log" 2>&1
  }
  if ! configure; then
    if [ "$cuda" = true ]; then
      say "torch's CMake config failed (see $build/cmake-configure.log); retrying with libtorch linked by path"
      rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
      configure -DDIT4J_TORCH_MANUAL=ON || { tail -30 "$build/cmake-configure.log" >&2; die "cmake configure failed: see $build/cmake-configure.log (set LIBTORCH to another libtorch?)"; }
    else
      tail -30 "$build/cmake-configure.log" >&2
      die "cmake configure failed: see $build/cmake-configure.log (set LIBTORCH to another libtorch?)"
    fi
  fi
fi
start=$(date +%s)
if ! cmake --build "$build" -j "$jobs" > "$build/cmake-build.log" 2>&1; then
  grep -E -A5 'error|Error' "$build/cmake-build.log" | head -60 >&2 || true
  die "building the native shim failed: see $build/cmake-build.log"
fi
shim="$build/libdit4j.so"
[ -f "$shim" ] || die "the build did not produce $shim"
if grep -q -E 'Linking|Building' "$build/cmake-build.log"; then
  say "built $shim in $(($(date +%s) - start)) s"
else
  say "shim up to date: $shim"
fi

# The shim travels in a jar: it must not name a folder of this machine (no RPATH, no __FILE__ paths).
if grep -q -a -F -e "$torch_dir" -e "$here" "$shim"; then
  die "$shim contains an absolute path of this machine ($torch_dir or $here): see the -ffile-prefix-map in CMakeLists.txt"
fi

# ---- 4. dit4j-native.properties -------------------------------------------------------------
# No absolute path of this machine goes in here: the native jar carries this file beside the shim.
props="$build/dit4j-native.properties"
content="# Written by native/build.sh: the libtorch dit4j's shim was built against.
libtorch.version=$version
libtorch.cuda=$cuda"
if [ ! -f "$props" ] || [ "$(cat "$props")" != "$content" ]; then
  printf '%s\n' "$content" > "$props.tmp"
  mv "$props.tmp" "$props"
  say "wrote $props"
fi
