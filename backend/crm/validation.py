"""Declarative request bodies: one description checks the input and documents it.

A route names its body as a `Body` of `Field`s; `Body.validate` returns the
cleaned values or raises `Invalid` naming every bad field at once, and
`Body.json_schema` is what `/api/openapi.json` shows. Unknown fields are
refused rather than ignored, so a typo never passes silently.
"""
import json
import math
import re
from dataclasses import dataclass

from .clock import parse_iso
from .errors import BadRequest, Invalid

EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]+$")
MISSING = object()
# SQLite stores integers in 64 bits: anything wider is refused where it is read, never at the INSERT.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
MAX_JSON_DEPTH = 64
# C0 controls (NUL included) and DEL; tab, line feed and carriage return are judged per field.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LINE_BREAK = re.compile(r"[\t\n\r]")
SURROGATE = re.compile(r"[\ud800-\udfff]")  # a lone one: a JSON "\ud800" the UTF-8 store cannot hold


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "string"          # string, text, email, integer, number, boolean, enum, datetime, date, object, array
    required: bool = False
    choices: tuple = ()
    min: float = None
    max: float = None
    max_length: int = 10_000
    nullable: bool = False
    items: str = None             # for arrays: "string" or "email" items, trimmed, de-duplicated
    doc: str = ""

    def check(self, value):
        """Return the cleaned value or raise ValueError with a message for the user."""
        if value is None:
            if self.nullable and not self.required:
                return None
            raise ValueError("must not be null")
        checker = getattr(self, "_" + self.type)
        return checker(value)

    def _string(self, value):
        if not isinstance(value, str):
            raise ValueError("must be a string")
        value = value.strip()
        text_problem(value, multiline=self.type == "text")
        if self.required and not value:
            raise ValueError("must not be empty")
        if len(value) > self.max_length:
            raise ValueError(f"must be at most {self.max_length} characters")
        return value

    _text = _string

    def _email(self, value):
        value = self._string(value).lower()
        if value and not EMAIL.match(value):
            raise ValueError("must be an email address like name@example.com")
        return value

    def _enum(self, value):
        if value not in self.choices:
            raise ValueError("must be one of: " + ", ".join(map(str, self.choices)))
        return value

    def _boolean(self, value):
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value

    def _integer(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a whole number")
        return self._bounded(_in_int64(value))

    def _number(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("must be a number")
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("must be a finite number")
        return self._bounded(_in_int64(value) if isinstance(value, int) else value)

    def _bounded(self, value):
        if self.min is not None and value < self.min:
            raise ValueError(f"must be at least {self.min:g}")
        if self.max is not None and value > self.max:
            raise ValueError(f"must be at most {self.max:g}")
        return value

    def _datetime(self, value):
        value = self._string(value)
        try:
            parse_iso(value)
        except ValueError:
            raise ValueError("must be an ISO-8601 date-time like 2026-01-31T09:30:00Z") from None
        return value

    def _date(self, value):
        value = self._string(value)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError("must be an ISO-8601 date like 2026-01-31")
        try:
            parse_iso(value)
        except ValueError:
            raise ValueError("must be a real calendar date") from None
        return value

    def _object(self, value):
        if not isinstance(value, dict):
            raise ValueError("must be an object")
        return value

    def _array(self, value):
        if not isinstance(value, list):
            raise ValueError("must be an array")
        if self.items is None:
            return value
        if len(value) > 200:
            raise ValueError("must have at most 200 items")
        item = Field(self.name, self.items, max_length=200)
        cleaned = []
        for position, entry in enumerate(value):
            try:
                entry = item.check(entry)
            except ValueError as exc:
                raise ValueError(f"item {position + 1} {exc}") from None
            if entry and entry.lower() not in [c.lower() for c in cleaned]:
                cleaned.append(entry)
        return cleaned

    def json_schema(self) -> dict:
        base = {
            "string": {"type": "string", "maxLength": self.max_length},
            "text": {"type": "string", "maxLength": self.max_length},
            "email": {"type": "string", "format": "email"},
            "enum": {"enum": list(self.choices)},
            "boolean": {"type": "boolean"},
            "integer": {"type": "integer"},
            "number": {"type": "number"},
            "datetime": {"type": "string", "format": "date-time"},
            "date": {"type": "string", "format": "date"},
            "object": {"type": "object"},
            "array": {"type": "array", **({"items": {"type": "string"}} if self.items else {})},
        }[self.type].copy()
        if self.min is not None:
            base["minimum"] = self.min
        if self.max is not None:
            base["maximum"] = self.max
        if self.nullable:
            base = {"anyOf": [base, {"type": "null"}]}
        if self.doc:
            base["description"] = self.doc
        return base


def _in_int64(value: int) -> int:
    if not INT_MIN <= value <= INT_MAX:
        raise ValueError(f"must be between {INT_MIN} and {INT_MAX}")
    return value


def text_problem(value: str, multiline=True) -> None:
    """Raise ValueError when text holds what no field may keep: a lone surrogate, NUL or another
    control character; a single-line field also refuses tabs and line breaks."""
    if SURROGATE.search(value):
        raise ValueError("is not valid Unicode text (it holds a lone surrogate)")
    if CONTROL.search(value):
        raise ValueError("must not contain control characters such as NUL")
    if not multiline and LINE_BREAK.search(value):
        raise ValueError("must be a single line: no tabs or line breaks")


def parse_json(text: str):
    """A request body's JSON, parsed and checked: malformed JSON, NaN or Infinity and nesting past
    MAX_JSON_DEPTH are a 400; what no field may hold is a 422 naming its place (check_json_tree).

    The parse notes whether anything suspect went by (a long integer, an infinite float, a
    \\u escape, a DEL); when nothing did, only the depth is walked, so a 24 MB grid costs tens of
    milliseconds more than the bare parse, not hundreds."""
    suspect = []

    def whole(digits):
        if len(digits) > 18:
            suspect.append(digits)
        return int(digits)

    def real(digits):
        number = float(digits)
        if not math.isfinite(number):
            suspect.append(digits)
        return number

    def constant(name):
        raise BadRequest(f"malformed JSON: {name} is not a JSON number")

    try:
        parsed = json.loads(text, parse_int=whole, parse_float=real, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise BadRequest("JSON is nested too deeply") from None
    if suspect or "\\u" in text or "\x7f" in text:
        check_json_tree(parsed)
    else:
        _check_depth(parsed)
    return parsed


def check_json_tree(value) -> None:
    """Refuse, anywhere in parsed JSON, what the store cannot hold or no field should:
    nesting beyond MAX_JSON_DEPTH (400), and (422, naming each place) integers beyond 64 bits,
    numbers too large to be finite, strings or keys with a lone surrogate or a control character
    other than tab and line breaks."""
    errors = {}
    stack = [(value, "body", 1)]
    while stack and len(errors) < 20:
        node, where, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadRequest(f"JSON is nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(node, dict):
            for key, item in node.items():
                place = key if where == "body" else f"{where}.{key}"
                try:
                    text_problem(key)
                except ValueError as exc:
                    errors[where + " (a key)"] = str(exc)
                stack.append((item, place, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(node))
        elif isinstance(node, str):
            try:
                text_problem(node)
            except ValueError as exc:
                errors[where] = str(exc)
        elif isinstance(node, int) and not isinstance(node, bool):
            try:
                _in_int64(node)
            except ValueError as exc:
                errors[where] = str(exc)
        elif isinstance(node, float) and not math.isfinite(node):
            errors[where] = "must be a finite number"  # 1e999 parses as infinity
    if errors:
        raise Invalid(errors)


def _check_depth(value) -> None:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadRequest(f"JSON is nested more than {MAX_JSON_DEPTH} levels deep")
        for child in node.values() if isinstance(node, dict) else node if isinstance(node, list) else ():
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))


class Body:
    """A JSON object body made of named fields."""

    def __init__(self, *fields: Field, extra=None):
        self.fields = {f.name: f for f in fields}
        self.extra = extra  # an optional function(cleaned, errors) for cross-field rules

    def validate(self, data, partial=False) -> dict:
        """Check `data`; with `partial`, required fields may be absent (PATCH)."""
        if not isinstance(data, dict):
            raise Invalid({"body": "must be a JSON object"}, "request body must be a JSON object")
        errors, cleaned = {}, {}
        for name in data:
            if name not in self.fields:
                errors[name] = "unknown field"
        for name, spec in self.fields.items():
            value = data.get(name, MISSING)
            if value is MISSING:
                if spec.required and not partial:
                    errors[name] = "is required"
                continue
            try:
                cleaned[name] = spec.check(value)
            except ValueError as exc:
                errors[name] = str(exc)
        if self.extra and not errors:
            self.extra(cleaned, errors)
        if errors:
            raise Invalid(errors)
        return cleaned

    def json_schema(self) -> dict:
        schema = {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: f.json_schema() for name, f in self.fields.items()},
        }
        required = [name for name, f in self.fields.items() if f.required]
        if required:
            schema["required"] = required
        return schema


def query_flag(query: dict, name: str, default=False) -> bool:
    """A yes/no query parameter: 1/true or 0/false; anything else is a 422 naming it."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if raw not in ("0", "1", "true", "false"):
        raise Invalid({name: "must be 1 or 0 (true or false)"})
    return raw in ("1", "true")


def query_int(query: dict, name: str, default=None, low=0, high=INT_MAX):
    """A whole-number query parameter within [low, high]; absent or blank gives `default`
    (None: required). Anything else is a 422 naming the parameter."""
    raw = query.get(name)
    if raw is None or raw == "":
        if default is None:
            raise Invalid({name: "is required"})
        return default
    return whole_number(raw, name, low, high)


def whole_number(raw: str, name: str, low=0, high=INT_MAX) -> int:
    """ASCII digits (an optional minus) within [low, high], else a 422 naming `name`."""
    if not re.fullmatch(r"-?[0-9]{1,20}", raw):
        raise Invalid({name: "must be a whole number"})
    number = int(raw)
    if number < low:
        raise Invalid({name: "must not be negative" if low == 0 else f"must be at least {low}"})
    if number > high:
        raise Invalid({name: f"must be at most {high}"})
    return number


def page_params(query: dict, default_limit=50, max_limit=1000) -> tuple:
    """`limit` and `offset` from the query string, checked; returns (limit, offset).
    Every list reads its page through here."""
    errors, values = {}, {}
    for name, default, low, high in (("limit", default_limit, 1, max_limit), ("offset", 0, 0, INT_MAX)):
        try:
            values[name] = query_int(query, name, default, low, high)
        except Invalid as exc:
            errors.update(exc.fields)
    if errors:
        raise Invalid(errors)
    return values["limit"], values["offset"]


def check_query_text(query: dict) -> None:
    """Query values are one line of text: control characters (NUL, tabs, line breaks) are refused."""
    errors = {}
    for name, value in query.items():
        try:
            text_problem(name + value, multiline=False)
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise Invalid(errors)
