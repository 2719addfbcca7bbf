"""Make the small dataset sample that ships with the package (alexnet_repro/sample_data/), on which the smoke
scale runs when no dataset is found, from the full archives (by default ../shared/data beside the checkout):

    python scripts/make_smoke_sample.py [--source DIR]

- cifar10-sample.tar.gz: the first 100 training and 50 test images of each CIFAR-10 class (by file name) from
  cifar10-jpg.tar.gz, their JPEG bytes copied unchanged, in its layout (train/<class>/*.jpg, test/<class>/*.jpg).
  100 x 10 and 50 x 10 cover R1's smoke subset (1,000 / 500), the largest of the CIFAR claims'.
- imagenette-sample.tar.gz: the first 26 training and 13 validation images of each Imagenette class from
  imagenette-224.tar.gz, shrunk to 80 x 80 (the loader's own resize, D1) and re-encoded as JPEG, under
  imagenette-sample/train/<wnid>/ and val/<wnid>/. 260 / 130 cover the ImageNet-layout smoke subsets
  (256 / 128), and 80 px their 76 px cache, so nothing is upsampled.

The archives are byte-for-byte reproducible (sorted members, zero mtimes and owners, gzip without a timestamp),
so rerunning the script changes nothing unless the sources or Pillow's encoder change.
"""

import argparse
import gzip
import io
import sys
import tarfile
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from alexnet_repro.data.imagefolder import resize_center_crop  # noqa: E402
from alexnet_repro.paths import SAMPLE_DATA  # noqa: E402

CIFAR_PER_CLASS = {"train": 100, "test": 50}
IMAGENETTE_PER_CLASS = {"train": 26, "val": 13}
IMAGENETTE_SIZE = 80
JPEG_QUALITY = 90


def pick(names, per_class):
    """The first per_class[split] files (by name) of every <split>/<class>/ folder among `names`."""
    by_folder = {}
    for name in sorted(names):
        parts = name.split("/")
        if len(parts) == 3 and parts[0] in per_class:
            by_folder.setdefault((parts[0], parts[1]), []).append(name)
    return {n for (split, _), files in by_folder.items() for n in files[: per_class[split]]}


def read_members(archive: Path, per_class):
    """{name: bytes} of the picked files: one pass for the names, one to read them (the archive is a stream)."""
    with tarfile.open(archive, "r:gz") as tar:
        wanted = pick([m.name for m in tar if m.isfile()], per_class)
    out = {}
    with tarfile.open(archive, "r|gz") as tar:
        for m in tar:
            if m.name in wanted:
                out[m.name] = tar.extractfile(m).read()
    return out


def shrink(raw: bytes) -> bytes:
    with Image.open(io.BytesIO(raw)) as im:
        small = resize_center_crop(im if im.mode in ("RGB", "L") else im.convert("RGB"), IMAGENETTE_SIZE)
        buf = io.BytesIO()
        small.save(buf, "JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


def write_archive(path: Path, files: dict):
    """A reproducible .tar.gz of {name: bytes}."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(files[name]), 0o644, 0
            tar.addfile(info, io.BytesIO(files[name]))
    path.write_bytes(gzip.compress(raw.getvalue(), compresslevel=9, mtime=0))
    print(f"{path.relative_to(REPO)}: {len(files)} images, {path.stat().st_size:,} bytes")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        type=Path,
        default=REPO.parent / "shared" / "data",
        help="folder holding cifar10-jpg.tar.gz and imagenette-224.tar.gz",
    )
    args = parser.parse_args()
    for name in ("cifar10-jpg.tar.gz", "imagenette-224.tar.gz"):
        if not (args.source / name).is_file():
            sys.exit(f"error: {args.source / name} not found; pass --source DIR")
    SAMPLE_DATA.mkdir(exist_ok=True)
    write_archive(
        SAMPLE_DATA / "cifar10-sample.tar.gz", read_members(args.source / "cifar10-jpg.tar.gz", CIFAR_PER_CLASS)
    )
    imagenette = read_members(args.source / "imagenette-224.tar.gz", IMAGENETTE_PER_CLASS)
    write_archive(
        SAMPLE_DATA / "imagenette-sample.tar.gz",
        {f"imagenette-sample/{name}": shrink(raw) for name, raw in imagenette.items()},
    )


if __name__ == "__main__":
    main()
