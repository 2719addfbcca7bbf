class DataError(Exception):
    """A dataset problem a user can fix; printed as one line, no traceback."""


def check_folder(path, what):
    """DataError if `path` exists and is not a folder (e.g. $ALEXNET_REPRO_CACHE pointing at a file)."""
    if path.exists() and not path.is_dir():
        raise DataError(f"{what} {path} is a file, not a folder: point it at a folder")
