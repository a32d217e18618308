#!/usr/bin/env python3
"""Writes MicroDiT parity fixtures from the authors' code (SonyResearch/micro_diffusion), for dit4j's tests.

    python make_microdit_fixtures.py --repo /path/to/micro_diffusion --out models/src/test/resources/fixtures

Needs torch (the version dit4j links) and numpy. The model never runs the text-encoder, VAE,
metric or trainer code its modules import (open_clip, transformers, torchmetrics, composer,
diffusers, easydict): those are stood in for. Weights are not stored: as for DiT, every state-dict
entry is drawn from torch.randn seeded WEIGHT_SEED, times WEIGHT_STD (see fixture_weights.py).
"""
import argparse
import os
import sys
import types
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_weights import seeded_weights  # noqa: E402

WEIGHT_SEED = 4321
WEIGHT_STD = 0.05


def stand_ins(torch):
    """Modules imported only by code the DiT and the EDM maths never run."""
    class EasyDict(dict):
        __getattr__ = dict.__getitem__

    for name, attrs in {"open_clip": {}, "transformers": dict(CLIPTextModel=object, CLIPTokenizer=object, T5EncoderModel=object,
                                                                T5Tokenizer=object),
                        "torchmetrics": dict(Metric=object), "composer": {}, "composer.models": dict(ComposerModel=torch.nn.Module),
                        "diffusers": dict(AutoencoderKL=object), "easydict": dict(EasyDict=EasyDict),
                        "einops": dict(rearrange=None)}.items():
        module = types.ModuleType(name)
        for k, v in attrs.items():
            setattr(module, k, v)
        sys.modules.setdefault(name, module)


