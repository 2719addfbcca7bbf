"""A claim's page rendered from its committed result, and the record of which code rendered it.

A claim notebook either computes its result (`run`) or, with its papermill parameter `render`, reads the committed
one (`render`); both show it with the same report code (`result_for`). `stamp` records in the executed notebook what
rendered it (`page_code`: the hashed syntax trees of the notebook's cells, the package modules it imports, the
claim's module and the claims modules it imports, transitively, and SHARED, the layer every report goes through)
and from what (`inputs`); `stale_reasons` compares both with today's. Training code outside the claims package does
not run in render mode: a change there is the result's staleness (staleness.py), not the page's.
"""

import ast
import hashlib
import importlib
import importlib.util
import json
import re
import sys
import types
from pathlib import Path

from .claims.contract import syntax
from .results import read_notebook, read_result, results_dir

META_KEY = "alexnet_repro"
PACKAGE = __name__.split(".")[0]
SHARED = ("report", "figures", "fmt", "book.evidence", "verdict", "results", "rendering")


def result_for(claim, scale, folder, render, seeds="", device="auto", data_root="", download=False) -> dict:
    """The result a claim's notebook shows. render: the one in `folder`, read as it is. Else the claim's runs, found
    in its run store or trained there, assessed and written to `folder`, its data found as `run` finds it."""
    if render:
        result = read_result(Path(folder) / "result.json")
    else:
        from . import preflight
        from .seeds import parse_seeds

        root = preflight.data_source(claim.CLAIM.slug, data_root or None, download, scale)[0]
        result = claim.run(
            scale, seeds=parse_seeds(seeds), device=device, data_root=root or None, out_dir=folder, download=download
        )
    # After the runs, so it changes nothing that trains: the figures' random jitter (seaborn's strip plots draw from
    # numpy's global generator) is the same at every rendering of the result.
    import numpy as np

    np.random.seed(0)
    return result


def default_folder(claim, scale, out_dir="") -> str:
    """The notebook's results folder: out_dir, else results/<claim>/<scale>/."""
    return str(out_dir or results_dir(claim.CLAIM.slug, scale))


# --- what rendered a page --------------------------------------------------------------------------------------


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def notebook_cells(nb: dict) -> list:
    return [(c["cell_type"], "".join(c.get("source", ""))) for c in nb.get("cells", [])]


