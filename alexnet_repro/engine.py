"""The training engine: one run = one model trained on one dataset, its uint8 NHWC images on the run's device.

airbench-style: each minibatch is indexed out of the images and normalized there; no DataLoader. A run checkpoints
atomically at every epoch end and resumes bit-identical on CPU (a checkpoint that fails its sha256 is set aside, and
the previous epoch's taken). Under torchrun the same loop trains through DDP (distributed.py).
"""

import functools
import hashlib
import io
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from . import distributed, feed
from .atomic import atomic_write_bytes, remove_stale_temps
from .log import LOG
from .optim import build_optimizer, lr_factor
from .seeds import Streams, order_generator, seed_everything

PRECISIONS = ("fp32", "bf16")
# TrainSpec.compile's torch.compile backends ("aot_eager", for CPU tests, generates no code). Compiled kernels reorder
# float operations: a compiled run is its own run (its own key).
COMPILE_BACKENDS = ("", "inductor", "aot_eager")
# A diverged run is caught within this many steps, not at the epoch's end: the check reads one
# number back from the device (a sync), which every 50 steps costs nothing measurable.
NAN_CHECK_EVERY = 50
# The version of what trains: part of every run-store key (runs.py), so a stored run is reused
# only by the code that would train it the same way. Bump it with any change to the numbers a run
# produces (engine, optim, models, augmentation); tests/test_engine.py::test_training_version_guard
# fails until you do.
TRAINING_VERSION = "2"


def pick_device(requested=None) -> torch.device:
    if requested in (None, "", "auto"):
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(requested)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {requested!r}; use cpu, cuda, cuda:N or auto") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {requested!r} requested but CUDA is not available; use 'cpu' or 'auto'")
    if (world := distributed.current()) and device.type == "cuda":
        return torch.device("cuda", world.local_rank)  # under torchrun: this process's own GPU
    return device


@dataclass
class TrainSpec:
    """Everything that defines how one run trains but the model: the run key holds exactly what trains."""

    lr: float
    momentum: float = 0.9
    weight_decay: object = 0.0  # one value, or ((layer prefix, value), ...) per layer
    batch_size: int = 128
    max_epochs: int = 30
    precision: str = "fp32"
    seed: int = 0
    optimizer: str = "sgd"  # "sgd" (torch) | "paper_sgd" (T2: eps inside the velocity)
    decay_biases: bool = True  # False: decay on weights only (cuda-convnet, the paper's code)
    bias_lr_factor: float = 1.0  # cuda-convnet's epsB / epsW
    schedule: str = "constant"  # optim.lr_factor: constant | linear_to_zero | steps:a,b,c
    compile: str = ""  # COMPILE_BACKENDS; left out of the run's identity while "" (spec_identity)

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if isinstance(self.weight_decay, list):
            self.weight_decay = tuple(tuple(p) for p in self.weight_decay)
        lr_factor(self.schedule, 0, 1, 1)  # an unknown schedule fails here, not mid-run
        if self.compile not in COMPILE_BACKENDS:
            raise ValueError(f"compile must be one of {COMPILE_BACKENDS}, got {self.compile!r}")


def spec_identity(spec: dict) -> dict:
    """A TrainSpec's asdict as it identifies a run: `compile` left out while off, so older runs keep their keys."""
    return {k: v for k, v in spec.items() if not (k == "compile" and not v)}


class Normalizer:
    """uint8 NHWC batch -> float NCHW (channels_last): 0..255 minus the per-pixel training mean (cuda-convnet's
    'cuda_convnet'), or that divided by each channel's std ('standardized', inputs of unit scale)."""

    MODES = ("cuda_convnet", "standardized")

    def __init__(self, train_x_u8: torch.Tensor, mode="cuda_convnet"):
        if mode not in self.MODES:
            raise ValueError(f"input scaling must be one of {self.MODES}, got {mode!r}")
        x = train_x_u8.float()
        mean = x.mean(0)  # per-pixel mean image, HWC
        scale = x.std(dim=(0, 1, 2)) if mode == "standardized" else torch.ones(3, device=x.device)
        self.mean = mean.permute(2, 0, 1).unsqueeze(0).contiguous(memory_format=torch.channels_last)
        self.inv_scale = (1.0 / scale).view(1, 3, 1, 1)

    def __call__(self, batch_u8: torch.Tensor) -> torch.Tensor:
        x = batch_u8.permute(0, 3, 1, 2).float()  # a view: NHWC bytes == channels_last NCHW
        return ((x - self.mean) * self.inv_scale).contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def evaluate(model, x_u8, y, normalize, batch_size=1000, precision="fp32") -> float:
    """Top-1 error over a whole split, in eval mode (under DDP each process counts its share)."""
    was_training = model.training
    model.eval()
    wrong = torch.zeros((), dtype=torch.long, device=y.device)
    for xb, yb in feed.eval_batches(x_u8, y, batch_size):
        with _autocast(y.device, precision):
            out = model(normalize(xb))
        wrong += (out.argmax(1) != yb).sum()
    distributed.all_reduce_sum(wrong)
    model.train(was_training)
    return wrong.item() / len(y)


