"""How soon does the full-width AlexNet leave chance on Imagenette, for a given weight-init std?

The gpu scale of the ImageNet-shaped claims (D2 and the ablation family) trains the paper's net at
full width on 227 crops with the paper's recipe: weights N(0, std 0.01), biases 1 in conv2/4/5 and
the fully connected layers, SGD at lr 0.01. On an H200 all three D2 seeds sat at chance (loss
ln 10 = 2.30) for the whole 40 epochs (results/ten_patch/gpu). With 0-255 inputs and std 0.01 each
layer scales its input's variance by fan_in * 1e-4 / 2 (ReLU), well below 1 from conv2 on, so the
signal reaching fc8 is tiny next to the constant biases; the paper had ~450,000 SGD steps to get
out of that plateau, 40 epochs of Imagenette are ~3,000. This trains the family's paper's net at the scale
(claims/family/training.py's Family, its run store included) for a few epochs per std and prints the curves, to
choose the gpu scale's std on evidence.

    python benchmarks/init_probe.py --init-std 0.01 0.02 --epochs 10 [--lr 0.01] [--scale gpu] [--device cuda]
"""

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
from alexnet_repro.claims.contract import scale_config
from alexnet_repro.claims.family.arms import PAPER, SCALES
from alexnet_repro.claims.family.training import Family


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--init-std", type=float, nargs="+", required=True)
    ap.add_argument("--lr", type=float, default=None, help="default: the scale's")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--scale", default="gpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default=None)
    ap.add_argument("--data-root", default=None)
    args = ap.parse_args()
    for std in args.init_std:
        cfg = replace(scale_config(SCALES, args.scale), init_std=std, epochs=args.epochs)
        cfg = replace(cfg, lr=args.lr or cfg.lr)
        family = Family(cfg, args.scale, args.device, args.data_root)
        row, curve = family.train_arm(PAPER, args.seed, ten_view=True)
        print(
            f"init std {std}, {cfg.width}x width, crop {cfg.crop}, lr {cfg.lr}, seed {args.seed} on "
            f"{family.data.name} ({len(family.splits.train_y)} train images), {family.device}:"
        )
        print("  epoch  train loss  running train error  val error (centre crop)")
        for h in curve:
            print(
                f"  {h['epoch']:5d}  {h['train_loss']:10.3f}  {100 * h['train_error_running']:18.1f}%  "
                f"{100 * h['test_error']:9.1f}%"
            )
        print(
            f"  {row['status']} after {row['epochs']} epochs: top-1 centre {row['val_top1']:.1f}%, 10 patches {row['val_top1_ten']:.1f}%"
            f"; {row['wall_time_s']:.0f} s\n"
        )


if __name__ == "__main__":
    main()
