#!/usr/bin/env python3
"""SD-VAE throughput of the authors' LDM autoencoder code (U-ViT's libs/autoencoder.py), for
comparison with bench's VaeThroughput: the real KL-f8 configuration (ch 128, mult 1,2,4,4, 2 res
blocks, z 4) with random weights, encode_moments and decode of one batch in float32 under
no_grad, best of --repeats after a warm-up. Prints one JSON line. With --memory SIZE it instead
decodes one SIZE x SIZE image once and reports the peak resident memory above the start. Minor
page faults per image are reported beside the times. --device cuda:0 runs there (timed between
synchronizations; --memory then adds the peak CUDA allocation), --dtype bfloat16 casts weights and inputs.

    python vae_reference.py --uvit-repo /path/to/U-ViT [--size 256 --batch 1 | --memory 1024] [--device cuda:0 --dtype bfloat16]
"""
import argparse
import json
import os
import resource
import sys
import tempfile
import time
import types


def resident_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


# SD's KL-f8 autoencoder (the configuration of sd-vae-ft-ema).
SD_DDCONFIG = dict(double_z=True, z_channels=4, resolution=256, in_channels=3, out_ch=3, ch=128, ch_mult=[1, 2, 4, 4],
                   num_res_blocks=2, attn_resolutions=[], dropout=0.0)


def ldm_autoencoder(uvit_repo):
    """U-ViT's libs/autoencoder.py (the LDM code), imported from its checkout."""
    sys.path.insert(0, uvit_repo)
    try:
        import einops  # noqa: F401
    except ImportError:  # only the linear attention the KL-f8 configuration does not build uses it
        sys.modules["einops"] = types.SimpleNamespace(rearrange=None)
    import libs.autoencoder
    return libs.autoencoder


def write_sd_autoencoder(uvit_repo, path):
    """Random weights of SD's autoencoder in the LDM layout (U-ViT's autoencoder_kl.pth), from the
    authors' Encoder and Decoder."""
    import torch
    import torch.nn as nn
    ldm = ldm_autoencoder(uvit_repo)
    shell = nn.Module()
    shell.encoder, shell.decoder = ldm.Encoder(**SD_DDCONFIG), ldm.Decoder(**SD_DDCONFIG)
    shell.quant_conv, shell.post_quant_conv = nn.Conv2d(8, 8, 1), nn.Conv2d(4, 4, 1)
    torch.save(shell.state_dict(), path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uvit-repo", required=True)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--memory", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    args = ap.parse_args()
    import torch
    FrozenAutoencoderKL = ldm_autoencoder(args.uvit_repo).FrozenAutoencoderKL
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        write_sd_autoencoder(args.uvit_repo, f"{tmp}/w.pth")
        model = FrozenAutoencoderKL(SD_DDCONFIG, 4, f"{tmp}/w.pth")
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    cuda = device.type == "cuda"
    model.to(device, dtype)

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    with torch.no_grad():
        if args.memory:
            z = torch.randn(1, 4, args.memory // 8, args.memory // 8).to(device, dtype)
            before = resident_kb("VmRSS")
            start = time.perf_counter()
            model.decode(z)
            sync()
            print(json.dumps({"impl": "pytorch", "decode": args.memory, "tile": 0, "threads": torch.get_num_threads(),
                              "device": args.device, "dtype": args.dtype, "seconds": round(time.perf_counter() - start, 2),
                              "peak_mib_above_start": round((resident_kb("VmHWM") - before) / 1024),
                              "peak_rss_mib": round(resident_kb("VmHWM") / 1024),
                              "peak_alloc_bytes": torch.cuda.max_memory_allocated(device) if cuda else None}))
            return
        x = (torch.rand(args.batch, 3, args.size, args.size) * 2 - 1).to(device, dtype)
        z = torch.randn(args.batch, 4, args.size // 8, args.size // 8).to(device, dtype)
        encode = decode = encode_cpu = decode_cpu = encode_faults = decode_faults = float("inf")
        for r in range(args.repeats + 1):
            sync()
            t0, c0, f0 = time.perf_counter(), time.process_time(), minor_faults()
            model.encode_moments(x)
            sync()
            t1, c1, f1 = time.perf_counter(), time.process_time(), minor_faults()
            model.decode(z)
            sync()
            t2, c2, f2 = time.perf_counter(), time.process_time(), minor_faults()
            if r > 0:
                encode, decode = min(encode, t1 - t0), min(decode, t2 - t1)
                encode_cpu, decode_cpu = min(encode_cpu, c1 - c0), min(decode_cpu, c2 - c1)
                encode_faults, decode_faults = min(encode_faults, f1 - f0), min(decode_faults, f2 - f1)
    print(json.dumps({"impl": "pytorch", "size": args.size, "batch": args.batch, "threads": torch.get_num_threads(),
                      "device": args.device, "dtype": args.dtype,
                      "encode_img_per_s": round(args.batch / encode, 4), "decode_img_per_s": round(args.batch / decode, 4),
                      "encode_cpu_s_per_img": round(encode_cpu / args.batch, 3), "decode_cpu_s_per_img": round(decode_cpu / args.batch, 3),
                      "encode_minflt_per_img": encode_faults // args.batch, "decode_minflt_per_img": decode_faults // args.batch}))


if __name__ == "__main__":
    main()
