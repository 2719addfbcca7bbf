"""Verdicts from numbers, by one rule shared by every claim (protocol v2).

An effect is measured per seed (or per seed pair: the arms of a comparison share every random
stream, seeds.Streams); we summarize it by its mean and a 95% interval (Student t over seeds; for
a ratio, on log(ratio), then exponentiated). Each claim states, before any run, the value of "no
effect" (0 for a difference, 1 for a ratio), the direction the paper claims, the band of sizes that
count as "the paper's size", and an equivalence margin (by default half the paper's effect). Then:

  reproduced               the interval excludes no effect, on the paper's side, and overlaps the band;
  partly reproduced        on the paper's side, but it misses the band (direction right, size off);
  not reproduced           the interval lies wholly on the other side of no effect;
  no effect at this scale  the interval covers no effect and lies inside +-margin: a real, measured null
                           (the paper's number is then neither confirmed nor refuted at its own scale);
  inconclusive             fewer than 2 seeds, or the interval covers no effect but is wider than the
                           margin: more seeds would decide it (results say how many, at 80% power);
  not testable at this scale  the experiment cannot show the effect here (nets at chance, nothing to
                           overfit, not converged); the claim names the reason;
  the paper is inconsistent   the paper's own numbers contradict each other (A3, A4);
  plumbing check (no verdict) a smoke run: it checks that the code runs, not the claim.

Where a claim decides on several comparisons, "excludes no effect" is judged at a family-wise 5%
by Holm's step-down correction over the comparisons' paired t-tests (holm).
"""
import math
from dataclasses import asdict, dataclass

REPRODUCED, PARTLY, NOT_REPRODUCED, INCONCLUSIVE = (
    "reproduced", "partly reproduced", "not reproduced", "inconclusive")
NO_EFFECT, NOT_TESTABLE, INCONSISTENT, PLUMBING = (
    "no effect at this scale", "not testable at this scale", "the paper is inconsistent", "plumbing check (no verdict)")
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, NO_EFFECT, INCONCLUSIVE, NOT_TESTABLE, INCONSISTENT, PLUMBING)
# Why `decide` gave each of its verdicts, in the words results carry.
REASONS = {NO_EFFECT: "the interval lies inside the equivalence margin",
           INCONCLUSIVE: "the interval covers no effect and is wider than the margin",
           NOT_REPRODUCED: "the interval lies on the other side of no effect",
           PARTLY: "the direction holds, the size misses the paper's band",
           REPRODUCED: "the interval overlaps the paper's band"}

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


def mean_ci_log(ratios) -> Interval:
    """Mean and 95% interval of positive ratios, computed on their logs and mapped back (a geometric
    mean): a speedup of 2x and of 0.5x are equally far from 1."""
    xs = [float(r) for r in ratios]
    if any(not (math.isfinite(r) and r > 0) for r in xs):
        raise ValueError(f"ratios must be finite and positive, got {xs}")
    ci = mean_ci([math.log(r) for r in xs])
    return Interval(math.exp(ci.mean), math.exp(ci.lo), math.exp(ci.hi), ci.n)


@dataclass
class Rule:
    """What the paper claims, fixed before the run. direction=+1: effect above null is the paper's side.
    margin: the equivalence margin, in the effect's units (for a ratio rule, a factor m > 1: the
    interval inside [1/m, m] is "no effect"); None: half the distance from null to the band's edge
    nearest the paper's number when the band is finite, else no equivalence outcome."""
    null: float
    direction: int
    band: tuple  # (low, high) sizes that count as the paper's number
    text: str = ""
    margin: float = None
    ratio: bool = False

    def equivalence(self):
        """(lo, hi) of the no-effect region, or None when the rule has no margin and no finite paper's size."""
        m = self.margin
        if m is None:
            edges = [e for e in self.band if math.isfinite(e)]
            if not edges:
                return None
            if self.ratio:  # the paper's size: the band's geometric middle; half its distance from 1 on log scale
                paper = math.sqrt(edges[0] * edges[-1])
                m = math.exp(abs(math.log(paper / self.null)) / 2)
            else:
                m = abs(sum(edges) / len(edges) - self.null) / 2
        return (self.null / m, self.null * m) if self.ratio else (self.null - m, self.null + m)

    def describe(self):
        side = ">" if self.direction > 0 else "<"
        eq = self.equivalence()
        eq_text = (f"no effect at this scale if it lies inside [{eq[0]:.3g}, {eq[1]:.3g}] (the margin, fixed before "
                   "the run); " if eq else "")
        return (self.text or "") + (f" No effect = {self.null}; the paper's side is effect {side} {self.null}; "
                                    f"the paper's size is the band [{self.band[0]}, {self.band[1]}]. "
                                    + ("The interval is computed on log(ratio). " if self.ratio else "") +
                                    "Over the 95% interval: " + eq_text +
                                    "inconclusive if fewer than 2 seeds or it covers no effect otherwise; "
                                    "not reproduced if it lies wholly on the other side; reproduced if it "
                                    "overlaps the band; partly reproduced otherwise.")


