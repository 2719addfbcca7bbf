"""The CIFAR-10 paper's net stepping in fp32 and in bf16 autocast on this CPU, with LRN and without: images/s,
the bf16/fp32 ratio, and LRN's share of a step (1 - rate with LRN / rate without). One thread (the campaign runs
one process per core), a fixed batch of 128 24 px crops; the four cases are timed in turn, round after round, so
that whatever else shares the machine slows each alike; medians.

bf16 LRN takes models/lrn.py's bf16 path (fp32 arithmetic, the window sum as a matmul). `--old-lrn` times the
shifted-add path that bf16 maps took before, for comparison.

    python benchmarks/bf16_lrn.py [--rounds 12] [--out results/benchmarks/bf16_lrn.txt]

The output file is written by this script, never by hand.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from alexnet_repro.models import lrn  # noqa: E402
from alexnet_repro.models.alexnet import build_for_training, cifar_alexnet_config  # noqa: E402
from alexnet_repro.results import atomic_write_text, device_name, git_commit, package_versions  # noqa: E402


def stepper(normalization, precision, batch=128):
    torch.manual_seed(0)
    model = build_for_training(cifar_alexnet_config(normalization=normalization, init_std=0.03, hidden_bias=0.1), "cpu")
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, 24, 24).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,))

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = F.cross_entropy(model(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--steps", type=int, default=4, help="steps per case per round")
    parser.add_argument("--old-lrn", action="store_true", help="also time bf16 maps through the shifted-add path")
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parent.parent / "results" / "benchmarks" / "bf16_lrn.txt")
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    cases = {(n, p): stepper(n, p) for n in ("lrn", "none") for p in ("fp32", "bf16")}
    if args.old_lrn:
        fast = lrn._BF16LRNFunction.apply
        lrn._BF16LRNFunction.apply = lrn._LRNFunction.apply  # the path bf16 maps took before
        cases[("lrn", "bf16, old LRN")] = stepper("lrn", "bf16")
    times = {k: [] for k in cases}
    for _ in range(args.rounds):
        for key, step in cases.items():
            if args.old_lrn:
                lrn._BF16LRNFunction.apply = lrn._LRNFunction.apply if key[1] == "bf16, old LRN" else fast
            t0 = time.perf_counter()
            for _ in range(args.steps):
                step()
            times[key].append((time.perf_counter() - t0) / args.steps)
    rate = {k: 128 / statistics.median(v) for k, v in times.items()}
    lines = [
        f"# the CIFAR-10 paper's net, one thread, batch 128, {args.rounds} rounds x {args.steps} steps, medians",
        f"# commit {git_commit()}, {device_name('cpu')}, torch {package_versions()['torch']}",
    ]
    for (norm, prec), r in rate.items():
        lines.append(f"{'with LRN' if norm == 'lrn' else 'without LRN':<12} {prec:<14} {r:>7.0f} img/s")
    lines.append(
        f"bf16 / fp32 with LRN: {rate[('lrn', 'bf16')] / rate[('lrn', 'fp32')]:.2f}x; "
        f"without LRN: {rate[('none', 'bf16')] / rate[('none', 'fp32')]:.2f}x"
    )
    for prec in ("fp32", "bf16") + (("bf16, old LRN",) if args.old_lrn else ()):
        none = rate[("none", "bf16" if prec.startswith("bf16") else prec)]
        lines.append(f"LRN's share of a {prec} step: {100 * (1 - rate[('lrn', prec)] / none):.0f}%")
    print("\n".join(lines))
    atomic_write_text(args.out, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
