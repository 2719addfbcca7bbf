"""Data-parallel training (torchrun, DDP on gloo) and the streamed input path.

The torchrun tests start real process groups on this machine: two processes of tests/ddp_worker.py,
each with one thread. Tolerance of "two processes match one": the two runs do the same arithmetic
except that a step's gradient is summed in another order (each process sums its rows, then DDP sums
the processes), and float32 addition is not associative; measured here, the epoch losses differ by
< 3e-7 relative and the weights by < 1e-7 after 16 steps. The test allows 1e-5 relative: 30x that,
and 100x below what a real fault does here (measured: each process weighting its mean loss equally
instead of by its share of the rows moves the first epoch's loss by 1e-3 and the weights by 1e-2;
each process drawing its own augmentation, 3e-3 and 2e-2). Error rates may differ by one image,
for an image whose two top scores tie to within that rounding.
"""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist

from alexnet_repro import distributed, feed
from alexnet_repro.data.augment import global_batch_draws, pca_lighting, random_crop_flip
from alexnet_repro.engine import load_checkpoint

REPO = Path(__file__).resolve().parent.parent
WORKER = REPO / "tests" / "ddp_worker.py"
sys.path.insert(0, str(REPO / "tests"))
import ddp_worker  # noqa: E402

needs_torchrun = pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available()),
    reason="this torch build has no torch.distributed with gloo, which torchrun needs",
)


# ------------------------------------------------------------------------------------- sharding


@pytest.mark.parametrize("size", [1, 2, 3, 8])
def test_shards_cover_every_row_once_as_evenly_as_possible(size):
    for n in range(0, 40):
        bounds = [distributed.shard(n, r, size) for r in range(size)]
        assert bounds[0][0] == 0 and bounds[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))  # contiguous, in rank order
        counts = [b - a for a, b in bounds]
        assert max(counts) - min(counts) <= 1
        if n:  # the shares make DDP's average of the processes' mean gradients the global batch's mean
            assert sum(distributed.share(c, n, size) for c in counts) == pytest.approx(size)


def test_augmentation_draws_for_the_global_batch_and_keeps_this_process_rows():
    """Two processes' halves, each augmented under global_batch_draws, are the whole batch augmented at once."""
    batch = torch.randint(0, 256, (7, 20, 20, 3), dtype=torch.uint8)
    mean = batch.float().mean(0)
    eigvals, eigvecs = torch.tensor([0.02, 0.01, 0.001]), torch.eye(3)

    def augment(x):
        return pca_lighting(random_crop_flip(x, 16, None, mean), eigvals, eigvecs, 0.1)

    torch.manual_seed(5)
    whole = augment(batch)
    parts = []
    for r in range(2):
        a, b = distributed.shard(7, r, 2)
        with global_batch_draws((a, b, 7), torch.Generator().manual_seed(5)):
            parts.append(augment(batch[a:b]))
    torch.testing.assert_close(torch.cat(parts), whole, rtol=0, atol=0)


# ------------------------------------------------------------------------------------- streaming


def as_rank(monkeypatch, rank, size):
    """Make this process believe it is `rank` of `size` (batch order only: no collective is involved)."""
    monkeypatch.setattr(distributed, "_world", distributed.World(rank, size, rank, "gloo"))


@pytest.mark.parametrize("size", [1, 2, 3])
def test_streamed_batches_are_the_resident_ones(monkeypatch, tmp_path, size):
    """The memory-mapped cache, streamed, gives each process exactly the batches the device-resident
    copy gives it, for the same seeded order; together the processes' rows are each global batch."""
    n = 23
    written = np.memmap(tmp_path / "train.u8", np.uint8, "w+", shape=(n + 2, 4, 4, 3))
    written[:] = np.random.default_rng(0).integers(0, 256, written.shape, dtype=np.uint8)
    written.flush()
    images = np.memmap(tmp_path / "train.u8", np.uint8, "r", shape=(n + 2, 4, 4, 3))[2:]  # read at an offset
    labels = torch.arange(n) * 10
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(1))
    per_rank = []
    for rank in range(size):
        as_rank(monkeypatch, rank, size)
        resident = list(feed.epoch_batches(torch.from_numpy(np.array(images)), labels, perm, 5))
        streamed = list(feed.epoch_batches(images, labels, perm, 5))
        assert len(resident) == len(streamed) == 5  # 4 whole batches and one of 3
        for r, s in zip(resident, streamed):
            assert torch.equal(r.x, s.x) and torch.equal(r.y, s.y) and (r.rows, r.share) == (s.rows, s.share)
        per_rank.append(streamed)
        evaluated = [(x, y) for x, y in feed.eval_batches(images, labels, 4)]
        lo, hi = distributed.shard(n)
        assert torch.equal(torch.cat([x for x, _ in evaluated]), torch.from_numpy(np.array(images[lo:hi])))
    for step, parts in enumerate(zip(*per_rank)):
        idx = perm[5 * step : 5 * step + 5]
        assert torch.equal(torch.cat([b.y for b in parts]), labels[idx])
        assert torch.equal(torch.cat([b.x for b in parts]), torch.from_numpy(np.array(images[idx.numpy()])))


