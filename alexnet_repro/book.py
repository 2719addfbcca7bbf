"""The book: generated pages from results/, then a jupyter-book 1.x build (offline, no re-execution).

Generated (not committed, rebuilt every time): book/scoreboard.md, book/claims/<claim>-<scale>.ipynb
(the executed notebooks, copied from results/), book/_toc.yml. Hand-written: book/intro.md, book/method.md.
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

from . import claims
from .paths import REPO_ROOT, results_root
from .results import headline_of, read_result

BOOK = REPO_ROOT / "book"
SHOWN_SCALES = ("paper", "gpu", "cpu")  # smoke results are for tests, not for readers


def _results():
    """{claim_id: [(slug, scale, row)]} for every committed result; a result that checks several ids
    (result["checks"], e.g. the architecture claim) gives each id its own row and verdict. A result.json
    that is not a valid result stops the build with a ValueError naming it (read_result)."""
    out = {}
    for slug in claims.MODULES:
        for scale in SHOWN_SCALES:
            folder = results_root() / slug / scale
            if not (folder / "result.json").exists():
                continue
            res = read_result(folder / "result.json")
            rows = [{"measured": headline_of(res), "verdict": res["verdict"], "id": res["claim_id"]}]
            if res.get("checks"):
                rows = [{"measured": c["measured"], "verdict": c["verdict"], "id": c["id"]} for c in res["checks"]]
            data = res["provenance"]["dataset"]
            for row in rows:
                row.update(proxy=res.get("proxy", False), data=_data_label(data))
                out.setdefault(row["id"], []).append((slug, scale, row))
    return out


def _data_label(data):
    n = data.get("n_train")
    return data.get("name", "") + (f", {n:,} train images" if isinstance(n, int) and n > 0 else "")


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def scoreboard_markdown(found) -> str:
    lines = ["# Scoreboard", "",
             "Every claim of the paper (CLAIMS.md sections A and B), what the paper says, what this suite measured, "
             "and the verdict its rule gives. *Proxy* marks a claim the paper states for ImageNet, measured here on "
             "smaller data. Generated from `results/`; each measured row links to its page.", "",
             "| claim | the paper says | paper's number | measured | verdict | scale | data |",
             "|---|---|---|---|---|---|---|"]
    for cid, (says, number) in claims.PAPER_CLAIMS.items():
        rows = found.get(cid)
        if not rows:
            lines.append(f"| {cid} | {_cell(says)} | {_cell(number)} | - | not run yet | - | - |")
            continue
        for slug, scale, row in rows:
            verdict = row["verdict"] + (" (proxy)" if row["proxy"] else "")
            lines.append(f"| [{cid}](claims/{slug}-{scale}) | {_cell(says)} | {_cell(number)} "
                         f"| {_cell(row['measured'])} | **{verdict}** | {scale} | {_cell(row['data'])} |")
    lines += ["", "Hardware and software of each run: the provenance section at the end of its page."]
    return "\n".join(lines) + "\n"


def _copy_page(nb, dest, result_json):
    """The executed notebook as its run wrote it; a result annotated by hand afterwards (result["annotation"],
    e.g. nets that never left chance) gets the annotation as a marked cell under the page's title."""
    annotation = json.loads(result_json.read_text()).get("annotation") if result_json.exists() else None
    if not annotation:
        shutil.copy(nb, dest)
        return
    page = json.loads(nb.read_text())
    page["cells"].insert(1, {"cell_type": "markdown", "metadata": {}, "source": [
        "```{warning}\n", f"**Annotation, added by hand after the run.** {annotation}\n", "```\n"]})
    dest.write_text(json.dumps(page, indent=1))


def generate():
    found = _results()
    pages = BOOK / "claims"
    shutil.rmtree(pages, ignore_errors=True)
    pages.mkdir(parents=True)
    chapters = []
    for slug in claims.MODULES:
        for scale in SHOWN_SCALES:
            nb = results_root() / slug / scale / f"{slug}.ipynb"
            if nb.exists():
                _copy_page(nb, pages / f"{slug}-{scale}.ipynb", results_root() / slug / scale / "result.json")
                chapters.append(f"claims/{slug}-{scale}")
    (BOOK / "scoreboard.md").write_text(scoreboard_markdown(found))
    toc = ["format: jb-book", "root: intro", "chapters:", "- file: scoreboard", "- file: method"]
    toc += [f"- file: {c}" for c in chapters]
    (BOOK / "_toc.yml").write_text("\n".join(toc) + "\n")
    return chapters


def build(check=True):
    """Generate the pages and build HTML into book/_build/html. Returns the exit code."""
    generate()
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(BOOK)]
    proc = subprocess.run(cmd + (["--warningiserror", "--keep-going"] if check else []))
    return proc.returncode