def _autocast(device, precision):
    return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16, enabled=precision == "bf16")


def _synced_clock(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def _progress(total, desc):
    """A bar redrawn in place on a terminal; elsewhere (a pipe, a notebook's kernel: $ALEXNET_REPRO_PROGRESS=lines,
    set by the CLI) one line per epoch."""
    quiet = os.environ.get("ALEXNET_REPRO_QUIET") == "1" or "pytest" in sys.modules or not distributed.is_main()
    mode = os.environ.get("ALEXNET_REPRO_PROGRESS") or ("bars" if sys.stderr.isatty() else "lines")
    if mode == "lines" and not quiet:
        return _EpochLines(total=total, desc=desc, delay=math.inf, file=sys.stderr)
    return tqdm(
        total=total, desc=desc, disable=quiet, leave=False, mininterval=2.0, file=sys.stderr, dynamic_ncols=True
    )


class _EpochLines(tqdm):
    """A bar that never draws itself (delay=inf) but prints a line at each set_postfix, in tqdm's own format, which
    results.clean_notebook drops from an executed notebook as it drops a bar."""

    def set_postfix(self, **postfix):
        super().set_postfix(**postfix)
        print(self, file=sys.stderr, flush=True)


@dataclass
class RunResult:
    status: str  # "target" | "cap" | "budget" | "diverged"
    history: list = field(default_factory=list)
    wall_time_s: float = 0.0

    def as_dict(self):
        return asdict(self)


def train(
    model,
    data,
    normalize,
    spec: TrainSpec,
    *,
    stop_at=None,
    epoch_budget=None,
    checkpoint=None,
    train_eval=None,
    test_every_epoch=True,
    desc="train",
    augment=None,
) -> RunResult:
    """Train `model` on `data` (a dataset on the model's device) by `spec`.

    stop_at(history) -> bool ends the run with status "target"; epoch_budget caps it below spec.max_epochs (status
    "budget": a sweep pruning a run already slower than the fastest so far). Each history row holds the running
    training error over the epoch's minibatches (what cuda-convnet prints and Fig. 1 plots), the error of a pass over
    `train_eval`'s training images (default `data`) and the test error (every epoch, or with test_every_epoch=False only
    at the last). augment(batch_u8, streams) -> input replaces normalize in training, drawing from streams(purpose)
    (seeds.Streams).
    """
    train_eval = train_eval or data
    device = data.train_y.device  # the labels are always on the run's device; the images may be streamed
    if spec.precision == "fp32":
        torch.backends.cudnn.allow_tf32 = False  # else cuDNN convolves in TF32 on Ampere+ GPUs
    seed_everything(spec.seed, "dropout")  # the caller built the model already (under "init")
    augment_rng = distributed.seed_ranks(spec.seed, device) if distributed.current() else None
    opt = build_optimizer(model, spec)
    checkpoint = Path(checkpoint) if checkpoint else None
    history, elapsed = _resume(checkpoint, model, opt, spec, device, augment_rng)
    if history and (ended := _finished(history, spec, stop_at, epoch_budget)):  # it had ended before
        _previous(checkpoint).unlink(missing_ok=True)
        return RunResult(ended, history, elapsed)
    net = distributed.wrap(model, device) if distributed.current() else model
    if spec.compile:  # the training step only: evaluation runs the eager model (no recompiling for eval mode)
        net = torch.compile(net, backend=spec.compile, dynamic=False)  # the last, partial batch: its own graph
    steps = math.ceil(len(data.train_y) / spec.batch_size)
    limit = min(spec.max_epochs, epoch_budget or spec.max_epochs)
    bar = _progress((limit - len(history)) * steps, desc)
    error_of = functools.partial(evaluate, model, normalize=normalize, precision=spec.precision)
    model.train()
    status, compiled_shapes = None, set()
    for epoch in range(len(history), limit):
        t0 = time.perf_counter()
        streams = Streams(spec.seed, epoch, device)
        prepare = (lambda b: augment(b, streams)) if augment else normalize
        row = _train_epoch(net, opt, data, prepare, augment_rng, spec, epoch, steps, bar, compiled_shapes)
        t0 += row.get("compile_time_s", 0.0)  # reported apart: left out of the row's wall_time_s
        history.append(row)
        if not math.isfinite(row["train_loss"]):
            elapsed += time.perf_counter() - t0  # a diverged run's wall time is real time spent too
            row.update(train_error_full=float("nan"), test_error=float("nan"), wall_time_s=elapsed)
            status = "diverged"
            break
        row["train_error_full"] = error_of(train_eval.train_x, train_eval.train_y)
        status = _finished(history, spec, stop_at, epoch_budget)  # also "cap"/"budget" at the last epoch
        row["test_error"] = error_of(data.test_x, data.test_y) if test_every_epoch or status else float("nan")
        elapsed += time.perf_counter() - t0
        row["wall_time_s"] = elapsed
        bar.set_postfix(err=f"{row['train_error_running']:.3f}", refresh=False)
        if checkpoint:
            _save_checkpoint(checkpoint, model, opt, spec, history, elapsed, augment_rng)
        if status:
            break
    bar.close()
    if checkpoint:
        _previous(checkpoint).unlink(missing_ok=True)  # the run has stopped: its last checkpoint is enough
    return RunResult(status or "cap", history, elapsed)  # no status: no epoch left to train (max_epochs 0)


def _resume(checkpoint, model, opt, spec, device, augment_rng) -> tuple:
    """(history, elapsed) of the run so far, its model, optimizer and random states restored from `checkpoint`;
    ([], 0.0) with none."""
    if distributed.current():
        distributed.agree(
            checkpoint.stat().st_size if checkpoint and checkpoint.exists() else None,
            f"the processes see different checkpoints at {checkpoint}: the run store must be on a "
            "filesystem every node shares (ALEXNET_REPRO_RUNS)",
        )
    state = _resume_state(checkpoint, device) if checkpoint else None
    if not state:
        return [], 0.0
    if spec_identity(state["spec"]) != spec_identity(asdict(spec)):
        raise ValueError(f"checkpoint {checkpoint} was written by a different run spec")
    if state.get("world_size", 1) != distributed.world_size():
        raise ValueError(
            f"checkpoint {checkpoint} was written by {state.get('world_size', 1)} process(es): resume "
            f"it on as many (torchrun --nproc_per_node), or delete it to start the run over"
        )
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["opt"])
    rng = state["ranks"][distributed.rank()] if "ranks" in state else state  # each process its own dropout RNG
    torch.set_rng_state(rng["rng"].cpu())  # map_location moved the RNG states to the device too
    if rng.get("cuda_rng") is not None:
        torch.cuda.set_rng_state_all([s.cpu() for s in rng["cuda_rng"]])
    if augment_rng is not None:
        augment_rng.set_state(state["augment_rng"].cpu())
    return state["history"], state["elapsed"]


