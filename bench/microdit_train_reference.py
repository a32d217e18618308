#!/usr/bin/env python3
"""MicroDiT training-step throughput of the authors' implementation (SonyResearch/micro_diffusion), for
comparison with bench's MicroDiTTrainThroughput: MicroDiT_Tiny_2 on synthetic 32x32x4 latents (256 px)
and 77 caption tokens of width 1024, LatentDiffusion.edm_loss (stage-1 EDM: P_mean -0.6, P_std 1.2,
sigma_data 0.9) with deferred masking at --mask-ratio, gradient clipping to norm 0.5 (the authors'
GradientClipping), AdamW (lr 2.4e-4, weight decay 0.1, eps 1e-8) and an EMA 0.9999 after every step (as DiffusionTrainer does), float32
(or the loss under --autocast bfloat16, as the authors' amp_bf16 trains), timed in windows after a warm-up. Prints one JSON line.
--model MicroDiT_XL_2 takes the authors' larger preset (bench's Java side has Tiny_2 only).

    python microdit_train_reference.py --repo /path/to/micro_diffusion [--mask-ratio 0.75 --batch 8 --threads 2 --device cuda:0 --autocast bfloat16]
"""
import argparse
import json
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "models", "src", "test", "python"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--mask-ratio", type=float, default=0.75)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--windows", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--model", default="MicroDiT_Tiny_2", choices=["MicroDiT_Tiny_2", "MicroDiT_XL_2"])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--autocast", default="none", choices=["none", "bfloat16"])
    args = ap.parse_args()
    import torch
    from make_microdit_fixtures import stand_ins
    from reference_env import stand_in_torchvision
    stand_ins(torch)
    stand_in_torchvision()
    sys.path.insert(0, args.repo)
    from micro_diffusion.models import dit, model as ldm
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    net = getattr(dit, args.model)(input_size=32, caption_channels=1024, pos_interp_scale=1.0, in_channels=4).to(device)
    # LatentDiffusion without its VAE and text encoder (precomputed latents and captions): only edm_loss runs.
    diffusion = ldm.LatentDiffusion.__new__(ldm.LatentDiffusion)
    torch.nn.Module.__init__(diffusion)
    diffusion.dit = net
    diffusion.randn_like = torch.randn_like
    diffusion.edm_config = ldm.EasyDict(sigma_min=0.002, sigma_max=80, P_mean=-0.6, P_std=1.2, sigma_data=0.9, num_steps=18,
                                       rho=7, S_churn=0, S_min=0, S_max=float("inf"), S_noise=1)
    ema = {k: p.detach().clone() for k, p in net.named_parameters()}
    opt = torch.optim.AdamW(net.parameters(), lr=2.4e-4, weight_decay=0.1, eps=1e-8, betas=(0.9, 0.999))
    x = torch.randn(args.batch, 4, 32, 32).to(device)
    y = torch.randn(args.batch, 1, 77, 1024).to(device)
    amp = None if args.autocast == "none" else getattr(torch, args.autocast)
    net.train()

    def step():
        with torch.autocast(device.type, dtype=amp or torch.bfloat16, enabled=amp is not None):
            loss = diffusion.edm_loss(x, y, mask_ratio=args.mask_ratio)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 0.5)
        opt.step()
        with torch.no_grad():
            for k, p in net.named_parameters():
                ema[k].mul_(0.9999).add_(p, alpha=1 - 0.9999)

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    for _ in range(args.warmup):
        step()
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    rates = []
    for _ in range(args.windows):
        sync()
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        sync()
        rates.append(args.steps * args.batch / (time.perf_counter() - start))
    rates.sort()
    print(json.dumps({"impl": "pytorch-reference", "model": args.model, "batch": args.batch, "mask_ratio": args.mask_ratio,
                      "device": args.device, "autocast": args.autocast,
                      "threads": torch.get_num_threads(), "torch": torch.__version__, "img_per_s": round(rates[len(rates) // 2], 3),
                      "peak_alloc_bytes": torch.cuda.max_memory_allocated(device) if cuda else None,
                      "windows": [round(r, 3) for r in rates]}))


if __name__ == "__main__":
    main()
