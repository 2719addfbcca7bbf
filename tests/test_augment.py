"""Batched crops, flips, mean subtraction, PCA lighting and 10-patch testing on inputs whose
answer is known exactly: images whose pixels hold their own coordinates."""

import pytest
import torch

from alexnet_repro.data.augment import (
    TEN_CROP_NAMES,
    center_crop,
    crop_at,
    pca_lighting,
    predict,
    random_crop_flip,
    ten_crops,
    topk_errors,
)

S, C = 12, 5  # stored size, crop size


def coordinate_images(n, size=S):
    """Image i: pixel (y, x) = (y, x, i), so every output pixel says where it came from."""
    y, x = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    img = torch.stack([y, x, torch.zeros_like(y)], -1)
    batch = img.expand(n, size, size, 3).clone()
    batch[..., 2] = torch.arange(n).view(-1, 1, 1)
    return batch.to(torch.uint8)


def decode_crop(patch):
    """(3, c, c) patch of a coordinate image -> (oy, ox, flipped), asserting it is a clean crop."""
    rows, cols, ids = patch.long()
    c = patch.shape[-1]
    oy, x0 = int(rows[0, 0]), int(cols[0, 0])
    assert torch.equal(rows, (oy + torch.arange(c)).view(-1, 1).expand(c, c))
    flipped = c > 1 and int(cols[0, 1]) < x0
    ox = x0 - (c - 1) if flipped else x0
    expect = ox + (torch.arange(c - 1, -1, -1) if flipped else torch.arange(c))
    assert torch.equal(cols, expect.view(1, -1).expand(c, c))
    assert (ids == ids[0, 0]).all()
    return oy, ox, flipped


def test_crop_at_exact_offsets_and_flip():
    batch = coordinate_images(3)
    out = crop_at(batch, C, torch.tensor([0, 7, 3]), torch.tensor([7, 0, 2]), torch.tensor([False, True, True]))
    assert out.shape == (3, 3, C, C) and out.dtype == torch.float32
    assert out.is_contiguous(memory_format=torch.channels_last)
    assert [decode_crop(p) for p in out] == [(0, 7, False), (7, 0, True), (3, 2, True)]
    assert out[:, 2, 0, 0].tolist() == [0, 1, 2]  # image i's crop comes from image i
    # Flipped: the left column of the patch is the right column of the window.
    assert out[1, 1, 0].tolist() == [4, 3, 2, 1, 0]


def test_random_crop_flip_covers_offsets_and_flips():
    n = 250
    g = torch.Generator().manual_seed(0)
    out = random_crop_flip(coordinate_images(n), C, g)
    decoded = [decode_crop(p) for p in out]
    assert [int(p[2, 0, 0]) for p in out] == list(range(n))
    assert {oy for oy, _, _ in decoded} == set(range(S - C + 1))  # [0, S - C] inclusive
    assert {ox for _, ox, _ in decoded} == set(range(S - C + 1))
    n_flipped = sum(f for _, _, f in decoded)
    assert 0.4 * n < n_flipped < 0.6 * n
    again = random_crop_flip(coordinate_images(n), C, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)


def test_random_crops_without_flips_mirror_none_and_keep_the_flipping_draws():
    """flip=False takes the crops a flipping caller gets from the same generator, mirrors none of them, and
    leaves the generator where that caller's is, so every later batch's crops are shared too."""
    n = 200
    flipping, plain = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    for _ in range(2):
        a = [decode_crop(p) for p in random_crop_flip(coordinate_images(n), C, flipping)]
        b = [decode_crop(p) for p in random_crop_flip(coordinate_images(n), C, plain, flip=False)]
        assert [(oy, ox) for oy, ox, _ in a] == [(oy, ox) for oy, ox, _ in b]
        assert 0.4 * n < sum(f for *_, f in a) < 0.6 * n and not any(f for *_, f in b)
    assert torch.equal(flipping.get_state(), plain.get_state())


def test_mean_image_is_cropped_and_flipped_with_the_image():
    batch = coordinate_images(64)
    batch[..., 2] = 9
    mean = batch[0].float()  # the mean image equals every image: every patch must become exactly 0
    out = random_crop_flip(batch, C, torch.Generator().manual_seed(1), mean_image=mean)
    assert torch.equal(out, torch.zeros_like(out))
    # A mean that differs from the images: patch = image patch - mean patch, pixel by pixel.
    mean2 = mean * 3 + 1
    out2 = random_crop_flip(batch, C, torch.Generator().manual_seed(1), mean_image=mean2)
    plain = random_crop_flip(batch, C, torch.Generator().manual_seed(1))
    assert torch.allclose(out2, plain - (plain * 3 + 1))
    # A per-channel mean broadcasts.
    per_channel = random_crop_flip(batch, C, torch.Generator().manual_seed(1), mean_image=torch.tensor([1.0, 2.0, 3.0]))
    assert torch.equal(per_channel, plain - torch.tensor([1.0, 2.0, 3.0]).view(1, 3, 1, 1))


