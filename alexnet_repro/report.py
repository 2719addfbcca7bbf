"""What every claim notebook shows around its own figures, so that every claim is reported the same way.
provenance() stays in a section of its own: the book replaces a notebook's "## Provenance" section with its table.
"""

import itertools
import json
import math
import numbers

import pandas as pd
from IPython.display import Markdown, display

from . import claims
from .book.evidence import comparisons_of, fmt_effect, fmt_number
from .claims.contract import rule_for
from .figures import effect_axes
from .verdict import PLUMBING


def md(text):
    display(Markdown(text))


def rule(result):
    md(result["verdict_rule"])


def cell(x) -> str:
    """One table cell for reading: integers with thousands separators, other numbers by evidence.fmt_number, "–"
    for what is missing or not finite."""
    if x is None or (not isinstance(x, str) and pd.isna(x)):
        return "–"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, numbers.Integral):
        return f"{x:,}"
    if isinstance(x, numbers.Real):
        return fmt_number(float(x)) if math.isfinite(x) else "–"
    return str(x)


def header(name) -> str:
    """A column name as a reader reads it: "epochs_to_target" -> "epochs to target"; tuples (pivots) joined."""
    if isinstance(name, tuple):
        return " ".join(header(n) for n in name if str(n))
    return str(name).replace("_", " ")


def table(df, index=False, columns=None):
    """`df` as a table for readers (a pandas Styler): every table a claim shows goes through here. index=True keeps
    a meaningful index (a pivot's keys); `columns`: these in this order, one an older result lacks shown as "–"."""
    if columns is not None:
        df = df.reindex(columns=list(columns))
    if index and df.index.name is None and not any(df.index.names):
        df = df.rename_axis("")
    df = df.reset_index() if index else df.reset_index(drop=True)
    df = df.rename(columns=header)
    # Numbered, not pandas' random id: a page rendered twice from the same result is the same file.
    return df.style.format(cell).hide(axis="index").set_uuid(f"table{next(_TABLES)}")


_TABLES = itertools.count()


def provenance(result):
    print(json.dumps(result["provenance"], indent=1))


def show(result):
    """The verdict and the comparisons; a smoke run shows what ran and no effect (a few hundred images measure none)."""
    p = result["provenance"]
    d = p.get("dataset", {})
    images = ", ".join(
        f"{d[k]:,} {what}"
        for k, what in (("n_train", "training"), ("n_val", "evaluation"))
        if isinstance(d.get(k), int) and d[k]
    )
    wall = p.get("wall_time_s")
    # Measured: the headline; for a result decided again by later code from its own tables (provenance.reassessed),
    # its deciding comparisons' effects as that reading measured them (its headline is the first reading's).
    again = p.get("reassessed") or {}
    shown = [c for c in comparisons_of(result) if c.decides and c.effect] if again else []
    effects = "; ".join(f"{c.label}: {fmt_effect(c)}" if len(shown) > 1 else fmt_effect(c) for c in shown)
    by = f" (decided again from its own tables by {again.get('by', 'later code')})"
    measured = effects + by if shown else result["headline"]
    lines = [
        f"**Verdict: {result['verdict']}{' (proxy)' if result.get('proxy') else ''}**"
        + (f": {result['reason']}" if result.get("reason") else ""),
        f"The paper (section {result['paper'].get('section', '-')}, {result['paper'].get('data', '-')}): "
        f"{result['paper']['says']}",
        f"Measured: {measured}"
        + (
            f"  \nThe pilot it confirms (`{pilot['result']}`, seeds {pilot['seeds']}; beside it, never pooled "
            f"into it): {pilot['verdict']}: {pilot['headline']}"
            if (pilot := result.get("pilot"))
            else ""
        ),
        f"Scale `{result['scale']}` on {p.get('device_name', p.get('device', '-'))} ({p.get('precision', '-')}), "
        f"{d.get('name', 'no data')}"
        + (f": {images} images" if images else "")
        + (f", seeds {p['seeds']}" if p.get("seeds") else "")
        + (f", {wall / 60:.1f} min of compute." if isinstance(wall, (int, float)) else "."),
    ]
    md("  \n".join(lines) + (f"\n\n**Proxy.** {result['proxy_note']}" if result.get("proxy_note") else ""))
    frame = comparison_table(result) if result["verdict"] != PLUMBING else ()
    if len(frame):
        display(table(frame))


