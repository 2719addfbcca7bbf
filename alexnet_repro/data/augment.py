"""Batched augmentation and test-time cropping on the run's device (D1, D2, D3): uint8 NHWC in, float32 NCHW out
(channels_last), in pixel units minus the mean image. The paper subtracts the mean from the 256x256 image before
taking patches, so a patch's mean is the mean image's patch at the same offset, mirrored when the patch is. Pass the
same mean tensor every call: its mirrored copy is cached by the tensor object. Crop offsets are uniform over
[0, size - crop] inclusive (33 per axis for 224 of 256; the paper's "factor of 2048" counts 32).
"""

import contextlib
import contextvars
import functools

import numpy as np
import torch
import torch.nn.functional as F

FLOAT = torch.float32

_GLOBAL_DRAWS = contextvars.ContextVar("global_batch_draws", default=None)


@contextlib.contextmanager
def global_batch_draws(rows, generator):
    """Inside, random_crop_flip and pca_lighting draw for the whole global batch (from `generator`, the same on
    every process, unless given their own) and keep rows (start, stop) of it; rows = (start, stop, size)."""
    token = _GLOBAL_DRAWS.set((rows, generator))
    try:
        yield
    finally:
        _GLOBAL_DRAWS.reset(token)


def _draw(sample, n, generator):
    shared = _GLOBAL_DRAWS.get()
    if shared is None:
        return sample(n, generator)
    (start, stop, total), default = shared  # a caller's own stream (seeds.Streams) is the same on every process
    generator = generator if generator is not None else default
    if stop - start != n:
        raise ValueError(f"global_batch_draws expects {stop - start} images, got {n}")
    return sample(total, generator)[start:stop]


def _crop_rows(images, which, oy, ox, crop):
    """Crop image which[i] of `images` (N, H, W, C) at (oy[i], ox[i]) -> (B, crop, crop, C). Each row of a crop is
    one run of crop*C values; an overlapping strided view has every run as a row, so one index_select copies
    whole rows: several times faster than gathering element by element."""
    n, h, w, ch = images.shape
    flat = images.contiguous().view(-1)
    runs = flat.as_strided((flat.numel() - crop * ch + 1, crop * ch), (1, 1))
    rows = (which * h + oy)[:, None] + torch.arange(crop, device=images.device)
    starts = rows * (w * ch) + (ox * ch)[:, None]
    return runs.index_select(0, starts.view(-1)).view(len(which), crop, crop, ch)


@functools.lru_cache(maxsize=4)  # keyed by the tensor object: pass the same device tensor each call
def _with_mirror(mean_image):
    """[mean, mirrored mean]: one gather then serves flipped and unflipped patches."""
    return torch.stack([mean_image, mean_image.flip(1)])


def crop_at(batch_u8, crop, oy, ox, flip, mean_image=None):
    """Crop image i at (oy[i], ox[i]), mirror it if flip[i], subtract the mean image's matching crop."""
    n = len(batch_u8)
    b = torch.arange(n, device=batch_u8.device)
    x = _crop_rows(batch_u8, b, oy, ox, crop)
    # Pick each patch from [patch, mirrored patch]: a flip plus whole-image row copies, several
    # times cheaper on CPU than an element-wise select, and no host sync on GPU.
    x = torch.cat([x, x.flip(2)]).index_select(0, b + n * flip.long())
    x = x.to(FLOAT)
    if mean_image is not None:
        mean = torch.as_tensor(mean_image, dtype=FLOAT, device=x.device)
        if mean.dim() == 3:  # a mean image (else a per-channel mean): its patch at the same offset, mirrored alike
            mirrored_ox = torch.where(flip, mean.shape[1] - crop - ox, ox)
            mean = _crop_rows(_with_mirror(mean), flip.long(), oy, mirrored_ox, crop)
        x.sub_(mean)
    return x.permute(0, 3, 1, 2)  # NCHW view of NHWC storage: channels_last


def random_crop_flip(batch_u8, crop, generator=None, mean_image=None, flip=True):
    """D2: a crop x crop patch at a random offset, mirrored with probability 1/2, per image. flip=False mirrors
    none yet draws the same coins, so later batches get a flipping caller's crops too."""
    n, size, dev = len(batch_u8), batch_u8.shape[1], batch_u8.device

    def offset(k, g):
        return torch.randint(0, size - crop + 1, (k,), generator=g, device=dev)

    oy = _draw(offset, n, generator)
    ox = _draw(offset, n, generator)
    mirror = _draw(lambda k, g: torch.rand(k, generator=g, device=dev), n, generator) < 0.5
    return crop_at(batch_u8, crop, oy, ox, mirror if flip else torch.zeros_like(mirror), mean_image)


