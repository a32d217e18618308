#!/usr/bin/env python3
"""Writes DPM-Solver++ fixtures from the authors' solvers, for dit4j's DpmSolverPPTest.

    python make_dpm_solver_fixtures.py --dpm-solver-repo /path/to/DPM-Solver [--uvit-repo /path/to/U-ViT] \
        --out models/src/test/resources/fixtures

Runs LuChengTHU's dpm_solver_pytorch.py (NoiseScheduleVP 'discrete' / 'linear', model_wrapper,
DPM_Solver with algorithm_type 'dpmsolver++') and, if given, U-ViT's dpm_solver_pp.py (the
solver its discrete latent models sample with: predict_x0=True, method 'fast', order 3,
time-uniform, t from 1 to 1/N, network called with t * N) on a small analytic noise model that
dit4j evaluates the same way:

    eps(x, tin) = tanh(a_c * x + b * tin + c_c [+ 0.25 * y])     (per channel c)

Everything runs in float64 (torch default dtype set to float64, so the solvers' linspaces are
float64 too). Per case it stores the start noise, the states after each update where the solver
exposes them, the final sample and the network time of every model call. Nothing of the authors'
code is copied: it is imported from the checkouts given.
"""
import argparse
import importlib.util
import os
import sys

A = [0.9, -0.7, 1.1]
C = [0.1, -0.2, 0.3]
B_DISCRETE = 0.0013
B_CONTINUOUS = 1.3
GUIDANCE_SCALE = 3.0
LABELS = [1.0, 2.0]
SHAPE = (2, 3, 4, 4)


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dpm-solver-repo", required=True)
    ap.add_argument("--uvit-repo")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    import numpy as np
    import torch
    from safetensors.torch import save_file
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(2)
    ref = load_module("dpm_solver_pytorch", os.path.join(args.dpm_solver_repo, "dpm_solver_pytorch.py"))

    a = torch.tensor(A).view(1, -1, 1, 1)
    c = torch.tensor(C).view(1, -1, 1, 1)

    def analytic(b, calls):
        def model(x, tin, cond=None):
            calls.append(float(tin.reshape(-1)[0]))
            z = a * x + b * tin.reshape(-1, 1, 1, 1) + c
            if cond is not None:
                z = z + 0.25 * cond.reshape(-1, 1, 1, 1)
            return torch.tanh(z)
        return model

    dit_betas = torch.tensor(np.linspace(1e-4, 0.02, 1000, dtype=np.float64))
    sd_betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
    # iDDPM's cosine schedule: its last steps fall below lambda = -5.1, which the reference clips away
    steps = np.arange(1001, dtype=np.float64) / 1000
    f = np.cos((steps + 0.008) / 1.008 * np.pi / 2) ** 2
    cosine_betas = np.minimum(1 - f[1:] / f[:-1], 0.999)
    cosine_abar = torch.tensor(np.cumprod(1 - cosine_betas))
    schedules = {
        "cosine": lambda: ref.NoiseScheduleVP("discrete", alphas_cumprod=cosine_abar, dtype=torch.float64),
        "dit": lambda: ref.NoiseScheduleVP("discrete", betas=dit_betas, dtype=torch.float64),
        "sd": lambda: ref.NoiseScheduleVP("discrete", betas=sd_betas, dtype=torch.float64),
        "linear": lambda: ref.NoiseScheduleVP("linear", continuous_beta_0=0.1, continuous_beta_1=20.0, dtype=torch.float64),
    }
    # name: (schedule, method, order, skip, steps, t_end or None, guided)
    cases = {
        "dit_ms2": ("dit", "multistep", 2, "time_uniform", 10, None, False),
        "dit_ms3_logsnr": ("dit", "multistep", 3, "logSNR", 6, None, False),
        "sd_ms3": ("sd", "multistep", 3, "time_uniform", 12, None, False),
        "sd_ms2_logsnr": ("sd", "multistep", 2, "logSNR", 5, None, False),
        "linear_ms2_logsnr": ("linear", "multistep", 2, "logSNR", 8, None, False),
        "linear_ms3": ("linear", "multistep", 3, "time_uniform", 15, 1e-4, False),
        "dit_guided": ("dit", "multistep", 2, "time_uniform", 8, None, True),
        "dit_single2": ("dit", "singlestep", 2, "time_uniform", 7, None, False),
        "cosine_ms2_logsnr": ("cosine", "multistep", 2, "logSNR", 9, None, False),
        "sd_single3_logsnr": ("sd", "singlestep", 3, "logSNR", 10, None, False),
    }
    out = {"a": torch.tensor(A), "c": torch.tensor(C), "cosine.alphas_cumprod": cosine_abar,
           "cosine.clipped_total_n": torch.tensor([schedules["cosine"]().total_N], dtype=torch.int64)}
    g = torch.Generator().manual_seed(2024)
    for name, (sched, method, order, skip, steps, t_end, guided) in cases.items():
        ns = schedules[sched]()
        b = B_DISCRETE if sched != "linear" else B_CONTINUOUS
        calls = []
        if guided:
            model_fn = ref.model_wrapper(analytic(b, calls), ns, model_type="noise", guidance_type="classifier-free",
                                         condition=torch.tensor(LABELS), unconditional_condition=torch.zeros(len(LABELS)),
                                         guidance_scale=GUIDANCE_SCALE)
        else:
            model_fn = ref.model_wrapper(analytic(b, calls), ns, model_type="noise")
        solver = ref.DPM_Solver(model_fn, ns, algorithm_type="dpmsolver++")
        x_T = torch.randn(SHAPE, generator=g)
        final, states = solver.sample(x_T.clone(), steps=steps, t_end=t_end, order=order, skip_type=skip, method=method,
                                      lower_order_final=True, return_intermediate=True)
        if method == "multistep":
            states = states[1:]  # the first is x_T itself
        out[f"{name}.x_T"] = x_T
        out[f"{name}.traj"] = torch.stack(states)
        out[f"{name}.final"] = final
        out[f"{name}.model_times"] = torch.tensor(calls)
        out[f"{name}.b"] = torch.tensor([b])
        print(f"{name}: {len(calls)} model calls, final std {final.std():.4f}")

    if args.uvit_repo:
        uvit = load_module("uvit_dpm_solver_pp", os.path.join(args.uvit_repo, "dpm_solver_pp.py"))
        n = len(sd_betas)
        for steps in (9, 10, 11):
            name = f"uvit_fast3_{steps}"
            calls = []
            net = analytic(B_DISCRETE, calls)
            ns = uvit.NoiseScheduleVP(schedule="discrete", betas=sd_betas)

            def model_fn(x, t_continuous, net=net):  # as eval_ldm_discrete.py
                return net(x, t_continuous * n)

            solver = uvit.DPM_Solver(model_fn, ns, predict_x0=True, thresholding=False)
            x_T = torch.randn(SHAPE, generator=g)
            final = solver.sample(x_T.clone(), steps=steps, eps=1.0 / n, T=1.0)
            out[f"{name}.x_T"] = x_T
            out[f"{name}.final"] = final
            out[f"{name}.model_times"] = torch.tensor(calls)
            print(f"{name}: {len(calls)} model calls, final std {final.std():.4f}")

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "dpm_solver.safetensors")
    save_file({k: v.contiguous() for k, v in out.items()}, path)
    print("wrote", path)


if __name__ == "__main__":
    sys.exit(main())
