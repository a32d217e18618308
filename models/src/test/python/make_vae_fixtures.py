#!/usr/bin/env python3
"""Writes AutoencoderKL parity fixtures from the authors' LDM autoencoder code, as U-ViT ships it
(baofff/U-ViT libs/autoencoder.py), for dit4j's tests.

    python make_vae_fixtures.py --uvit-repo /path/to/U-ViT --out models/src/test/resources/fixtures

Weights and inputs are not stored: every state-dict entry is drawn in state-dict order from
torch.randn with a CPU generator seeded WEIGHT_SEED (times WEIGHT_STD), the images x from one
seeded INPUT_SEED and the latents z from one seeded LATENT_SEED; dit4j redraws them through libtorch.
Stored: the quant_conv output `moments` and the decoder output `decoded` (for the 256 px case the
decoded image only as an 8x8 average pool and a 32x32 centre crop, to stay small), and the key
names of diffusers' layout for the same weights, written here from the layout's rules (diffusers
itself is not installed) so that dit4j's reading of that layout is checked against an independent
renaming. Nothing of the authors' code is copied: libs/autoencoder.py is imported.
"""
import argparse
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_weights import seeded_weights  # noqa: E402

WEIGHT_SEED = 2024
WEIGHT_STD = 0.05
INPUT_SEED = 11
LATENT_SEED = 12
SCALE = 0.18215

# name, ddconfig changes, size, batch, attention names of diffusers' newer or older layout, GroupNorm's groups
CASES = [
    ("vae_f8_64", dict(ch=32, ch_mult=[1, 2, 2, 2], num_res_blocks=1, attn_resolutions=[]), 64, 2, "new", 32),
    ("vae_f8_256", dict(ch=32, ch_mult=[1, 1, 2, 2], num_res_blocks=2, attn_resolutions=[32]), 256, 1, "old", 32),
    # diffusers' norm_num_groups: the LDM code's Normalize takes num_groups, which its callers leave at 32
    ("vae_f8_64_g8", dict(ch=32, ch_mult=[1, 1, 2, 2], num_res_blocks=1, attn_resolutions=[]), 64, 1, "new", 8),
]


def diffusers_name(key, levels, attention_names):
    """The diffusers AutoencoderKL name of an LDM key (decoder levels run deepest first there)."""
    attn = {"norm": "group_norm", "q": "to_q", "k": "to_k", "v": "to_v", "proj_out": "to_out.0"} if attention_names == "new" \
        else {"norm": "group_norm", "q": "query", "k": "key", "v": "value", "proj_out": "proj_attn"}

    def block_rest(rest):
        return rest.replace("nin_shortcut.", "conv_shortcut.")

    def attn_rest(rest):
        module, param = rest.rsplit(".", 1)
        return attn[module] + "." + param

    m = re.fullmatch(r"(encoder|decoder)\.(down|up)\.(\d+)\.(block|attn|downsample|upsample)\.(.+)", key)
    if m:
        side, _, level, kind, rest = m.groups()
        level = int(level)
        prefix = f"{side}.down_blocks.{level}." if side == "encoder" else f"{side}.up_blocks.{levels - 1 - level}."
        if kind in ("block", "attn"):
            index, rest = rest.split(".", 1)
            return prefix + ("resnets." if kind == "block" else "attentions.") + index + "." + \
                (block_rest(rest) if kind == "block" else attn_rest(rest))
        return prefix + ("downsamplers.0." if kind == "downsample" else "upsamplers.0.") + rest
    m = re.fullmatch(r"(encoder|decoder)\.mid\.(block_1|block_2|attn_1)\.(.+)", key)
    if m:
        side, part, rest = m.groups()
        if part == "attn_1":
            return f"{side}.mid_block.attentions.0." + attn_rest(rest)
        return f"{side}.mid_block.resnets.{int(part[-1]) - 1}." + block_rest(rest)
    return key.replace("encoder.norm_out.", "encoder.conv_norm_out.").replace("decoder.norm_out.", "decoder.conv_norm_out.")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uvit-repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    sys.path.insert(0, args.uvit_repo)
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from safetensors.torch import save_file
    import libs.autoencoder as ldm
    from libs.autoencoder import Decoder, Encoder, FrozenAutoencoderKL
    torch.set_num_threads(2)
    normalize = ldm.Normalize

    for name, changes, size, n, attention_names, groups in CASES:
        ldm.Normalize = lambda in_channels, num_groups=32: normalize(in_channels, num_groups=groups)
        ddconfig = dict(double_z=True, z_channels=4, resolution=size, in_channels=3, out_ch=3, dropout=0.0, **changes)
        # FrozenAutoencoderKL loads its weights from a file: give it one of the right shapes.
        shell = nn.Module()
        shell.encoder, shell.decoder = Encoder(**ddconfig), Decoder(**ddconfig)
        shell.quant_conv, shell.post_quant_conv = nn.Conv2d(8, 8, 1), nn.Conv2d(4, 4, 1)
        with tempfile.TemporaryDirectory() as tmp:
            torch.save(shell.state_dict(), f"{tmp}/w.pth")
            model = FrozenAutoencoderKL(ddconfig, 4, f"{tmp}/w.pth", SCALE)
        sums = torch.tensor(list(seeded_weights(model, torch, WEIGHT_SEED, WEIGHT_STD).values()), dtype=torch.float64)
        f = 2 ** (len(ddconfig["ch_mult"]) - 1)
        x = torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(INPUT_SEED))
        z = torch.randn(n, 4, size // f, size // f, generator=torch.Generator().manual_seed(LATENT_SEED))
        with torch.no_grad():
            moments = model.encode_moments(x)
            decoded = model.decode(z)  # z / scale, post_quant_conv, decoder
        keys = list(model.state_dict().keys())
        levels = len(ddconfig["ch_mult"])
        diffusers = [diffusers_name(k, levels, attention_names) for k in keys]
        assert len(set(diffusers)) == len(diffusers)
        # diffusers' attention projections are linears: their weights are [C, C], not [C, C, 1, 1].
        linear = torch.tensor([1 if re.search(r"attentions\.\d+\.(to_[qkv]|to_out\.0|query|key|value|proj_attn)\.weight$", d)
                               else 0 for d in diffusers], dtype=torch.int8)
        tensors = {"moments": moments, "weight_sums": sums, "diffusers_linear": linear}
        if size <= 64:
            tensors["decoded"] = decoded
        else:
            c = size // 2
            tensors["decoded_pool8"] = F.avg_pool2d(decoded, 8)
            tensors["decoded_crop"] = decoded[:, :, c - 16:c + 16, c - 16:c + 16]
        meta = {"weight_seed": str(WEIGHT_SEED), "weight_std": str(WEIGHT_STD), "input_seed": str(INPUT_SEED),
                "latent_seed": str(LATENT_SEED), "scale": str(SCALE), "size": str(size), "batch": str(n),
                "ch": str(ddconfig["ch"]), "ch_mult": ",".join(map(str, ddconfig["ch_mult"])),
                "num_res_blocks": str(ddconfig["num_res_blocks"]), "attn_resolutions": ",".join(map(str, ddconfig["attn_resolutions"])),
                "norm_groups": str(groups),
                "torch": torch.__version__, "keys": ",".join(keys), "diffusers_keys": ",".join(diffusers)}
        path = f"{args.out}/{name}.safetensors"
        save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata=meta)
        print(f"wrote {path}: moments {tuple(moments.shape)}, decoded {tuple(decoded.shape)}")


if __name__ == "__main__":
    main()
