"""What a process trains and evaluates on, batch by batch: a split's uint8 images resident on the device (a batch
is one gather there), or streamed from imagefolder's memory-mapped cache (ILSVRC-2012's is ~250 GB), a batch ahead.
Both visit the same order and shard it alike over processes (distributed.shard): they yield the same batches.
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

# A split stays resident if it takes at most this share of the device's free memory (or the host's available
# memory): the rest is for the net and other runs (--jobs). On CPU "resident" is a private copy in RAM: past
# CPU_RESIDENT_CAP the page-cached memmap serves as well, shared by every process reading it.
RESIDENT_SHARE = 0.5
CPU_RESIDENT_CAP = 16 * 2**30


def _available_host_bytes():
    try:
        with open("/proc/meminfo") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def resident_fits(nbytes, device) -> bool:
    device = torch.device(device)
    if device.type == "cuda":
        return nbytes <= RESIDENT_SHARE * torch.cuda.mem_get_info(device)[0]
    return nbytes <= min(CPU_RESIDENT_CAP, RESIDENT_SHARE * _available_host_bytes())


def is_resident(images) -> bool:
    return isinstance(images, torch.Tensor)


@dataclass
class Batch:
    x: torch.Tensor  # uint8 NHWC, this process's rows of the global batch, on the device
    y: torch.Tensor
    rows: tuple = None  # (start, stop, size of the global batch) under DDP; None on one process
    share: float = 1.0  # the weight of this process's mean loss (distributed.share)

    def prepare(self, fn, generator=None):
        """fn(x): the augmentation (or normalization); under DDP drawing for the global batch from `generator`."""
        if self.rows is None:
            return fn(self.x)
        with global_batch_draws(self.rows, generator):
            return fn(self.x)


def _source(images, labels, chunks):
    if is_resident(images):
        return ((images[c], labels[c]) for c in chunks)
    return stream(images, labels.cpu().numpy(), chunks, labels.device)


def epoch_batches(images, labels, perm, batch_size):
    """This process's Batch of each global batch of `batch_size` in the order `perm` (a CPU permutation, the same
    on every process)."""
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
    """(path, byte offset of images[0]) of a C-contiguous np.memmap, else None. Its rows are then read with pread
    from READERS threads: from a file not in the page cache, several times faster than the memmap's page faults."""
    mapping = getattr(images, "_mmap", None)  # np.memmap keeps no other record of where its view starts
    if not isinstance(images, np.memmap) or mapping is None or not images.filename or not images.flags.c_contiguous:
        return None
    mapped_from = images.offset - images.offset % mmap.ALLOCATIONGRANULARITY
    return images.filename, mapped_from + images.ctypes.data - np.frombuffer(mapping, np.uint8).ctypes.data


def stream(images, labels, chunks, device="cpu"):
    """Yield (images[idx], labels[idx]) on `device` for each index array idx of `chunks`, the next batch read
    meanwhile in a background thread, its rows in file order. On CUDA the pinned buffer is copied on a side stream;
    `record_stream` keeps the caching allocator from handing the batch's memory back to it too early."""
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
