"""The 2012 ImageNet net, paper section 3.5 and Figure 2, with switches for the ablations.

Paper default (AlexNetConfig()):

    input 3x227x227
    conv1  96 11x11x3   stride 4      -> ReLU -> LRN -> maxpool 3/2     both columns see the image
    conv2 256 5x5x48    pad 2         -> ReLU -> LRN -> maxpool 3/2     own column (groups=2)
    conv3 384 3x3x256   pad 1         -> ReLU                           sees both columns
    conv4 384 3x3x192   pad 1         -> ReLU                           own column (groups=2)
    conv5 256 3x3x192   pad 1         -> ReLU -> maxpool 3/2            own column (groups=2)
    fc6 4096 -> ReLU -> dropout, fc7 4096 -> ReLU -> dropout, fc8 num_classes (softmax in the loss)

Two columns ("GPUs", section 3.2) are computed on one device with grouped convolutions: channels [0, C/2) of every
conv layer are column 0, [C/2, C) column 1, and a groups=2 conv connects each half of the outputs only to the same
half of the inputs, the paper's restricted connectivity. So conv1.weight[:48] are column 0's kernels (claim Q1).
TwoDeviceAlexNet runs the same function with each column on its own device and takes its weights from this form.

Dropout: the paper "sets to zero the output of each hidden neuron with probability 0.5 ... in the first two
fully-connected layers": the outputs of fc6 and fc7, as in Caffe's bvlc_alexnet (torchvision's alexnet drops the
inputs of fc6 and fc7 instead).

Input size: the paper says 224, but (224 - 11)/4 + 1 is not an integer; 227 gives 55 exactly. At 224 conv1 gets
padding 2 (as torchvision): (224 + 4 - 11)//4 + 1 = 55, the last padded row and column never reached, i.e. a 227x227
image with a zero border.

The CIFAR-10 AlexNet (stem="cifar", `cifar_alexnet_config`): the same net, switches and columns, for 24x24 crops of
32x32 images. Only the stem differs: conv1 is 5x5 stride 1 padding 2 (11x11/4 would leave 3x3 maps), and the 3/2
pools get padding 1 so that 3/2 and 2/2 pooling give the same map sizes, 24 -> 12 -> 6 -> 3, as they do at 227 (O1
then changes only the pooling, not fc6's input). The FC layers are `fc_width` wide (4096 in the paper).
"""

from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn

from .lrn import ALPHA_CONVENTIONS, LocalResponseNorm

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}
POOLINGS = {"overlapping": (3, 2), "non_overlapping": (2, 2)}  # (size z, stride s), section 3.4


@dataclass
class AlexNetConfig:
    activation: str = "relu"  # R1: "tanh" for the saturating baseline
    normalization: str = "lrn"  # L2: "none"; BN: "batchnorm" (in the same place as LRN)
    pooling: str = "overlapping"  # O1: "non_overlapping" is 2/2 (same output sizes at 227)
    columns: str = "two"  # M1: "half" is the one-GPU net of footnote 2
    dropout: float = 0.5  # DR1: 0.0 removes it
    remove: Optional[str] = None  # E5: drop one middle conv layer
    width: float = 1.0  # proxy scales: multiplies every conv/FC width
    input_size: int = 227  # 227, or 224 with padding 2 on conv1 (see module docstring)
    num_classes: int = 1000
    lrn_alpha_convention: str = "per_size"  # see lrn.py for why
    init_std: float = 0.01  # T3: weights ~ N(0, 0.01)
    hidden_bias: float = 1.0  # T3: the biases of conv2, conv4, conv5, fc6, fc7 (Caffe's net: 0.1)
    stem: str = "imagenet"  # "cifar": conv1 5x5/1 and padded 3/2 pools (module docstring)
    fc_width: Optional[int] = None  # fc6/fc7 units; None: 4096 x width

    def __post_init__(self):
        checks = [
            ("activation", self.activation, tuple(ACTIVATIONS)),
            ("normalization", self.normalization, ("lrn", "batchnorm", "none")),
            ("pooling", self.pooling, tuple(POOLINGS)),
            ("columns", self.columns, ("two", "one", "half")),
            ("remove", self.remove, (None, "conv3", "conv4", "conv5")),
            ("stem", self.stem, ("imagenet", "cifar")),
            ("lrn_alpha_convention", self.lrn_alpha_convention, ALPHA_CONVENTIONS),
        ]
        for name, value, allowed in checks:
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.width <= 0:
            raise ValueError(f"width must be positive, got {self.width}")
        if feature_size(self) < 1:
            raise ValueError(f"input_size {self.input_size} is too small: nothing left after pool5")

    @property
    def conv1(self):
        """(kernel, stride, padding) of conv1."""
        if self.stem == "cifar":
            return 5, 1, 2
        # padding 0 where the 11x11/4 windows tile the image exactly (227, 99, 67, ...), else 2 (224)
        return 11, 4, 0 if (self.input_size - 11) % 4 == 0 else 2

    @property
    def conv1_padding(self):
        return self.conv1[2]

    @property
    def pool(self):
        """(size, stride, padding) of every max-pooling layer."""
        z, s = POOLINGS[self.pooling]
        return z, s, 1 if self.stem == "cifar" and z == 3 else 0


