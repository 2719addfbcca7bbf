"""Re-read the ablation family's committed cpu-scale results (and their confirmations) by today's code, from
their own per-run tables (claims.ablation.reread), Q1's results on the family's nets (claims.kernels.reread) and
L3's (claims.lrn_cifar.reread): nothing is rerun. Run after a change to the code that
assesses results, so that `list` and the book can call them current; a verdict that changes is recorded as a
look.

    python scripts/reread_cpu_family.py [claim ...]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from alexnet_repro import claims  # noqa: E402
from alexnet_repro.claims import ablation, kernels, lrn_cifar  # noqa: E402
from alexnet_repro.results import results_dir  # noqa: E402
from alexnet_repro.staleness import staleness  # noqa: E402

family = [s for s in claims.registry() if claims.has_confirmation(claims.load(s))]
for slug in [s for s in family if s in sys.argv[1:]] if sys.argv[1:] else family:
    for scale in ("cpu", claims.CONFIRMATION):
        folder = results_dir(slug, scale)
        if not (folder / "seeds.csv").exists():
            print(f"{slug}: no {scale} result to re-read")
            continue
        result = ablation.reread(claims.load(slug), folder)
        print(f"{slug} at {scale}: {result['verdict']} ({staleness(result)}); {result['headline']}")

if not sys.argv[1:] or "kernels" in sys.argv[1:]:
    for scale in ("cpu", "imagenette"):
        if (results_dir("kernels", scale) / "seeds.csv").exists():
            result = kernels.reread(results_dir("kernels", scale))
            print(f"kernels at {scale}: {result['verdict']} ({staleness(result)}); {result['headline']}")

if not sys.argv[1:] or "lrn_cifar" in sys.argv[1:]:
    if (results_dir("lrn_cifar", "cpu") / "curves.csv").exists():
        result = lrn_cifar.reread(results_dir("lrn_cifar", "cpu"))
        print(f"lrn_cifar at cpu: {result['verdict']} ({staleness(result)}); {result['reason']}")
