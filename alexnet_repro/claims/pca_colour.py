"""D3: PCA colour augmentation lowers the top-1 error by over a point (paper 4.1).

The paper's recipe (each training image, each time it is used, gets sum_i alpha_i*lambda_i*p_i
added to every pixel, alpha_i ~ N(0, 0.1), from the PCA of the training set's RGB values)
against the same without it; everything else held equal (see ablation.py).
"""

import math

from ..verdict import Rule
from . import Claim
from .ablation import NO_PCA, PAPER, Comparison, entry_points

CLAIM = Claim(
    id="D3",
    slug="pca_colour",
    title="PCA colour augmentation lowers the error",
    paper_says="This scheme approximately captures an important property of natural images ... This scheme reduces the top-1 error rate by over 1%.",
)
# The dataset it reads: the ablation family's at the scale (ablation.SCALES[scale].data).
DATA = "family"
PAPER_NUMBERS = {"top1_effect": -1.0}
# Written before any run: "over 1%" is the band (-inf, -1] points.
RULE = Rule(
    null=0.0,
    direction=-1,
    band=(-math.inf, -1.0),
    text="Effect: validation top-1 error with PCA lighting minus without, points, per seed.",
)
COMPARISONS = [Comparison("PCA lighting vs none", PAPER, NO_PCA, paper=-1.0)]

# What its notebook says the experiment is (scripts/family_notebooks.py writes the notebook from it).
EXPERIMENT = (
    "The paper's recipe (each training image, each time it is used, gets sum_i alpha_i*lambda_i*p_i added "
    "to every pixel, alpha_i ~ N(0, 0.1), from the PCA of the training set's RGB values) against the same "
    "without it; everything else held equal (see ablation.py)."
)


plan, run_job, train, assess, run, decided_by = entry_points(__name__)
