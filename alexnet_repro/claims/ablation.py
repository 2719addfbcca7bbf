"""The AlexNet ablations (L2, BN, O1, M1, D2, D3, DR1, T1, E5): one switch against the paper's net.

Every claim of this family compares arms that differ in exactly one switch of the paper's recipe,
everything else held equal: the same data, crops, seeds, learning rate and number of epochs. The
paper's own net and recipe is the arm `PAPER`: two columns, LRN, overlapping pooling, dropout 0.5,
weight decay 5e-4 (PaperSGD, T2), random crops + flips and PCA lighting (D2, D3). The other arms
change one thing. All arms of the family share one run store, so the `PAPER` arm, which nearly
every claim compares against, trains once per seed for the whole family.

A claim module of the family declares, before any run:
  CLAIM, PAPER_NUMBERS, RULE          what the paper says and the rule its verdict follows
  COMPARISONS                         [Comparison(label, treatment arm, control arm, metric)]
and takes the contract's functions (contract.py) from `entry_points`. The effect of a comparison is, per seed,
metric(treatment) - metric(control) (or their ratio, for metrics that are counts of epochs),
summarized by its mean and 95% t-interval over seeds; `verdict.decide` turns it into the verdict.

What each run records (per arm and seed): the validation error of the centre crop (top-1 every
epoch, top-5 at the end), the training error of the same centre-crop pass (eval mode) over a fixed
training sample (so the train-validation gap compares like with like: same crops, no dropout), the
running training error, seconds per epoch and the epoch at which the run converged (below).

Convergence (DR1), defined before any run: the first epoch at which the validation top-1 error
comes within 1 point of the best that run reaches.

The proxy (cpu scale): CIFAR-10 and the CIFAR-10 AlexNet (models/alexnet.py: every switch of the 2012 net,
its two-column wiring, for 24 px crops of 32 px images), 10,000 training images, 15 epochs with the rate
annealed to zero, so that each run ends converged (late_gain) within minutes on 2 CPU cores. ImageNet at
224 px, 1000 classes and 90 epochs is out of their reach; the gpu and paper scales run the full net on
ImageNet-layout data. The Imagenette runs of the cpu scale before protocol v2 are the "imagenette" scale.
A comparison may also measure one net two ways (D2's test half: `treatment_metric`, 10 views).

An inconclusive cpu result is the pilot of a confirmation, the scale "cpu-confirmation" (book/method.md):
the cpu config and run store on fresh seeds, as many as the pilot's seeds_needed, decided alone.
"""

import math
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import distributed
from ..data.augment import center_crop, pca_lighting, pixel_pca, predict, random_crop_flip, topk_errors
from ..data.cifar10 import CLASSES as CIFAR_CLASSES
from ..data.cifar10 import load_cifar10
from ..data.imagefolder import find_dataset, load_imagefolder
from ..data.splits import Splits
from ..engine import TrainSpec, pick_device
from ..fmt import fmt_interval
from ..models.alexnet import CIFAR_ALEXNET, AlexNetConfig, build_for_training, two_devices_for
from ..paths import results_root
from ..results import load_result, write_result
from ..runs import cached_beside_run, cached_train, default_work_dir, final_model, stored_record
from ..verdict import (
    DIRECTION,
    INCONCLUSIVE,
    NOT_TESTABLE,
    PLUMBING,
    REASONS,
    V2,
    V3,
    as_finding,
    combine,
    decide,
    does_not_overfit,
    holm,
    measure_effect,
    seeds_for_power,
    size_text,
    summarize,
)
from . import CONFIRMATION, REGIME, contract, scale_config
from .contract import Assessment, Trained, value

FAMILY = "alexnet_ablations"  # the run store shared by every claim of the family
CONVERGED_WITHIN = 0.01  # 1 point of validation top-1 error
# A net must get this many points of top-1 error below chance to count as having learned anything
# (added after D2's first gpu-scale run, whose nets all stayed at chance: a check on the net, not a rule).
LEFT_CHANCE_BY = 5.0


def left_chance(top1_error, n_classes):
    """Whether a net's top-1 error (%) is LEFT_CHANCE_BY points below chance; NaN (diverged) is not."""
    return bool(top1_error < 100 * (1 - 1 / n_classes) - LEFT_CHANCE_BY)


@dataclass(frozen=True)
class Arm:
    name: str
    net: tuple = ()  # AlexNetConfig overrides, as (field, value) pairs
    weight_decay: float = 5e-4  # T2
    pca: bool = True  # D3
    crop_flip: bool = True  # D2's training half: random crops + flips (else the centre crop)

    def net_config(self, base: AlexNetConfig) -> AlexNetConfig:
        return replace(base, **dict(self.net))

    def describe(self):
        return {"net": dict(self.net), "weight_decay": self.weight_decay, "pca": self.pca, "crop_flip": self.crop_flip}


# The catalogue of arms: each is the paper's net with one switch changed. Arms are identified in
# the run store by their config, not their name, so two claims naming the same arm share its runs.
PAPER = Arm("paper's net")
NO_LRN = Arm("no LRN", (("normalization", "none"),))
BATCHNORM = Arm("batch norm", (("normalization", "batchnorm"),))
NON_OVERLAPPING = Arm("pooling 2/2", (("pooling", "non_overlapping"),))
ONE_COLUMN = Arm("one column, half the kernels", (("columns", "half"),))
NO_PCA = Arm("no PCA lighting", pca=False)
NO_DROPOUT = Arm("no dropout", (("dropout", 0.0),))
NO_DECAY = Arm("no weight decay", weight_decay=0.0)
NO_CROP_FLIP = Arm("no crops or flips", crop_flip=False)
WITHOUT = {layer: Arm(f"without {layer}", (("remove", layer),)) for layer in ("conv3", "conv4", "conv5")}
CATALOGUE = {
    a.name: a
    for a in (
        PAPER,
        NO_LRN,
        BATCHNORM,
        NON_OVERLAPPING,
        ONE_COLUMN,
        NO_PCA,
        NO_DROPOUT,
        NO_DECAY,
        NO_CROP_FLIP,
        *WITHOUT.values(),
    )
}


