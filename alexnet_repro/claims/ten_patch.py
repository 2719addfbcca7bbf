"""D2: averaging the softmax over 10 patches at test time beats a single centre crop (paper 6).

A comparison of the ablation family (ablation.py), on the family's nets and scales: the paper's net evaluated
twice, on the centre crop and with the softmax averaged over 10 views (the four corner crops and the centre
crop, each also mirrored); the effect is the 10-view error minus the centre-crop error of the same trained net,
seed by seed.

Until protocol v3 this claim also held the training half, random crops and flips against the centre crop;
CLAIMS.md now makes that D4 (claims/crops_flips.py). The results read by protocol v2 (cpu, its confirmation,
Imagenette) keep both halves: COMPARISONS_BY_PROTOCOL[2].
"""

import math

from ..verdict import Rule
from . import Claim
from .ablation import NO_CROP_FLIP, PAPER, Comparison, entry_points

CLAIM = Claim(
    id="D2",
    slug="ten_patch",
    title="10-patch averaging beats a centre crop",
    paper_says="At test time the network averages its softmax over ten 224x224 patches "
    "(the four corners and the centre, and their reflections); ILSVRC-2010: 39.0/18.3 top-1/top-5 with "
    "one patch, 37.5/17.0 with 10.",
)
# The dataset it reads: the ablation family's at the scale (ablation.SCALES[scale].data).
DATA = "family"
PAPER_NUMBERS = {
    "top1_single": 39.0,
    "top5_single": 18.3,
    "top1_ten": 37.5,
    "top5_ten": 17.0,
    "top1_effect": -1.5,
    "top5_effect": -1.3,
}

TEST_HALF = "test half: 10 patches vs the centre crop"
TRAINING_HALF = "training half: crops + flips vs the centre crop"
# Written before the runs were read. The test half: the paper's top-1 gain within a factor 1.5 either way
# (equivalence margin half of it). The training half: the paper gives no size, only "substantial
# overfitting" without; its sign decides, with a margin of 1 point (DR1's, the family's other claim about
# overfitting) for "no effect".
RULES = {
    TEST_HALF: Rule(
        null=0.0,
        direction=-1,
        band=(-2.25, -1.0),
        text="Effect: top-1 error with 10-patch averaging minus with the centre crop, points, per seed, "
        "on the same trained net.",
    ),
    TRAINING_HALF: Rule(
        null=0.0,
        direction=-1,
        band=(-math.inf, 0.0),
        margin=1.0,
        text="Effect: validation top-1 error (centre crop) of the net trained with random crops and "
        "flips minus the net trained on the centre crop alone, points, per seed.",
    ),
}
# Reported beside the verdict, not deciding it (declared so before the runs); its own rule only so that it is
# read by its sign, as DR1's gap is, rather than by the test half's band.
GAP = "train-test gap, crops + flips vs none"
RULES[GAP] = Rule(
    null=0.0,
    direction=-1,
    band=(-math.inf, 0.0),
    margin=1.0,
    text="Effect: (validation - training) top-1 error with crops and flips minus without, points.",
)
RULE = RULES[TEST_HALF]
COMPARISONS = [Comparison(TEST_HALF, PAPER, PAPER, metric="val_top1", treatment_metric="val_top1_ten", paper=-1.5)]
# Protocol v2's declaration (both halves), by which the committed cpu, confirmation and Imagenette results were read.
COMPARISONS_BY_PROTOCOL = {
    2: [
        *COMPARISONS,
        Comparison(TRAINING_HALF, PAPER, NO_CROP_FLIP),
        Comparison(GAP, PAPER, NO_CROP_FLIP, metric="gap", decides=False),
    ]
}

# What its notebook says the experiment is (scripts/family_notebooks.py writes the notebook from it).
EXPERIMENT = (
    "A comparison of the ablation family (`claims/ablation.py`): each trained paper's net evaluated on "
    "the centre crop and with its softmax averaged over 10 views; effect: 10 views minus centre crop, "
    "seed by seed, on the same net. Until protocol v3 this claim also held a training half (random crops "
    "and flips against the centre crop): that is now D4 (`notebooks/crops_flips.ipynb`); the results read "
    "by protocol v2 (cpu, its confirmation, Imagenette) keep both halves."
)


plan, run_job, train, assess, run, decided_by = entry_points(__name__)
