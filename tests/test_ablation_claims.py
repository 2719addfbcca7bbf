"""The AlexNet ablation family (claims/family/: its arms, training, assessment and ten declared claims)."""

import dataclasses
import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch
from test_augment import coordinate_images, decode_crop

from alexnet_repro import claims
from alexnet_repro.claims import contract
from alexnet_repro.claims.family import arms, assessment, training
from alexnet_repro.claims.family.arms import PAPER, Arm, Comparison
from alexnet_repro.claims.family.assessment import converged_epoch
from alexnet_repro.models.alexnet import AlexNetConfig
from alexnet_repro.paper_claims import BY_ID
from alexnet_repro.paths import SAMPLE_DATA
from alexnet_repro.runs import run_key
from alexnet_repro.seeds import Streams
from alexnet_repro.verdict import INCONCLUSIVE, NOT_REPRODUCED, PARTLY, REPRODUCED, VERDICTS, combine

from conftest import run_notebook

REPO_RESULTS = Path(__file__).resolve().parent.parent / "results"

FAMILY = [slug for slug, mod in claims.registry().items() if claims.has_confirmation(mod)]  # by the registry


def _switches(arm: Arm):
    """Everything that defines an arm, as a flat dict: its net config and every other switch of Arm (decay, PCA
    lighting, crops and flips, and any switch added later)."""
    recipe = {f.name: getattr(arm, f.name) for f in dataclasses.fields(arm) if f.name not in ("name", "net")}
    return {**dataclasses.asdict(arm.net_config(AlexNetConfig())), **recipe}


@pytest.mark.parametrize("slug", FAMILY)
def test_every_comparison_changes_exactly_one_switch(slug):
    mod = claims.load(slug)
    assert mod.COMPARISONS
    for comp in mod.COMPARISONS:
        a, b = _switches(comp.treatment), _switches(comp.control)
        changed = [k for k in a if a[k] != b[k]]
        # or none, where the one net is measured two ways (D2's test half: 10 views vs the centre crop)
        assert len(changed) == (0 if comp.treatment_metric else 1), (comp.label, changed)


@pytest.mark.parametrize("slug", FAMILY)
def test_claim_modules_declare_what_the_book_needs(slug):
    mod = claims.load(slug)
    assert mod.CLAIM.id in BY_ID
    assert mod.CLAIM.slug == slug
    rules = getattr(mod, "RULES", {})
    for comp in mod.COMPARISONS:
        rule = rules.get(comp.label, mod.RULE)
        assert rule.text and rule.direction in (-1, 1)


def test_the_paper_arm_is_shared_by_name_and_config():
    """The family's claims compare against one PAPER arm, so its runs are trained once per seed."""
    controls = {c.control for slug in FAMILY for c in claims.load(slug).COMPARISONS if c.control.name == PAPER.name}
    treatments = {
        c.treatment for slug in FAMILY for c in claims.load(slug).COMPARISONS if c.treatment.name == PAPER.name
    }
    assert controls | treatments == {PAPER}


@pytest.mark.parametrize("slug", FAMILY)
def test_plan_lists_every_arm_and_seed_by_a_catalogue_name(slug):
    mod = claims.load(slug)
    jobs = [job for chain in mod.plan("smoke") for stage in chain for job in stage]
    names = {a.name for c in mod.COMPARISONS for a in (c.treatment, c.control)}
    assert sorted((j["arm"], j["seed"]) for j in jobs) == sorted((a, s) for a in names for s in (0, 1))
    assert all(arms.CATALOGUE[j["arm"]] in {a for c in mod.COMPARISONS for a in (c.treatment, c.control)} for j in jobs)
    assert mod.run_job is training.run_job  # picklable by name for the --jobs process pool


NO_FLIPS = Arm("random crops, no flips", flip=False)  # an arm a claim could add with arms.py alone


