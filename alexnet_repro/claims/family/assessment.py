"""How the family reads its runs into verdicts: convergence and chance (which a run records), the not-testable
checks, each comparison's effect, interval and verdict by its scale's protocol, and the re-reading of committed
results from their own per-run tables (nothing rerun)."""

import math
from pathlib import Path

import pandas as pd

from ...engine import TRAINING_VERSION
from ...fmt import fmt_interval
from ...results import read_result, write_reread
from ...verdict import (
    DIRECTION,
    INCONCLUSIVE,
    NOT_TESTABLE,
    PLUMBING,
    REASONS,
    V2,
    as_finding,
    combine,
    decide,
    does_not_overfit,
    holm,
    measure_effect,
    seeds_for_power,
    size_text,
    summarize,
)
from .. import CONFIRMATION, contract
from ..contract import Assessment, Trained, scale_config, value
from .arms import PAPER, SCALES, VERSIONED_SCALES, arms_of, comparisons, pilot_of, protocol_of

CONVERGED_WITHIN = 0.01  # 1 point of validation top-1 error
# A net must get this many points of top-1 error below chance to count as having learned anything
# (added after D2's first gpu-scale run, whose nets all stayed at chance: a check on the net, not a rule).
LEFT_CHANCE_BY = 5.0


def left_chance(top1_error, n_classes):
    """Whether a net's top-1 error (%) is LEFT_CHANCE_BY points below chance; NaN (diverged) is not."""
    return bool(top1_error < 100 * (1 - 1 / n_classes) - LEFT_CHANCE_BY)


# Convergence: a run has reached its end point when its last `late_epochs` epochs gained less than
# `late_gain_limit` points of evaluation error (late_gain), by the protocol of its scale (verdict.Protocol).
LATE_GAIN_LIMIT = V2.late_gain_limit  # v2's, which L3 (lrn_cifar) reads by


def late_gain(val_errors, epochs=V2.late_epochs):
    """Points of evaluation error gained over the last `epochs` epochs (positive: still improving)."""
    k = min(epochs, len(val_errors) - 1)
    return 100 * (val_errors[-1 - k] - val_errors[-1]) if k > 0 else math.nan


