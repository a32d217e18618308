#!/usr/bin/env python3
"""The authors' FeedForwardECMoe (micro_diffusion/models/dit.py) forward + backward at MoeBench's shapes.

    python bench/moe_reference.py --repo /path/to/micro_diffusion [--threads 2]
"""
import argparse
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=256)
    args = ap.parse_args()
    import torch
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "models", "src", "test", "python"))
    from make_microdit_fixtures import stand_ins
    from reference_env import stand_in_torchvision
    stand_ins(torch)
    stand_in_torchvision()
    sys.path.insert(0, args.repo)
    from micro_diffusion.models.dit import FeedForwardECMoe
    if args.threads:
        torch.set_num_threads(args.threads)
    moe = FeedForwardECMoe(8, 2.0, 512, 2048, 256)
    moe.custom_init(0.02)
    x = torch.randn(args.batch, args.tokens, 512)
    for label, reps in (("warm-up", 3), ("measured", 10)):
        start = time.perf_counter()
        for _ in range(reps):
            moe(x).sum().backward()
            moe.zero_grad()
        ms = (time.perf_counter() - start) / reps * 1e3
    print(f"authors' FeedForwardECMoe fwd+bwd [{args.batch}, {args.tokens}, 512] -> 2048, 8 experts: {ms:.2f} ms")


if __name__ == "__main__":
    main()
