"""The summary page, the book's landing page: verdict counts, the forest plot, the scoreboard, how to cite.
Its tables are HTML, not markdown, so that they can fold the paper's text into a <details> and restack on a phone.
"""

import datetime
import html
from collections import Counter

from ..figures import VERDICT_COLOURS, colour
from ..paper_claims import BY_ID, IDS
from ..results import git_commit
from .evidence import fmt_effect, fmt_number, fmt_paper
from .paper import PAPER
from .standing import CHECKS, FINDINGS, HISTORY, NOT_RUN, PAPER_IDS, WORDS, by_claim, deciding_entries, rank


def badge(verdict: str) -> str:
    """The verdict as a coloured label; what it says of the claim, in plain words, as its tooltip."""
    bg = colour(verdict)
    fg = "#1f2328" if bg == "#afb8c1" else "#ffffff"  # dark text on the one light badge colour
    return (
        f'<span class="verdict" title="{html.escape(WORDS.get(verdict, verdict))}" '
        f'style="background:{bg};color:{fg}">{html.escape(verdict)}</span>'
    )


def counts_html(entries) -> str:
    """The verdicts of the paper's claims, each counted once by its deciding result, none as not run yet."""
    deciders = deciding_entries(entries)
    counts = Counter(deciders[cid].verdict if cid in deciders else NOT_RUN for cid in PAPER_IDS)
    order = list(VERDICT_COLOURS) + sorted(set(counts) - set(VERDICT_COLOURS))
    items = [f"{badge(v)}&nbsp;{counts[v]}" for v in order if counts.get(v)]
    return (
        f'<p class="verdict-counts">{sum(counts.values())} paper claims, each counted once by its deciding '
        "result: " + " &nbsp; ".join(items) + "</p>"
    )


def _effects(e) -> list:
    """The deciding comparisons with a measured effect; none where a note added by hand says not to read one."""
    return [] if e.result.get("annotation") else [c for c in e.comparisons if c.decides and c.effect]


def direction_counts(entries) -> tuple:
    """(stated, opposite, resolved) over the deciding results' deciding comparisons with a direction the paper
    states: how many, how many have their mean on the other side of no effect, how many their whole interval."""
    deciders = deciding_entries(entries)
    stated = [c for cid in PAPER_IDS if cid in deciders for c in _effects(deciders[cid]) if c.direction]
    opposite = [c for c in stated if c.opposite()]
    return len(stated), len(opposite), sum(c.opposite_resolved() for c in opposite)


def direction_line(entries) -> str:
    stated, opposite, resolved = direction_counts(entries)
    return (
        f"Of {stated} measured comparisons of the deciding results with a direction the paper states, "
        f"**{opposite} point the other way** (their mean lies on the other side of no effect); for {resolved} "
        "of them the 95% interval excludes no effect as well."
    )


def _measured_cell(e) -> str:
    if e.result.get("annotation"):
        return (
            "<div>not read as an effect: see the note added on its page</div>"
            f'<div class="paper-number">as recorded: {html.escape(e.measured_text)}</div>'
        )
    parts = [
        f"<div>{'' if c.label == 'effect' else f'{html.escape(c.label)}: '}<b>{html.escape(fmt_effect(c))}</b>"
        f' <span class="paper-number">paper: {html.escape(fmt_paper(c))}</span>'
        + (' <span class="other-way">the other way from the paper</span>' if c.opposite() else "")
        + "</div>"
        for c in _effects(e)
    ]
    return "".join(parts) or f"<div>{html.escape(e.measured_text)}</div>"


def _details(cid, e=None) -> str:
    c = BY_ID[cid]
    rows = [
        f"<b>The paper</b> (section {html.escape(c.section)}, {html.escape(c.data)}): {html.escape(c.short)}; "
        f"{html.escape(c.number)}."
    ]
    if e is not None:
        data = e.result.get("provenance", {}).get("dataset", {})
        n = data.get("n_train")
        rows.append(
            f"<b>Our data</b>: {html.escape(str(data.get('name', '-')))}"
            + (f", {n:,} training images" if isinstance(n, int) and n > 0 else "")
        )
        if e.proxy and e.result.get("proxy_note"):
            rows.append(f"<b>Proxy</b>: {html.escape(e.result['proxy_note'])}")
    return "<details><summary>details</summary>" + "".join(f"<p>{r}</p>" for r in rows) + "</details>"


