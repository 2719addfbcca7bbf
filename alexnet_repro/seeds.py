"""Seeds: the one parser for them, and the random streams a run's seed derives.

Common random numbers (book/method.md): each source of randomness in a run has its own stream, seeded from (seed,
purpose): "init" (the caller builds the model under it), "order" (per epoch), each augmentation purpose ("crop",
"lighting", ..., per epoch: `Streams`) and "dropout" (the global generator while training).
"""

import hashlib
import operator

import torch


def parse_seeds(value):
    """None | "" (the scale's own seeds) | 1 | "1" | "0,1" | " 0, 1 " | [0, 1] | (0, 1) -> None or a tuple of
    distinct ints >= 0 (a seed given twice would count one run twice in an interval); else ValueError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    items = value.split(",") if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else [value]
    if not items:
        raise ValueError("an empty list of seeds: give at least one, or none at all for the scale's own")
    seeds = []
    for s in items:
        try:  # an int from " 3", 3 or numpy's int64; never from a float, a bool or "3.0"
            if isinstance(s, bool):
                raise TypeError
            seed = int(s) if isinstance(s, str) else operator.index(s)
        except (TypeError, ValueError):
            raise ValueError(f"seeds must be comma-separated integers, got {s!r} in {value!r}") from None
        if seed < 0:
            raise ValueError(f"seed {seed} is negative: seeds are integers >= 0")
        if seed in seeds:
            raise ValueError(f"seed {seed} given twice")
        seeds.append(seed)
    return tuple(seeds)


def derive_seed(seed: int, purpose: str, *more: int) -> int:
    """A 63-bit seed for one purpose of one run (and epoch): streams never overlap by accident."""
    h = hashlib.sha256(f"{int(seed)}/{purpose}/{'/'.join(map(str, more))}".encode()).digest()
    return int.from_bytes(h[:8], "little") >> 1


def seed_everything(seed: int, purpose: str = "init"):
    """Seed the global generator for one purpose: "init" before building a model, "dropout" before training."""
    torch.manual_seed(derive_seed(seed, purpose))


def order_generator(seed, epoch) -> torch.Generator:
    """The CPU generator an epoch's batch order is drawn from (the same on every process)."""
    return torch.Generator().manual_seed(derive_seed(seed, "order", epoch))


class Streams:
    """The augmentation's streams for one epoch: streams(purpose) is a generator on `device`, seeded from (seed,
    purpose, epoch) on first use, so arms sharing a seed share each stream whether or not they use the others."""

    def __init__(self, seed, epoch, device):
        self.seed, self.epoch, self.device, self._made = seed, epoch, torch.device(device), {}

    def __call__(self, purpose: str) -> torch.Generator:
        if purpose not in self._made:
            self._made[purpose] = torch.Generator(self.device).manual_seed(derive_seed(self.seed, purpose, self.epoch))
        return self._made[purpose]
