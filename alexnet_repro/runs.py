"""A store of training runs, so an interrupted claim resumes: each keyed by a hash of what determines it (model,
spec, data, engine.TRAINING_VERSION), its folder (in the cache) holding its epoch-end checkpoint, then record.json.

A campaign longer than one session (the cpu-regime scale) keeps its finished runs in a *mirror* in the repository
(results/runs/<family>/<scale>/<key>/): each run's record and the evaluations cached beside it, never a checkpoint.
"""

import hashlib
import json
import math
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import torch

from . import distributed
from .engine import TRAINING_VERSION, CorruptCheckpoint, RunResult, load_checkpoint, pick_device, spec_identity, train
from .log import LOG
from .paths import runs_dir
from .results import atomic_write_json, device_name, git_commit
from .seeds import seed_everything


def run_key(description: dict) -> str:
    keyed = {**description, "training_version": TRAINING_VERSION}
    if isinstance(keyed.get("spec"), dict):
        keyed["spec"] = spec_identity(keyed["spec"])
    return hashlib.sha256(json.dumps(keyed, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _stored(root, key, name):
    """The file `name` of run `key` in `root` (a store or its mirror), or None."""
    path = Path(root) / key / name if root else None
    return json.loads(path.read_text()) if path and path.exists() else None


def stored_record(work_dir, description: dict, mirror=None):
    """The record.json of a finished run (in the store, else in its mirror), or None."""
    key = run_key(description)
    return _stored(work_dir, key, "record.json") or _stored(mirror, key, "record.json")


def _to_mirror(folder: Path, mirror, name):
    """Copy a finished run's file `name` (its record, or an evaluation cached beside it) into the mirror."""
    if mirror and distributed.is_main():
        target = Path(mirror) / folder.name / name
        if not target.exists():
            atomic_write_json(target, json.loads((folder / name).read_text()))


def default_work_dir(claim: str, scale: str) -> Path:
    return runs_dir() / claim / scale


def final_model(work_dir, description: dict, build_model):
    """The trained model of a finished run (its last checkpoint, verified); a corrupt one is set aside with the
    run's record, so that rerunning the claim trains the run again."""
    folder = Path(work_dir) / run_key(description)
    try:
        state = load_checkpoint(folder / "checkpoint.pt")
    except CorruptCheckpoint as e:
        for name in ("checkpoint.pt", "record.json"):
            if (folder / name).exists():
                os.replace(folder / name, folder / f"{name}.corrupt")
        raise ValueError(f"{e}; set aside: rerun the claim to train this run again") from None
    model = build_model()
    model.load_state_dict(state["model"])
    return model


def cached_beside_run(work_dir, description: dict, name: str, compute, mirror=None):
    """compute() -> a JSON-able evaluation of a finished run (its final test), stored beside the run as <name>.json
    (and in the `mirror`) the first time and read back after, so that assembling a claim again loads no model."""
    folder = Path(work_dir) / run_key(description)
    path = folder / f"{name}.json"
    if distributed.from_main(path.exists()):  # under torchrun every process takes the same branch
        _to_mirror(folder, mirror, path.name)
        return json.loads(path.read_text())
    mirrored = _stored(mirror, folder.name, path.name)
    if mirrored is not None:
        return mirrored
    out = compute()  # on every process under torchrun (compute may hold collectives); rank 0 writes it
    if distributed.is_main():
        atomic_write_json(path, out)
        _to_mirror(folder, mirror, path.name)
    return out


def cached_train(
    work_dir, description: dict, build_model, data, normalize, spec, *, epoch_budget=None, mirror=None, **train_kwargs
) -> RunResult:
    """Train (or resume, or just load) the run that `description` identifies (train_kwargs go to engine.train); with
    a `mirror`, a run finished there is loaded from it, one finished here recorded there."""
    folder = Path(work_dir) / run_key(description)
    record_path = folder / "record.json"
    record = _read_record(record_path) if distributed.from_main(record_path.exists()) else None
    if record:
        _to_mirror(folder, mirror, record_path.name)
    else:
        record = _stored(mirror, folder.name, record_path.name)
    # A stored run answers unless a smaller budget than asked now cut it; under torchrun every process agrees.
    cut = record and record["status"] == "budget" and (epoch_budget is None or record["epoch_budget"] < epoch_budget)
    if record and not cut:
        # JSON has no NaN: the store writes null where a row had none (a diverged run's loss)
        history = [{k: math.nan if v is None else v for k, v in row.items()} for row in record["history"]]
        return RunResult(record["status"], history, record["wall_time_s"])
    folder.mkdir(parents=True, exist_ok=True)
    seed_everything(spec.seed, "init")
    model = build_model()
    result = train(
        model, data, normalize, spec, checkpoint=folder / "checkpoint.pt", epoch_budget=epoch_budget, **train_kwargs
    )
    if distributed.is_main():
        # The commit that trained it: a result assembled later from stored runs names these, not only its own.
        atomic_write_json(
            record_path,
            {
                "description": description,
                "epoch_budget": epoch_budget,
                "training_version": TRAINING_VERSION,
                "trained_at": git_commit(),
                "trained_on": device_name(next(model.parameters()).device),
                "world_size": distributed.world_size(),
                "global_batch": spec.batch_size,
                **result.as_dict(),
            },
        )
        _to_mirror(folder, mirror, record_path.name)
    return result


def _read_record(path):
    """A finished run's record, or None; one that cannot be read is named and set aside (the run's checkpoint,
    when whole, then gives its result back without training again)."""
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
        record["status"], record["history"], record["wall_time_s"]
        return record
    except (OSError, ValueError, TypeError, KeyError) as e:
        os.replace(path, path.with_name(path.name + ".corrupt"))
        LOG.warning(f"{path} is unreadable ({type(e).__name__}); set aside, the run is resumed from its checkpoint")
        return None


def _quiet_worker(threads):
    os.environ["ALEXNET_REPRO_QUIET"] = "1"  # one progress bar per process would garble the terminal
    if threads:
        torch.set_num_threads(threads)  # on a CPU, the jobs share its cores instead of oversubscribing them


def prefill_in_parallel(mod, jobs, scale, seeds=None, **common):
    """Train a claim's independent runs (its `plan`) into its run store in `jobs` processes. Returns a provenance
    note whenever it ran the plan (runs already in the store are only read), else None."""
    chains = mod.plan(scale, seeds)
    if not chains:
        print(f"{mod.CLAIM.slug}: no runs to spread over jobs", file=sys.stderr)
        return None

    def follow(chain):  # one thread per chain walks its stages; the process pool bounds the concurrency
        for stage in chain:
            futures = [(pool.submit(mod.run_job, scale=scale, **common, **job), job) for job in stage]
            for future, job in futures:
                future.result()
                print(f"  done: {job}", file=sys.stderr)

    on_cpu = pick_device(common.get("device")).type == "cpu"
    threads_each = max(1, (os.cpu_count() or 1) // jobs) if on_cpu else 0
    with (
        ProcessPoolExecutor(
            jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_quiet_worker, initargs=(threads_each,)
        ) as pool,
        ThreadPoolExecutor(len(chains)) as threads,
    ):
        list(threads.map(follow, chains))
    return f"runs trained up to {jobs} at a time on one device (--jobs {jobs}): per-run wall times include that sharing"


def prefill_distributed(mod, scale, seeds=None, **common):
    """Under torchrun: every process walks the claim's plan in the same order, each run training across all of them
    (DistributedDataParallel) into the run store. Returns the provenance note."""
    world = distributed.current()
    chains = mod.plan(scale, seeds)
    if not chains:
        raise ValueError(f"{mod.CLAIM.slug} declares no runs to train across processes: run it without torchrun")
    for chain in chains:
        for stage in chain:  # in order: a stage may read the one before it from the store
            for job in stage:
                mod.run_job(scale=scale, **common, **job)
    if torch.cuda.is_available():
        torch.cuda.empty_cache()  # the notebook's kernel, another process, will want this GPU's memory
    return (
        f"runs trained by torchrun on {world.size} processes (DistributedDataParallel, {world.backend}); "
        f"each run's batch is the global batch, {world.size} processes taking an equal share of it"
    )
