"""Any ImageFolder tree (ImageNet, Imagenette, ...), decoded once into a memory-mapped uint8 cache.

Accepted sources: a folder holding `train/<class>/*` and `val/<class>/*` (directly or one level
down), or a .tar.gz/.tgz/.tar of such a folder, which is first extracted (atomically) under
`cache_dir()/extracted/`.

D1 preprocessing, done once: every image becomes RGB (greyscale, palette, CMYK, alpha dropped),
its shorter side is rescaled to `size` (256 in the paper), and the central size x size square is
kept. The result lives in `cache_dir()/<name>-<size>/`:

    train.u8, val.u8          raw uint8, N x size x size x 3 (NHWC, row-major): np.memmap
    train_labels.npy, ...     int64 class indices
    mean_image.npy            float32 size x size x 3, per-pixel mean over the training set, 0-255
    pca_eigvals.npy           float32 (3,), eigenvalues of the 3x3 covariance of training RGB
    pca_eigvecs.npy           float32 (3, 3), column i is the eigenvector p_i (see below)
    meta.json                 classes, counts, skipped files, source checksum, file hashes
    COMPLETE                  written last; a cache without it is never used

PCA scale: the covariance is that of pixel values in [0, 1]. D3 adds sum_i alpha_i*lambda_i*p_i
with lambda_i an eigenvalue, i.e. a variance, so the shift is not scale-equivariant and the pixel
scale is part of the definition: [0, 1] is the convention of the common re-implementations and
gives shifts of a few percent of the intensity range; on 0-255 variances the same formula would
shift pixels by hundreds. `augment.pca_lighting` multiplies the shift by 255 to apply it to
0-255 pixels.

Unreadable images are skipped, counted and listed in meta.json ("skipped"); if more than
`max_skipped_fraction` (default 1%) of a split is unreadable the build fails with a DataError,
since that signals a broken copy rather than a few bad files (ImageNet has a handful).

Images are stored class-interleaved (rank within class, then class), so any prefix of a split is
class-balanced: smoke runs and proxies can use `subset()`.
"""
import hashlib
import json
import multiprocessing
import os
import shutil
import tarfile
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..paths import cache_dir, data_root, scrub_paths
from .errors import DataError

SPLITS = ("train", "val")
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp", ".gif")
ARCHIVE_EXTS = (".tar.gz", ".tgz", ".tar")
FORMAT_VERSION = 1
MARKER = "COMPLETE"


@dataclass
class ImageFolderData:
    """Images are read-only uint8 memmaps, N x size x size x 3; index them with sorted indices."""
    train_images: np.ndarray
    train_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray
    classes: list
    mean_image: np.ndarray   # float32, size x size x 3, 0-255
    pca_eigvals: np.ndarray  # float32 (3,), descending, covariance of pixels in [0, 1]
    pca_eigvecs: np.ndarray  # float32 (3, 3), column i = p_i
    checksum: str
    meta: dict = field(repr=False)

    @property
    def size(self):
        return self.train_images.shape[1]

    def subset(self, n_train, n_val):
        """The first n images of each split: class-balanced, since the cache is class-interleaved.
        Mean image and PCA stay those of the full training set."""
        return ImageFolderData(self.train_images[:n_train], self.train_labels[:n_train],
                               self.val_images[:n_val], self.val_labels[:n_val], self.classes,
                               self.mean_image, self.pca_eigvals, self.pca_eigvecs,
                               self.checksum + f":subset{n_train}/{n_val}", self.meta)

    def describe(self):
        # the source by name, not this machine's path: the checksum says which data it was
        return {"name": self.meta["name"], "source": scrub_paths(self.meta["source"]), "size": self.size,
                "sha256": self.checksum, "n_train": len(self.train_labels), "n_val": len(self.val_labels),
                "n_classes": len(self.classes), "skipped": len(self.meta["skipped"])}


# ------------------------------------------------------------------------------------------ source

def _is_archive(path: Path):
    return path.is_file() and path.name.lower().endswith(ARCHIVE_EXTS)


def _stem(path: Path):
    name = path.name
    for ext in ARCHIVE_EXTS:
        if name.lower().endswith(ext):
            return name[: -len(ext)]
    return name


