"""The registry of claims: one module per claim, each following claims/contract.py (CLAIM, DATA, SCALES,
RULE, plan, run_job, train, assess, run). Claims register themselves: every module of this package that
declares CLAIM is one, found by `registry()`; no list to keep.

A claim module declares, in one place, its config for every scale:
  smoke  seconds on a small subset; what the tests and CI run
  cpu    the real experiment, sized for a 2-core CPU
  gpu    the same data with more seeds / a finer grid, for one GPU
  paper  the paper's own settings where they differ
"""
import functools
import importlib
import pkgutil
from dataclasses import dataclass, replace

SCALES = ("smoke", "cpu", "gpu", "paper")
# A scale of the ablation family's comparisons alone (ablation.CONFIRMATION): the confirmation of an
# inconclusive cpu result, on fresh seeds, as many as that result says would decide it.
CONFIRMATION = "cpu-confirmation"
# The ablation family's scale in the regime its claims are about (ablation.REGIME_NOTE): the paper's net trained
# to convergence by the 3-epoch rule and into overfitting, read by protocol v3, every n fixed before its runs.
REGIME = "cpu-regime"
FAMILY_SCALES = (CONFIRMATION, REGIME)


# Every claim id of CLAIMS.md (sections A and B) with the paper's statement, for the scoreboard:
# a claim with no module yet still gets its row, marked "not run yet".
PAPER_CLAIMS = {
    "R1": ("ReLUs reach 25% training error on CIFAR-10 six times faster than tanh", "6x fewer epochs"),
    "M1": ("the two-column net beats a one-column net with half the kernels, and trains slightly faster",
           "-1.7 / -1.2 points top-1 / top-5"),
    "L2": ("local response normalization lowers the error", "-1.4 / -1.2 points"),
    "L3": ("on CIFAR-10 a four-layer CNN: 13% test error without normalization, 11% with", "13% -> 11%"),
    "O1": ("overlapping pooling (3/2) beats non-overlapping (2/2) and overfits slightly less",
           "-0.4 / -0.3 points"),
    "D2": ("averaging 10 patches at test time beats a single centre crop", "~1.5 / ~1.3 points"),
    "D4": ("training on random crops and their flips fights substantial overfitting", "qualitative"),
    "D3": ("PCA colour augmentation lowers top-1 error", "> 1 point top-1"),
    "DR1": ("dropout: substantial overfitting without; about twice the iterations to converge with", "~2x iterations"),
    "T1": ("weight decay 0.0005 reduces the training error, not only the test error", "-"),
    "E5": ("removing any middle conv layer costs about 2 points of top-1", "~2 points"),
    "BN": ("(not in the paper) batch normalization in place of LRN", "-"),
    "Q1": ("one column's first-layer kernels are colour-agnostic, the other's colour-specific, in every run",
           "qualitative"),
    "Q2": ("images close in the last 4096-d hidden layer are semantically similar", "qualitative"),
    "A1": ("LRN after conv1/conv2 ReLUs; max-pooling after both LRNs and conv5; ReLU after every layer", "-"),
    "A2": ("conv 96-256-384-384-256 kernels of 11/5/3/3/3, FC 4096-4096-1000", "-"),
    "M2": ("conv2, conv4, conv5 see only their own column; conv3 and the FC layers see both", "-"),
    "A3": ("60 million parameters, 650,000 neurons, Fig. 2's per-layer neuron counts, 150,528-d input",
           "60M / 650k"),
    "A4": ("each conv layer holds no more than 1% of the parameters", "<= 1%"),
    "L1": ("LRN with k=2, n=5, alpha=1e-4, beta=0.75", "-"),
    "T2": ("SGD, batch 128, momentum 0.9, weight decay 0.0005, the paper's update rule", "-"),
    "T3": ("weights N(0, 0.01); biases 1 in conv2, conv4, conv5 and the FC hidden layers", "-"),
    "T4": ("one learning rate 0.01, divided by 10 on plateaus, three times; ~90 epochs", "-"),
    "D1": ("shorter side to 256, central 256x256 crop, per-pixel mean subtracted", "-"),
    "227": ("224x224 input as printed; 11x11 stride 4 gives 55x55 only for 227", "-"),
}


@dataclass(frozen=True)
class Claim:
    id: str             # CLAIMS.md's id, e.g. "R1"
    slug: str
    title: str
    paper_says: str
    paper_number: str
    section: str
    paper_data: str     # the data the paper's number comes from


@functools.cache
def registry() -> dict:
    """slug -> claim module, for every module of this package that declares CLAIM, in the order of the
    claim ids in PAPER_CLAIMS (then by slug). The slug names the notebook, the results folder and the
    CLI argument."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if isinstance(getattr(mod, "CLAIM", None), Claim):
            found[mod.CLAIM.slug] = mod
    order = list(PAPER_CLAIMS)
    return dict(sorted(found.items(), key=lambda kv: (order.index(kv[1].CLAIM.id) if kv[1].CLAIM.id in order
                                                      else len(order), kv[0])))


def load(slug: str):
    """The claim module for `slug`; ValueError listing the valid slugs otherwise."""
    if slug not in registry():
        raise ValueError(f"unknown claim {slug!r}; choose from: {', '.join(registry())}")
    return registry()[slug]


def has_confirmation(mod) -> bool:
    """Whether the claim `mod` has the family's own scales (CONFIRMATION, REGIME): the ablation family's
    comparisons do."""
    return mod.DATA == "family" and hasattr(mod, "COMPARISONS")


def check_scale(scale: str, mod=None):
    """ValueError of one line unless `scale` is a scale (of the claim `mod`, when given)."""
    if scale not in (*SCALES, *FAMILY_SCALES):
        raise ValueError(f"unknown scale {scale!r}; choose from: {', '.join((*SCALES, *FAMILY_SCALES))}")
    if scale in FAMILY_SCALES and mod is not None and not has_confirmation(mod):
        raise ValueError(f"{mod.CLAIM.slug} has no {scale} scale: only the ablation family's comparisons run there")


def scale_config(configs: dict, scale: str, seeds=None):
    """A claim's config at `scale` (from its own `configs` table), with the seeds overridden when given
    (seeds.parse_seeds: duplicates, negatives and an empty list are refused with one line)."""
    from ..seeds import parse_seeds
    if scale not in configs:
        raise ValueError(f"unknown scale {scale!r} for this claim; choose from: {', '.join(configs)}")
    seeds = parse_seeds(seeds)
    return replace(configs[scale], seeds=seeds) if seeds is not None else configs[scale]
