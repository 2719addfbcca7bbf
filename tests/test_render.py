"""Claim pages rendered from committed results (rendering.py, `python -m alexnet_repro render`): every committed
page is what today's code renders, a page rendered again is the same file, and rendering writes no result file."""

import base64
import hashlib
import json
import shutil

import matplotlib
import pytest

from alexnet_repro import rendering
from alexnet_repro.__main__ import main
from alexnet_repro.book import BookError, check_pages
from alexnet_repro.book.standing import FINDINGS
from alexnet_repro.paths import REPO_ROOT

RESULTS = REPO_ROOT / "results"


def test_every_committed_page_is_what_todays_code_renders():
    stale = rendering.stale_pages(RESULTS)
    assert not stale, (
        "committed pages that today's code would render differently (run `python -m alexnet_repro render`): "
        + "; ".join(f"{folder.relative_to(RESULTS)}: {', '.join(reasons)}" for folder, reasons in stale)
    )
    assert len(rendering.committed_pages(RESULTS)) >= 30  # the stamp is read from every page, not from none


def _page(nb, images=True):
    """What a reader sees of an executed notebook, and the stamp of what rendered it; images by their bytes only
    when `images` (PNG bytes depend on matplotlib's version, not on the result)."""

    def output(o):
        data = {k: (v if images or not k.startswith("image/") else "an image") for k, v in o.get("data", {}).items()}
        return o.get("output_type"), o.get("name"), o.get("text"), data

    cells = [(c["cell_type"], c["source"], [output(o) for o in c.get("outputs", [])]) for c in nb["cells"]]
    return cells, nb["metadata"][rendering.META_KEY]


def _drawn_by_this_matplotlib(nb) -> bool:
    png = next(
        o["data"]["image/png"] for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    )
    return f"Matplotlib version{matplotlib.__version__}".encode() in base64.b64decode(png)


def _vouched_result():
    """(slug, scale) of a committed result whose run.json vouches for its files by their sha256, as `run` writes
    it. A re-read rewrites result.json and leaves run.json vouching for the file `run` wrote, so not every result
    qualifies; A3's run takes a minute and always does."""
    for stamp in sorted(RESULTS.glob("*/*/run.json")):
        hashes = json.loads(stamp.read_text()).get("files_sha256") or {}
        folder = stamp.parent
        if hashes and all(
            (folder / name).exists() and hashlib.sha256((folder / name).read_bytes()).hexdigest() == sha
            for name, sha in hashes.items()
        ):
            return folder.parent.name, folder.name
    pytest.fail("no committed run.json vouches for its files: `python -m alexnet_repro run architecture --scale cpu`")


def test_rendering_a_committed_result_again_gives_its_page_and_changes_no_result_file(tmp_path):
    slug, scale = _vouched_result()
    committed = RESULTS / slug / scale
    folder = tmp_path / "results" / slug / scale  # conftest's results root for this test
    shutil.copytree(committed, folder)
    files_before = {f.name: f.read_bytes() for f in folder.iterdir() if f.name not in (f"{slug}.ipynb", "run.json")}
    stamp_before = json.loads((folder / "run.json").read_text())

    assert main(["render", slug, "--scale", scale, "--force"]) == 0

    assert {f.name: f.read_bytes() for f in folder.iterdir() if f.name in files_before} == files_before
    old, new = (json.loads((f / f"{slug}.ipynb").read_text()) for f in (committed, folder))
    assert _page(new, images=_drawn_by_this_matplotlib(old)) == _page(old, images=_drawn_by_this_matplotlib(old))
    stamp = json.loads((folder / "run.json").read_text())
    assert stamp["fingerprint"] == stamp_before["fingerprint"]  # it vouches for the same run, now with this page
    assert stamp["files_sha256"] == {
        "result.json": stamp_before["files_sha256"]["result.json"],
        f"{slug}.ipynb": hashlib.sha256((folder / f"{slug}.ipynb").read_bytes()).hexdigest(),
    }
    assert rendering.stale_reasons(folder, slug) == []
    with open(folder / "seeds.csv", "a") as f:  # a table that is not the one the page was rendered from
        f.write("\n")
    assert rendering.stale_reasons(folder, slug) == ["seeds.csv differs from the one it was rendered from"]


def test_page_code_names_the_notebook_the_claim_and_what_reports_it():
    code = rendering.page_code("dropout")
    assert {"notebooks/dropout.ipynb", "alexnet_repro.report", "alexnet_repro.figures"} <= set(code)
    assert "alexnet_repro.claims.family.figures" in code  # report.family draws the family's figures from there
    assert "alexnet_repro.engine" not in code  # training code does not run when a page renders
    assert "alexnet_repro.models.counts" in rendering.page_code("architecture")  # the notebook computes with it


def test_render_refuses_an_unknown_claim_or_a_scale_without_results(capsys):
    assert main(["render", "no_such_claim"]) == 2
    assert "choose from:" in capsys.readouterr().err
    assert main(["render", "dropout", "--scale", "paper"]) == 2  # conftest's results root holds nothing
    assert "no result to render" in capsys.readouterr().err


def test_findings_are_the_claims_not_in_the_paper():
    assert FINDINGS == ("BN",)


def test_a_page_rendered_by_other_code_is_stale_and_the_book_refuses_it(tmp_path):

    folder = tmp_path / "results" / "dropout" / "cpu"
    shutil.copytree(RESULTS / "dropout" / "cpu", folder)
    check_pages(tmp_path / "results")  # as committed: rendered by today's code
    nb = json.loads((folder / "dropout.ipynb").read_text())
    nb["metadata"][rendering.META_KEY]["page_code"]["alexnet_repro.report"] = "0" * 16  # report.py as it was once
    (folder / "dropout.ipynb").write_text(json.dumps(nb))
    assert rendering.stale_reasons(folder, "dropout") == ["alexnet_repro.report changed"]
    with pytest.raises(
        BookError, match="1 claim page is .* alexnet_repro.report changed.*python -m alexnet_repro render"
    ):
        check_pages(tmp_path / "results")
