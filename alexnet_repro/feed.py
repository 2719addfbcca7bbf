"""What a process trains and evaluates on, batch by batch: images resident on the device, or streamed.

Resident: a split's uint8 images are one tensor on the run's device, as the claims have always held
them; a batch is one gather there. Streamed: the images stay in imagefolder's memory-mapped uint8
cache on the host (ILSVRC-2012's training set is ~250 GB at 256 px), and each batch is read from it
a batch ahead in a background thread, into pinned memory, and copied to the device on a side stream
(`imagefolder.stream`). Either way the crops, flips, PCA lighting and mean subtraction then run
batched on the device. `ImageFolderData.to` chooses by size (`resident_fits`), so no user has to.
Labels are always on the device: they define the run's device.

Both paths visit the same order and shard it the same way over processes (distributed.shard), so
the streamed path yields exactly the resident path's batches.
"""
import os
from dataclasses import dataclass

import numpy as np
import torch

from . import distributed
from .data.augment import global_batch_draws

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
    x: torch.Tensor      # uint8 NHWC, this process's rows of the global batch, on the device
    y: torch.Tensor
    rows: tuple = None   # (start, stop, size of the global batch) under DDP; None on one process
    share: float = 1.0   # the weight of this process's mean loss (distributed.share)

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
    from .data.imagefolder import stream
    return stream(images, labels.cpu().numpy(), chunks, labels.device)


def epoch_batches(images, labels, perm, batch_size):
    """This process's Batch of each global batch of `batch_size` in the order `perm` (a CPU permutation
    of the split, the same on every process), the last one partial."""
    n, size = len(perm), distributed.world_size()
    steps = []
    for i in range(0, n, batch_size):
        total = min(batch_size, n - i)
        a, b = distributed.shard(total)
        steps.append((i + a, i + b, (a, b, total)))
    order = perm.to(labels.device) if is_resident(images) else perm.numpy()
    chunks = (order[lo:hi] for lo, hi, _ in steps)
    for (x, y), (_, _, rows) in zip(_source(images, labels, chunks), steps):
        yield (Batch(x, y) if size == 1 else
               Batch(x, y, rows, distributed.share(rows[1] - rows[0], rows[2])))


def eval_batches(images, labels, batch_size):
    """(x, y) over this process's contiguous share of a split, in order, `batch_size` at a time."""
    lo, hi = distributed.shard(len(labels))
    bounds = ((i, min(i + batch_size, hi)) for i in range(lo, hi, batch_size))
    resident = is_resident(images)
    return _source(images, labels, (slice(i, j) if resident else np.arange(i, j) for i, j in bounds))