def _train_epoch(net, opt, data, prepare, augment_rng, spec, epoch, steps, bar, compiled_shapes) -> dict:
    """One epoch's history row so far (loss, running error, seconds spent compiling); it stops at a non-finite loss."""
    device, n, bs = data.train_y.device, len(data.train_y), spec.batch_size
    perm = torch.randperm(n, generator=order_generator(spec.seed, epoch))
    wrong = torch.zeros((), dtype=torch.long, device=device)
    loss_sum = torch.zeros((), device=device)
    compile_s = 0.0
    for step, batch in enumerate(feed.epoch_batches(data.train_x, data.train_y, perm, bs), 1):  # this process's rows
        for group in opt.param_groups:
            group["lr"] = group["base_lr"] * lr_factor(spec.schedule, epoch * steps + step - 1, steps, spec.max_epochs)
        x, y = batch.prepare(prepare, augment_rng), batch.y
        compiling = spec.compile and tuple(x.shape) not in compiled_shapes
        if compiling:  # the first step at each input shape compiles: timed apart from training
            compiled_shapes.add(tuple(x.shape))
            t_compile = _synced_clock(device)
        with _autocast(device, spec.precision):
            out = net(x)
            # An empty share (a last batch smaller than the world) still joins DDP's all-reduce, with zero gradient.
            loss = F.cross_entropy(out.float(), y) if len(y) else out.sum()
        opt.zero_grad(set_to_none=True)
        (loss * batch.share).backward()  # share 1.0 on one process: an exact no-op
        opt.step()
        if compiling:
            compile_s += _synced_clock(device) - t_compile
        wrong += (out.argmax(1) != y).sum()
        loss_sum += loss.detach() * len(y)
        bar.update(1)
        if step % NAN_CHECK_EVERY == 0 and not torch.isfinite(loss_sum).item():
            break  # a NaN or inf loss stays in the sum: the run has diverged
    distributed.all_reduce_sum(wrong, loss_sum)
    seen = min(n, step * bs)  # images of the global batches this epoch trained on (all, unless it diverged)
    row = {
        "epoch": epoch + 1,
        "images_seen": epoch * n + seen,
        "train_loss": loss_sum.item() / seen,
        "train_error_running": wrong.item() / seen,
    }
    return {**row, "compile_time_s": compile_s} if spec.compile else row


