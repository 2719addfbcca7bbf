"""One prepared GPU campaign: claims trained and assessed in one call, their compact results packed to come back.

The device machine returns at most 8 files of 16 MiB (64 MiB in all) from $OUT, and one command runs at most 10
minutes. `run` trains and assesses each claim in turn through the CLI (`python -m alexnet_repro run CLAIM --scale S
--jobs N --out-dir WORK/results`, the run store in WORK/runs), starts no claim after --deadline-s, and packs what
matters: every claim's results folder (result.json, CSVs, the executed notebook, run.json), the run store's JSON
(each finished run's record.json and the evaluations cached beside it; never a checkpoint), each claim's log and
campaign.json (per claim: done, failed, cut or not started; seconds; verdict). The pack is one campaign.tar.gz,
cut into parts of at most 15 MB with a sha256 manifest (scripts/carry_data.py) when larger.

A second call finishes what the first could not: carry the first pack back in (`--resume DIR`) and every finished
run is read from its record instead of trained again (claims read their cached evaluations, not the models).
`unpack` puts a pack's results where the repository keeps them: results/<claim>/<scale>/.

    here:        python scripts/gpu_campaign.py run --scale smoke --claims lrn_alexnet --pack /tmp/pack  (tested)
    on the GPU:  python3 scripts/gpu_campaign.py run --scale gpu --data-root /tmp/data/imagenette-224.tar.gz \\
                     --jobs 4 --deadline-s 480 --pack $OUT        (timeout_s 600: a claim started by 480 s ends)
    second call: the same with --resume .carry/campaign (the first pack, carried in)
    back here:   python scripts/gpu_campaign.py unpack <the files' folder>    (then commit results/)

FAMILY is the ablation family, read from the registry (each of its claims trains the shared paper's net).
The device's python has no papermill, nbclient, nbformat or ipykernel: scripts/gpu_calls.sh carries their wheels
and installs them (its steps `prepare`, `carry`, `join`).
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from alexnet_repro.claims import family_slugs  # noqa: E402
from alexnet_repro.paths import results_root  # noqa: E402

_spec = importlib.util.spec_from_file_location("carry_data", Path(__file__).with_name("carry_data.py"))
carry_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(carry_data)

# The ablation family's claims (claims/family/declarations.py), sharing the paper's net's runs, by the registry.
FAMILY = tuple(family_slugs())
PACK, PART_MB, MAX_FILES = "campaign.tar.gz", 15, 8  # the device returns 8 files of at most 16 MiB each
KEPT_RUN_FILES = ".json"  # from the run store: records and cached evaluations, never checkpoints


def run_claims(claims, scale, work, jobs=1, data_root=None, seeds=None, deadline_s=None, device=None):
    """Each claim through the CLI, in order, into work/results and work/runs -> campaign status per claim."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "logs").mkdir(exist_ok=True)
    # PYTHONPATH: the device machine has the package's dependencies but not the package; the notebooks' kernels
    # (started in notebooks/) import it from this checkout.
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "ALEXNET_REPRO_RUNS": str(work / "runs"), "ALEXNET_REPRO_QUIET": "1", "PYTHONPATH": path}
    start, status = time.monotonic(), {}
    for slug in claims:
        spent = time.monotonic() - start
        if deadline_s is not None and spent > deadline_s:
            status[slug] = {"status": "not started (deadline)"}
            continue
        cmd = [
            sys.executable,
            "-m",
            "alexnet_repro",
            "run",
            slug,
            "--scale",
            scale,
            "--out-dir",
            str(work / "results"),
            "--jobs",
            str(jobs),
        ]
        cmd += ["--data-root", str(data_root)] if data_root else []
        cmd += ["--seeds", seeds] if seeds else []
        cmd += ["--device", device] if device else []
        t0 = time.monotonic()
        with open(work / "logs" / f"{slug}.log", "w") as log:
            code = subprocess.run(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
        result = work / "results" / slug / scale / "result.json"
        verdict = json.loads(result.read_text())["verdict"] if code == 0 and result.exists() else None
        status[slug] = {
            "status": "done" if verdict else f"failed (exit {code})",
            "seconds": round(time.monotonic() - t0, 1),
            "verdict": verdict,
        }
        print(f"{slug}: {status[slug]['status']}, {status[slug]['seconds']} s, {verdict}", flush=True)
    (work / "campaign.json").write_text(json.dumps({"scale": scale, "jobs": jobs, "claims": status}, indent=1) + "\n")
    return status


def pack(work, out_dir, part_mb=PART_MB):
    """work's results, run-store JSON, logs and campaign.json -> out_dir/campaign.tar.gz (or its parts and
    manifest). Returns the files written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{PACK}.tmp"
    with tarfile.open(tmp, "w:gz") as tar:
        for sub in ("results", "logs"):
            if (work / sub).exists():
                tar.add(work / sub, arcname=sub)
        for f in sorted((work / "runs").rglob(f"*{KEPT_RUN_FILES}")) if (work / "runs").exists() else []:
            tar.add(f, arcname=str(f.relative_to(work)))
        if (work / "campaign.json").exists():
            tar.add(work / "campaign.json", arcname="campaign.json")
    if tmp.stat().st_size <= part_mb * 10**6:
        tmp.rename(out_dir / PACK)
        return [out_dir / PACK]
    final = out_dir / PACK
    tmp.rename(final)
    try:
        manifest = carry_data.split(final, out_dir, part_mb)
    finally:
        final.unlink()
    files = [manifest] + sorted(out_dir.glob(f"{PACK}.part*"))
    if len(files) > MAX_FILES:
        raise ValueError(f"the pack needs {len(files)} files, over the {MAX_FILES} a call returns: run fewer claims")
    return files


def open_pack(folder, scratch):
    """The campaign.tar.gz in `folder`, joined from its parts (checked by sha256) if it came in parts."""
    folder = Path(folder)
    if (folder / PACK).exists():
        return folder / PACK
    manifest = carry_data.manifest_path(folder, PACK)
    if not manifest.exists():
        raise ValueError(f"no {PACK} or its manifest in {folder}")
    return carry_data.join(manifest, Path(scratch) / PACK)


def extract(folder, dest, scratch):
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(open_pack(folder, scratch)) as tar:
        tar.extractall(dest, filter="data")  # "data": no absolute paths, links out, or devices


def unpack(folder, results=None, scratch=None):
    """A pack's results/<claim>/<scale>/ folders into `results` (default the repository's results/); returns them."""
    import shutil
    import tempfile

    results = Path(results) if results else results_root()
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        extract(folder, Path(tmp) / "pack", tmp)
        placed = []
        for res in sorted((Path(tmp) / "pack" / "results").glob("*/*/result.json")):
            target = results / res.parent.relative_to(Path(tmp) / "pack" / "results")
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(res.parent, target)
            placed.append(target)
    return placed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="train and assess claims, then pack their results")
    r.add_argument("--scale", required=True)
    r.add_argument("--claims", default=",".join(FAMILY), help="comma-separated slugs (default: the family and D2)")
    r.add_argument("--data-root")
    r.add_argument("--seeds", help="as the CLI's --seeds (default: each scale's own, fixed in advance)")
    r.add_argument("--jobs", type=int, default=1)
    r.add_argument("--device")
    r.add_argument("--deadline-s", type=float, help="start no claim after this many seconds")
    r.add_argument("--work", type=Path, default=Path("/tmp/campaign"), help="results and run store while running")
    r.add_argument("--resume", type=Path, help="a previous call's pack: its finished runs are not trained again")
    r.add_argument("--pack", type=Path, required=True, help="where the pack goes ($OUT on the device machine)")
    u = sub.add_parser("unpack", help="put a pack's results into results/<claim>/<scale>/")
    u.add_argument("folder", type=Path)
    u.add_argument("--results", type=Path, help="default: the repository's results/")
    args = ap.parse_args(argv)
    try:
        if args.command == "unpack":
            for target in unpack(args.folder, args.results):
                print(f"placed {target}")
            return 0
        claims = [c.strip() for c in args.claims.split(",") if c.strip()]
        if args.resume:
            extract(args.resume, args.work, args.work)  # the run store's records (and results) of the first call
        status = run_claims(
            claims, args.scale, args.work, args.jobs, args.data_root, args.seeds, args.deadline_s, args.device
        )
        files = pack(args.work, args.pack)
        print(
            f"packed {', '.join(f.name for f in files)} ({sum(f.stat().st_size for f in files) / 1e6:.1f} MB) "
            f"into {args.pack}"
        )
        return 0 if all(s["status"] == "done" for s in status.values()) else 1
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
