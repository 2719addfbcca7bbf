"""R1: ReLUs reach 25% training error on CIFAR-10 six times faster than tanh units (paper 3.1, Fig. 1).

cuda-convnet's 19pct net (models/cifar.py) with either activation, unregularized. Per activation, a learning-rate
sweep on seeds[0] keeps the fastest rate to 25%; at each best rate the seeds measure epochs to 25%, and the speedup
is epochs(tanh) / epochs(ReLU), seed by seed. The verdict reads the running error over each epoch's minibatches
(what cuda-convnet prints and Fig. 1 plots); an epoch-end pass over a fixed training sample is recorded beside.

The input's scale, which the paper leaves open, moves the speedup: standardized inputs let tanh train far faster than
cuda-convnet's 0..255 pixels minus the mean image (the paper's setup, which decides). So further setups are measured
beside the verdict (Config.measured), and a sensitivity study sweeps seed 0 under one changed choice each.
"""

import functools
import json
import math
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import torch

from ..data.cifar10 import load_cifar10
from ..engine import TRAINING_VERSION, Normalizer, TrainSpec, pick_device
from ..fmt import fmt_interval
from ..models.cifar import Net19pct
from ..runs import cached_train, default_work_dir
from ..verdict import INCONCLUSIVE, PLUMBING, Interval, Rule, decide, mean_ci_log, summarize
from . import Claim, contract
from .contract import Assessment, Trained, scale_config

CLAIM = Claim(
    id="R1",
    slug="relu_vs_tanh",
    title="ReLU trains six times faster than tanh",
    paper_says="A four-layer CNN with ReLUs reaches 25% training error on CIFAR-10 six times faster than the "
    "same net with tanh units, each with its learning rate chosen to train as fast as possible.",
)
DATA = "cifar10"
run = functools.partial(contract.run, sys.modules[__name__])  # writes results/<slug>/<scale>/ -> the result

PAPER_SPEEDUP = 6.0
TARGET = 0.25
ACTIVATIONS = ("relu", "tanh")

# Written before any run. "Within a factor 1.5 of 6x" is the paper's size: Fig. 1 is one run per
# activation read off a plot, so a tighter band would claim more precision than the paper has.
RULE = Rule(
    null=1.0,
    direction=+1,
    band=(PAPER_SPEEDUP / 1.5, PAPER_SPEEDUP * 1.5),
    ratio=True,
    text="Effect: speedup = epochs to 25% running training error with tanh / with ReLU, per seed, "
    "each at its own best learning rate.",
)


@dataclass
class Setup:
    """The choices the paper leaves open. The defaults are cuda-convnet's (the code the paper used)."""

    momentum: float = 0.9
    init: str = "cuda_convnet"  # or "torch_default" (Kaiming-uniform)
    input_scaling: str = "cuda_convnet"  # 0..255 minus the mean image; or "standardized"
    lrs: tuple = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)


@dataclass
class Config:
    n_train: int = 50_000
    n_test: int = 10_000
    train_eval_images: int = 10_000  # the fixed training sample of the epoch-end evaluation pass
    max_epochs: int = 40
    seeds: tuple = (0, 1, 2)  # seeds[0] also runs the sweep
    setup: Setup = field(default_factory=Setup)  # the paper's (cuda-convnet's) setup: it decides the verdict
    # Further setups measured with every seed like `setup`, reported beside the verdict (not deciding it).
    measured: dict = field(default_factory=dict)
    # The sensitivity study: the same sweep + seed-0 measurement under one changed choice each.
    variants: dict = field(default_factory=dict)
    precision: str = "fp32"
    batch_size: int = 128


DEFAULTS = "paper defaults (cuda-convnet)"
# Each variant's grid is centred where its rates live: without momentum the step must be ~10x larger,
# and standardized inputs are ~60x smaller than 0..255 ones.
STANDARDIZED = {"standardized input": Setup(input_scaling="standardized", lrs=(1e-2, 3e-2, 1e-1))}
STANDARDIZED_NO_MOMENTUM = {
    "standardized input, no momentum": Setup(momentum=0.0, input_scaling="standardized", lrs=(1e-1, 3e-1, 1.0))
}
VARIANTS = {
    "no momentum": Setup(momentum=0.0, lrs=(1e-3, 3e-3, 1e-2, 3e-2, 1e-1)),
    "torch default init": Setup(init="torch_default", lrs=(3e-4, 1e-3, 3e-3, 1e-2, 3e-2)),
    "standardized input": Setup(input_scaling="standardized", lrs=(3e-3, 1e-2, 3e-2, 1e-1, 3e-1)),
}

