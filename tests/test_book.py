"""The book's generated pages: the scoreboard lists every claim id and links measured ones."""
import json

from alexnet_repro import book, claims
from alexnet_repro.results import provenance, write_result


def test_scoreboard_lists_every_claim_and_links_results(tmp_path, monkeypatch):
    res = {"claim": "relu_vs_tanh", "claim_id": "R1", "scale": "cpu", "proxy": True, "paper": {},
           "measured": {}, "verdict": "partly reproduced", "verdict_rule": "r", "headline": "2.00x (95% CI 1.5-2.5)",
           "provenance": provenance(device="cpu", dataset={"name": "CIFAR-10", "sha256": "x", "n_train": 10000},
                                    seeds=[0, 1, 2], scale="cpu", config={}, wall_time_s=1, precision="fp32")}
    write_result(res, tmp_path / "results" / "relu_vs_tanh" / "cpu")
    found = book._results()
    assert list(found) == ["R1"]
    md = book.scoreboard_markdown(found)
    for cid in claims.PAPER_CLAIMS:
        assert f"| {cid} |" in md or f"| [{cid}](" in md, cid
    assert "[R1](claims/relu_vs_tanh-cpu)" in md
    assert "partly reproduced (proxy)" in md and "2.00x" in md
    assert md.count("not run yet") == len(claims.PAPER_CLAIMS) - 1


def test_a_result_with_checks_gives_each_id_a_row(tmp_path):
    res = {"claim": "architecture", "claim_id": "A3", "scale": "cpu", "proxy": False, "paper": {}, "measured": {},
           "verdict": "partly reproduced", "verdict_rule": "r", "headline": "1 of 2 hold",
           "checks": [{"id": "A3", "measured": "290,400 conv1 neurons", "verdict": "does not hold"},
                      {"id": "A4", "measured": "conv3 1.45%", "verdict": "does not hold"}],
           "provenance": provenance(device="cpu", dataset={"name": "none", "sha256": "n/a"}, seeds=[],
                                    scale="cpu", config={}, wall_time_s=0, precision="fp32")}
    write_result(res, tmp_path / "results" / "architecture" / "cpu")
    md = book.scoreboard_markdown(book._results())
    assert "| [A4](claims/architecture-cpu) |" in md and "conv3 1.45%" in md
    assert md.count("not run yet") == len(claims.PAPER_CLAIMS) - 2


def test_an_annotated_result_says_so_on_the_scoreboard_and_its_page(tmp_path, monkeypatch):
    res = {"claim": "ten_patch", "claim_id": "D2", "scale": "gpu", "proxy": True, "paper": {}, "measured": {},
           "verdict": "inconclusive", "verdict_rule": "r", "headline": "+0.00 points top-1",
           "annotation": "every net stayed at chance",
           "provenance": provenance(device="cpu", dataset={"name": "imagenette", "sha256": "x"}, seeds=[0],
                                    scale="gpu", config={}, wall_time_s=1, precision="fp32")}
    folder = tmp_path / "results" / "ten_patch" / "gpu"
    write_result(res, folder)
    (folder / "ten_patch.ipynb").write_text(json.dumps(
        {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# D2"]}], "metadata": {},
         "nbformat": 4, "nbformat_minor": 5}))
    assert "+0.00 points top-1 [annotated after the run: read its note]" in book.scoreboard_markdown(book._results())
    dest = tmp_path / "page.ipynb"
    book._copy_page(folder / "ten_patch.ipynb", dest, folder / "result.json")
    cells = json.loads(dest.read_text())["cells"]
    assert cells[0]["source"] == ["# D2"] and "every net stayed at chance" in "".join(cells[1]["source"])
