import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from alexnet_repro.models.lrn import LocalResponseNorm, channel_window_sum


def naive_lrn(a, n, alpha, beta, k, convention):
    """The paper's formula, one map at a time."""
    alpha = alpha / n if convention == "per_size" else alpha
    N = a.shape[1]
    b = torch.empty_like(a)
    for i in range(N):
        lo, hi = max(0, i - n // 2), min(N - 1, i + n // 2)
        s = sum(a[:, j] ** 2 for j in range(lo, hi + 1))
        b[:, i] = a[:, i] / (k + alpha * s) ** beta
    return b


def activations(*shape, scale=30.0, seed=0, dtype=torch.float64):
    # large enough that the alpha term matters: with alpha=1e-4 and O(1) inputs every LRN
    # variant is ~ a / k^beta and the comparisons below could not tell conventions apart
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=dtype) * scale).relu()


@pytest.mark.parametrize("convention", ["paper", "per_size"])
@pytest.mark.parametrize("channels,n", [(11, 5), (3, 5), (8, 3), (1, 5)])
def test_matches_naive_formula(convention, channels, n):
    a = activations(2, channels, 4, 3)
    ours = LocalResponseNorm(n, 1e-4, 0.75, 2.0, alpha_convention=convention)(a)
    torch.testing.assert_close(ours, naive_lrn(a, n, 1e-4, 0.75, 2.0, convention))


def test_conventions_differ_by_factor_n():
    a = activations(2, 11, 4, 3)
    paper = LocalResponseNorm(alpha_convention="paper")(a)
    per_size = LocalResponseNorm(alpha_convention="per_size")(a)
    assert (paper - per_size).abs().max() > 1e-2 * a.abs().max() / 2**0.75
    torch.testing.assert_close(per_size, LocalResponseNorm(alpha=1e-4 / 5, alpha_convention="paper")(a))


def test_default_is_per_size():
    assert LocalResponseNorm().alpha_convention == "per_size"


@pytest.mark.parametrize("convention,torch_alpha", [("per_size", 1e-4), ("paper", 5e-4)])
def test_matches_torch_local_response_norm(convention, torch_alpha):
    a = activations(2, 16, 5, 5).requires_grad_(True)
    a2 = a.detach().clone().requires_grad_(True)
    ours = LocalResponseNorm(5, 1e-4, 0.75, 2.0, alpha_convention=convention)(a)
    ref = torch.nn.LocalResponseNorm(5, torch_alpha, 0.75, 2.0)(a2)
    torch.testing.assert_close(ours, ref)
    g = torch.randn_like(ours)
    ours.backward(g)
    ref.backward(g)
    torch.testing.assert_close(a.grad, a2.grad)


@pytest.mark.parametrize("convention", ["paper", "per_size"])
def test_gradcheck(convention):
    a = activations(2, 7, 3, 2, scale=10.0).requires_grad_(True)
    # large alpha so the cross-map part of the Jacobian is not negligible
    lrn = LocalResponseNorm(5, 0.05, 0.75, 2.0, alpha_convention=convention)
    assert torch.autograd.gradcheck(lrn, (a,))


def test_channels_last_same_values_and_layout():
    a = activations(2, 12, 6, 5, dtype=torch.float32)
    a_cl = a.contiguous(memory_format=torch.channels_last).requires_grad_(True)
    a_c = a.clone().requires_grad_(True)
    lrn = LocalResponseNorm()
    out_cl, out_c = lrn(a_cl), lrn(a_c)
    assert out_cl.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out_cl, out_c)
    g = torch.randn_like(out_c)
    out_cl.backward(g)
    out_c.backward(g)
    assert a_cl.grad.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(a_cl.grad, a_c.grad)


def test_window_sum_truncates_at_the_ends():
    x = torch.arange(1.0, 6.0).view(1, 5, 1, 1)
    assert channel_window_sum(x, 5).flatten().tolist() == [6.0, 10.0, 15.0, 14.0, 12.0]


