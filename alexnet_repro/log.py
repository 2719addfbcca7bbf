"""The package's logger, on stderr as `note: ...` / `warning: ...` lines (stdout is for what a user asked for).
Its level travels to a notebook's kernel in $ALEXNET_REPRO_LOG_LEVEL, so it says as much as its command.
"""

import logging
import os
import sys

LOG = logging.getLogger("alexnet_repro")
ENV = "ALEXNET_REPRO_LOG_LEVEL"
_WORDS = {logging.DEBUG: "debug", logging.INFO: "note", logging.WARNING: "warning", logging.ERROR: "error"}


class _Stderr(logging.Handler):
    """Writes to whatever sys.stderr is at the time (pytest's capture, a kernel's stream), not the one at import."""

    def emit(self, record):
        word = _WORDS.get(record.levelno, record.levelname.lower())
        print(f"{word}: {record.getMessage()}", file=sys.stderr, flush=True)


def set_level(level: str):
    """'debug', 'info' or 'warning', here and in every kernel started after this."""
    os.environ[ENV] = level
    LOG.setLevel(level.upper())


if not LOG.handlers:
    LOG.addHandler(_Stderr())
    LOG.propagate = False  # one line per message, whatever the root logger (papermill's, a host's) does
    LOG.setLevel(os.environ.get(ENV, "info").upper())
