"""Every claim of the registry has what a user and a reader need: a notebook with papermill's parameters,
a README row, its id in the paper's table (paper_claims), the data it reads, a smoke scale and the contract's
functions (claims/contract.py). A new claim that misses one fails here without anyone editing a list:
the registry finds its claims itself."""

import inspect
import json

import pytest

from alexnet_repro import claims
from alexnet_repro.claims import contract
from alexnet_repro.claims.family import arms
from alexnet_repro.paper_claims import BY_ID, IDS
from alexnet_repro.paths import REPO_ROOT
from alexnet_repro.verdict import PLUMBING

from conftest import run_notebook

README = (REPO_ROOT / "README.md").read_text()
SLUGS = list(claims.registry())


def test_the_registry_finds_every_claim_in_the_papers_order():
    """Every module that declares CLAIM, and every block of the family's declarations, by its slug."""
    import re

    claims_dir = REPO_ROOT / "alexnet_repro" / "claims"
    on_disk = {p.stem for p in claims_dir.glob("*.py") if "\nCLAIM = Claim(" in p.read_text()}
    blocks = re.findall(
        r'\n    CLAIM = Claim\(\n        id="\w+",\n        slug="(\w+)"',
        (claims_dir / "family" / "declarations.py").read_text(),
    )
    assert blocks and not on_disk & set(blocks)
    assert set(SLUGS) == on_disk | set(blocks) and set(claims.family_slugs()) == set(blocks)
    order = [IDS.index(claims.load(s).CLAIM.id) for s in SLUGS]
    assert order == sorted(order)
    with pytest.raises(ValueError, match="choose from"):
        claims.load("no_such_claim")


@pytest.mark.parametrize("slug", SLUGS)
def test_every_claim_is_complete(slug):
    mod = claims.load(slug)
    assert mod.CLAIM.slug == slug
    nb = json.loads((REPO_ROOT / "notebooks" / f"{slug}.ipynb").read_text())
    params = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, f"{slug}: the notebook needs one cell tagged 'parameters'"
    src = "".join(params[0]["source"])
    for name in ("scale", "seeds", "device", "data_root", "out_dir"):
        assert f"{name} =" in src, f"{slug}: parameter {name} missing"
    row = next((line for line in README.splitlines() if line.startswith(f"| {mod.CLAIM.id} |")), "")
    assert row.endswith(f"| `{slug}` |"), f"{slug}: no README row of {mod.CLAIM.id} naming it"
    assert mod.DATA in ("cifar10", "family", None), f"{slug}: DATA declares no dataset the preflight knows"
    scales = getattr(mod, "SCALES", arms.SCALES if mod.DATA == "family" else {})  # the family's, for its claims
    assert "smoke" in scales, f"{slug}: no smoke scale"


@pytest.mark.parametrize("slug", SLUGS)
def test_every_claim_follows_the_contract(slug):
    mod = claims.load(slug)
    for name in ("plan", "train", "assess", "run"):
        assert callable(getattr(mod, name, None)), f"{slug}: no {name}()"
    jobs = [job for chain in mod.plan("smoke") for stage in chain for job in stage]
    if jobs:  # run_job trains one job of the plan, in a process of the --jobs pool: picklable by name
        assert callable(getattr(mod, "run_job", None)), f"{slug}: a plan but no run_job()"
        assert mod.run_job.__qualname__ == "run_job", f"{slug}: run_job must be a module-level function"
        assert set(jobs[0]) <= set(inspect.signature(mod.run_job).parameters)
    assert list(inspect.signature(mod.run).parameters) == list(inspect.signature(contract.run).parameters)[1:]


def test_every_id_of_the_papers_table_has_a_claim_or_a_check():
    assert set(claims.ids_tested()) == set(IDS), set(IDS) - set(claims.ids_tested())


def test_a_claim_takes_its_section_data_and_number_from_the_papers_table():
    for slug in SLUGS:
        claim, row = claims.load(slug).CLAIM, BY_ID[claims.load(slug).CLAIM.id]
        if slug != "architecture":  # which states its own: it tests all of section B
            assert (claim.section, claim.paper_data, claim.paper_number) == (row.section, row.data, row.number), slug
    with pytest.raises(KeyError):
        claims.Claim(id="X9", slug="x", title="x", paper_says="x")


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory):
    """One run store for the module: the family's claims share the paper's net's runs, as they do for real."""
    return tmp_path_factory.mktemp("runs")


@pytest.mark.parametrize("slug", SLUGS)
def test_every_claim_smoke_runs_through_its_notebook(slug, shared_store, tmp_path, monkeypatch):
    from alexnet_repro import preflight

    from conftest import CIFAR10_FILES, IMAGENETTE_FILES, find_data

    # The data the claim reads at the smoke scale (cifar10, or the family's ImageNet-layout data), or a skip naming it
    kind = preflight.data_kind(slug, "smoke")
    data = find_data(CIFAR10_FILES if kind == "cifar10" else IMAGENETTE_FILES) if kind else None
    monkeypatch.setenv("ALEXNET_REPRO_RUNS", str(shared_store))  # the notebook's kernel inherits it
    result, nb = run_notebook(slug, tmp_path, data_root=str(data or ""))
    assert result["claim"] == slug and result["claim_id"] == claims.load(slug).CLAIM.id
    assert result["verdict"] == PLUMBING or slug == "architecture"  # smoke decides nothing; A1-A4 trains nothing
    assert "invocation_wall_time_s" in result["provenance"]
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{slug}: the notebook drew no figure"
