"""Staleness counts what trains or decides a result, not how it is shown: tested on a throwaway git repository
holding a copy of the package, so that edits never touch this checkout."""

import shutil
import subprocess

import pytest

from alexnet_repro import paths, staleness

PACKAGE = paths.REPO_ROOT / "alexnet_repro"


def _git(root, *args):
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    shutil.copytree(PACKAGE, root / "alexnet_repro", ignore=shutil.ignore_patterns("__pycache__", "sample_data"))
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "c")
    monkeypatch.setattr(paths, "REPO_ROOT", root)
    return root, _git(root, "rev-parse", "HEAD")


def _result(commit, claim="dropout", **prov):
    return {"claim": claim, "provenance": {"git_commit": commit, **prov}}


def _edit(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_a_comment_or_docstring_does_not_make_a_result_stale(repo):
    root, commit = repo
    assert staleness.staleness(_result(commit)) == "current"
    (root / "alexnet_repro" / "report.py").write_text(
        (root / "alexnet_repro" / "report.py").read_text() + "\n# a comment added to report.py\n"
    )
    _edit(root / "alexnet_repro" / "report.py", "import json", "import json  # formatting only")
    assert staleness.staleness(_result(commit)) == "current"
    _edit(root / "alexnet_repro" / "claims" / "dropout.py", "from . import Claim", "from . import Claim  # why")
    _edit(
        root / "alexnet_repro" / "engine.py",
        '"""',
        '"""A docstring edited. ',
    )
    assert staleness.staleness(_result(commit)) == "current"
    # formatting code may change freely, comments or not
    _edit(root / "alexnet_repro" / "figures.py", '"#1a7f37"', '"#1a7f38"')
    assert staleness.staleness(_result(commit)) == "current"


def test_a_change_to_what_trains_or_decides_makes_it_stale(repo):
    root, commit = repo
    _edit(root / "alexnet_repro" / "claims" / "dropout.py", "Rule(", "Rule(  ")  # whitespace is not a change
    assert staleness.staleness(_result(commit)) == "current"
    _edit(root / "alexnet_repro" / "engine.py", 'TRAINING_VERSION = "', 'TRAINING_VERSION = "9')
    assert staleness.staleness(_result(commit)) == "stale"
    assert staleness.staleness(_result(commit, claim="relu_vs_tanh")) == "stale"


def test_a_claim_is_stale_only_for_its_own_declarations(repo):
    root, commit = repo
    text = (root / "alexnet_repro" / "claims" / "relu_vs_tanh.py").read_text()
    (root / "alexnet_repro" / "claims" / "relu_vs_tanh.py").write_text(text + "\nEXTRA_SETTING = 1\n")
    assert staleness.staleness(_result(commit, claim="relu_vs_tanh")) == "stale"
    assert staleness.staleness(_result(commit, claim="dropout")) == "current"  # not R1's module
    # the ablation family's shared declarations (its arms and rules) reach every claim of the family
    _edit(root / "alexnet_repro" / "claims" / "ablation.py", "import math", "import math\nX = 2")
    assert staleness.staleness(_result(commit, claim="dropout")) == "stale"


def test_unknown_only_when_it_cannot_be_known(repo):
    root, commit = repo
    assert staleness.staleness(_result("unknown")) == "unknown"
    assert staleness.staleness({"claim": "dropout", "provenance": {}}) == "unknown"
    assert staleness.staleness(_result("0" * 40)) == "unknown"  # not in this clone's history
    assert staleness.staleness(_result(commit + "+dirty")) == "current"  # the commit it started from
    today = staleness.decision_version("dropout")
    assert staleness.staleness(_result("unknown", decision_version=today)) == "current"  # recorded: no git needed
    assert staleness.staleness(_result(commit, decision_version="0ld")) == "stale"
    # a result re-read by later code is judged by the code that re-read it
    reread = {"claim": "dropout", "provenance": {"git_commit": "0" * 40, "reread": {"git_commit": commit}}}
    assert staleness.staleness(reread) == "current"


def test_what_a_notebook_says_does_not_make_a_result_stale():
    from alexnet_repro.staleness import syntax

    assert syntax("RULE = 1\nEXPERIMENT = 'the arms'") == syntax("RULE = 1\nEXPERIMENT = 'the arms, reworded'")
    assert syntax("RULE = 1\nEXPERIMENT = 'the arms'") != syntax("RULE = 2\nEXPERIMENT = 'the arms'")
