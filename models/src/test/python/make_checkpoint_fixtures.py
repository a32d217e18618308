#!/usr/bin/env python3
"""Writes small checkpoints in the authors' own file formats, for dit4j's loading tests:

    python make_checkpoint_fixtures.py --uvit-repo /path/to/U-ViT --udit-repo /path/to/U-DiT --out DIR

- uvit_small.pth: a plain state dict saved with torch.save, the form of U-ViT's released
  checkpoints (their eval scripts load it strictly into UViT), from a small class-conditional UViT
  initialised by the authors' own code;
- udit_small_train.pt: a training checkpoint as U-DiT's train.py writes it ({"model", "ema",
  "opt", "args"}), the EMA differing from the model, from a small U_DiT;
- checkpoint_outputs.safetensors: inputs and each model's output (U-DiT's from its EMA weights).
Nothing of the authors' code is copied: it is imported from the checkouts given.
"""
import argparse
import copy
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "bench"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uvit-repo", required=True)
    ap.add_argument("--udit-repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    from reference_env import stand_in_torchvision
    stand_in_torchvision()
    import torch
    from safetensors.torch import save_file
    torch.manual_seed(7)
    torch.set_num_threads(2)

    sys.path.insert(0, args.uvit_repo)
    from libs.uvit import UViT
    uvit = UViT(img_size=16, patch_size=2, in_chans=4, embed_dim=64, depth=2, num_heads=2, mlp_ratio=4, qkv_bias=False,
                num_classes=11, conv=True).eval()
    torch.save(uvit.state_dict(), os.path.join(args.out, "uvit_small.pth"))

    sys.path.insert(0, args.udit_repo)
    import udit_models
    udit = udit_models.U_DiT(down_factor=2, hidden_size=16, num_heads=2, depth=[1, 1, 1, 1, 1], ffn_type="rep", rep=1,
                             mlp_ratio=2, attn_type="v2", posemb_type="rope2d", downsampler="dwconv5", down_shortcut=1)
    ema = copy.deepcopy(udit)
    with torch.no_grad():
        for p in ema.parameters():  # the zero-initialised gates too, so the EMA's output is not trivial
            p.add_(torch.randn_like(p) * 0.02)
    opt = torch.optim.AdamW(udit.parameters(), lr=1e-4, weight_decay=0)
    train_args = argparse.Namespace(model="U-DiT-S", image_size=256, global_batch_size=256, epochs=1400)
    torch.save({"model": udit.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "args": train_args},
               os.path.join(args.out, "udit_small_train.pt"))

    with torch.no_grad():
        x_uvit = torch.randn(2, 4, 16, 16)
        x_udit = torch.randn(2, 4, 16, 16)
        t = torch.tensor([10.0, 700.0])
        y = torch.tensor([3, 10])
        ema.eval()  # the authors' eval() merges the FFNs in place once: fine for a single forward
        tensors = {"uvit_x": x_uvit, "t": t, "y": y, "uvit_out": uvit(x_uvit, t, y),
                   "udit_x": x_udit, "udit_y": torch.tensor([3, 1000]), "udit_out": ema(x_udit, t, torch.tensor([3, 1000]))}
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(args.out, "checkpoint_outputs.safetensors"),
              metadata={"torch": torch.__version__})
    print("wrote uvit_small.pth, udit_small_train.pt, checkpoint_outputs.safetensors to", args.out)


if __name__ == "__main__":
    main()
