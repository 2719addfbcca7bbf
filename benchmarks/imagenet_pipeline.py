"""Images/second: this suite's ImageNet-style pipeline vs the stock torchvision one, on Imagenette.

  this (streamed): uint8 memmap cache (256x256, decoded once) -> the next batch read and copied to
         the device in the background -> random 224 crop + flip, minus the mean image's matching
         crop, + PCA lighting (D1-D3), all batched on the device
  this (resident, GPU only): the same, with the whole uint8 cache held on the device, as the
         claims hold it: a batch is one gather there
  stock: torchvision ImageFolder on the JPEGs + DataLoader(num_workers=2) + RandomResizedCrop(224),
         RandomHorizontalFlip, ToTensor, Normalize, per image in the workers

(a) the data stage alone; (b) data + one SGD step of the same AlexNet (channels_last, as all
feeds end up), first with each stage synchronised (fetch / augmentation / model shares), then end
to end as a training loop runs, against the model alone on one fixed batch. The one-time cache
build (extraction included) is timed when it happens.

    python benchmarks/imagenet_pipeline.py [--batches 20] [--model-batches 4] [--device cpu]

On CPU, glibc hands every block over 32 MB (a float batch is 77 MB) to a fresh mmap and unmaps
it when freed, so each new batch tensor is faulted in page by page; on this 2-core VM that costs
more than the augmentation itself. `--allocator retain` (the default) tells glibc to serve those
blocks from the heap and keep freed memory, for the whole process and the DataLoader workers it
forks, so both pipelines run under it; `--allocator default` measures without.

OMP_WAIT_POLICY=PASSIVE (set unless already set): when other jobs share the cores, spinning
OpenMP threads wait on a descheduled sibling at every parallel op; measured here, 2 threads went
from ~700 to ~150 img/s under load without it. It applies to both pipelines and the model.
"""

import argparse
import ctypes
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when torch starts its OpenMP pool

import numpy as np
import torch
import torchvision
from torchvision import transforms as T

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
from alexnet_repro.data.augment import pca_lighting, random_crop_flip
from alexnet_repro.data.imagefolder import extract_archive, find_root, load_imagefolder
from alexnet_repro.paths import cache_dir
from benchmarks.common import batches

DEFAULT_ARCHIVE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "imagenette-224.tar.gz"


def retain_freed_memory():
    """glibc mallopt: no mmap per large block (M_MMAP_MAX=0), no trimming below 2 GB free."""
    libc = ctypes.CDLL("libc.so.6")
    M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
    return libc.mallopt(M_MMAP_MAX, 0) == 1 and libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1) == 1


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


# A pipeline is a feed of raw batches on the device plus the augmentation applied to each one, so
# the two can be timed apart. The stock pipeline augments in its workers: its feed is everything.


def streamed_feed(data, args, device):
    """The memmap cache, read and copied to the device a batch ahead (`common.batches`): the
    path for a dataset larger than device memory (ImageNet's cache is ~250 GB)."""
    return batches(
        data.train_x, data.train_y, args.batch_size, device, epochs=None, generator=torch.Generator().manual_seed(0)
    )


def resident_feed(data, args, device):
    """The whole uint8 cache on the device, as the claims hold it (`ImageFolderData.to`): a batch is one gather."""
    images = torch.from_numpy(np.array(data.train_x)).to(device)  # a copy: the map is read-only
    labels = torch.from_numpy(np.array(data.train_y)).to(device)
    g = torch.Generator(device=device).manual_seed(0)
    while True:
        order = torch.randperm(len(labels), generator=g, device=device)
        for i in range(0, len(order) - args.batch_size + 1, args.batch_size):
            idx = order[i : i + args.batch_size]
            yield images[idx], labels[idx]


def this_augment(data, args, device):
    """D2's random crop + flip minus the mean image's matching crop, then D3's PCA lighting."""
    g = torch.Generator(device=device).manual_seed(0)
    mean = torch.from_numpy(data.mean_image).to(device)
    eigvals, eigvecs = torch.from_numpy(data.pca_eigvals).to(device), torch.from_numpy(data.pca_eigvecs).to(device)
    return lambda x: pca_lighting(random_crop_flip(x, args.crop, g, mean), eigvals, eigvecs, 0.1, g)


