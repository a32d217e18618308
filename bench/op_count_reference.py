#!/usr/bin/env python3
"""ATen operators per step of the authors' DiT (facebookresearch/DiT) in PyTorch eager, for
comparison with bench's OpCount, as dit4j's DeviceProfile counts them: "top", the top-level
"aten::*" events torch.profiler records on the host (no aten:: event among their cpu_parent
ancestors: the operators the model, the loss, autograd's nodes and the optimizer ran), and "all",
every aten:: event, nested ones included.

train: one training step after a warm-up step: hybrid loss, backward, zero_grad (set to None),
AdamW(fused=True), EMA as one torch._foreach_lerp_ (the multi-tensor update dit4j makes);
train_authors: the same step with the update of the authors' train.py: torch.optim.AdamW as it
defaults on a GPU (foreach, a multi-tensor op per stage), the EMA as a mul_ and an add_ per
parameter.
sample: one guided DDPM step of sample.py (forward_with_cfg on [z; z], p_sample), without
gradients in eval mode: the count of a 3-step sample minus that of a 2-step one.
Prints one JSON line.

    python op_count_reference.py --dit-repo /path/to/DiT [--depth 2 --hidden 1152 --heads 16 --batch 2]
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_env import stand_in_torchvision  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dit-repo", required=True)
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=1152)
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--cfg", type=float, default=4.0)
    args = ap.parse_args()
    stand_in_torchvision()
    sys.path.insert(0, args.dit_repo)
    import torch
    from models import DiT
    from diffusion import create_diffusion
    torch.manual_seed(0)
    make = lambda: DiT(input_size=32, patch_size=2, hidden_size=args.hidden, depth=args.depth, num_heads=args.heads, num_classes=1000)
    model, ema = make(), make().requires_grad_(False)
    x = torch.randn(args.batch, 4, 32, 32)
    y = torch.randint(0, 1000, (args.batch,))
    print(json.dumps({"impl": "pytorch-eager", "torch": torch.__version__, "depth": args.depth, "hidden": args.hidden,
                      "batch": args.batch, "train_ops": train_ops(torch, model, ema, create_diffusion, x, y, fused=True),
                      "train_ops_authors": train_ops(torch, model, ema, create_diffusion, x, y, fused=False),
                      "sample_step_ops": sample_step_ops(torch, model, create_diffusion, x, y, args.cfg)}))


def aten_ops(torch, run):
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run()
    aten = [e for e in prof.events() if e.name.startswith("aten::")]
    return {"top": sum(1 for e in aten if top_level(e)), "all": len(aten)}


def top_level(event):
    parent = event.cpu_parent
    while parent is not None:
        if parent.name.startswith("aten::"):
            return False
        parent = parent.cpu_parent
    return True


def train_ops(torch, model, ema, create_diffusion, x, y, fused):
    diffusion = create_diffusion(timestep_respacing="")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0, fused=True if fused else None, foreach=None if fused else True)
    params, averaged = list(model.parameters()), list(ema.parameters())
    model.train()

    def step():
        t = torch.randint(0, diffusion.num_timesteps, (x.shape[0],))
        loss = diffusion.training_losses(model, x, t, dict(y=y))["loss"].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            if fused:
                torch._foreach_lerp_(averaged, params, 1 - 0.9999)
            else:
                for a, p in zip(averaged, params):
                    a.mul_(0.9999).add_(p.data, alpha=1 - 0.9999)

    step()  # the first step creates the optimizer's state
    return aten_ops(torch, step)


def sample_step_ops(torch, model, create_diffusion, x, y, cfg):
    model.eval()
    z = torch.cat([x, x], 0)
    labels = torch.cat([y, torch.full_like(y, 1000)], 0)

    def sample(steps):
        diffusion = create_diffusion(str(steps))
        with torch.no_grad():
            return aten_ops(torch, lambda: diffusion.p_sample_loop(model.forward_with_cfg, z.shape, z, clip_denoised=False,
                                                                   model_kwargs=dict(y=labels, cfg_scale=cfg), progress=False,
                                                                   device=z.device))

    three, two = sample(3), sample(2)
    return {k: three[k] - two[k] for k in three}


if __name__ == "__main__":
    main()
