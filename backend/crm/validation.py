"""Declarative request bodies: one description checks the input and documents it.

A route names its body as a `Body` of `Field`s; `Body.validate` returns the
cleaned values or raises `Invalid` naming every bad field at once, and
`Body.json_schema` is what `/api/openapi.json` shows. Unknown fields are
refused rather than ignored, so a typo never passes silently.
"""
import re
from dataclasses import dataclass

from .clock import parse_iso
from .errors import Invalid

EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]+$")
MISSING = object()


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
        return self._bounded(value)

    def _number(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("must be a number")
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("must be a finite number")
        return self._bounded(value)

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


def page_params(query: dict, default_limit=50, max_limit=1000) -> tuple:
    """`limit` and `offset` from the query string, checked; returns (limit, offset)."""
    errors = {}
    values = {}
    for name, default, top in (("limit", default_limit, max_limit), ("offset", 0, None)):
        raw = query.get(name)
        if raw is None or raw == "":
            values[name] = default
            continue
        try:
            number = int(raw)
        except ValueError:
            errors[name] = "must be a whole number"
            continue
        if number < (1 if name == "limit" else 0):
            errors[name] = "must be at least 1" if name == "limit" else "must not be negative"
        elif top is not None and number > top:
            errors[name] = f"must be at most {top}"
        values[name] = number
    if errors:
        raise Invalid(errors)
    return values["limit"], values["offset"]
