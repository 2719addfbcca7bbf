"""Fix every n of the cpu-regime scale before any of its runs (issue 20): results/benchmarks/regime_plan.json.

The seed SD of a paired effect is the family's, pooled: every committed cpu-scale result (the cpu pilots and their
confirmations) of every deciding comparison between two arms contributes its per-seed effects about its own mean
(one pooled variance of "the same net trained two ways, seed by seed", 70+ degrees of freedom, where one
comparison's 4 seeds would give 3); the comparison of one net with itself (D2's 10 views against the centre crop)
pools only with itself. The SD is taken at its upper 80% confidence bound, and n is the fewest seeds that find an
effect of the rule's equivalence margin with 80% power at Holm's first step over the claim's deciding comparisons
(verdict.seeds_for_power). A claim's n is the most its comparisons need, at least MIN_SEEDS and at most MAX_SEEDS
(what a 2-core campaign over a few sessions can train): a comparison capped there records the effect it has 80%
power for at MAX_SEEDS, declared here, before its runs.

The SDs come from 15-epoch runs; the regime trains longer, so its SDs may differ: hence the bound, and each
result shows its realised SD. The file is written by this script alone, once.

    python scripts/plan_regime.py [--check]
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from alexnet_repro import claims  # noqa: E402
from alexnet_repro.claims import contract
from alexnet_repro.claims.family import arms  # noqa: E402
from alexnet_repro.results import atomic_write_json, git_commit, load_result  # noqa: E402
from alexnet_repro.verdict import measure_effect, sd_upper, seeds_for_power  # noqa: E402

MIN_SEEDS = 4  # the fewest a claim runs, whatever its power: a t-interval from fewer says little
MAX_SEEDS = 24  # the most: ~190 runs of 5-10 min (60 epochs, bf16), some 20 core-hours over several sessions
PLAN = Path(__file__).resolve().parent.parent / "results" / "benchmarks" / "regime_plan.json"


def committed_effects(comp):
    """Every committed cpu-scale per-seed effect list of `comp` (same arms and metric; a comparison of one arm with
    itself, D2's test half, by its label), one list per result."""
    found = []
    for slug, mod in claims.registry().items():
        if not claims.has_confirmation(mod):
            continue
        for scale in ("cpu", claims.CONFIRMATION):
            result = load_result(slug, scale)
            for c in (result or {}).get("comparisons", []):
                same = (
                    c["label"] == comp.label
                    if comp.treatment == comp.control
                    else (c["treatment"], c["control"], c["metric"])
                    == (comp.treatment.name, comp.control.name, comp.metric)
                )
                values = [v for v in c.get("per_seed", []) if math.isfinite(v)]
                if same and len(values) >= 2:
                    found.append({"result": f"{slug}/{scale}", "per_seed": values})
    unique = {tuple(f["per_seed"]): f for f in found}  # one claim's shared comparison seen from another: once
    return list(unique.values())


def pooled_sd(groups, ratio):
    """The SD pooled over groups, each about its own mean (on log scale for a ratio), and its degrees of freedom."""
    ss, df = 0.0, 0
    for g in groups:
        xs = [math.log(v) for v in g["per_seed"]] if ratio else g["per_seed"]
        mean = sum(xs) / len(xs)
        ss += sum((x - mean) ** 2 for x in xs)
        df += len(xs) - 1
    return (math.sqrt(ss / df), df) if df else (math.nan, 0)


def detectable(n, sd, comparisons, target=0.8):
    """The smallest effect found with power `target` by n seeds at this SD (Holm's first step)."""
    from alexnet_repro.verdict import power

    lo, hi = 0.0, 20 * sd
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if power(n, sd, mid, 0.05 / comparisons) >= target else (mid, hi)
    return hi


def plan():
    family = {slug: mod for slug, mod in claims.registry().items() if claims.has_confirmation(mod)}
    deciding = {
        slug: [c for c in arms.comparisons(mod, claims.REGIME) if c.decides and not c.not_testable]
        for slug, mod in family.items()
    }
    pools = {"between arms": {}, "one net two ways": {}}
    for comps in deciding.values():
        for comp in comps:
            pool = pools["one net two ways" if comp.treatment == comp.control else "between arms"]
            pool.update({g["result"] + ": " + comp.label: g for g in committed_effects(comp)})
    sds = {name: pooled_sd(list(groups.values()), ratio=False) for name, groups in pools.items()}
    out = {
        "scale": claims.REGIME,
        "epochs": arms.REGIME_EPOCHS,
        "protocol": 3,
        "min_seeds": MIN_SEEDS,
        "max_seeds": MAX_SEEDS,
        "power": 0.8,
        "pooled_sd": {
            name: {"sd": sd, "df": df, "sd_upper_80": sd_upper(sd, df), "from": sorted(pools[name])}
            for name, (sd, df) in sds.items()
        },
        "claims": {},
    }
    for slug, comps in deciding.items():
        rows = []
        for comp in comps:
            rule = contract.rule_for(family[slug], comp.label)
            if rule.ratio:
                raise SystemExit(f"{slug}: {comp.label} is a ratio; the pooled SD is of differences in points")
            sd, df = sds["one net two ways" if comp.treatment == comp.control else "between arms"]
            margin = measure_effect([], rule).margin
            n = seeds_for_power(sd, margin, sd_df=df, comparisons=len(comps))
            row = {"label": comp.label, "margin": margin, "holm_comparisons": len(comps), "n": n}
            if n is None or n > MAX_SEEDS:
                row["capped_at"] = MAX_SEEDS
                row["detectable_at_cap"] = detectable(MAX_SEEDS, sd_upper(sd, df), len(comps))
            rows.append(row)
        n = min(MAX_SEEDS, max(MIN_SEEDS, *(r["n"] or MAX_SEEDS for r in rows)))
        out["claims"][slug] = {"n": n, "comparisons": rows}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed plan differs from today's")
    args = parser.parse_args()
    new = plan()
    if args.check:
        old = json.loads(PLAN.read_text()) if PLAN.exists() else {}
        same = {k: v["n"] for k, v in old.get("claims", {}).items()} == {k: v["n"] for k, v in new["claims"].items()}
        print("the committed plan is today's" if same else "the committed plan differs from today's")
        raise SystemExit(0 if same else 1)
    if PLAN.exists():
        raise SystemExit(f"{PLAN} exists: the regime's n are fixed once, before its runs; it is never rewritten")
    new["declared"] = {"git_commit": git_commit(), "date": time.strftime("%Y-%m-%dT%H:%M:%S")}
    atomic_write_json(PLAN, new)
    report(new)


def report(plan_):
    for name, p in plan_["pooled_sd"].items():
        print(f"pooled SD, {name}: {p['sd']:.3f} points (df {p['df']}), upper 80% bound {p['sd_upper_80']:.3f}")
    for slug, c in plan_["claims"].items():
        print(
            f"{slug:<18} n = {c['n']:>3}   "
            + "; ".join(
                f"{r['label']}: margin {r['margin']:.2f} -> {r['n']}"
                + (
                    f" (capped at {r['capped_at']}: 80% power for {r['detectable_at_cap']:.2f} points)"
                    if "capped_at" in r
                    else ""
                )
                for r in c["comparisons"]
            )
        )


if __name__ == "__main__":
    main()
