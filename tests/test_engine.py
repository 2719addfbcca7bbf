"""The training engine: determinism, divergence, and resume-after-interruption."""

import json

import pytest
import torch

from alexnet_repro.data.cifar10 import Cifar10
from alexnet_repro.engine import Normalizer, TrainSpec, pick_device, train
from alexnet_repro.models.cifar import Net19pct
from alexnet_repro.runs import cached_train


def tiny_data(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 10
    x = torch.randint(0, 256, (n, 32, 32, 3), generator=g, dtype=torch.uint8)
    x[:, :4, :4, 0] = (y * 25).to(torch.uint8)[:, None, None]  # a learnable signal
    return Cifar10(x, y, x[:48].clone(), y[:48].clone(), "tiny", "synthetic")


def build(seed=0, activation="relu"):
    torch.manual_seed(seed)
    return Net19pct(activation).to(memory_format=torch.channels_last)


SPEC = TrainSpec(lr=3e-3, batch_size=32, max_epochs=3, seed=0)


def test_same_seed_same_numbers_on_cpu():
    data = tiny_data()
    norm = Normalizer(data.train_x)
    a = train(build(), data, norm, SPEC)
    b = train(build(), data, norm, SPEC)
    assert _strip_time(a.history) == _strip_time(b.history)
    assert a.status == "cap" and len(a.history) == 3
    c = train(build(), data, norm, TrainSpec(lr=3e-3, batch_size=32, max_epochs=3, seed=1))
    assert c.history[0]["train_loss"] != a.history[0]["train_loss"]  # the seed changes the shuffle


def _strip_time(history):
    return [{k: v for k, v in r.items() if k != "wall_time_s"} for r in history]


class Interrupt(Exception):
    pass


def test_interrupted_run_resumes_to_the_same_result(tmp_path):
    data = tiny_data()
    norm = Normalizer(data.train_x)
    full_model = build()
    full = train(full_model, data, norm, SPEC)

    def kill_after_two(history):
        if len(history) == 2:
            raise Interrupt  # as if the process died right after epoch 2's checkpoint
        return False

    ckpt = tmp_path / "ckpt.pt"
    with pytest.raises(Interrupt):
        train(build(), data, norm, SPEC, checkpoint=ckpt, stop_at=kill_after_two)
    assert ckpt.exists()
    resumed_model = build(seed=123)  # fresh weights: everything must come from the checkpoint
    resumed = train(resumed_model, data, norm, SPEC, checkpoint=ckpt)
    assert _strip_time(resumed.history) == _strip_time(full.history)
    for p, q in zip(full_model.parameters(), resumed_model.parameters()):
        assert torch.equal(p, q)


def test_checkpoint_from_another_spec_is_refused(tmp_path):
    data = tiny_data()
    norm = Normalizer(data.train_x)
    ckpt = tmp_path / "ckpt.pt"
    train(build(), data, norm, TrainSpec(lr=3e-3, batch_size=32, max_epochs=1), checkpoint=ckpt)
    with pytest.raises(ValueError, match="different run spec"):
        train(build(), data, norm, TrainSpec(lr=1e-2, batch_size=32, max_epochs=1), checkpoint=ckpt)


def test_divergence_is_recorded_not_raised():
    data = tiny_data()
    result = train(build(), data, Normalizer(data.train_x), TrainSpec(lr=1e6, batch_size=32, max_epochs=3))
    assert result.status == "diverged"


def test_run_store_loads_finished_runs_and_extends_pruned_ones(tmp_path):
    data = tiny_data()
    norm = Normalizer(data.train_x)
    desc = {"what": "test"}
    first = cached_train(tmp_path, desc, build, data, norm, SPEC, epoch_budget=1)
    assert first.status == "budget" and len(first.history) == 1
    again = cached_train(tmp_path, desc, lambda: pytest.fail("must not rebuild"), data, norm, SPEC, epoch_budget=1)
    assert again.history == first.history
    longer = cached_train(tmp_path, desc, build, data, norm, SPEC, epoch_budget=3)
    assert longer.status == "cap" and len(longer.history) == 3
    assert longer.history[0] == first.history[0]  # continued from the checkpoint, not restarted
    record = json.loads(next(tmp_path.glob("*/record.json")).read_text())
    assert record["status"] == "cap"


def test_device_choice():
    assert pick_device("cpu").type == "cpu"
    assert pick_device(None).type in ("cpu", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            pick_device("cuda")


def test_test_error_only_at_the_end_when_asked():
    data = tiny_data()
    result = train(build(), data, Normalizer(data.train_x), SPEC, test_every_epoch=False)
    errors = [row["test_error"] for row in result.history]
    assert all(e != e for e in errors[:-1]) and 0 <= errors[-1] <= 1  # NaN until the last epoch


# What one fixed run produces under each TRAINING_VERSION (a CIFAR AlexNet, the paper's optimizer with decay,
# the annealed schedule, crops and lighting from their streams, dropout): a change to any of these numbers
# must come with a new TRAINING_VERSION (and its line here), or the run store would hand old runs to new code.
# Staleness reads TRAINING_VERSION instead of the training code's text (staleness.py), so this is what stops a
# change to training from slipping past it. Four steps near chance move the loss less than weight decay moves
# the weights (decay 5e-4, or decaying the biases too, left the losses equal to 4 decimals): the final weights'
# and biases' magnitudes and both evaluation passes are pinned beside the losses.
GOLDEN = {
    "2": {
        "train_loss": [2.349, 2.3896],
        "test_error": [0.9166666666666666, 0.8958333333333334],
        "train_error_full": [0.921875, 0.890625],
        "weights_abs_sum": 42955.02442589873,
        "biases_abs_sum": 227.16684922047511,
    }
}


def test_training_version_guard():
    from alexnet_repro.data.augment import pca_lighting, random_crop_flip
    from alexnet_repro.engine import TRAINING_VERSION
    from alexnet_repro.models.alexnet import build_alexnet, cifar_alexnet_config
    from alexnet_repro.seeds import seed_everything

    data = tiny_data(n=64)
    mean = data.train_x.float().mean(0)
    seed_everything(0, "init")
    model = build_alexnet(cifar_alexnet_config(init_std=0.03, hidden_bias=0.1)).to(memory_format=torch.channels_last)
    spec = TrainSpec(
        lr=0.01,
        weight_decay=5e-4,
        optimizer="paper_sgd",
        decay_biases=False,
        schedule="linear_to_zero",
        batch_size=32,
        max_epochs=2,
        seed=0,
    )
    eig = torch.tensor([0.2, 0.02, 0.002]), torch.eye(3)

    def augment(b, s):
        return pca_lighting(random_crop_flip(b, 24, s("crop"), mean), *eig, generator=s("lighting"))

    from alexnet_repro.data.augment import center_crop

    result = train(model, data, lambda b: center_crop(b, 24, mean), spec, augment=augment)
    params = [(n, p.detach().double()) for n, p in model.named_parameters()]
    got = {
        "train_loss": [round(h["train_loss"], 4) for h in result.history],
        "test_error": [h["test_error"] for h in result.history],
        "train_error_full": [h["train_error_full"] for h in result.history],
        "weights_abs_sum": sum(float(p.abs().sum()) for n, p in params if not n.endswith("bias")),
        "biases_abs_sum": sum(float(p.abs().sum()) for n, p in params if n.endswith("bias")),
    }
    assert TRAINING_VERSION in GOLDEN, f"add GOLDEN[{TRAINING_VERSION!r}] = {got}"
    want = GOLDEN[TRAINING_VERSION]
    # 4 steps of decay 5e-4 at rate 0.01 shrink the weights by ~2e-5 of their size: the sums are pinned closer (decaying the biases moves theirs by ~5e-5)
    assert got == {
        "train_loss": pytest.approx(want["train_loss"], abs=2e-4),
        "test_error": want["test_error"],
        "train_error_full": want["train_error_full"],
        "weights_abs_sum": pytest.approx(want["weights_abs_sum"], rel=2e-6),
        "biases_abs_sum": pytest.approx(want["biases_abs_sum"], rel=1e-5),
    }, f"training numbers changed ({got}): bump engine.TRAINING_VERSION and add its GOLDEN line"
