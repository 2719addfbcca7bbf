"""Any ImageFolder tree (ImageNet, Imagenette, ...), decoded once into a memory-mapped uint8 cache.

A source is a folder holding `train/<class>/*` and `val/<class>/*` (directly or one level down), or a
.tar.gz/.tgz/.tar of one, extracted once under `cache_dir()/extracted/`. D1: each image becomes 8-bit RGB, its
shorter side rescaled to `size` (a smaller one is upsampled, and counted), its central square kept, in
`cache_dir()/<the source's name>-<size>/`:

    train.u8, val.u8          uint8 N x size x size x 3 (NHWC), class-interleaved: any prefix is class-balanced
    *_labels.npy, mean_image.npy, pca_eigvals.npy, pca_eigvecs.npy (column i = p_i)
    meta.json                 classes, counts, skipped files, source checksum, sha256 of every 64 MiB chunk
    COMPLETE                  written last, holding meta.json's sha256; a cache without it is never used

The PCA is of pixels in [0, 1]: D3's shift scales with the variance, so the pixel scale is part of its definition.
Each load checks every chunk's sha256 (a flipped bit would otherwise train under the clean data's checksum).
"""

import collections
import contextlib
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .. import distributed
from ..atomic import locked, remove_stale_temps, temp_prefix
from ..feed import resident_fits
from ..log import LOG
from ..paths import cache_dir, data_root, scrub_paths
from .augment import pixel_pca
from .errors import ARCHIVE_ERRORS, DataError, DataNotFound, check_folder, unreadable_archive
from .splits import Splits

SPLITS = ("train", "val")
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp", ".gif")
ARCHIVE_EXTS = (".tar.gz", ".tgz", ".tar")
FORMAT_VERSION = 2  # 2: per-chunk sha256 of every file, meta.json's sha256 in the marker
MARKER = "COMPLETE"
CHUNK = 64 << 20


@dataclass
class ImageFolderData(Splits):
    """As loaded, images are read-only uint8 memmaps and labels int64 arrays; test_* is the val/ split."""

    classes: list
    mean_image: np.ndarray  # float32, size x size x 3, 0-255
    pca_eigvals: np.ndarray  # float32 (3,), descending, covariance of pixels in [0, 1]
    pca_eigvecs: np.ndarray  # float32 (3, 3), column i = p_i
    checksum: str
    meta: dict = field(repr=False)

    def to(self, device):
        """The labels on `device`, and each split's images where they fit (feed.resident_fits); a split that does not
        (ImageNet's training set) stays in the memory-mapped cache, streamed a batch at a time."""

        # np.array copies: a tensor must not alias the read-only map
        def as_tensor(a, dtype=None):
            return torch.from_numpy(np.array(a, dtype=dtype)).to(device)

        def images(a):
            return as_tensor(a) if resident_fits(a.nbytes, device) else a

        return replace(
            self,
            train_x=images(self.train_x),
            train_y=as_tensor(self.train_y, np.int64),
            test_x=images(self.test_x),
            test_y=as_tensor(self.test_y, np.int64),
        )

    def describe(self):
        upsampled = self.meta.get("upsampled", {}).get("count", 0)
        # the source by name, not this machine's path: the checksum says which data it was
        return {
            "name": self.meta["name"],
            "source": scrub_paths(self.meta["source"]),
            "size": self.train_x.shape[1],
            "sha256": self.checksum,
            "n_train": len(self.train_y),
            "n_val": len(self.test_y),
            "n_classes": len(self.classes),
            "skipped": len(self.meta["skipped"]),
            **({"upsampled": upsampled} if upsampled else {}),
        }


def _is_archive(path: Path):
    return path.is_file() and path.name.lower().endswith(ARCHIVE_EXTS)


def _stem(path: Path):
    name = path.name
    return next((name[: -len(ext)] for ext in ARCHIVE_EXTS if name.lower().endswith(ext)), name)


def _fingerprint(path: Path) -> str:
    """Cheap identity of the source (names, sizes, mtimes, folders too: a class folder added empty changes it),
    checked on every load; names as bytes (os.fsencode), so any file name is fine."""
    h = hashlib.sha256()
    if path.is_file():
        st = path.stat()
        h.update(os.fsencode(path.name) + f":{st.st_size}:{int(st.st_mtime)}".encode())
    else:
        for split in SPLITS:
            for dirpath, dirnames, filenames in os.walk(path / split, followlinks=True):
                dirnames.sort()
                h.update(os.fsencode(Path(dirpath).relative_to(path)) + b"/\n")
                for f in sorted(filenames):
                    p = Path(dirpath, f)
                    st = p.stat()
                    h.update(os.fsencode(p.relative_to(path)) + f":{st.st_size}:{int(st.st_mtime)}\n".encode())
    return h.hexdigest()


