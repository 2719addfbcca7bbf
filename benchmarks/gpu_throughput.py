"""Training images/second on one GPU: this suite's path, torchvision's stock recipe, and the model alone.

  (1) suite: engine.train itself on the paper's net (AlexNetConfig(): full width, 227 crops), the uint8
      images resident on the device, random crop + flip minus the mean image's crop and PCA lighting
      batched there, with the fast-path switches (default bf16 autocast, channels_last, torch.compile
      "inductor"); the rate over the epochs after the first, compile time reported apart. With --jobs N,
      N such runs side by side in N processes on the one GPU, and their sum.
  (2) stock: torchvision.models.alexnet, fp32, on ImageFolder + DataLoader(--workers, pin_memory) with
      RandomResizedCrop(224), RandomHorizontalFlip, ToTensor, Normalize per image in the workers: the
      recipe of PyTorch's ImageNet example; SGD momentum 0.9.
  (3) model alone: (1)'s net, switches and optimizer stepping on one fixed batch already on the device:
      the ceiling for (1).
Then the ratios (1)/(2) and (1)/(3). The issue's goals: (1) >= 25,000 img/s on an H200, >= 3x (2).

    python benchmarks/gpu_throughput.py --archive /tmp/data/imagenette-224.tar.gz --jobs 3   # on the GPU
    python benchmarks/gpu_throughput.py --synthetic 4096                                     # no archive
    python benchmarks/gpu_throughput.py --smoke    # seconds on a CPU: every path runs, tiny (tests)

A real run writes what it prints to results/benchmarks/gpu_throughput.txt (--out to change; it is also
printed), headed by the commit, device, packages and command: the committed file is this script's output.
--archive is an ImageFolder tree or .tar.gz (scripts/carry_data.py brings Imagenette to the GPU machine);
--synthetic N writes N smooth random JPEGs at --size px instead (their decoding costs the stock recipe
about what real photographs do; the file says which data ran).
"""

import argparse
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
from alexnet_repro.data.augment import center_crop, pca_lighting, random_crop_flip  # noqa: E402
from alexnet_repro.data.errors import DataError  # noqa: E402
from alexnet_repro.data.imagefolder import extract_archive, find_root, load_imagefolder  # noqa: E402
from alexnet_repro.data.splits import Splits  # noqa: E402
from alexnet_repro.engine import TrainSpec, _autocast, train  # noqa: E402
from alexnet_repro.models.alexnet import AlexNetConfig, build_alexnet  # noqa: E402
from alexnet_repro.optim import build_optimizer  # noqa: E402
from alexnet_repro.paths import cache_dir, results_root  # noqa: E402
from alexnet_repro.results import git_commit  # noqa: E402
from alexnet_repro.seeds import seed_everything  # noqa: E402
from benchmarks.common import fast_path, synthetic_tree  # noqa: E402

SMOKE = dict(
    width=1 / 16,
    crop=67,
    size=80,
    batch_size=7,
    epochs=2,
    steps=2,
    synthetic=32,
    workers=0,
    compile="aot_eager",
    device="cpu",
)


def suite_setup(args, device):
    """The dataset on the device as the claims hold it, its mean image and PCA, and the ImageFolder root."""
    data = load_imagefolder(args.source, size=args.size, cache=args.cache, workers=max(1, args.workers))
    data = data.to(device)
    if not isinstance(data.train_x, torch.Tensor):
        raise ValueError("the training images do not fit on the device: this benchmark times the resident path")
    root = find_root(extract_archive(args.source, args.cache)) if args.source.is_file() else find_root(args.source)
    return data, root


def suite_spec(args, seed=0):
    # lr 0.001, hidden biases 0.1 (below): a throughput run must not diverge and stop early; its numbers are not read.
    return TrainSpec(
        lr=0.001,
        momentum=0.9,
        weight_decay=5e-4,
        optimizer="paper_sgd",
        decay_biases=False,
        batch_size=args.batch_size,
        max_epochs=args.epochs,
        precision=args.precision,
        compile=args.compile,
        seed=seed,
    )


def paper_net(args, n_classes, device):
    cfg = AlexNetConfig(width=args.width, input_size=args.crop, num_classes=n_classes, hidden_bias=0.1)
    return build_alexnet(cfg).to(device, memory_format=torch.channels_last)


