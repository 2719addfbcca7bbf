"""Q1 (first-layer kernels) and Q2 (fc7 nearest neighbours): their measures on constructed inputs whose
answers are known, and both notebooks end to end at the smoke scale on the same trained paper nets."""
import math

import numpy as np
import pytest
import torch

from alexnet_repro.claims import kernels, neighbours
from alexnet_repro.verdict import INCONCLUSIVE, PARTLY, REPRODUCED, VERDICTS

from conftest import run_notebook


def _kernel(r, g, b):
    return np.stack([r, g, b])[None]  # (1, 3, h, w)


def test_colour_specificity_of_constructed_kernels():
    rng = np.random.default_rng(0)
    pattern = rng.normal(size=(11, 11))
    zero = np.zeros_like(pattern)
    assert kernels.colour_specificity(_kernel(pattern, pattern, pattern)) == pytest.approx([0.0], abs=1e-12)
    # only one channel nonzero: 2/3, whichever channel and whatever the pattern
    for k in (_kernel(pattern, zero, zero), _kernel(zero, zero, 5 * pattern)):
        assert kernels.colour_specificity(k) == pytest.approx([2 / 3])
    # the maximum, 1: channels that sum to zero at every pixel (red minus green; a blue-yellow blob)
    assert kernels.colour_specificity(_kernel(pattern, -pattern, zero)) == pytest.approx([1.0])
    assert kernels.colour_specificity(_kernel(pattern, pattern, -2 * pattern)) == pytest.approx([1.0])
    assert kernels.colour_specificity(_kernel(zero, zero, zero)) == pytest.approx([0.0])  # documented
    many = rng.normal(size=(200, 3, 11, 11))
    s = kernels.colour_specificity(torch.from_numpy(many))
    assert s.shape == (200,) and (s >= 0).all() and (s <= 1 + 1e-12).all()
    # invariant to the kernel's scale and sign
    assert kernels.colour_specificity(-3 * many) == pytest.approx(s)
    with pytest.raises(ValueError):
        kernels.colour_specificity(np.zeros((4, 1, 11, 11)))


def test_permutation_test_on_constructed_scores():
    rng = np.random.default_rng(1)
    agnostic, specific = rng.uniform(0.0, 0.2, 12), rng.uniform(0.6, 0.9, 12)
    effect, p = kernels.permutation_test(agnostic, specific)
    assert effect == pytest.approx(abs(agnostic.mean() - specific.mean()))
    assert p == pytest.approx(1 / (kernels.N_PERMUTATIONS + 1))  # no shuffle is as extreme
    assert kernels.permutation_test(specific, agnostic) == (effect, p)  # two-sided
    same = rng.uniform(0, 1, 12)
    assert kernels.permutation_test(same, same.copy())[1] == 1.0  # identical columns: no evidence at all
    grid = np.linspace(0, 1, 96)  # the same spread of scores in both columns, interleaved
    assert kernels.permutation_test(grid[0::2], grid[1::2])[1] > 0.5
    a, b = rng.uniform(0, 1, (2, 48))
    assert kernels.permutation_test(a, b) == kernels.permutation_test(a, b)  # a fixed generator
    # under no difference, p < 0.05 about 5% of the time
    ps = [kernels.permutation_test(*rng.uniform(0, 1, (2, 12)), n_permutations=400)[1] for _ in range(300)]
    assert 0.01 <= np.mean(np.array(ps) < 0.05) <= 0.11


def test_analyse_finds_the_colour_specific_column_and_the_rule():
    rng = np.random.default_rng(2)
    grey = np.repeat(rng.normal(size=(6, 1, 5, 5)), 3, axis=1) + 0.05 * rng.normal(size=(6, 3, 5, 5))
    colour = rng.normal(size=(6, 3, 5, 5))
    for w, specific in ((np.concatenate([grey, colour]), 1), (np.concatenate([colour, grey]), 0)):
        table, summary = kernels.analyse(w)
        assert summary["colour_specific_column"] == specific and summary["holds"]
        assert [r["column"] for r in table] == [0] * 6 + [1] * 6
    def seed(p):
        return {"p_value": p, "holds": p < kernels.ALPHA}
    assert kernels.decide_seeds([seed(0.001)]) == INCONCLUSIVE
    assert kernels.decide_seeds([seed(0.001)] * 3) == REPRODUCED
    assert kernels.decide_seeds([seed(0.001), seed(0.2)]) == PARTLY
    # one seed of three passing by chance (p 0.04) with the others null is not evidence across seeds; a test that
    # does not reject shows no absence either: inconclusive, with the seeds that would reject at this evidence
    assert kernels.decide_seeds([seed(0.04), seed(0.6), seed(0.8)]) == INCONCLUSIVE
    assert kernels.decide_seeds([seed(0.3), seed(0.4)]) == INCONCLUSIVE
    need, typical = kernels.seeds_needed([0.1, 0.2]), math.sqrt(0.1 * 0.2)  # the seeds' mean -log p
    assert kernels.fisher_p([typical] * need) < kernels.ALPHA <= kernels.fisher_p([typical] * (need - 1))
    assert kernels.seeds_needed([0.5, 0.6]) is None  # no more evidence than chance: no n would do
    # Fisher's method, checked against the chi-square tail by hand: k=1 gives p back
    assert kernels.fisher_p([0.2]) == pytest.approx(0.2)
    assert kernels.fisher_p([0.05, 0.05]) == pytest.approx(0.0175, abs=2e-4)


