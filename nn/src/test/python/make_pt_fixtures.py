"""Writes the torch.save fixtures for TorchCheckpointTest into nn/src/test/resources/pt/.

Each NAME.pt comes with NAME.safetensors holding the expected tensors as contiguous copies, keyed
by their path in the checkpoint ("model.lin.weight", "opt.state.0.exp_avg"), so the Java test
compares values exactly. Run with a Python that has torch and safetensors:

    /work/ref/venv/bin/python nn/src/test/python/make_pt_fixtures.py
"""
import argparse
import os

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "pt")


def flatten(obj, prefix, out):
    """Tensors of a nested dict/list, keyed by dotted path, as contiguous clones."""
    if isinstance(obj, torch.Tensor):
        out[prefix] = obj.detach().contiguous().clone()
    elif isinstance(obj, dict):
        for k, v in obj.items():
            flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            flatten(v, f"{prefix}.{i}", out)
    return out


def save(name, obj):
    torch.save(obj, os.path.join(OUT, name + ".pt"))
    save_file(flatten(obj, "", {}), os.path.join(OUT, name + ".safetensors"))


def state_dict():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(3, 4, generator=g)
    grid = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
    return {
        "w": w,
        "w_t": w.t(),  # a transposed view: shares w's storage
        "w_row": w[1],  # a contiguous view at a storage offset
        "w_col": w[:, 2],  # strided, at an offset
        "grid_slice": grid[:, 1:, ::2],  # 3-d, strided in every dim
        "f64": torch.randn(2, 2, generator=g, dtype=torch.float64),
        "f16": torch.randn(3, generator=g).half(),
        "bf16": torch.randn(5, generator=g).to(torch.bfloat16),
        "i64": torch.tensor([-(2**40), -1, 0, 7]),
        "i32": torch.tensor([-3, 5], dtype=torch.int32),
        "i16": torch.tensor([-300, 300], dtype=torch.int16),
        "i8": torch.tensor([-7, 9], dtype=torch.int8),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "mask": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5),
        "empty": torch.empty(0, 3),
        "param": torch.nn.Parameter(torch.ones(2)),
    }


def checkpoint():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
    ema = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
    ema.load_state_dict(model.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)
    model(torch.randn(2, 4)).sum().backward()
    opt.step()
    args = argparse.Namespace(model="DiT-XL/2", image_size=256, lr=1e-4, ckpt=None, flip=True)
    return {
        "model": model.state_dict(),  # an OrderedDict with a _metadata attribute
        "ema": ema.state_dict(),
        "opt": opt.state_dict(),  # state {0: {"step": tensor, "exp_avg": ..., ...}}, param_groups
        "args": args,
        "step": 12,
        "tags": {"a", "b"},
        "shape": (2, 3),
    }


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    save("state_dict", state_dict())
    save("checkpoint", checkpoint())
