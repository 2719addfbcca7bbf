"""The one contract every claim follows, and the one function that turns a claim's runs into its result.

A claim declares, before any run, CLAIM (claims.Claim), DATA ("cifar10", "family" or None), SCALES (its config per
scale, the seeds fixed in each) and RULE / RULES (its verdict's rule), and provides:
  plan(scale, seeds=None) -> independent chains of stages of jobs (runs.prefill_in_parallel / prefill_distributed)
  run_job(scale, **job, device, data_root, work_dir, download): one job into the claim's run store
  train(scale, seeds, device, data_root, work_dir, download) -> Trained: every run of the plan, from the store
  assess(trained, scale) -> Assessment: the verdict from the runs, by the rule
  run(scale, seeds, device, data_root, out_dir, work_dir, download): what its notebook calls (contract.run).
"""

import ast
import dataclasses
import functools
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import atomic_write_bytes
from ..engine import TRAINING_VERSION
from ..results import provenance, results_dir, write_reread, write_result
from ..seeds import parse_seeds
from ..verdict import PLUMBING, Rule

# The declarations of a claim that fix its verdict before any run (the audit dates them; staleness compares them).
DECLARED = (
    "RULE",
    "RULES",
    "COMPARISONS",
    "COMPARISONS_BY_PROTOCOL",
    "SCALES",
    "RULE_TEXT",
    "UNTESTABLE_RULE",
    "FAR_FROM_REGIME",
    "IN_THE_PAPER",
)
# A decision version made by decided_by's values (staleness.py tells it from the file hashes recorded before).
SCHEME = "d2-"
# Module-level names that hold what a claim's notebook says, not what trains or decides it.
PRESENTATION = {"EXPERIMENT"}