def test_training_on_streamed_images_equals_training_on_resident_ones(tmp_path):
    ddp_worker.run(tmp_path / "resident")
    ddp_worker.run(tmp_path / "streamed", stream=True)
    assert strip_time(history(tmp_path / "resident")) == strip_time(history(tmp_path / "streamed"))
    assert_same_weights(tmp_path / "resident", tmp_path / "streamed", rtol=0, atol=0)


def test_a_split_too_large_for_the_device_is_left_on_the_host(monkeypatch):
    from alexnet_repro.data.imagefolder import ImageFolderData

    images = np.zeros((10, 8, 8, 3), np.uint8)
    data = ImageFolderData(
        images, np.zeros(10, np.int64), images[:4], np.zeros(4, np.int64), ["a"], None, None, None, "sha", {}
    )
    monkeypatch.setattr(feed, "CPU_RESIDENT_CAP", 4 * 8 * 8 * 3)  # room for the validation split only
    splits = data.to("cpu")
    assert not feed.is_resident(splits.train_x) and feed.is_resident(splits.test_x)
    assert feed.is_resident(splits.train_y)  # labels always on the device


def test_the_two_device_net_trains_as_the_grouped_net_does(tmp_path):
    """Model parallelism (the paper's two GPUs; here two CPU "devices"): the same training, up to float
    rounding, and its checkpoint is the grouped net's. Without LRN: the grouped net's LRN windows span
    the two columns' maps at the boundary (channels C/2-2 .. C/2+1), the two-device net's do not, and
    with activations as large as these (init std 0.1) that moves the outputs by ~3%."""
    net = replace(ddp_worker.NET, normalization="none")
    ddp_worker.run(tmp_path / "grouped", net=net)
    ddp_worker.run(tmp_path / "two", devices=("cpu", "cpu"), net=net)
    state = load_checkpoint(tmp_path / "two" / "checkpoint.pt")["model"]
    assert "features.conv1.weight" in state  # the grouped layout: a grouped AlexNet loads it as it is
    # Rounding only, but grown over 16 steps of large gradients (losses ~13 at first): measured 6e-6 relative
    # on the last epoch's loss, 5e-5 on weights of size ~0.4; a wrong exchange of the columns moves them by far more.
    for a, b in zip(history(tmp_path / "two"), history(tmp_path / "grouped")):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
    assert_same_weights(tmp_path / "two", tmp_path / "grouped", rtol=1e-3, atol=1e-4)


# ------------------------------------------------------------------------------------- torchrun


def history(out):
    return json.loads((Path(out) / "history.json").read_text())["history"]


def strip_time(rows):
    return [{k: v for k, v in r.items() if k != "wall_time_s"} for r in rows]


def assert_same_weights(a, b, **tol):
    wa, wb = torch.load(Path(a) / "model.pt"), torch.load(Path(b) / "model.pt")
    for key in wa:
        torch.testing.assert_close(wa[key], wb[key], msg=key, **tol)


