"""The AlexNet ablations (L2, BN, O1, M1, D3, DR1, T1, E5): one switch against the paper's net.

Every claim of this family compares arms that differ in exactly one switch of the paper's recipe,
everything else held equal: the same data, crops, seeds, learning rate and number of epochs. The
paper's own net and recipe is the arm `PAPER`: two columns, LRN, overlapping pooling, dropout 0.5,
weight decay 5e-4 (PaperSGD, T2), random crops + flips and PCA lighting (D2, D3). The other arms
change one thing. All arms of the family share one run store, so the `PAPER` arm, which nearly
every claim compares against, trains once per seed for the whole family.

A claim module of the family declares, before any run:
  CLAIM, PAPER_NUMBERS, RULE          what the paper says and the rule its verdict follows
  COMPARISONS                         [Comparison(label, treatment arm, control arm, metric)]
and calls `run_claim` from its own `run`. The effect of a comparison is, per seed,
metric(treatment) - metric(control) (or their ratio, for metrics that are counts of epochs),
summarized by its mean and 95% t-interval over seeds; `verdict.decide` turns it into the verdict.

What each run records (per arm and seed): the validation error of the centre crop (top-1 every
epoch, top-5 at the end), the training error of the same centre-crop pass (eval mode) over a fixed
training sample (so the train-validation gap compares like with like: same crops, no dropout), the
running training error, seconds per epoch and the epoch at which the run converged (below).

Convergence (DR1), defined before any run: the first epoch at which the validation top-1 error
comes within 1 point of the best that run reaches.

The proxy (cpu scale): Imagenette (10 ImageNet classes) stored at 76 px, 67 px crops (the
smallest input that leaves pool5 a 1x1 map), a quarter-width net, 8 epochs at a constant rate.
ImageNet at 224 with 1000 classes and 90 epochs is out of reach of 2 CPU cores; what carries over
is the direction of each switch's effect, not its size.
"""
import math
import time
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
import torch

from .. import distributed
from ..data.augment import center_crop, pca_lighting, predict, random_crop_flip, topk_errors
from ..data.imagefolder import find_dataset, load_imagefolder, to_splits
from ..engine import Splits, TrainSpec, pick_device
from ..models.alexnet import AlexNetConfig, build_for_training, two_devices_for
from ..optim import PaperSGD, param_groups
from ..results import provenance, results_dir, write_result
from ..runs import cached_beside_run, cached_train, default_work_dir, final_model
from ..verdict import INCONCLUSIVE, NOT_REPRODUCED, PARTLY, REPRODUCED, decide, mean_ci, summarize, t975
from . import scale_config

FAMILY = "alexnet_ablations"   # the run store shared by every claim of the family
CONVERGED_WITHIN = 0.01        # 1 point of validation top-1 error
# A net must get this many points of top-1 error below chance to count as having learned anything
# (added after D2's first gpu-scale run, whose nets all stayed at chance: a check on the net, not a rule).
LEFT_CHANCE_BY = 5.0


def left_chance(top1_error, n_classes):
    """Whether a net's top-1 error (%) is LEFT_CHANCE_BY points below chance; NaN (diverged) is not."""
    return bool(top1_error < 100 * (1 - 1 / n_classes) - LEFT_CHANCE_BY)


@dataclass(frozen=True)
class Arm:
    name: str
    net: tuple = ()              # AlexNetConfig overrides, as (field, value) pairs
    weight_decay: float = 5e-4   # T2
    pca: bool = True             # D3

    def net_config(self, base: AlexNetConfig) -> AlexNetConfig:
        return replace(base, **dict(self.net))

    def describe(self):
        return {"net": dict(self.net), "weight_decay": self.weight_decay, "pca": self.pca}


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
WITHOUT = {layer: Arm(f"without {layer}", (("remove", layer),)) for layer in ("conv3", "conv4", "conv5")}
CATALOGUE = {a.name: a for a in (PAPER, NO_LRN, BATCHNORM, NON_OVERLAPPING, ONE_COLUMN, NO_PCA, NO_DROPOUT,
                                 NO_DECAY, *WITHOUT.values())}


