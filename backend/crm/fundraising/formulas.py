"""The fundraising grid's formula language: parse, type-check and evaluate, with no eval or exec.

Airtable syntax: `{Field Name}` references (a one-word name may go without
braces; a bare word followed by "(" is a function), numbers, quoted text, TRUE/FALSE,
operators `+ - * / & = != < > <= >=` (`<>` is read as `!=`), parentheses and
function calls with case-insensitive names (see `FUNCTIONS`).

Contracts:
- `parse(text)` returns an AST of frozen dataclasses or raises `FormulaError`
  (a message plus a 0-based character position); nothing else escapes it.
  It enforces `LIMITS.max_length` and `LIMITS.max_nesting` (parentheses,
  function calls and unary signs each add a level).
- `check(node, field_types)` returns the result type or raises `FormulaError`.
- `evaluate(...)` returns a value or a `FormulaValueError`; bad data never
  raises. Every node evaluated (and every list item or repetition a function
  walks) is a step; past `LIMITS.max_steps` the result is an error value.
- `find_cycle` and `dependents` work on {formula column: names it references}.

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

Runtime rules: blank is 0 in arithmetic, "" in text and equal to blank, 0,
FALSE and ""; compared with a date it is neither before nor after. Dates are
UTC; a date-only value stays a `date` until a time is added to it. Text
from a checkbox is "TRUE"/"FALSE", from a list its items joined by ", ".
"""
import calendar
import difflib
import heapq
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, ROUND_UP, Decimal, localcontext

__all__ = [
    "LIMITS", "Limits", "FormulaError", "FormulaValueError", "Number", "String", "Boolean", "FieldRef",
    "Unary", "Binary", "Call", "parse", "unparse", "references", "check", "value_type", "COLUMN_VALUE_TYPES",
    "FUNCTIONS", "Compiled", "compile_formula", "evaluate", "find_cycle", "dependents",
]


@dataclass(frozen=True)
class Limits:
    max_length: int = 4_000      # characters of formula text
    max_nesting: int = 40        # parentheses, calls and unary signs inside each other
    max_steps: int = 20_000      # evaluation steps per cell
    max_text: int = 100_000      # characters in any text value built while evaluating


LIMITS = Limits()


class FormulaError(Exception):
    """A formula that cannot be saved: `message` says why, `position` (0-based offset or None) where."""

    def __init__(self, position, message: str):
        super().__init__(message)
        self.position = position
        self.message = message

    def __str__(self) -> str:
        return self.message if self.position is None else f"at position {self.position}: {self.message}"


