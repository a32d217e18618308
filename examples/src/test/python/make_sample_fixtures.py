#!/usr/bin/env python3
"""Writes the `sample` command's parity fixture from the authors' code (facebookresearch/DiT).

    python make_sample_fixtures.py --dit-repo /path/to/DiT --uvit-repo /path/to/U-ViT --out examples/src/test/resources/fixtures

Each case runs the sampling chain of DiT's sample.py (labels given, guidance with the doubled
batch) or sample_ddp.py (random labels drawn after the noise; no doubling at cfg <= 1) on a
depth-1 DiT-S/2 at 8x8 latents: torch.manual_seed(seed), randn for z, the authors'
p_sample_loop (or ddim_sample_loop) over respaced steps with forward_with_cfg, chunk(2).
With --uvit-repo, also U-ViT's eval_ldm_discrete.py chain on a depth-2 cifar10_uvit_small with 10
classes and a null label: torch.manual_seed(seed), the labels (randint, its sample_label) before
z, its cfg_nnet (_cond + scale (_cond - _uncond)), dpm_solver_pp's DPM_Solver on the discrete
Stable Diffusion schedule ("fast", order 3) with network time t * N.
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
    ap.add_argument("--uvit-repo")
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
    if args.uvit_repo:
        uvit_chain(args.uvit_repo, torch, tensors, meta)
    path = os.path.join(args.out, "sample_dit.safetensors")
    save_file(tensors, path, metadata=meta)
    print("wrote", path)


UVIT_CASE = (17, 2, 0.4, 3)  # seed, random labels, U-ViT's scale, steps


def uvit_chain(repo, torch, tensors, meta):
    sys.path.insert(0, repo)
    from libs.uvit import UViT
    from dpm_solver_pp import NoiseScheduleVP, DPM_Solver
    classes, side = 10, 8
    nnet = UViT(img_size=side, patch_size=2, in_chans=3, embed_dim=512, depth=2, num_heads=8, mlp_ratio=4, qkv_bias=False,
                mlp_time_embed=False, num_classes=classes + 1)
    sums = seeded_weights(nnet, torch, WEIGHT_SEED, WEIGHT_STD)
    nnet.eval()
    seed, n, scale, steps = UVIT_CASE
    betas = torch.linspace(0.00085 ** 0.5, 0.0120 ** 0.5, 1000, dtype=torch.float64) ** 2  # Stable Diffusion's schedule
    N = len(betas)

    def cfg_nnet(x, timesteps, y):
        cond = nnet(x, timesteps, y=y)
        uncond = nnet(x, timesteps, y=torch.tensor([classes] * x.size(0)))
        return cond + scale * (cond - uncond)

    torch.manual_seed(seed)
    y = torch.randint(0, classes, (n,))
    z = torch.randn(n, 3, side, side)
    schedule = NoiseScheduleVP(schedule="discrete", betas=betas.float())
    solver = DPM_Solver(lambda x, t: cfg_nnet(x, t * N, y), schedule, predict_x0=True, thresholding=False)
    out = solver.sample(z, steps=steps, eps=1.0 / N, T=1.0)
    tensors["uvit.latents"] = out.contiguous()
    tensors["uvit.labels"] = y.contiguous()
    tensors["uvit.weight_sums"] = torch.tensor([sums[k] for k in nnet.state_dict().keys()], dtype=torch.float64)
    meta["uvit.keys"] = ",".join(nnet.state_dict().keys())
    meta["uvit"] = f"{seed};{n};{scale};{steps}"
    print(f"uvit: seed {seed}, labels {y.tolist()}, scale {scale}, {steps} steps: |latents| {out.norm():.4f}")


if __name__ == "__main__":
    main()