@dataclass(frozen=True)
class Comparison:
    label: str
    treatment: Arm
    control: Arm
    metric: str = "val_top1"     # a column of the seeds table; points (x100) unless a ratio metric
    ratio: bool = False          # effect = treatment / control instead of the difference
    decides: bool = True         # False: reported beside the verdict, not part of it
    paper: float = None          # the paper's value of this effect, where it gives one


@dataclass
class Config:
    """An ImageNet-shaped scale (D2 uses it too)."""
    cache_size: int              # D1's 256 at the paper scale; smaller for the proxies
    crop: int                    # 227 (the size that gives conv1 55x55); 99 / 67 for the proxies
    width: float                 # AlexNet width multiplier
    epochs: int
    seeds: tuple = (0, 1, 2)
    lr: float = 0.01
    init_std: float = 0.01
    n_train: int = 0             # 0 = the whole split
    n_val: int = 0
    train_eval_images: int = 0   # the training sample of the gap's training error; 0 = as many as validation
    batch_size: int = 128
    precision: str = "fp32"
    model_parallel: bool = False  # the two-column net with a column per GPU where a process has two (M1's timing)


SCALES = {
    "smoke": Config(cache_size=76, crop=67, width=0.125, epochs=2, seeds=(0, 1), n_train=256, n_val=128),
    # 11 arms x 3 seeds on 2 CPU cores: ~20 s per epoch here (measured), so 8 epochs, and the training
    # sample of the gap at 2,000 images (each epoch-end pass over it costs ~4% of an epoch).
    "cpu": Config(cache_size=76, crop=67, width=0.25, epochs=8, init_std=0.03, train_eval_images=2000),
    # D2's gpu scale: the paper's init and lr leave a full-width net at chance on Imagenette (see ten_patch).
    "gpu": Config(cache_size=256, crop=227, width=1.0, epochs=40, init_std=0.02, lr=0.001),
    "paper": Config(cache_size=256, crop=227, width=1.0, epochs=90, seeds=(0,), model_parallel=True),
}


def family_config(scale, seeds=None) -> Config:
    """The family's config at `scale`, with the seeds overridden when given."""
    return scale_config(SCALES, scale, seeds)


def converged_epoch(val_errors):
    """First epoch (1-based) whose validation error is within CONVERGED_WITHIN of the run's best."""
    best = min(val_errors)
    return next(i + 1 for i, e in enumerate(val_errors) if e <= best + CONVERGED_WITHIN)


