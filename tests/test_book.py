"""The book's generated pages, from constructed results (protocol v2 and the older v1), without a Sphinx build."""

import json
import re
import shutil
from pathlib import Path

import pytest

from alexnet_repro import claims, staleness
from alexnet_repro.book import evidence, forest, generate, pages, paper, reproducibility, standing, summary
from alexnet_repro.claims import contract
from alexnet_repro.paper_claims import IDS
from alexnet_repro.results import provenance, write_result

FIXTURE = Path(__file__).parent / "fixtures" / "result_v2.json"


def _v2(tmp_path, **over):
    res = dict(json.loads(FIXTURE.read_text()), **over)
    folder = tmp_path / "results" / res["claim"] / res["scale"]
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps(res))
    return res, folder


def _v1(tmp_path, claim, claim_id, scale="cpu", **over):
    res = {
        "claim": claim,
        "claim_id": claim_id,
        "scale": scale,
        "proxy": True,
        "paper": {},
        "measured": {},
        "verdict": "inconclusive",
        "verdict_rule": "r",
        "headline": "h",
        "provenance": provenance(
            device="cpu",
            dataset={"name": "d", "sha256": "x", "n_train": 100},
            seeds=[0, 1],
            scale=scale,
            config={},
            wall_time_s=1,
            precision="fp32",
        ),
    }
    res.update(over)
    folder = tmp_path / "results" / claim / scale
    write_result(res, folder)
    return res, folder


def test_v2_comparisons_direction_and_reasons(tmp_path):
    _v2(tmp_path)
    [entry] = evidence.load_entries()
    assert entry.verdict == "not reproduced" and entry.reason.startswith("removing conv3")
    conv3, conv4, seconds, conv5 = entry.comparisons
    assert conv3.opposite() and not conv4.opposite()  # -3 points against the paper's +2
    assert seconds.kind == "ratio" and seconds.null == 1.0 and not seconds.decides
    assert conv5.effect is None and conv5.reason == "nets never left chance"
    assert evidence.fmt_effect(conv3) == "-3.00 points (95% CI -4.00 to -2.00, 3 seeds)"
    assert evidence.fmt_effect(seconds) == "0.80x (95% CI 0.70-0.90, 3 seeds)"
    md = summary.summary_markdown([entry], "f.png", [])
    assert "the other way from the paper" in md and "removing conv3 lowered the error" in md
    assert "**2 point the other way**" not in md and "**1 point the other way**" in md
    assert 'href="claims/depth-cpu.html"' in md


def test_v1_results_still_give_rows(tmp_path):
    """The shapes of the committed v1 results: one effect in `measured`, its direction from the rule's words."""
    _v1(
        tmp_path,
        "lrn_cifar",
        "L3",
        verdict="not reproduced",
        verdict_rule="Effect: ... No effect = 0.0; the paper's side is effect < 0.0; the paper's size is ...",
        paper={"effect": -2.0},
        measured={"effect_ten_view": {"per_seed": [5.0, 6.0, 7.0], "mean": 6.0, "lo": 3.5, "hi": 8.5, "n": 3}},
    )
    _v1(
        tmp_path,
        "relu_vs_tanh",
        "R1",
        paper={"speedup": 6.0},
        verdict="partly reproduced",
        verdict_rule="Effect: speedup ... No effect = 1.0; the paper's side is effect > 1.0; ...",
        measured={"speedup": {"mean": 3.4, "lo": 3.1, "hi": 3.7, "n": 3}, "speedup_per_seed": [3.2, 3.4, 3.6]},
    )
    _v1(tmp_path, "kernels", "Q1", measured={"effect": {"per_seed": [0.1, 0.2]}})  # no interval, no side stated
    entries = {e.claim_id: e for e in evidence.load_entries()}
    [lrn] = entries["L3"].comparisons
    assert (lrn.direction, lrn.paper, lrn.per_seed) == (-1, -2.0, [5.0, 6.0, 7.0]) and lrn.opposite()
    assert entries["L3"].reason == "the 95% interval lies wholly on the other side of no effect"
    [speedup] = entries["R1"].comparisons
    assert speedup.kind == "ratio" and speedup.paper == 6.0 and speedup.direction == 1
    assert speedup.per_seed == [3.2, 3.4, 3.6]
    assert entries["R1"].reason == "right direction, but the 95% interval misses the paper's size"
    [kernels] = entries["Q1"].comparisons
    assert kernels.effect is None and kernels.direction == 0 and entries["Q1"].reason == ""


