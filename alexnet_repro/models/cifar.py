"""The small CIFAR-10 nets of cuda-convnet (the paper's footnote 3) that stand behind R1 and L3.

layers-19pct.cfg: conv1 32 5x5 pad 2 (linear) -> maxpool 3/2 -> act -> conv2 32 5x5 pad 2, act
-> avgpool 3/2 -> conv3 64 5x5 pad 2, act -> avgpool 3/2 -> fc10. Pools round up (ceil mode),
so 32 -> 16 -> 8 -> 4. This is R1's "four-layer CNN" (four weight layers).
"""

from torch import nn

from .alexnet import ACTIVATIONS
from .local import LocallyConnected2d
from .lrn import LocalResponseNorm

# cuda-convnet's initial weight std per layer for 19pct. Biases start at 0.
CUDA_CONVNET_INIT_STD = {"conv1": 1e-4, "conv2": 1e-2, "conv3": 1e-2, "fc10": 1e-2}
INITS = ("cuda_convnet", "torch_default")


class Net19pct(nn.Module):
    def __init__(self, activation="relu", init="cuda_convnet"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        act = ACTIVATIONS[activation]
        self.conv1 = nn.Conv2d(3, 32, 5, padding=2)
        self.conv2 = nn.Conv2d(32, 32, 5, padding=2)
        self.conv3 = nn.Conv2d(32, 64, 5, padding=2)
        self.fc10 = nn.Linear(64 * 4 * 4, 10)
        # cuda-convnet pools before the first nonlinearity; max and ReLU commute, max and tanh too.
        self.features = nn.Sequential(
            self.conv1,
            nn.MaxPool2d(3, 2, ceil_mode=True),
            act(),
            self.conv2,
            act(),
            nn.AvgPool2d(3, 2, ceil_mode=True),
            self.conv3,
            act(),
            nn.AvgPool2d(3, 2, ceil_mode=True),
        )
        if init == "cuda_convnet":
            for name, std in CUDA_CONVNET_INIT_STD.items():
                layer = getattr(self, name)
                nn.init.normal_(layer.weight, 0.0, std)
                nn.init.zeros_(layer.bias)

    def forward(self, x):
        return self.fc10(self.features(x).flatten(1))


# ---------------------------------------------------------------------------------------------- L3
# cuda-convnet's layers-conv-local-13pct.cfg and the first layers-conv-local-11pct.cfg (claim L3),
# as published in its example-layers/: initW conv1 0.0001, conv2 0.01,
# local3 0.04, local4 0.04, fc10 0.01; biases 0 (cuda-convnet's default initB). Input 24x24 crops.
CONV_LOCAL_INIT_STD = {"conv1": 1e-4, "conv2": 1e-2, "local3": 4e-2, "local4": 4e-2, "fc10": 1e-2}
# cmrnorm in the first conv-local-11pct: size=5, scale=0.001, pow=0.75. cuda-convnet divides the
# scale by the size (layer.py) and adds 1 (its k), i.e. b = a / (1 + 0.001/5 * sum a^2)^0.75.
CONV_LOCAL_LRN = dict(size=5, alpha=1e-3, beta=0.75, k=1.0, alpha_convention="per_size")


class NetConvLocal13pct(nn.Module):
    """conv-local-13pct (lrn=False) or the first conv-local-11pct (lrn=True), on 24x24 inputs:

        conv1 64 5x5 pad 2, ReLU [-> LRN] -> maxpool 3/2 (24 -> 12)
        conv2 64 5x5 pad 2, ReLU [-> LRN] -> maxpool 3/2 (12 -> 6)
        local3 32 3x3 pad 1, ReLU (unshared weights, 6x6) -> local4 32 3x3 pad 1, ReLU -> fc10

    Pools round up (ceil mode) as in cuda-convnet. The bracketed LRN layers are the only difference.
    """

    def __init__(self, lrn: bool = False, input_size=24):
        super().__init__()
        s2 = -(-(input_size - 3) // 2) + 1  # ceil-mode pool 3/2: 24 -> 12
        s3 = -(-(s2 - 3) // 2) + 1  # 12 -> 6
        self.conv1 = nn.Conv2d(3, 64, 5, padding=2)
        self.conv2 = nn.Conv2d(64, 64, 5, padding=2)
        self.local3 = LocallyConnected2d(64, 32, s3, 3, padding=1, init_std=CONV_LOCAL_INIT_STD["local3"])
        self.local4 = LocallyConnected2d(32, 32, s3, 3, padding=1, init_std=CONV_LOCAL_INIT_STD["local4"])
        self.fc10 = nn.Linear(32 * s3 * s3, 10)
        norm = lambda: [LocalResponseNorm(**CONV_LOCAL_LRN)] if lrn else []  # noqa: E731
        self.features = nn.Sequential(
            self.conv1,
            nn.ReLU(),
            *norm(),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            self.conv2,
            nn.ReLU(),
            *norm(),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            self.local3,
            nn.ReLU(),
            self.local4,
            nn.ReLU(),
        )
        for name in ("conv1", "conv2", "fc10"):
            layer = getattr(self, name)
            nn.init.normal_(layer.weight, 0.0, CONV_LOCAL_INIT_STD[name])
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        # local4's output is channels_last; fc10 reads it in cuda-convnet's (c, y, x) order
        return self.fc10(self.features(x).flatten(1))
