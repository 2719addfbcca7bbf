from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data():
    """The real datasets beside the repo (CI has them); a user's clone does not, so skip there."""
    if not (SHARED_DATA / "cifar10-jpg.tar.gz").exists():
        pytest.skip(f"needs the real CIFAR-10 archive at {SHARED_DATA} (absent in a plain clone)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def isolated_runs(tmp_path, monkeypatch):
    """Each test gets its own run store and results root; the decoded-dataset cache stays shared."""
    monkeypatch.setenv("ALEXNET_REPRO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("ALEXNET_REPRO_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("ALEXNET_REPRO_QUIET", "1")
    yield


def run_notebook(slug, tmp_path, **parameters):
    """Execute notebooks/<slug>.ipynb at the smoke scale into tmp_path; returns (result dict, notebook dict)."""
    import json

    import papermill
    out_nb = tmp_path / f"{slug}.ipynb"
    papermill.execute_notebook(str(REPO / "notebooks" / f"{slug}.ipynb"), str(out_nb),
                               parameters={"scale": "smoke", "out_dir": str(tmp_path / "res"), **parameters},
                               cwd=str(REPO / "notebooks"), progress_bar=False, kernel_name="python3")
    return json.loads((tmp_path / "res" / "result.json").read_text()), json.loads(out_nb.read_text())
