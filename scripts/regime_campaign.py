"""The cpu-regime campaign (issue 20), resumable across sessions: what is done, what remains, and the next runs.

Every claim of the ablation family at the cpu-regime scale, cheapest first (the fewest planned seeds:
__main__.regime_order). A run counts as done when its record is in the run store or in the repository's mirror
of it (results/runs/, runs.py), so a fresh machine sees what earlier sessions trained. With --go it runs what is
missing, one claim after another, through the CLI (`run <claim> --scale cpu-regime --jobs N`), which assembles
each claim's result once its runs are done; --until stops before a claim whose runs would not finish by then (at
the measured minutes per run). Commit results/ as claims finish: that is what the next session starts from.

    python scripts/regime_campaign.py --data-root ../shared/data          # the status (run keys name the data)
    python scripts/regime_campaign.py --go --jobs 2 --until 05:00 --data-root ../shared/data
"""

import argparse
import datetime
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from alexnet_repro import claims  # noqa: E402
from alexnet_repro.__main__ import regime_order  # noqa: E402
from alexnet_repro.claims.contract import scale_config  # noqa: E402
from alexnet_repro.claims.family import arms, training  # noqa: E402
from alexnet_repro.data.errors import DataError  # noqa: E402
from alexnet_repro.paths import results_root  # noqa: E402
from alexnet_repro.runs import stored_record  # noqa: E402


def status(data_root):
    """[(slug, runs done, runs planned, minutes of the done runs)] in campaign order. A run shared by several claims
    (the paper's net) counts in each of them."""
    fam = training.Family(scale_config(arms.SCALES, claims.REGIME), claims.REGIME, "cpu", data_root)
    rows = []
    for slug in regime_order():
        mod = claims.load(slug)
        jobs = [job for chain in mod.plan(claims.REGIME) for stage in chain for job in stage]
        records = [
            stored_record(fam.work_dir, fam.describe_run(arms.CATALOGUE[j["arm"]], j["seed"])[1], fam.mirror)
            for j in jobs
        ]
        done = [r for r in records if r]
        rows.append((slug, len(done), len(jobs), sum(r["wall_time_s"] for r in done) / 60))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=os.environ.get("ALEXNET_REPRO_DATA"))
    parser.add_argument("--go", action="store_true", help="run what is missing (else print the status)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--until", help="HH:MM (UTC, today): start no claim whose missing runs would end later")
    args = parser.parse_args()
    try:
        rows = status(args.data_root)
    except DataError as e:  # a run's key names its data's checksum: even the status needs the data
        sys.exit(f"regime_campaign: {e}")
    done_runs = sum(d for _, d, _, _ in rows)  # shared runs counted once per claim, in the minutes too
    minutes = sum(m for *_, m in rows)
    per_run = minutes / done_runs if done_runs else 10.0  # before any run: the paper's net at 60 epochs in bf16
    stored = results_root() / "runs" / arms.FAMILY / claims.REGIME
    print(f"{'claim':<18} {'runs done':>10}   result")
    for slug, done, planned, _ in rows:
        has = (REPO / "results" / slug / claims.REGIME / "result.json").exists()
        print(f"{slug:<18} {done:>4} / {planned:<4}   {'assembled' if has else '-'}")
    unique = len(list(stored.glob("*/record.json"))) if stored.exists() else 0
    print(
        f"{unique} runs recorded in {stored.relative_to(REPO) if stored.is_relative_to(REPO) else stored} "
        f"({per_run:.1f} min each on average, one process each)"
    )
    if not args.go:
        return
    deadline = (
        datetime.datetime.combine(datetime.date.today(), datetime.time.fromisoformat(args.until))
        if args.until
        else None
    )
    for slug in [r[0] for r in rows]:
        # read again before each claim: an earlier claim's runs (the shared paper's net) count as done for it
        ((_, done, planned, _),) = [r for r in status(args.data_root) if r[0] == slug]
        missing = planned - done
        has = (REPO / "results" / slug / claims.REGIME / "result.json").exists()
        if not missing and has:
            continue
        need = datetime.timedelta(minutes=per_run * missing / args.jobs)
        if deadline and datetime.datetime.now() + need > deadline:
            print(f"stop: {slug} needs {missing} runs, ~{need.total_seconds() / 60:.0f} min, past {args.until}")
            break
        print(f"{slug}: {missing} runs to train, ~{need.total_seconds() / 60:.0f} min", flush=True)
        cmd = [sys.executable, "-m", "alexnet_repro", "run", slug, "--scale", claims.REGIME, "--jobs", str(args.jobs)]
        subprocess.run(cmd + (["--data-root", args.data_root] if args.data_root else []), check=True, cwd=REPO)


if __name__ == "__main__":
    main()
