"""Grid storage: where each kind of cell lives, and how rows are read and written.

- A well-known field (`Column.field_key`) is a column of fundraising_investors.
- A fund cell is a row of fundraising_commitments (deleted when cleared).
- A contacts cell is rows of fundraising_contacts (soft-deleted when removed).
- Any other custom cell is a key of fundraising_investors.fields (JSON).
- Formula results are cached in fundraising_investors.computed.
- Relationship cells are stored nowhere here: each read asks crm.hooks.relationship_levels
  (crm.ingest's strength scores), and a refresh that changes them moves the grid's version
  (`relationships_changed`), so the live snapshot is re-read.
Reads assemble rows from these in a handful of queries, never one per row.
"""
import json

from .. import hooks
from ..clock import new_id, now_iso
from .columns import BOOL_KEYS, Column

INVESTOR_KEYS = ("name", "organization", "lead_source", "owner", "status", "notes", "graveyard", "follow_up", "longshot")


def load_columns(conn, include_deleted=False) -> list:
    funds = {f["column_id"]: f for f in conn.execute(
        "SELECT id, column_id, name, vintage, target, close_date FROM fundraising_funds")}
    where = "" if include_deleted else "WHERE deleted_at IS NULL"
    columns = []
    for row in conn.execute(f"SELECT * FROM fundraising_columns {where} ORDER BY position, id"):
        fund = funds.get(row["id"])
        if fund:
            fund = {k: fund[k] for k in ("id", "name", "vintage", "target", "close_date")}
        columns.append(Column.from_row(row, fund))
    return columns


def version(conn) -> dict:
    return conn.execute("SELECT version, updated_at, updated_by FROM fundraising_state WHERE id = 1").fetchone()


def _rows_sql(ids, include_archived, only_archived=False):
    clauses, params = [], []
    if only_archived:
        clauses.append("i.archived_at IS NOT NULL")
    elif not include_archived:
        clauses.append("i.archived_at IS NULL")
    if ids is not None:
        clauses.append(f"i.id IN ({','.join('?' for _ in ids)})")
        params.extend(ids)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    return where, params


# Where load_rows finds the stamp columns' values in its investor query.
_STAMPS = {"created_time": 4, "last_modified_time": 5, "last_modified_by": 8}
_PERSON = ("id", "name", "email", "phone", "title", "contact_id")


def load_rows(conn, columns, ids=None, include_archived=False, only_archived=False) -> list:
    """Rows in grid order: {id, position, cells: {column_id: value}, created_at, updated_at, updated_by, archived}."""
    if ids is not None and not ids:
        return []
    where, params = _rows_sql(ids, include_archived, only_archived)
    # Plain tuples and per-column work decided once, not per row: the whole grid is read for the
    # state, every view and every whole-grid save (10,000 rows x 40 columns).
    cursor = conn.cursor()
    cursor.row_factory = None
    investors = cursor.execute(
        "SELECT i.id, i.position, i.fields, i.computed, i.created_at, i.updated_at, i.updated_by, i.archived_at, "
        f"u.username, {', '.join('i.' + key for key in INVESTOR_KEYS)} FROM fundraising_investors i "
        f"LEFT JOIN users u ON u.id = i.updated_by {where}", params).fetchall()
    investors.sort(key=lambda inv: (inv[1], inv[0]))  # ORDER BY position, id: cheaper here than through the index
    # Only the asked-for columns: a soft-deleted column keeps its data (fields, commitments,
    # contacts, computed) in the database, but its cells must not reappear in rows.
    wanted = {c.id: c.id for c in columns}  # and each column's own id string, to key cells with (see below)
    if ids is None and not only_archived:  # the whole grid: no join to pick rows; archived rows' are never looked up
        where, params = "", []
    commitments, contacts = _commitments(cursor, where, params, wanted), _contacts(cursor, where, params, wanted)
    by_key = {c.field_key: c for c in columns if c.field_key}
    keyed = [(9 + n, by_key[key].id, key in BOOL_KEYS) for n, key in enumerate(INVESTOR_KEYS) if key in by_key]
    stamped = [(c.id, _STAMPS[c.type]) for c in columns if c.type in _STAMPS]
    related = [c.id for c in columns if c.type == "relationship"]
    warmth = relationship_values(conn, [inv[0] for inv in investors]) if related else {}
    # Memory at 100,000 rows: decoded one by one, every row's JSON gives it its own copy of each
    # 36-character column id, and SQLite gives each row its own copy of each status or owner. The
    # JSON of many rows is decoded in one call (the decoder shares the keys it has seen within one
    # document, and one call costs far less than thousands), and repeated choices share one string:
    # a third less memory per row, and faster (docs/PERFORMANCE.md "Grid at 100,000 investors").
    shared = {}
    repeated = [(index, column_id) for index, column_id, boolean in keyed if not boolean and column_id in _repeated_ids(columns)]
    chosen = [c.id for c in columns if c.type == "single_select" and not c.field_key]
    known = wanted.keys()
    rows = []
    for inv, cells, computed in _decoded(investors):
        if computed:
            cells.update(computed)
        if not known >= cells.keys():
            cells = {k: v for k, v in cells.items() if k in known}
        for index, column_id, boolean in keyed:
            cells[column_id] = bool(inv[index]) if boolean else inv[index]
        for index, column_id in repeated:
            value = inv[index]
            if value is not None:
                cells[column_id] = shared.setdefault(value, value)
        for column_id in chosen:
            value = cells.get(column_id)
            if value.__class__ is str:
                cells[column_id] = shared.setdefault(value, value)
        found = commitments.get(inv[0])
        if found:
            cells.update(found)
        found = contacts.get(inv[0])
        if found:
            cells.update(found)
        for column_id, index in stamped:
            cells[column_id] = inv[index]
        for column_id in related:
            cells[column_id] = warmth.get(inv[0])
        rows.append({"id": inv[0], "position": inv[1], "cells": cells, "created_at": inv[4], "updated_at": inv[5],
                     "updated_by": inv[6] if inv[6] is None else shared.setdefault(inv[6], inv[6]), "archived": inv[7] is not None})
    return rows


