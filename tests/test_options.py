"""The option checks shared by the commands (``advshape._options``)."""

from __future__ import annotations

import pytest

from advshape._options import OneOf


def test_one_of_names_the_choices():
    OneOf(("mean", "sum")).check("--agg", "sum")
    with pytest.raises(ValueError, match=r"^--agg must be one of mean, sum; got 'max'$"):
        OneOf(("mean", "sum")).check("--agg", "max")


def test_one_of_with_boolean_choices_raises_value_error():
    # a flag's choices are (False, True): the message once raised TypeError joining them
    with pytest.raises(ValueError, match=r"^--resume must be one of False, True; got 'yes'$"):
        OneOf((False, True)).check("--resume", "yes")
