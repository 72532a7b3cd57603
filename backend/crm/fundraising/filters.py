"""The view engine: nested AND/OR filters, multi-column sort, search and grouping over rows.

One engine serves the rows API, exports, automations' conditions and the
SPA, so they always agree. `compile_filter` checks a filter group against
the columns (422 naming the path of a bad condition) and returns a predicate
over a row's cells.

A group: {"conjunction": "and"|"or", "conditions": [condition | group, ...]}
A condition: {"column_id": ..., "operator": ..., "value": ...}
"""
import dataclasses
from functools import partial
from operator import eq, ge, gt, le, lt, ne

from ..clock import now_iso
from ..errors import Invalid
from .recalc import Recalc

MAX_DEPTH = 5
MAX_CONDITIONS = 100

TEXT_OPS = ("is", "is_not", "contains", "does_not_contain", "starts_with", "is_empty", "is_not_empty")
NUMBER_OPS = ("=", "!=", ">", "<", ">=", "<=", "between", "is_empty", "is_not_empty")
DATE_OPS = ("is", "is_before", "is_after", "is_on_or_before", "is_on_or_after", "between", "is_empty", "is_not_empty")
OPERATORS = {
    "text": TEXT_OPS, "number": NUMBER_OPS, "date": DATE_OPS,
    "boolean": ("is", "is_empty", "is_not_empty"),
    "select": ("is", "is_not", "is_any_of", "is_none_of", "is_empty", "is_not_empty"),
    "multi": ("has_any_of", "has_all_of", "has_none_of", "is_empty", "is_not_empty"),
    "contacts": ("contains", "does_not_contain", "is_empty", "is_not_empty"),
    "level": NUMBER_OPS,
}
CLASS_OF = {
    "text": "text", "long_text": "text", "email": "text", "url": "text", "phone": "text", "last_modified_by": "text",
    "number": "number", "currency": "number", "percent": "number", "fund": "number",
    "date": "date", "created_time": "date", "last_modified_time": "date",
    "checkbox": "boolean", "single_select": "select", "multi_select": "multi", "contacts": "contacts",
    "relationship": "level",
}
FORMULA_CLASS = {"number": "number", "text": "text", "date": "date", "boolean": "boolean", "list": "multi"}


def value_class(column, recalc: Recalc) -> str:
    if column.type == "formula":
        compiled = recalc.compiled.get(column.name)
        return FORMULA_CLASS.get(compiled.type if compiled else "text", "text")
    return CLASS_OF[column.type]


def blank(value) -> bool:
    return value is None or value == "" or value == [] or value is False or isinstance(value, dict)


_RECALCS = {}  # column signature -> Recalc; see recalc_for


def recalc_for(columns) -> Recalc:
    """A Recalc for these columns, shared by every request while their names, types and formulas stay the same.

    Compiling the formulas was most of the cost of a one-cell edit (the ops batch and each
    automation rule's filter compiled them all again). The shared Recalc is read-only:
    callers must not change it (build a Recalc of your own to edit its graph).
    """
    key = tuple((c.id, c.name, c.type, c.formula) for c in columns)
    found = _RECALCS.get(key)
    if found is None:
        found = Recalc([dataclasses.replace(c) for c in columns])  # copies: callers may change their columns later
        if len(_RECALCS) >= 32:
            _RECALCS.clear()
        _RECALCS[key] = found
    return found


def today() -> str:
    """The UTC date a filter's "today" means when it is not given one (views: the day they are read)."""
    return now_iso()[:10]


def compile_filter(group, columns, path="filters", on_day=None):
    """A predicate cells -> bool for a filter group (None or {} matches everything). A date condition's
    "today" is `on_day` (YYYY-MM-DD; a daily automation run passes its own), else today()."""
    if not group:
        return lambda cells: True
    by_id = {c.id: c for c in columns}
    recalc = recalc_for(columns)
    count = [0]
    return _group(group, by_id, recalc, path, 1, count, on_day or today())


