"""What the benchmarks share and the package itself does not use: a throwaway ImageFolder tree of generated JPEGs
(where no dataset is at hand), a batch feed over a memory-mapped cache, and the speed switches a run trained with."""

from pathlib import Path

import numpy as np
import torch

from alexnet_repro.feed import stream


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


def batches(images, labels, batch_size, device="cpu", shuffle=True, generator=None, epochs=1):
    """Yield (uint8 NHWC batch, int64 labels) on `device` for `epochs` passes (None: forever), each read a batch ahead
    (feed.stream); the prefetch runs across epoch boundaries, so a new epoch never starts cold. Training shuffles (a
    new order each epoch) and drops each epoch's last partial batch; evaluation keeps order and every image."""
    n = len(labels)
    stop = n - n % batch_size if shuffle else n

    def chunks():  # lazily, so epochs=None (forever) works
        epoch = 0
        while epochs is None or epoch < epochs:
            order = torch.randperm(n, generator=generator).numpy() if shuffle else np.arange(n)
            yield from (order[i : i + batch_size] for i in range(0, stop, batch_size))
            epoch += 1

    return stream(images, labels, chunks(), device)


def fast_path(spec) -> dict:
    """The speed switches a run trained with (an engine.TrainSpec), for provenance: channels_last is how every net here runs."""
    return {"precision": spec.precision, "channels_last": True, "compile": spec.compile or "off"}
