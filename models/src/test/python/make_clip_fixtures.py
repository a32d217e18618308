#!/usr/bin/env python3
"""Writes CLIP tokenizer and text-encoder parity fixtures for dit4j's tests.

    python make_clip_fixtures.py --out models/src/test/resources/fixtures

Needs open_clip_torch, transformers, ftfy, regex, safetensors and torch (the version dit4j links,
so seeded weights are bit-identical). Nothing of open_clip's or transformers' code or vocabulary is
copied: only captions, token ids and small outputs are written.

- clip_captions.json + clip_tokens.safetensors: a few hundred varied captions (plain, contractions,
  numbers, HTML entities, accents, CJK, emoji, controls, odd whitespace, empty, over-long, and
  seeded random mixes of many scripts) and open_clip's SimpleTokenizer ids [N, 77]; also Hugging
  Face CLIPTokenizer's ids (end-token padding) for the plain captions, from vocab.json/merges.txt
  written from the same vocabulary.
- clip_text_{transformers,openclip}.safetensors: a width-64, 2-layer text encoder of each kind
  with seeded weights (drawn as fixture_weights.py draws them, so only sums are stored), input ids
  and the last hidden state (and pooled output).
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../../bench"))
from fixture_weights import seeded_weights  # noqa: E402
from reference_env import stand_in_torchvision  # noqa: E402

WEIGHT_SEED = 2024
WEIGHT_STD = 0.05
WIDTH, LAYERS, HEADS = 64, 2, 2

HAND_WRITTEN = [
    "a photograph of an astronaut riding a horse",
    "A Red Sneaker LEFT of a blue bag.",
    "two dogs playing in the snow, 4k, trending on artstation",
    "it's a cat's toy; they're sure we've been here, I'm sure you'll see, he'd go",
    "IT'S THEY'RE WE'VE I'M YOU'LL HE'D DON'T",
    "it’s curly ‘quotes’ and “double quotes” ʼhere",
    "numbers 1234 and 3.14159 and 1,000,000 and 007",
    "",
    "   ",
    "\t\n  leading and trailing whitespace \t ",
    "many     spaces\tand\ttabs\nand\r\nnewlines\rhere",
    "no\u00a0break\u2009thin\u3000ideographic\u2028line\u2029para\u0085nel",
    "zero\u200bwidth\u200cjoiner\u200dmarks\ufeffbom",
    "file\x1cgroup\x1drecord\x1eunit\x1fseparators",
    "Tom &amp; Jerry",
    "Tom &amp;amp; Jerry &amp;amp;amp; more",
    "&lt;b&gt;bold&lt;/b&gt; text",
    "<b>real tags</b> with &amp; entity",
    "first line &amp;\nsecond <i> line &amp; entity",
    "it&#39;s &#x27;quoted&#X27; &#8217;",
    "&copy 2024 &copy; &COPY; &notit; &not; &amp &ampx",
    "P&EACUTE;REZ and &ntilde; &NTILDE; &Ntilde;",
    "&nbsp;&nbsp;spaced&nbsp;",
    "&#128512; smile &#x1F600;",
    "&#0; &#13; &#128; &#150; &#x9d; &#xD800; &#99999999999; &#1114112; &#xFFFF;",
    "&hellip; &mdash; &ndash; &euro; &pound; &yen;",
    "&#65 &#x41 without semicolons &gt &lt",
    "café crème brûlée naïve façade Ångström",
    "cafe\u0301 decomposed accents e\u0300 o\u0308",
    "Straße GROSSE straße ẞ",
    "İstanbul ıi İI",
    "ΣΊΣΥΦΟΣ ΟΔΟΣ σοφος",
    "Привет мир, Москва",
    "مرحبا بالعالم ١٢٣",
    "שלום עולם",
    "नमस्ते दुनिया",
    "สวัสดีชาวโลก",
    "一只猫坐在垫子上",
    "東京タワーの夜景、きれいですね。",
    "서울의 밤 풍경",
    "ＬＯＵＤ　ＮＯＩＳＥＳ １２３ ＡＢＣ！",
    "ｳﾙﾄﾗﾏﾝ halfwidth katakana ﾞﾟ",
    "ﬁne ﬂour ﬀ ﬃ ﬄ ﬅ ﬆ Ĳssel Ǆ ǅ ǆ ŉ",
    "🐶🐱 dog and cat 🐭",
    "👩‍👩‍👧 family 👍🏽 thumbs 🇯🇵 flag 🏴󠁧󠁢󠁷󠁬󠁳󠁿 wales 1️⃣ keycap",
    "emoji-only 😀😃😄😁😆😅😂🤣",
    "\x1b[31mred text\x1b[0m and \x1b[1;32mgreen\x1b[0m",
    "controls\x00\x01\x07\x08\x0b\x0e\x7f removed",
    "c1 \x80 \x85 \x91quoted\x92 \x93double\x94 \x9d \x9f",
    "<start_of_text> literal <end_of_text> and <START_OF_TEXT> and <|endoftext|>",
    "long s 'ſ and 'S and 'Ll 'RE",
    "x² ½ Ⅻ ① ٣٤ ༣ 𝟘𝟙",
    "math ∑∫√∞ ≠ ≤ ≥ → ← ↑ ↓",
    "https://example.com/path?q=1&amp;b=2 #hashtag @mention user@mail.org",
    "C++ C# F# .NET node.js",
    "a" * 500,
    "supercalifragilisticexpialidocious " * 5,
    " ".join(["word"] * 120),
    "a photograph of " + ", ".join(f"object {i}" for i in range(60)),
    "𝒥ohn ℋancock 𝔉raktur",
    "\ud83d\ude00 surrogate-free emoji",
    "mixed\u0301\u0302\u0303 stacked combining marks",
    "tab\tseparated\tvalues\t1\t2",
    "dots... ellipsis… dashes — – -",
    "quotes \"straight\" 'single' `back`",
    "ÀÉÎÕÜ àéîõü ÇçÑñ",
    "Ǳ ǲ ǳ digraphs",
    "ⓐⓑⓒ circled 🄰🄱 squared",
    "\u2066isolate\u2069 \u202eoverride\u202c \u200fRTL mark",
    "\u206adeprecated\u206f \ufff9anchor\ufffb \ufffc object",
    "ypogegrammeni \u1fb3 \u03b1\u0345 a\u0345b \u0300\u0345\u0301!",
]

BLOCKS = [
    (0x0021, 0x007E), (0x00A1, 0x00FF), (0x0100, 0x017F), (0x0180, 0x024F), (0x0300, 0x036F), (0x0370, 0x03FF),
    (0x0400, 0x04FF), (0x0590, 0x05FF), (0x0600, 0x06FF), (0x0900, 0x097F), (0x0E00, 0x0E7F), (0x1E00, 0x1EFF),
    (0x2000, 0x206F), (0x2070, 0x209F), (0x20A0, 0x20CF), (0x2100, 0x214F), (0x2150, 0x218F), (0x2190, 0x21FF),
    (0x2200, 0x22FF), (0x2460, 0x24FF), (0x2500, 0x257F), (0x2600, 0x26FF), (0x2700, 0x27BF), (0x3000, 0x303F),
    (0x3040, 0x309F), (0x30A0, 0x30FF), (0x4E00, 0x4FFF), (0xAC00, 0xAD00), (0xFB00, 0xFB4F), (0xFF00, 0xFFEF),
    (0x1D400, 0x1D7FF), (0x1F300, 0x1F5FF), (0x1F600, 0x1F64F), (0x1F900, 0x1F9FF), (0xE0020, 0xE007F),
]
WORDS = ["dog", "Cat", "RED", "blue", "left", "right", "of", "a", "the", "it's", "we're", "&amp;", "&lt;", "&#233;",
         "&eacute;", "&quot;", "&nbsp;", "12", "3.5", "café", "東京", "서울", "🐶", "👍🏽", "ﬁsh", "Ｆｕｌｌ", "’s", "…"]


def random_captions(unicodedata, count, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        pieces = []
        for _ in range(rng.randint(1, 14)):
            if rng.random() < 0.5:
                pieces.append(rng.choice(WORDS))
            else:
                lo, hi = rng.choice(BLOCKS)
                chars = []
                for _ in range(rng.randint(1, 8)):
                    c = rng.randint(lo, hi)
                    if unicodedata.category(chr(c)) not in ("Cn", "Cs", "Co"):
                        chars.append(chr(c))
                pieces.append("".join(chars))
        sep = rng.choice([" ", " ", " ", "  ", "\t", "\u00a0", "", "\u3000"])
        out.append(sep.join(pieces))
    return out


def write_hf_files(tok, folder):
    """vocab.json and merges.txt in Hugging Face's layout, from open_clip's vocabulary."""
    vocab = {k: v for k, v in tok.encoder.items()}
    vocab["<|startoftext|>"] = vocab.pop("<start_of_text>")
    vocab["<|endoftext|>"] = vocab.pop("<end_of_text>")
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    merges = sorted(tok.bpe_ranks.items(), key=lambda kv: kv[1])
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for (a, b), _ in merges:
            f.write(f"{a} {b}\n")


def text_encoders(torch, open_clip, CLIPTextConfig, CLIPTextModel, ids):
    g = torch.Generator().manual_seed(11)
    results = {}
    # transformers' CLIPTextModel: quick-GELU, pooled output at the first end token (eos_token_id set).
    cfg = CLIPTextConfig(vocab_size=49408, hidden_size=WIDTH, intermediate_size=4 * WIDTH, num_hidden_layers=LAYERS,
                                      num_attention_heads=HEADS, max_position_embeddings=77, hidden_act="quick_gelu",
                                      eos_token_id=49407, bos_token_id=49406, pad_token_id=1)
    hf = CLIPTextModel(cfg).eval()
    sums = seeded_weights(hf, torch, WEIGHT_SEED, WEIGHT_STD)
    with torch.no_grad():
        o = hf(input_ids=ids)
    results["transformers"] = (hf, sums, {"out": o.last_hidden_state, "pooled": o.pooler_output},
                               {"hidden_act": "quick_gelu", "heads": str(HEADS)})
    # OpenCLIP's text tower (CLIP.encode_text without normalisation): exact GELU, ln_final, argmax pooling, projection.
    model = open_clip.model.CLIP(embed_dim=32, vision_cfg=open_clip.model.CLIPVisionCfg(layers=1, width=64, head_width=32, patch_size=8, image_size=16),
                                 text_cfg=open_clip.model.CLIPTextCfg(context_length=77, vocab_size=49408, width=WIDTH, heads=HEADS,
                                                                      layers=LAYERS)).eval()
    text_keys = [k for k in model.state_dict() if not k.startswith("visual.") and k != "logit_scale"]

    class TextOnly(torch.nn.Module):
        def state_dict(self):
            full = model.state_dict(keep_vars=True)
            return {k: full[k].data for k in text_keys}

    sums = seeded_weights(TextOnly(), torch, WEIGHT_SEED, WEIGHT_STD)
    with torch.no_grad():
        x = model.token_embedding(ids) + model.positional_embedding
        x = model.transformer(x, attn_mask=model.attn_mask)
        x = model.ln_final(x)
        pooled = model.encode_text(ids)
    results["openclip"] = (TextOnly(), sums, {"out": x, "pooled": pooled}, {"hidden_act": "gelu", "heads": str(HEADS)})
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    import transformers
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer  # before the torchvision stand-in, which confuses its checks
    stand_in_torchvision()
    import tempfile
    import unicodedata

    import ftfy
    import open_clip
    import torch
    from open_clip.tokenizer import SimpleTokenizer
    from safetensors.torch import save_file

    torch.set_num_threads(2)
    tok = SimpleTokenizer()
    captions = HAND_WRITTEN + random_captions(unicodedata, 330, seed=5)
    # dit4j leaves ftfy's mojibake repair out: keep the captions where it changes nothing (reported).
    kept = [c for c in captions if ftfy.fix_text(c) == ftfy.fix_text(c, fix_encoding=False)]
    print(f"{len(captions) - len(kept)} of {len(captions)} captions dropped: ftfy's fix_encoding changes them")
    ids = tok(kept)
    plain = [c for c in HAND_WRITTEN[:5]]
    with tempfile.TemporaryDirectory() as d:
        write_hf_files(tok, d)
        hf_tok = CLIPTokenizer(os.path.join(d, "vocab.json"), os.path.join(d, "merges.txt"))
        hf_ids = hf_tok(plain, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
    with open(os.path.join(args.out, "clip_captions.json"), "w", encoding="utf-8") as f:
        json.dump({"captions": kept, "hf_captions": plain}, f, ensure_ascii=True, indent=0)
    save_file({"input_ids": ids.contiguous(), "hf_input_ids": hf_ids.contiguous()}, os.path.join(args.out, "clip_tokens.safetensors"),
              metadata={"open_clip": open_clip.__version__, "ftfy": ftfy.__version__, "transformers": transformers.__version__})
    print(f"wrote {len(kept)} captions")

    rows = [0, 2, kept.index(""), kept.index(" ".join(["word"] * 120))]  # a caption, a longer one, the empty one, an over-long one
    enc_ids = ids[rows]
    for kind, (module, sums, outs, meta) in text_encoders(torch, open_clip, CLIPTextConfig, CLIPTextModel, enc_ids).items():
        tensors = {"input_ids": enc_ids.contiguous(), "weight_sums": torch.tensor(list(sums.values()), dtype=torch.float64)}
        tensors.update({k: v.contiguous() for k, v in outs.items()})
        meta.update({"weight_seed": str(WEIGHT_SEED), "weight_std": str(WEIGHT_STD), "torch": torch.__version__,
                     "keys": ",".join(sums.keys()), "shapes": json.dumps({k: list(v.shape) for k, v in module.state_dict().items()})})
        path = os.path.join(args.out, f"clip_text_{kind}.safetensors")
        save_file(tensors, path, metadata=meta)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
