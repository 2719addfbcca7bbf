"""Where things live on disk. Every location can be overridden by an environment variable."""
import os
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# A few hundred real CIFAR-10 and Imagenette images shipped with the package (scripts/make_smoke_sample.py), read
# by the smoke scale when no dataset is found (preflight.data_source): plumbing checks only.
SAMPLE_DATA = Path(__file__).resolve().parent / "sample_data"


def cache_dir() -> Path:
    """Decoded datasets and in-progress run checkpoints (never committed)."""
    return Path(os.environ.get("ALEXNET_REPRO_CACHE", Path.home() / ".cache" / "alexnet_repro"))


def data_root(explicit=None) -> Path:
    """Where to look for datasets: the argument, else $ALEXNET_REPRO_DATA, else ~/data."""
    if explicit:
        return Path(explicit).expanduser()
    return Path(os.environ.get("ALEXNET_REPRO_DATA", Path.home() / "data")).expanduser()


def results_root() -> Path:
    return Path(os.environ.get("ALEXNET_REPRO_RESULTS", REPO_ROOT / "results"))


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