def run_suite(args, seed=0):
    """(1): images/s of engine.train over the epochs after the first, and the compile time."""
    device = torch.device(args.device)
    data, _ = suite_setup(args, device)
    mean = torch.from_numpy(np.asarray(data.mean_image)).to(device)
    eig = [torch.from_numpy(np.asarray(a)).to(device) for a in (data.pca_eigvals, data.pca_eigvecs)]

    def augment(b, s):
        return pca_lighting(random_crop_flip(b, args.crop, s("crop"), mean), *eig, 0.1, s("lighting"))

    k = args.batch_size  # the per-epoch evaluation passes (train error, test error at the end) kept to one batch
    small = Splits(data.train_x[:k], data.train_y[:k], data.test_x[:k], data.test_y[:k])
    seed_everything(seed, "init")
    model = paper_net(args, len(data.classes), device)
    result = train(
        model,
        Splits(data.train_x, data.train_y, small.test_x, small.test_y),
        lambda b: center_crop(b, args.crop, mean),
        suite_spec(args, seed),
        augment=augment,
        train_eval=small,
        test_every_epoch=False,
    )
    h = result.history
    if len(h) < 2:
        raise ValueError(f"the run stopped after {len(h)} epoch(s) ({result.status}): no steady epochs to time")
    rate = (h[-1]["images_seen"] - h[0]["images_seen"]) / (h[-1]["wall_time_s"] - h[0]["wall_time_s"])
    return rate, sum(r.get("compile_time_s", 0.0) for r in h), len(data.train_y)


_BARRIER = None


def _join_barrier(barrier):
    global _BARRIER
    _BARRIER = barrier


def _suite_job(args, seed):
    _BARRIER.wait()  # the jobs start together, so their timed epochs overlap
    return run_suite(args, seed)[0]


