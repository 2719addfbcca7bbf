"""Command line: `python -m alexnet_repro list | run CLAIM --scale S | render | book | audit | clean-results`.

`run` trains (or finds in the run store) a claim's runs in this process, so their progress bars, errors and Ctrl-C
are this terminal's, writes its result, then executes the claim's notebook in render mode: that is its page.
run.json, written last, stamps what the result was made from (`fingerprint`, the data) and the sha256 of the files
it vouches for; a claim whose stamp still holds is skipped unless --force, so `run all` picks up where it stopped.
"""

import argparse
import collections
import errno
import hashlib
import json
import os
import re
import sys
import tempfile
import textwrap
import time
from importlib import metadata
from pathlib import Path

from . import claims, distributed, preflight, results
from .atomic import remove_stale_temps, temp_prefix
from .data.errors import DataError
from .engine import pick_device
from .fmt import fmt_interval
from .log import LOG, set_level
from .paths import IS_CHECKOUT, REPO_ROOT, cache_dir, notebooks_dir, pin_environment, results_root, runs_dir
from .runs import prefill_distributed, prefill_in_parallel
from .seeds import parse_seeds


def _quiet_kernel_manager():
    """The notebook kernel's manager: its stderr goes to the cache's kernel.log, not this terminal, since the
    kernel's own chatter (a zmq traceback as it shuts down) is not the run's output."""
    from jupyter_client.manager import AsyncKernelManager

    class KernelStderrToLog(AsyncKernelManager):
        async def start_kernel(self, **kw):
            cache_dir().mkdir(parents=True, exist_ok=True)
            kw["env"] = kernel_env(kw.get("env"))
            with open(cache_dir() / "kernel.log", "ab") as log:  # the kernel holds its own copy of the descriptor
                kw.setdefault("stderr", log)
                return await super().start_kernel(**kw)

    return KernelStderrToLog


def kernel_env(env=None) -> dict:
    """The notebook kernel's environment: this one, with a checkout's root first on PYTHONPATH."""
    env = dict(os.environ if env is None else env)
    if IS_CHECKOUT:
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def execute_notebook(slug, scale, out_dir, parameters):
    """Run notebooks/<slug>.ipynb with papermill into out_dir, cleaned and stamped (rendering.stamp). The kernel's
    stderr is copied here as written, so a progress bar redraws in place on a terminal."""
    import nbformat
    import papermill

    from .rendering import stamp

    out_dir = Path(out_dir).absolute()  # the kernel runs in the notebooks' folder
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{slug}.ipynb"
    remove_stale_temps(target)  # the temp notebook of a run that was killed
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=temp_prefix(target), suffix=".ipynb")  # one per run
    os.close(fd)
    try:
        papermill.execute_notebook(
            str(notebooks_dir() / f"{slug}.ipynb"),
            tmp,
            cwd=str(notebooks_dir()),
            parameters=dict(parameters, scale=scale, out_dir=str(out_dir)),
            stderr_file=sys.stderr,
            progress_bar=False,
            kernel_name="python3",
            kernel_manager_class=_quiet_kernel_manager(),
        )
        nb = stamp(results.clean_notebook(json.loads(Path(tmp).read_text())), slug, out_dir)
        results.atomic_write_text(target, nbformat.writes(nbformat.from_dict(nb)))  # as papermill writes it
    except OSError as e:
        if e.filename is None:  # a write that fails (a full disk) names no file: this is the one
            raise OSError(e.errno, e.strerror, str(target)) from None
        raise
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


WIDTH = 100  # `list` keeps every line within a terminal's usual width


