"""A throwaway ImageFolder tree of generated JPEGs, for benchmarks and smoke runs where no dataset is at hand."""

from pathlib import Path

import numpy as np


def synthetic_tree(root: Path, n, size, classes=10, seed=0) -> Path:
    """n smooth random RGB JPEGs (upsampled 8x8 noise plus grain), one in 8 in val/, in root/{train,val}/<class>/:
    images that decode about as photographs do, unlike white noise. Returns root."""
    from PIL import Image

    root = Path(root)
    rng = np.random.default_rng(seed)
    classes = max(1, min(classes, n // 8))  # every class needs its validation images: one in 8
    for i in range(n):
        split = "val" if i % 8 == 7 else "train"
        folder = root / split / f"c{i // 8 % classes}"
        folder.mkdir(parents=True, exist_ok=True)
        low = Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).resize((size, size), Image.BICUBIC)
        img = np.clip(np.asarray(low, np.int16) + rng.integers(-12, 13, (size, size, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"{i}.jpg", quality=90)
    return root