def launch(out, *args, processes=2):
    """tests/ddp_worker.py under torchrun (processes > 1) or plain python; -> the exit status."""
    env = dict(os.environ, OMP_NUM_THREADS="1", ALEXNET_REPRO_QUIET="1", PYTHONPATH=str(REPO))
    cmd = [sys.executable, str(WORKER), str(out), *args]
    if processes > 1:
        cmd[1:1] = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    (Path(out) / "log.txt").parent.mkdir(parents=True, exist_ok=True)
    (Path(out) / "log.txt").write_text(done.stdout + done.stderr)
    return done.returncode


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same run on two processes (DDP, gloo) and on one, each uninterrupted."""
    base = tmp_path_factory.mktemp("ddp")
    for name, processes in (("two", 2), ("one", 1)):
        rc = launch(base / name, processes=processes)
        assert rc == 0, (base / name / "log.txt").read_text()[-3000:]
    return base


@needs_torchrun
def test_two_processes_train_as_one_process_does(reference):
    two, one = history(reference / "two"), history(reference / "one")
    assert json.loads((reference / "two" / "history.json").read_text())["world_size"] == 2
    assert len(two) == len(one) == ddp_worker.SPEC.max_epochs
    assert one[-1]["test_error"] < one[0]["test_error"]  # the run learns: the curves compared are not flat
    for a, b in zip(two, one):
        assert a["images_seen"] == b["images_seen"]
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
        for key in ("train_error_running", "train_error_full", "test_error"):
            assert abs(a[key] - b[key]) <= 1 / 40 + 1e-9, key  # at most one image of the 40 (or 100)
    assert_same_weights(reference / "two", reference / "one", rtol=1e-5, atol=1e-6)


@needs_torchrun
def test_a_killed_process_then_a_restart_resumes_from_the_last_checkpoint(reference, tmp_path):
    """Rank 1 dies by SIGKILL two steps into epoch 3 (4 steps an epoch); torchrun stops the other;
    the rerun resumes from epoch 2's checkpoint and ends bit-identical to the uninterrupted run,
    with the images streamed from the host this time (the reference held them resident)."""
    out = tmp_path / "killed"
    assert launch(out, "--stream", "--kill", "1:10") != 0
    assert not (out / "history.json").exists()
    saved = load_checkpoint(out / "checkpoint.pt")
    assert len(saved["history"]) == 2 and saved["world_size"] == 2
    assert launch(out, "--stream") == 0, (out / "log.txt").read_text()[-3000:]
    resumed = history(out)
    assert resumed[:2] == saved["history"]  # read back, wall times and all: epochs 1-2 were not retrained
    assert strip_time(resumed) == strip_time(history(reference / "two"))
    assert_same_weights(out, reference / "two", rtol=0, atol=0)


@needs_torchrun
def test_a_checkpoint_is_resumed_only_on_as_many_processes(reference, tmp_path):
    shutil.copy(reference / "two" / "checkpoint.pt", tmp_path / "checkpoint.pt")
    with pytest.raises(ValueError, match="written by 2 process"):
        ddp_worker.run(tmp_path)


@needs_torchrun
def test_torchrun_runs_a_claim_with_results_written_once(tmp_path):
    """`torchrun -m alexnet_repro run` at the smoke scale: each run trained once, by both processes,
    into the run store; rank 0's notebook finds them there and writes the result and its provenance."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, n in (("train", 8), ("val", 4)):
        for cls in "abc":
            for i in range(n):
                path = tmp_path / "tree" / split / cls / f"{i}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(rng.integers(0, 256, (80, 80, 3), dtype=np.uint8)).save(path)
    env = dict(
        os.environ,
        OMP_NUM_THREADS="1",
        ALEXNET_REPRO_QUIET="1",
        PYTHONPATH=str(REPO),
        ALEXNET_REPRO_CACHE=str(tmp_path / "cache"),
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            "-m",
            "alexnet_repro",
            "run",
            "lrn_alexnet",
            "--scale",
            "smoke",
            "--data-root",
            str(tmp_path / "tree"),
            "--out-dir",
            str(tmp_path / "out"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    records = [json.loads(p.read_text()) for p in Path(os.environ["ALEXNET_REPRO_RUNS"]).rglob("record.json")]
    assert len(records) == 4  # 2 arms x 2 seeds, none retrained by the notebook
    assert all(r["world_size"] == 2 and r["global_batch"] == 128 for r in records)
    result = json.loads((tmp_path / "out" / "lrn_alexnet" / "smoke" / "result.json").read_text())
    assert "torchrun on 2 processes" in result["provenance"]["note"]
    assert done.stdout.count("lrn_alexnet: ") == 1  # the verdict line: rank 0 alone wrote the result


# ------------------------------------------------------------------------------------- benchmarks


@pytest.mark.parametrize(
    "script, expected", [("streaming_share.py", "the data adds"), ("two_gpu_time.py", "two GPUs / one GPU, half")]
)
def test_the_gpu_benchmarks_run_at_their_smoke_size_on_the_cpu(tmp_path, script, expected):
    """Ready for the GPU: each runs through at a tiny size on the CPU, and writes no result file then."""
    args = ["--workdir", str(tmp_path)] if script == "streaming_share.py" else []
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), "--smoke", *args],
        cwd=tmp_path,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert expected in done.stdout and "written:" not in done.stdout
