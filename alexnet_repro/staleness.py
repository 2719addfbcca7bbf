"""Whether a result is stale: whether what trains its runs or decides its verdict changed since it was made.

What counts (a claim's *decision version*): the training code (engine, optimizer, models, data, run store, feeds,
seeds), the verdict rule (verdict.py) and the claim's own declarations (its module and the claims modules it
imports: its rule, arms and config per scale, in claims/ablation.py for the family). What does not: how results
are shown (report.py, figures.py, the book, the CLI), and comments and docstrings anywhere (the source is compared
as its syntax tree, without them).

A result made before results recorded their decision version is compared through git: the files as they were at
the commit that made it (provenance.git_commit, or reread.git_commit for a result re-read by later code).
"unknown" only where that cannot be read: no commit recorded, a commit this clone lacks, or a claim module that
did not exist at that commit.
"""

import ast
import functools
import hashlib
import subprocess

from . import paths

PACKAGE = "alexnet_repro"
# The code every claim's runs and verdicts go through (files, or folders whose every .py counts).
CORE = ("engine.py", "optim.py", "feed.py", "runs.py", "seeds.py", "verdict.py", "models", "data")
# Claims modules a claim imports that neither train nor decide: the contract assembles and writes the result, the
# package's __init__ holds the registry and the paper's words.
NOT_DECIDING = ("contract", "__init__")


class WorkingTree:
    """The package as it is on disk now."""

    def read(self, rel: str):
        path = paths.REPO_ROOT / PACKAGE / rel
        return path.read_text() if path.is_file() else None

    def python_files(self, folder: str) -> list:
        return sorted(
            p.relative_to(paths.REPO_ROOT / PACKAGE).as_posix()
            for p in (paths.REPO_ROOT / PACKAGE / folder).rglob("*.py")
        )

    def blobs(self, rels) -> dict:
        """{rel: git's blob id of the file as it is on disk}, one git call for all; {} without git."""
        out = _git_uncached("hash-object", "--", *[f"{PACKAGE}/{r}" for r in rels]) if rels else None
        return dict(zip(rels, out.split())) if out else {}


class Commit:
    """The package as it was at a commit of this repository's history."""

    def __init__(self, commit: str):
        self.commit = commit

    def read(self, rel: str):
        return _git("show", f"{self.commit}:{PACKAGE}/{rel}")

    def python_files(self, folder: str) -> list:
        return sorted(r for r in self._tree() if r.startswith(folder + "/") and r.endswith(".py"))

    def blobs(self, rels) -> dict:
        tree = self._tree()
        return {r: tree[r] for r in rels if r in tree}

    def _tree(self) -> dict:
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
    return _git_uncached(*args, root=root)


def _git_uncached(*args, root=None):
    try:
        proc = subprocess.run(["git", *args], cwd=root or paths.REPO_ROOT, capture_output=True, text=True, check=False)
    except OSError:
        return None
    return proc.stdout if proc.returncode == 0 else None


# Module-level names that hold what a claim's notebook says, not what trains or decides it.
PRESENTATION = {"EXPERIMENT"}


@functools.lru_cache(maxsize=1024)
def syntax(source: str) -> str:
    """The source as its syntax tree, without docstrings and PRESENTATION assignments (comments are not in the
    tree at all)."""
    tree = ast.parse(source)
    tree.body = [
        n
        for n in tree.body
        if not (isinstance(n, ast.Assign) and {getattr(t, "id", None) for t in n.targets} & PRESENTATION)
    ]
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False)


def _claim_files(tree, module: str) -> list:
    """claims/<module>.py and every claims module it imports, transitively; None when the claim's module is not
    in `tree`."""
    seen, todo = [], [module]
    while todo:
        name = todo.pop()
        rel = f"claims/{name}.py"
        if rel in seen or name in NOT_DECIDING:
            continue
        source = tree.read(rel)
        if source is None:
            if name == module:
                return None
            continue
        seen.append(rel)
        todo += _sibling_imports(source)
    return sorted(seen)


@functools.lru_cache(maxsize=1024)
def _sibling_imports(source: str) -> list:
    """The modules of the same package that `source` imports (`from .ablation import`, `from . import ablation`)."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            out += [node.module] if node.module else [a.name for a in node.names]
    return out


def files(module: str, tree) -> list:
    """Every file of the package that trains or decides the claim claims/<module>.py in `tree`; None when the
    claim's module is not there."""
    found = _claim_files(tree, module)
    if found is None:
        return None
    for part in CORE:
        found += tree.python_files(part) if not part.endswith(".py") else [part]
    return sorted(set(found))


def decision_version(module: str, tree=None):
    """A short hash of what trains and decides the claim whose module is claims/<module>.py, in `tree` (the
    working tree by default, or a Commit); None when the claim's module is not there. Results record it."""
    tree = tree or WorkingTree()
    rels = files(module, tree)
    if rels is None:
        return None
    h = hashlib.sha256()
    for rel in rels:
        source = tree.read(rel)
        if source is not None:
            h.update(rel.encode() + b"\0" + syntax(source).encode() + b"\0")
    return h.hexdigest()[:12]


def same_as_today(module: str, commit: str):
    """Whether what trains and decides the claim is the same today as at `commit` (None: cannot tell). Files whose
    bytes are unchanged (same git blob) are not parsed; the first file whose syntax differs decides."""
    then, now = Commit(commit), WorkingTree()
    rels_then, rels_now = files(module, then), files(module, now)
    if rels_then is None or rels_now is None:
        return None
    if rels_then != rels_now:
        return False
    blobs_then, blobs_now = then.blobs(rels_now), now.blobs(rels_now)
    for rel in rels_now:
        if blobs_then.get(rel) and blobs_then.get(rel) == blobs_now.get(rel):
            continue
        if syntax(then.read(rel) or "") != syntax(now.read(rel) or ""):
            return False
    return True


def made_by(result: dict) -> tuple:
    """(decision version the result records or None, the commit whose code made its numbers and verdict)."""
    prov = result.get("provenance", {})
    reread = prov.get("reread") or {}
    if reread:
        return reread.get("decision_version"), reread.get("git_commit")
    return prov.get("decision_version"), prov.get("git_commit")


def staleness(result: dict, module: str | None = None) -> str:
    """ "current", "stale" (what trains or decides the claim changed since the result was made) or "unknown" (no
    way to tell: see the module's docstring). `module`: the claim's module name (default: the result's claim)."""
    module = module or result.get("claim", "")
    recorded, commit = made_by(result)
    if recorded:
        today = decision_version(module)
        return "unknown" if today is None else ("current" if recorded == today else "stale")
    if not commit or commit == "unknown":
        return "unknown"
    same = same_as_today(module, commit.removesuffix("+dirty"))
    return "unknown" if same is None else ("current" if same else "stale")
