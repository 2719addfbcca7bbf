"""The user-facing entry points: the CLI's errors, and R1 end to end through papermill."""

import json
import os
import subprocess
import sys

import pytest

from alexnet_repro.book.standing import FINDINGS
from alexnet_repro.paths import REPO_ROOT

from conftest import run_notebook


def cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "alexnet_repro", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


@pytest.mark.parametrize(
    "args, needle",
    [
        (["run", "no_such_claim"], "choose from: relu_vs_tanh"),
        (["run", "relu_vs_tanh", "--scale", "huge"], "choose from: smoke, cpu, gpu, paper"),
    ],
)
def test_cli_rejects_bad_choices_in_one_line(args, needle):
    out = cli(*args)
    assert out.returncode != 0
    assert needle in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_cli_rejects_bad_seeds():
    out = cli("run", "relu_vs_tanh", "--seeds", "a,b")
    assert out.returncode != 0 and "seeds must be comma-separated integers" in out.stderr


def test_cli_missing_data_is_one_clear_line(tmp_path):
    out = cli(
        "run",
        "relu_vs_tanh",
        "--scale",
        "smoke",
        "--data-root",
        str(tmp_path / "nowhere"),
        "--out-dir",
        str(tmp_path / "out"),
    )
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("error: CIFAR-10 not found under") and str(tmp_path / "nowhere") in last
    assert out.returncode == 2  # bad input, found before any kernel starts (preflight)
    assert "Traceback" not in out.stderr
    assert "IPKernelApp" not in out.stderr  # the kernel's own stderr goes to its log, not the terminal
    assert not (tmp_path / "out" / "relu_vs_tanh" / "smoke" / "relu_vs_tanh.ipynb").exists()  # nothing half-written


def test_cli_list_shows_every_claim():
    out = cli("list")
    assert out.returncode == 0 and "relu_vs_tanh" in out.stdout and "R1" in out.stdout


def test_list_one_row_per_claim_within_100_columns():
    """The committed results: one row per claim by its deciding result, lines within 100 columns, totals last;
    --all every result with its role; --json the same rows for machines."""
    from alexnet_repro import claims

    env = {"ALEXNET_REPRO_RESULTS": str(REPO_ROOT / "results")}
    out = cli("list", env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.rstrip("\n").splitlines()
    assert max(map(len, lines)) <= 100
    rows = lines[1 : lines.index("")]  # the totals follow a blank line
    assert all(r.split()[0] in {m.CLAIM.id for m in claims.registry().values()} for r in rows)
    assert [r.split()[1] for r in rows] == list(claims.registry())  # one row per claim, in the paper's order
    r1 = next(r for r in rows if r.startswith("R1 "))
    assert " gpu " in r1 and "reproduced" in r1  # R1's gpu result decides it
    every = json.loads(cli("list", "--all", "--json", env=env).stdout)
    deciding = [r for r in every if r["role"] == "deciding"]
    assert len(deciding) == len(rows) and len(every) > len(deciding)
    # Issue 20: the totals count the paper's claims only; BN, a finding, is named apart with its verdict.
    footer = " ".join(lines[lines.index("") + 1 :])
    assert footer.endswith("--all shows them.")
    counted, said, rest = footer.partition(" claims of the paper, each by its deciding result: ")
    assert said, footer
    counts, _, findings = rest.split(". Shown results")[0].partition("; findings, not in the paper: ")
    paper = [r for r in deciding if r["id"] not in FINDINGS]
    assert int(counted) == len(paper) == len(deciding) - len(FINDINGS)
    assert sum(int(part.split()[0]) for part in counts.split(", ")) == len(paper)
    assert findings == ", ".join(f"{r['id']} {r['verdict']}" for r in deciding if r["id"] in FINDINGS)
    assert {r["role"] for r in every} == {"deciding", "superseded", "history"}
    l2 = {r["scale"]: r["role"] for r in every if r["id"] == "L2"}
    assert l2 == {
        "cpu-regime": "deciding",
        "cpu-confirmation": "superseded",
        "cpu": "superseded",
        "imagenette": "history",
    }
    assert all(
        r["staleness"] in ("current", "stale", "unknown") for r in every if r["scale"]
    )  # a claim not run has none
    wide = cli("list", "--all", env=env).stdout.splitlines()
    assert max(map(len, wide)) <= 100 and len(wide) > len(lines)


def test_r1_smoke_end_to_end_through_papermill(shared_data, tmp_path):
    # `-p seeds 1` (papermill passes an int) runs seed 1 alone
    result, nb = run_notebook("relu_vs_tanh", tmp_path, data_root=str(shared_data), seeds=1)
    assert result["claim_id"] == "R1" and result["scale"] == "smoke"
    assert result["verdict"] == "plumbing check (no verdict)"  # a smoke run checks the code, not the claim
    prov = result["provenance"]
    assert prov["dataset"]["sha256"] and prov["seeds"] == [1] and prov["config"]["n_train"] == 1000
    for table in ("sweep", "seeds", "curves", "sensitivity"):
        assert (tmp_path / "res" / f"{table}.csv").stat().st_size > 0
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the Fig. 1-style plot is missing"


def papermill_as_typed(tmp_path, *args):
    """`papermill notebooks/relu_vs_tanh.ipynb out.ipynb ...` from the checkout's root, as a new user with an empty
    HOME types it: no dataset anywhere, no cache."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("ALEXNET_REPRO_DATA", "ALEXNET_REPRO_CACHE")}
    return subprocess.run(
        [sys.executable, "-m", "papermill", "notebooks/relu_vs_tanh.ipynb", str(tmp_path / "out.ipynb"), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**env, "HOME": str(home)},
        timeout=600,
    )


def test_papermill_with_no_parameters_runs_the_smoke_scale_on_the_shipped_sample(tmp_path):
    out = papermill_as_typed(tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads((tmp_path / "results" / "relu_vs_tanh" / "smoke" / "result.json").read_text())
    assert result["verdict"] == "plumbing check (no verdict)"
    assert result["provenance"]["dataset"]["source"].startswith("folder-tar:")  # the shipped sample's archive
    nb = json.loads((tmp_path / "out.ipynb").read_text())
    said = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert "note: no dataset found under" in said and "sample_data" in said


def test_a_data_error_in_the_notebook_names_papermills_parameters(tmp_path):
    out = papermill_as_typed(tmp_path, "-p", "scale", "cpu")
    assert out.returncode != 0 and "-p data_root DIR" in out.stderr and "-p download True" in out.stderr