def list_rows():
    """`list --all`'s rows: every result with its role (book/standing.py), a claim with no result as such; and the
    number of invalid result files (each named on stderr)."""
    from .book.evidence import page_entry
    from .book.standing import HISTORY, NOT_RUN, deciding, rank
    from .staleness import staleness

    rows, bad = [], 0
    roles = {"smoke": "plumbing check", **dict.fromkeys(HISTORY, "history")}
    for slug, mod in claims.registry().items():
        entries = []
        for scale in (*claims.SCALES, *claims.FAMILY_SCALES, *HISTORY):
            try:
                res = results.load_result(slug, scale)
            except ValueError as e:
                LOG.error(str(e))
                bad += 1
                continue
            if res:
                entries.append(page_entry(res, results.results_dir(slug, scale)))
        decider = deciding(entries)
        if decider is None:
            rows.append({"claim": slug, "id": mod.CLAIM.id, "scale": None, "verdict": NOT_RUN, "role": "deciding"})
            continue
        for e in sorted(entries, key=lambda e: rank(e.scale)):
            prov = e.result.get("provenance", {})
            shown = [c for c in e.comparisons if c.decides and c.effect]
            first = shown[0] if shown and not e.result.get("annotation") else None
            effect = first and {"label": first.label, "kind": first.kind, "paper": first.paper, **first.effect}
            rows.append(
                {
                    "claim": slug,
                    "id": mod.CLAIM.id,
                    "scale": e.scale,
                    "verdict": e.verdict,
                    "role": "deciding" if e is decider else roles.get(e.scale, "superseded"),
                    "effect": effect,
                    "more_comparisons": max(len(shown) - 1, 0),
                    "headline": results.headline_of(e.result),
                    "proxy": e.proxy,
                    "staleness": staleness(e.result),
                    "date": prov.get("date"),
                    "commit": prov.get("git_commit"),
                }
            )
    return rows, bad


def _effect_text(row) -> str:
    """The deciding effect as fmt_interval writes it, less the words the column's header says."""
    e = row.get("effect")
    if not e:
        return row.get("headline") or ""
    text = re.sub(r"95% CI |, \d+ seeds", "", fmt_interval(e, e["kind"] == "ratio")).replace(" points", " pts")
    return text + (f" (+{row['more_comparisons']})" if row.get("more_comparisons") else "")


def cmd_list(args):
    """One row per claim by its deciding result (--all: every result); an invalid result.json is named, left out."""
    from .book.standing import FINDINGS

    every, bad = list_rows()
    rows = every if args.all else [r for r in every if r["role"] == "deciding"]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 2 if bad else 0

    def table_row(r):
        scale = (r["scale"] or "-") + ("" if r["role"] == "deciding" else f" ({r['role']})")
        flag = r["staleness"] if r.get("staleness") in ("stale", "unknown") else ""
        return r["id"], r["claim"], r["verdict"], scale, _effect_text(r) if r["scale"] else "", flag

    cells = [table_row(r) for r in rows]
    head = ("id", "claim", "verdict", "scale", "effect (95% CI)", "")
    widths = [max(len(c[i]) for c in cells + [head]) for i in range(4)]
    fixed = sum(widths) + 4 + max(len(c[5]) for c in cells) + 1
    effect_width = max(WIDTH - fixed, 8)  # at least the effect's number: '-6.75...'

    def line(c):
        effect = c[4] if len(c[4]) <= effect_width else c[4][: effect_width - 3] + "..."
        text = " ".join(f"{c[i]:<{widths[i]}}" for i in range(4)) + f" {effect:<{effect_width}} {c[5]}"
        return text.rstrip()

    print("\n".join(line(c) for c in [head, *cells]))
    deciding = [r for r in rows if r["role"] == "deciding"]
    # Issue 20: a comparison the paper never makes (BN) is a finding, counted apart from the paper's claims.
    findings = [r for r in deciding if r["id"] in FINDINGS]
    paper = [r for r in deciding if r["id"] not in FINDINGS]
    counts = collections.Counter(r["verdict"] for r in paper)
    dates = sorted(r["date"][:10] for r in rows if r.get("date"))
    staleness = collections.Counter(r.get("staleness") for r in rows)
    hidden = len(every) - len(rows)
    footer = (
        f"{len(paper)} claims of the paper, each by its deciding result: "
        + ", ".join(f"{n} {v}" for v, n in counts.most_common())
        + ("; findings, not in the paper: " if findings else "")
        + ", ".join(f"{r['id']} {r['verdict']}" for r in findings)
        + f". Shown results: {staleness['stale']} stale, {staleness['unknown']} unknown (stale: its training code, "
        "rule or config changed since it was made)"
        + (f"; made {dates[0]} to {dates[-1]}" if dates else "")
        + "."
        + (f" {hidden} more results, superseded or history: --all shows them." if hidden else "")
    )
    print("\n" + textwrap.fill(footer, WIDTH))
    return 2 if bad else 0


