import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


CIFAR10_FILES = ("cifar10-jpg.tar.gz", "cifar-10-python.tar.gz")  # the loaders read either (data/cifar10.py)
IMAGENETTE_FILES = ("imagenette-224.tar.gz",)


def find_data(files):
    """The first folder, of ../shared/data beside the clone (CI has it) and $ALEXNET_REPRO_DATA, that holds one of
    `files`; else skip, naming the files and the places (a user's clone has neither)."""
    places = [SHARED_DATA] + ([Path(os.environ["ALEXNET_REPRO_DATA"])] if os.environ.get("ALEXNET_REPRO_DATA") else [])
    for folder in places:
        if any((folder / f).is_file() for f in files):
            return folder
    pytest.skip(f"needs {' or '.join(files)} in {SHARED_DATA} or under $ALEXNET_REPRO_DATA")


@pytest.fixture
def shared_data():
    """A folder with a CIFAR-10 archive: the real data for R1, L3 and the family's cpu scale."""
    return find_data(CIFAR10_FILES)


@pytest.fixture
def imagenette_data():
    """A folder with Imagenette: the real ImageNet-layout data of the family's smoke and gpu scales."""
    return find_data(IMAGENETTE_FILES)


@pytest.fixture(autouse=True)
def isolated_runs(tmp_path, monkeypatch):
    """Each test gets its own run store and results root; the decoded-dataset cache stays shared."""
    monkeypatch.setenv("ALEXNET_REPRO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("ALEXNET_REPRO_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("ALEXNET_REPRO_QUIET", "1")
    monkeypatch.setenv("ALEXNET_REPRO_LOG_LEVEL", "info")
    yield
    from alexnet_repro.log import LOG

    LOG.setLevel("INFO")  # a test of `-q` leaves the logger as the next test expects it


def run_notebook(slug, tmp_path, **parameters):
    """Execute notebooks/<slug>.ipynb at the smoke scale into tmp_path; returns (result dict, notebook dict)."""
    import json

    import papermill

    out_nb = tmp_path / f"{slug}.ipynb"
    papermill.execute_notebook(
        str(REPO / "notebooks" / f"{slug}.ipynb"),
        str(out_nb),
        parameters={"scale": "smoke", "out_dir": str(tmp_path / "res"), **parameters},
        cwd=str(REPO / "notebooks"),
        progress_bar=False,
        kernel_name="python3",
    )
    return json.loads((tmp_path / "res" / "result.json").read_text()), json.loads(out_nb.read_text())