def _group(group, by_id, recalc, path, depth, count, on_day):
    if not isinstance(group, dict) or not isinstance(group.get("conditions"), list):
        raise Invalid({path: "must be a group {conjunction, conditions: [...]}"})
    if depth > MAX_DEPTH:
        raise Invalid({path: f"groups nest at most {MAX_DEPTH} deep"})
    conjunction = group.get("conjunction", "and")
    if conjunction not in ("and", "or"):
        raise Invalid({f"{path}.conjunction": "must be and or or"})
    tests = []
    for i, item in enumerate(group["conditions"]):
        count[0] += 1
        if count[0] > MAX_CONDITIONS:
            raise Invalid({path: f"at most {MAX_CONDITIONS} conditions"})
        where = f"{path}.conditions[{i}]"
        if isinstance(item, dict) and "conditions" in item:
            tests.append(_group(item, by_id, recalc, where, depth + 1, count, on_day))
        else:
            tests.append(_condition(item, by_id, recalc, where, on_day))
    if conjunction == "and":
        return lambda cells: all(t(cells) for t in tests)
    return lambda cells: any(t(cells) for t in tests) if tests else True


def _condition(item, by_id, recalc, where, on_day):
    if not isinstance(item, dict):
        raise Invalid({where: "must be a condition {column_id, operator, value}"})
    column = by_id.get(item.get("column_id"))
    if column is None:
        raise Invalid({f"{where}.column_id": "no such column"})
    kind = value_class(column, recalc)
    operator = item.get("operator")
    if operator not in OPERATORS[kind]:
        raise Invalid({f"{where}.operator": f"for a {column.type} column use one of: " + ", ".join(OPERATORS[kind])})
    value = _operand(kind, operator, item.get("value"), f"{where}.value")
    if kind == "date":
        value = _on(value, on_day)
    test = TESTS[kind](operator, value)
    column_id = column.id
    return lambda cells: test(cells.get(column_id))


def _on(value, day):
    """A date operand with "today" as `day` (both ends of a between)."""
    if isinstance(value, list):
        return [_on(v, day) for v in value]
    return day if value == "today" else value


