"""M1's speed side: "The two-GPU net takes slightly less time to train than the one-GPU net" (paper 3.2).

Seconds per training step (batch 128, 227 px, fp32, 1000 classes, PaperSGD) of:
  two GPUs       the paper's two-column net with a column on each of two GPUs (TwoDeviceAlexNet)
  one GPU, half  footnote 2's one-column net with half the kernels, on one GPU: the paper's comparison
  one GPU, both  the same two-column net as grouped convolutions on one GPU (what the claims train)
each on one fixed batch already on the device (data excluded: the nets' own time), in alternating
rounds. The paper's claim holds here if "two GPUs" is below "one GPU, half".

    python benchmarks/two_gpu_time.py            # needs two GPUs: writes results/benchmarks/two_gpu_time_gpu.txt
    python benchmarks/two_gpu_time.py --smoke    # CPU, tiny, both "devices" the CPU: the script's own smoke test
"""

import argparse
import datetime
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere
from alexnet_repro.models.alexnet import AlexNetConfig, build_for_training  # noqa: E402
from alexnet_repro.optim import PaperSGD, param_groups  # noqa: E402
from alexnet_repro.results import device_name, git_commit  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=REPO / "results" / "benchmarks" / "two_gpu_time_gpu.txt")
    args = ap.parse_args()
    if args.smoke:
        devices, width, crop, classes, batch, args.steps, args.rounds = ("cpu", "cpu"), 1 / 16, 67, 10, 16, 2, 1
    elif torch.cuda.device_count() >= 2:
        devices, width, crop, classes, batch = ("cuda:0", "cuda:1"), 1.0, 227, 1000, 128
    else:
        print(f"two_gpu_time: needs two GPUs, found {torch.cuda.device_count()} (--smoke runs it on the CPU)")
        return 2
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    devices = tuple(map(torch.device, devices))

    def sync():
        return [torch.cuda.synchronize(d) for d in devices if d.type == "cuda"]

    x = torch.randn(batch, 3, crop, crop, device=devices[0]).contiguous(memory_format=torch.channels_last) * 50
    y = torch.randint(0, classes, (batch,), device=devices[0])
    nets = {
        "two GPUs": (AlexNetConfig(width=width, input_size=crop, num_classes=classes), devices),
        "one GPU, half": (AlexNetConfig(width=width, input_size=crop, num_classes=classes, columns="half"), None),
        "one GPU, both": (AlexNetConfig(width=width, input_size=crop, num_classes=classes), None),
    }
    steps = {}
    for name, (cfg, on) in nets.items():
        torch.manual_seed(0)
        model = build_for_training(cfg, devices[0], on).train()
        opt = PaperSGD(param_groups(model, 5e-4), lr=0.01)

        def step(model=model, opt=opt):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        step()  # warm-up: cuDNN's algorithm search
        steps[name] = step
    per_step = {name: [] for name in nets}
    for _ in range(args.rounds):
        for name, step in steps.items():
            sync()
            t0 = time.perf_counter()
            for _ in range(args.steps):
                step()
            sync()
            per_step[name].append((time.perf_counter() - t0) / args.steps)
    ms = {k: 1e3 * sum(v) / len(v) for k, v in per_step.items()}
    lines = [
        f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%dT%H:%MZ} commit {git_commit()}; "
        f"{device_name(devices[0])} x{len(set(devices))}; torch {torch.__version__}",
        f"# python benchmarks/two_gpu_time.py {' '.join(sys.argv[1:])}",
        f"batch {batch}, crop {crop}, width {width}, fp32, {args.rounds} rounds x {args.steps} steps, one fixed batch",
    ]
    for k, v in ms.items():
        lines.append(f"  {k:14s} {v:8.1f} ms/step (rounds: {', '.join(f'{1e3 * t:.1f}' for t in per_step[k])})")
    lines.append(
        f"two GPUs / one GPU, half: {ms['two GPUs'] / ms['one GPU, half']:.2f}x "
        "(the paper: 'slightly less time', i.e. below 1)"
    )
    print("\n".join(lines))
    if not args.smoke:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")
        print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