@dataclass
class ConvSpec:
    name: str
    in_channels: int
    out_channels: int
    kernel: int
    stride: int
    padding: int
    groups: int  # 2: sees only its own column; 1: sees everything below it
    bias: float  # T3: initial bias
    norm: bool  # LRN (or its substitute) after the nonlinearity
    pool: bool  # max-pooling after that


def scaled(n, width):
    """A layer width times the proxy multiplier, kept even so it splits into two columns."""
    return max(2, 2 * round(n * width / 2))


def conv_plan(cfg):
    """The conv layers of the configured net, in order, with their channel counts resolved."""
    c1, c2, c3, c4, c5 = (scaled(n, cfg.width) for n in (96, 256, 384, 384, 256))
    if cfg.columns == "half":  # footnote 2: half the kernels in conv1-4; conv5 and the FCs stay full
        c1, c2, c3, c4 = c1 // 2, c2 // 2, c3 // 2, c4 // 2
    own = 2 if cfg.columns == "two" else 1
    plan = [
        ConvSpec("conv1", 3, c1, *cfg.conv1, 1, 0.0, norm=True, pool=True),
        ConvSpec("conv2", c1, c2, 5, 1, 2, own, 1.0, norm=True, pool=True),
        ConvSpec("conv3", c2, c3, 3, 1, 1, 1, 0.0, norm=False, pool=False),
        ConvSpec("conv4", c3, c4, 3, 1, 1, own, 1.0, norm=False, pool=False),
        ConvSpec("conv5", c4, c5, 3, 1, 1, own, 1.0, norm=False, pool=True),
    ]
    if cfg.remove is not None:
        # The remaining layers keep their kernel counts and column connectivity; the next
        # layer's input width follows from what is now below it. Without conv3 the columns
        # first meet at fc6; without conv5 pool5 (and fc6) take conv4's 384 maps.
        plan = [s for s in plan if s.name != cfg.remove]
        for below, spec in zip(plan, plan[1:]):
            spec.in_channels = below.out_channels
        plan[-1].pool = True
    return plan


def feature_size(cfg):
    """Side of the last pooled feature map (6 for 227 and 224; 3 for the CIFAR stem at 24)."""
    (k, stride, pad), (z, s, zpad) = cfg.conv1, cfg.pool
    side = (cfg.input_size + 2 * pad - k) // stride + 1  # conv1; the others keep the size
    for _ in range(3):  # pool1, pool2, pool5
        side = (side + 2 * zpad - z) // s + 1
    return side


