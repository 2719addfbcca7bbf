"""The small CIFAR-10 nets of cuda-convnet that stand behind R1 (CLAIMS.md section C).

layers-19pct.cfg: conv1 32 5x5 pad 2 (linear) -> maxpool 3/2 -> act -> conv2 32 5x5 pad 2, act
-> avgpool 3/2 -> conv3 64 5x5 pad 2, act -> avgpool 3/2 -> fc10. Pools round up (ceil mode),
so 32 -> 16 -> 8 -> 4. This is R1's "four-layer CNN" (four weight layers).
"""
import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}

# cuda-convnet's initial weight std per layer for 19pct. Biases start at 0.
CUDA_CONVNET_INIT_STD = {"conv1": 1e-4, "conv2": 1e-2, "conv3": 1e-2, "fc10": 1e-2}
INITS = ("cuda_convnet", "torch_default")


class Net19pct(nn.Module):
    def __init__(self, activation="relu", init="cuda_convnet", num_classes=10):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        act = ACTIVATIONS[activation]
        self.conv1 = nn.Conv2d(3, 32, 5, padding=2)
        self.conv2 = nn.Conv2d(32, 32, 5, padding=2)
        self.conv3 = nn.Conv2d(32, 64, 5, padding=2)
        self.fc10 = nn.Linear(64 * 4 * 4, num_classes)
        self.features = nn.Sequential(
            self.conv1, nn.MaxPool2d(3, 2, ceil_mode=True), act(),   # cuda-convnet pools before the
            self.conv2, act(), nn.AvgPool2d(3, 2, ceil_mode=True),   # first nonlinearity; max and ReLU
            self.conv3, act(), nn.AvgPool2d(3, 2, ceil_mode=True),   # commute, max and tanh too.
        )
        if init == "cuda_convnet":
            for name, std in CUDA_CONVNET_INIT_STD.items():
                layer = getattr(self, name)
                nn.init.normal_(layer.weight, 0.0, std)
                nn.init.zeros_(layer.bias)

    def forward(self, x):
        return self.fc10(self.features(x).flatten(1))
