"""The effect panel that every claim's figure ends with, and the book's forest plot draws: each comparison's 95%
interval (line) and mean (marker), coloured and shaped by its verdict, its seeds (small dots above), the paper's
number (black diamond), the rule's band of "the paper's size" (green) and the equivalence margin around no effect
(grey). Ratios get a log axis, so that 2x and 0.5x lie equally far from 1.
"""

import math
import textwrap
from dataclasses import dataclass, field

from .verdict import Rule

VERDICT_COLOURS = {
    "reproduced": "#1a7f37",
    "partly reproduced": "#bf8700",
    "not reproduced": "#cf222e",
    "no effect at this scale": "#0969da",
    "the paper is inconsistent": "#8250df",
    "inconclusive": "#6e7781",
    "not testable at this scale": "#afb8c1",
    "plumbing check (no verdict)": "#afb8c1",
    "holds": "#1a7f37",  # the architecture claim's checks of the model against the paper's text
    "does not hold": "#cf222e",
}
OTHER_COLOUR = "#6e7781"
BAND_COLOUR, MARGIN_COLOUR = "#aceebb", "#d0d7de"
# A second encoding beside colour (for readers who do not tell the colours apart, and for print in grey).
MARKERS = {
    "reproduced": "o",
    "partly reproduced": "s",
    "not reproduced": "X",
    "no effect at this scale": "P",
    "inconclusive": "^",
    "not testable at this scale": "v",
}


def colour(verdict: str) -> str:
    return VERDICT_COLOURS.get(verdict, OTHER_COLOUR)


@dataclass
class EffectRow:
    """One comparison as the panel draws it."""

    label: str
    effect: dict | None  # {mean, lo, hi, n}; None: not measured (the row says so)
    rule: Rule | None  # gives the band and margin below unless they are given
    paper: float | None = None
    per_seed: list = field(default_factory=list)
    verdict: str = ""  # "" for a comparison reported beside the verdict
    ratio: bool = False  # a ratio (log axis), else a difference
    band: tuple | None = None
    margin: tuple | None = None

    def __post_init__(self):
        # A comparison reported beside a claim may fall back to the claim's rule of the other kind (M1's time ratio
        # under its difference rule), which says nothing of it.
        if self.rule is not None and bool(self.rule.ratio) == self.ratio:
            self.band = self.band or tuple(sorted(self.rule.band))
            self.margin = self.margin or self.rule.equivalence()


def effect_axes(fig, rows):
    """Draw `rows` into `fig` (a Figure or SubFigure): a panel of differences and/or one of ratios."""
    kinds = [k for k in (False, True) if any(r.ratio == k for r in rows)] or [False]
    for ax, ratio in zip(fig.subplots(1, len(kinds), squeeze=False)[0], kinds):
        effect_panel(ax, [r for r in rows if r.ratio == ratio], ratio)
    key = "Effects. Ours: 95% interval, dots = seeds, coloured and shaped by verdict. The paper: its number (diamond) "
    key += "and the rule's band of its size (green). No effect: the line, within the margin (grey)."
    fig.suptitle(wrap(key, 75), fontsize=8)


def effect_panel(ax, rows, ratio=False):
    null = 1.0 if ratio else 0.0
    n = len(rows)
    xs = [null]
    for r in rows:
        if r.effect and r.effect.get("n"):
            xs += [r.effect["lo"], r.effect["hi"]]
        xs += [*r.per_seed, *(r.band or ()), *(r.margin or ()), *([] if r.paper is None else [r.paper])]
    lo, hi = _limits([x for x in xs if _finite(x, ratio)], ratio)
    for i, r in enumerate(rows):
        y = n - 1 - i
        for span, span_colour in ((r.band, BAND_COLOUR), (r.margin, MARGIN_COLOUR)):
            if span:
                _span(ax, max(span[0], lo), min(span[1], hi), y, span_colour)
        col = colour(r.verdict)
        seeds = [s for s in r.per_seed if _finite(s, ratio)]
        ax.scatter(seeds, [y + 0.22] * len(seeds), s=12, color=col, alpha=0.6, linewidths=0, zorder=3)
        e = r.effect
        if e and e.get("n"):
            ax.plot([e["lo"], e["hi"]], [y, y], color=col, linewidth=2.4, solid_capstyle="butt", zorder=4)
            marker = MARKERS.get(r.verdict, "o")
            ax.scatter([e["mean"]], [y], s=60, color=col, marker=marker, edgecolors="white", zorder=5)
        else:
            ax.text(null, y, "  not measured", va="center", fontsize=8, color=OTHER_COLOUR)
        if r.paper is not None:
            ax.scatter([r.paper], [y], marker="D", s=36, color="black", zorder=6)
    ax.axvline(null, color="black", linewidth=0.9)
    ax.set_xlim(lo, hi)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_yticks(range(n), [wrap(r.label) for r in reversed(rows)], fontsize=8)
    if ratio:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=2))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
        ax.set_xlabel("effect, ratio (log scale)", fontsize=9)
    else:
        ax.set_xlabel("effect (points)", fontsize=9)
    ax.grid(axis="x", color="#eaeef2")
    ax.set_axisbelow(True)


def _finite(x, ratio):
    return isinstance(x, (int, float)) and math.isfinite(x) and (x > 0 or not ratio)


def _limits(xs, ratio):
    """The x range holding every value, padded by 8% (on the log scale for ratios)."""
    t = [math.log(x) for x in xs] if ratio else list(xs)
    lo, hi = min(t), max(t)
    pad = 0.08 * (hi - lo) or 0.5
    lo, hi = lo - pad, hi + pad
    return (math.exp(lo), math.exp(hi)) if ratio else (lo, hi)


def _span(ax, x0, x1, y, col):
    from matplotlib.patches import Rectangle

    if x1 > x0:
        ax.add_patch(Rectangle((x0, y - 0.4), x1 - x0, 0.8, color=col, alpha=0.6, linewidth=0, zorder=1))


def wrap(label, width=34):
    return "\n".join(textwrap.wrap(label, width)) or label
