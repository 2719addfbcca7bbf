"""How the family trains: its data on the device, one arm for one seed into the family's shared run store (found
there when done, or in the repository's mirror of it), the runs a claim's comparisons need, and the trained paper's
nets that Q1 and Q2 look inside."""

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import torch

from ... import distributed
from ...data.augment import center_crop, pca_lighting, pixel_pca, predict, random_crop_flip, topk_errors
from ...data.cifar10 import CLASSES as CIFAR_CLASSES
from ...data.cifar10 import load_cifar10
from ...data.imagefolder import find_dataset, load_imagefolder
from ...data.splits import Splits
from ...engine import TrainSpec, pick_device
from ...models.alexnet import CIFAR_ALEXNET, AlexNetConfig, build_for_training, two_devices_for
from ...paths import results_root
from ...runs import cached_beside_run, cached_train, default_work_dir, final_model, stored_record
from .. import CONFIRMATION, REGIME, REGIMES
from ..contract import Trained, scale_config, value
from . import assessment
from .arms import (
    CATALOGUE,
    FAMILY,
    MIRRORED,
    PAPER,
    SCALES,
    TRAINED_ON_GPU,
    VERSIONED_SCALES,
    Arm,
    Config,
    arms_of,
    comparisons,
    confirmation_seeds,
    protocol_of,
    regime_seeds,
    store_scale,
)
from .assessment import converged_epoch, late_gain, left_chance


@dataclass
class FamilyData:
    """What the family trains on, whichever the dataset: the splits on the device (`test`: what the scale evaluates
    on), the mean image and the PCA of the training pixels (D3), and how results name the data."""

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
        pca = (t.to(device) for t in (mean, vals, vecs))
        return FamilyData("CIFAR-10", CIFAR_CLASSES, full.checksum, description, splits, *pca)
    data = load_imagefolder(find_dataset(data_root), size=cfg.cache_size)
    data = data.subset(cfg.n_train or len(data.train_y), cfg.n_val or len(data.test_y)).to(device)  # 0: all
    pca = (
        torch.from_numpy(np.asarray(a)).float().to(device)
        for a in (data.mean_image, data.pca_eigvals, data.pca_eigvecs)
    )
    return FamilyData(data.meta["name"], tuple(data.classes), data.checksum, data.describe(), data, *pca)


