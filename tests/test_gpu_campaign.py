"""scripts/gpu_campaign.py: the campaign at smoke scale end to end, its pack within the device's return limits."""

import importlib.util
import json
import random
import tarfile
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location(
    "gpu_campaign", Path(__file__).parent.parent / "scripts" / "gpu_campaign.py"
)
gpu_campaign = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_campaign)


def test_a_large_pack_comes_in_parts_without_checkpoints_and_unpacks(tmp_path):
    work = tmp_path / "work"
    res = work / "results" / "lrn_alexnet" / "gpu"
    res.mkdir(parents=True)
    (res / "result.json").write_text(json.dumps({"verdict": "reproduced"}))
    (res / "curves.csv").write_bytes(random.Random(0).randbytes(2_500_000))  # incompressible: 3 parts of 1 MB
    run = work / "runs" / "alexnet_ablations" / "gpu" / "abc"
    run.mkdir(parents=True)
    (run / "record.json").write_text("{}")
    (run / "checkpoint.pt").write_bytes(b"\0" * 1000)
    files = gpu_campaign.pack(work, tmp_path / "out", part_mb=1)
    assert len(files) == 4 and len(files) <= gpu_campaign.MAX_FILES and files[0].name.endswith("manifest.json")
    assert all(f.stat().st_size <= 10**6 for f in files)
    placed = gpu_campaign.unpack(tmp_path / "out", tmp_path / "results", scratch=tmp_path)
    assert placed == [tmp_path / "results" / "lrn_alexnet" / "gpu"]
    assert (placed[0] / "curves.csv").read_bytes() == (res / "curves.csv").read_bytes()
    gpu_campaign.extract(tmp_path / "out", tmp_path / "x", tmp_path)
    assert (tmp_path / "x" / "runs" / "alexnet_ablations" / "gpu" / "abc" / "record.json").exists()
    assert not list((tmp_path / "x").rglob("*.pt"))  # checkpoints never travel


def test_campaign_smoke_end_to_end_and_a_second_call_resumes(imagenette_data, tmp_path):
    data = imagenette_data / "imagenette-224.tar.gz"
    if not data.exists():
        pytest.skip(f"needs {data}")
    common = ["--scale", "smoke", "--claims", "lrn_alexnet", "--data-root", str(data)]
    assert gpu_campaign.main(["run", *common, "--work", str(tmp_path / "w1"), "--pack", str(tmp_path / "p1")]) == 0
    with tarfile.open(tmp_path / "p1" / "campaign.tar.gz") as tar:
        names = tar.getnames()
    assert "results/lrn_alexnet/smoke/result.json" in names and "campaign.json" in names
    assert sum(n.endswith("record.json") for n in names) == 4  # 2 arms x 2 seeds, as records only
    assert json.loads((tmp_path / "w1" / "campaign.json").read_text())["claims"]["lrn_alexnet"]["status"] == "done"
    # A second call on a bare machine: the first pack carried in, nothing trains again.
    assert (
        gpu_campaign.main(
            [
                "run",
                *common,
                "--work",
                str(tmp_path / "w2"),
                "--resume",
                str(tmp_path / "p1"),
                "--pack",
                str(tmp_path / "p2"),
            ]
        )
        == 0
    )
    assert "up to date" in (tmp_path / "w2" / "logs" / "lrn_alexnet.log").read_text()
    assert not list((tmp_path / "w2" / "runs").rglob("checkpoint.pt"))
