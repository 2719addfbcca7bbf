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
# # R1: ReLU vs tanh, time to 25% training error
#
# > "A four-layer convolutional neural network with ReLUs reaches a 25% training error rate on CIFAR-10
# > six times faster than an equivalent network with tanh neurons." (Krizhevsky et al. 2012, section 3.1, Fig. 1)
#
# **The experiment.** cuda-convnet's *19pct* net (conv 32-32-64 5x5 and one FC layer: the four weight layers the paper's
# footnote points to), with either activation and no regularization of any kind. For each activation its own
# learning-rate sweep picks the rate that reaches 25% training error in the fewest epochs (the paper chose rates
# "independently to make training as fast as possible"); at that rate several seeds measure the epochs to 25%.
# The speedup is epochs(tanh) / epochs(ReLU), seed by seed, with a 95% interval.
#
# **The measure.** The paper's Fig. 1 plots cuda-convnet's training error: the error over each epoch's
# minibatches while the net trains. The verdict uses that running error. A full evaluation pass at each
# epoch's end (over a fixed sample of the training set) is recorded too and reported beside it.

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
# out_dir: empty means results/relu_vs_tanh/<scale>/
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

claim = claims.load("relu_vs_tanh")
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
m = result["measured"]
display(Markdown(f"The speedup by the epoch-end evaluation pass instead: {claim.fmt_speedup(m.get('speedup_full_pass'))}. "
                 f"Best learning rates, each chosen for its activation: ReLU {m['best_lr']['relu']}, tanh {m['best_lr']['tanh']}."))

# %% [markdown]
# ### Training error against epochs (the paper's Fig. 1), and the speedup beside the paper's 6x
# Each line is one activation at its best learning rate; the band spans the seeds. The dashed line is the 25% target.
# Below: each setup's speedup, our 95% interval beside the paper's 6x and the band the rule counts as its size.

# %%
curves = pd.read_csv(f"{folder}/curves.csv")
claim.plot_curves(curves, result)
plt.show()

# %% [markdown]
# ### Epochs to the target, seed by seed

# %%
seeds_table = pd.read_csv(f"{folder}/seeds.csv")
report.table(seeds_table, columns=["setup", "activation", "lr", "seed", "status", "epochs_to_target",
                                   "epochs_to_target_full", "final_train_error_running", "final_test_error",
                                   "wall_time_s"])

# %% [markdown]
# ### The learning-rate sweep
# Rates are tried from the grid's middle outwards; a run stops (status `budget`) once it has used more epochs than
# the fastest run so far, since it can no longer be the fastest. `diverged` runs hit a non-finite loss.

# %%
sweep = pd.read_csv(f"{folder}/sweep.csv")
report.table(sweep, columns=["arm", "lr", "status", "epochs_run", "epochs_to_target", "final_train_error_running"])

# %% [markdown]
# ## The input's scale, measured with every seed
# The paper's setup (cuda-convnet's 0..255 pixels minus the mean image) decides the verdict. The same protocol with inputs standardized to unit scale is measured with every seed too (and, at the gpu scale, without momentum as well): how big the speedup is depends on this choice, which the paper does not state. At the cpu scale the standardized setup without momentum is a row of the sensitivity table below (one seed).

# %%
rows = [{"setup": claim.DEFAULTS, **m, **claim.decided(result)}] + [{"setup": k, **v} for k, v in m.get("setups", {}).items()]
report.table(pd.DataFrame([{"setup": r["setup"], "best lr ReLU": r["best_lr"]["relu"],
                            "best lr tanh": r["best_lr"]["tanh"],
                            "epochs ReLU": r["epochs_to_target"]["relu"].get("mean"),
                            "epochs tanh": r["epochs_to_target"]["tanh"].get("mean"),
                            "speedup (95% CI)": claim.fmt_speedup(r.get("speedup"))} for r in rows]))

# %% [markdown]
# ## Why the speedup is what it is: the choices the paper leaves open
# The paper gives neither momentum, initialization nor input scaling for Fig. 1. Each row below repeats the sweep
# (one seed) with one of those choices changed from cuda-convnet's defaults; only scales whose config lists these
# variants run them.

# %%
report.table(pd.DataFrame(result["sensitivity"]))

# %% [markdown]
# ## Provenance

# %%
report.provenance(result)
