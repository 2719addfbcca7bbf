"""One parser for seeds, wherever they come from (the command line, a notebook parameter, a call).

None or "" means "the scale's own seeds" (-> None). Anything else becomes a tuple of distinct
non-negative ints, or a ValueError of one line naming the offending value: a seed given twice would
count one run twice in an interval, and a negative seed is a typo.
"""
import operator


def parse_seeds(value):
    """None | "" | 1 | "1" | "0,1" | " 0, 1 " | [0, 1] | (0, 1) -> None or a tuple of ints."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        items = [s.strip() for s in value.split(",")]
    elif isinstance(value, (list, tuple)):
        items = list(value)
        if not items:
            raise ValueError("an empty list of seeds: give at least one, or none at all for the scale's own")
    else:
        items = [value]
    seeds = []
    for s in items:
        seed = _as_int(s, value)
        if seed < 0:
            raise ValueError(f"seed {seed} is negative: seeds are integers >= 0")
        if seed in seeds:
            raise ValueError(f"seed {seed} given twice")
        seeds.append(seed)
    return tuple(seeds)


def _as_int(s, whole) -> int:
    """An int from "3", 3 or numpy's int64; never from a float, a bool or "3.0"."""
    try:
        if isinstance(s, bool):
            raise TypeError
        return int(s) if isinstance(s, str) else operator.index(s)
    except (TypeError, ValueError):
        raise ValueError(f"seeds must be comma-separated integers, got {s!r} in {whole!r}") from None
