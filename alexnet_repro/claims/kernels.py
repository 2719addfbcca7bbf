"""Q1: one column's first-layer kernels are colour-agnostic, the other's colour-specific (paper 6.1, Fig. 3).

No training of its own: conv1 of the ablation family's trained paper's net (its `PAPER` arm), one run per seed, split
into column 0 (`[:C/2]`) and column 1 (`[C/2:]`), the paper's GPU 1 and GPU 2. A kernel of independent random
weights scores 2/3 on average (two of each pixel's three degrees of freedom lie off the channel mean), so training
moves a column down towards colour-agnostic or up towards colour-opponent.
"""

import functools
import io
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..verdict import INCONCLUSIVE, PARTLY, PLUMBING, REPRODUCED
from . import Claim, contract
from .contract import Assessment, Trained
from .family import training
from .family.training import family_trained, load_family, run_row, trained_nets

CLAIM = Claim(
    id="Q1",
    slug="kernels",
    title="One column's first-layer kernels are colour-agnostic, the other's colour-specific",
    paper_says="Notice the specialization exhibited by the two GPUs, a result of the restricted connectivity "
    "described in Section 3.5. The kernels on GPU 1 are largely color-agnostic, while the kernels on "
    "GPU 2 are largely color-specific. This kind of specialization occurs during every run and is "
    "independent of any particular random weight initialization (modulo a renumbering of the GPUs).",
)
# The dataset it reads: the ablation family's at the scale (arms.SCALES[scale].data).
DATA = "family"
run = functools.partial(contract.run, sys.modules[__name__])  # writes results/<slug>/<scale>/ -> the result

N_PERMUTATIONS = 2000
PERMUTATION_SEED = 0
ALPHA = 0.05
# Written before any run.
RULE_TEXT = (
    "Score per conv1 kernel: colour-specificity s = ||W - mean over R,G,B of W||^2 / ||W||^2 (0 = the same "
    "in R, G and B; at most 1). Per seed: effect = |mean s of column 0 - mean s of column 1|, with a two-sided "
    f"permutation test ({N_PERMUTATIONS} shuffles of the kernels between the columns, fixed generator). "
    f"The claim holds in a seed if p < {ALPHA}. Across seeds the per-seed p-values are combined by Fisher's "
    f"method: inconclusive if the combined p >= {ALPHA} (with the seeds that would reject at the seeds' mean "
    "-log p), or if fewer than 2 seeds were measured; else reproduced if it holds in every seed, partly "
    "reproduced if not. "
    "Which column is the colour-specific one may differ between seeds (the paper: 'modulo a renumbering "
    "of the GPUs'). The size of the separation is reported, not judged: the paper gives none."
)


def colour_specificity(weights):
    """s per kernel for weights (K, 3, h, w) (numpy or torch): ||W - mean_c W||^2 / ||W||^2, in [0, 1]."""
    w = np.asarray(weights.detach().cpu() if hasattr(weights, "detach") else weights, dtype=np.float64)
    if w.ndim != 4 or w.shape[1] != 3:
        raise ValueError(f"expected kernels (K, 3, h, w), got shape {w.shape}")
    residual = w - w.mean(axis=1, keepdims=True)
    total = (w**2).sum(axis=(1, 2, 3))
    diff = (residual**2).sum(axis=(1, 2, 3))
    return np.divide(diff, total, out=np.zeros_like(total), where=total > 0)


def permutation_test(a, b, n_permutations=N_PERMUTATIONS, seed=PERMUTATION_SEED):
    """Two-sided permutation test of |mean(a) - mean(b)|: (observed statistic, p-value)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    observed = abs(a.mean() - b.mean())
    pooled = np.concatenate([a, b])
    shuffled = np.random.default_rng(seed).permuted(np.tile(pooled, (n_permutations, 1)), axis=1)
    stats = np.abs(shuffled[:, : len(a)].mean(1) - shuffled[:, len(a) :].mean(1))
    # a tolerance so that shuffles equal to the observed split are not lost to rounding
    extreme = int(np.sum(stats >= observed - 1e-12 * max(1.0, observed)))
    return observed, (1 + extreme) / (1 + n_permutations)


def fisher_p(pvalues):
    """Fisher's combined p-value of independent tests."""
    return float(stats.combine_pvalues(list(pvalues), "fisher").pvalue)


def decide_seeds(summaries):
    """RULE_TEXT applied to the measured seeds' summaries (one test across seeds, not a count of per-seed
    passes, which under the null reaches "some seed" far more often than 5%)."""
    summaries = list(summaries)
    if len(summaries) < 2 or fisher_p(s["p_value"] for s in summaries) >= ALPHA:
        return INCONCLUSIVE
    return REPRODUCED if all(s["holds"] for s in summaries) else PARTLY


