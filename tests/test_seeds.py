import numpy as np
import pytest

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
