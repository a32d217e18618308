#!/usr/bin/env python3
"""Writes the FID Inception and evaluation-statistics fixtures for dit4j's tests.

    pip install torchvision==0.28.0 --no-deps      # its Inception blocks; its compiled ops never load
    python make_inception_fixtures.py --pytorch-fid-src /path/to/pytorch-fid/src \
        --out models/src/test/resources/fixtures

pytorch-fid is imported from its source tree (src/pytorch_fid); nothing of it is copied.

- inception_fid_{299,32,64,256}.safetensors: pytorch-fid's InceptionV3 (the FID variant:
  FIDInceptionA/C/E_1/E_2 and the 1008-class fc, resize to 299 then 2x - 1) on seeded random
  weights, fed uint8 images x [2, H, W, 3] (as ADM's .npz hold them) divided by 255. Stored:
  x, pool3 [2, 2048], spatial [2, 7*17*17] (Mixed_6d's branch1x1, ADM's `mixed_6/conv`: the
  first 7 channels, laid out NHWC as ADM reshapes the TF tensor) and logits [2, 1008]
  (fc(pool3), bias included). Weights are not stored: every float tensor of the state dict is
  drawn in state-dict order from torch.randn with a CPU generator seeded WEIGHT_SEED and then
  mapped by its kind (see draw()); only sums are stored, with the key list.
- fid_statistics.safetensors: feature sets and what pytorch-fid's calculate_frechet_distance
  gives on their (mean, covariance) in float64 (a well-posed pair, a near-singular pair with
  fewer samples than dimensions, and a pair with a constant feature), and ADM's evaluator's
  formulas (restated below with numpy, since the evaluator imports TensorFlow at load time):
  the Inception Score over splits of a given size, and k-NN precision and recall (k = 3).
"""
import argparse
import math
import sys
import types

WEIGHT_SEED = 2024
INPUT_SEED = 7
SIZES = [299, 32, 64, 256]
BATCH = 2


def draw(key, shape, g, torch):
    """Seeded weights of a sane scale: He-scaled convs, BatchNorm near identity, fc 1/sqrt(2048)."""
    r = torch.randn(tuple(shape), generator=g, dtype=torch.float32)
    if key.endswith("conv.weight"):
        fan_in = shape[1] * shape[2] * shape[3]
        return r * math.sqrt(2.0 / fan_in)
    if key.endswith("bn.weight") or key.endswith("bn.running_var"):
        return 1 + 0.1 * r
    if key.endswith("bn.bias") or key.endswith("bn.running_mean") or key == "fc.bias":
        return 0.1 * r
    if key == "fc.weight":
        return r / math.sqrt(2048)
    raise ValueError("unexpected key " + key)


def inception(args, torch):
    sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    sys.path.insert(0, args.pytorch_fid_src)
    from pytorch_fid import inception as fid
    fid.load_state_dict_from_url = lambda *a, **k: None
    real_load = torch.nn.Module.load_state_dict
    torch.nn.Module.load_state_dict = lambda self, *a, **k: None  # the released weights are not fetched
    net = fid.fid_inception_v3()
    torch.nn.Module.load_state_dict = real_load
    g = torch.Generator().manual_seed(WEIGHT_SEED)
    keys, sums = [], []
    with torch.no_grad():
        for key, tensor in net.state_dict().items():
            if key.endswith("num_batches_tracked"):
                continue
            value = draw(key, tensor.shape, g, torch)
            tensor.copy_(value)
            keys.append(key)
            sums.append(float(value.double().sum()))
    fid.fid_inception_v3 = lambda: net
    wrapper = fid.InceptionV3([3]).eval()
    net.eval()
    return net, wrapper, keys, sums


def write_inception(args, torch, save_file):
    net, wrapper, keys, sums = inception(args, torch)
    taps = {}
    net.Mixed_6d.branch1x1.register_forward_hook(lambda m, i, o: taps.__setitem__("mixed_6/conv", o))
    for size in SIZES:
        g = torch.Generator().manual_seed(INPUT_SEED + size)
        x = torch.randint(0, 256, (BATCH, size, size, 3), generator=g, dtype=torch.uint8)
        with torch.no_grad():
            pool3 = wrapper(x.permute(0, 3, 1, 2).float() / 255)[0].flatten(1)
            spatial = taps["mixed_6/conv"][:, :7].permute(0, 2, 3, 1).reshape(BATCH, -1)
            logits = net.fc(pool3)
        meta = {"weight_seed": str(WEIGHT_SEED), "keys": ",".join(keys), "torch": torch.__version__, "size": str(size)}
        path = f"{args.out}/inception_fid_{size}.safetensors"
        tensors = {"x": x, "pool3": pool3, "spatial": spatial, "logits": logits,
                   "weight_sums": torch.tensor(sums, dtype=torch.float64)}
        save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata=meta)
        print(f"wrote {path}: pool3 {tuple(pool3.shape)} spatial {tuple(spatial.shape)} logits {tuple(logits.shape)}")