def seeds_needed(pvalues, limit=200):
    """The fewest seeds whose Fisher combination rejects at ALPHA if each seed brought the measured seeds' mean
    evidence (-log p): what an inconclusive result would need. None past `limit` or without evidence."""
    logs = [-math.log(max(float(p), 1e-300)) for p in pvalues]
    mean = sum(logs) / len(logs) if logs else 0.0
    if mean <= 0:
        return None
    return next((n for n in range(2, limit + 1) if fisher_p([math.exp(-mean)] * n) < ALPHA), None)


def analyse(weights):
    """Per-kernel scores (list of dicts) and the per-seed summary of one net's conv1 weights."""
    scores = colour_specificity(weights)
    half = len(scores) // 2
    cols = scores[:half], scores[half:]
    effect, p = permutation_test(*cols)
    means = [float(c.mean()) for c in cols]
    kernels = [{"column": int(i >= half), "kernel": i, "score": float(s)} for i, s in enumerate(scores)]
    summary = {
        "kernels_per_column": half,
        "mean_col0": means[0],
        "mean_col1": means[1],
        "median_col0": float(np.median(cols[0])),
        "median_col1": float(np.median(cols[1])),
        "effect": float(effect),
        "colour_specific_column": int(np.argmax(means)),
        "p_value": float(p),
        "holds": bool(p < ALPHA),
    }
    return kernels, summary


def load_weights(path):
    """{seed: conv1 weights (C, 3, h, w)} as written by run()."""
    with np.load(path) as z:
        return {int(k[len("seed") :]): z[k] for k in z.files}


# What Q1 trains is the family's paper's net: the family's jobs.
plan, run_job = training.plan_paper_net, training.run_job


def decided_by():
    """contract.decided_by: this module's code, and the family's nets it reads."""
    return {"module": contract.module_syntax(sys.modules[__name__]), **training.paper_net_decided_by()}


def train(scale, seeds=None, device=None, data_root=None, work_dir=None, download=False) -> Trained:
    """Each seed's trained paper's net (found in the family's store, or trained there), its conv1 kernels
    scored and the columns compared."""
    fam, cfg = load_family(scale, seeds, device, data_root, work_dir)
    rows, kernel_rows, weights = [], [], {}
    for seed, row, model in trained_nets(fam):
        out = run_row(row)
        if model is not None:
            weights[seed] = model.features.conv1.weight.detach().float().cpu().numpy()
            kernels, summary = analyse(weights[seed])
            kernel_rows += [{"seed": seed, **k} for k in kernels]
            out.update(summary, measured=True)
        else:
            out.update(measured=False, holds=False)
        rows.append(out)
    k = next((r["kernels_per_column"] for r in rows if r["measured"]), 0)
    npz = io.BytesIO()  # conv1_weights.npz, which load_weights reads back
    np.savez(npz, **{f"seed{s}": w.astype(np.float32) for s, w in weights.items()})
    return family_trained(
        fam,
        rows,
        {
            "score": "||W - mean_c W||^2 / ||W||^2",
            "n_permutations": N_PERMUTATIONS,
            "permutation_seed": PERMUTATION_SEED,
            "alpha": ALPHA,
        },
        tables={"seeds": pd.DataFrame(rows), "kernels": pd.DataFrame(kernel_rows)},
        proxy_extra=f"conv1 holds {2 * k} kernels here, {k} per column (the paper: 48 per column)." if k else "",
        files={"conv1_weights.npz": npz.getvalue()},
    )


def assess(trained: Trained, scale) -> Assessment:
    rows = trained.rows
    measured_rows = [r for r in rows if r["measured"]]
    verdict = decide_seeds(measured_rows) if scale != "smoke" else PLUMBING
    n_holds = sum(r["holds"] for r in measured_rows)
    per_seed = {
        str(r["seed"]): {
            k: r.get(k)
            for k in ("measured", "mean_col0", "mean_col1", "effect", "colour_specific_column", "p_value", "holds")
        }
        for r in rows
    }
    if measured_rows:
        effects = [r["effect"] for r in measured_rows]
        ps = ", ".join(f"{r['p_value']:.4f}" for r in measured_rows)
        headline = (
            f"columns separate (p < {ALPHA}) in {n_holds} of {len(measured_rows)} seeds; "
            f"|difference of column mean scores| {min(effects):.3f} to {max(effects):.3f} (p = {ps})"
        )
    else:
        headline = "no run could be measured"
    measured = {
        "per_seed": per_seed,
        "seeds_measured": len(measured_rows),
        "seeds_holding": n_holds,
        "effect": {"per_seed": [r["effect"] for r in measured_rows]},
        "p_value": {"per_seed": [r["p_value"] for r in measured_rows]},
    }
    measured.update(combined(measured_rows, verdict))
    return Assessment(verdict, headline, measured, RULE_TEXT, paper={"number": CLAIM.paper_number})