def _operand(kind, operator, value, where):
    if operator in ("is_empty", "is_not_empty"):
        return None
    if operator == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise Invalid({where: "between takes [low, high]"})
        return [_operand(kind, "=", v, where) for v in value]
    if kind in ("number", "level"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid({where: "must be a number"})
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise Invalid({where: "must be true or false"})
    elif kind in ("select", "multi") and operator in ("is_any_of", "is_none_of", "has_any_of", "has_all_of", "has_none_of"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise Invalid({where: "must be a list of option names"})
        return [v.lower() for v in value]
    elif kind == "date":
        if value == "today":
            return value
        if not isinstance(value, str) or len(value) < 10:
            raise Invalid({where: "must be a date like 2026-01-31, or \"today\""})
    elif not isinstance(value, str):
        raise Invalid({where: "must be text"})
    return value.lower() if isinstance(value, str) and kind in ("text", "select", "contacts") else value


# Each maker turns (operator, operand) into a test of one cell, so the operator is
# decided once per view, not once per row (a view runs over 10,000 rows).

def _text(op, value):
    if op in ("is_empty", "is_not_empty"):
        return lambda cell: blank(cell) == (op == "is_empty")
    compare = {"is": lambda text: text == value, "is_not": lambda text: text != value,
               "contains": lambda text: value in text, "does_not_contain": lambda text: value not in text,
               "starts_with": lambda text: text.startswith(value)}[op]
    return lambda cell: compare("" if blank(cell) else str(cell).lower())


NUMBER_OPERATORS = {"=": eq, "!=": ne, ">": gt, "<": lt, ">=": ge, "<=": le}


def _number(op, value):
    if op in ("is_empty", "is_not_empty"):
        return lambda cell: (cell is None or isinstance(cell, dict)) == (op == "is_empty")
    if op == "between":
        low, high = value
        compare = lambda cell: low <= cell <= high  # noqa: E731
    else:
        compare = partial(lambda test, cell: test(cell, value), NUMBER_OPERATORS[op])
    unmatched = op == "!="  # a blank, text or error cell is "not equal" to any number, and nothing else
    return lambda cell: compare(cell) if isinstance(cell, (int, float)) and not isinstance(cell, bool) else unmatched


DATE_OPERATORS = {"is": eq, "is_before": lt, "is_after": gt, "is_on_or_before": le, "is_on_or_after": ge}


def _date(op, value):
    if op in ("is_empty", "is_not_empty"):
        return lambda cell: blank(cell) == (op == "is_empty")

    def test(cell):
        if blank(cell) or not isinstance(cell, str):
            return False
        day = cell[:10]
        if op == "between":
            return value[0][:10] <= day <= value[1][:10]
        return DATE_OPERATORS[op](day, value[:10])
    return test


def _boolean(op, value):
    if op in ("is_empty", "is_not_empty"):
        return lambda cell: (not cell) == (op == "is_empty")
    return lambda cell: bool(cell) is value


def _select(op, value):
    if op in ("is_empty", "is_not_empty"):
        return lambda cell: blank(cell) == (op == "is_empty")
    wanted = set(value) if isinstance(value, list) else None
    compare = {"is": lambda text: text == value, "is_not": lambda text: text != value,
               "is_any_of": lambda text: text in wanted if wanted is not None else False,
               "is_none_of": lambda text: text not in wanted if wanted is not None else True}[op]
    return lambda cell: compare(cell.lower() if isinstance(cell, str) else "")


def _multi(op, value):
    items = lambda cell: {str(v).lower() for v in cell} if isinstance(cell, list) else set()  # noqa: E731
    if op in ("is_empty", "is_not_empty"):
        return lambda cell: (not items(cell)) == (op == "is_empty")
    wanted = set(value)
    return {"has_any_of": lambda cell: bool(items(cell) & wanted), "has_all_of": lambda cell: wanted <= items(cell),
            "has_none_of": lambda cell: not items(cell) & wanted}[op]


def _contacts(op, value):
    def people(cell):
        return cell if isinstance(cell, list) else []
    if op in ("is_empty", "is_not_empty"):
        return lambda cell: (not people(cell)) == (op == "is_empty")

    def test(cell):
        text = " ".join(f"{p.get('name') or ''} {p.get('email') or ''} {p.get('title') or ''}" for p in people(cell)).lower()
        return (value in text) == (op == "contains")
    return test


def _level(op, value):
    """A Relationship cell ({level, last_contact, who}, or None: no contact known) compared by its
    level, a blank one as level 0; empty means blank."""
    if op in ("is_empty", "is_not_empty"):
        return lambda cell: (cell is None) == (op == "is_empty")
    test = _number(op, value)
    return lambda cell: test(cell.get("level", 0) if isinstance(cell, dict) else 0)


TESTS = {"text": _text, "number": _number, "date": _date, "boolean": _boolean,
         "select": _select, "multi": _multi, "contacts": _contacts, "level": _level}




# -- sorting, search, grouping ---------------------------------------------------

def sort_rows(rows, sorts, columns, path="sorts") -> list:
    """Rows ordered by [{column_id, direction}], blanks last in either direction; grid order breaks ties."""
    if not sorts:
        return rows
    if not isinstance(sorts, list) or len(sorts) > 10:
        raise Invalid({path: "must be a list of at most 10 {column_id, direction}"})
    by_id = {c.id: c for c in columns}
    keys = []
    for i, spec in enumerate(sorts):
        if not isinstance(spec, dict) or spec.get("column_id") not in by_id:
            raise Invalid({f"{path}[{i}].column_id": "no such column"})
        if spec.get("direction", "asc") not in ("asc", "desc"):
            raise Invalid({f"{path}[{i}].direction": "must be asc or desc"})
        keys.append((spec["column_id"], spec.get("direction", "asc") == "desc"))
    ordered = list(rows)
    for column_id, descending in reversed(keys):  # stable sorts, least significant first
        empty_cell = empty_for(by_id[column_id])
        filled = [r for r in ordered if not empty_cell(r["cells"].get(column_id))]
        empty = [r for r in ordered if empty_cell(r["cells"].get(column_id))]
        filled.sort(key=key_for(by_id[column_id]), reverse=descending)
        ordered = filled + empty
    return ordered


def empty_for(column):
    """Which cells sort last: blanks (an unchecked box is a value); a Relationship cell only when
    none is known (its value is an object, which elsewhere means a formula's error)."""
    if column.type == "relationship":
        return lambda value: value is None
    return lambda value: blank(value) and value is not False


def key_for(column):
    """Single selects sort in their options' order (a pipeline's stages), as in Airtable; Relationship
    cells by level, then last contact (warmest and most recent last, as numbers and dates); the rest by value."""
    if column.type == "relationship":
        return lambda r: (r["cells"][column.id].get("level", 0), r["cells"][column.id].get("last_contact") or "")
    if column.type == "single_select":
        rank = {o["name"]: n for n, o in enumerate(column.options)}
        return lambda r: (rank.get(r["cells"].get(column.id), len(rank)), sort_key(r["cells"].get(column.id)))
    return lambda r: sort_key(r["cells"].get(column.id))


def sort_key(value):
    if isinstance(value, bool):
        return (0, int(value), "")
    if isinstance(value, (int, float)):
        return (1, value, "")
    if isinstance(value, list):
        return (2, 0, ", ".join(str(v.get("name") or v.get("email") or "") if isinstance(v, dict) else str(v) for v in value).casefold())
    return (2, 0, str(value).casefold())


def cell_text(value) -> str:
    if blank(value):
        return ""
    if isinstance(value, list):
        return " ".join(" ".join(str(p.get(k) or "") for k in ("name", "email", "title")) if isinstance(p, dict) else str(p)
                        for p in value)
    return str(value)


def row_text(row) -> str:
    """What search looks through: every cell's text, lower case."""
    return " ".join(cell_text(v) for v in row["cells"].values()).lower()


def search_rows(rows, q: str, text_of=row_text) -> list:
    """The rows whose text holds every word of `q`; `text_of` may remember each row's text (live.py)."""
    words = q.lower().split()
    if not words:
        return rows
    return [row for row in rows if all(w in text for text in (text_of(row),) for w in words)]


def group_key(cells, column_id, by_level):
    """The group a row's cells fall in: its cell's text (a checkbox: True/False); a Relationship
    field (`by_level`) groups by level (blank: no contact known)."""
    value = cells.get(column_id)
    if by_level:
        value = value.get("level") if isinstance(value, dict) else None
    return cell_text(value) if not isinstance(value, bool) else value


def group_rows(rows, column_id, columns) -> list:
    """[{key, count, sums: {column_id: total}}] in first-appearance order of the (sorted) rows."""
    summed = [c.id for c in columns if c.type in ("fund", "currency", "number")]
    by_level = any(c.id == column_id and c.type == "relationship" for c in columns)
    groups = {}
    numbers = (int, float)  # exactly: a bool is an int subclass, and is not summed
    for row in rows:
        cells = row["cells"]
        key = group_key(cells, column_id, by_level)
        group = groups.get(str(key))
        if group is None:
            group = groups[str(key)] = {"key": key, "count": 0, "sums": {c: 0 for c in summed}}
        group["count"] += 1
        sums = group["sums"]
        for c in summed:
            v = cells.get(c)
            if v.__class__ in numbers:
                sums[c] += v
    return list(groups.values())
