"""What the book reads from results/: one Entry per claim and scale, each with its comparisons.

Written against result.json protocol v2 (`protocol: 2`: a `comparisons` list, `verdict`, `reason`,
`looks`, `provenance.code_version`). A result written before v2 still shows: its comparisons are
derived from `measured.comparisons` (the ablation family) or from the measured effect its headline
reports, its direction from its verdict rule, its reason from the verdict's own rule.
"""

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import claims, results, staleness
from ..fmt import fmt_interval
from ..paths import results_root

# Smoke results are for tests, not for readers.
SHOWN_SCALES = ("paper", "gpu", claims.REGIME, claims.GPU_REGIME, "cpu", claims.CONFIRMATION, "imagenette")


@dataclass
class MeasuredComparison:
    """One measured effect, as result.json protocol v2 states it."""

    label: str
    kind: str = "difference"  # "difference" | "ratio"
    unit: str = "points"  # "points" | "x"
    paper: float | None = None
    margin: float | None = None
    direction: int = 0  # +1 / -1: the side of no effect the paper claims; 0: not stated
    effect: dict | None = None  # {mean, lo, hi, n}
    per_seed: list = field(default_factory=list)
    verdict: str = ""
    reason: str = ""
    seeds_needed: int | None = None
    decides: bool = True

    @property
    def null(self) -> float:
        return 1.0 if self.kind == "ratio" else 0.0

    def opposite(self, ends=("mean",)) -> bool:
        """The mean (or all of `ends`) lies on the other side of no effect from the paper's claim."""
        return bool(self.effect and self.direction) and all(
            (self.effect[k] - self.null) * self.direction < 0 for k in ends
        )

    def opposite_resolved(self) -> bool:
        """The whole 95% interval lies on the other side of no effect from the paper's claim: the other way, and not
        by chance at this interval."""
        return self.opposite(("lo", "hi"))


@dataclass
class Entry:
    """One result: a claim at a scale (a result checking several ids gives one Entry per id)."""

    claim_id: str
    slug: str
    scale: str
    title: str
    verdict: str
    reason: str
    proxy: bool
    result: dict
    folder: Path
    comparisons: list
    measured_text: str  # the headline, or for a check its measured text

    @property
    def page(self) -> str:
        return f"claims/{self.slug}-{self.scale}"


def load_entries(root=None) -> list:
    """Every shown result under results/ in the registry's order, as Entries."""
    out = []
    for slug in claims.registry():
        for scale in SHOWN_SCALES:
            folder = Path(root or results_root()) / slug / scale
            if (folder / "result.json").exists():
                out += entries_of(results.read_result(folder / "result.json"), folder)
    return out


def _base(res: dict, folder) -> dict:
    return dict(
        slug=res["claim"],
        scale=res["scale"],
        title=res.get("title", res["claim"]),
        proxy=bool(res.get("proxy")),
        result=res,
        folder=Path(folder),
    )


def page_entry(res: dict, folder) -> Entry:
    """The result as a whole: what its page shows at the top."""
    return Entry(
        claim_id=res["claim_id"],
        verdict=res["verdict"],
        reason=reason_of(res),
        comparisons=comparisons_of(res),
        measured_text=results.headline_of(res),
        **_base(res, folder),
    )


def entries_of(res: dict, folder) -> list:
    """The result's rows on the scoreboard: one, or one per paper id for a result of several checks."""
    if res.get("checks"):  # the architecture claim: one verdict per paper id, no effect sizes
        return [
            Entry(
                claim_id=c["id"],
                verdict=c["verdict"],
                reason=c.get("reason", ""),
                comparisons=[],
                measured_text=c["measured"],
                **_base(res, folder),
            )
            for c in res["checks"]
        ]
    return [page_entry(res, folder)]


def comparisons_of(res: dict) -> list:
    if res.get("protocol", 1) >= 2:
        return [
            MeasuredComparison(**{k: c.get(k) for k in MeasuredComparison.__dataclass_fields__ if k in c})
            for c in res.get("comparisons", [])
        ]
    return _v1_comparisons(res)


# --- results written before protocol v2 ----------------------------------------------------------------

# Effects a v1 result stored at the top of `measured`: key -> (label, kind, the paper's key, per-seed key).
_V1_EFFECTS = {
    "speedup": ("epochs to 25% training error, tanh / ReLU", "ratio", "speedup", "speedup_per_seed"),
    "top1_effect": ("top-1 error, 10 patches - centre crop", "difference", "top1_effect", None),
    "top5_effect": ("top-5 error, 10 patches - centre crop", "difference", "top5_effect", None),
    "effect_ten_view": ("test error, LRN - none (10 views)", "difference", "effect", None),
    "effect": ("effect", "difference", "effect", None),
}


