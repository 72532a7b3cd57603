"""Evaluation: one row's value of a compiled formula (or bare tree), within the step and text limits."""
import math
from datetime import datetime, timezone

from .checker import Compiled
from .compare import _compare
from .errors import FormulaValueError, _Fail, _OutOfSteps
from .functions import FUNCTIONS
from .limits import LIMITS, Limits
from .nodes import Binary, Boolean, Call, FieldRef, Number, String, Unary, _spine
from .values import _MAX_EXACT, _checked_text, _finite, _number, _plain, _text, _typed, _utc


class _Context:
    def __init__(self, values: dict, types: dict, now: datetime, limits: Limits):
        self.values, self.types, self.now, self.limits = values, types, now, limits
        self.steps, self.fields = 0, {}

    def tick(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > self.limits.max_steps:
            raise _OutOfSteps()

    def eval(self, node):
        self.tick()
        if isinstance(node, Number):
            return _finite(node.value)
        if isinstance(node, (String, Boolean)):
            return node.value
        if isinstance(node, FieldRef):
            return self.field(node.name)
        if isinstance(node, Unary):
            number = _number(self.eval(node.operand))
            return -number if node.op == "-" else number
        if isinstance(node, Binary):
            leaf, chain = _spine(node)
            value = self.eval(leaf)
            for binary in chain:
                self.tick()
                value = _operate(self, binary.op, value, self.eval(binary.right))
            return value
        if isinstance(node, Call):
            return self.call(node)
        raise _Fail(f"#ERROR: not a formula node: {type(node).__name__}")

    def field(self, name: str):
        if name not in self.fields:
            self.fields[name] = _typed(_plain(self.values.get(name)), self.types.get(name, "any"))
        return self.fields[name]

    def call(self, node: Call):
        # Trees that never went through check() still must not raise: re-check the basics.
        function = FUNCTIONS.get(node.name)
        if function is None:
            raise _Fail(f"#ERROR: unknown function {node.name}")
        problem = function.arity_problem(len(node.args))
        if problem:
            raise _Fail(f"#ERROR: {problem}")
        if function.lazy:
            return function.impl(self, *node.args)
        return function.impl(self, *[self.eval(arg) for arg in node.args])


def _operate(ctx, op: str, left, right):
    if op == "&":
        return _checked_text(ctx, _text(left) + _text(right))
    if op in ("+", "-", "*", "/"):
        left, right = _number(left), _number(right)
        if op == "+":
            return _finite(left + right)
        if op == "-":
            return _finite(left - right)
        if op == "*":
            return _finite(left * right)
        if right == 0:
            raise _Fail("#DIV/0: division by zero")
        return _finite(left / right)
    return _compare(op, left, right)


def _output(value):
    if isinstance(value, float):
        if not math.isfinite(value):
            return FormulaValueError("#NUM!: number out of range")
        # Whole numbers come back as ints so cells show "3", not "3.0".
        return int(value) if value.is_integer() and abs(value) <= _MAX_EXACT else value
    return value


def evaluate(formula, values: dict, *, now: datetime = None, limits: Limits = LIMITS):
    """The value of a Compiled formula (or bare node) for one row, or a FormulaValueError; never raises for data.

    `values` maps field names to Python values (None for blank); `now` fixes
    TODAY() and NOW() (default: the current UTC time).
    """
    if isinstance(formula, Compiled):
        node, types = formula.node, formula.field_types
    else:
        node, types = formula, {}
    moment = _utc(now) if now is not None else datetime.now(timezone.utc)
    context = _Context(values or {}, types, moment, limits)
    try:
        return _output(context.eval(node))
    except _Fail as failure:
        return FormulaValueError(failure.message)
    except _OutOfSteps:
        return FormulaValueError(f"#ERROR: too many steps (more than {limits.max_steps})")
    except RecursionError:
        return FormulaValueError("#ERROR: formula is nested too deeply")
    except (ArithmeticError, ValueError) as exc:
        # Values near the edges of what dates and floats can hold; a cell error, never a failed request.
        return FormulaValueError(f"#ERROR: {exc}")
