"""The checker's vocabulary: value types, each column type's, what parameter kinds accept, which types go together."""


COLUMN_VALUE_TYPES = {
    "number": "number", "currency": "number", "percent": "number", "fund": "number",
    "text": "text", "long_text": "text", "single_select": "text", "email": "text", "url": "text",
    "phone": "text", "last_modified_by": "text",
    "checkbox": "boolean",
    "date": "date", "created_time": "date", "last_modified_time": "date",
    "multi_select": "list", "contacts": "list",
    "formula": "any",
    "relationship": "number",  # its level
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
