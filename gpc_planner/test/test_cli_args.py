"""The shared argument types of the CLI: accepted values pass through, the rest is a one-line
ArgumentTypeError naming what was expected."""

import argparse

import pytest

from gpc_planner.cli.args import nonnegative_float, nonnegative_int, positive_float, positive_int


@pytest.mark.parametrize(("parse", "text", "value"), [
    (positive_int, "3", 3), (nonnegative_int, "0", 0),
    (positive_float, "0.25", 0.25), (nonnegative_float, "0", 0.0),
    (nonnegative_float, "2e-3", 2e-3),
])
def test_values_in_range_pass_through_with_their_type(parse, text, value):
    parsed = parse(text)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(("parse", "text", "wording"), [
    (positive_int, "0", "a positive integer"), (positive_int, "1.5", "a positive integer"),
    (nonnegative_int, "-1", "an integer >= 0"), (nonnegative_int, "x", "an integer >= 0"),
    (positive_float, "0", "a positive number"), (positive_float, "nan", "a positive number"),
    (positive_float, "inf", "a positive number"), (positive_float, "-2", "a positive number"),
    (nonnegative_float, "-0.1", "a number >= 0"), (nonnegative_float, "nan", "a number >= 0"),
    (nonnegative_float, "inf", "a number >= 0"), (nonnegative_float, "one", "a number >= 0"),
])
def test_values_out_of_range_or_not_numbers_are_one_line_errors(parse, text, wording):
    with pytest.raises(argparse.ArgumentTypeError) as err:
        parse(text)
    message = str(err.value)
    assert message.startswith(f"expected {wording}, got ") and text in message
    assert "\n" not in message
