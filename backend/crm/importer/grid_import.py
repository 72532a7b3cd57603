"""Airtable CSV into the fundraising grid: preview (what would happen), then commit (all or nothing).

Preview reads the file, infers each column's type, suggests where it goes (an
existing column by normalised name, a well-known investor field by a common
spelling, a fund by its name, or a new column of the inferred type) and lists
every cell that would not fit, with row and column numbers.

Commit takes the preview's mapping, the key column(s) that identify an
investor and a mode (upsert, append, update_only). Every cell is converted
before anything is written; any problem is a 422 and nothing changes. Then,
after a pre_import grid backup, new columns, new rows and changed cells are
applied as grid ops in one transaction and one version. A blank cell clears
the cell (an export's blank means the value is gone), so importing the same
file again changes nothing, and a newer export changes only what changed.
"""
import json
from contextlib import contextmanager
from email.parser import BytesParser
from email.policy import default as email_policy

from .. import csvio
from ..backups import service as backups
from ..clock import new_id
from ..db import transaction
from ..errors import Invalid, UnsupportedMediaType
from ..fundraising import links, ops, store
from ..fundraising import columns as col
from ..fundraising.schema_ops import apply_column_op
from . import infer

MODES = ("upsert", "append", "update_only")
SAMPLE_ROWS = 5
MAX_PROBLEMS = 500
INSERT_CHUNK = 5000  # new rows written per round of statements (all in the one transaction)
IMPORT_CACHE_KIB = 64 * 1024  # SQLite's page cache during the import's transaction (see _page_cache)
# Common spellings of the well-known investor fields.
KEY_ALIASES = {
    "name": ("investor", "name", "investor name", "lp", "lp name", "firm"),
    "organization": ("organization", "organisation", "company", "firm name"),
    "contacts": ("contacts", "contact", "primary contact", "people"),
    "lead_source": ("lead source", "source", "referral source"),
    "owner": ("owner", "assignee", "relationship owner"),
    "status": ("status", "stage"),
    "notes": ("notes", "note", "comments"),
    "graveyard": ("graveyard", "dead", "passed"),
    "follow_up": ("follow up", "followup", "next follow up", "follow up date"),
    "longshot": ("longshot", "long shot"),
}


# -- reading the upload ------------------------------------------------------------

def upload(req) -> tuple:
    """(csv bytes, options dict) from text/csv, multipart/form-data (file + options) or JSON {csv, ...}."""
    kind = req.content_type
    if kind in ("text/csv", "application/csv", "text/plain"):
        return req.body, {}
    if kind == "multipart/form-data":
        return _multipart(req)
    if kind == "application/json":
        payload = req.json
        if not isinstance(payload, dict) or not isinstance(payload.get("csv"), str):
            raise Invalid({"csv": "is required: the CSV text"})
        return payload["csv"].encode("utf-8"), {k: v for k, v in payload.items() if k != "csv"}
    raise UnsupportedMediaType("send the CSV as text/csv, multipart/form-data (field \"file\") or JSON {\"csv\": ...}")


