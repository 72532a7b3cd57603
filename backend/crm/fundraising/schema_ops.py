"""Column operations: add, update, delete (soft) and move, inside an ops Batch.

Well-known investor columns can be renamed, moved and re-optioned, never
retyped or deleted: other features read them by key. A formula is compiled
and checked for cycles before it is saved, so a bad one is a 422 naming the
position and the problem; renaming a column rewrites the formulas that name it.
"""
import json
import re

from ..clock import new_id, now_iso
from ..errors import Invalid
from ..validation import Field
from ..importer import infer
from . import columns as col
from . import formulas
from .recalc import Recalc

# Types whose values live in the row's `fields` JSON, so a column can move between them.
RETYPABLE = {"text", "long_text", "number", "currency", "percent", "date", "checkbox", "single_select",
             "multi_select", "email", "url", "phone"}
COLUMN_FIELDS = {"op", "column_id", "name", "type", "options", "formula", "config", "fund", "after_column_id"}


def apply_column_op(batch, kind, op, where) -> None:
    unknown = set(op) - COLUMN_FIELDS
    if unknown:
        raise Invalid({f"{where}.{n}": "unknown field" for n in unknown})
    {"add_column": add_column, "update_column": update_column,
     "delete_column": delete_column, "move_column": move_column}[kind](batch, op, where)


def _name(batch, value, where, except_id=None) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 120:
        raise Invalid({f"{where}.name": "must be 1 to 120 characters"})
    name = value.strip()
    if "{" in name or "}" in name:
        raise Invalid({f"{where}.name": "may not contain { or } (formulas use them to name fields)"})
    clash = [c for c in batch.live_columns() if c.name.lower() == name.lower() and c.id != except_id]
    if clash:
        raise Invalid({f"{where}.name": f"another column is already called {clash[0].name!r}"})
    return name


def _fund(value, where) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid({f"{where}.fund": "must be an object {name, vintage, target, close_date}"})
    specs = {"name": Field("name", max_length=200), "vintage": Field("vintage", "integer", min=1900, max=2200, nullable=True),
             "target": Field("target", "number", min=0, nullable=True), "close_date": Field("close_date", "date", nullable=True)}
    cleaned, errors = {}, {}
    for key, raw in value.items():
        if key not in specs:
            errors[f"{where}.fund.{key}"] = "unknown field"
            continue
        try:
            cleaned[key] = specs[key].check(raw)
        except ValueError as exc:
            errors[f"{where}.fund.{key}"] = str(exc)
    if errors:
        raise Invalid(errors)
    return cleaned


def _check_formula(batch, column_id, name, text, where) -> None:
    """Compile `text` as the formula of column `name`, against every other live column; refuse cycles."""
    if not isinstance(text, str) or not text.strip():
        raise Invalid({f"{where}.formula": "a formula column needs a formula"})
    types = {c.name: c.type for c in batch.live_columns() if c.id != column_id}
    types[name] = "formula"
    try:
        compiled = formulas.compile_formula(text, types)
    except formulas.FormulaError as exc:
        raise Invalid({f"{where}.formula": str(exc)}, f"formula error: {exc}") from None
    # A formula's result is cached per row and recomputed when the row changes; a Relationship
    # field changes with every strength refresh instead, so a formula over it would go stale.
    warmth = sorted(n for n in compiled.references if types.get(n) == "relationship")
    if warmth:
        raise Invalid({f"{where}.formula": f"a formula cannot read {warmth[0]!r}: Relationship fields change "
                                           "with each mail sync, and formula results are kept per row"})
    # The graph is built over every live column, this one included: without it, formulas that
    # read this column fail to compile and drop out of the graph, hiding cycles through them.
    graph = Recalc(batch.live_columns()).graph
    graph[name] = set(compiled.references)
    cycle = formulas.find_cycle(graph)
    if cycle:
        raise Invalid({f"{where}.formula": "formulas refer to each other in a cycle: " + " → ".join(cycle)})


def _options(value, where) -> list:
    try:
        return col.clean_options(value)
    except col.CellError as exc:
        raise Invalid({f"{where}.options": str(exc)}) from None


def _config(value, where, kind) -> dict:
    if not isinstance(value, dict) or len(json.dumps(value)) > 4000:
        raise Invalid({f"{where}.config": "must be an object (display settings) of at most 4000 characters"})
    # How a formula's result shows: absent or null is the default, read from the fields it uses.
    if value.get("format") is not None:
        if kind != "formula":
            raise Invalid({f"{where}.config.format": "only formula fields take a format (the others show as their type)"})
        if value["format"] not in formulas.FORMATS:
            raise Invalid({f"{where}.config.format": "must be one of: " + ", ".join(formulas.FORMATS)})
    currency = value.get("currency")
    if currency is not None and not (isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency)):
        raise Invalid({f"{where}.config.currency": "must be a three-letter currency code such as USD"})
    return value