def column_split(n):
    """How n output units are split between column 0 and 1 (column 0 takes the odd one)."""
    return [n - n // 2, n // 2]


def make_layers(cfg, column=None):
    """(features, classifier) of the whole grouped net (column=None) or one column of it (0, 1).

    A column's layers have the same names as the whole net's and hold its slice of the
    output units, so a grouped state_dict splits into the columns' along dim 0.
    """
    if column is not None and cfg.columns != "two":
        raise ValueError("only the two-column net has columns to split")
    act = ACTIVATIONS[cfg.activation]

    def part(n):
        return n if column is None else column_split(n)[column]

    plan, features = conv_plan(cfg), OrderedDict()
    for spec in plan:
        k = spec.name[-1]
        in_ch, groups = spec.in_channels, spec.groups
        if column is not None and groups == 2:
            in_ch, groups = in_ch // 2, 1  # own column: only its half of the maps below
        out_ch = part(spec.out_channels)
        features[spec.name] = nn.Conv2d(in_ch, out_ch, spec.kernel, spec.stride, spec.padding, groups=groups)
        features[f"act{k}"] = act()
        if spec.norm and cfg.normalization == "lrn":
            features[f"norm{k}"] = LocalResponseNorm(5, 1e-4, 0.75, 2.0, cfg.lrn_alpha_convention)
        elif spec.norm and cfg.normalization == "batchnorm":
            features[f"norm{k}"] = nn.BatchNorm2d(out_ch)
        if spec.pool:
            features[f"pool{k}"] = nn.MaxPool2d(*cfg.pool)

    f, classifier = cfg.fc_width or scaled(4096, cfg.width), OrderedDict()
    fc6_in = plan[-1].out_channels * feature_size(cfg) ** 2
    for k, (n_in, n_out) in zip("678", [(fc6_in, f), (f, f), (f, cfg.num_classes)]):
        classifier[f"fc{k}"] = nn.Linear(n_in, part(n_out))  # every FC layer sees both columns
        if k != "8":
            classifier[f"act{k}"] = act()
            classifier[f"drop{k}"] = nn.Dropout(cfg.dropout)
    return nn.Sequential(features), nn.Sequential(classifier)


class AlexNet(nn.Module):
    def __init__(self, cfg=None):
        super().__init__()
        self.cfg = cfg = cfg or AlexNetConfig()
        self.features, self.classifier = make_layers(cfg)
        # T3: weights ~ N(0, init_std); biases 1 (cfg.hidden_bias) in conv2, conv4, conv5, fc6, fc7, else 0
        bias = {spec.name: spec.bias * cfg.hidden_bias for spec in conv_plan(cfg)}
        bias |= {"fc6": cfg.hidden_bias, "fc7": cfg.hidden_bias, "fc8": 0.0}
        for name, m in [*self.features.named_children(), *self.classifier.named_children()]:
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, cfg.init_std)
                nn.init.constant_(m.bias, bias[name])

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def build_alexnet(cfg=None):
    return AlexNet(cfg)


# The CIFAR-10 AlexNet's size (measured on the 2-core CPU: see claims/cifar_family.py): a quarter of
# the paper's kernels per layer (24-64-96-96-64) and FC layers of 1024, for 24x24 crops.
CIFAR_ALEXNET = dict(stem="cifar", width=0.25, fc_width=1024, input_size=24, num_classes=10)


def cifar_alexnet_config(**switches) -> AlexNetConfig:
    """The CIFAR-10 AlexNet with the paper's switches, overridden by `switches` (any AlexNetConfig field)."""
    return AlexNetConfig(**{**CIFAR_ALEXNET, **switches})


