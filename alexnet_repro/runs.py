"""A store of finished and in-progress training runs, so an interrupted claim resumes.

Each run is keyed by a hash of everything that determines it (model, training spec, data). Its
folder holds the per-epoch checkpoint while it trains and record.json once it has stopped. A claim
rerun with the same config finds its finished runs here and resumes its unfinished one from the
last epoch-end checkpoint. Checkpoints live in the cache, never in the repo.
"""
import hashlib
import json
from pathlib import Path

import torch

from .engine import RunResult, seed_everything, train
from .paths import runs_dir
from .results import atomic_write_json


def run_key(description: dict) -> str:
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:20]


def default_work_dir(claim: str, scale: str) -> Path:
    return runs_dir() / claim / scale


def _complete(record, epoch_budget):
    """A stored run answers this request unless it was cut by a smaller budget than asked now."""
    if record["status"] != "budget":
        return True
    return epoch_budget is not None and record["epoch_budget"] >= epoch_budget


def final_model(work_dir, description: dict, build_model):
    """The trained model of a finished run (its last epoch-end checkpoint)."""
    state = torch.load(Path(work_dir) / run_key(description) / "checkpoint.pt", map_location="cpu",
                       weights_only=False)
    model = build_model()
    model.load_state_dict(state["model"])
    return model


def cached_train(work_dir, description: dict, build_model, data, normalize, spec, *, epoch_budget=None,
                 stop_at=None, desc="train", **train_kwargs) -> RunResult:
    """Train (or resume, or just load) the run that `description` identifies."""
    folder = Path(work_dir) / run_key(description)
    record_path = folder / "record.json"
    if record_path.exists():
        record = json.loads(record_path.read_text())
        if _complete(record, epoch_budget):
            return RunResult(record["status"], record["history"], record["wall_time_s"])
    folder.mkdir(parents=True, exist_ok=True)
    seed_everything(spec.seed)
    model = build_model()
    result = train(model, data, normalize, spec, checkpoint=folder / "checkpoint.pt", epoch_budget=epoch_budget,
                   stop_at=stop_at, desc=desc, **train_kwargs)
    atomic_write_json(record_path, {"description": description, "epoch_budget": epoch_budget,
                                    **result.as_dict()})
    return result
