"""The audit (book/method.md, "The audit"): for every result, when its rule was declared, when its runs were trained
and when it was assembled, read from git and from the result's provenance; and the flags that say a result needs a
second look:

  rule after runs   the claim's declarations (contract.DECLARED: its rule, margin, arms and seeds) last changed
                    in a commit that came after the commit its runs were trained at
  dirty runs        its runs were trained from a tree with uncommitted changes (a commit ending "+dirty")

A flag is never hidden; one that has been looked at is acknowledged, with the reason, in AUDIT_ACKNOWLEDGED
(committed), and `audit` exits non-zero only for a flag nobody has acknowledged.
"""

import ast
import copy
import functools
import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from .claims.contract import DECLARED
from .staleness import _git, made_by

AUDIT_ACKNOWLEDGED = Path(__file__).parent / "audit_acknowledged.json"
RULE_AFTER_RUNS, DIRTY_RUNS = "rule after runs", "dirty runs"


@dataclass
class Timeline:
    slug: str
    scale: str
    declared: tuple | None  # (commit, date) that last changed the claim's declarations, up to `decided`
    trained: list  # [(commit, date)] the runs were trained at; [] when not recorded
    training_version: str | None
    assembled: tuple  # (commit, date) that wrote the result
    decided: tuple  # (commit, date) whose code decided the verdict (a re-read's, else assembled)
    notes: list = field(default_factory=list)
    flags: list = field(default_factory=list)  # [(kind, text)]

    def acknowledged(self, known=None) -> list:
        """[(kind, text, reason or None)] for each flag: its reason where the committed list acknowledges it."""
        known = load_acknowledged() if known is None else known
        return [(kind, text, known.get(f"{self.slug}/{self.scale}", {}).get(kind)) for kind, text in self.flags]


def load_acknowledged() -> dict:
    """{"<claim>/<scale>": {flag kind: reason}}."""
    data = json.loads(AUDIT_ACKNOWLEDGED.read_text()) if AUDIT_ACKNOWLEDGED.exists() else {}
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _commit_date(commit: str):
    out = _git("log", "-1", "--format=%cI", commit.removesuffix("+dirty"))
    return out.strip() if out else None


def _is_ancestor(a: str, b: str) -> bool:
    """a comes before b (strictly) in this repository's history."""
    a, b = a.removesuffix("+dirty"), b.removesuffix("+dirty")
    full_a, full_b = _git("rev-parse", a), _git("rev-parse", b)
    if not full_a or not full_b or full_a == full_b:
        return False
    return _git("merge-base", "--is-ancestor", a, b) is not None


# A claim's declarations are in its own module claims/<slug>.py (the family's too, in older commits) or in its class
# of the family's one file of declarations.
FAMILY_DECLARATIONS = "alexnet_repro/claims/family/declarations.py"


def _constants(body) -> dict:
    """{name: its expression} of the plain assignments in `body` that are not declarations (labels, shared rules)."""
    return {
        t.id: n.value
        for n in body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name) and t.id not in DECLARED
    }


class _Inline(ast.NodeTransformer):
    """Each name of `constants` replaced by its expression: a rule written once and named by two claims is the
    same declaration as the rule written out in each."""

    def __init__(self, constants):
        self.constants, self.expanding = constants, set()

    def visit_Name(self, node):
        if not isinstance(node.ctx, ast.Load) or node.id not in self.constants or node.id in self.expanding:
            return node
        self.expanding.add(node.id)  # a name never expands into itself
        out = self.visit(copy.deepcopy(self.constants[node.id]))
        self.expanding.discard(node.id)
        return out


def _claim_block(tree: ast.Module, slug: str):
    """The statements that declare `slug` in the family's file: the body of the class whose CLAIM names it."""
    for cls in tree.body:
        if not isinstance(cls, ast.ClassDef):
            continue
        claims = [
            n.value
            for n in cls.body
            if isinstance(n, ast.Assign) and "CLAIM" in [getattr(t, "id", None) for t in n.targets]
        ]
        keywords = {k.arg: k.value for k in claims[0].keywords} if claims and isinstance(claims[0], ast.Call) else {}
        if isinstance(keywords.get("slug"), ast.Constant) and keywords["slug"].value == slug:
            return cls.body
    return None


def _paths(slug: str) -> tuple:
    return (f"alexnet_repro/claims/{slug}.py", FAMILY_DECLARATIONS)


@functools.cache
def declarations(slug: str, commit: str):
    """The claim's declarations at `commit` as a syntax-tree dump of its DECLARED statements, wherever that commit
    kept them (None: not there), the names of its file's plain constants replaced by their expressions. The same
    statements give the same dump in either layout, and so does a rule moved into a constant that two claims name."""
    own, family = (_git("show", f"{commit}:{path}") for path in _paths(slug))
    if own is not None:
        body = ast.parse(own).body
        constants = _constants(body)
    elif family is not None and (body := _claim_block(ast.parse(family), slug)) is not None:
        constants = {**_constants(ast.parse(family).body), **_constants(body)}
    else:
        return None
    kept = []
    for node in body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        # A declaration assigned whole (RULE = ...) or by item (RULES["label"] = ...).
        if {getattr(t.value if isinstance(t, ast.Subscript) else t, "id", None) for t in targets} & set(DECLARED):
            inlined = _Inline(constants).visit(copy.deepcopy(node))
            kept.append(ast.dump(inlined, include_attributes=False))
    return "\n".join(kept)