def value(obj):
    """`obj` as plain JSON-able data, by value: floats by repr (so that inf and nan compare), an object by its
    identity() where it states one (an arm: by what its runs are keyed on). Anything else but plain data and
    dataclasses is refused: its repr may be an address."""
    if hasattr(obj, "identity") and not isinstance(obj, type):
        return value(obj.identity())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"": type(obj).__name__, **{f.name: value(getattr(obj, f.name)) for f in dataclasses.fields(obj)}}
    if isinstance(obj, dict):
        return {repr(k): value(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [value(v) for v in obj]
    if isinstance(obj, float):
        return repr(obj)
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    raise TypeError(f"no value for a {type(obj).__name__} in a claim's declarations")


@functools.lru_cache(maxsize=1024)
def syntax(source: str, imports: bool = True) -> str:
    """The source as its syntax tree, without docstrings and PRESENTATION assignments (comments are not in the
    tree at all), and without its import statements unless `imports` (where a name comes from is layout)."""
    tree = ast.parse(source)
    tree.body = [
        n
        for n in tree.body
        if not (isinstance(n, ast.Assign) and {getattr(t, "id", None) for t in n.targets} & PRESENTATION)
        and (imports or not isinstance(n, (ast.Import, ast.ImportFrom)))
    ]
    for node in ast.walk(tree):
        match getattr(node, "body", None):
            case [ast.Expr(value=ast.Constant(value=str())), *rest]:
                node.body = rest or [ast.Pass()]
    return ast.dump(tree, include_attributes=False)


def scale_config(configs: dict, scale: str, seeds=None):
    """A claim's config at `scale` (from its own SCALES table), with the seeds overridden when given."""
    if scale not in configs:
        raise ValueError(f"unknown scale {scale!r} for this claim; choose from: {', '.join(configs)}")
    seeds = parse_seeds(seeds)
    return dataclasses.replace(configs[scale], seeds=seeds) if seeds is not None else configs[scale]


def decided_by(mod) -> dict:
    """What trains and decides the claim `mod`, by value, so that moving code is no change (staleness.py): the
    training version (tests/test_engine.py fails on a change to what a run produces until it is bumped), verdict.py's
    syntax tree, and the claim's own part, which a claim states itself (`mod.decided_by()`: the ablation family, by
    its DECISION_VERSION, declarations and arms) or, for a claim whose module is its code, that module's syntax tree."""
    out = {
        "training": TRAINING_VERSION,
        "verdict": syntax((Path(__file__).parent.parent / "verdict.py").read_text(), imports=False),
    }
    own = getattr(mod, "decided_by", None)
    if own is None:
        return {**out, "module": module_syntax(mod)}
    part = own()
    if "module" not in part:  # declared, not coded: its declarations by value
        part["declared"] = {n: value(getattr(mod, n)) for n in DECLARED if hasattr(mod, n)}
    return {**out, **part}


def module_syntax(mod) -> str:
    return syntax(Path(mod.__file__).read_text(), imports=False)


def decision_version(mod) -> str:
    blob = json.dumps(decided_by(mod), sort_keys=True).encode()
    return SCHEME + hashlib.sha256(blob).hexdigest()[:12]


def rule_for(mod, label, decides=True):
    """The verdict.Rule a claim's comparison `label` is read by: its own (RULES[label]), else, for a deciding
    comparison, the claim's RULE. None where there is none: a comparison reported beside the verdict is not
    sized by the claim's band, and some claims' rules are no verdict.Rule (Q1's test, the architecture's checks)."""
    found = getattr(mod, "RULES", {}).get(label) or (getattr(mod, "RULE", None) if decides else None)
    return found if isinstance(found, Rule) else None


@dataclass
class Trained:
    """What a claim's runs gave: the rows its assess reads, its tables (CSVs beside result.json), the facts of its
    provenance, and in `context` what its assess needs beyond the rows (sweeps, the config)."""

    rows: list
    tables: dict  # name -> DataFrame; "seeds" is the per-run table where a claim has one
    device: object
    dataset: dict  # the data's description (results.validate wants its sha256)
    seeds: tuple
    config: dict
    wall_time_s: float  # the compute of the runs themselves (as stored), not of this call
    proxy: bool
    proxy_note: str
    precision: str = "fp32"
    trained_at: list = None  # the commits that trained the runs, where the store records them
    trained_on: list = None  # the devices that trained them, where the store records them (runs trained elsewhere)
    files: dict = field(default_factory=dict)  # further files beside result.json: name -> bytes
    context: dict = field(default_factory=dict)


@dataclass
class Assessment:
    """A claim's verdict from its runs, and the fields of its own its result carries."""

    verdict: str
    headline: str
    measured: dict
    verdict_rule: str
    paper: dict = field(default_factory=dict)  # the paper's numbers, beside its words, section and data
    fields: dict = field(default_factory=dict)  # e.g. comparisons and reason (protocol 2), checks, sensitivity


def run(mod, scale="cpu", seeds=None, device=None, data_root=None, out_dir=None, work_dir=None, download=False):
    """Train (or find in the store) every run of the claim `mod`, assess them, write its result and return it."""
    t0 = time.time()
    trained = mod.train(scale, seeds, device, data_root, work_dir, download)
    assessment = mod.assess(trained, scale)
    result = assemble(mod, scale, trained, assessment)
    result["provenance"]["invocation_wall_time_s"] = round(time.time() - t0, 1)
    folder = Path(out_dir or results_dir(mod.CLAIM.slug, scale))
    for name, data in trained.files.items():
        atomic_write_bytes(folder / name, data)
    write_result(result, folder, tables=trained.tables)
    return result


def smoke_headline(trained: Trained) -> str:
    """What a smoke run says instead of its effects: what ran, and that it ran. A few hundred images and a few
    epochs measure no effect; an interval printed from them would be read as one."""
    d = trained.dataset or {}
    images = f", {d['n_train']:,} training images" if isinstance(d.get("n_train"), int) else ""
    return (
        f"plumbing check passed: {len(trained.rows)} runs on {d.get('name', 'no data')}{images}, seeds "
        f"{list(trained.seeds)}, every step from the data to this result ran; a smoke run measures no effect (its "
        "numbers are in result.json, not a finding)"
    )


def look(seeds, verdict, note, date=None) -> dict:
    """One look at the data, as a result's `looks` lists it: on how many seeds, the verdict, when (default today)."""
    return {"n_seeds": len(seeds), "verdict": verdict, "date": date or time.strftime("%Y-%m-%d"), "note": note}


def assemble(mod, scale, trained: Trained, a: Assessment) -> dict:
    """The result dict of the claim `mod`: the fields every result has, around the claim's own."""
    claim = mod.CLAIM
    result = {
        "claim": claim.slug,
        "claim_id": claim.id,
        "title": claim.title,
        "scale": scale,
        "proxy": trained.proxy,
        "proxy_note": trained.proxy_note,
        "paper": {"says": claim.paper_says, **a.paper, "section": claim.section, "data": claim.paper_data},
        "measured": a.measured,
        **a.fields,
        "headline": smoke_headline(trained) if a.verdict == PLUMBING else a.headline,
        "verdict": a.verdict,
        "verdict_rule": a.verdict_rule,
        "provenance": provenance(
            device=trained.device,
            dataset=trained.dataset,
            seeds=trained.seeds,
            scale=scale,
            config=trained.config,
            wall_time_s=trained.wall_time_s,
            precision=trained.precision,
        ),
    }
    if "comparisons" in a.fields:
        # Protocol v2 (book/evidence.py): the effects as a comparisons list, and every look at the data.
        result.setdefault("protocol", 2)  # a claim's assessment names a later protocol itself
        result.setdefault(
            "looks", [look(trained.seeds, a.verdict, "the only look: seeds fixed in the scale before the runs")]
        )
    # The training version, which family.assessment.reread checks before re-reading, and the decision version,
    # which `list` and the book compare to tell a stale result: the code that trains and decides this claim.
    result["provenance"].update(training_version=TRAINING_VERSION, decision_version=decision_version(mod))
    if trained.trained_at is not None:
        # Shared runs may predate the commit that assembles this result: name the commits that trained them.
        result["provenance"]["runs_trained_at"] = trained.trained_at
    if trained.trained_on:
        result["provenance"]["runs_trained_on"] = trained.trained_on
    return result


def reread(mod, folder, old: dict, a: Assessment, seeds, why) -> dict:
    """Write the committed result `old` of the claim `mod` as `a` re-decided it from its own tables
    (results.write_reread). A verdict that changes keeps the old one's verdict, reason and rule beside it (old_rule);
    a result that records no looks had one, by the rules then."""
    extra = {}
    if a.verdict != old["verdict"]:
        extra["old_rule"] = {"verdict": old["verdict"], "reason": old.get("reason"), "rule": old.get("verdict_rule")}
    fields = dict(measured=a.measured, headline=a.headline, verdict=a.verdict, verdict_rule=a.verdict_rule)
    first = look(seeds, old["verdict"], "the only look, by the rules then", old["provenance"]["date"][:10])
    return write_reread(
        folder,
        old,
        {**a.fields, **extra, **fields},
        decision_version=decision_version(mod),
        n_seeds=len(seeds),
        why=why,
        looks=old.get("looks", [first]),
    )
