#!/usr/bin/env python3
"""Writes SiT parity fixtures from the authors' code (willisma/SiT), for dit4j's tests.

    python make_sit_fixtures.py --sit-repo /path/to/SiT --out models/src/test/resources

Needs torch (the version dit4j links, so seeded weights and random streams are bit-identical),
numpy, timm (SiT's models.py) and torchdiffeq (SiT's ODE sampler). Nothing of SiT's code is
copied: models.py and transport/ are imported from the checkout given.

The fixtures in the repository were made without pip's torchdiffeq and with two of SiT's files
missing from the copy at hand: torchdiffeq's odeint (euler, heun2, midpoint, dopri5 with its step
control) and SiT's transport/path.py and utils.py were restatements of the published code, put
on PYTHONPATH beside SiT's models.py, transport.py, integrators.py and __init__.py.

Writes fixtures/sit_transport.safetensors and checkpoints/sit_small.pt:
  * a small SiT (SiT's models.py: hidden 64, 1 head, depth 2, patch 2, 8x8x4 latents, 10
    classes, learn_sigma=True) with every parameter drawn from torch.randn (seed WEIGHT_SEED) times
    WEIGHT_STD, saved as its state dict (the layout of SiT's released files);
  * Transport.training_losses of every path x prediction x loss weight on that model (eval mode),
    one batch, one noise and one time per case (Transport.sample replaced by the stored draws);
  * Sampler.sample_ode / sample_sde chains as SiT's sample.py runs them: torch.manual_seed(seed),
    z = randn, doubled with [y; null] through forward_with_cfg, the first half kept.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_weights import seeded_weights  # noqa: E402

WEIGHT_SEED = 4321
WEIGHT_STD = 0.02
HIDDEN, HEADS, DEPTH, PATCH, SIZE, CLASSES = 64, 1, 2, 2, 8, 10

# name, mode, path, prediction, method, steps, cfg, seed, extra
CHAINS = [
    ("ode_euler", "ODE", "Linear", "velocity", "euler", 16, 4.0, 0, {}),
    ("ode_heun", "ODE", "Linear", "velocity", "heun2", 12, 4.0, 1, {}),
    ("ode_heun_gvp_noise", "ODE", "GVP", "noise", "heun2", 10, 1.5, 2, {}),
    ("ode_dopri5", "ODE", "Linear", "velocity", "dopri5", 8, 4.0, 3, {"atol": 1e-6, "rtol": 1e-3}),
    ("sde_euler", "SDE", "Linear", "velocity", "Euler", 20, 4.0, 4, {"diffusion_form": "sigma", "last_step": "Mean", "last_step_size": 0.04}),
    ("sde_heun", "SDE", "Linear", "velocity", "Heun", 14, 4.0, 5, {"diffusion_form": "sigma", "last_step": "Mean", "last_step_size": 0.04}),
    ("sde_euler_vp_score", "SDE", "VP", "score", "Euler", 16, 2.0, 6, {"diffusion_form": "SBDM", "last_step": "Euler", "last_step_size": 0.04}),
    ("sde_heun_gvp_noise", "SDE", "GVP", "noise", "Heun", 12, 3.0, 7, {"diffusion_form": "linear", "last_step": "Tweedie", "last_step_size": 0.04}),
    ("sde_euler_decreasing", "SDE", "Linear", "velocity", "Euler", 12, 4.0, 8, {"diffusion_form": "decreasing", "diffusion_norm": 0.5, "last_step": None, "last_step_size": 0.04}),
]
LABELS = [3, 7, 0, 9]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sit-repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "bench"))
    from reference_env import stand_in_torchvision
    stand_in_torchvision()
    sys.path.insert(0, args.sit_repo)
    import torch
    from safetensors.torch import save_file
    import models
    from transport import create_transport, Sampler
    torch.set_num_threads(2)

    model = models.SiT(input_size=SIZE, patch_size=PATCH, in_channels=4, hidden_size=HIDDEN, depth=DEPTH, num_heads=HEADS,
                       num_classes=CLASSES, learn_sigma=True)
    sums = seeded_weights(model, torch, WEIGHT_SEED, WEIGHT_STD)
    model.eval()
    os.makedirs(os.path.join(args.out, "checkpoints"), exist_ok=True)
    torch.save(model.state_dict(), os.path.join(args.out, "checkpoints", "sit_small.pt"))

    tensors, meta = {}, {"weight_seed": str(WEIGHT_SEED), "weight_std": str(WEIGHT_STD), "keys": ",".join(model.state_dict().keys())}
    tensors["weight_sums"] = torch.tensor([sums[k] for k in model.state_dict().keys()], dtype=torch.float64)

    # Training losses: one batch, one noise, a uniform u mapped onto each transport's training interval.
    g = torch.Generator().manual_seed(11)
    n = 4
    x1 = torch.randn(n, 4, SIZE, SIZE, generator=g)
    x0 = torch.randn(n, 4, SIZE, SIZE, generator=g)
    u = torch.rand(n, generator=g)
    y = torch.tensor([1, 5, 9, 10])  # the last the null label
    tensors.update(x1=x1, x0=x0, y=y)
    cases = []
    with torch.no_grad():
        for path in ["Linear", "GVP", "VP"]:
            for prediction in ["velocity", "score", "noise"]:
                for weight in ([None] if prediction == "velocity" else [None, "velocity", "likelihood"]):
                    tr = create_transport(path, prediction, weight, 1e-5, 1e-3)
                    t0, t1 = tr.check_interval(tr.train_eps, tr.sample_eps)
                    t = u * (t1 - t0) + t0
                    tr.sample = lambda data, t=t: (t, x0, data)
                    loss = tr.training_losses(model, x1, dict(y=y))["loss"]
                    name = f"{path}_{prediction}_{weight or 'none'}"
                    cases.append(name)
                    tensors["t_" + name] = t
                    tensors["loss_" + name] = loss
    meta["loss_cases"] = ",".join(cases)

    # Sampling chains, as sample.py.
    chains = []
    for name, mode, path, prediction, method, steps, cfg, seed, extra in CHAINS:
        tr = create_transport(path, prediction, None, 1e-5, 1e-3)
        sampler = Sampler(tr)
        if mode == "ODE":
            fn = sampler.sample_ode(sampling_method=method, num_steps=steps, atol=extra.get("atol", 1e-6), rtol=extra.get("rtol", 1e-3))
        else:
            fn = sampler.sample_sde(sampling_method=method, diffusion_form=extra["diffusion_form"], diffusion_norm=extra.get("diffusion_norm", 1.0),
                                    last_step=extra["last_step"], last_step_size=extra["last_step_size"], num_steps=steps)
        torch.manual_seed(seed)
        with torch.no_grad():
            z = torch.randn(len(LABELS), 4, SIZE, SIZE)
            yy = torch.tensor(LABELS)
            z = torch.cat([z, z], 0)
            yy = torch.cat([yy, torch.tensor([CLASSES] * len(LABELS))], 0)
            out = fn(z, model.forward_with_cfg, y=yy, cfg_scale=cfg)[-1]
        tensors["chain_" + name] = out.chunk(2, dim=0)[0].contiguous()
        chains.append(dict(name=name, mode=mode.lower(), path=path.lower(), prediction=prediction, method=method.lower(), steps=steps, cfg=cfg,
                           seed=seed, **{k: v for k, v in extra.items()}))
    # one chain per line, key=value pairs separated by ';' (None as 'none')
    meta["chains"] = "\n".join(";".join(f"{k}={'none' if v is None else v}" for k, v in c.items()) for c in chains)
    meta["labels"] = ",".join(map(str, LABELS))
    os.makedirs(os.path.join(args.out, "fixtures"), exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(args.out, "fixtures", "sit_transport.safetensors"), metadata=meta)
    print("wrote", len(cases), "loss cases and", len(chains), "chains")


if __name__ == "__main__":
    main()
