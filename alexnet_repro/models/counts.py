"""Per-layer table of the net: shapes, neurons, parameters, multiply-adds (claims A2-A4), which the architecture claim
writes as layers.csv and sets against the paper (notebooks/architecture.py)."""

import dataclasses

import torch
from torch import nn

from .alexnet import AlexNet


def _mult_adds(module, out):
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return out[0].numel() * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features
    return 0


def _row(layer, kind, out, parameters, mult_adds):
    keys = ("layer", "kind", "output_shape", "neurons", "parameters", "mult_adds")
    return dict(zip(keys, (layer, kind, tuple(out.shape[1:]), out[0].numel(), parameters, mult_adds)))


def layer_table(cfg, input_size=None):
    """One dict per layer, in forward order, for one image of the net `cfg` (at `input_size`, if given), traced on the
    meta device (no memory, no compute). Keys: layer, kind, output_shape, neurons (output elements per image),
    parameters, mult_adds, param_share (fraction of all parameters). The first row is the input."""
    if input_size is not None:
        cfg = dataclasses.replace(cfg, input_size=input_size)
    with torch.device("meta"):
        model, x = AlexNet(cfg).eval(), torch.zeros(1, 3, cfg.input_size, cfg.input_size)
    rows = [_row("input", "input", x, 0, 0)]
    names = {m: name.split(".")[-1] for name, m in model.named_modules() if not list(m.children())}

    def hook(m, inp, out):
        rows.append(_row(names[m], type(m).__name__, out, sum(p.numel() for p in m.parameters()), _mult_adds(m, out)))

    for m in names:
        m.register_forward_hook(hook)
    with torch.no_grad():
        model(x)
    total = sum(r["parameters"] for r in rows)
    for r in rows:
        r["param_share"] = r["parameters"] / total
    return rows


def weight_layers(rows):
    """The conv and FC rows: the layers Fig. 2 counts neurons for."""
    return [r for r in rows if r["kind"] in ("Conv2d", "Linear")]


def totals(rows):
    w = weight_layers(rows)
    return dict(
        parameters=sum(r["parameters"] for r in rows),
        neurons=sum(r["neurons"] for r in w),
        mult_adds=sum(r["mult_adds"] for r in rows),
    )
