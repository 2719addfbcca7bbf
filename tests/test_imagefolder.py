"""The ImageFolder cache: D1 resize and centre crop, mean image, PCA, bad files, interrupted
builds, class mismatch, archives, and a few real Imagenette images end to end."""

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from alexnet_repro.data import imagefolder
from alexnet_repro.data.augment import random_crop_flip
from alexnet_repro.data.errors import DataError
from alexnet_repro.data.imagefolder import load_imagefolder, resize_center_crop
from alexnet_repro.feed import stream

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
IMAGENETTE = SHARED / "imagenette-224.tar.gz"


def save(path: Path, img):
    path.parent.mkdir(parents=True, exist_ok=True)
    (img if isinstance(img, Image.Image) else Image.fromarray(img)).save(path)


def make_tree(root: Path, classes=("a", "b", "c"), n_train=4, n_val=2, size=16, seed=0):
    """Random RGB PNGs, already size x size, so the cache must hold them bit for bit.
    -> {split: {class: [arrays in file-name order]}}"""
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in (("train", n_train), ("val", n_val)):
        out[split] = {}
        for cls in classes:
            imgs = [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(n)]
            for i, img in enumerate(imgs):
                save(root / split / cls / f"{i:03d}.png", img)
            out[split][cls] = imgs
    return out


def interleaved(per_class):
    """The cache's order: rank within class, then class."""
    classes = sorted(per_class)
    n = max(len(v) for v in per_class.values())
    return [(per_class[c][r], label) for r in range(n) for label, c in enumerate(classes) if r < len(per_class[c])]


# ------------------------------------------------------------------------------------ D1 geometry


