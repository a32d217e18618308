#!/usr/bin/env python3
"""DiT training-step throughput of the authors' implementation (facebookresearch/DiT), for comparison
with bench's DiTTrainThroughput: same model, synthetic latents, hybrid loss, AdamW(lr 1e-4, wd 0),
EMA 0.9999 after every step, fp32, timed in windows after a warm-up. Prints one JSON line.

    python dit_train_reference.py --dit-repo /path/to/DiT [--model DiT-S/2 --batch 8 ...]
"""
import argparse
import json
import os
import sys
import time
from collections import OrderedDict
from copy import deepcopy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_env import stand_in_torchvision  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dit-repo", required=True)
    ap.add_argument("--model", default="DiT-S/2")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--windows", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    stand_in_torchvision()
    sys.path.insert(0, args.dit_repo)
    import torch
    from models import DiT_models
    from diffusion import create_diffusion
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = DiT_models[args.model](input_size=32, num_classes=1000)
    ema = deepcopy(model).requires_grad_(False)
    diffusion = create_diffusion(timestep_respacing="")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0)
    x = torch.randn(args.batch, 4, 32, 32)
    y = torch.randint(0, 1000, (args.batch,))
    model.train()

    @torch.no_grad()
    def update_ema():
        ema_params = OrderedDict(ema.named_parameters())
        for name, param in model.named_parameters():
            ema_params[name].mul_(0.9999).add_(param.data, alpha=1 - 0.9999)

    def step():
        t = torch.randint(0, diffusion.num_timesteps, (x.shape[0],))
        loss = diffusion.training_losses(model, x, t, dict(y=y))["loss"].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        update_ema()

    for _ in range(args.warmup):
        step()
    rates = []
    for _ in range(args.windows):
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        rates.append(args.steps * args.batch / (time.perf_counter() - start))
    rates.sort()
    print(json.dumps({"impl": "pytorch-reference", "model": args.model, "batch": args.batch,
                      "threads": torch.get_num_threads(), "torch": torch.__version__,
                      "img_per_s": round(rates[len(rates) // 2], 3), "windows": [round(r, 3) for r in rates]}))


if __name__ == "__main__":
    main()
