"""Carry an archive larger than one device call takes, in parts, and rebuild it there checked by sha256.

A call to the GPU machine carries at most 64 MiB of working tree; the Imagenette archive is 132 MB.
`split` cuts an archive into parts of at most 48 MB (room for the repository beside one part) and writes
a manifest holding each part's size and sha256 and the whole archive's. `join` rebuilds the archive from
the parts the manifest names, checks every part and then the whole, and writes it atomically; a missing
or damaged part is one line (exit 2), and nothing is written.

    python scripts/carry_data.py split ARCHIVE OUT_DIR [--part-mb 48]
    python scripts/carry_data.py join MANIFEST OUT_FILE [--parts-dir DIR]   (default: the manifest's folder)

How a GPU session carries Imagenette into /tmp on the device machine (three calls of one part each; the
machine stays warm between calls that follow each other within its idle window, and /tmp with it):

    here:  python scripts/carry_data.py split ../shared/data/imagenette-224.tar.gz .carry
           (.carry/ is git-ignored: it travels only when a call names it in `carry`.)
           -> .carry/imagenette-224.tar.gz.part1..3 (48 + 48 + 36 MB) and .carry/imagenette-224.tar.gz.manifest.json
    call 1: carry [".carry/imagenette-224.tar.gz.part1", ".carry/imagenette-224.tar.gz.manifest.json"],
            command "mkdir -p /tmp/carry && cp .carry/* /tmp/carry/ && ls -l /tmp/carry"
    call 2: the same with part2 (carried paths replace, so part1 leaves the repo copy there; /tmp keeps it)
    call 3: the same with part3, then
            "python3 scripts/carry_data.py join /tmp/carry/imagenette-224.tar.gz.manifest.json
             /tmp/data/imagenette-224.tar.gz && rm -r /tmp/carry && <the run, with --data-root /tmp/data/...>"
    Each copy call takes seconds once the machine is warm; a cold start costs a minute or more of device
    time, so carry the parts at the start of the session, one call after another. If the machine went
    back in between, `join` names the parts that are missing: carry those again.
"""

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

PART_MB = 48  # MB of 10^6 bytes: a part and the repository (~6 MB) fit in one call's 64 MiB
CHUNK = 1 << 20


def sha256_of(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def manifest_path(out_dir, name) -> Path:
    return Path(out_dir) / f"{name}.manifest.json"


def split(archive, out_dir, part_mb=PART_MB) -> Path:
    """Cut `archive` into parts of at most part_mb MB in out_dir; returns the manifest's path."""
    archive, out_dir = Path(archive), Path(out_dir)
    if not archive.is_file():
        raise ValueError(f"no archive at {archive}")
    if part_mb <= 0:
        raise ValueError(f"--part-mb must be positive, got {part_mb}")
    out_dir.mkdir(parents=True, exist_ok=True)
    part_bytes = int(part_mb * 10**6)
    whole, parts = hashlib.sha256(), []
    with open(archive, "rb") as src:
        while data := src.read(part_bytes):
            whole.update(data)
            name = f"{archive.name}.part{len(parts) + 1}"
            (out_dir / name).write_bytes(data)
            parts.append({"file": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    manifest = {
        "name": archive.name,
        "size": archive.stat().st_size,
        "sha256": whole.hexdigest(),
        "part_bytes": part_bytes,
        "parts": parts,
    }
    path = manifest_path(out_dir, archive.name)
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    return path


def join(manifest, out_file, parts_dir=None) -> Path:
    """Rebuild the archive a manifest describes into out_file, every part and the whole checked by sha256."""
    manifest = Path(manifest)
    try:
        meta = json.loads(manifest.read_text())
        parts = meta["parts"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"cannot read the manifest {manifest} ({type(e).__name__})") from None
    parts_dir = Path(parts_dir) if parts_dir else manifest.parent
    missing = [p["file"] for p in parts if not (parts_dir / p["file"]).is_file()]
    if missing:
        raise ValueError(f"{len(missing)} of {len(parts)} parts missing in {parts_dir}: {', '.join(missing)}")
    bad = [
        p["file"]
        for p in parts
        if (parts_dir / p["file"]).stat().st_size != p["size"] or sha256_of(parts_dir / p["file"]) != p["sha256"]
    ]
    if bad:
        raise ValueError(f"part(s) not matching the manifest's sha256: {', '.join(bad)}; carry them again")
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(f".{out_file.name}.tmp-{os.getpid()}")
    whole = hashlib.sha256()
    try:
        with open(tmp, "wb") as dst:
            for p in parts:
                data = (parts_dir / p["file"]).read_bytes()
                whole.update(data)
                dst.write(data)
        if whole.hexdigest() != meta["sha256"]:
            raise ValueError(f"the joined archive does not match the manifest's sha256 {meta['sha256'][:12]}...")
        os.replace(tmp, out_file)
    finally:
        tmp.unlink(missing_ok=True)
    return out_file


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("split", help="cut an archive into parts with a sha256 manifest")
    s.add_argument("archive")
    s.add_argument("out_dir")
    s.add_argument("--part-mb", type=float, default=PART_MB)
    j = sub.add_parser("join", help="rebuild and verify an archive from its parts")
    j.add_argument("manifest")
    j.add_argument("out_file")
    j.add_argument("--parts-dir")
    args = ap.parse_args(argv)
    try:
        if args.command == "split":
            path = split(args.archive, args.out_dir, args.part_mb)
            meta = json.loads(path.read_text())
            print(f"{len(meta['parts'])} parts of at most {args.part_mb:g} MB and {path}")
        else:
            out = join(args.manifest, args.out_file, args.parts_dir)
            print(f"{out}: joined, every part and the whole verified by sha256")
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