def cmd_run(args):
    slugs = list(claims.registry()) if args.claim == "all" else [args.claim]
    claims.check_scale(args.scale)
    if args.scale == claims.CONFIRMATION:
        slugs = confirmations(slugs, args.claim == "all", args.seeds)
    if args.scale in claims.REGIMES and args.claim == "all":
        slugs = regime_order()
    for slug in slugs:
        claims.check_scale(args.scale, claims.load(slug))
    if args.jobs < 1:
        raise ValueError(f"--jobs must be 1 or more, got {args.jobs}")
    # The notebook's kernel runs in notebooks/: a relative path must not change meaning there.
    pin_environment()
    if args.data_root:
        args.data_root = str(Path(args.data_root).expanduser().resolve())
    if args.out_dir:
        args.out_dir = str(Path(args.out_dir).expanduser().absolute())
    if args.seeds is not None and not args.seeds.strip():
        raise ValueError("--seeds is empty: give seeds like 0,1,2, or leave --seeds out for the scale's own")
    seeds = parse_seeds(args.seeds)
    params = {
        "device": args.device or "auto",
        "data_root": args.data_root or "",
        "seeds": ",".join(map(str, seeds)) if seeds else "",
        "download": args.download,
    }
    # Checked before any kernel or process starts: each would fail later, slower, or as a traceback.
    pick_device(args.device)
    for folder, what in ((cache_dir(), "the cache ($ALEXNET_REPRO_CACHE)"), (runs_dir(), "the run store")):
        preflight.check_writable(folder, what)
    out_dirs = {
        slug: Path(args.out_dir) / slug / args.scale if args.out_dir else results.results_dir(slug, args.scale)
        for slug in slugs
    }
    data, roots = {}, {}
    world = distributed.init(args.device)  # started by torchrun: every process trains, rank 0 alone writes results
    if world and args.jobs > 1:
        raise ValueError("--jobs runs independent processes on one device; under torchrun leave it out")
    for slug in slugs:
        preflight.check_writable(out_dirs[slug], "results")
        roots[slug], data[slug] = preflight.data_source(slug, args.data_root, args.download, args.scale)
    for slug in slugs:
        out_dir = out_dirs[slug]
        params_slug = dict(params, data_root=str(roots[slug] or ""))
        stamp = {
            "fingerprint": fingerprint(slug, args.scale, params_slug),
            "scale": args.scale,
            "parameters": params_slug,
            "data": data[slug],
        }
        if not (args.force or args.retrain) and _read_json(out_dir / "run.json") == _vouched(stamp, out_dir, slug):
            try:
                verdict = results.read_result(out_dir / "result.json")["verdict"]
            except ValueError as e:  # not a valid result: named, and the claim reruns
                LOG.warning(str(e))
            else:
                print(f"{slug}: up to date (same code, parameters, data and files; --force reruns it): {verdict}")
                continue
        if distributed.is_main():
            (out_dir / "run.json").unlink(missing_ok=True)  # before this run writes anything
            if args.retrain:
                retire_runs(slug, args.scale)
            LOG.info(f"{slug} at scale {args.scale} -> {out_dir}")
        common = dict(device=args.device, data_root=roots[slug], download=args.download)
        note = None
        if world:
            note = prefill_distributed(claims.load(slug), args.scale, seeds, **common)
            if not distributed.is_main():
                distributed.barrier(long=True)  # while rank 0 writes the result (its notebook)
                continue
        elif args.jobs > 1:
            note = prefill_in_parallel(claims.load(slug), args.jobs, args.scale, seeds, **common)
        # provenance() in the notebook's kernel, which inherits this environment, records a note; set for every
        # claim, so that one never carries over to the next claim of `run all`.
        os.environ["ALEXNET_REPRO_PROVENANCE_NOTE"] = note or ""
        if world:
            # Under torchrun the runs are in the store already (prefill_distributed); the claim's code calls
            # collectives when it runs in a process of the group, so rank 0 assembles the result in the notebook's
            # own kernel, outside the group.
            execute_notebook(slug, args.scale, out_dir, params_slug)
        else:
            compute(slug, args.scale, out_dir, seeds, **common)
            execute_notebook(slug, args.scale, out_dir, {"render": True})  # the page: today's notebook shows it
        res = results.read_result(out_dir / "result.json")
        results.atomic_write_json(out_dir / "run.json", _vouched(stamp, out_dir, slug))  # last: the run succeeded
        print(f"{slug}: {res['verdict']}: {res.get('headline', '')}")
        if world:
            distributed.barrier(long=True)  # the others wait here for this result before the next claim
    distributed.shutdown()


