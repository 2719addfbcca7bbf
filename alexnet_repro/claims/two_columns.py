"""M1: the two-column net beats a one-column net with half the kernels (paper 3.2).

The paper's two-column net (grouped convolutions, one device) against footnote 2's one-column net:
half the kernels in conv1-conv4, conv5 and the FC layers full size; everything else held equal
(see ablation.py). Effect: validation top-1 error, two columns minus one, per seed. The paper's
"slightly less time to train" came from two GPUs; on one device the seconds per epoch are reported
beside the verdict, not part of it.
"""

from ..verdict import Rule
from . import Claim
from .ablation import ONE_COLUMN, PAPER, Comparison, entry_points

CLAIM = Claim(
    id="M1",
    slug="two_columns",
    title="Two columns beat one half-width column",
    paper_says="This scheme reduces our top-1 and top-5 error rates by 1.7% and 1.2%, respectively, as compared with a net with half as many kernels in each convolutional layer trained on one GPU. The two-GPU net takes slightly less time to train than the one-GPU net.",
)
# The dataset it reads: the ablation family's at the scale (ablation.SCALES[scale].data).
DATA = "family"
PAPER_NUMBERS = {"top1_effect": -1.7, "top5_effect": -1.2}
# Written before any run: the paper's top-1 effect within a factor 1.5 either way.
RULE = Rule(
    null=0.0,
    direction=-1,
    band=(-2.55, -1.13),
    text="Effect: validation top-1 error, two columns minus one half-width column, points, per seed.",
)
COMPARISONS = [
    Comparison("two columns vs one", PAPER, ONE_COLUMN, paper=-1.7),
    Comparison(
        "seconds per epoch, two / one",
        PAPER,
        ONE_COLUMN,
        metric="seconds_per_epoch",
        ratio=True,
        decides=False,
        not_testable="the paper's speed claim is about two GPUs, each with one column; here both "
        "columns share one device, as grouped convolutions (benchmarks/two_gpu_time.py "
        "times it on two GPUs)",
    ),
]

# What its notebook says the experiment is (scripts/family_notebooks.py writes the notebook from it).
EXPERIMENT = (
    "The paper's two-column net (grouped convolutions, one device) against footnote 2's one-column net: "
    "half the kernels in conv1-conv4, conv5 and the FC layers full size; everything else held equal (see "
    "ablation.py). Effect: validation top-1 error, two columns minus one, per seed. The paper's \"slightly "
    'less time to train" came from two GPUs; on one device the seconds per epoch are reported beside the '
    "verdict, not part of it."
)


plan, run_job, train, assess, run, decided_by = entry_points(__name__)
