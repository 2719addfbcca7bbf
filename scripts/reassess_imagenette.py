"""Move the ablation family's pre-v2 cpu results (Imagenette at 67 px, 8 epochs) to results/<claim>/imagenette/,
decided again by the protocol-v2 rules from their own per-run tables (assessment.reassess_legacy). Run once,
before the CIFAR-10 cpu scale writes results/<claim>/cpu/.

    python scripts/reassess_imagenette.py
"""

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from alexnet_repro import claims  # noqa: E402
from alexnet_repro.claims.family import assessment  # noqa: E402
from alexnet_repro.paths import results_root  # noqa: E402

for slug in claims.family_slugs():
    src, dest = results_root() / slug / "cpu", results_root() / slug / "imagenette"
    if (
        not (src / "result.json").exists()
        or "imagenette" not in json.loads((src / "result.json").read_text())["provenance"]["dataset"]["name"]
    ):
        print(f"{slug}: no Imagenette cpu result to move")
        continue
    res = assessment.reassess_legacy(claims.load(slug), src, dest)
    print(f"{slug}: {res['verdict']} ({res['reason']})")
    shutil.rmtree(src)

# D2's cpu scale made the same move later (to the CIFAR-10 family): its Imagenette result (112 px, a quarter-width
# net) had been re-read under v2 already, with both of its looks, so it moves unchanged but for its scale's name.
src, dest = results_root() / "ten_patch" / "cpu", results_root() / "ten_patch" / "imagenette"
old = json.loads((src / "result.json").read_text()) if (src / "result.json").exists() else None
if old and "imagenette" in old["provenance"]["dataset"]["name"].lower() and not dest.exists():
    from alexnet_repro.results import git_commit, write_result  # noqa: E402

    shutil.copytree(src, dest)
    write_result(
        {
            **old,
            "scale": "imagenette",
            "proxy_note": old.get("proxy_note", "") + " The cpu scale now runs D2 on CIFAR-10 instead.",
            "provenance": {
                **old["provenance"],
                "relocated": {"git_commit": git_commit(), "from": "cpu", "by": "scripts/reassess_imagenette.py"},
            },
        },
        dest,
    )
    shutil.rmtree(src)
    print(f"ten_patch: moved to imagenette ({old['verdict']})")
else:
    print("ten_patch: no Imagenette cpu result to move")
