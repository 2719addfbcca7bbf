"""CIFAR-10 loading from each supported format, made inside the test from a few images."""

import io
import pickle
import tarfile

import numpy as np
import pytest
from PIL import Image

from alexnet_repro.data.cifar10 import CLASSES, load_cifar10
from alexnet_repro.data.errors import DataError
from alexnet_repro.paths import REPO_ROOT

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
PER_CLASS = {"train": 3, "test": 2}


def _real_or_synthetic_images(shared):
    """{split: [(class, uint8 32x32x3)]}: real CIFAR-10 images when the archive is here, else noise."""
    out = {s: [] for s in PER_CLASS}
    if shared is not None:
        want = {(s, c): n for s, n in PER_CLASS.items() for c in CLASSES}
        with tarfile.open(shared / "cifar10-jpg.tar.gz") as tar:
            for m in tar:
                parts = m.name.split("/")
                if m.isfile() and len(parts) == 3 and want.get((parts[0], parts[1]), 0) > 0:
                    want[(parts[0], parts[1])] -= 1
                    img = Image.open(io.BytesIO(tar.extractfile(m).read())).convert("RGB")
                    out[parts[0]].append((parts[1], np.asarray(img)))
                if not any(want.values()):
                    break
        return out
    rng = np.random.default_rng(0)
    for s, n in PER_CLASS.items():
        out[s] = [(c, rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)) for c in CLASSES for _ in range(n)]
    return out


@pytest.fixture
def images():
    shared = SHARED_DATA if (SHARED_DATA / "cifar10-jpg.tar.gz").exists() else None
    return _real_or_synthetic_images(shared)


def _write_folder(root, images, skip_class=None, size=32):
    for split, items in images.items():
        for i, (cls, arr) in enumerate(items):
            if cls == skip_class:
                continue
            d = root / split / cls
            d.mkdir(parents=True, exist_ok=True)
            Image.fromarray(arr).resize((size, size)).save(d / f"{i:04d}.png")  # lossless


def _write_python_batches(root, images):
    d = root / "cifar-10-batches-py"
    d.mkdir(parents=True)

    def batch(items):
        data = np.stack([a.transpose(2, 0, 1).reshape(-1) for _, a in items])
        return {"data": data, "labels": [CLASSES.index(c) for c, _ in items]}

    train = images["train"]
    k = len(train) // 5
    chunks = [train[i * k : (i + 1) * k] for i in range(5)]  # keep the order: same content, same checksum
    for i, chunk in enumerate(chunks, 1):
        (d / f"data_batch_{i}").write_bytes(pickle.dumps(batch(chunk)))
    (d / "test_batch").write_bytes(pickle.dumps(batch(images["test"])))


def _tar_gz(src, dest):
    with tarfile.open(dest, "w:gz") as tar:
        for split in ("train", "test"):
            tar.add(src / split, arcname=split)


def test_folder_tar_and_python_batches_give_the_same_dataset(tmp_path, images):
    _write_folder(tmp_path / "folder", images)
    (tmp_path / "packed").mkdir()
    _tar_gz(tmp_path / "folder", tmp_path / "packed" / "cifar10-mine.tar.gz")
    _write_python_batches(tmp_path / "py", images)
    cache = tmp_path / "cache"
    a = load_cifar10(tmp_path / "folder", cache=cache)
    b = load_cifar10(tmp_path / "packed", cache=cache)
    c = load_cifar10(tmp_path / "py", cache=cache)
    assert a.train_x.shape == (30, 32, 32, 3) and a.test_x.shape == (20, 32, 32, 3)
    assert a.train_x.dtype.is_floating_point is False
    # Same images in, same content out, whatever the format: one checksum.
    assert a.checksum == b.checksum == c.checksum
    assert (a.train_x == c.train_x).all() and (a.train_y == c.train_y).all()
    # Stored class-interleaved, so any prefix (a smoke subset) is balanced.
    assert a.train_y[:10].tolist() == list(range(10))
    # The pixel values are the images' own.
    first_airplane = [arr for cls, arr in images["train"] if cls == "airplane"]
    assert any((a.train_x[0].numpy() == arr).all() for arr in first_airplane)


def test_cache_is_reused_and_complete(tmp_path, images):
    _write_folder(tmp_path / "folder", images)
    cache = tmp_path / "cache"
    load_cifar10(tmp_path / "folder", cache=cache)
    files = list(cache.iterdir())
    assert len(files) == 1 and files[0].suffix == ".npz"
    mtime = files[0].stat().st_mtime_ns
    load_cifar10(tmp_path / "folder", cache=cache)
    assert files[0].stat().st_mtime_ns == mtime


def test_missing_data_says_where_it_looked(tmp_path):
    with pytest.raises(DataError, match=str(tmp_path / "nothing")):
        load_cifar10(tmp_path / "nothing", cache=tmp_path / "cache")


def test_truncated_archive_is_a_clear_error_and_leaves_no_cache(tmp_path, images):
    _write_folder(tmp_path / "folder", images)
    _tar_gz(tmp_path / "folder", tmp_path / "full.tar.gz")
    data = (tmp_path / "full.tar.gz").read_bytes()
    bad = tmp_path / "cifar10-bad.tar.gz"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="not a readable archive"):
        load_cifar10(bad, cache=tmp_path / "cache")
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_missing_class_folder_is_named(tmp_path, images):
    _write_folder(tmp_path / "folder", images, skip_class="frog")
    with pytest.raises(DataError, match="frog"):
        load_cifar10(tmp_path / "folder", cache=tmp_path / "cache")


def test_wrong_image_size_is_rejected(tmp_path, images):
    _write_folder(tmp_path / "folder", images, size=28)
    with pytest.raises(DataError, match="28x28"):
        load_cifar10(tmp_path / "folder", cache=tmp_path / "cache")


def test_corrupt_image_is_named(tmp_path, images):
    _write_folder(tmp_path / "folder", images)
    victim = next((tmp_path / "folder" / "train" / "cat").iterdir())
    victim.write_bytes(b"not an image")
    with pytest.raises(DataError, match="cannot decode"):
        load_cifar10(tmp_path / "folder", cache=tmp_path / "cache")


def test_corrupt_python_batches(tmp_path, images):
    _write_python_batches(tmp_path / "py", images)
    (tmp_path / "py" / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"\x80garbage")
    with pytest.raises(DataError, match="corrupt"):
        load_cifar10(tmp_path / "py", cache=tmp_path / "cache")