def pixel_pca(pixel_sum, moments, count):
    """D3's lambda_i and p_i: the eigenvalues (ascending) and eigenvectors (columns) of the 3x3 covariance of
    RGB pixels in [0, 1], from sum(x) and sum(x x^T) over `count` 0-255 pixels; float64 tensors."""
    mean = torch.as_tensor(pixel_sum, dtype=torch.float64) / count
    cov = torch.as_tensor(moments, dtype=torch.float64) / count - torch.outer(mean, mean)
    return torch.linalg.eigh(cov / 255.0**2)


def pca_lighting(x, eigvals, eigvecs, std=0.1, generator=None):
    """D3: add sum_i alpha_i * lambda_i * p_i to every pixel in place, alpha_i ~ N(0, std) per image. The PCA is
    of pixels in [0, 1] (column i = p_i): the shift is scaled by 255 to x's units."""
    eigvals = torch.as_tensor(eigvals, dtype=FLOAT, device=x.device)
    eigvecs = torch.as_tensor(eigvecs, dtype=FLOAT, device=x.device)
    alpha = _draw(lambda k, g: torch.randn(k, 3, generator=g, device=x.device, dtype=FLOAT), len(x), generator) * std
    shift = (alpha * eigvals) @ eigvecs.T * 255.0  # (B, 3): sum_i alpha_i lambda_i p_i
    n, _, h, w = x.shape
    if x.is_contiguous(memory_format=torch.channels_last):
        # Add the shift tiled along each NHWC row (w pixels x RGB): a long contiguous inner loop,
        # where broadcasting a (B, 3, 1, 1) would loop over 3 values at a time.
        x.permute(0, 2, 3, 1).view(n, h, w * 3).add_(shift.repeat(1, w).view(n, 1, w * 3))
        return x
    return x.add_(shift.view(n, 3, 1, 1))


def _fixed(batch_u8, crop, oy, ox, flip, mean_image):
    full = functools.partial(torch.full, (len(batch_u8),), device=batch_u8.device)  # int64 offsets, bool flips
    return crop_at(batch_u8, crop, full(oy), full(ox), full(flip), mean_image)


def center_crop(batch_u8, crop, mean_image=None):
    """The single central patch (the paper's single-crop test)."""
    o = (batch_u8.shape[1] - crop) // 2
    return _fixed(batch_u8, crop, o, o, False, mean_image)


TEN_CROP_NAMES = ("top-left", "top-right", "bottom-left", "bottom-right", "centre")


def ten_crops(batch_u8, crop, mean_image=None):
    """D2's test-time patches: the four corners and the centre (TEN_CROP_NAMES), then the same five mirrored."""
    size = batch_u8.shape[1]
    far, mid = size - crop, (size - crop) // 2
    offsets = [(0, 0), (0, far), (far, 0), (far, far), (mid, mid)]
    return [_fixed(batch_u8, crop, oy, ox, flip, mean_image) for flip in (False, True) for oy, ox in offsets]


@torch.no_grad()
def predict(model, images, crop, mean_image=None, ten_crop=False, batch_size=128):
    """Softmax probabilities (N, classes) on the CPU for uint8 NHWC `images` (a memmap, array or tensor);
    ten_crop averages them over the 10 patches."""
    device = next(model.parameters()).device
    mean_image = None if mean_image is None else torch.as_tensor(mean_image, dtype=FLOAT, device=device)
    was_training = model.training
    model.eval()
    out = []
    try:
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size]
            # A memmap slice is a read-only view of the file: copy it rather than alias it.
            chunk = chunk if isinstance(chunk, torch.Tensor) else torch.from_numpy(np.array(chunk))
            batch = chunk.to(device, non_blocking=True)
            views = ten_crops(batch, crop, mean_image) if ten_crop else [center_crop(batch, crop, mean_image)]
            out.append((sum(F.softmax(model(v).float(), dim=1) for v in views) / len(views)).cpu())
    finally:
        model.train(was_training)
    return torch.cat(out)


def topk_errors(scores, labels, ks=(1, 5)):
    """Fraction of images whose label is not among the k highest scores, for each k (capped at the classes)."""
    scores = torch.as_tensor(scores)
    labels = torch.as_tensor(labels, device=scores.device)
    top = scores.topk(min(max(ks), scores.shape[1]), dim=1).indices
    hit = top == labels.view(-1, 1)
    return tuple(1.0 - hit[:, :k].any(1).float().mean().item() for k in ks)
