#!/usr/bin/env python3
"""Writes the `sample` command's parity fixture from the authors' code (facebookresearch/DiT).

    python make_sample_fixtures.py --dit-repo /path/to/DiT --out examples/src/test/resources/fixtures

Each case runs the sampling chain of DiT's sample.py (labels given, guidance with the doubled
batch) or sample_ddp.py (random labels drawn after the noise; no doubling at cfg <= 1) on a
depth-1 DiT-S/2 at 8x8 latents: torch.manual_seed(seed), randn for z, the authors'
p_sample_loop (or ddim_sample_loop) over respaced steps with forward_with_cfg, chunk(2).
The weights are not stored: they are drawn in state-dict order from a CPU generator seeded
WEIGHT_SEED (fixture_weights.py), before torch.manual_seed, so the model's construction does
not touch the sampling stream. Nothing of the authors' code is copied: it is imported.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "models", "src", "test", "python"))
from fixture_weights import seeded_weights  # noqa: E402

WEIGHT_SEED = 4321
WEIGHT_STD = 0.05
LATENT = 8  # 64 px images

# name: (seed, labels or count of random ones, cfg scale, respacing, loop)
CASES = {
    "sample_py": (5, [207, 360], 4.0, "10", "ddpm"),
    "sample_ddp": (9, 3, 1.5, "10", "ddpm"),
    "no_guidance": (11, [1, 999], 1.0, "10", "ddpm"),
    "ddim": (13, [42, 7], 4.0, "ddim10", "ddim"),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dit-repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "bench"))
    from reference_env import stand_in_torchvision
    stand_in_torchvision()
    sys.path.insert(0, args.dit_repo)
    import torch
    from safetensors.torch import save_file
    from models import DiT
    from diffusion import create_diffusion
    torch.set_num_threads(2)
    torch.set_grad_enabled(False)

    model = DiT(input_size=LATENT, patch_size=2, in_channels=4, hidden_size=384, depth=1, num_heads=6, num_classes=1000)
    sums = seeded_weights(model, torch, WEIGHT_SEED, WEIGHT_STD)
    model.eval()
    tensors = {"weight_sums": torch.tensor([sums[k] for k in model.state_dict().keys()], dtype=torch.float64)}
    for name, (seed, labels, cfg, respacing, loop) in CASES.items():
        diffusion = create_diffusion(respacing)
        torch.manual_seed(seed)
        if isinstance(labels, list):  # sample.py
            n = len(labels)
            z = torch.randn(n, 4, LATENT, LATENT)
            y = torch.tensor(labels)
        else:  # sample_ddp.py
            n = labels
            z = torch.randn(n, 4, LATENT, LATENT)
            y = torch.randint(0, 1000, (n,))
        if cfg > 1.0:
            z = torch.cat([z, z], 0)
            y = torch.cat([y, torch.tensor([1000] * n)], 0)
            fn, kwargs = model.forward_with_cfg, dict(y=y, cfg_scale=cfg)
        else:
            fn, kwargs = model.forward, dict(y=y)
        run = diffusion.p_sample_loop if loop == "ddpm" else diffusion.ddim_sample_loop
        samples = run(fn, z.shape, z, clip_denoised=False, model_kwargs=kwargs, progress=False, device="cpu")
        if cfg > 1.0:
            samples, _ = samples.chunk(2, dim=0)
        tensors[name + ".latents"] = samples.contiguous()
        tensors[name + ".labels"] = y[:n].contiguous()
        print(f"{name}: seed {seed}, labels {y[:n].tolist()}, cfg {cfg}, {respacing}: |latents| {samples.norm():.4f}")
    meta = {"model": "DiT-S/2", "depth": "1", "latent": str(LATENT), "weight_seed": str(WEIGHT_SEED),
            "weight_std": str(WEIGHT_STD), "keys": ",".join(model.state_dict().keys()), "torch": torch.__version__}
    for name, (seed, labels, cfg, respacing, loop) in CASES.items():
        meta[name] = f"{seed};{labels};{cfg};{respacing};{loop}"
    path = os.path.join(args.out, "sample_dit.safetensors")
    save_file(tensors, path, metadata=meta)
    print("wrote", path)


if __name__ == "__main__":
    main()