SCALES = {
    "smoke": Config(
        n_train=1_000,
        n_test=500,
        train_eval_images=500,
        max_epochs=3,
        seeds=(0, 1),
        setup=Setup(lrs=(3e-3,)),
        measured={"standardized input": Setup(input_scaling="standardized", lrs=(3e-2,))},
    ),
    # Sized to a 2-core CPU: a class-balanced fifth of the training set, three rates, three seeds, the standardized
    # setup measured with every seed (its grid centred on the gpu scale's best standardized rate, 0.03 for both
    # activations) and, without momentum, as a sensitivity row. bf16: on a CPU with AMX a step took 0.042 s against
    # 0.104 s in fp32; on a CPU without native bf16 that is reversed: set precision="fp32" there.
    "cpu": Config(
        n_train=10_000,
        train_eval_images=5_000,
        max_epochs=60,
        setup=Setup(lrs=(1e-3, 3e-3, 1e-2)),
        measured=STANDARDIZED,
        variants=STANDARDIZED_NO_MOMENTUM,
        precision="bf16",
    ),
    # All 50,000 images, 5 seeds, a quarter-decade grid (1.8e-3..3.2e-2) around the cpu scale's best
    # rates and past its top (where tanh's best sat), and the sensitivity study. Sized to one H100
    # running the sweeps side by side (`--jobs`); the epoch-end pass uses a fixed 10,000-image sample.
    "gpu": Config(
        seeds=(0, 1, 2, 3, 4),
        max_epochs=80,
        train_eval_images=10_000,
        measured={**STANDARDIZED, **STANDARDIZED_NO_MOMENTUM},
        setup=Setup(lrs=tuple(10 ** (e / 4) for e in range(-11, -5))),
        variants=VARIANTS,
    ),
    "paper": Config(
        seeds=(0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
        max_epochs=100,
        train_eval_images=50_000,
        setup=Setup(lrs=tuple(10 ** (e / 4) for e in range(-16, -7))),
        variants=VARIANTS,
    ),
}
# Smoke runs cannot reach 25% in seconds; they test the machinery with a reachable target instead.
SMOKE_TARGET = 0.88


def epochs_to_target(history, target, key="train_error_running"):
    """Fractional epochs at which `key` first reaches `target`, interpolated linearly between epoch ends from
    chance (90%) at epoch 0; inf if never."""
    prev_epoch, prev_err = 0, 0.9
    for row in history:
        err = row[key]
        if err <= target:
            return prev_epoch + (prev_err - target) / (prev_err - err) * (row["epoch"] - prev_epoch)
        prev_epoch, prev_err = row["epoch"], err
    return math.inf


def _sweep_order(lrs):
    """Middle of the grid first, then outwards, larger rates before smaller at equal distance: the
    fastest rate is usually the largest that stays stable, and finding it early prunes the rest.
    The order changes only the cost of the sweep, never its outcome."""
    mid = (len(lrs) - 1) / 2
    return sorted(lrs, key=lambda lr: (abs(lrs.index(lr) - mid), -lrs.index(lr)))


class _Experiment:
    """A scale's data on its device, and its runs, each trained or found in the run store."""

    def __init__(self, scale, seeds, device, data_root, work_dir, download):
        self.cfg = cfg = scale_config(SCALES, scale, seeds)
        self.target = SMOKE_TARGET if scale == "smoke" else TARGET
        self.device = pick_device(device)
        data = load_cifar10(data_root, download=download).subset(cfg.n_train, cfg.n_test)
        self.description = data.describe()
        self.data = data.to(self.device)
        self.eval_subset = self.data.subset(cfg.train_eval_images, len(data.test_y))  # fixed training sample
        self.work_dir = work_dir or default_work_dir(CLAIM.slug, scale)

    def train_at(self, setup: Setup, activation, lr, seed, budget=None):
        cfg = self.cfg
        normalize = Normalizer(self.data.train_x, setup.input_scaling)
        spec = TrainSpec(
            lr=lr,
            momentum=setup.momentum,
            batch_size=cfg.batch_size,
            max_epochs=cfg.max_epochs,
            precision=cfg.precision,
            seed=seed,
        )
        description = {
            "claim": CLAIM.id,
            "net": "19pct",
            "activation": activation,
            "init": setup.init,
            "input_scaling": setup.input_scaling,
            "spec": asdict(spec),
            "data": self.data.checksum,
            "target": self.target,
            "train_eval_images": cfg.train_eval_images,
        }

        result = cached_train(
            self.work_dir,
            description,
            lambda: Net19pct(activation, setup.init).to(self.device, memory_format=torch.channels_last),
            self.data,
            normalize,
            spec,
            epoch_budget=budget,
            stop_at=lambda h: h[-1]["train_error_running"] <= self.target,
            train_eval=self.eval_subset,
            test_every_epoch=False,  # R1 reports the test error at the end
            desc=f"R1 {activation} lr={lr:.2g} seed={seed}",
        )
        hist = result.history
        return {
            "activation": activation,
            "lr": lr,
            "seed": seed,
            "status": result.status,
            "epochs_run": len(hist),
            "epochs_to_target": epochs_to_target(hist, self.target),
            "epochs_to_target_full": epochs_to_target(hist, self.target, "train_error_full"),
            "final_train_error_running": hist[-1]["train_error_running"] if hist else math.nan,
            "final_test_error": hist[-1]["test_error"] if hist else math.nan,
            "wall_time_s": result.wall_time_s,
            "history": hist,
        }

    def sweep(self, setup: Setup, activation, seed):
        """Each rate until the target, pruned at the fastest-so-far's epoch count."""
        rows, best = [], math.inf
        for lr in _sweep_order(list(setup.lrs)):
            budget = None if math.isinf(best) else math.ceil(best)
            row = self.train_at(setup, activation, lr, seed, budget)
            rows.append(row)
            if row["status"] == "target":
                best = min(best, row["epochs_to_target"])
        return rows


def _sweep_arm(name, activation):
    """The arm of sweep.csv that holds `activation`'s sweep under the setup `name`: the paper's setup's is named
    by the activation alone."""
    return activation if name == DEFAULTS else f"{activation} ({name})"


def _best_lr(rows):
    fastest = min((r for r in rows if r["status"] == "target"), key=lambda r: r["epochs_to_target"], default=None)
    return fastest["lr"] if fastest else None


def _strip(rows):
    return [{k: v for k, v in r.items() if k != "history"} for r in rows]


def plan(scale, seeds=None):
    """What `train` trains, as chains of `run_job` jobs. Chains are independent of each other; within
    a chain each stage needs the one before (the defaults' sweep, then the seed runs at its best rate)."""
    cfg = scale_config(SCALES, scale, seeds)
    seeds = cfg.seeds
    chains = []
    for arm in ("defaults", *cfg.measured, *cfg.variants):
        for a in ACTIVATIONS:
            sweep = dict(arm=arm, activation=a, sweep_seed=seeds[0])
            seed_runs = [dict(sweep, seed=s) for s in seeds[1:]] if arm not in cfg.variants else []
            chains.append([[sweep]] + ([seed_runs] if seed_runs else []))
    return chains


def run_job(scale, arm, activation, sweep_seed, seed=None, device=None, data_root=None, work_dir=None, download=False):
    """Train one sweep (or, with `seed`, one seed run at its best rate, the sweep read back) into the run store."""
    exp = _Experiment(scale, None, device, data_root, work_dir, download)
    setup = exp.cfg.setup if arm == "defaults" else {**exp.cfg.measured, **exp.cfg.variants}[arm]
    rows = exp.sweep(setup, activation, sweep_seed)
    if seed is not None and _best_lr(rows):
        exp.train_at(setup, activation, _best_lr(rows), seed)


def train(scale, seeds=None, device=None, data_root=None, work_dir=None, download=False) -> Trained:
    """1. The sweep, per activation, with seeds[0]; 2. the seeds at each activation's best rate (seeds[0] is
    the sweep's own run, found in the store): for the paper's setup, then each further measured setup;
    3. the sensitivity study's sweeps. Each run trained or found in the store."""
    exp = _Experiment(scale, seeds, device, data_root, work_dir, download)
    cfg = exp.cfg
    setups = {DEFAULTS: cfg.setup, **cfg.measured}  # measured with every seed
    swept = {**setups, **cfg.variants}  # the sensitivity study sweeps these on seeds[0]
    sweeps = {name: {a: exp.sweep(setup, a, cfg.seeds[0]) for a in ACTIVATIONS} for name, setup in swept.items()}
    best = {name: {a: _best_lr(sweeps[name][a]) for a in ACTIVATIONS} for name in swept}
    seed_runs = [
        dict(exp.train_at(setup, a, best[name][a], s), setup=name)
        for name, setup in setups.items()
        for a in ACTIVATIONS
        if best[name][a]
        for s in cfg.seeds
    ]
    all_sweep = [
        dict(r, arm=_sweep_arm(name, a))
        for name in (DEFAULTS, *cfg.variants, *cfg.measured)
        for a in ACTIVATIONS
        for r in _strip(sweeps[name][a])
    ]
    # An activation that never reached the target has no seed runs: plot its best sweep run instead.
    shown = seed_runs + [
        dict(
            min(sweeps[name][a], key=lambda r: r["history"][-1]["train_error_running"] if r["history"] else 1),
            setup=name,
        )
        for name in setups
        for a in ACTIVATIONS
        if not best[name][a]
    ]
    curves = [
        dict(h, setup=r["setup"], activation=r["activation"], seed=r["seed"], lr=r["lr"])
        for r in shown
        for h in r["history"]
    ]
    compute_s = sum(r["wall_time_s"] for r in all_sweep)
    compute_s += sum(r["wall_time_s"] for r in seed_runs if r["seed"] != cfg.seeds[0])  # seeds[0]'s is the sweep's
    seed_rows = _strip(seed_runs)
    context = _context(cfg, sweeps, seed_runs)
    return Trained(
        rows=seed_rows,
        tables={
            "sweep": pd.DataFrame(all_sweep),
            "seeds": pd.DataFrame(seed_rows),
            "curves": pd.DataFrame(curves),
            "sensitivity": pd.DataFrame(context["sensitivity"]),
        },
        device=exp.device,
        dataset=exp.description,
        seeds=cfg.seeds,
        config={**asdict(cfg), "target_train_error": exp.target, "net": "cuda-convnet layers-19pct"},
        wall_time_s=compute_s,
        precision=cfg.precision,
        proxy=cfg.n_train < 50_000,
        proxy_note=_proxy_note(cfg, exp.description),
        context=context,
    )


def _context(cfg, sweeps, seed_runs):
    """What assess reads, from a scale's sweeps ({setup: {activation: runs}}) and its seed runs: the speedup's
    interval at each activation's best rate, for the paper's setup and each further measured setup."""
    setups = {DEFAULTS: cfg.setup, **cfg.measured}
    best = {name: {a: _best_lr(sweeps[name][a]) for a in ACTIVATIONS} for name in sweeps}

    def measure(name):
        # seeds.csv names each run's setup since further setups are measured with seeds; before, all were the paper's
        return _measure([r for r in seed_runs if r.get("setup", DEFAULTS) == name], best[name], cfg, setups[name])

    measured = measure(DEFAULTS)
    measured["setups"] = {name: measure(name) for name in cfg.measured}
    # The sensitivity study: how the speedup moves with the choices the paper leaves open.
    sensitivity = [
        _sensitivity_row(name, setup, sweeps[name], best[name]) for name, setup in {**setups, **cfg.variants}.items()
    ]
    return {"measured": measured, "sensitivity": sensitivity, "setups_measured": bool(cfg.measured)}


def assess(trained: Trained, scale) -> Assessment:
    """The paper's setup's speedup decides; the other measured setups are reported beside it."""
    c = trained.context
    measured = c["measured"]
    ci = measured.get("speedup")
    verdict = (decide(Interval(**ci), RULE) if ci else INCONCLUSIVE) if scale != "smoke" else PLUMBING
    only_defaults = f" Only the paper's setup ({DEFAULTS}) decides; the other measured setups are reported beside it."
    return Assessment(
        verdict,
        _headline(measured),
        measured,
        RULE.describe() + (only_defaults if c["setups_measured"] else ""),
        paper={"speedup": PAPER_SPEEDUP, "target_train_error": TARGET},
        fields={
            "verdict_measure": "train_error_running (error over each epoch's minibatches, as in the paper's Fig. 1)",
            "sensitivity": c["sensitivity"],
        },
    )


def reread(folder):
    """Decide a committed R1 result again by today's code from its sweep.csv and seeds.csv (nothing is rerun), by the
    config it records, not today's SCALES (measured setups were added after the first results). A result of another
    training version is refused: rerun it."""
    folder = Path(folder)
    old = json.loads((folder / "result.json").read_text())
    trained_by = old["provenance"].get("training_version")
    if trained_by != TRAINING_VERSION:
        # not recorded: the result predates that record, and may predate engine v2, which changed every run's numbers
        raise ValueError(
            f"{folder}: its runs were trained by training version {trained_by or 'unknown (not recorded)'}, not "
            f"today's {TRAINING_VERSION}: rerun it instead"
        )
    cfg = _recorded_config(old["provenance"])
    sweep = pd.read_csv(folder / "sweep.csv").to_dict("records")
    swept = (DEFAULTS, *cfg.measured, *cfg.variants)
    sweeps = {name: {a: [r for r in sweep if r["arm"] == _sweep_arm(name, a)] for a in ACTIVATIONS} for name in swept}
    context = _context(cfg, sweeps, pd.read_csv(folder / "seeds.csv").to_dict("records"))
    a = assess(SimpleNamespace(context=context), old["scale"])
    return contract.reread(sys.modules[__name__], folder, old, a, cfg.seeds, " from its committed sweeps and seed runs")


def _recorded_config(provenance):
    """The Config a result records (provenance.config, its seeds provenance.seeds). A result made before the
    measured setups existed records none: it measured none."""
    c = provenance["config"]

    def setup(d):
        return Setup(**{**d, "lrs": tuple(d["lrs"])})

    plain = {f.name: c[f.name] for f in fields(Config) if f.name not in ("seeds", "setup", "measured", "variants")}
    return Config(
        **plain,
        seeds=tuple(provenance["seeds"]),
        setup=setup(c["setup"]),
        measured={name: setup(d) for name, d in c.get("measured", {}).items()},
        variants={name: setup(d) for name, d in c.get("variants", {}).items()},
    )


def _proxy_note(cfg, dataset):
    """Every departure from the paper's Fig. 1 at this scale."""
    parts = [
        f"a grid of {len(cfg.setup.lrs)} learning rates ({', '.join(f'{lr:g}' for lr in cfg.setup.lrs)}) per "
        "activation where the paper tuned each by hand",
        f"{len(cfg.seeds)} seeds where Fig. 1 shows one run per activation",
        f"an epoch cap of {cfg.max_epochs}",
    ]
    if cfg.n_train < 50_000:
        parts.insert(0, f"trained on {cfg.n_train:,} of CIFAR-10's 50,000 training images (class-balanced)")
    if cfg.precision != "fp32":
        parts.append(f"{cfg.precision} autocast where cuda-convnet computed in fp32")
    if "jpg" in str(dataset.get("source", "")):
        parts.append("a JPEG re-encoded copy of CIFAR-10 (2-3 points less accurate than the original)")
    return "A proxy: " + "; ".join(parts) + ". CIFAR-10 and cuda-convnet's 19pct net are the paper's own setup for R1."


def _measure(seed_rows, best_lr, cfg, setup):
    out = {
        "best_lr": best_lr,
        "best_lr_at_grid_edge": {a: lr in (min(setup.lrs), max(setup.lrs)) for a, lr in best_lr.items() if lr},
    }
    by = {(r["activation"], r["seed"]): r for r in seed_rows}

    def runs(a):  # the activation's seed runs, in the order of the seeds
        return [by[(a, s)] for s in cfg.seeds if (a, s) in by]

    for key, name in (("epochs_to_target", "speedup"), ("epochs_to_target_full", "speedup_full_pass")):
        out[key] = {a: summarize(r[key] for r in runs(a)) for a in ACTIVATIONS}
        ratios = [
            by[("tanh", s)][key] / by[("relu", s)][key] for s in cfg.seeds if ("tanh", s) in by and ("relu", s) in by
        ]
        finite = [r for r in ratios if math.isfinite(r) and r > 0]
        out[f"{name}_per_seed"] = ratios
        if finite:
            out[name] = mean_ci_log(finite).as_dict()  # protocol v2: a ratio's interval on log(ratio)
    never = [a for a in ACTIVATIONS if not best_lr.get(a)]
    if never and not out.get("speedup"):
        reached = out["epochs_to_target"]["relu"].get("mean")
        out["never_reached"] = never
        if never == ["tanh"] and reached:
            # Censored: tanh needs more than the cap, so the speedup is at least cap / epochs(ReLU).
            out["speedup_lower_bound"] = cfg.max_epochs / reached
    out["images_to_target"] = {
        a: [v * cfg.n_train for v in out["epochs_to_target"][a]["per_seed"]] for a in ACTIVATIONS
    }
    out["final_test_error"] = {a: [r["final_test_error"] for r in runs(a)] for a in ACTIVATIONS}
    out["wall_time_s_per_run"] = {a: [round(r["wall_time_s"], 1) for r in runs(a)] for a in ACTIVATIONS}
    return out


def _sensitivity_row(name, setup, sweep, best_lr):
    e = {
        a: min((r["epochs_to_target"] for r in sweep[a] if r["status"] == "target"), default=math.inf)
        for a in ACTIVATIONS
    }
    return {
        "setup": name,
        "momentum": setup.momentum,
        "init": setup.init,
        "input_scaling": setup.input_scaling,
        "best_lr_relu": best_lr["relu"],
        "best_lr_tanh": best_lr["tanh"],
        "epochs_relu": e["relu"],
        "epochs_tanh": e["tanh"],
        "speedup": e["tanh"] / e["relu"] if math.isfinite(e["relu"]) else math.nan,
    }


def _headline(m):
    head = _one_headline(m)
    for name, sm in m.get("setups", {}).items():
        head += f"; {name}: {_one_headline(sm)}"
    return head if not m.get("setups") else f"cuda-convnet input (the paper's): {head}"


def _one_headline(m):
    if m.get("speedup_lower_bound"):
        return (
            f"> {m['speedup_lower_bound']:.1f}x (tanh never reached the target within the epoch cap at any "
            f"rate; ReLU took {m['epochs_to_target']['relu']['mean']:.1f} epochs)"
        )
    if not m.get("speedup"):
        return "no speedup measured: an activation never reached the target"
    return fmt_speedup(m["speedup"])


def fmt_speedup(d):
    return fmt_interval(d, ratio=True, missing="not reached")


def decided(result) -> dict:
    """The paper's setup's speedup as the verdict read it: {speedup, speedup_per_seed}; from the result's deciding
    comparison where a later re-assessment added one (scripts/reassess_v1_results.py), else from `measured`."""
    m = result["measured"]
    c = next((c for c in result.get("comparisons", []) if c.get("decides", True) and c.get("effect")), None)
    if c is None:
        return {"speedup": m.get("speedup"), "speedup_per_seed": m.get("speedup_per_seed", [])}
    return {"speedup": c["effect"], "speedup_per_seed": c.get("per_seed", [])}


def speedups(result) -> dict:
    """{setup: {speedup, speedup_per_seed}}: the paper's setup as the verdict read it (`decided`), then the others."""
    return {DEFAULTS: decided(result), **result["measured"].get("setups", {})}


def effect_rows(result):
    """The speedup of each measured setup as the effect panel draws it: the paper's setup decides, the others
    are reported beside it, against the same 6x."""
    from ..figures import EffectRow

    return [
        EffectRow(
            f"speedup, {name}",
            d.get("speedup"),
            RULE,
            PAPER_SPEEDUP,
            d.get("speedup_per_seed", []),
            result["verdict"] if name == DEFAULTS else "",
            ratio=True,
        )
        for name, d in speedups(result).items()
    ]


def plot_curves(curves, result):
    """Fig. 1 style: running training error vs epochs, one line per activation at its best rate, the band
    spanning the seeds; one panel per measured setup (the paper's first). Below: each setup's speedup with its
    95% interval beside the paper's 6x and the rule's band (figures.py)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from ..figures import effect_axes

    target = result["provenance"]["config"]["target_train_error"]
    setups = list(dict.fromkeys(curves["setup"])) if "setup" in curves else [None]
    rows = effect_rows(result)
    fig = plt.figure(figsize=(max(5.5 * len(setups), 9), 4.8 + 0.55 * len(rows)), layout="constrained")
    curves_fig, effects_fig = fig.subfigures(2, 1, height_ratios=[4, 0.8 + 0.55 * len(rows)])
    axes = curves_fig.subplots(1, len(setups), sharey=True, squeeze=False)
    measured = speedups(result)
    for ax, name in zip(axes[0], setups):
        data = curves if name is None else curves[curves["setup"] == name]
        sns.lineplot(
            data=data,
            x="epoch",
            y="train_error_running",
            hue="activation",
            hue_order=list(ACTIVATIONS),
            style="activation",
            errorbar=("pi", 100),
            marker="o",
            ax=ax,
        )
        ax.axhline(target, ls="--", c="grey", lw=1)
        ax.set(
            title=f"{name or DEFAULTS}: {fmt_speedup(measured.get(name or DEFAULTS, {}).get('speedup'))}",
            xlabel="epochs",
            ylabel="running training error",
        )
    effect_axes(effects_fig, rows)
    fig.suptitle(f"R1, scale '{result['scale']}': ReLU vs tanh to {target:.0%} training error; paper 6x")
    return fig