def suite_side_by_side(args):
    """(1) with args.jobs processes on the one device at once: each one's rate."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(args.jobs, initializer=_join_barrier, initargs=(ctx.Barrier(args.jobs),)) as pool:
        return pool.starmap(_suite_job, [(args, seed) for seed in range(args.jobs)])


def timed_steps(step, batches, steps, warmup, device):
    """images/s over `steps` calls of step(x, y) after `warmup` calls (compiling, cuDNN's choice), and the
    warm-up's seconds."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    t0 = time.perf_counter()
    for _ in range(warmup):
        step(*next(batches))
    sync()
    t1 = time.perf_counter()
    n = 0
    for _ in range(steps):
        x, y = next(batches)
        step(x, y)
        n += len(y)
    sync()
    return n / (time.perf_counter() - t1), t1 - t0


def run_model_alone(args, n_classes, fixed_x, fixed_y):
    """(3): (1)'s net, switches and optimizer on one fixed batch."""
    device = fixed_x.device
    spec = suite_spec(args)
    seed_everything(0, "init")
    model = paper_net(args, n_classes, device)
    net = torch.compile(model, backend=args.compile, dynamic=False) if args.compile else model
    opt = build_optimizer(model, spec)

    def step(x, y):
        with _autocast(device, spec.precision):
            loss = F.cross_entropy(net(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return timed_steps(step, iter(lambda: (fixed_x, fixed_y), None), args.steps, args.warmup, device)


def run_stock(args, root, n_classes, device):
    """(2): torchvision's alexnet and the stock ImageFolder + DataLoader recipe, fp32."""
    import torchvision
    from torchvision import transforms as T

    crop = args.crop - 3  # torchvision's 224 where the paper's net takes 227
    tf = T.Compose(
        [
            T.RandomResizedCrop(crop),
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
        persistent_workers=args.workers > 0,
    )
    torch.manual_seed(0)
    model = torchvision.models.alexnet(num_classes=n_classes).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9, weight_decay=1e-4)

    def batches():
        while True:
            for x, y in loader:
                yield x.to(device, non_blocking=True), y.to(device, non_blocking=True)

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    feed = batches()
    try:
        return timed_steps(step, feed, args.steps, args.warmup, device)
    finally:
        feed.close()  # ends the loader's workers before anything else is timed


def header(args, device, data_note):
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    spec = suite_spec(args)
    return [
        f"# {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())} commit {git_commit()}; {name}; torch {torch.__version__}; "
        f"python {platform.python_version()}; {os.cpu_count()} cpus",
        f"# python benchmarks/gpu_throughput.py {' '.join(sys.argv[1:])}",
        f"# data: {data_note}; batch {args.batch_size}; the paper's net at width {args.width:g}, crop {args.crop}",
        f"# fast path of (1) and (3): {fast_path(spec)}",
    ]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archive", type=Path, help="ImageFolder tree or .tar.gz (default: --synthetic)")
    ap.add_argument("--synthetic", type=int, default=4096, help="JPEGs to generate when no --archive is given")
    ap.add_argument("--size", type=int, default=256, help="stored size of the suite's cache (shorter side)")
    ap.add_argument("--crop", type=int, default=227)
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=6, help="(1): epochs per run; the first is not timed")
    ap.add_argument("--steps", type=int, default=50, help="(2), (3): timed steps")
    ap.add_argument("--warmup", type=int, default=5, help="(2), (3): untimed steps first")
    ap.add_argument("--jobs", type=int, default=1, help="(1) also with this many runs side by side")
    ap.add_argument("--workers", type=int, default=min(12, os.cpu_count() or 1), help="(2)'s DataLoader workers")
    ap.add_argument("--precision", default="bf16", choices=["fp32", "bf16"])
    ap.add_argument("--compile", default="inductor", help="torch.compile backend for (1), (3); '' for none")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", type=Path, help="default results/benchmarks/gpu_throughput.txt (none with --smoke)")
    ap.add_argument("--smoke", action="store_true", help="tiny, on the CPU, in seconds: every path runs")
    args = ap.parse_args(argv)
    if args.smoke:
        for k, v in SMOKE.items():
            setattr(args, k, v)
        args.steps = args.warmup = 2
    out = args.out or (None if args.smoke else results_root() / "benchmarks" / "gpu_throughput.txt")
    device = torch.device(args.device)
    lines = []

    def say(line=""):
        print(line, flush=True)
        lines.append(line)

    with tempfile.TemporaryDirectory(prefix="gpu_throughput-") as tmp:
        if args.archive and not args.archive.exists():
            raise ValueError(f"no archive or folder at {args.archive}")
        if args.archive:
            args.source, args.cache, note = args.archive, cache_dir(), f"{args.archive.name}"
        else:  # a throwaway dataset: its decoded cache goes with it
            args.source = synthetic_tree(Path(tmp) / "synthetic", args.synthetic, args.size)
            args.cache, note = Path(tmp) / "cache", f"{args.synthetic} synthetic JPEGs of {args.size} px"
        for line in header(args, device, note):
            say(line)
        rate1, compile_s, n_train = run_suite(args)
        say(
            f"(1) suite, engine.train, {n_train} resident images x {args.epochs - 1} timed epochs: "
            f"{rate1:10.1f} img/s   (compile {compile_s:.1f} s, apart)"
        )
        which = "(1)"
        if args.jobs > 1:
            rates = suite_side_by_side(args)
            say(
                f"(1) suite, {args.jobs} runs side by side:  {sum(rates):10.1f} img/s in all   "
                f"(each: {', '.join(f'{r:.0f}' for r in rates)})"
            )
            if sum(rates) > rate1:
                rate1, which = sum(rates), f"(1) x {args.jobs}"
        data, root = suite_setup(args, device)
        rate2, _ = run_stock(args, root, len(data.classes), device)
        say(f"(2) torchvision alexnet + ImageFolder/DataLoader ({args.workers} workers), fp32: {rate2:10.1f} img/s")
        mean = torch.from_numpy(np.asarray(data.mean_image)).to(device)
        fixed_x = center_crop(data.train_x[: args.batch_size], args.crop, mean)
        rate3, warm_s = run_model_alone(args, len(data.classes), fixed_x, data.train_y[: args.batch_size])
        say(f"(3) the paper's net alone on one fixed batch: {rate3:10.1f} img/s   (warm-up and compile {warm_s:.1f} s)")
        say(
            f"ratios: {which}/(2) = {rate1 / rate2:.2f}x (goal >= 3x); {which}/(3) = {rate1 / rate3:.2f} "
            f"(the model's speed the whole path keeps); goal: (1) >= 25,000 img/s on an H200"
        )
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n")
        print(f"written to {out}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ValueError, DataError) as e:  # a user's mistake (no data, too little of it): one line
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
