"""The GPU's fast-path switches (bf16 autocast, torch.compile) against eager fp32, on the CPU.

On one fixed batch of the CIFAR-10 AlexNet (dropout 0: a compiled graph draws its dropout masks from
its own generator, so masks could never match), each switch must give the fp32 logits and the fp32
SGD step within a stated relative tolerance (the L2 norm of the difference over the L2 norm of the
fp32 value):
- bf16 autocast: 8 bits of mantissa (relative rounding 2^-8 = 0.4% per operation), accumulated over
  eight layers: logits within 3%, the step (the change of every weight) within 10%;
- compiled ("aot_eager", the graph torch.compile captures and differentiates, without inductor's
  generated kernels, which take ~40 s to build on this CPU): fp32 throughout, within 1e-4.
On a GPU the same checks run there too, with inductor's kernels (TF32 off in the fp32 reference; compiled fp32
within 1e-3: cuDNN's and Triton's kernels sum in other orders).
The step is taken by engine.train itself (one batch, one epoch), so the switches are tested where they act.
"""

import pytest
import torch
import torch.nn.functional as F

from alexnet_repro.data.cifar10 import Cifar10
from alexnet_repro.engine import TrainSpec, train
from alexnet_repro.models.alexnet import build_alexnet, cifar_alexnet_config
from alexnet_repro.seeds import seed_everything

BATCH = 32
TOLERANCE = {  # (device, precision, compile): (logits, SGD step), relative L2 error against eager fp32
    ("cpu", "bf16", ""): (3e-2, 1e-1),  # measured 0.5% and 3.4%
    ("cpu", "fp32", "aot_eager"): (1e-4, 1e-4),  # measured 0 and 0 (torch 2.14, CPU)
}
if torch.cuda.is_available():
    TOLERANCE.update(
        {
            ("cuda", "bf16", ""): (3e-2, 1e-1),
            ("cuda", "bf16", "inductor"): (3e-2, 1e-1),
            ("cuda", "fp32", "inductor"): (1e-3, 1e-3),
        }
    )


def fixed_batch(device="cpu"):
    g = torch.Generator().manual_seed(0)
    # Three classes of ten, each with its own colour over noise. At initialisation the net predicts nearly the
    # same for every image, so under balanced labels the batch's gradient (the sum of p - onehot(y) over images)
    # is a small difference of large terms, and any rounding is large beside it: a test of cancellation, not bf16.
    y = torch.arange(BATCH) % 3
    colour = torch.stack([y * 12, (9 - y) * 12, (y % 3) * 40], 1).to(torch.uint8)[:, None, None, :]
    x = torch.randint(0, 128, (BATCH, 24, 24, 3), generator=g, dtype=torch.uint8) + colour
    x, y = x.to(device), y.to(device)
    return Cifar10(x, y, x.clone(), y.clone(), "fixed", "synthetic")


def net(device):
    seed_everything(0, "init")
    return build_alexnet(cifar_alexnet_config(init_std=0.03, hidden_bias=0.1, dropout=0.0)).to(
        device, memory_format=torch.channels_last
    )


def normalize(batch_u8):
    mean = fixed_batch(batch_u8.device).train_x.float().mean(0)
    return (batch_u8.float() - mean).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)


def rel(a, b):
    return ((a.float() - b.float()).norm() / b.float().norm()).item()


def one_step(device, precision, compile_backend):
    """(logits before the step, every parameter's change, the run's history) for one SGD step by engine.train."""
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False  # as engine.train's fp32
    data = fixed_batch(device)
    model = net(device)
    before = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad(), torch.autocast(device, torch.bfloat16, enabled=precision == "bf16"):
        logits = (torch.compile(model, backend=compile_backend) if compile_backend else model)(normalize(data.train_x))
    torch._dynamo.reset()  # the training step compiles its own graph
    spec = TrainSpec(
        lr=0.05, weight_decay=5e-4, batch_size=BATCH, max_epochs=1, precision=precision, compile=compile_backend, seed=0
    )
    result = train(model, data, normalize, spec)
    step = torch.cat([(p.detach() - b).flatten() for p, b in zip(model.parameters(), before)])
    return logits, step, result.history


@pytest.fixture(scope="module")
def reference():
    return {device: one_step(device, "fp32", "") for device in {d for d, _, _ in TOLERANCE}}


@pytest.mark.parametrize("device,precision,compile_backend", list(TOLERANCE))
def test_switch_matches_fp32_on_a_fixed_batch(reference, device, precision, compile_backend):
    ref_logits, ref_step, ref_history = reference[device]
    logits, step, history = one_step(device, precision, compile_backend)
    logit_tol, step_tol = TOLERANCE[device, precision, compile_backend]
    assert ref_step.norm() > 0 and ref_logits.std() > 0  # a real step on logits that differ
    assert rel(logits, ref_logits) < logit_tol
    assert rel(step, ref_step) < step_tol
    assert F.cosine_similarity(step, ref_step, dim=0) > 0.99
    assert ("compile_time_s" in history[0]) == bool(compile_backend)  # compile time is reported apart
    assert "compile_time_s" not in ref_history[0]  # the default path's rows are unchanged


def test_compile_switch_is_checked():
    with pytest.raises(ValueError, match="compile must be one of"):
        TrainSpec(lr=0.01, compile="tensorrt-ish")


def test_run_key_unchanged_while_compile_is_off():
    """Runs stored before TrainSpec had `compile` keep their keys (they resume and are reused)."""
    from dataclasses import asdict

    from alexnet_repro.runs import run_key

    spec = asdict(TrainSpec(lr=0.01))
    before_the_field = {k: v for k, v in spec.items() if k != "compile"}
    assert run_key({"spec": spec}) == run_key({"spec": before_the_field})
    assert run_key({"spec": asdict(TrainSpec(lr=0.01, compile="inductor"))}) != run_key({"spec": before_the_field})
