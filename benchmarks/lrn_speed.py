"""Micro-benchmark: the suite's LocalResponseNorm vs torch.nn.LocalResponseNorm on this machine.

Input is an AlexNet conv1-like activation (after ReLU): batch 32, 96 x 55 x 55, in contiguous
(NCHW) and channels_last layouts. Constants match (per_size convention == torch's formula).

    python benchmarks/lrn_speed.py [--batch 32] [--repeats 10] [--device cpu]
"""

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
from alexnet_repro.models.lrn import LocalResponseNorm


def bench(fn, repeats, device):
    fn()  # warm-up: allocator, kernels
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]  # median: robust to other jobs sharing the CPU


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--device", default="cpu")
    args = p.parse_args()

    ours = LocalResponseNorm(5, 1e-4, 0.75, 2.0, alpha_convention="per_size")
    theirs = torch.nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0)
    print(
        f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, "
        f"input ({args.batch}, 96, 55, 55) float32, median of {args.repeats}"
    )
    print(f"{'layout':15s} {'pass':13s} {'ours ms':>9s} {'torch ms':>9s} {'torch/ours':>10s}")
    for layout in ("contiguous", "channels_last"):
        fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
        x = torch.randn(args.batch, 96, 55, 55, device=args.device).relu_().mul_(5)
        x = x.contiguous(memory_format=fmt).requires_grad_(True)
        g = torch.randn_like(x)
        for name in ("forward", "fwd+bwd"):

            def run(m):
                if name == "forward":
                    with torch.no_grad():
                        m(x)
                else:
                    m(x).backward(g)
                    x.grad = None

            t_ours = bench(lambda: run(ours), args.repeats, args.device)
            t_torch = bench(lambda: run(theirs), args.repeats, args.device)
            print(f"{layout:15s} {name:13s} {1e3 * t_ours:9.1f} {1e3 * t_torch:9.1f} {t_torch / t_ours:10.2f}")


if __name__ == "__main__":
    main()
