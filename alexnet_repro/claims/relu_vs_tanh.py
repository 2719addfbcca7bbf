"""R1: ReLUs reach 25% training error on CIFAR-10 six times faster than tanh units (paper 3.1, Fig. 1).

The experiment. cuda-convnet's 19pct net (four weight layers, CLAIMS.md section C) with either
activation, no regularization of any kind (no weight decay, dropout or augmentation). For each
activation independently, a learning-rate sweep: each rate trains until the training error reaches
25% or the epoch cap, and the activation's fastest rate is kept (a run that diverges is recorded as
diverged and the sweep goes on). At each activation's best rate, several seeds measure the
epochs to 25%; the speedup is epochs(tanh) / epochs(relu), seed by seed.

Training error is measured two ways, both recorded: the running error over each epoch's
minibatches (what cuda-convnet prints and what the paper's Fig. 1 plots; the verdict uses this),
and a full evaluation pass at each epoch's end over a fixed sample of the training set. Epochs to
25% are interpolated linearly between epoch ends (epoch 0 = chance, 90% error).

The sweep stays affordable without changing what it measures: rates are tried from the grid's
middle outwards, and a run stops once it has used more epochs than the fastest run so far (it can
no longer be the fastest).
"""
import math
import time
from dataclasses import asdict, dataclass, field

import pandas as pd
import torch

from ..data.cifar10 import load_cifar10
from ..engine import Normalizer, TrainSpec, pick_device
from ..models.cifar import Net19pct
from ..results import provenance, results_dir, write_result
from ..runs import cached_train, default_work_dir
from ..verdict import INCONCLUSIVE, PLUMBING, Interval, Rule, decide, mean_ci, mean_ci_log, summarize
from . import Claim, scale_config

CLAIM = Claim(
    id="R1", slug="relu_vs_tanh", title="ReLU trains six times faster than tanh",
    paper_says="A four-layer CNN with ReLUs reaches 25% training error on CIFAR-10 six times faster than the "
               "same net with tanh units, each with its learning rate chosen to train as fast as possible.",
    paper_number="6x fewer epochs to 25% training error", section="3.1, Fig. 1", paper_data="CIFAR-10")

PAPER_SPEEDUP = 6.0
TARGET = 0.25
ACTIVATIONS = ("relu", "tanh")

# Written before any run. "Within a factor 1.5 of 6x" is the paper's size: Fig. 1 is one run per
# activation read off a plot, so a tighter band would claim more precision than the paper has.
RULE = Rule(null=1.0, direction=+1, band=(PAPER_SPEEDUP / 1.5, PAPER_SPEEDUP * 1.5), ratio=True,
            text="Effect: speedup = epochs to 25% running training error with tanh / with ReLU, per seed, "
                 "each at its own best learning rate.")


@dataclass
class Setup:
    """The choices the paper leaves open. The defaults are cuda-convnet's (the code the paper used)."""
    momentum: float = 0.9
    init: str = "cuda_convnet"            # or "torch_default" (Kaiming-uniform)
    input_scaling: str = "cuda_convnet"   # 0..255 minus the mean image; or "standardized"
    lrs: tuple = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)


@dataclass
class Config:
    n_train: int = 50_000
    n_test: int = 10_000
    train_eval_images: int = 10_000   # the fixed training sample of the epoch-end evaluation pass
    max_epochs: int = 40
    seeds: tuple = (0, 1, 2)          # seeds[0] also runs the sweep
    setup: Setup = field(default_factory=Setup)
    # The sensitivity study: the same sweep + seed-0 measurement under one changed choice each.
    variants: dict = field(default_factory=dict)
    precision: str = "fp32"
    batch_size: int = 128


# Each variant's grid is centred where its rates live: without momentum the step must be ~10x larger,
# and standardized inputs are ~60x smaller than 0..255 ones.
VARIANTS = {
    "no momentum": Setup(momentum=0.0, lrs=(1e-3, 3e-3, 1e-2, 3e-2, 1e-1)),
    "torch default init": Setup(init="torch_default", lrs=(3e-4, 1e-3, 3e-3, 1e-2, 3e-2)),
    "standardized input": Setup(input_scaling="standardized", lrs=(3e-3, 1e-2, 3e-2, 1e-1, 3e-1)),
}

