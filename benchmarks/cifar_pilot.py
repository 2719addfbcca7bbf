"""The pilot behind the CIFAR-10 AlexNet's cpu scale (claims/family/arms.py): what init trains, and how many
seeds the comparisons need. Everything here is evaluated on 5,000 held-out *training* images; the test
set, which the claims report, is never looked at.

1. Init probe: the paper's net, 2 epochs on 10,000 images at a constant rate 0.01, seed 100, for several
   (init std, bias) pairs: the paper's (0.01, 1), Caffe's bias 0.1, and larger stds.
2. Pilot: the cpu scale's recipe (15 epochs, rate annealed to zero) for the paper's net and the net
   without LRN, pilot seeds 1000-1002 (never the claims' seeds). The seed-to-seed SD of the paired
   difference gives, per comparison, the seeds for 80% power at 5% against its equivalence margin.

    python benchmarks/cifar_pilot.py --data-root PATH [--jobs 2] [--out results/benchmarks/cifar_pilot.txt]

The output file is written by this script (with its provenance), never by hand.
"""

import argparse
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
from alexnet_repro.claims.family import arms, training  # noqa: E402
from alexnet_repro.results import atomic_write_text, device_name, git_commit, package_versions  # noqa: E402
from alexnet_repro.verdict import seeds_for_power  # noqa: E402

PROBE = [(0.01, 1.0), (0.01, 0.1), (0.03, 1.0), (0.03, 0.1), (0.05, 0.1)]
PILOT_SEEDS = (1000, 1001, 1002)


def _train(args):
    cfg, arm_name, seed, data_root = args
    import torch

    torch.set_num_threads(1)  # two single-thread processes beat one two-thread process on these small convs
    fam = training.Family(cfg, "pilot", "cpu", data_root)
    row, curve = fam.train_arm(arms.CATALOGUE[arm_name], seed)
    return row, curve


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="a tiny run of the whole script (tests)")
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parent.parent / "results" / "benchmarks" / "cifar_pilot.txt")
    )
    args = parser.parse_args()
    os.environ.setdefault("ALEXNET_REPRO_QUIET", "1")
    cpu = arms.SCALES["cpu"]
    if args.smoke:
        cpu = replace(cpu, n_train=256, holdout=128, epochs=2, train_eval_images=64)
    probe_cfg = replace(cpu, epochs=2 if not args.smoke else 1, schedule="constant", lr=0.01, evaluate_on="holdout")
    pilot_cfg = replace(cpu, evaluate_on="holdout")
    lines, t0 = [], time.time()
    say = lambda s="": (lines.append(s), print(s, flush=True))  # noqa: E731
    say(
        f"# CIFAR-10 AlexNet pilot ({'smoke' if args.smoke else 'cpu scale'}): evaluated on "
        f"{cpu.holdout} held-out training images only"
    )
    say(
        f"# commit {git_commit()}, {device_name('cpu')}, torch {package_versions()['torch']}, {args.jobs} "
        "processes x 1 thread"
    )
    jobs = [
        (replace(probe_cfg, init_std=std, hidden_bias=bias), arms.PAPER.name, 100, args.data_root)
        for std, bias in PROBE
    ]
    jobs += [
        (pilot_cfg, arm, seed, args.data_root) for seed in PILOT_SEEDS for arm in (arms.PAPER.name, arms.NO_LRN.name)
    ]
    with ProcessPoolExecutor(args.jobs) as pool:
        out = list(pool.map(_train, jobs))
    say("\n## 1. init probe: the paper's net, 2 epochs at rate 0.01, seed 100")
    say("init std  bias   held-out error by epoch (%)   training loss by epoch")
    for (std, bias), (row, curve) in zip(PROBE, out):
        errors = " ".join(f"{100 * c['test_error']:.1f}" for c in curve)
        losses = " ".join(f"{c['train_loss']:.3f}" for c in curve)
        say(f"{std:<9} {bias:<6} {errors:<29} {losses}")
    rows = [r for r, _ in out[len(PROBE) :]]
    by = {(r["arm"], r["seed"]): r for r in rows}
    say(
        f"\n## 2. pilot: cpu recipe ({pilot_cfg.epochs} epochs, {pilot_cfg.schedule}, init std {pilot_cfg.init_std}, "
        f"biases {pilot_cfg.hidden_bias}), seeds {list(PILOT_SEEDS)}"
    )
    say("arm              seed  held-out top-1  train top-1  late gain  final train loss  wall s")
    for r in rows:
        say(
            f"{r['arm']:<16} {r['seed']:<5} {r['val_top1']:>14.2f} {r['train_top1']:>12.2f} {r['late_gain']:>10.2f} "
            f"{r['final_train_loss']:>17.4f} {r['wall_time_s']:>7.0f}"
        )
    diffs = [by[(arms.PAPER.name, s)]["val_top1"] - by[(arms.NO_LRN.name, s)]["val_top1"] for s in PILOT_SEEDS]
    mean = sum(diffs) / len(diffs)
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1))
    say(f"\npaired difference (LRN - none), per seed: {', '.join(f'{d:+.2f}' for d in diffs)}; SD {sd:.2f} points")
    say("seeds for 80% power (two-sided 5%) against each equivalence margin, at this SD:")
    summary = {"paired_sd": sd, "seeds_needed": {}}
    for margin in (0.2, 0.5, 0.7, 0.75, 0.85, 1.0):
        n = seeds_for_power(sd, margin)
        summary["seeds_needed"][str(margin)] = n
        say(f"  margin {margin:.2f} points: {n} seeds")
    say(f"\nwall time {time.time() - t0:.0f} s")
    say("json " + json.dumps(summary))
    atomic_write_text(args.out, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
