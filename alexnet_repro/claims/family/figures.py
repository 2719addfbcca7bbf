"""The family's figures and tables: each arm's error and curves, and each comparison's effect beside the paper's."""

import pandas as pd

from .. import contract, load


def effect_rows(result):
    """The claim's comparisons as the effect panel draws them, each with the rule that decided it (a reported
    comparison without a rule of its own gets none: the claim's main rule's band is not its size)."""
    from ...figures import EffectRow

    mod = load(result["claim"])
    return [
        EffectRow(
            c["label"],
            c["effect"],
            contract.rule_for(mod, c["label"], c.get("decides", True)),
            c.get("paper"),
            c.get("per_seed", []),
            c["verdict"] if c.get("decides", True) else "",
            c["kind"] == "ratio",
        )
        for c in result.get("comparisons", [])
    ]


def plot_arms(seeds_table, curves, result):
    """Top left: each arm's validation top-1 error, seeds as points. Top right: validation error per epoch.
    Below: each comparison's effect with its 95% interval beside the paper's number and band (figures.py)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from ...figures import effect_axes, wrap

    rows = effect_rows(result)
    fig = plt.figure(figsize=(11, 4.6 + 0.55 * len(rows)), layout="constrained")
    arms_fig, effects_fig = fig.subfigures(2, 1, height_ratios=[3.8, 0.8 + 0.55 * len(rows)])
    axes = arms_fig.subplots(1, 2)
    order = list(result["measured"]["arms"])
    arms = dict(data=seeds_table, y="arm", x="val_top1", order=order, ax=axes[0])
    sns.stripplot(**arms, hue="arm", hue_order=order, size=7, legend=False)
    sns.pointplot(
        **arms,
        color="black",
        markers="|",
        linestyle="none",
        errorbar=("ci", 95),
        seed=0,  # the bootstrap's draws fixed: the page rendered twice from one result is the same file
    )
    axes[0].set(xlabel="validation top-1 error (%), centre crop", ylabel="")
    c = curves.assign(val_top1=100 * curves["test_error"])
    sns.lineplot(data=c, x="epoch", y="val_top1", hue="arm", hue_order=order, errorbar=("pi", 100), ax=axes[1])
    axes[1].set(xlabel="epoch", ylabel="validation top-1 error (%)")
    effect_axes(effects_fig, rows)
    fig.suptitle(
        wrap(
            f"{result['claim_id']}, scale '{result['scale']}'{' (proxy)' if result['proxy'] else ''}: "
            f"{result['headline']}",
            140,
        ),
        fontsize=10,
    )
    return fig


def arms_table(result):
    """Each arm's measures: the mean over seeds (result['measured']['arms'] has the intervals)."""
    return pd.DataFrame(
        {arm: {k: v.get("mean") for k, v in d.items()} for arm, d in result["measured"]["arms"].items()}
    ).T.round(2)
