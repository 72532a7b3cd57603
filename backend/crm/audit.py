"""The audit trail: every mutation writes a row in the same transaction.

`record` takes the connection the mutation used, so the entry commits or rolls
back with it. Changes are a field-level diff {field: [before, after]}; secrets
(password hashes, tokens) are never recorded, only that they changed.

A mutation of a record that bears a person or an organization (crm.interactions.AUDITED) also
appends an entry to the interaction log, in the same transaction; `refs` names what else it
touched (the contact of an opportunity, the investor of a proposal).
"""
import json

from . import interactions
from .clock import new_id, now_iso

REDACTED = "[redacted]"
_ENCODE = json.JSONEncoder(default=str).encode  # json.dumps(x, default=str), without a new encoder per call (bulk writes)
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


def record(conn, req, entity_type: str, entity_id, action: str, changes=None, actor=None, refs=()) -> None:
    """Append one audit entry (and its interaction, crm.interactions.from_audit). `req` supplies
    actor, request id and ip (None for system work); `refs` the other records it touched."""
    actor = actor or (req.actor if req is not None else {"id": None, "kind": "system"})
    audit_id = new_id()
    conn.execute(
        "INSERT INTO audit_log (id, at, actor_id, actor_kind, entity_type, entity_id, action, changes, request_id, ip)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            audit_id, now_iso(), actor["id"], actor["kind"], entity_type, entity_id, action,
            json.dumps(changes or {}, default=str), getattr(req, "request_id", None), getattr(req, "ip", None),
        ),
    )
    interactions.from_audit(conn, actor, entity_type, entity_id, action, changes, refs, audit_id)


def record_many(conn, req, entity_type: str, entries, action: str, refs=None) -> None:
    """One audit row per (entity id, changes) pair, in one statement (bulk imports), and their
    interactions in one more per table; `refs`, when given, the other records each touched."""
    actor = req.actor if req is not None else {"id": None, "kind": "system"}
    at = now_iso()
    entries = list(entries)
    ids = [new_id() for _ in entries]
    conn.executemany(
        "INSERT INTO audit_log (id, at, actor_id, actor_kind, entity_type, entity_id, action, changes, request_id, ip)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(audit_id, at, actor["id"], actor["kind"], entity_type, entity_id, action, _ENCODE(changes),
          getattr(req, "request_id", None), getattr(req, "ip", None)) for audit_id, (entity_id, changes) in zip(ids, entries)])
    interactions.from_audit_many(conn, actor, entity_type, entries, action, refs, ids)


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
