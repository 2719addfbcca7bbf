"""D2 as two comparisons of the ablation family: the training half (crops + flips vs the centre crop) and the
test half (10 views vs the centre crop, on the same trained net)."""

import math

import pytest

from alexnet_repro.claims import ten_patch
from alexnet_repro.claims.family import assessment, training
from alexnet_repro.claims.family.arms import NO_CROP_FLIP, PAPER
from alexnet_repro.verdict import NOT_TESTABLE, PLUMBING, REPRODUCED

from conftest import run_notebook


def _row(arm, seed, centre, ten=None, gap=5.0):
    row = {
        "arm": arm,
        "seed": seed,
        "val_top1": centre,
        "gap": gap,
        "left_chance": centre < 80,
        "late_gain": 0.2,
        "val_top5": 1.0,
        "train_top1": centre - gap,
        "converged_epoch": 10,
        "final_train_loss": 0.5,
        "seconds_per_epoch": 1.0,
    }
    return {**row, "val_top1_ten": ten, "val_top5_ten": 0.5} if ten is not None else row


def test_the_test_half_pairs_two_evaluations_of_one_net_and_the_training_half_two_nets():
    rows = [_row(PAPER.name, s, 30.0 + s, 28.4 + s) for s in range(4)] + [
        _row(NO_CROP_FLIP.name, s, 36.0 + s, gap=20.0) for s in range(4)
    ]
    comparisons, measured, verdict, reason, headline = assessment.assess(ten_patch, rows, "cpu")
    by = {c["label"]: c for c in comparisons}
    assert by[ten_patch.TEST_HALF]["per_seed"] == pytest.approx([-1.6] * 4)
    assert by[ten_patch.TEST_HALF]["verdict"] == REPRODUCED  # -1.6 lies in the paper's band (-2.25, -1.0)
    assert by[ten_patch.TRAINING_HALF]["per_seed"] == pytest.approx([-6.0] * 4)
    assert by[ten_patch.GAP]["decides"] is False
    assert verdict == REPRODUCED and "val_top1_ten" in measured["arms"][PAPER.name]
    assert "val_top1_ten" not in measured["arms"][NO_CROP_FLIP.name]


def test_a_net_at_chance_makes_its_comparison_not_testable():
    rows = [_row(PAPER.name, s, 89.5, 89.5) for s in range(3)] + [_row(NO_CROP_FLIP.name, s, 89.0) for s in range(3)]
    comparisons, _, verdict, reason, _ = assessment.assess(ten_patch, rows, "cpu")
    assert verdict == NOT_TESTABLE and all("never left chance" in c["reason"] for c in comparisons)


def test_d2_smoke_through_papermill_evaluates_ten_views_once(imagenette_data, tmp_path, monkeypatch):
    result, _ = run_notebook("ten_patch", tmp_path, data_root=str(imagenette_data))
    assert result["claim_id"] == "D2" and result["verdict"] == PLUMBING
    paper = result["measured"]["arms"][PAPER.name]
    assert len(paper["val_top1_ten"]["per_seed"]) == 2 and all(0 <= e <= 100 for e in paper["val_top1_ten"]["per_seed"])
    # The evaluation is cached beside the run: assembling the claim again neither trains nor evaluates.
    monkeypatch.setattr("alexnet_repro.runs.train", lambda *a, **k: pytest.fail("trained again"))
    monkeypatch.setattr(training, "predict", lambda *a, **k: pytest.fail("evaluated again"))
    again = ten_patch.run("smoke", data_root=imagenette_data, out_dir=tmp_path / "again")
    test_half = {c["label"]: c for c in again["comparisons"]}[ten_patch.TEST_HALF]
    assert all(
        math.isclose(a, b)
        for a, b in zip(
            test_half["per_seed"], {c["label"]: c for c in result["comparisons"]}[ten_patch.TEST_HALF]["per_seed"]
        )
    )
