"""Verdicts from numbers, by one rule shared by every claim: an effect's mean and 95% Student-t interval over seeds
(for a ratio, on its log) read against what the claim stated before any run: the value of "no effect", the paper's
direction, the band of the paper's sizes and an equivalence margin. Each verdict and when: book/method.md.
"""

import math
from dataclasses import asdict, dataclass

from scipy import stats

REPRODUCED, PARTLY, NOT_REPRODUCED, INCONCLUSIVE = ("reproduced", "partly reproduced", "not reproduced", "inconclusive")
NO_EFFECT, NOT_TESTABLE, INCONSISTENT, PLUMBING = (
    "no effect at this scale",
    "not testable at this scale",
    "the paper is inconsistent",
    "plumbing check (no verdict)",
)
DIRECTION, MIXED = "direction reproduced", "mixed (the comparisons disagree)"
FINDING = "finding: "  # the prefix of a verdict on a comparison the paper never makes
VERDICTS = (
    REPRODUCED,
    DIRECTION,
    PARTLY,
    NOT_REPRODUCED,
    NO_EFFECT,
    INCONCLUSIVE,
    MIXED,
    NOT_TESTABLE,
    INCONSISTENT,
    PLUMBING,
)
# Why `decide` gave each of its verdicts, in the words results carry.
REASONS = {
    NO_EFFECT: "the interval lies inside the equivalence margin",
    INCONCLUSIVE: "the interval covers no effect and is wider than the margin",
    NOT_REPRODUCED: "the interval lies on the other side of no effect",
    PARTLY: "the direction holds, the size misses the paper's band",
    REPRODUCED: "the interval overlaps the paper's band",
    DIRECTION: "the interval excludes no effect on the paper's side (a proxy decides the direction)",
    MIXED: "the deciding comparisons disagree: each is shown with its own verdict",
}


def t975(df: int) -> float:
    if df < 1:
        raise ValueError("need at least 2 values for an interval")
    return float(stats.t.ppf(0.975, df))


@dataclass
class Interval:
    mean: float
    lo: float
    hi: float
    n: int

    def as_dict(self):
        return asdict(self)


def mean_ci(values) -> Interval:
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
    """On the ratios' logs, mapped back (a geometric mean): a speedup of 2x and of 0.5x are equally far from 1."""
    xs = [float(r) for r in ratios]
    if any(not (math.isfinite(r) and r > 0) for r in xs):
        raise ValueError(f"ratios must be finite and positive, got {xs}")
    ci = mean_ci([math.log(r) for r in xs])
    return Interval(math.exp(ci.mean), math.exp(ci.lo), math.exp(ci.hi), ci.n)


@dataclass
class Rule:
    """What the paper claims, fixed before the run. direction=+1: an effect above null is the paper's side. margin:
    the equivalence margin in the effect's units (for a ratio, a factor m > 1: inside [1/m, m] is "no effect");
    None: half the distance from null to the middle of the band's finite edges (none: no equivalence outcome)."""

    null: float
    direction: int
    band: tuple  # (low, high) sizes that count as the paper's number
    text: str = ""
    margin: float = None
    ratio: bool = False

    def equivalence(self):
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
        eq_text = (
            f"no effect at this scale if it lies inside [{eq[0]:.3g}, {eq[1]:.3g}] (the margin, fixed before the run); "
            if eq
            else ""
        )
        return (self.text or "") + (
            f" No effect = {self.null}; the paper's side is effect {side} {self.null}; "
            f"the paper's size is the band [{self.band[0]}, {self.band[1]}]. "
            + ("The interval is computed on log(ratio). " if self.ratio else "")
            + "Over the 95% interval: "
            + eq_text
            + "inconclusive if fewer than 2 seeds or it covers no effect otherwise; "
            "not reproduced if it lies wholly on the other side; reproduced if it "
            "overlaps the band; partly reproduced otherwise."
        )


