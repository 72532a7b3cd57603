"""Formula columns over grid rows: compile once per request, recompute only what depends on a change.

Formulas name fields by column name; cells are keyed by column id. This module
translates between the two and stores results as plain JSON values, with a
runtime error as {"error": message} in the cell.
"""
from datetime import date, datetime

from . import formulas


class Recalc:
    def __init__(self, columns):
        self.columns = [c for c in columns]
        self.by_name = {c.name: c for c in self.columns}
        self.types = {c.name: c.type for c in self.columns}
        self.compiled, self.errors = {}, {}
        for column in self.columns:
            if column.type != "formula":
                continue
            try:
                self.compiled[column.name] = formulas.compile_formula(column.formula or "", self.types)
            except formulas.FormulaError as exc:
                self.errors[column.name] = str(exc)
        self.graph = {name: set(c.references) for name, c in self.compiled.items()}
        # Per formula, the columns it reads: a row's inputs are picked from these, not from every column.
        self.inputs = {name: [(n, c) for n, c in self.by_name.items() if n in compiled.references]
                       for name, compiled in self.compiled.items()}
        self._affected = {}  # frozenset of changed column ids -> affected(): an import asks the same for every row

    def affected(self, changed_column_ids) -> tuple:
        """Formula column names to recompute, dependencies first, after these columns changed."""
        key = changed_column_ids if isinstance(changed_column_ids, frozenset) else frozenset(changed_column_ids)
        found = self._affected.get(key)
        if found is None:
            names = {c.name for c in self.columns if c.id in key}
            found = tuple(formulas.dependents(self.graph, names))
            if len(self._affected) < 1024:  # shared between requests (filters.recalc_for): bounded
                self._affected[key] = found
        return found

    def all_formulas(self) -> list:
        return formulas.dependents(self.graph, set(self.graph)) or list(self.graph)

    def recompute(self, cells: dict, names, now=None) -> dict:
        """New results {column_id: value} for the formula columns `names` of one row (cells updated in place)."""
        results = {}
        for name in names:
            column = self.by_name[name]
            compiled = self.compiled.get(name)
            if compiled is None:
                value = {"error": self.errors.get(name, "formula does not compile")}
            else:
                values = {n: self.value_of(c, cells.get(c.id)) for n, c in self.inputs[name]}
                value = self.stored(formulas.evaluate(compiled, values, now=now))
            cells[column.id] = value
            results[column.id] = value
        return results

    @staticmethod
    def value_of(column, value):
        if column.type == "contacts" and value:
            return [f"{p.get('name') or ''} <{p['email']}>" if p.get("email") else (p.get("name") or "") for p in value]
        if column.type == "formula" and isinstance(value, dict):
            return None
        if column.type == "relationship":  # a formula reads its level (schema_ops refuses new ones that do)
            return value.get("level", 0) if isinstance(value, dict) else 0
        return value

    @staticmethod
    def stored(value):
        if isinstance(value, formulas.FormulaValueError):
            return {"error": value.message}
        if isinstance(value, datetime):
            return value.isoformat().replace("+00:00", "Z")
        if isinstance(value, date):
            return value.isoformat()
        return value


def _unit(column, formats: dict) -> str:
    """What a column's numbers are, for formats.default_format: "currency:XXX", "percent" or "number"."""
    if column.type in ("currency", "fund"):
        return "currency:" + (column.config.get("currency") or "USD")
    if column.type == "percent":
        return "percent"
    if column.type == "formula":
        shown = formats.get(column.name) or {}
        if shown.get("format") == "currency":
            return "currency:" + shown["currency"]
        return shown.get("format") or "number"
    return "number"


def result_formats(columns, recalc: Recalc) -> dict:
    """{formula column id: {type, format, currency, default_format}}: the result type, the format the column is
    shown with (its `config.format`, else the default inferred from the fields it reads) and that default."""
    by_name = {c.name: c for c in columns}
    shown = {}
    for name in formulas.dependents(recalc.graph, set(recalc.graph)) or list(recalc.graph):
        column, compiled = by_name.get(name), recalc.compiled.get(name)
        if column is None or compiled is None:
            continue
        units = {ref: _unit(by_name[ref], shown) for ref in compiled.references if ref in by_name}
        inferred, code = formulas.default_format(compiled.node, compiled.type, units)
        chosen = column.config.get("format") if column.config.get("format") in formulas.FORMATS else inferred
        currency = (column.config.get("currency") or code or "USD") if chosen == "currency" else None
        shown[name] = {"type": compiled.type, "format": chosen, "currency": currency, "default_format": inferred}
    return {by_name[name].id: value for name, value in shown.items()}


def shown_columns(columns, recalc: Recalc) -> list:
    """The columns as the API shows them, each formula column with its `result` (see result_formats)."""
    results = result_formats(columns, recalc)
    listed = []
    for column in columns:
        data = column.as_api()
        if column.type == "formula":
            data["result"] = results.get(column.id, {"type": None, "format": None, "currency": None, "default_format": None})
        listed.append(data)
    return listed


def field_units(columns, recalc: Recalc) -> dict:
    """{column name: "currency:XXX" | "percent" | "number"}: what each column's numbers are (formula columns by their format)."""
    results = result_formats(columns, recalc)
    shown = {c.name: results[c.id] for c in columns if c.id in results}
    return {c.name: _unit(c, shown) for c in columns}
