"""Local response normalization, paper section 3.3 (claim L1).

    b^i_{x,y} = a^i_{x,y} / (k + alpha' * sum_{j=max(0, i-n/2)}^{min(N-1, i+n/2)} (a^j_{x,y})^2)^beta

with k=2, n=5, alpha=1e-4, beta=0.75; near the first and last map the window is cut off (no wrap-around).

Which alpha'? The paper prints alpha, but cuda-convnet, whose runs produced the paper's numbers, divides the
configured scale by the window size (layer.py: `dic['scale'] /= dic['size']`), as Caffe's bvlc_alexnet and
torch.nn.LocalResponseNorm do. alpha_convention="per_size" (the default: what was run) uses alpha' = alpha / n,
"paper" alpha' = alpha (the formula as printed). With k=2 either is close to a constant 2^-0.75 scale unless
activations are large.

The window sum is explicit shifted in-place adds (avg_pool3d has a nondeterministic CUDA backward) inside an autograd
Function whose backward is the formula's derivative: deterministic, memory-format preserving, free of autograd's
temporaries. A bf16 input (autocast) takes `_BF16LRNFunction`, computed in fp32 (bf16 resolves k + alpha' * sum ~ 2
only to 1/64, which would round the normalization away) on the (N*H*W, C) matrix of its maps, the window sum one
matmul with a 0/1 band matrix.
"""

import warnings

import torch
from torch import nn
from torch.autograd.function import once_differentiable

ALPHA_CONVENTIONS = ("per_size", "paper")


