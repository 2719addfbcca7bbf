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

BOOK = REPO_ROOT / "book"
SHOWN_SCALES = ("paper", "gpu", "cpu")  # smoke results are for tests, not for readers


def _results():
    """{claim_id: [(slug, scale, result, folder)]} for every committed result."""
    out = {}
    for slug in claims.MODULES:
        for scale in SHOWN_SCALES:
            folder = results_root() / slug / scale
            if (folder / "result.json").exists():
                res = json.loads((folder / "result.json").read_text())
                out.setdefault(res["claim_id"], []).append((slug, scale, res, folder))
    return out


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
        for slug, scale, res, _ in rows:
            verdict = res["verdict"] + (" (proxy)" if res.get("proxy") else "")
            data = res["provenance"]["dataset"]
            page = f"claims/{slug}-{scale}"
            lines.append(f"| [{cid}]({page}) | {_cell(says)} | {_cell(number)} | {_cell(res.get('headline', ''))} "
                         f"| **{verdict}** | {scale} | {_cell(data.get('name', ''))}, "
                         f"{data.get('n_train', '?'):,} train |")
    lines += ["", "Hardware and software of each run: the provenance section at the end of its page."]
    return "\n".join(lines) + "\n"


def generate():
    found = _results()
    pages = BOOK / "claims"
    shutil.rmtree(pages, ignore_errors=True)
    pages.mkdir(parents=True)
    chapters = []
    for cid, rows in found.items():
        for slug, scale, _, folder in rows:
            nb = folder / f"{slug}.ipynb"
            if nb.exists():
                shutil.copy(nb, pages / f"{slug}-{scale}.ipynb")
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