def _decoded(investors, chunk=5000):
    """(investor, its fields, its computed cells) for each investor row, the JSON decoded per chunk of rows."""
    loads = json.loads
    for start in range(0, len(investors), chunk):
        part = investors[start:start + chunk]
        fields = loads("[" + ",".join(inv[2] for inv in part) + "]")
        computed = loads("[" + ",".join(inv[3] for inv in part) + "]")
        yield from zip(part, fields, computed)


def _repeated_ids(columns) -> set:
    """The well-known text fields whose values repeat from row to row (a handful of choices)."""
    return {c.id for c in columns if c.field_key in ("status", "owner", "lead_source", "organization")}


def always_set(columns) -> set:
    """The ids of the columns whose cell load_rows sets in every row, null or not (the others' cells
    are left out when empty): the compact page of rows (compact.py) spends nothing on saying so."""
    return {c.id for c in columns if c.field_key in INVESTOR_KEYS or c.type in _STAMPS or c.type == "relationship"}


def _commitments(cursor, where, params, wanted) -> dict:
    found = {}
    for investor_id, column_id, amount in cursor.execute(
            "SELECT c.investor_id, f.column_id, c.amount FROM fundraising_commitments c JOIN fundraising_funds f ON f.id = c.fund_id "
            f"{'JOIN fundraising_investors i ON i.id = c.investor_id ' + where if where else ''}", params):
        if column_id in wanted:
            found.setdefault(investor_id, {})[wanted[column_id]] = amount
    return found


def _contacts(cursor, where, params, wanted) -> dict:
    found = {}
    for r in cursor.execute(
            "SELECT c.investor_id, c.column_id, c.id, c.name, c.email, c.phone, c.title, c.contact_id FROM fundraising_contacts c "
            f"{'JOIN fundraising_investors i ON i.id = c.investor_id ' + where + ' AND' if where else 'WHERE'} c.deleted_at IS NULL "
            "ORDER BY c.investor_id, c.column_id, c.position", params):
        if r[1] in wanted:
            found.setdefault(r[0], {}).setdefault(wanted[r[1]], []).append(dict(zip(_PERSON, r[2:])))
    return found


def relationship_values(conn, investor_ids) -> dict:
    """{investor id: its Relationship cell} from the provider crm.ingest registers (crm.hooks);
    investors it knows nothing of, and every investor when none is registered, are left out."""
    return hooks.relationship_levels.ask(conn, investor_ids, default={})


RELATIONSHIPS_OP = "relationships"  # a version whose one op says: Relationship cells changed