@dataclass(frozen=True)
class Comparison:
    label: str
    treatment: Arm
    control: Arm
    metric: str = "val_top1"  # a column of the seeds table; points (x100) unless a ratio metric
    ratio: bool = False  # effect = treatment / control instead of the difference
    decides: bool = True  # False: reported beside the verdict, not part of it
    paper: float = None  # the paper's value of this effect, where it gives one
    needs_overfitting: bool = False  # a claim about overfitting: not testable where the control does not overfit
    not_testable: str = None  # why this comparison cannot be tested by this design at all (stated before the runs)
    treatment_metric: str = None  # the treatment's column where it differs (D2's test half: the same net, 10 views)

    @property
    def ten_view(self):
        return (self.treatment_metric or "").endswith("_ten")


@dataclass
class Config:
    """A scale of the family (D2 uses it too): the data, the net's size and the recipe."""

    cache_size: int  # D1's 256 at the paper scale; smaller for the proxies; 32 for CIFAR-10
    crop: int  # 227 (the size that gives conv1 55x55); 99 / 67 for the proxies; 24 for CIFAR
    width: float  # AlexNet width multiplier
    epochs: int
    seeds: tuple = (0, 1, 2)
    lr: float = 0.01
    init_std: float = 0.01
    n_train: int = 0  # 0 = the whole split
    n_val: int = 0
    train_eval_images: int = 0  # the training sample of the gap's training error; 0 = as many as validation
    batch_size: int = 128
    precision: str = "fp32"
    model_parallel: bool = False  # the two-column net with a column per GPU where a process has two (M1's timing)
    data: str = "imagefolder"  # "imagefolder" (ImageNet layout) | "cifar10" (the CIFAR-10 AlexNet)
    schedule: str = "constant"  # optim.lr_factor
    hidden_bias: float = 1.0  # T3's biases of 1 (AlexNetConfig.hidden_bias)
    holdout: int = 0  # CIFAR-10: training images held out as the validation split for choices
    evaluate_on: str = "test"  # "test" (what claims report) | "holdout" (pilots and choices only)


# The regime's epochs, chosen by the regime pilot on held-out training images (results/benchmarks/regime_pilot.txt):
# of 30, 40 and 60 epochs only 60 met the regime (the paper's net's last 3 epochs gained 0.20 points, its gap was
# 11.8; at 40: 0.42 and 6.9). A run of the paper's net is ~10 min of one core in bf16 here (22 min in fp32 under load).
REGIME_EPOCHS = 60

# The CIFAR-10 AlexNet's init and rate, chosen on 5,000 held-out training images (never the test set)
# by a short probe (2 epochs, 10,000 images, seed 100; results/benchmarks/cifar_init_probe.txt): the paper's
# init (weights N(0, 0.01), biases 1) stayed at chance (90.0% held-out error) and so did std 0.01 with biases
# 0.1; std 0.03 with biases 1 reached 83%, std 0.03 with biases 0.1 (Caffe's bvlc_alexnet value) 71%.
CIFAR_CHOICES = dict(init_std=0.03, hidden_bias=0.1, lr=0.01)

SCALES = {
    "smoke": Config(cache_size=76, crop=67, width=0.125, epochs=2, seeds=(0, 1), n_train=256, n_val=128),
    # The CIFAR-10 AlexNet (models/alexnet.py, cifar_alexnet_config), which converges on 2 CPU cores: a
    # class-balanced 10,000 of the training images, 15 epochs with the rate annealed linearly to zero, the
    # 10,000 test images. The paper's net ran ~1,200 img/s here (LRN is half its step), so ~3 min per run of
    # the paper's net, ~2 min for an arm without LRN. Init and rate chosen on 5,000 held-out training images
    # (CIFAR_CHOICES). Seeds, fixed before the runs from the pilot (benchmarks/cifar_pilot.py, 3 pilot seeds on
    # held-out images: LRN - none = -1.06, -1.26, -1.78 points, SD 0.37): 4 seeds give 80% power against M1's
    # and E5's margins (0.92, 1.08 points); L2's (0.76) needs 5, D3, T1 and BN's (0.5) 7, O1's (0.22) ~30, beyond
    # this CPU's budget (11 arms x 4 seeds ~ 70 min with --jobs 2): those report the seeds they would need.
    "cpu": (
        CPU := Config(
            data="cifar10",
            cache_size=32,
            crop=24,
            width=0.25,
            epochs=15,
            n_train=10_000,
            holdout=5_000,
            train_eval_images=2_000,
            schedule="linear_to_zero",
            **CIFAR_CHOICES,
            seeds=(0, 1, 2, 3),
        )
    ),
    # The confirmation of an inconclusive cpu result (confirmation_seeds): the cpu config and its run store, on
    # the fresh seeds its pilot (PILOT_SCALE) fixes.
    CONFIRMATION: replace(CPU, seeds=()),
    # The regime (issue 20; REGIME_NOTE): the cpu recipe trained REGIME_EPOCHS epochs, the number the regime pilot
    # chose on held-out images (benchmarks/regime_pilot.py -> results/benchmarks/regime_pilot.txt), in bf16
    # autocast (models/lrn.py's bf16 path). Each claim's seeds: 0 to n-1, n fixed before the runs by
    # scripts/plan_regime.py (results/benchmarks/regime_plan.json; regime_seeds). Read by protocol v3.
    REGIME: replace(CPU, epochs=REGIME_EPOCHS, precision="bf16", seeds=()),
    # The ImageNet-layout proxy the cpu scale used before protocol v2 (Imagenette at 67 px, 8 epochs at a
    # constant rate): kept so its committed results can be re-read, not as a scale that decides.
    "imagenette": Config(cache_size=76, crop=67, width=0.25, epochs=8, init_std=0.03, train_eval_images=2000),
    # D2's gpu scale: the paper's init and lr leave a full-width net at chance on Imagenette (see ten_patch).
    "gpu": Config(cache_size=256, crop=227, width=1.0, epochs=40, init_std=0.02, lr=0.001),
    "paper": Config(cache_size=256, crop=227, width=1.0, epochs=90, seeds=(0,), model_parallel=True),
}


def family_config(scale, seeds=None) -> Config:
    """The family's config at `scale`, with the seeds overridden when given."""
    return scale_config(SCALES, scale, seeds)