def stock_feed(root, args, device):
    """Opened afresh for each timing and closed after (see `timing`): left open, its workers keep
    decoding into their prefetch queue while the other pipelines are timed, taking CPU from them
    and banking batches for stock's next round."""
    tf = T.Compose(
        [
            T.RandomResizedCrop(args.crop),
            T.RandomHorizontalFlip(),
            T.ToTensor(),
            T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        ]
    )
    loader = torch.utils.data.DataLoader(
        torchvision.datasets.ImageFolder(root / "train", tf),
        batch_size=args.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=args.workers,
        pin_memory=device.type == "cuda",
    )
    while True:
        for x, y in loader:
            # The model runs channels_last (faster for AlexNet here); converting is part of the feed.
            yield x.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last), y.to(device)


def time_data(feed, augment, n, batch_size, device):
    augment(next(feed)[0])  # warm-up: worker start, first reads
    sync(device)
    t0 = time.perf_counter()
    for _ in range(n):
        augment(next(feed)[0])
    sync(device)
    return n * batch_size / (time.perf_counter() - t0)


def make_model(num_classes, crop):
    try:
        from alexnet_repro.models.alexnet import AlexNetConfig, build_alexnet

        return build_alexnet(AlexNetConfig(num_classes=num_classes, input_size=crop)), "alexnet_repro build_alexnet"
    except ImportError:
        return torchvision.models.alexnet(num_classes=num_classes), "torchvision alexnet"


def sgd_step(model):
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step(x, y):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def time_stages(feed, augment, step, n, device):
    """Each stage synchronised: -> seconds per step and the fractions (fetch, augment, model).
    The syncs stop the stages overlapping, so this is an upper bound on the data stage's share."""
    x, y = next(feed)
    step(augment(x), y)  # warm-up
    spent = [0.0, 0.0, 0.0]
    for _ in range(n):
        t0 = time.perf_counter()
        x, y = next(feed)
        sync(device)
        t1 = time.perf_counter()
        x = augment(x)
        sync(device)
        t2 = time.perf_counter()
        step(x, y)
        sync(device)
        t3 = time.perf_counter()
        for i, dt in enumerate((t1 - t0, t2 - t1, t3 - t2)):
            spent[i] += dt
    total = sum(spent)
    return total / n, [s / total for s in spent]