def declared_at(slug: str, upto: str):
    """The commit (and its date) that last changed the claim's declarations, among the commits up to `upto` that
    touched the files that held them; None when git cannot tell (no such commit here)."""
    upto = upto.removesuffix("+dirty")
    log = _git("log", "--format=%H", upto, "--", *_paths(slug))
    if not log:
        return None
    now = declarations(slug, upto)
    found = None
    for commit in log.split():
        if declarations(slug, commit) != now:
            break
        found = commit
    return (found, _commit_date(found)) if found else None


def timeline(result: dict) -> Timeline:
    prov = result.get("provenance", {})
    slug, scale = result["claim"], result["scale"]
    assembled = (prov.get("git_commit", "unknown"), prov.get("date"))
    later = prov.get("reread") or prov.get("reassessed") or {}  # a verdict re-read or reassessed by later code
    decided = (later.get("git_commit") or made_by(result)[1] or "unknown", later.get("date") or prov.get("date"))
    t = Timeline(slug, scale, None, [], prov.get("training_version"), assembled, decided)
    if prov.get("runs_trained_at"):
        t.trained = [(c, _commit_date(c)) for c in prov["runs_trained_at"]]
    elif prov.get("reread"):  # re-read from its own tables: its runs are no later than the call that first wrote it
        t.trained = [assembled]
    elif _found_in_store(prov):
        t.notes.append("its runs were found in the run store; the commits that trained them are not recorded")
    else:
        t.trained = [assembled]  # trained by the call that wrote the result
    if decided[0] != "unknown":
        t.declared = declared_at(slug, decided[0])
    if t.declared and (later := [c for c, _ in t.trained if _is_ancestor(c, t.declared[0])]):
        at = ", ".join(c[:10] for c in later)
        text = f"its declarations last changed at {t.declared[0][:10]}, after its runs were trained at {at}"
        t.flags.append((RULE_AFTER_RUNS, text))
    dirty = [c for c, _ in t.trained if c.endswith("+dirty")]
    if dirty:
        t.flags.append((DIRTY_RUNS, f"its runs were trained from uncommitted changes on {dirty[0][:10]}+dirty"))
    return t


def _found_in_store(prov: dict) -> bool:
    """The call that wrote the result trained (almost) nothing: its runs were in the store already. A CLI call with
    --jobs trains them before its notebook starts and says so in its note."""
    call, runs = prov.get("invocation_wall_time_s"), prov.get("wall_time_s")
    if not (isinstance(call, (int, float)) and isinstance(runs, (int, float))):
        return False
    return runs > 0 and call < 0.1 * runs and "at a time on one device" not in str(prov.get("note", ""))


def every_timeline() -> list:
    """The timeline of every result under results/ (smoke results left out), in the registry's order."""
    from .rendering import committed_pages
    from .results import read_result

    return [timeline(read_result(folder / "result.json")) for _, _, folder in committed_pages()]


def _short(commit_date) -> str:
    if not commit_date or not commit_date[0]:
        return "not recorded"
    commit, date = commit_date
    return f"{commit[:10]}{'+dirty' if commit.endswith('+dirty') else ''} ({(date or '?')[:10]})"


def rows_markdown(t: Timeline, known=None) -> str:
    """The timeline as the claim page's table, with each flag and its acknowledgement, and its notes."""
    rows = [
        ("rule, margin and seeds declared", _short(t.declared) if t.declared else "not readable from git"),
        ("runs trained", "; ".join(_short(x) for x in t.trained) or "not recorded"),
        ("training version", t.training_version or "not recorded"),
        ("verdict decided by the code of", _short(t.decided)),
        ("result assembled", _short(t.assembled)),
    ]
    lines = ["| when | commit (date) |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
    for kind, text, reason in t.acknowledged(known):
        lines += [
            "",
            f"**Audit flag, {kind}**: {text}. "
            + (f"*Acknowledged*: {reason}" if reason else "*Not acknowledged*: `audit` fails on it."),
        ]
    for note in t.notes:
        lines += ["", f"Note: {note}"]
    return "\n".join(lines)


def flags_line(t: Timeline, known=None) -> str:
    """One line for the top of a claim page: its flags and whether each is acknowledged; "" without flags."""
    flags = [
        f"{kind} ({'acknowledged' if reason else 'not acknowledged'})" for kind, _, reason in t.acknowledged(known)
    ]
    return f"**Audit flags**: {', '.join(flags)}; see *Audit* under Provenance." if flags else ""


def main() -> int:
    """`python -m alexnet_repro audit`: one block per result, the flags last; exit 1 on an unacknowledged flag."""
    known = load_acknowledged()
    timelines = every_timeline()
    open_, acked = [], []
    for t in timelines:
        print(
            f"{t.slug}/{t.scale}: declared {_short(t.declared) if t.declared else 'not readable'}; trained "
            f"{'; '.join(_short(x) for x in t.trained) or 'not recorded'}; decided {_short(t.decided)}"
        )
        for kind, text, reason in t.acknowledged(known):
            (acked if reason else open_).append((t, kind, text, reason))
    print()
    said = [f"acknowledged: {t.slug}/{t.scale}: {kind}: {text}. Why: {reason}" for t, kind, text, reason in acked]
    said += [
        f"FLAG: {t.slug}/{t.scale}: {kind}: {text} (not in {AUDIT_ACKNOWLEDGED.name})" for t, kind, text, _ in open_
    ]
    for line in said:
        print(textwrap.fill(line, 100, subsequent_indent="  "))
    for k in sorted(known.keys() - {f"{t.slug}/{t.scale}" for t in timelines}):
        print(f"note: {AUDIT_ACKNOWLEDGED.name} acknowledges {k}, which has no result")
    print(
        f"\n{len(timelines)} results audited: {len(acked) + len(open_)} flags, {len(acked)} acknowledged, "
        f"{len(open_)} not."
    )
    return 1 if open_ else 0