def compute(slug, scale, out_dir, seeds, **common) -> dict:
    """The claim's result, made and written in this process (contract.run), its runs found or trained here."""
    return claims.load(slug).run(scale, seeds=seeds, out_dir=out_dir, **common)


def cmd_render(args):
    """Re-execute each committed result's notebook in render mode (nothing trains), unless its stamp says today's
    code rendered it from these files (--force: anyway); result.json and every table are checked unchanged."""
    from papermill.exceptions import PapermillExecutionError

    from .rendering import committed_pages, inputs, stale_reasons

    for slug in args.claim:
        claims.load(slug)  # an unknown claim is one line naming the valid ones
    pin_environment()
    pages = committed_pages(slugs=args.claim or None, scale=args.scale)
    if not pages:
        raise ValueError(
            f"no result to render under {results_root()}"
            + (f" for {', '.join(args.claim)}" if args.claim else "")
            + (f" at scale {args.scale}" if args.scale else "")
        )
    done, failed = 0, []
    for i, (slug, scale, folder) in enumerate(pages, 1):
        where = f"[{i}/{len(pages)}] {slug}, {scale}"
        reasons = stale_reasons(folder, slug)
        if not reasons and not args.force:
            print(f"{where}: up to date (rendered by today's code from these files)", flush=True)
            continue
        print(f"{where}: rendering ({'; '.join(reasons[:3]) or '--force'}) ...", flush=True)
        t0 = time.time()
        before = inputs(folder, slug)
        stamped = _read_json(folder / "run.json")
        try:
            execute_notebook(slug, scale, folder, {"render": True})
        except PapermillExecutionError as e:  # its committed page stays as it was; the others go on
            LOG.error(f"{where}: not rendered: {e.ename}: {e.evalue} (the committed page is left as it was)")
            failed.append(f"{slug}, {scale}")
            continue
        after = inputs(folder, slug)
        if after != before:  # render mode reads; a notebook that wrote its folder is a bug to fix, not a page
            changed = sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
            raise RuntimeError(
                f"rendering {slug} at {scale} changed {', '.join(changed)} in {folder}: restore from git"
            )
        if stamped and stamped.get("files_sha256"):
            # The stamp of `run` vouches for the result and its notebook: the result is the same file, the
            # notebook is the one just rendered from it.
            vouched = _vouched(stamped, folder, slug)
            if vouched["files_sha256"]["result.json"] == stamped["files_sha256"].get("result.json"):
                results.atomic_write_json(folder / "run.json", vouched)
        done += 1
        print(f"{where}: rendered in {time.time() - t0:.0f} s", flush=True)
    print(f"rendered {done} of {len(pages)} pages; result.json and tables unchanged")
    if failed:
        LOG.error(f"{len(failed)} pages failed to render: {', '.join(failed)}")
        return 1


