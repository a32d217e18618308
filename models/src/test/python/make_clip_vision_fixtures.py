#!/usr/bin/env python3
"""Writes CLIP image-tower and CLIP-score parity fixtures for dit4j's tests.

    python make_clip_vision_fixtures.py --out models/src/test/resources/fixtures

Needs transformers, open_clip_torch, ftfy, regex, safetensors and torch (the version dit4j links,
so seeded weights are bit-identical). Nothing of transformers' or open_clip's code or weights is
copied: weights are drawn as fixture_weights.py draws them (only their sums are stored), and the
files hold inputs and small outputs.

- clip_vision_transformers.safetensors: a reduced transformers CLIPModel (both towers width 64,
  2 layers, 2 heads, quick-GELU; 32 px images in 8 px patches; projections to 32) on seeded
  weights: pixel values, the vision tower's last hidden state and pooler output, the image
  embeddings (get_image_features), the text embeddings (get_text_features) of four prompts' ids
  (one empty, one over-long),
  and CLIPImageProcessorPil's pixel values of two uint8 images (40x48 and 64x64) at 32 px.
- clip_vision_openclip.safetensors: the same for open_clip's CLIP (exact GELU): the visual
  tower's transformer output (before ln_post), encode_image and encode_text (not normalised).
Both also hold the cosines of each image with its prompt and 100 x mean(max(cos, 0)).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../../bench"))
from fixture_weights import seeded_weights  # noqa: E402
from reference_env import stand_in_torchvision  # noqa: E402

WEIGHT_SEED = 4
WEIGHT_STD = 0.05
WIDTH, LAYERS, HEADS, PATCH, IMAGE, EMBED = 64, 2, 2, 8, 32, 32
PROMPTS = ["a photograph of an astronaut riding a horse", "a red sneaker", "", "two dogs playing in the snow, " * 12]


def score(torch, image_embeds, text_embeds):
    cos = torch.nn.functional.cosine_similarity(image_embeds.double(), text_embeds.double(), dim=-1)
    return cos, float(100 * cos.clamp(min=0).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    stand_in_torchvision()  # transformers 5 imports torchvision for its fast image processors; a CPU-only torch cannot load the wheel's
    import numpy as np
    import open_clip
    import torch
    import transformers
    from open_clip.tokenizer import SimpleTokenizer
    from safetensors.torch import save_file
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel

    torch.set_num_threads(2)
    ids = SimpleTokenizer()(PROMPTS)
    g = torch.Generator().manual_seed(7)
    pixels = torch.randn(len(PROMPTS), 3, IMAGE, IMAGE, generator=g)
    raw = [torch.randint(0, 256, (40, 48, 3), generator=g, dtype=torch.uint8), torch.randint(0, 256, (64, 64, 3), generator=g, dtype=torch.uint8)]
    processor = CLIPImageProcessorPil(size={"shortest_edge": IMAGE}, crop_size={"height": IMAGE, "width": IMAGE})
    processed = [processor(images=[np.asarray(r)], return_tensors="pt")["pixel_values"][0] for r in raw]
    common = {"input_ids": ids.contiguous(), "pixel_values": pixels.contiguous(), "raw_wide": raw[0].contiguous(), "raw_square": raw[1].contiguous(),
              "processed_wide": processed[0].contiguous(), "processed_square": processed[1].contiguous()}

    outputs = {}
    # transformers' CLIPModel: vision_model.*, visual_projection, text_model.*, text_projection
    cfg = CLIPConfig(text_config=dict(vocab_size=49408, hidden_size=WIDTH, intermediate_size=4 * WIDTH, num_hidden_layers=LAYERS,
                                      num_attention_heads=HEADS, max_position_embeddings=77, hidden_act="quick_gelu",
                                      eos_token_id=49407, bos_token_id=49406, pad_token_id=1),
                     vision_config=dict(hidden_size=WIDTH, intermediate_size=4 * WIDTH, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                                        image_size=IMAGE, patch_size=PATCH, hidden_act="quick_gelu"),
                     projection_dim=EMBED)
    hf = CLIPModel(cfg).eval()
    sums = seeded_weights(hf, torch, WEIGHT_SEED, WEIGHT_STD)
    with torch.no_grad():
        v = hf.vision_model(pixel_values=pixels)
        image_embeds = hf.visual_projection(v.pooler_output)
        text_embeds = hf.get_text_features(input_ids=ids)
        text_embeds = text_embeds.pooler_output if hasattr(text_embeds, "pooler_output") else text_embeds
    cos, s = score(torch, image_embeds, text_embeds)
    outputs["transformers"] = (hf, sums, {"last_hidden_state": v.last_hidden_state, "pooled": v.pooler_output, "image_embeds": image_embeds,
                                          "text_embeds": text_embeds, "cos": cos, "clip_score": torch.tensor([s], dtype=torch.float64)},
                               {"hidden_act": "quick_gelu", "heads": str(HEADS)})

    # open_clip's CLIP: visual.*, token_embedding, transformer.*, ln_final, text_projection
    oc = open_clip.model.CLIP(embed_dim=EMBED,
                              vision_cfg=open_clip.model.CLIPVisionCfg(layers=LAYERS, width=WIDTH, head_width=WIDTH // HEADS, patch_size=PATCH, image_size=IMAGE),
                              text_cfg=open_clip.model.CLIPTextCfg(context_length=77, vocab_size=49408, width=WIDTH, heads=HEADS, layers=LAYERS)).eval()
    sums = seeded_weights(oc, torch, WEIGHT_SEED, WEIGHT_STD)
    with torch.no_grad():
        tokens = oc.visual.transformer(oc.visual._embeds(pixels))
        image_embeds = oc.encode_image(pixels)
        text_embeds = oc.encode_text(ids)
    cos, s = score(torch, image_embeds, text_embeds)
    outputs["openclip"] = (oc, sums, {"tokens": tokens, "image_embeds": image_embeds, "text_embeds": text_embeds, "cos": cos,
                                      "clip_score": torch.tensor([s], dtype=torch.float64)}, {"hidden_act": "gelu", "heads": str(HEADS)})

    for kind, (module, sums, outs, meta) in outputs.items():
        tensors = dict(common)
        tensors["weight_sums"] = torch.tensor(list(sums.values()), dtype=torch.float64)
        tensors.update({k: v.contiguous() for k, v in outs.items()})
        meta.update({"weight_seed": str(WEIGHT_SEED), "weight_std": str(WEIGHT_STD), "torch": torch.__version__,
                     "transformers": transformers.__version__, "open_clip": open_clip.__version__, "prompts": json.dumps(PROMPTS),
                     "keys": ",".join(sums.keys()), "shapes": json.dumps({k: list(v.shape) for k, v in module.state_dict().items()})})
        path = os.path.join(args.out, f"clip_vision_{kind}.safetensors")
        save_file(tensors, path, metadata=meta)
        print(f"wrote {path}: clip score {float(outs['clip_score'][0]):.6f}, cos {outs['cos'].tolist()}")


if __name__ == "__main__":
    main()
