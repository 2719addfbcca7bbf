"""The README's first command needs no dataset: with none to be found, the smoke scale reads the sample shipped in
alexnet_repro/sample_data, through the loaders' usual paths, and says so; the real scales, an explicit
--data-root and a broken dataset never fall back to it."""

import json

import pytest

from alexnet_repro import preflight
from alexnet_repro.__main__ import main
from alexnet_repro.claims import ten_patch
from alexnet_repro.data.cifar10 import load_cifar10
from alexnet_repro.data.errors import DataError, DataNotFound
from alexnet_repro.data.imagefolder import find_dataset, load_imagefolder
from alexnet_repro.paths import SAMPLE_DATA


@pytest.fixture
def no_dataset(tmp_path, monkeypatch):
    """A machine with no dataset: $ALEXNET_REPRO_DATA an empty folder (so ~/data is not looked at either)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("ALEXNET_REPRO_DATA", str(empty))
    monkeypatch.setenv("ALEXNET_REPRO_CACHE", str(tmp_path / "cache"))
    return empty


def test_smoke_runs_on_the_shipped_sample_when_no_dataset_is_found(no_dataset, tmp_path, capsys):
    # A CIFAR-10 claim through the CLI as a new user runs it, its notebook's kernel included.
    assert main(["run", "lrn_cifar", "--scale", "smoke", "--out-dir", str(tmp_path / "out")]) == 0
    said = capsys.readouterr()
    err = said.err
    assert sum("plumbing checks only" in line for line in err.splitlines()) == 1 and str(no_dataset) in err
    # What ran and that it ran, no effect size or interval: a smoke run measures none
    assert "lrn_cifar: plumbing check (no verdict): plumbing check passed: 4 runs on CIFAR-10" in said.out
    assert "95% CI" not in said.out and "points" not in said.out
    result = json.loads((tmp_path / "out" / "lrn_cifar" / "smoke" / "result.json").read_text())
    sample = load_cifar10(SAMPLE_DATA)
    assert (sample.describe()["n_train"], sample.describe()["n_test"]) == (1000, 500)  # R1's smoke subset fits
    assert result["provenance"]["dataset"]["sha256"] == f"{sample.checksum}:subset32/20"
    assert result["verdict"] == "plumbing check (no verdict)"
    # An ImageNet-layout claim: the root `run` resolves, handed to the claim in this process (a second kernel
    # would cost ~20 s more).
    root, identity = preflight.data_source("ten_patch", None, False, "smoke")
    assert root == SAMPLE_DATA and identity.startswith("imagefolder:")
    result = ten_patch.run("smoke", seeds=[0], data_root=root, out_dir=tmp_path / "d2")
    sample = load_imagefolder(find_dataset(SAMPLE_DATA), size=76)
    assert len(sample.train_y) >= 256 and len(sample.test_y) >= 128  # the smoke subsets fit
    assert "upsampled" not in sample.describe()  # 80 px images for the 76 px cache
    assert result["provenance"]["dataset"]["sha256"] == f"{sample.checksum}:subset256/128"


def test_the_sample_is_used_only_at_the_smoke_scale_when_nothing_is_found(no_dataset, tmp_path):
    with pytest.raises(DataNotFound):  # the real scales need the real data
        preflight.data_source("relu_vs_tanh", None, False, "cpu")
    with pytest.raises(DataNotFound):  # a folder the user named is never passed over
        preflight.data_source("ten_patch", str(tmp_path), False, "smoke")
    (no_dataset / "cifar10-jpg.tar.gz").write_bytes(b"not a gzip file")
    with pytest.raises(DataError, match="not a readable archive"):  # a broken dataset is an error, not a fallback
        preflight.data_source("relu_vs_tanh", None, False, "smoke")
    assert preflight.data_source("architecture", None, False, "smoke") == (None, "none")  # reads no data