SCALES = {
    "smoke": Config(n_train=1_000, n_test=500, train_eval_images=500, max_epochs=3, seeds=(0, 1),
                    setup=Setup(lrs=(3e-3,))),
    # Sized to a 2-core CPU, where this net trains at ~800 img/s in fp32 (measured): the full protocol
    # on all 50,000 images needs ~5M images of training (2 h+). So: a class-balanced fifth of the
    # training set, three rates, three seeds. A proxy for R1; the gpu scale runs the full set.
    "cpu": Config(n_train=10_000, train_eval_images=5_000, max_epochs=60, setup=Setup(lrs=(1e-3, 3e-3, 1e-2))),
    # All 50,000 images, 5 seeds, a quarter-decade grid (1.8e-3..3.2e-2) around the cpu scale's best
    # rates and past its top (where tanh's best sat), and the sensitivity study. Sized to one H100
    # running the sweeps side by side (`--jobs`); the epoch-end pass uses a fixed 10,000-image sample.
    "gpu": Config(seeds=(0, 1, 2, 3, 4), max_epochs=80, train_eval_images=10_000,
                  setup=Setup(lrs=tuple(10 ** (e / 4) for e in range(-11, -5))), variants=VARIANTS),
    "paper": Config(seeds=(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), max_epochs=100, train_eval_images=50_000,
                    setup=Setup(lrs=tuple(10 ** (e / 4) for e in range(-16, -7))), variants=VARIANTS),
}
# Smoke runs cannot reach 25% in seconds; they test the machinery with a reachable target instead.
SMOKE_TARGET = 0.88


def epochs_to_target(history, target, key="train_error_running"):
    """Fractional epochs at which `key` first reaches `target`, interpolated linearly; inf if never."""
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
    def __init__(self, cfg: Config, scale, data, device, work_dir, target):
        self.cfg, self.scale, self.data, self.work_dir, self.target = cfg, scale, data, work_dir, target
        self.device = device
        self.eval_subset = data.subset(cfg.train_eval_images, len(data.test_y))  # fixed training sample

    def run(self, setup: Setup, activation, lr, seed, budget=None):
        cfg = self.cfg
        normalize = Normalizer(self.data.train_x, setup.input_scaling)
        spec = TrainSpec(lr=lr, momentum=setup.momentum, batch_size=cfg.batch_size, max_epochs=cfg.max_epochs,
                         precision=cfg.precision, seed=seed)
        description = {"claim": CLAIM.id, "net": "19pct", "activation": activation, "init": setup.init,
                       "input_scaling": setup.input_scaling, "spec": asdict(spec), "data": self.data.checksum,
                       "target": self.target, "train_eval_images": cfg.train_eval_images}

        def build():
            return Net19pct(activation, setup.init).to(self.device, memory_format=torch.channels_last)

        result = cached_train(
            self.work_dir, description, build, self.data, normalize, spec, epoch_budget=budget,
            stop_at=lambda h: h[-1]["train_error_running"] <= self.target,
            train_eval=self.eval_subset, test_every_epoch=False,  # R1 reports the test error at the end
            desc=f"R1 {activation} lr={lr:.2g} seed={seed}")
        hist = result.history
        return {"activation": activation, "lr": lr, "seed": seed, "status": result.status,
                "epochs_run": len(hist),
                "epochs_to_target": epochs_to_target(hist, self.target),
                "epochs_to_target_full": epochs_to_target(hist, self.target, "train_error_full"),
                "final_train_error_running": hist[-1]["train_error_running"] if hist else math.nan,
                "final_test_error": hist[-1]["test_error"] if hist else math.nan,
                "wall_time_s": result.wall_time_s, "history": hist}

    def sweep(self, setup: Setup, activation, seed):
        """Each rate until the target, pruned at the fastest-so-far's epoch count."""
        rows, best = [], math.inf
        for lr in _sweep_order(list(setup.lrs)):
            budget = None if math.isinf(best) else math.ceil(best)
            row = self.run(setup, activation, lr, seed, budget)
            rows.append(row)
            if row["status"] == "target":
                best = min(best, row["epochs_to_target"])
        return rows


def _best_lr(rows):
    reached = [r for r in rows if r["status"] == "target"]
    if not reached:
        return None
    return min(reached, key=lambda r: r["epochs_to_target"])["lr"]


def _strip(rows):
    return [{k: v for k, v in r.items() if k != "history"} for r in rows]


def _experiment(scale, seeds, device, data_root, work_dir, download):
    cfg = scale_config(SCALES, scale, seeds)
    target = SMOKE_TARGET if scale == "smoke" else TARGET
    device = pick_device(device)
    data = load_cifar10(data_root, download=download).subset(cfg.n_train, cfg.n_test)
    description = data.describe()
    exp = _Experiment(cfg, scale, data.to(device), device, work_dir or default_work_dir(CLAIM.slug, scale), target)
    return cfg, exp, description


