"""The registry of claims: every module of this package that declares CLAIM is one (claims/contract.py), found by
`registry()`; no list to keep. Each declares its config for every scale: smoke (seconds on a small subset, what the
tests run), cpu (sized for a 2-core CPU), gpu (more seeds or a finer grid) and paper (the paper's own settings).
"""

import functools
import importlib
import pkgutil
from dataclasses import dataclass

from ..paper_claims import BY_ID, IDS

SCALES = ("smoke", "cpu", "gpu", "paper")
# The ablation family's own scales (family/arms.py). The confirmation of an inconclusive cpu result, on as many
# fresh seeds as that result says would decide it:
CONFIRMATION = "cpu-confirmation"
# The regime its claims are about: the paper's net trained to convergence and into overfitting, read by protocol v3:
REGIME = "cpu-regime"
# The same regime with its runs trained on a GPU, standing in where the cpu-regime campaign has not reached a claim:
GPU_REGIME = "gpu-regime"
REGIMES = (REGIME, GPU_REGIME)
FAMILY_SCALES = (CONFIRMATION, *REGIMES)


@dataclass(frozen=True)
class Claim:
    """A claim module's claim: its id in the paper's table (paper_claims.CLAIMS), whose section, data and number
    it reports unless it states its own (architecture, which tests more than that id)."""

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
    CLAIMS (family/declarations.py), in the order of paper_claims.CLAIMS (then by slug)."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        mod = importlib.import_module(f"{__name__}.{info.name}")
        for claim in (mod, *getattr(mod, "CLAIMS", ())):
            if isinstance(getattr(claim, "CLAIM", None), Claim):
                found[claim.CLAIM.slug] = claim
    return dict(sorted(found.items(), key=lambda kv: (IDS.index(kv[1].CLAIM.id), kv[0])))


def family_slugs() -> list:
    return [slug for slug, mod in registry().items() if has_confirmation(mod)]


def __getattr__(name):
    """`from alexnet_repro.claims import dropout`: a claim by its slug, wherever it is declared. A name of a module
    of this package is left to the import system (its import may be what is building the registry)."""
    if not name.startswith("_") and name not in {m.name for m in pkgutil.iter_modules(__path__)} and name in registry():
        return registry()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ids_tested() -> dict:
    return {cid: slug for slug, mod in registry().items() for cid in (mod.CLAIM.id, *mod.CLAIM.also)}


def load(slug: str):
    if slug not in registry():
        raise ValueError(f"unknown claim {slug!r}; choose from: {', '.join(registry())}")
    return registry()[slug]


def has_confirmation(mod) -> bool:
    """Whether the claim `mod` has the family's own scales (FAMILY_SCALES)."""
    return mod.DATA == "family" and hasattr(mod, "COMPARISONS")


def check_scale(scale: str, mod=None):
    if scale not in (*SCALES, *FAMILY_SCALES):
        raise ValueError(f"unknown scale {scale!r}; choose from: {', '.join((*SCALES, *FAMILY_SCALES))}")
    if scale in FAMILY_SCALES and mod is not None and not has_confirmation(mod):
        raise ValueError(f"{mod.CLAIM.slug} has no {scale} scale: only the ablation family's comparisons run there")
