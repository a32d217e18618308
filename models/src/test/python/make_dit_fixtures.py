#!/usr/bin/env python3
"""Writes DiT parity fixtures from the authors' code (facebookresearch/DiT), for dit4j's tests.

    python make_dit_fixtures.py --dit-repo /path/to/DiT --out models/src/test/resources/fixtures

Needs torch (the same version dit4j links, so seeded weights are bit-identical), numpy and timm.
Weights are not stored: every parameter (gates and pos_embed included) is drawn in state-dict
order from torch.randn with a CPU generator seeded WEIGHT_SEED, scaled by WEIGHT_STD; dit4j
draws the same numbers through libtorch and checks per-tensor sums stored here first.
Nothing of the authors' code is copied: it is imported from the checkout given.
"""
import argparse
import os
import sys
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_weights import seeded_weights  # noqa: E402

WEIGHT_SEED = 1234
WEIGHT_STD = 0.05
FAMILIES = {"DiT-S/2": (384, 6, 2), "DiT-B/4": (768, 12, 4), "DiT-L/8": (1024, 16, 8), "DiT-XL/2": (1152, 16, 2)}


def import_authors_code(repo):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "bench"))
    from reference_env import stand_in_torchvision
    stand_in_torchvision()
    sys.path.insert(0, repo)
    import models
    import diffusion
    return models, diffusion


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dit-repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    import torch
    from safetensors.torch import save_file
    models, diffusion = import_authors_code(args.dit_repo)
    torch.set_num_threads(2)

    # One depth-2 member of each family, its width, heads and patch unchanged; two input sizes for S.
    cases = [("S_2", "DiT-S/2", 32), ("S_2", "DiT-S/2", 16), ("B_4", "DiT-B/4", 32), ("L_8", "DiT-L/8", 32),
             ("XL_2", "DiT-XL/2", 32)]
    for preset, name, size in cases:
        # The preset constructors fix the depth; build the class with the preset's width, heads and patch.
        hidden, heads, patch = FAMILIES[name]
        model = models.DiT(input_size=size, patch_size=patch, in_channels=4, hidden_size=hidden, depth=2, num_heads=heads,
                           mlp_ratio=4.0, class_dropout_prob=0.1, num_classes=1000, learn_sigma=True)
        sums = seeded_weights(model, torch, WEIGHT_SEED, WEIGHT_STD)
        model.eval()
        g = torch.Generator().manual_seed(7)
        n = 4
        x = torch.randn(n, 4, size, size, generator=g)
        t = torch.randint(0, 1000, (n,), generator=g)
        y = torch.randint(0, 1000, (n,), generator=g)
        y[-1] = 1000  # the null label
        with torch.no_grad():
            out = model(x, t, y)
            y_cfg = torch.cat([y[: n // 2], torch.full((n // 2,), 1000)])
            cfg = model.forward_with_cfg(x, t, y_cfg, 4.0)
        # One training step's gradients (hybrid loss, given noise, train mode without label dropout randomness).
        model.train()
        model.y_embedder.dropout_prob = 0.0
        diff = diffusion.create_diffusion(timestep_respacing="")
        noise = torch.randn(x.shape, generator=g)
        loss = diff.training_losses(model, x, t, dict(y=y), noise=noise)["loss"].mean()
        model.zero_grad()
        loss.backward()
        tensors = {"x": x, "t": t, "y": y, "y_cfg": y_cfg, "out": out, "out_cfg": cfg, "noise": noise,
                   "loss": loss.detach().reshape(1)}
        # Full gradients of the smaller tensors; sum and L2 norm of every gradient.
        grad_keys = [k for k, p in model.named_parameters() if p.grad is not None]
        grads = dict(model.named_parameters())
        for key in grad_keys:
            if grads[key].grad.numel() <= 200_000:
                tensors["grad." + key] = grads[key].grad
        tensors["grad_stats"] = torch.tensor([[float(grads[k].grad.double().sum()), float(grads[k].grad.double().norm())]
                                              for k in grad_keys], dtype=torch.float64)
        tensors["weight_sums"] = torch.tensor([sums[k] for k in model.state_dict().keys()], dtype=torch.float64)
        # Inputs and outputs stay small: the weights are regenerated from the seed on both sides.
        meta = {"preset": preset, "input_size": str(size), "depth": "2", "weight_seed": str(WEIGHT_SEED),
                "weight_std": str(WEIGHT_STD), "cfg_scale": "4.0", "torch": torch.__version__,
                "keys": ",".join(model.state_dict().keys()), "grad_keys": ",".join(grad_keys)}
        path = f"{args.out}/dit_{preset}_{size}.safetensors"
        save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata=meta)
        print(f"wrote {path}: loss {loss.item():.6f}")

    # Diffusion references: respacing, posterior/p_mean_variance, DDPM and DDIM steps, loss terms.
    g = torch.Generator().manual_seed(11)
    x0 = torch.randn(6, 4, 8, 8, generator=g).clamp(-1, 1)
    model_out = torch.randn(6, 8, 8, 8, generator=g) * 0.5
    t = torch.tensor([0, 1, 17, 250, 998, 999])
    noise = torch.randn(x0.shape, generator=g)
    full = diffusion.create_diffusion(timestep_respacing="")
    fixed_model = lambda x, ts, **kw: model_out
    xt = full.q_sample(x0, t, noise=noise)
    mv = full.p_mean_variance(fixed_model, xt, t, clip_denoised=False)
    terms = full._vb_terms_bpd(model=lambda x, ts, **kw: model_out, x_start=x0, x_t=xt, t=t, clip_denoised=False)["output"]
    step_noise = torch.randn(x0.shape, generator=g)
    with mock.patch("torch.randn_like", lambda x: step_noise):
        ddpm = full.p_sample(fixed_model, xt, t, clip_denoised=False)["sample"]
    ddim = full.ddim_sample(fixed_model, xt, t, clip_denoised=False, eta=0.0)["sample"]
    sp = diffusion.create_diffusion(timestep_respacing="250")
    ts = torch.tensor([0, 1, 100, 249, 249, 3])
    sp_mv = sp.p_mean_variance(lambda x, tt, **kw: model_out, xt, ts, clip_denoised=False)
    ddim25 = diffusion.create_diffusion(timestep_respacing="ddim25")
    eps = model_out[:, :4]
    mse = ((noise - eps) ** 2).mean(dim=[1, 2, 3])
    save_file({"x0": x0, "model_out": model_out, "t": t, "noise": noise, "xt": xt, "mean": mv["mean"],
               "log_variance": mv["log_variance"], "pred_xstart": mv["pred_xstart"], "vb": terms, "mse": mse,
               "step_noise": step_noise, "ddpm": ddpm, "ddim": ddim, "respaced_t": ts, "respaced_mean": sp_mv["mean"],
               "respaced_log_variance": sp_mv["log_variance"],
               "respaced_timesteps": torch.tensor(sorted(sp.use_timesteps)),
               "ddim25_timesteps": torch.tensor(sorted(ddim25.use_timesteps))},
              f"{args.out}/gaussian_diffusion.safetensors", metadata={"torch": torch.__version__})
    print("wrote gaussian_diffusion.safetensors")


if __name__ == "__main__":
    main()
