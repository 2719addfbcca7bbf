"""The streamed input path's share of a training step of the full-width AlexNet (issue 13: under 5% on a GPU).

Timed, as engine.train runs a step: feed.epoch_batches reads the batch from the memory-mapped uint8
cache a batch ahead (background thread, pread into pinned memory, a side CUDA stream), then D2's
random crop + flip minus the mean image's crop and D3's PCA lighting run on the device, then the
paper's net (width 1, 227 px crops of 256 px images, fp32, 1000 classes) takes its forward,
backward and PaperSGD step. Against it, in alternating rounds: the same step on one fixed batch
already on the device ("model alone"), and (CUDA) the resident path, the images held on the
device. The data's share is (fed - model alone) / fed.

Two per-process batches: 128, the paper's batch on one GPU; 16, each process's share of it on 8
GPUs under DDP (without the all-reduce, which lengthens the real step: an upper bound on the share).

The cache: synthetic by default (random images, --images of them, written to --workdir), since the
content does not matter to the timing and the real datasets cannot travel to the lent GPU; --cache
takes an imagefolder cache folder (train.u8 + meta.json) instead. Cold by default: before each
round the file is dropped from the page cache (posix_fadvise DONTNEED, no root needed), so rows
come from the disk, as ILSVRC-2012's ~250 GB cache would on most machines; --warm keeps it cached.
The read rate of the file just after dropping it is printed, to show whether the drop took.

    python benchmarks/streaming_share.py            # on the GPU: writes results/benchmarks/streaming_share_gpu.txt
    python benchmarks/streaming_share.py --smoke    # CPU, tiny: the script's own smoke test; prints only
"""

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere
from alexnet_repro.data.augment import pca_lighting, random_crop_flip  # noqa: E402
from alexnet_repro.feed import epoch_batches  # noqa: E402
from alexnet_repro.models.alexnet import AlexNetConfig, build_alexnet  # noqa: E402
from alexnet_repro.optim import PaperSGD, param_groups  # noqa: E402
from alexnet_repro.results import device_name, git_commit  # noqa: E402


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def synthetic_cache(folder: Path, n, size):
    """n random size x size x 3 uint8 images in folder/train.u8 (kept if already there)."""
    path = folder / f"synthetic-{n}x{size}.u8"
    shape = (n, size, size, 3)
    if not path.exists() or path.stat().st_size != np.prod(shape):
        folder.mkdir(parents=True, exist_ok=True)
        images = np.memmap(path, np.uint8, "w+", shape=shape)
        rng = np.random.default_rng(0)
        for i in range(0, n, 512):
            images[i : i + 512] = rng.integers(0, 256, (min(512, n - i), size, size, 3), dtype=np.uint8)
        images.flush()
        del images
    return np.memmap(path, np.uint8, "r", shape=shape), path


def real_cache(folder: Path):
    meta = json.loads((folder / "meta.json").read_text())
    s = meta["size"]
    return np.memmap(folder / "train.u8", np.uint8, "r", shape=(meta["counts"]["train"], s, s, 3)), folder / "train.u8"


