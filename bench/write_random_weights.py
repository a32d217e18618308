#!/usr/bin/env python3
"""Random-weight checkpoints in the released formats, made by the authors' code, for timing
`dit4j sample` where no released weights can be downloaded: a DiT state dict as
DiT-XL-2-512x512.pt is (facebookresearch/DiT's models.py) and SD's autoencoder in the LDM layout
(U-ViT's libs/autoencoder.py).

    python write_random_weights.py --dit-repo DiT --uvit-repo U-ViT --model DiT-XL/2 --image-size 512 --dit out.pt --vae vae.pth
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_env import stand_in_torchvision  # noqa: E402
from vae_reference import write_sd_autoencoder  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dit-repo", required=True)
    ap.add_argument("--uvit-repo", required=True)
    ap.add_argument("--model", default="DiT-XL/2")
    ap.add_argument("--image-size", type=int, default=512)
    ap.add_argument("--dit", required=True)
    ap.add_argument("--vae", required=True)
    args = ap.parse_args()
    stand_in_torchvision()
    sys.path.insert(0, args.dit_repo)
    import torch
    from models import DiT_models
    torch.manual_seed(0)
    torch.save(DiT_models[args.model](input_size=args.image_size // 8, num_classes=1000).state_dict(), args.dit)
    write_sd_autoencoder(args.uvit_repo, args.vae)


if __name__ == "__main__":
    main()
