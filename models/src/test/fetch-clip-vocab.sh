#!/usr/bin/env bash
# Puts open_clip's bpe_simple_vocab_16e6.txt.gz, which dit4j does not ship, into the user cache
# ($XDG_CACHE_HOME/dit4j when that is an absolute path, else ~/.cache/dit4j) for models' tests
# (VocabularyFixture): copied from the open_clip that python3 has installed, else from the
# open_clip_torch wheel that pip downloads, checked against its SHA-256. The library itself starts
# no processes, so models/pom.xml runs this at process-test-resources (not with -DskipTests or
# -Dmaven.test.skip); nothing to do when DIT4J_CLIP_VOCAB names the file.
#
# Environment: PYTHON (default python3).
set -euo pipefail
[ -n "${DIT4J_CLIP_VOCAB:-}" ] && exit 0
name=bpe_simple_vocab_16e6.txt.gz
wheel=open_clip_torch==3.3.0
sum=924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a
python=${PYTHON:-python3}
[[ "${XDG_CACHE_HOME:-}" == /* ]] && cache=$XDG_CACHE_HOME/dit4j || cache=$HOME/.cache/dit4j
dest=$cache/$name

die() {
  echo "[dit4j fetch-clip-vocab] ERROR: $*" >&2
  exit 1
}
sha() { "$python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"; }

[ -f "$dest" ] && [ "$(sha "$dest")" = "$sum" ] && exit 0
command -v "$python" > /dev/null 2>&1 || die "no $python to find or download open_clip's $name"
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/open_clip.partial.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
installed=$("$python" -c 'import importlib.util, os; s = importlib.util.find_spec("open_clip")
print(os.path.dirname(s.origin) if s and s.origin else "")' 2> /dev/null || true)
if [ -n "$installed" ] && [ -f "$installed/$name" ] && [ "$(sha "$installed/$name")" = "$sum" ]; then
  cp "$installed/$name" "$tmp/$name"
else
  echo "[dit4j fetch-clip-vocab] downloading $wheel with pip for its $name (once)" >&2
  if ! "$python" -m pip download --quiet --no-deps --no-input --dest "$tmp" "$wheel" > "$tmp/pip.log" 2>&1 < /dev/null; then
    tail -5 "$tmp/pip.log" >&2 || true
    die "pip could not download $wheel"
  fi
  "$python" -c 'import glob, sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(glob.glob(sys.argv[1])[0]).read(sys.argv[2]))' \
    "$tmp/*.whl" "open_clip/$name" > "$tmp/$name" || die "no open_clip/$name in the wheel of $wheel"
  got=$(sha "$tmp/$name")
  [ "$got" = "$sum" ] || die "the wheel's $name has SHA-256 $got, expected $sum"
fi
mv -f "$tmp/$name" "$dest"
echo "[dit4j fetch-clip-vocab] $dest" >&2