def add_column(batch, op, where) -> None:
    kind = op.get("type")
    if kind not in col.TYPES:
        raise Invalid({f"{where}.type": "must be one of: " + ", ".join(col.TYPES)})
    column_id = op.get("column_id") or new_id()
    if not isinstance(column_id, str) or len(column_id) > 64 or column_id in batch.columns:
        raise Invalid({f"{where}.column_id": "must be a new column id"})
    name = _name(batch, op.get("name"), where)
    options = _options(op.get("options", []), where) if kind in ("single_select", "multi_select") else []
    if kind == "formula":
        _check_formula(batch, column_id, name, op.get("formula"), where)
    config = _config(op.get("config", {}), where, kind)
    position = batch._position(op, where, "fundraising_columns", "after_column_id")
    now, user = now_iso(), batch.actor["id"]
    batch.conn.execute(
        "INSERT INTO fundraising_columns (id, name, type, position, options, formula, config, created_at, created_by, updated_at, updated_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (column_id, name, kind, position, json.dumps(options), op.get("formula") if kind == "formula" else None,
         json.dumps(config), now, user, now, user))
    fund = None
    if kind == "fund":
        fund = {"name": name, "vintage": None, "target": None, "close_date": None, **_fund(op.get("fund"), where)}
        fund["id"] = new_id()
        batch.conn.execute("INSERT INTO fundraising_funds (id, column_id, name, vintage, target, close_date, created_at, updated_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (fund["id"], column_id, fund["name"], fund["vintage"], fund["target"], fund["close_date"], now, now))
    column = col.Column(column_id, name, kind, None, position, options, op.get("formula") if kind == "formula" else None, config, fund)
    batch.columns[column_id] = column
    batch.record("add_column", None, column_id, None, column.as_api())
    batch.formulas_dirty |= kind == "formula"


def update_column(batch, op, where) -> None:
    column = batch.column(op.get("column_id"), f"{where}.column_id")
    before = column.as_api()
    changes = {}
    retyped = "type" in op and op["type"] != column.type
    if retyped:  # options sent along are the new select's: cells are converted against them
        _retype(batch, column, op["type"], where, _options(op["options"], where) if "options" in op else None)
        changes["type"] = op["type"]
    if "name" in op and op["name"] != column.name:
        new_name = _name(batch, op["name"], where, except_id=column.id)
        _rename_references(batch, column.name, new_name)
        if column.type == "fund" and column.fund["name"] == column.name:  # a fund named after its column follows it
            column.fund["name"] = new_name
            batch.conn.execute("UPDATE fundraising_funds SET name = ?, updated_at = ? WHERE id = ?", (new_name, now_iso(), column.fund["id"]))
        changes["name"] = column.name = new_name
    if "formula" in op:
        if column.type != "formula":
            raise Invalid({f"{where}.formula": "only formula columns have a formula"})
        _check_formula(batch, column.id, column.name, op["formula"], where)
        changes["formula"] = column.formula = op["formula"]
    if "config" in op:
        changes["config"] = column.config = _config(op["config"], where, op.get("type", column.type))
    if "fund" in op:
        if column.type != "fund":
            raise Invalid({f"{where}.fund": "only fund columns have fund details"})
        column.fund.update(_fund(op["fund"], where))
        batch.conn.execute("UPDATE fundraising_funds SET name = ?, vintage = ?, target = ?, close_date = ?, updated_at = ? WHERE id = ?",
                           (column.fund["name"], column.fund["vintage"], column.fund["target"], column.fund["close_date"],
                            now_iso(), column.fund["id"]))
        changes["fund"] = column.fund
    if "options" in op and not retyped:
        if column.type not in ("single_select", "multi_select"):
            raise Invalid({f"{where}.options": "only select columns have options"})
        _reoption(batch, column, _options(op["options"], where), where)
        changes["options"] = column.options
    if not changes:
        return
    batch.conn.execute("UPDATE fundraising_columns SET name = ?, type = ?, options = ?, formula = ?, config = ?, updated_at = ?, "
                       "updated_by = ? WHERE id = ?", (column.name, column.type, json.dumps(column.options), column.formula,
                                                      json.dumps(column.config), now_iso(), batch.actor["id"], column.id))
    batch.record("update_column", None, column.id, before, column.as_api())
    batch.formulas_dirty = True


def _rename_references(batch, old: str, new: str) -> None:
    for other in batch.live_columns():
        if other.type == "formula" and other.formula:
            renamed = _renamed(other.formula, old, new)
            if renamed != other.formula:
                before = other.as_api()
                other.formula = renamed
                batch.conn.execute("UPDATE fundraising_columns SET formula = ? WHERE id = ?", (other.formula, other.id))
                batch.record("update_column", None, other.id, before, other.as_api())  # live clients see the new text


def _renamed(text: str, old: str, new: str) -> str:
    """`text` with every reference to field `old` naming `new` instead.

    Read from the parsed formula, not by replacing "{old}": a one-word name may be
    written bare (`Amount * 2`), and text literals that happen to say "{old}" must stay.
    """
    try:
        node = formulas.parse(text)
    except formulas.FormulaError:
        return text.replace("{" + old + "}", "{" + new + "}")  # cannot parse: the best textual guess
    spans, stack = [], [node]
    while stack:
        current = stack.pop()
        if isinstance(current, formulas.FieldRef) and current.name == old:
            start = current.position
            end = text.index("}", start) + 1 if text[start] == "{" else start + len(old)
            spans.append((start, end))
        elif isinstance(current, formulas.Binary):
            stack += [current.left, current.right]
        elif isinstance(current, formulas.Unary):
            stack.append(current.operand)
        elif isinstance(current, formulas.Call):
            stack.extend(current.args)
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + "{" + new + "}" + text[end:]
    return text


def _all_rows(batch) -> list:
    batch.preload([r["id"] for r in batch.conn.execute("SELECT id FROM fundraising_investors")])
    return list(batch.rows.values())


def _retype(batch, column, new_type, where, options=None) -> None:
    """Convert every cell to `new_type`, or refuse naming how many cannot be. A select made without
    options given gets one per distinct value (as Airtable does)."""
    if column.field_key or column.type not in RETYPABLE or new_type not in RETYPABLE:
        raise Invalid({f"{where}.type": f"a {column.type} column cannot become {new_type}"})
    if options is None:
        options = column.options
        if new_type in ("single_select", "multi_select"):
            known = {o["name"].lower() for o in options}
            found = []
            for row in _all_rows(batch):
                if col.is_blank(row["cells"].get(column.id)):
                    continue
                value = _convertible(row["cells"].get(column.id), new_type)
                for item in (value if isinstance(value, list) else [value]):
                    if isinstance(item, str) and item.strip() and item.strip().lower() not in known:
                        known.add(item.strip().lower())
                        found.append(item.strip())
            options = options + col.make_options(found)
    target = col.Column(column.id, column.name, new_type, None, column.position, options, None, column.config)
    bad = 0
    converted = {}
    for row in _all_rows(batch):
        value = row["cells"].get(column.id)
        if col.is_blank(value):
            continue
        try:
            converted[row["id"]] = col.clean_value(target, _convertible(value, new_type))
        except col.CellError:
            bad += 1
    if bad:
        raise Invalid({f"{where}.type": f"{bad} cell(s) hold values that are not valid as {new_type}; change them first"})
    column.type, column.options = new_type, options
    for row_id, value in converted.items():
        batch.set_cell(row_id, column.id, value, where, conflict_check=False)


def _convertible(value, new_type):
    if new_type in col.TEXTUAL and not isinstance(value, str):
        return ", ".join(value) if isinstance(value, list) else str(value)
    if isinstance(value, str) and new_type not in col.TEXTUAL:
        try:  # "12", "$1,200", "1/5/2025", "checked": read as the importer reads spreadsheet text
            return infer.convert(value, "number" if new_type in ("currency", "percent") else new_type)[0]
        except ValueError:
            return value
    return value


def _reoption(batch, column, options, where) -> None:
    """Save new options; cells holding a renamed option follow it, cells holding a removed one are cleared."""
    new_by_id = {o["id"]: o["name"] for o in options}
    renamed = {o["name"]: new_by_id.get(o["id"]) for o in column.options}
    column.options = options
    for row in _all_rows(batch):
        value = row["cells"].get(column.id)
        if col.is_blank(value):
            continue
        if column.type == "single_select":
            updated = renamed.get(value, value if value in new_by_id.values() else None)
        else:
            updated = [renamed.get(v, v if v in new_by_id.values() else None) for v in value]
            updated = [v for v in updated if v]
        if updated != value:
            batch.set_cell(row["id"], column.id, updated, where, conflict_check=False)


def delete_column(batch, op, where) -> None:
    column = batch.column(op.get("column_id"), f"{where}.column_id")
    if column.field_key:
        raise Invalid({f"{where}.column_id": f"{column.name} is a built-in investor field and cannot be deleted (hide it in a view)"})
    now = now_iso()
    batch.conn.execute("UPDATE fundraising_columns SET deleted_at = ?, deleted_by = ? WHERE id = ?", (now, batch.actor["id"], column.id))
    if column.type == "fund":
        batch.conn.execute("UPDATE fundraising_funds SET deleted_at = ? WHERE id = ?", (now, column.fund["id"]))
    column.deleted = True
    batch.record("delete_column", None, column.id, column.as_api(), None)
    batch.formulas_dirty = True


def move_column(batch, op, where) -> None:
    column = batch.column(op.get("column_id"), f"{where}.column_id")
    position = batch._position(op, where, "fundraising_columns", "after_column_id", exclude=column.id)
    batch.conn.execute("UPDATE fundraising_columns SET position = ? WHERE id = ?", (position, column.id))
    batch.record("move_column", None, column.id, {"position": column.position}, {"position": position})
    column.position = position
