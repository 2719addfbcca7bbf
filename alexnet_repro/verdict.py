"""Verdicts from numbers, by one rule shared by every claim.

An effect is measured per seed (or per seed pair); we summarize it by its mean and a 95% interval
(Student t over seeds). Each claim states, before any run, the value of "no effect" (0 for a
difference, 1 for a ratio), the direction the paper claims, and the band of sizes that count as
"the paper's size". Then:

  inconclusive    fewer than 2 seeds, or the interval covers the no-effect value;
  not reproduced  the interval lies wholly on the wrong side of no effect;
  reproduced      the interval lies on the paper's side and overlaps the paper's band;
  partly          the interval lies on the paper's side but misses the band (direction right,
                  size off).
"""
import math
from dataclasses import asdict, dataclass

REPRODUCED, PARTLY, NOT_REPRODUCED, INCONCLUSIVE = (
    "reproduced", "partly reproduced", "not reproduced", "inconclusive")
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, INCONCLUSIVE)

# Two-sided 95% quantiles of Student's t, by degrees of freedom (no scipy needed for these).
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
         10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042, 60: 2.000}


def t975(df: int) -> float:
    """The 97.5% quantile of t with df degrees of freedom (conservative between table entries)."""
    if df < 1:
        raise ValueError("need at least 2 values for an interval")
    return _T975[max(k for k in _T975 if k <= df)] if df <= 60 else 1.96


@dataclass
class Interval:
    mean: float
    lo: float
    hi: float
    n: int

    def as_dict(self):
        return asdict(self)


def mean_ci(values) -> Interval:
    """Mean and 95% t-interval of finite values; a single value gives a degenerate interval."""
    xs = [float(v) for v in values]
    if not xs or any(not math.isfinite(v) for v in xs):
        raise ValueError(f"mean_ci needs finite values, got {xs}")
    n, mean = len(xs), sum(xs) / len(xs)
    if n == 1:
        return Interval(mean, mean, mean, 1)
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    half = t975(n - 1) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


def summarize(values) -> dict:
    """A measure over seeds as results store it: every seed's value, and the mean and 95% interval
    of the finite ones (a diverged run's NaN stays in per_seed, out of the interval)."""
    values = list(values)
    finite = [v for v in values if math.isfinite(v)]
    return {"per_seed": values, **(mean_ci(finite).as_dict() if finite else {})}


@dataclass
class Rule:
    """What the paper claims, fixed before the run. direction=+1: effect above null is the paper's side."""
    null: float
    direction: int
    band: tuple  # (low, high) sizes that count as the paper's number
    text: str = ""

    def describe(self):
        side = ">" if self.direction > 0 else "<"
        return (self.text or "") + (f" No effect = {self.null}; the paper's side is effect {side} {self.null}; "
                                    f"the paper's size is the band [{self.band[0]}, {self.band[1]}]. "
                                    "inconclusive if fewer than 2 seeds or the 95% interval covers no effect; "
                                    "not reproduced if it lies wholly on the other side; reproduced if it "
                                    "overlaps the band; partly reproduced otherwise.")


def decide(ci: Interval, rule: Rule) -> str:
    if ci.n < 2 or ci.lo <= rule.null <= ci.hi:
        return INCONCLUSIVE
    on_papers_side = (ci.lo - rule.null) * rule.direction > 0
    if not on_papers_side:
        return NOT_REPRODUCED
    lo, hi = sorted(rule.band)
    return REPRODUCED if ci.hi >= lo and ci.lo <= hi else PARTLY


# One-sided 80% quantiles of Student's t (power 0.8), by degrees of freedom.
_T80 = {1: 1.376, 2: 1.061, 3: 0.978, 4: 0.941, 5: 0.920, 6: 0.906, 7: 0.896, 8: 0.889, 9: 0.883, 10: 0.879,
        12: 0.873, 15: 0.866, 20: 0.860, 30: 0.854, 60: 0.848}


def seeds_for_power(sd: float, margin: float, limit=1000):
    """The fewest seeds n at which a paired effect of size `margin` is found (95% interval excluding 0)
    with 80% power, given the seed-to-seed SD of the paired differences: (t_.975 + t_.8)(n-1) sd / sqrt(n)
    <= margin. None past `limit` (or for a zero margin)."""
    if not margin or not math.isfinite(sd):
        return None
    for n in range(2, limit + 1):
        df = n - 1
        t80 = _T80[max(k for k in _T80 if k <= df)] if df <= 60 else 0.842
        if (t975(df) + t80) * sd / math.sqrt(n) <= abs(margin):
            return n
    return None
