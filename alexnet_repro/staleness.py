"""Whether a result is stale: whether what trains its runs or decides its verdict changed since it was made.

What counts is compared by value, not by where its code lives (contract.decided_by: the training version, verdict.py's
syntax tree, the claim's declarations and its own deciding code or version), so that moving or splitting code,
comments, docstrings, a notebook's text and the code that shows results change nothing.

A result records provenance.decision_version (contract.SCHEME + a hash of that). One made before the scheme is read
through git in two steps: from its commit to BRIDGE's commit by the files as they were at both (the claim's module,
the claims modules it imports, OLD_CORE), then to today against the version BRIDGE records for the claim. "unknown"
where that cannot be read: no commit recorded, a commit this clone lacks, a claim module absent at it, or a claim
BRIDGE does not know.
"""

import ast
import functools
import json
import subprocess
from pathlib import Path

from . import claims, paths
from .claims import contract

BRIDGE = Path(__file__).parent / "staleness_bridge.json"
# Before the bridge, the files that trained and decided every claim (files, or folders whose every .py counts),
# and the claims modules a claim imports that neither train nor decide.
OLD_CORE = ("engine.py", "optim.py", "feed.py", "runs.py", "seeds.py", "verdict.py", "models", "data")
OLD_NOT_DECIDING = ("contract", "__init__")


def decision_version(slug: str):
    """contract.decision_version of the claim `slug` today; None for a claim the registry does not know."""
    return contract.decision_version(claims.load(slug)) if slug in claims.registry() else None


def load_bridge() -> dict:
    """{"commit": the last commit judged by files, "versions": {slug: its decision version at the bridge}}."""
    return json.loads(BRIDGE.read_text()) if BRIDGE.exists() else {"commit": None, "versions": {}}


def _git(*args):
    """git's stdout, or None when git fails (an unknown commit, a path absent at it, no git at all)."""
    return _git_in(str(paths.REPO_ROOT), *args)


@functools.cache  # what a commit holds never changes
def _git_in(root, *args):
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except OSError:
        return None
    return proc.stdout if proc.returncode == 0 else None


def read_at(commit: str, rel: str):
    """The package's file `rel` at `commit`; None where it is absent."""
    return _git("show", f"{commit}:alexnet_repro/{rel}")


def _blobs(commit: str) -> dict:
    """{path in the package: blob id} at `commit`."""
    listing = (_git("ls-tree", "-r", commit, "alexnet_repro/") or "").splitlines()
    return {path.removeprefix("alexnet_repro/"): meta.split()[2] for meta, path in (s.split("\t", 1) for s in listing)}


def old_files(module: str, commit: str):
    """The files that trained and decided the claim claims/<module>.py before the bridge: that module, every claims
    module it imports (transitively) and OLD_CORE; None when the claim's module is not at `commit`."""
    seen, todo = [], [module]
    while todo:
        name = todo.pop()
        rel = f"claims/{name}.py"
        if rel in seen or name in OLD_NOT_DECIDING:
            continue
        source = read_at(commit, rel)
        if source is None and name == module:
            return None
        if source is not None:
            seen.append(rel)
            todo += _sibling_imports(source)
    tree = _blobs(commit)
    for part in OLD_CORE:
        seen += [part] if part.endswith(".py") else [r for r in tree if r.startswith(part + "/") and r.endswith(".py")]
    return sorted(set(seen))


@functools.lru_cache(maxsize=1024)
def _sibling_imports(source: str) -> list:
    """The modules of the same package that `source` imports (`from .ablation import`, `from . import ablation`)."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            out += [node.module] if node.module else [a.name for a in node.names]
    return out


def same_by_files(module: str, commit: str, until: str):
    """Whether the files that trained and decided the claim were the same at `commit` as at `until` (None: cannot
    tell). Files whose bytes are equal (same git blob) are not parsed; the first whose syntax differs decides."""
    rels, rels_later = old_files(module, commit), old_files(module, until)
    if rels is None or rels_later is None:
        return None
    if rels != rels_later:
        return False
    blobs, blobs_later = _blobs(commit), _blobs(until)
    for rel in rels:
        if blobs.get(rel) and blobs.get(rel) == blobs_later.get(rel):
            continue
        if contract.syntax(read_at(commit, rel) or "") != contract.syntax(read_at(until, rel) or ""):
            return False
    return True


def made_by(result: dict) -> tuple:
    """(decision version the result records or None, the commit whose code made its numbers and verdict)."""
    prov = result.get("provenance", {})
    made = prov.get("reread") or prov
    return made.get("decision_version"), made.get("git_commit")


def staleness(result: dict) -> str:
    """ "current", "stale" or "unknown" (no way to tell: see the module's docstring)."""
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
