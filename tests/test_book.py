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
