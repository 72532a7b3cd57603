"""Comparison at run time: the six comparison operators across blank, numbers, text, dates and lists."""
from datetime import date

from .errors import _Fail
from .values import _describe, _is_blank, _moment, _number, _parse_date, _text


def _compare(op: str, left, right) -> bool:
    if isinstance(left, list):
        left = _text(left)
    if isinstance(right, list):
        right = _text(right)
    if _is_blank(left) or _is_blank(right):
        return _compare_blank(op, left, right)
    if isinstance(left, (date, str)) and isinstance(right, (date, str)) and not (
            isinstance(left, str) and isinstance(right, str)):
        left, right = _comparable_dates(op, left, right)
        if left is None:
            return op == "!="
    elif isinstance(left, str) != isinstance(right, str) or isinstance(left, date) or isinstance(right, date):
        if op in ("=", "!="):
            return op == "!="
        raise _Fail(f"#ERROR: cannot compare {_describe(left)} with {_describe(right)}")
    elif not isinstance(left, str):
        left, right = _number(left), _number(right)
    return _ordered(op, left, right)


def _compare_blank(op: str, left, right) -> bool:
    if _is_blank(left) and _is_blank(right):
        return op in ("=", "<=", ">=")
    if isinstance(left, date) or isinstance(right, date):
        return op == "!="     # an unknown date is neither before nor after a known one
    # Otherwise blank stands in as "" next to text and as 0 next to a number or checkbox.
    if _is_blank(left):
        left = "" if isinstance(right, str) else 0
    else:
        right = "" if isinstance(left, str) else 0
    if not isinstance(left, str):
        left, right = _number(left), _number(right)
    return _ordered(op, left, right)


def _comparable_dates(op: str, left, right):
    parsed = [_parse_date(v) if isinstance(v, str) else v for v in (left, right)]
    if None in parsed:
        if op in ("=", "!="):
            return None, None
        raise _Fail(f"#ERROR: cannot compare a date with {_describe(left if parsed[0] is None else right)}")
    return _moment(parsed[0]), _moment(parsed[1])


def _ordered(op: str, left, right) -> bool:
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == ">":
        return left > right
    if op == "<=":
        return left <= right
    return left >= right


def _equal(left, right) -> bool:
    try:
        return _compare("=", left, right)
    except _Fail:
        return False
