"""Q2: images close in the last hidden layer (Euclidean) are semantically similar (paper 6.1, Fig. 4).

The experiment. No training of its own: the trained paper's net of the ablation family (the `PAPER`
arm of claims/family/), one run per seed. Each image is described by the activations of the
net's last hidden layer, fc7 (`classifier.fc7` followed by its ReLU `classifier.act7`), in eval
mode (no dropout) on the single centre crop, mean image subtracted, as in testing. The paper's fc7
has 4096 units; the proxy scales' nets are narrower (width x0.25: 1024 units; the smoke scale's
x0.125: 512): the proxy_note says which.

The number, defined before any run. Queries: every validation image. Candidates: the training
images the net was trained on, a fixed class-balanced sample of at most N_KEYS (the first
N_KEYS / classes of each class in the cache's order; all of them if fewer). For each query, its
K = 5 nearest candidates by Euclidean distance in fc7; precision@5 = the fraction of those 25, 50,
... neighbours, over all queries, whose class is the query's. The baseline is the same retrieval in
pixel space: the same centre crop, mean-subtracted, flattened (the paper: "at the pixel level, the
retrieved training images are generally not close in L2 to the query images"). Chance is
1 / number of classes. The effect per seed = precision@5(fc7) - precision@5(pixels), in points;
the pixel baseline is the same for every seed (it involves no net).

The rule is RULE, fixed before any run: Fig. 4's point is that fc7 neighbours share the query's category
where pixel neighbours generally do not, a qualitative difference that a gain of a few points would not show.
"""

import io
import sys

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..data.augment import center_crop
from ..fmt import fmt_interval
from ..models.alexnet import scaled
from ..verdict import INCONCLUSIVE, PLUMBING, Rule, decide, mean_ci, summarize
from . import Claim, contract
from .contract import Assessment, Trained
from .family import training
from .family.training import family_trained, load_family, run_row, trained_nets

CLAIM = Claim(
    id="Q2",
    slug="neighbours",
    title="Images close in the last hidden layer are semantically similar",
    paper_says="If two images produce feature activation vectors with a small Euclidean separation, we can say "
    "that the higher levels of the neural network consider them to be similar. Figure 4 shows five "
    "images from the test set and the six images from the training set that are most similar to each "
    "of them according to this measure. Notice that at the pixel level, the retrieved training images "
    "are generally not close in L2 to the query images in the first column.",
)
# The dataset it reads: the ablation family's at the scale (arms.SCALES[scale].data).
DATA = "family"

K = 5  # precision@K
N_SHOW = 6  # neighbours per query in the figure, as Fig. 4
N_QUERIES_SHOWN = 5  # queries in the figure, as Fig. 4
N_KEYS = 5000  # at most this many training images as candidates, class-balanced
EXAMPLE_SEED = 0  # the generator that picks the figure's queries
BATCH = 256
# Written before any run.
RULE = Rule(
    null=0.0,
    direction=+1,
    band=(10.0, 100.0),
    text=f"Effect: precision@{K} of Euclidean nearest training images in fc7 (after ReLU, eval mode, centre "
    f"crop) minus the same in mean-subtracted pixels of the centre crop, in points, per seed; all "
    f"validation images as queries, a class-balanced sample of at most {N_KEYS} training images as "
    f"candidates. A gain under 10 points over raw pixels would not show Fig. 4's qualitative "
    f"difference; 100 is the largest possible.",
)


# Imagenette's classes by WordNet id, for the figures' titles (other datasets show their folder names).
CLASS_NAMES = {
    "n01440764": "tench",
    "n02102040": "springer",
    "n02979186": "cassette player",
    "n03000684": "chain saw",
    "n03028079": "church",
    "n03394916": "French horn",
    "n03417042": "garbage truck",
    "n03425413": "gas pump",
    "n03445777": "golf ball",
    "n03888257": "parachute",
}


def balanced_sample(labels, n_max):
    """Indices (sorted) of a class-balanced sample of at most n_max: the first n_max // classes of each
    class in order (a smaller class gives all it has); every index if there are no more than n_max."""
    labels = np.asarray(labels)
    if len(labels) <= n_max:
        return np.arange(len(labels))
    classes = np.unique(labels)
    per_class = n_max // len(classes)
    return np.sort(np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in classes]))