def regime_order():
    """The family's claims, fewest regime-scale runs first, so that a campaign spanning sessions completes claims."""

    def runs(slug):
        return sum(len(stage) for chain in claims.load(slug).plan(claims.REGIME) for stage in chain)

    return sorted(claims.family_slugs(), key=runs)


def confirmations(slugs, every, seeds):
    """The claims to confirm, their seeds (from each one's pilot: arms.confirmation_seeds) checked before any kernel
    starts: with `every` (run all), those with something to confirm; else `slugs`, each refused in one line if not."""
    from .claims.family import arms

    out = []
    for slug in slugs:
        mod = claims.load(slug)
        if every and not claims.has_confirmation(mod):
            continue
        claims.check_scale(claims.CONFIRMATION, mod)
        try:
            arms.confirmation_seeds(mod, seeds)
        except ValueError as e:
            if not every:
                raise
            LOG.info(f"left out: {e}")
            continue
        out.append(slug)
    return out


def _vouched(stamp, out_dir, slug):
    """run.json's content: the stamp, and the sha256 of the files it vouches for as they are now (None: absent)."""
    paths = [Path(out_dir) / name for name in ("result.json", f"{slug}.ipynb")]
    sha = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.exists()}
    return {**stamp, "files_sha256": {p.name: sha.get(p.name) for p in paths}}


