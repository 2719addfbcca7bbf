import tarfile
import zlib

# What reading a cut or damaged archive raises
ARCHIVE_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error)


class DataError(Exception):
    """A dataset problem a user can fix; printed as one line, no traceback."""


class DataNotFound(DataError):
    """No dataset where the suite looked, as against one that is there but broken (the smoke scale then
    falls back to the shipped sample: preflight.data_source; a broken dataset is never passed over)."""


def check_folder(path, what):
    """DataError if `path` exists and is not a folder (e.g. $ALEXNET_REPRO_CACHE pointing at a file)."""
    if path.exists() and not path.is_dir():
        raise DataError(f"{what} {path} is a file, not a folder: point it at a folder")


def unreadable_archive(path, e) -> DataError:
    why = " ".join(str(e).split())  # one line
    return DataError(f"{path} is not a readable archive ({type(e).__name__}: {why}); re-download or re-create it")
