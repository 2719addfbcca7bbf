"""The pilot behind the cpu-regime scale (claims/family/arms.py): how many epochs put the CIFAR-10 paper's net into
the regime the family's claims are about. Everything is evaluated on the 5,000 held-out *training* images; the
test set, which the claims report, is never looked at.

The regime, declared before this pilot ran (issue 20):
  converged  the last 3 epochs gain under 1 point of held-out top-1 error (the rule declared at 687afd0);
  overfits   the train-validation gap (held-out top-1 minus the centre-crop error on the fixed training sample,
             both in eval mode) is at least 8 points at the end.
Candidates: the cpu scale's recipe (10,000 images, rate annealed linearly to zero) for EPOCHS epochs, the paper's
net, pilot seed 2000 (never a claim's seed). The scale takes the fewest candidate epochs that meet both.

    python benchmarks/regime_pilot.py --data-root PATH [--jobs 2] [--epochs 40,60] [--out ...]

The output file is written by this script (with its provenance), never by hand.
"""

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
from alexnet_repro.claims.family import arms, training  # noqa: E402
from alexnet_repro.results import atomic_write_text, device_name, git_commit, package_versions  # noqa: E402

PILOT_SEED = 2000
CONVERGED_GAIN, OVER_3_EPOCHS, OVERFITS_GAP = 1.0, 3, 8.0


def _train(args):
    cfg, data_root = args
    import torch

    torch.set_num_threads(1)  # two single-thread processes beat one two-thread process on these small convs
    fam = training.Family(cfg, "regime-pilot", data_root=data_root)
    return fam.train_arm(arms.PAPER, PILOT_SEED)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--epochs", default="40,60", help="candidate epochs, comma-separated")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--smoke", action="store_true", help="a tiny run of the whole script (tests)")
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parent.parent / "results" / "benchmarks" / "regime_pilot.txt")
    )
    args = parser.parse_args()
    os.environ.setdefault("ALEXNET_REPRO_QUIET", "1")
    base = replace(arms.SCALES["cpu"], evaluate_on="holdout", precision=args.precision)
    if args.smoke:
        base = replace(base, n_train=256, holdout=128, train_eval_images=64)
    candidates = [int(e) for e in args.epochs.split(",")]
    lines, t0 = [], time.time()
    say = lambda s="": (lines.append(s), print(s, flush=True))  # noqa: E731
    say(
        f"# cpu-regime pilot: the paper's net on {base.n_train} CIFAR-10 images, evaluated on {base.holdout} held-out "
        "training images only"
    )
    say(
        f"# commit {git_commit()}, {device_name('cpu')}, torch {package_versions()['torch']}, {args.jobs} processes "
        f"x 1 thread, {args.precision}"
    )
    say(f"# regime: last {OVER_3_EPOCHS} epochs gain < {CONVERGED_GAIN} point; final gap >= {OVERFITS_GAP} points")
    with ProcessPoolExecutor(args.jobs) as pool:
        out = list(pool.map(_train, [(replace(base, epochs=e), args.data_root) for e in candidates]))
    summary = {}
    for epochs, (row, curve) in zip(candidates, out):
        val = [100 * c["test_error"] for c in curve]
        train = [100 * c["train_error_full"] for c in curve]
        gain3 = val[-1 - OVER_3_EPOCHS] - val[-1]
        gap = val[-1] - train[-1]
        ok = gain3 < CONVERGED_GAIN and gap >= OVERFITS_GAP
        summary[epochs] = {
            "gain_last_3": gain3,
            "gap": gap,
            "held_out_top1": val[-1],
            "train_top1": train[-1],
            "meets_regime": ok,
            "wall_time_s": row["wall_time_s"],
        }
        say(f"\n## {epochs} epochs, linear to zero, seed {PILOT_SEED}: {'meets' if ok else 'misses'} the regime")
        say(
            f"held-out top-1 {val[-1]:.2f}, training-sample top-1 {train[-1]:.2f}, gap {gap:.2f}; last 3 epochs "
            f"gained {gain3:.2f}; {row['wall_time_s']:.0f} s"
        )
        say("epoch  held-out  train-sample  gap")
        for i, (v, t) in enumerate(zip(val, train), 1):
            say(f"{i:>5} {v:>9.2f} {t:>13.2f} {v - t:>5.2f}")
    chosen = min((e for e in candidates if summary[e]["meets_regime"]), default=None)
    say(f"\nchosen: {chosen if chosen else 'none of the candidates meets the regime'}")
    say(f"wall time {time.time() - t0:.0f} s")
    say("json " + json.dumps({"chosen": chosen, "candidates": summary}))
    atomic_write_text(args.out, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
