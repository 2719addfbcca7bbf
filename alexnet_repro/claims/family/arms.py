"""The family's arms and scales: each arm the paper's net with one switch changed, the comparisons a claim makes
between two arms, and the family's config at each scale with the seeds each scale fixes (a confirmation's from its
pilot, the regime's from its plan)."""

import json
from dataclasses import dataclass, replace
from pathlib import Path

from ...models.alexnet import AlexNetConfig
from ...paths import results_root
from ...results import load_result
from ...seeds import parse_seeds
from ...verdict import V2, V3
from .. import CONFIRMATION, GPU_REGIME, REGIME, REGIMES

FAMILY = "alexnet_ablations"  # the run store shared by every claim of the family


@dataclass(frozen=True)
class Arm:
    name: str
    net: tuple = ()  # AlexNetConfig overrides, as (field, value) pairs
    weight_decay: float = 5e-4  # T2
    pca: bool = True  # D3
    crop_flip: bool = True  # D2's training half: random crops + flips (else the centre crop)
    flip: bool = True  # the random crops' mirror images (D2's flips); the centre crop has none either way

    def net_config(self, base: AlexNetConfig) -> AlexNetConfig:
        return replace(base, **dict(self.net))

    def describe(self):
        # "flip" only where it is off: the arms described before it existed are described as they were
        return {
            "net": dict(self.net),
            "weight_decay": self.weight_decay,
            "pca": self.pca,
            "crop_flip": self.crop_flip,
            **({} if self.flip else {"flip": False}),
        }

    def augment_text(self) -> str:
        """How its training images are augmented, in the words its runs' records are keyed by."""
        crops = ("random crop + flip" if self.flip else "random crop") if self.crop_flip else "centre crop"
        return crops + (" + PCA lighting 0.1" if self.pca else "")

    def identity(self) -> dict:
        """The arm as staleness compares it (contract.value): by what its runs are keyed on (its net's overrides,
        decay and augmentation), so that a switch added later, at a default that keeps those, changes no arm."""
        return {
            "name": self.name,
            "net": dict(self.net),
            "weight_decay": self.weight_decay,
            "augment": self.augment_text(),
        }


# The catalogue of arms: each is the paper's net with one switch changed. Arms are identified in
# the run store by their config, not their name, so two claims naming the same arm share its runs.
PAPER = Arm("paper's net")
NO_LRN = Arm("no LRN", (("normalization", "none"),))
BATCHNORM = Arm("batch norm", (("normalization", "batchnorm"),))
NON_OVERLAPPING = Arm("pooling 2/2", (("pooling", "non_overlapping"),))
ONE_COLUMN = Arm("one column, half the kernels", (("columns", "half"),))
NO_PCA = Arm("no PCA lighting", pca=False)
NO_DROPOUT = Arm("no dropout", (("dropout", 0.0),))
NO_DECAY = Arm("no weight decay", weight_decay=0.0)
NO_CROP_FLIP = Arm("no crops or flips", crop_flip=False)
WITHOUT = {layer: Arm(f"without {layer}", (("remove", layer),)) for layer in ("conv3", "conv4", "conv5")}
CATALOGUE = {
    a.name: a
    for a in (PAPER, NO_LRN, BATCHNORM, NON_OVERLAPPING, ONE_COLUMN, NO_PCA, NO_DROPOUT, NO_DECAY, NO_CROP_FLIP)
} | {a.name: a for a in WITHOUT.values()}


@dataclass(frozen=True)
class Comparison:
    label: str
    treatment: Arm
    control: Arm
    metric: str = "val_top1"  # a column of the seeds table; points (x100) unless a ratio metric
    ratio: bool = False  # effect = treatment / control instead of the difference
    decides: bool = True  # False: reported beside the verdict, not part of it
    paper: float = None  # the paper's value of this effect, where it gives one
    needs_overfitting: bool = False  # a claim about overfitting: not testable where the control does not overfit
    not_testable: str = None  # why this comparison cannot be tested by this design at all (stated before the runs)
    treatment_metric: str = None  # the treatment's column where it differs (D2's test half: the same net, 10 views)

    @property
    def ten_view(self):
        return (self.treatment_metric or "").endswith("_ten")


