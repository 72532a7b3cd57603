"""Backup endpoints (admins only), the backup policy, and the full export."""
import json

from .. import audit, settings
from ..db import transaction
from ..errors import Invalid
from ..http.responses import Response
from ..results import Created, Page
from ..shapes import BOOLEAN, INTEGER, OBJECT, STRING, array, maybe, obj
from ..validation import Body, Field, page_params
from . import service

POLICY_KEY = "backup_policy"
TAKE = Body(Field("kind", "enum", choices=service.KINDS, doc="full (default) or grid"))
BY_ID = Body(Field("backup_id", required=True, max_length=64))
VERIFY = Body(Field("backup_id", required=True, max_length=64),
              Field("deep", "boolean", doc="true: a full backup gets PRAGMA integrity_check (every index against its table), not quick_check"))
POLICY = Body(
    Field("enabled", "boolean"),
    Field("interval_hours", "integer", min=1, max=24 * 7),
    Field("keep", "integer", min=1, max=1000, doc="automatic backups kept (newest first)"),
    Field("daily_days", "integer", min=0, max=365, doc="also keep one a day for this many days"),
    Field("kinds", "array", items="string", doc='which kinds to take: ["full", "grid"]'),
)

# What these routes answer (the OpenAPI document shows it).
BACKUP = obj(id=STRING, kind=STRING, reason=STRING, created_at=STRING, row_counts=OBJECT, verified_ok=maybe(BOOLEAN))
VERIFIED = obj(id=STRING, ok=BOOLEAN)
PREVIEW = obj(kind=STRING, backup=BACKUP)
RESTORED = obj(restored=BACKUP, pre_restore_backup=BACKUP)
POLICY_SHOWN = obj(enabled=BOOLEAN, interval_hours=INTEGER, keep=INTEGER, daily_days=INTEGER, kinds=array(STRING))
EXPORT = obj(format=STRING, tables=OBJECT)


def read_policy(conn) -> dict:
    return {**service.policy_defaults(), **settings.get(conn, POLICY_KEY, {}, kind=dict)}


def list_backups(req):
    """Every backup, newest first, with its verification result."""
    limit, offset = page_params(req.query)
    found, total = service.list_all(req.db, limit, offset)
    return Page(found, total, limit, offset)


def take_backup(req):
    """Take a backup now: `full` (the whole database) or `grid` (a JSON snapshot of the grid)."""
    data = req.validated() if req.body else {}
    return Created(service.take(req.config, req.db, data.get("kind", "full"), "manual", req.user["id"], req))


def verify_backup(req):
    """Check a backup: SHA-256 matches, quick_check (or with `deep` integrity_check) is ok (full), row counts match."""
    data = req.validated()
    result = service.verify(req.config, req.db, data["backup_id"], deep=bool(data.get("deep")))
    with transaction(req.db):
        audit.record(req.db, req, "backup", data["backup_id"], "verify", {"ok": [None, result["ok"]]})
    return result


def restore_preview(req):
    """What restoring a backup would change: rows added, removed and changed, per table or per grid row."""
    return service.preview(req.config, req.db, req.validated()["backup_id"])


def restore_backup(req):
    """Restore a verified backup (a pre_restore backup is taken first). Other requests wait while it runs."""
    result = service.restore(req.app, req, req.validated()["backup_id"])
    req.app.presence.notify()
    return result


def get_policy(req):
    """The automatic backup policy."""
    return read_policy(req.db)


def update_policy(req):
    """Change the automatic backup policy (the scheduler reads it every minute)."""
    data = req.validated(partial=True)
    if "kinds" in data and (not data["kinds"] or set(data["kinds"]) - set(service.KINDS)):
        raise Invalid({"kinds": "must list full and/or grid"})
    with transaction(req.db):
        before = read_policy(req.db)
        policy = {**before, **data}
        settings.put(req.db, POLICY_KEY, policy, req.user["id"])
        audit.record(req.db, req, "setting", POLICY_KEY, "update", audit.diff(before, policy))
    return policy


def full_export(req):
    """Everything, as one JSON document, for leaving the product (password hashes and tokens left out)."""
    return Response(200, content_type="application/json", stream=_export_stream(req.app),
                    headers={"Content-Disposition": 'attachment; filename="venture-crm-export.json"'})


SECRET_COLUMNS = {"users": {"password_hash", "token_version"}}
SKIPPED_TABLES = {"user_invites", "revoked_tokens", "schema_migrations", "sqlite_sequence"}


def _export_stream(app):
    """Streamed table by table, so a large database never sits in memory whole."""
    conn = app.pool.acquire()
    try:
        conn.execute("BEGIN")  # one snapshot for the whole document
        tables = [r["name"] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%fts%' "
                                                   "ORDER BY name") if r["name"] not in SKIPPED_TABLES]
        yield b'{"format":"venture-crm-export/1","tables":{'
        for n, table in enumerate(tables):
            yield (("," if n else "") + json.dumps(table) + ":[").encode()
            hidden = SECRET_COLUMNS.get(table, set())
            for i, row in enumerate(conn.execute(f"SELECT * FROM {table}")):
                yield (("," if i else "") + json.dumps({k: v for k, v in row.items() if k not in hidden})).encode()
            yield b"]"
        yield b"}}"
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
        app.pool.release(conn)