def _scoreboard_row(e, decider) -> str:
    proxy = ' <span class="proxy-tag">proxy</span>' if e.proxy else ""
    if e is decider:
        role = ""
    elif e.scale in HISTORY:
        role = "history: re-read under today's rules, does not decide"
    else:
        role = f"superseded by the {decider.scale} result, which decides the claim"
    notes = "".join(f'<div class="reason">{text}</div>' for text in (html.escape(e.reason), role) if text)
    return (
        f'<tr><td><a href="{e.page}.html"><b>{e.claim_id}</b> · {e.scale}</a>{proxy}'
        f'<div class="claim-title">{html.escape(e.title)}</div></td>'
        f"<td>{badge(e.verdict)}{notes}</td><td>{_measured_cell(e)}{_details(e.claim_id, e)}</td></tr>"
    )


def html_table(opening: str, headers, rows) -> str:
    """An HTML table: `opening` (the <table> tag, and any <colgroup>), `headers`, then `rows` (each a whole <tr>)."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    return "\n".join([opening, f"<thead><tr>{head}</tr></thead>", "<tbody>", *rows, "</tbody></table>"])


def scoreboard_html(entries) -> str:
    """Every result, folded by scale (most authoritative first, history last), each row marked when another
    result of its claim decides it; then the claim ids with no result yet."""
    deciders = deciding_entries(entries)
    boards = []  # (summary, rows)
    for scale in sorted({e.scale for e in entries}, key=rank):
        shown = [e for es in by_claim(entries).values() for e in es if e.scale == scale]
        n_deciding = sum(deciders[e.claim_id] is e for e in shown)
        what = "history: the ablation family's runs from before protocol v2, re-read"
        what = what if scale in HISTORY else f"{n_deciding} deciding"
        rows = [_scoreboard_row(e, deciders[e.claim_id]) for e in shown]
        boards.append((f"<b>{scale} scale</b>: {len(rows)} result rows ({what})", rows))
    missing = [cid for cid in IDS if cid not in deciders]
    if missing:
        rows = [
            f'<tr class="not-run"><td><b>{cid}</b><div class="claim-title">'
            f"{html.escape(BY_ID[cid].short)}</div></td><td>{badge(NOT_RUN)}</td>"
            f'<td><span class="paper-number">paper: {html.escape(BY_ID[cid].number)}</span>'
            f"{_details(cid)}</td></tr>"
            for cid in missing
        ]
        boards.append((f"<b>not run yet</b>: {len(missing)} claims", rows))
    opening = (
        '<table class="scoreboard">\n'
        '<colgroup><col class="c-claim"><col class="c-verdict"><col class="c-measured"></colgroup>'
    )
    headers = ("claim, scale", "verdict", "measured, and the paper's number")
    return "\n".join(
        f'<details class="scale-board"{" open" if i == 0 and entries else ""}><summary>{summary}</summary>\n'
        f"{html_table(opening, headers, rows)}\n</details>"
        for i, (summary, rows) in enumerate(boards)
    )


def _effect_cell(e) -> str:
    """Our deciding effect beside the paper's number, short (mean only: the interval is in the title attribute,
    the scoreboard and the forest plot); more deciding comparisons are counted, not shown."""
    if e.result.get("annotation"):
        return "not read as an effect: see the note on its page"
    shown = _effects(e)
    if not shown:
        return html.escape(e.measured_text if len(e.measured_text) < 60 else e.measured_text[:57] + "...")
    c = shown[0]
    unit = "x" if c.kind == "ratio" else " pts"
    more = f" (+{len(shown) - 1} more)" if len(shown) > 1 else ""
    way = " the other way" if c.opposite() else ""
    paper = f"paper {fmt_paper(c)}" if c.paper is not None else "no number in the paper"
    return (
        f'<span title="{html.escape(c.label)}: {html.escape(fmt_effect(c))}">{fmt_number(c.effect["mean"])}{unit}'
        f"{way}; {html.escape(paper)}{more}</span>"
    )


def standing_html(entries) -> str:
    """One row per experiment claim of the paper, from its deciding result: the verdict, the paper's statement,
    our deciding effect beside the paper's number, and the scale that decided it."""
    deciders, rows = deciding_entries(entries), []
    for cid in (cid for cid in PAPER_IDS if cid not in CHECKS):
        e = deciders.get(cid)
        link = f'<a href="{e.page}.html"><b>{cid}</b></a>' if e else f"<b>{cid}</b>"
        scale = f'<span class="s-scale">({e.scale}{", proxy" if e.proxy else ""})</span>' if e else ""
        effect = f"{_effect_cell(e)} {scale}" if e else "-"
        rows.append(
            f'<tr><td class="s-id">{link}</td><td>{badge(e.verdict if e else NOT_RUN)}</td>'
            f'<td>{html.escape(BY_ID[cid].short)}</td><td class="s-effect">{effect}</td></tr>'
        )
    headers = ("claim", "verdict", "what the paper says", "ours, deciding result (scale)")
    return html_table('<table class="standing">', headers, rows)


