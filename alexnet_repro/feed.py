"""What a process trains and evaluates on, batch by batch: images resident on the device, or streamed.

Resident: a split's uint8 images are one tensor on the run's device; a batch is one gather there.
Streamed: the images stay in imagefolder's memory-mapped cache on the host (ILSVRC-2012's is ~250 GB),
each batch read a batch ahead in a background thread and copied to the device on a side stream
(`stream`). `ImageFolderData.to` chooses by size (`resident_fits`). Labels are always on the device.

Both paths visit the same order and shard it the same way over processes (distributed.shard), so
the streamed path yields exactly the resident path's batches.
"""

import mmap
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from . import distributed
from .data.augment import global_batch_draws
from .data.errors import DataError

# A split stays resident if it takes at most this share of the device's free memory (CUDA) or of the
# host's available memory (CPU); the rest is for the net, its activations and other runs on the
# device (--jobs). On CPU "resident" is a private copy in RAM: past CPU_RESIDENT_CAP the page-cached
# memmap serves as well and is shared by every process reading it.
RESIDENT_SHARE = 0.5
CPU_RESIDENT_CAP = 16 * 2**30


def _available_host_bytes():
    try:
        with open("/proc/meminfo") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def resident_fits(nbytes, device) -> bool:
    """Whether a split of `nbytes` uint8 images should be copied onto `device` (else it is streamed)."""
    device = torch.device(device)
    if device.type == "cuda":
        return nbytes <= RESIDENT_SHARE * torch.cuda.mem_get_info(device)[0]
    return nbytes <= min(CPU_RESIDENT_CAP, RESIDENT_SHARE * _available_host_bytes())


def is_resident(images) -> bool:
    """A tensor (on the run's device) is resident; a host array (the memmap) is streamed."""
    return isinstance(images, torch.Tensor)


@dataclass
class Batch:
    x: torch.Tensor  # uint8 NHWC, this process's rows of the global batch, on the device
    y: torch.Tensor
    rows: tuple = None  # (start, stop, size of the global batch) under DDP; None on one process
    share: float = 1.0  # the weight of this process's mean loss (distributed.share)

    def prepare(self, fn, generator=None):
        """fn(x): the augmentation (or normalization). Under DDP its random draws are made for the
        whole global batch from `generator`, the same on every process, and this process's rows kept."""
        if self.rows is None:
            return fn(self.x)
        with global_batch_draws(self.rows, generator):
            return fn(self.x)


def _source(images, labels, chunks):
    """(x, y) on the labels' device for each chunk of indices (device tensors or slices if resident,
    numpy arrays if streamed)."""
    if is_resident(images):
        return ((images[c], labels[c]) for c in chunks)
    return stream(images, labels.cpu().numpy(), chunks, labels.device)


def epoch_batches(images, labels, perm, batch_size):
    """This process's Batch of each global batch of `batch_size` in the order `perm` (a CPU permutation
    of the split, the same on every process), the last one partial."""
    n = len(perm)
    totals = [(i, min(batch_size, n - i)) for i in range(0, n, batch_size)]
    steps = [(i, (*distributed.shard(total), total)) for i, total in totals]
    order = perm.to(labels.device) if is_resident(images) else perm.numpy()
    chunks = (order[i + a : i + b] for i, (a, b, _) in steps)
    for (x, y), (_, (a, b, total)) in zip(_source(images, labels, chunks), steps):
        yield Batch(x, y, None if distributed.world_size() == 1 else (a, b, total), distributed.share(b - a, total))


def eval_batches(images, labels, batch_size):
    """(x, y) over this process's contiguous share of a split, in order, `batch_size` at a time."""
    lo, hi = distributed.shard(len(labels))
    bounds = ((i, min(i + batch_size, hi)) for i in range(lo, hi, batch_size))
    resident = is_resident(images)
    return _source(images, labels, (slice(i, j) if resident else np.arange(i, j) for i, j in bounds))


READERS = 4  # threads reading one batch's rows from the file at once (see _file_rows)


def _file_rows(images):
    """(path, byte offset of images[0]) of a C-contiguous np.memmap, else None. Its rows are then read
    with pread from READERS threads: from a file not in the page cache that is several times faster
    than the memmap's page faults, which do not overlap."""
    mapping = getattr(images, "_mmap", None)  # np.memmap keeps no other record of where its view starts
    if not isinstance(images, np.memmap) or mapping is None or not images.filename or not images.flags.c_contiguous:
        return None
    mapped_from = images.offset - images.offset % mmap.ALLOCATIONGRANULARITY
    return images.filename, mapped_from + images.ctypes.data - np.frombuffer(mapping, np.uint8).ctypes.data


def stream(images, labels, chunks, device="cpu"):
    """Yield (images[idx], labels[idx]) on `device`, uint8 NHWC and int64, for each index array idx of `chunks` (read
    lazily), the next batch read in a background thread meanwhile (numpy and pread release the GIL).

    Rows are read in file order straight into their places in the host buffer: exactly images[idx], never aliasing
    the read-only map. On CUDA the buffer is pinned and copied on a side stream, overlapping the model's kernels; the
    consumer's stream waits on an event recorded after the copy, and `record_stream` keeps the caching allocator
    from handing the batch's memory back to the copy stream too early."""
    device = torch.device(device)
    copy_stream = torch.cuda.Stream(device) if device.type == "cuda" else None
    labels = np.asarray(labels)
    in_file = _file_rows(images)
    row_bytes = int(np.prod(images.shape[1:]))
    fd = os.open(in_file[0], os.O_RDONLY) if in_file else None

    def read_row(out, i):
        got = os.preadv(fd, [out], in_file[1] + int(i) * row_bytes)
        if got != row_bytes:
            raise DataError(f"{in_file[0]}: short read of image {i} ({got} of {row_bytes} bytes); rebuild the cache")

    def load(idx):
        idx = np.asarray(idx)
        in_file_order = np.argsort(idx, kind="stable")
        x = torch.empty((len(idx), *images.shape[1:]), dtype=torch.uint8, pin_memory=copy_stream is not None)
        out = x.numpy()
        if fd is None:
            out[in_file_order] = images[idx[in_file_order]]
        else:
            list(readers.map(read_row, (out[k] for k in in_file_order), idx[in_file_order]))
        y = torch.from_numpy(labels[idx])
        if copy_stream is None:
            return x.to(device), y.to(device), None
        with torch.cuda.stream(copy_stream):
            x, y = x.to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
            copied = torch.cuda.Event()
            copied.record(copy_stream)
        return x, y, copied

    todo = iter(chunks)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool, ThreadPoolExecutor(READERS) as readers:

            def submit_next():
                return next((pool.submit(load, c) for c in todo), None)

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
    finally:
        if fd is not None:
            os.close(fd)
