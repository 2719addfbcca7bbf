"""Atomic writes (to `.<name>.tmp-<pid>-<random>` beside the file, then renamed), the clean-up of the temp files a
killed writer leaves behind (every writer of a large file calls `remove_stale_temps` first), and a lock.
"""

import contextlib
import fcntl
import os
import shutil
import tempfile
from pathlib import Path


def temp_prefix(path) -> str:
    return f".{Path(path).name}.tmp-{os.getpid()}-"


def atomic_write_bytes(path, data):
    """Write `data` (bytes, or a sequence of bytes-like parts) to `path` atomically; an OSError names `path` even
    where the OS names no file (a full disk fails in write or fsync)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(path))
    try:
        with os.fdopen(fd, "wb") as f:
            for part in [data] if isinstance(data, (bytes, bytearray, memoryview)) else data:
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for everyone to read
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError) and e.filename is None:
            raise OSError(e.errno, e.strerror, str(path)) from None
        raise


def remove_stale_temps(path):
    """Delete the temp files and folders of `path` left by writers that died (the pid in the name is gone)."""
    path = Path(path)
    head = f".{path.name}.tmp-"
    for p in path.parent.glob(f"{head}*"):
        try:
            os.kill(int(p.name[len(head) :].split("-")[0]), 0)
        except ProcessLookupError:
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        except (ValueError, PermissionError):
            pass  # not one of ours, or a live process of another user


@contextlib.contextmanager
def locked(path):
    """Hold an exclusive lock on the file `path` for the block, which the OS drops if its holder dies (flock)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