def _v1_comparisons(res: dict) -> list:
    measured, paper, rule = res.get("measured", {}), res.get("paper", {}), res.get("verdict_rule", "")
    out = []
    for label, c in (measured.get("comparisons") or {}).items():  # the ablation family
        kind = "ratio" if c.get("ratio") else "difference"
        out.append(
            MeasuredComparison(
                label=label,
                kind=kind,
                unit="x" if kind == "ratio" else "points",
                paper=c.get("paper"),
                direction=_v1_direction(rule, label, c.get("paper"), kind),
                effect=_interval(c.get("effect")),
                per_seed=c.get("per_seed", []),
                verdict=c.get("verdict", ""),
                seeds_needed=c.get("seeds_to_resolve_paper_size"),
                decides=c.get("decides", True),
            )
        )
    if out:
        return out
    for key, (label, kind, paper_key, seeds_key) in _V1_EFFECTS.items():
        value = measured.get(key)
        if not isinstance(value, dict) or ("per_seed" not in value and "mean" not in value):
            continue
        p = paper.get(paper_key)
        p = p if isinstance(p, (int, float)) else None
        out.append(
            MeasuredComparison(
                label=label,
                kind=kind,
                unit="x" if kind == "ratio" else "points",
                paper=p,
                direction=_v1_direction(rule, None, p, kind),
                effect=_interval(value),
                per_seed=measured.get(seeds_key) or value.get("per_seed", []),
                verdict=res["verdict"] if not out else "",
                decides=not out,
            )
        )
    return out


def _interval(d):
    return {k: d[k] for k in ("mean", "lo", "hi", "n")} if isinstance(d, dict) and "lo" in d else None


def _v1_direction(rule: str, label, paper, kind) -> int:
    """The paper's side as the v1 verdict rule wrote it ("the paper's side is effect < 0.0"), else the
    sign of the paper's number against no effect, else 0 (not stated)."""
    text = rule
    if label is not None and f"[{label}]" in rule:
        text = rule.split(f"[{label}]", 1)[1].split("[", 1)[0]
    m = re.search(r"the paper's side is effect ([<>])", text)
    if m:
        return 1 if m.group(1) == ">" else -1
    if paper is not None:
        null = 1.0 if kind == "ratio" else 0.0
        return (paper > null) - (paper < null)
    return 0


_V1_REASONS = {
    "reproduced": "the 95% interval lies on the paper's side and reaches its size",
    "partly reproduced": "right direction, but the 95% interval misses the paper's size",
    "not reproduced": "the 95% interval lies wholly on the other side of no effect",
    "inconclusive": "the 95% interval covers no effect",
}


def reason_of(res: dict) -> str:
    """The result's one-line reason: v2's own, else the first sentence of a note added by hand after the
    run, else what the v1 rule says its verdict means."""
    if res.get("reason"):
        return res["reason"]
    if res.get("annotation"):
        sentences = [s for s in re.split(r"(?<=\.)\s+", res["annotation"]) if not s.startswith("Added by hand")]
        return "annotated after the run: " + re.sub(r"\s*\(.*?\)", "", sentences[0]).rstrip(".")
    if any(c.decides and c.effect for c in _v1_comparisons(res)):  # the v1 rule's words fit interval verdicts only
        return _V1_REASONS.get(res.get("verdict", ""), "")
    return ""


# --- formatting ---------------------------------------------------------------------------------------


def fmt_number(x: float) -> str:
    """A number for reading: 3 significant digits below 1, 2 decimals below 100, fewer above."""
    if not math.isfinite(x):
        return str(x)
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.1f}"
    if a >= 1 or a == 0:
        return f"{x:.2f}"
    return f"{x:.3g}"


def fmt_effect(c: MeasuredComparison) -> str:
    """'+1.47 points (95% CI -2.06 to -0.88, 3 seeds)' or '3.44x (95% CI 3.14-3.74, 3 seeds)'."""
    return fmt_interval(c.effect, c.kind == "ratio")


def fmt_paper(c: MeasuredComparison) -> str:
    if c.paper is None:
        return "-"
    return f"{c.paper:g}x" if c.kind == "ratio" else f"{c.paper:+g} points"


# --- staleness against the current code ------------------------------------------------------------------


def code_status(res: dict) -> tuple:
    """(commit, status): whether what trains or decides the result changed since it was made (staleness.py, as
    `list` tells it: a result re-read from its own runs by later code is as current as that code)."""
    prov = res.get("provenance", {})
    commit = prov.get("git_commit", "unknown")
    status = {
        "current": "current",
        "stale": "stale: its training code, rule or config changed since",
        "unknown": "unknown (no commit of this clone's history recorded)",
    }[staleness.staleness(res)]
    if status == "current" and prov.get("reread"):
        status = "current (re-read from its own runs by today's code)"
    if commit.endswith("+dirty"):
        status += "; run from uncommitted changes"
    return commit, status
