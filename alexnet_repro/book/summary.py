"""The summary page, the book's landing page: verdict counts, the forest plot, the scoreboard, how to cite.

The scoreboard is an HTML table (so it can fold the paper's text into a <details> and restack on a phone):
claim and scale first, then the verdict with its one-line reason, then our number beside the paper's.
"""
import datetime
import html
from collections import Counter

from ..figures import VERDICT_COLOURS, colour
from ..paper_claims import BY_ID, CLAIMS, IDS
from ..results import git_commit
from .evidence import fmt_effect, fmt_paper
from .paper import PAPER

LIGHT = {"#afb8c1"}  # badge colours light enough to need dark text


def badge(verdict: str) -> str:
    bg = colour(verdict)
    fg = "#1f2328" if bg in LIGHT else "#ffffff"
    return f'<span class="verdict" style="background:{bg};color:{fg}">{html.escape(verdict)}</span>'


def verdict_counts(entries) -> Counter:
    counts = Counter(e.verdict for e in entries)
    measured = {e.claim_id for e in entries}
    counts["not run yet"] = sum(1 for cid in IDS if cid not in measured)
    return counts


def counts_html(entries) -> str:
    counts = verdict_counts(entries)
    order = list(VERDICT_COLOURS) + sorted(set(counts) - set(VERDICT_COLOURS))
    items = [f"{badge(v)}&nbsp;{counts[v]}" for v in order if counts.get(v)]
    return '<p class="verdict-counts">' + " &nbsp; ".join(items) + "</p>"


def direction_line(entries) -> str:
    """How many deciding comparisons point the other way from the paper, and how many of those resolve it."""
    stated = [c for e in entries for c in e.comparisons if c.decides and c.effect and c.direction
              and not e.result.get("annotation")]
    opposite = [c for c in stated if c.opposite()]
    resolved = [c for c in opposite if (min(c.effect["lo"], c.effect["hi"]) - c.null) * c.direction > 0
                or (max(c.effect["lo"], c.effect["hi"]) - c.null) * c.direction < 0]
    return (f"Of {len(stated)} measured comparisons with a direction the paper states, **{len(opposite)} point "
            f"the other way** (their mean lies on the other side of no effect); for {len(resolved)} of them the "
            "95% interval excludes no effect as well.")


def _measured_cell(e) -> str:
    shown = [c for c in e.comparisons if c.decides and c.effect]
    if e.result.get("annotation"):
        return ("<div>not read as an effect: see the note added on its page</div>"
                f'<div class="paper-number">as recorded: {html.escape(e.measured_text)}</div>')
    if not shown:
        return f"<div>{html.escape(e.measured_text)}</div>"
    parts = []
    for c in shown:
        label = "" if c.label == "effect" else f"{html.escape(c.label)}: "
        other_way = ' <span class="other-way">the other way from the paper</span>' if c.opposite() else ""
        parts.append(f"<div>{label}<b>{html.escape(fmt_effect(c))}</b>"
                     f' <span class="paper-number">paper: {html.escape(fmt_paper(c))}</span>{other_way}</div>')
    return "".join(parts)


def _details(cid, e=None) -> str:
    c = BY_ID[cid]
    rows = [f"<b>The paper</b> (section {html.escape(c.section)}, {html.escape(c.data)}): {html.escape(c.short)}; "
            f"{html.escape(c.number)}."]
    if e is not None:
        prov = e.result.get("provenance", {}).get("dataset", {})
        n = prov.get("n_train")
        rows.append(f"<b>Our data</b>: {html.escape(str(prov.get('name', '-')))}"
                    + (f", {n:,} training images" if isinstance(n, int) and n > 0 else ""))
        if e.proxy and e.result.get("proxy_note"):
            rows.append(f"<b>Proxy</b>: {html.escape(e.result['proxy_note'])}")
    return "<details><summary>details</summary>" + "".join(f"<p>{r}</p>" for r in rows) + "</details>"


