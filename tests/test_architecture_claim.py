"""The architecture claim (A1-A4, M2, L1, T2-T4, 227): its checks, its tables, its verdict, its notebook."""

import json

import pandas as pd
import pytest
import torch
from torch import nn

from alexnet_repro import claims
from alexnet_repro.claims import architecture as arch
from alexnet_repro.models.alexnet import AlexNet, AlexNetConfig
from alexnet_repro.results import validate

IDS = ["A1", "A2", "M2", "A3", "A4", "L1", "T2", "T3", "T4", "227", "D1"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("architecture")
    return arch.run("smoke", out_dir=out), out


def checks(result):
    return {c["id"]: c for c in result["checks"]}


def parts(check):
    return {p["part"]: p for p in check["parts"]}


def meta_model(**kw):
    with torch.device("meta"):
        return AlexNet(AlexNetConfig(**kw))


def test_result_validates_and_is_what_was_written(run):
    result, out = run
    validate(result)
    on_disk = json.loads((out / "result.json").read_text())
    assert on_disk["headline"] == result["headline"] and on_disk["claim_id"] == "A3"
    assert [c["id"] for c in on_disk["checks"]] == IDS and set(IDS) == {arch.CLAIM.id, *arch.CLAIM.also}
    prov = on_disk["provenance"]
    assert prov["seeds"] == [] and prov["precision"] == "fp32" and prov["dataset"]["sha256"] == "n/a"
    assert "architecture" in claims.registry() and claims.load("architecture") is arch


def test_every_scale_is_the_same_analysis():
    assert set(arch.SCALES) == set(claims.SCALES)
    assert len({repr(c) for c in arch.SCALES.values()}) == 1
    with pytest.raises(ValueError, match="choose from"):
        arch.run("huge")


def test_a3_counts(run):
    result, _ = run
    a3 = checks(result)["A3"]
    # section 3.5 by hand: count x (depth x size^2 + 1) per conv layer, (in + 1) x out per FC layer
    conv = sum(n * (d * k * k + 1) for n, k, d in arch.PAPER_KERNELS.values())
    fc = (256 * 6 * 6 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000
    assert result["measured"]["parameters"] == conv + fc == 60_965_224
    p = parts(a3)
    assert p["parameters"]["verdict"] == p["neurons"]["verdict"] == p["input"]["verdict"] == "holds"
    for name in arch.WEIGHT_LAYERS[1:]:  # Fig. 2's counts hold from conv2 on
        assert p[f"{name} neurons"]["verdict"] == "holds", name
    # conv1: 96 maps of 55x55, not Fig. 2's 253,440; reported, not hidden
    assert p["conv1 neurons"]["verdict"] == "does not hold"
    assert p["conv1 neurons"]["measured"].startswith(f"{96 * 55 * 55:,}")
    # ... and the paper's own numbers are what fails: 253,440 / 96 maps = 2,640 per map, no square size
    assert a3["verdict"] == "the paper is inconsistent" and a3["failing"] == ["conv1 neurons"]
    assert result["measured"]["input_neurons_224"] == 224 * 224 * 3


def test_a4_fails_for_conv3_and_conv4(run):
    result, out = run
    a4 = checks(result)["A4"]
    # the paper's own A2 sizes put conv3 and conv4 over A4's 1%: the paper contradicts itself
    assert a4["verdict"] == "the paper is inconsistent" and a4["failing"] == ["conv3 share", "conv4 share"]
    layers = pd.read_csv(out / "layers.csv").set_index("layer")
    assert (layers.loc[["conv3", "conv4"], "param_share"] > 0.01).all()
    assert (layers.loc[["conv1", "conv2", "conv5"], "param_share"] <= 0.01).all()
    assert layers["parameters"].sum() == result["measured"]["parameters"]
    assert layers["param_share"].sum() == pytest.approx(1) and layers["mult_add_share"].sum() == pytest.approx(1)


def test_the_rest_holds_for_the_paper_default(run):
    result, _ = run
    assert {c["id"] for c in result["checks"] if c["verdict"] == "holds"} == set(IDS) - {"A3", "A4"}
    t2 = checks(result)["T2"]["torch_sgd"]
    assert t2["max_diff_before_lr_change"] < 1e-12 and t2["differs_after_lr_change"]


def test_verdict_follows_the_checks(run):
    result, _ = run
    held = [c for c in result["checks"] if c["verdict"] == "holds"]
    assert all(c["verdict"] in ("holds", "does not hold", "the paper is inconsistent") for c in result["checks"])
    assert all((c["verdict"] == "holds") == all(p["verdict"] == "holds" for p in c["parts"]) for c in result["checks"])
    failed = [c for c in result["checks"] if c["verdict"] == "does not hold"]
    expected = "reproduced" if not failed else "partly reproduced" if held else "not reproduced"
    assert result["verdict"] == expected == "reproduced"  # every failing part is the paper's own arithmetic
    assert result["headline"].startswith(f"{len(held)} of {len(IDS)} statements hold")
    assert result["measured"]["verdicts"] == {c["id"]: c["verdict"] for c in result["checks"]}


def test_switch_table(run):
    _, out = run
    s = pd.read_csv(out / "switches.csv").set_index("switch")
    assert set(s.index) == set(arch.SWITCHES)
    d = s.loc["default"]
    assert s.loc["columns half", "parameters"] < d["parameters"]
    assert s.loc["columns half", "mult_adds"] < d["mult_adds"]
    # one column = two columns plus the connections the grouping leaves out: a groups=2 layer keeps
    # half of each kernel's depth, so the other half is as many weights again
    m = meta_model()
    grouped_away = sum(c.weight.numel() for c in m.features if isinstance(c, nn.Conv2d) and c.groups == 2)
    assert s.loc["columns one", "parameters"] == d["parameters"] + grouped_away
    assert pd.isna(s.loc["remove conv4", "params_conv4"]) and s.loc["remove conv5", "params_fc6"] > d["params_fc6"]
    assert s.loc["normalization batchnorm", "parameters"] == d["parameters"] + 2 * (96 + 256)
    for same in ("normalization none", "pooling non_overlapping", "dropout 0", "input 224", "activation tanh"):
        assert s.loc[same, "parameters"] == d["parameters"] and s.loc[same, "mult_adds"] == d["mult_adds"], same
    assert s.loc["input 224", "input_neurons"] == 150_528


def test_checks_can_fail():
    """Each structural check notices a net that is not the paper's."""
    assert arch.check_a1(meta_model(normalization="none"))["failing"] == [
        "LRN after the ReLUs of conv1 and conv2",
        "max-pooling after both LRN layers and conv5",
    ]
    assert arch.check_a1(meta_model(pooling="non_overlapping"))["failing"] == ["pooling of section 3.4 (z=3, s=2)"]
    assert arch.check_a2(meta_model(columns="half"))["failing"] == ["conv1", "conv2", "conv3", "conv4"]
    assert arch.check_a2(meta_model(columns="one"))["failing"] == ["conv2", "conv4", "conv5"]
    g = torch.Generator().manual_seed(0)
    assert arch.sees_other_column(nn.Conv2d(8, 6, 3, groups=2), g) == 0
    assert arch.sees_other_column(nn.Conv2d(8, 6, 3), g) > 0
    assert arch.sees_other_column(nn.Linear(8, 6), g) > 0


def test_naive_lrn_is_the_printed_formula():
    a = torch.rand(1, 3, 1, 1, dtype=torch.float64) * 100
    b = arch.naive_lrn(a, 5, 1e-4, 0.75, 2.0)
    # with 3 maps and n=5 every window is all three maps
    torch.testing.assert_close(b, a / (2 + 1e-4 * (a**2).sum(1, keepdim=True)) ** 0.75)


def test_d1_preprocessing_check_fails_on_a_squashing_resize(monkeypatch):
    """The D1 check can fail: a resize that squashes the photo to a square instead of cropping is caught."""
    from PIL import Image

    from alexnet_repro.data import imagefolder

    assert arch.check_d1()["verdict"] == "holds"
    monkeypatch.setattr(imagefolder, "resize_center_crop", lambda im, size: im.resize((size, size), Image.BILINEAR))
    check = arch.check_d1()
    assert check["verdict"] == "does not hold" and "shorter side to 256" in check["failing"]
