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
# Environment: LIBTORCH (see above), DIT4J_JOBS (parallel compile jobs, default 2), DIT4J_CMAKE_ARGS
# (extra CMake options, e.g. -DDIT4J_NCCL=OFF; a change reconfigures),
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

# ---- 3. gloo's headers ------------------------------------------------------------------------
# libtorch contains c10d's Gloo backend, but pip's torch wheels ship without gloo's headers, which
# ProcessGroupGloo.hpp includes. Provision them once (headers only, the commit below) into .cache;
# without them the shim builds without Gloo and its process groups report so.
gloo_commit="70dc360272dfc57e3617184c78ff9b06f8cd4757"
gloo_include=""
if [ -f "$torch_dir/include/gloo/algorithm.h" ]; then
  gloo_include="$torch_dir/include"
else
  gloo_cache="$repo/.cache/gloo-$gloo_commit/include"
  if [ ! -f "$gloo_cache/gloo/config.h" ]; then
    tmp_gloo=$(mktemp -d)
    if command -v curl > /dev/null 2>&1 &&
      curl -fsSL --max-time 60 "https://github.com/pytorch/gloo/archive/$gloo_commit.tar.gz" 2> /dev/null | tar -xz -C "$tmp_gloo" 2> /dev/null; then
      mkdir -p "$gloo_cache"
      (cd "$tmp_gloo"/gloo-* && find gloo -name '*.h' -exec cp --parents {} "$gloo_cache" \;)
      # config.h as libtorch's build configures it: CPU TCP transport only.
      sed -e 's/@GLOO_VERSION_MAJOR@/0/; s/@GLOO_VERSION_MINOR@/5/; s/@GLOO_VERSION_PATCH@/0/' \
        -e 's/#cmakedefine01 \(GLOO_HAVE_TRANSPORT_TCP\)$/#define \1 1/' \
        -e 's/#cmakedefine01 \(.*\)/#define \1 0/' "$tmp_gloo"/gloo-*/gloo/config.h.in > "$gloo_cache/gloo/config.h"
    fi
    rm -rf "$tmp_gloo"
  fi
  [ -f "$gloo_cache/gloo/config.h" ] && gloo_include="$gloo_cache"
fi
if [ -z "$gloo_include" ]; then
  # Where github.com is out of reach (as on CI), Debian's libgloo-dev (unpacked, not installed) has
  # the same headers at an older commit. What ProcessGroupGloo.hpp uses from them (device handles,
  # contexts, the rendezvous store behind pointers, error types) has the same layout in both, and
  # the process-group tests run against this route.
  deb_cache="$repo/.cache/gloo-debian/include"
  if [ ! -f "$deb_cache/gloo/config.h" ] && command -v apt-get > /dev/null 2>&1 && command -v dpkg-deb > /dev/null 2>&1; then
    tmp_gloo=$(mktemp -d)
    if (cd "$tmp_gloo" && apt-get download -qq libgloo-dev > /dev/null 2>&1) &&
      dpkg-deb -x "$tmp_gloo"/libgloo-dev_*.deb "$tmp_gloo/x" && [ -f "$tmp_gloo/x/usr/include/gloo/config.h" ]; then
      mkdir -p "$deb_cache" && cp -r "$tmp_gloo/x/usr/include/gloo" "$deb_cache/"
      # configured as libtorch's gloo is: CPU TCP transport only
      sed -i -E -e 's/^#define (GLOO_USE_[A-Z]+|GLOO_HAVE_TRANSPORT_[A-Z_]+) 1$/#define \1 0/' \
        -e 's/^#define GLOO_HAVE_TRANSPORT_TCP 0$/#define GLOO_HAVE_TRANSPORT_TCP 1/' "$deb_cache/gloo/config.h"
    fi
    rm -rf "$tmp_gloo"
  fi
  if [ -f "$deb_cache/gloo/config.h" ]; then
    gloo_include="$deb_cache"
  else
    say "could not fetch gloo's headers (github.com/pytorch/gloo at $gloo_commit, or Debian's libgloo-dev): building without Gloo process groups"
  fi
fi

# ---- 4. configure and build -----------------------------------------------------------------
command -v cmake > /dev/null 2>&1 || die "cmake is required to build the native shim (apt install cmake / pip install cmake)"
generator="Unix Makefiles"
command -v ninja > /dev/null 2>&1 && generator="Ninja"
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2> /dev/null | head -1; }
if [ ! -f "$build/CMakeCache.txt" ] || [ "$(cache_value LIBTORCH_DIR)" != "$torch_dir" ] ||
  [ "$(cache_value CMAKE_HOME_DIRECTORY)" != "$here" ] || [ "$(cache_value DIT4J_GLOO_INCLUDE)" != "$gloo_include" ] ||
  [ "$(cat "$build/cmake-args" 2> /dev/null)" != "${DIT4J_CMAKE_ARGS:-}" ] || [ ! -f "$build/build.ninja" -a ! -f "$build/Makefile" ]; then
  say "configuring (cmake, $generator) for $torch_dir"
  mkdir -p "$build"
  rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
  configure() {
    # shellcheck disable=SC2086 # DIT4J_CMAKE_ARGS is a list of options
    cmake -S "$here" -B "$build" -G "$generator" -DCMAKE_BUILD_TYPE=Release -DLIBTORCH_DIR="$torch_dir" -DDIT4J_GLOO_INCLUDE="$gloo_include" \
      ${DIT4J_CMAKE_ARGS:-} "$@" > "$build/cmake-configure.log" 2>&1
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
printf '%s' "${DIT4J_CMAKE_ARGS:-}" > "$build/cmake-args"
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
if grep -q -a -F -e "$torch_dir" -e "$repo" "$shim"; then
  die "$shim contains an absolute path of this machine ($torch_dir or $repo): see the -ffile-prefix-map in CMakeLists.txt"
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
