"""Logic functions: IF and SWITCH (with their result-type rules), AND, OR, XOR, NOT, BLANK, ERROR, ISERROR, ISBLANK."""
from ..compare import _equal
from ..errors import FormulaError, _Fail
from ..nodes import Call, _start
from ..value_types import _comparable, _unify
from ..values import _is_blank, _truthy
from .registry import _function


def _if_type(node: Call, arg_types: list) -> str:
    other = arg_types[2] if len(arg_types) == 3 else "blank"
    result = _unify(arg_types[1], other)
    if result is None:
        raise FormulaError(_start(node.args[2]), f"IF branches have different types ({arg_types[1]} and {other}); "
                                                 "make them the same type, e.g. with & \"\" or VALUE()")
    return result


def _switch_type(node: Call, arg_types: list) -> str:
    subject, rest = arg_types[0], list(range(1, len(arg_types)))
    results = rest[1::2] + (rest[-1:] if len(rest) % 2 else [])
    for index in rest[0:len(rest) - len(rest) % 2:2]:
        if not _comparable(subject, arg_types[index]):
            raise FormulaError(_start(node.args[index]), f"SWITCH cannot compare {subject} with {arg_types[index]}")
    result = "blank"
    for index in results:
        unified = _unify(result, arg_types[index])
        if unified is None:
            raise FormulaError(_start(node.args[index]), f"SWITCH results have different types ({result} and "
                                                         f"{arg_types[index]})")
        result = unified
    return result


@_function("IF", "any, any, any?", _if_type, lazy=True,
           usage='IF(condition, then, [otherwise])', doc='then when the condition holds, else otherwise (blank when left out)')
def _if(ctx, condition, then, otherwise=None):
    if _truthy(ctx.eval(condition)):
        return ctx.eval(then)
    return None if otherwise is None else ctx.eval(otherwise)


@_function("SWITCH", "any, any, any, any*", _switch_type, lazy=True,
           usage='SWITCH(value, case, result, ..., [default])', doc='The result of the first case equal to value, else the default')
def _switch(ctx, subject, *rest):
    value = ctx.eval(subject)
    for index in range(0, len(rest) - 1, 2):
        if _equal(value, ctx.eval(rest[index])):
            return ctx.eval(rest[index + 1])
    return ctx.eval(rest[-1]) if len(rest) % 2 else None


@_function("AND", "any+", "boolean",
           usage='AND(condition, ...)', doc='True when every condition holds')
def _and(ctx, *values):
    return all(_truthy(v) for v in values)


@_function("OR", "any+", "boolean",
           usage='OR(condition, ...)', doc='True when any condition holds')
def _or(ctx, *values):
    return any(_truthy(v) for v in values)


@_function("XOR", "any+", "boolean",
           usage='XOR(condition, ...)', doc='True when an odd number of conditions hold')
def _xor(ctx, *values):
    return sum(1 for v in values if _truthy(v)) % 2 == 1


@_function("NOT", "any", "boolean",
           usage='NOT(condition)', doc='True when the condition does not hold')
def _not(ctx, value):
    return not _truthy(value)


@_function("BLANK", "", "blank",
           usage='BLANK()', doc='A blank value')
def _blank(ctx):
    return None


@_function("ERROR", "", "blank",
           usage='ERROR()', doc='An error value (#ERROR!)')
def _error(ctx):
    raise _Fail("#ERROR!")


@_function("ISERROR", "any", "boolean", lazy=True,
           usage='ISERROR(value)', doc='Whether the value is an error')
def _iserror(ctx, node):
    try:
        ctx.eval(node)
    except _Fail:
        return True
    return False


@_function("ISBLANK", "any", "boolean",
           usage='ISBLANK(value)', doc='Whether the value is blank')
def _isblank(ctx, value):
    return _is_blank(value)
