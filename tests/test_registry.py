"""Every claim of the registry has what a user and a reader need: a notebook with papermill's parameters,
a README row, its CLAIMS.md id on the scoreboard, the data it reads, and a smoke scale. A new claim that
misses one fails here without anyone editing a list."""
import json

import pytest

from alexnet_repro import claims, preflight
from alexnet_repro.paths import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()


@pytest.mark.parametrize("slug", list(claims.registry()))
def test_every_claim_is_complete(slug):
    mod = claims.load(slug)
    nb = json.loads((REPO_ROOT / "notebooks" / f"{slug}.ipynb").read_text())
    params = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, f"{slug}: the notebook needs one cell tagged 'parameters'"
    src = "".join(params[0]["source"])
    for name in ("scale", "seeds", "device", "data_root", "out_dir"):
        assert f"{name} =" in src, f"{slug}: parameter {name} missing"
    row = next((line for line in README.splitlines() if line.startswith(f"| `{slug}` |")), "")
    assert mod.CLAIM.id in row or "A1-A4" in row, f"{slug}: no README row naming {mod.CLAIM.id}"
    ids = getattr(mod, "CLAIM").id
    assert ids in claims.PAPER_CLAIMS, f"{slug}: {ids} is not a scoreboard id"
    assert slug in preflight.DATA
    assert "smoke" in getattr(mod, "SCALES", {"smoke": None}), f"{slug}: no smoke scale"


def test_every_scoreboard_id_has_a_claim_or_a_check():
    covered = {claims.load(s).CLAIM.id for s in claims.registry()}
    from alexnet_repro.claims import architecture
    covered |= {c for c in claims.PAPER_CLAIMS if c in architecture.__doc__}
    assert set(claims.PAPER_CLAIMS) <= covered, set(claims.PAPER_CLAIMS) - covered
