"""The summary's overview figure: a forest plot of every measured effect, one row per claim, scale and comparison.

Each row: the 95% interval (line), the mean (marker, coloured by verdict), every seed (dots), the paper's
number (black diamond) and the equivalence margin around no effect (grey band). Effects are signed so that
the paper's claim points right: a row left of the zero line went the other way from the paper. Differences
(points) and ratios (x, log scale) get a panel each. Rows on proxy data have grey labels marked "proxy";
rows on the paper's own data black ones.
"""
import math

from ..figures import MARGIN_COLOUR, VERDICT_COLOURS, colour


def _rows(entries):
    """(label, proxy, comparison) for every comparison with an effect, and (label, reason) for those without."""
    plotted, skipped = [], []
    for e in entries:
        for c in e.comparisons:
            what = "" if c.label == "effect" else f" · {c.label}"
            label = f"{e.claim_id} {e.scale}{what}" + (" (proxy)" if e.proxy else "")
            if c.effect and not e.result.get("annotation"):
                plotted.append((label, e.proxy, c, c.verdict or e.verdict))
            else:
                why = c.reason or (e.reason if e.result.get("annotation") else "")
                skipped.append((label, why or "no 95% interval to plot (see its page)"))
    return plotted, skipped


def _oriented(c, x):
    """x signed so that the paper's side is > no effect (ratios: reciprocal when the paper claims < 1)."""
    if c.direction >= 0:
        return x
    return 1 / x if c.kind == "ratio" else -x


def forest_plot(entries, path):
    """Draw the forest plot of `entries` into `path` (PNG); returns the skipped rows (label, reason)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    plotted, skipped = _rows(entries)
    panels = [(k, [r for r in plotted if r[2].kind == k]) for k in ("difference", "ratio")]
    panels = [(k, rows) for k, rows in panels if rows]
    heights = [max(len(rows), 2) for _, rows in panels] or [2]
    fig, axes = plt.subplots(len(heights), 1, figsize=(11, 1.4 + 0.34 * sum(heights)), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, (kind, rows) in zip(axes[:, 0], panels):
        _panel(ax, kind, rows)
    if not panels:
        axes[0, 0].text(0.5, 0.5, "no measured effects yet", ha="center", va="center")
        axes[0, 0].set_axis_off()
    order = list(VERDICT_COLOURS)
    verdicts = sorted({v for *_, v in plotted}, key=lambda v: (order.index(v) if v in order else len(order), v))
    handles = [Patch(color=colour(v), label=v) for v in verdicts]
    handles += [Line2D([], [], marker="D", color="black", linestyle="", label="the paper's number"),
                Patch(color=MARGIN_COLOUR, label="equivalence margin"),
                Line2D([], [], marker="o", color="grey", markersize=3, linestyle="", label="one seed"),
                Line2D([], [], color="grey", label="95% interval")]
    fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False, fontsize=8.5)
    fig.tight_layout(rect=(0, 0.9 / fig.get_figheight(), 1, 1))  # about 0.9 in below the panels for the legend
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return skipped


def _panel(ax, kind, rows):
    ratio = kind == "ratio"
    null = 1.0 if ratio else 0.0
    n = len(rows)
    for i, (label, proxy, c, verdict) in enumerate(rows):
        y = n - 1 - i
        col = colour(verdict)
        e = c.effect
        lo, hi = sorted((_oriented(c, e["lo"]), _oriented(c, e["hi"])))
        if c.margin:
            m_lo, m_hi = (null / (1 + c.margin), null * (1 + c.margin)) if ratio else (-c.margin, c.margin)
            ax.add_patch(_margin_patch(m_lo, y - 0.4, m_hi - m_lo, 0.8))
        ax.plot([lo, hi], [y, y], color=col, linewidth=2.2, solid_capstyle="butt")
        seeds = [_oriented(c, s) for s in c.per_seed if isinstance(s, (int, float)) and math.isfinite(s)]
        if ratio:
            seeds = [s for s in seeds if s > 0]
        ax.scatter(seeds, [y + 0.22] * len(seeds), s=9, color=col, alpha=0.55, linewidths=0, zorder=3)
        ax.scatter([_oriented(c, e["mean"])], [y], s=55, color=col, edgecolors="white", zorder=4)
        if c.paper is not None:
            ax.scatter([_oriented(c, c.paper)], [y], marker="D", s=32, color="black", zorder=5)
    ax.axvline(null, color="black", linewidth=0.9)
    ax.set_yticks(range(n))
    ax.set_yticklabels([r[0] for r in reversed(rows)], fontsize=8.5)
    for tick, (_, proxy, _, _) in zip(ax.get_yticklabels(), reversed(rows)):
        tick.set_color("#57606a" if proxy else "black")
    ax.set_ylim(-0.7, n - 0.3)
    if ratio:
        from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator([0.125, 0.25, 0.5, 1, 2, 4, 8, 16]))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
        ax.set_xlabel("ratio (x), oriented so the paper's claim is > 1 (log scale)")
    else:
        ax.set_xlabel("difference (points), signed so the paper's claim is > 0: left of the line = the other way")
    ax.grid(axis="x", color="#eaeef2")
    ax.set_axisbelow(True)


def _margin_patch(x, y, w, h):
    from matplotlib.patches import Rectangle
    return Rectangle((x, y), w, h, color=MARGIN_COLOUR, alpha=0.7, linewidth=0, zorder=1)