class Family:
    """The data on the device, and the training of one arm for one seed (found in the store if done)."""

    def __init__(self, cfg: Config, scale, device=None, data_root=None, work_dir=None):
        self.cfg, self.scale = cfg, scale
        self.device = pick_device(device)
        data = load_imagefolder(find_dataset(data_root), size=cfg.cache_size)
        self.data, self.splits = to_splits(data, cfg.n_train, cfg.n_val, self.device)
        as_dev = lambda a: torch.from_numpy(np.asarray(a)).to(self.device)
        self.mean, self.eigvals, self.eigvecs = as_dev(data.mean_image), as_dev(data.pca_eigvals), as_dev(data.pca_eigvecs)
        n_eval = cfg.train_eval_images or len(self.splits.test_y)  # the training sample of the gap
        self.train_eval = Splits(self.splits.train_x[:n_eval], self.splits.train_y[:n_eval],
                                 self.splits.test_x, self.splits.test_y)
        self.work_dir = work_dir or default_work_dir(FAMILY, scale)
        self.base = AlexNetConfig(width=cfg.width, input_size=cfg.crop, num_classes=len(data.classes),
                                  init_std=cfg.init_std)
        # Model parallelism in a single process only: under torchrun each process has one GPU (DDP).
        self.devices = two_devices_for(self.device) if cfg.model_parallel and not distributed.current() else None

    def on_two_devices(self, arm: Arm):
        return bool(self.devices) and arm.net_config(self.base).columns == "two"

    def describe_run(self, arm: Arm, seed):
        spec = TrainSpec(lr=self.cfg.lr, momentum=0.9, weight_decay=arm.weight_decay,
                         batch_size=self.cfg.batch_size, max_epochs=self.cfg.epochs,
                         precision=self.cfg.precision, seed=seed)
        return spec, {"family": FAMILY, "net": asdict(arm.net_config(self.base)), "spec": asdict(spec),
                      "data": self.data.checksum, "train_eval_images": len(self.train_eval.train_y),
                      "augment": "random crop + flip" + (" + PCA lighting 0.1" if arm.pca else ""),
                      # its own runs: per-column dropout masks draw other random numbers than the grouped net's
                      **({"devices": 2} if self.on_two_devices(arm) else {})}

    def build(self, arm: Arm, devices=None):
        """The arm's net on the family's device (as every reader of a trained net gets it), or to train
        with two `devices`, its columns apart (its checkpoints load into the one-device form all the same)."""
        return build_for_training(arm.net_config(self.base), self.device, devices)

    def run(self, arm: Arm, seed):
        cfg, mean = self.cfg, self.mean
        spec, description = self.describe_run(arm, seed)

        def augment(batch):
            x = random_crop_flip(batch, cfg.crop, None, mean)
            return pca_lighting(x, self.eigvals, self.eigvecs, 0.1) if arm.pca else x

        result = cached_train(
            self.work_dir, description, lambda: self.build(arm, self.devices), self.splits,
            lambda b: center_crop(b, cfg.crop, mean),
            spec, make_optimizer=lambda m: PaperSGD(param_groups(m, arm.weight_decay), lr=cfg.lr),
            augment=augment, train_eval=self.train_eval, desc=f"{arm.name} seed={seed}")
        hist = result.history
        val = [h["test_error"] for h in hist]
        row = {"arm": arm.name, "seed": seed, "status": result.status, "epochs": len(hist),
               "val_top1": 100 * val[-1], "train_top1": 100 * hist[-1]["train_error_full"],
               "train_error_running": 100 * hist[-1]["train_error_running"],
               "converged_epoch": converged_epoch(val) if all(map(math.isfinite, val)) else math.nan,
               "seconds_per_epoch": result.wall_time_s / max(len(hist), 1), "wall_time_s": result.wall_time_s}
        row["gap"] = row["val_top1"] - row["train_top1"]
        row["left_chance"] = left_chance(row["val_top1"], len(self.data.classes))
        row["val_top5"] = self._top5(arm, description) if result.status != "diverged" else math.nan
        return row, [dict(h, arm=arm.name, seed=seed) for h in hist]

    def _top5(self, arm, description):
        """Validation top-5 error (%) of the centre crop, cached beside the run: every claim that shares
        the arm reads it instead of loading the model again."""
        def top5():
            model = final_model(self.work_dir, description, lambda: self.build(arm))
            scores = predict(model, self.splits.test_x, self.cfg.crop, self.mean)
            return {"top5": 100 * float(topk_errors(scores, self.splits.test_y.cpu())[1])}
        return cached_beside_run(self.work_dir, description, f"val_top5_{len(self.splits.test_y)}", top5)["top5"]


def _effects(comparison, by):
    """Per-seed effect of one comparison over the seeds both arms have."""
    t, c, m = comparison.treatment.name, comparison.control.name, comparison.metric
    seeds = sorted(s for (a, s) in by if a == t and (c, s) in by)
    pairs = [(by[(t, s)][m], by[(c, s)][m]) for s in seeds]
    return [a / b if comparison.ratio else a - b for a, b in pairs if math.isfinite(a) and math.isfinite(b)]


def combine(verdicts):
    """One verdict for several comparisons of one claim (E5's three layers, BN's two baselines)."""
    if len(set(verdicts)) == 1:
        return verdicts[0]
    if REPRODUCED in verdicts or PARTLY in verdicts:
        return PARTLY
    return NOT_REPRODUCED if NOT_REPRODUCED in verdicts else INCONCLUSIVE


