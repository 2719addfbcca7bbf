"""What the book reads from results/: one Entry per claim and scale, each with its comparisons. A result written
before protocol v2 (no `comparisons` list) shows the one effect its `measured` holds, with the direction its
verdict rule states.
"""

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import claims, results, staleness
from ..fmt import fmt_interval
from ..paths import results_root
from .standing import AUTHORITY, HISTORY


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

    def side(self, end: str) -> float:
        """> 0 where effect[end] ("mean", "lo", "hi") lies on the paper's side of no effect, < 0 on the other."""
        return (self.effect[end] - self.null) * self.direction

    def opposite(self, ends=("mean",)) -> bool:
        """The mean (or all of `ends`) lies on the other side of no effect from the paper's claim."""
        return bool(self.effect and self.direction) and all(self.side(k) < 0 for k in ends)

    def opposite_resolved(self) -> bool:
        """The whole 95% interval lies on the other side: the other way, and not by chance at this interval."""
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
    """Every shown result under results/ in the registry's order, as Entries: one per result, or one per paper id
    for a result of several checks (the architecture claim: a verdict per id, no effect sizes)."""
    out = []
    for slug in claims.registry():
        for scale in AUTHORITY + HISTORY:  # not smoke: its results are for tests, not for readers
            folder = Path(root or results_root()) / slug / scale
            if (folder / "result.json").exists():
                res = results.read_result(folder / "result.json")
                out += [page_entry(res, folder, check) for check in res.get("checks") or [None]]
    return out


def page_entry(res: dict, folder, check=None) -> Entry:
    """The result as a whole (what its page shows at the top), or one of its checks."""
    return Entry(
        claim_id=check["id"] if check else res["claim_id"],
        slug=res["claim"],
        scale=res["scale"],
        title=res.get("title", res["claim"]),
        verdict=check["verdict"] if check else res["verdict"],
        reason=check.get("reason", "") if check else reason_of(res),
        proxy=bool(res.get("proxy")),
        result=res,
        folder=Path(folder),
        comparisons=[] if check else comparisons_of(res),
        measured_text=check["measured"] if check else results.headline_of(res),
    )


# The effect a v1 result stored in `measured` (its seeds under `<key>_per_seed` or in it): key -> (label, kind,
# the paper's key).
_V1_EFFECTS = {
    "speedup": ("epochs to 25% training error, tanh / ReLU", "ratio", "speedup"),
    "effect_ten_view": ("test error, LRN - none (10 views)", "difference", "effect"),
    "effect": ("effect", "difference", "effect"),
}
_V1_REASONS = {
    "reproduced": "the 95% interval lies on the paper's side and reaches its size",
    "partly reproduced": "right direction, but the 95% interval misses the paper's size",
    "not reproduced": "the 95% interval lies wholly on the other side of no effect",
    "inconclusive": "the 95% interval covers no effect",
}


def comparisons_of(res: dict) -> list:
    if res.get("protocol", 1) >= 2:
        return [
            MeasuredComparison(**{k: c.get(k) for k in MeasuredComparison.__dataclass_fields__ if k in c})
            for c in res.get("comparisons", [])
        ]
    measured = res.get("measured", {})
    for key, (label, kind, paper_key) in _V1_EFFECTS.items():
        value = measured.get(key)
        if isinstance(value, dict) and ("per_seed" in value or "mean" in value):
            paper = res.get("paper", {}).get(paper_key)
            side = re.search(r"the paper's side is effect ([<>])", res.get("verdict_rule", ""))
            return [
                MeasuredComparison(
                    label=label,
                    kind=kind,
                    unit="x" if kind == "ratio" else "points",
                    paper=paper if isinstance(paper, (int, float)) else None,
                    direction={">": 1, "<": -1}[side.group(1)] if side else 0,
                    effect={k: value[k] for k in ("mean", "lo", "hi", "n")} if "lo" in value else None,
                    per_seed=measured.get(f"{key}_per_seed") or value.get("per_seed", []),
                    verdict=res["verdict"],
                )
            ]
    return []


def reason_of(res: dict) -> str:
    """The result's one-line reason: v2's own, else what the v1 rule says its verdict means (of an interval)."""
    if res.get("reason"):
        return res["reason"]
    if any(c.effect for c in comparisons_of(res)):
        return _V1_REASONS.get(res.get("verdict", ""), "")
    return ""


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
    """'-1.47 points (95% CI -2.06 to -0.88, 3 seeds)' or '3.44x (95% CI 3.14-3.74, 3 seeds)'."""
    return fmt_interval(c.effect, c.kind == "ratio")


def fmt_paper(c: MeasuredComparison) -> str:
    if c.paper is None:
        return "-"
    return f"{c.paper:g}x" if c.kind == "ratio" else f"{c.paper:+g} points"


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
