"""CIFAR-10 from the python batches (or torchvision's download), an image-folder tree `train/<class>/*` and
`test/<class>/*`, or a .tar.gz of either, decoded once into `cache_dir()/cifar10/`, keyed by the source's
fingerprint, with the sha256 of its content, which every load checks: a cache that fails is reported and rebuilt.
"""

import hashlib
import io
import os
import pickle
import tarfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..atomic import atomic_write_bytes, remove_stale_temps
from ..log import LOG
from ..paths import cache_dir, data_root, scrub_paths
from .errors import ARCHIVE_ERRORS, DataError, DataNotFound, check_folder, unreadable_archive
from .imagefolder import check_archive, to_rgb  # one archive check, one conversion of every image mode to RGB
from .splits import Splits

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp")
SPLITS = ("train", "test")


@dataclass
class Cifar10(Splits):
    """Images as uint8 NHWC tensors, labels as int64; `checksum` is the sha256 of the decoded content."""

    checksum: str
    source: str

    def to(self, device):
        return replace(self, **{k: getattr(self, k).to(device) for k in ("train_x", "train_y", "test_x", "test_y")})

    def describe(self):
        # the source by name, not this machine's path: the checksum says which data it was
        return {
            "name": "CIFAR-10",
            "source": scrub_paths(self.source),
            "sha256": self.checksum,
            "n_train": len(self.train_y),
            "n_test": len(self.test_y),
        }


def _find_source(root: Path):
    """(kind, path) of the first usable source under root, or None."""
    if root.is_file() and root.name.endswith((".tar.gz", ".tgz")):
        return ("python-tar" if "python" in root.name else "folder-tar"), root
    if not root.is_dir():
        return None
    if (root / "cifar-10-batches-py" / "data_batch_1").exists():
        return "python", root / "cifar-10-batches-py"
    if (root / "data_batch_1").exists():
        return "python", root
    if (root / "train").is_dir() and (root / "test").is_dir():
        return "folder", root
    if (root / "cifar-10-python.tar.gz").exists():
        return "python-tar", root / "cifar-10-python.tar.gz"
    for candidate in sorted(root.glob("cifar10*.tar.gz")) + sorted(root.glob("cifar-10*.tar.gz")):
        return "folder-tar", candidate
    return None


