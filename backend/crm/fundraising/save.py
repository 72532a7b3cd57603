"""PUT /api/fundraising/state: a whole-grid save, diffed into ops.

Kept for clients of the original API. The incoming grid is compared with the
stored one and only the differences become ops (so a save that changes one
cell logs one change, and ids never churn). A stale `expected_version` is a
409 naming the current version and who made it.
"""
from ..errors import Conflict, Invalid
from . import ops, store, views
from .columns import READ_ONLY

COLUMN_KEYS = ("name", "type", "options", "formula", "config", "fund")


def save(req, payload) -> dict:
    if not isinstance(payload, dict) or not isinstance(payload.get("grid"), dict):
        raise Invalid({"grid": "is required: {columns: [...], rows: [...]}"})
    expected = payload.get("expected_version")
    if isinstance(expected, bool) or not isinstance(expected, int):
        raise Invalid({"expected_version": "is required: the version you loaded"})
    unknown = set(payload) - {"grid", "views", "expected_version"}
    if unknown:
        raise Invalid({k: "unknown field" for k in unknown})
    current = store.version(req.db)
    if expected != current["version"]:
        raise Conflict("the grid changed since you loaded it", extra={
            "current_version": current["version"], "updated_at": current["updated_at"], "updated_by": current["updated_by"]})
    columns = store.load_columns(req.db)
    grid_ops = column_ops(columns, payload["grid"].get("columns"))
    grid_ops += row_ops(req, columns, payload["grid"].get("rows"))
    result = ops.apply(req, expected, grid_ops) if grid_ops else {"version": expected, "applied": 0, "rows": {}}
    if "views" in payload:
        save_views(req, payload["views"])
    return {"version": result["version"], "applied": result["applied"]}


def column_ops(columns, incoming) -> list:
    if incoming is None:
        return []
    if not isinstance(incoming, list) or not all(isinstance(c, dict) for c in incoming):
        raise Invalid({"grid.columns": "must be a list of column objects"})
    by_id = {c.id: c for c in columns}
    result, seen = [], set()
    for item in incoming:
        column = by_id.get(item.get("id"))
        if column is None:
            result.append({"op": "add_column", "column_id": item.get("id"),
                           **{k: item[k] for k in COLUMN_KEYS if k in item and item[k] is not None}})
            continue
        seen.add(column.id)
        current = column.as_api()
        changed = {k: item[k] for k in COLUMN_KEYS if k in item and item[k] != current.get(k) and not (k == "type" and column.field_key)}
        if changed.get("fund"):
            changed["fund"] = {k: v for k, v in changed["fund"].items() if k != "id"}
        if changed:
            result.append({"op": "update_column", "column_id": column.id, **changed})
    result += [{"op": "delete_column", "column_id": c.id} for c in columns if c.id not in seen and not c.field_key
               and any(i.get("id") in by_id for i in incoming)]
    order = [i.get("id") for i in incoming if i.get("id") in by_id]
    if order != [c.id for c in columns if c.id in set(order)]:
        previous = ""
        for column_id in order:
            result.append({"op": "move_column", "column_id": column_id, "after_column_id": previous})
            previous = column_id
    return result


def row_ops(req, columns, incoming) -> list:
    if incoming is None:
        return []
    if not isinstance(incoming, list) or not all(isinstance(r, dict) for r in incoming):
        raise Invalid({"grid.rows": "must be a list of row objects"})
    # Cells of computed columns are ignored; cells of unknown columns are kept (the ops reject them by name).
    computed = {c.id for c in columns if c.type in READ_ONLY}
    # The live rows from the snapshot (no re-read of 10,000 rows), the archived ones from the database.
    stored = {r["id"]: r for r in req.app.grid.snapshot(req.db).rows}
    stored.update((r["id"], r) for r in store.load_rows(req.db, columns, only_archived=True))
    result = []
    for item in incoming:
        cells = item.get("cells") or {}
        if not isinstance(cells, dict):
            raise Invalid({"grid.rows": "each row's cells must be an object"})
        row = stored.get(item.get("id"))
        if row is None:
            result.append({"op": "add_row", "row_id": item.get("id"),
                           "cells": {k: v for k, v in cells.items() if k not in computed}})
            continue
        if row["archived"] and not item.get("archived", True):
            result.append({"op": "restore_row", "row_id": row["id"]})
        had = row["cells"]
        for column_id, value in (cells.items() if cells != had else ()):  # an unchanged row (most of them): one C-level compare
            if column_id not in computed and had.get(column_id) != value:
                if not (value in (None, "", [], False) and had.get(column_id) in (None, "", [], False)):
                    result.append({"op": "set_cell", "row_id": row["id"], "column_id": column_id, "value": value})
        if item.get("archived") and not row["archived"]:
            result.append({"op": "archive_row", "row_id": row["id"]})
    kept = {i.get("id") for i in incoming}
    result += [{"op": "archive_row", "row_id": r["id"]} for r in stored.values() if r["id"] not in kept and not r["archived"]]
    return result


def save_views(req, incoming) -> None:
    if not isinstance(incoming, list):
        raise Invalid({"views": "must be a list"})
    existing = {v["id"]: v for v in views.visible(req.db, req.user)}
    for item in incoming:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise Invalid({"views": "each view needs a name"})
        data = {k: item[k] for k in ("name", "config", "shared", "locked") if k in item}
        if item.get("id") in existing:
            view = existing[item["id"]]
            changed = {k: v for k, v in data.items() if view.get(k) != v}
            if changed:
                views.update(req.db, req, view["id"], changed)
        else:
            views.create(req.db, req, data)