PILOT_SCALE = "cpu"  # the scale whose inconclusive results a CONFIRMATION confirms
MIRRORED = {REGIME}  # scales whose finished runs are recorded in the repository too (runs.py: the mirror)


def protocol_of(scale):
    """The rules a scale's results are read by (verdict.Protocol): v2 for the scales whose results were read by
    it (cpu, its confirmation, the Imagenette re-reads), v3 for the regime and every scale without a result yet."""
    return V2 if scale in ("cpu", CONFIRMATION, "imagenette") else V3


def comparisons(mod, scale):
    """The comparisons the claim `mod` declares for `scale`'s protocol: a claim whose declaration changed with
    protocol v3 (D2 split into D2 and D4, DR1's iterations) keeps its earlier one, for the results read by it,
    in COMPARISONS_BY_PROTOCOL."""
    return getattr(mod, "COMPARISONS_BY_PROTOCOL", {}).get(protocol_of(scale).version, mod.COMPARISONS)


def regime_seeds(mod, seeds=None, plan=None) -> tuple:
    """The seeds of the claim `mod` at the REGIME scale: 0 to n-1, n as scripts/plan_regime.py fixed it before
    any of the scale's runs (results/benchmarks/regime_plan.json). `seeds`, where given, must be those."""
    import json

    from ..paths import results_root
    from ..seeds import parse_seeds

    path = Path(plan) if plan else results_root() / "benchmarks" / "regime_plan.json"
    if not path.exists():
        raise ValueError(
            f"the {REGIME} scale's seeds are fixed by {path}, which is missing: run scripts/plan_regime.py first"
        )
    n = json.loads(path.read_text())["claims"].get(mod.CLAIM.slug, {}).get("n")
    if not n:
        raise ValueError(f"{mod.CLAIM.slug} has no n in {path}: rerun scripts/plan_regime.py")
    declared, seeds = tuple(range(n)), parse_seeds(seeds)
    if seeds is not None and tuple(seeds) != declared:
        raise ValueError(
            f"{mod.CLAIM.slug}: its {REGIME} seeds are fixed in advance (0-{n - 1}, {n} seeds): leave --seeds out"
        )
    return declared


def store_scale(scale):
    """The scale whose run store `scale` trains into: a confirmation's runs are its pilot scale's, other seeds."""
    return PILOT_SCALE if scale == CONFIRMATION else scale


def confirmation_seeds(mod, seeds=None, root=None) -> tuple:
    """The seeds of the claim `mod`'s confirmation, as book/method.md declared them before any of its runs: its
    committed cpu result is the pilot; the confirmation takes fresh seeds (from one past the pilot's last), as
    many as the pilot's `seeds_needed` (80% power against the rule's margin at the pilot's own spread; the most
    any deciding comparison needs). `seeds`, where given, must be those: a confirmation has no free choice of n."""
    from ..seeds import parse_seeds

    slug, seeds, pilot = mod.CLAIM.slug, parse_seeds(seeds), pilot_result(mod, root)
    needed = [
        c["seeds_needed"] for c in pilot.get("comparisons", []) if c.get("decides", True) and c.get("seeds_needed")
    ]
    if not needed:
        raise ValueError(
            f"{slug}: its cpu result is {pilot['verdict']}, with no inconclusive comparison: nothing to confirm"
        )
    first = max(pilot["provenance"]["seeds"]) + 1
    declared = tuple(range(first, first + max(needed)))
    if seeds is not None and tuple(seeds) != declared:
        raise ValueError(
            f"{slug}: a confirmation's seeds are fixed by its pilot ({first}-{declared[-1]}, "
            f"{len(declared)} seeds): leave --seeds out"
        )
    return declared


def pilot_result(mod, root=None) -> dict:
    """The claim's committed cpu result, the pilot its confirmation confirms; ValueError of one line if none."""
    pilot = load_result(mod.CLAIM.slug, PILOT_SCALE, root)
    if pilot is None:
        raise ValueError(f"{mod.CLAIM.slug} has no cpu result to confirm: run it at --scale cpu first")
    return pilot


def pilot_of(mod, root=None) -> dict:
    """What a confirmation shows beside its own verdict, never pooled into it: its pilot's verdict, seeds and
    comparisons, and where that result lies."""
    slug, pilot = mod.CLAIM.slug, pilot_result(mod, root)
    return {
        "result": f"results/{slug}/{PILOT_SCALE}/result.json",
        "verdict": pilot["verdict"],
        "headline": pilot["headline"],
        "seeds": pilot["provenance"]["seeds"],
        "git_commit": pilot["provenance"].get("git_commit"),
        "comparisons": [
            {k: c.get(k) for k in ("label", "kind", "effect", "verdict", "seeds_needed", "decides")}
            for c in pilot.get("comparisons", [])
        ],
    }


# Convergence: a run has reached its end point when its last `late_epochs` epochs gained less than
# `late_gain_limit` points of evaluation error (late_gain), by the protocol of its scale (verdict.Protocol).
# v2 (the cpu scale) reads one epoch; v3 (the regime) three, the rule first declared at 687afd0.
LATE_EPOCHS, LATE_GAIN_LIMIT = V2.late_epochs, V2.late_gain_limit  # v2's, which L3 (lrn_cifar) reads by


def late_gain(val_errors, epochs=LATE_EPOCHS):
    """Points of evaluation error gained over the last `epochs` epochs (positive: still improving)."""
    k = min(epochs, len(val_errors) - 1)
    return 100 * (val_errors[-1 - k] - val_errors[-1]) if k > 0 else math.nan


