#!/usr/bin/env python3
"""Guided DDPM sampling throughput of the authors' implementation (facebookresearch/DiT), for
comparison with bench's DiTSampleThroughput: exactly as their sample.py samples (respaced DDPM,
[z; z] with labels [y; 1000], forward_with_cfg, clip_denoised=False) on seeded random weights in
eval mode, without gradients; under autocast the guided output is cast to float32 as dit4j does.
One untimed warm-up run (with --mode compile: the compile, reported as compile_seconds), then
--repeats timed runs; prints one JSON line with the best. A failure (torch.compile's above all)
prints a JSON line with "error" and exits 0, so a harness running several benches goes on.

    python dit_sample_reference.py --dit-repo /path/to/DiT [--model DiT-XL/2 --batch 64 --steps 250 --device cuda:0 --autocast bfloat16 --mode compile]
"""
import argparse
import json
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_env import stand_in_torchvision  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dit-repo", required=True)
    ap.add_argument("--model", default="DiT-XL/2")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=250)
    ap.add_argument("--cfg", type=float, default=4.0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--autocast", default="none", choices=["none", "bfloat16"])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--mode", default="eager", choices=["eager", "compile"])
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    stand_in_torchvision()
    sys.path.insert(0, args.dit_repo)
    import torch
    result = {"impl": "pytorch-reference", "model": args.model, "batch": args.batch, "steps": args.steps,
              "cfg": args.cfg, "device": args.device, "autocast": args.autocast, "mode": args.mode,
              "torch": torch.__version__}
    try:
        result.update(measure(torch, args))
    except Exception as e:  # noqa: BLE001 - reported in the JSON line; the traceback goes to stderr
        traceback.print_exc()
        result["error"] = f"{type(e).__name__}: {e}"[:500]
    print(json.dumps(result), flush=True)


def measure(torch, args):
    from models import DiT_models
    from diffusion import create_diffusion
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    torch.manual_seed(0)
    model = DiT_models[args.model](input_size=32, num_classes=1000).to(device)
    model.eval()
    if args.mode == "compile":
        # forward_with_cfg calls self.forward: the compiled one, once it shadows the class's method.
        model.forward = torch.compile(model.forward)
    diffusion = create_diffusion(str(args.steps))
    amp = None if args.autocast == "none" else getattr(torch, args.autocast)
    y = torch.randint(0, 1000, (args.batch,), device=device)
    y = torch.cat([y, torch.full((args.batch,), 1000, device=device, dtype=y.dtype)], 0)

    def guided(x, t, y, cfg_scale):
        if amp is None:
            return model.forward_with_cfg(x, t, y, cfg_scale)
        with torch.autocast(device.type, dtype=amp):
            out = model.forward_with_cfg(x, t, y, cfg_scale)
        return out.float()

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    def run():
        z = torch.randn(args.batch, 4, 32, 32, device=device)
        z = torch.cat([z, z], 0)
        sync()
        start = time.perf_counter()
        with torch.no_grad():
            samples = diffusion.p_sample_loop(guided, z.shape, z, clip_denoised=False,
                                              model_kwargs=dict(y=y, cfg_scale=args.cfg), progress=False, device=device)
        sync()
        seconds = time.perf_counter() - start
        if not torch.isfinite(samples).all():
            raise RuntimeError("sampling produced non-finite values")
        return seconds

    warmup = run()  # kernels, the allocator, and with --mode compile the compile itself
    times = [run() for _ in range(args.repeats)]
    best = min(times)
    out = {"seconds_per_batch": round(best, 4), "seconds_per_image": round(best / args.batch, 5),
           "runs": [round(s, 4) for s in times]}
    if args.mode == "compile":
        out["compile_seconds"] = round(warmup, 3)
    if cuda:
        out["peak_alloc_bytes"] = torch.cuda.max_memory_allocated(device)
    return out


if __name__ == "__main__":
    main()