@dataclass
class Config:
    """A scale of the family (D2 uses it too): the data, the net's size and the recipe."""

    cache_size: int  # D1's 256 at the paper scale; smaller for the proxies; 32 for CIFAR-10
    crop: int  # 227 (the size that gives conv1 55x55); 99 / 67 for the proxies; 24 for CIFAR
    width: float  # AlexNet width multiplier
    epochs: int
    seeds: tuple = (0, 1, 2)
    lr: float = 0.01
    init_std: float = 0.01
    n_train: int = 0  # 0 = the whole split
    n_val: int = 0
    train_eval_images: int = 0  # the training sample of the gap's training error; 0 = as many as validation
    batch_size: int = 128
    precision: str = "fp32"
    model_parallel: bool = False  # the two-column net with a column per GPU where a process has two (M1's timing)
    data: str = "imagefolder"  # "imagefolder" (ImageNet layout) | "cifar10" (the CIFAR-10 AlexNet)
    schedule: str = "constant"  # optim.lr_factor
    hidden_bias: float = 1.0  # T3's biases of 1 (AlexNetConfig.hidden_bias)
    holdout: int = 0  # CIFAR-10: training images held out as the validation split for choices
    evaluate_on: str = "test"  # "test" (what claims report) | "holdout" (pilots and choices only)


# The regime's epochs, chosen by the regime pilot on held-out training images (results/benchmarks/regime_pilot.txt):
# of 30, 40 and 60 epochs only 60 met the regime (the paper's net's last 3 epochs gained 0.20 points, its gap was
# 11.8; at 40: 0.42 and 6.9). A run of the paper's net is ~10 min of one core in bf16 here (22 min in fp32 under load).
REGIME_EPOCHS = 60

# The CIFAR-10 AlexNet's init and rate, chosen on 5,000 held-out training images (never the test set)
# by a short probe (2 epochs, 10,000 images, seed 100; results/benchmarks/cifar_init_probe.txt): the paper's
# init (weights N(0, 0.01), biases 1) stayed at chance (90.0% held-out error) and so did std 0.01 with biases
# 0.1; std 0.03 with biases 1 reached 83%, std 0.03 with biases 0.1 (Caffe's bvlc_alexnet value) 71%.
CIFAR_CHOICES = dict(init_std=0.03, hidden_bias=0.1, lr=0.01)

SCALES = {
    "smoke": Config(cache_size=76, crop=67, width=0.125, epochs=2, seeds=(0, 1), n_train=256, n_val=128),
    # The CIFAR-10 AlexNet (models/alexnet.py), which converges on 2 CPU cores (~3 min per run of the paper's net):
    # a class-balanced 10,000 training images, 15 epochs with the rate annealed linearly to zero, the 10,000 test
    # images. Seeds fixed before the runs from the pilot (benchmarks/cifar_pilot.py: LRN - none SD 0.37 points over 3
    # seeds on held-out images): 4 give 80% power against M1's and E5's margins; L2 needs 5, D3, T1 and BN 7, O1 ~30,
    # beyond this CPU's budget (11 arms x 4 seeds ~ 70 min): those report the seeds they would need.
    "cpu": (
        CPU := Config(
            data="cifar10",
            cache_size=32,
            crop=24,
            width=0.25,
            epochs=15,
            n_train=10_000,
            holdout=5_000,
            train_eval_images=2_000,
            schedule="linear_to_zero",
            **CIFAR_CHOICES,
            seeds=(0, 1, 2, 3),
        )
    ),
    # The confirmation of an inconclusive cpu result (confirmation_seeds): the cpu config and its run store, on
    # the fresh seeds its pilot (PILOT_SCALE) fixes.
    CONFIRMATION: replace(CPU, seeds=()),
    # The regime (issue 20): the cpu recipe for REGIME_EPOCHS epochs in bf16 autocast; each claim's seeds 0 to n-1, n
    # fixed before the runs by scripts/plan_regime.py (results/benchmarks/regime_plan.json). Read by protocol v3.
    REGIME: (CPU_REGIME := replace(CPU, epochs=REGIME_EPOCHS, precision="bf16", seeds=())),
    # The same regime, its runs trained on a GPU (TRAINED_ON_GPU): the config, the plan's seeds and the rules are
    # the cpu-regime's, so a claim the cpu campaign has not reached yet has the regime's verdict all the same.
    GPU_REGIME: CPU_REGIME,
    # The ImageNet-layout proxy the cpu scale used before protocol v2 (Imagenette at 67 px, 8 epochs at a
    # constant rate): kept so its committed results can be re-read, not as a scale that decides.
    "imagenette": Config(cache_size=76, crop=67, width=0.25, epochs=8, init_std=0.03, train_eval_images=2000),
    # D2's gpu scale: the paper's init and lr leave a full-width net at chance on Imagenette (see ten_patch).
    "gpu": Config(cache_size=256, crop=227, width=1.0, epochs=40, init_std=0.02, lr=0.001),
    "paper": Config(cache_size=256, crop=227, width=1.0, epochs=90, seeds=(0,), model_parallel=True),
}


