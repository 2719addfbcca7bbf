"""The regime's runs on a GPU (the gpu-regime scale): one device call trains what the repository's mirror lacks,
claim by claim, and packs the finished runs' records so that they come back; here they are unpacked into the mirror
and each claim whose runs are all in is assembled by the CLI (which trains nothing at this scale without a GPU).

The config, the seeds (results/benchmarks/regime_plan.json) and the rules are the cpu-regime's (claims/family/arms.py),
so the plan was fixed before any of these runs. Every arm of a claim trains on the GPU, the paper's net included: a
comparison never pairs a GPU run with a CPU run. Each of --jobs processes loads the data once and trains its share of
the runs, one at a time; no run starts that would end after --end-by-s, and the pack is rewritten after each
finished run, so a call cut at its limit still returns every run that finished.

    here first:     mkdir -p .carry && cp ../shared/data/cifar10-jpg.tar.gz .carry/    (git-ignored; 20 MB carried)
    on the device:  (device `run`, carry [".carry"], timeout_s 600; the copy there may have no .git, so the commit
                    that trains is named)
                    export ALEXNET_REPRO_GIT_COMMIT=<git rev-parse HEAD here> ALEXNET_REPRO_RUNS=/tmp/runs \
                        ALEXNET_REPRO_CACHE=/tmp/cache TORCHINDUCTOR_COMPILE_THREADS=1 PYTHONPATH=$PWD
                    python3 scripts/gpu_regime.py train --data-root .carry --jobs 12 --end-by-s 510 --out $OUT
    here:           python scripts/gpu_regime.py unpack <the call's files folder>
                    python scripts/gpu_regime.py            # what is in, per claim
                    python -m alexnet_repro run <claim> --scale gpu-regime   (for each claim whose runs are in)
"""

import argparse
import json
import multiprocessing
import os
import platform
import sys
import tarfile
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from alexnet_repro import claims  # noqa: E402
from alexnet_repro.claims.contract import scale_config  # noqa: E402
from alexnet_repro.claims.family import arms, training  # noqa: E402
from alexnet_repro.paths import results_root  # noqa: E402
from alexnet_repro.results import device_name  # noqa: E402
from alexnet_repro.runs import stored_record  # noqa: E402

SCALE = claims.GPU_REGIME
PACK = "gpu_regime_runs.tar.gz"
# The claims the cpu-regime campaign reaches last first, so that a call cut short completes the claims the
# regime lacks; then the rest, whose cpu-regime verdicts these runs check across devices.
ORDER = ("pca_colour", "weight_decay", "overlapping_pool", "batchnorm")


def mirror():
    return results_root() / "runs" / arms.FAMILY / SCALE


def jobs_of(slugs):
    """[(slug, arm, seed, ten_view)] every run the claims need, each once, in claim order; ten_view where a claim
    reads the arm's 10-view test (D2), which needs the checkpoint and so is evaluated where it trains."""
    seen, out = {}, []
    for slug in slugs:
        mod = claims.load(slug)
        ten = {c.treatment.name for c in arms.comparisons(mod, SCALE) if c.ten_view}
        for chain in mod.plan(SCALE):
            for stage in chain:
                for job in stage:
                    key = (job["arm"], job["seed"])
                    if key in seen:
                        seen[key][3] |= job["arm"] in ten
                        continue
                    seen[key] = [slug, job["arm"], job["seed"], job["arm"] in ten]
                    out.append(seen[key])
    return [tuple(j) for j in out]


def status(data_root=None):
    """{slug: (runs in the store or the mirror, runs planned)}, in ORDER then the family's."""
    fam = training.Family(scale_config(arms.SCALES, SCALE), SCALE, "cpu", data_root)
    out = {}
    for slug in (*ORDER, *(s for s in claims.family_slugs() if s not in ORDER)):
        jobs = jobs_of([slug])
        out[slug] = (sum(1 for _, arm, seed, _ in jobs if _stored(fam, arm, seed)), len(jobs))
    return out


def _stored(fam, arm, seed):
    return stored_record(fam.work_dir, fam.describe_run(arms.CATALOGUE[arm], seed)[1], fam.mirror)


def _worker():
    os.environ["ALEXNET_REPRO_QUIET"] = "1"  # no progress bars from a dozen processes
    import torch

    torch.set_num_threads(1)  # the work is on the GPU; 16 cores shared by the processes


_FAMILY = None


def _train(arm, seed, ten_view, data_root, device):
    """In a worker: one run (its record, top-5 and, where asked, 10-view test land in the store and the mirror)."""
    global _FAMILY
    if _FAMILY is None:  # the data on the GPU once per process
        _FAMILY = training.Family(scale_config(arms.SCALES, SCALE), SCALE, device, data_root)
    t0 = time.time()
    row, _ = _FAMILY.train_arm(arms.CATALOGUE[arm], seed, ten_view=ten_view)
    return {
        "arm": arm,
        "seed": seed,
        "status": row["status"],
        "val_top1": row["val_top1"],
        "seconds": round(time.time() - t0, 1),
        "pid": os.getpid(),
    }