def fc7_embedding(model, crop, mean_image):
    """uint8 NHWC batch -> fc7 activations after ReLU (B, fc7 width), eval mode, centre crop."""
    head = []
    for name, layer in model.classifier.named_children():
        head.append(layer)
        if name == "act7":
            break
    else:
        raise ValueError("the model's classifier has no act7 (the ReLU after fc7)")
    head = nn.Sequential(*head)
    model.eval()

    @torch.no_grad()
    def embed(batch_u8):
        return head(model.features(center_crop(batch_u8, crop, mean_image)).flatten(1)).float()

    return embed


def pixel_embedding(crop, mean_image):
    """uint8 NHWC batch -> the centre crop minus the mean image, flattened (B, crop * crop * 3)."""

    def embed(batch_u8):
        return center_crop(batch_u8, crop, mean_image).permute(0, 2, 3, 1).reshape(len(batch_u8), -1)

    return embed


def embed_all(embed, images, batch_size=BATCH):
    return torch.cat([embed(images[i : i + batch_size]) for i in range(0, len(images), batch_size)])


def nearest(embed, queries, keys, k, batch_size=BATCH):
    """The k nearest rows of `keys` to embed(query) by Euclidean distance, nearest first, computed a
    chunk of queries at a time: (indices (Nq, k) int64, distances (Nq, k)), on the CPU.

    Both sides are first shifted by the keys' mean (distances do not change): cdist's fast path
    computes |q|^2 + |k|^2 - 2 q.k, which cancels catastrophically in float32 when the vectors share a
    large offset (an fc7 whose biases dominate its input-dependent part gives all distances 0)."""
    k = min(k, len(keys))
    centre = keys.mean(0, keepdim=True)
    keys = keys - centre
    idx, dist = [], []
    for i in range(0, len(queries), batch_size):
        d = torch.cdist(embed(queries[i : i + batch_size]) - centre, keys)
        v, j = d.topk(k, dim=1, largest=False, sorted=True)
        idx.append(j.cpu())
        dist.append(v.cpu())
    return torch.cat(idx), torch.cat(dist)


def precision_at_k(neighbour_labels, query_labels, k=K):
    """Fraction of the first k neighbours of each query that share its label, over all queries."""
    nl = torch.as_tensor(neighbour_labels)[:, :k]
    ql = torch.as_tensor(query_labels).view(-1, 1)
    return float((nl == ql).double().mean())