def test_an_arm_without_flips_mirrors_no_batch_and_keys_runs_of_its_own():
    """The training an arm declares is the training it gets: an arm with flip=False takes the paper's net's crops
    (the same stream) and mirrors none of them, and its runs are keyed apart from the paper's net's."""
    fam = training.Family(contract.scale_config(arms.SCALES, "smoke"), "smoke", "cpu", SAMPLE_DATA)
    ours, papers = fam.describe_run(NO_FLIPS, 0)[1], fam.describe_run(PAPER, 0)[1]
    assert run_key(ours) != run_key(papers) and {k for k in ours if ours[k] != papers[k]} == {"augment"}
    no_light = torch.zeros(3), torch.eye(3)  # PCA lighting of size 0 keeps the coordinates readable
    images = coordinate_images(64)
    for epoch in range(2):
        seen = {}
        for arm in (PAPER, NO_FLIPS):
            augment, streams = training.augmenter(arm, 5, None, no_light), Streams(0, epoch, "cpu")
            seen[arm] = [decode_crop(p) for _ in range(2) for p in augment(images, streams)]
        assert any(f for *_, f in seen[PAPER]) and not any(f for *_, f in seen[NO_FLIPS])
        assert [c[:2] for c in seen[NO_FLIPS]] == [c[:2] for c in seen[PAPER]]


def test_adding_an_arm_without_flips_changes_no_existing_arm(monkeypatch):
    """Runs already trained are found by their arm's augmentation text, and staleness compares arms by identity():
    the flip switch at its default, and an arm that turns it off, leave every existing arm and every claim's
    decision version as they were."""
    mirrored = [
        json.loads(p.read_text())["description"] for p in (REPO_RESULTS / "runs" / arms.FAMILY).rglob("record.json")
    ]
    assert mirrored and {d["augment"] for d in mirrored} <= {a.augment_text() for a in arms.CATALOGUE.values()}
    identities = {name: arm.identity() for name, arm in arms.CATALOGUE.items() if arm.flip}  # those before the switch
    versions = {slug: contract.decision_version(claims.load(slug)) for slug in claims.registry()}
    monkeypatch.setitem(arms.CATALOGUE, NO_FLIPS.name, NO_FLIPS)
    assert {name: arms.CATALOGUE[name].identity() for name in identities} == identities
    assert NO_FLIPS.identity()["augment"] not in {i["augment"] for i in identities.values()}
    assert {slug: contract.decision_version(claims.load(slug)) for slug in claims.registry()} == versions
    assert NO_FLIPS.describe()["flip"] is False and "flip" not in PAPER.describe()  # results' configs as they were


def test_a_net_left_chance_only_well_below_it():
    assert assessment.left_chance(80.0, 10) and not assessment.left_chance(86.0, 10)  # chance 90%, 5 points below
    assert not assessment.left_chance(float("nan"), 10)
    assert assessment.left_chance(94.0, 1000) and not assessment.left_chance(99.0, 1000)  # chance 99.9%


def test_converged_epoch_is_the_first_within_one_point_of_the_best():
    assert converged_epoch([0.9, 0.5, 0.305, 0.31, 0.30]) == 3
    assert converged_epoch([0.5, 0.4, 0.3]) == 3
    assert converged_epoch([0.2, 0.4, 0.3]) == 1


def test_effects_are_paired_by_seed_as_differences_or_ratios():
    t, c = Arm("t", weight_decay=0.0), PAPER
    by = {
        ("t", 0): {"val_top1": 40.0, "converged_epoch": 8},
        ("t", 1): {"val_top1": 42.0, "converged_epoch": 6},
        (PAPER.name, 0): {"val_top1": 41.0, "converged_epoch": 4},
        (PAPER.name, 1): {"val_top1": 40.0, "converged_epoch": 3},
        ("t", 2): {"val_top1": 1.0, "converged_epoch": 1},
    }  # seed 2 has no control: left out
    assert assessment._effects(Comparison("d", t, c), by) == [-1.0, 2.0]
    assert assessment._effects(Comparison("r", t, c, metric="converged_epoch", ratio=True), by) == [2.0, 2.0]
    by[("t", 1)]["val_top1"] = math.nan  # a diverged run gives no effect rather than a NaN mean
    assert assessment._effects(Comparison("d", t, c), by) == [-1.0]


def test_combining_the_verdicts_of_several_comparisons():
    assert combine([REPRODUCED, REPRODUCED]) == REPRODUCED
    assert combine([REPRODUCED, INCONCLUSIVE]) == PARTLY
    assert combine([PARTLY, NOT_REPRODUCED]) == PARTLY
    assert combine([INCONCLUSIVE, NOT_REPRODUCED]) == NOT_REPRODUCED
    assert combine([INCONCLUSIVE, INCONCLUSIVE]) == INCONCLUSIVE


