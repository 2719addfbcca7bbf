"""The AlexNet ablations (M1, L2, O1, D2, D4, D3, DR1, T1, E5, BN): one switch against the paper's net.

Every claim of this family compares arms that differ in exactly one switch of the paper's recipe,
everything else held equal: the same data, crops, seeds, learning rate and number of epochs. The
paper's own net and recipe is the arm `PAPER`: two columns, LRN, overlapping pooling, dropout 0.5,
weight decay 5e-4 (PaperSGD, T2), random crops + flips and PCA lighting (D2, D3). The other arms
change one thing. All arms of the family share one run store, so the `PAPER` arm, which nearly
every claim compares against, trains once per seed for the whole family.

The package: arms.py (the arms, comparisons and scales), training.py (one arm for one seed into the shared run
store), assessment.py (convergence, the not-testable checks, verdicts, re-reading committed results), figures.py,
and declarations.py, one block per claim, side by side. A block declares, before any run:
  CLAIM, PAPER_NUMBERS, RULE/RULES     what the paper says and the rules its verdict follows
  COMPARISONS                          [Comparison(label, treatment arm, control arm, metric)]
and inherits the contract's functions (contract.py) from `Ablation`. The effect of a comparison is, per seed,
metric(treatment) - metric(control) (or their ratio, for metrics that are counts of epochs),
summarized by its mean and 95% t-interval over seeds; `verdict.decide` turns it into the verdict.

What each run records (per arm and seed): the validation error of the centre crop (top-1 every
epoch, top-5 at the end), the training error of the same centre-crop pass (eval mode) over a fixed
training sample (so the train-validation gap compares like with like: same crops, no dropout), the
running training error, seconds per epoch and the epoch at which the run converged (below).

Convergence (DR1), defined before any run: the first epoch at which the validation top-1 error
comes within 1 point of the best that run reaches.

The proxy (cpu scale): CIFAR-10 and the CIFAR-10 AlexNet (models/alexnet.py: every switch of the 2012 net,
its two-column wiring, for 24 px crops of 32 px images), 10,000 training images, 15 epochs with the rate
annealed to zero, so that each run ends converged (late_gain) within minutes on 2 CPU cores. ImageNet at
224 px, 1000 classes and 90 epochs is out of their reach; the gpu and paper scales run the full net on
ImageNet-layout data. The Imagenette runs of the cpu scale before protocol v2 are the "imagenette" scale.
A comparison may also measure one net two ways (D2's test half: `treatment_metric`, 10 views).

An inconclusive cpu result is the pilot of a confirmation, the scale "cpu-confirmation" (book/method.md):
the cpu config and run store on fresh seeds, as many as the pilot's seeds_needed, decided alone.
"""

from .. import contract
from . import assessment, training


class Ablation:
    """A claim of the family: a class in declarations.py declares it (CLAIM, PAPER_NUMBERS, RULE/RULES,
    COMPARISONS, ...); the contract's functions are the family's, the same for each, bound here with the class as
    their claim (no forwarding methods: a run's seeds go from contract.run to training.py directly). The registry
    finds the classes through CLAIMS."""

    DATA = "family"  # the dataset it reads: the family's at the scale (arms.SCALES[scale].data)
    run_job = staticmethod(training.run_job)  # picklable by name for the --jobs process pool
    plan = classmethod(training.plan_claim)
    train = classmethod(training.train_claim)
    assess = classmethod(assessment.assessment)
    run = classmethod(contract.run)  # writes results/<slug>/<scale>/ and returns the result dict
    decided_by = classmethod(assessment.decided_by)


from .declarations import CLAIMS as CLAIMS  # noqa: E402  (its blocks subclass Ablation)
