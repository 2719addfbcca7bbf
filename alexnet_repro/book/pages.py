"""A claim's page: its executed notebook from results/, turned from a notebook dump into a report (claim_page)."""

import copy
import json
import re
import shutil

from .. import audit
from ..results import clean_notebook, scrub_paths
from .evidence import code_status, fmt_effect, fmt_number, fmt_paper
from .paper import references_markdown
from .summary import badge

MAX_TABLE_ROWS = 12
DROPPED_TAGS = {"parameters", "injected-parameters"}
# A float printed with more digits than anyone reads; not one inside a time stamp or a version (":"/"." before).
_LONG_FLOAT = re.compile(r"(?<![\w.:])-?\d+\.\d{5,}(?:e[-+]?\d+)?(?![\w.])")


def round_long_floats(text: str) -> str:
    return _LONG_FLOAT.sub(lambda m: fmt_number(float(m.group(0))), text)


def cut_html_table(html_text: str, max_rows=MAX_TABLE_ROWS) -> str:
    """A pandas HTML table cut to its first max_rows body rows, with a last row saying how many are left out."""
    m = re.search(r"<tbody>(.*?)</tbody>", html_text, flags=re.S)
    if not m:
        return html_text
    rows = re.findall(r"<tr>.*?</tr>", m.group(1), flags=re.S)
    if len(rows) <= max_rows:
        return html_text
    ncols = rows[0].count("<td") + rows[0].count("<th")
    note = (
        f'<tr><td colspan="{ncols}"><em>... {len(rows) - max_rows} more rows: every row is in the CSV '
        "under Downloads at the top of this page.</em></td></tr>"
    )
    body = "\n".join(rows[:max_rows] + [note])
    return html_text[: m.start(1)] + "\n" + body + "\n" + html_text[m.end(1) :]


def _tidy_output(output: dict) -> dict:
    data = output.get("data")
    if data:
        for mime in ("text/html", "text/markdown", "text/plain"):
            if mime in data:
                text = round_long_floats("".join(data[mime]))
                data[mime] = cut_html_table(text) if mime == "text/html" else text
    elif output.get("output_type") == "stream":
        output["text"] = round_long_floats("".join(output.get("text", "")))
    return output


def _md_cell(cell_id: str, text: str) -> dict:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": text}


def page_title(first_line: str, claim_id: str, scale: str) -> str:
    """'# R1: ReLU vs tanh' -> '# R1, cpu scale: ReLU vs tanh'; a heading without the id gets the scale after it."""
    heading = first_line.lstrip("#").strip()
    if heading.startswith(f"{claim_id}:"):
        return f"# {claim_id}, {scale} scale:{heading[len(claim_id) + 1 :]}"
    return f"# {heading} ({scale} scale)"


def evidence_markdown(entry, siblings, downloads) -> str:
    """The block under the title: verdict, effects against the paper, other scales, evidence, downloads."""
    res = entry.result
    proxy = ' <span class="proxy-tag">proxy</span>' if entry.proxy else ""
    blocks = [badge(entry.verdict) + proxy + (f" **{entry.reason}**" if entry.reason else "")]
    if entry.comparisons:
        table = ["| comparison | ours, mean (95% CI) | the paper | verdict |", "|---|---|---|---|"]
        for c in entry.comparisons:
            way = " (the other way from the paper)" if c.opposite() else ""
            seeds = f" (about {c.seeds_needed} seeds would resolve the paper's size)" if c.seeds_needed else ""
            why = f": {c.reason}" if c.reason else ""
            table.append(
                f"| {c.label}{'' if c.decides else ' (reported, does not decide)'} | {fmt_effect(c)}{way} "
                f"| {fmt_paper(c)} | {c.verdict or '-'}{why}{seeds} |"
            )
        blocks.append("\n".join(table))
    if res.get("pilot"):  # a confirmation (family.arms.confirmation_seeds): its pilot beside it, never pooled into it
        p = res["pilot"]
        blocks.append(
            f"The pilot this confirms ([cpu scale]({entry.slug}-cpu.ipynb), seeds "
            f"{', '.join(map(str, p['seeds']))}): {p['verdict']}: {p['headline']}. This result is decided on its "
            "own fresh seeds alone; the two are never pooled."
        )
    if res.get("looks"):  # protocol v2: every time the verdict was computed, and on how many seeds
        looks = (
            f"{look.get('date', '?')}, {look.get('n_seeds', '?')} seeds: {look.get('verdict', '?')}"
            + (f" ({look['note']})" if look.get("note") else "")
            for look in res["looks"]
        )
        blocks.append("Looks at the data: " + "; ".join(looks) + ".")
    else:
        blocks.append(f"Measured: {entry.measured_text}")
    others = [f"[{s.scale}: {s.verdict}]({s.slug}-{s.scale}.ipynb)" for s in siblings if s.scale != entry.scale]
    if others:
        blocks.append("At other scales: " + ", ".join(others) + ".")
    flags = audit.flags_line(audit.timeline(res))
    if flags:
        blocks.append(flags)
    if res.get("annotation"):
        blocks.append(f"```{{warning}}\n**Annotation, added by hand after the run.** {res['annotation']}\n```")
    blocks += [
        f"```{{dropdown}} Published evidence beside this claim\n{references_markdown(entry.claim_id)}\n```",
        "**Downloads:** " + " · ".join(f"{{download}}`{name} <{path}>`" for name, path in downloads),
    ]
    return "\n\n".join(blocks) + "\n"


