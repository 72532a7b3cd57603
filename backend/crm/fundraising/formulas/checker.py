"""The type checker: a tree's result type given its fields' types, and compiling a column's formula (parse, check).

Type rules (the checker's, chosen to be practical like Airtable):
- Column types map to value types via `COLUMN_VALUE_TYPES`; a formula column
  referenced by another is "any" because its type is not known from its
  column type alone. Value-type names may be passed directly as well.
- Arithmetic and unary signs take numbers; checkboxes count as 1/0 and blank
  as 0. Text, dates and lists are errors (dates: use DATEADD/DATETIME_DIFF).
- `&` and CONCAT accept anything and give text; text functions accept
  anything and convert it to text.
- Comparisons: number (and checkbox) with number, text (and lists, compared
  as their joined text) with text, date with date or text (text is read as an
  ISO date). Number with text, or anything with a date except text, is an error.
- IF and SWITCH branches must agree in type. Blank (BLANK(), ERROR() and the
  empty string "") agrees with anything, and "any" absorbs the rest, so
  `IF({Done}, {Amount}, "")` is a number. A formula whose result is only
  ever blank, or that depends on a dynamic value, has type "any".
"""
import difflib
import re
from dataclasses import dataclass

from .errors import FormulaError
from .functions import FUNCTIONS
from .functions.dates import _UNIT_HELP, _UNIT_SETS, _WEEK_STARTS, _unit
from .limits import LIMITS, Limits
from .nodes import Binary, Boolean, Call, FieldRef, Number, String, Unary, _spine, _start, references
from .parser import parse
from .value_types import _ACCEPTS, _KIND_NAMES, _comparable, value_type


def check(node, field_types: dict) -> str:
    """The result type of `node` given {field name: column or value type}; FormulaError if it cannot work."""
    types = {name: value_type(t) for name, t in field_types.items()}
    try:
        result = _type_of(node, types)
    except RecursionError:
        raise FormulaError(None, "formula is nested too deeply") from None
    return "any" if result == "blank" else result


def _type_of(node, types: dict) -> str:
    if isinstance(node, Number):
        return "number"
    if isinstance(node, String):
        return "text" if node.value else "blank"
    if isinstance(node, Boolean):
        return "boolean"
    if isinstance(node, FieldRef):
        return _field_type(node, types)
    if isinstance(node, Unary):
        _require_number(node.op, _type_of(node.operand, types), node.operand)
        return "number"
    if isinstance(node, Binary):
        leaf, chain = _spine(node)
        left = _type_of(leaf, types)
        for binary in chain:
            left = _binary_type(binary, left, _type_of(binary.right, types))
        return left
    if isinstance(node, Call):
        return _call_type(node, types)
    raise FormulaError(None, f"not a formula node: {type(node).__name__}")


def _field_type(node: FieldRef, types: dict) -> str:
    if node.name in types:
        return types[node.name]
    similar = [name for name in types if name.lower() == node.name.lower()]
    hint = f" (did you mean {{{similar[0]}}}?)" if similar else ""
    raise FormulaError(node.position, f"unknown field {{{node.name}}}{hint}")


def _require_number(op: str, actual: str, operand) -> None:
    if actual in _ACCEPTS["number"]:
        return
    if actual == "date":
        hint = "; use DATETIME_DIFF to subtract dates" if op == "-" else "; use DATEADD to move a date"
    elif actual == "text":
        hint = "; use & to join text" if op == "+" else "; use VALUE() to read a number from text"
    else:
        hint = ""
    raise FormulaError(_start(operand), f"'{op}' needs numbers, got {actual}{hint}")


def _binary_type(node: Binary, left: str, right: str) -> str:
    if node.op in ("+", "-", "*", "/"):
        _require_number(node.op, left, node.left)
        _require_number(node.op, right, node.right)
        return "number"
    if node.op == "&":
        return "text"
    if not _comparable(left, right):
        raise FormulaError(node.position, f"cannot compare {left} with {right} using '{node.op}'")
    return "boolean"


