"""Runtime values: blank, numbers, text, dates and lists as the evaluator holds them, and conversions between them.

Runtime rules: blank is 0 in arithmetic, "" in text and equal to blank, 0,
FALSE and ""; compared with a date it is neither before nor after. Dates are
UTC; a date-only value stays a `date` until a time is added to it. Text
from a checkbox is "TRUE"/"FALSE", from a list its items joined by ", ".
"""
import math
import re
from datetime import date, datetime, timezone

from .errors import FormulaValueError, _Fail, _short


_NUMERIC_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                       r"(Z|[+-][0-9]{2}:?[0-9]{2})?)?")
_MAX_EXACT = 2 ** 53


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_blank(value) -> bool:
    return value is None or value == "" or value == []


def _finite(value):
    """Numbers stay finite and ints stay small, so no operation can build a giant integer."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_EXACT:
        try:
            value = float(value)
        except OverflowError:
            raise _Fail("#NUM!: number out of range") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise _Fail("#NUM!: number out of range")
    return value


def _parse_number(text: str):
    text = text.strip()
    if not _NUMERIC_TEXT.fullmatch(text):
        return None
    # Long digit strings go through float: int() refuses more than 4,300 digits.
    return int(text) if len(text) <= 300 and not re.search(r"[.eE]", text) else float(text)


def _describe(value) -> str:
    if isinstance(value, str):
        return f"text {_short(value)!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (date, datetime)):
        return "a date"
    if isinstance(value, bool):
        return "a checkbox"
    return _text(value)


def _number(value):
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if _is_number(value):
        return value
    if isinstance(value, str):
        number = 0 if not value.strip() else _parse_number(value)
        if number is not None:
            return _finite(number)
    raise _Fail(f"#VALUE!: expected a number, got {_describe(value)}")


def _integer(value) -> int:
    number = _number(value)
    return int(number)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, datetime):
        # Not strftime: it drops the leading zeros of years before 1000 on Linux.
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value:%H:%M:%S}Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    return str(value)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _parse_date(text: str):
    text = text.strip()
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text) if len(text) == 10 else _utc(datetime.fromisoformat(text))
    except ValueError:
        return None


def _date(value):
    """A date, an aware UTC datetime, or None for blank."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        parsed = _parse_date(value)
        if parsed is not None:
            return parsed
    raise _Fail(f"#VALUE!: expected a date, got {_describe(value)}")


def _moment(value: date) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)


def _truthy(value) -> bool:
    if value is None:
        return False
    if isinstance(value, (bool, int, float, str, list)):
        return bool(value)
    return True


def _plain(value):
    """A field value from the caller, in the shapes the evaluator works with."""
    if isinstance(value, FormulaValueError):
        raise _Fail(value.message)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (type(None), bool, int, float, str, date)):
        return _utc(value) if isinstance(value, datetime) else value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain_item(item) for item in value]
    if isinstance(value, dict):
        return _plain_item(value)
    try:
        return _finite(float(value))        # Decimal and friends
    except (TypeError, ValueError, _Fail):
        return str(value)


def _plain_item(item):
    if isinstance(item, dict):
        # A contact: shown as "Name <email>" like the grid's contacts column.
        name, email = item.get("name") or "", item.get("email") or ""
        return f"{name} <{email}>".strip() if email else str(name)
    return _plain(item)


def _typed(value, kind: str):
    """Read text stored for a date or number column as that type (left alone when it does not parse)."""
    if kind == "date" and isinstance(value, str):
        return _parse_date(value) or (None if not value.strip() else value)
    if kind == "number" and isinstance(value, str):
        number = _parse_number(value)
        return value if number is None else number
    if kind == "list" and value is not None and not isinstance(value, list):
        return [value]
    return value


def _checked_text(ctx, text: str) -> str:
    if len(text) > ctx.limits.max_text:
        raise _Fail(f"#ERROR: text longer than {ctx.limits.max_text} characters")
    return text
