"""Command line: `python -m alexnet_repro list | run CLAIM --scale S | book | clean-results`.

`run` executes the claim's notebook with papermill into results/<claim>/<scale>/, so the executed
notebook and the result JSON always come from the same run. The training happens inside the
notebook's kernel; its progress bars are streamed here. A rerun resumes an interrupted claim from
its run store (see runs.py) and finds finished runs there. A claim whose result is up to date
(the same code, notebook, scale and parameters: see `fingerprint`) is skipped unless --force, so
`run all` after an interruption picks up where it stopped. --jobs N first trains a claim's
independent runs in N processes (one GPU fits several small nets).
"""
import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

from . import claims
from .data.errors import DataError
from .paths import REPO_ROOT, cache_dir, results_root
from .results import (atomic_write_json, clean_notebook_file, clean_result_file, headline_of, load_result,
                      results_dir)
from .runs import prefill_in_parallel


def notebook_path(slug: str) -> Path:
    return REPO_ROOT / "notebooks" / f"{slug}.ipynb"


def kernel_log() -> Path:
    return cache_dir() / "kernel.log"


def _quiet_kernel_manager():
    """The kernel manager papermill starts the notebook's kernel with, its stderr going to
    kernel_log() instead of this terminal. The kernel's own chatter (a TCP-transport warning, now
    and then a traceback from its zmq loop as it shuts down) is not the run's output: cells' output
    and errors come back through the notebook either way."""
    from jupyter_client.manager import AsyncKernelManager

    class KernelStderrToLog(AsyncKernelManager):
        async def start_kernel(self, **kw):
            kernel_log().parent.mkdir(parents=True, exist_ok=True)
            with open(kernel_log(), "ab") as log:  # the kernel holds its own copy of the descriptor
                kw.setdefault("stderr", log)
                return await super().start_kernel(**kw)
    return KernelStderrToLog


def execute_notebook(slug, scale, out_dir, parameters, log_output=True):
    """Run notebooks/<slug>.ipynb with papermill; the executed copy lands in out_dir."""
    import papermill
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{slug}.ipynb"
    tmp = out_dir / f".{slug}.tmp.ipynb"
    papermill.execute_notebook(str(notebook_path(slug)), str(tmp), cwd=str(REPO_ROOT / "notebooks"),
                               parameters=dict(parameters, scale=scale, out_dir=str(out_dir)),
                               log_output=log_output, progress_bar=False, kernel_name="python3",
                               kernel_manager_class=_quiet_kernel_manager())
    clean_notebook_file(tmp)  # no progress bars, no paths of this machine
    os.replace(tmp, target)  # the executed notebook appears whole or not at all
    return target


def cmd_list(args):
    print(f"{'claim':<16} {'id':<5} {'scale':<6} {'verdict':<24} measured")
    for slug in claims.MODULES:
        mod = claims.load(slug)
        shown = False
        for scale in claims.SCALES:
            res = load_result(slug, scale)
            if res:
                print(f"{slug:<16} {mod.CLAIM.id:<5} {scale:<6} {res['verdict']:<24} {headline_of(res)}")
                shown = True
        if not shown:
            print(f"{slug:<16} {mod.CLAIM.id:<5} {'-':<6} {'not run yet':<24}")