def relationships_changed(conn):
    """Strength scores changed: when the grid has a Relationship column, move its version on with
    one `relationships` op (no row, no actor), so live snapshots re-read those cells and open grids
    reload (their event stream sends the op). Inside the caller's transaction. The new version, or
    None when no column shows them."""
    if not conn.execute("SELECT 1 FROM fundraising_columns WHERE type = 'relationship' AND deleted_at IS NULL").fetchone():
        return None
    at = now_iso()
    version = conn.execute("UPDATE fundraising_state SET version = version + 1, updated_at = ? WHERE id = 1 RETURNING version",
                           (at,)).fetchone()["version"]
    conn.execute("INSERT INTO fundraising_ops (version, kind, actor_kind, at) VALUES (?, ?, 'system', ?)",
                 (version, RELATIONSHIPS_OP, at))
    return version


def row_exists(conn, row_id) -> dict:
    return conn.execute("SELECT id, archived_at, position FROM fundraising_investors WHERE id = ?", (row_id,)).fetchone()


def read_cell(conn, row_id, column: Column):
    """One cell's stored value (for history's 'before' and for conflict reports)."""
    return load_rows(conn, [column], [row_id], include_archived=True)[0]["cells"].get(column.id) \
        if row_exists(conn, row_id) else None


def insert_row(conn, row_id, position, user_id) -> None:
    now = now_iso()
    conn.execute(
        "INSERT INTO fundraising_investors (id, position, created_at, created_by, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)",
        (row_id, position, now, user_id, now, user_id))


def touch_row(conn, row_id, user_id) -> None:
    conn.execute("UPDATE fundraising_investors SET updated_at = ?, updated_by = ? WHERE id = ?", (now_iso(), user_id, row_id))


def write_cell(conn, row_id, column: Column, value, user_id, touch=True):
    """Store a cleaned value in the cell's home. Returns the stored value (contacts gain ids).
    `touch=False`: the caller sets the row's updated_at itself (cellwrites.py)."""
    if column.field_key in INVESTOR_KEYS:
        stored = int(value) if column.field_key in BOOL_KEYS else value
        conn.execute(f"UPDATE fundraising_investors SET {column.field_key} = ? WHERE id = ?", (stored, row_id))
    elif column.type == "fund":
        _write_commitment(conn, row_id, column, value, user_id)
    elif column.type == "contacts":
        value = _write_contacts(conn, row_id, column, value)
    elif value is None or value == [] or value is False:
        conn.execute("UPDATE fundraising_investors SET fields = json_remove(fields, ?) WHERE id = ?", (_path(column.id), row_id))
    else:
        conn.execute("UPDATE fundraising_investors SET fields = json_set(fields, ?, json(?)) WHERE id = ?",
                     (_path(column.id), json.dumps(value), row_id))
    if touch:
        touch_row(conn, row_id, user_id)
    return value


def _path(column_id: str) -> str:
    return f'$."{column_id}"'


def _write_commitment(conn, row_id, column, amount, user_id) -> None:
    fund_id = column.fund["id"]
    if amount is None:
        conn.execute("DELETE FROM fundraising_commitments WHERE investor_id = ? AND fund_id = ?", (row_id, fund_id))
        return
    conn.execute(
        "INSERT INTO fundraising_commitments (id, investor_id, fund_id, amount, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(investor_id, fund_id) DO UPDATE SET amount = excluded.amount, updated_at = excluded.updated_at, "
        "updated_by = excluded.updated_by", (new_id(), row_id, fund_id, amount, now_iso(), user_id))


def _write_contacts(conn, row_id, column, people: list) -> list:
    """Make the cell hold exactly `people`: update by id, add new ones, soft-delete the rest."""
    now = now_iso()
    existing = {r["id"]: r for r in conn.execute(
        "SELECT * FROM fundraising_contacts WHERE investor_id = ? AND column_id = ? AND deleted_at IS NULL", (row_id, column.id))}
    kept = []
    for position, person in enumerate(people):
        person = dict(person)
        if person.get("id") in existing:
            conn.execute("UPDATE fundraising_contacts SET position = ?, name = ?, email = ?, phone = ?, title = ?, updated_at = ? "
                         "WHERE id = ?", (position, person["name"] or "", person["email"], person["phone"], person["title"], now, person["id"]))
            person["contact_id"] = existing[person["id"]]["contact_id"]
        else:
            person["id"] = new_id()
            person["contact_id"] = None
            conn.execute("INSERT INTO fundraising_contacts (id, investor_id, column_id, position, name, email, phone, title, "
                         "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (person["id"], row_id, column.id, position, person["name"] or "", person["email"], person["phone"],
                          person["title"], now, now))
        kept.append(person)
    for gone in set(existing) - {p["id"] for p in kept}:
        conn.execute("UPDATE fundraising_contacts SET deleted_at = ? WHERE id = ?", (now, gone))
    return kept


