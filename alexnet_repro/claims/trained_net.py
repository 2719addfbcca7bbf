"""The trained paper's net of the ablation family, for the claims that analyse it (Q1, Q2).

Q1 (first-layer kernels) and Q2 (nearest neighbours in the last hidden layer) train nothing of
their own: they look inside the `PAPER` arm of claims/ablation.py, the very runs the ablation
claims compare against, found in the family's shared run store (or trained there if absent).
This module loads those runs and fills in the result fields every claim writes.
"""
import math
from dataclasses import asdict

from ..results import provenance
from ..runs import final_model
from . import ablation
from .ablation import PAPER, Family


def load_family(scale, seeds=None, device=None, data_root=None, work_dir=None):
    """(Family, its Config) at `scale`, with the seeds overridden when given."""
    cfg = ablation.family_config(scale, seeds)
    return Family(cfg, scale, device, data_root, work_dir), cfg


def trained_nets(fam):
    """For each seed of the family: (seed, the run's row, its trained model in eval mode on the
    family's device, or None if the run diverged or its weights are not finite)."""
    for seed in fam.cfg.seeds:
        row, _ = fam.run(PAPER, seed)
        model = None
        if row["status"] != "diverged":
            model = final_model(fam.work_dir, fam.describe_run(PAPER, seed)[1], lambda: fam.build(PAPER)).eval()
            if not all(p.isfinite().all() for p in model.parameters()):
                model = None
        yield seed, row, model


def run_row(row):
    """The training facts of one run worth carrying into an analysis table."""
    return {"seed": row["seed"], "status": row["status"], "epochs": row["epochs"], "val_top1": row["val_top1"],
            "wall_time_s": row["wall_time_s"]}


def proxy_note(fam, extra=""):
    return f"{ablation.proxy_note(fam, 'ImageNet (ILSVRC-2010)')} {extra}".strip()


def base_result(claim, fam, scale, rows, analysis_config, paper_extra=None):
    """The fields every claim's result carries, less measured / headline / verdict / verdict_rule."""
    cfg = fam.cfg
    wall = sum(r["wall_time_s"] for r in rows if math.isfinite(r["wall_time_s"]))
    return {
        "claim": claim.slug, "claim_id": claim.id, "title": claim.title, "scale": scale,
        "proxy": scale != "paper",
        "paper": {"says": claim.paper_says, "number": claim.paper_number, **(paper_extra or {}),
                  "section": claim.section, "data": claim.paper_data},
        "provenance": provenance(
            device=fam.device, dataset=fam.data.description, seeds=cfg.seeds, scale=scale,
            config={**asdict(cfg), "net": asdict(fam.base),
                    "arm": {"name": PAPER.name, **PAPER.describe()},
                    "analysis": analysis_config},
            wall_time_s=wall, precision=cfg.precision),
    }