def decide(ci: Interval, rule: Rule, significant=None, direction_only=False) -> str:
    """The verdict of one comparison. `significant` (Holm's correction across a claim's comparisons) overrides the
    interval's own test of "excludes no effect". direction_only (a proxy under protocol v3): an effect on the
    paper's side is DIRECTION, whatever its size (size_text states it)."""
    if ci is None or ci.n < 2:
        return INCONCLUSIVE
    excludes = not (ci.lo <= rule.null <= ci.hi) if significant is None else significant
    if not excludes:
        eq = rule.equivalence()
        return NO_EFFECT if eq and eq[0] <= ci.lo and ci.hi <= eq[1] else INCONCLUSIVE
    on_papers_side = (ci.mean - rule.null) * rule.direction > 0
    if not on_papers_side:
        return NOT_REPRODUCED
    if direction_only:
        return DIRECTION
    lo, hi = sorted(rule.band)
    return REPRODUCED if ci.hi >= lo and ci.lo <= hi else PARTLY


def size_text(ci: Interval, rule: Rule, paper=None):
    """The measured size as a multiple of the paper's (its number `paper`, else the middle of the rule's finite
    band), e.g. "2.5 times the paper's effect"; None where the paper gives no size. On log scale for a ratio."""
    edges = [e for e in rule.band if math.isfinite(e)]
    if paper is None and len(edges) == 2:
        paper = math.sqrt(edges[0] * edges[1]) if rule.ratio else sum(edges) / 2
    if ci is None or paper is None or paper == rule.null:
        return None
    to = (lambda v: math.log(v)) if rule.ratio else (lambda v: v)  # noqa: E731
    times = (to(ci.mean) - to(rule.null)) / (to(paper) - to(rule.null))
    return f"{times:.2g} times the paper's effect" if times > 0 else f"{-times:.2g} times the paper's effect, reversed"


@dataclass(frozen=True)
class Protocol:
    """The rules a scale's verdicts follow, fixed before its runs. A rule is never changed once a run under it
    exists: a new rule is a new protocol, and a result records the protocol it was read by."""

    version: int
    late_epochs: int  # converged: the paper's net's last `late_epochs` epochs gain under late_gain_limit
    late_gain_limit: float  # (median over its seeds) points of evaluation error
    overfits_gap: float  # an overfitting claim is testable only where its control's train-test gap reaches this
    direction_only: bool  # a proxy's verdict decides the direction; the size is stated beside it
    mixed: bool  # disagreeing deciding comparisons read MIXED (v2 folded them into partly)


# v2: the cpu (15 epochs), confirmation and imagenette scales (family.arms.protocol_of).
V2 = Protocol(2, late_epochs=1, late_gain_limit=1.0, overfits_gap=2.0, direction_only=False, mixed=False)
# v3: the regime and every later scale: controls that overfit by 8 points (the regime's gap), direction-only
# verdicts on a proxy, no verdict word that hides a half that failed.
V3 = Protocol(3, late_epochs=3, late_gain_limit=1.0, overfits_gap=8.0, direction_only=True, mixed=True)


def combine(verdicts, protocol: Protocol = V2):
    """One verdict for several deciding comparisons of one claim (E5's three layers, BN's two baselines)."""
    if len(set(verdicts)) == 1:
        return verdicts[0]
    if protocol.mixed:
        return MIXED
    if REPRODUCED in verdicts or PARTLY in verdicts:
        return PARTLY
    if NOT_REPRODUCED in verdicts:
        return NOT_REPRODUCED
    if set(verdicts) <= {NO_EFFECT, NOT_TESTABLE}:
        return NO_EFFECT
    return INCONCLUSIVE


def as_finding(verdict: str) -> str:
    """A verdict on a comparison the paper never makes (BN), in words that claim no reproduction: the rule's
    direction is the expectation it was tested against."""
    words = {
        REPRODUCED: "in the expected direction",
        DIRECTION: "in the expected direction",
        PARTLY: "in the expected direction",
        NOT_REPRODUCED: "against the expected direction",
    }
    return FINDING + words.get(verdict, verdict)


