"""Date functions: units, DATEADD, DATETIME_DIFF, formatting, TODAY and NOW, parts of a date, comparisons."""
import calendar
import re
from datetime import datetime, timedelta

from ..errors import _Fail, _short
from ..values import _checked_text, _date, _is_blank, _moment, _number, _text
from .registry import _function


_UNITS = {"ms": "ms", "millisecond": "ms", "milliseconds": "ms", "s": "s", "second": "s", "seconds": "s",
          "m": "m", "minute": "m", "minutes": "m", "h": "h", "hour": "h", "hours": "h",
          "d": "d", "day": "d", "days": "d", "w": "w", "week": "w", "weeks": "w",
          "M": "M", "month": "M", "months": "M", "q": "Q", "Q": "Q", "quarter": "Q", "quarters": "Q",
          "y": "y", "year": "y", "years": "y"}
_UNIT_HELP = {"ms": "'milliseconds'", "s": "'seconds'", "m": "'minutes'", "h": "'hours'", "d": "'days'",
              "w": "'weeks'", "M": "'months'", "Q": "'quarters'", "y": "'years'"}
_MICROSECONDS = {"ms": 1_000, "s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000,
                 "w": 604_800_000_000}
_MONTHS_PER = {"M": 1, "Q": 3, "y": 12}
_WEEK_STARTS = frozenset({"sunday", "monday"})
_ALL_UNITS = ("ms", "s", "m", "h", "d", "w", "M", "Q", "y")
_UNIT_SETS = {"DATEADD": _ALL_UNITS, "DATETIME_DIFF": _ALL_UNITS, "IS_SAME": _ALL_UNITS, "WEEKDAY": _WEEK_STARTS}
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _unit(name: str):
    # Exact first: "M" is months and "m" minutes, as in Airtable (moment.js).
    return _UNITS.get(name) or _UNITS.get(name.strip().lower())


def _runtime_unit(value, default: str) -> str:
    if _is_blank(value):
        return default
    unit = _unit(_text(value))
    if unit is None:
        raise _Fail(f"#ERROR: unknown unit {_short(_text(value))!r}")
    return unit


def _add_months(moment, months: int):
    total = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise _Fail("#ERROR: date out of range")
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])  # Jan 31 + 1 month is the end of February
    return moment.replace(year=year, month=month + 1, day=day)


def _date_add(moment, count, unit: str):
    if unit in _MONTHS_PER:
        return _add_months(moment, int(count) * _MONTHS_PER[unit])
    if not isinstance(moment, datetime) and unit in ("d", "w") and float(count).is_integer():
        return moment + timedelta(days=int(count) * (7 if unit == "w" else 1))
    return _moment(moment) + timedelta(microseconds=count * _MICROSECONDS[unit])


@_function("DATEADD", "date, number, unit", "date",
           usage='DATEADD(date, count, unit)', doc="The date moved by count units ('days', 'months', 'years' ...)")
def _dateadd(ctx, value, count, unit):
    moment = _date(value)
    if moment is None:
        return None
    try:
        return _date_add(moment, _number(count), _runtime_unit(unit, "d"))
    except (OverflowError, ValueError):
        raise _Fail("#ERROR: date out of range") from None


def _month_diff(later: datetime, earlier: datetime) -> int:
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    anchor = _add_months(earlier, months)
    if months > 0 and anchor > later:
        months -= 1
    elif months < 0 and anchor < later:
        months += 1
    return months


