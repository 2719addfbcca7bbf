"""Staleness counts what trains or decides a result, by value, not how it is shown or where its code lives; a
result made before that scheme is read through git to the bridge (staleness.py), tested on a throwaway git
repository holding a copy of the package, so that edits never touch this checkout."""

import json
import shutil
import subprocess

import pytest

from alexnet_repro import claims, paths, staleness
from alexnet_repro.claims import contract
from alexnet_repro.claims.family import arms, assessment


def _git(root, *args):
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _result(commit, claim="dropout", **prov):
    return {"claim": claim, "provenance": {"git_commit": commit, **prov}}


def _today(claim="dropout"):
    return _result("unknown", claim, decision_version=staleness.decision_version(claim))


def test_comments_docstrings_imports_and_notebook_text_are_no_change():
    syntax = contract.syntax
    assert syntax("RULE = 1\nEXPERIMENT = 'the arms'") == syntax("RULE = 1\nEXPERIMENT = 'the arms, reworded'")
    assert syntax("RULE = 1\nEXPERIMENT = 'the arms'") != syntax("RULE = 2\nEXPERIMENT = 'the arms'")
    assert syntax('"""Doc."""\ndef f():\n    """Doc."""\n    return 1  # why\n') == syntax("def f():\n    return 1\n")
    moved = "from .family.assessment import late_gain\nX = late_gain(1)\n"
    assert syntax("from .ablation import late_gain\nX = late_gain(1)\n", imports=False) == syntax(moved, imports=False)


def test_a_result_recording_its_version_is_current_until_what_decides_it_changes(monkeypatch):
    results = {slug: _today(slug) for slug in ("dropout", "two_columns", "lrn_cifar", "kernels", "relu_vs_tanh")}
    assert {staleness.staleness(r) for r in results.values()} == {"current"}
    with monkeypatch.context() as m:  # a rule of DR1's, changed by value
        m.setitem(claims.load("dropout").RULES["train-val gap, dropout - none"].__dict__, "margin", 0.9)
        assert staleness.staleness(results["dropout"]) == "stale"
        assert staleness.staleness(results["two_columns"]) == "current"  # not M1's rule
    with monkeypatch.context() as m:  # the family's code that reads runs into verdicts
        m.setattr(assessment, "DECISION_VERSION", assessment.DECISION_VERSION + "+1")
        stale = {s for s, r in results.items() if staleness.staleness(r) == "stale"}
        assert stale == {"dropout", "two_columns", "lrn_cifar", "kernels"}  # R1 reads nothing of the family's
    with monkeypatch.context() as m:  # an arm's config at a scale: every claim training or reading the family
        m.setitem(arms.SCALES, "cpu", arms.SCALES["cpu"].__class__(**{**vars(arms.SCALES["cpu"]), "lr": 0.02}))
        stale = {s for s, r in results.items() if staleness.staleness(r) == "stale"}
        assert stale == {"dropout", "two_columns", "kernels"}
    with monkeypatch.context() as m:  # training
        m.setattr(contract, "TRAINING_VERSION", "9")
        assert {staleness.staleness(r) for r in results.values()} == {"stale"}
    assert {staleness.staleness(r) for r in results.values()} == {"current"}
    assert staleness.staleness(_result("unknown", decision_version=contract.SCHEME + "0ld")) == "stale"
    assert staleness.staleness(_result("unknown", claim="no_such_claim")) == "unknown"


def test_the_family_is_decided_by_its_declarations_not_its_notebook_text(monkeypatch):
    result = _today("crops_flips")
    monkeypatch.setattr(claims.load("crops_flips"), "EXPERIMENT", "reworded")
    assert staleness.staleness(result) == "current"
    monkeypatch.setattr(claims.load("crops_flips"), "IN_THE_PAPER", False, raising=False)
    assert staleness.staleness(result) == "stale"


