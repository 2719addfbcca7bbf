"""The built book as a person sees it: served on 127.0.0.1 and opened, page by page, in headless Chromium.

Debian's chromium, driven by Playwright (Playwright's own browser download cannot run here). The book is
the one `.ci/run` built just before the tests ($ALEXNET_REPRO_BOOK_HTML); without it the test builds one.
Screenshots of the summary and a claim page land in book/_build/screenshots.
"""
import functools
import http.server
import os
import re
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from alexnet_repro.book import standing
from alexnet_repro.paper_claims import IDS

REPO = Path(__file__).resolve().parent.parent
# Every claim id of the paper (BN, not in the paper, is a finding): the landing page's first screen names each.
PAPER_IDS = [cid for cid in IDS if cid not in standing.FINDINGS]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = REPO / "book" / "_build" / "screenshots"
# A path on some machine (not "~/.cache/..." or a "/path/to/..." placeholder in the docs)
MACHINE_PATH = re.compile(r"(?<![\w~.])/(?:work|home|tmp|root|srv|mnt|Users|var|opt)/[\w.+\-/]+")


def _site() -> Path:
    built = os.environ.get("ALEXNET_REPRO_BOOK_HTML")
    if built and (Path(built) / "index.html").exists():
        return Path(built)
    from alexnet_repro import book
    os.environ["ALEXNET_REPRO_RESULTS"] = str(REPO / "results")  # the committed results, not the test's tmp
    assert book.build() == 0, "the book does not build"
    return REPO / "book" / "_build" / "html"


# What scrolls sideways: the page itself, or any table (or the box around it) wider than the space it has.
SIDEWAYS = """() => { const out = [];
    const page = document.documentElement.scrollWidth;
    if (page > window.innerWidth) out.push(`the page is ${page} px wide`);
    for (const t of document.querySelectorAll('article table')) {
        if (!t.offsetParent) continue;   // folded away (a closed <details>)
        const box = t.closest('.pst-scrollable-table-container, .output, .cell_output') || t.parentElement;
        if (t.scrollWidth > box.clientWidth + 1 || box.scrollWidth > box.clientWidth + 1)
            out.push(`a table ${t.scrollWidth} px wide in ${box.clientWidth} px: ${t.innerText.slice(0, 40)}`);
    }
    return out; }"""

# The words on the first screen: every text node whose box starts above the bottom of the viewport.
FIRST_SCREEN = """() => { const words = [];
    const walk = document.createTreeWalker(document.querySelector('article') || document.body, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) { const r = document.createRange(); r.selectNodeContents(walk.currentNode);
        const box = r.getBoundingClientRect();
        if (box.height && box.top < window.innerHeight) words.push(walk.currentNode.textContent); }
    return words.join(' '); }"""

# The landing page's claim rows (id -> verdict) and verdict counts, as the reader sees them.
LANDING = r"""() => { const rows = {};
    for (const tr of document.querySelectorAll('table.standing tbody tr'))
        rows[tr.querySelector('td').innerText.trim()] = tr.querySelector('.verdict').innerText.trim();
    const counts = {};
    for (const v of document.querySelectorAll('.verdict-counts .verdict'))
        counts[v.innerText.trim()] = parseInt(v.nextSibling.textContent.replace(/\u00a0/g, ' ').trim());
    const m = document.body.innerText.match(/Of (\d+) measured comparisons[^]*?(\d+) point the other way[^]*?for (\d+) of them/);
    return [rows, counts, m ? m.slice(1).map(Number) : null]; }"""


# [formulas on the page, formulas MathJax rendered, the article's text], once MathJax (deferred) has typeset
MATHS = """async () => {
    const maths = document.querySelectorAll('.math').length;
    if (maths && window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
    return [maths, document.querySelectorAll('mjx-container').length,
            (document.querySelector('article') || document.body).innerText]; }"""


class _Anchors(HTMLParser):
    """Every id/name a page defines, and every href it links to."""
    def __init__(self):
        super().__init__()
        self.ids, self.hrefs = set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.ids.update(v for k, v in a.items() if k in ("id", "name") and v)
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])


def _parse(path: Path) -> _Anchors:
    p = _Anchors()
    p.feed(path.read_text(errors="replace"))
    return p


def broken_links(site: Path, pages) -> list:
    """Internal links whose file is missing, or whose #anchor the target page does not define."""
    parsed, broken = {}, []
    for page in pages:
        for href in _parse(page).hrefs:
            url = urlparse(href)
            if url.scheme or href.startswith("//") or href.startswith("mailto:"):
                continue  # a link out is not a request; the browser check below catches requests
            target = (page.parent / unquote(url.path)).resolve() if url.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)}: {href} (no such file)")
            elif url.fragment and target.suffix == ".html":
                ids = parsed.setdefault(target, _parse(target)).ids
                if unquote(url.fragment) not in ids:
                    broken.append(f"{page.relative_to(site)}: {href} (no such anchor)")
    return broken


