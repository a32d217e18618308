#!/usr/bin/env python3
"""DiT training-step throughput of the authors' implementation (facebookresearch/DiT), for comparison
with bench's DiTTrainThroughput: same model, synthetic latents, hybrid loss, AdamW(lr 1e-4, wd 0;
fused on CUDA), EMA 0.9999 after every step, fp32 or bf16 autocast, timed in windows after a
warm-up. Prints one JSON line with img/s, MFU (given --peak-tflops), peak memory and, on CUDA,
GPU kernels per training step (torch.profiler). With --pinned each step copies its batch from pinned
host memory (non_blocking), as a data loader feeding the GPU would. With --mode compile the model
runs through torch.compile (default mode; the first warm-up step, which compiles, is reported as
compile_seconds).

    python dit_train_reference.py --dit-repo /path/to/DiT [--model DiT-S/2 --batch 8 --device cuda --autocast bfloat16 ...]
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
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--autocast", default="none", choices=["none", "bfloat16", "float16"])
    ap.add_argument("--peak-tflops", type=float, default=0)
    ap.add_argument("--pinned", action="store_true", help="copy each step's x and y from pinned host memory")
    ap.add_argument("--mode", default="eager", choices=["eager", "compile"])
    args = ap.parse_args()
    stand_in_torchvision()
    sys.path.insert(0, args.dit_repo)
    import torch
    from models import DiT_models
    from diffusion import create_diffusion
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    model = DiT_models[args.model](input_size=32, num_classes=1000).to(device)
    ema = deepcopy(model).requires_grad_(False)
    diffusion = create_diffusion(timestep_respacing="")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0, fused=cuda)
    x = torch.randn(args.batch, 4, 32, 32, device=device)
    y = torch.randint(0, 1000, (args.batch,), device=device)
    if args.pinned:  # the batch lives on the host; pinning needs CUDA (on the CPU it is a plain tensor)
        x_host, y_host = x.cpu(), y.cpu()
        if cuda:
            x_host, y_host = x_host.pin_memory(), y_host.pin_memory()
    amp = None if args.autocast == "none" else getattr(torch, args.autocast)
    flops_per_image = 3 * forward_flops(torch, model, device)
    model.train()
    net = torch.compile(model) if args.mode == "compile" else model

    @torch.no_grad()
    def update_ema():
        ema_params = OrderedDict(ema.named_parameters())
        for name, param in model.named_parameters():
            ema_params[name].mul_(0.9999).add_(param.data, alpha=1 - 0.9999)

    def step():
        xb, yb = (x_host.to(device, non_blocking=True), y_host.to(device, non_blocking=True)) if args.pinned else (x, y)
        t = torch.randint(0, diffusion.num_timesteps, (xb.shape[0],), device=device)
        with torch.autocast(device.type, dtype=amp or torch.bfloat16, enabled=amp is not None):
            loss = diffusion.training_losses(net, xb, t, dict(y=yb))["loss"].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        update_ema()

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    sync()
    start, first_step = time.perf_counter(), None
    for i in range(args.warmup):
        step()
        if i == 0:
            sync()
            first_step = time.perf_counter() - start
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
    rate = rates[len(rates) // 2]
    print(json.dumps({"impl": "pytorch-reference", "model": args.model, "batch": args.batch, "device": args.device,
                      "autocast": args.autocast, "pinned": args.pinned, "mode": args.mode,
                      "compile_seconds": round(first_step, 3) if args.mode == "compile" and first_step else None, "threads": torch.get_num_threads(), "torch": torch.__version__,
                      "img_per_s": round(rate, 3), "train_flops_per_img": flops_per_image,
                      "mfu": round(rate * flops_per_image / (args.peak_tflops * 1e12), 4) if args.peak_tflops else None,
                      "peak_alloc_bytes": torch.cuda.max_memory_allocated(device) if cuda else None,
                      "kernels_per_step": kernels_per_step(torch, step, sync) if cuda else None,
                      "windows": [round(r, 3) for r in rates]}))


def forward_flops(torch, model, device):
    """FLOPs (2 per multiply-add) of one batch-1 forward, by PyTorch's own counter."""
    from torch.utils.flop_counter import FlopCounterMode
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 4, 32, 32, device=device), torch.zeros(1, device=device), torch.zeros(1, dtype=torch.long, device=device))
    return counter.get_total_flops()


def kernels_per_step(torch, step, sync):
    """GPU kernels launched by one training step; the kernels by device time go to stderr."""
    from torch.profiler import ProfilerActivity, profile
    sync()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        step()
        sync()
    device = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    by_name = {}
    for e in device:
        total, calls = by_name.get(e.name, (0.0, 0))
        by_name[e.name] = (total + e.time_range.elapsed_us(), calls + 1)  # a device event: its kernel time
    rows = sorted(by_name.items(), key=lambda kv: -kv[1][0])[:20]
    print("pytorch: one training step, %d device events, %.1f ms of device time; by time:" % (
        len(device), sum(t for t, _ in by_name.values()) / 1e3), file=sys.stderr)
    for name, (total, calls) in rows:
        print("%g\t%d\t%s" % (total / 1e3, calls, name), file=sys.stderr)
    return len(device)


if __name__ == "__main__":
    main()