def _call_type(node: Call, types: dict) -> str:
    function = FUNCTIONS.get(node.name)
    if function is None:
        close = difflib.get_close_matches(node.name, FUNCTIONS, n=1, cutoff=0.8)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise FormulaError(node.position, f"unknown function {node.name}{hint}")
    problem = function.arity_problem(len(node.args))
    if problem:
        raise FormulaError(node.position, problem)
    arg_types = [_type_of(arg, types) for arg in node.args]
    for index, (arg, actual) in enumerate(zip(node.args, arg_types)):
        kind = function.kind(index)
        if actual not in _ACCEPTS[kind]:
            raise FormulaError(_start(arg), f"{node.name} expects {_KIND_NAMES[kind]} as argument {index + 1}, "
                                            f"got {actual}")
        if kind == "unit" and isinstance(arg, String) and arg.value:
            _check_unit(node.name, arg)
    if callable(function.result):
        return function.result(node, arg_types)
    return function.result


def _check_unit(name: str, arg: String) -> None:
    allowed = _UNIT_SETS[name]
    if allowed is _WEEK_STARTS:
        if arg.value.lower() not in allowed:
            raise FormulaError(arg.position, f"{name}: unknown week start {arg.value!r}; use 'sunday' or 'monday'")
    elif _unit(arg.value) not in allowed:
        raise FormulaError(arg.position, f"{name}: unknown unit {arg.value!r}; use one of "
                                         f"{', '.join(_UNIT_HELP[u] for u in allowed)}")


@dataclass(frozen=True)
class Compiled:
    """A formula that parsed and type-checked: evaluate it per row with `evaluate`."""
    text: str
    node: object
    type: str
    references: frozenset
    field_types: dict       # value type of each referenced field


def compile_formula(text: str, field_types: dict, limits: Limits = LIMITS) -> Compiled:
    """Parse and check `text` against the grid's {field name: column type}; FormulaError when it cannot be saved.

    The error says where the offending text ends too (`end`), and a field name written
    without its braces ("Fund I + 1") is named as such: "Fund I is a field name: write {Fund I}".
    """
    try:
        node = parse(text, limits)
        result = check(node, field_types)
    except FormulaError as exc:
        raise _explained(text, exc, field_types) from None
    names = frozenset(references(node))
    return Compiled(text, node, result, names, {name: value_type(field_types[name]) for name in names})


_WORD = re.compile(r"[A-Za-z0-9_]")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _explained(text: str, exc: FormulaError, field_names) -> FormulaError:
    """`exc` with its `end`, or, when a field name that needs braces appears bare, that problem instead."""
    bare = _bare_field(text, field_names)
    if bare:
        start, name = bare
        return FormulaError(start, f"{name} is a field name: write {{{name}}}", start + len(name))
    if exc.position is None or exc.end is not None:
        return exc
    return FormulaError(exc.position, exc.message, _span_end(text, exc.position))


def _outside_braces_and_quotes(text: str) -> str:
    """`text` with {field references} and quoted text blanked out (same length), for searching the rest."""
    chars, i = list(text), 0
    while i < len(text):
        c = text[i]
        if c == "{":
            end = text.find("}", i + 1)
            end = len(text) - 1 if end < 0 else end
            chars[i:end + 1] = " " * (end + 1 - i)
            i = end + 1
        elif c in "\"'":
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            end = min(j, len(text) - 1)
            chars[i:end + 1] = " " * (end + 1 - i)
            i = end + 1
        else:
            i += 1
    return "".join(chars)


def _bare_field(text: str, field_names):
    """(position, name) of the first field name written without braces that cannot go bare (it is not one word)."""
    rest = _outside_braces_and_quotes(text).lower()
    found = None
    for name in sorted(field_names, key=len, reverse=True):
        if _IDENTIFIER.fullmatch(name):
            continue  # a one-word name may be written bare
        at, needle = -1, name.lower()
        while True:
            at = rest.find(needle, at + 1)
            if at < 0:
                break
            before = rest[at - 1] if at else " "
            after = rest[at + len(needle)] if at + len(needle) < len(rest) else " "
            if not _WORD.match(before) and not _WORD.match(after):
                if found is None or at < found[0]:
                    found = (at, name)
                break
    return found


def _span_end(text: str, position: int) -> int:
    """Where the token starting at `position` ends: a {field}, a word, a quoted text, a number or one character."""
    if position >= len(text):
        return position
    c = text[position]
    if c == "{":
        close = text.find("}", position + 1)
        return len(text) if close < 0 else close + 1
    if c in "\"'":
        close = text.find(c, position + 1)
        return len(text) if close < 0 else close + 1
    match = _IDENTIFIER.match(text, position) or re.compile(r"[0-9.]+").match(text, position)
    return match.end() if match else position + 1