def test_even_size_rejected():
    with pytest.raises(ValueError):
        LocalResponseNorm(size=4)


class OpRecorder(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.add(str(func.overloadpacket))
        return func(*args, **(kwargs or {}))


def ops_of(lrn, a):
    a = a.clone().requires_grad_(True)
    with OpRecorder() as rec:
        lrn(a).sum().backward()
    return rec.ops


def test_no_nondeterministic_ops():
    # avg_pool3d's CUDA backward is nondeterministic: torch's LRN uses it, ours must not
    a = activations(2, 8, 4, 4, dtype=torch.float32)
    assert any("avg_pool3d" in op for op in ops_of(torch.nn.LocalResponseNorm(5), a))
    assert not any("pool" in op for op in ops_of(LocalResponseNorm(), a))


def test_runs_under_deterministic_algorithms():
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    was = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        for device in devices:
            a = activations(2, 16, 5, 5, dtype=torch.float32).to(device).requires_grad_(True)
            grads = []
            for _ in range(2):
                a.grad = None
                LocalResponseNorm()(a).pow(2).sum().backward()
                grads.append(a.grad.clone())
            assert torch.equal(grads[0], grads[1])
    finally:
        torch.use_deterministic_algorithms(was)


def test_bf16_maps_are_normalized_in_fp32_within_bf16_rounding():
    """Under bf16 autocast LRN gets bf16 maps; it computes in fp32 (a bf16 denominator ~2 would round the
    normalization away) with the window sum as a matmul. Forward and backward agree with the fp32 layer to bf16's
    rounding (2^-8), on activations large enough that LRN is far from its constant k^-beta."""
    a = activations(8, 24, 6, 6, dtype=torch.float32).contiguous(memory_format=torch.channels_last)
    ref_in, bf_in = a.clone().requires_grad_(), a.to(torch.bfloat16).requires_grad_()
    lrn = LocalResponseNorm()
    ref, out = lrn(ref_in), lrn(bf_in)
    assert out.dtype == torch.bfloat16 and out.is_contiguous(memory_format=torch.channels_last)
    assert ((ref - a / 2**0.75).abs().max() / ref.abs().max()) > 0.05  # the test's inputs exercise the layer
    assert ((out.float() - ref).abs().max() / ref.abs().max()) < 2**-7
    g = torch.randn(ref.shape, generator=torch.Generator().manual_seed(1))
    (ref * g).sum().backward()
    (out.float() * g).sum().backward()
    assert ((bf_in.grad.float() - ref_in.grad).abs().max() / ref_in.grad.abs().max()) < 2**-7


@pytest.mark.parametrize("layout", [torch.channels_last, torch.contiguous_format])
def test_bf16_lrn_inside_a_compiled_net_gives_the_eager_gradients(layout, monkeypatch):
    """The fast path compiles the whole net (engine's TrainSpec.compile, benchmarks/gpu_throughput.py); the bf16
    LRN must trace inside it. It once saved a view of its input for backward, which dynamo refuses: every compiled
    bf16 net with LRN failed on its first step. Fresh fused wrappers, first called inside the compiled net, as in a
    new process."""
    from torch import nn

    from alexnet_repro.models import lrn

    monkeypatch.setattr(lrn, "_BF16_FORWARD", lrn._fused(lrn._bf16_forward))
    monkeypatch.setattr(lrn, "_BF16_BACKWARD", lrn._fused(lrn._bf16_backward))
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), LocalResponseNorm(), nn.Conv2d(16, 4, 3))
    x = activations(2, 3, 10, 10, scale=3.0, dtype=torch.float32).contiguous(memory_format=layout)
    grads = []
    for model in (torch.compile(net, backend="aot_eager", dynamic=False), net):  # compiled first, as a run does
        net.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y = model(x)
        y.float().square().sum().backward()
        grads.append(net[0].weight.grad.clone())
    assert y.dtype == torch.bfloat16
    assert torch.allclose(grads[0], grads[1], rtol=1e-2, atol=1e-3 * grads[0].abs().max().item())