def _fingerprint(path: Path) -> str:
    """Cheap identity of the source (names, sizes, mtimes), checked on every load to spot a changed
    source; the content hash of an archive is computed only when building."""
    h = hashlib.sha256()
    if path.is_file():
        st = path.stat()
        h.update(f"{path.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    else:
        for split in SPLITS:
            for dirpath, dirnames, filenames in os.walk(path / split, followlinks=True):
                dirnames.sort()
                for f in sorted(filenames):
                    p = Path(dirpath, f)
                    st = p.stat()
                    h.update(f"{p.relative_to(path)}:{st.st_size}:{int(st.st_mtime)}\n".encode())
    return h.hexdigest()


def _sha256_file(path: Path, chunk=1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def find_root(path: Path) -> Path:
    """The folder holding train/ and val/: `path` itself or its only subfolder."""
    if all((path / s).is_dir() for s in SPLITS):
        return path
    subdirs = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if len(subdirs) == 1 and all((subdirs[0] / s).is_dir() for s in SPLITS):
        return subdirs[0]
    raise DataError(f"{path} is not an ImageFolder tree: expected train/<class>/* and val/<class>/* "
                    f"in it or in its only subfolder")


def extract_archive(archive: Path, cache: Path) -> Path:
    """Extract once to cache/extracted/<stem>-<fingerprint>/, via a temporary folder and a rename,
    so a half-extracted tree is never mistaken for a whole one."""
    final = cache / "extracted" / f"{_stem(archive)}-{_fingerprint(archive)[:12]}"
    if (final / MARKER).exists():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(final)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-{os.getpid()}-", dir=final.parent))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")  # "data" refuses absolute paths, '..' and devices
        (tmp / MARKER).write_text("")
        _replace_dir(tmp, final)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataError(f"{archive} is not a readable archive ({type(e).__name__}: {e}); "
                        f"re-download or re-create it") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _replace_dir(tmp: Path, final: Path):
    if final.exists():
        shutil.rmtree(final)
    try:
        os.rename(tmp, final)
    except OSError:
        # Another process finished the same build first; keep its copy if it is whole.
        shutil.rmtree(tmp, ignore_errors=True)
        if not (final / MARKER).exists():
            raise


def _remove_stale_temps(final: Path):
    """Temp folders left by a build that was killed: the pid in the name is no longer alive."""
    for p in final.parent.glob(f".{final.name}.tmp-*"):
        try:
            pid = int(p.name[len(f".{final.name}.tmp-"):].split("-")[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(p, ignore_errors=True)
        except (ValueError, PermissionError):
            pass


def _few(names, n=5):
    if not names:
        return "none"
    return str(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def scan(root: Path):
    """-> classes, {split: [(relative path, label), ...]} in class-interleaved order."""
    classes = {}
    for split in SPLITS:
        classes[split] = sorted(p.name for p in (root / split).iterdir()
                                if p.is_dir() and not p.name.startswith("."))
    if classes["train"] != classes["val"]:
        only_train = sorted(set(classes["train"]) - set(classes["val"]))
        only_val = sorted(set(classes["val"]) - set(classes["train"]))
        raise DataError(f"train/ and val/ in {root} hold different classes: only in train: "
                        f"{_few(only_train)}; only in val: {_few(only_val)}")
    classes = classes["train"]
    if not classes:
        raise DataError(f"{root}/train holds no class folders")
    items = {}
    for split in SPLITS:
        per_class = []
        for label, cls in enumerate(classes):
            files = []
            for dirpath, dirnames, filenames in os.walk(root / split / cls, followlinks=True):
                dirnames.sort()
                files += [Path(dirpath, f).relative_to(root).as_posix() for f in sorted(filenames)
                          if f.lower().endswith(IMAGE_EXTS)]
            if not files and split == "train":
                raise DataError(f"{root}/train/{cls} holds no images ({', '.join(IMAGE_EXTS)})")
            per_class.append([(f, label) for f in files])
        # Rank within class first, then class: every prefix is class-balanced.
        items[split] = [t for rank in range(max(map(len, per_class))) for files in per_class
                        for t in files[rank:rank + 1]]
        if not items[split]:
            raise DataError(f"{root}/{split} holds no images")
    return classes, items


# ---------------------------------------------------------------------------------------- decoding

def resize_center_crop(im: Image.Image, size: int) -> Image.Image:
    """D1: shorter side to `size`, then the central size x size square."""
    w, h = im.size
    if min(w, h) != size:
        scale = size / min(w, h)
        w, h = max(size, round(w * scale)), max(size, round(h * scale))
        im = im.resize((w, h), Image.BILINEAR)  # PIL widens the filter when shrinking: antialiased
    left, top = (w - size) // 2, (h - size) // 2
    return im.crop((left, top, left + size, top + size))


def decode(path, size: int, draft: bool = True) -> np.ndarray:
    """One file -> uint8 size x size x 3. Raises whatever PIL raises on a bad file."""
    with Image.open(path) as im:
        if draft and im.format == "JPEG":
            # Decode at 1/2, 1/4 or 1/8 scale in the DCT domain when the shorter side stays >= size:
            # several times faster on full-size ImageNet photos, a no-op on small ones.
            im.draft("RGB", (size, size))
        im = im.convert("RGB")  # greyscale, palette, CMYK, RGBA -> RGB
        return np.asarray(resize_center_crop(im, size), dtype=np.uint8)


def _decode_job(job):
    """Pool worker: (path, size, draft, want_moments) -> (image or None, X^T X or None, error)."""
    path, size, draft, want_moments = job
    try:
        img = decode(path, size, draft)
    except Exception as e:  # PIL raises many types (OSError, SyntaxError, ValueError, ...) on bad files
        return None, None, f"{type(e).__name__}: {e}"
    moments = None
    if want_moments:
        # Exact: integers below 2^53 in float64; summed as int64 across images.
        x = img.reshape(-1, 3).astype(np.float64)
        moments = (x.T @ x).astype(np.int64)
    return img, moments, None


def _decode_split(root, items, size, out_path, imap, draft, want_stats):
    n = len(items)
    images = np.memmap(out_path, dtype=np.uint8, mode="w+", shape=(n, size, size, 3))
    sha = hashlib.sha256()
    labels, skipped = [], []
    pixel_sum = np.zeros((size, size, 3), np.int64)
    moments = np.zeros((3, 3), np.int64)
    jobs = ((str(root / rel), size, draft, want_stats) for rel, _ in items)
    for (rel, label), (img, m, err) in zip(items, imap(_decode_job, jobs)):
        if img is None:
            skipped.append({"file": rel, "error": err})
            continue
        images[len(labels)] = img
        sha.update(img.tobytes())  # rows are written in file order: this is the file's sha256
        labels.append(label)
        if want_stats:
            pixel_sum += img
            moments += m
    images.flush()
    del images
    # Skipped images leave the tail unused; NHWC rows are contiguous, so truncating compacts the file.
    os.truncate(out_path, len(labels) * size * size * 3)
    return np.asarray(labels, np.int64), skipped, sha.hexdigest(), pixel_sum, moments


def pca_from_moments(pixel_sum_rgb, moments, count, scale=255.0):
    """Eigen-decomposition of the 3x3 RGB covariance from sum(x) and sum(x x^T) over `count` pixels,
    with pixel values divided by `scale`. -> eigvals (descending), eigvecs (column i = p_i)."""
    mean = np.asarray(pixel_sum_rgb, np.float64) / count
    cov = np.asarray(moments, np.float64) / count - np.outer(mean, mean)
    eigvals, eigvecs = np.linalg.eigh(cov / scale**2)
    order = np.argsort(eigvals)[::-1]
    eigvals, eigvecs = np.clip(eigvals[order], 0, None), eigvecs[:, order]
    # Fix the arbitrary sign (largest component positive) so the cache is reproducible.
    eigvecs *= np.sign(eigvecs[np.abs(eigvecs).argmax(0), range(3)])
    return eigvals, eigvecs


def _pool(workers):
    if workers <= 1:
        return None
    # forkserver: the parent may hold torch threads; fork() under threads can deadlock.
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in multiprocessing.get_all_start_methods()
                                      else "spawn")
    return ctx.Pool(workers)


def build_cache(root: Path, out: Path, size: int, workers=2, draft=True, max_skipped_fraction=0.01,
                source_info=None):
    """Decode the tree at `root` into `out` (see module doc). Built in a temp folder, renamed at the end."""
    t0 = time.time()
    classes, items = scan(root)
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    pool = _pool(workers)
    try:
        imap = (lambda f, jobs: pool.imap(f, jobs, chunksize=16)) if pool else map
        meta = {"format_version": FORMAT_VERSION, "name": out.name.rsplit("-", 1)[0], "size": size,
                "layout": "uint8 N x size x size x 3 (NHWC), row-major", "classes": classes,
                "counts": {}, "class_counts": {}, "skipped": [], "files_sha256": {}, "draft": draft,
                **(source_info or {})}
        for split in SPLITS:
            labels, skipped, sha, pixel_sum, moments = _decode_split(
                root, items[split], size, tmp / f"{split}.u8", imap, draft, want_stats=split == "train")
            n_bad = len(skipped)
            if n_bad > max_skipped_fraction * len(items[split]):
                shown = "; ".join(f"{s['file']} ({s['error']})" for s in skipped[:3])
                raise DataError(f"{n_bad} of {len(items[split])} {split} images in {root} are unreadable "
                                f"(more than {max_skipped_fraction:.1%}), e.g. {shown}")
            per_class = np.bincount(labels, minlength=len(classes))
            if split == "train" and (per_class == 0).any():
                raise DataError(f"no readable training image in class {classes[int(np.argmin(per_class))]}")
            np.save(tmp / f"{split}_labels.npy", labels)
            meta["counts"][split] = len(labels)
            meta["class_counts"][split] = per_class.tolist()
            meta["skipped"] += skipped
            meta["files_sha256"][f"{split}.u8"] = sha
            meta["files_sha256"][f"{split}_labels.npy"] = _sha256_file(tmp / f"{split}_labels.npy")
            if split == "train":
                n_pixels = len(labels) * size * size
                mean_image = (pixel_sum / len(labels)).astype(np.float32)
                eigvals, eigvecs = pca_from_moments(pixel_sum.sum((0, 1)), moments, n_pixels)
                np.save(tmp / "mean_image.npy", mean_image)
                np.save(tmp / "pca_eigvals.npy", eigvals.astype(np.float32))
                np.save(tmp / "pca_eigvecs.npy", eigvecs.astype(np.float32))
                meta["mean_rgb"] = (pixel_sum.sum((0, 1)) / n_pixels).tolist()
                meta["pca"] = {"pixel_scale": "[0, 1]", "eigvals": eigvals.tolist(),
                               "eigvecs_columns": eigvecs.tolist()}
        meta["checksum"] = _combine(meta["files_sha256"])
        meta["build_seconds"] = round(time.time() - t0, 2)
        meta["built_at"] = time.time()
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        (tmp / MARKER).write_text("")  # last: its presence means everything above is on disk
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if pool:
            pool.terminate()
    return meta


def _combine(files_sha256: dict) -> str:
    return hashlib.sha256("".join(f"{k}:{v}\n" for k, v in sorted(files_sha256.items())).encode()).hexdigest()


# ----------------------------------------------------------------------------------------- loading

def load_imagefolder(source, size=256, name=None, cache=None, workers=2, draft=True,
                     max_skipped_fraction=0.01, verify=False) -> ImageFolderData:
    """Load the cached `<name>-<size>` decode of `source` (folder or archive), building it if absent,
    incomplete, or made from a different source. `verify` re-hashes the cache files."""
    source = Path(source).expanduser()
    if not source.exists():
        raise DataError(f"{source} does not exist: point it at an ImageFolder tree "
                        f"(train/<class>/*, val/<class>/*) or a .tar.gz of one")
    cache = Path(cache) if cache else cache_dir()
    out = cache / f"{name or _stem(source)}-{size}"
    fingerprint = _fingerprint(source)
    meta = _read_meta(out)
    if not (meta and meta.get("source_fingerprint") == fingerprint and meta.get("size") == size
            and meta.get("format_version") == FORMAT_VERSION):
        if _is_archive(source):
            info = {"source": str(source), "source_sha256": _sha256_file(source)}
            root = find_root(extract_archive(source, cache))
        else:
            root = find_root(source)
            info = {"source": str(source), "source_sha256": None}
        info["source_fingerprint"] = fingerprint
        build_cache(root, out, size, workers, draft, max_skipped_fraction, info)
        meta = _read_meta(out)
    return open_cache(out, verify, meta)


def _read_meta(out: Path):
    """meta.json of a complete cache, else None (no marker: a build was interrupted)."""
    if not (out / MARKER).exists():
        return None
    try:
        return json.loads((out / "meta.json").read_text())
    except (OSError, ValueError):
        return None


def open_cache(out: Path, verify=False, meta=None) -> ImageFolderData:
    meta = meta or _read_meta(out)
    if meta is None:
        raise DataError(f"{out} is not a complete cache (no {MARKER} marker); delete it and rebuild")
    if verify:
        for fname, expected in meta["files_sha256"].items():
            if _sha256_file(out / fname) != expected:
                raise DataError(f"{out / fname} does not match its recorded sha256: delete {out} and rebuild")
    s = meta["size"]
    images = {split: np.memmap(out / f"{split}.u8", dtype=np.uint8, mode="r",
                               shape=(meta["counts"][split], s, s, 3)) for split in SPLITS}
    return ImageFolderData(images["train"], np.load(out / "train_labels.npy"),
                           images["val"], np.load(out / "val_labels.npy"), meta["classes"],
                           np.load(out / "mean_image.npy"), np.load(out / "pca_eigvals.npy"),
                           np.load(out / "pca_eigvecs.npy"), meta["checksum"], meta)


# ----------------------------------------------------------------------------------------- batches

def batches(images, labels, batch_size, device="cpu", shuffle=True, generator=None, drop_last=None, epochs=1):
    """Yield (uint8 NHWC batch, int64 labels) on `device` for `epochs` passes (None: forever),
    reading the next batch from the memmap in a background thread while the caller works on this
    one (numpy releases the GIL while copying). The prefetch runs across epoch boundaries, so a new epoch
    never starts cold. Training shuffles (a new order each epoch) and drops each epoch's last
    partial batch; evaluation keeps order and every image.

    On CUDA the host-to-device copy goes from pinned memory on a side stream, so it overlaps the
    model's kernels instead of queueing between them; the consumer's stream waits on an event
    recorded after the copy, and the batch is marked as used there (`record_stream`) so the
    caching allocator does not hand its memory back to the copy stream too early."""
    import torch
    n = len(labels)
    drop_last = shuffle if drop_last is None else drop_last
    stop = n - n % batch_size if drop_last else n

    def chunks():  # lazily, so epochs=None (forever) works
        epoch = 0
        while epochs is None or epoch < epochs:
            order = torch.randperm(n, generator=generator).numpy() if shuffle else np.arange(n)
            yield from (order[i:i + batch_size] for i in range(0, stop, batch_size))
            epoch += 1

    device = torch.device(device)
    copy_stream = torch.cuda.Stream(device) if device.type == "cuda" else None

    def load(idx):
        # Sorted, so the memmap is read forwards; order within a batch is irrelevant to SGD.
        # Fancy indexing copies: the batch never aliases the read-only map.
        idx = np.sort(idx)
        x, y = torch.from_numpy(images[idx]), torch.from_numpy(np.asarray(labels)[idx])
        if copy_stream is None:
            return x.to(device), y.to(device), None
        with torch.cuda.stream(copy_stream):
            x, y = x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
            copied = torch.cuda.Event()
            copied.record(copy_stream)
        return x, y, copied

    todo = chunks()
    with ThreadPoolExecutor(max_workers=1) as pool:
        submit_next = lambda: next((pool.submit(load, c) for c in todo), None)
        pending = submit_next()
        while pending is not None:
            x, y, copied = pending.result()
            pending = submit_next()
            if copied is not None:
                stream = torch.cuda.current_stream(device)
                stream.wait_event(copied)
                x.record_stream(stream)
                y.record_stream(stream)
            yield x, y


def find_dataset(root=None) -> Path:
    """An ImageFolder tree or archive: `root` itself, or the first imagenette*/ILSVRC* inside it
    (`root` defaults to $ALEXNET_REPRO_DATA, else ~/data)."""
    root = data_root(root)
    if root.is_file() or (root / "train").is_dir():
        return root
    for pattern in ("imagenette*.tar.gz", "imagenette*", "ILSVRC*", "imagenet*"):
        found = sorted(root.glob(pattern))
        if found:
            return found[0]
    raise DataError(f"no ImageNet-layout dataset under {root}: looked for train/ + val/ class folders, "
                    f"imagenette*.tar.gz, imagenette*/, ILSVRC*/. Point --data-root at one.")


def to_splits(data: ImageFolderData, n_train, n_val, device):
    """(the subset, engine.Splits of it on `device`): the first n_train / n_val images (0 = all)."""
    import torch
    from ..engine import Splits
    data = data.subset(n_train or len(data.train_labels), n_val or len(data.val_labels))
    as_tensor = lambda a, dtype=None: torch.from_numpy(np.array(a, dtype=dtype)).to(device)
    return data, Splits(as_tensor(data.train_images), as_tensor(data.train_labels, np.int64),
                        as_tensor(data.val_images), as_tensor(data.val_labels, np.int64))