def provenance_markdown(res: dict) -> str:
    prov = scrub_json(res.get("provenance", {}))
    commit, status = code_status(res)
    data = prov.get("dataset", {})
    n = ", ".join(
        f"{data[k]:,} {what}"
        for k, what in (("n_train", "training"), ("n_val", "validation"))
        if isinstance(data.get(k), int)
    )
    wall, call = prov.get("wall_time_s"), prov.get("invocation_wall_time_s")
    rows = [
        ("commit", f"`{commit[:12]}`" + (" (uncommitted changes)" if commit.endswith("+dirty") else "")),
        *([("about the commit", prov["git_commit_note"])] if prov.get("git_commit_note") else []),
        ("code since this run", status),
        ("date", prov.get("date", "-")),
        *[
            (f"verdict {what} by later code", f"`{str(r.get('git_commit', '-'))[:12]}` on {r.get('date', '-')}")
            for what, r in (("re-read", prov.get("reread")), ("reassessed", prov.get("reassessed")))
            if r
        ],
        ("device", f"{prov.get('device_name', prov.get('device', '-'))} ({prov.get('precision', '-')})"),
        ("data", f"{data.get('name', '-')}" + (f", {n} images" if n else "")),
        ("data checksum (sha256)", f"`{str(data.get('sha256', '-'))[:16]}...`"),
        ("seeds", ", ".join(map(str, prov.get("seeds", []))) or "-"),
        ("training time, runs summed", f"{wall / 60:.1f} min" if isinstance(wall, (int, float)) else "-"),
        (
            "wall time of the call that wrote this result",
            f"{call / 60:.1f} min (runs already in the store are found, not retrained)"
            if isinstance(call, (int, float))
            else "not measured",
        ),
        ("torch", prov.get("packages", {}).get("torch", "-")),
    ]
    if prov.get("note"):
        rows.append(("note", prov["note"]))
    table = ["| what | value |", "|---|---|"] + [f"| {k} | {str(v).replace('|', '/')} |" for k, v in rows]
    blocks = [
        "## Provenance",
        "\n".join(table),
        f"````{{dropdown}} The full provenance (JSON)\n```json\n{json.dumps(prov, indent=1)}\n```\n````",
        "### Audit: declared, trained, decided, assembled",
        "Read from git and the provenance by `python -m alexnet_repro audit`.",
        audit.rows_markdown(audit.timeline(res)),
    ]
    return "\n\n".join(blocks) + "\n"


def scrub_json(obj):
    """A result's JSON with machine paths scrubbed (results written before clean_notebook carry them)."""
    return json.loads(scrub_paths(json.dumps(obj)))


def claim_page(nb: dict, entry, siblings, downloads) -> dict:
    """The title names the scale; under it, the verdict, our effects beside the paper's, the other scales, published
    evidence, a note added by hand and the downloads. Code cells are hidden behind a toggle, parameter cells removed;
    outputs lose progress bars and machine paths, long floats are rounded and long tables cut (the CSV has every
    row). The provenance is a short table, the full JSON folded away."""
    nb = clean_notebook(copy.deepcopy(nb))
    cells = []
    for cell in nb["cells"]:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & DROPPED_TAGS:
            continue
        if cell["cell_type"] == "code":
            cell["metadata"]["tags"] = sorted(tags | {"hide-input"})
            cell["outputs"] = [
                _tidy_output(o)
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
        cells.append(cell)
    cells = _drop_section(cells, "## Provenance")
    title, _, rest = "".join(cells[0]["source"]).partition("\n")
    cells[0]["source"] = page_title(title, entry.claim_id, entry.scale)
    cells[1:1] = [_md_cell("book-evidence", evidence_markdown(entry, siblings, downloads))] + (
        [_md_cell("book-intro", rest)] if rest.strip() else []
    )
    cells.append(_md_cell("book-provenance", provenance_markdown(entry.result)))
    nb["cells"] = cells
    return nb


def _drop_section(cells, heading):
    """Cells without the markdown section that starts with `heading` (up to the next markdown cell)."""
    out, dropping = [], False
    for cell in cells:
        if cell["cell_type"] == "markdown":
            dropping = "".join(cell["source"]).startswith(heading)
        if not dropping:
            out.append(cell)
    return out


def copy_downloads(entry, dest_dir) -> list:
    """Copy the result's JSON and CSVs beside the page; returns [(name, path relative to the page)]."""
    dest = dest_dir / f"{entry.slug}-{entry.scale}"
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    (dest / "result.json").write_text(json.dumps(scrub_json(entry.result), indent=2) + "\n")
    out.append(("result.json", f"{dest.name}/result.json"))
    for f in sorted(entry.folder.glob("*.csv")):
        shutil.copy(f, dest / f.name)
        out.append((f.name, f"{dest.name}/{f.name}"))
    return out