def channel_window_sum(x, size, dim=1):
    """sum_{j=i-size//2}^{i+size//2} x[..., j, ...] along `dim`, truncated at the ends; same memory format as x."""
    out = x.clone(memory_format=torch.preserve_format)
    n = x.shape[dim]
    for s in range(1, size // 2 + 1):
        if s >= n:
            break
        out.narrow(dim, s, n - s).add_(x.narrow(dim, 0, n - s))
        out.narrow(dim, 0, n - s).add_(x.narrow(dim, s, n - s))
    return out


def _channels_last_view(t):
    """A channels_last 4-d tensor as a contiguous NHWC view (channels the last dim), else None. Element-wise ops on
    channels_last tensors whose shape makes the layout ambiguous (e.g. C == W) take slow strided paths; on the NHWC view
    every op runs over contiguous memory (several times faster on the CPU for the CIFAR AlexNet's 24x24x24 maps)."""
    if t.dim() == 4 and not t.is_contiguous() and t.is_contiguous(memory_format=torch.channels_last):
        return t.permute(0, 2, 3, 1)
    return None


def _window_sum_rows(x, band):
    """Window sums along the last dim of an (N*H*W, C) fp32 matrix, as one matmul with the 0/1 band, in bf16 with
    fp32 accumulation (the CPU's AMX tiles): the sum's 2^-8 rounding is of alpha' * sum, a small term of the
    denominator beside k, so the layer's output moves by far less than bf16's own rounding of it."""
    return torch.mm(x.to(torch.bfloat16), band).float()


def _bf16_forward(a_rows, band, alpha, beta, k):
    """(output in bf16, d^-1/2) of LRN on an (N*H*W, C) bf16 matrix, in fp32. beta is the paper's 0.75, so
    d^-beta = r sqrt(r) with r = d^-1/2: two cheap roots instead of a pow (`LocalResponseNorm.forward` checks beta)."""
    x = a_rows.float()
    r = torch.rsqrt(_window_sum_rows(x * x, band) * alpha + k)
    return (x * r * torch.sqrt(r)).to(torch.bfloat16), r


def _bf16_backward(g_rows, a_rows, r, band, alpha, beta, k):
    """The gradient of _bf16_forward (as _LRNFunction.backward; scale = r sqrt(r), 1/d = r^2), in bf16."""
    x, g = a_rows.float(), g_rows.float()
    scale = r * torch.sqrt(r)
    t = g * x * scale * r * r  # g a scale / d; the window is symmetric: i in win(j) <=> j in win(i)
    return (_window_sum_rows(t, band) * x * (-2.0 * alpha * beta) + g * scale).to(torch.bfloat16)


def _fused(fn):
    """`fn` compiled into one fused loop by torch.compile (inductor: C++ on the CPU), which makes the element-wise
    passes over the maps one; eager where compiling fails (no C++ compiler, an unsupported device), said once."""
    compiled, failed = [None], []

    def call(*args):
        if not failed:
            try:
                compiled[0] = compiled[0] or torch.compile(fn, dynamic=False)
                return compiled[0](*args)
            except Exception as e:  # noqa: BLE001 - any compiler failure: the eager function is the same math
                failed.append(e)
                warnings.warn(f"bf16 LRN runs eager ({type(e).__name__}: {str(e)[:120]}); slower, the same math")
        return fn(*args)

    return call


_BF16_FORWARD, _BF16_BACKWARD = _fused(_bf16_forward), _fused(_bf16_backward)


def _rows(a):
    """NCHW maps as the (N*H*W, C) matrix of their channels_last storage (a view when they are channels_last)."""
    return a.contiguous(memory_format=torch.channels_last).permute(0, 2, 3, 1).reshape(-1, a.shape[1])


def _maps(rows, shape):
    """The inverse of _rows: NCHW maps of `shape` in channels_last memory."""
    n, c, h, w = shape
    return rows.reshape(n, h, w, c).permute(0, 3, 1, 2)


class _BF16LRNFunction(torch.autograd.Function):
    """LRN of bf16 maps, computed in fp32 around a matmul window sum (see the module docstring)."""

    @staticmethod
    def forward(ctx, a, size, alpha, beta, k):
        i = torch.arange(a.shape[1], device=a.device)  # the band: column i marks the maps of i's window
        band = ((i[:, None] - i[None, :]).abs() <= size // 2).to(torch.bfloat16)
        out, r = _BF16_FORWARD(_rows(a), band, alpha, beta, k)
        # The input itself is saved, not its rows: for channels_last maps they are a view of it, and a view of an
        # input saved by an autograd.Function fails when the whole net is compiled (dynamo's rule on aliases).
        # Taking the view again in backward is free; other layouts pay one copy there.
        ctx.save_for_backward(a, r, band)
        ctx.hyper = (alpha, beta, k)
        return _maps(out, a.shape)

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        a, r, band = ctx.saved_tensors
        return _maps(_BF16_BACKWARD(_rows(g), _rows(a), r, band, *ctx.hyper), a.shape), None, None, None, None


class _LRNFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, size, alpha, beta, k):
        nhwc = _channels_last_view(a)
        ctx.nhwc = nhwc is not None
        x, dim = (nhwc, 3) if ctx.nhwc else (a, 1)
        d = channel_window_sum(x * x, size, dim).mul_(alpha).add_(k)  # the denominator before ^beta
        scale = d.pow(-beta)
        b = x * scale
        ctx.save_for_backward(x, d, scale)
        ctx.hyper = (size, alpha, beta, dim)
        return b.permute(0, 3, 1, 2) if ctx.nhwc else b  # back to NCHW shape, channels_last storage

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        a, d, scale = ctx.saved_tensors
        size, alpha, beta, dim = ctx.hyper
        if ctx.nhwc:
            g = g.contiguous(memory_format=torch.channels_last).permute(0, 2, 3, 1)
        # b_i = a_i d_i^-beta, d_i = k + alpha * sum_{j in win(i)} a_j^2, and j in win(i) <=> i in win(j):
        # dL/da_j = g_j d_j^-beta - 2 alpha beta a_j sum_{i in win(j)} g_i a_i d_i^(-beta-1)
        grad = channel_window_sum(g * a * scale / d, size, dim).mul_(a).mul_(-2.0 * alpha * beta).addcmul_(g, scale)
        return grad.permute(0, 3, 1, 2) if ctx.nhwc else grad, None, None, None, None


class LocalResponseNorm(nn.Module):
    """Cross-map LRN; see the module docstring for the alpha convention (default "per_size")."""

    def __init__(self, size=5, alpha=1e-4, beta=0.75, k=2.0, alpha_convention="per_size"):
        super().__init__()
        if alpha_convention not in ALPHA_CONVENTIONS:
            raise ValueError(f"alpha_convention must be one of {ALPHA_CONVENTIONS}, got {alpha_convention!r}")
        if size % 2 != 1:
            raise ValueError(f"the paper's window i-n/2..i+n/2 is symmetric: size must be odd, got {size}")
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k
        self.alpha_convention = alpha_convention

    def forward(self, a):
        if a.dim() < 3:
            raise ValueError(f"expected (N, C, ...) input, got shape {tuple(a.shape)}")
        alpha = self.alpha / self.size if self.alpha_convention == "per_size" else self.alpha
        if a.dtype == torch.bfloat16 and a.dim() == 4 and self.beta == 0.75:  # the bf16 path's roots are for beta 3/4
            return _BF16LRNFunction.apply(a, self.size, alpha, self.beta, self.k)
        return _LRNFunction.apply(a, self.size, alpha, self.beta, self.k)

    def extra_repr(self):
        return f"size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}, alpha_convention={self.alpha_convention!r}"
