"""What `run` checks before any kernel starts, so that a mistake a user can fix shows in about a second as one
line with exit 2: the folders it writes to are writable, the dataset can be found and opened (without decoding it).
"""

import os
import tempfile
from pathlib import Path

from .data import cifar10, imagefolder
from .data.errors import DataNotFound, check_folder
from .log import LOG
from .paths import SAMPLE_DATA
from .paths import data_root as default_data_root

_noted = []  # the fallback's note is said once per process, not once per claim of `run all`


def check_writable(folder, what):
    """ValueError of one line unless `folder` is (or can be made) a folder this process can write in."""
    folder = Path(folder)
    check_folder(folder, what)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise ValueError(
            f"cannot write {what} in {folder} ({e.strerror}): fix its permissions or choose another folder"
        ) from None


def data_kind(slug, scale) -> str:
    """The dataset the claim reads at the scale: "cifar10", "imagefolder" (ImageNet layout) or None."""
    from .claims import load
    from .claims.family import arms

    kind = load(slug).DATA  # what the claim declares it reads: "cifar10", "family" or None
    return arms.SCALES[scale].data if kind == "family" else kind


def data_identity(slug, data_root=None, download=False, scale="smoke") -> str:
    """The fingerprint of the claim's dataset (names, sizes and modification times of the source, as its cache is
    keyed), after checking that it is there and opens; DataError otherwise. `run`'s up-to-date check compares it."""
    kind = data_kind(slug, scale)
    if kind == "cifar10":
        return f"cifar10:{cifar10.check_source(data_root, download)}"
    if kind == "imagefolder":
        return f"imagefolder:{imagefolder.check_source(data_root)}"
    return "none"


def data_source(slug, data_root=None, download=False, scale="smoke"):
    """(the data root the claim is to read, None for the loaders' default search; its data_identity). Only when
    nothing is found (a broken dataset stays an error), no root was given and the scale is smoke is it SAMPLE_DATA."""
    try:
        return data_root, data_identity(slug, data_root, download, scale)
    except DataNotFound:
        if data_root or scale != "smoke":
            raise
        found = SAMPLE_DATA, data_identity(slug, SAMPLE_DATA, False, scale)
        if not _noted and os.environ.get("RANK", "0") == "0":  # under torchrun rank 0 speaks for all
            _noted.append(True)
            LOG.info(
                f"no dataset found under {default_data_root()} (--data-root or papermill's -p data_root, "
                f"$ALEXNET_REPRO_DATA, ~/data): the smoke scale reads the few hundred images shipped in "
                f"{SAMPLE_DATA} (plumbing checks only)"
            )
        return found
