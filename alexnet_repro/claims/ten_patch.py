"""D2: random crops and flips fight overfitting, and averaging the softmax over 10 patches at test time
beats a single centre crop (paper 4.1 and 6).

Both halves are comparisons of the ablation family (ablation.py), on the family's nets and scales:
- the training half: the paper's net (random crops + horizontal flips) against the same net trained on
  the centre crop alone (arm NO_CROP_FLIP); the effect is the validation top-1 error (centre crop), crops
  minus none, and beside it the train-test gap (the paper: "without this scheme, our network suffers
  from substantial overfitting");
- the test half: the paper's net evaluated twice, on the centre crop and with the softmax averaged over
  10 views (the four corner crops and the centre crop, each also mirrored); the effect is the 10-view
  error minus the centre-crop error of the same trained net, seed by seed.

At the cpu scale this is CIFAR-10 (24 px crops of 32 px images, cuda-convnet's multiview test). The
ImageNet-layout runs made before (Imagenette at 112 px, a quarter-width net) are in results/ten_patch/
imagenette/, with both of their looks.
"""
import math

from ..verdict import Rule
from . import Claim
from .ablation import NO_CROP_FLIP, PAPER, Comparison, entry_points

CLAIM = Claim(
    id="D2", slug="ten_patch", title="Crops and flips curb overfitting; 10-patch averaging beats a centre crop",
    paper_says="Without this scheme [random 224x224 patches and their horizontal reflections], our network suffers "
               "from substantial overfitting. At test time the network averages its softmax over ten 224x224 patches "
               "(the four corners and the centre, and their reflections); ILSVRC-2010: 39.0/18.3 top-1/top-5 with "
               "one patch, 37.5/17.0 with 10.", also=("D4",))
# The dataset it reads: the ablation family's at the scale (ablation.SCALES[scale].data).
DATA = "family"
PAPER_NUMBERS = {"top1_single": 39.0, "top5_single": 18.3, "top1_ten": 37.5, "top5_ten": 17.0,
                 "top1_effect": -1.5, "top5_effect": -1.3}

TEST_HALF = "test half: 10 patches vs the centre crop"
TRAINING_HALF = "training half: crops + flips vs the centre crop"
# Written before the runs were read. The test half: the paper's top-1 gain within a factor 1.5 either way
# (equivalence margin half of it). The training half: the paper gives no size, only "substantial
# overfitting" without; its sign decides, with a margin of 1 point (DR1's, the family's other claim about
# overfitting) for "no effect".
RULES = {
    TEST_HALF: Rule(null=0.0, direction=-1, band=(-2.25, -1.0),
                    text="Effect: top-1 error with 10-patch averaging minus with the centre crop, points, per seed, "
                         "on the same trained net."),
    TRAINING_HALF: Rule(null=0.0, direction=-1, band=(-math.inf, 0.0), margin=1.0,
                        text="Effect: validation top-1 error (centre crop) of the net trained with random crops and "
                             "flips minus the net trained on the centre crop alone, points, per seed."),
}
# Reported beside the verdict, not deciding it (declared so before the runs); its own rule only so that it is
# read by its sign, as DR1's gap is, rather than by the test half's band.
GAP = "train-test gap, crops + flips vs none"
RULES[GAP] = Rule(null=0.0, direction=-1, band=(-math.inf, 0.0), margin=1.0,
                  text="Effect: (validation - training) top-1 error with crops and flips minus without, points.")
RULE = RULES[TEST_HALF]
COMPARISONS = [
    Comparison(TEST_HALF, PAPER, PAPER, metric="val_top1", treatment_metric="val_top1_ten", paper=-1.5),
    Comparison(TRAINING_HALF, PAPER, NO_CROP_FLIP),
    Comparison(GAP, PAPER, NO_CROP_FLIP, metric="gap", decides=False),
]


plan, run_job, train, assess, run = entry_points(__name__)
