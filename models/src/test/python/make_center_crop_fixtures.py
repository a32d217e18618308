"""Writes the center-crop fixtures for ImageFolderTest: input PNGs and what ADM's
center_crop_arr (used by DiT's train.py) makes of them with Pillow.

Run from models/src/test/resources/data with a Python that has Pillow and numpy:
    python3 ../../python/make_center_crop_fixtures.py
"""
import numpy as np
from PIL import Image


def center_crop(image, target):
    """The ADM/DiT preprocessing (written here from its description, not copied): halve with
    BOX filtering while the short side is at least twice the target, resize with BICUBIC so the
    short side equals the target (sizes rounded half-to-even, as Python's round), then cut the
    centred target x target window (offsets rounded down)."""
    while min(image.size) >= 2 * target:
        image = image.resize((image.width // 2, image.height // 2), resample=Image.BOX)
    ratio = target / min(image.size)
    image = image.resize((round(image.width * ratio), round(image.height * ratio)), resample=Image.BICUBIC)
    pixels = np.asarray(image)
    top = (pixels.shape[0] - target) // 2
    left = (pixels.shape[1] - target) // 2
    return pixels[top:top + target, left:left + target]


def picture(rng, w, h, channels):
    """Gradients, hard edges (bicubic overshoot gets clipped) and noise."""
    y, x = np.mgrid[0:h, 0:w]
    planes = []
    for c in range(channels):
        g = (x * (3 + c) + y * (5 - c)) % 256
        edge = np.where((x // 7 + y // 5 + c) % 2 == 0, 255, 0)
        noise = rng.integers(0, 256, size=(h, w))
        planes.append((0.4 * g + 0.4 * edge + 0.2 * noise).astype(np.uint8))
    return np.stack(planes, axis=-1) if channels > 1 else planes[0]


CASES = [  # name, width, height, mode, target size
    ("rgb_131x97", 131, 97, "RGB", 32),
    ("rgb_64x64", 64, 64, "RGB", 32),
    ("rgb_75x203", 75, 203, "RGB", 16),
    ("rgb_20x30_upscale", 20, 30, "RGB", 32),
    ("rgb_190x140", 190, 140, "RGB", 64),
    ("rgb_20x8_round_half_even", 20, 8, "RGB", 5),
    ("grey_90x70", 90, 70, "L", 24),
    ("rgba_50x41", 50, 41, "RGBA", 16),
    ("palette_45x60", 45, 60, "P", 16),
]

rng = np.random.default_rng(0)
with open("center_crop/cases.txt", "w") as manifest:
    for name, w, h, mode, size in CASES:
        if mode == "P":
            img = Image.fromarray(picture(rng, w, h, 3), "RGB").quantize(colors=37)
        else:
            img = Image.fromarray(picture(rng, w, h, len(mode)), mode)
        img.save(f"center_crop/{name}.png")
        reread = Image.open(f"center_crop/{name}.png")
        reread.load()
        out = center_crop(reread.convert("RGB"), size)
        assert out.shape == (size, size, 3), out.shape
        Image.fromarray(out, "RGB").save(f"center_crop/{name}.expected.png")
        manifest.write(f"{name} {size}\n")