@pytest.fixture(scope="module")
def served():
    if not CHROMIUM:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)")
    pytest.importorskip("playwright", reason="playwright is not installed (pip install -r requirements.txt)")
    site = _site()
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield site, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_internal_links_resolve_and_no_machine_path_is_shown(served):
    site, _ = served
    pages = sorted(p for p in site.rglob("*.html") if not p.relative_to(site).parts[0].startswith("_"))
    assert len(pages) > 5
    assert broken_links(site, pages) == []
    fuzzy = [h for p in pages for h in _parse(p).hrefs if re.match(r"https?://[\w\-]+\.(md|py|txt|csv|json)/?$", h)]
    assert fuzzy == [], "file names turned into links by fuzzy linkify"
    leaked = {p.relative_to(site).as_posix(): MACHINE_PATH.findall(p.read_text())[:3] for p in pages}
    assert {k: v for k, v in leaked.items() if v} == {}   # folded JSON and hidden code included


def test_every_page_in_chromium(served):
    from playwright.sync_api import sync_playwright
    site, base = served
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if not p.relative_to(site).parts[0].startswith("_"))
    claim_pages = [p for p in pages if p.startswith("claims/")]
    assert claim_pages, "no claim pages were built"
    outside, errors, problems, with_maths, landing = [], [], [], [], None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        def route(r):  # nothing may leave the machine: record and refuse any other host
            if urlparse(r.request.url).hostname == "127.0.0.1" or r.request.url.startswith("data:"):
                return r.continue_()
            outside.append(r.request.url)
            return r.abort()
        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and errors.append(f"{page.url}: {m.text}"))
        page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
        page.goto(base + "index.html")
        page.wait_for_url("**/summary.html")  # the landing page is the summary (index.html redirects there)
        for rel in pages:
            if rel == "index.html":
                continue
            page.goto(base + rel, wait_until="load")
            maths, rendered, text = page.evaluate(MATHS)
            if maths:
                if rendered < maths or re.search(r"\\(frac|sum|alpha|epsilon)\b", text):
                    problems.append(f"{rel}: {maths} formulas, {rendered} rendered by MathJax")
                with_maths.append(rel)
            if rel.startswith("claims/"):
                scale = rel.rsplit("-", 1)[1].removesuffix(".html")
                if f"{scale} scale" not in page.title():
                    problems.append(f"{rel}: title {page.title()!r} does not name the {scale} scale")
            if rel.startswith("claims/") and not page.query_selector("article .cell_output img, article svg.figure, "
                                                                  "article img"):
                problems.append(f"{rel}: no figure")
            for viewport in (1280, 390):  # a laptop, then a phone
                page.set_viewport_size({"width": viewport, "height": 900})
                problems += [f"{rel} at {viewport} px: {p}" for p in page.evaluate(SIDEWAYS)]
            page.set_viewport_size({"width": 1280, "height": 900})
            if rel == "summary.html":
                page.evaluate("window.scrollTo(0, 0)")
                first = page.evaluate(FIRST_SCREEN)
                missing = [cid for cid in PAPER_IDS if not re.search(rf"(?<![\w]){re.escape(cid)}(?![\w])", first)]
                if missing:
                    problems.append(f"summary.html: the first screen at 1280 px does not name {missing}")
                landing = page.evaluate(LANDING)
                page.screenshot(path=str(SCREENSHOTS / "summary.png"), full_page=True)
        shown = [p for p in claim_pages if p.startswith("claims/relu_vs_tanh")] or claim_pages
        page.goto(base + shown[0], wait_until="load")
        page.screenshot(path=str(SCREENSHOTS / "claim_page.png"), full_page=True)
        browser.close()
    found = [f"request off the machine: {u}" for u in outside[:5]] + [f"console error: {e}" for e in errors[:5]]
    assert not found + problems, "\n".join(found + problems)
    assert with_maths, "no page holds a formula: the MathJax check checked nothing"
    # the landing page's numbers, as shown, against those recomputed from the results the book was built from
    from test_book import recomputed_landing
    rows, counts, direction = landing
    truth = recomputed_landing(REPO / "results")
    assert rows and all(truth["deciding"].get(cid, (None, "not run yet"))[1] == verdict for cid, verdict in rows.items()), rows
    assert counts == truth["counts"] and tuple(direction) == truth["direction"]
