"""Re-read committed results by today's code from their own per-run tables: the ablation family's cpu-scale results
(and their confirmations, claims.assessment.reread), Q1's results on the family's nets (claims.kernels.reread), L3's
(claims.lrn_cifar.reread) and R1's at cpu and gpu scale (claims.relu_vs_tanh.reread): nothing is rerun. Run after a
change to the code that assesses results, so that `list` and the book can call them current; a verdict that changes
is recorded as a look.

    python scripts/reread_cpu_family.py [claim ...]
    python scripts/reread_cpu_family.py --check [claim ...]   # re-read copies; exit 1 if any result would change
    (either exits 1 where a result cannot be re-read: its runs are not what today's training gives; rerun it)
"""

import math
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from alexnet_repro import claims  # noqa: E402
from alexnet_repro.claims import kernels, lrn_cifar, relu_vs_tanh  # noqa: E402
from alexnet_repro.claims.family import assessment  # noqa: E402
from alexnet_repro.results import read_result, results_dir  # noqa: E402
from alexnet_repro.staleness import staleness  # noqa: E402

# What a re-read decides: a result re-reads identically when these are equal (numbers to 1e-3: the committed
# intervals of protocol v2 used a 3-decimal t table).
DECIDED = ("verdict", "headline", "reason", "verdict_rule", "comparisons", "measured")


def differences(new, old, where=""):
    """[where two JSON values differ], numbers compared to 1e-3; NaN is what a result file stores as null."""
    new, old = (None if isinstance(x, float) and math.isnan(x) else x for x in (new, old))
    if isinstance(new, dict) and isinstance(old, dict):
        return [d for k in sorted(set(new) | set(old)) for d in differences(new.get(k), old.get(k), f"{where}.{k}")]
    if isinstance(new, list) and isinstance(old, list) and len(new) == len(old):
        return [d for i, (a, b) in enumerate(zip(new, old)) for d in differences(a, b, f"{where}[{i}]")]
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (new, old))
    if numbers and math.isclose(new, old, rel_tol=1e-3, abs_tol=1e-3):
        return []
    return [] if new == old else [f"{where}: {old!r} -> {new!r}"]


def targets(only):
    """(label, folder, re-read function) of every committed result this script re-reads."""
    family = [s for s in claims.family_slugs() if not only or s in only]
    for slug in family:
        for scale in ("cpu", claims.CONFIRMATION, claims.REGIME):
            folder = results_dir(slug, scale)
            if (folder / "seeds.csv").exists():
                yield f"{slug} at {scale}", folder, lambda f, s=slug: assessment.reread(claims.load(s), f)
    if not only or "kernels" in only:
        for scale in ("cpu", "imagenette"):
            if (results_dir("kernels", scale) / "seeds.csv").exists():
                yield f"kernels at {scale}", results_dir("kernels", scale), kernels.reread
    if (not only or "lrn_cifar" in only) and (results_dir("lrn_cifar", "cpu") / "curves.csv").exists():
        yield "lrn_cifar at cpu", results_dir("lrn_cifar", "cpu"), lrn_cifar.reread
    if not only or "relu_vs_tanh" in only:
        for scale in ("cpu", "gpu"):
            if (results_dir("relu_vs_tanh", scale) / "sweep.csv").exists():
                yield f"relu_vs_tanh at {scale}", results_dir("relu_vs_tanh", scale), relu_vs_tanh.reread


def main(argv):
    check = "--check" in argv
    only = [a for a in argv if a != "--check"]
    changed = 0
    for label, folder, reread in targets(only):
        old = read_result(folder / "result.json")
        try:
            if not check and staleness(old) == "current" and not reread_differences(folder, reread, old):
                print(f"{label}: current and re-reads identically; left as it is")  # a new stamp would say nothing
                continue
            if not check:
                result = reread(folder)
                print(f"{label}: {result['verdict']} ({staleness(result)}); {result['headline']}")
                continue
            diff = reread_differences(folder, reread, old)
        except ValueError as e:  # a re-read refuses a result whose runs today's training would not give
            changed += 1
            print(f"{label}: NOT RE-READ: {e}")
            continue
        changed += bool(diff)
        print(f"{label}: {'re-reads identically' if not diff else 'CHANGES: ' + '; '.join(diff[:5])}")
    return 1 if changed else 0


def reread_differences(folder, reread, old):
    """[how `old`, the result in folder, differs from what today's code re-reads from its tables], read from a copy
    so that nothing under results/ is written, and compared as the re-read writes it (an infinity as null)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / folder.name
        shutil.copytree(folder, copy)
        reread(copy)
        result = read_result(copy / "result.json")
    return [d for k in DECIDED for d in differences(result.get(k), old.get(k), k)]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