def augmenter(arm: Arm, crop, mean, eig):
    """The arm's training augmentation, (uint8 batch, seeds.Streams) -> its input: each purpose draws from its own
    stream, so arms of one seed share their crops and lighting whichever switches they turn off."""

    def augment(batch, streams):
        x = (
            random_crop_flip(batch, crop, streams("crop"), mean, flip=arm.flip)
            if arm.crop_flip
            else center_crop(batch, crop, mean)
        )
        return pca_lighting(x, *eig, 0.1, generator=streams("lighting")) if arm.pca else x

    return augment


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
        return spec, {
            "family": FAMILY,
            "net": asdict(arm.net_config(self.base)),
            "spec": asdict(spec),
            "data": self.data.checksum,
            "n_train": len(self.splits.train_y),
            "evaluated_on": self.data.description.get("evaluated_on", "validation"),
            "n_eval": len(self.splits.test_y),
            "train_eval_images": len(self.train_eval.train_y),
            "augment": arm.augment_text(),
            # its own runs: per-column dropout masks draw other random numbers than the grouped net's
            **({"devices": 2} if self.devices and arm.net_config(self.base).columns == "two" else {}),
        }

    def build(self, arm: Arm, devices=None):
        """The arm's net on the family's device, or with its columns on two `devices` (models.alexnet)."""
        return build_for_training(arm.net_config(self.base), self.device, devices)

    def train_arm(self, arm: Arm, seed, ten_view=False):
        """One arm and seed: its per-run row and its curve. ten_view adds the 10-view test (D2's test half)."""
        cfg, mean = self.cfg, self.mean
        spec, description = self.describe_run(arm, seed)
        if (
            self.scale in TRAINED_ON_GPU
            and self.device.type != "cuda"
            and not stored_record(self.work_dir, description, self.mirror)
        ):
            raise ValueError(
                f"{self.scale}: {arm.name} seed {seed} is not among the scale's committed runs, which train on a "
                f"GPU alone (scripts/gpu_regime.py); on this machine, run the {REGIME} scale"
            )
        result = cached_train(
            self.work_dir,
            description,
            lambda: self.build(arm, self.devices),
            self.splits,
            lambda b: center_crop(b, cfg.crop, mean),
            spec,
            augment=augmenter(arm, cfg.crop, mean, (self.data.eigvals, self.data.eigvecs)),
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
        trained = result.status != "diverged"
        row["val_top5"] = self._test_errors(arm, description)["top5"] if trained else math.nan
        if ten_view:
            ten = self._test_errors(arm, description, ten_crop=True) if trained else {}
            row["val_top1_ten"], row["val_top5_ten"] = ten.get("top1", math.nan), ten.get("top5", math.nan)
        return row, [dict(h, arm=arm.name, seed=seed) for h in hist]

    def _test_errors(self, arm, description, ten_crop=False):
        """Validation error (%) of the trained net, cached beside the run for every claim that shares the arm: the
        centre crop's top-5, or with ten_crop the top-1 and top-5 of the softmax averaged over the paper's 10 views."""

        def errors():
            model = final_model(self.work_dir, description, lambda: self.build(arm))
            scores = predict(model, self.splits.test_x, self.cfg.crop, self.mean, ten_crop=ten_crop)
            top1, top5 = topk_errors(scores, self.splits.test_y.cpu())
            return {"top1": 100 * float(top1), "top5": 100 * float(top5)} if ten_crop else {"top5": 100 * float(top5)}

        name = f"{'ten_view' if ten_crop else 'val_top5'}_{len(self.splits.test_y)}"
        return cached_beside_run(self.work_dir, description, name, errors, self.mirror)


def claim_seeds(mod, scale, seeds=None):
    """The seeds the claim `mod` runs at `scale`: a confirmation's and the regime's are fixed in advance."""
    if scale == CONFIRMATION:
        return confirmation_seeds(mod, seeds)
    return regime_seeds(mod, seeds) if scale in REGIMES else seeds


def plan_claim(mod, scale, seeds=None):
    """The claim `mod`'s plan (contract.py): every arm its comparisons at `scale` need, for every seed."""
    return plan_arms(arms_of(comparisons(mod, scale)), scale, claim_seeds(mod, scale, seeds))


def plan_arms(arms, scale, seeds=None):
    """The runs of `arms` as jobs of `run_job` (contract.py), every (arm, seed) a chain of its own."""
    return [[[dict(arm=a.name, seed=s)]] for s in scale_config(SCALES, scale, seeds).seeds for a in arms]


def run_job(scale, arm, seed, device=None, data_root=None, work_dir=None, download=False):
    """Train one arm (by its catalogue name) for one seed into the family's run store, with its top-5."""
    Family(scale_config(SCALES, scale), scale, device, data_root, work_dir, download).train_arm(CATALOGUE[arm], seed)


def train_claim(mod, scale, seeds=None, device=None, data_root=None, work_dir=None, download=False) -> Trained:
    """The claim `mod`'s train (contract.py): every arm and seed of its plan, trained or found in the store."""
    declared = comparisons(mod, scale)
    cfg = scale_config(SCALES, scale, claim_seeds(mod, scale, seeds))
    fam = Family(cfg, scale, device, data_root, work_dir, download)
    arms = arms_of(declared)
    ten_view = {c.treatment.name for c in declared if c.ten_view}
    runs = [fam.train_arm(a, s, ten_view=a.name in ten_view) for a in arms for s in cfg.seeds]
    rows, curves = [row for row, _ in runs], [h for _, curve in runs for h in curve]
    records = [stored_record(fam.work_dir, fam.describe_run(a, s)[1], fam.mirror) for a in arms for s in cfg.seeds]
    # named where they are not the machine that assembles the result (a GPU's runs, read from the mirror)
    trained_on = (
        sorted({r["trained_on"] for r in records if r and r.get("trained_on")}) if scale in TRAINED_ON_GPU else []
    )
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
        proxy_note=proxy_note(fam) + (f" Its runs trained on {', '.join(trained_on)}." if trained_on else ""),
        trained_at=sorted({r.get("trained_at", "unknown") for r in records if r}),
        trained_on=trained_on,
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


# The trained paper's nets, for the claims that look inside them (Q1's kernels, Q2's neighbours): they train nothing
# of their own but the family's PAPER arm, the very runs the ablations compare against, in the shared store.


def load_family(scale, seeds=None, device=None, data_root=None, work_dir=None):
    """(Family, its Config) at `scale`, with the seeds overridden when given."""
    cfg = scale_config(SCALES, scale, seeds)
    return Family(cfg, scale, device, data_root, work_dir), cfg


def trained_nets(fam):
    """For each seed of the family: (seed, the run's row, its trained model in eval mode on the
    family's device, or None if the run diverged or its weights are not finite)."""
    for seed in fam.cfg.seeds:
        row, _ = fam.train_arm(PAPER, seed)
        model = None
        if row["status"] != "diverged":
            model = final_model(fam.work_dir, fam.describe_run(PAPER, seed)[1], lambda: fam.build(PAPER)).eval()
            if not all(p.isfinite().all() for p in model.parameters()):
                model = None
        yield seed, row, model


def run_row(row):
    """The training facts of one run worth carrying into an analysis table."""
    return {k: row[k] for k in ("seed", "status", "epochs", "val_top1", "wall_time_s")}


def plan_paper_net(scale, seeds=None):
    """The runs Q1 and Q2 read: the family's paper's net, one chain per seed (jobs of run_job)."""
    return plan_arms([PAPER], scale, seeds)


def paper_net_decided_by() -> dict:
    """What of the family decides a claim that reads its paper's nets, by value (contract.decided_by)."""
    return {
        "family_assessment": assessment.DECISION_VERSION,
        "family_scales": {scale: value(scale_config(SCALES, scale)) for scale in VERSIONED_SCALES},
        "arm": value(PAPER),
    }


def family_trained(fam, rows, analysis_config, tables, proxy_extra="", files=None, context=None) -> Trained:
    """What a claim looking inside the paper's nets hands its assess, with the provenance of the runs it read."""
    cfg = fam.cfg
    records = [stored_record(fam.work_dir, fam.describe_run(PAPER, s)[1]) for s in cfg.seeds]
    return Trained(
        rows=rows,
        tables=tables,
        device=fam.device,
        dataset=fam.data.description,
        seeds=cfg.seeds,
        config={
            **asdict(cfg),
            "net": asdict(fam.base),
            "arm": {"name": PAPER.name, **PAPER.describe()},
            "analysis": analysis_config,
        },
        wall_time_s=sum(r["wall_time_s"] for r in rows if math.isfinite(r["wall_time_s"])),
        precision=cfg.precision,
        proxy=fam.scale != "paper",
        proxy_note=f"{proxy_note(fam, 'ImageNet (ILSVRC-2010)')} {proxy_extra}".strip(),
        trained_at=sorted({r.get("trained_at", "unknown") for r in records if r}),
        files=files or {},
        context=context or {},
    )