def not_converged(gains, net, protocol=V2):
    """The reason a comparison is not testable where `net` had not converged: the median (upper middle) of its
    runs' late gains reaches the protocol's limit. None otherwise. NaN gains (diverged runs) are left out."""
    gains, k = sorted(g for g in gains if math.isfinite(g)), protocol.late_epochs
    if gains and gains[len(gains) // 2] >= protocol.late_gain_limit:
        return (
            f"not converged: {net} still gained {gains[len(gains) // 2]:.1f} points of error over its last "
            f"{'epoch' if k == 1 else f'{k} epochs'} (limit {protocol.late_gain_limit})"
        )
    return None


def converged_epoch(val_errors):
    """First epoch (1-based) whose validation error is within CONVERGED_WITHIN of the run's best."""
    best = min(val_errors)
    return next(i + 1 for i, e in enumerate(val_errors) if e <= best + CONVERGED_WITHIN)


@dataclass
class FamilyData:
    """What the family trains on, whichever the dataset: the splits on the device (`test` is what a
    scale evaluates on: the test/validation split, or the held-out part of training for pilots),
    the mean image and the PCA of the training pixels (D3), and how results name the data."""

    name: str
    classes: tuple
    checksum: str
    description: dict
    splits: Splits
    mean: torch.Tensor  # HWC float, 0-255, on the device
    eigvals: torch.Tensor
    eigvecs: torch.Tensor

    @property
    def n_classes(self):
        return len(self.classes)


def load_family_data(cfg: Config, device, data_root=None, download=False) -> FamilyData:
    if cfg.data == "cifar10":
        full = load_cifar10(data_root, download=download)
        n_train = cfg.n_train or len(full.train_y) - cfg.holdout
        if n_train + cfg.holdout > len(full.train_y):
            raise ValueError(
                f"{n_train} training + {cfg.holdout} held-out images exceed CIFAR-10's {len(full.train_y)}"
            )
        train_x, train_y = full.train_x[:n_train], full.train_y[:n_train]  # class-interleaved: balanced prefixes
        if cfg.evaluate_on == "holdout":
            test_x, test_y, split = full.train_x[-cfg.holdout :], full.train_y[-cfg.holdout :], "held-out training"
        else:
            n_test = cfg.n_val or len(full.test_y)
            test_x, test_y, split = full.test_x[:n_test], full.test_y[:n_test], "test"
        mean = train_x.double().mean(0).float()
        pixels = train_x.reshape(-1, 3).double()  # 0-255: its sums are exact in float64
        vals, vecs = (t.float() for t in pixel_pca(pixels.sum(0), pixels.T @ pixels, len(pixels)))
        description = {**full.describe(), "n_train": n_train, "n_val": len(test_y), "evaluated_on": split}
        splits = Splits(train_x.to(device), train_y.to(device), test_x.to(device), test_y.to(device))
        return FamilyData(
            "CIFAR-10",
            CIFAR_CLASSES,
            full.checksum,
            description,
            splits,
            mean.to(device),
            vals.to(device),
            vecs.to(device),
        )
    data = load_imagefolder(find_dataset(data_root), size=cfg.cache_size)
    data = data.subset(cfg.n_train or len(data.train_y), cfg.n_val or len(data.test_y)).to(device)  # 0: all
    as_dev = lambda a: torch.from_numpy(np.asarray(a)).float().to(device)  # noqa: E731
    return FamilyData(
        data.meta["name"],
        tuple(data.classes),
        data.checksum,
        data.describe(),
        data,
        as_dev(data.mean_image),
        as_dev(data.pca_eigvals),
        as_dev(data.pca_eigvecs),
    )


class Family:
    """The data on the device, and the training of one arm for one seed (found in the store if done)."""

    def __init__(self, cfg: Config, scale, device=None, data_root=None, work_dir=None, download=False):
        self.cfg, self.scale = cfg, scale
        self.device = pick_device(device)
        self.data = load_family_data(cfg, self.device, data_root, download)
        self.splits, self.mean = self.data.splits, self.data.mean
        n_eval = cfg.train_eval_images or len(self.splits.test_y)  # the training sample of the gap
        self.train_eval = Splits(
            self.splits.train_x[:n_eval], self.splits.train_y[:n_eval], self.splits.test_x, self.splits.test_y
        )
        self.work_dir = work_dir or default_work_dir(FAMILY, store_scale(scale))
        # the runs of a campaign that spans sessions are recorded in the repository as well (runs.py)
        self.mirror = results_root() / "runs" / FAMILY / scale if scale in MIRRORED else None
        net = dict(CIFAR_ALEXNET) if cfg.data == "cifar10" else dict(width=cfg.width, input_size=cfg.crop)
        self.base = AlexNetConfig(
            **{**net, "num_classes": self.data.n_classes, "init_std": cfg.init_std, "hidden_bias": cfg.hidden_bias}
        )
        # Model parallelism in a single process only: under torchrun each process has one GPU (DDP).
        self.devices = two_devices_for(self.device) if cfg.model_parallel and not distributed.current() else None

    def on_two_devices(self, arm: Arm):
        return bool(self.devices) and arm.net_config(self.base).columns == "two"

    def describe_run(self, arm: Arm, seed):
        # T2 as cuda-convnet ran it: PaperSGD, decay on the weights only.
        spec = TrainSpec(
            lr=self.cfg.lr,
            momentum=0.9,
            weight_decay=arm.weight_decay,
            optimizer="paper_sgd",
            decay_biases=False,
            schedule=self.cfg.schedule,
            batch_size=self.cfg.batch_size,
            max_epochs=self.cfg.epochs,
            precision=self.cfg.precision,
            seed=seed,
        )
        augment = ("random crop + flip" if arm.crop_flip else "centre crop") + (
            " + PCA lighting 0.1" if arm.pca else ""
        )
        return spec, {
            "family": FAMILY,
            "net": asdict(arm.net_config(self.base)),
            "spec": asdict(spec),
            "data": self.data.checksum,
            "n_train": len(self.splits.train_y),
            "evaluated_on": self.data.description.get("evaluated_on", "validation"),
            "n_eval": len(self.splits.test_y),
            "train_eval_images": len(self.train_eval.train_y),
            "augment": augment,
            # its own runs: per-column dropout masks draw other random numbers than the grouped net's
            **({"devices": 2} if self.on_two_devices(arm) else {}),
        }

    def build(self, arm: Arm, devices=None):
        """The arm's net on the family's device (as every reader of a trained net gets it), or to train
        with two `devices`, its columns apart (its checkpoints load into the one-device form all the same)."""
        return build_for_training(arm.net_config(self.base), self.device, devices)

    def run(self, arm: Arm, seed, ten_view=False):
        """One arm and seed: its per-run row and its curve. ten_view adds the 10-view test (D2's test half)."""
        cfg, mean = self.cfg, self.mean
        spec, description = self.describe_run(arm, seed)
        eig = self.data.eigvals, self.data.eigvecs

        def augment(batch, streams):  # each purpose its own stream: arms share crops and lighting
            x = (
                random_crop_flip(batch, cfg.crop, streams("crop"), mean)
                if arm.crop_flip
                else center_crop(batch, cfg.crop, mean)
            )
            return pca_lighting(x, *eig, 0.1, generator=streams("lighting")) if arm.pca else x

        result = cached_train(
            self.work_dir,
            description,
            lambda: self.build(arm, self.devices),
            self.splits,
            lambda b: center_crop(b, cfg.crop, mean),
            spec,
            augment=augment,
            train_eval=self.train_eval,
            desc=f"{arm.name} seed={seed}",
            mirror=self.mirror,
        )
        hist = result.history
        val = [h["test_error"] for h in hist]
        finite = all(map(math.isfinite, val))
        row = {
            "arm": arm.name,
            "seed": seed,
            "status": result.status,
            "epochs": len(hist),
            "val_top1": 100 * val[-1],
            "train_top1": 100 * hist[-1]["train_error_full"],
            "train_error_running": 100 * hist[-1]["train_error_running"],
            "final_train_loss": hist[-1]["train_loss"],
            "converged_epoch": converged_epoch(val) if finite else math.nan,
            "late_gain": late_gain(val, protocol_of(self.scale).late_epochs) if finite else math.nan,
            "seconds_per_epoch": result.wall_time_s / max(len(hist), 1),
            "wall_time_s": result.wall_time_s,
        }
        row["gap"] = row["val_top1"] - row["train_top1"]
        row["left_chance"] = left_chance(row["val_top1"], self.data.n_classes)
        row["val_top5"] = self._top5(arm, description) if result.status != "diverged" else math.nan
        if ten_view:
            ten = (
                self._ten_view(arm, description)
                if result.status != "diverged"
                else {"top1": math.nan, "top5": math.nan}
            )
            row["val_top1_ten"], row["val_top5_ten"] = ten["top1"], ten["top5"]
        return row, [dict(h, arm=arm.name, seed=seed) for h in hist]

    def _ten_view(self, arm, description):
        """Validation top-1 and top-5 error (%) with the softmax averaged over 10 views (the four corner
        crops and the centre crop, each also mirrored: the paper's test, and cuda-convnet's multiview test),
        cached beside the run."""

        def ten():
            model = final_model(self.work_dir, description, lambda: self.build(arm))
            scores = predict(model, self.splits.test_x, self.cfg.crop, self.mean, ten_crop=True)
            top1, top5 = topk_errors(scores, self.splits.test_y.cpu())
            return {"top1": 100 * float(top1), "top5": 100 * float(top5)}

        return cached_beside_run(self.work_dir, description, f"ten_view_{len(self.splits.test_y)}", ten, self.mirror)

    def _top5(self, arm, description):
        """Validation top-5 error (%) of the centre crop, cached beside the run: every claim that shares
        the arm reads it instead of loading the model again."""

        def top5():
            model = final_model(self.work_dir, description, lambda: self.build(arm))
            scores = predict(model, self.splits.test_x, self.cfg.crop, self.mean)
            return {"top5": 100 * float(topk_errors(scores, self.splits.test_y.cpu())[1])}

        return cached_beside_run(self.work_dir, description, f"val_top5_{len(self.splits.test_y)}", top5, self.mirror)[
            "top5"
        ]


# The version of the code that turns the family's runs into verdicts: assess and what it calls here (effects,
# Holm, the not-testable checks, convergence, the seeds a comparison needs). Staleness reads this number, not the
# code's text, so that moving the code is no change (staleness.py). Bump it with any change that alters what a
# committed result reads to; tests/test_ablation_claims.py re-reads every committed result from its runs and
# fails until then (then re-read them: scripts/reread_cpu_family.py).
DECISION_VERSION = "1"


def decided_by(mod) -> dict:
    """What decides the family claim `mod` besides its declarations, by value (contract.decided_by): the
    assessing code's version, and per scale its config (arms are in the comparisons), protocol and comparisons."""
    return {
        "assessment": DECISION_VERSION,
        "scales": {
            scale: {
                "config": value(family_config(scale)),
                "protocol": value(protocol_of(scale)),
                "comparisons": value(comparisons(mod, scale)),
            }
            for scale in SCALES
        },
    }


def _effects(comparison, by):
    """Per-seed effect of one comparison over the seeds both arms have."""
    t, c, m = comparison.treatment.name, comparison.control.name, comparison.metric
    tm = comparison.treatment_metric or m
    seeds = sorted(s for (a, s) in by if a == t and (c, s) in by)
    pairs = [(by[(t, s)][tm], by[(c, s)][m]) for s in seeds]
    return [a / b if comparison.ratio else a - b for a, b in pairs if math.isfinite(a) and math.isfinite(b)]


# Not testable, fixed before any run: a comparison cannot show its effect where a run of its arms never
# left chance, where the paper's net had not converged (the protocol's late gain, median over its seeds), or,
# for a claim about overfitting, where the control arm does not overfit (its mean train-test gap under the
# protocol's overfits_gap: 2 points in v2, 8 in v3, the regime's own gap).
MIN_GAP = V2.overfits_gap


def untestable_reason(comp, by, rows, protocol=V2):
    arms = (comp.treatment.name, comp.control.name)
    at_chance = [f"{r['arm']} seed {r['seed']}" for r in rows if r["arm"] in arms and not r["left_chance"]]
    if at_chance:
        return f"nets never left chance ({', '.join(at_chance)})"
    gains = [r.get("late_gain", math.nan) for r in rows if r["arm"] == PAPER.name]
    not_yet = not_converged(gains, "the paper's net", protocol)
    if not_yet:
        return not_yet
    if comp.needs_overfitting:
        gaps = [r["gap"] for r in rows if r["arm"] == comp.control.name]
        return does_not_overfit(gaps, protocol.overfits_gap, comp.control.name)
    return None


def assess(mod, rows, scale):
    """The verdict of a family claim from its per-run rows, by its scale's protocol (protocol_of): each
    comparison's paired effect, its 95% interval (on log(ratio) for ratios), Holm's correction over the deciding
    comparisons, equivalence, and the not-testable checks. -> (comparisons list, measured dict, verdict, reason,
    headline)."""
    protocol, declared = protocol_of(scale), comparisons(mod, scale)
    direction_only = protocol.direction_only and scale != "paper"  # a proxy decides the direction
    in_paper = getattr(mod, "IN_THE_PAPER", True)
    by = {(r["arm"], r["seed"]): r for r in rows}
    rules = {c.label: contract.rule_for(mod, c.label) for c in declared}  # every comparison is measured
    effects = {c.label: _effects(c, by) for c in declared}
    stats = {c.label: measure_effect(effects[c.label], rules[c.label]) for c in declared}
    pvalues = {c.label: stats[c.label].p for c in declared if c.decides and stats[c.label].p is not None}
    significant = holm(pvalues)
    comparisons_out, verdicts, reasons = [], [], []
    for comp in declared:
        rule, ci, label = rules[comp.label], stats[comp.label].ci, comp.label
        why_not = comp.not_testable or untestable_reason(comp, by, rows, protocol)
        verdict = (
            NOT_TESTABLE
            if why_not
            else decide(ci, rule, significant.get(label) if len(pvalues) > 1 else None, direction_only=direction_only)
        )
        eq = rule.equivalence()
        holm_only = (
            len(pvalues) > 1
            and ci is not None
            and not significant.get(label, False)
            and not (ci.lo <= rule.null <= ci.hi)
        )
        reason = why_not or (
            f"not significant after Holm's correction over {len(pvalues)} comparisons "
            f"(p = {pvalues.get(label, math.nan):.3f})"
            if verdict == INCONCLUSIVE and holm_only
            else REASONS[verdict]
        )
        size = size_text(ci, rule, comp.paper) if verdict == DIRECTION else None
        if size:
            reason = f"{reason}; {size}"
        if not in_paper and protocol.version >= 3:
            verdict = as_finding(verdict)
        comparisons_out.append(
            {
                "label": label,
                "treatment": comp.treatment.name,
                "control": comp.control.name,
                "metric": comp.metric,
                "kind": "ratio" if comp.ratio else "difference",
                "unit": "x" if comp.ratio else "points",
                "paper": comp.paper,
                "margin": (eq[1] - rule.null) if eq else None,
                "equivalence": list(eq) if eq else None,
                "direction": rule.direction,
                "effect": ci.as_dict() if ci else None,
                "per_seed": effects[label],
                "p_value": pvalues.get(label),
                "holm_significant": significant.get(label),
                "verdict": verdict,
                "reason": reason,
                "decides": comp.decides,
                "seeds_needed": (
                    seeds_for_power(
                        stats[label].sd, stats[label].margin, sd_df=len(effects[label]) - 1, comparisons=len(pvalues)
                    )
                    if stats[label].margin and verdict == INCONCLUSIVE and protocol.version >= 3
                    else seeds_for_power(stats[label].sd, stats[label].margin)
                    if stats[label].margin and verdict == INCONCLUSIVE
                    else None
                ),
            }
        )
        if comp.decides:
            verdicts.append(verdict)
            reasons.append(
                f"{label}: {verdict}, {reason}"
                if len(declared) > 1 and protocol.mixed
                else f"{label}: {reason}"
                if len(declared) > 1
                else reason
            )
    arms = arms_of(declared)
    measured = {
        "arms": {
            a.name: {
                k: summarize(r[k] for r in rows if r["arm"] == a.name)
                for k in (
                    "val_top1",
                    "val_top5",
                    "val_top1_ten",
                    "val_top5_ten",
                    "train_top1",
                    "gap",
                    "converged_epoch",
                    "late_gain",
                    "final_train_loss",
                    "seconds_per_epoch",
                )
                if any(k in r for r in rows if r["arm"] == a.name)
            }
            for a in arms
        },
        "runs_at_chance": [f"{r['arm']}, seed {r['seed']}" for r in rows if not r["left_chance"]],
    }
    verdict = combine(verdicts, protocol) if scale != "smoke" else PLUMBING
    reason = "a smoke run checks the code runs; it tests no claim" if scale == "smoke" else "; ".join(reasons)
    headline = "; ".join(
        (f"{c['label']}: " if len(comparisons_out) > 1 else "") + fmt_interval(c["effect"], c["kind"] == "ratio")
        for c in comparisons_out
    )
    return comparisons_out, measured, verdict, reason, headline


def arms_of(comparisons):
    """The arms a claim's comparisons need, each once, in order."""
    return list({a.name: a for c in comparisons for a in (c.treatment, c.control)}.values())


def plan_arms(arms, scale, seeds=None):
    """The runs of `arms` as jobs of `run_job` (see contract.py): every (arm, seed) is independent, a
    chain of its own."""
    return [[[dict(arm=a.name, seed=s)]] for s in family_config(scale, seeds).seeds for a in arms]


def run_job(scale, arm, seed, device=None, data_root=None, work_dir=None, download=False):
    """Train one arm (by its catalogue name) for one seed into the family's run store, with its top-5."""
    Family(family_config(scale), scale, device, data_root, work_dir, download).run(CATALOGUE[arm], seed)


def train_arms(comparisons, scale, seeds=None, device=None, data_root=None, work_dir=None, download=False):
    """Every arm the comparisons need, for every seed, trained or found in the store -> contract.Trained."""
    cfg = family_config(scale, seeds)
    fam = Family(cfg, scale, device, data_root, work_dir, download)
    arms = arms_of(comparisons)
    ten_view = {c.treatment.name for c in comparisons if c.ten_view}
    rows, curves = [], []
    for arm in arms:
        for seed in cfg.seeds:
            row, curve = fam.run(arm, seed, ten_view=arm.name in ten_view)
            rows.append(row)
            curves += curve
    records = [stored_record(fam.work_dir, fam.describe_run(a, s)[1], fam.mirror) for a in arms for s in cfg.seeds]
    return Trained(
        rows=rows,
        tables={"seeds": pd.DataFrame(rows), "curves": pd.DataFrame(curves)},
        device=fam.device,
        dataset=fam.data.description,
        seeds=cfg.seeds,
        config={**asdict(cfg), "net": asdict(fam.base), "arms": {a.name: a.describe() for a in arms}},
        wall_time_s=sum(r["wall_time_s"] for r in rows),
        precision=cfg.precision,
        proxy=scale != "paper",
        proxy_note=proxy_note(fam),
        trained_at=sorted({r.get("trained_at", "unknown") for r in records if r}),
    )


def assessment(mod, trained: Trained, scale) -> Assessment:
    comparisons, measured, verdict, reason, headline = assess(mod, trained.rows, scale)
    fields = {"comparisons": comparisons, "reason": reason, "protocol": protocol_of(scale).version}
    if scale == CONFIRMATION:  # decided on its own runs alone; the pilot stands beside it
        fields["pilot"] = pilot_of(mod)
        fields["looks"] = [
            {
                "n_seeds": len(trained.seeds),
                "verdict": verdict,
                "date": time.strftime("%Y-%m-%d"),
                "note": f"the confirmation's only look: fresh seeds {trained.seeds[0]}-{trained.seeds[-1]}, "
                "as many as the pilot's seeds_needed, declared in book/method.md before its runs",
            }
        ]
    return Assessment(
        verdict, headline, measured, verdict_rule(mod, scale), paper=dict(mod.PAPER_NUMBERS), fields=fields
    )


def entry_points(module_name):
    """The contract's functions (contract.py) of the family claim declared in module `module_name`, so that
    the claim is its declaration alone (CLAIM, DATA, PAPER_NUMBERS, RULE/RULES, COMPARISONS):

        plan, run_job, train, assess, run, decided_by = ablation.entry_points(__name__)

    run_job is this module's own (picklable by name for the --jobs process pool)."""

    def claim():  # looked up when called: the module is still being declared when this runs
        return sys.modules[module_name]

    def seeds_at(scale, seeds):
        if scale == CONFIRMATION:
            return confirmation_seeds(claim(), seeds)
        return regime_seeds(claim(), seeds) if scale == REGIME else seeds

    def plan(scale, seeds=None):
        return plan_arms(arms_of(comparisons(claim(), scale)), scale, seeds_at(scale, seeds))

    def train(scale, seeds=None, device=None, data_root=None, work_dir=None, download=False):
        return train_arms(
            comparisons(claim(), scale), scale, seeds_at(scale, seeds), device, data_root, work_dir, download
        )

    def assess_claim(trained, scale):
        return assessment(claim(), trained, scale)

    def run(scale="cpu", seeds=None, device=None, data_root=None, out_dir=None, work_dir=None, download=False):
        """Run the claim at `scale`, write results/<slug>/<scale>/, and return the result dict."""
        return contract.run(claim(), scale, seeds, device, data_root, out_dir, work_dir, download)

    def decided():
        return decided_by(claim())

    return plan, run_job, train, assess_claim, run, decided


def verdict_rule(mod, scale="cpu"):
    protocol, declared = protocol_of(scale), comparisons(mod, scale)
    deciding = sum(c.decides for c in declared)
    v3 = (
        ""
        if protocol.version < 3
        else " Protocol v3: on a proxy the verdict decides the direction ('direction reproduced') and the size is stated "
        "as a multiple of the paper's; comparisons that disagree make the claim 'mixed', each shown with its own "
        "verdict"
        + (
            "; the paper makes no such claim, so the verdict is a finding."
            if not getattr(mod, "IN_THE_PAPER", True)
            else "."
        )
    )
    return (
        " ".join(f"[{c.label}] " + contract.rule_for(mod, c.label).describe() for c in declared if c.decides)
        + (f" Holm's correction over the {deciding} deciding comparisons." if deciding > 1 else "")
        + (
            f" Not testable (fixed before the runs): a run never left chance (within {LEFT_CHANCE_BY} points of it), "
            f"the paper's net still gaining {protocol.late_gain_limit}+ points over its last {protocol.late_epochs} "
            f"epochs, or, for overfitting claims, a control gap under {protocol.overfits_gap:g} points."
        )
        + v3
    )


def proxy_note(fam, paper_data="ImageNet"):
    """Every departure from the paper's recipe at this scale, in one paragraph."""
    cfg, net = fam.cfg, fam.base
    if cfg.data == "cifar10":
        data = (
            f"CIFAR-10 (10 classes, 32 px images, random {cfg.crop} px crops + flips; {len(fam.splits.train_y):,} "
            f"training images; evaluated on {len(fam.splits.test_y):,} {fam.data.description['evaluated_on']} "
            f"images), the CIFAR-10 AlexNet (conv1 5x5 stride 1, 3/2 pools padded by 1, the paper's kernels x"
            f"{net.width}, FC layers of {net.fc_width})"
        )
    else:
        data = (
            f"{fam.data.name} ({fam.data.n_classes} classes) at {cfg.cache_size} px, {cfg.crop} px crops, "
            f"AlexNet width x{cfg.width}"
        )
    schedule = {"constant": "at a constant rate", "linear_to_zero": "the rate annealed linearly to zero"}.get(
        cfg.schedule, cfg.schedule
    )
    init = (
        ""
        if (cfg.init_std, cfg.hidden_bias, cfg.lr) == (0.01, 1.0, 0.01)
        else f"; init std {cfg.init_std}, hidden biases {cfg.hidden_bias}, rate {cfg.lr} (the paper: 0.01, 1, 0.01)"
    )
    precision = "" if cfg.precision == "fp32" else f"; {cfg.precision} autocast (cuda-convnet computed in fp32)"
    return (
        f"A proxy: {data}; {cfg.epochs} epochs, {schedule}{init}{precision}. The paper: {paper_data}, 1000 "
        "classes, 224 px crops of 256 px images, ~90 epochs, the rate divided by 10 on plateaus."
    )


def effect_rows(result):
    """The claim's comparisons as the effect panel draws them, each with the rule that decided it (a reported
    comparison without a rule of its own gets none: the claim's main rule's band is not its size)."""
    from ..figures import EffectRow
    from . import load

    mod = load(result["claim"])
    return [
        EffectRow(
            c["label"],
            c["effect"],
            contract.rule_for(mod, c["label"], c.get("decides", True)),
            c.get("paper"),
            c.get("per_seed", []),
            c["verdict"] if c.get("decides", True) else "",
            c["kind"] == "ratio",
        )
        for c in result.get("comparisons", [])
    ]


def plot_arms(seeds_table, curves, result):
    """Top left: each arm's validation top-1 error, seeds as points. Top right: validation error per epoch.
    Below: each comparison's effect with its 95% interval beside the paper's number and band (figures.py)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from ..figures import effect_axes, wrap

    rows = effect_rows(result)
    fig = plt.figure(figsize=(11, 4.6 + 0.55 * len(rows)), layout="constrained")
    arms_fig, effects_fig = fig.subfigures(2, 1, height_ratios=[3.8, 0.8 + 0.55 * len(rows)])
    axes = arms_fig.subplots(1, 2)
    order = list(result["measured"]["arms"])
    sns.stripplot(
        data=seeds_table,
        y="arm",
        x="val_top1",
        order=order,
        hue="arm",
        hue_order=order,
        size=7,
        legend=False,
        ax=axes[0],
    )
    sns.pointplot(
        data=seeds_table,
        y="arm",
        x="val_top1",
        order=order,
        color="black",
        markers="|",
        linestyle="none",
        errorbar=("ci", 95),
        ax=axes[0],
    )
    axes[0].set(xlabel="validation top-1 error (%), centre crop", ylabel="")
    c = curves.assign(val_top1=100 * curves["test_error"])
    sns.lineplot(data=c, x="epoch", y="val_top1", hue="arm", hue_order=order, errorbar=("pi", 100), ax=axes[1])
    axes[1].set(xlabel="epoch", ylabel="validation top-1 error (%)")
    effect_axes(effects_fig, rows)
    fig.suptitle(
        wrap(
            f"{result['claim_id']}, scale '{result['scale']}'{' (proxy)' if result['proxy'] else ''}: "
            f"{result['headline']}",
            140,
        ),
        fontsize=10,
    )
    return fig


def arms_table(result):
    """Each arm's measures: the mean over seeds (result['measured']['arms'] has the intervals)."""
    return pd.DataFrame(
        {arm: {k: v.get("mean") for k, v in d.items()} for arm, d in result["measured"]["arms"].items()}
    ).T.round(2)


def reassess_legacy(mod, folder, dest):
    """Re-read a family result made before protocol v2 (the Imagenette proxy at 8 epochs) and decide it by
    the v2 rules from its own per-run table and curves: nothing is rerun or retyped. The convergence check
    takes each run's late_gain from its curve. Writes result.json (the original run's provenance kept, the
    re-assessment's beside it), the tables and the original executed notebook into `dest`."""
    import json
    import shutil

    from ..results import git_commit

    folder, dest = Path(folder), Path(dest)
    old = json.loads((folder / "result.json").read_text())
    rows = pd.read_csv(folder / "seeds.csv").to_dict("records")
    curves = pd.read_csv(folder / "curves.csv")
    for r in rows:
        run = curves[(curves.arm == r["arm"]) & (curves.seed == r["seed"])].sort_values("epoch")
        r["late_gain"] = late_gain(list(run.test_error))
        r["final_train_loss"] = float(run.train_loss.iloc[-1])
        r["left_chance"] = left_chance(r["val_top1"], int(old["provenance"]["dataset"].get("n_classes", 10)))
    comparisons, measured, verdict, reason, headline = assess(mod, rows, "imagenette")
    result = {
        **old,
        "scale": "imagenette",
        "protocol": 2,
        "measured": measured,
        "comparisons": comparisons,
        "headline": headline,
        "verdict": verdict,
        "reason": reason,
        "verdict_rule": verdict_rule(mod, "imagenette"),
        "looks": [
            {
                "n_seeds": len(old["provenance"]["seeds"]),
                "verdict": old["verdict"],
                "date": old["provenance"]["date"][:10],
                "note": "the original look, under the v1 rules",
            },
            {
                "n_seeds": len(old["provenance"]["seeds"]),
                "verdict": verdict,
                "date": time.strftime("%Y-%m-%d"),
                "note": "the same runs re-read under the v2 rules",
            },
        ],
        "proxy_note": old.get("proxy_note", "") + " Re-assessed under protocol v2 from this run's per-run table "
        "and curves; not rerun. The cpu scale now runs the family on CIFAR-10 instead.",
        "provenance": {
            **old["provenance"],
            "reassessed": {
                "git_commit": git_commit(),
                "by": "ablation.reassess_legacy",
                "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
            },
        },
    }
    for name in ("seeds.csv", "curves.csv", f"{mod.CLAIM.slug}.ipynb"):
        if (folder / name).exists():
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / name, dest / name)
    write_result(result, dest)
    return result