def bands(w, h, axis):
    """Three constant bands (red | green | blue) of widths w/6, 2w/3, w/6 along `axis`."""
    img = np.zeros((h, w, 3), np.uint8)
    n = w if axis == 1 else h
    edges = [0, n // 6, n - n // 6, n]
    for c in range(3):
        sl = [slice(None)] * 2
        sl[axis] = slice(edges[c], edges[c + 1])
        img[tuple(sl) + (c,)] = 255
    return Image.fromarray(img)


@pytest.mark.parametrize("w,h,axis", [(300, 200, 1), (200, 300, 0)])
def test_shorter_side_to_256_then_central_crop(w, h, axis):
    # 300x200 -> 384x256; the side bands (50 px -> 64 px) fall exactly outside the central 256.
    out = np.asarray(resize_center_crop(bands(w, h, axis), 256))
    assert out.shape == (256, 256, 3)
    inner = out[:, 2:-2] if axis == 1 else out[2:-2]
    assert (inner == [0, 255, 0]).all()
    edge = out[:, 0] if axis == 1 else out[0]
    assert (edge[:, 1] > 100).all()  # the edge is still mostly the central band


def test_square_image_at_size_is_unchanged():
    img = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert np.array_equal(np.asarray(resize_center_crop(Image.fromarray(img), 32)), img)


# ------------------------------------------------------------------------------ cache, mean, order


def test_cache_holds_images_labels_and_mean_exactly(tmp_path):
    truth = make_tree(tmp_path / "src")
    data = load_imagefolder(tmp_path / "src", size=16, cache=tmp_path / "cache", workers=0)
    assert data.classes == ["a", "b", "c"]
    for split, images, labels in (("train", data.train_x, data.train_y), ("val", data.test_x, data.test_y)):
        expect = interleaved(truth[split])
        assert isinstance(images, np.memmap) and images.dtype == np.uint8 and images.shape == (len(expect), 16, 16, 3)
        assert np.array_equal(images, np.stack([e[0] for e in expect]))
        assert labels.tolist() == [e[1] for e in expect]
    train = np.stack([img for imgs in truth["train"].values() for img in imgs]).astype(np.float64)
    assert data.mean_image.dtype == np.float32 and data.mean_image.shape == (16, 16, 3)
    assert np.allclose(data.mean_image, train.mean(0), atol=1e-4)
    out = tmp_path / "cache" / "src-16"
    meta = json.loads((out / "meta.json").read_text())
    assert meta["counts"] == {"train": 12, "val": 6} and meta["skipped"] == []
    assert meta["files_sha256"]["train.u8"] == hashlib.sha256((out / "train.u8").read_bytes()).hexdigest()
    assert data.checksum == meta["checksum"]
    # Loading again uses the cache as is.
    before = (out / "meta.json").stat().st_mtime_ns
    again = load_imagefolder(tmp_path / "src", size=16, cache=tmp_path / "cache", workers=0)
    assert again.checksum == data.checksum and (out / "meta.json").stat().st_mtime_ns == before
    assert data.subset(3, 3).train_y.tolist() == [0, 1, 2]  # prefixes are class-balanced


def test_pca_recovers_a_known_colour_covariance(tmp_path):
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(np.array([[1.0, 0.4, -0.3], [1.0, -0.6, 0.2], [1.0, 0.1, 0.8]]))
    stds = np.array([30.0, 12.0, 4.0])  # 0-255 units; 128 +- 4.3 sigma stays inside [0, 255]
    cov = q @ np.diag(stds**2) @ q.T
    for i in range(40):
        px = rng.multivariate_normal([128] * 3, cov, size=32 * 32)
        save(
            tmp_path / "src" / "train" / "x" / f"{i}.png",
            np.clip(np.rint(px), 0, 255).astype(np.uint8).reshape(32, 32, 3),
        )
    save(tmp_path / "src" / "val" / "x" / "0.png", np.zeros((32, 32, 3), np.uint8))
    data = load_imagefolder(tmp_path / "src", size=32, cache=tmp_path / "cache", workers=0)
    # Exactly the eigen-decomposition of the stored pixels' covariance, in [0, 1] units ...
    px = np.asarray(data.train_x).reshape(-1, 3) / 255.0
    vals, vecs = np.linalg.eigh(np.cov(px.T, bias=True))
    assert np.allclose(data.pca_eigvals, vals[::-1], rtol=1e-5)
    assert np.allclose(np.abs(np.sum(data.pca_eigvecs * vecs[:, ::-1], 0)), 1, atol=1e-5)
    # ... which is the generating covariance (plus 1/12 of uint8 rounding), up to sampling error.
    assert np.allclose(data.pca_eigvals, (stds**2 + 1 / 12) / 255**2, rtol=0.05)
    assert np.abs(np.sum(data.pca_eigvecs * q, 0)).min() > 0.99
    assert np.allclose(data.pca_eigvecs.T @ data.pca_eigvecs, np.eye(3), atol=1e-5)


# -------------------------------------------------------------------------- colour modes, bad files


def test_greyscale_palette_cmyk_and_alpha_become_rgb(tmp_path):
    rng = np.random.default_rng(2)
    grey = rng.integers(0, 256, (16, 16), dtype=np.uint8)
    rgb = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    src = tmp_path / "src"
    save(src / "train" / "k" / "0_grey.png", Image.fromarray(grey, "L"))
    save(src / "train" / "k" / "1_palette.png", Image.fromarray(rgb).quantize(16))
    save(src / "train" / "k" / "2_cmyk.tif", Image.fromarray(rgb).convert("CMYK"))
    save(src / "train" / "k" / "3_rgba.png", Image.fromarray(np.dstack([rgb, grey]), "RGBA"))
    save(src / "val" / "k" / "0.png", rgb)
    data = load_imagefolder(src, size=16, cache=tmp_path / "cache", workers=0)
    imgs = np.asarray(data.train_x)
    assert imgs.shape == (4, 16, 16, 3)
    assert np.array_equal(imgs[0], np.dstack([grey] * 3))
    files = sorted((src / "train" / "k").iterdir())
    for img, f in zip(imgs[1:], files[1:]):
        assert np.array_equal(img, np.asarray(Image.open(f).convert("RGB")))
    assert np.array_equal(imgs[3], rgb)  # alpha dropped


def test_unreadable_files_are_skipped_counted_and_listed(tmp_path):
    make_tree(tmp_path / "src", n_train=10)
    good = io.BytesIO()
    Image.fromarray(np.zeros((64, 64, 3), np.uint8) + 100).save(good, "JPEG")
    (tmp_path / "src" / "train" / "a" / "bad.jpg").write_bytes(b"not an image at all")
    (tmp_path / "src" / "train" / "b" / "truncated.jpg").write_bytes(good.getvalue()[:200])
    data = load_imagefolder(tmp_path / "src", size=16, cache=tmp_path / "cache", workers=0, max_skipped_fraction=0.1)
    assert len(data.train_y) == 30 and data.meta["counts"]["train"] == 30
    assert sorted(s["file"] for s in data.meta["skipped"]) == ["train/a/bad.jpg", "train/b/truncated.jpg"]
    assert all(s["error"] for s in data.meta["skipped"])
    assert (tmp_path / "cache" / "src-16" / "train.u8").stat().st_size == 30 * 16 * 16 * 3
    # The default tolerance is 1%: 2 of 32 is a broken copy.
    with pytest.raises(DataError, match="2 of 32 train images .* unreadable"):
        load_imagefolder(tmp_path / "src", size=16, cache=tmp_path / "cache2", workers=0)
    assert not (tmp_path / "cache2" / "src-16").exists()


def test_class_mismatch_is_a_clear_error(tmp_path):
    make_tree(tmp_path / "src")
    (tmp_path / "src" / "val" / "c").rename(tmp_path / "src" / "val" / "d")
    with pytest.raises(DataError, match=r"only in train: \['c'\]; only in val: \['d'\]"):
        load_imagefolder(tmp_path / "src", size=16, cache=tmp_path / "cache", workers=0)
    with pytest.raises(DataError, match="does not exist"):
        load_imagefolder(tmp_path / "nowhere", size=16, cache=tmp_path / "cache")


# ---------------------------------------------------------------------------- interrupted builds


def test_incomplete_cache_is_rebuilt_never_used(tmp_path):
    make_tree(tmp_path / "src")
    kw = dict(size=16, cache=tmp_path / "cache", workers=0)
    good = load_imagefolder(tmp_path / "src", **kw)
    good_images = np.array(good.train_x)  # a copy: the memmap's file is about to be truncated
    out = tmp_path / "cache" / "src-16"
    # Simulate a half-written cache: no completion marker, truncated images.
    (out / imagefolder.MARKER).unlink()
    os.truncate(out / "train.u8", 100)
    # And a temp folder left by a killed build (its pid is not alive).
    stale = tmp_path / "cache" / ".src-16.tmp-999999999-abc"
    stale.mkdir()
    rebuilt = load_imagefolder(tmp_path / "src", **kw)
    assert (out / imagefolder.MARKER).exists() and not stale.exists()
    assert rebuilt.checksum == good.checksum
    assert np.array_equal(rebuilt.train_x, good_images)


def test_interrupted_build_leaves_nothing_behind(tmp_path, monkeypatch):
    make_tree(tmp_path / "src")
    real, calls = imagefolder.decode, []

    def dies_midway(*a, **k):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(imagefolder, "decode", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        load_imagefolder(tmp_path / "src", size=16, cache=tmp_path / "cache", workers=0)
    # the empty lock file stays (deleting a lock file races with a process about to take it)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [".src-16.lock"]
    monkeypatch.setattr(imagefolder, "decode", real)
    assert len(load_imagefolder(tmp_path / "src", size=16, cache=tmp_path / "cache", workers=0).train_y) == 12


def test_archive_source_and_source_change(tmp_path):
    make_tree(tmp_path / "tree" / "mini")
    archive = tmp_path / "mini.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "tree" / "mini", arcname="mini")  # one top-level folder
    data = load_imagefolder(archive, size=16, cache=tmp_path / "cache", workers=0)
    assert data.meta["source_sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert len(data.train_y) == 12 and (tmp_path / "cache" / "mini-16" / imagefolder.MARKER).exists()
    # A changed source folder is noticed and rebuilt.
    folder = tmp_path / "tree" / "mini"
    first = load_imagefolder(folder, size=16, cache=tmp_path / "c2", workers=0)
    save(folder / "train" / "a" / "new.png", np.zeros((16, 16, 3), np.uint8))
    second = load_imagefolder(folder, size=16, cache=tmp_path / "c2", workers=0)
    assert len(second.train_y) == len(first.train_y) + 1


# ------------------------------------------------------------------------------- real Imagenette


@pytest.mark.skipif(
    not IMAGENETTE.exists(), reason=f"{IMAGENETTE} absent (the shared dataset copy is not on this machine)"
)
def test_imagenette_subset_end_to_end(tmp_path):
    """3 classes x (4 train, 2 val) real photos, copied out of the shared archive, through the pool."""
    want, got = {"train": 4, "val": 2}, {}
    with tarfile.open(IMAGENETTE, "r:gz") as tar:
        for m in tar:
            parts = m.name.split("/")
            if not m.isfile() or len(parts) != 3:
                continue
            split, wnid = parts[0], parts[1]
            classes = sorted({c for s, c in got})
            if split == "train" and wnid not in classes and len(classes) >= 3:
                continue
            if split == "val" and wnid not in classes:
                continue
            if got.get((split, wnid), 0) < want[split]:
                got[(split, wnid)] = got.get((split, wnid), 0) + 1
                dest = tmp_path / "src" / m.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(tar.extractfile(m).read())
            if len(got) == 6 and all(v == want[s] for (s, _), v in got.items()):
                break
    data = load_imagefolder(tmp_path / "src", size=64, cache=tmp_path / "cache", workers=2)
    assert len(data.classes) == 3 and all(c.startswith("n") for c in data.classes)
    assert data.train_x.shape == (12, 64, 64, 3) and data.test_x.shape == (6, 64, 64, 3)
    assert data.train_y.tolist() == [0, 1, 2] * 4
    assert 40 < data.mean_image.mean() < 200
    assert (np.diff(data.pca_eigvals) < 0).all() and data.pca_eigvals[0] > 0.01
    assert np.abs(data.pca_eigvecs[:, 0].sum()) / np.sqrt(3) > 0.9  # first component: brightness
    x, y = next(stream(data.train_x, data.train_y, [np.arange(8)]))
    patch = random_crop_flip(x, 56, torch.Generator().manual_seed(0), torch.from_numpy(data.mean_image))
    assert patch.shape == (8, 3, 56, 56) and patch.abs().mean() > 1
