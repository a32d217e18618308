#!/usr/bin/env python3
"""Writes small MicroDiT checkpoints in the two forms its authors' weights come in, for dit4j's loading tests:

    python make_microdit_checkpoint_fixtures.py --repo /path/to/micro_diffusion --out models/src/test/resources/checkpoints

- microdit_512_plain.pt: the DiT module's plain state dict saved with torch.save, the form of the
  released files (dit_4_channel_37M_real_and_synthetic_data.pt, ...; README: model.dit.load_state_dict),
  from a narrow DiT at the 512 px shape pattern: a 64x64 latent, patch 2, so pos_embed is
  (1, 1024, dim), the table of pos_interp_scale 2;
- microdit_composer.pt: a training checkpoint as composer's Trainer writes it for train.py's
  LatentDiffusion (a ComposerModel holding dit, vae and text_encoder): {"state": {"model": the
  model's state dict, keys "dit.*", "vae.*", "text_encoder.*"; "optimizers": {"AdamW": state by
  parameter name}; "schedulers", "algorithms", "callbacks", "timestamp", "rank_zero_seed",
  "train_metrics", "eval_metrics", "run_name", "dataset_state", "integrations", "metadata"},
  "rng": [{"python", "numpy", "torch"} per rank]};
- microdit_checkpoint_outputs.safetensors: inputs and each DiT's output.

composer (mosaicml 0.24, train.py's pin) cannot be installed here, so State.state_dict() is
rebuilt from its source: every composer object is flattened by its own state_dict() into plain
containers before torch.save, so besides tensors the pickle holds only what composer's hardened
loader allows (datetime.timedelta wall-clock times, numpy's RNG state as an ndarray, torch's
TorchVersion, bytes through _codecs.encode under pickle protocol 2). Those are made here by the
real Python objects. The VAE and text encoder are two tiny stand-in modules with their key
prefixes (the loader takes only dit.*). Nothing of the authors' code is copied: it is imported
from the checkout given, with the imports the DiT never runs stood in (make_microdit_fixtures.py).
"""
import argparse
import datetime
import os
import random
import sys

PLAIN_X_SEED = 64

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "..", "..", "..", "bench"))


def narrow_dit(dit, input_size, scale, depth):
    """Tiny_2's structure (mixer, layer-wise widths, MoE every second block) at width 8; dit4j's tests build the same."""
    import numpy as np
    return dit.DiT(input_size=input_size, patch_size=2, in_channels=4, dim=8, depth=depth, head_dim=4, multiple_of=16,
                   caption_channels=8, pos_interp_scale=scale, norm_eps=1e-6, depth_init=True,
                   qkv_multipliers=np.linspace(0.5, 1.0, num=depth, dtype=float),
                   ffn_multipliers=np.linspace(0.5, 4.0, num=depth, dtype=float), use_patch_mixer=True,
                   patch_mixer_depth=1, patch_mixer_dim=8, patch_mixer_qkv_ratio=1.0, patch_mixer_mlp_ratio=4.0,
                   use_bias=False, num_experts=8, expert_capacity=2.0, experts_every_n=2)


