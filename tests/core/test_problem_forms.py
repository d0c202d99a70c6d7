"""Where a validator's problem was found, and the cached form of a row's problems."""

from __future__ import annotations

from workbench.core.dataset import Problem, in_validation_file, without_file_prefix
from workbench.core.dataset_io import problems_from_dicts, problems_to_dicts


def test_validation_file_problems_are_told_apart_and_lose_the_prefix_on_the_row():
    found = Problem(4, "no_assistant_target", "validation file: no assistant message", "error")
    plain = Problem(4, "no_assistant_target", "no assistant message", "error")
    assert in_validation_file(found) and not in_validation_file(plain)
    assert without_file_prefix(found) == plain
    assert without_file_prefix(plain) == plain


def test_cached_problems_round_trip_at_the_rows_line():
    problems = [Problem(0, "a", "first", "error"), Problem(0, "b", "second", "warning")]
    cached = problems_to_dicts(problems)
    assert problems_from_dicts(cached, 7) == [
        Problem(7, "a", "first", "error"),
        Problem(7, "b", "second", "warning"),
    ]
    assert problems_from_dicts([{"message": "m"}]) == [Problem(0, "", "m", "error")]
