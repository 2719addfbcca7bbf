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
# # L3: local response normalization on CIFAR-10, 13% -> 11% test error
#
# > "We also verified the effectiveness of this scheme on the CIFAR-10 dataset: a four-layer CNN achieved a 13% test
# > error rate without normalization and 11% with normalization." (Krizhevsky et al. 2012, section 3.3)
#
# **The experiment.** The paper's footnote points to cuda-convnet, whose example nets are the two behind these numbers:
# *conv-local-13pct* (conv 64 5x5, max-pool, conv 64 5x5, max-pool, two locally-connected layers of 32 3x3 filters with
# unshared weights, fc10) and the first *conv-local-11pct*, which is the same net plus cross-map LRN (size 5, scale
# 0.001/5, pow 0.75, k=1) after the ReLUs of conv1 and conv2. Both train by cuda-convnet's recipe: 24x24 random crops
# and mirror images, its momentum update with per-layer weight decay (0 on the convs, 0.004 elsewhere), eps 0.001
# (biases 0.002), minibatch 128, and eps divided by 10 twice near the end. The two arms share seed, initial weights
# and crops; LRN is the only difference.
#
# **The measure.** cuda-convnet's multiview test: the softmax averaged over the four corner and the centre 24x24
# crops of each 32x32 test image and their mirror images. The effect, per seed, is the 10-view test error with LRN
# minus without; the centre-crop error is reported beside it.

# %% tags=["parameters"]
# Parameters, set by papermill (-p scale cpu -p seeds 0,1,2 -p device cuda -p data_root PATH)
# scale: smoke | cpu | gpu | paper
scale = "smoke"
# seeds: comma-separated; empty means the scale's own seeds
seeds = ""
# device: auto (cuda if present) | cpu | cuda
device = "auto"
# data_root: empty means $ALEXNET_REPRO_DATA, else ~/data
data_root = ""
# out_dir: empty means results/lrn_cifar/<scale>/
out_dir = ""
# download: fetch CIFAR-10 through torchvision into data_root if it is not there (needs internet)
download = False
# render: show the result already in out_dir (result.json and its tables) as it is, training nothing
# (`python -m alexnet_repro render`); else find or train the runs, assess them and write the result there
render = False

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display
from alexnet_repro import claims, rendering, report

claim = claims.load("lrn_cifar")
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
m, c, paper = result["measured"], result["provenance"]["config"], result["paper"]
display(Markdown(f"{c['n_train']:,} training images, {c['epochs']} epochs ({'/'.join(map(str, c['schedule']))} at eps, "
                 f"eps/10, eps/100), tested on {c['n_test']:,} images."))
arms = ("without_lrn", "with_lrn")
display(report.table(pd.DataFrame({"the paper": [paper["error_without"], paper["error_with"]],
                                   "ours, 10 views": [m["test_error_ten_view"][a]["mean"] for a in arms],
                                   "ours, centre crop": [m["test_error_centre"][a]["mean"] for a in arms]},
                                  index=["test error (%) without LRN", "test error (%) with LRN"]), index=True))

# %% [markdown]
# ### Test error per arm, and per epoch
# Top left: each seed's final test error, 10 views and centre crop, beside the paper's 13% and 11% (stars). Top right:
# the centre-crop test error at every epoch's end (over the scale's sample of test images), one line per seed; dotted
# lines mark the learning-rate drops. Below: the effect of LRN, our 95% interval beside the paper's -2 points and
# the band the rule counts as its size.

# %%
seeds_table = pd.read_csv(f"{folder}/seeds.csv")
curves = pd.read_csv(f"{folder}/curves.csv")
claim.plot_errors(seeds_table, curves, result)
plt.show()

# %% [markdown]
# ### Seed by seed

# %%
report.table(seeds_table, columns=["arm", "seed", "status", "epochs", "test_error_ten_view", "test_error_centre",
                          "final_train_error_running", "final_train_error_centre", "seconds_per_epoch",
                          "wall_time_s"])

# %% [markdown]
# ### Per-epoch history (errors as fractions; `lr_factor` is eps / 0.001)

# %%
report.table(curves, columns=["arm", "seed", "epoch", "lr_factor", "train_loss", "train_error_running", "train_error_full",
                     "test_error", "wall_time_s"])

# %% [markdown]
# ## Provenance

# %%
report.provenance(result)