def retire_runs(slug, scale):
    """--retrain: set aside (not delete) the run store's folder this claim reads at this scale: its runs train again."""
    from .claims.family import arms
    from .runs import default_work_dir

    family = claims.load(slug).DATA == "family"
    folder = default_work_dir(arms.FAMILY, arms.store_scale(scale)) if family else default_work_dir(slug, scale)
    if folder.exists():
        aside = folder.with_name(f"{folder.name}.retired-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(folder, aside)
        LOG.info(f"--retrain: the runs in {folder} set aside as {aside.name}; they train again")


def cmd_clean_results(args):
    """Clean what results/ holds as `run` now writes it: no progress bars in notebooks, no machine paths anywhere."""
    nbs = [f for f in sorted(results_root().glob("*/*/*.ipynb")) if results.clean_notebook_file(f)]
    jsons = [f for f in sorted(results_root().glob("*/*/result.json")) if results.clean_result_file(f)]
    print(f"cleaned {len(nbs)} notebook(s) and {len(jsons)} result.json file(s) under {results_root()}")


def fingerprint(slug, scale, params) -> str:
    """What a claim's result depends on (the package's source, its notebook, scale and parameters), for run.json."""
    h = hashlib.sha256()
    package = REPO_ROOT / "alexnet_repro"
    files = [(f.relative_to(REPO_ROOT).as_posix(), f) for f in sorted(package.rglob("*.py"))]
    # The notebook by its name: an installed copy keeps it apart from the package (paths.NOTEBOOK_DIRS).
    for name, f in files + [(f"notebooks/{slug}.ipynb", notebooks_dir() / f"{slug}.ipynb")]:
        h.update(name.encode() + b"\0" + f.read_bytes())
    h.update(json.dumps({"scale": scale, **params}, sort_keys=True).encode())
    return h.hexdigest()


def _read_json(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


class OneLineParser(argparse.ArgumentParser):
    """A usage mistake is one line (and exit 2), like every other mistake a user can fix."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def main(argv=None):
    parser = OneLineParser(prog="alexnet-repro", description=__doc__.splitlines()[0])
    try:
        version = metadata.version("alexnet-repro")
    except metadata.PackageNotFoundError:  # a checkout run without installing it
        version = "(not installed)"
    parser.add_argument("--version", action="version", version=f"%(prog)s {version}")
    loud = parser.add_mutually_exclusive_group()
    loud.add_argument("-q", "--quiet", action="store_true", help="say only warnings and errors on stderr")
    loud.add_argument("-v", "--verbose", action="store_true", help="say debug lines too")
    sub = parser.add_subparsers(dest="command", required=True)
    lister = sub.add_parser("list", help="every claim by its deciding result (--all: every result)")
    lister.add_argument("--all", action="store_true", help="every result at every scale, with its role")
    lister.add_argument("--json", action="store_true", help="the rows as JSON")
    sub.add_parser("book", help="generate the book's pages from results/ and build it (book/_build/html)")
    sub.add_parser(
        "audit",
        help="when each result's rule was declared, its runs trained and it was assembled; "
        "exit 1 on a flag not acknowledged in alexnet_repro/audit_acknowledged.json",
    )
    sub.add_parser("clean-results", help="strip progress bars and machine paths from what results/ holds")
    render = sub.add_parser(
        "render",
        help="re-execute each committed result's notebook in render mode (no training): its page by today's code",
    )
    render.add_argument("claim", nargs="*", help="claims to render (default: every claim with a result)")
    render.add_argument("--scale", help="only the results at this scale (default: every scale but smoke)")
    render.add_argument(
        "--force", action="store_true", help="render pages whose stamp says today's code rendered them, too"
    )
    run = sub.add_parser("run", help="run one claim (or 'all') at a scale")
    run.add_argument("claim", help=f"one of: {', '.join(claims.registry())}, all")
    run.add_argument(
        "--scale",
        default="smoke",
        help=f"one of: {', '.join(claims.SCALES)} (default smoke); {claims.REGIME}: the ablation family trained into "
        f"the regime its claims are about, each claim's seeds fixed in advance; {claims.CONFIRMATION}: the family's "
        "confirmation of an inconclusive cpu result, on the fresh seeds that result fixes",
    )
    run.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda if present)")
    run.add_argument("--data-root", help="folder or archive holding the dataset (default $ALEXNET_REPRO_DATA)")
    run.add_argument("--download", action="store_true", help="fetch CIFAR-10 via torchvision if absent")
    run.add_argument("--seeds", help="comma-separated seeds, overriding the scale's (distinct, >= 0)")
    run.add_argument("--out-dir", help="write results here instead of results/")
    run.add_argument(
        "--force",
        action="store_true",
        help="rerun a claim's notebook even if its result is up to date (its runs are read from the "
        "run store, not trained again)",
    )
    run.add_argument(
        "--retrain",
        action="store_true",
        help="set aside the run store's runs of this claim at this scale and train them again (for the "
        "ablation family: the nets every family claim shares); implies --force",
    )
    run.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="train a claim's independent runs in this many processes first (e.g. 8 on one GPU)",
    )
    args = parser.parse_args(argv)
    set_level("warning" if args.quiet else "debug" if args.verbose else "info")
    # The kernel's stderr is a pipe to this process: it draws bars only if this process's stderr is a terminal.
    os.environ.setdefault("ALEXNET_REPRO_PROGRESS", "bars" if sys.stderr.isatty() else "lines")
    try:
        if args.command in ("book", "audit"):
            from . import audit, book

            return book.build() if args.command == "book" else audit.main()
        return {"list": cmd_list, "run": cmd_run, "render": cmd_render, "clean-results": cmd_clean_results}[
            args.command
        ](args) or 0
    except (ValueError, DataError) as e:
        LOG.error(str(e))
        return 2
    except OSError as e:  # a folder that cannot be written, a full disk: one line naming the path
        where = f"{e.filename}: " if e.filename else ""
        LOG.error(f"{where}{e.strerror or e}")
        return 1 if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO) else 2
    except Exception as e:  # papermill wraps the notebook's exception; show its last line only
        if type(e).__name__ == "PapermillExecutionError":
            LOG.error(f"{e.ename}: {e.evalue}")
            return 2 if e.ename in ("DataError", "DataNotFound") else 1  # bad input, even found in the kernel
        raise


if __name__ == "__main__":
    sys.exit(main())