def _truncate(number: int, size: int) -> int:
    return (abs(number) // size) * (1 if number >= 0 else -1)


@_function("DATETIME_DIFF", "date, date, unit?", "number",
           usage='DATETIME_DIFF(date1, date2, [unit])', doc='date1 minus date2 in whole units (seconds unless a unit is given)')
def _datetime_diff(ctx, first, second, unit="seconds"):
    """first - second in whole units, truncated toward zero (Airtable's DATETIME_DIFF)."""
    first, second = _date(first), _date(second)
    if first is None or second is None:
        return None
    unit = _runtime_unit(unit, "s")
    if unit in _MONTHS_PER:
        return _truncate(_month_diff(_moment(first), _moment(second)), _MONTHS_PER[unit])
    delta = _moment(first) - _moment(second)
    return _truncate(delta // timedelta(microseconds=1), _MICROSECONDS[unit])


_FORMAT_TOKENS = re.compile(r"\[[^\]]*\]|YYYY|YY|MMMM|MMM|MM|M|DD|D|dddd|ddd|HH|H|hh|h|mm|ss|A")


def _format_token(token: str, moment: datetime) -> str:
    if token.startswith("["):
        return token[1:-1]
    hour12 = moment.hour % 12 or 12
    values = {
        "YYYY": f"{moment.year:04d}", "YY": f"{moment.year % 100:02d}", "MMMM": _MONTH_NAMES[moment.month - 1],
        "MMM": _MONTH_NAMES[moment.month - 1][:3], "MM": f"{moment.month:02d}", "M": str(moment.month),
        "DD": f"{moment.day:02d}", "D": str(moment.day), "dddd": _DAY_NAMES[moment.weekday()],
        "ddd": _DAY_NAMES[moment.weekday()][:3], "HH": f"{moment.hour:02d}", "H": str(moment.hour),
        "hh": f"{hour12:02d}", "h": str(hour12), "mm": f"{moment.minute:02d}", "ss": f"{moment.second:02d}",
        "A": "AM" if moment.hour < 12 else "PM",
    }
    return values[token]


@_function("DATETIME_FORMAT", "date, text?", "text",
           usage='DATETIME_FORMAT(date, [pattern])', doc="A date as text, e.g. 'MMM D, YYYY' (YYYY-MM-DD by default)")
def _datetime_format(ctx, value, pattern="YYYY-MM-DD"):
    """Moment-style tokens (YYYY MM DD M D HH mm ss MMM MMMM dddd ...); [text] in brackets is literal."""
    moment = _date(value)
    if moment is None:
        return None
    moment = _moment(moment)
    return _checked_text(ctx, _FORMAT_TOKENS.sub(lambda m: _format_token(m.group(), moment), _text(pattern)))


@_function("DATESTR", "date", "text",
           usage='DATESTR(date)', doc='A date as YYYY-MM-DD text')
def _datestr(ctx, value):
    moment = _date(value)
    return None if moment is None else _moment(moment).date().isoformat()


@_function("TODAY", "", "date",
           usage='TODAY()', doc="Today's date (UTC)")
def _today(ctx):
    return ctx.now.date()


@_function("NOW", "", "date",
           usage='NOW()', doc='The current date and time (UTC)')
def _now(ctx):
    return ctx.now


def _date_part(value, part: str):
    moment = _date(value)
    return None if moment is None else getattr(_moment(moment), part)


@_function("YEAR", "date", "number",
           usage='YEAR(date)', doc='The year of a date')
def _year(ctx, value):
    return _date_part(value, "year")


@_function("MONTH", "date", "number",
           usage='MONTH(date)', doc='The month of a date, 1 to 12')
def _month(ctx, value):
    return _date_part(value, "month")


@_function("DAY", "date", "number",
           usage='DAY(date)', doc='The day of the month, 1 to 31')
def _day(ctx, value):
    return _date_part(value, "day")


@_function("HOUR", "date", "number",
           usage='HOUR(date)', doc='The hour of a date-time, 0 to 23')
def _hour(ctx, value):
    return _date_part(value, "hour")


@_function("MINUTE", "date", "number",
           usage='MINUTE(date)', doc='The minute of a date-time, 0 to 59')
def _minute(ctx, value):
    return _date_part(value, "minute")


@_function("WEEKDAY", "date, unit?", "number",
           usage='WEEKDAY(date, [start])', doc="The day of the week, 0 for Sunday (or Monday with 'monday')")
def _weekday(ctx, value, start="sunday"):
    """0 for the first day of the week: Sunday, or Monday when asked."""
    moment = _date(value)
    if moment is None:
        return None
    first = _text(start).strip().lower() or "sunday"
    if first not in _WEEK_STARTS:
        raise _Fail(f"#ERROR: unknown week start {_short(_text(start))!r}")
    weekday = moment.weekday()     # Monday is 0
    return weekday if first == "monday" else (weekday + 1) % 7


def _two_moments(first, second):
    first, second = _date(first), _date(second)
    if first is None or second is None:
        return None
    return _moment(first), _moment(second)


@_function("IS_BEFORE", "date, date", "boolean",
           usage='IS_BEFORE(date1, date2)', doc='Whether date1 is before date2')
def _is_before(ctx, first, second):
    pair = _two_moments(first, second)
    return pair is not None and pair[0] < pair[1]


@_function("IS_AFTER", "date, date", "boolean",
           usage='IS_AFTER(date1, date2)', doc='Whether date1 is after date2')
def _is_after(ctx, first, second):
    pair = _two_moments(first, second)
    return pair is not None and pair[0] > pair[1]


def _same_key(moment: datetime, unit: str):
    if unit == "w":
        return (moment.date() - timedelta(days=(moment.weekday() + 1) % 7),)  # weeks start on Sunday
    if unit == "Q":
        return (moment.year, (moment.month - 1) // 3)
    fields = ("y", "M", "d", "h", "m", "s", "ms")
    values = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second, moment.microsecond)
    return values[:fields.index(unit) + 1]


@_function("IS_SAME", "date, date, unit?", "boolean",
           usage='IS_SAME(date1, date2, [unit])', doc='Whether two dates fall in the same unit (day, month, year ...)')
def _is_same(ctx, first, second, unit=None):
    """Whether two dates fall in the same unit (year, month, day ...); exactly equal without a unit."""
    pair = _two_moments(first, second)
    if pair is None:
        return False
    unit = _runtime_unit(unit, "ms")
    return _same_key(pair[0], unit) == _same_key(pair[1], unit)
