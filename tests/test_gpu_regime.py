"""The gpu-regime scale's round trip, at a tiny config on the CPU: scripts/gpu_regime.py trains a claim's runs and
packs their records; unpacked here they are the mirror a claim is assembled from; a run missing from it is refused
on a machine without a GPU rather than trained on the CPU (which would mix devices inside a paired comparison)."""

import importlib.util
import json
import shutil
from dataclasses import replace

import pytest

from alexnet_repro import claims
from alexnet_repro.claims import contract, pca_colour
from alexnet_repro.claims.family import arms, training
from alexnet_repro.paths import SAMPLE_DATA, results_root, runs_dir

from conftest import REPO

SCALE = claims.GPU_REGIME


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_regime", REPO / "scripts" / "gpu_regime.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_gpu_regime_is_the_cpu_regime_on_another_device(monkeypatch):
    assert arms.SCALES[SCALE] == arms.SCALES[claims.REGIME]
    assert SCALE in arms.MIRRORED and SCALE in arms.TRAINED_ON_GPU and claims.REGIME not in arms.TRAINED_ON_GPU
    # the twin is the cpu-regime by value: declaring it moved no committed result's decision version
    assert SCALE not in contract.decided_by(pca_colour)["scales"] and claims.REGIME in arms.VERSIONED_SCALES
    monkeypatch.setenv("ALEXNET_REPRO_RESULTS", str(REPO / "results"))  # the committed plan fixes both
    n = json.loads((REPO / "results" / "benchmarks" / "regime_plan.json").read_text())["claims"]["pca_colour"]["n"]
    assert training.claim_seeds(pca_colour, SCALE) == training.claim_seeds(pca_colour, claims.REGIME) == tuple(range(n))


def test_gpu_regime_runs_round_trip_through_the_pack(tmp_path, monkeypatch):
    gpu_regime = load_script()
    tiny = replace(arms.SCALES[SCALE], epochs=1, n_train=100, holdout=50, train_eval_images=50, n_val=100)
    monkeypatch.setitem(arms.SCALES, SCALE, tiny)
    monkeypatch.setattr(training, "regime_seeds", lambda mod, seeds=None: (0,))
    data = str(SAMPLE_DATA / "cifar10-sample.tar.gz")
    with monkeypatch.context() as m:
        m.setattr(training, "TRAINED_ON_GPU", set())  # this CPU stands in for the GPU
        gpu_regime.main(
            ["train", "--data-root", data, "--jobs", "1", "--claims", "pca_colour", "--out", str(tmp_path / "out")]
            + ["--device", "cpu", "--end-by-s", "600"]
        )
    log = json.loads((tmp_path / "out" / "gpu_regime_log.json").read_text())
    assert sorted((r["arm"], r["seed"]) for r in log["runs"]) == [("no PCA lighting", 0), ("paper's net", 0)]
    assert log["not_started"] == 0 and all(r["status"] != "diverged" for r in log["runs"])

    # A fresh machine: neither the store nor the mirror, only the pack that came back.
    mirror = results_root() / "runs" / arms.FAMILY / SCALE
    shutil.rmtree(mirror)
    shutil.rmtree(runs_dir())
    gpu_regime.unpack(tmp_path / "out")
    assert len(list(mirror.glob("*/record.json"))) == 2
    (kept,) = (results_root() / "benchmarks" / "gpu_regime_calls").glob("*.json")
    assert json.loads(kept.read_text())["runs"] == log["runs"]  # the call's log, kept with the benchmarks
    assert all("trained_on" in json.loads(p.read_text()) for p in mirror.glob("*/record.json"))

    trained = training.train_claim(pca_colour, SCALE, device="cpu", data_root=data)
    assert len(trained.rows) == 2 and trained.trained_on  # read from the mirror, named in the provenance
    assert f"Its runs trained on {trained.trained_on[0]}" in trained.proxy_note

    next(mirror.glob("*/record.json")).unlink()
    shutil.rmtree(runs_dir(), ignore_errors=True)
    with pytest.raises(ValueError, match="train on a GPU alone"):
        training.train_claim(pca_colour, SCALE, device="cpu", data_root=data)


def test_regime_campaign_without_data_says_so_in_one_line(tmp_path):
    """The campaign's status needs the data (a run's key names its checksum): without it, one line, no traceback."""
    import os
    import subprocess
    import sys

    script = REPO / "scripts" / "regime_campaign.py"
    env = {**os.environ, "ALEXNET_REPRO_DATA": str(tmp_path)}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("regime_campaign: CIFAR-10 not found") and "Traceback" not in proc.stderr