@pytest.fixture
def history(tmp_path, monkeypatch):
    """A throwaway repository in the layout judged by files: the package at the bridge's commit (A), a comment in
    report.py and a reworded docstring in engine.py (B), a change to the training code (C)."""
    root = tmp_path / "repo"
    root.mkdir()
    old = staleness.load_bridge()["commit"]  # the package as the files judged it, before the family's fold
    archive = subprocess.run(["git", "archive", old, "alexnet_repro"], cwd=paths.REPO_ROOT, capture_output=True)
    if archive.returncode:
        pytest.skip(f"this clone lacks the bridge's commit {old[:10]}")
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive.stdout, check=True)
    shutil.rmtree(root / "alexnet_repro" / "sample_data", ignore_errors=True)
    _git(root, "init", "-q")

    def commit():
        _git(root, "add", "-A")
        _git(root, "commit", "-qm", "c")
        return _git(root, "rev-parse", "HEAD")

    a = commit()
    (root / "alexnet_repro" / "report.py").write_text((root / "alexnet_repro" / "report.py").read_text() + "\n# x\n")
    engine = root / "alexnet_repro" / "engine.py"
    engine.write_text(engine.read_text().replace('"""', '"""Reworded. ', 1))
    b = commit()
    engine.write_text(engine.read_text().replace("def train(", "def train_(", 1))
    c = commit()
    monkeypatch.setattr(paths, "REPO_ROOT", root)
    bridge = tmp_path / "bridge.json"
    monkeypatch.setattr(staleness, "BRIDGE", bridge)

    def bridge_at(commit, **versions):
        today = {slug: staleness.decision_version(slug) for slug in ("dropout", "relu_vs_tanh")}
        bridge.write_text(json.dumps({"commit": commit, "versions": {**today, **versions}}))

    return a, b, c, bridge_at


def test_a_result_made_before_is_read_through_git_to_the_bridge(history):
    a, b, c, bridge_at = history
    bridge_at(b)
    assert staleness.staleness(_result(a)) == "current"  # a comment and a docstring: no change
    assert staleness.staleness(_result(a, decision_version="a0f1e2d3c4b5")) == "current"  # a hash of files
    assert staleness.staleness(_result(a + "+dirty")) == "current"  # the commit it started from
    reread = {"claim": "dropout", "provenance": {"git_commit": "0" * 40, "reread": {"git_commit": a}}}
    assert staleness.staleness(reread) == "current"  # judged by the code that re-read it
    bridge_at(c)
    assert staleness.staleness(_result(a)) == "stale"  # the training code changed before the bridge
    assert staleness.staleness(_result(c)) == "current"
    bridge_at(c, dropout=contract.SCHEME + "0ld")  # ... or what decides it changed after it
    assert staleness.staleness(_result(c)) == "stale"
    assert staleness.staleness(_result(c, claim="relu_vs_tanh")) == "current"


def test_unknown_only_when_it_cannot_be_known(history):
    a, b, c, bridge_at = history
    bridge_at(c)
    assert staleness.staleness(_result("unknown")) == "unknown"
    assert staleness.staleness({"claim": "dropout", "provenance": {}}) == "unknown"
    assert staleness.staleness(_result("0" * 40)) == "unknown"  # not in this clone's history
    assert staleness.staleness(_result(a, claim="two_columns")) == "unknown"  # not in the bridge


def test_the_bridge_names_every_claim_judged_by_files_and_a_commit_of_this_history():
    """The bridge reads the results made before the scheme: it knows the claim of each, and no claim the registry
    lacks. A claim added since needs no entry: its results record a version of the scheme."""
    bridge = staleness.load_bridge()
    committed = [json.loads(p.read_text()) for p in (paths.REPO_ROOT / "results").glob("*/*/result.json")]
    by_files = {r["claim"] for r in committed if not (staleness.made_by(r)[0] or "").startswith(contract.SCHEME)}
    assert by_files and by_files <= set(bridge["versions"]) <= set(claims.registry())
    assert all(v.startswith(contract.SCHEME) for v in bridge["versions"].values())
    assert staleness.read_at(bridge["commit"], "claims/ablation.py") is not None  # judged by files up to it


def test_an_arm_is_compared_by_what_its_runs_are_keyed_on():
    """A switch added to Arm later, at a default that keeps every arm's runs, changes no claim's version; a change
    of what an arm trains does."""
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class ArmWithCutout(arms.Arm):
        cutout: bool = False  # a new kind of switch, at the default every arm had

    paper = ArmWithCutout(arms.PAPER.name, arms.PAPER.net, arms.PAPER.weight_decay, arms.PAPER.pca)
    assert contract.value(paper) == contract.value(arms.PAPER)
    assert contract.value(dataclasses.replace(arms.PAPER, pca=False)) != contract.value(arms.PAPER)
    assert contract.value(dataclasses.replace(arms.PAPER, flip=False)) != contract.value(arms.PAPER)
    assert contract.value(dataclasses.replace(arms.NO_LRN, net=())) != contract.value(arms.NO_LRN)