def pick_queries(labels, n=N_QUERIES_SHOWN, seed=EXAMPLE_SEED):
    """The figure's queries, fixed before any run: n distinct classes drawn with a fixed generator, one
    image of each drawn likewise (fewer classes than n: several per class)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    chosen = rng.permutation(classes)[:n]
    picks = [int(rng.choice(np.flatnonzero(labels == c))) for c in chosen]
    rest = rng.permutation(np.setdiff1d(np.arange(len(labels)), picks))
    return picks + [int(i) for i in rest[: n - len(picks)]]


def _crop_u8(images, crop):
    o = (images.shape[1] - crop) // 2
    return images[:, o : o + crop, o : o + crop].cpu().numpy()


def _example_rows(space, seed, queries, idx, dist, test_y, key_idx, key_y):
    rows = []
    for q in queries:
        for r in range(idx.shape[1]):
            j = int(idx[q, r])
            rows.append(
                {
                    "space": space,
                    "seed": seed,
                    "query": q,
                    "query_class": int(test_y[q]),
                    "rank": r + 1,
                    "neighbour": int(key_idx[j]),
                    "neighbour_class": int(key_y[j]),
                    "distance": float(dist[q, r]),
                }
            )
    return rows


# What Q2 trains is the family's paper's net: the family's jobs.
plan, run_job = training.plan_paper_net, training.run_job


def decided_by():
    """contract.decided_by: this module's code, and the family's nets it reads."""
    return {"module": contract.module_syntax(sys.modules[__name__]), **training.paper_net_decided_by()}


def train(scale, seeds=None, device=None, data_root=None, work_dir=None, download=False) -> Trained:
    """Each seed's trained paper's net (found in the family's store, or trained there), its fc7 neighbours
    and the pixel baseline's, with precision@K."""
    fam, cfg = load_family(scale, seeds, device, data_root, work_dir)
    sp, crop = fam.splits, cfg.crop
    train_y, test_y = sp.train_y.cpu().numpy(), sp.test_y.cpu().numpy()
    key_idx = balanced_sample(train_y, N_KEYS)
    key_x, key_y = sp.train_x[torch.from_numpy(key_idx).to(sp.train_x.device)], train_y[key_idx]
    n_classes = fam.data.n_classes
    chance = 100.0 / n_classes
    queries = pick_queries(test_y)

    # The pixel baseline involves no net: the same for every seed.
    pixels = pixel_embedding(crop, fam.mean)
    pix_idx, pix_dist = nearest(pixels, sp.test_x, embed_all(pixels, key_x), N_SHOW)
    p_pixels = 100 * precision_at_k(key_y[pix_idx.numpy()], test_y)
    example_rows = _example_rows("pixels", None, queries, pix_idx, pix_dist, test_y, key_idx, key_y)

    rows, examples = [], None
    for seed, row, model in trained_nets(fam):
        out = run_row(row)
        if model is None:
            rows.append({**out, "measured": False})
            continue
        fc7 = fc7_embedding(model, crop, fam.mean)
        keys = embed_all(fc7, key_x)
        idx, dist = nearest(fc7, sp.test_x, keys, N_SHOW)
        p_fc7 = 100 * precision_at_k(key_y[idx.numpy()], test_y)
        active = keys > 0
        rows.append(
            {
                **out,
                "measured": True,
                "precision_fc7": p_fc7,
                "precision_pixels": p_pixels,
                "effect": p_fc7 - p_pixels,
                "chance": chance,
                "fc7_dim": keys.shape[1],
                # a unit that is zero on every candidate image carries nothing; all dead = every
                # distance 0, and the neighbours are an arbitrary tie-break (precision at chance)
                "fc7_dead_units": float((~active.any(0)).double().mean()),
                "fc7_active_per_image": float(active.double().mean()),
            }
        )
        example_rows += _example_rows("fc7", seed, queries, idx, dist, test_y, key_idx, key_y)
        if examples is None:  # the figure's seed: the first one measured
            q = torch.tensor(queries)
            examples = {
                "seed": seed,
                "query_index": np.array(queries),
                "query_labels": test_y[queries],
                "query_images": _crop_u8(sp.test_x[q.to(sp.test_x.device)], crop),
                "classes": np.array(fam.data.classes),
            }
            for space, (i, d) in (("fc7", (idx, dist)), ("pixels", (pix_idx, pix_dist))):
                nb = i[q]  # (n queries, N_SHOW) positions in the candidate sample
                examples[f"{space}_index"] = key_idx[nb.numpy()]
                examples[f"{space}_labels"] = key_y[nb.numpy()]
                examples[f"{space}_distances"] = d[q].numpy()
                examples[f"{space}_images"] = _crop_u8(key_x[nb.reshape(-1).to(key_x.device)], crop).reshape(
                    *nb.shape, crop, crop, 3
                )

    fc7_dim = scaled(4096, cfg.width)
    files = {}
    if examples is not None:
        buf = io.BytesIO()
        np.savez_compressed(buf, **examples)
        files["examples.npz"] = buf.getvalue()
    return family_trained(
        fam,
        rows,
        {
            "k": K,
            "n_candidates_max": N_KEYS,
            "distance": "Euclidean",
            "layer": "fc7 after ReLU, eval mode, centre crop",
            "baseline": "mean-subtracted centre-crop pixels",
            "figure_query_seed": EXAMPLE_SEED,
        },
        tables={"seeds": pd.DataFrame(rows), "neighbours": pd.DataFrame(example_rows)},
        proxy_extra=f"The last hidden layer (fc7) has {fc7_dim} units here (the paper: 4096)."
        if scale != "paper"
        else "",
        files=files,
        context={
            "n_queries": len(test_y),
            "n_candidates": len(key_idx),
            "n_classes": n_classes,
            "fc7_dim": fc7_dim,
            "chance": chance,
            "precision_pixels": p_pixels,
        },
    )


def assess(trained: Trained, scale) -> Assessment:
    c = trained.context
    chance, p_pixels = c["chance"], c["precision_pixels"]
    rows = trained.rows
    measured_rows = [r for r in rows if r["measured"]]
    effects = [r["effect"] for r in measured_rows]
    ci = mean_ci(effects) if effects else None
    verdict = (decide(ci, RULE) if ci else INCONCLUSIVE) if scale != "smoke" else PLUMBING
    p_fc7s = [r["precision_fc7"] for r in measured_rows]
    measured = {
        "k": K,
        "n_queries": c["n_queries"],
        "n_candidates": c["n_candidates"],
        "n_classes": c["n_classes"],
        "fc7_dim": c["fc7_dim"],
        "chance": chance,
        "precision_pixels": p_pixels,
        "precision_fc7": summarize(p_fc7s),
        "effect": {"per_seed": effects, **(ci.as_dict() if ci else {})},
        "seeds_measured": [r["seed"] for r in measured_rows],
        "fc7_dead_units": {"per_seed": [r["fc7_dead_units"] for r in measured_rows]},
    }
    if ci:
        f = measured["precision_fc7"]
        headline = (
            f"precision@{K} {f['mean']:.1f}% in fc7 vs {p_pixels:.1f}% in pixels (chance {chance:.0f}%): "
            + fmt_interval(ci.as_dict(), digits=1)
        )
        dead = [r["seed"] for r in measured_rows if r["fc7_dead_units"] == 1.0]
        if dead:
            headline += f"; every fc7 unit is zero on every image in seed(s) {dead}"
    else:
        headline = "no run could be measured"
    return Assessment(verdict, headline, measured, RULE.describe(), paper={"number": CLAIM.paper_number})


def run(scale="cpu", seeds=None, device=None, data_root=None, out_dir=None, work_dir=None, download=False):
    """Run Q2 at `scale` on the ablation family's trained paper net, write results/neighbours/<scale>/."""
    return contract.run(sys.modules[__name__], scale, seeds, device, data_root, out_dir, work_dir, download)


def load_examples(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def plot_neighbours(examples, space="fc7"):
    """Fig. 4: each query (left column) and its N_SHOW nearest training images in `space` ("fc7" or
    "pixels"), nearest first; a neighbour's title is its class, green if it is the query's. `examples`
    is load_examples(examples.npz) or its path. The images are the uint8 centre crops, as stored in
    the cache (before mean subtraction)."""
    import matplotlib.pyplot as plt

    if not isinstance(examples, dict):
        examples = load_examples(examples)
    classes = [CLASS_NAMES.get(str(c), str(c)) for c in examples["classes"]]
    qi, ql = examples["query_images"], examples["query_labels"]
    ni, nl, nd = examples[f"{space}_images"], examples[f"{space}_labels"], examples[f"{space}_distances"]
    n_q, n_n = ni.shape[:2]
    fig, axes = plt.subplots(n_q, n_n + 1, figsize=(1.3 * (n_n + 1), 1.45 * n_q), squeeze=False)
    for r in range(n_q):
        ax = axes[r, 0]
        ax.imshow(qi[r])
        ax.set_title(f"query: {classes[ql[r]]}", fontsize=7, fontweight="bold")
        for c in range(n_n):
            ax = axes[r, c + 1]
            ax.imshow(ni[r, c])
            same = nl[r, c] == ql[r]
            ax.set_title(f"{classes[nl[r, c]]}\nd={nd[r, c]:.3g}", fontsize=6, color="green" if same else "red")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    label = "fc7 (last hidden layer)" if space == "fc7" else "raw pixels (baseline)"
    fig.suptitle(
        f"Nearest training images by Euclidean distance in {label}, seed {int(examples['seed'])}"
        if space == "fc7"
        else f"Nearest training images by Euclidean distance in {label}",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def plot_precision(seeds_table, result):
    """Left: precision@K per seed in fc7, beside the pixel baseline and chance. Right: the effect, fc7 minus
    pixels, with its 95% interval and the rule's band (the paper gives no number; figures.py)."""
    import matplotlib.pyplot as plt

    from ..figures import EffectRow, effect_axes

    m = result["measured"]
    t = seeds_table[seeds_table["measured"]] if "measured" in seeds_table else seeds_table
    fig = plt.figure(figsize=(10, 3.4), layout="constrained")
    precision_fig, effect_fig = fig.subfigures(1, 2, width_ratios=[1, 1.2])
    ax = precision_fig.subplots()
    ax.plot(t["seed"].astype(str), t["precision_fc7"], "o", ms=8, label="fc7")
    ax.axhline(m["precision_pixels"], color="tab:orange", ls="--", label="pixels")
    ax.axhline(m["chance"], color="grey", ls=":", label="chance")
    ax.set(ylim=(0, 100), xlabel="seed", ylabel=f"precision@{m['k']} (%)")
    ax.legend(fontsize=8, loc="lower right")
    effect_axes(
        effect_fig,
        [EffectRow("fc7 - pixels", m["effect"], RULE, None, m["effect"].get("per_seed", []), result["verdict"])],
    )
    fig.suptitle(
        f"Q2, scale '{result['scale']}'{' (proxy)' if result['proxy'] else ''}: {result['verdict']}", fontsize=10
    )
    return fig
