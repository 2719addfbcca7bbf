"""What `run` checks before it starts a notebook's kernel, so that a mistake a user can fix shows in
about a second, as one line with exit 2, not 15-25 s later from inside the kernel: the device
exists, the folders the run writes to are folders and writable, the dataset can be found and opened
(without decoding it). `data_identity` is also what `run`'s up-to-date check knows of the data.
`data_source` picks the data root: the smoke scale falls back to the sample shipped with the package.
"""
import tempfile
from pathlib import Path

from .data import cifar10, imagefolder
from .data.errors import DataNotFound, check_folder
from .paths import SAMPLE_DATA


def check_writable(folder, what):
    """ValueError of one line unless `folder` is (or can be made) a folder this process can write in."""
    folder = Path(folder)
    check_folder(folder, what)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise ValueError(f"cannot write {what} in {folder} ({e.strerror}): fix its permissions or choose "
                         f"another folder") from None


def data_identity(slug, data_root=None, download=False, scale="smoke") -> str:
    """The fingerprint of the claim's dataset (names, sizes and modification times of the source, as its
    cache is keyed: cheap, no rehash), after checking that it is there and opens; DataError otherwise."""
    from .claims import load
    kind = load(slug).DATA  # what the claim declares it reads: "cifar10", "family" or None
    if kind == "family":
        from .claims import ablation
        kind = ablation.SCALES[scale].data
    if kind == "cifar10":
        return f"cifar10:{cifar10.check_source(data_root, download)}"
    if kind == "imagefolder":
        return f"imagefolder:{imagefolder.check_source(data_root)}"
    return "none"


def data_source(slug, data_root=None, download=False, scale="smoke"):
    """(the data root the claim is to read, its data_identity). The user's data is searched for as the loaders
    search (data_root, else $ALEXNET_REPRO_DATA, else ~/data). Only when nothing is found there (a broken
    dataset stays an error), no --data-root was given and the scale is smoke does it become SAMPLE_DATA, which
    the same loaders then read as any user's folder. None: the default search found the data."""
    try:
        return data_root, data_identity(slug, data_root, download, scale)
    except DataNotFound:
        if data_root or scale != "smoke":
            raise
        return SAMPLE_DATA, data_identity(slug, SAMPLE_DATA, False, scale)
