"""The paper's update rule (T2) and learning-rate schedule (T4), section 5.

T2:  v <- 0.9 v - 0.0005 eps w - eps dL/dw;   w <- w + v

torch.optim.SGD steps w <- w - lr b with b <- m b + (g + wd w); PaperSGD keeps eps inside v, as printed and as in
cuda-convnet. The two agree while eps is constant (v = -eps b); when it changes, SGD rescales the accumulated
momentum at once, where PaperSGD's velocity decays into the new rate.
"""

import torch
from torch import nn

OPTIMIZERS = ("sgd", "paper_sgd")


class PaperSGD(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.9, weight_decay=5e-4):
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"lr, momentum and weight_decay must be >= 0, got {lr}, {momentum}, {weight_decay}")
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            eps, m, wd = group["lr"], group["momentum"], group["weight_decay"]
            for w in group["params"]:
                if w.grad is None:
                    continue
                state = self.state[w]
                if "velocity" not in state:
                    state["velocity"] = torch.zeros_like(w, memory_format=torch.preserve_format)
                v = state["velocity"]
                v.mul_(m)
                if wd != 0:
                    v.add_(w, alpha=-wd * eps)
                v.add_(w.grad, alpha=-eps)
                w.add_(v)


def param_groups(model: nn.Module, weight_decay=5e-4, decay_biases=False):
    """Parameter groups with weight decay on the weights and, unless decay_biases, none on
    biases and other 1-d parameters (BatchNorm scales). The paper's T2 writes decay for "w";
    cuda-convnet, which ran the paper's experiments, decays weights only."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if decay_biases or p.dim() > 1 else no_decay).append(p)
    groups = [dict(params=decay, weight_decay=weight_decay)]
    if no_decay:
        groups.append(dict(params=no_decay, weight_decay=0.0))
    return groups


class PlateauSchedule:
    """T4: one learning rate for all layers, divided by `factor` when the validation error has not improved for
    `patience` evaluations in a row (the paper gives no patience; 3 is our choice), at most `max_decays` times. After a
    decay the count restarts; the best error is kept."""

    def __init__(self, optimizer, lr=0.01, factor=0.1, patience=3, max_decays=3):
        self.optimizer, self.lr, self.factor = optimizer, lr, factor
        self.patience, self.max_decays = patience, max_decays
        self.best, self.bad_evals, self.num_decays = float("inf"), 0, 0
        self._apply()

    def _apply(self):
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr

    def step(self, val_error):
        """Record one validation error; returns True if the learning rate was just divided."""
        if val_error < self.best:
            self.best, self.bad_evals = val_error, 0
            return False
        self.bad_evals += 1
        if self.bad_evals < self.patience or self.num_decays >= self.max_decays:
            return False
        self.lr *= self.factor
        self.num_decays, self.bad_evals = self.num_decays + 1, 0
        self._apply()
        return True


def build_optimizer(model: nn.Module, spec):
    """The one optimizer a run trains with, from its TrainSpec, so the run key holds exactly what trains.
    spec.weight_decay is one value, or (layer-name prefix, value) pairs (cuda-convnet's per-layer wc)."""
    if spec.optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {spec.optimizer!r}")
    per_layer = dict(spec.weight_decay) if isinstance(spec.weight_decay, (tuple, list)) else None
    groups = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        bias = p.dim() <= 1
        if bias and not spec.decay_biases:
            wd = 0.0
        elif per_layer is None:
            wd = spec.weight_decay
        else:
            wd = next((v for k, v in per_layer.items() if name.startswith(k)), 0.0)
        lr = spec.lr * (spec.bias_lr_factor if bias else 1.0)
        groups.setdefault((lr, wd), []).append(p)
    groups = [dict(params=ps, lr=lr, base_lr=lr, weight_decay=wd) for (lr, wd), ps in groups.items()]
    if spec.optimizer == "paper_sgd":
        return PaperSGD(groups, lr=spec.lr, momentum=spec.momentum, weight_decay=0.0)
    return torch.optim.SGD(groups, lr=spec.lr, momentum=spec.momentum)


SCHEDULES = ("constant", "linear_to_zero", "steps", "warmup")


def lr_factor(schedule: str, step: int, steps_per_epoch: int, total_epochs: int) -> float:
    """The rate at `step` (0-based) as a fraction of the base rate: a pure function, so a resumed run continues it.
    constant         1
    linear_to_zero   1 - step / total steps: annealed to 0 at the last step, the run's end point
    steps:a,b,c      a epochs at 1, b at 0.1, c at 0.01 (cuda-convnet's /10 phases; T4's shape)
    warmup:k         from 1/(k steps per epoch) up linearly to 1 over the first k epochs, then 1"""
    kind, _, arg = schedule.partition(":")
    if kind == "constant":
        return 1.0
    if kind == "linear_to_zero":
        return 1.0 - step / (steps_per_epoch * total_epochs)
    if kind == "steps":
        bounds, epoch = [int(a) for a in arg.split(",")], step // steps_per_epoch
        return 0.1 ** sum(epoch >= sum(bounds[: i + 1]) for i in range(len(bounds) - 1))
    if kind == "warmup" and arg.replace(".", "", 1).isdigit() and float(arg) > 0:
        return min(1.0, (step + 1) / (float(arg) * steps_per_epoch))
    raise ValueError(
        f"schedule must be one of {SCHEDULES} (steps as 'steps:140,10,10', warmup as 'warmup:1'), got {schedule!r}"
    )
