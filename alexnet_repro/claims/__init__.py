"""The registry of claims: one module per claim, each exposing CLAIM, SCALES, RULE and run().

A claim module declares, in one place, its config for every scale:
  smoke  seconds on a small subset; what the tests and CI run
  cpu    the real experiment, sized for a 2-core CPU
  gpu    the same data with more seeds / a finer grid, for one GPU
  paper  the paper's own settings where they differ
"""
import importlib
from dataclasses import dataclass

SCALES = ("smoke", "cpu", "gpu", "paper")

# slug -> module. The slug names the notebook, the results folder and the CLI argument.
MODULES = {
    "relu_vs_tanh": "alexnet_repro.claims.relu_vs_tanh",
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


def load(slug: str):
    """The claim module for `slug`; ValueError listing the valid slugs otherwise."""
    if slug not in MODULES:
        raise ValueError(f"unknown claim {slug!r}; choose from: {', '.join(MODULES)}")
    return importlib.import_module(MODULES[slug])


def check_scale(scale: str):
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose from: {', '.join(SCALES)}")
