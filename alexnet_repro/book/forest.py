"""The summary's overview figure: a forest plot of each claim's deciding comparisons (book/standing.py), one panel
per scale and kind of effect (differences; ratios on a log axis), each with its own limits. Effects are signed so
that the paper's claim points right (the summary page's text says what each mark is). SVG: sharp at any zoom.
"""

import math
from dataclasses import replace

from .. import claims
from ..claims.contract import rule_for
from ..figures import (
    BAND_COLOUR,
    MARGIN_COLOUR,
    MARKERS,
    VERDICT_COLOURS,
    EffectRow,
    _finite,
    colour,
    effect_panel,
    wrap,
)
from .standing import FINDINGS, deciding_entries, rank

# Differences beyond this many points (Q2's precision gain) get a panel of their own, so that they do not squeeze
# the paper's 0.4-2 point effects into a sliver of the axis.
LARGE = 10.0


def rows(entries):
    """(panel key (scale, kind, large), label, entry, comparison, verdict) for every deciding comparison of a deciding
    result that has an interval, R1 first (the paper's order); and (label, reason) for those without one."""
    plotted, skipped = [], []
    for cid, e in deciding_entries(entries).items():
        for c in e.comparisons:
            if not c.decides:
                continue
            what = f" · {c.label if c.label != 'effect' else e.title}"
            label = f"{cid}{' (not in the paper)' if cid in FINDINGS else ''}{what}"
            if c.effect and c.effect.get("n", 0) > 1 and c.direction and not e.result.get("annotation"):
                ends = [c.effect["lo"], c.effect["hi"]] + ([c.paper] if c.paper is not None else [])
                large = c.kind == "difference" and max(map(abs, ends)) > LARGE
                plotted.append(((e.scale, c.kind, large), label, e, c, c.verdict or e.verdict))
            else:
                why = c.reason or (e.reason if e.result.get("annotation") else "")
                if not c.direction and c.effect:
                    why = why or "the paper states no direction to sign it by"
                skipped.append((f"{label} ({e.scale})", why or "no 95% interval to plot (see its page)"))
    return plotted, skipped


def _oriented_row(label, e, c, verdict) -> EffectRow:
    """The comparison as figures.effect_panel draws it, signed so that the paper's side is > no effect (a ratio's
    reciprocal where the paper claims < 1). A one-sided band ("any effect that way") is no size: not drawn."""
    mod = claims.registry().get(e.slug)
    rule = rule_for(mod, c.label, c.decides) if mod is not None else None
    row = EffectRow(label, c.effect, rule, c.paper, c.per_seed, verdict, c.kind == "ratio")
    if row.band and not all(map(math.isfinite, row.band)):
        row.band = None
    if c.direction >= 0:
        return row

    def flip(x):
        return (1 / x if x else math.inf) if row.ratio else -x

    def span(ends):
        return ends and tuple(sorted(map(flip, ends)))

    lo, hi = span((c.effect["lo"], c.effect["hi"]))
    return replace(
        row,
        rule=None,
        effect=dict(c.effect, mean=flip(c.effect["mean"]), lo=lo, hi=hi),
        paper=None if c.paper is None else flip(c.paper),
        per_seed=[flip(s) for s in c.per_seed if _finite(s, row.ratio)],
        band=span(row.band),
        margin=span(row.margin),
    )


def caption(plotted) -> str:
    """The figure's takeaway, counted from what it draws."""
    n = len(plotted)
    if not n:
        return "No deciding comparison has an interval to draw yet."
    right = [r for r in plotted if r[3].side("lo") > 0 and r[3].side("hi") > 0]
    other = [r for r in plotted if r[3].opposite_resolved()]
    across = n - len(right) - len(other)
    scales = sorted({r[0][0] for r in plotted}, key=rank)

    def lie(k):
        return f"{k} {'lies' if k == 1 else 'lie'}"

    text = (
        f"Of the {n} deciding comparisons drawn ({', '.join(scales)}), {lie(len(right))} wholly on the paper's "
        f"side of no effect, {across} {'covers' if across == 1 else 'cover'} no effect"
    )
    if other:
        text += f", and {lie(len(other))} wholly on the other side ({'; '.join(r[1] for r in other)})"
    return text + "."


def forest_plot(entries, path):
    """Draw the forest plot of `entries` into `path` (SVG, or PNG at 200 dpi by its suffix); returns
    (skipped rows as (label, reason), the caption)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    plotted, skipped = rows(entries)
    keys = sorted({r[0] for r in plotted}, key=lambda k: (rank(k[0]), k[1] != "ratio", k[2]))
    panels = [(k, [r for r in plotted if r[0] == k]) for k in keys]
    heights = [len(rs) + 1.2 for _, rs in panels] or [2]
    with plt.rc_context({"svg.fonttype": "none", "font.size": 10}):
        fig, axes = plt.subplots(
            len(heights), 1, figsize=(9, 1.3 + 0.42 * sum(heights)), height_ratios=heights, squeeze=False
        )
        for ax, ((scale, kind, large), rs) in zip(axes[:, 0], panels):
            effect_panel(ax, [_oriented_row(*r[1:]) for r in rs], kind == "ratio")
            ax.set_yticks(range(len(rs)), [wrap(r[1], 42) for r in reversed(rs)], fontsize=9)  # a wider column
            beside = ax.get_yaxis_transform()  # x in the axes' width, y in rows
            for y, (*_, verdict) in enumerate(reversed(rs)):  # direct labels: the verdict right of each row
                ax.text(1.01, y, verdict, transform=beside, va="center", fontsize=8.5, color=colour(verdict))
            proxy = " (proxy)" if any(r[2].proxy for r in rs) else ""
            data = sorted({str(r[2].result.get("provenance", {}).get("dataset", {}).get("name", "?")) for r in rs})
            over = f", differences over {LARGE:g} points" if large else ""
            ax.set_title(f"{scale} scale{proxy}, {', '.join(data)}{over}", fontsize=9.5, loc="left")
        if not panels:
            axes[0, 0].text(0.5, 0.5, "no measured effects yet", ha="center", va="center")
            axes[0, 0].set_axis_off()
        order = list(VERDICT_COLOURS)
        verdicts = sorted({r[4] for r in plotted}, key=lambda v: (order.index(v) if v in order else len(order), v))
        handles = [
            Line2D([], [], marker=MARKERS.get(v, "o"), color=colour(v), markersize=8, linestyle="", label=v)
            for v in verdicts
        ]
        handles += [
            Line2D([], [], marker="D", color="black", linestyle="", label="the paper's number"),
            Patch(color=BAND_COLOUR, label="the paper's size (its rule's band)"),
            Patch(color=MARGIN_COLOUR, label="no effect (equivalence margin)"),
            Line2D([], [], marker="o", color="grey", markersize=3, linestyle="", label="one seed"),
        ]
        fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=9)
        fig.tight_layout(rect=(0, 1.0 / fig.get_figheight(), 1, 1))
        fig.savefig(path, dpi=200)
        plt.close(fig)
    return skipped, caption(plotted)
