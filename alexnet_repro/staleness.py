"""Whether a result is stale: whether what trains its runs or decides its verdict changed since it was made.

What counts is compared by value, not by where its code lives (claims/contract.py:decided_by), so that moving
code between files, or splitting one, changes nothing:
  training  engine.TRAINING_VERSION, not the training code's text (tests/test_engine.py's guard fails on a change
            to what one fixed run produces until the version is bumped);
  deciding  verdict.py's syntax tree, imports left out; for the ablation family an explicit version of the code
            that turns its runs into verdicts (family/assessment.py: DECISION_VERSION; tests/test_ablation_claims.py
            re-reads every committed family result and fails on any change until it is bumped) and the claim's
            declarations by value (contract.DECLARED, the family's arms, config and protocol per scale); a claim
            whose module is its own code (R1, A3, Q1, Q2, L3) counts that module's syntax tree, imports left out,
            with the family's part it reads.
What does not: how results are shown (report, figures, the book, the CLI), comments and docstrings, a claim's
notebook text, and where a name is imported from.

A result records what it was made under: provenance.decision_version (contract.SCHEME + a hash of the above). A
result made before this scheme is read through git in two steps: from the commit that made it to BRIDGE's commit
by the files as they were at both (the claim's module, the claims modules it imports, OLD_CORE), and from there
to today by value, against the decision version BRIDGE records for the claim. "unknown" where that cannot be read:
no commit recorded, a commit this clone lacks, a claim module absent at it, or a claim BRIDGE does not know.
"""

import functools
import json
import subprocess
from pathlib import Path

from . import claims, paths
from .claims import contract

PACKAGE = "alexnet_repro"
BRIDGE = Path(__file__).parent / "staleness_bridge.json"
# Before the bridge, the files that trained and decided every claim (files, or folders whose every .py counts),
# and the claims modules a claim imports that neither train nor decide.
OLD_CORE = ("engine.py", "optim.py", "feed.py", "runs.py", "seeds.py", "verdict.py", "models", "data")
OLD_NOT_DECIDING = ("contract", "__init__")


def decision_version(slug: str):
    """What trains and decides the claim `slug` today, as a short hash (contract.decision_version); None for a
    claim the registry does not know."""
    return contract.decision_version(claims.load(slug)) if slug in claims.registry() else None


def load_bridge() -> dict:
    """{"commit": the last commit judged by files, "versions": {slug: its decision version at the bridge}}."""
    return json.loads(BRIDGE.read_text()) if BRIDGE.exists() else {"commit": None, "versions": {}}


class Commit:
    """The package as it was at a commit of this repository's history."""

    def __init__(self, commit: str):
        self.commit = commit

    def read(self, rel: str):
        return _git("show", f"{self.commit}:{PACKAGE}/{rel}")

    def python_files(self, folder: str) -> list:
        return sorted(r for r in self.tree() if r.startswith(folder + "/") and r.endswith(".py"))

    def tree(self) -> dict:
        """{path in the package: blob id} at the commit, from one `git ls-tree`."""
        listing = _git("ls-tree", "-r", self.commit, f"{PACKAGE}/") or ""
        out = {}
        for line in listing.splitlines():
            meta, path = line.split("\t", 1)
            out[path[len(PACKAGE) + 1 :]] = meta.split()[2]
        return out


def _git(*args):
    """git's stdout, or None when git fails (an unknown commit, a path absent at it, no git at all); cached: what
    a commit holds never changes."""
    return _git_in(str(paths.REPO_ROOT), *args)


@functools.cache
def _git_in(root, *args):
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except OSError:
        return None
    return proc.stdout if proc.returncode == 0 else None


def old_files(module: str, tree: Commit):
    """The files that trained and decided the claim claims/<module>.py before the bridge: that module, every
    claims module it imports (transitively) and OLD_CORE; None when the claim's module is not in `tree`."""
    seen, todo = [], [module]
    while todo:
        name = todo.pop()
        rel = f"claims/{name}.py"
        if rel in seen or name in OLD_NOT_DECIDING:
            continue
        source = tree.read(rel)
        if source is None:
            if name == module:
                return None
            continue
        seen.append(rel)
        todo += _sibling_imports(source)
    for part in OLD_CORE:
        seen += tree.python_files(part) if not part.endswith(".py") else [part]
    return sorted(set(seen))


@functools.lru_cache(maxsize=1024)
def _sibling_imports(source: str) -> list:
    """The modules of the same package that `source` imports (`from .ablation import`, `from . import ablation`)."""
    import ast

    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            out += [node.module] if node.module else [a.name for a in node.names]
    return out


def same_by_files(module: str, commit: str, until: str):
    """Whether the files that trained and decided the claim were the same at `commit` as at `until` (None: cannot
    tell). Files whose bytes are equal (same git blob) are not parsed; the first whose syntax differs decides."""
    then, later = Commit(commit), Commit(until)
    rels_then, rels_later = old_files(module, then), old_files(module, later)
    if rels_then is None or rels_later is None:
        return None
    if rels_then != rels_later:
        return False
    blobs_then, blobs_later = then.tree(), later.tree()
    for rel in rels_later:
        if blobs_then.get(rel) and blobs_then.get(rel) == blobs_later.get(rel):
            continue
        if contract.syntax(then.read(rel) or "") != contract.syntax(later.read(rel) or ""):
            return False
    return True


def made_by(result: dict) -> tuple:
    """(decision version the result records or None, the commit whose code made its numbers and verdict)."""
    prov = result.get("provenance", {})
    reread = prov.get("reread") or {}
    if reread:
        return reread.get("decision_version"), reread.get("git_commit")
    return prov.get("decision_version"), prov.get("git_commit")


def staleness(result: dict) -> str:
    """ "current", "stale" (what trains or decides the claim changed since the result was made) or "unknown" (no
    way to tell: see the module's docstring)."""
    slug = result.get("claim", "")
    recorded, commit = made_by(result)
    today = decision_version(slug)
    if today is None:
        return "unknown"
    if recorded and recorded.startswith(contract.SCHEME):
        return "current" if recorded == today else "stale"
    bridge = load_bridge()
    if not commit or commit == "unknown" or not bridge["commit"] or slug not in bridge["versions"]:
        return "unknown"
    same = same_by_files(slug, commit.removesuffix("+dirty"), bridge["commit"])
    if same is None:
        return "unknown"
    return "current" if same and bridge["versions"][slug] == today else "stale"