def _row(arm, seed, val, gap=10.0, late=0.1, chance=True, train=None):
    return {
        "arm": arm,
        "seed": seed,
        "val_top1": val,
        "gap": gap,
        "late_gain": late,
        "left_chance": chance,
        "converged_epoch": 10,
        "train_top1": val - gap if train is None else train,
        "val_top5": 5.0,
        "final_train_loss": 0.5,
        "seconds_per_epoch": 1.0,
    }


def test_assess_under_v3_decides_direction_shows_disagreement_and_needs_a_control_that_overfits():
    """Protocol v3 (the regime scale) on constructed runs: the words say what was measured."""
    from alexnet_repro.claims import batchnorm, crops_flips, depth, dropout, lrn_alexnet, ten_patch
    from alexnet_repro.verdict import DIRECTION, FINDING, MIXED, NO_EFFECT, NOT_TESTABLE

    regime = claims.REGIME
    # L2 at 2.5 times the paper's effect: v2 called it partly reproduced; v3 decides the direction, states the size
    rows = [_row(PAPER.name, s, 26.5 + 0.1 * s) for s in range(5)] + [_row("no LRN", s, 30.0) for s in range(5)]
    comps, _, verdict, reason, _ = assessment.assess(lrn_alexnet, rows, regime)
    assert assessment.assess(lrn_alexnet, rows, "cpu")[2] == PARTLY
    assert verdict == DIRECTION and "2.4 times the paper's effect" in reason
    # E5: one layer costs 2 points, the others nothing: the claim is mixed, each comparison keeps its verdict
    rows = [_row(PAPER.name, s, 30.0) for s in range(5)]
    rows += [_row("without conv3", s, 32.0 + 0.1 * s) for s in range(5)]
    rows += [
        _row(f"without {layer}", s, 30.0 + (0.05 if s % 2 else -0.05)) for s in range(5) for layer in ("conv4", "conv5")
    ]
    comps, _, verdict, reason, _ = assessment.assess(depth, rows, regime)
    assert [c["verdict"] for c in comps] == [DIRECTION, NO_EFFECT, NO_EFFECT] and verdict == MIXED
    assert "without conv3: direction reproduced" in reason and "without conv4: no effect" in reason
    # opposing halves are never folded into "partly"
    assert combine([REPRODUCED, NOT_REPRODUCED], arms.V3) == MIXED
    # D4: the no-crop control overfits by 5 points: enough for v2's 2-point threshold, not for v3's 8
    rows = [_row(PAPER.name, s, 30.0 - 2 + 0.1 * s, gap=2.0) for s in range(4)]
    rows += [_row("no crops or flips", s, 30.0, gap=5.0) for s in range(4)]
    comps, _, verdict, reason, _ = assessment.assess(crops_flips, rows, regime)
    assert verdict == NOT_TESTABLE and "nothing to overfit" in reason and "needs 8" in reason
    rows = [dict(r, gap=12.0) if r["arm"] == "no crops or flips" else r for r in rows]
    assert assessment.assess(crops_flips, rows, regime)[2] == DIRECTION
    # the regime's convergence rule reads the paper's net's gain over its last 3 epochs (late_gain at the scale)
    rows = [dict(r, late_gain=1.5) if r["arm"] == PAPER.name else r for r in rows]
    _, _, verdict, reason, _ = assessment.assess(crops_flips, rows, regime)
    assert verdict == NOT_TESTABLE and "over its last 3 epochs" in reason
    # DR1's iterations cannot be measured under a fixed, annealed budget: v3 says so; v2 still reads the ratio
    rows = [_row(PAPER.name, s, 30.0, gap=3.0) for s in range(4)] + [
        _row("no dropout", s, 31.0, gap=12.0) for s in range(4)
    ]
    comps, _, verdict, reason, _ = assessment.assess(dropout, rows, regime)
    assert comps[1]["verdict"] == NOT_TESTABLE and "schedule" in comps[1]["reason"]
    # the verdict is the gap's alone, and its reason names the half that could not be tested beside it
    assert verdict == DIRECTION and not comps[1]["decides"]
    assert f"{comps[1]['label']} (beside the verdict, not deciding it): {NOT_TESTABLE}" in reason
    assert assessment.assess(dropout, rows, "cpu")[0][1]["verdict"] != NOT_TESTABLE
    # BN is no claim of the paper: a finding
    rows = [_row("batch norm", s, 27.0 + 0.1 * s) for s in range(4)] + [_row(PAPER.name, s, 30.0) for s in range(4)]
    rows += [_row("no LRN", s, 31.0) for s in range(4)]
    assert assessment.assess(batchnorm, rows, regime)[2] == FINDING + "in the expected direction"
    # D2 at v3 is the test half alone; its v2 results keep both halves
    assert [c.label for c in arms.comparisons(ten_patch, regime)] == [ten_patch.TEST_HALF]
    assert len(arms.comparisons(ten_patch, "cpu")) == 3