def format_effect(d, ratio=False):
    if not d:
        return "not measured"
    if ratio:
        return f"{d['mean']:.2f}x (95% CI {d['lo']:.2f}-{d['hi']:.2f}, {d['n']} seeds)"
    return f"{d['mean']:+.2f} points (95% CI {d['lo']:+.2f} to {d['hi']:+.2f}, {d['n']} seeds)"


def arms_of(comparisons):
    """The arms a claim's comparisons need, each once, in order."""
    return list({a.name: a for c in comparisons for a in (c.treatment, c.control)}.values())


def plan(comparisons, scale, seeds=None):
    """A claim's runs as `--jobs` prefill chains (see runs.prefill_in_parallel): every (arm, seed) is
    independent. Each claim module's `prefill_plan` is this with its own comparisons."""
    return [[[dict(arm=a.name, seed=s)]] for s in family_config(scale, seeds).seeds for a in arms_of(comparisons)]


def prefill(scale, arm, seed, device=None, data_root=None, work_dir=None, download=False):
    """Train one arm (by its catalogue name) for one seed into the family's run store, with its top-5."""
    Family(family_config(scale), scale, device, data_root, work_dir).run(CATALOGUE[arm], seed)


def run_claim(claim_module, scale="cpu", seeds=None, device=None, data_root=None, out_dir=None, work_dir=None,
              download=False):
    """Train every arm the claim's comparisons need (or find them in the store), measure, decide, write."""
    mod = claim_module
    cfg = family_config(scale, seeds)
    t0 = time.time()
    fam = Family(cfg, scale, device, data_root, work_dir)
    arms = arms_of(mod.COMPARISONS)
    rows, curves = [], []
    for arm in arms:
        for seed in cfg.seeds:
            row, curve = fam.run(arm, seed)
            rows.append(row)
            curves += curve
    by = {(r["arm"], r["seed"]): r for r in rows}

    measured, verdicts = {"comparisons": {}, "arms": {}}, []
    for comp in mod.COMPARISONS:
        effects = _effects(comp, by)
        ci = mean_ci(effects) if effects else None
        rule = getattr(mod, "RULES", {}).get(comp.label, mod.RULE)
        verdict = decide(ci, rule) if ci else INCONCLUSIVE
        if comp.decides:
            verdicts.append(verdict)
        measured["comparisons"][comp.label] = {
            "treatment": comp.treatment.name, "control": comp.control.name, "metric": comp.metric,
            "ratio": comp.ratio, "decides": comp.decides, "per_seed": effects, "effect": ci.as_dict() if ci else None, "verdict": verdict,
            "paper": comp.paper, "seeds_to_resolve_paper_size": seeds_to_resolve(effects, comp.paper, rule.null)}
    for arm in arms:
        arm_rows = [r for r in rows if r["arm"] == arm.name]
        measured["arms"][arm.name] = {
            k: summarize(r[k] for r in arm_rows)
            for k in ("val_top1", "val_top5", "train_top1", "gap", "converged_epoch", "seconds_per_epoch")}
    verdict = combine(verdicts)
    headline = "; ".join(
        (f"{label}: " if len(mod.COMPARISONS) > 1 else "") + format_effect(c["effect"], c["ratio"])
        for label, c in measured["comparisons"].items())
    # A run that never left chance stays in its arm's numbers (an arm that fails to train under the
    # recipe is an outcome), but the headline says so: an effect against such a run is not a size.
    measured["runs_at_chance"] = [f"{r['arm']}, seed {r['seed']}" for r in rows if not r["left_chance"]]
    if measured["runs_at_chance"]:
        headline += f" (never left chance: {'; '.join(measured['runs_at_chance'])})"
    result = {
        "claim": mod.CLAIM.slug, "claim_id": mod.CLAIM.id, "title": mod.CLAIM.title, "scale": scale,
        "proxy": scale != "paper",
        "proxy_note": proxy_note(fam),
        "paper": {"says": mod.CLAIM.paper_says, **mod.PAPER_NUMBERS, "section": mod.CLAIM.section,
                  "data": mod.CLAIM.paper_data},
        "measured": measured,
        "headline": headline,
        "verdict": getattr(mod, "VERDICT_WORDS", {}).get(verdict, verdict),
        "verdict_rule": " ".join(f"[{c.label}] " + getattr(mod, "RULES", {}).get(c.label, mod.RULE).describe()
                                 for c in mod.COMPARISONS if c.decides),
        "provenance": provenance(device=fam.device, dataset=fam.data.describe(), seeds=cfg.seeds, scale=scale,
                                 config={**asdict(cfg), "net": asdict(fam.base),
                                         "arms": {a.name: a.describe() for a in arms}},
                                 wall_time_s=sum(r["wall_time_s"] for r in rows), precision=cfg.precision),
    }
    result["provenance"]["invocation_wall_time_s"] = round(time.time() - t0, 1)
    write_result(result, out_dir or results_dir(mod.CLAIM.slug, scale),
                 tables={"seeds": pd.DataFrame(rows), "curves": pd.DataFrame(curves)})
    return result