def cmd_run(args):
    slugs = list(claims.MODULES) if args.claim == "all" else [args.claim]
    for slug in slugs:
        claims.load(slug)
    claims.check_scale(args.scale)
    params = {"device": args.device or "auto", "data_root": args.data_root or "", "seeds": args.seeds or "",
              "download": args.download}
    for slug in slugs:
        out_dir = Path(args.out_dir) / slug / args.scale if args.out_dir else results_dir(slug, args.scale)
        stamp = {"fingerprint": fingerprint(slug, args.scale, params), "scale": args.scale, "parameters": params}
        if not args.force and _read_json(out_dir / "run.json") == stamp and (out_dir / "result.json").exists():
            res = json.loads((out_dir / "result.json").read_text())
            print(f"{slug}: up to date (same code and parameters; --force reruns it): {res['verdict']}")
            continue
        print(f"== {slug} at scale {args.scale} -> {out_dir}", file=sys.stderr)
        note = prefill_in_parallel(claims.load(slug), args.jobs, args.scale,
                                   args.seeds.split(",") if args.seeds else None, device=args.device,
                                   data_root=args.data_root, download=args.download) if args.jobs > 1 else None
        # provenance() in the notebook's kernel (which inherits this environment) records the note;
        # popped otherwise, so it never carries over to the next claim of `run all`.
        if note:
            os.environ["ALEXNET_REPRO_PROVENANCE_NOTE"] = note
        else:
            os.environ.pop("ALEXNET_REPRO_PROVENANCE_NOTE", None)
        execute_notebook(slug, args.scale, out_dir, params)
        atomic_write_json(out_dir / "run.json", stamp)
        res = json.loads((out_dir / "result.json").read_text())
        print(f"{slug}: {res['verdict']}: {res.get('headline', '')}")


def cmd_clean_results(args):
    """Clean what results/ already holds as `run` now writes it: notebooks without progress bars or machine
    paths, result.json files without machine paths."""
    nbs = [f for f in sorted(results_root().glob("*/*/*.ipynb")) if clean_notebook_file(f)]
    jsons = [f for f in sorted(results_root().glob("*/*/result.json")) if clean_result_file(f)]
    print(f"cleaned {len(nbs)} notebook(s) and {len(jsons)} result.json file(s) under {results_root()}")


def fingerprint(slug, scale, params) -> str:
    """What a claim's result depends on: the package's source, the claim's notebook, the scale and
    the parameters. `run` skips a claim whose last result carries the same fingerprint."""
    h = hashlib.sha256()
    for f in sorted((REPO_ROOT / "alexnet_repro").rglob("*.py")) + [notebook_path(slug)]:
        h.update(f.relative_to(REPO_ROOT).as_posix().encode() + b"\0" + f.read_bytes())
    h.update(json.dumps({"scale": scale, **params}, sort_keys=True).encode())
    return h.hexdigest()


def _read_json(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def parse_seeds(text):
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds must be comma-separated integers, got {text!r}") from None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m alexnet_repro", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every claim and its latest verdict")
    sub.add_parser("book", help="generate the book's pages from results/ and build it (book/_build/html)")
    sub.add_parser("clean-results", help="strip progress bars and machine paths from what results/ holds")
    run = sub.add_parser("run", help="run one claim (or 'all') at a scale")
    run.add_argument("claim", help=f"one of: {', '.join(claims.MODULES)}, all")
    run.add_argument("--scale", default="smoke", help=f"one of: {', '.join(claims.SCALES)} (default smoke)")
    run.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda if present)")
    run.add_argument("--data-root", help="folder or archive holding the dataset (default $ALEXNET_REPRO_DATA)")
    run.add_argument("--download", action="store_true", help="fetch CIFAR-10 via torchvision if absent")
    run.add_argument("--seeds", type=parse_seeds, help="comma-separated seeds, overriding the scale's")
    run.add_argument("--out-dir", help="write results here instead of results/")
    run.add_argument("--force", action="store_true", help="rerun a claim even if its result is up to date")
    run.add_argument("--jobs", type=int, default=1,
                     help="train a claim's independent runs in this many processes first (e.g. 8 on one GPU)")
    args = parser.parse_args(argv)
    if args.command == "run" and args.seeds is not None:
        args.seeds = ",".join(map(str, args.seeds))
    try:
        if args.command == "book":
            from .book import build
            return build()
        {"list": cmd_list, "run": cmd_run, "clean-results": cmd_clean_results}[args.command](args)
    except (ValueError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # papermill wraps the notebook's exception; show its last line only
        if type(e).__name__ == "PapermillExecutionError":
            print(f"error: {e.ename}: {e.evalue}", file=sys.stderr)
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
