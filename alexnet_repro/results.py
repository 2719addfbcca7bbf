"""Where results go, what provenance they carry, and how they are written: results/<claim>/<scale>/result.json, its
CSV tables and the executed notebook, each written to a temp file in the same folder and renamed into place.
"""

import contextlib
import datetime
import hashlib
import json
import math
import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

import torch

from .atomic import atomic_write_bytes
from .paths import REPO_ROOT, results_root, scrub_paths

PACKAGES = ("torch", "torchvision", "numpy", "pillow", "pandas", "seaborn", "papermill")


def results_dir(claim: str, scale: str, root=None) -> Path:
    return Path(root or results_root()) / claim / scale


def atomic_write_text(path, text: str):
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path, obj):
    """Strict JSON: NaN and infinities (a diverged run's loss, an error not measured at that epoch) are
    written as null, since bare NaN is not JSON; the record beside them (a run's status) says why."""
    atomic_write_text(path, json.dumps(_plain(obj), indent=2, allow_nan=False) + "\n")


def _plain(obj):
    """obj with numpy's and torch's scalars as Python's, paths as strings, every non-finite float as None."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item"):
        obj = obj.item()
    return None if isinstance(obj, float) and not math.isfinite(obj) else obj


def git_commit() -> str:
    """HEAD, with '+dirty' when the package differs from it. ALEXNET_REPRO_GIT_COMMIT, when set, wins: a copy of the
    tree shipped to another machine may carry a stale .git or none, and the sender knows which commit it shipped."""
    if os.environ.get("ALEXNET_REPRO_GIT_COMMIT"):
        return os.environ["ALEXNET_REPRO_GIT_COMMIT"]

    def git(*args, check=True):
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=check).stdout.strip()

    try:
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", "alexnet_repro", check=False)
        return git("rev-parse", "HEAD") + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def device_name(device) -> str:
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        cpu = next((s.split(":", 1)[1].strip() for s in open("/proc/cpuinfo") if s.startswith("model name")), cpu)
    return f"{cpu} ({os.cpu_count()} cores, {torch.get_num_threads()} torch threads)"


def package_versions() -> dict:
    def version(name):
        with contextlib.suppress(metadata.PackageNotFoundError):
            return metadata.version(name)

    return {"python": platform.python_version(), **{name: version(name) for name in PACKAGES}}


def code_version() -> str:
    """A short hash of the package's source less the book and the CLI (staleness.py asks the narrower question)."""
    h = hashlib.sha256()
    package = REPO_ROOT / "alexnet_repro"
    for f in sorted(package.rglob("*.py")):
        rel = f.relative_to(package).as_posix()
        if not rel.startswith("book/") and rel != "__main__.py":
            h.update(rel.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


def provenance(*, device, dataset: dict, seeds, scale: str, config: dict, wall_time_s: float, precision: str) -> dict:
    note = os.environ.get("ALEXNET_REPRO_PROVENANCE_NOTE")
    return {
        "git_commit": git_commit(),
        "code_version": code_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "packages": package_versions(),
        "device": str(device),
        "device_name": device_name(device),
        "precision": precision,
        "dataset": dataset,
        "seeds": list(seeds),
        "scale": scale,
        "config": config,
        "wall_time_s": round(wall_time_s, 1),
        **({"note": note} if note else {}),
    }


# The type of each field that `list`, the book and the scoreboard read, where it is present: a result edited by
# hand or damaged must be refused in one line naming its file, not fail later as a traceback. Every field is
# required but the OPTIONAL ones.
FIELD_TYPES = {
    **dict.fromkeys(("claim", "claim_id", "scale", "verdict", "verdict_rule", "headline", "title"), str),
    **dict.fromkeys(("paper", "measured", "provenance"), dict),
    **dict.fromkeys(("comparisons", "looks"), list),
    "proxy": bool,
    "annotation": (str, dict),
}
PROVENANCE_TYPES = {
    **dict.fromkeys(("git_commit", "date", "device", "device_name", "precision", "scale", "code_version"), str),
    **dict.fromkeys(("packages", "dataset", "config", "reread"), dict),
    "seeds": list,
    "wall_time_s": (int, float),
}
OPTIONAL = {"headline", "title", "comparisons", "looks", "annotation", "reread", "code_version"}


def validate(result: dict):
    if not isinstance(result, dict):
        raise ValueError(f"a result is a JSON object, this is {type(result).__name__}")
    prov = result.get("provenance", {})
    # A provenance that is no object is of the wrong type, not missing its fields.
    checked = [("", result, FIELD_TYPES)] + [("provenance.", prov, PROVENANCE_TYPES)] * isinstance(prov, dict)
    missing = [at + k for at, obj, types in checked for k in types if k not in obj and k not in OPTIONAL]
    if missing:
        raise ValueError(f"result is missing {missing}")
    wrong = [at + k for at, obj, types in checked for k, t in types.items() if k in obj and not isinstance(obj[k], t)]
    wrong += [f"comparisons[{i}]" for i, c in enumerate(result.get("comparisons") or []) if not isinstance(c, dict)]
    if wrong:
        raise ValueError(f"result has fields of the wrong type: {wrong}")
    if "sha256" not in result["provenance"]["dataset"]:
        raise ValueError("result's dataset has no sha256 checksum")


def write_result(result: dict, out_dir, tables=None):
    validate(result)
    out_dir = Path(out_dir)
    for name, df in (tables or {}).items():
        atomic_write_text(out_dir / f"{name}.csv", df.to_csv(index=False))
    atomic_write_json(out_dir / "result.json", result)
    return out_dir / "result.json"


def write_reread(folder, old: dict, fields: dict, *, decision_version, n_seeds, why, looks=None, **stamp) -> dict:
    """Write the committed result `old` as today's code re-read it from its own tables (nothing rerun): `fields`
    over it, a look of its own when the verdict changed, the runs' provenance kept and the re-reading's beside it
    (provenance.reread, with `stamp`). `looks`: the looks before, where `old` lacks them."""
    now = datetime.datetime.now()
    looks = list(old.get("looks", []) if looks is None else looks)
    if fields["verdict"] != old["verdict"]:
        note = f"the same runs re-read by code {code_version()}{why}"
        looks.append({"n_seeds": n_seeds, "verdict": fields["verdict"], "date": now.strftime("%Y-%m-%d"), "note": note})
    reread = {
        "git_commit": git_commit(),
        "code_version": code_version(),
        "date": now.strftime("%Y-%m-%dT%H:%M:%S"),
        "decision_version": decision_version,
        **stamp,
    }
    result = {**old, **fields, "looks": looks, "provenance": {**old["provenance"], "reread": reread}}
    write_result(result, folder)
    return result


def load_result(claim: str, scale: str, root=None):
    """None if there is none."""
    path = results_dir(claim, scale, root) / "result.json"
    return read_result(path) if path.exists() else None


def read_result(path) -> dict:
    """A result.json, checked as on write: one edited by hand or cut short must not show as a row or a page."""
    return _read_json(path, validate, "a valid result")


def read_notebook(path) -> dict:
    def check(nb):
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise ValueError("it holds no list of cells")

    return _read_json(path, check, "a readable notebook")


def _read_json(path, check, what: str):
    """The JSON at `path` if check() passes it; else a ValueError of one line naming the file."""
    try:
        obj = json.loads(Path(path).read_text())
        check(obj)
    except (OSError, ValueError, TypeError, KeyError) as e:  # json's errors are ValueErrors; TypeError: wrong shapes
        reason = " ".join(str(e).split())
        raise ValueError(
            f"{path} is not {what} ({reason}); rerun the claim (--force) or restore the file from git"
        ) from None
    return obj


def headline_of(result: dict) -> str:
    """A result's headline as lists show it: marked when a person annotated the result after its run
    (result["annotation"], e.g. nets that never left chance), so nobody reads it without the note."""
    marker = " [annotated after the run: read its note]" if result.get("annotation") else ""
    return result.get("headline", "") + marker


# --- executed notebooks as results/ keeps them ------------------------------------------------------------


def _is_progress_bar(output: dict) -> bool:
    """tqdm's output: stderr text redrawn with carriage returns, or a "NN%|" bar."""
    if output.get("output_type") != "stream" or output.get("name") != "stderr":
        return False
    text = "".join(output.get("text", ""))
    return "\r" in text or re.search(r"\d+%\|", text) is not None


def _scrub(obj):
    """Every string in a notebook's JSON scrubbed of machine paths, except images (base64 holds slashes)."""
    if isinstance(obj, str):
        return scrub_paths(obj)
    if isinstance(obj, list):
        return [_scrub(v) for v in obj]
    if isinstance(obj, dict):
        return {k: v if k.startswith("image/") else _scrub(v) for k, v in obj.items()}
    return obj


def clean_notebook(nb: dict) -> dict:
    """An executed notebook as results/ keeps it: no progress bars (hundreds of tqdm redraws), no machine paths."""
    nb = _scrub(nb)
    for cell in nb.get("cells", []):
        if "outputs" in cell:
            cell["outputs"] = [o for o in cell["outputs"] if not _is_progress_bar(o)]
    return nb


def clean_result_file(path) -> bool:
    """Scrub machine paths from a result.json in place (only paths change); True when anything changed."""
    path = Path(path)
    before = path.read_text()
    after = scrub_paths(before)  # a path's replacement holds no quote or backslash: the JSON stays valid
    if after == before:
        return False
    json.loads(after)
    atomic_write_text(path, after)
    return True


def clean_notebook_file(path) -> bool:
    """True when anything changed."""
    import nbformat

    path = Path(path)
    before = json.loads(path.read_text())
    after = clean_notebook(before)
    if after == before:
        return False
    atomic_write_text(path, nbformat.writes(nbformat.from_dict(after)))  # as papermill writes it
    return True