def test_the_regime_seeds_come_from_the_committed_plan(tmp_path):
    import json

    from alexnet_repro.claims import pca_colour

    plan = tmp_path / "plan.json"
    with pytest.raises(ValueError, match="plan_regime.py"):
        arms.regime_seeds(pca_colour, plan=plan)
    plan.write_text(json.dumps({"claims": {"pca_colour": {"n": 3}}}))
    assert arms.regime_seeds(pca_colour, plan=plan) == (0, 1, 2)
    assert arms.regime_seeds(pca_colour, "0,1,2", plan=plan) == (0, 1, 2)
    with pytest.raises(ValueError, match="fixed in advance"):
        arms.regime_seeds(pca_colour, "0,1", plan=plan)  # fewer seeds than declared: optional stopping


def test_two_claims_share_the_paper_arm_and_write_complete_results(imagenette_data, tmp_path):
    """L2 through its notebook, then E5 in-process: E5 finds L2's PAPER runs in the store."""
    result, nb = run_notebook("lrn_alexnet", tmp_path, data_root=str(imagenette_data))
    assert result["claim_id"] == "L2" and result["verdict"] in VERDICTS and result["proxy"]
    assert result["protocol"] == 3 and result["verdict"] == "plumbing check (no verdict)"  # smoke decides nothing
    comp = {c["label"]: c for c in result["comparisons"]}["LRN vs none"]
    assert len(comp["per_seed"]) == 2 and comp["metric"] == "val_top1"
    assert set(result["measured"]["arms"]) == {PAPER.name, "no LRN"}
    assert result["provenance"]["dataset"]["sha256"]
    assert any(
        o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
        for c in nb["cells"]
        for o in c.get("outputs", [])
    )  # the figure was drawn

    from alexnet_repro.claims import weight_decay

    def records():
        return len(list((tmp_path / "runs").rglob("record.json")))

    assert records() == 4  # 2 arms x 2 seeds
    res = weight_decay.run("smoke", data_root=str(imagenette_data), out_dir=tmp_path / "t1")
    assert records() == 6  # only the no-decay arm was trained; the paper's net came from the store
    assert (
        res["measured"]["arms"][PAPER.name]["val_top1"]["per_seed"]
        == result["measured"]["arms"][PAPER.name]["val_top1"]["per_seed"]
    )
    assert res["comparisons"][0]["label"] == "training error, decay vs none"
    assert res["comparisons"][0]["metric"] == "train_top1"
    rows = pd.read_csv(tmp_path / "t1" / "seeds.csv")
    at_chance = [f"{r.arm}, seed {r.seed}" for r in rows.itertuples() if not r.left_chance]
    assert res["measured"]["runs_at_chance"] == at_chance

    # A prefilled run (what `--jobs` does in its own process) is found the same way, its top-5 cached beside it.
    training.run_job("smoke", arm="no LRN", seed=0, data_root=str(imagenette_data))
    assert records() == 6 and len(list((tmp_path / "runs").rglob("val_top5_*.json"))) == 6


