"""T1: weight decay 0.0005 reduces the training error, not only the test error (paper 5).

The paper's recipe (decay 0.0005 on the weights, T2) against the same with no decay; everything
else held equal (see ablation.py). Effect: the training error (centre-crop pass over a fixed
training sample, dropout off), decay minus none, per seed.
"""

import math

from ..verdict import Rule
from . import Claim
from .ablation import NO_DECAY, PAPER, Comparison, entry_points

CLAIM = Claim(
    id="T1",
    slug="weight_decay",
    title="Weight decay lowers the training error",
    paper_says="We found that this small amount of weight decay was important for the model to learn. In other words, weight decay here is not merely a regularizer: it reduces the model's training error.",
)
# The dataset it reads: the ablation family's at the scale (ablation.SCALES[scale].data).
DATA = "family"
PAPER_NUMBERS = {}
# Written before any run. The paper gives no size: any resolved reduction counts.
RULE = Rule(
    null=0.0,
    direction=-1,
    band=(-math.inf, 0.0),
    margin=0.5,
    text="Effect: training top-1 error (centre crop, eval mode) with decay 0.0005 minus without, points.",
)
COMPARISONS = [Comparison("training error, decay vs none", PAPER, NO_DECAY, metric="train_top1")]

# What its notebook says the experiment is (scripts/family_notebooks.py writes the notebook from it).
EXPERIMENT = (
    "The paper's recipe (decay 0.0005 on the weights, T2) against the same with no decay; everything else "
    "held equal (see ablation.py). Effect: the training error (centre-crop pass over a fixed training "
    "sample, dropout off), decay minus none, per seed."
)


plan, run_job, train, assess, run, decided_by = entry_points(__name__)
