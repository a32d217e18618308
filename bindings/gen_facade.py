#!/usr/bin/env python3
"""Writes CheckedCalls.java: one checked Java wrapper per simple function of native/include/dit4j.h.

Each wrapper calls jextract's binding and turns the C error convention (NULL handle, negative
status) into a TorchException carrying libtorch's message. Arrays become Java arrays copied into
a per-thread scratch buffer. Functions with output parameters are written by hand in LibTorch.java.
Run by regenerate.sh after jextract; the output is committed.
"""
import re
import sys
from pathlib import Path

HEADER, OUT = Path(sys.argv[1]), Path(sys.argv[2])

SCALARS = {"int32_t": "int", "int64_t": "long", "uint64_t": "long", "double": "double"}
HANDLES = {"dt_tensor", "dt_generator", "dt_process_group", "dt_work", "dt_cuda_graph"}
# The error channel itself is read by NativeErrors, not wrapped.
INTERNAL = {"dt_last_error", "dt_last_error_kind", "dt_clear_error"}
# Functions that never fail, or whose negative results are values (a CPU tensor's device index is
# -1; Java has already checked the handle), or that are handled by hand.
UNCHECKED = {"dt_tensor_device_index", "dt_last_error", "dt_last_error_kind", "dt_clear_error", "dt_live_tensors",
             "dt_tensor_free", "dt_generator_free", "dt_process_group_free", "dt_work_free", "dt_cuda_graph_free", "dt_torch_version", "dt_torch_config",
             "dt_cudnn_version", "dt_cuda_current_stream", "dt_built_with_cuda"}


def prototypes(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = "\n".join(l for l in text.splitlines() if not l.strip().startswith(("#", "typedef", "enum")))
    text = re.sub(r"enum\s+\w+\s*\{[^}]*\};", "", text, flags=re.S)
    for m in re.finditer(r"([\w\s\*]+?)\b(dt_\w+)\s*\(([^)]*)\)\s*;", text, flags=re.S):
        ret, name, params = " ".join(m.group(1).split()), m.group(2), " ".join(m.group(3).split())
        params = [] if params in ("", "void") else [p.strip() for p in params.split(",")]
        yield ret, name, params


def split_param(p):
    m = re.match(r"(.*?)(\w+)$", p)
    return " ".join(m.group(1).replace("*", " * ").split()), m.group(2)


def camel(name):
    """dt_tensor_free -> tensorFree; a trailing underscore (in-place op) is kept: binary_ -> binary_."""
    inplace = name.endswith("_")
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest) + ("_" if inplace else "")


def wrapper(ret, name, params):
    """Returns the Java method text, or None when the function needs a hand-written wrapper."""
    jparams, args, pre = [], [], []
    parsed = [split_param(p) for p in params]
    i = 0
    while i < len(parsed):
        ctype, pname = parsed[i]
        jname = camel(pname)
        nxt = parsed[i + 1] if i + 1 < len(parsed) else None
        if ctype == "const int64_t *":
            jparams.append(f"long[] {jname}")
            pre.append(f"MemorySegment {jname}Seg = scratch.longs({jname});")
            args.append(f"{jname}Seg")
            if nxt and nxt[0] == "int32_t" and nxt[1] in ("ndim", "ndims", "n"):
                args.append(f"{jname} == null ? 0 : {jname}.length")
                i += 1
        elif ctype == "const dt_tensor *":
            jparams.append(f"MemorySegment[] {jname}")
            pre.append(f"MemorySegment {jname}Seg = scratch.pointers({jname});")
            args.append(f"{jname}Seg")
            if nxt and nxt[0] == "int32_t" and nxt[1] == "n":
                args.append(f"{jname}.length")
                i += 1
        elif ctype in HANDLES or ctype == "void *":
            jparams.append(f"MemorySegment {jname}")
            args.append(f"orNull({jname})")
        elif ctype in SCALARS:
            jparams.append(f"{SCALARS[ctype]} {jname}")
            args.append(jname)
        else:
            return None  # output pointers, callbacks, char buffers: written by hand
        i += 1
    call = f"Dit4jNative.{name}({', '.join(args)})"
    method = camel(name[3:])
    if ret in HANDLES or ret == "void *":
        jret = "MemorySegment"
        body = f"return {call};" if name in UNCHECKED else f"return checkHandle({call});"
    elif ret in SCALARS:
        jret = SCALARS[ret]
        body = f"return {call};" if name in UNCHECKED else f"return checkStatus({call});"
    elif ret == "void":
        jret, body = "void", f"{call};"
    elif ret == "const char *" or ret == "const char*":
        jret, body = "String", f"return {call}.getString(0);"
    else:
        return None
    lines = [f"    public static {jret} {method}({', '.join(jparams)}) {{"]
    if pre:
        lines.append("        try (Scratch scratch = Scratch.open()) {")
        lines += [f"            {p}" for p in pre]
        lines.append(f"            {body}")
        lines.append("        }")
    else:
        lines.append(f"        {body}")
    lines.append("    }")
    return "\n".join(lines)


def main():
    methods, skipped = [], []
    for ret, name, params in prototypes(HEADER.read_text()):
        if name in INTERNAL:
            continue
        ret = ret.replace("const char*", "const char *").replace("void*", "void *")
        text = wrapper(ret, name, params)
        (methods.append(text) if text else skipped.append(name))
    OUT.write_text(f"""// Generated by bindings/gen_facade.py from native/include/dit4j.h. Do not edit.
// Hand-written wrappers (output parameters, callbacks): {', '.join(skipped)}.
package dev.dit4j.bindings;

import dev.dit4j.bindings.shim.Dit4jNative;
import java.lang.foreign.MemorySegment;

/** Checked wrappers over the shim: failures become {{@link TorchException}}s. */
class CheckedCalls extends NativeErrors {{
    CheckedCalls() {{}}

{chr(10).join(chr(10).join([m, '']) for m in methods)}}}
""")


main()