class FormulaValueError:
    """The value of a cell whose formula failed at runtime, e.g. "#DIV/0: division by zero"."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message

    def __eq__(self, other) -> bool:
        return isinstance(other, FormulaValueError) and other.message == self.message

    def __hash__(self) -> int:
        return hash(self.message)

    def __repr__(self) -> str:
        return f"FormulaValueError({self.message!r})"

    def __str__(self) -> str:
        return self.message


# -- the syntax tree ------------------------------------------------------------
# `position` is where the node starts (for Unary and Binary: the operator). It
# is left out of equality so that a reprinted formula parses back equal.

@dataclass(frozen=True)
class Number:
    value: object                   # int or float, never negative from the parser
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class String:
    value: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Boolean:
    value: bool
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class FieldRef:
    name: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Unary:
    op: str                         # "-" or "+"
    operand: object
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Binary:
    op: str
    left: object
    right: object
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    name: str                       # upper case
    args: tuple
    position: int = field(default=0, compare=False)


# -- lexer ----------------------------------------------------------------------

@dataclass(frozen=True)
class _Token:
    kind: str       # number, string, field, name, op, (, ), ",", end
    value: object
    position: int


_NUMBER = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
_TWO_CHAR_OPS = {"!=": "!=", "<>": "!=", "<=": "<=", ">=": ">="}
_ONE_CHAR_OPS = set("+-*/&=<>")


def _lex(text: str) -> list:
    tokens, i = [], 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "0123456789" or (c == "." and _NUMBER.match(text, i)):
            token, i = _lex_number(text, i)
            tokens.append(token)
        elif c in "\"'":
            token, i = _lex_string(text, i)
            tokens.append(token)
        elif c == "{":
            end = text.find("}", i + 1)
            if end < 0:
                raise FormulaError(i, "missing '}' to close the field name")
            name = text[i + 1:end].strip()
            if not name:
                raise FormulaError(i, "empty field name {}")
            tokens.append(_Token("field", name, i))
            i = end + 1
        elif _NAME.match(text, i):
            match = _NAME.match(text, i)
            tokens.append(_Token("name", match.group(), i))
            i = match.end()
        elif text[i:i + 2] in _TWO_CHAR_OPS:
            tokens.append(_Token("op", _TWO_CHAR_OPS[text[i:i + 2]], i))
            i += 2
        elif c in _ONE_CHAR_OPS:
            tokens.append(_Token("op", c, i))
            i += 1
        elif c in "(),":
            tokens.append(_Token(c, c, i))
            i += 1
        else:
            raise FormulaError(i, f"unexpected character {c!r}")
    tokens.append(_Token("end", None, len(text)))
    return tokens


def _lex_number(text: str, i: int):
    match = _NUMBER.match(text, i)
    literal = match.group()
    if "." in literal or match.group(2):
        value = float(literal)
        if not math.isfinite(value):
            raise FormulaError(i, f"number too large: {literal}")
    else:
        value = int(literal)
    return _Token("number", value, i), match.end()


def _lex_string(text: str, start: int):
    quote, chars, i = text[start], [], start + 1
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            chars.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
        elif c == quote:
            return _Token("string", "".join(chars), start), i + 1
        else:
            chars.append(c)
            i += 1
    raise FormulaError(start, f"unterminated text: missing the closing {quote}")


# -- parser ---------------------------------------------------------------------
# Lowest precedence first; every level is left-associative. Unary signs bind
# tighter than all of them.
_LEVELS = (("=", "!=", "<", ">", "<=", ">="), ("&",), ("+", "-"), ("*", "/"))
_PRECEDENCE = {op: rank for rank, ops in enumerate(_LEVELS) for op in ops}


def parse(text: str, limits: Limits = LIMITS):
    """The AST of `text`, or FormulaError naming the first problem and where it is."""
    if len(text) > limits.max_length:
        raise FormulaError(limits.max_length, f"formula is longer than {limits.max_length} characters")
    return _Parser(_lex(text), limits).formula()


class _Parser:
    def __init__(self, tokens: list, limits: Limits):
        self.tokens, self.index, self.depth, self.limits = tokens, 0, 0, limits

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def enter(self, position: int) -> None:
        # Bounding depth here bounds the recursion of every later tree walk.
        self.depth += 1
        if self.depth > self.limits.max_nesting:
            raise FormulaError(position, f"formula is nested too deeply (more than {self.limits.max_nesting} levels)")

    def formula(self):
        if self.token.kind == "end":
            raise FormulaError(0, "empty formula")
        node = self.binary(0)
        if self.token.kind != "end":
            hint = " (no matching '(')" if self.token.kind == ")" else "; is an operator or comma missing?"
            raise FormulaError(self.token.position, f"unexpected {_describe_token(self.token)}{hint}")
        return node

    def binary(self, level: int):
        if level == len(_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.token.kind == "op" and self.token.value in _LEVELS[level]:
            op = self.advance()
            left = Binary(op.value, left, self.binary(level + 1), op.position)
        return left

    def unary(self):
        if self.token.kind == "op" and self.token.value in "+-":
            op = self.advance()
            self.enter(op.position)
            operand = self.unary()
            self.depth -= 1
            return Unary(op.value, operand, op.position)
        return self.primary()

    def primary(self):
        token = self.advance()
        if token.kind == "number":
            return Number(token.value, token.position)
        if token.kind == "string":
            return String(token.value, token.position)
        if token.kind == "field":
            return FieldRef(token.value, token.position)
        if token.kind == "name":
            return self.name(token)
        if token.kind == "(":
            self.enter(token.position)
            node = self.binary(0)
            self.close(f"missing ')' for the '(' at position {token.position}")
            self.depth -= 1
            return node
        raise FormulaError(token.position, f"expected a value, found {_describe_token(token)}")

    def name(self, token: _Token):
        upper = token.value.upper()
        if self.token.kind != "(":
            if upper in ("TRUE", "FALSE"):
                return Boolean(upper == "TRUE", token.position)
            return FieldRef(token.value, token.position)    # Airtable allows a one-word field name bare
        opening = self.advance()
        self.enter(token.position)
        args = []
        if self.token.kind != ")":
            args.append(self.binary(0))
            while self.token.kind == ",":
                self.advance()
                args.append(self.binary(0))
        self.close(f"expected ',' or ')' in the arguments of {upper} (opened at position {opening.position})")
        self.depth -= 1
        if upper in ("TRUE", "FALSE"):
            if args:
                raise FormulaError(token.position, f"{upper} takes no arguments")
            return Boolean(upper == "TRUE", token.position)
        return Call(upper, tuple(args), token.position)

    def close(self, problem: str) -> None:
        if self.token.kind != ")":
            raise FormulaError(self.token.position, f"{problem}, found {_describe_token(self.token)}")
        self.advance()


def _describe_token(token: _Token) -> str:
    if token.kind == "end":
        return "the end of the formula"
    if token.kind == "number":
        return f"number {token.value}"
    if token.kind == "string":
        return f"text {_short(token.value)!r}"
    if token.kind == "field":
        return f"field {{{token.value}}}"
    if token.kind == "name":
        return f"name {token.value}"
    return repr(token.value)


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


# -- reprinting and walking ------------------------------------------------------

def _spine(node):
    """A left-deep chain of Binary nodes as (leftmost operand, binaries innermost first).

    Walking chains iteratively keeps `1+1+...+1` (thousands long, yet only one
    nesting level) from exhausting Python's recursion limit.
    """
    chain = []
    while isinstance(node, Binary):
        chain.append(node)
        node = node.left
    chain.reverse()
    return node, chain


def _start(node) -> int:
    """Where the text of `node` begins (a Binary's own position is its operator)."""
    while isinstance(node, Binary):
        node = node.left
    return node.position


def unparse(node) -> str:
    """Canonical text for `node`; parse(unparse(node)) == node for any tree the parser can build."""
    if isinstance(node, Binary):
        leaf, chain = _spine(node)
        text = unparse(leaf)
        for binary in chain:
            rank = _PRECEDENCE[binary.op]
            if isinstance(binary.left, Binary) and _PRECEDENCE[binary.left.op] < rank:
                text = f"({text})"
            right = unparse(binary.right)
            if isinstance(binary.right, Binary) and _PRECEDENCE[binary.right.op] <= rank:
                right = f"({right})"
            text = f"{text} {binary.op} {right}"
        return text
    if isinstance(node, Unary):
        operand = unparse(node.operand)
        return f"{node.op}({operand})" if isinstance(node.operand, Binary) else f"{node.op}{operand}"
    if isinstance(node, Call):
        return f"{node.name}({', '.join(unparse(arg) for arg in node.args)})"
    if isinstance(node, Number):
        return repr(node.value) if isinstance(node.value, float) else str(node.value)
    if isinstance(node, String):
        escaped = node.value.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + '"'
    if isinstance(node, Boolean):
        return "TRUE" if node.value else "FALSE"
    if isinstance(node, FieldRef):
        return "{" + node.name + "}"
    raise TypeError(f"not a formula node: {node!r}")


def _children(node) -> tuple:
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args
    return ()


def references(node) -> set:
    """The field names `node` refers to."""
    names, stack = set(), [node]
    while stack:
        current = stack.pop()
        if isinstance(current, FieldRef):
            names.add(current.name)
        stack.extend(_children(current))
    return names


# -- types ----------------------------------------------------------------------

COLUMN_VALUE_TYPES = {
    "number": "number", "currency": "number", "percent": "number", "fund": "number",
    "text": "text", "long_text": "text", "single_select": "text", "email": "text", "url": "text",
    "phone": "text", "last_modified_by": "text",
    "checkbox": "boolean",
    "date": "date", "created_time": "date", "last_modified_time": "date",
    "multi_select": "list", "contacts": "list",
    "formula": "any",
}
_VALUE_TYPES = ("number", "text", "boolean", "date", "list", "any")
_ALL = frozenset(_VALUE_TYPES + ("blank",))
# What each kind of parameter accepts at check time.
_ACCEPTS = {
    "number": frozenset({"number", "boolean", "any", "blank"}),
    "numbers": frozenset({"number", "boolean", "list", "any", "blank"}),
    "date": frozenset({"date", "text", "any", "blank"}),
    "unit": frozenset({"text", "any", "blank"}),
    "text": _ALL, "any": _ALL, "list": _ALL,
}
_KIND_NAMES = {"number": "a number", "numbers": "numbers or a list", "date": "a date",
               "unit": "a unit name such as 'days'"}


def value_type(column_type: str) -> str:
    """The formula value type of a grid column type (value-type names map to themselves)."""
    if column_type in _VALUE_TYPES:
        return column_type
    return COLUMN_VALUE_TYPES.get(column_type, "any")


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


def _comparable(left: str, right: str) -> bool:
    classes = {"number": "number", "boolean": "number", "text": "text", "list": "text", "date": "date"}
    a, b = classes.get(left), classes.get(right)
    return a is None or b is None or a == b or {a, b} == {"date", "text"}


def _unify(a: str, b: str):
    if a == b or b == "blank":
        return a
    if a == "blank":
        return b
    if "any" in (a, b):
        return "any"
    return None


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


# -- runtime values -------------------------------------------------------------

class _Fail(Exception):
    """A runtime error that becomes the cell's FormulaValueError (ISERROR catches it)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _OutOfSteps(Exception):
    """The step budget ran out; deliberately not a _Fail so ISERROR cannot swallow it."""


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


# -- comparison -----------------------------------------------------------------

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


# -- functions ------------------------------------------------------------------

@dataclass(frozen=True)
class _Function:
    name: str
    params: tuple       # kinds, a trailing "?" marks optional, "*" or "+" repeats the last kind
    result: object      # a type name, or fn(call node, arg types) -> type
    impl: object        # fn(ctx, *values), or fn(ctx, *nodes) when lazy
    lazy: bool = False

    def kind(self, index: int) -> str:
        return self.params[min(index, len(self.params) - 1)].rstrip("?*+")

    def arity(self) -> tuple:
        required = sum(1 for p in self.params if p[-1] not in "?*")
        repeats = self.params and self.params[-1][-1] in "*+"
        return required, None if repeats else len(self.params)

    def arity_problem(self, count: int):
        low, high = self.arity()
        if low <= count and (high is None or count <= high):
            return None
        if high is None:
            wanted = f"at least {low} argument{'s' * (low != 1)}"
        elif low == high:
            wanted = f"{low} argument{'s' * (low != 1)}" if low else "no arguments"
        else:
            wanted = f"{low} to {high} arguments"
        return f"{self.name} takes {wanted}, got {count}"


FUNCTIONS: dict = {}


def _function(name: str, params: str, result, lazy: bool = False):
    kinds = tuple(p.strip() for p in params.split(",") if p.strip())

    def register(impl):
        FUNCTIONS[name] = _Function(name, kinds, result, impl, lazy)
        return impl
    return register


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


# Numbers and aggregates

@_function("SUM", "numbers+", "number")
def _sum(ctx, *values):
    return _finite(math.fsum(_numbers(ctx, values)))


@_function("MIN", "numbers+", "number")
def _min(ctx, *values):
    return min(_numbers(ctx, values), default=0)


@_function("MAX", "numbers+", "number")
def _max(ctx, *values):
    return max(_numbers(ctx, values), default=0)


@_function("AVERAGE", "numbers+", "number")
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


@_function("COUNT", "any+", "number")
def _count(ctx, *values):
    return sum(1 for item in _items(ctx, values) if _is_number(item))


@_function("COUNTA", "any+", "number")
def _counta(ctx, *values):
    return sum(1 for item in _items(ctx, values) if not _is_blank(item))


def _decimal_round(value, digits, mode):
    number, places = _number(value), max(-330, min(330, _integer(digits)))
    with localcontext() as context:
        context.prec = 700  # enough for any float at any clamped number of places
        exact = Decimal(repr(number)) if isinstance(number, float) else Decimal(number)
        rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=mode)
    return _finite(int(rounded) if places <= 0 else float(rounded))


@_function("ROUND", "number, number?", "number")
def _round(ctx, value, digits=0):
    # Half away from zero, on the decimal digits as written: ROUND(2.675, 2) is 2.68.
    return _decimal_round(value, digits, ROUND_HALF_UP)


@_function("ROUNDUP", "number, number?", "number")
def _roundup(ctx, value, digits=0):
    return _decimal_round(value, digits, ROUND_UP)


@_function("ROUNDDOWN", "number, number?", "number")
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


@_function("CEILING", "number, number?", "number")
def _ceiling(ctx, value, significance=1):
    return _to_multiple(value, significance, ROUND_CEILING)


@_function("FLOOR", "number, number?", "number")
def _floor(ctx, value, significance=1):
    return _to_multiple(value, significance, ROUND_FLOOR)


@_function("INT", "number", "number")
def _int(ctx, value):
    return _finite(math.floor(_number(value)))


@_function("ABS", "number", "number")
def _abs(ctx, value):
    return abs(_number(value))


@_function("MOD", "number, number", "number")
def _mod(ctx, value, divisor):
    # The result takes the divisor's sign, as in Excel: MOD(-7, 3) is 2.
    value, divisor = _number(value), _number(divisor)
    if divisor == 0:
        raise _Fail("#DIV/0: MOD by zero")
    return _finite(value % divisor)


@_function("POWER", "number, number", "number")
def _power(ctx, base, exponent):
    try:
        return _finite(math.pow(_number(base), _number(exponent)))
    except (OverflowError, ValueError, ZeroDivisionError):
        raise _Fail("#NUM!: POWER result is out of range or not a real number") from None


@_function("SQRT", "number", "number")
def _sqrt(ctx, value):
    number = _number(value)
    if number < 0:
        raise _Fail("#NUM!: square root of a negative number")
    return math.sqrt(number)


@_function("EXP", "number", "number")
def _exp(ctx, value):
    try:
        return math.exp(_number(value))
    except OverflowError:
        raise _Fail("#NUM!: EXP result is out of range") from None


@_function("LOG", "number, number?", "number")
def _log(ctx, value, base=10):
    number, base = _number(value), _number(base)
    if number <= 0 or base <= 0 or base == 1:
        raise _Fail("#NUM!: LOG needs a positive number and a positive base other than 1")
    # log10 and log2 are exact on powers of their base, where log(x, base) is not: LOG(1000) is 3.
    if base == 10:
        return math.log10(number)
    return math.log2(number) if base == 2 else math.log(number) / math.log(base)


# Logic

@_function("IF", "any, any, any?", _if_type, lazy=True)
def _if(ctx, condition, then, otherwise=None):
    if _truthy(ctx.eval(condition)):
        return ctx.eval(then)
    return None if otherwise is None else ctx.eval(otherwise)


@_function("SWITCH", "any, any, any, any*", _switch_type, lazy=True)
def _switch(ctx, subject, *rest):
    value = ctx.eval(subject)
    for index in range(0, len(rest) - 1, 2):
        if _equal(value, ctx.eval(rest[index])):
            return ctx.eval(rest[index + 1])
    return ctx.eval(rest[-1]) if len(rest) % 2 else None


@_function("AND", "any+", "boolean")
def _and(ctx, *values):
    return all(_truthy(v) for v in values)


@_function("OR", "any+", "boolean")
def _or(ctx, *values):
    return any(_truthy(v) for v in values)


@_function("XOR", "any+", "boolean")
def _xor(ctx, *values):
    return sum(1 for v in values if _truthy(v)) % 2 == 1


@_function("NOT", "any", "boolean")
def _not(ctx, value):
    return not _truthy(value)


@_function("BLANK", "", "blank")
def _blank(ctx):
    return None


@_function("ERROR", "", "blank")
def _error(ctx):
    raise _Fail("#ERROR!")


@_function("ISERROR", "any", "boolean", lazy=True)
def _iserror(ctx, node):
    try:
        ctx.eval(node)
    except _Fail:
        return True
    return False


@_function("ISBLANK", "any", "boolean")
def _isblank(ctx, value):
    return _is_blank(value)


# Text

def _checked_text(ctx, text: str) -> str:
    if len(text) > ctx.limits.max_text:
        raise _Fail(f"#ERROR: text longer than {ctx.limits.max_text} characters")
    return text


@_function("CONCAT", "text+", "text")
def _concat(ctx, *values):
    return _checked_text(ctx, "".join(_text(v) for v in values))


@_function("LEN", "text", "number")
def _len(ctx, value):
    return len(_text(value))


@_function("LOWER", "text", "text")
def _lower(ctx, value):
    return _text(value).lower()


@_function("UPPER", "text", "text")
def _upper(ctx, value):
    return _text(value).upper()


@_function("TRIM", "text", "text")
def _trim(ctx, value):
    return _text(value).strip()


def _count_arg(value, what: str) -> int:
    count = _integer(value)
    if count < 0:
        raise _Fail(f"#VALUE!: {what} cannot be negative")
    return count


@_function("LEFT", "text, number?", "text")
def _left(ctx, value, count=1):
    return _text(value)[:_count_arg(count, "LEFT count")]


@_function("RIGHT", "text, number?", "text")
def _right(ctx, value, count=1):
    count = _count_arg(count, "RIGHT count")
    return _text(value)[-count:] if count else ""


@_function("MID", "text, number, number", "text")
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


@_function("FIND", "text, text, number?", "number")
def _find_fn(ctx, needle, haystack, start=1):
    """1-based position of `needle` in `haystack` (case-sensitive), 0 when absent."""
    return _find(_text(needle), _text(haystack), start)


@_function("SEARCH", "text, text, number?", "number")
def _search(ctx, needle, haystack, start=1):
    """Like FIND but ignoring case; blank when absent."""
    return _find(_text(needle).lower(), _text(haystack).lower(), start) or None


@_function("SUBSTITUTE", "text, text, text, number?", "text")
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


@_function("REPLACE", "text, number, number, text", "text")
def _replace(ctx, value, start, count, new):
    text, start = _text(value), _integer(start)
    if start < 1:
        raise _Fail("#VALUE!: REPLACE start must be 1 or more")
    count = _count_arg(count, "REPLACE count")
    return _checked_text(ctx, text[:start - 1] + _text(new) + text[start - 1 + count:])


@_function("REPT", "text, number", "text")
def _rept(ctx, value, times):
    text, times = _text(value), _count_arg(times, "REPT count")
    if len(text) * times > ctx.limits.max_text:
        raise _Fail(f"#ERROR: text longer than {ctx.limits.max_text} characters")
    ctx.tick(times)
    return text * times


@_function("VALUE", "text", "number")
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


@_function("T", "any", "text")
def _t(ctx, value):
    return value if isinstance(value, str) else None


# Lists

@_function("ARRAYJOIN", "list, text?", "text")
def _arrayjoin(ctx, values, separator=", "):
    items = values if isinstance(values, list) else [values]
    ctx.tick(len(items))
    return _checked_text(ctx, _text(separator).join(_text(item) for item in items if item is not None))


@_function("ARRAYCOMPACT", "list", "list")
def _arraycompact(ctx, values):
    items = values if isinstance(values, list) else [values]
    ctx.tick(len(items))
    return [item for item in items if not _is_blank(item)]


@_function("ARRAYUNIQUE", "list", "list")
def _arrayunique(ctx, values):
    items = values if isinstance(values, list) else [values]
    ctx.tick(len(items))
    unique, seen = [], set()
    for item in items:
        key = (type(item).__name__, _text(item))
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


# Dates

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


@_function("DATEADD", "date, number, unit", "date")
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


@_function("DATETIME_DIFF", "date, date, unit?", "number")
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


@_function("DATETIME_FORMAT", "date, text?", "text")
def _datetime_format(ctx, value, pattern="YYYY-MM-DD"):
    """Moment-style tokens (YYYY MM DD M D HH mm ss MMM MMMM dddd ...); [text] in brackets is literal."""
    moment = _date(value)
    if moment is None:
        return None
    moment = _moment(moment)
    return _checked_text(ctx, _FORMAT_TOKENS.sub(lambda m: _format_token(m.group(), moment), _text(pattern)))


@_function("DATESTR", "date", "text")
def _datestr(ctx, value):
    moment = _date(value)
    return None if moment is None else _moment(moment).date().isoformat()


@_function("TODAY", "", "date")
def _today(ctx):
    return ctx.now.date()


@_function("NOW", "", "date")
def _now(ctx):
    return ctx.now


def _date_part(value, part: str):
    moment = _date(value)
    return None if moment is None else getattr(_moment(moment), part)


@_function("YEAR", "date", "number")
def _year(ctx, value):
    return _date_part(value, "year")


@_function("MONTH", "date", "number")
def _month(ctx, value):
    return _date_part(value, "month")


@_function("DAY", "date", "number")
def _day(ctx, value):
    return _date_part(value, "day")


@_function("HOUR", "date", "number")
def _hour(ctx, value):
    return _date_part(value, "hour")


@_function("MINUTE", "date", "number")
def _minute(ctx, value):
    return _date_part(value, "minute")


@_function("WEEKDAY", "date, unit?", "number")
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


@_function("IS_BEFORE", "date, date", "boolean")
def _is_before(ctx, first, second):
    pair = _two_moments(first, second)
    return pair is not None and pair[0] < pair[1]


@_function("IS_AFTER", "date, date", "boolean")
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


@_function("IS_SAME", "date, date, unit?", "boolean")
def _is_same(ctx, first, second, unit=None):
    """Whether two dates fall in the same unit (year, month, day ...); exactly equal without a unit."""
    pair = _two_moments(first, second)
    if pair is None:
        return False
    unit = _runtime_unit(unit, "ms")
    return _same_key(pair[0], unit) == _same_key(pair[1], unit)


# -- evaluation -----------------------------------------------------------------

@dataclass(frozen=True)
class Compiled:
    """A formula that parsed and type-checked: evaluate it per row with `evaluate`."""
    text: str
    node: object
    type: str
    references: frozenset
    field_types: dict       # value type of each referenced field


def compile_formula(text: str, field_types: dict, limits: Limits = LIMITS) -> Compiled:
    """Parse and check `text` against the grid's {field name: column type}; FormulaError when it cannot be saved."""
    node = parse(text, limits)
    result = check(node, field_types)
    names = frozenset(references(node))
    return Compiled(text, node, result, names, {name: value_type(field_types[name]) for name in names})


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


# -- dependencies between formula columns ------------------------------------------

def find_cycle(formulas: dict):
    """One cycle among formula columns as [A, B, ..., A], or None. Names that are not formulas are leaves."""
    rank = {name: i for i, name in enumerate(formulas)}

    def successors(name):
        return iter(sorted((n for n in formulas[name] if n in formulas), key=rank.get))

    finished = set()
    for root in formulas:
        if root in finished:
            continue
        # Iterative depth-first search: `path` is the current chain, `where` its index of each name.
        path, where, stack = [root], {root: 0}, [successors(root)]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                done = path.pop()
                del where[done]
                finished.add(done)
                stack.pop()
            elif following in where:
                return path[where[following]:] + [following]
            elif following not in finished:
                where[following] = len(path)
                path.append(following)
                stack.append(successors(following))
    return None


def dependents(formulas: dict, changed: set) -> list:
    """Formula columns to recompute after `changed` fields changed, each after the formulas it reads.

    Includes every formula that reads a changed name directly or through
    other formulas, and changed names that are formulas themselves (their
    definition changed). Ties keep the order of `formulas`; members of a
    cycle (which saving rejects) come last rather than never.
    """
    readers = {}
    for name, names in formulas.items():
        for used in names:
            readers.setdefault(used, set()).add(name)
    affected = {name for name in changed if name in formulas}
    frontier = list(changed)
    while frontier:
        for reader in readers.get(frontier.pop(), ()):
            if reader not in affected:
                affected.add(reader)
                frontier.append(reader)
    return _dependency_order(formulas, affected)


def _dependency_order(formulas: dict, affected: set) -> list:
    rank = {name: i for i, name in enumerate(formulas)}
    waiting = {name: {n for n in formulas[name] if n in affected and n != name} for name in affected}
    readers = {name: set() for name in affected}
    for name, needs in waiting.items():
        for need in needs:
            readers[need].add(name)
    ready = [(rank[name], name) for name, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    ordered = []
    while ready:
        _, name = heapq.heappop(ready)
        ordered.append(name)
        for reader in readers[name]:
            waiting[reader].discard(name)
            if not waiting[reader]:
                heapq.heappush(ready, (rank[reader], reader))
    done = set(ordered)
    ordered.extend(sorted((name for name in affected if name not in done), key=rank.get))
    return ordered