def pack(out, log):
    """The mirror's records and cached evaluations -> out/PACK (written whole, then renamed), and the log."""
    tmp = out / f".{PACK}.tmp"
    with tarfile.open(tmp, "w:gz") as tar:
        if mirror().exists():
            tar.add(mirror(), arcname=SCALE)
    os.replace(tmp, out / PACK)
    (out / "gpu_regime_log.json").write_text(json.dumps(log, indent=1) + "\n")


def train(args):
    import torch

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    slugs = args.claims.split(",") if args.claims else [*ORDER, *(s for s in claims.family_slugs() if s not in ORDER)]
    # the data decoded and cached once, before the workers read it
    fam = training.Family(scale_config(arms.SCALES, SCALE), SCALE, args.device, args.data_root)
    todo = [j for j in jobs_of(slugs) if j[3] or not _stored(fam, j[1], j[2])]  # a 10-view test: read if cached
    log = {
        "device": device_name(fam.device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "jobs": args.jobs,
        "end_by_s": args.end_by_s,
        "claims": slugs,
        "planned": len(todo),
        "runs": [],
    }
    del fam
    print(f"{len(todo)} runs to train on {log['device']} in {args.jobs} processes", flush=True)
    start = time.monotonic()

    def fits(now):
        """Whether a run started now ends by --end-by-s, at the longest a run has taken so far (runs share the GPU)."""
        took = [r["seconds"] for r in log["runs"] if "seconds" in r]
        return now + (max(took) * 1.1 if took else 0) <= args.end_by_s

    pool = (
        ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_worker)
        if args.jobs > 1
        else ThreadPoolExecutor(1)  # one job: in this process (what the tests drive)
    )
    with pool:
        queue, running = list(todo), {}
        while queue or running:
            while queue and len(running) < args.jobs and fits(time.monotonic() - start):
                slug, arm, seed, ten = queue.pop(0)
                running[pool.submit(_train, arm, seed, ten, args.data_root, args.device)] = (slug, arm, seed)
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for f in done:
                slug, arm, seed = running.pop(f)
                try:
                    entry = f.result()
                except Exception as e:  # named in the log; the others go on
                    entry = {"arm": arm, "seed": seed, "status": f"failed: {type(e).__name__}: {e}"}
                entry.update(claim=slug, at_s=round(time.monotonic() - start, 1))
                log["runs"].append(entry)
                print(json.dumps(entry), flush=True)
            pack(out, log)
    log["not_started"] = len(queue)
    log["wall_s"] = round(time.monotonic() - start, 1)
    pack(out, log)
    print(f"trained {len(log['runs'])} runs in {log['wall_s']} s; {len(queue)} not started", flush=True)


def unpack(folder):
    """A call's pack -> the mirror (results/runs/alexnet_ablations/gpu-regime/), and its log (the device, each run's
    seconds under sharing, what failed) -> results/benchmarks/gpu_regime_calls/<when it came back>.json."""
    folder = Path(folder)
    with tarfile.open(folder / PACK) as tar:
        tar.extractall(mirror().parent, filter="data")
    log = json.loads((folder / "gpu_regime_log.json").read_text())
    calls = results_root() / "benchmarks" / "gpu_regime_calls"
    calls.mkdir(parents=True, exist_ok=True)
    (calls / f"{time.strftime('%Y-%m-%dT%H%M%S', time.gmtime())}.json").write_text(json.dumps(log, indent=1) + "\n")
    print(f"{len(log['runs'])} runs from {log['device']} (torch {log['torch']}), {log.get('not_started')} not started")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command")
    t = sub.add_parser("train", help="on the device: train what the mirror lacks, packing as runs finish")
    t.add_argument("--data-root", required=True)
    t.add_argument("--jobs", type=int, default=8)
    t.add_argument("--end-by-s", type=float, default=480, help="start no run that would end after this many seconds")
    t.add_argument("--claims", help="comma-separated slugs (default: every family claim, ORDER first)")
    t.add_argument("--out", required=True)
    t.add_argument("--device", default="cuda", help="cuda, cuda:1 ... (this scale trains on a GPU alone)")
    u = sub.add_parser("unpack", help="here: put a call's runs into the mirror")
    u.add_argument("folder")
    ap.add_argument("--data-root", default=os.environ.get("ALEXNET_REPRO_DATA"))
    args = ap.parse_args(argv)
    if args.command == "train":
        return train(args)
    if args.command == "unpack":
        return unpack(args.folder)
    for slug, (done, planned) in status(args.data_root).items():
        print(f"{slug:<18} {done:>3} / {planned}")


if __name__ == "__main__":
    main()