def _finished(history, spec, stop_at, epoch_budget):
    if stop_at and stop_at(history):
        return "target"
    if len(history) >= spec.max_epochs:
        return "cap"
    if epoch_budget is not None and len(history) >= epoch_budget:
        return "budget"
    return None


CHECKPOINT_MAGIC = b"alexnet-repro checkpoint sha256="


class CorruptCheckpoint(ValueError):
    pass


def _previous(path: Path) -> Path:
    return path.with_name(path.name + ".previous")


def _save_checkpoint(path, model, opt, spec, history, elapsed, augment_rng=None):
    """One header line holding the payload's sha256, then torch.save's bytes. The checkpoint it replaces is kept as
    <name>.previous until the run stops: a corrupt last checkpoint costs one epoch, not the run."""
    buf = io.BytesIO()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    state = {
        "model": model.state_dict(),
        "opt": opt.state_dict(),
        "rng": torch.get_rng_state(),
        "cuda_rng": cuda_rng,
        "spec": asdict(spec),
        "history": history,
        "elapsed": elapsed,
    }
    if distributed.current():  # every process's dropout RNG (a collective), the shared augmentation RNG; rank 0 writes
        state.update(
            ranks=distributed.all_gather_object({"rng": state["rng"], "cuda_rng": cuda_rng}),
            augment_rng=augment_rng.get_state(),
            world_size=distributed.world_size(),
        )
        if not distributed.is_main():
            return
    torch.save(state, buf)
    payload = buf.getbuffer()
    header = CHECKPOINT_MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n"
    remove_stale_temps(path)  # a writer killed mid-write left its temp file (hundreds of MB) behind
    if path.exists():
        os.replace(path, _previous(path))
    atomic_write_bytes(path, [header, payload])


def load_checkpoint(path, map_location="cpu"):
    """A checkpoint's state, verified against its sha256; CorruptCheckpoint (naming the file) if it fails or cannot
    be read."""
    path = Path(path)
    try:
        raw = memoryview(path.read_bytes())
        header = bytes(raw[:200]).partition(b"\n")[0]
        payload = raw[len(header) + 1 :]
        if header != CHECKPOINT_MAGIC + hashlib.sha256(payload).hexdigest().encode():
            raise CorruptCheckpoint(f"checkpoint {path} does not match its recorded sha256")
        return torch.load(io.BytesIO(payload), map_location=map_location, weights_only=False)
    except CorruptCheckpoint:
        raise
    except Exception as e:  # torch.load raises many types on a cut or damaged file
        why = (str(e).strip().splitlines() or [""])[0]
        raise CorruptCheckpoint(f"checkpoint {path} is unreadable ({type(e).__name__}: {why})") from None


def _resume_state(path: Path, device):
    """The checkpoint's state, else the previous one's; None to start from scratch. One that fails its check is
    renamed <name>.corrupt-<time>, and one warning line names it."""
    remove_stale_temps(path)  # a process killed while writing a checkpoint left its temp file
    for candidate in (path, _previous(path)):
        if not candidate.exists():
            continue
        try:
            return load_checkpoint(candidate, device)
        except CorruptCheckpoint as e:
            aside = candidate.with_name(f"{candidate.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
            os.replace(candidate, aside)
            fallback = (
                "the previous epoch's checkpoint" if candidate == path and _previous(path).exists() else "scratch"
            )
            LOG.warning(f"{e}; set aside as {aside.name}; this run resumes from {fallback}")
    return None
