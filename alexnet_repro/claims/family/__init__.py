"""The AlexNet ablations (M1, L2, O1, D2, D4, D3, DR1, T1, E5, BN): one switch against the paper's net.

Each claim compares arms that differ in exactly one switch of the paper's recipe, all else held equal (data, crops,
seeds, rate, epochs). All arms share one run store, so the paper's arm `PAPER`, which nearly every claim compares
against, trains once per seed for the whole family. arms.py holds the arms, comparisons and scales; training.py trains
one arm for one seed into the store; assessment.py turns runs into verdicts (and re-reads committed results);
declarations.py declares each claim as a block subclassing `Ablation`. A comparison's effect is, per seed,
metric(treatment) - metric(control) (a ratio for counts of epochs), summarized by its mean and 95% t-interval.
"""

from .. import contract
from . import assessment, training


class Ablation:
    """A claim of the family: the contract's functions are the family's, bound with the class as their claim."""

    DATA = "family"  # the dataset it reads: the family's at the scale (arms.SCALES[scale].data)
    PAPER_NUMBERS = {}  # where the paper gives none
    run_job = staticmethod(training.run_job)  # picklable by name for the --jobs process pool
    plan = classmethod(training.plan_claim)
    train = classmethod(training.train_claim)
    assess = classmethod(assessment.assessment)
    run = classmethod(contract.run)  # writes results/<slug>/<scale>/ and returns the result dict
    decided_by = classmethod(assessment.decided_by)


from .declarations import CLAIMS as CLAIMS  # noqa: E402  (its blocks subclass Ablation)
