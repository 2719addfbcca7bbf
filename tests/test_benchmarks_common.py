"""benchmarks/common.py: what the benchmarks share (the package itself does not use it)."""

import importlib.util
from pathlib import Path

import numpy as np
import torch

spec = importlib.util.spec_from_file_location("common", Path(__file__).parent.parent / "benchmarks" / "common.py")
common = importlib.util.module_from_spec(spec)
spec.loader.exec_module(common)
batches, fast_path = common.batches, common.fast_path


def test_batches_visit_every_image_once_with_matching_labels(tmp_path):
    n = 23
    images = np.memmap(tmp_path / "x.u8", dtype=np.uint8, mode="w+", shape=(n, 2, 2, 3))
    images[:] = np.arange(n, dtype=np.uint8).reshape(-1, 1, 1, 1)
    labels = np.arange(n, dtype=np.int64) * 10
    seen = []
    for x, y in batches(images, labels, 5, generator=torch.Generator().manual_seed(0)):
        assert x.shape == (5, 2, 2, 3) and torch.equal(x[:, 0, 0, 0].long() * 10, y)
        seen += x[:, 0, 0, 0].tolist()
    assert len(seen) == 20 and len(set(seen)) == 20  # training drops the last partial batch
    ordered = [y for _, ys in batches(images, labels, 5, shuffle=False) for y in ys.tolist()]
    assert ordered == labels.tolist()


def test_batches_run_epochs_back_to_back_each_a_fresh_permutation(tmp_path):
    n = 12
    images = np.memmap(tmp_path / "x.u8", dtype=np.uint8, mode="w+", shape=(n, 1, 1, 3))
    images[:] = np.arange(n, dtype=np.uint8).reshape(-1, 1, 1, 1)
    seen = [
        x[:, 0, 0, 0].tolist()
        for x, _ in batches(images, np.arange(n), 5, epochs=3, generator=torch.Generator().manual_seed(0))
    ]
    assert len(seen) == 6  # 2 whole batches per epoch: each epoch drops its own partial batch
    epochs = [sum(seen[i : i + 2], []) for i in range(0, 6, 2)]
    assert all(len(set(e)) == 10 for e in epochs)
    assert len({tuple(sorted(e)) for e in epochs}) > 1  # a new order each epoch, so a different dropped pair


def test_fast_path_records_the_speed_switches():
    from alexnet_repro.engine import TrainSpec

    assert fast_path(TrainSpec(lr=0.01)) == {"precision": "fp32", "channels_last": True, "compile": "off"}
    assert fast_path(TrainSpec(lr=0.01, precision="bf16", compile="inductor"))["compile"] == "inductor"


def test_synthetic_tree_has_every_class_in_both_splits(tmp_path):
    root = common.synthetic_tree(tmp_path / "tree", 40, 16, classes=3)
    for split in ("train", "val"):
        assert sorted(p.name for p in (root / split).iterdir()) == ["c0", "c1", "c2"]
    assert len(list(root.glob("*/*/*.jpg"))) == 40 and len(list(root.glob("val/*/*.jpg"))) == 5
