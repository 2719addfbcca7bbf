"""Where things live on disk. Every location can be overridden by an environment variable."""
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


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