def _sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def find_root(path: Path) -> Path:
    if root := _tree_at(path):
        return root
    raise DataError(
        f"{path} is not an ImageFolder tree: expected train/<class>/* and val/<class>/* in it or in its only subfolder"
    )


def _tree_at(path: Path):
    """`path` or its only subfolder (hidden ones aside), whichever holds train/ and val/; else None."""
    if all((path / s).is_dir() for s in SPLITS):
        return path
    subdirs = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return subdirs[0] if len(subdirs) == 1 and all((subdirs[0] / s).is_dir() for s in SPLITS) else None


def _extracted(archive: Path, cache: Path) -> Path:
    return cache / "extracted" / f"{_stem(archive)}-{_fingerprint(archive)[:12]}"


def extract_archive(archive: Path, cache: Path) -> Path:
    """Extract once (under a lock) to cache/extracted/<stem>-<fingerprint>/, via a temp folder and a rename.
    Its marker lists every file's size and sha256: a damaged copy is named and extracted again."""
    final = _extracted(archive, cache)
    with locked(final.parent / f".{final.name}.lock"):
        if (final / MARKER).exists():
            problem = _extracted_damage(final)
            if not problem:
                return final
            LOG.warning(f"extracted copy {problem}; extracting {archive} again")
        try:
            with _building(final) as tmp, tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")  # "data" refuses absolute paths, '..' and devices
                (tmp / MARKER).write_text(json.dumps({"files": _manifest(tmp)}))
        except ARCHIVE_ERRORS as e:
            raise unreadable_archive(archive, e) from None
        return final


def _manifest(root: Path) -> dict:
    return {
        p.relative_to(root).as_posix(): [p.stat().st_size, _sha256_file(p)]
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != MARKER
    }


def _extracted_damage(final: Path):
    """None if the extracted copy holds exactly the files its marker lists, unchanged; else what is wrong."""
    try:
        listed = json.loads((final / MARKER).read_bytes())["files"]
    except (OSError, ValueError, KeyError, TypeError):  # also the empty marker of older copies
        return f"{final} has no readable list of its files"
    found = _manifest(final)
    changed = sorted(k for k in found.keys() | listed.keys() if found.get(k) != listed.get(k))
    return f"{final / changed[0]} differs from the archive's" if changed else None


def check_archive(path: Path):
    """DataError of one line unless the archive reads to its end (every member's header), so a cut archive
    fails in preflight. A .tar.gz is decompressed whole for it: callers skip it where a decoded copy exists."""
    try:
        with tarfile.open(path, "r:gz" if path.name.lower().endswith(("gz", "tgz")) else "r:*") as tar:
            for _ in tar:
                pass
    except ARCHIVE_ERRORS as e:
        raise unreadable_archive(path, e) from None