def does_not_overfit(gaps, threshold: float, arm: str):
    """Why an overfitting claim is not testable (its control arm's mean train-test gap is under `threshold`
    points); None where it overfits or has no finite gap to judge."""
    gaps = [g for g in gaps if math.isfinite(g)]
    mean = sum(gaps) / len(gaps) if gaps else math.nan
    if gaps and mean < threshold:
        return f"nothing to overfit: the {arm} arm's train-test gap is {mean:.1f} points (needs {threshold:g})"
    return None


# ------------------------------------------------------------------------------- p-values, Holm


def t_test_p(values, null=0.0) -> float:
    xs = [float(v) for v in values]
    if len(xs) < 2:
        return 1.0
    mean = sum(xs) / len(xs)
    if all(x == xs[0] for x in xs):  # no spread: scipy says nan; the data say certain (or no) difference
        return 0.0 if mean != null else 1.0
    return float(stats.ttest_1samp(xs, null).pvalue)


def holm(pvalues: dict, alpha=0.05) -> dict:
    """{name: rejected?}, family-wise error alpha over the comparisons."""
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

    ci: Interval  # mean and 95% interval (exponentiated back for a ratio); None without values
    p: float  # t-test of no effect; None under 2 values
    sd: float  # seed-to-seed SD (NaN under 2 values)
    margin: float  # the equivalence margin's half-width; None where the rule has none


def measure_effect(values, rule: Rule) -> Effect:
    xs = [math.log(v) for v in values] if rule.ratio else list(values)
    null = math.log(rule.null) if rule.ratio else rule.null
    ci = ((mean_ci_log if rule.ratio else mean_ci)(values)) if xs else None
    mean = sum(xs) / len(xs) if xs else math.nan
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) >= 2 else math.nan
    eq = rule.equivalence()
    margin = ((math.log(eq[1]) if rule.ratio else eq[1]) - null) if eq else None
    return Effect(ci, t_test_p(xs, null) if len(xs) >= 2 else None, sd, margin)


def power(n: int, sd: float, effect: float, alpha=0.05) -> float:
    """The power of the two-sided paired t-test with n seeds to find a true effect `effect` of per-seed SD `sd`
    (the noncentral t; the test's 95% interval excludes 0 just when it rejects)."""
    df, nc = n - 1, abs(effect) * math.sqrt(n) / sd
    crit = stats.t.ppf(1 - alpha / 2, df)
    wrong_side = stats.nct.cdf(-crit, df, nc)  # scipy underflows to nan where this is ~0 (a large nc)
    return float(stats.nct.sf(crit, df, nc) + (0.0 if math.isnan(wrong_side) else wrong_side))


def sd_upper(sd: float, df: int, confidence=0.8) -> float:
    """The upper `confidence` bound of a seed SD estimated with df degrees of freedom (chi-square): a pilot's
    SD from few seeds is often too small, and n planned on it would fall short of its power."""
    return sd * math.sqrt(df / stats.chi2.ppf(1 - confidence, df))


def seeds_for_power(sd: float, margin: float, limit=1000, alpha=0.05, target=0.8, sd_df=None, comparisons=1):
    """The fewest seeds at which a paired effect of size `margin` is found with power `target`, given the SD of the
    paired differences, taken at its upper 80% bound where its degrees of freedom `sd_df` are given; comparisons
    > 1: at Holm's first, strictest step. None past `limit` (or for a zero margin or a non-finite SD)."""
    if not margin or not math.isfinite(sd) or sd <= 0:
        return None
    sd = sd_upper(sd, sd_df) if sd_df else sd
    level = alpha / comparisons
    return next((n for n in range(2, limit + 1) if power(n, sd, margin, level) >= target), None)
