"""Text functions: CONCAT, LEN, case, trimming, slicing, searching, replacing, REPT, VALUE and T."""
import re

from ..errors import _Fail, _short
from ..values import _checked_text, _finite, _integer, _is_number, _parse_number, _text
from .registry import _function


@_function("CONCAT", "text+", "text",
           usage='CONCAT(text, ...)', doc='The texts joined together (as &)')
def _concat(ctx, *values):
    return _checked_text(ctx, "".join(_text(v) for v in values))


@_function("LEN", "text", "number",
           usage='LEN(text)', doc='The number of characters')
def _len(ctx, value):
    return len(_text(value))


@_function("LOWER", "text", "text",
           usage='LOWER(text)', doc='The text in lower case')
def _lower(ctx, value):
    return _text(value).lower()


@_function("UPPER", "text", "text",
           usage='UPPER(text)', doc='The text in upper case')
def _upper(ctx, value):
    return _text(value).upper()


@_function("TRIM", "text", "text",
           usage='TRIM(text)', doc='The text without leading and trailing spaces')
def _trim(ctx, value):
    return _text(value).strip()


def _count_arg(value, what: str) -> int:
    count = _integer(value)
    if count < 0:
        raise _Fail(f"#VALUE!: {what} cannot be negative")
    return count


@_function("LEFT", "text, number?", "text",
           usage='LEFT(text, [count])', doc='The first count characters (1 by default)')
def _left(ctx, value, count=1):
    return _text(value)[:_count_arg(count, "LEFT count")]


@_function("RIGHT", "text, number?", "text",
           usage='RIGHT(text, [count])', doc='The last count characters (1 by default)')
def _right(ctx, value, count=1):
    count = _count_arg(count, "RIGHT count")
    return _text(value)[-count:] if count else ""


@_function("MID", "text, number, number", "text",
           usage='MID(text, start, count)', doc='count characters from position start (1 is the first)')
def _mid(ctx, value, start, count):
    start = _integer(start)
    if start < 1:
        raise _Fail("#VALUE!: MID start must be 1 or more")
    return _text(value)[start - 1:start - 1 + _count_arg(count, "MID count")]


def _find(needle: str, haystack: str, start) -> int:
    begin = max(1, _integer(start)) - 1
    if begin > len(haystack):
        return 0
    return haystack.find(needle, begin) + 1


@_function("FIND", "text, text, number?", "number",
           usage='FIND(needle, text, [start])', doc='Where needle first appears in text (case-sensitive), 0 when absent')
def _find_fn(ctx, needle, haystack, start=1):
    """1-based position of `needle` in `haystack` (case-sensitive), 0 when absent."""
    return _find(_text(needle), _text(haystack), start)


@_function("SEARCH", "text, text, number?", "number",
           usage='SEARCH(needle, text, [start])', doc='Where needle first appears, ignoring case; blank when absent')
def _search(ctx, needle, haystack, start=1):
    """Like FIND but ignoring case; blank when absent."""
    return _find(_text(needle).lower(), _text(haystack).lower(), start) or None


@_function("SUBSTITUTE", "text, text, text, number?", "text",
           usage='SUBSTITUTE(text, old, new, [which])', doc='The text with old replaced by new (every time, or only the which-th)')
def _substitute(ctx, value, old, new, which=None):
    text, old, new = _text(value), _text(old), _text(new)
    if not old:
        return text
    if which is None:
        # Check the size before building it: replacements can multiply the length.
        if len(text) + text.count(old) * (len(new) - len(old)) > ctx.limits.max_text:
            raise _Fail(f"#ERROR: text longer than {ctx.limits.max_text} characters")
        return text.replace(old, new)
    nth, at = _integer(which), -1
    if nth < 1:
        raise _Fail("#VALUE!: SUBSTITUTE occurrence must be 1 or more")
    for _ in range(min(nth, len(text) + 1)):
        at = text.find(old, at + 1)
        if at < 0:
            return text
    return _checked_text(ctx, text[:at] + new + text[at + len(old):])


@_function("REPLACE", "text, number, number, text", "text",
           usage='REPLACE(text, start, count, new)', doc='The text with count characters from start replaced by new')
def _replace(ctx, value, start, count, new):
    text, start = _text(value), _integer(start)
    if start < 1:
        raise _Fail("#VALUE!: REPLACE start must be 1 or more")
    count = _count_arg(count, "REPLACE count")
    return _checked_text(ctx, text[:start - 1] + _text(new) + text[start - 1 + count:])


@_function("REPT", "text, number", "text",
           usage='REPT(text, times)', doc='The text repeated')
def _rept(ctx, value, times):
    text, times = _text(value), _count_arg(times, "REPT count")
    if len(text) * times > ctx.limits.max_text:
        raise _Fail(f"#ERROR: text longer than {ctx.limits.max_text} characters")
    ctx.tick(times)
    return text * times


@_function("VALUE", "text", "number",
           usage='VALUE(text)', doc="A number read from text ('$1,200' is 1200, '12%' is 0.12)")
def _value(ctx, value):
    """A number read from text; currency signs, thousands commas and a trailing % are understood."""
    if value is None or _is_number(value):
        return value
    if isinstance(value, bool):
        return int(value)
    text = re.sub(r"[\s,$€£¥]", "", _text(value))
    scale = 1
    if text.endswith("%"):
        text, scale = text[:-1], 100
    if not text:
        return None
    number = _parse_number(text)
    if number is None:
        raise _Fail(f"#VALUE!: cannot convert {_short(_text(value))!r} to a number")
    return _finite(number / scale if scale != 1 else number)


@_function("T", "any", "text",
           usage='T(value)', doc='The value if it is text, else blank')
def _t(ctx, value):
    return value if isinstance(value, str) else None