def build(dit, cfg):
    import numpy as np
    return dit.DiT(input_size=cfg["input_size"], patch_size=2, in_channels=4, dim=cfg["dim"], depth=cfg["depth"],
                   head_dim=cfg["head_dim"], multiple_of=cfg["multiple_of"], caption_channels=cfg["caption"],
                   pos_interp_scale=cfg["scale"], norm_eps=1e-6, depth_init=True,
                   qkv_multipliers=np.linspace(0.5, 1.0, num=cfg["depth"], dtype=float),
                   ffn_multipliers=np.linspace(0.5, 4.0, num=cfg["depth"], dtype=float), use_patch_mixer=True,
                   patch_mixer_depth=cfg["mixer_depth"], patch_mixer_dim=cfg["mixer_dim"], patch_mixer_qkv_ratio=1.0,
                   patch_mixer_mlp_ratio=4.0, use_bias=False, num_experts=8, expert_capacity=2.0, experts_every_n=2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    import torch
    from safetensors.torch import save_file
    stand_ins(torch)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "bench"))
    from reference_env import stand_in_torchvision
    stand_in_torchvision()
    sys.path.insert(0, args.repo)
    from micro_diffusion.models import dit, model as ldm
    torch.set_num_threads(2)

    # Parameter counts of the two presets, built on the meta device.
    with torch.device("meta"):
        counts = {name: sum(p.numel() for p in getattr(dit, name)().parameters()) for name in ("MicroDiT_Tiny_2", "MicroDiT_XL_2")}
        counts["MicroDiT_XL_2_16ch"] = sum(p.numel() for p in dit.MicroDiT_XL_2(in_channels=16).parameters())
        shapes = {name: ";".join(f"{k}:{'x'.join(map(str, v.shape))}" for k, v in getattr(dit, name)().state_dict().items())
                  for name in ("MicroDiT_Tiny_2", "MicroDiT_XL_2")}
    print("parameter counts", counts)

    # 256-px-like (mixer narrower than the backbone: map layers) and 512-px-like (pos_interp_scale 2, no maps).
    cases = {"microdit_256": dict(input_size=16, dim=64, depth=4, head_dim=16, multiple_of=32, caption=32, scale=1.0,
                                  mixer_depth=2, mixer_dim=48),
             "microdit_512": dict(input_size=32, dim=64, depth=3, head_dim=16, multiple_of=32, caption=32, scale=2.0,
                                  mixer_depth=2, mixer_dim=64)}
    for fixture, cfg in cases.items():
        torch.manual_seed(0)
        model = build(dit, cfg)
        pos_init = model.pos_embed.detach().clone()
        sums = seeded_weights(model, torch, WEIGHT_SEED, WEIGHT_STD)
        model.eval()
        g = torch.Generator().manual_seed(7)
        n, s = 2, 77
        size, tokens = cfg["input_size"], (cfg["input_size"] // 2) ** 2
        x = torch.randn(n, 4, size, size, generator=g)
        t = torch.randn(n, generator=g) * 0.5
        y = torch.randn(n, 1, s, cfg["caption"], generator=g)
        mask_noise = torch.rand(n, tokens, generator=g)
        mask_ratio = 0.75
        with torch.no_grad():
            out = model(x, t, y)["sample"]
            cfg_out = model(x, t, y, cfg=5.0)["sample"]
            with mock.patch("torch.rand", lambda *a, **k: mask_noise.clone()):
                masked = model(x, t, y, mask_ratio=mask_ratio)
        tensors = {"x": x, "t": t, "y": y, "mask_noise": mask_noise, "mask_ratio": torch.tensor(mask_ratio),
                   "out": out, "out_cfg": cfg_out, "out_masked": masked["sample"], "mask": masked["mask"],
                   "pos_embed_init": pos_init,
                   "weight_sums": torch.tensor([sums[k] for k in model.state_dict().keys()], dtype=torch.float64)}

        # EDM: the masked training loss on given sigma draws, noise and mask noise, and its gradients.
        diffusion = ldm.LatentDiffusion.__new__(ldm.LatentDiffusion)
        torch.nn.Module.__init__(diffusion)
        diffusion.dit = model
        diffusion.edm_config = ldm.EasyDict(sigma_min=0.002, sigma_max=80, P_mean=-0.6, P_std=1.2, sigma_data=0.9, num_steps=18,
                                           rho=7, S_churn=0, S_min=0, S_max=float("inf"), S_noise=1)
        rnd_normal = torch.randn(n, 1, 1, 1, generator=g)
        noise = torch.randn(x.shape, generator=g)
        diffusion.randn_like = lambda v: noise.clone()
        model.train()
        losses = {}
        for ratio in (0.0, mask_ratio):
            model.zero_grad()
            with mock.patch("torch.randn", lambda *a, **k: rnd_normal.clone()), \
                    mock.patch("torch.rand", lambda *a, **k: mask_noise.clone()):
                loss = diffusion.edm_loss(x, y, mask_ratio=ratio)
            loss.backward()
            key = "masked" if ratio > 0 else "plain"
            losses[key] = loss.detach().reshape(1)
            grads = [(k, p.grad) for k, p in model.named_parameters()]
            tensors[f"grad_norms_{key}"] = torch.tensor([float(gr.double().norm()) if gr is not None else 0.0 for _, gr in grads],
                                                        dtype=torch.float64)
        tensors.update({"edm_rnd_normal": rnd_normal.reshape(n), "edm_noise": noise, "edm_loss": losses["plain"],
                        "edm_loss_masked": losses["masked"]})

        # EDM Heun sampling, 4 steps, without and with guidance (w 5) on given initial noise.
        model.eval()
        latents = torch.randn(n, 4, size, size, generator=g)
        tensors["sample_noise"] = latents
        tensors["sample_heun"] = diffusion.edm_sampler_loop(latents, y, steps=4, cfg=1.0)
        tensors["sample_heun_cfg"] = diffusion.edm_sampler_loop(latents, y, steps=4, cfg=5.0)

        meta = {k: str(v) for k, v in cfg.items()}
        meta.update({"weight_seed": str(WEIGHT_SEED), "weight_std": str(WEIGHT_STD), "torch": torch.__version__, "cfg_scale": "5.0",
                     "keys": ",".join(model.state_dict().keys()), "param_keys": ",".join(k for k, _ in model.named_parameters()),
                     "sample_steps": "4"})
        if fixture == "microdit_256":
            meta.update({f"params.{k}": str(v) for k, v in counts.items()})
            meta.update({f"shapes.{k}": v for k, v in shapes.items()})
        path = f"{args.out}/{fixture}.safetensors"
        save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata=meta)
        print(f"wrote {path}: loss {losses['plain'].item():.6f}, masked {losses['masked'].item():.6f}")


if __name__ == "__main__":
    main()
