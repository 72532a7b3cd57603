"""Result formats: how a formula's result is shown by default, read from the fields it uses.

A number is money when the fields it comes from are money: `{Fund I} + {Fund II}`,
`SUM({Check size}, 1000)`, `{Check size} * {Fee %}` and `{Fund I} / 2` are currency;
`{Fund I} / {Fund II}` (money over money) is a plain number. Percents stay percents
through sums and scaling by constants. A date is a date; text, yes/no and lists have
no format. The column can override it (`config.format`: one of `FORMATS`).

`units` maps a field name to what it holds: "number", "percent" or "currency:XXX"
(an ISO currency code); a field not listed is a plain number.
"""
from .nodes import Binary, Call, FieldRef, Number, String, Unary, _spine

FORMATS = ("number", "currency", "percent", "date")
_CONST = "const"            # a literal: it takes the unit of whatever it is combined with
_SAME_AS_ARGS = frozenset({"SUM", "MIN", "MAX", "AVERAGE"})
_SAME_AS_FIRST = frozenset({"ROUND", "ROUNDUP", "ROUNDDOWN", "CEILING", "FLOOR", "INT", "ABS"})


def default_format(node, result_type: str, units: dict) -> tuple:
    """(format, currency code or None) a formula of `result_type` is shown with; format None for text and the like."""
    if result_type == "date":
        return "date", None
    if result_type not in ("number", "any"):
        return None, None
    unit = _unit(node, units)
    if unit.startswith("currency:"):
        return "currency", unit.split(":", 1)[1]
    if unit == "percent":
        return "percent", None
    return ("number", None) if result_type == "number" else (None, None)


def _unit(node, units: dict) -> str:
    if isinstance(node, (Number, String)):
        return _CONST
    if isinstance(node, FieldRef):
        return units.get(node.name, "number")
    if isinstance(node, Unary):
        return _unit(node.operand, units)
    if isinstance(node, Binary):
        leaf, chain = _spine(node)
        unit = _unit(leaf, units)
        for binary in chain:
            unit = _combine(binary.op, unit, _unit(binary.right, units))
        return unit
    if isinstance(node, Call):
        if node.name in ("BLANK", "ERROR"):
            return _CONST  # agrees with anything, as in the type rules
        if node.name in _SAME_AS_ARGS:
            return _fold([_unit(arg, units) for arg in node.args])
        if node.name in _SAME_AS_FIRST and node.args:
            return _unit(node.args[0], units)
        if node.name == "IF" and len(node.args) > 1:
            return _fold([_unit(arg, units) for arg in node.args[1:]])
        if node.name == "SWITCH":
            rest = node.args[1:]
            results = list(rest[1::2]) + (list(rest[-1:]) if len(rest) % 2 else [])
            return _fold([_unit(arg, units) for arg in results])
    return "number"


def _fold(found: list) -> str:
    unit = _CONST
    for other in found:
        unit = _combine("+", unit, other)
    return unit


def _combine(op: str, left: str, right: str) -> str:
    if op in ("+", "-"):
        if left == _CONST:
            return right
        if right == _CONST or left == right:
            return left
        return "number"
    if op == "*":
        for one, other in ((left, right), (right, left)):
            if one.startswith("currency:") and not other.startswith("currency:"):
                return one
        if _CONST in (left, right):
            return right if left == _CONST else left
        return "number"
    if op == "/":
        if left.startswith("currency:") and not right.startswith("currency:"):
            return left
        if right == _CONST:
            return left
        return "number"
    return "number"