def test_center_and_ten_crops():
    batch = coordinate_images(2)
    mid = (S - C) // 2
    assert decode_crop(center_crop(batch, C)[1]) == (mid, mid, False)
    views = ten_crops(batch, C)
    assert len(views) == 10 and len(TEN_CROP_NAMES) == 5
    far = S - C
    corners = [(0, 0), (0, far), (far, 0), (far, far), (mid, mid)]
    expect = [(oy, ox, False) for oy, ox in corners] + [(oy, ox, True) for oy, ox in corners]
    for v, e in zip(views, expect):
        assert v.shape == (2, 3, C, C)
        assert decode_crop(v[0]) == e and decode_crop(v[1]) == e
    # With the mean image equal to the image, every one of the 10 views is exactly zero.
    for v in ten_crops(batch, C, mean_image=batch[0].float()):
        assert torch.equal(v[0], torch.zeros_like(v[0]))


def test_pca_lighting_adds_alpha_lambda_p_per_image():
    eigvals = torch.tensor([0.2, 0.02, 0.004])
    q, _ = torch.linalg.qr(torch.tensor([[1.0, 0.3, -0.2], [1.0, -0.5, 0.1], [1.0, 0.2, 0.9]]))
    eigvecs = q  # orthonormal columns
    n = 4000
    x = torch.zeros(n, 3, 2, 2)
    pca_lighting(x, eigvals, eigvecs, std=0.1, generator=torch.Generator().manual_seed(3))
    shift = x[:, :, 0, 0]
    assert torch.equal(x, shift.view(n, 3, 1, 1).expand_as(x))  # the same shift for every pixel
    # Exactly sum_i alpha_i lambda_i p_i * 255, alpha replayed from the same generator.
    alpha = torch.randn(n, 3, generator=torch.Generator().manual_seed(3)) * 0.1
    assert torch.allclose(shift, 255 * (alpha * eigvals) @ eigvecs.T, atol=1e-4)
    # And recovering alpha from the shift gives N(0, 0.1), independent per component.
    recovered = (shift / 255) @ eigvecs / eigvals
    assert torch.allclose(recovered.std(0), torch.full((3,), 0.1), rtol=0.05)
    assert recovered.mean(0).abs().max() < 0.01
    corr = torch.corrcoef(recovered.T) - torch.eye(3)
    assert corr.abs().max() < 0.1
    # The channels_last path (what random_crop_flip returns) adds the same shift.
    y = torch.zeros(n, 3, 4, 5).contiguous(memory_format=torch.channels_last)
    pca_lighting(y, eigvals, eigvecs, std=0.1, generator=torch.Generator().manual_seed(3))
    assert y.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(y, shift.view(n, 3, 1, 1).expand_as(y))


class MeanColour(torch.nn.Module):
    """Logits from the mean colour of the patch: depends on which patch it sees."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 4)
        torch.nn.init.normal_(self.fc.weight, std=0.3)

    def forward(self, x):
        return self.fc(x.mean((2, 3)))


def test_predict_ten_crop_averages_softmax_over_the_ten_patches():
    torch.manual_seed(0)
    model = MeanColour().train()
    images = coordinate_images(7).numpy()  # a numpy array, like a memmap
    mean = torch.full((3,), 4.0)
    probs = predict(model, images, C, mean_image=mean, ten_crop=True, batch_size=3)
    assert model.training  # mode restored
    batch = torch.from_numpy(images)
    with torch.no_grad():
        expect = sum(torch.softmax(model(v), 1) for v in ten_crops(batch, C, mean)) / 10
        single = torch.softmax(model(center_crop(batch, C, mean)), 1)
    assert torch.allclose(probs, expect, atol=1e-6)
    assert torch.allclose(predict(model, images, C, mean_image=mean, batch_size=4), single, atol=1e-6)
    assert not torch.allclose(probs, single, atol=1e-3)


def test_topk_errors():
    scores = torch.tensor(
        [
            [0.9, 0.1, 0.0, 0.0],  # label 0: top-1 hit
            [0.1, 0.5, 0.3, 0.1],  # label 2: second
            [0.4, 0.3, 0.2, 0.1],  # label 3: last
            [0.1, 0.2, 0.3, 0.4],
        ]
    )  # label 3: top-1 hit
    labels = torch.tensor([0, 2, 3, 3])
    assert topk_errors(scores, labels, ks=(1, 2, 5)) == pytest.approx((0.5, 0.25, 0.0))