def reread(mod, folder):
    """Decide a committed family result again, by today's code, from its own per-run table: nothing is
    rerun or retyped. For a result whose runs are unchanged but whose assessing code has changed since
    (results.staleness calls it stale): the effects, intervals, verdict and reasons are recomputed; the
    provenance of the runs is kept, and the re-reading's commit and code version sit beside it
    (provenance.reread). A verdict that changes is recorded as a look of its own."""
    from ..engine import TRAINING_VERSION
    from ..results import code_version, git_commit, read_result

    folder = Path(folder)
    old = read_result(folder / "result.json")
    trained_by = old["provenance"].get("training_version")
    if trained_by not in (None, TRAINING_VERSION):
        raise ValueError(
            f"{folder}: its runs were trained by training version {trained_by}, today's is "
            f"{TRAINING_VERSION}: rerun the claim instead"
        )
    rows = pd.read_csv(folder / "seeds.csv").to_dict("records")
    comparisons, measured, verdict, reason, headline = assess(mod, rows, old["scale"])
    looks = list(old.get("looks", []))
    if verdict != old["verdict"]:
        looks.append(
            {
                "n_seeds": len(old["provenance"]["seeds"]),
                "verdict": verdict,
                "date": time.strftime("%Y-%m-%d"),
                "note": f"the same runs re-read by code {code_version()}: the verdict changed",
            }
        )
    result = {
        **old,
        "measured": measured,
        "comparisons": comparisons,
        "headline": headline,
        "verdict": verdict,
        "reason": reason,
        "verdict_rule": verdict_rule(mod, old["scale"]),
        "looks": looks,
        "provenance": {
            **old["provenance"],
            "reread": {
                "git_commit": git_commit(),
                "code_version": code_version(),
                "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "decision_version": contract.decision_version(mod),
                "training_version": trained_by
                or f"not recorded in the result; runs_trained_at names the commits "
                f"that trained its runs (today's training version {TRAINING_VERSION})",
            },
        },
    }
    write_result(result, folder)
    return result