def perturbed(model, torch):
    """Parameters moved off the authors' init (whose zeroed gates give a zero output); buffers kept."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model.eval()


def composer_checkpoint(torch, np, latent_diffusion, x, y):
    """What composer 0.24's Trainer saves: {"state": State.state_dict(), "rng": get_rng_state()}."""
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict
    dit = latent_diffusion.dit
    opt = torch.optim.AdamW(dit.parameters(), lr=2.4e-4, weight_decay=0.1, eps=1e-8, betas=(0.9, 0.999))
    for p in opt.param_groups:
        p["betas"] = list(p["betas"])  # train.py does this
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / 2500))  # a composer scheduler, compiled
    dit.train()
    dit(x, torch.zeros(x.shape[0]), y)["sample"].square().mean().backward()
    opt.step()
    sched.step()
    opt.zero_grad()
    dit.eval()
    wct = datetime.timedelta(seconds=1234, microseconds=5678)
    timestamp = {"iteration": 0, "epoch": 0, "batch": 1, "sample": 2, "token": 0, "epoch_in_iteration": 0,
                 "token_in_iteration": 0, "batch_in_epoch": 1, "sample_in_epoch": 2, "token_in_epoch": 0,
                 "total_wct": wct, "iteration_wct": wct, "epoch_wct": wct, "batch_wct": datetime.timedelta(seconds=3)}
    metric = {"state_dict": {"loss": torch.tensor(0.25), "count": torch.tensor(2.0)}, "_computed": None}
    state = {
        "model": latent_diffusion.state_dict(),
        "optimizers": {"AdamW": get_optimizer_state_dict(latent_diffusion, opt)},
        "schedulers": {"LambdaLR": sched.state_dict()},
        "algorithms": [("GradientClipping", {"repr": "GradientClipping(clipping_type='norm',clipping_threshold=0.5)"})],
        "callbacks": {"SpeedMonitor": {"total_eval_wct": 0.0}, "LRMonitor": {}, "RuntimeEstimator": {}, "OptimizerMonitor": {},
                      "LogDiffusionImages": {}, "NaNCatcher": {},
                      "CheckpointSaver": {"all_saved_checkpoints_to_timestamp": [("ep0-ba1-rank0.pt", dict(timestamp))]}},
        "timestamp": timestamp,
        "rank_zero_seed": 18,
        "train_metrics": {"loss": metric},
        "eval_metrics": {"eval": {"loss": metric}},
        "run_name": "MicroDiTXL_mask_75_res_512_pretrain",
        "dataset_state": {"train": {"epoch": 0, "sample_in_epoch": 2, "num_canonical_nodes": 1, "shuffle_seed": 9176,
                                    "initial_physical_nodes": None}},
        "integrations": {},
        "metadata": {"composer_env_info": {"composer_version": "0.24.1", "composer_commit_hash": None, "node_world_size": 1,
                                           "host_processor_model_name": "AMD EPYC", "host_processor_core_count": 2,
                                           "local_world_size": 1, "accelerator_model_name": "N/A", "cuda_device_count": 0},
                     "torch_version": torch.__version__, "device": "cpu", "precision": "amp_bf16", "world_size": 1,
                     "device_train_microbatch_size": 2, "train_dataloader_batch_size": 2},
    }
    random.seed(18)
    np.random.seed(18)
    rng = [{"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.random.get_rng_state()}]
    return {"state": state, "rng": rng}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    import numpy as np
    import torch
    from safetensors.torch import save_file
    from make_microdit_fixtures import stand_ins
    from reference_env import stand_in_torchvision
    stand_ins(torch)
    stand_in_torchvision()
    sys.path.insert(0, args.repo)
    from micro_diffusion.models import dit
    torch.set_num_threads(2)
    torch.manual_seed(12)

    g = torch.Generator().manual_seed(5)
    t = torch.randn(2, generator=g) * 0.5
    y = torch.randn(2, 1, 77, 8, generator=g)
    tensors = {"t": t, "y": y}

    plain = perturbed(narrow_dit(dit, 64, 2.0, 3), torch)
    plain_x = torch.randn(1, 4, 64, 64, generator=torch.Generator().manual_seed(PLAIN_X_SEED))  # drawn again by the test
    with torch.no_grad():
        tensors["plain_out"] = plain(plain_x, t[:1], y[:1])["sample"]
    torch.save(plain.state_dict(), os.path.join(args.out, "microdit_512_plain.pt"))

    class LatentDiffusion(torch.nn.Module):  # train.py's ComposerModel: the DiT beside a frozen VAE and text encoder
        def __init__(self, dit_module):
            super().__init__()
            self.dit = dit_module
            self.vae = torch.nn.Conv2d(4, 2, 1).to(torch.bfloat16).requires_grad_(False)
            self.text_encoder = torch.nn.Embedding(3, 2).requires_grad_(False)

    model = LatentDiffusion(perturbed(narrow_dit(dit, 8, 1.0, 1), torch))
    tensors["composer_x"] = torch.randn(2, 4, 8, 8, generator=g)
    ckpt = composer_checkpoint(torch, np, model, tensors["composer_x"], y)
    with torch.no_grad():
        tensors["composer_out"] = model.dit(tensors["composer_x"], t, y)["sample"]  # after the optimizer step: what was saved
    torch.save(ckpt, os.path.join(args.out, "microdit_composer.pt"))
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(args.out, "microdit_checkpoint_outputs.safetensors"),
              metadata={"torch": torch.__version__, "numpy": np.__version__, "plain_x_seed": str(PLAIN_X_SEED)})
    for name in ("microdit_512_plain.pt", "microdit_composer.pt", "microdit_checkpoint_outputs.safetensors"):
        print(name, os.path.getsize(os.path.join(args.out, name)), "bytes")


if __name__ == "__main__":
    main()
