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

    def affected(self, changed_column_ids) -> list:
        """Formula column names to recompute, dependencies first, after these columns changed."""
        names = {c.name for c in self.columns if c.id in changed_column_ids}
        return formulas.dependents(self.graph, names)

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
                values = {n: self.value_of(c, cells.get(c.id)) for n, c in self.by_name.items() if n in compiled.references}
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