def time_end_to_end(batches_of, step, n, device):
    """Seconds per training step as a training loop runs it: no syncs between the stages."""
    step(*batches_of())  # warm-up
    sync(device)
    t0 = time.perf_counter()
    for _ in range(n):
        step(*batches_of())
    sync(device)
    return (time.perf_counter() - t0) / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE, help="ImageFolder .tar.gz or folder")
    ap.add_argument("--size", type=int, default=256, help="stored size (shorter side, centre square)")
    ap.add_argument("--crop", type=int, default=224)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--batches", type=int, default=20, help="data-stage batches per round")
    ap.add_argument("--rounds", type=int, default=2, help="alternate the two pipelines this many times")
    ap.add_argument("--model-batches", type=int, default=4, help="data+model steps per pipeline; 0 skips")
    ap.add_argument("--workers", type=int, default=2, help="stock DataLoader workers (and cache build workers)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--allocator", choices=["retain", "default"], default="retain", help="see the module doc")
    args = ap.parse_args()
    device = torch.device(args.device)
    allocator = "glibc retain" if args.allocator == "retain" and retain_freed_memory() else "default"
    print(
        f"device {device}, torch threads {torch.get_num_threads()}, cpus {os.cpu_count()}, "
        f"allocator {allocator}, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, cache {cache_dir()}"
    )

    started, t0 = time.time(), time.perf_counter()
    data = load_imagefolder(args.archive, size=args.size, workers=args.workers)
    took = time.perf_counter() - t0
    built = data.meta.get("built_at", 0) >= started
    print(
        f"cache {data.meta['name']}-{args.size}: {len(data.train_y)} train / {len(data.test_y)} val; "
        + (
            f"built now in {took:.1f} s (decode {data.meta['build_seconds']:.1f} s, rest is extraction + hashing)"
            if built
            else f"loaded in {took:.2f} s (its one-time build took {data.meta['build_seconds']:.1f} s)"
        )
    )
    root = find_root(extract_archive(args.archive, cache_dir())) if args.archive.is_file() else find_root(args.archive)

    augment = this_augment(data, args, device)
    kept = {"this (streamed)": streamed_feed(data, args, device)}
    if device.type == "cuda":  # on the CPU "resident" is the same memory as the cache: nothing to compare
        kept["this (resident)"] = resident_feed(data, args, device)
    names = list(kept) + ["stock"]

    def timing(name, measure):
        """measure(feed, augment) on pipeline `name`; the stock feed is opened for it and closed after."""
        if name in kept:
            return measure(kept[name], augment)
        feed = stock_feed(root, args, device)
        try:
            return measure(feed, lambda x: x)
        finally:
            feed.close()  # ends the DataLoader iterator, and with it its workers

    rates = {k: [] for k in names}
    for _ in range(args.rounds):  # alternate, so all see the same background load
        for name in names:
            rates[name].append(timing(name, lambda f, a: time_data(f, a, args.batches, args.batch_size, device)))
    mean = {k: sum(v) / len(v) for k, v in rates.items()}
    print(f"\n(a) data stage, {args.rounds} x {args.batches} batches of {args.batch_size}, crop {args.crop}:")
    for k in names:
        print(f"  {k:15s} {mean[k]:8.1f} img/s   (rounds: {', '.join(f'{r:.1f}' for r in rates[k])})")
    print(f"  ratio this (streamed) / stock: {mean['this (streamed)'] / mean['stock']:.2f}x (target >= 3x)")

    if args.model_batches:
        model, model_name = make_model(len(data.classes), args.crop)
        model = model.to(device, memory_format=torch.channels_last).train()
        step = sgd_step(model)
        print(
            f"\n(b) data + model step ({model_name}, SGD, batch {args.batch_size}), {args.model_batches} steps each."
            f"\n  Stages synchronised (an upper bound on the data's share):"
        )
        for name in names:
            per_step, (fetch, aug_frac, model_frac) = timing(
                name, lambda f, a: time_stages(f, a, step, args.model_batches, device)
            )
            print(
                f"  {name:15s} {per_step * 1e3:7.1f} ms/step = {args.batch_size / per_step:7.1f} img/s; "
                f"fetch {fetch:5.1%}, augmentation {aug_frac:5.1%}, model {model_frac:5.1%}"
            )

        fixed = (
            augment(next(kept["this (streamed)"])[0]),
            torch.randint(len(data.classes), (args.batch_size,), device=device),
        )

        def fed(feed, aug):
            def next_batch():
                x, y = next(feed)
                return aug(x), y

            return time_end_to_end(next_batch, step, args.model_batches, device)

        # The baseline is timed in every round beside the fed loops: timed once, first, it caught the
        # GPU in a different state from the loops after it (slower, on the H200).
        per_step = {k: [] for k in ["model alone"] + names}
        for _ in range(args.rounds):
            per_step["model alone"].append(time_end_to_end(lambda: fixed, step, args.model_batches, device))
            for name in names:
                per_step[name].append(timing(name, fed))
        ms = {k: 1e3 * sum(v) / len(v) for k, v in per_step.items()}
        print(
            f"  End to end, as a training loop runs (no syncs between stages), {args.rounds} rounds alternating "
            f"with the model alone on one fixed batch:"
        )
        for k, v in ms.items():
            rounds = ", ".join(f"{1e3 * t:.1f}" for t in per_step[k])
            extra = "" if k == "model alone" else f"; the data adds {(v - ms['model alone']) / v:6.1%} of the step"
            print(f"  {k:15s} {v:7.1f} ms/step (rounds: {rounds}){extra}")


if __name__ == "__main__":
    main()
