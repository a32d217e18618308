#!/usr/bin/env python3
"""Writes U-ViT parity fixtures from the authors' code (baofff/U-ViT), for dit4j's tests.

    python make_uvit_fixtures.py --uvit-repo /path/to/U-ViT --out models/src/test/resources/fixtures

Needs torch (the same version dit4j links, so seeded weights are bit-identical), einops and
safetensors. Weights are not stored: every parameter is drawn in state-dict order from
torch.randn with a CPU generator seeded WEIGHT_SEED, scaled by WEIGHT_STD; dit4j draws the same
numbers through libtorch and checks per-tensor sums stored here first. Nothing of the authors'
code is copied: libs/uvit.py and libs/uvit_t2i.py are imported from the checkout given.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_weights import seeded_weights  # noqa: E402

WEIGHT_SEED = 4321
WEIGHT_STD = 0.05
DEPTH = 4  # U-ViT-S width, heads and patch; 2 in-blocks, mid, 2 out-blocks
SMALL_GRAD = 20_000  # full gradients stored only for tensors this small; norms and sums for all


def gradient_tensors(model, loss, torch):
    """One training step's gradients: full for small tensors, (sum, L2 norm) for every one."""
    model.zero_grad()
    loss.backward()
    named = [(k, p) for k, p in model.named_parameters() if p.grad is not None]
    out = {"grad." + k: p.grad.clone() for k, p in named if p.grad.numel() <= SMALL_GRAD}
    out["grad_stats"] = torch.tensor([[float(p.grad.double().sum()), float(p.grad.double().norm())] for _, p in named],
                                     dtype=torch.float64)
    return out, ",".join(k for k, _ in named)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uvit-repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    sys.path.insert(0, args.uvit_repo)
    import torch
    from safetensors.torch import save_file
    from libs import uvit, uvit_t2i
    torch.set_num_threads(2)
    base = dict(patch_size=2, embed_dim=512, depth=DEPTH, num_heads=8, mlp_ratio=4, qkv_bias=False, mlp_time_embed=False)

    # name, preset, constructor, kwargs, input channels, size, batch, conditioning, with gradients
    cases = [
        ("uvit_class_32", "imagenet256_uvit_large", uvit.UViT, dict(img_size=32, in_chans=4, num_classes=1001), 4, 32, 4, "class", True),
        ("uvit_class_16_noconv", "imagenet256_uvit_huge", uvit.UViT, dict(img_size=16, in_chans=4, num_classes=1001, conv=False),
         4, 16, 4, "class", False),
        ("uvit_uncond_32", "cifar10_uvit_small", uvit.UViT, dict(img_size=32, in_chans=3, num_classes=-1), 3, 32, 2, "none", False),
        ("uvit_t2i_32", "mscoco_uvit_small", uvit_t2i.UViT, dict(img_size=32, in_chans=4, clip_dim=768, num_clip_token=77),
         4, 32, 2, "text", True),
    ]
    for name, preset, ctor, kwargs, channels, size, n, cond, with_grads in cases:
        model = ctor(**base, **kwargs)
        sums = torch.tensor(list(seeded_weights(model, torch, WEIGHT_SEED, WEIGHT_STD).values()), dtype=torch.float64)
        model.eval()
        g = torch.Generator().manual_seed(7)
        x = torch.randn(n, channels, size, size, generator=g)
        t = torch.rand(n, generator=g) * 1000  # fractional network times, as DPM-Solver feeds them
        tensors = {"x": x, "t": t, "weight_sums": sums}
        meta = {"preset": preset, "depth": str(DEPTH), "img_size": str(size), "conv": str(kwargs.get("conv", True)).lower(),
                "weight_seed": str(WEIGHT_SEED), "weight_std": str(WEIGHT_STD), "torch": torch.__version__,
                "keys": ",".join(model.state_dict().keys())}
        with torch.no_grad():
            if cond == "class":
                y = torch.randint(0, 1000, (n,), generator=g)
                y[-1] = 1000  # the null label
                tensors["y"] = y
                tensors["out"] = model(x, t, y)
                # U-ViT's guidance (eval_ldm.py cfg_nnet): two passes, eps_c + s (eps_c - eps_u), all channels.
                scale = 0.4
                half = x[: n // 2]
                cond_eps = model(half, t[: n // 2], y[: n // 2])
                uncond_eps = model(half, t[: n // 2], torch.full((n // 2,), 1000))
                guided = cond_eps + scale * (cond_eps - uncond_eps)
                tensors["y_cfg"] = torch.cat([y[: n // 2], torch.full((n // 2,), 1000)])
                tensors["t_cfg"] = torch.cat([t[: n // 2], t[: n // 2]])
                tensors["out_cfg"] = torch.cat([guided, guided])
                meta["cfg_scale"] = str(scale)
            elif cond == "text":
                context = torch.randn(n, 77, 768, generator=g)
                empty = torch.randn(77, 768, generator=g)
                tensors["context"] = context
                tensors["empty_context"] = empty
                tensors["out"] = model(x, t, context=context)
                # sample_t2i_discrete.py cfg_nnet: the empty prompt's encoding repeated over the batch.
                scale = 1.0
                c = model(x, t, context=context)
                u = model(x, t, context=empty.unsqueeze(0).expand(n, -1, -1))
                tensors["out_cfg"] = c + scale * (c - u)
                meta["cfg_scale"] = str(scale)
            else:
                tensors["out"] = model(x, t)
        if with_grads:
            # One training step of the authors' LSimple: mean((eps - eps_hat)^2) over all elements.
            model.train()
            noise = torch.randn(x.shape, generator=g)
            third = {"class": lambda: dict(y=tensors["y"]), "text": lambda: dict(context=tensors["context"])}[cond]()
            loss = ((model(x, t, **third) - noise) ** 2).mean()
            grads, grad_keys = gradient_tensors(model, loss, torch)
            tensors.update(grads)
            tensors["noise"] = noise
            tensors["loss"] = loss.detach().reshape(1)
            meta["grad_keys"] = grad_keys
        path = f"{args.out}/{name}.safetensors"
        save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata=meta)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
