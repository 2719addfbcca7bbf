"""Data-parallel training across the processes torchrun starts (one per GPU, or per CPU worker), through
DistributedDataParallel; torchrun starts and restarts them, and a rerun resumes from the run store's checkpoints.

`TrainSpec.batch_size` is the *global* batch, so the learning rate is unchanged. Each process weights its mean loss
by its share of the global batch's rows (`shard`, `share`), and the augmentation draws for the whole global batch
(`augment.global_batch_draws`); dropout draws from each process's own generator. So W processes equal one up to
float rounding without dropout, and in distribution with it. Batch norm is SyncBatchNorm on CUDA (gloo has none).
"""

import datetime
import os
from collections import namedtuple
from contextlib import contextmanager

import torch
import torch.distributed as dist

from .seeds import derive_seed

# Waits for work only one process does (decoding ImageNet into the cache: hours) go through a gloo
# group with this timeout, so the training's own collectives keep torch's default one.
LONG_WAIT = datetime.timedelta(hours=12)


World = namedtuple("World", "rank size local_rank backend")

_world = None
_long_group = None


def init(device=None):
    """Join torchrun's process group (NCCL for a CUDA `device`, else gloo) -> World; None with WORLD_SIZE <= 1."""
    global _world, _long_group
    if _world is not None:
        return _world
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return None
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available() if device in (None, "", "auto") else torch.device(device).type == "cuda"
    if cuda:
        if local_rank >= torch.cuda.device_count():
            raise ValueError(
                f"local rank {local_rank} has no GPU: {torch.cuda.device_count()} visible; "
                f"start at most that many processes per node (--nproc_per_node)"
            )
        torch.cuda.set_device(local_rank)
    backend = "nccl" if cuda else "gloo"
    dist.init_process_group(backend)
    _long_group = dist.new_group(backend="gloo", timeout=LONG_WAIT)
    _world = World(rank, size, local_rank, backend)
    return _world


def shutdown():
    global _world, _long_group
    if _world is not None:
        dist.destroy_process_group()
    _world = _long_group = None


def current():
    return _world


def rank():
    return _world.rank if _world else 0


def world_size():
    return _world.size if _world else 1


def is_main():
    """Rank 0: the one process that writes checkpoints, the run store's records and results."""
    return rank() == 0


def barrier(long=False):
    """Wait for every process; `long` for work only some of them do, that may take hours (LONG_WAIT)."""
    if _world:
        dist.barrier(group=_long_group if long else None)


@contextmanager
def local_main_first():
    """Run the block on each node's local rank 0 first, then on the others (which then open its cache)."""
    if _world and _world.local_rank != 0:
        barrier(long=True)
    yield
    if _world and _world.local_rank == 0:
        barrier(long=True)


def shard(n, of=None, size=None):
    """(start, stop) of the rows among n that rank `of` (default: this process) takes: every row once, in order."""
    of = rank() if of is None else of
    size = world_size() if size is None else size
    return n * of // size, n * (of + 1) // size


def share(rows, total, size=None):
    """The weight of a process's mean loss over `rows` of a global batch of `total` (DDP averages gradients)."""
    return (world_size() if size is None else size) * rows / total


def all_reduce_sum(*tensors):
    if _world:
        for t in tensors:
            dist.all_reduce(t)


def all_gather_object(obj):
    if not _world:
        return [obj]
    out = [None] * _world.size
    dist.all_gather_object(out, obj)
    return out


def from_main(value):
    """Rank 0's `value` on every process (e.g. whether a file exists, which another node may not see yet:
    processes that decide differently would wait on each other forever)."""
    if not _world:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def agree(value, error):
    """Raise ValueError(error) on every process unless all of them hold the same `value`."""
    if len({repr(v) for v in all_gather_object(value)}) > 1:
        raise ValueError(error)


def seed_ranks(seed, device):
    """-> the augmentation's generator, the same on every process; reseeds this process's default generators,
    which dropout draws from, by (seed, rank)."""
    augment = torch.Generator(device=device).manual_seed(derive_seed(seed, "augment"))
    torch.manual_seed(derive_seed(seed, "dropout", rank()))
    return augment


def wrap(model, device):
    """The model in DDP; its parameters stay the model's, which the optimizer, checkpoints and evaluation use."""
    from torch.nn.parallel import DistributedDataParallel

    if device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)  # swaps the layers in place, same parameters
        return DistributedDataParallel(model, device_ids=[device.index])
    return DistributedDataParallel(model)
