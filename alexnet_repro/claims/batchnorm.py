"""BN: batch normalization in place of LRN (not in the paper; the common modern substitute).

Batch norm sits where LRN sits (after the conv1 and conv2 ReLUs), compared against the paper's
LRN net and against the net with no normalization; everything else held equal (see ablation.py).
The paper makes no claim, so the verdict says only which way the measured difference points.
"""

import math

from ..verdict import Rule
from . import Claim
from .ablation import BATCHNORM, NO_LRN, PAPER, Comparison, entry_points

CLAIM = Claim(
    id="BN",
    slug="batchnorm",
    title="Batch normalization in place of LRN",
    paper_says="(Not in the paper.) Batch normalization, introduced in 2015, is the usual modern replacement for LRN.",
)
# The dataset it reads: the ablation family's at the scale (ablation.SCALES[scale].data).
DATA = "family"
IN_THE_PAPER = False  # protocol v3 reads its verdict as a finding (verdict.as_finding), counted apart from the paper's
PAPER_NUMBERS = {}
# Written before any run. No paper number: "reproduced" here means only that batch norm lowers the
# error (the direction of the modern practice), "no effect" that the difference is inside +-0.5 points.
RULE = Rule(
    null=0.0,
    direction=-1,
    band=(-math.inf, 0.0),
    margin=0.5,
    text="Effect: validation top-1 error (centre crop) with batch norm minus with the other arm, points, per seed.",
)
COMPARISONS = [Comparison("batch norm vs LRN", BATCHNORM, PAPER), Comparison("batch norm vs none", BATCHNORM, NO_LRN)]

# What its notebook says the experiment is (scripts/family_notebooks.py writes the notebook from it).
EXPERIMENT = (
    "Batch norm sits where LRN sits (after the conv1 and conv2 ReLUs), compared against the paper's LRN "
    "net and against the net with no normalization; everything else held equal (see ablation.py). The "
    "paper makes no claim, so the verdict says only which way the measured difference points."
)


plan, run_job, train, assess, run, decided_by = entry_points(__name__)