def test_precision_at_k_on_a_constructed_embedding():
    # Candidates on a line at 0, 1, ..., 9 with labels 0,0,0,1,1,1,1,2,2,2; queries at known points.
    keys = torch.arange(10, dtype=torch.float32).view(-1, 1)
    key_labels = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2])
    queries = torch.tensor([[0.1], [5.1], [9.4]])
    query_labels = np.array([0, 1, 1])
    idx, dist = neighbours.nearest(lambda q: q, queries, keys, k=3, batch_size=2)  # chunks of 2 queries
    assert idx.tolist() == [[0, 1, 2], [5, 6, 4], [9, 8, 7]]
    assert dist[0].tolist() == pytest.approx([0.1, 0.9, 1.9], abs=1e-5)
    # query 0: 3/3 of class 0; query 1: 3/3 of class 1; query 2 (class 1): none of its neighbours
    assert neighbours.precision_at_k(key_labels[idx.numpy()], query_labels, k=3) == pytest.approx(6 / 9)
    assert neighbours.precision_at_k(key_labels[idx.numpy()], query_labels, k=1) == pytest.approx(2 / 3)
    # a large offset shared by every vector (an fc7 dominated by its biases) changes nothing
    # (more than 25 rows each: the size at which cdist switches to its fast, cancellation-prone path)
    line = torch.arange(40, dtype=torch.float32).view(-1, 1)
    points = line[:30] + 0.3
    def shifted(q):
        return torch.cat([q, torch.zeros(len(q), 63)], 1) + 1e4
    idx2, dist2 = neighbours.nearest(shifted, points, shifted(line), k=2)
    assert idx2.tolist() == [[i, i + 1] for i in range(30)]
    assert dist2.flatten().tolist() == pytest.approx([0.3, 0.7] * 30, abs=1e-2)


def test_balanced_sample_and_fixed_queries():
    labels = np.array([0, 1, 2] * 10 + [0] * 20)
    idx = neighbours.balanced_sample(labels, 12)
    assert np.bincount(labels[idx]).tolist() == [4, 4, 4] and (np.diff(idx) > 0).all()
    assert neighbours.balanced_sample(labels, 100).tolist() == list(range(len(labels)))
    q = neighbours.pick_queries(labels, n=3)
    assert sorted(labels[q]) == [0, 1, 2] and q == neighbours.pick_queries(labels, n=3)


def test_kernels_and_neighbours_smoke_through_papermill(imagenette_data, tmp_path):
    # One test, so both notebooks share one run store: the second finds the paper's nets trained.
    for d in ("q1", "q2"):
        (tmp_path / d).mkdir()
    q1, _ = run_notebook("kernels", tmp_path / "q1", data_root=str(imagenette_data))
    q2, nb = run_notebook("neighbours", tmp_path / "q2", data_root=str(imagenette_data))
    for r, cid in ((q1, "Q1"), (q2, "Q2")):
        assert r["claim_id"] == cid and r["proxy"] is True and r["verdict"] in VERDICTS
        assert r["provenance"]["dataset"]["n_train"] == 256 and r["provenance"]["seeds"] == [0, 1]
    m1 = q1["measured"]
    assert m1["seeds_measured"] == 2 and len(m1["p_value"]["per_seed"]) == 2
    assert all(0 < p <= 1 for p in m1["p_value"]["per_seed"])
    weights = kernels.load_weights(tmp_path / "q1" / "res" / "conv1_weights.npz")
    assert sorted(weights) == [0, 1] and weights[0].shape[1:] == (3, 11, 11)
    m2 = q2["measured"]
    assert m2["fc7_dim"] == 512 and m2["n_candidates"] == 256 and m2["chance"] == pytest.approx(10.0)
    for p, e in zip(m2["precision_fc7"]["per_seed"], m2["effect"]["per_seed"]):
        assert 0 <= p <= 100 and e == pytest.approx(p - m2["precision_pixels"])
    ex = neighbours.load_examples(tmp_path / "q2" / "res" / "examples.npz")
    assert ex["fc7_images"].shape == (5, 6, 67, 67, 3) and ex["query_images"].dtype == np.uint8
    assert not any(o.get("output_type") == "error" for c in nb["cells"] for o in c.get("outputs", []))