def _imports(source: str, package=None) -> set:
    """The package's modules that `source` imports, relative imports resolved against `package`; a name imported
    from a module counts when it is a module itself (`from alexnet_repro import report`)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == PACKAGE}
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            if base.split(".")[0] == PACKAGE:
                found |= {base, *(f"{base}.{a.name}" for a in node.names if _is_module(f"{base}.{a.name}"))}
    return found


def _notebook_imports(nb: dict) -> set:
    """The package's modules a notebook's code cells import, their magic and shell lines left out."""
    lines = "\n".join(source for kind, source in notebook_cells(nb) if kind == "code").splitlines()
    return _imports("\n".join(line for line in lines if not line.lstrip().startswith(("%", "!"))))


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _claims_modules(*roots: str) -> set:
    """The modules of the claims package that `roots` import, transitively, function-level imports too (report.family
    imports the family's figures when it runs); the roots among them when they are in that package."""
    claims_pkg = f"{PACKAGE}.claims."  # the package and its modules: f"{name}." starts with it
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in seen or not (f"{name}.".startswith(claims_pkg) or name in roots):
            continue
        mod = sys.modules.get(name) or importlib.import_module(name)
        seen.add(name)
        package = mod.__name__ if hasattr(mod, "__path__") else mod.__package__
        todo += _imports(Path(mod.__file__).read_text(), package)
    return {name for name in seen if f"{name}.".startswith(claims_pkg)}


def page_code(slug: str) -> dict:
    """{"notebooks/<slug>.ipynb" or a module's dotted name: digest} of the code that renders claim `slug`'s page."""
    from . import claims
    from .paths import notebooks_dir

    nb = json.loads((notebooks_dir() / f"{slug}.ipynb").read_text())
    claim = claims.load(slug)  # a claim module, or a family claim's class in claims/family/declarations.py
    shared = {f"{PACKAGE}.{m}" for m in SHARED}
    home = claim.__name__ if isinstance(claim, types.ModuleType) else claim.__module__
    names = shared | _notebook_imports(nb) | _claims_modules(home, *shared)
    out = {f"notebooks/{slug}.ipynb": _digest(json.dumps(notebook_cells(nb)))}
    for name in sorted(names):
        spec = importlib.util.find_spec(name)
        if spec and spec.origin and spec.origin.endswith(".py"):
            out[name] = _digest(syntax(Path(spec.origin).read_text()))
    return out


def inputs(folder, slug: str) -> dict:
    """{file name: sha256} of what a page is rendered from: its results folder's files but the notebook and run.json."""
    return {
        f.name: hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(Path(folder).iterdir())
        if f.is_file() and f.name not in (f"{slug}.ipynb", "run.json") and not f.name.startswith(".")
    }


# --- the executed notebook ------------------------------------------------------------------------------------

# papermill's and the kernel's clocks: a page rendered twice from the same result is the same file without them.
_TIMING = ("start_time", "end_time", "duration")
_ADDRESS = re.compile(r" at 0x[0-9a-f]+>")


def stamp(nb: dict, slug: str, folder) -> dict:
    """The executed notebook `nb` without the times papermill records, with page_code and inputs in its metadata."""
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {})
        meta.pop("execution", None)
        for key in _TIMING:
            meta.get("papermill", {}).pop(key, None)
        if "injected-parameters" in meta.get("tags", []):
            cell["id"] = "injected-parameters"  # papermill draws a random id for the cell it adds
        for output in cell.get("outputs", []):
            plain = output.get("data", {}).get("text/plain")
            if plain is not None:  # an object's repr holds its address in memory: "<... Styler at 0x7f...>"
                output["data"]["text/plain"] = _ADDRESS.sub(">", "".join(plain))  # a str or a list of lines
    pm = nb.setdefault("metadata", {}).get("papermill", {})
    for key in _TIMING:
        pm.pop(key, None)
    if "output_path" in pm:  # papermill wrote a temporary file that was then renamed to the notebook
        pm["output_path"] = str(Path(pm["output_path"]).parent / f"{slug}.ipynb")
    nb["metadata"][META_KEY] = {"page_code": page_code(slug), "inputs": inputs(folder, slug)}
    return nb


def stale_reasons(folder, slug: str, code: dict = None) -> list:
    """Why the executed notebook in `folder` is not what today's code renders from the files there ([] when it is);
    `code`: today's page_code(slug), when the caller has it already."""
    path = Path(folder) / f"{slug}.ipynb"
    if not path.exists():
        return ["no executed notebook"]
    nb = read_notebook(path)
    recorded = nb.get("metadata", {}).get(META_KEY)
    if not recorded:
        return ["rendered before pages recorded the code that rendered them"]
    code = code or page_code(slug)
    then = recorded.get("page_code", {})
    reasons = [f"{name} changed" for name in sorted(code) if name in then and then[name] != code[name]]
    reasons += [f"{name} is new to it" for name in sorted(set(code) - set(then))]
    reasons += [f"{name} no longer renders it" for name in sorted(set(then) - set(code))]
    now, was = inputs(folder, slug), recorded.get("inputs", {})
    reasons += [f"{n} differs from the one it was rendered from" for n in sorted(now) if was.get(n) != now[n]]
    reasons += [f"{name} is gone" for name in sorted(set(was) - set(now))]
    return reasons


def committed_pages(root=None, slugs=None, scale=None) -> list:
    """[(slug, scale, folder)] of every result under the results root (or `root`), in the registry's order; only
    `slugs` and `scale` where given, and smoke results (plumbing checks, never committed) only when it names them."""
    from . import claims
    from .paths import results_root

    root = Path(root or results_root())
    return [
        (slug, folder.name, folder)
        for slug in slugs or claims.registry()
        for folder in sorted((root / slug).glob("*/"))
        if (folder.name == scale if scale else folder.name != "smoke") and (folder / "result.json").exists()
    ]


def stale_pages(root=None) -> list:
    """[(folder, reasons)] of every committed page that today's code would render differently."""
    pages = committed_pages(root)
    codes = {slug: page_code(slug) for slug in dict.fromkeys(slug for slug, _, _ in pages)}
    return [(folder, why) for slug, _, folder in pages if (why := stale_reasons(folder, slug, code=codes[slug]))]