def test_scoreboard_lists_every_claim_id(tmp_path):
    _v2(tmp_path)
    _v1(
        tmp_path,
        "architecture",
        "A3",
        checks=[
            {"id": "A3", "measured": "290,400 conv1 neurons", "verdict": "does not hold"},
            {"id": "A4", "measured": "conv3 1.45%", "verdict": "does not hold"},
        ],
    )
    entries = evidence.load_entries()
    board = summary.scoreboard_html(entries)
    for cid in IDS:
        assert f"<b>{cid}</b>" in board, cid
    assert "conv3 1.45%" in board and 'href="claims/architecture-cpu.html"' in board
    assert board.count(">not run yet</span>") == len(IDS) - 3
    counts = dict(re.findall(r">([^<>]+)</span>&nbsp;(\d+)", summary.counts_html(entries)))
    assert counts["does not hold"] == "2" and counts["not reproduced"] == "1"


def test_annotated_result_is_not_read_as_an_effect(tmp_path):
    fixture = json.loads(FIXTURE.read_text())
    _v2(
        tmp_path,
        claim="ten_patch",
        claim_id="D2",
        scale="gpu",
        annotation="Added by hand after the run. All three nets stayed at chance (loss ln 10). More.",
        reason="nets never left chance",
        comparisons=[dict(fixture["comparisons"][0], label="top-1", reason="")],
    )
    [entry] = evidence.load_entries()
    assert "not read as an effect" in summary.scoreboard_html([entry])
    assert summary.direction_counts([entry]) == (0, 0, 0)
    skipped, caption = forest.forest_plot([entry], tmp_path / "f.svg")
    assert skipped == [("D2 · top-1 (gpu)", "nets never left chance")]
    assert caption == "No deciding comparison has an interval to draw yet."


