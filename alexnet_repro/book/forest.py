"""The summary's overview figure: a forest plot of each claim's deciding comparisons (book/standing.py), one panel
per scale and kind of effect (differences; ratios on a log axis), each with its own limits. Effects are signed so
that the paper's claim points right (the summary page's text says what each mark is). SVG: sharp at any zoom.
"""

import math

from .. import claims
from ..claims.contract import rule_for
from ..figures import BAND_COLOUR, MARGIN_COLOUR, VERDICT_COLOURS, _limits, _span, colour, wrap
from .standing import FINDINGS, deciding_entries, rank

# A second encoding beside colour (for readers who do not tell the colours apart, and for print in grey).
MARKERS = {
    "reproduced": "o",
    "partly reproduced": "s",
    "not reproduced": "X",
    "no effect at this scale": "P",
    "inconclusive": "^",
    "not testable at this scale": "v",
}
OTHER_MARKER = "o"


def _rule(e, c):
    mod = claims.registry().get(e.slug)
    return rule_for(mod, c.label, c.decides) if mod is not None else None


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
                plotted.append(((e.scale, c.kind, _large(c)), label, e, c, c.verdict or e.verdict))
            else:
                why = c.reason or (e.reason if e.result.get("annotation") else "")
                if not c.direction and c.effect:
                    why = why or "the paper states no direction to sign it by"
                skipped.append((f"{label} ({e.scale})", why or "no 95% interval to plot (see its page)"))
    return plotted, skipped


# Differences beyond this many points (Q2's precision gain) get a panel of their own, so that they do not squeeze
# the paper's 0.4-2 point effects into a sliver of the axis.
LARGE = 10.0


def _large(c) -> bool:
    values = [c.effect["lo"], c.effect["hi"]] + ([c.paper] if c.paper is not None else [])
    return c.kind == "difference" and max(abs(v) for v in values) > LARGE


def _oriented(c, x):
    """x signed so that the paper's side is > no effect (ratios: reciprocal when the paper claims < 1)."""
    if c.direction >= 0:
        return x
    if c.kind == "ratio":
        return 1 / x if x else math.inf
    return -x


def _oriented_span(c, a, b):
    return tuple(sorted((_oriented(c, a), _oriented(c, b))))


def caption(plotted) -> str:
    """The figure's takeaway, counted from what it draws."""
    n = len(plotted)
    if not n:
        return "No deciding comparison has an interval to draw yet."
    right = [r for r in plotted if _oriented_span(r[3], r[3].effect["lo"], r[3].effect["hi"])[0] > r[3].null]
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
            len(heights),
            1,
            figsize=(9, 1.3 + 0.42 * sum(heights)),
            squeeze=False,
            gridspec_kw={"height_ratios": heights},
        )
        for ax, (key, rs) in zip(axes[:, 0], panels):
            _panel(ax, key, rs)
        if not panels:
            axes[0, 0].text(0.5, 0.5, "no measured effects yet", ha="center", va="center")
            axes[0, 0].set_axis_off()
        order = list(VERDICT_COLOURS)
        verdicts = sorted({r[4] for r in plotted}, key=lambda v: (order.index(v) if v in order else len(order), v))
        handles = [
            Line2D([], [], marker=MARKERS.get(v, OTHER_MARKER), color=colour(v), markersize=8, linestyle="", label=v)
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


def _panel(ax, key, rs):
    scale, kind, large = key
    ratio = kind == "ratio"
    null = 1.0 if ratio else 0.0
    n = len(rs)
    xs = [null]
    for i, (_, label, e, c, verdict) in enumerate(rs):
        y = n - 1 - i
        col = colour(verdict)
        lo, hi = _oriented_span(c, c.effect["lo"], c.effect["hi"])
        xs += [lo, hi]
        r = _rule(e, c)
        if r is not None and bool(r.ratio) == ratio:
            b_lo, b_hi = _oriented_span(c, *r.band)
            if math.isfinite(b_lo) and math.isfinite(b_hi):  # a one-sided band ("any effect that way") is no size
                _span(ax, b_lo, b_hi, y, BAND_COLOUR)
                xs += [b_lo, b_hi]
            eq = r.equivalence()
            if eq:
                m_lo, m_hi = _oriented_span(c, *eq)
                _span(ax, m_lo, m_hi, y, MARGIN_COLOUR)
        ax.plot([lo, hi], [y, y], color=col, linewidth=2.4, solid_capstyle="butt", zorder=4)
        seeds = [
            _oriented(c, s)
            for s in c.per_seed
            if isinstance(s, (int, float)) and math.isfinite(s) and (s > 0 or not ratio)
        ]
        ax.scatter(seeds, [y + 0.25] * len(seeds), s=10, color=col, alpha=0.6, linewidths=0, zorder=3)
        ax.scatter(
            [_oriented(c, c.effect["mean"])],
            [y],
            s=70,
            color=col,
            marker=MARKERS.get(verdict, OTHER_MARKER),
            edgecolors="white",
            linewidths=0.8,
            zorder=5,
        )
        xs += seeds
        if c.paper is not None:
            ax.scatter([_oriented(c, c.paper)], [y], marker="D", s=34, color="black", zorder=6)
            xs.append(_oriented(c, c.paper))
    lo, hi = _limits([x for x in xs if math.isfinite(x) and (x > 0 or not ratio)], ratio)
    for i, (_, label, e, c, verdict) in enumerate(rs):  # direct labels: the verdict at the right of each row
        ax.annotate(
            verdict,
            (1.0, n - 1 - i),
            xycoords=("axes fraction", "data"),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8.5,
            color=colour(verdict),
        )
    ax.axvline(null, color="black", linewidth=0.9)
    ax.set_xlim(lo, hi)
    ax.set_ylim(-0.7, n - 0.2)
    ax.set_yticks(range(n), [wrap(r[1], 42) for r in reversed(rs)], fontsize=9)
    proxy = any(r[2].proxy for r in rs)
    data = sorted({str(r[2].result.get("provenance", {}).get("dataset", {}).get("name", "?")) for r in rs})
    ax.set_title(
        f"{scale} scale{' (proxy)' if proxy else ''}, {', '.join(data)}: "
        + ("ratio, log axis" if ratio else f"difference in points{f' (over {LARGE:g})' if large else ''}"),
        fontsize=9.5,
        loc="left",
    )
    if ratio:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=2))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.grid(axis="x", color="#eaeef2")
    ax.set_axisbelow(True)