def checks_line(entries) -> str:
    """The checks of the model and recipe against the paper's text, grouped by verdict on one line."""
    deciders, groups = deciding_entries(entries), {}
    for cid in CHECKS:
        e = deciders.get(cid)
        groups.setdefault(e.verdict if e else NOT_RUN, []).append(f'<a href="{e.page}.html">{cid}</a>' if e else cid)
    parts = [f"{', '.join(ids)}: {badge(v)}" for v, ids in groups.items()]
    return (
        '<p class="checks-line"><b>The model and recipe against the paper\'s text</b> '
        f"({len(CHECKS)} checks): " + "; ".join(parts) + ".</p>"
    )


def cite_markdown() -> str:
    """The how-to-cite block: this book at the commit and date it was built, and the paper."""
    commit, today = git_commit(), datetime.date.today().isoformat()
    return f"""\
:::{{admonition}} How to cite

This book was built from commit `{commit}` on {today}. Its results are those committed under `results/` at that \
commit; cite the commit with the claim ids you use.

```bibtex
@misc{{alexnet_repro,
  title = {{alexnet-repro: the {{AlexNet}} paper, claim by claim}},
  note  = {{Book built from commit {commit} on {today}}},
  year  = {{{today[:4]}}}
}}
```

The paper: {PAPER}
:::
"""


def summary_markdown(entries, figure: str, skipped, caption: str = "", audit_line: str = "") -> str:
    deciders = deciding_entries(entries)
    # The paper's claims decided by a proxy with no result at the gpu or paper scale yet: they wait for a GPU.
    waiting = [
        cid for cid in PAPER_IDS if cid in deciders and deciders[cid].proxy and rank(deciders[cid].scale) > rank("gpu")
    ]
    blocks = [  # paragraphs, tables and headings, a blank line between each two
        "---\nhtml_theme.sidebar_secondary.remove: true\n---",
        "# What holds: the AlexNet paper, claim by claim",
        "Each claim of the paper, by the one result that decides it: the most authoritative scale with a "
        "result (paper, gpu, a cpu confirmation, cpu; {doc}`method`). *Proxy*: smaller data or shorter "
        f"training than the paper's, so only an effect's direction carries over; {len(waiting)} claims wait for "
        "a GPU run at the paper's scale.",
        standing_html(entries),
        checks_line(entries),
        counts_html(entries),
        direction_line(entries),
        *([audit_line] if audit_line else []),
    ]
    findings = [(cid, deciders[cid]) for cid in FINDINGS if cid in deciders]
    if findings:
        blocks += [
            "## Beyond the paper",
            "A finding, not a claim of the paper: the common modern substitute for LRN, measured the same way.",
            "\n".join(
                f'<p><a href="{e.page}.html"><b>{cid}</b></a> {badge(e.verdict)} {html.escape(BY_ID[cid].short)}: '
                f"{_effect_cell(e)} ({html.escape(e.scale)} scale{', proxy' if e.proxy else ''}).</p>"
                for cid, e in findings
            ),
        ]
    # The figure opens at full size in the browser (Sphinx copies it to _images/; a Markdown link to it would
    # download it instead).
    blocks += [
        "## Every effect at a glance",
        f"```{{figure}} {figure}\n:target: _images/{figure}\n"
        ":alt: Forest plot: each claim's deciding effects, one panel per scale\n\n"
        f"{caption} (Click the figure for full size.)\n```",
        "Each row is one comparison: the line is the 95% interval over seeds, the big marker its mean (colour "
        "and shape by the comparison's verdict), small dots single seeds, the black diamond the paper's "
        "number, the green band the paper's size where its rule declares one, the grey band the equivalence "
        "margin. Effects are signed so that the paper's claim lies right of the line. One panel per scale; "
        "superseded pilots and Imagenette re-reads are left out (they are in the scoreboard below).",
    ]
    if skipped:
        blocks += ["Not plotted:", "\n".join(f"- {label}: {reason}" for label, reason in skipped)]
    blocks += [
        "## Scoreboard",
        "Every result, folded by scale: the verdict, our effect beside the paper's number, and under "
        "*details* the paper's statement and our data. A row that does not decide its claim says which "
        "result does.",
        scoreboard_html(entries),
        cite_markdown(),
    ]
    return "\n\n".join(blocks)
