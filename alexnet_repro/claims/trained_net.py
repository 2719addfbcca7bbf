"""The trained paper's net of the ablation family, for the claims that analyse it (Q1, Q2).

Q1 (first-layer kernels) and Q2 (nearest neighbours in the last hidden layer) train nothing of
their own: they look inside the `PAPER` arm of claims/ablation.py, the very runs the ablation
claims compare against, found in the family's shared run store (or trained there if absent).
This module loads those runs, plans them (the family's jobs) and describes them for the contract.
"""

import math
from dataclasses import asdict

from ..runs import final_model, stored_record
from . import ablation
from .ablation import PAPER, Family
from .contract import Trained, value


def decided_by() -> dict:
    """What of the family decides a claim that reads its paper's nets, by value (contract.decided_by): the
    family's assessing code's version (convergence, chance), its configs per scale and the arm it reads."""
    return {
        "family_assessment": ablation.DECISION_VERSION,
        "family_scales": {scale: value(ablation.family_config(scale)) for scale in ablation.SCALES},
        "arm": value(PAPER),
    }


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
    return {
        "seed": row["seed"],
        "status": row["status"],
        "epochs": row["epochs"],
        "val_top1": row["val_top1"],
        "wall_time_s": row["wall_time_s"],
    }


def proxy_note(fam, extra=""):
    return f"{ablation.proxy_note(fam, 'ImageNet (ILSVRC-2010)')} {extra}".strip()


def plan(scale, seeds=None):
    """The runs Q1 and Q2 read: the family's paper's net, one chain per seed (jobs of ablation.run_job)."""
    return ablation.plan_arms([PAPER], scale, seeds)


def family_trained(fam, rows, analysis_config, tables, proxy_extra="", files=None, context=None) -> Trained:
    """What a claim looking inside the paper's nets hands its assess: its rows and tables, and the provenance
    of the family's runs it read (contract.Trained)."""
    cfg = fam.cfg
    records = [stored_record(fam.work_dir, fam.describe_run(PAPER, s)[1]) for s in cfg.seeds]
    return Trained(
        rows=rows,
        tables=tables,
        device=fam.device,
        dataset=fam.data.description,
        seeds=cfg.seeds,
        config={
            **asdict(cfg),
            "net": asdict(fam.base),
            "arm": {"name": PAPER.name, **PAPER.describe()},
            "analysis": analysis_config,
        },
        wall_time_s=sum(r["wall_time_s"] for r in rows if math.isfinite(r["wall_time_s"])),
        precision=cfg.precision,
        proxy=fam.scale != "paper",
        proxy_note=proxy_note(fam, proxy_extra),
        trained_at=sorted({r.get("trained_at", "unknown") for r in records if r}),
        files=files or {},
        context=context or {},
    )
