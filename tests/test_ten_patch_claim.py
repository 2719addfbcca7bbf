"""D2 end to end at the smoke scale, through its notebook, on a few real Imagenette images."""
import json

import pytest
import torch

from alexnet_repro.claims import ten_patch
from alexnet_repro.data.errors import DataError
from conftest import run_notebook


def test_missing_imagenet_layout_data_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no ImageNet-layout dataset"):
        ten_patch.find_dataset(tmp_path)


def test_scales_give_nets_that_fit_their_crops():
    from alexnet_repro.models.alexnet import AlexNetConfig, build_alexnet
    for name, cfg in ten_patch.SCALES.items():
        net = build_alexnet(AlexNetConfig(width=min(cfg.width, 0.125), input_size=cfg.crop, num_classes=10))
        assert net(torch.zeros(1, 3, cfg.crop, cfg.crop)).shape == (1, 10), name


def test_d2_smoke_through_papermill(shared_data, tmp_path):
    result, _ = run_notebook("ten_patch", tmp_path, data_root=str(shared_data))
    assert result["claim_id"] == "D2" and result["proxy"] is True
    m = result["measured"]
    for seed_effect, centre, ten in zip(m["top1_effect"]["per_seed"], m["top1_centre"]["per_seed"],
                                        m["top1_ten"]["per_seed"]):
        assert 0 <= centre <= 100 and 0 <= ten <= 100
        # one smoke epoch rarely leaves chance (90% on 10 classes), and such a net is not measured (strict
        # JSON: null where the run had NaN)
        assert seed_effect == pytest.approx(ten - centre) if centre < 85 else seed_effect is None
    assert result["provenance"]["dataset"]["sha256"] and result["provenance"]["dataset"]["n_train"] == 256


def test_prefilled_seed_is_assembled_without_training_or_evaluating_again(shared_data, tmp_path, monkeypatch):
    """`--jobs` prefills each seed (training + its two evaluations) in its own process; `run` then only reads."""
    assert ten_patch.prefill_plan("smoke") == [[[{"seed": 0}]], [[{"seed": 1}]]]
    ten_patch.prefill("smoke", seed=0, data_root=shared_data)
    cached = list((tmp_path / "runs" / "ten_patch" / "smoke").glob("*/ten_patch_eval_128.json"))
    assert len(cached) == 1

    def refuse(*args, **kwargs):
        raise AssertionError("trained or evaluated again")
    monkeypatch.setattr("alexnet_repro.runs.train", refuse)
    monkeypatch.setattr(ten_patch, "predict", refuse)
    result = ten_patch.run("smoke", seeds=[0], data_root=shared_data, out_dir=tmp_path / "res")
    errs = json.loads(cached[0].read_text())
    assert result["measured"]["top1_centre"]["per_seed"] == [pytest.approx(errs["centre"][0])]
    assert result["measured"]["top1_ten"]["per_seed"] == [pytest.approx(errs["ten"][0])]


def _row(seed, centre, ten):
    return {"seed": seed, "top1_centre": centre, "top1_ten": ten, "top5_centre": 0.0, "top5_ten": 0.0,
            "top1_effect": ten - centre, "top5_effect": 0.0}


def test_nets_at_chance_are_not_measured():
    """The gpu scale's first run: three nets predicting one class each (90.9% on 10 classes) gave +0.00."""
    measured, headline, verdict = ten_patch.assess([_row(s, 90.9, 90.9) for s in range(3)], n_classes=10)
    assert verdict == "inconclusive" and headline.startswith("not measured: no seed's net left chance")
    assert all(r != r for r in measured["top1_effect"]["per_seed"])  # NaN, kept per seed


def test_a_seed_at_chance_or_diverged_is_left_out_of_the_interval():
    nan = float("nan")
    rows = [_row(0, 50.0, 48.0), _row(1, 52.0, 50.5), _row(2, 51.0, 49.2), _row(3, 89.0, 89.0), _row(4, nan, nan)]
    measured, headline, verdict = ten_patch.assess(rows, n_classes=10)
    assert measured["top1_effect"]["n"] == 3 and measured["top1_effect"]["mean"] == pytest.approx(-1.7667, abs=1e-3)
    assert "2 of 5 seeds left out" in headline and verdict == "reproduced"
    assert [r["left_chance"] for r in rows] == [True, True, True, False, False]