def combined(rows, verdict):
    """Fisher's combined p of the measured seeds and, for an inconclusive verdict, the seeds it would need."""
    ps = [r["p_value"] for r in rows]
    return {
        "combined_p": fisher_p(ps) if ps else None,
        "seeds_needed": seeds_needed(ps) if verdict == INCONCLUSIVE and len(ps) >= 2 else None,
    }


def reread(folder):
    """Decide a committed Q1 result again by today's rule from its own per-seed table (nothing is rerun); a verdict
    that changes is recorded as a look (as assessment.reread does for the family)."""
    from ..results import write_reread

    old = json.loads((Path(folder) / "result.json").read_text())
    rows = [r for r in pd.read_csv(Path(folder) / "seeds.csv").to_dict("records") if r["measured"]]
    verdict = decide_seeds(rows) if old["scale"] != "smoke" else PLUMBING
    return write_reread(
        folder,
        old,
        {"verdict": verdict, "verdict_rule": RULE_TEXT, "measured": {**old["measured"], **combined(rows, verdict)}},
        decision_version=contract.decision_version(sys.modules[__name__]),
        n_seeds=len(rows),
        why=f": a non-significant combined test is inconclusive, no longer 'not reproduced' (was: {old['verdict']})",
    )


def plot_kernels(weights, kernels_table, seed):
    """Fig. 3 for one seed: each conv1 kernel as an RGB image (each normalized to [0, 1] on its own),
    column 0 in the top rows, column 1 below, each titled with its score s. `weights`: load_weights."""
    import matplotlib.pyplot as plt

    w = weights[seed]
    half = len(w) // 2
    scores = kernels_table[kernels_table["seed"] == seed].set_index("kernel")["score"]
    per_row = min(16, half)
    rows_per_col = math.ceil(half / per_row)
    fig, axes = plt.subplots(
        2 * rows_per_col, per_row, figsize=(0.8 * per_row, 1.0 * 2 * rows_per_col + 0.6), squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    for i, kernel in enumerate(w):
        col, j = divmod(i, half)
        ax = axes[col * rows_per_col + j // per_row, j % per_row]
        img = kernel.transpose(1, 2, 0)
        lo, hi = img.min(), img.max()
        ax.imshow((img - lo) / (hi - lo) if hi > lo else np.zeros_like(img), interpolation="nearest")
        ax.set_title(f"{scores.get(i, float('nan')):.2f}", fontsize=7, pad=2)
    for col in (0, 1):
        m = scores[(scores.index >= half) == bool(col)].mean()
        first = axes[col * rows_per_col, 0]
        first.text(
            -0.3, 0.5, f"column {col}\nmean s {m:.2f}", transform=first.transAxes, ha="right", va="center", fontsize=8
        )
    fig.suptitle(
        f"conv1 kernels, seed {seed}: column 0 on top, column 1 below; title = colour-specificity s", fontsize=9
    )
    fig.tight_layout()
    return fig


def plot_scores(kernels_table, result):
    """Each kernel's score, per column, per seed, with each seed's permutation p-value."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    t = kernels_table.assign(
        seed=kernels_table["seed"].astype(str), column=kernels_table["column"].map(lambda c: f"column {c}")
    )
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * t["seed"].nunique() + 2), 3.6))
    columns = dict(data=t, x="seed", y="score", hue="column", hue_order=["column 0", "column 1"], ax=ax)
    sns.stripplot(**columns, dodge=True, size=5, jitter=0.25)
    sns.pointplot(
        **columns, dodge=0.4, palette=["black"] * 2, markers="_", linestyle="none", errorbar=None, legend=False
    )
    ax.axhline(2 / 3, color="grey", ls=":", lw=1, label="random kernel (2/3)")
    for i, seed in enumerate(sorted(t["seed"].unique(), key=int)):
        s = result["measured"]["per_seed"].get(seed, {})
        if s.get("p_value") is not None:
            ax.text(i, 1.02, f"p={s['p_value']:.3g}", ha="center", va="bottom", fontsize=8)
    ax.set(ylim=(0, 1.1), ylabel="colour-specificity s", xlabel="seed")
    ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(
        f"Q1, scale '{result['scale']}'{' (proxy)' if result['proxy'] else ''}: {result['verdict']}", fontsize=10
    )
    fig.tight_layout()
    return fig
