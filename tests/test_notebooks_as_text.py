"""The claim notebooks are reviewed as text (issue 10): every notebooks/<slug>.ipynb is paired with its jupytext
py:percent twin, notebooks/<slug>.py, and both hold the same cells; neither carries outputs into git."""

import json

import pytest

from alexnet_repro import claims
from alexnet_repro.paths import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))


def test_one_notebook_per_claim():
    assert {p.stem for p in NOTEBOOKS} == set(claims.registry())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_and_its_text_twin_hold_the_same_cells(path):
    jupytext = pytest.importorskip("jupytext", reason="jupytext (requirements.txt) reads the py:percent twins")
    nb = json.loads(path.read_text())
    assert nb["metadata"].get("jupytext", {}).get("formats") == "ipynb,py:percent", f"{path.name} is not paired"
    twin = path.with_suffix(".py")
    assert twin.exists(), f"{twin.name} missing: run `jupytext --sync notebooks/{path.name}`"

    def cells(notebook):
        return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in notebook.cells]

    assert cells(jupytext.read(path)) == cells(jupytext.read(twin)), (
        f"{path.name} and {twin.name} differ: edit the .py, then run `jupytext --sync notebooks/{path.name}`"
    )
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code), f"{path.name} has outputs"


def test_the_family_notebooks_are_the_template_filled_in():
    """The ablation family's notebooks are written by scripts/family_notebooks.py from one template and each claim's
    declaration: one differing from it was edited by hand (or its claim changed without rewriting it)."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "scripts" / "family_notebooks.py"
    out = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
