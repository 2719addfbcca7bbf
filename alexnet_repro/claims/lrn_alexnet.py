"""L2: local response normalization lowers AlexNet's error (paper 3.3).

The paper's net against the same net without its two LRN layers; everything else held equal
(see ablation.py). Effect: validation top-1 error with LRN minus without, per seed.
"""

from ..verdict import Rule
from . import Claim
from .ablation import NO_LRN, PAPER, Comparison, entry_points

CLAIM = Claim(
    id="L2",
    slug="lrn_alexnet",
    title="Local response normalization lowers the error",
    paper_says="Response normalization reduces our top-1 and top-5 error rates by 1.4% and 1.2%, respectively.",
)
# The dataset it reads: the ablation family's at the scale (ablation.SCALES[scale].data).
DATA = "family"
PAPER_NUMBERS = {"top1_effect": -1.4, "top5_effect": -1.2}
# Written before any run: the paper's top-1 effect within a factor 1.5 either way.
RULE = Rule(
    null=0.0,
    direction=-1,
    band=(-2.1, -0.93),
    text="Effect: validation top-1 error (centre crop) with LRN minus without, in points, per seed.",
)
COMPARISONS = [Comparison("LRN vs none", PAPER, NO_LRN, paper=-1.4)]

# What its notebook says the experiment is (scripts/family_notebooks.py writes the notebook from it).
EXPERIMENT = (
    "The paper's net against the same net without its two LRN layers; everything else held equal (see "
    "ablation.py). Effect: validation top-1 error with LRN minus without, per seed."
)


plan, run_job, train, assess, run, decided_by = entry_points(__name__)