def test_assess_decides_each_comparison_under_v2_with_holm_and_not_testable():
    from alexnet_repro.claims import depth, dropout, lrn_alexnet
    from alexnet_repro.verdict import NO_EFFECT, NOT_TESTABLE, PARTLY, REPRODUCED

    def row(arm, seed, val, gap=5.0, late=0.1, chance=True):  # the v2 cases' gap: under the regime's 8 points
        return _row(arm, seed, val, gap=gap, late=late, chance=chance)

    # L2: LRN lowers the error by ~1.4 points on every seed: reproduced
    rows = [row(PAPER.name, s, 30.0 - 1.4 + 0.1 * s) for s in range(4)] + [row("no LRN", s, 30.0) for s in range(4)]
    comps, measured, verdict, reason, _ = assessment.assess(lrn_alexnet, rows, "cpu")
    assert verdict == REPRODUCED and comps[0]["effect"]["n"] == 4
    # the same, tight around zero: a measured null
    rows = [row(PAPER.name, s, 30.0 + (0.05 if s % 2 else -0.05)) for s in range(4)] + [
        row("no LRN", s, 30.0) for s in range(4)
    ]
    assert assessment.assess(lrn_alexnet, rows, "cpu")[2] == NO_EFFECT
    # the paper's net still improving at its end: not testable, and the reason says so
    rows = [row(PAPER.name, s, 28.6, late=3.0) for s in range(4)] + [row("no LRN", s, 30.0) for s in range(4)]
    _, _, verdict, reason, _ = assessment.assess(lrn_alexnet, rows, "cpu")
    assert verdict == NOT_TESTABLE and "not converged" in reason
    # DR1's gap needs a control that overfits
    rows = [row(PAPER.name, s, 30.0, gap=0.5) for s in range(4)] + [
        row("no dropout", s, 30.0, gap=1.0) for s in range(4)
    ]
    assert assessment.assess(dropout, rows, "cpu")[2] == NOT_TESTABLE
    # E5: three comparisons under Holm; one layer matters at the paper's size, two not at all
    rows = [row(PAPER.name, s, 30.0) for s in range(5)]
    rows += [row("without conv3", s, 32.0 + 0.1 * s) for s in range(5)]
    rows += [
        row(f"without {layer}", s, 30.0 + (0.05 if s % 2 else -0.05)) for s in range(5) for layer in ("conv4", "conv5")
    ]
    comps, _, verdict, _, _ = assessment.assess(depth, rows, "cpu")
    assert [c["verdict"] for c in comps] == [REPRODUCED, NO_EFFECT, NO_EFFECT] and verdict == PARTLY
    assert comps[0]["holm_significant"] is True


@pytest.mark.parametrize(
    "slug, scale",
    [
        (s, scale)
        for s in FAMILY
        for scale in ("cpu", claims.CONFIRMATION, claims.REGIME)
        if (REPO_RESULTS / s / scale / "seeds.csv").exists()
    ],
)
def test_committed_cpu_results_are_what_todays_code_reads_from_their_runs(slug, scale, tmp_path):
    """assessment.reread decides a committed result again from its own per-run table: today's code must give the
    committed effects, verdict and reasons. This is the guard of assessment.DECISION_VERSION, which staleness reads
    instead of the assessing code's text: a change that fails it is a change of what results say: bump the
    version, and re-read or rerun the results (scripts/reread_cpu_family.py)."""
    import json
    import shutil

    folder = tmp_path / slug
    shutil.copytree(REPO_RESULTS / slug / scale, folder)
    committed = json.loads((folder / "result.json").read_text())
    result = assessment.reread(claims.load(slug), folder)
    assert result["verdict"] == committed["verdict"] and len(result["looks"]) == len(committed["looks"])
    assert result["reason"] == committed["reason"] and len(result["comparisons"]) == len(committed["comparisons"])
    for new, old in zip(result["comparisons"], committed["comparisons"]):
        assert new["label"] == old["label"] and new["verdict"] == old["verdict"] and new["reason"] == old["reason"]
        # the committed intervals used a 3-decimal t table; today's quantiles are scipy's (equal to 3 decimals)
        assert new["per_seed"] == pytest.approx(old["per_seed"]) and new["effect"] == pytest.approx(
            old["effect"], rel=1e-3, abs=1e-3
        )
    assert (
        result["provenance"]["reread"]["code_version"]
        and result["provenance"]["git_commit"] == committed["provenance"]["git_commit"]
    )


def _pilot(slug, root, seeds_needed=None):
    """The committed cpu result of `slug` copied under `root` as its pilot; seeds_needed, where given, replaces its
    deciding comparisons' (so that a smoke-sized confirmation trains two seeds, not the pilot's own n)."""
    import json
    import shutil

    shutil.copytree(REPO_RESULTS / slug / "cpu", root / slug / "cpu")
    if seeds_needed is not None:
        path = root / slug / "cpu" / "result.json"
        pilot = json.loads(path.read_text())
        for c in pilot["comparisons"]:
            c["seeds_needed"] = seeds_needed if c["decides"] and c["verdict"] == INCONCLUSIVE else None
        path.write_text(json.dumps(pilot))


