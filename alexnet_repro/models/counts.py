"""Per-layer table of the net: shapes, neurons, parameters, multiply-adds (claims A2-A4, 227).

The architecture claim writes it as layers.csv. The paper default (two columns, 1000 classes) has the same counts at
227 and 224 (224 pads conv1 by 2): 60,965,224 parameters; 659,272 neurons in the conv and FC layers; 724M mult-adds.

Against the paper: 60M parameters (A3) holds; 650,000 neurons holds (659,272); Fig. 2's per-layer counts match from
conv2 on, but conv1 has 290,400 = 55*55*96, not 253,440 (which is no product of 96 maps of any square size); conv3
(1.45% of the parameters) and conv4 (1.09%) hold more than the 1% of A4 claims.
"""

import dataclasses

import torch
from torch import nn

from .alexnet import AlexNet, AlexNetConfig


def _mult_adds(module, out):
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return out[0].numel() * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features
    return 0


def layer_table(model_or_cfg, input_size=None):
    """One dict per layer, in forward order, for one image.

    Keys: layer, kind, output_shape, neurons (output elements per image), parameters, param_share (fraction of all
    parameters), mult_adds. The first row is the input. A config is traced on the meta device (no memory, no compute); a
    model runs one zero image in eval mode.
    """
    if isinstance(model_or_cfg, AlexNetConfig):
        cfg = model_or_cfg
        if input_size is not None:
            cfg = dataclasses.replace(cfg, input_size=input_size)
        with torch.device("meta"):
            model = AlexNet(cfg)
    else:
        model = model_or_cfg
        cfg = model.cfg
        if input_size is not None and input_size != cfg.input_size:
            raise ValueError(f"model was built for {cfg.input_size}px input; got input_size={input_size}")
    device = next(model.parameters()).device
    x = torch.zeros(1, 3, cfg.input_size, cfg.input_size, device=device)

    shape = tuple(x.shape[1:])
    rows = [dict(layer="input", kind="input", output_shape=shape, neurons=x[0].numel(), parameters=0, mult_adds=0)]
    hooks = []
    for name, m in model.named_modules():
        if len(list(m.children())) == 0:

            def hook(m, inp, out, name=name.split(".")[-1]):
                rows.append(
                    dict(
                        layer=name,
                        kind=type(m).__name__,
                        output_shape=tuple(out.shape[1:]),
                        neurons=out[0].numel(),
                        parameters=sum(p.numel() for p in m.parameters()),
                        mult_adds=_mult_adds(m, out),
                    )
                )

            hooks.append(m.register_forward_hook(hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
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
