"""alexnet-repro: each claim of Krizhevsky, Sutskever & Hinton (2012) as an isolated, multi-seed experiment."""

__version__ = "0.1.0"
