"""Where things live on disk. Every location can be overridden by an environment variable."""

import os
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# A checkout (or an editable install of one) has its notebooks and results/ beside the package; a wheel
# installed into site-packages has neither beside it: its notebooks are in <prefix>/share/alexnet-repro/
# (pyproject.toml's data-files) and its results go to ./results.
IS_CHECKOUT = (REPO_ROOT / "pyproject.toml").is_file()
NOTEBOOK_DIRS = (REPO_ROOT / "notebooks", Path(sys.prefix) / "share" / "alexnet-repro" / "notebooks")
# The variables a notebook's kernel reads again in its own working directory (notebooks/): a relative value
# must mean what it meant where the command was typed (pin_environment).
PATH_VARIABLES = ("ALEXNET_REPRO_RESULTS", "ALEXNET_REPRO_CACHE", "ALEXNET_REPRO_RUNS", "ALEXNET_REPRO_DATA")
# A few hundred real CIFAR-10 and Imagenette images shipped with the package (scripts/make_smoke_sample.py), read
# by the smoke scale when no dataset is found (preflight.data_source): plumbing checks only.
SAMPLE_DATA = Path(__file__).resolve().parent / "sample_data"


def cache_dir() -> Path:
    """Decoded datasets and in-progress run checkpoints (never committed)."""
    return Path(os.environ.get("ALEXNET_REPRO_CACHE", Path.home() / ".cache" / "alexnet_repro"))


def data_root(explicit=None) -> Path:
    """Where to look for datasets: the argument, else $ALEXNET_REPRO_DATA, else ~/data."""
    return Path(explicit or os.environ.get("ALEXNET_REPRO_DATA", Path.home() / "data")).expanduser()


def results_root() -> Path:
    return Path(
        os.environ.get("ALEXNET_REPRO_RESULTS", REPO_ROOT / "results" if IS_CHECKOUT else Path("results").absolute())
    )


def notebooks_dir() -> Path:
    """The claims' notebooks: the checkout's notebooks/, else those a wheel installed; ValueError of one line."""
    for folder in NOTEBOOK_DIRS:
        if (folder / "relu_vs_tanh.ipynb").is_file():
            return folder
    raise ValueError(
        f"the claims' notebooks are not in {' or '.join(map(str, NOTEBOOK_DIRS))}: run from a "
        f"checkout of alexnet-repro, or reinstall the package (pip install alexnet-repro)"
    )


def pin_environment():
    """Make every relative path in the suite's environment variables absolute, against this process's working
    directory, before a kernel that runs elsewhere (notebooks/) inherits them."""
    for var in PATH_VARIABLES:
        if os.environ.get(var):
            os.environ[var] = str(Path(os.environ[var]).expanduser().absolute())


def runs_dir() -> Path:
    """The run store: per-run checkpoints and records, so interrupted claims resume."""
    return Path(os.environ.get("ALEXNET_REPRO_RUNS", cache_dir() / "runs"))


# An absolute path: a slash not after a letter, digit, "/", "." or "-" (so "3/2", "top-1/top-5" and the path of
# a URL are left alone) and not starting "//" (a URL's "://"), then at least two segments.
_ABS_PATH = re.compile(r"(?<![\w/.\-])/(?!/)(?:[\w.+\-]+/)+[\w.+\-]*")
# Folders of this repository: a path through one of them is kept from there on, repo-relative.
_REPO_FOLDERS = ("results", "notebooks", "alexnet_repro", "benchmarks", "book", "tests")


def scrub_paths(text: str) -> str:
    """`text` with every absolute machine path replaced: a path inside a checkout of this repository by its
    repo-relative form (/home/x/alexnet-repro/results/r1/cpu -> results/r1/cpu), any other by its last
    component (/data/sets/cifar10-jpg.tar.gz -> cifar10-jpg.tar.gz), so no machine's layout is published."""

    def repl(m):
        parts = m.group(0).strip("/").split("/")
        for i, part in enumerate(parts):
            if part in _REPO_FOLDERS:
                return "/".join(parts[i:])
        return parts[-1] or parts[-2]

    return _ABS_PATH.sub(repl, text)