def comparison_table(result):
    """Each comparison: our effect and 95% interval beside the paper's number, the rule's band and margin, the
    paired t-test's p, the verdict and why, and the seeds 80% power would need where inconclusive."""
    raw, claim = {c["label"]: c for c in result.get("comparisons", [])}, claims.load(result["claim"])
    pilot_effects = {
        p.label: f"{fmt_effect(p)}: {p.verdict}"
        for p in comparisons_of({"protocol": 2, "comparisons": result.get("pilot", {}).get("comparisons", [])})
        if p.effect
    }
    rows = []
    for c in comparisons_of(result):
        if not (c.effect or c.label in raw):  # an older result's summary with no interval: nothing to set beside
            continue
        e, r = c.effect or {}, rule_for(claim, c.label, raw.get(c.label, {}).get("decides", True))
        band = f"[{r.band[0]:g}, {r.band[1]:g}]" if r else None  # the band's open end: "inf", "-inf"
        verdict = c.verdict if c.decides else "(reported, not decided)"
        p = raw.get(c.label, {}).get("p_value")
        rows.append([c.label, c.unit, e.get("mean"), e.get("lo"), e.get("hi"), e.get("n"), c.paper, band, c.margin])
        rows[-1] += [p, verdict, c.reason, c.seeds_needed, pilot_effects.get(c.label)]
    columns = ["comparison", "unit", "ours", "95% lo", "95% hi", "seeds", "the paper", "the paper's band", "margin"]
    columns += ["p", "verdict", "why", "seeds for 80% power", "the pilot"]
    return pd.DataFrame(rows, columns=columns).dropna(axis="columns", how="all")


def family(result, folder):
    """What an ablation-family claim's notebook shows between its run and its provenance."""
    import matplotlib.pyplot as plt

    from .claims.family import figures as family_figures

    md("### The verdict rule (fixed before the run)")
    rule(result)
    md("### Verdict")
    show(result)
    seeds_table = pd.read_csv(f"{folder}/seeds.csv")
    # A result of the family's claims from before the family (ten_patch's own gpu and Imagenette runs) has no arms:
    # its effects are drawn and its runs listed as its table holds them.
    by_arm = "arms" in result["measured"] and "arm" in seeds_table
    if by_arm:
        md(
            "### Validation error by arm, and each effect beside the paper's\n"
            "Top left: each seed's final validation top-1 error (centre crop), with the mean and its 95% "
            "interval. Top right: validation error per epoch; the band spans the seeds. Below: each "
            "comparison's effect, our 95% interval beside the paper's number and the band the rule counts "
            "as the paper's size."
        )
        family_figures.plot_arms(seeds_table, pd.read_csv(f"{folder}/curves.csv"), result)
        plt.show()
    elif rows := family_figures.effect_rows(result):
        md(
            "### Each effect beside the paper's\nOur 95% interval beside the paper's number and the band the "
            "rule counts as the paper's size. This result predates the family's per-arm tables, so its arms' "
            "errors are not drawn: its runs are listed below as its table holds them."
        )
        effect_axes(plt.figure(figsize=(11, 1.4 + 0.55 * len(rows)), layout="constrained"), rows)
        plt.show()
    md(
        "### Each run\n`gap` is validation minus training top-1 error, both from the same centre-crop "
        "pass in eval mode; `converged_epoch` is the first epoch within 1 point of the run's best "
        "validation error; `late_gain` the points of error the run gained over its last epoch."
        if by_arm
        else "### Each run\nAs this result's own table recorded them (top-1 and top-5 errors in %, the running "
        "training error as a fraction)."
    )
    names = "arm seed status epochs val_top1 val_top1_ten val_top5 train_top1 gap converged_epoch late_gain"
    columns = [c for c in f"{names} seconds_per_epoch".split() if c in seeds_table]
    display(table(seeds_table[columns] if by_arm else seeds_table))
    if by_arm:
        md("### Per arm: mean over seeds")
        display(table(family_figures.arms_table(result), index=True))