def prefill_plan(scale, seeds=None):
    """What `run` trains, as chains of `prefill` jobs. Chains are independent of each other; within
    a chain each stage needs the one before (the defaults' sweep, then the seed runs at its best rate)."""
    cfg = SCALES[scale]
    seeds = tuple(int(s) for s in seeds) if seeds is not None else cfg.seeds
    chains = []
    for arm in ("defaults", *cfg.variants):
        for a in ACTIVATIONS:
            sweep = dict(arm=arm, activation=a, sweep_seed=seeds[0])
            seed_runs = [dict(sweep, seed=s) for s in seeds[1:]] if arm == "defaults" else []
            chains.append([[sweep]] + ([seed_runs] if seed_runs else []))
    return chains


def prefill(scale, arm, activation, sweep_seed, seed=None, device=None, data_root=None, work_dir=None,
            download=False):
    """Train one sweep (or, with `seed`, one seed run at the defaults' best rate) into the run store.

    The runs of different arms are independent, so several processes can fill the store side by
    side (a small net leaves most of a GPU idle: `python -m alexnet_repro run relu_vs_tanh --jobs 8`);
    `run` then finds every run there. With `seed`, the sweep is read back from the store.
    """
    cfg, exp, _ = _experiment(scale, None, device, data_root, work_dir, download)
    setup = cfg.setup if arm == "defaults" else cfg.variants[arm]
    rows = exp.sweep(setup, activation, sweep_seed)
    if seed is not None and _best_lr(rows):
        exp.run(setup, activation, _best_lr(rows), seed)


def run(scale="cpu", seeds=None, device=None, data_root=None, out_dir=None, work_dir=None, download=False):
    """Run R1 at `scale`, write results/relu_vs_tanh/<scale>/, and return the result dict."""
    t0 = time.time()
    cfg, exp, description = _experiment(scale, seeds, device, data_root, work_dir, download)
    target, device = exp.target, exp.device

    # 1. The sweep, per activation, with seeds[0].
    sweep = {a: exp.sweep(cfg.setup, a, cfg.seeds[0]) for a in ACTIVATIONS}
    best_lr = {a: _best_lr(sweep[a]) for a in ACTIVATIONS}
    # 2. The seeds at each activation's best rate (seeds[0] is the sweep's own run, found in the store).
    seed_rows = [exp.run(cfg.setup, a, best_lr[a], s) for a in ACTIVATIONS if best_lr[a] for s in cfg.seeds]
    # 3. The sensitivity study: how the speedup moves with the choices the paper leaves open.
    sensitivity = [_sensitivity_row("paper defaults (cuda-convnet)", cfg.setup, sweep, best_lr)]
    for name, setup in cfg.variants.items():
        v_sweep = {a: exp.sweep(setup, a, cfg.seeds[0]) for a in ACTIVATIONS}
        sensitivity.append(_sensitivity_row(name, setup, v_sweep, {a: _best_lr(v_sweep[a]) for a in ACTIVATIONS}))
        sweep.update({f"{a} ({name})": v_sweep[a] for a in ACTIVATIONS})

    measured = _measure(seed_rows, best_lr, cfg)
    ci = measured.get("speedup")
    verdict = (decide(Interval(**ci), RULE) if ci else INCONCLUSIVE) if scale != "smoke" else PLUMBING
    all_sweep = [dict(r, arm=arm) for arm, rows in sweep.items() for r in _strip(rows)]
    # An activation that never reached the target has no seed runs: plot its best sweep run instead.
    shown = seed_rows + [min(sweep[a], key=lambda r: r["history"][-1]["train_error_running"] if r["history"] else 1)
                         for a in ACTIVATIONS if not best_lr[a]]
    curves = [dict(h, activation=r["activation"], seed=r["seed"], lr=r["lr"]) for r in shown for h in r["history"]]
    compute_s = sum(r["wall_time_s"] for rows in sweep.values() for r in rows) + sum(
        r["wall_time_s"] for r in seed_rows if r["seed"] != cfg.seeds[0])
    result = {
        "claim": CLAIM.slug, "claim_id": CLAIM.id, "title": CLAIM.title, "scale": scale,
        "proxy": cfg.n_train < 50_000,
        "proxy_note": (f"trained on {cfg.n_train:,} of CIFAR-10's 50,000 training images (class-balanced); "
                       if cfg.n_train < 50_000 else "") + "CIFAR-10 is the paper's own data for R1.",
        "paper": {"says": CLAIM.paper_says, "speedup": PAPER_SPEEDUP, "target_train_error": TARGET,
                  "section": CLAIM.section, "data": CLAIM.paper_data},
        "measured": measured,
        "headline": _headline(measured),
        "verdict": verdict,
        "verdict_measure": "train_error_running (error over each epoch's minibatches, as in the paper's Fig. 1)",
        "verdict_rule": RULE.describe(),
        "sensitivity": sensitivity,
        "provenance": provenance(device=device, dataset=description, seeds=cfg.seeds, scale=scale,
                                 config=_config_dict(cfg, target), wall_time_s=compute_s,
                                 precision=cfg.precision),
    }
    result["provenance"]["invocation_wall_time_s"] = round(time.time() - t0, 1)
    out = out_dir or results_dir(CLAIM.slug, scale)
    write_result(result, out, tables={"sweep": pd.DataFrame(all_sweep),
                                      "seeds": pd.DataFrame(_strip(seed_rows)),
                                      "curves": pd.DataFrame(curves),
                                      "sensitivity": pd.DataFrame(sensitivity)})
    return result