def set_computed(conn, results: dict) -> None:
    """Merge formula results into each row's cache: {row id: {column id: value}}."""
    conn.executemany("UPDATE fundraising_investors SET computed = json_patch(computed, ?) WHERE id = ?",
                     [(json.dumps(values), row_id) for row_id, values in results.items() if values])


def insert_rows(conn, columns, rows: list, user_id) -> list:
    """Insert new rows with all their cells: one statement per table and shape, not per row (imports add thousands).

    `rows` holds (row id, position, cells) with cells cleaned, by column id. Returns each row's
    stored cells, in order (contacts with their new ids).
    """
    now = now_iso()
    by_id = {c.id: c for c in columns}
    shapes, commitments, people, stored_rows = {}, [], [], []
    for row_id, position, cells in rows:
        keys, custom = {}, {}
        stored = dict(cells)
        for column_id, value in cells.items():
            column = by_id[column_id]
            if column.field_key in INVESTOR_KEYS:
                keys[column.field_key] = int(value) if column.field_key in BOOL_KEYS else value
            elif column.type == "fund":
                if value is not None:
                    commitments.append((new_id(), row_id, column.fund["id"], value, now, user_id))
            elif column.type == "contacts":
                if not value:
                    continue
                stored[column_id] = [{**person, "id": new_id(), "contact_id": None} for person in value]
                people.extend((person["id"], row_id, column_id, n, person["name"] or "", person["email"], person["phone"],
                               person["title"], now, now) for n, person in enumerate(stored[column_id]))
            elif value is not None and value != [] and value is not False:  # 0 is a value
                custom[column_id] = value
        shapes.setdefault(tuple(keys), []).append((row_id, position, *keys.values(), json.dumps(custom), now, user_id, now, user_id))
        stored_rows.append(stored)
    for keys, values in shapes.items():
        names = ["id", "position", *keys, "fields", "created_at", "created_by", "updated_at", "updated_by"]
        conn.executemany(f"INSERT INTO fundraising_investors ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})", values)
    conn.executemany("INSERT INTO fundraising_commitments (id, investor_id, fund_id, amount, updated_at, updated_by) "
                     "VALUES (?, ?, ?, ?, ?, ?)", commitments)
    conn.executemany("INSERT INTO fundraising_contacts (id, investor_id, column_id, position, name, email, phone, title, "
                     "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", people)
    return stored_rows


def contact_addresses(conn) -> list:
    """(address, grid contact id, investor id, classic contact id, investor's organization id) for every
    live grid contact with an email, on investors that are not archived."""
    return [(r["email"].lower(), r["id"], r["investor_id"], r["contact_id"], r["organization_id"]) for r in conn.execute(
        "SELECT c.id, c.email, c.investor_id, c.contact_id, i.organization_id FROM fundraising_contacts c"
        " JOIN fundraising_investors i ON i.id = c.investor_id"
        " WHERE c.deleted_at IS NULL AND c.email IS NOT NULL AND c.email != '' AND i.archived_at IS NULL")]


def contact_investors(conn) -> list:
    """(grid contact id, investor id) of every live grid contact on an investor that is not archived."""
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: tens of thousands of contacts
    return cursor.execute(
        "SELECT c.id, c.investor_id FROM fundraising_contacts c JOIN fundraising_investors i ON i.id = c.investor_id"
        " WHERE c.deleted_at IS NULL AND i.archived_at IS NULL").fetchall()


def investors_with_open_interest(conn, today: str, contact_ids=(), organization_ids=()) -> list:
    """Live investors outside the graveyard with something still open: a commitment to a fund
    that has not closed by `today` (YYYY-MM-DD), or an open classic opportunity of their
    organization or one of their contacts (the ids given). id, name, committed (the open sum)."""
    found = conn.execute(
        "SELECT i.id, i.name, i.organization_id, (SELECT sum(c.amount) FROM fundraising_commitments c"
        "   JOIN fundraising_funds f ON f.id = c.fund_id AND f.deleted_at IS NULL"
        "   AND (f.close_date IS NULL OR f.close_date = '' OR f.close_date >= ?)"
        "   WHERE c.investor_id = i.id AND c.amount > 0) AS committed"
        " FROM fundraising_investors i WHERE i.archived_at IS NULL AND i.graveyard = 0", (today,)).fetchall()
    people = {}
    if contact_ids:
        for r in conn.execute("SELECT investor_id, contact_id FROM fundraising_contacts"
                              " WHERE deleted_at IS NULL AND contact_id IS NOT NULL"):
            if r["contact_id"] in contact_ids:
                people[r["investor_id"]] = True
    return [{"id": r["id"], "name": r["name"], "committed": r["committed"] or 0}
            for r in found if r["committed"] or r["organization_id"] in organization_ids or r["id"] in people]


