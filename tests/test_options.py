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


def test_option_declares_a_field_with_its_check():
    import dataclasses

    from advshape._options import check_options, count, field_checks, option

    steps_check = count(1, 10)

    @dataclasses.dataclass
    class Options:
        steps: int = option(3, steps_check)
        name: str = "free"  # no check declared
        mode: str = option("a", OneOf(("a", "b")))

    assert Options().steps == 3
    assert list(field_checks(Options)) == ["steps", "mode"]
    assert field_checks(Options)["steps"] is steps_check
    check_options(Options(), field_checks(Options))
    with pytest.raises(ValueError, match=r"^--steps must be an integer in \[1, 10\], got 11$"):
        check_options(Options(steps=11), field_checks(Options))
    with pytest.raises(ValueError, match="--mode must be one of a, b; got 'c'"):
        check_options(Options(mode="c"), field_checks(Options))

    @dataclasses.dataclass
    class More(Options):
        seeds: int = option(2, count(1, 5))
        mode: str = option("b", OneOf(("b",)))  # redeclared: still Options' field

    assert list(field_checks(More, beyond=Options)) == ["seeds"]