def test_a_confirmations_seeds_are_fixed_by_its_pilot(tmp_path):
    import json

    from alexnet_repro.claims import depth, pca_colour, two_columns

    root = tmp_path / "results"
    with pytest.raises(ValueError, match="no cpu result to confirm"):
        arms.confirmation_seeds(pca_colour, root=root)
    for slug in ("pca_colour", "depth", "two_columns"):
        _pilot(slug, root)
    pilot = json.loads((root / "depth" / "cpu" / "result.json").read_text())
    needed = {c["label"]: c["seeds_needed"] for c in pilot["comparisons"] if c["seeds_needed"]}
    seeds = arms.confirmation_seeds(depth, root=root)  # the most any deciding comparison needs, none of the pilot's
    assert seeds == tuple(range(4, 4 + max(needed.values()))) and len(seeds) > 4
    assert arms.confirmation_seeds(depth, seeds, root=root) == seeds
    with pytest.raises(ValueError, match="fixed by its pilot"):
        arms.confirmation_seeds(depth, seeds[:-1], root=root)  # one seed fewer is optional stopping
    with pytest.raises(ValueError, match="nothing to confirm"):
        arms.confirmation_seeds(two_columns, root=root)  # M1's pilot decided


def test_a_confirmation_runs_on_fresh_seeds_and_is_decided_alone(shared_data, tmp_path, monkeypatch):
    """D3's confirmation at smoke size: two fresh seeds, trained into the cpu scale's store, decided on its own
    runs with the pilot beside it (never pooled: the pilot's seeds are not among its runs)."""
    from alexnet_repro.claims import pca_colour

    _pilot("pca_colour", tmp_path / "results", seeds_needed=2)
    monkeypatch.setitem(arms.SCALES, claims.CONFIRMATION, dataclasses.replace(arms.SCALES["smoke"], seeds=()))
    res = pca_colour.run(claims.CONFIRMATION, data_root=str(shared_data), out_dir=tmp_path / "out")
    assert res["scale"] == claims.CONFIRMATION and tuple(res["provenance"]["seeds"]) == (4, 5)
    assert sorted(pd.read_csv(tmp_path / "out" / "seeds.csv").seed.unique()) == [4, 5]
    assert res["comparisons"][0]["effect"]["n"] == 2 and res["verdict"] in VERDICTS
    assert res["pilot"]["verdict"] == INCONCLUSIVE and res["pilot"]["seeds"] == [0, 1, 2, 3]
    assert len(res["looks"]) == 1 and "confirmation's only look" in res["looks"][0]["note"]
    assert len(list((tmp_path / "runs" / arms.FAMILY / "cpu").rglob("record.json"))) == 4  # the cpu store


def test_cli_refuses_a_confirmation_that_has_no_pilot_or_nothing_to_confirm(tmp_path):
    from test_cli_and_notebook import cli

    _pilot("two_columns", tmp_path / "results")
    for slug, needle in (
        ("relu_vs_tanh", "has no cpu-confirmation scale"),
        ("two_columns", "nothing to confirm"),
        ("pca_colour", "no cpu result to confirm"),
    ):
        out = cli("run", slug, "--scale", claims.CONFIRMATION)
        assert out.returncode == 2 and needle in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_a_mirrored_scales_runs_outlive_their_run_store(imagenette_data, tmp_path, monkeypatch):
    """A campaign spans sessions on fresh machines: its finished runs are recorded in the repository (the
    mirror, results/runs/...), and a machine whose run store is empty assembles from them without training."""
    import shutil

    monkeypatch.setattr(training, "MIRRORED", {"smoke"})
    cfg = dataclasses.replace(arms.SCALES["smoke"], epochs=1)
    row, curve = training.Family(cfg, "smoke", data_root=str(imagenette_data)).train_arm(PAPER, 0)
    mirror = tmp_path / "results" / "runs" / arms.FAMILY / "smoke"
    (folder,) = mirror.iterdir()
    assert {p.name for p in folder.iterdir()} == {"record.json", "val_top5_128.json"}  # never a checkpoint
    shutil.rmtree(tmp_path / "runs")  # a new machine: the run store is gone
    again, again_curve = training.Family(cfg, "smoke", data_root=str(imagenette_data)).train_arm(PAPER, 0)
    assert not (tmp_path / "runs" / arms.FAMILY / "smoke" / folder.name / "checkpoint.pt").exists()  # not trained
    assert again == row and again_curve == curve


