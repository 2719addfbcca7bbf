"""Training throughput of the 19pct net: this engine against the stock torchvision pipeline.

stock:  ImageFolder(JPEG tree) + DataLoader(num_workers=2, batch 128, shuffle) + ToTensor/Normalize,
        NCHW float batches into the model, fp32.
engine: the decoded dataset as one uint8 NHWC tensor in memory; each minibatch indexed out of it and
        normalized in one batched op, channels_last, fp32 (alexnet_repro.engine).
Same model, same optimizer, same batch size. Prints images/s for both and their ratio, and the
ceiling: the same model stepping on one fixed in-memory batch, i.e. with no data stage at all.
No input pipeline can beat that ceiling, so where the ceiling itself is under 2.3x the stock
pipeline, the model (not the data) is what bounds the ratio on that machine.

    python benchmarks/engine_throughput.py --data-root ../shared/data [--batches 60]
"""

import argparse
import tarfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F


def stock_folder(data_root: Path) -> Path:
    """The JPEG tree the stock pipeline reads: the folder itself, or the archive extracted once."""
    from alexnet_repro.data.cifar10 import _find_source
    from alexnet_repro.paths import cache_dir

    kind, path = _find_source(data_root) or (None, None)
    if kind == "folder":
        return path
    if kind != "folder-tar":
        raise SystemExit(f"the stock pipeline needs a JPEG/PNG tree or its .tar.gz under {data_root}")
    dest = cache_dir() / "benchmark" / path.name.replace(".tar.gz", "")
    if not (dest / ".complete").exists():
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(path) as tar:
            tar.extractall(dest, filter="data")
        (dest / ".complete").touch()
    return dest


def timed_steps(model, opt, batches, n):
    """Images/s over n training steps after 5 warm-up steps; `batches` yields (x, y)."""
    it = iter(batches)

    def step():
        x, y = next(it)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return len(y)

    for _ in range(5):
        step()
    t0, seen = time.perf_counter(), 0
    for _ in range(n):
        seen += step()
    return seen / (time.perf_counter() - t0)


def stock(folder, batches):
    from torchvision import datasets, transforms

    from alexnet_repro.models.cifar import Net19pct

    tf = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))]
    )
    ds = datasets.ImageFolder(str(folder / "train"), transform=tf)
    loader = torch.utils.data.DataLoader(
        ds, batch_size=128, shuffle=True, num_workers=2, drop_last=True, persistent_workers=True
    )
    torch.manual_seed(0)
    model = Net19pct("relu")
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def forever():
        while True:
            yield from loader

    return timed_steps(model, opt, forever(), batches)


def engine(data_root, batches):
    from alexnet_repro.data.cifar10 import load_cifar10
    from alexnet_repro.engine import Normalizer
    from alexnet_repro.models.cifar import Net19pct

    data = load_cifar10(data_root)
    normalize = Normalizer(data.train_x, "standardized")
    torch.manual_seed(0)
    model = Net19pct("relu").to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def forever():
        while True:
            perm = torch.randperm(len(data.train_y))
            for i in range(0, len(perm) - 127, 128):
                idx = perm[i : i + 128]
                yield normalize(data.train_x[idx]), data.train_y[idx]

    return timed_steps(model, opt, forever(), batches)


def ceiling(batches):
    from alexnet_repro.models.cifar import Net19pct

    torch.manual_seed(0)
    model = Net19pct("relu").to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    x = torch.randn(128, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (128,))

    def forever():
        while True:
            yield x, y

    return timed_steps(model, opt, forever(), batches)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-root", default=None, help="CIFAR-10 as a JPEG tree or its .tar.gz")
    p.add_argument("--batches", type=int, default=60, help="timed training steps per pipeline")
    args = p.parse_args()
    from alexnet_repro.paths import data_root

    root = data_root(args.data_root)
    folder = stock_folder(root)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch 128, fp32, 19pct net")
    s = stock(folder, args.batches)
    print(f"stock (ImageFolder + DataLoader(num_workers=2) + ToTensor/Normalize): {s:8.0f} img/s")
    e = engine(root, args.batches)
    print(f"engine (uint8 tensor in memory, batched normalize, channels_last):   {e:8.0f} img/s")
    c = ceiling(args.batches)
    print(f"ceiling (the model alone on one fixed in-memory batch):              {c:8.0f} img/s")
    print(f"ratio engine / stock: {e / s:.2f}x   (ceiling / stock: {c / s:.2f}x)")


if __name__ == "__main__":
    main()
