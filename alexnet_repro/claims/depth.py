"""E5: removing any middle conv layer costs about 2 points of top-1 (paper 7).

Three arms, each the paper's net without one of conv3, conv4, conv5 (the layers after it keep
their kernel counts and column connectivity; see models/alexnet.py), against the paper's net;
everything else held equal (see ablation.py). Effect per arm: validation top-1 error without the
layer minus with it. Each arm gets its own verdict; the claim's verdict combines them
(ablation.combine).
"""

from ..verdict import Rule
from . import Claim
from .ablation import PAPER, WITHOUT, Comparison, entry_points

CLAIM = Claim(
    id="E5",
    slug="depth",
    title="Removing any middle conv layer costs about 2 points",
    paper_says="It is notable that our network's performance degrades if a single convolutional layer is removed. For example, removing any of the middle layers results in a loss of about 2% for the top-1 performance.",
)
# The dataset it reads: the ablation family's at the scale (ablation.SCALES[scale].data).
DATA = "family"
PAPER_NUMBERS = {"top1_effect": 2.0}
# Written before any run: "about 2%" within a factor 1.5 either way, for each layer.
RULE = Rule(
    null=0.0,
    direction=+1,
    band=(1.33, 3.0),
    text="Effect: validation top-1 error without the layer minus with it, points, per seed.",
)
COMPARISONS = [
    Comparison(f"without {layer}", WITHOUT[layer], PAPER, paper=2.0) for layer in ("conv3", "conv4", "conv5")
]

# What its notebook says the experiment is (scripts/family_notebooks.py writes the notebook from it).
EXPERIMENT = (
    "Three arms, each the paper's net without one of conv3, conv4, conv5 (the layers after it keep their "
    "kernel counts and column connectivity; see models/alexnet.py), against the paper's net; everything "
    "else held equal (see ablation.py). Effect per arm: validation top-1 error without the layer minus "
    "with it. Each arm gets its own verdict; the claim's verdict combines them (ablation.combine)."
)


plan, run_job, train, assess, run, decided_by = entry_points(__name__)
