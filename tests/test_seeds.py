import dataclasses
import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from alexnet_repro.paths import SAMPLE_DATA
from alexnet_repro.seeds import parse_seeds


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None),
        ("", None),
        (1, (1,)),
        ("1", (1,)),
        ("0,1", (0, 1)),
        (" 0, 1 ", (0, 1)),
        ([0, 1], (0, 1)),
        ((2, 0), (2, 0)),
        (np.int64(3), (3,)),
        ([np.int64(4)], (4,)),
    ],
)
def test_accepted(value, expected):
    assert parse_seeds(value) == expected


@pytest.mark.parametrize(
    "value, words",
    [
        ("0,0", "seed 0 given twice"),
        ([1, 2, 1], "seed 1 given twice"),
        ("-1", "negative"),
        (-2, "negative"),
        ("a", "integers"),
        ("1.5", "integers"),
        (1.0, "integers"),
        ([True], "integers"),
        ("0,,1", "integers"),
        ("0,", "integers"),
        ([], "empty"),
        ((), "empty"),
    ],
)
def test_refused_with_one_line(value, words):
    with pytest.raises(ValueError) as e:
        parse_seeds(value)
    assert words in str(e.value) and "\n" not in str(e.value)


# The seeds' walk (issue 23): `--seeds` goes from the command line to the optimizer step through at most 7 files of
# the package, in this process (no notebook hop). Distinct seeds, so that no other argument of a run holds them.
WALK_SEEDS = (1_000_003, 1_000_033)
WALK_LIMIT = 7


class _Stepped(BaseException):
    """Raised at the first optimizer step: the walk is complete (BaseException: no handler on the way takes it)."""


def _holds_seeds(obj, depth=0):
    """The --seeds text, the seeds, one seed, or a config, spec or run description carrying them."""
    if isinstance(obj, bool):
        return False
    if isinstance(obj, int):
        return obj in WALK_SEEDS
    if isinstance(obj, str):
        return any(str(s) in obj for s in WALK_SEEDS)
    if depth >= 3:
        return False
    if isinstance(obj, (tuple, list)) and len(obj) <= 64:
        return any(_holds_seeds(v, depth + 1) for v in obj)
    if isinstance(obj, dict) and len(obj) <= 64:
        return any(_holds_seeds(v, depth + 1) for v in obj.values())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return any(_holds_seeds(getattr(obj, f.name), depth + 1) for f in dataclasses.fields(obj))
    return False


def seeds_walk(argv) -> list:
    """The package files, in order, whose functions are called with the seeds in an argument (_holds_seeds) while
    `python -m alexnet_repro <argv>` runs in this process, up to its first optimizer step."""
    import alexnet_repro
    from alexnet_repro.__main__ import main

    package = str(Path(alexnet_repro.__file__).parent) + os.sep
    files = []

    def profile(frame, event, arg):
        if event != "call":
            return
        code = frame.f_code
        if code.co_name == "step" and isinstance(frame.f_locals.get("self"), torch.optim.Optimizer):
            raise _Stepped
        if code.co_filename.startswith(package) and code.co_filename[len(package) :] not in files:
            n = code.co_argcount + code.co_kwonlyargcount + bool(code.co_flags & 4) + bool(code.co_flags & 8)
            if any(_holds_seeds(frame.f_locals.get(name)) for name in code.co_varnames[:n]):
                files.append(code.co_filename[len(package) :])

    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        main(argv)
    except _Stepped:
        return files
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    raise AssertionError(f"`{' '.join(argv)}` finished without an optimizer step; the seeds went through {files}")


@pytest.mark.parametrize(
    "slug, trains", [("dropout", "claims/family/training.py"), ("relu_vs_tanh", "claims/relu_vs_tanh.py")]
)
def test_the_seeds_go_from_the_command_to_the_optimizer_step_through_at_most_7_files(slug, trains, tmp_path):
    """Parsed once by the command, handed down as one tuple, each seed into its run's spec: a new hop (a wrapper, a
    second home for a parse or a config, a detour through a notebook) adds a file here. Today, for both: __main__.py,
    seeds.py, contract.py and the claim's training, engine.py (its spec), runs.py, optim.py (handed the spec)."""
    seeds = ",".join(map(str, WALK_SEEDS))
    argv = [
        "run",
        slug,
        "--scale",
        "smoke",
        "--seeds",
        seeds,
        "--data-root",
        str(SAMPLE_DATA),
        "--out-dir",
        str(tmp_path),
    ]
    files = [f.replace(os.sep, "/") for f in seeds_walk(argv)]
    assert len(files) <= WALK_LIMIT, f"--seeds crosses {len(files)} files on its way to the optimizer step: {files}"
    assert files[:2] == ["__main__.py", "seeds.py"] and {trains, "claims/contract.py", "runs.py", "engine.py"} <= set(
        files
    ), files