def not_converged(gains, net, protocol=V2):
    """The reason a comparison is not testable where `net` had not converged: the median (upper middle) of its
    runs' late gains reaches the protocol's limit. None otherwise. NaN gains (diverged runs) are left out."""
    gains, k = sorted(g for g in gains if math.isfinite(g)), protocol.late_epochs
    if gains and gains[len(gains) // 2] >= protocol.late_gain_limit:
        return (
            f"not converged: {net} still gained {gains[len(gains) // 2]:.1f} points of error over its last "
            f"{'epoch' if k == 1 else f'{k} epochs'} (limit {protocol.late_gain_limit})"
        )
    return None


def converged_epoch(val_errors):
    """First epoch (1-based) whose validation error is within CONVERGED_WITHIN of the run's best."""
    best = min(val_errors)
    return next(i + 1 for i, e in enumerate(val_errors) if e <= best + CONVERGED_WITHIN)


# The version of the code that turns the family's runs into verdicts: assess and what it calls here (effects,
# Holm, the not-testable checks, convergence, the seeds a comparison needs). Staleness reads this number, not the
# code's text, so that moving the code is no change (staleness.py). Bump it with any change that alters what a
# committed result reads to; tests/test_ablation_claims.py re-reads every committed result from its runs and
# fails until then (then re-read them: scripts/reread_cpu_family.py).
DECISION_VERSION = "2"


def decided_by(mod) -> dict:
    """What decides the family claim `mod` besides its declarations, by value (contract.decided_by)."""
    return {
        "assessment": DECISION_VERSION,
        "scales": {
            scale: {
                "config": value(scale_config(SCALES, scale)),
                "protocol": value(protocol_of(scale)),
                "comparisons": value(comparisons(mod, scale)),
            }
            for scale in VERSIONED_SCALES
        },
    }


def _effects(comparison, by):
    """Per-seed effect of one comparison over the seeds both arms have."""
    t, c, m = comparison.treatment.name, comparison.control.name, comparison.metric
    tm = comparison.treatment_metric or m
    seeds = sorted(s for (a, s) in by if a == t and (c, s) in by)
    pairs = [(by[(t, s)][tm], by[(c, s)][m]) for s in seeds]
    return [a / b if comparison.ratio else a - b for a, b in pairs if math.isfinite(a) and math.isfinite(b)]


def untestable_reason(comp, rows, protocol):
    arms = (comp.treatment.name, comp.control.name)
    at_chance = [f"{r['arm']} seed {r['seed']}" for r in rows if r["arm"] in arms and not r["left_chance"]]
    if at_chance:
        return f"nets never left chance ({', '.join(at_chance)})"
    gains = [r.get("late_gain", math.nan) for r in rows if r["arm"] == PAPER.name]
    if not_yet := not_converged(gains, "the paper's net", protocol):
        return not_yet
    if comp.needs_overfitting:
        gaps = [r["gap"] for r in rows if r["arm"] == comp.control.name]
        return does_not_overfit(gaps, protocol.overfits_gap, comp.control.name)
    return None


# What `measured` summarizes per arm, over its seeds, where its runs record it.
MEASURES = ("val_top1", "val_top5", "val_top1_ten", "val_top5_ten", "train_top1", "gap", "converged_epoch")
MEASURES += ("late_gain", "final_train_loss", "seconds_per_epoch")


def assess(mod, rows, scale):
    """The verdict of a family claim from its per-run rows, by its scale's protocol: each comparison's paired effect
    and 95% interval (on log(ratio) for ratios), Holm's correction over the deciding comparisons, equivalence, and the
    not-testable checks. -> (comparisons list, measured dict, verdict, reason, headline)."""
    protocol, declared = protocol_of(scale), comparisons(mod, scale)
    direction_only = protocol.direction_only and scale != "paper"  # a proxy decides the direction
    in_paper = getattr(mod, "IN_THE_PAPER", True)
    by = {(r["arm"], r["seed"]): r for r in rows}
    rules = {c.label: contract.rule_for(mod, c.label) for c in declared}  # every comparison is measured
    effects = {c.label: _effects(c, by) for c in declared}
    stats = {c.label: measure_effect(effects[c.label], rules[c.label]) for c in declared}
    pvalues = {c.label: stats[c.label].p for c in declared if c.decides and stats[c.label].p is not None}
    significant = holm(pvalues)
    comparisons_out, verdicts, reasons, beside = [], [], [], []
    for comp in declared:
        rule, power, label = rules[comp.label], stats[comp.label], comp.label
        ci, why_not = power.ci, comp.not_testable or untestable_reason(comp, rows, protocol)
        verdict = (
            NOT_TESTABLE
            if why_not
            else decide(ci, rule, significant.get(label) if len(pvalues) > 1 else None, direction_only=direction_only)
        )
        eq = rule.equivalence()
        holm_only = (
            len(pvalues) > 1
            and ci is not None
            and not significant.get(label, False)
            and not (ci.lo <= rule.null <= ci.hi)
        )
        reason = why_not or (
            f"not significant after Holm's correction over {len(pvalues)} comparisons "
            f"(p = {pvalues.get(label, math.nan):.3f})"
            if verdict == INCONCLUSIVE and holm_only
            else REASONS[verdict]
        )
        size = size_text(ci, rule, comp.paper) if verdict == DIRECTION else None
        if size:
            reason = f"{reason}; {size}"
        if not in_paper and protocol.version >= 3:
            verdict = as_finding(verdict)
        seeds_needed = None
        if power.margin and verdict == INCONCLUSIVE:  # v3: the SD at its upper bound, Holm's strictest step
            v3 = dict(sd_df=len(effects[label]) - 1, comparisons=len(pvalues)) if protocol.version >= 3 else {}
            seeds_needed = seeds_for_power(power.sd, power.margin, **v3)
        comparisons_out.append(
            {
                "label": label,
                "treatment": comp.treatment.name,
                "control": comp.control.name,
                "metric": comp.metric,
                "kind": "ratio" if comp.ratio else "difference",
                "unit": "x" if comp.ratio else "points",
                "paper": comp.paper,
                "margin": (eq[1] - rule.null) if eq else None,
                "equivalence": list(eq) if eq else None,
                "direction": rule.direction,
                "effect": ci.as_dict() if ci else None,
                "per_seed": effects[label],
                "p_value": pvalues.get(label),
                "holm_significant": significant.get(label),
                "verdict": verdict,
                "reason": reason,
                "decides": comp.decides,
                "seeds_needed": seeds_needed,
            }
        )
        if comp.decides:
            verdicts.append(verdict)
            named = f"{label}: " + (f"{verdict}, " if protocol.mixed else "") if len(declared) > 1 else ""
            reasons.append(named + reason)
        else:  # reported beside the verdict: its outcome is named with it, so the verdict hides no half
            beside.append(f"{label} (beside the verdict, not deciding it): {verdict}, {reason}")
    arms = arms_of(declared)
    measured = {
        "arms": {
            a.name: {
                k: summarize(r[k] for r in rows if r["arm"] == a.name)
                for k in MEASURES
                if any(k in r for r in rows if r["arm"] == a.name)
            }
            for a in arms
        },
        "runs_at_chance": [f"{r['arm']}, seed {r['seed']}" for r in rows if not r["left_chance"]],
    }
    verdict = combine(verdicts, protocol) if scale != "smoke" else PLUMBING
    reason = "a smoke run checks the code runs; it tests no claim" if scale == "smoke" else "; ".join(reasons + beside)
    headline = "; ".join(
        (f"{c['label']}: " if len(comparisons_out) > 1 else "") + fmt_interval(c["effect"], c["kind"] == "ratio")
        for c in comparisons_out
    )
    return comparisons_out, measured, verdict, reason, headline


def assessment(mod, trained: Trained, scale) -> Assessment:
    comparisons, measured, verdict, reason, headline = assess(mod, trained.rows, scale)
    fields = {"comparisons": comparisons, "reason": reason, "protocol": protocol_of(scale).version}
    if scale == CONFIRMATION:  # decided on its own runs alone; the pilot stands beside it
        fields["pilot"] = pilot_of(mod)
        note = (
            f"the confirmation's only look: fresh seeds {trained.seeds[0]}-{trained.seeds[-1]}, as many as the "
            "pilot's seeds_needed, declared in book/method.md before its runs"
        )
        fields["looks"] = [contract.look(trained.seeds, verdict, note)]
    return Assessment(
        verdict, headline, measured, verdict_rule(mod, scale), paper=dict(mod.PAPER_NUMBERS), fields=fields
    )


def verdict_rule(mod, scale="cpu"):
    protocol, declared = protocol_of(scale), comparisons(mod, scale)
    deciding = sum(c.decides for c in declared)
    v3 = ""
    if protocol.version >= 3:
        v3 = (
            " Protocol v3: on a proxy the verdict decides the direction ('direction reproduced') and the size is "
            "stated as a multiple of the paper's; comparisons that disagree make the claim 'mixed', each shown with "
            "its own verdict"
        ) + (
            "."
            if getattr(mod, "IN_THE_PAPER", True)
            else "; the paper makes no such claim, so the verdict is a finding."
        )
    return (
        " ".join(f"[{c.label}] " + contract.rule_for(mod, c.label).describe() for c in declared if c.decides)
        + (f" Holm's correction over the {deciding} deciding comparisons." if deciding > 1 else "")
        + (
            f" Not testable (fixed before the runs): a run never left chance (within {LEFT_CHANCE_BY} points of it), "
            f"the paper's net still gaining {protocol.late_gain_limit}+ points over its last {protocol.late_epochs} "
            f"epochs, or, for overfitting claims, a control gap under {protocol.overfits_gap:g} points."
        )
        + v3
    )


def reread(mod, folder):
    """Decide a committed family result again, by today's code, from its own per-run table (nothing rerun or
    retyped), for a result whose assessing code changed since its runs (results.write_reread keeps their provenance
    and records the re-reading beside it; a verdict that changes is a look of its own)."""
    folder = Path(folder)
    old = read_result(folder / "result.json")
    trained_by = old["provenance"].get("training_version")
    if trained_by not in (None, TRAINING_VERSION):
        raise ValueError(
            f"{folder}: its runs were trained by training version {trained_by}, today's is "
            f"{TRAINING_VERSION}: rerun the claim instead"
        )
    rows = pd.read_csv(folder / "seeds.csv").to_dict("records")
    comparisons, measured, verdict, reason, headline = assess(mod, rows, old["scale"])
    fields = dict(measured=measured, comparisons=comparisons, headline=headline, verdict=verdict, reason=reason)
    return write_reread(
        folder,
        old,
        {**fields, "verdict_rule": verdict_rule(mod, old["scale"])},
        decision_version=contract.decision_version(mod),
        n_seeds=len(old["provenance"]["seeds"]),
        why=": the verdict changed",
        training_version=trained_by
        or f"not recorded in the result; runs_trained_at names the commits "
        f"that trained its runs (today's training version {TRAINING_VERSION})",
    )