def _notebook():
    long_table = (
        "<table><thead><tr><th>lr</th></tr></thead><tbody>"
        + "".join("<tr><td>0.0031622776601683794</td></tr>" for _ in range(40))
        + "</tbody></table>"
    )
    code = {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "x"}
    return {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# E5: Removing a middle layer\n\n> the paper's words"},
            dict(code, metadata={"tags": ["parameters"]}, outputs=[]),
            dict(code, metadata={"tags": ["injected-parameters"]}, outputs=[]),
            dict(
                code,
                outputs=[
                    {"output_type": "stream", "name": "stderr", "text": "a warning\n"},
                    {
                        "output_type": "execute_result",
                        "execution_count": 1,
                        "metadata": {},
                        "data": {"text/html": long_table, "text/plain": "t"},
                    },
                ],
            ),
            {"cell_type": "markdown", "metadata": {}, "source": "## Provenance"},
            dict(code, outputs=[{"output_type": "stream", "name": "stdout", "text": '{"source": "/home/x/data.tar"}'}]),
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_claim_page_reads_as_a_report(tmp_path):
    res, folder = _v2(tmp_path)
    (folder / "seeds.csv").write_text("seed,val\n0,1\n")
    entry = evidence.page_entry(res, folder)
    downloads = pages.copy_downloads(entry, tmp_path / "book")
    assert downloads == [("result.json", "depth-cpu/result.json"), ("seeds.csv", "depth-cpu/seeds.csv")]
    assert "/home/" not in (tmp_path / "book" / "depth-cpu" / "result.json").read_text()
    page = pages.claim_page(_notebook(), entry, [entry], downloads)
    text = json.dumps(page)
    assert page["cells"][0]["source"] == "# E5, cpu scale: Removing a middle layer"
    top = page["cells"][1]["source"]
    assert "not reproduced" in top and "{download}`seeds.csv" in top
    assert "| not testable at this scale: nets never left chance |" in top
    assert "Looks at the data: 2026-12-01, 3 seeds: not reproduced (the planned look)." in top
    code_cells = [c for c in page["cells"] if c["cell_type"] == "code"]
    assert len(code_cells) == 1 and "hide-input" in code_cells[0]["metadata"]["tags"]
    html_out = code_cells[0]["outputs"][0]["data"]["text/html"]
    assert html_out.count("<td>0.00316</td>") == pages.MAX_TABLE_ROWS and "28 more rows" in html_out
    assert len(code_cells[0]["outputs"]) == 1  # the stderr output is dropped
    provenance_md = page["cells"][-1]["source"]
    assert "| commit | `0123456789ab` |" in provenance_md and "9,469 training, 3,925 validation" in provenance_md
    # the fixture's commit is in no clone's history and it records no decision version: unknowable
    assert "unknown (no commit" in provenance_md and "{dropdown} The full provenance" in provenance_md
    assert "/home/" not in text and text.count("## Provenance") == 1


def test_a_confirmation_shows_its_pilot_and_links_it(tmp_path):
    """A confirmation's page names the pilot it confirms, links the pilot's page and says the two are not pooled;
    the open questions name the pilot's confirmation by its verdict."""
    pilot, pilot_folder = _v2(tmp_path, verdict="inconclusive")
    conf, folder = _v2(
        tmp_path,
        scale=claims.CONFIRMATION,
        verdict="reproduced",
        pilot={
            "result": "results/depth/cpu/result.json",
            "verdict": "inconclusive",
            "headline": "+1.29 points (4 seeds)",
            "seeds": [0, 1, 2, 3],
            "comparisons": [],
        },
    )
    entries = evidence.load_entries()
    assert [e.scale for e in entries] == [claims.CONFIRMATION, "cpu"]
    page = pages.claim_page(_notebook(), entries[0], entries, [])
    top = page["cells"][1]["source"]
    assert "The pilot this confirms ([cpu scale](depth-cpu.ipynb), seeds 0, 1, 2, 3): inconclusive" in top
    assert "never pooled" in top and "[cpu: inconclusive](depth-cpu.ipynb)" in top
    for c in entries[1].comparisons:  # the pilot's inconclusive comparisons, with the seeds they need
        c.verdict, c.seeds_needed = "inconclusive", 10
    assert "its confirmation on fresh seeds: reproduced" in "\n".join(reproducibility.open_questions(entries))


def test_code_status_compares_code_versions(monkeypatch):
    res = json.loads(FIXTURE.read_text())
    res["provenance"]["decision_version"] = contract.SCHEME + "c0de1"
    monkeypatch.setattr(staleness, "decision_version", lambda module: contract.SCHEME + "c0de1")
    assert evidence.code_status(res) == (res["provenance"]["git_commit"], "current")
    monkeypatch.setattr(staleness, "decision_version", lambda module: contract.SCHEME + "c0de2")
    assert evidence.code_status(res)[1].startswith("stale")
    res["provenance"]["git_commit"] += "+dirty"
    assert evidence.code_status(res)[1].endswith("run from uncommitted changes")


def test_round_long_floats_keeps_times_and_versions():
    assert (
        pages.round_long_floats("lr 0.0031622776601683794, err 51.959999999999994, n 353914.14141414146")
        == "lr 0.00316, err 51.96, n 353,914"
    )
    assert (
        pages.round_long_floats("at 02:19:46.602249, torch 2.14.1, 0.2822")
        == "at 02:19:46.602249, torch 2.14.1, 0.2822"
    )


def test_report_claims_page_and_forest(tmp_path):
    _v2(tmp_path)
    entries = evidence.load_entries()
    md = reproducibility.report_markdown(entries)
    for section in (
        "Scope of reproducibility",
        "Methodology",
        "Departures from the paper's recipe",
        "Compute actually used",
        "Results",
        "What was easy",
        "What was difficult",
        "Open questions",
        "How to cite",
    ):
        assert f"{section}" in md, section
    assert "a test CPU" in md and "10 min" in md
    page = paper.claims_page_markdown(entries)
    for cid in IDS:
        assert f"| {cid} |" in page, cid
    assert "[cpu](claims/depth-cpu.ipynb)" in page and "56.522% top-1" in page and "CaffeNet" in page
    skipped, caption = forest.forest_plot(entries, tmp_path / "forest.svg")
    svg = (tmp_path / "forest.svg").read_text()
    assert "E5 · without conv3" in svg and "not reproduced" in svg  # text stays text: sharp, searchable
    assert skipped == [("E5 · without conv5 (cpu)", "nets never left chance")]
    assert caption == (
        "Of the 2 deciding comparisons drawn (cpu), 1 lies wholly on the paper's side of no effect, "
        "0 cover no effect, and 1 lies wholly on the other side (E5 · without conv3)."
    )


def test_generate_writes_every_page(tmp_path, monkeypatch):
    book = tmp_path / "book"
    shutil.copytree(Path(__file__).parent.parent / "book", book, ignore=shutil.ignore_patterns("_build", "claims"))
    res, folder = _v2(tmp_path)
    (folder / "depth.ipynb").write_text(json.dumps(_notebook()))
    assert generate(book) == ["claims/depth-cpu"]
    for name in (
        "summary.md",
        "report.md",
        "paper_claims.md",
        "summary_forest.svg",
        "claims/depth-cpu.ipynb",
        "claims/depth-cpu/result.json",
    ):
        assert (book / name).exists(), name
    toc = (book / "_toc.yml").read_text()
    assert "root: summary" in toc and "- file: claims/depth-cpu" in toc


def test_mathjax_is_served_from_the_book(tmp_path):
    pytest.importorskip("mathjax", reason="django-static-mathjax is not installed")
    from alexnet_repro.book import copy_mathjax

    copy_mathjax(tmp_path / "mathjax")
    assert (tmp_path / "mathjax" / "tex-chtml.js").stat().st_size > 500_000
    assert any((tmp_path / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert "Apache License" in (tmp_path / "mathjax" / "LICENSE").read_text()


# --- the landing page: the deciding result of each claim, and its statements against results/ ----------------


def _entry(claim_id, scale="cpu", verdict="inconclusive", comparisons=(), result=None):
    return evidence.Entry(
        claim_id=claim_id,
        slug="x",
        scale=scale,
        title="t",
        verdict=verdict,
        reason="",
        proxy=True,
        result=result or {},
        folder=Path("."),
        comparisons=list(comparisons),
        measured_text="m",
    )


def _comparison(direction, lo, hi, kind="difference"):
    return evidence.MeasuredComparison(
        label="c", kind=kind, direction=direction, effect={"mean": (lo + hi) / 2, "lo": lo, "hi": hi, "n": 4}
    )


def test_direction_line_counts_intervals_of_both_directions():
    """Only an interval wholly on the other side of no effect resolves the other way, whichever side the paper
    claims; an interval straddling no effect with its mean on the other side points the other way, unresolved."""
    cases = {  # claim id: (the paper's direction, lo, hi) -> (opposite, resolved)
        "R1": ((+1, -3.0, -1.0), (True, True)),  # the paper: > 0; wholly below
        "M1": ((-1, +1.0, +3.0), (True, True)),  # the paper: < 0; wholly above
        "L2": ((-1, -0.5, +1.5), (True, False)),  # the paper: < 0; straddles zero, mean above: the old bug
        "O1": ((+1, -1.5, +0.5), (True, False)),  # the paper: > 0; straddles zero, mean below
        "D3": ((-1, -3.0, -1.0), (False, False)),  # the paper's side, wholly
        "E5": ((-1, -2.0, +0.5), (False, False)),  # straddles, mean on the paper's side
    }
    entries = []
    for cid, ((direction, lo, hi), (opposite, resolved)) in cases.items():
        c = _comparison(direction, lo, hi)
        assert (c.opposite(), c.opposite_resolved()) == (opposite, resolved), cid
        entries.append(_entry(cid, comparisons=[c]))
    ratio = _comparison(-1, 1.2, 1.5, kind="ratio")  # the paper: < 1x; wholly above 1x
    assert ratio.opposite() and ratio.opposite_resolved()
    assert summary.direction_counts(entries) == (6, 4, 2)
    line = summary.direction_line(entries)
    assert "Of 6 measured comparisons" in line and "**4 point the other way**" in line and "for 2 of them" in line
    # a superseded pilot is not counted: the claim's confirmation decides it
    entries.append(_entry("L2", scale=claims.CONFIRMATION, comparisons=[_comparison(-1, -2.0, -1.0)]))
    assert summary.direction_counts(entries) == (6, 3, 2)


def test_the_deciding_result_of_a_claim():
    def decides(*scales_verdicts):
        es = [_entry("L2", scale=s, verdict=v) for s, v in scales_verdicts]
        d = standing.deciding(es)
        return d and (d.scale, d.verdict)

    assert decides(("imagenette", "reproduced"), ("cpu", "inconclusive")) == ("cpu", "inconclusive")
    assert decides(("cpu", "inconclusive"), (claims.CONFIRMATION, "reproduced")) == (claims.CONFIRMATION, "reproduced")
    assert decides(("cpu", "partly reproduced"), ("gpu", "reproduced")) == ("gpu", "reproduced")
    assert decides(("gpu", "reproduced"), ("paper", "not reproduced")) == ("paper", "not reproduced")
    # nets at chance at the gpu scale do not overrule a cpu result that read the claim
    assert decides(("cpu", "partly reproduced"), ("gpu", "not testable at this scale")) == ("cpu", "partly reproduced")
    assert decides(("gpu", "not testable at this scale")) == ("gpu", "not testable at this scale")
    assert decides(("imagenette", "not testable at this scale")) == ("imagenette", "not testable at this scale")
    assert decides(("smoke", "plumbing check (no verdict)"), ("imagenette", "inconclusive")) == (
        "imagenette",
        "inconclusive",
    )
    assert decides(("smoke", "plumbing check (no verdict)")) == ("smoke", "plumbing check (no verdict)")
    assert decides() is None


def recomputed_landing(root: Path) -> dict:
    """What the landing page must say, recomputed from the result files under `root` (the deciding result of each
    claim by standing.deciding, which test_the_deciding_result_of_a_claim pins down): {claim id: (scale, verdict)},
    the verdict counts per paper claim, and the direction counts from the deciding comparisons' raw numbers."""
    found = {}
    for f in sorted(root.glob("*/*/result.json")):
        res = json.loads(f.read_text())
        for cid, verdict in (
            [(c["id"], c["verdict"]) for c in res["checks"]]
            if res.get("checks")
            else [(res["claim_id"], res["verdict"])]
        ):
            found.setdefault(cid, []).append(
                _entry(cid, scale=res["scale"], verdict=verdict, comparisons=evidence.comparisons_of(res), result=res)
            )
    deciding = {cid: standing.deciding(es) for cid, es in found.items()}
    deciding = {cid: e for cid, e in deciding.items() if e is not None}
    stated = opposite = resolved = 0
    for cid, e in deciding.items():
        if cid in standing.FINDINGS or e.result.get("annotation"):
            continue
        raw = e.result.get("comparisons") if e.result.get("protocol", 1) >= 2 else None
        for c in raw if raw is not None else [vars(c) for c in e.comparisons]:
            if not (c.get("decides", True) and c.get("effect") and c.get("direction")):
                continue
            null = 1.0 if c.get("kind") == "ratio" else 0.0
            side = [(c["effect"][k] - null) * c["direction"] for k in ("mean", "lo", "hi")]
            stated += 1
            opposite += side[0] < 0
            resolved += side[0] < 0 and side[1] < 0 and side[2] < 0
    paper_ids = [cid for cid in IDS if cid not in standing.FINDINGS]
    counts = {}
    for cid in paper_ids:
        v = deciding[cid].verdict if cid in deciding else "not run yet"
        counts[v] = counts.get(v, 0) + 1
    return {
        "deciding": {cid: (e.scale, e.verdict) for cid, e in deciding.items()},
        "counts": counts,
        "direction": (stated, opposite, resolved),
    }


def landing_statements(md: str) -> dict:
    """What the landing page's markdown states: each standing row's claim, link and verdict, the counts, the
    direction counts."""

    rows = re.findall(
        r'<tr><td class="s-id"><a href="claims/([\w_]+)-([\w-]+)\.html"><b>(\w+)</b></a></td>'
        r'<td><span class="verdict"[^>]*>([^<]+)</span>',
        md,
    )
    counts_p = re.search(r'<p class="verdict-counts">(.*?)</p>', md).group(1)
    counts = {v: int(n) for v, n in re.findall(r">([^<>]+)</span>&nbsp;(\d+)", counts_p)}
    m = re.search(r"Of (\d+) measured comparisons.*?\*\*(\d+) point the other way\*\*.*?for (\d+) of them", md)
    return {
        "rows": {cid: (scale, verdict) for slug, scale, cid, verdict in rows},
        "counts": counts,
        "direction": tuple(int(x) for x in m.groups()),
    }


def test_landing_page_states_what_the_committed_results_say(monkeypatch):
    root = Path(__file__).parent.parent / "results"
    monkeypatch.setenv("ALEXNET_REPRO_RESULTS", str(root))
    entries = evidence.load_entries()
    md = summary.summary_markdown(entries, "f.svg", [], "")
    said, truth = landing_statements(md), recomputed_landing(root)
    experiments = [cid for cid in IDS if cid not in standing.CHECKS]
    assert set(said["rows"]) == {cid for cid in experiments if cid in truth["deciding"]} - set(standing.FINDINGS)
    for cid, (scale, verdict) in said["rows"].items():
        assert truth["deciding"][cid] == (scale, verdict), cid
        assert json.loads((root / _slug(cid) / scale / "result.json").read_text())["verdict"] == verdict, cid
    assert said["counts"] == truth["counts"]
    assert sum(said["counts"].values()) == len(IDS) - len(standing.FINDINGS)
    assert said["direction"] == truth["direction"]
    for cid in IDS:  # every claim id is named on the page, checks included
        assert f"<b>{cid}</b>" in md or f">{cid}</a>" in md, cid


def _slug(cid):
    return next(slug for slug, mod in claims.registry().items() if mod.CLAIM.id == cid)


# --- tables for readers -------------------------------------------------------------------------------------


def test_report_table_formats_for_readers():
    import math

    import pandas as pd

    from alexnet_repro import report

    df = pd.DataFrame(
        {
            "best_lr": [0.003, 0.0316227766, float("nan")],
            "final_test_error": [51.959999, math.inf, 0.5],
            "images": [12345, 7, 0],
            "why": ["a", None, "c"],
        }
    )
    html_out = report.table(df).to_html()
    assert "row_heading" not in html_out  # no index column
    assert ">best lr<" in html_out and ">final test error<" in html_out
    cells = [c.strip() for c in re.findall(r"<td[^>]*>([^<]*)</td>", html_out)]
    assert cells == ["0.003", "51.96", "12,345", "a", "0.0316", "–", "7", "–", "–", "0.5", "0", "c"]
    keyed = report.table(df.set_index("why"), index=True).to_html()  # a meaningful index stays, as a column
    assert ">why<" in keyed and "row_heading" not in keyed


def test_report_table_reads_every_committed_table():

    import pandas as pd

    from alexnet_repro import report

    csvs = sorted((Path(__file__).parent.parent / "results").glob("*/*/*.csv"))
    assert csvs
    for f in csvs:
        html_out = report.table(pd.read_csv(f)).to_html()
        bad = re.findall(r"<td[^>]*>\s*(nan|NaN|inf|-inf|None)\s*</td>", html_out)
        assert (
            not bad
            and "row_heading" not in html_out
            and "_" not in "".join(re.findall(r"<th[^>]*col_heading[^>]*>([^<]*)</th>", html_out))
        ), f
