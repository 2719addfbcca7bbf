"""The book: pages generated from results/ on every build (gitignored), then a jupyter-book 1.x build (offline,
no re-execution). MathJax is copied into the built site's _static/mathjax, not into book/_static, whose every .js
jupyter-book would load on every page; so no page needs the internet for its formulas.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from ..audit import every_timeline
from ..log import LOG
from ..paths import REPO_ROOT, scrub_paths
from ..results import read_notebook
from .evidence import load_entries, page_entry
from .forest import forest_plot
from .pages import claim_page, copy_downloads
from .paper import claims_page_markdown
from .reproducibility import report_markdown, result_pages
from .summary import summary_markdown

BOOK = REPO_ROOT / "book"
FIGURE = "summary_forest.svg"
# What of MathJax 3's es5 build the pages load: the TeX-to-HTML component, its fonts, and what it loads on
# demand (TeX extensions, the menu, accessibility).
MATHJAX_PARTS = ("tex-chtml.js", "output/chtml", "input/tex/extensions", "ui", "a11y")


class BookError(ValueError):
    """A book that cannot be built as asked (exit 2 with one line)."""


def mathjax_source() -> Path:
    """MathJax 3's es5 folder as the django-static-mathjax package ships it (Apache-2.0, in requirements.txt)."""
    try:
        import mathjax  # the import name of django-static-mathjax
    except ImportError:
        raise BookError(
            "MathJax is not installed, so the book's formulas would need the internet: "
            "pip install django-static-mathjax (it is in requirements.txt)"
        ) from None
    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").exists():
        raise BookError(f"MathJax's tex-chtml.js is missing under {es5}; reinstall django-static-mathjax")
    return es5


def copy_mathjax(dest: Path):
    es5 = mathjax_source()
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for part in MATHJAX_PARTS:
        src = es5 / part
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / part)
    shutil.copy(es5.parent / "LICENSE", dest / "LICENSE")


def generate(book=BOOK):
    """Write every generated page from results/; returns the claim pages' toc entries."""
    entries = load_entries()
    pages_dir = book / "claims"
    shutil.rmtree(pages_dir, ignore_errors=True)
    pages_dir.mkdir(parents=True)
    pages = [page_entry(e.result, e.folder) for e in result_pages(entries)]
    chapters = []
    for e in pages:
        nb_path = e.folder / f"{e.slug}.ipynb"
        if nb_path.exists():
            siblings = [s for s in pages if s.slug == e.slug]
            page = claim_page(read_notebook(nb_path), e, siblings, copy_downloads(e, pages_dir))
            (book / f"{e.page}.ipynb").write_text(json.dumps(page, indent=1))
            chapters.append(e.page)
    skipped, caption = forest_plot(entries, book / FIGURE)
    (book / "summary.md").write_text(summary_markdown(entries, FIGURE, skipped, caption, audit_line()))
    (book / "report.md").write_text(report_markdown(entries))
    (book / "paper_claims.md").write_text(claims_page_markdown(entries))
    toc = [
        "format: jb-book",
        "root: summary",
        "parts:",
        "- caption: The report",
        "  chapters:",
        "  - file: report",
        "  - file: paper_claims",
        "  - file: intro",
        "  - file: method",
        "- caption: Claim by claim",
        "  chapters:",
    ] + [f"  - file: {c}" for c in chapters]
    (book / "_toc.yml").write_text("\n".join(toc) + "\n")
    return chapters


def audit_line() -> str:
    """The landing page's count of audit flags (audit.py): every flag, and how many are acknowledged."""
    flags = [(t, kind, reason) for t in every_timeline() for kind, _, reason in t.acknowledged()]
    if not flags:
        return "**Audit**: no result's rule changed after its runs, and no runs came from uncommitted changes."
    acked = sum(1 for *_, reason in flags if reason)
    where = ", ".join(sorted({f"[{t.slug}, {t.scale}](claims/{t.slug}-{t.scale}.ipynb)" for t, *_ in flags}))
    return (
        f"**Audit**: {len(flags)} flags on {len({(t.slug, t.scale) for t, *_ in flags})} results ({where}): "
        f"{acked} acknowledged with a reason, {len(flags) - acked} not; each is shown on its page "
        "(`python -m alexnet_repro audit`)."
    )


def check_pages(root=None):
    """BookError unless every committed claim page (executed notebook) is what today's code renders from the files
    beside it (rendering.stale_pages: the stamp each rendering records, compared without executing anything)."""
    from ..rendering import stale_pages

    stale = stale_pages(root)
    if stale:
        shown = "; ".join(f"{scrub_paths(str(folder))}: {', '.join(reasons[:2])}" for folder, reasons in stale[:4])
        more = f"; and {len(stale) - 4} more" if len(stale) > 4 else ""
        raise BookError(
            f"{len(stale)} claim page{'s are' if len(stale) > 1 else ' is'} not what today's code renders from "
            f"{'their results' if len(stale) > 1 else 'its result'} ({shown}{more}): "
            "python -m alexnet_repro render (no training) renders them again"
        )


def build():
    """Generate the pages and build HTML into book/_build/html. Returns the exit code."""
    try:
        mathjax_source()  # before the build: a book without it would fetch MathJax from the internet
        generate()  # first: a result or notebook that cannot be read is named as such
        check_pages()
    except BookError as e:
        LOG.error(str(e))
        return 2
    jupyter_book = str(Path(sys.executable).parent / "jupyter-book")
    # --all: Sphinx rewrites only changed pages, and an unchanged page would keep a sidebar without the pages added.
    proc = subprocess.run([jupyter_book, "build", str(BOOK), "--all", "--warningiserror", "--keep-going"])
    if proc.returncode == 0:
        copy_mathjax(BOOK / "_build" / "html" / "_static" / "mathjax")
    return proc.returncode
