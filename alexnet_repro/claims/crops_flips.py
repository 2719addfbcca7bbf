"""D4: training on random crops and their horizontal flips fights overfitting (paper 4.1).

The paper's net (random crops + flips) against the same net trained on the centre crop alone (arm NO_CROP_FLIP),
everything else held equal (see ablation.py). The effect that decides: the validation top-1 error (centre crop) at
the end of training, crops minus none, in the regime where the no-crop arm overfits (protocol v3: its train-test
gap reaches the protocol's threshold, else not testable). The train-test gap is reported beside it, not deciding:
it is partly mechanical, since the no-crop arm's training sample is exactly its input.

Until protocol v3 this was the training half of D2 (claims/ten_patch.py keeps that declaration for its results).
"""

import math

from ..verdict import Rule
from . import Claim
from .ablation import NO_CROP_FLIP, PAPER, Comparison, entry_points

CLAIM = Claim(
    id="D4",
    slug="crops_flips",
    title="Random crops and flips fight overfitting",
    paper_says="We do this by extracting random 224x224 patches (and their horizontal reflections) from the 256x256 "
    "images and training our network on these extracted patches. ... Without this scheme, our network suffers from "
    "substantial overfitting, which would have forced us to use much smaller networks.",
)
DATA = "family"
PAPER_NUMBERS = {}

ERROR = "crops + flips vs the centre crop"
GAP = "train-test gap, crops + flips vs none"
# Declared before any run at a v3 scale. The paper gives no size: the sign decides, with D2's old training half's
# margin of 1 point (DR1's, the family's other overfitting claim) for "no effect".
RULES = {
    ERROR: Rule(
        null=0.0,
        direction=-1,
        band=(-math.inf, 0.0),
        margin=1.0,
        text="Effect: validation top-1 error (centre crop) of the net trained with random crops and flips minus "
        "the net trained on the centre crop alone, points, per seed.",
    ),
    GAP: Rule(
        null=0.0,
        direction=-1,
        band=(-math.inf, 0.0),
        margin=1.0,
        text="Effect: (validation - training) top-1 error with crops and flips minus without, points.",
    ),
}
RULE = RULES[ERROR]
COMPARISONS = [
    Comparison(ERROR, PAPER, NO_CROP_FLIP, needs_overfitting=True),
    Comparison(GAP, PAPER, NO_CROP_FLIP, metric="gap", decides=False),
]

# What its notebook says the experiment is (scripts/family_notebooks.py writes the notebook from it).
EXPERIMENT = (
    "The paper's net, trained on random crops and their mirror images, against the same net trained on "
    "the centre crop alone; everything else held equal (see ablation.py). Effect: validation top-1 error "
    "at the end of training, crops minus none, per seed, with the train-test gap beside it (reported, not "
    "deciding: the no-crop arm's training sample is exactly its input, so part of its gap is mechanical). "
    "Testable only where the no-crop arm overfits by the protocol's threshold. Until protocol v3 this was "
    "the training half of D2."
)


plan, run_job, train, assess, run, decided_by = entry_points(__name__)
