# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # D2: crops and flips curb overfitting; 10 patches beat the centre crop
#
# > "Without this scheme, our network suffers from substantial overfitting, which would have forced us to use much smaller networks. At test time, the network makes a prediction by extracting five 224x224 patches (the four corner patches and the center patch) as well as their horizontal reflections (hence ten patches in all), and averaging the predictions made by the network's softmax layer on the ten patches." (section 4.1). ILSVRC-2010: 39.0% / 18.3% top-1 / top-5 with one patch, 37.5% / 17.0% with ten (section 6).
#
# **The experiment.** Two comparisons of the ablation family (`claims/ablation.py`). The training half: the paper's net, trained on random crops and their mirror images, against the same net trained on the centre crop alone; effect: validation top-1 error (centre crop), crops minus none, with the train-test gap beside it. The test half: each trained paper's net evaluated on the centre crop and with its softmax averaged over 10 views; effect: 10 views minus centre crop, seed by seed, on the same net.
#
# **The scale.** At the cpu scale the family runs on CIFAR-10: the CIFAR-10 AlexNet (the paper's net with every switch and its two-column wiring, for 24 px crops of 32 px images), 10,000 training images, 15 epochs. It is a proxy for ImageNet; the proxy note under the result lists every departure from the paper's recipe. The gpu and paper scales run the full net on ImageNet-layout data. The runs made on Imagenette before protocol v2 are in `results/ten_patch/imagenette/`, re-read under the v2 rules.

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
# out_dir: empty means results/ten_patch/<scale>/
out_dir = ""
# download: unused here (ImageNet-layout data cannot be downloaded by the suite)
download = False

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
from alexnet_repro import report
from alexnet_repro.results import results_dir
from alexnet_repro.claims import ablation, ten_patch as claim
from alexnet_repro.seeds import parse_seeds

result = claim.run(scale, seeds=parse_seeds(seeds),
                   device=device, data_root=data_root or None, out_dir=out_dir or None)
folder = out_dir or results_dir(claim.CLAIM.slug, scale)

# %% [markdown]
# ## The verdict rule (fixed before the run)

# %%
report.rule(result)

# %% [markdown]
# ## Result

# %%
report.show(result)

# %% [markdown]
# ### Validation error by arm, and each effect beside the paper's
# Top left: each seed's final validation top-1 error (centre crop), with the mean and its 95% interval. Top right:
# validation error per epoch; the band spans the seeds. Below: each comparison's effect, our 95% interval beside
# the paper's number and the band the rule counts as the paper's size.

# %%
seeds_table = pd.read_csv(f"{folder}/seeds.csv")
ablation.plot_arms(seeds_table, pd.read_csv(f"{folder}/curves.csv"), result)
plt.show()

# %% [markdown]
# ### Each run
# `gap` is validation minus training top-1 error, both from the same centre-crop pass in eval mode;
# `converged_epoch` is the first epoch within 1 point of the run's best validation error.

# %%
seeds_table[["arm", "seed", "status", "epochs", "val_top1", "val_top5", "train_top1", "gap",
             "converged_epoch", "seconds_per_epoch"]].round(2)

# %% [markdown]
# ### Per arm: mean over seeds

# %%
ablation.arms_table(result)

# %% [markdown]
# ## Provenance

# %%
report.provenance(result)
