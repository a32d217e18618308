#!/usr/bin/env bash
# ATen operators per DiT step, dit4j vs the authors' model in PyTorch eager, on the CPU: one
# training step and one guided sampling step at DiT-XL/2's width (depth reduced, default 2 blocks),
# top-level operators and all (nested ones included), as libtorch's profiler records them.
# Prints both JSON lines and the ratios dit4j / eager.
#   bench/count-ops.sh /path/to/facebookresearch-DiT [depth] [batch]
# Python must have torch (the version of dit4j's libtorch) and timm; PYTHON selects the interpreter.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo=${1:?usage: count-ops.sh /path/to/DiT-checkout [depth] [batch]}
depth=${2:-2}
batch=${3:-2}
python=${PYTHON:-python3}
source "$root/bench/java.sh"
eager=$("$python" "$root/bench/op_count_reference.py" --dit-repo "$repo" --depth "$depth" --batch "$batch" 2>/dev/null | tail -1)
ours=$("$java_bin" --enable-native-access=ALL-UNNAMED -Ddit4j.leakReport=false -cp "$jar" \
       dev.dit4j.bench.OpCount --depth "$depth" --batch "$batch" 2>/dev/null | tail -1)
echo "$eager"
echo "$ours"
python3 -c "
import json, sys
e, o = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for ours, theirs in (('train_ops', 'train_ops'), ('train_ops', 'train_ops_authors'), ('sample_step_ops', 'sample_step_ops')):
    for c in ('top', 'all'):
        print('%s (%s): dit4j %d, eager %s %d, dit4j / eager = %.3f' % (ours, c, o[ours][c], theirs, e[theirs][c], o[ours][c] / e[theirs][c]))" "$eager" "$ours"
