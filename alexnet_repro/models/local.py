"""A locally-connected layer: a convolution whose weights are not shared across positions.

cuda-convnet's `type=local` layer (its conv-local CIFAR-10 nets, claim L3): every output position (y, x) has its own
filter bank and its own bias per filter; PyTorch has no such layer. The k x k x C patch under every output position is
gathered once (one copy from the NHWC storage of a channels_last input), then one batched matmul over positions:

    out[l] = bias[l] + patches[l] @ weight[l]     patches (L, N, C*k*k), weight (L, C*k*k, O)

The output is channels_last, like the convolutions around it. The patch axis is ordered (c, ky, kx), as in Conv2d's
weight.view(O, -1): a shared Conv2d weight maps to weight[l] = w.view(O, -1).T.
"""

import torch
import torch.nn.functional as F
from torch import nn


class _ContiguousGrad(torch.autograd.Function):
    """Identity whose backward makes the incoming gradient contiguous. The gradient that reaches the batched matmul
    comes back through the output's layout change, and with some upstream layouts (a plain NCHW gradient) it has no unit
    stride in its last two dims; CPU bmm then falls back to a naive kernel ~100x slower. One small copy avoids that."""

    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return g.contiguous()


class LocallyConnected2d(nn.Module):
    """Unshared-weight k x k convolution, stride 1 (all cuda-convnet's CIFAR nets use), zero padding, on a square
    in_size x in_size input. weight: (out_h*out_w, in_channels*k*k, out_channels); bias: 1-d, ordered (position,
    filter), so that `optim.param_groups` treats it as a bias (no decay). Initialized as cuda-convnet does: weights
    N(0, init_std^2), biases 0."""

    def __init__(self, in_channels, out_channels, in_size, kernel, padding=0, init_std=0.01):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.in_size, self.kernel, self.padding = (in_size, in_size), kernel, padding
        self.out_size = tuple(s + 2 * padding - kernel + 1 for s in self.in_size)
        if min(self.out_size) < 1:
            raise ValueError(f"kernel {kernel} with padding {padding} does not fit a {self.in_size} input")
        positions = self.out_size[0] * self.out_size[1]
        self.weight = nn.Parameter(torch.empty(positions, in_channels * kernel * kernel, out_channels))
        self.bias = nn.Parameter(torch.zeros(positions * out_channels))
        self.init_std = init_std
        nn.init.normal_(self.weight, 0.0, init_std)

    def patches(self, x):
        """(N, C, H, W) -> (L, N, C*k*k): the receptive field of every output position."""
        n, c, h, w = x.shape
        if (c, h, w) != (self.in_channels, *self.in_size):
            raise ValueError(
                f"expected (N, {self.in_channels}, {self.in_size[0]}, {self.in_size[1]}) input, got {tuple(x.shape)}"
            )
        k, p = self.kernel, self.padding
        nhwc = x.permute(0, 2, 3, 1)  # free for a channels_last input
        if p:
            nhwc = F.pad(nhwc, (0, 0, p, p, p, p))
        win = nhwc.unfold(1, k, 1).unfold(2, k, 1)  # (N, Ho, Wo, C, k, k), a view
        return win.permute(1, 2, 0, 3, 4, 5).reshape(-1, n, c * k * k)  # the one copy

    def forward(self, x):
        n = x.shape[0]
        ho, wo = self.out_size
        cols = self.patches(x)  # (L, N, K)
        bias = self.bias.view(-1, 1, self.out_channels).expand(-1, n, -1)  # (L, N, O)
        out = _ContiguousGrad.apply(torch.baddbmm(bias, cols, self.weight))  # (L, N, O)
        # (L, N, O) -> storage (N, L, O) = NHWC -> an NCHW view in channels_last format
        return out.transpose(0, 1).contiguous().view(n, ho, wo, self.out_channels).permute(0, 3, 1, 2)

    def extra_repr(self):
        return (
            f"{self.in_channels}, {self.out_channels}, in_size={self.in_size}, kernel={self.kernel}, "
            f"padding={self.padding}, out_size={self.out_size}, init_std={self.init_std}"
        )