def scoreboard_html(entries) -> str:
    by_id = {}
    for e in entries:
        by_id.setdefault(e.claim_id, []).append(e)
    out = ['<table class="scoreboard">',
           '<colgroup><col class="c-claim"><col class="c-verdict"><col class="c-measured"></colgroup>',
           "<thead><tr><th>claim, scale</th><th>verdict</th><th>measured, and the paper's number</th></tr></thead>",
           "<tbody>"]
    for cid, says, number in ((c.id, c.short, c.number) for c in CLAIMS):
        for e in by_id.get(cid, []):
            proxy = ' <span class="proxy-tag">proxy</span>' if e.proxy else ""
            reason = f'<div class="reason">{html.escape(e.reason)}</div>' if e.reason else ""
            out.append(f'<tr><td><a href="{e.page}.html"><b>{cid}</b> · {e.scale}</a>{proxy}'
                       f'<div class="claim-title">{html.escape(e.title)}</div></td>'
                       f"<td>{badge(e.verdict)}{reason}</td>"
                       f"<td>{_measured_cell(e)}{_details(cid, e)}</td></tr>")
        if cid not in by_id:
            out.append(f'<tr class="not-run"><td><b>{cid}</b><div class="claim-title">{html.escape(says)}</div></td>'
                       f"<td>{badge('not run yet')}</td>"
                       f'<td><span class="paper-number">paper: {html.escape(number)}</span>{_details(cid)}</td></tr>')
    out += ["</tbody></table>"]
    return "\n".join(out)


def cite_markdown() -> str:
    """The how-to-cite block: this book at the commit and date it was built, and the paper."""
    commit, today = git_commit(), datetime.date.today().isoformat()
    return "\n".join([
        ":::{admonition} How to cite", "",
        f"This book was built from commit `{commit}` on {today}. Its results are those committed under "
        "`results/` at that commit; cite the commit with the claim ids you use.", "",
        "```bibtex",
        "@misc{alexnet_repro,",
        "  title = {alexnet-repro: the {AlexNet} paper, claim by claim},",
        f"  note  = {{Book built from commit {commit} on {today}}},",
        f"  year  = {{{today[:4]}}}",
        "}", "```", "",
        f"The paper: {PAPER}", ":::", ""])


def summary_markdown(entries, figure: str, skipped) -> str:
    measured = len({e.claim_id for e in entries})
    lines = ["# What holds: the AlexNet paper, claim by claim", "",
             f"Krizhevsky, Sutskever and Hinton's AlexNet paper (NIPS 2012) makes {len(IDS)} "
             f"claims this suite tests one at a time; {measured} have been measured. Each verdict comes from a rule "
             "fixed before the run (see the {doc}`method`). *Proxy* marks a claim the paper states for ImageNet, "
             "measured here on smaller data: what carries over from a proxy is the direction of an effect, not "
             "its size.", "",
             "## Verdicts", "", counts_html(entries), "", direction_line(entries), "",
             "## Every effect at a glance", "",
             f"![Forest plot: each claim's effect with its 95% interval, seeds, the paper's number and the "
             f"equivalence margin, coloured by verdict]({figure})", "",
             "Each row is one comparison at one scale: the line is the 95% interval over seeds, the big dot its "
             "mean (coloured by the comparison's verdict), small dots single seeds, the black diamond the paper's "
             "number, the grey band the equivalence margin where one is declared. Effects are signed so that "
             "the paper's claim lies right of the line. Grey labels are proxy rows.", ""]
    if skipped:
        lines += ["Not plotted:", ""] + [f"- {label}: {reason}" for label, reason in skipped] + [""]
    lines += ["## Scoreboard", "",
              "Every claim id of the paper, in the paper's order: the verdict at each scale it was run at, our "
              "effect beside the paper's number, and under *details* the paper's statement and our data.", "",
              scoreboard_html(entries), "", cite_markdown()]
    return "\n".join(lines)
