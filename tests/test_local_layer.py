"""LocallyConnected2d: a convolution with unshared weights (cuda-convnet's `local` layer, claim L3)."""

import time

import pytest
import torch
import torch.nn.functional as F

from alexnet_repro.models.local import LocallyConnected2d


def slow_local(x, weight, bias, out_channels, kernel, padding):
    """The definition, one output position at a time: out[n, o, y, x] = bias[y, x, o] +
    sum_{c, ky, kx} w[y, x, (c, ky, kx), o] * xpad[n, c, y + ky, x + kx]."""
    n, c, h, w = x.shape
    xp = F.pad(x, (padding,) * 4)
    ho, wo = h + 2 * padding - kernel + 1, w + 2 * padding - kernel + 1
    out = torch.empty(n, out_channels, ho, wo, dtype=x.dtype)
    b = bias.view(ho, wo, out_channels)
    for yy in range(ho):
        for xx in range(wo):
            patch = xp[:, :, yy : yy + kernel, xx : xx + kernel].reshape(n, -1)  # (c, ky, kx) order
            out[:, :, yy, xx] = patch @ weight[yy * wo + xx] + b[yy, xx]
    return out


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("c_in,c_out,size,k,pad", [(5, 4, 6, 3, 1), (3, 2, 5, 3, 0), (4, 3, 7, 5, 2)])
def test_shared_weights_equal_conv2d(c_in, c_out, size, k, pad, channels_last):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(c_in, c_out, k, padding=pad)
    local = LocallyConnected2d(c_in, c_out, size, k, padding=pad)
    with torch.no_grad():
        local.weight.copy_(conv.weight.reshape(c_out, -1).T.expand_as(local.weight))
        local.bias.copy_(conv.bias.repeat(local.out_size[0] * local.out_size[1]))
    x = torch.randn(3, c_in, size, size)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    out = local(x)
    torch.testing.assert_close(out, conv(x), rtol=1e-5, atol=1e-5)
    assert out.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("c_in,c_out,size,k,pad", [(4, 3, 6, 3, 1), (2, 5, 5, 3, 0), (3, 2, 4, 3, 2)])
def test_unshared_weights_match_the_explicit_loop(c_in, c_out, size, k, pad):
    torch.manual_seed(1)
    local = LocallyConnected2d(c_in, c_out, size, k, padding=pad, init_std=0.5).double()
    with torch.no_grad():
        local.bias.normal_()
    x = torch.randn(2, c_in, size, size, dtype=torch.float64)
    expected = slow_local(x, local.weight, local.bias, c_out, k, pad)
    torch.testing.assert_close(local(x), expected)
    torch.testing.assert_close(local(x.contiguous(memory_format=torch.channels_last)), expected)
    # the weights really are unshared: changing one position's filter changes that position only
    before = local(x).detach()
    with torch.no_grad():
        local.weight[0].add_(1.0)
    diff = (local(x) - before).abs().sum((0, 1))
    assert diff[0, 0] > 0 and diff.flatten()[1:].abs().max() == 0


def test_gradients_by_gradcheck():
    torch.manual_seed(2)
    local = LocallyConnected2d(2, 3, 4, 3, padding=1, init_std=0.3).double()
    with torch.no_grad():
        local.bias.normal_()
    x = torch.randn(2, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    fn = lambda x, w, b: torch.func.functional_call(local, {"weight": w, "bias": b}, (x,))  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, local.weight, local.bias))


def test_init_shapes_and_errors():
    torch.manual_seed(0)
    layer = LocallyConnected2d(64, 32, 6, 3, padding=1, init_std=0.04)
    assert layer.weight.shape == (36, 64 * 9, 32) and layer.bias.shape == (36 * 32,)
    assert abs(layer.weight.std().item() - 0.04) < 1e-3 and torch.all(layer.bias == 0)
    with pytest.raises(ValueError, match="expected"):
        layer(torch.zeros(1, 64, 7, 7))
    with pytest.raises(ValueError, match="does not fit"):
        LocallyConnected2d(3, 3, 2, 5)


def test_speed_against_conv2d_of_the_same_shape(capsys):
    """Not a tight benchmark (the CPU may be shared): prints the ratio, and fails only on a
    pathological slowdown such as CPU bmm's naive fallback for odd gradient strides (~20x, which
    LocallyConnected2d's _ContiguousGrad avoids). Measured on the 2-core dev box with other jobs
    running: local3's shape (128 x 64 x 6 x 6 -> 32, 3x3 pad 1), forward + backward, ~160-190 ms vs
    ~60-70 ms for Conv2d, ~2.6x (the same FLOPs, but 36x the weights, a batched matmul below
    oneDNN's convolution throughput, and the patch gather/scatter). In the whole L3 net the two
    local layers are ~15% of a training step; conv2 dominates."""
    torch.manual_seed(0)
    local = LocallyConnected2d(64, 32, 6, 3, padding=1)
    conv = torch.nn.Conv2d(64, 32, 3, padding=1).to(memory_format=torch.channels_last)
    x = torch.randn(128, 64, 6, 6).contiguous(memory_format=torch.channels_last).requires_grad_()

    def once(m):
        t = time.perf_counter()
        m(x).sum().backward()
        return time.perf_counter() - t

    # The fastest of interleaved repeats: another job sharing the CPU slows some repeats, not the best one.
    once(local), once(conv)
    pairs = [(once(local), once(conv)) for _ in range(7)]
    t_local, t_conv = min(p[0] for p in pairs), min(p[1] for p in pairs)
    with capsys.disabled():
        print(
            f"\nlocal3 shape fwd+bwd: LocallyConnected2d {t_local * 1e3:.1f} ms, Conv2d {t_conv * 1e3:.1f} ms "
            f"({t_local / t_conv:.1f}x)"
        )
    assert t_local < 12 * t_conv