@contextlib.contextmanager
def _building(final: Path):
    """A temp folder beside `final` to build it in, put at `final` when the block ends, deleted if it raises.
    An old tree there is renamed away, then deleted: a process still reading it keeps its files open."""
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(final)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(final), dir=final.parent))
    old = final.with_name(temp_prefix(final) + "old")
    try:
        yield tmp
        if final.exists():
            os.rename(final, old)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _few(names, n=5):
    names = sorted(names)
    return (str(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")) if names else "none"


def scan(root: Path):
    """-> classes, {split: [(relative path, label), ...]}."""
    train, val = ({p.name for p in (root / s).iterdir() if p.is_dir() and not p.name.startswith(".")} for s in SPLITS)
    if train != val:
        raise DataError(
            f"train/ and val/ in {root} hold different classes: only in train: {_few(train - val)}; "
            f"only in val: {_few(val - train)}"
        )
    classes = sorted(train)
    if not classes:
        raise DataError(f"{root}/train holds no class folders")
    items = {}
    for split in SPLITS:
        per_class = []
        for label, cls in enumerate(classes):
            files = []
            for dirpath, dirnames, filenames in os.walk(root / split / cls, followlinks=True):
                dirnames.sort()
                files += [
                    Path(dirpath, f).relative_to(root).as_posix()
                    for f in sorted(filenames)
                    if f.lower().endswith(IMAGE_EXTS)
                ]
            if not files and split == "train":
                raise DataError(f"{root}/train/{cls} holds no images ({', '.join(IMAGE_EXTS)})")
            per_class.append([(f, label) for f in files])
        # Rank within class first, then class: every prefix is class-balanced.
        items[split] = [
            t for rank in range(max(map(len, per_class))) for files in per_class for t in files[rank : rank + 1]
        ]
        if not items[split]:
            raise DataError(f"{root}/{split} holds no images")
    return classes, items


def resize_center_crop(im: Image.Image, size: int) -> Image.Image:
    w, h = im.size
    if min(w, h) != size:
        scale = size / min(w, h)
        w, h = max(size, round(w * scale)), max(size, round(h * scale))
        im = im.resize((w, h), Image.BILINEAR)  # PIL widens the filter when shrinking: antialiased
    left, top = (w - size) // 2, (h - size) // 2
    return im.crop((left, top, left + size, top + size))


def decode(path, size: int):
    """One file -> (uint8 size x size x 3, whether it was upsampled); raises whatever PIL raises on a bad file."""
    with Image.open(path) as im:
        if im.format == "JPEG":
            # Decode at 1/2, 1/4 or 1/8 scale in the DCT domain when the shorter side stays >= size:
            # several times faster on full-size ImageNet photos, a no-op on small ones.
            im.draft("RGB", (size, size))
        small = min(im.size) < size
        img = np.asarray(resize_center_crop(to_rgb(im), size), dtype=np.uint8)
        return img, small


def to_rgb(im: Image.Image) -> Image.Image:
    """Any image PIL opens as 8-bit RGB; 16-bit greyscale (I;16, I) is scaled to 8 bits, where convert("RGB")
    would clip it at 255: all white."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        im = Image.fromarray((np.asarray(im, np.float64) / 257).round().clip(0, 255).astype(np.uint8))
    return im.convert("RGB")


def _decode_job(path, size):
    """-> (image or None, its X^T X, error, whether upsampled)."""
    try:
        img, small = decode(path, size)
    except Exception as e:  # PIL raises many types (OSError, SyntaxError, ValueError, ...) on bad files
        return None, None, f"{type(e).__name__}: {e}", False
    # Exact: integers below 2^53 in float64; summed as int64 across images.
    x = img.reshape(-1, 3).astype(np.float64)
    return img, (x.T @ x).astype(np.int64), None, small


def _decode_split(root, items, size, out_path, pool, ahead):
    n = len(items)
    with open(out_path, "wb") as f:
        # Claim the disk space now: a full disk then fails here, naming the file, instead of killing
        # the process with SIGBUS when a write to the memory map finds no block.
        try:
            os.posix_fallocate(f.fileno(), 0, max(1, n * size * size * 3))
        except OSError as e:
            raise OSError(
                e.errno, f"{e.strerror} (the decoded images need {n * size * size * 3:,} bytes)", str(out_path)
            ) from None
    images = np.memmap(out_path, dtype=np.uint8, mode="r+", shape=(n, size, size, 3))
    sha = hashlib.sha256()
    labels, skipped, upsampled = [], [], []
    pixel_sum = np.zeros((size, size, 3), np.int64)
    moments = np.zeros((3, 3), np.int64)
    jobs = (str(root / rel) for rel, _ in items)
    for (rel, label), (img, m, err, small) in zip(items, _imap(pool, ahead, _decode_job, jobs, size)):
        if img is None:
            skipped.append({"file": rel, "error": err})
            continue
        if small:
            upsampled.append(rel)
        images[len(labels)] = img
        sha.update(img.tobytes())  # rows are written in file order: this is the file's sha256
        labels.append(label)
        pixel_sum += img
        moments += m
    images.flush()
    del images
    # Skipped images leave the tail unused; NHWC rows are contiguous, so truncating compacts the file.
    os.truncate(out_path, len(labels) * size * size * 3)
    return np.asarray(labels, np.int64), skipped, upsampled, sha.hexdigest(), pixel_sum, moments


def pca_from_moments(pixel_sum_rgb, moments, count):
    """augment.pixel_pca in the cache's order: eigvals descending, eigvecs (column i = p_i) signed alike."""
    eigvals, eigvecs = (t.numpy() for t in pixel_pca(pixel_sum_rgb, moments, count))
    order = np.argsort(eigvals)[::-1]
    eigvals, eigvecs = np.clip(eigvals[order], 0, None), eigvecs[:, order]
    # Fix the arbitrary sign (largest component positive) so the cache is reproducible.
    eigvecs *= np.sign(eigvecs[np.abs(eigvecs).argmax(0), range(3)])
    return eigvals, eigvecs


def _imap(pool, ahead, f, jobs, *args):
    """f(job, *args) for each job, in order, over a thread pool, at most `ahead` jobs ahead of the consumer.
    Threads, not processes: Pillow and numpy release the GIL while decoding, and threads need no pickling."""
    pending = collections.deque()
    for job in jobs:
        pending.append(pool.submit(f, job, *args))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def build_cache(root: Path, out: Path, size: int, workers, max_skipped_fraction, source_info):
    t0 = time.time()
    classes, items = scan(root)
    meta = {
        "format_version": FORMAT_VERSION,
        "name": out.name.rsplit("-", 1)[0],
        "size": size,
        "classes": classes,
        "counts": {},
        "class_counts": {},
        "skipped": [],
        "files_sha256": {},
        "draft": True,  # JPEGs decoded at a reduced scale where that still covers `size` (decode)
        "upsampled": {"count": 0, "examples": []},
        **source_info,
    }
    with ThreadPoolExecutor(max(1, workers)) as pool, _building(out) as tmp:
        for split in SPLITS:
            labels, skipped, upsampled, sha, pixel_sum, moments = _decode_split(
                root, items[split], size, tmp / f"{split}.u8", pool, 4 * max(1, workers)
            )
            if len(skipped) > max_skipped_fraction * len(items[split]):
                shown = "; ".join(f"{s['file']} ({s['error']})" for s in skipped[:3])
                raise DataError(
                    f"{len(skipped)} of {len(items[split])} {split} images in {root} are unreadable "
                    f"(more than {max_skipped_fraction:.1%}), e.g. {shown}"
                )
            per_class = np.bincount(labels, minlength=len(classes))
            if split == "train" and (per_class == 0).any():
                raise DataError(f"no readable training image in class {classes[int(np.argmin(per_class))]}")
            np.save(tmp / f"{split}_labels.npy", labels)
            meta["counts"][split] = len(labels)
            meta["class_counts"][split] = per_class.tolist()
            meta["skipped"] += skipped
            meta["upsampled"]["count"] += len(upsampled)
            meta["upsampled"]["examples"] = (meta["upsampled"]["examples"] + upsampled)[:5]
            meta["files_sha256"][f"{split}.u8"] = sha
            meta["files_sha256"][f"{split}_labels.npy"] = _sha256_file(tmp / f"{split}_labels.npy")
            if split == "train":
                eigvals, eigvecs = pca_from_moments(pixel_sum.sum((0, 1)), moments, len(labels) * size * size)
                np.save(tmp / "mean_image.npy", (pixel_sum / len(labels)).astype(np.float32))
                np.save(tmp / "pca_eigvals.npy", eigvals.astype(np.float32))
                np.save(tmp / "pca_eigvecs.npy", eigvecs.astype(np.float32))
        files = meta["files_sha256"]
        meta["checksum"] = hashlib.sha256("".join(f"{k}:{files[k]}\n" for k in sorted(files)).encode()).hexdigest()
        meta["chunks_sha256"] = {f.name: _chunk_hashes(f) for f in sorted(tmp.iterdir())}
        meta["build_seconds"] = round(time.time() - t0, 2)
        meta["built_at"] = time.time()
        raw = json.dumps(meta, indent=1).encode()
        (tmp / "meta.json").write_bytes(raw)
        # Last: its presence means everything above is on disk; its content guards meta.json itself.
        (tmp / MARKER).write_text(hashlib.sha256(raw).hexdigest())
    if meta["upsampled"]["count"]:
        LOG.warning(
            f"{meta['upsampled']['count']} images in {root} are smaller than {size} px and were "
            f"upsampled (e.g. {meta['upsampled']['examples'][0]}); recorded in {out / 'meta.json'}"
        )


def _chunk_hashes(path: Path, threads=2) -> list:
    """sha256 of each CHUNK bytes of the file (hashlib releases the GIL: threads hash in parallel)."""

    def one(i):
        with open(path, "rb") as f:
            f.seek(i * CHUNK)
            return hashlib.sha256(f.read(CHUNK)).hexdigest()

    n = max(1, -(-path.stat().st_size // CHUNK))
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(n)))


def _corruption(out: Path, meta: dict):
    """None if every file of the cache matches its recorded chunk hashes, else what does not."""
    for fname, expected in meta["chunks_sha256"].items():
        path = out / fname
        try:
            found = _chunk_hashes(path)
        except OSError as e:
            return f"{path} is unreadable ({e.strerror})"
        bad = [i for i, (a, b) in enumerate(zip(found, expected)) if a != b]
        if len(found) != len(expected) or bad:
            where = f"chunk {bad[0]} of {len(expected)}" if bad else "its length"
            return f"{path} does not match its recorded sha256 ({where})"
    return None


def load_imagefolder(source, size=256, cache=None, workers=2, max_skipped_fraction=0.01) -> ImageFolderData:
    """The cache of `source` (folder or archive), (re)built if absent, incomplete, stale or failing its hashes."""
    source = Path(source).expanduser()
    if not source.exists():
        raise DataError(
            f"{source} does not exist: point it at an ImageFolder tree "
            f"(train/<class>/*, val/<class>/*) or a .tar.gz of one"
        )
    cache = Path(cache) if cache else cache_dir()
    check_folder(cache, "the cache folder ($ALEXNET_REPRO_CACHE)")
    out = cache / f"{_stem(source)}-{size}"
    fingerprint = _fingerprint(source)
    # Under torchrun one process per node decodes, the others then open; any two other processes (two runs
    # started at once) take turns on the lock, and the second finds the first's cache.
    with distributed.local_main_first(), locked(cache / f".{out.name}.lock"):
        meta = _read_meta(out) or {}
        key = (meta.get("source_fingerprint"), meta.get("size"), meta.get("format_version"))
        current = key == (fingerprint, size, FORMAT_VERSION)
        problem = _corruption(out, meta) if current else meta.get("corrupt")
        if problem:
            LOG.warning(f"cache {problem}; rebuilding it from {source}")
        if problem or not current:
            archive = _is_archive(source)
            root = find_root(extract_archive(source, cache) if archive else source)
            sha = _sha256_file(source) if archive else None
            info = {"source": str(source), "source_sha256": sha, "source_fingerprint": fingerprint}
            build_cache(root, out, size, workers, max_skipped_fraction, info)
            meta = _read_meta(out)
    s = meta["size"]
    images = {
        split: np.memmap(out / f"{split}.u8", dtype=np.uint8, mode="r", shape=(meta["counts"][split], s, s, 3))
        for split in SPLITS
    }
    arrays = {name: np.load(out / f"{name}.npy") for name in ("mean_image", "pca_eigvals", "pca_eigvecs")}
    return ImageFolderData(
        train_x=images["train"],
        train_y=np.load(out / "train_labels.npy"),
        test_x=images["val"],
        test_y=np.load(out / "val_labels.npy"),
        classes=meta["classes"],
        **arrays,
        checksum=meta["checksum"],
        meta=meta,
    )


def _read_meta(out: Path):
    """meta.json of a complete cache, else None (no marker: a build was interrupted). A meta.json that
    does not match the sha256 in the marker comes back as {"corrupt": why}, to be reported and rebuilt."""
    if not (out / MARKER).exists():
        return None
    try:
        raw = (out / "meta.json").read_bytes()
        meta = json.loads(raw)
    except (OSError, ValueError):
        meta, raw = None, b""
    # Bytes, not text: a damaged marker (any byte) must read as a damaged cache, named and rebuilt.
    if (out / MARKER).read_bytes().decode("ascii", "replace").strip() != hashlib.sha256(raw).hexdigest():
        return {"corrupt": f"{out / 'meta.json'} does not match its recorded sha256"}
    return meta


def find_dataset(root=None) -> Path:
    """An ImageFolder tree or archive: `root` itself, its only subfolder holding train/ and val/, or the
    first imagenette*/ILSVRC* inside it (`root` defaults to $ALEXNET_REPRO_DATA, else ~/data)."""
    root = data_root(root)
    if root.is_file() or (root / "train").is_dir():
        return root
    if root.is_dir() and (tree := _tree_at(root)):
        return tree
    for pattern in ("imagenette*.tar.gz", "imagenette*", "ILSVRC*", "imagenet*"):
        found = sorted(root.glob(pattern))
        if found:
            return found[0]
    raise DataNotFound(
        f"no ImageNet-layout dataset under {root}: looked for train/ + val/ class folders, "
        f"imagenette*.tar.gz, imagenette*/, ILSVRC*/. Point --data-root DIR (papermill: -p data_root DIR; "
        f"or $ALEXNET_REPRO_DATA) at one."
    )


def check_source(root=None) -> str:
    """find_dataset, then an archive that opens or a tree that scans, without decoding: -> the source's
    fingerprint (what the cache is keyed on); DataError otherwise."""
    source = find_dataset(root)
    if _is_archive(source):
        if not (_extracted(source, cache_dir()) / MARKER).exists():
            check_archive(source)
    else:
        scan(find_root(source))
    return _fingerprint(source)