def adm_inception_score(logits, split_size, np):
    """ADM's compute_inception_score on softmax(logits), in float32 as its TF softmax gives them."""
    z = logits - logits.max(axis=1, keepdims=True)
    preds = (np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)).astype(np.float32)
    scores = []
    for i in range(0, len(preds), split_size):
        part = preds[i:i + split_size]
        kl = part * (np.log(part) - np.log(np.expand_dims(np.mean(part, 0), 0)))
        scores.append(np.exp(np.mean(np.sum(kl, 1))))
    return float(np.mean(scores))


def adm_precision_recall(ref, sample, k, np):
    """ADM's ManifoldEstimator: squared distances, radius = k-th neighbour (self at 0), in-any-ball fractions."""
    def sq_dist(u, v):
        nu = (u * u).sum(1).reshape(-1, 1)
        nv = (v * v).sum(1).reshape(1, -1)
        return np.maximum(nu - 2 * u @ v.T + nv, 0.0).astype(np.float32)

    def radii(f):
        return np.partition(sq_dist(f, f), k, axis=1)[:, k]

    r_ref, r_sample = radii(ref), radii(sample)
    d = sq_dist(ref, sample)  # [ref, sample]
    precision = np.mean(np.any(d <= r_ref[:, None], axis=0))
    recall = np.mean(np.any(d <= r_sample[None, :], axis=1))
    return float(precision), float(recall), r_ref, r_sample


def write_statistics(args, torch, save_file):
    import numpy as np
    from pytorch_fid.fid_score import calculate_frechet_distance
    rng = np.random.default_rng(3)
    tensors, meta = {}, {}
    cases = {"regular": (200, 180, 64), "near_singular": (20, 25, 64), "constant_feature": (120, 100, 32)}
    for name, (n1, n2, d) in cases.items():
        a = rng.standard_normal((n1, d)).astype(np.float32)
        b = (rng.standard_normal((n2, d)) * 1.2 + 0.3).astype(np.float32)
        if name == "constant_feature":
            a[:, 5] = 0.5
            b[:, 5] = 0.5
        mu1, s1 = a.mean(0, dtype=np.float64), np.cov(a, rowvar=False)
        mu2, s2 = b.mean(0, dtype=np.float64), np.cov(b, rowvar=False)
        fd = calculate_frechet_distance(mu1, s1, mu2, s2)
        for key, value in {"a": a, "b": b, "mu_a": mu1, "sigma_a": s1, "mu_b": mu2, "sigma_b": s2}.items():
            tensors[f"{name}_{key}"] = torch.from_numpy(np.ascontiguousarray(value))
        tensors[f"{name}_fid"] = torch.tensor([fd], dtype=torch.float64)
        print(f"{name}: FID {fd}")
    logits = (rng.standard_normal((50, 16)) * 3).astype(np.float32)
    tensors["is_logits"] = torch.from_numpy(logits)
    tensors["is_score"] = torch.tensor([adm_inception_score(logits, 10, np)], dtype=torch.float64)
    meta["is_split_size"] = "10"
    ref = rng.standard_normal((60, 16)).astype(np.float32)
    sample = (rng.standard_normal((50, 16)) * 0.8 + 0.4).astype(np.float32)
    p, r, r_ref, r_sample = adm_precision_recall(ref, sample, 3, np)
    tensors.update({"pr_ref": torch.from_numpy(ref), "pr_sample": torch.from_numpy(sample),
                    "pr_radii_ref": torch.from_numpy(r_ref), "pr_radii_sample": torch.from_numpy(r_sample),
                    "pr_precision_recall": torch.tensor([p, r], dtype=torch.float64)})
    print(f"IS {tensors['is_score'].item()}, precision {p}, recall {r}")
    path = f"{args.out}/fid_statistics.safetensors"
    save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata=meta)
    print(f"wrote {path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pytorch-fid-src", required=True, help="pytorch-fid's src/ folder (holding pytorch_fid/)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    import torch
    from safetensors.torch import save_file
    torch.set_num_threads(2)
    write_inception(args, torch, save_file)
    write_statistics(args, torch, save_file)


if __name__ == "__main__":
    main()
