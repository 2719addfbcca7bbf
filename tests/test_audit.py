"""The audit: a result's timeline from git and its provenance, its flags, and the committed acknowledgements."""

import json
import subprocess

import pytest

from alexnet_repro import audit, paths

REPO = paths.REPO_ROOT


def _git(root, *args):
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture
def history(tmp_path, monkeypatch):
    """A throwaway repository: the claim declared (A), its runs trained (B), its rule changed (C), a docstring
    edited (D)."""
    root = tmp_path / "repo"
    module = root / "alexnet_repro" / "claims" / "dropout.py"
    module.parent.mkdir(parents=True)

    def commit(text, other=None):
        module.write_text(text)
        if other:
            (root / "other.txt").write_text(other)
        _git(root, "add", "-A")
        _git(root, "commit", "-qm", "c")
        return _git(root, "rev-parse", "HEAD")

    _git(root, "init", "-q")
    a = commit('"""D."""\nRULE = 1\nSCALES = {"cpu": 4}\n')
    b = commit('"""D."""\nRULE = 1\nSCALES = {"cpu": 4}\n', other="runs")
    c = commit('"""D."""\nRULE = 2\nSCALES = {"cpu": 4}\n')
    d = commit('"""D, reworded."""\nRULE = 2  # a comment\nSCALES = {"cpu": 4}\n\n\ndef helper():\n    pass\n')
    monkeypatch.setattr(paths, "REPO_ROOT", root)
    return a, b, c, d


def _result(trained, assembled, scale="cpu"):
    return {
        "claim": "dropout",
        "scale": scale,
        "provenance": {
            "git_commit": assembled,
            "runs_trained_at": trained,
            "training_version": "2",
            "date": "2026-12-01",
        },
    }


def test_a_rule_changed_after_the_runs_is_flagged(history):
    a, b, c, d = history
    t = audit.timeline(_result([b], d))
    assert t.declared[0] == c  # the docstring, comment and helper of d declare nothing
    assert [k for k, _ in t.flags] == [audit.RULE_AFTER_RUNS]
    assert audit.timeline(_result([c], d)).flags == []  # trained after the rule: nothing to flag
    assert audit.timeline(_result([b], b)).declared[0] == a  # judged at the commit that decided it


def test_declarations_moved_verbatim_into_the_family_file_keep_their_date(history):
    """A claim's declarations moved from its own module into its block of the family's one file (a class whose
    CLAIM names it) are the same declarations: the audit dates them where they were last changed, not the move."""
    a, b, c, d = history
    root = paths.REPO_ROOT
    module = root / "alexnet_repro" / "claims" / "dropout.py"
    body = 'CLAIM = Claim(id="DR1", slug="dropout")\nRULE = 2\nSCALES = {"cpu": 4}\n'
    module.unlink()
    family = root / "alexnet_repro" / "claims" / "family" / "declarations.py"
    family.parent.mkdir()

    def block(slug, text):
        return f"class {slug.title()}(Family):\n" + "".join(f"    {line}\n" for line in text.splitlines())

    family.write_text(block("dropout", body) + "\n\n" + block("depth", 'CLAIM = Claim(slug="depth")\nRULE = 9\n'))
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "moved")
    moved = _git(root, "rev-parse", "HEAD")
    assert audit.declarations("dropout", moved) == audit.declarations("dropout", d)
    assert audit.timeline(_result([b], moved)).declared[0] == c  # the move declares nothing
    family.write_text(family.read_text().replace("RULE = 9", "RULE = 8"))  # another claim's block
    _git(root, "commit", "-qam", "depth's rule")
    assert audit.timeline(_result([b], _git(root, "rev-parse", "HEAD"))).declared[0] == c
    family.write_text(family.read_text().replace("RULE = 2", "RULE = 3"))
    _git(root, "commit", "-qam", "its rule")
    changed = _git(root, "rev-parse", "HEAD")
    assert audit.timeline(_result([b], changed)).declared[0] == changed


def test_runs_from_a_dirty_tree_are_flagged(history):
    a, b, c, d = history
    t = audit.timeline(_result([d + "+dirty"], d))
    assert [k for k, _ in t.flags] == [audit.DIRTY_RUNS]
    assert "+dirty" in audit.rows_markdown(t, known={}) and "*Not acknowledged*" in audit.rows_markdown(t, known={})


def test_audit_fails_only_on_an_unacknowledged_flag(history, tmp_path, monkeypatch, capsys):
    a, b, c, d = history
    results = tmp_path / "results" / "dropout" / "cpu"
    results.mkdir(parents=True)
    from alexnet_repro.results import provenance

    res = {
        "claim": "dropout",
        "claim_id": "DR1",
        "scale": "cpu",
        "proxy": True,
        "paper": {},
        "measured": {},
        "verdict": "reproduced",
        "verdict_rule": "r",
        "provenance": provenance(
            device="cpu", dataset={"sha256": "x"}, seeds=[0], scale="cpu", config={}, wall_time_s=1, precision="fp32"
        ),
    }
    res["provenance"].update(git_commit=d, runs_trained_at=[b])
    (results / "result.json").write_text(json.dumps(res))
    monkeypatch.setenv("ALEXNET_REPRO_RESULTS", str(tmp_path / "results"))
    acknowledged = tmp_path / "ack.json"
    monkeypatch.setattr(audit, "AUDIT_ACKNOWLEDGED", acknowledged)
    assert audit.main() == 1 and "FLAG: dropout/cpu: rule after runs" in capsys.readouterr().out
    acknowledged.write_text(json.dumps({"dropout/cpu": {"rule after runs": "looked at: a test"}}))
    assert audit.main() == 0
    out = capsys.readouterr().out
    assert "acknowledged: dropout/cpu: rule after runs" in out and "Why: looked at: a test" in out


def test_the_committed_results_pass_the_audit_with_their_flags_shown(monkeypatch):
    """Every flag of the committed results is acknowledged with a reason, none is hidden: D2's cpu result, whose
    reported gap comparison got its own rule after its runs, is flagged and acknowledged."""
    monkeypatch.setenv("ALEXNET_REPRO_RESULTS", str(REPO / "results"))
    timelines = {(t.slug, t.scale): t for t in audit.every_timeline()}
    assert [k for k, _ in timelines[("ten_patch", "cpu")].flags] == [audit.RULE_AFTER_RUNS]
    flags = [(key, kind, reason) for key, t in timelines.items() for kind, _, reason in t.acknowledged()]
    assert flags and all(reason for *_, reason in flags), [f for f in flags if not f[2]]
    known = audit.load_acknowledged()
    assert set(known) == {f"{s}/{sc}" for (s, sc), *_ in flags}  # no acknowledgement without a flag
    assert audit.main() == 0
