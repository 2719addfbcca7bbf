"""O1: overlapping pooling (3/2) beats non-overlapping (2/2) and overfits slightly less (paper 3.4).

The paper's net (every max-pool 3x3 stride 2) against the same net with 2x2 stride 2 pools
(the same output sizes); everything else held equal (see ablation.py). Effects, per seed: the
validation top-1 error, and the train-validation gap (the validation error minus the centre-crop
error on a fixed training sample in eval mode, so both are measured alike).
"""

import math

from ..verdict import Rule
from . import Claim
from .ablation import NON_OVERLAPPING, PAPER, Comparison, entry_points

CLAIM = Claim(
    id="O1",
    slug="overlapping_pool",
    title="Overlapping pooling lowers the error",
    paper_says="This scheme reduces the top-1 and top-5 error rates by 0.4% and 0.3%, respectively, as compared with the non-overlapping scheme s = 2, z = 2 ... We generally observe during training that models with overlapping pooling find it slightly more difficult to overfit.",
)
# The dataset it reads: the ablation family's at the scale (ablation.SCALES[scale].data).
DATA = "family"
PAPER_NUMBERS = {"top1_effect": -0.4, "top5_effect": -0.3}
# Written before any run: the paper's top-1 effect within a factor 1.5; the gap only by its sign.
RULES = {
    "top-1, overlapping vs 2/2": Rule(
        null=0.0,
        direction=-1,
        band=(-0.6, -0.27),
        text="Effect: validation top-1 error, overlapping minus 2/2, points, per seed.",
    ),
    "train-val gap, overlapping vs 2/2": Rule(
        null=0.0,
        direction=-1,
        band=(-math.inf, 0.0),
        margin=0.5,
        text="Effect: (validation - training) top-1 error, overlapping minus 2/2.",
    ),
}
RULE = RULES["top-1, overlapping vs 2/2"]
COMPARISONS = [
    Comparison("top-1, overlapping vs 2/2", PAPER, NON_OVERLAPPING, paper=-0.4),
    Comparison("train-val gap, overlapping vs 2/2", PAPER, NON_OVERLAPPING, metric="gap", needs_overfitting=True),
]

# What its notebook says the experiment is (scripts/family_notebooks.py writes the notebook from it).
EXPERIMENT = (
    "The paper's net (every max-pool 3x3 stride 2) against the same net with 2x2 stride 2 pools (the same "
    "output sizes); everything else held equal (see ablation.py). Effects, per seed: the validation top-1 "
    "error, and the train-validation gap (the validation error minus the centre-crop error on a fixed "
    "training sample in eval mode, so both are measured alike)."
)


plan, run_job, train, assess, run, decided_by = entry_points(__name__)