def proxy_note(fam, paper_data="ImageNet"):
    cfg = fam.cfg
    return (f"{fam.data.meta['name']} at {cfg.cache_size} px, crop {cfg.crop}, AlexNet width x{cfg.width}, "
            f"{len(fam.data.classes)} classes, {cfg.epochs} epochs at a constant rate; the paper: {paper_data}, "
            "1000 classes, 224 px, ~90 epochs.")


def seeds_to_resolve(effects, paper, null):
    """How many seeds the paper's effect would need to be resolved, given the seed-to-seed spread
    measured here: the fewest n whose 95% half-width t(n-1) * sd / sqrt(n) is under |paper - null|."""
    if paper is None or len(effects) < 2 or paper == null:
        return None
    mean = sum(effects) / len(effects)
    sd = math.sqrt(sum((e - mean) ** 2 for e in effects) / (len(effects) - 1))
    n = 2
    while t975(n - 1) * sd / math.sqrt(n) >= abs(paper - null):
        n += 1
        if n > 1000:
            return None
    return n


def plot_arms(seeds_table, curves, result):
    """Left: each arm's validation top-1 error, seeds as points. Right: validation error per epoch."""
    import matplotlib.pyplot as plt
    import seaborn as sns
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    order = list(result["measured"]["arms"])
    sns.stripplot(data=seeds_table, y="arm", x="val_top1", order=order, hue="arm", hue_order=order, size=7,
                  legend=False, ax=axes[0])
    sns.pointplot(data=seeds_table, y="arm", x="val_top1", order=order, color="black", markers="|",
                  linestyle="none", errorbar=("ci", 95), ax=axes[0])
    axes[0].set(xlabel="validation top-1 error (%), centre crop", ylabel="")
    c = curves.assign(val_top1=100 * curves["test_error"])
    sns.lineplot(data=c, x="epoch", y="val_top1", hue="arm", hue_order=order, errorbar=("pi", 100), ax=axes[1])
    axes[1].set(xlabel="epoch", ylabel="validation top-1 error (%)")
    fig.suptitle(f"{result['claim_id']}, scale '{result['scale']}' (proxy): {result['headline']}", fontsize=10)
    fig.tight_layout()
    return fig


def comparison_table(result):
    """The comparisons as a DataFrame: effect, interval and verdict, beside the paper's number."""
    rows = []
    for label, c in result["measured"]["comparisons"].items():
        e = c["effect"] or {}
        rows.append({"comparison": label, "metric": c["metric"] + (" (ratio)" if c["ratio"] else " (points)"),
                     "paper": c.get("paper"), "mean": e.get("mean"), "95% lo": e.get("lo"), "95% hi": e.get("hi"),
                     "seeds": e.get("n"), "seeds to resolve the paper's size": c.get("seeds_to_resolve_paper_size"),
                     "verdict": c["verdict"] if c.get("decides", True) else "(reported, not decided)"})
    return pd.DataFrame(rows)