def _fingerprint(kind, path: Path) -> str:
    """Cheap identity of the source for the cache key (content hash comes after decoding)."""
    h = hashlib.sha256(kind.encode())
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for p in files:
        st = p.stat()
        h.update(os.fsencode(p.relative_to(path.parent)) + f":{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def _decode_image(raw: bytes, name: str) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(raw)) as im:
            arr = np.asarray(to_rgb(im))
    except Exception as e:  # PIL raises many types for a bad file
        raise DataError(f"cannot decode image {name}: {e}") from None
    if arr.shape != (32, 32, 3):
        raise DataError(f"image {name} is {arr.shape[1]}x{arr.shape[0]}, CIFAR-10 images are 32x32")
    return arr


def _collect(files: dict):
    """{split: (x, y)} of the images at <split>/<class>/<name> among `files`."""
    found = {s: {} for s in SPLITS}
    for relpath, read in files.items():
        parts = Path(relpath).parts
        if len(parts) >= 3 and parts[-3] in SPLITS and parts[-1].lower().endswith(IMAGE_EXTS):
            found[parts[-3]].setdefault(parts[-2], []).append((relpath, read))
    for split in SPLITS:
        missing = [c for c in CLASSES if c not in found[split]]
        extra = [c for c in found[split] if c not in CLASSES]
        if missing or extra:
            raise DataError(
                f"{split}/ must hold one folder per CIFAR-10 class; missing: {missing or 'none'}, "
                f"unexpected: {extra or 'none'}"
            )
    out = {}
    for split in SPLITS:
        xs, ys = [], []
        for label, cls in enumerate(CLASSES):
            for relpath, read in sorted(found[split][cls], key=lambda t: t[0]):
                xs.append(_decode_image(read(), relpath))
                ys.append(label)
        out[split] = (np.stack(xs), np.asarray(ys, dtype=np.int64))
    return out


def _files(path: Path, pattern="**/*") -> dict:
    """{relative name: a function returning its bytes} of every file in the .tar.gz, or the folder (those matching
    `pattern`), at `path`."""
    if path.is_dir():
        return {str(p.relative_to(path)): p.read_bytes for p in path.glob(pattern) if p.is_file()}
    try:
        with tarfile.open(path, "r:gz") as tar:
            blobs = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    except ARCHIVE_ERRORS as e:
        raise unreadable_archive(path, e) from None
    return {name: (lambda b=b: b) for name, b in blobs.items()}


def _unpickle_batches(files: dict, path: Path):
    """{split: (x, y)} of the python batches among `files`."""
    batches = {Path(name).name: read for name, read in files.items()}

    def split(names):
        xs, ys = [], []
        for name in names:
            if name not in batches:
                raise DataError(f"{path} lacks {name}: the python batches are data_batch_1..5 and test_batch")
            d = pickle.loads(batches[name](), encoding="latin1")
            xs.append(np.asarray(d["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
            ys.append(np.asarray(d["labels"], dtype=np.int64))
        return np.concatenate(xs), np.concatenate(ys)

    try:
        return {"train": split([f"data_batch_{i}" for i in range(1, 6)]), "test": split(["test_batch"])}
    except (pickle.UnpicklingError, EOFError, KeyError, ValueError) as e:
        raise DataError(f"the python batches in {path} are corrupt ({type(e).__name__}: {e})") from None


def _finish(splits):
    """Interleave classes so that any prefix is class-balanced (smoke runs use prefixes)."""
    out = {}
    for split, (x, y) in splits.items():
        rank = np.empty_like(y)
        for c in np.unique(y):
            rank[y == c] = np.arange(np.count_nonzero(y == c))
        order = np.lexsort((y, rank))  # by rank within class, then by class
        out[split] = (np.ascontiguousarray(x[order]), y[order])
    return out


def _content_sha256(splits) -> str:
    h = hashlib.sha256()
    for split in SPLITS:
        for a in splits[split]:  # x, then y
            h.update(a.tobytes())
    return h.hexdigest()


def _locate(root: Path, download):
    """(kind, path) of the source under `root`; None where `download` may still fetch it, else DataNotFound."""
    found = _find_source(root)
    if found is None and not download:
        raise DataNotFound(
            f"CIFAR-10 not found under {root}. Looked for cifar-10-batches-py/, cifar-10-python.tar.gz, train/ + test/ "
            f"class folders, or cifar10*.tar.gz. Point --data-root DIR (papermill: -p data_root DIR; or "
            f"$ALEXNET_REPRO_DATA) at one of these, or pass --download (papermill: -p download True) on a machine with "
            f"internet access."
        )
    return found


def check_source(root=None, download=False):
    """Find the source under `root` as load_cifar10 does, without decoding: -> its fingerprint (what the cache is keyed
    on), or None when it is yet to be downloaded; DataError if it is missing or an archive that does not open."""
    found = _locate(data_root(root), download)
    if found is None:
        return None
    kind, path = found
    key = f"{kind}-{_fingerprint(kind, path)}"
    if path.is_file() and not (cache_dir() / "cifar10" / f"{key}.npz").exists():
        check_archive(path)
    return key


def load_cifar10(root=None, download=False, cache=None) -> Cifar10:
    root = data_root(root)
    found = _locate(root, download)
    if found is None:
        import torchvision

        try:
            torchvision.datasets.CIFAR10(str(root), train=True, download=True)
        except Exception as e:
            raise DataError(f"download of CIFAR-10 into {root} failed: {e}") from None
        found = _locate(root, download=False)
    kind, path = found
    cache = Path(cache) if cache else cache_dir() / "cifar10"
    check_folder(cache.parent, "the cache folder ($ALEXNET_REPRO_CACHE)")
    cached = cache / f"{kind}-{_fingerprint(kind, path)}.npz"
    if cached.exists():
        try:
            with np.load(cached) as z:
                splits = {split: (z[f"{split}_x"], z[f"{split}_y"]) for split in SPLITS}
                checksum = str(z["checksum"])
            problem = None if _content_sha256(splits) == checksum else "does not match its recorded sha256"
        except Exception as e:  # a cut or damaged zip raises BadZipFile, EOFError, ValueError, KeyError, ...
            problem = f"is unreadable ({type(e).__name__}: {e})"
        if not problem:
            return _as_tensors(splits, checksum, f"{kind}:{path}")
        LOG.warning(f"cache {cached} {problem}; rebuilding it from {path}")
        cached.unlink()
    python = kind.startswith("python")
    files = _files(path, "*" if python else "**/*")  # a folder of python batches may be the whole data root
    splits = _finish(_unpickle_batches(files, path) if python else _collect(files))
    checksum = _content_sha256(splits)
    buf = io.BytesIO()
    arrays = {f"{split}_{xy}": a for split in SPLITS for xy, a in zip("xy", splits[split])}  # as read above
    np.savez(buf, **arrays, checksum=np.array(checksum))
    remove_stale_temps(cached)  # a decode killed mid-write left a 185 MB temp file
    atomic_write_bytes(cached, buf.getbuffer())  # a reader sees the whole file or none
    return _as_tensors(splits, checksum, f"{kind}:{path}")


def _as_tensors(splits, checksum, source):
    return Cifar10(*(torch.from_numpy(a) for split in SPLITS for a in splits[split]), checksum, source)
