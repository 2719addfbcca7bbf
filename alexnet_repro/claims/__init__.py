"""The registry of claims: every module of this package that declares CLAIM is one (claims/contract.py), found by
`registry()`; no list to keep. Each declares its config for every scale: smoke (seconds on a small subset, what the
tests run), cpu (the real experiment, sized for a 2-core CPU), gpu (more seeds / a finer grid, for one GPU) and
paper (the paper's own settings where they differ).
"""

import functools
import importlib
import pkgutil
from dataclasses import dataclass

from ..paper_claims import BY_ID, IDS

SCALES = ("smoke", "cpu", "gpu", "paper")
# A scale of the ablation family's comparisons alone (family/arms.py): the confirmation of an
# inconclusive cpu result, on fresh seeds, as many as that result says would decide it.
CONFIRMATION = "cpu-confirmation"
# The ablation family's scale in the regime its claims are about (family/arms.py): the paper's net trained
# to convergence by the 3-epoch rule and into overfitting, read by protocol v3, every n fixed before its runs.
REGIME = "cpu-regime"
# The same regime (config, seeds and rules) with its runs trained on a GPU: beside the cpu-regime, which a 2-core
# machine reproduces, and standing in for it where the cpu-regime campaign has not reached a claim yet.
GPU_REGIME = "gpu-regime"
REGIMES = (REGIME, GPU_REGIME)
FAMILY_SCALES = (CONFIRMATION, *REGIMES)


@dataclass(frozen=True)
class Claim:
    """A claim module's claim: its id in the paper's table (paper_claims.CLAIMS), whose section, data and
    number it reports, unless it states its own because it tests more than that id (architecture)."""

    id: str  # e.g. "R1"
    slug: str
    title: str
    paper_says: str  # the paper's words, as the notebook and the result quote them
    also: tuple = ()  # further ids of the table this module tests
    section: str = None
    paper_data: str = None
    paper_number: str = None

    def __post_init__(self):
        row = BY_ID[self.id]
        for name, value in (("section", row.section), ("paper_data", row.data), ("paper_number", row.number)):
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)


@functools.cache
def registry() -> dict:
    """slug -> claim, for every module of this package that declares CLAIM and every claim a module lists in
    CLAIMS (the ablation family's, family/declarations.py), in the order of the claim ids in
    paper_claims.CLAIMS (then by slug). The slug names the notebook, the results folder and the CLI argument."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        mod = importlib.import_module(f"{__name__}.{info.name}")
        for claim in (mod, *getattr(mod, "CLAIMS", ())):
            if isinstance(getattr(claim, "CLAIM", None), Claim):
                found[claim.CLAIM.slug] = claim
    return dict(sorted(found.items(), key=lambda kv: (IDS.index(kv[1].CLAIM.id), kv[0])))


def family_slugs() -> list:
    """The slugs of the ablation family's claims (those with the family's own scales), in the registry's order."""
    return [slug for slug, mod in registry().items() if has_confirmation(mod)]


def __getattr__(name):
    """`from alexnet_repro.claims import dropout`: a claim by its slug, wherever it is declared. A name of a module
    of this package is left to the import system (its import may be what is building the registry)."""
    if not name.startswith("_") and name not in {m.name for m in pkgutil.iter_modules(__path__)} and name in registry():
        return registry()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ids_tested() -> dict:
    """id of the paper's table -> the slug of the claim module that tests it."""
    return {cid: slug for slug, mod in registry().items() for cid in (mod.CLAIM.id, *mod.CLAIM.also)}


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