class TwoDeviceAlexNet(nn.Module):
    """The two-column net with column c on devices[c]: the paper's model parallelism.

    Each column holds half the kernels of every conv layer and half the neurons of every FC layer (fc8: 500 + 500
    logits). The columns exchange activations only where the paper's GPUs communicate: before conv3 (each column's conv3
    sees both columns' conv2 maps), and before fc6, fc7 and fc8 (each FC layer sees all units below it). The logits are
    gathered on devices[0]. Dropout masks are drawn per column, so train-mode outputs with dropout > 0 match the grouped
    net only in distribution; eval mode and dropout=0 match exactly, but for LRN: here each column's window sums its own
    maps only, as on the paper's GPUs, while the grouped net's windows straddle the middle maps of conv1 and conv2 (the
    two differ where alpha * sum(a^2) is not small beside k, i.e. for large activations).

    Its state_dict is the grouped net's, and load_state_dict takes one: a checkpoint of either form loads into both,
    so whatever reads a trained net builds the grouped one.
    """

    def __init__(self, cfg=None, devices=("cpu", "cpu")):
        super().__init__()
        self.cfg = cfg or AlexNetConfig()
        if self.cfg.columns != "two":
            raise ValueError(f"TwoDeviceAlexNet needs columns='two', got {self.cfg.columns!r}")
        self.devices = [torch.device(d) for d in devices]
        grouped = AlexNet(self.cfg)  # built first: the seed that built a grouped net gives this one its weights
        self.columns = nn.ModuleList()
        for c, device in enumerate(self.devices):
            features, classifier = make_layers(self.cfg, column=c)
            self.columns.append(nn.ModuleDict({"features": features, "classifier": classifier}).to(device))
        # layers fed by both columns; conv1 is not one of them: each device gets the whole image
        self.exchange_before = {s.name for s in conv_plan(self.cfg)[1:] if s.groups == 1}
        self.exchange_before |= {"fc6", "fc7", "fc8"}
        self.load_state_dict(grouped.state_dict())

    def _exchange(self, h):
        """Each device gets [column 0, column 1] concatenated along the channel/feature dim."""
        d0, d1 = self.devices
        return [torch.cat([h[0], h[1].to(d0)], 1), torch.cat([h[0].to(d1), h[1]], 1)]

    def _run(self, part, h):
        for name, _ in self.columns[0][part].named_children():
            if name in self.exchange_before:
                h = self._exchange(h)
            h = [getattr(col[part], name)(x) for col, x in zip(self.columns, h)]
        return h

    def forward(self, x):
        h = self._run("features", [x.to(d) for d in self.devices])
        h = self._run("classifier", [x.flatten(1) for x in h])
        return torch.cat([h[0], h[1].to(self.devices[0])], 1)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Weights (and BN statistics) from a grouped AlexNet's state_dict (columns='two'), split along dim 0."""
        for c, col in enumerate(self.columns):
            col.load_state_dict(
                {k: t if t.dim() == 0 else torch.split(t, column_split(t.shape[0]))[c] for k, t in state_dict.items()}
            )

    def state_dict(self, *args, **kwargs):
        """The grouped net's state_dict, which AlexNet(cfg).load_state_dict accepts."""
        s0, s1 = (col.state_dict() for col in self.columns)
        return {key: s0[key] if t.dim() == 0 else torch.cat([t.cpu(), s1[key].cpu()]) for key, t in s0.items()}


def two_devices_for(device) -> tuple:
    """(device, the next GPU) when `device` is a GPU with another after it, for the two-column net
    to train with its columns apart, as the paper's did; else None (one device, grouped convolutions)."""
    device = torch.device(device)
    if device.type != "cuda":
        return None
    index = device.index if device.index is not None else torch.cuda.current_device()
    return (
        (torch.device("cuda", index), torch.device("cuda", index + 1))
        if index + 1 < torch.cuda.device_count()
        else None
    )


def build_for_training(cfg, device, devices=None):
    """The net to train, channels_last: on `device`, or, given two `devices` and two columns, with
    each column on its own device (TwoDeviceAlexNet, the same function: see its docstring)."""
    if devices and cfg.columns == "two":
        return TwoDeviceAlexNet(cfg, devices).to(memory_format=torch.channels_last)
    return build_alexnet(cfg).to(device, memory_format=torch.channels_last)
