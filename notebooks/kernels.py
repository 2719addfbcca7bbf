# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Q1: One column's first-layer kernels are colour-agnostic, the other's colour-specific
#
# > "Notice the specialization exhibited by the two GPUs, a result of the restricted connectivity described in Section 3.5. The kernels on GPU 1 are largely color-agnostic, while the kernels on GPU 2 are largely color-specific. This kind of specialization occurs during every run and is independent of any particular random weight initialization (modulo a renumbering of the GPUs)." (Krizhevsky et al. 2012, section 6.1, Fig. 3)
#
# **The experiment.** conv1's kernels of the trained two-column net, split into column 0 (`conv1.weight[:C/2]`, the paper's GPU 1) and column 1 (`[C/2:]`, GPU 2), one net per seed.
#
# **The score** (defined before any run). For a kernel $W$ (3 x 11 x 11 in the paper's net, 3 x 5 x 5 in the CIFAR-10 AlexNet) with $m$ its mean over the R, G, B channels, the colour-specificity is the fraction of its energy not explained by that mean: $s = \|W - m\|^2 / \|W\|^2$. $s = 0$: the same pattern in R, G and B (colour-agnostic). The maximum is $s = 1$, for channels that sum to zero at every pixel (colour-opponent, e.g. red minus green); a kernel in one channel only scores 2/3, and so, on average, does a kernel of random weights (the initialization). Per seed: the effect $|\bar s_0 - \bar s_1|$ and a two-sided permutation test (kernels shuffled between the columns, 2000 times, fixed generator).
#
# No training of its own: the nets analysed are the ablation family's `PAPER` arm (claims/family/), the same runs the ablation claims compare against, found in the family's shared run store (trained there first if absent).
#
# **The proxy.** At the cpu scale the nets are the ablation family's CIFAR-10 AlexNet (the paper's net at a quarter of its width, conv1 5x5 at stride 1, 24 px crops of 32 px CIFAR-10 images, 15 epochs); the proxy note under the result lists every departure from the paper's recipe. ImageNet at 224 with 1000 classes and 90 epochs is out of reach of 2 CPU cores. The runs made on Imagenette before protocol v2 are in `results/kernels/imagenette/`.

# %% tags=["parameters"]
# Parameters, set by papermill (-p scale cpu -p seeds 0,1,2 -p device cuda -p data_root PATH)
# scale: smoke | cpu | gpu | paper
scale = "smoke"
# seeds: comma-separated; empty means the scale's own seeds
seeds = ""
# device: auto (cuda if present) | cpu | cuda
device = "auto"
# data_root: an ImageFolder tree or archive, or a folder holding imagenette*.tar.gz / ILSVRC*;
# empty means $ALEXNET_REPRO_DATA, else ~/data
data_root = ""
# out_dir: empty means results/kernels/<scale>/
out_dir = ""
# download: unused here (ImageNet-layout data cannot be downloaded by the suite)
download = False
# render: show the result already in out_dir (result.json and its tables) as it is, training nothing
# (`python -m alexnet_repro render`); else find or train the runs, assess them and write the result there
render = False

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
from alexnet_repro import claims, rendering, report

claim = claims.load("kernels")
folder = rendering.default_folder(claim, scale, out_dir)
# The data, when it trains: data_root, else $ALEXNET_REPRO_DATA, else ~/data; at the smoke scale, when none is
# found there, the sample shipped with the package (as `python -m alexnet_repro run` does).
result = rendering.result_for(claim, scale, folder, render, seeds=seeds, device=device, data_root=data_root,
                              download=download)

# %% [markdown]
# ## The verdict rule (fixed before the run)

# %%
report.rule(result)

# %% [markdown]
# ## Result

# %%
report.show(result)
seeds_table = pd.read_csv(f"{folder}/seeds.csv")
kernels_table = pd.read_csv(f"{folder}/kernels.csv")
report.table(seeds_table)

# %% [markdown]
# ### The kernels (as Fig. 3)
# Each kernel of one seed as an RGB image, normalized to [0, 1] on its own; column 0 on top, column 1 below; each titled with its colour-specificity $s$. A grey kernel is colour-agnostic.

# %%
weights = claim.load_weights(f"{folder}/conv1_weights.npz")
for seed in sorted(weights):
    claim.plot_kernels(weights, kernels_table, seed=seed)
    plt.show()

# %% [markdown]
# ### Scores per column, per seed
# Each point a kernel; the bars the column means; above each seed the permutation p-value. The dotted line is the expected score of a random (untrained) kernel, 2/3.

# %%
if len(kernels_table):
    claim.plot_scores(kernels_table, result)
    plt.show()

# %% [markdown]
# ### Each kernel's score

# %%
report.table(kernels_table.pivot_table(index=["seed", "column"], values="score",
                                       aggfunc=["mean", "median", "min", "max", "count"]), index=True) \
    if len(kernels_table) else kernels_table

# %% [markdown]
# ## Provenance

# %%
report.provenance(result)