def _multipart(req) -> tuple:
    header = f"Content-Type: {req.headers.get('Content-Type')}\r\n\r\n".encode()
    message = BytesParser(policy=email_policy).parsebytes(header + req.body)
    data, options = None, {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name == "file":
            data = part.get_payload(decode=True)
        elif name == "options":
            try:
                options = json.loads(part.get_payload(decode=True) or b"{}")
            except ValueError:
                raise Invalid({"options": "must be JSON"}) from None
            if not isinstance(options, dict):
                raise Invalid({"options": "must be a JSON object {mapping, keys?, mode?}"})
    if data is None:
        raise Invalid({"file": "is required: upload the CSV in a field named file"})
    return data, options


def _table(data: bytes) -> tuple:
    header, rows = csvio.read(data)
    problems = []
    seen = {}
    for index, name in enumerate(header, start=1):
        if not name:
            raise Invalid({"file": f"column {index} has no header"})
        if name.lower() in seen:
            raise Invalid({"file": f"column {index} repeats the header {name!r} of column {seen[name.lower()]}"})
        seen[name.lower()] = index
    for line, values in rows:
        if len(values) > len(header):
            problems.append({"row": line, "column": len(header) + 1, "header": None,
                             "message": f"{len(values) - len(header)} cell(s) beyond the last header are ignored"})
    columns = {h: [values[i] if i < len(values) else "" for _, values in rows] for i, h in enumerate(header)}
    return header, rows, columns, problems


# -- preview -------------------------------------------------------------------------

def _suggest(header, inferred, columns) -> dict:
    wanted = infer.normalise_header(header)
    for column in columns:
        if infer.normalise_header(column.name) == wanted:
            return _existing(column)
        if column.type == "fund" and infer.normalise_header(column.fund["name"]) == wanted:
            return _existing(column)
    by_key = {c.field_key: c for c in columns if c.field_key}
    for key, spellings in KEY_ALIASES.items():
        if wanted in spellings and key in by_key:
            return _existing(by_key[key])
    kind = inferred["type"]
    if kind in ("currency", "number") and "fund" in wanted.split():
        kind = "fund"
    create = {"name": header, "type": kind}
    if inferred["options"]:
        create["options"] = inferred["options"]
    return {"create": create}


def _existing(column) -> dict:
    return {"column_id": column.id, "name": column.name, "type": column.type}


def _convert_all(header, cells, column, lines, column_number) -> tuple:
    """Every cell of one CSV column as its target column stores it, or a problem naming row and column.

    Each distinct text is converted once (a column repeats its statuses, owners, amounts and dates
    across 10,000 rows); list values (multi select, contacts) are made per cell, since rows must not
    share one list.
    """
    values, problems, warnings = [], [], []
    storage = _storage_type(column.type)
    done = {}
    for text, line in zip(cells, lines):
        found = done.get(text)
        if found is None:
            try:
                value, warning = infer.convert(text, storage)
                found = (col.clean_value(column, value), warning, None)
            except (ValueError, col.CellError) as exc:
                found = (None, None, f"{text!r}: {exc}")
            if not isinstance(found[0], (list, dict)):
                done[text] = found
        value, warning, problem = found
        if problem:
            problems.append({"row": line, "column": column_number, "header": header, "message": problem})
        if warning:
            warnings.append({"row": line, "column": column_number, "header": header, "message": warning})
        values.append(value)
    return values, problems, warnings


def _target(mapping, by_id, cells) -> col.Column:
    """The column a mapping writes to: an existing one, or a stand-in for one to be created."""
    if "column_id" in mapping:
        column = by_id[mapping["column_id"]]
        if column.type in ("single_select", "multi_select"):  # missing options are added on commit
            names = {o["name"].lower() for o in column.options}
            extra = [v for v in _option_values(cells, column.type) if v.lower() not in names]
            column = col.Column(column.id, column.name, column.type, None, 0, column.options + col.make_options(extra), None, {})
        return column
    spec = mapping["create"]
    options = col.make_options(_option_values(cells, spec["type"])) if spec["type"] in ("single_select", "multi_select") else []
    return col.Column("new", spec.get("name", ""), spec["type"], None, 0, options, None, {}, {"id": "new"})


def _option_values(cells, kind) -> list:
    found = []
    for text in cells:
        for item in (infer.parse_list(text) if kind == "multi_select" else [text.strip()] if text and text.strip() else []):
            if item.lower() not in (f.lower() for f in found):
                found.append(item)
    return found


def preview(req) -> dict:
    data, _ = upload(req)
    header, rows, cells, problems = _table(data)
    columns = store.load_columns(req.db)
    by_id = {c.id: c for c in columns}
    lines = [line for line, _ in rows]
    detected, warnings, samples = [], [], [{} for _ in rows[:SAMPLE_ROWS]]
    for number, name in enumerate(header, start=1):
        inferred = infer.infer_column(name, cells[name])
        suggestion = _suggest(name, inferred, columns)
        values, bad, warned = _convert_all(name, cells[name], _target(suggestion, by_id, cells[name]), lines, number)
        problems += bad
        warnings += warned
        for sample, value in zip(samples, values):
            sample[name] = value
        detected.append({"number": number, "header": name, "inferred_type": inferred["type"],
                         "confidence": inferred["confidence"], "suggested": suggestion})
    return {"rows": len(rows), "columns": detected, "sample": samples, "problems": problems[:MAX_PROBLEMS],
            "problem_count": len(problems), "warnings": warnings[:MAX_PROBLEMS], "default_keys": _default_keys(detected, by_id),
            "modes": list(MODES)}


def _storage_type(kind: str) -> str:
    return "number" if kind in ("currency", "percent") else kind


def _default_keys(detected, by_id) -> list:
    for wanted in ("name", "contacts"):
        for column in detected:
            target = by_id.get(column["suggested"].get("column_id"))
            if target is not None and target.field_key == wanted:
                return [column["header"]]
    return []


# -- commit ----------------------------------------------------------------------------

def _check_mapping(mapping, header, columns) -> dict:
    if not isinstance(mapping, dict):
        raise Invalid({"mapping": "is required: {csv header: {column_id} | {create: {name, type}} | {skip: true}}"})
    by_id = {c.id: c for c in columns}
    errors = {}
    for name in header:
        if name not in mapping:
            errors[f"mapping.{name}"] = "every CSV column needs a mapping (use {\"skip\": true} to leave it out)"
    for name, target in mapping.items():
        where = f"mapping.{name}"
        if name not in header:
            errors[where] = "is not a column of the file"
        elif not isinstance(target, dict):
            errors[where] = "must be {column_id}, {create: {...}} or {skip: true}"
        elif target.get("skip"):
            continue
        elif "column_id" in target:
            column = by_id.get(target["column_id"])
            if column is None:
                errors[where] = f"no such column: {target['column_id']}"
            elif column.type in col.READ_ONLY:
                errors[where] = f"{column.name} is computed and cannot be imported into"
        elif isinstance(target.get("create"), dict):
            kind = target["create"].get("type")
            if kind not in col.TYPES or kind in col.READ_ONLY:
                errors[where] = "create.type must be an editable column type"
        else:
            errors[where] = "must be {column_id}, {create: {...}} or {skip: true}"
    if errors:
        raise Invalid(errors, "the mapping does not fit the file or the grid; nothing was imported")
    return {name: target for name, target in mapping.items() if not target.get("skip")}


def commit(req) -> dict:
    data, options = upload(req)
    options = {**options, **({k: req.query[k] for k in ("mode",) if k in req.query})}
    unknown = set(options) - {"mapping", "keys", "mode"}
    if unknown:
        raise Invalid({name: "unknown field" for name in unknown})
    mode = options.get("mode", "upsert")
    if mode not in MODES:
        raise Invalid({"mode": "must be one of: " + ", ".join(MODES)})
    header, rows, cells, _ = _table(data)
    columns = store.load_columns(req.db)
    mapping = _check_mapping(options.get("mapping"), header, columns)
    keys = options.get("keys") or _default_keys(
        [{"header": h, "suggested": m} for h, m in mapping.items()], {c.id: c for c in columns})
    if not isinstance(keys, list) or not keys or any(k not in mapping for k in keys):
        raise Invalid({"keys": "name the mapped CSV column(s) that identify an investor"})
    converted = _convert_mapped(mapping, header, rows, cells, {c.id: c for c in columns})
    lines = [line for line, _ in rows]
    del data, rows, cells  # the file's text, cell by cell: ~300 MB at 100,000 rows, and only the values are needed now
    backup = backups.take(req.config, req.db, "grid", "pre_import", req.user["id"], req)
    with _page_cache(req.db), transaction(req.db):
        report = _apply(req, mapping, keys, mode, lines, converted)
    report["pre_import_backup"] = backup["id"]
    req.app.presence.notify()
    return report


@contextmanager
def _page_cache(conn):
    """A larger SQLite page cache for the import's one transaction. 100,000 rows go into a dozen
    tables and their indexes keyed by random ids: with the default 2 MB the transaction keeps
    reading back (and spilling) the pages it has just written. Measured at 40,000 rows: the SQL
    of the import took ~2.5x less time with 64 MiB (docs/PERFORMANCE.md). Set back afterwards
    (the connection returns to the pool)."""
    before = conn.execute("PRAGMA cache_size").fetchone()["cache_size"]
    conn.execute(f"PRAGMA cache_size = {-IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {int(before)}")


def _convert_mapped(mapping, header, rows, cells, by_id) -> dict:
    """{header: [value per row]}; any cell that does not fit is a 422 with every such cell listed."""
    lines = [line for line, _ in rows]
    converted, problems = {}, []
    for name, target in mapping.items():
        values, bad, _ = _convert_all(name, cells[name], _target(target, by_id, cells[name]), lines, header.index(name) + 1)
        converted[name] = values
        problems += bad
    if problems:
        raise Invalid({"cells": problems[:MAX_PROBLEMS]}, f"{len(problems)} cell(s) do not fit their column; nothing was imported")
    return converted


def _apply(req, mapping, keys, mode, lines, converted) -> dict:
    batch = ops.Batch(req.db, req, ops.current_version(req.db), req.app.presence, check_conflicts=False)
    batch.pending_links = []  # new rows' contacts, linked to the classic CRM in bulk below
    targets = _prepare_columns(batch, mapping, converted)
    index = _row_index(batch, [targets[k] for k in keys])
    report = {"created": 0, "updated": 0, "unchanged": 0, "skipped": [], "columns_created": [
        batch.columns[c].name for h, c in targets.items() if "create" in mapping[h]]}
    position = (req.db.execute("SELECT max(position) AS p FROM fundraising_investors").fetchone()["p"] or 0)
    live = batch.live_columns()  # sorted once: the loop adds rows and cells, never columns
    every = frozenset(c.id for c in live)  # what a new row touched: one set shared by all of them (ops.Batch.touch)
    new_rows = {}  # row id -> (row id, position, cells): inserted INSERT_CHUNK at a time, not one by one
    columns = [(targets[h], converted[h]) for h in mapping]
    for n, line in enumerate(lines):
        cells = {column_id: values[n] for column_id, values in columns}
        key = _key(cells, [targets[k] for k in keys], batch)
        if key is None:
            report["skipped"].append({"row": line, "reason": "the key column(s) " + ", ".join(keys) + " are empty"})
            continue
        existing = None if mode == "append" else index.get(key)
        if existing is None and mode == "update_only":
            report["skipped"].append({"row": line, "reason": "no investor with this key exists (update_only)"})
            continue
        if existing is None:
            position += 1
            row_id = new_id()
            new_rows[row_id] = (row_id, position, cells)
            index[key] = row_id
            report["created"] += 1
            if len(new_rows) >= INSERT_CHUNK:  # each chunk's statements and copies are let go before the next
                _insert(batch, new_rows, live, every)
        else:
            if existing in new_rows:  # the file repeats a key it added: that row is written first
                _insert(batch, new_rows, live, every)
            report["updated" if _update(batch, existing, cells, f"row {line}") else "unchanged"] += 1
    _insert(batch, new_rows, live, every)
    _link(batch)
    result = batch.finish()
    report["version"] = result["version"]
    return report


def _prepare_columns(batch, mapping, converted) -> dict:
    """Create the new columns and add missing select options. Returns {header: column id}."""
    targets = {}
    for name, target in mapping.items():
        if "column_id" in target:
            targets[name] = target["column_id"]
            column = batch.columns[target["column_id"]]
        else:
            spec = dict(target["create"])
            spec.setdefault("name", name)
            column_id = new_id()
            apply_column_op(batch, "add_column", {"op": "add_column", "column_id": column_id,
                                                  **{k: v for k, v in spec.items() if k != "options"}}, f"mapping.{name}")
            targets[name] = column_id
            column = batch.columns[column_id]
        if column.type in ("single_select", "multi_select"):
            _extend_options(batch, column, converted[name], name)
    return targets


def _extend_options(batch, column, values, name) -> None:
    known = {o["name"].lower() for o in column.options}
    missing = []
    for value in values:
        for item in (value if isinstance(value, list) else [value] if value else []):
            if item.lower() not in known:
                known.add(item.lower())
                missing.append(item)
    if missing:
        options = column.options + [{"name": m} for m in missing]
        apply_column_op(batch, "update_column", {"op": "update_column", "column_id": column.id, "options": options},
                        f"mapping.{name}")


def _row_index(batch, key_columns) -> dict:
    rows = store.load_rows(batch.conn, batch.live_columns())
    index = {}
    for row in rows:
        for key in _keys_of(row["cells"], key_columns, batch):
            index.setdefault(key, row["id"])
        batch.rows[row["id"]] = row
    return index


def _keys_of(cells, key_columns, batch) -> list:
    """A row's identities: one per email when the key is a contacts column, else one tuple of texts."""
    if len(key_columns) == 1 and batch.columns[key_columns[0]].type == "contacts":
        return [(p["email"],) for p in cells.get(key_columns[0]) or [] if p.get("email")]
    parts = tuple(_norm(cells.get(c)) for c in key_columns)
    return [parts] if any(parts) else []


def _key(cells, key_columns, batch):
    found = _keys_of(cells, key_columns, batch)
    return found[0] if found else None


def _norm(value) -> str:
    return " ".join(str(value).split()).lower() if value not in (None, [], False) else ""


def _insert(batch, new_rows: dict, live, every: frozenset) -> None:
    """Write the waiting new rows (values were cleaned in _convert_mapped, before anything was written)."""
    waiting = list(new_rows.values())
    new_rows.clear()
    for (row_id, position, _), stored in zip(waiting, store.insert_rows(batch.conn, live, waiting, batch.actor["id"])):
        batch.rows[row_id] = {"id": row_id, "position": position, "cells": stored, "archived": False}
        for column_id, people in stored.items():
            if batch.columns[column_id].type == "contacts" and people:
                batch.pending_links.extend((row_id, person) for person in people)  # linked in bulk before finish
        batch.record("add_row", row_id, None, None, {"position": position, "cells": stored})
        batch.touched[row_id] = every
    if len(batch.pending_links) >= INSERT_CHUNK:
        _link(batch)


def _link(batch) -> None:
    """Link the waiting new contacts to the classic CRM, a chunk at a time: link_new looks up what
    earlier chunks created in the database (the same transaction), so chunks match as one call
    would, and the audit and interaction entries of 100,000 contacts are never held at once."""
    if batch.pending_links:
        links.link_new(batch, batch.pending_links)
        batch.pending_links = []


def _update(batch, row_id, cells, where) -> bool:
    before = len(batch.log)
    row = batch.rows[row_id]
    ordered = sorted(cells.items(), key=lambda item: batch.columns[item[0]].type == "contacts")
    for column_id, value in ordered:
        if batch.columns[column_id].type == "contacts":
            value = _merge_people(row["cells"].get(column_id) or [], value or [])
        if not _same(batch.columns[column_id], row["cells"].get(column_id), value):
            batch.set_cell(row_id, column_id, value, where, conflict_check=False)
    return len(batch.log) > before


def _same(column, stored, value) -> bool:
    """Blank is blank (an empty multi select is stored as no value), and a stored person without a name reads back as ""."""
    if col.is_blank(stored) and col.is_blank(value):
        return True
    if column.type == "contacts":
        shown = lambda people: [{k: p.get(k) or None for k in ("id", *col.CONTACT_FIELDS)} for p in people or []]  # noqa: E731
        return shown(stored) == shown(value)
    return False


def _merge_people(current, incoming) -> list:
    """Incoming people keep the id, phone and title of the stored person with the same email (or name)."""
    merged = []
    for person in incoming:
        match = next((p for p in current if (person.get("email") and p.get("email") == person["email"])
                      or (not person.get("email") and p.get("name") == person.get("name"))), None)
        if match:
            merged.append({**match, "name": person.get("name") or match.get("name"), "email": person.get("email") or match.get("email")})
        else:
            merged.append({"name": person.get("name"), "email": person.get("email")})
    return merged
