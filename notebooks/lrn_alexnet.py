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
# # L2: Local response normalization lowers the error
#
# > "Response normalization reduces our top-1 and top-5 error rates by 1.4% and 1.2%, respectively." (Krizhevsky et al. 2012, section 3.3)
#
# **The experiment.** The paper's net against the same net without its two LRN layers; everything else held equal (see claims/family/). Effect: validation top-1 error with LRN minus without, per seed.
#
# **The scale.** The scale declared to decide is `cpu-regime`: CIFAR-10, the CIFAR-10 AlexNet (the paper's net with every switch and its two-column wiring, for 24 px crops of 32 px images), 10,000 training images, trained for the number of epochs a pilot on held-out images chose so that the paper's net converges (its last 3 epochs gain under 1 point) and overfits (a train-test gap of 8 points or more); each comparison's seeds are fixed before its runs, and its verdict follows protocol v3 (on a proxy the verdict decides the direction; the size is stated beside it). The `gpu-regime` scale is the same regime (the same config, the seeds the same plan fixed, the same rules) with every run trained on a GPU: it decides a claim the cpu-regime campaign has not reached yet, and sits beside the cpu-regime's verdict, as a check across devices, where both are in. The earlier `cpu` scale trained the same nets for 15 epochs, before they converged or overfit (protocol v2). It is a proxy for ImageNet; the proxy note under the result lists every departure from the paper's recipe. The gpu and paper scales run the full net on ImageNet-layout data. The runs made on Imagenette before protocol v2 are in `results/lrn_alexnet/imagenette/`, re-read under the v2 rules. An inconclusive cpu result is the pilot of a confirmation (scale `cpu-confirmation`): the same experiment on fresh seeds, as many as the pilot says would decide it, decided alone with the pilot beside it. Until a claim's result in the regime is in (`cpu-regime`, else `gpu-regime`), the verdict that stands is an earlier scale's, the one `python -m alexnet_repro list` names; the header above the result says which scale this page shows.
#
# Every arm of this family (claims/family/) is the paper's net with one switch changed, trained on the same images with the same seeds; runs are shared across the family's claims, so the paper's net trains once per seed.

# %% tags=["parameters"]
# Parameters, set by papermill (-p scale cpu -p seeds 0,1,2 -p device cuda -p data_root PATH)
# scale: smoke | cpu-regime | gpu-regime | cpu | gpu | paper | cpu-confirmation (an inconclusive cpu result's
# confirmation: fresh seeds, as many as that result says would decide it; leave seeds empty)
scale = "smoke"
# seeds: comma-separated; empty means the scale's own seeds
seeds = ""
# device: auto (cuda if present) | cpu | cuda
device = "auto"
# data_root: CIFAR-10 at the cpu scale; ImageNet-layout data (train/, val/: Imagenette, ILSVRC) at the smoke,
# gpu and paper scales; empty means $ALEXNET_REPRO_DATA, else ~/data
data_root = ""
# out_dir: empty means results/lrn_alexnet/<scale>/
out_dir = ""
# download: fetch CIFAR-10 through torchvision where the scale reads it (ImageNet-layout data cannot be)
download = False
# render: show the result already in out_dir (result.json and its tables) as it is, training nothing
# (`python -m alexnet_repro render`); else find or train the runs, assess them and write the result there
render = False

# %%
# %matplotlib inline
from alexnet_repro import claims, rendering, report

claim = claims.load("lrn_alexnet")
folder = rendering.default_folder(claim, scale, out_dir)
# The data, when it trains: data_root, else $ALEXNET_REPRO_DATA, else ~/data; at the smoke scale, when none is
# found there, the sample shipped with the package (as `python -m alexnet_repro run` does).
result = rendering.result_for(claim, scale, folder, render, seeds=seeds, device=device, data_root=data_root,
                              download=download)

# %% [markdown]
# ## Result

# %%
report.family(result, folder)

# %% [markdown]
# ## Provenance

# %%
report.provenance(result)