def investors_of_contact(conn, contact_id) -> list:
    """{id, name} of the live investors whose contacts include this classic contact, by name."""
    return [{"id": r["id"], "name": r["name"]} for r in conn.execute(
        "SELECT DISTINCT i.id, i.name FROM fundraising_contacts c JOIN fundraising_investors i ON i.id = c.investor_id"
        " WHERE c.contact_id = ? AND c.deleted_at IS NULL AND i.archived_at IS NULL ORDER BY i.name COLLATE NOCASE, i.id",
        (contact_id,))]


def investors_of_organizations(conn) -> list:
    """(organization id, investor id) for live investors linked to a classic organization."""
    return [(r["organization_id"], r["id"]) for r in conn.execute(
        "SELECT id, organization_id FROM fundraising_investors WHERE organization_id IS NOT NULL AND archived_at IS NULL")]


def investor_names(conn, ids) -> dict:
    """{id: name} of these investors, archived and graveyard ones too (a record linked to one
    still names it); ids of no investor are left out."""
    ids, names = list(ids), {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        names.update((r["id"], r["name"]) for r in conn.execute(
            f"SELECT id, name FROM fundraising_investors WHERE id IN ({','.join('?' * len(chunk))})", chunk))
    return names


def pickable_investors(conn) -> dict:
    """{id: name} of the investors a filter may offer: live (not archived) and not in the graveyard."""
    return {r["id"]: r["name"] for r in conn.execute(
        "SELECT id, name FROM fundraising_investors WHERE archived_at IS NULL AND graveyard = 0")}


def notes_for_index(conn) -> list:
    """Every grid investor that is not archived and has Notes, as the search index reads them:
    id, name, organization, organization_id (the classic link), notes, updated_at."""
    return [dict(r) for r in conn.execute(
        "SELECT id, name, organization, organization_id, notes, updated_at FROM fundraising_investors"
        " WHERE archived_at IS NULL AND notes IS NOT NULL AND notes != '' ORDER BY id")]


def investors_for_resolution(conn) -> list:
    """Every grid investor that is not archived, as entity resolution reads it: id, name,
    organization (the text), organization_id (the classic link)."""
    return [dict(r) for r in conn.execute(
        "SELECT id, name, organization, organization_id FROM fundraising_investors WHERE archived_at IS NULL ORDER BY id")]


def contacts_for_resolution(conn) -> list:
    """Every live grid contact on an investor that is not archived: id, investor_id, name, email,
    contact_id (the classic link)."""
    return [dict(r) for r in conn.execute(
        "SELECT c.id, c.investor_id, c.name, c.email, c.contact_id FROM fundraising_contacts c"
        " JOIN fundraising_investors i ON i.id = c.investor_id"
        " WHERE c.deleted_at IS NULL AND i.archived_at IS NULL ORDER BY c.id")]


def grid_contact_names(conn, ids) -> dict:
    """{id: (name, email, investor_id)} of the grid contacts among `ids`, deleted ones too."""
    ids, found = list(ids), {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        found.update((r["id"], (r["name"], r["email"], r["investor_id"])) for r in conn.execute(
            f"SELECT id, name, email, investor_id FROM fundraising_contacts WHERE id IN ({','.join('?' * len(chunk))})",
            chunk))
    return found
# -- for redaction (crm.ingest.redact): names, phones and amounts of every row, archived ones too ------

def every_name(conn) -> dict:
    """{"investors": [(name, organization)], "contacts": [(name, phone)], "amounts": [commitment]}
    over every investor (archived and graveyard too) and every grid contact (removed ones too)."""
    return {
        "investors": [(r["name"], r["organization"]) for r in conn.execute(
            "SELECT name, organization FROM fundraising_investors")],
        "contacts": [(r["name"], r["phone"]) for r in conn.execute("SELECT name, phone FROM fundraising_contacts")],
        "amounts": [r["amount"] for r in conn.execute("SELECT amount FROM fundraising_commitments")],
    }


def names_mark(conn) -> tuple:
    """What changes whenever an investor, a grid contact or a commitment is added, edited or removed:
    each table's (row count, latest updated_at), so redaction knows when to read the names again."""
    return tuple(tuple(conn.execute(f"SELECT count(*), max(updated_at) FROM {table}").fetchone())
                 for table in ("fundraising_investors", "fundraising_contacts", "fundraising_commitments"))
