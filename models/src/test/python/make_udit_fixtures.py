#!/usr/bin/env python3
"""Writes U-DiT parity fixtures from the authors' code (YuchuanTian/U-DiT), for dit4j's tests.

    python make_udit_fixtures.py --udit-repo /path/to/U-DiT --out models/src/test/resources/fixtures

Needs torch (the same version dit4j links, so seeded weights are bit-identical), numpy and einops.
Weights are not stored: every state-dict entry (gates, zero-initialised layers and logit_scale
included) is drawn in state-dict order from torch.randn with a CPU generator seeded WEIGHT_SEED,
scaled by WEIGHT_STD; dit4j draws the same numbers and checks the per-tensor sums stored here.

The reference runs in the training form: train() mode with the label dropout switched off, so
the authors' in-place FFN merge (done by eval()) never touches the weights. The merged form is
checked separately on a deep copy on which eval() is called exactly once.
Nothing of the authors' code is copied: it is imported from the checkout given.
"""
import argparse
import copy
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_weights import seeded_weights  # noqa: E402

WEIGHT_SEED = 4321
WEIGHT_STD = 0.05
WIDTH, HEADS = 96, 4  # U-DiT-S
DEPTHS = [1, 1, 1, 1, 1]
CFG_SCALE = 4.0


def build(udit, torch):
    # The preset constructors fix the depths (and ignore kwargs): build the class with U-DiT-S's settings.
    model = udit.U_DiT(down_factor=2, hidden_size=WIDTH, num_heads=HEADS, depth=DEPTHS, ffn_type="rep", rep=1, mlp_ratio=2,
                       attn_type="v2", posemb_type="rope2d", downsampler="dwconv5", down_shortcut=1)
    sums = seeded_weights(model, torch, WEIGHT_SEED, WEIGHT_STD)
    model.train()
    for emb in (model.y_embedder_1, model.y_embedder_2, model.y_embedder_3):
        emb.dropout_prob = 0.0  # training form, deterministic labels
    return model, sums


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--udit-repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    import torch
    from safetensors.torch import save_file
    sys.path.insert(0, args.udit_repo)
    import udit_models as udit
    import diffusion
    torch.set_num_threads(2)

    for size, with_grads in ((32, False), (16, True)):
        model, sums = build(udit, torch)
        g = torch.Generator().manual_seed(7 + size)
        n = 4
        x = torch.randn(n, 4, size, size, generator=g)
        t = torch.randint(0, 1000, (n,), generator=g)
        y = torch.randint(0, 1000, (n,), generator=g)
        y[-1] = 1000  # the null label
        y_cfg = torch.cat([y[: n // 2], torch.full((n // 2,), 1000)])
        with torch.no_grad():
            out = model(x, t, y)
            cfg = model.forward_with_cfg(x, t, y_cfg, CFG_SCALE)
            merged = copy.deepcopy(model)
            merged.eval()  # the authors' merge, exactly once, on a copy
            out_merged = merged(x, t, y)
        tensors = {"x": x, "t": t, "y": y, "y_cfg": y_cfg, "out": out, "out_cfg": cfg, "out_merged": out_merged}
        meta = {"width": str(WIDTH), "heads": str(HEADS), "depths": ",".join(map(str, DEPTHS)), "input_size": str(size),
                "weight_seed": str(WEIGHT_SEED), "weight_std": str(WEIGHT_STD), "cfg_scale": str(CFG_SCALE),
                "torch": torch.__version__, "keys": ",".join(model.state_dict().keys())}
        if with_grads:
            # One training step: DiT's hybrid loss (U-DiT's diffusion/ is the same code) on given noise.
            diff = diffusion.create_diffusion(timestep_respacing="")
            noise = torch.randn(x.shape, generator=g)
            loss = diff.training_losses(model, x, t, dict(y=y), noise=noise)["loss"].mean()
            model.zero_grad()
            loss.backward()
            params = dict(model.named_parameters())
            grad_keys = [k for k, p in params.items() if p.grad is not None]
            for key in grad_keys:
                if params[key].grad.numel() <= 4096:
                    tensors["grad." + key] = params[key].grad
            tensors["grad_stats"] = torch.tensor([[float(params[k].grad.double().sum()), float(params[k].grad.double().norm())]
                                                  for k in grad_keys], dtype=torch.float64)
            tensors["noise"] = noise
            tensors["loss"] = loss.detach().reshape(1)
            meta["grad_keys"] = ",".join(grad_keys)
        tensors["weight_sums"] = torch.tensor([sums[k] for k in model.state_dict().keys()], dtype=torch.float64)
        path = f"{args.out}/udit_S_{size}.safetensors"
        save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata=meta)
        print(f"wrote {path}")

    # The downsampled attention alone, on a non-square map (the authors number RoPE positions with
    # side floor(sqrt(tokens))), with logit scales spread over the clamp.
    attn = udit.DownSample_Attn(WIDTH, 16, down_factor=2, num_heads=HEADS, bias=True, attn_type="v2", posemb_type="rope2d",
                                downsampler="dwconv5", down_shortcut=1)
    sums = seeded_weights(attn, torch, WEIGHT_SEED, WEIGHT_STD)
    with torch.no_grad():
        attn.logit_scale.copy_(torch.tensor([math.log(10), 6.0, 0.0, 2.0]).reshape(HEADS, 1, 1))
    g = torch.Generator().manual_seed(99)
    x = torch.randn(2, WIDTH, 8, 16, generator=g)
    x.requires_grad_(True)
    out = attn(x)
    out.square().sum().backward()
    tensors = {"x": x.detach(), "out": out.detach(), "grad_x": x.grad, "grad_logit_scale": attn.logit_scale.grad,
               "logit_scale": attn.logit_scale.detach().clone(),
               "weight_sums": torch.tensor([sums[k] for k in attn.state_dict().keys()], dtype=torch.float64)}
    save_file({k: v.contiguous() for k, v in tensors.items()}, f"{args.out}/udit_attention.safetensors",
              metadata={"width": str(WIDTH), "heads": str(HEADS), "weight_seed": str(WEIGHT_SEED),
                        "weight_std": str(WEIGHT_STD), "keys": ",".join(attn.state_dict().keys())})
    print("wrote udit_attention.safetensors")


if __name__ == "__main__":
    main()
