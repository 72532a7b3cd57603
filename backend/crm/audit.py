"""The audit trail: every mutation writes a row in the same transaction.

`record` takes the connection the mutation used, so the entry commits or rolls
back with it. Changes are a field-level diff {field: [before, after]}; secrets
(password hashes, tokens) are never recorded, only that they changed.
"""
import json

from .clock import new_id, now_iso

REDACTED = "[redacted]"
SECRET_FIELDS = {"password_hash", "password", "token", "token_hash", "secret"}


def diff(before: dict, after: dict, fields=None) -> dict:
    """{field: [old, new]} for every field whose value differs."""
    before, after = before or {}, after or {}
    names = fields or sorted(set(before) | set(after))
    changes = {}
    for name in names:
        old, new = before.get(name), after.get(name)
        if old != new:
            changes[name] = [REDACTED, REDACTED] if name in SECRET_FIELDS else [old, new]
    return changes


def record(conn, req, entity_type: str, entity_id, action: str, changes=None, actor=None) -> None:
    """Append one audit entry. `req` supplies actor, request id and ip (None for system work)."""
    actor = actor or (req.actor if req is not None else {"id": None, "kind": "system"})
    conn.execute(
        "INSERT INTO audit_log (id, at, actor_id, actor_kind, entity_type, entity_id, action, changes, request_id, ip)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            new_id(), now_iso(), actor["id"], actor["kind"], entity_type, entity_id, action,
            json.dumps(changes or {}, default=str), getattr(req, "request_id", None), getattr(req, "ip", None),
        ),
    )


def record_many(conn, req, entity_type: str, entries, action: str) -> None:
    """One audit row per (entity id, changes) pair, in one statement (bulk imports)."""
    actor = req.actor if req is not None else {"id": None, "kind": "system"}
    at = now_iso()
    conn.executemany(
        "INSERT INTO audit_log (id, at, actor_id, actor_kind, entity_type, entity_id, action, changes, request_id, ip)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(new_id(), at, actor["id"], actor["kind"], entity_type, entity_id, action, json.dumps(changes, default=str),
          getattr(req, "request_id", None), getattr(req, "ip", None)) for entity_id, changes in entries])


def query(conn, *, entity_type=None, entity_id=None, actor_id=None, since=None, until=None, action=None, limit=50, offset=0):
    clauses, params = [], []
    for column, value in (("entity_type", entity_type), ("entity_id", entity_id), ("actor_id", actor_id), ("action", action)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if since:
        clauses.append("at >= ?")
        params.append(since)
    if until:
        clauses.append("at < ?")
        params.append(until)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    total = conn.execute(f"SELECT count(*) AS n FROM audit_log {where}", params).fetchone()["n"]
    entries = conn.execute(
        f"SELECT * FROM audit_log {where} ORDER BY at DESC, rowid DESC LIMIT ? OFFSET ?", (*params, limit, offset)
    ).fetchall()
    for entry in entries:
        entry["changes"] = json.loads(entry["changes"])
    return entries, total