def drop_from_page_cache(path):
    """Evict the file's pages from the page cache (written back first, so that all of them are clean)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def read_rate(images, rows=64):
    """MB/s of reading `rows` random rows through the streamed path's reader, as the run is about to."""
    from alexnet_repro.feed import stream

    idx = np.random.default_rng(int(time.time())).choice(len(images), rows, replace=False)
    t0 = time.perf_counter()
    reads = stream(images, np.zeros(len(images), np.int64), [idx])
    next(reads)
    reads.close()
    return rows * images[0].nbytes / (time.perf_counter() - t0) / 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="CPU, tiny net and images: a check that the script runs")
    ap.add_argument("--device", default=None)
    ap.add_argument("--images", type=int, default=20_000, help="synthetic cache size (20,000 x 256 px = 3.9 GB)")
    ap.add_argument("--cache", type=Path, help="an imagefolder cache folder to read instead of a synthetic one")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "streaming_share")
    ap.add_argument("--batches", default="128,16", help="per-process batch sizes to time")
    ap.add_argument("--steps", type=int, default=40, help="timed steps per path per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warm", action="store_true", help="leave the cache file in the page cache")
    ap.add_argument("--out", type=Path, help="default: results/benchmarks/streaming_share_gpu.txt on CUDA")
    args = ap.parse_args()
    if args.smoke:
        args.device, args.images, args.batches, args.steps, args.rounds = "cpu", 256, "32,8", 2, 1
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    size, crop, width, classes = (76, 67, 1 / 16, 10) if args.smoke else (256, 227, 1.0, 1000)
    out = args.out or (
        REPO / "results" / "benchmarks" / "streaming_share_gpu.txt"
        if device.type == "cuda" and not args.smoke
        else None
    )
    torch.backends.cudnn.allow_tf32 = False  # fp32, as the claims train
    torch.backends.cudnn.benchmark = True

    lines = [
        f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%dT%H:%MZ} commit {git_commit()}; "
        f"{device_name(device)}; torch {torch.__version__}; python {sys.version.split()[0]}",
        f"# python benchmarks/streaming_share.py {' '.join(sys.argv[1:])}",
    ]

    def say(line=""):
        print(line, flush=True)
        lines.append(line)

    images, path = real_cache(args.cache) if args.cache else synthetic_cache(args.workdir, args.images, size)
    size = images.shape[1]
    labels = torch.randint(0, classes, (len(images),), generator=torch.Generator().manual_seed(0)).to(device)
    mean = torch.full((size, size, 3), 127.5, device=device)
    eigvals, eigvecs = torch.tensor([0.2, 0.02, 0.005], device=device), torch.eye(3, device=device)

    def augment(x):
        return pca_lighting(random_crop_flip(x, crop, None, mean), eigvals, eigvecs, 0.1)

    resident = torch.from_numpy(np.array(images)).to(device) if device.type == "cuda" else None
    torch.manual_seed(0)
    model = (
        build_alexnet(AlexNetConfig(width=width, input_size=crop, num_classes=classes))
        .to(device, memory_format=torch.channels_last)
        .train()
    )
    opt = PaperSGD(param_groups(model, 5e-4), lr=0.01)

    def step(x, y):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    say(
        f"cache: {len(images)} images of {size} px ({images.nbytes / 1e9:.1f} GB, {path}); "
        f"{'warm (page cache kept)' if args.warm else 'cold (dropped from the page cache before each round)'}"
    )
    say(
        f"net: AlexNet width {width}, crop {crop}, {classes} classes, fp32, PaperSGD; "
        f"{args.rounds} rounds x {args.steps} steps per path"
    )

    def epochs(source, bs):  # the engine's feed, epoch after epoch, each in a new seeded order
        for epoch in range(10**9):
            yield from epoch_batches(
                source, labels, torch.randperm(len(images), generator=torch.Generator().manual_seed(epoch)), bs
            )

    for bs in map(int, args.batches.split(",")):
        feeds = {"streamed": epochs(images, bs)}
        if resident is not None:
            feeds["resident"] = epochs(resident, bs)
        fixed = augment(resident[:bs] if resident is not None else torch.from_numpy(np.array(images[:bs]))), labels[:bs]

        def timed(next_batch):
            sync(device)
            t0 = time.perf_counter()
            for _ in range(args.steps):
                step(*next_batch())
            sync(device)
            return (time.perf_counter() - t0) / args.steps

        def fed(name):
            def next_batch():
                batch = next(feeds[name])
                return batch.prepare(augment), batch.y

            return next_batch

        for name in feeds:  # warm-up: cuDNN's algorithm search, the reader threads, the first reads
            step(*fed(name)())
        step(*fixed)
        per_step = {k: [] for k in ["model alone", *feeds]}
        rates = []
        for _ in range(args.rounds):
            per_step["model alone"].append(timed(lambda: fixed))
            for name in feeds:
                if name == "streamed" and not args.warm:
                    drop_from_page_cache(path)
                    rates.append(read_rate(images))
                per_step[name].append(timed(fed(name)))
        ms = {k: 1e3 * sum(v) / len(v) for k, v in per_step.items()}
        say(
            f"\nper-process batch {bs}"
            + (
                " (one GPU, the paper's batch)"
                if bs == 128
                else f" (the paper's 128 over {128 // bs} processes)"
                if 128 % bs == 0
                else ""
            )
        )
        if rates:
            say(
                f"  read rate just after dropping the file from the page cache: "
                f"{', '.join(f'{r:.0f}' for r in rates)} MB/s"
            )
        for k, v in ms.items():
            rounds = ", ".join(f"{1e3 * t:.1f}" for t in per_step[k])
            share = "" if k == "model alone" else f"; the data adds {(v - ms['model alone']) / v:6.1%} of the step"
            say(f"  {k:12s} {v:8.1f} ms/step = {bs / v * 1e3:8.0f} img/s (rounds: {rounds}){share}")
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n")
        print(f"\nwritten: {out}")


if __name__ == "__main__":
    main()