def _measure(seed_rows, best_lr, cfg):
    out = {"best_lr": best_lr, "best_lr_at_grid_edge": {
        a: lr in (min(cfg.setup.lrs), max(cfg.setup.lrs)) for a, lr in best_lr.items() if lr}}
    by = {(r["activation"], r["seed"]): r for r in seed_rows}
    for key, name in (("epochs_to_target", "speedup"), ("epochs_to_target_full", "speedup_full_pass")):
        per_act = {}
        for a in ACTIVATIONS:
            per_act[a] = summarize(by[(a, s)][key] for s in cfg.seeds if (a, s) in by)
        out[key] = per_act
        ratios = [by[("tanh", s)][key] / by[("relu", s)][key] for s in cfg.seeds
                  if ("tanh", s) in by and ("relu", s) in by]
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
    out["images_to_target"] = {a: [v * cfg.n_train for v in out["epochs_to_target"][a]["per_seed"]]
                               for a in ACTIVATIONS}
    out["final_test_error"] = {a: [by[(a, s)]["final_test_error"] for s in cfg.seeds if (a, s) in by]
                               for a in ACTIVATIONS}
    out["wall_time_s_per_run"] = {a: [round(by[(a, s)]["wall_time_s"], 1) for s in cfg.seeds if (a, s) in by]
                                  for a in ACTIVATIONS}
    return out


def _sensitivity_row(name, setup, sweep, best_lr):
    e = {a: min((r["epochs_to_target"] for r in sweep[a] if r["status"] == "target"), default=math.inf)
         for a in ACTIVATIONS}
    return {"setup": name, "momentum": setup.momentum, "init": setup.init, "input_scaling": setup.input_scaling,
            "best_lr_relu": best_lr["relu"], "best_lr_tanh": best_lr["tanh"],
            "epochs_relu": e["relu"], "epochs_tanh": e["tanh"],
            "speedup": e["tanh"] / e["relu"] if math.isfinite(e["relu"]) else math.nan}


def _headline(m):
    if m.get("speedup_lower_bound"):
        return (f"> {m['speedup_lower_bound']:.1f}x (tanh never reached the target within the epoch cap at any "
                f"rate; ReLU took {m['epochs_to_target']['relu']['mean']:.1f} epochs)")
    if not m.get("speedup"):
        return "no speedup measured: an activation never reached the target"
    return format_interval(m["speedup"])


def _config_dict(cfg, target):
    d = asdict(cfg)
    d["target_train_error"] = target
    d["net"] = "cuda-convnet layers-19pct"
    return d


def format_interval(d):
    return f"{d['mean']:.2f}x (95% CI {d['lo']:.2f}-{d['hi']:.2f}, {d['n']} seeds)" if d else "not reached"


def plot_curves(curves, result):
    """Fig. 1 style: training error vs epochs, one line per activation, band = min..max over seeds."""
    import matplotlib.pyplot as plt
    import seaborn as sns
    target = result["provenance"]["config"]["target_train_error"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, key, title in ((axes[0], "train_error_running", "running error over the epoch's minibatches"),
                           (axes[1], "train_error_full", "evaluation pass at the epoch's end")):
        sns.lineplot(data=curves, x="epoch", y=key, hue="activation", hue_order=list(ACTIVATIONS),
                     style="activation", errorbar=("pi", 100), marker="o", ax=ax)
        ax.axhline(target, ls="--", c="grey", lw=1)
        ax.set(title=title, xlabel="epochs", ylabel="training error")
    fig.suptitle(f"R1, scale '{result['scale']}': speedup of ReLU over tanh {result['headline']}; paper 6x")
    fig.tight_layout()
    return fig
