"""Functions on numbers: aggregates (SUM, AVERAGE, COUNT...), rounding and arithmetic."""
import math
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, ROUND_UP, Decimal, localcontext

from ..errors import _Fail
from ..values import _finite, _integer, _is_blank, _is_number, _number, _parse_number
from .registry import _function


def _numbers(ctx, values):
    """The numbers among the arguments: list items that are not numbers are skipped, direct text must be one."""
    for value in values:
        if isinstance(value, list):
            ctx.tick(len(value))
            for item in value:
                if _is_number(item):
                    yield item
                elif isinstance(item, str) and _parse_number(item) is not None:
                    yield _finite(_parse_number(item))
        elif value is not None and value != "":
            yield _number(value)


@_function("SUM", "numbers+", "number",
           usage='SUM(number, ...)', doc='The numbers added up (blanks count as nothing)')
def _sum(ctx, *values):
    return _finite(math.fsum(_numbers(ctx, values)))


@_function("MIN", "numbers+", "number",
           usage='MIN(number, ...)', doc='The smallest of the numbers')
def _min(ctx, *values):
    return min(_numbers(ctx, values), default=0)


@_function("MAX", "numbers+", "number",
           usage='MAX(number, ...)', doc='The largest of the numbers')
def _max(ctx, *values):
    return max(_numbers(ctx, values), default=0)


@_function("AVERAGE", "numbers+", "number",
           usage='AVERAGE(number, ...)', doc='The mean of the numbers (blanks left out)')
def _average(ctx, *values):
    numbers = list(_numbers(ctx, values))
    if not numbers:
        raise _Fail("#DIV/0: AVERAGE of no numbers")
    return _finite(math.fsum(numbers) / len(numbers))


def _items(ctx, values):
    for value in values:
        if isinstance(value, list):
            ctx.tick(len(value))
            yield from value
        else:
            yield value


@_function("COUNT", "any+", "number",
           usage='COUNT(value, ...)', doc='How many of the values are numbers')
def _count(ctx, *values):
    return sum(1 for item in _items(ctx, values) if _is_number(item))


@_function("COUNTA", "any+", "number",
           usage='COUNTA(value, ...)', doc='How many of the values are not blank')
def _counta(ctx, *values):
    return sum(1 for item in _items(ctx, values) if not _is_blank(item))


def _decimal_round(value, digits, mode):
    number, places = _number(value), max(-330, min(330, _integer(digits)))
    with localcontext() as context:
        context.prec = 700  # enough for any float at any clamped number of places
        exact = Decimal(repr(number)) if isinstance(number, float) else Decimal(number)
        rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=mode)
    return _finite(int(rounded) if places <= 0 else float(rounded))


@_function("ROUND", "number, number?", "number",
           usage='ROUND(number, [digits])', doc='Rounded to digits decimal places, halves away from zero')
def _round(ctx, value, digits=0):
    # Half away from zero, on the decimal digits as written: ROUND(2.675, 2) is 2.68.
    return _decimal_round(value, digits, ROUND_HALF_UP)


@_function("ROUNDUP", "number, number?", "number",
           usage='ROUNDUP(number, [digits])', doc='Rounded away from zero to digits decimal places')
def _roundup(ctx, value, digits=0):
    return _decimal_round(value, digits, ROUND_UP)


@_function("ROUNDDOWN", "number, number?", "number",
           usage='ROUNDDOWN(number, [digits])', doc='Rounded toward zero to digits decimal places')
def _rounddown(ctx, value, digits=0):
    return _decimal_round(value, digits, ROUND_DOWN)


def _to_multiple(value, significance, mode):
    number, step = _number(value), abs(_number(significance))
    if step == 0:
        return 0
    with localcontext() as context:
        context.prec = 50
        exact = Decimal(repr(number)) if isinstance(number, float) else Decimal(number)
        size = Decimal(repr(step)) if isinstance(step, float) else Decimal(step)
        result = (exact / size).to_integral_value(rounding=mode) * size
    return _finite(int(result) if result == result.to_integral_value() else float(result))


@_function("CEILING", "number, number?", "number",
           usage='CEILING(number, [step])', doc='Rounded up to a multiple of step (1 by default)')
def _ceiling(ctx, value, significance=1):
    return _to_multiple(value, significance, ROUND_CEILING)


@_function("FLOOR", "number, number?", "number",
           usage='FLOOR(number, [step])', doc='Rounded down to a multiple of step (1 by default)')
def _floor(ctx, value, significance=1):
    return _to_multiple(value, significance, ROUND_FLOOR)


@_function("INT", "number", "number",
           usage='INT(number)', doc='The largest whole number not above it')
def _int(ctx, value):
    return _finite(math.floor(_number(value)))


@_function("ABS", "number", "number",
           usage='ABS(number)', doc='The number without its sign')
def _abs(ctx, value):
    return abs(_number(value))


@_function("MOD", "number, number", "number",
           usage='MOD(number, divisor)', doc="The remainder after division, with the divisor's sign")
def _mod(ctx, value, divisor):
    # The result takes the divisor's sign, as in Excel: MOD(-7, 3) is 2.
    value, divisor = _number(value), _number(divisor)
    if divisor == 0:
        raise _Fail("#DIV/0: MOD by zero")
    return _finite(value % divisor)


@_function("POWER", "number, number", "number",
           usage='POWER(base, exponent)', doc='base raised to the power exponent')
def _power(ctx, base, exponent):
    try:
        return _finite(math.pow(_number(base), _number(exponent)))
    except (OverflowError, ValueError, ZeroDivisionError):
        raise _Fail("#NUM!: POWER result is out of range or not a real number") from None


@_function("SQRT", "number", "number",
           usage='SQRT(number)', doc='The square root')
def _sqrt(ctx, value):
    number = _number(value)
    if number < 0:
        raise _Fail("#NUM!: square root of a negative number")
    return math.sqrt(number)


@_function("EXP", "number", "number",
           usage='EXP(number)', doc='e raised to the power of the number')
def _exp(ctx, value):
    try:
        return math.exp(_number(value))
    except OverflowError:
        raise _Fail("#NUM!: EXP result is out of range") from None


@_function("LOG", "number, number?", "number",
           usage='LOG(number, [base])', doc='The logarithm, base 10 unless given')
def _log(ctx, value, base=10):
    number, base = _number(value), _number(base)
    if number <= 0 or base <= 0 or base == 1:
        raise _Fail("#NUM!: LOG needs a positive number and a positive base other than 1")
    # log10 and log2 are exact on powers of their base, where log(x, base) is not: LOG(1000) is 3.
    if base == 10:
        return math.log10(number)
    return math.log2(number) if base == 2 else math.log(number) / math.log(base)
