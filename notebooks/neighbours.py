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
# # Q2: Images close in the last hidden layer are semantically similar
#
# > "If two images produce feature activation vectors with a small Euclidean separation, we can say that the higher levels of the neural network consider them to be similar. Figure 4 shows five images from the test set and the six images from the training set that are most similar to each of them according to this measure. Notice that at the pixel level, the retrieved training images are generally not close in L2 to the query images in the first column." (Krizhevsky et al. 2012, section 6.1, Fig. 4)
#
# **The experiment.** Each image is described by the last hidden layer, fc7, after its ReLU, in eval mode (no dropout), on the centre crop. The paper's fc7 has 4096 units; the proxies' nets are narrower (1024 units at the cpu scale, 512 at smoke).
#
# **The number** (defined before any run). Every validation image is a query; the candidates are a class-balanced sample of at most 5,000 training images. precision@5 = the fraction of each query's 5 nearest candidates (Euclidean) that share its class, over all queries. The baseline is the same retrieval in pixels (the mean-subtracted centre crop, flattened); chance is 1 / number of classes. Effect per seed = precision@5(fc7) - precision@5(pixels), in points.
#
# No training of its own: the nets analysed are the ablation family's `PAPER` arm (claims/family/), the same runs the ablation claims compare against, found in the family's shared run store (trained there first if absent).
#
# **The proxy.** At the cpu scale the nets are the ablation family's CIFAR-10 AlexNet (the paper's net at a quarter of its width, conv1 5x5 at stride 1, 24 px crops of 32 px CIFAR-10 images, 15 epochs); the proxy note under the result lists every departure from the paper's recipe. ImageNet at 224 with 1000 classes and 90 epochs is out of reach of 2 CPU cores. The runs made on Imagenette before protocol v2 are in `results/neighbours/imagenette/`.

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
# out_dir: empty means results/neighbours/<scale>/
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

claim = claims.load("neighbours")
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
report.table(seeds_table)

# %% [markdown]
# ### Nearest training images in fc7 (as Fig. 4)
# Five validation images (left; picked before any run by a fixed generator, one per class) and the six training images nearest to each in fc7, nearest first, from one seed. A title is the neighbour's class (green: the query's) and its distance. Images are the centre crops the net saw, before mean subtraction.

# %%
import os
examples = f"{folder}/examples.npz"
if os.path.exists(examples):
    claim.plot_neighbours(examples, "fc7")
    plt.show()

# %% [markdown]
# ### The same queries, nearest in raw pixels (the baseline)

# %%
if os.path.exists(examples):
    claim.plot_neighbours(examples, "pixels")
    plt.show()

# %% [markdown]
# ### precision@5 per seed, and the effect beside the rule's band
# The paper gives no number for Fig. 4; the rule's band (fixed before the run) starts at 10 points over pixels.

# %%
if result["measured"]["precision_fc7"]["per_seed"]:
    claim.plot_precision(seeds_table, result)
    plt.show()

# %% [markdown]
# ### The figure's queries and their neighbours, every seed

# %%
report.table(pd.read_csv(f"{folder}/neighbours.csv").head(60))

# %% [markdown]
# ## Provenance

# %%
report.provenance(result)
