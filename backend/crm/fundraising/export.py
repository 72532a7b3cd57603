"""The grid out: JSON or CSV (through a view), the relational summary, the admin activity feed."""
import json
from decimal import Decimal

from .. import csvio
from ..errors import Invalid
from ..http.responses import Response, json_response
from . import grid, store, views


def render(value, column) -> str:
    """A cell as spreadsheet text (what an export writes and the importer reads back)."""
    if column.type == "relationship":
        return relationship_text(value)
    if value is None or value == [] or isinstance(value, dict):
        return "#ERROR" if isinstance(value, dict) else ""
    if column.type == "checkbox":
        return "checked" if value else ""
    if column.type == "contacts":
        return ", ".join(_item(f"{p.get('name') or ''} <{p['email']}>".strip() if p.get("email") else (p.get("name") or ""))
                         for p in value)
    if isinstance(value, list):
        return ", ".join(_item(v) for v in value)
    if isinstance(value, float):  # plain digits as Airtable writes them, never 1e-05 (the importer reads no exponents)
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    return str(value)


def renderer(column):
    """render(·, column) as a function of the value alone, the column's type decided once (an export
    of 100,000 rows renders 4,000,000 cells)."""
    if column.type in ("relationship", "checkbox", "contacts"):
        return lambda value: render(value, column)

    def plain(value):
        if value is None or value == [] or isinstance(value, dict):
            return "#ERROR" if isinstance(value, dict) else ""
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return ", ".join(_item(v) for v in value)
        if isinstance(value, float):
            return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
        return str(value)
    return plain


def relationship_text(value) -> str:
    """A Relationship cell as text: its level and last-contact date ("3 2026-11-30"), which sort as
    the grid sorts them (level, then date); "" when no contact is known. Computed, so an import
    never reads it back (the importer refuses to map a file column onto a computed field)."""
    if not isinstance(value, dict):
        return ""
    return " ".join(str(part) for part in (value.get("level", 0), value.get("last_contact")) if part is not None)


def _item(text: str) -> str:
    """One item of a list cell, quoted (its quotes doubled) when it holds a comma or starts with a quote, as the importer reads it."""
    return '"' + text.replace('"', '""') + '"' if "," in text or text.startswith('"') else text


def export(req):
    fmt = req.query.get("format", "json")
    if fmt not in ("json", "csv"):
        raise Invalid({"format": "must be json or csv"})
    columns = store.load_columns(req.db)
    if req.query.get("view_id"):
        config = views.get(req.db, req.user, req.query["view_id"])["config"]
        hidden = set(config.get("hidden") or [])
        order = {c: i for i, c in enumerate(config.get("order") or [])}
        columns = sorted((c for c in columns if c.id not in hidden), key=lambda c: (order.get(c.id, len(order)), c.position))
    snap, _, all_rows = grid.matching_rows(req, req.query)
    if fmt == "json":
        return _json_export(snap, columns, all_rows)
    cells = [(c.id, renderer(c)) for c in columns]
    body = csvio.write([c.name for c in columns], ([show(r["cells"].get(column_id)) for column_id, show in cells]
                                                    for r in all_rows))
    return Response(200, body.encode("utf-8"), "text/csv; charset=utf-8",
                    {"Content-Disposition": 'attachment; filename="fundraising.csv"'})


def _json_export(snap, columns, rows) -> Response:
    """{data: {columns, rows, version}}, the rows from the snapshot's kept JSON (at 100,000 rows,
    encoding them again as one document took seconds and twice the memory)."""
    head = json_response({"data": {"columns": [c.as_api() for c in columns]}}).body[:-2]  # without the closing }}
    body = b"".join([head, b',"rows":', *snap.rows_parts(rows), b',"version":', str(snap.version).encode(), b"}}"])
    return Response(200, body, "application/json")


def summary(conn) -> dict:
    one = lambda sql, *p: conn.execute(sql, p).fetchone()["n"]  # noqa: E731
    # Archived investors' commitments do not count, here or in the commitments total.
    funds = conn.execute(
        "SELECT f.id, f.name, f.vintage, f.target, count(live.amount) AS commitments, coalesce(sum(live.amount), 0) AS committed "
        "FROM fundraising_funds f LEFT JOIN (SELECT c.fund_id, c.amount FROM fundraising_commitments c "
        "JOIN fundraising_investors i ON i.id = c.investor_id WHERE i.archived_at IS NULL) live ON live.fund_id = f.id "
        "WHERE f.deleted_at IS NULL GROUP BY f.id ORDER BY f.name").fetchall()
    return {
        "investors": one("SELECT count(*) AS n FROM fundraising_investors WHERE archived_at IS NULL"),
        "archived_investors": one("SELECT count(*) AS n FROM fundraising_investors WHERE archived_at IS NOT NULL"),
        "columns": one("SELECT count(*) AS n FROM fundraising_columns WHERE deleted_at IS NULL"),
        "contacts": one("SELECT count(*) AS n FROM fundraising_contacts WHERE deleted_at IS NULL"),
        "linked_contacts": one("SELECT count(*) AS n FROM fundraising_contacts WHERE deleted_at IS NULL AND contact_id IS NOT NULL"),
        "commitments": one("SELECT count(*) AS n FROM fundraising_commitments c JOIN fundraising_investors i "
                           "ON i.id = c.investor_id WHERE i.archived_at IS NULL"),
        "views": one("SELECT count(*) AS n FROM fundraising_views WHERE deleted_at IS NULL"),
        "lists": {r["list_name"]: r["n"] for r in conn.execute(
            "SELECT list_name, count(*) AS n FROM fundraising_list_memberships GROUP BY list_name")},
        "funds": funds,
        "version": store.version(conn)["version"],
    }


def activity(conn, limit, offset) -> tuple:
    """(audit entries, automation runs and grid versions (one entry per version), newest first; how many in all)."""
    total = conn.execute("SELECT (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM fundraising_automation_runs) "
                         "+ (SELECT count(DISTINCT version) FROM fundraising_ops) AS n").fetchone()["n"]
    feed = conn.execute(
        "SELECT * FROM ("
        " SELECT 'audit' AS source, at, actor_id, action AS what, entity_type || ':' || coalesce(entity_id, '') AS subject, changes AS detail FROM audit_log"
        " UNION ALL SELECT 'automation', at, NULL, 'rule ran', rule_id, changes FROM fundraising_automation_runs"
        " UNION ALL SELECT 'grid', max(at), max(actor_id), 'version ' || version, count(*) || ' change(s)', group_concat(DISTINCT kind)"
        "   FROM fundraising_ops GROUP BY version"
        ") ORDER BY at DESC LIMIT ? OFFSET ?", (limit, offset)).fetchall()
    for entry in feed:
        if entry["source"] != "grid" and entry["detail"]:
            entry["detail"] = json.loads(entry["detail"])
    return feed, total