def decide(ci: Interval, rule: Rule, significant=None) -> str:
    """The verdict of one comparison. `significant` (Holm's correction across a claim's comparisons)
    overrides the interval's own test of "excludes no effect" where given."""
    if ci is None or ci.n < 2:
        return INCONCLUSIVE
    excludes = not (ci.lo <= rule.null <= ci.hi) if significant is None else significant
    if not excludes:
        eq = rule.equivalence()
        return NO_EFFECT if eq and eq[0] <= ci.lo and ci.hi <= eq[1] else INCONCLUSIVE
    on_papers_side = (ci.mean - rule.null) * rule.direction > 0
    if not on_papers_side:
        return NOT_REPRODUCED
    lo, hi = sorted(rule.band)
    return REPRODUCED if ci.hi >= lo and ci.lo <= hi else PARTLY


# ------------------------------------------------------------------------------- p-values, Holm

def _betacf(a, b, x):
    """Continued fraction of the regularized incomplete beta function (Numerical Recipes' betacf)."""
    qab, qap, qam, c, d = a + b, a + 1, a - 1, 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > 1e-300 else 1e-300)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1 + aa * d
            d = 1 / (d if abs(d) > 1e-300 else 1e-300)
            c = 1 + aa / c
            c = c if abs(c) > 1e-300 else 1e-300
            h *= d * c
        if abs(d * c - 1) < 1e-12:
            break
    return h


def _betainc(a, b, x):
    if x <= 0 or x >= 1:
        return 0.0 if x <= 0 else 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x))
    return front * _betacf(a, b, x) / a if x < (a + 1) / (a + b + 2) else 1 - front * _betacf(b, a, 1 - x) / b


def t_test_p(values, null=0.0) -> float:
    """Two-sided p-value of the one-sample t-test of mean(values) = null (paired differences)."""
    xs = [float(v) for v in values]
    n = len(xs)
    if n < 2:
        return 1.0
    mean = sum(xs) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    if sd == 0:
        return 0.0 if mean != null else 1.0
    t = (mean - null) / (sd / math.sqrt(n))
    df = n - 1
    return _betainc(df / 2, 0.5, df / (df + t * t))


def holm(pvalues: dict, alpha=0.05) -> dict:
    """{name: rejected?} by Holm's step-down procedure: family-wise error alpha over the comparisons."""
    out, order = {}, sorted(pvalues, key=pvalues.get)
    for i, name in enumerate(order):
        if pvalues[name] > alpha / (len(order) - i):
            out.update({rest: False for rest in order[i:]})
            break
        out[name] = True
    return out


@dataclass
class Effect:
    """A paired effect's per-seed values summarized for its rule, on the rule's scale (log for a ratio)."""
    ci: Interval          # mean and 95% interval (exponentiated back for a ratio); None without values
    p: float              # t-test of no effect; None under 2 values
    sd: float             # seed-to-seed SD (NaN under 2 values)
    margin: float         # the equivalence margin's half-width; None where the rule has none


def measure_effect(values, rule: Rule) -> Effect:
    """Interval, p-value, SD and margin of one comparison's per-seed effects, each once."""
    xs = [math.log(v) for v in values] if rule.ratio else list(values)
    null = math.log(rule.null) if rule.ratio else rule.null
    ci = ((mean_ci_log if rule.ratio else mean_ci)(values)) if xs else None
    mean = sum(xs) / len(xs) if xs else math.nan
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) >= 2 else math.nan
    eq = rule.equivalence()
    margin = ((math.log(eq[1]) if rule.ratio else eq[1]) - null) if eq else None
    return Effect(ci, t_test_p(xs, null) if len(xs) >= 2 else None, sd, margin)


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