def _reread_script():
    """scripts/reread_cpu_family.py as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "reread_cpu_family", Path(__file__).parent.parent / "scripts" / "reread_cpu_family.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_the_reread_check_passes_on_the_committed_results_and_sees_a_changed_rule(monkeypatch, capsys):
    """scripts/reread_cpu_family.py --check re-reads copies of the committed results (nothing is written under
    results/) and exits 1 when today's code would change one."""
    script = _reread_script()
    monkeypatch.setenv("ALEXNET_REPRO_RESULTS", str(REPO_RESULTS))
    assert script.main(["--check", "lrn_alexnet", "kernels"]) == 0
    expected = len(list(script.targets(["lrn_alexnet", "kernels"])))  # every committed L2 result and Q1's two
    assert expected >= 4 and capsys.readouterr().out.count("re-reads identically") == expected
    rule = claims.load("lrn_alexnet").RULE
    monkeypatch.setattr(claims.load("lrn_alexnet"), "RULE", dataclasses.replace(rule, band=(-9.0, -8.0)))
    assert script.main(["--check", "lrn_alexnet"]) == 1
    assert "CHANGES: verdict" in capsys.readouterr().out


@pytest.mark.parametrize("scale", ["cpu", "gpu"])
def test_committed_r1_results_are_what_todays_code_reads_from_their_tables(scale):
    """relu_vs_tanh.reread decides R1's committed result again from its own sweeps and seed runs (on a copy): today's
    code must give its verdict, headline, rule and effects. A change that fails it changes what R1's results say:
    re-read them (scripts/reread_cpu_family.py relu_vs_tanh) where the runs' training is unchanged, else rerun.
    A result trained by another training version (the gpu result predates engine v2) is refused, not re-read."""
    from alexnet_repro.claims import relu_vs_tanh
    from alexnet_repro.engine import TRAINING_VERSION
    from alexnet_repro.results import read_result

    folder = REPO_RESULTS / "relu_vs_tanh" / scale
    missing = [name for name in ("result.json", "seeds.csv", "sweep.csv") if not (folder / name).exists()]
    if missing:
        pytest.skip(f"no committed R1 result at {scale} to re-read: {', '.join(missing)} absent")
    old = read_result(folder / "result.json")
    differences = _reread_script().reread_differences
    if old["provenance"].get("training_version") != TRAINING_VERSION:
        with pytest.raises(ValueError, match="trained by training version .*: rerun it instead"):
            differences(folder, relu_vs_tanh.reread, old)
    else:
        assert differences(folder, relu_vs_tanh.reread, old) == []


def test_a_reread_rewrites_a_stale_result_and_leaves_a_current_one(monkeypatch, capsys, tmp_path):
    """scripts/reread_cpu_family.py (not --check) re-stamps a result only where it says something new: a current
    result that re-reads identically stays the same file; after a change of the deciding code, it is re-read."""
    script = _reread_script()
    shutil.copytree(REPO_RESULTS / "lrn_alexnet", tmp_path / "lrn_alexnet")
    monkeypatch.setenv("ALEXNET_REPRO_RESULTS", str(tmp_path))
    files = [folder / "result.json" for _, folder, _ in script.targets(["lrn_alexnet"])]
    assert len(files) >= 3  # cpu, its confirmation, cpu-regime
    before = [f.read_bytes() for f in files]
    assert script.main(["lrn_alexnet"]) == 0
    assert capsys.readouterr().out.count("left as it is") == len(files) and [f.read_bytes() for f in files] == before
    monkeypatch.setattr(assessment, "DECISION_VERSION", assessment.DECISION_VERSION + "+1")
    assert script.main(["lrn_alexnet"]) == 0
    assert "left as it is" not in capsys.readouterr().out
    assert all(f.read_bytes() != b for f, b in zip(files, before))  # each re-stamped by the new version