PILOT_SCALE = "cpu"  # the scale whose inconclusive results a CONFIRMATION confirms
MIRRORED = set(REGIMES)  # scales whose finished runs are recorded in the repository too (runs.py: the mirror)
# Scales whose runs train on a GPU alone: elsewhere their committed runs are read, and a missing one is refused
# (a run trained on a CPU would mix devices inside the scale's paired comparisons).
TRAINED_ON_GPU = {GPU_REGIME}
# The scales a claim's decision version reads (contract.decided_by): all but the GPU twin, whose config, protocol and
# comparisons are the cpu-regime's by value, so that declaring it left every committed result's version as it was.
VERSIONED_SCALES = tuple(s for s in SCALES if s not in TRAINED_ON_GPU)


def protocol_of(scale):
    """The rules a scale's results are read by: v2 for the scales whose results were read by it, else v3."""
    return V2 if scale in ("cpu", CONFIRMATION, "imagenette") else V3


def comparisons(mod, scale):
    """The comparisons the claim `mod` declares for `scale`'s protocol: its COMPARISONS_BY_PROTOCOL where a
    protocol's results were read by an earlier declaration."""
    return getattr(mod, "COMPARISONS_BY_PROTOCOL", {}).get(protocol_of(scale).version, mod.COMPARISONS)


def regime_seeds(mod, seeds=None, plan=None) -> tuple:
    """The seeds of the claim `mod` in the regime: 0 to n-1, n as scripts/plan_regime.py fixed it before any of the
    regime's runs. `seeds`, where given, must be those."""
    path = Path(plan) if plan else results_root() / "benchmarks" / "regime_plan.json"
    if not path.exists():
        raise ValueError(f"the regime's seeds are fixed by {path}, which is missing: run scripts/plan_regime.py first")
    n = json.loads(path.read_text())["claims"].get(mod.CLAIM.slug, {}).get("n")
    if not n:
        raise ValueError(f"{mod.CLAIM.slug} has no n in {path}: rerun scripts/plan_regime.py")
    declared, seeds = tuple(range(n)), parse_seeds(seeds)
    if seeds is not None and tuple(seeds) != declared:
        raise ValueError(
            f"{mod.CLAIM.slug}: its seeds in the regime are fixed in advance (0-{n - 1}, {n} seeds): leave --seeds out"
        )
    return declared


def store_scale(scale):
    """The scale whose run store `scale` trains into: a confirmation's runs are its pilot scale's, other seeds."""
    return PILOT_SCALE if scale == CONFIRMATION else scale


def confirmation_seeds(mod, seeds=None, root=None) -> tuple:
    """The seeds of the claim `mod`'s confirmation (book/method.md): fresh seeds from one past its cpu pilot's last,
    as many as the most any deciding comparison of the pilot needs (`seeds_needed`). `seeds`, where given, must be
    those: a confirmation has no free choice of n."""
    slug, seeds, pilot = mod.CLAIM.slug, parse_seeds(seeds), pilot_result(mod, root)
    needed = [
        c["seeds_needed"] for c in pilot.get("comparisons", []) if c.get("decides", True) and c.get("seeds_needed")
    ]
    if not needed:
        raise ValueError(
            f"{slug}: its cpu result is {pilot['verdict']}, with no inconclusive comparison: nothing to confirm"
        )
    first = max(pilot["provenance"]["seeds"]) + 1
    declared = tuple(range(first, first + max(needed)))
    if seeds is not None and tuple(seeds) != declared:
        raise ValueError(
            f"{slug}: a confirmation's seeds are fixed by its pilot ({first}-{declared[-1]}, "
            f"{len(declared)} seeds): leave --seeds out"
        )
    return declared


def pilot_result(mod, root=None) -> dict:
    """The claim's committed cpu result, the pilot its confirmation confirms; ValueError of one line if none."""
    pilot = load_result(mod.CLAIM.slug, PILOT_SCALE, root)
    if pilot is None:
        raise ValueError(f"{mod.CLAIM.slug} has no cpu result to confirm: run it at --scale cpu first")
    return pilot


def pilot_of(mod, root=None) -> dict:
    """What a confirmation shows beside its own verdict, never pooled into it: its pilot's result, in brief."""
    slug, pilot = mod.CLAIM.slug, pilot_result(mod, root)
    return {
        "result": f"results/{slug}/{PILOT_SCALE}/result.json",
        "verdict": pilot["verdict"],
        "headline": pilot["headline"],
        "seeds": pilot["provenance"]["seeds"],
        "git_commit": pilot["provenance"].get("git_commit"),
        "comparisons": [
            {k: c.get(k) for k in ("label", "kind", "effect", "verdict", "seeds_needed", "decides")}
            for c in pilot.get("comparisons", [])
        ],
    }


def arms_of(comparisons):
    """The arms a claim's comparisons need, each once, in order."""
    return list({a.name: a for c in comparisons for a in (c.treatment, c.control)}.values())
