#!/usr/bin/env python3
"""End-to-end check of `./dit4j parity --model MicroDiT_Tiny_2|MicroDiT_XL_2` against the authors' model.

    python check_microdit_parity_cli.py --repo /path/to/micro_diffusion --work /tmp/mdp --model MicroDiT_Tiny_2 \
        [--latent 32 | 64] [--caption 1024] prepare
    ./dit4j parity --model MicroDiT_Tiny_2 --weights /tmp/mdp/weights.safetensors --inputs /tmp/mdp/inputs.safetensors \
        --out /tmp/mdp/out.safetensors --cfg 5          (and again with inputs_masked.safetensors -> out_masked.safetensors)
    python check_microdit_parity_cli.py ... compare

prepare: the authors' preset with seeded random weights (randn * 0.02 for every entry; the position
table kept as the constructor computes it: pos_interp_scale 2 at latent 64) and N = 2 inputs.
compare: relative L2 of dit4j's out / out_cfg against the authors' forward and forward_with_cfg.
"""
import argparse
import os
import sys
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_microdit_fixtures import stand_ins  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--model", default="MicroDiT_Tiny_2")
    ap.add_argument("--latent", type=int, default=32)
    ap.add_argument("--caption", type=int, default=1024)
    ap.add_argument("step", choices=["prepare", "compare"])
    args = ap.parse_args()
    import torch
    from safetensors.torch import load_file, save_file
    stand_ins(torch)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "bench"))
    from reference_env import stand_in_torchvision
    stand_in_torchvision()
    sys.path.insert(0, args.repo)
    from micro_diffusion.models import dit
    os.makedirs(args.work, exist_ok=True)
    scale = args.latent / 32
    model = getattr(dit, args.model)(input_size=args.latent, caption_channels=args.caption, pos_interp_scale=scale)
    g = torch.Generator().manual_seed(99)
    with torch.no_grad():
        for k, v in model.state_dict().items():
            if k != "pos_embed":
                v.copy_(torch.randn(v.shape, generator=g) * 0.02)
    model.eval()
    n, tokens = 2, (args.latent // 2) ** 2
    x = torch.randn(n, 4, args.latent, args.latent, generator=g)
    t = torch.randn(n, generator=g) * 0.5
    y = torch.randn(n, 1, 77, args.caption, generator=g)
    noise = torch.rand(n, tokens, generator=g)
    w = os.path.join(args.work, "")
    if args.step == "prepare":
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, w + "weights.safetensors")
        save_file({"x": x, "t": t, "y": y}, w + "inputs.safetensors")
        save_file({"x": x, "t": t, "y": y, "mask_noise": noise, "mask_ratio": torch.tensor(0.75)}, w + "inputs_masked.safetensors")
        print("wrote", w)
        return
    with torch.no_grad():
        ref = model(x, t, y)["sample"]
        ref_cfg = model(x, t, y, cfg=5.0)["sample"]
        with mock.patch("torch.rand", lambda *a, **k: noise.clone()):
            ref_masked = model(x, t, y, mask_ratio=0.75)["sample"]
        with mock.patch("torch.rand", lambda *a, **k: torch.cat([noise, noise])):
            ref_masked_cfg = model(x, t, y, cfg=5.0, mask_ratio=0.75)["sample"]
    rel = lambda a, b: float((a.double() - b.double()).norm() / b.double().norm())
    out, masked = load_file(w + "out.safetensors"), load_file(w + "out_masked.safetensors")
    print(f"{args.model} latent {args.latent}: out {rel(out['out'], ref):.2e}, out_cfg {rel(out['out_cfg'], ref_cfg):.2e}, "
          f"masked {rel(masked['out'], ref_masked):.2e}, masked cfg {rel(masked['out_cfg'], ref_masked_cfg):.2e}")


if __name__ == "__main__":
    main()
