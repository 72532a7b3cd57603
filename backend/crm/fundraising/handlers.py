"""HTTP handlers of the fundraising grid. Each is thin: parse, call the domain module, answer."""
import json
import time

from .. import audit
from ..auth import users
from ..db import transaction
from ..errors import Invalid, NotFound
from ..http.responses import Response, json_response
from ..results import Created, Page
from ..shapes import ANY, BOOLEAN, INTEGER, OBJECT, STRING, array, maybe, obj
from ..validation import Body, Field, page_params, query_flag
from . import automations, comments, compact, export, formulas, grid, links_log, ops, save, store, views
from .filters import recalc_for
from .recalc import Recalc, field_units

VIEW = Body(
    Field("name", required=True, max_length=120),
    Field("shared", "boolean"),
    Field("locked", "boolean"),
    Field("config", "object", doc="filters, sorts, hidden, order, widths, frozen, group_by, row_height"),
)
HEARTBEAT = Body(
    Field("view_id", nullable=True, max_length=64),
    Field("cell", "object", nullable=True, doc="{row_id, column_id} selected, or null"),
    Field("editing", "boolean", doc="true while an editor is open on the cell (locks it for others)"),
    Field("tab", max_length=64, doc="the browser tab's own id: each tab is present on its own (one person, two tabs)"),
)
LEAVE = Body(Field("tab", max_length=64, doc="the tab that is closing, as its heartbeats named it"))
MENTIONS_READ = Body(Field("comment_ids", "array", doc="the mentions (by comment id) you have seen; absent: all of them"))
COMMENT = Body(Field("body", "text", required=True, max_length=20_000))
FORMULA_CHECK = Body(Field("formula", "text", required=True, max_length=formulas.LIMITS.max_length * 2),
                     Field("column_id", max_length=64, nullable=True, doc="the formula column being edited, if it exists"))
AUTOMATION = Body(
    Field("name", required=True, max_length=200),
    Field("trigger", "enum", required=True, choices=("row_changed", "daily")),
    Field("condition", "object", required=True, doc="a filter group, as in views"),
    Field("actions", "array", required=True, doc="[{type: keep_in_list|add_to_list|remove_from_list, list} | {type: set_cell, column_id, value}]"),
    Field("enabled", "boolean"),
)
LOG_COMMUNICATION = links_log.BODY

# What these routes answer (the OpenAPI document shows it).
ROW = obj(id=STRING, cells=OBJECT)
# GET /rows?shape=compact (compact.py): `data` holds one array per field, then one per column, each a value per row.
COMPACT_COLUMN = array()
ROW_SHAPES = compact.SHAPES
COMPACT_PAGE = {"shape": {"const": "compact"}, "fields": array(STRING), "columns": array(STRING), "nulls": array(INTEGER),
                "odd": array(array(INTEGER))}
# GET /rows?shape=ids: each row as its id; a grouped view adds the grouped column's value of each.
ROW_ID = STRING
IDS_PAGE = {"shape": {"const": "ids"}, "group_by": STRING, "group_values": array(), "optional": ("group_by", "group_values")}
GRID = obj(columns=array(obj(id=STRING, name=STRING, type=STRING)), rows=array(ROW), optional=("rows",))
VIEW_SHOWN = obj(id=STRING, name=STRING, shared=BOOLEAN, locked=BOOLEAN, config=OBJECT, owner_id=maybe(STRING))
STATE = obj(grid=GRID, views=array(VIEW_SHOWN), version=INTEGER, updated_at=maybe(STRING), updated_by=maybe(STRING))
APPLIED = obj(version=INTEGER, applied=INTEGER)
OP = obj(version=INTEGER, kind=STRING, row_id=maybe(STRING), column_id=maybe(STRING), before=ANY, after=ANY, at=STRING)
CHANGES = obj(version=INTEGER, reset=BOOLEAN, ops=array(OP))
CONTACT_ROW = obj(id=STRING, name=maybe(STRING))
ROW_DETAIL = obj(id=STRING, cells=OBJECT, contacts=array(OBJECT), commitments=array(OBJECT), communications=array(OBJECT))
PRESENT = obj(user_id=STRING, username=STRING, color=STRING)
LEFT = obj(left=BOOLEAN)
UNREAD = obj(unread=INTEGER)
HEARTBEAT_ANSWER = obj(you=PRESENT, others=array(PRESENT))
COMMENT_SHOWN = obj(id=STRING, body=STRING, author=STRING, created_at=STRING, mentions=array(obj(user_id=STRING, username=STRING)))
MENTION = obj(comment_id=STRING, row_id=STRING, row_name=maybe(STRING), body=STRING, author=STRING, created_at=STRING,
              read=BOOLEAN)
FORMULA_CHECKED = obj(ok=BOOLEAN, type=STRING, references=array(STRING), format=maybe(STRING), currency=maybe(STRING),
                      error=STRING, position=maybe(INTEGER), end=maybe(INTEGER),
                      optional=("type", "references", "format", "currency", "error", "position", "end"))
FORMULA_VOCABULARY = obj(fields=array(obj(name=STRING, type=STRING)),
                         functions=array(obj(name=STRING, usage=STRING, doc=STRING)), formats=array(STRING))
LIST_MEMBERS = obj(list=STRING, total=INTEGER, rows=array(ROW))
RULE = obj(id=STRING, name=STRING, trigger=STRING, condition=OBJECT, actions=array(OBJECT), enabled=BOOLEAN)
RUN = obj(id=STRING, at=STRING, changes=ANY)
EXPORTED = obj(columns=array(OBJECT), rows=array(ROW), version=INTEGER)
ACTIVITY = obj(source=STRING, at=STRING, what=STRING)
SUMMARY = obj(investors=INTEGER, archived_investors=INTEGER, columns=INTEGER, contacts=INTEGER, views=INTEGER, version=INTEGER)


def _notify(req):
    req.app.presence.notify()


# -- the grid -------------------------------------------------------------------

def get_state(req):
    """The whole grid: columns, rows (computed formulas included; `rows=0` leaves them out), views, version."""
    return Response(200, grid.state_bytes(req))


def put_state(req):
    """Save a whole grid (compatibility): diffed into ops; 409 when `expected_version` is stale."""
    with transaction(req.db):
        result = save.save(req, req.json)
    _notify(req)
    return result


def post_ops(req):
    """Apply cell-level ops atomically: {base_version, ops: [...]}; 409 lists conflicting cells, 423 a locked one."""
    base_version, grid_ops = ops.parse_ops(req.json)
    with transaction(req.db):
        result = ops.apply(req, base_version, grid_ops)
    if result["applied"]:
        _notify(req)
    return result


def changes(req):
    """Ops after version `since`, oldest first (or `reset: true` when there are too many)."""
    return grid.changes_since(req.db, grid.parse_since(req.query.get("since")))


def events(req):
    """Server-Sent Events: `ops` (id = version), `presence` and `mentions` (your unread count); resume with Last-Event-ID or `since`."""
    raw = req.headers.get("Last-Event-ID") or req.query.get("since")
    since = grid.parse_since(raw) if raw is not None else store.version(req.db)["version"]
    return Response(200, content_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
                    stream=_event_stream(req.app, since, req.user["id"]))


def _event(name, data, event_id=None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _event_stream(app, since, user_id):
    conn = app.pool.acquire()
    try:
        yield b"retry: 2000\n\n"
        last, generation, shown, beat = since, -1, None, time.monotonic()
        unread = None
        while not app.stopping.is_set():
            found = grid.changes_since(conn, last)
            if found["reset"] or found["ops"]:
                yield _event("reset" if found["reset"] else "ops", found, found["version"])
                last = found["version"]
            people = app.presence.state()
            if people != shown:
                yield _event("presence", people)
                shown = people
            count = comments.unread_count(conn, user_id)  # this stream's user's mentions (the header's count)
            if count != unread:
                yield _event("mentions", {"unread": count})
                unread = count
            if time.monotonic() - beat > 15:
                yield b": keep-alive\n\n"
                beat = time.monotonic()
            generation = app.presence.wait(generation, 1.0)
    finally:
        app.pool.release(conn)


def list_rows(req):
    """Rows through a saved view (`view_id`), searched by `q`, paginated (at most 1,000); `archived=1` lists archived rows.
    `shape=compact` gives each row as an array, its columns named once per page."""
    return Response(200, grid.view_rows_bytes(req))


def get_row(req):
    """One row with its contacts, commitments by fund and the communications of its linked contacts."""
    return grid.row_detail(req.db, req.params["id"])


def contact_rows(req):
    """The grid rows (live investors) whose contacts include this classic contact: the way from a contact to the grid."""
    contact_id = req.query.get("contact_id")
    if not contact_id:
        raise Invalid({"contact_id": "is required"})
    return store.investors_of_contact(req.db, contact_id)


def row_history(req):
    """Who changed which cell of this row, from what to what, and when (newest first)."""
    limit, offset = page_params(req.query, default_limit=100)
    found, total = grid.history(req.db, req.params["id"], limit, offset)
    return Page(found, total, limit, offset)


# -- views ------------------------------------------------------------------------

def list_views(req):
    """Views you can see: shared ones and your personal ones."""
    return views.visible(req.db, req.user)


def create_view(req):
    """Save a view (personal unless `shared`)."""
    data = req.validated()
    with transaction(req.db):
        return Created(views.create(req.db, req, data))


def update_view(req):
    """Change a view (a locked shared view: its owner or an admin only)."""
    data = req.validated(partial=True)
    with transaction(req.db):
        return views.update(req.db, req, req.params["id"], data)


def delete_view(req):
    """Delete a view (a shared view: its owner or an admin only)."""
    with transaction(req.db):
        return views.delete(req.db, req, req.params["id"])


# -- presence, comments, formulas ---------------------------------------------------

def heartbeat(req):
    """Say where you are: view, selected cell, whether you are editing it. Expires after 60 s (a lock after 30 s)."""
    data = req.validated()
    cell = data.get("cell")
    if cell is not None and (set(cell) != {"row_id", "column_id"} or not all(isinstance(v, str) for v in cell.values())):
        raise Invalid({"cell": "must be {row_id, column_id} or null"})
    rank = users.signup_rank(req.db, req.user["id"])
    entry = req.app.presence.heartbeat(req.user, data.get("view_id"), cell, data.get("editing", False), data.get("tab") or "", rank)
    return {"you": entry, "others": [p for p in req.app.presence.state() if p["user_id"] != req.user["id"]]}


def leave(req):
    """This tab is closing (sent with `fetch(..., {keepalive: true})` on pagehide): it leaves the grid at once."""
    return {"left": req.app.presence.leave(req.user["id"], req.validated().get("tab") or "")}


def collab_state(req):
    """Who is in the grid now, what each has selected, who is editing what."""
    return req.app.presence.state()


def _row_or_404(req):
    if store.row_exists(req.db, req.params["id"]) is None:
        raise NotFound(f"no such row: {req.params['id']}")


def list_comments(req):
    """A row's comments, oldest first."""
    _row_or_404(req)
    return comments.list_for_row(req.db, req.params["id"])


def create_comment(req):
    """Comment on a row; @username mentions notify those users."""
    body = req.validated()["body"]
    _row_or_404(req)
    with transaction(req.db):
        created = comments.create(req.db, req, req.params["id"], body)
    _notify(req)  # the streams of the people it mentions send them their new count
    return Created(created)


def update_comment(req):
    """Edit your own comment."""
    body = req.validated()["body"]
    with transaction(req.db):
        updated = comments.update(req.db, req, req.params["id"], req.params["comment_id"], body)
    _notify(req)
    return updated


def delete_comment(req):
    """Delete your own comment (soft)."""
    with transaction(req.db):
        deleted = comments.delete(req.db, req, req.params["id"], req.params["comment_id"])
    _notify(req)
    return deleted


def mentions(req):
    """Comments that mention you, newest first, each `read` or not; `unread=1` lists only those not read yet."""
    limit, offset = page_params(req.query)
    unread_only = query_flag(req.query, "unread", False)
    found, total = comments.mentions_of(req.db, req.user["id"], limit, offset, unread_only=unread_only)
    return Page(found, total, limit, offset)


def mentions_unread(req):
    """How many mentions of you are not read yet (the header's count)."""
    return {"unread": comments.unread_count(req.db, req.user["id"])}


def mentions_read(req):
    """Mark mentions of you read (`comment_ids`, or all of them); answers how many are still unread."""
    ids = req.validated().get("comment_ids")
    if ids is not None and (len(ids) > 1000 or not all(isinstance(i, str) and len(i) <= 64 for i in ids)):
        raise Invalid({"comment_ids": "must be a list of at most 1,000 comment ids"})
    with transaction(req.db):
        marked = comments.mark_read(req.db, req.user["id"], ids)
        if marked:
            audit.record(req.db, req, "fundraising_mention", req.user["id"], "read", {"comment_ids": [None, marked]})
    _notify(req)
    return {"unread": comments.unread_count(req.db, req.user["id"])}


def check_formula(req):
    """Parse and type-check a formula for the editor: {ok, type, references, format, currency} or {ok: false, error, position, end}."""
    data = req.validated()
    columns = [c for c in store.load_columns(req.db) if c.id != data.get("column_id")]
    types = {c.name: c.type for c in columns}
    try:
        compiled = formulas.compile_formula(data["formula"], types)
    except formulas.FormulaError as exc:
        return {"ok": False, "error": exc.message, "position": exc.position, "end": exc.end}
    live = store.load_columns(req.db)
    graph = Recalc(live).graph  # every column: formulas reading this one must stay in the graph (cycles)
    this = next((c.name for c in live if c.id == data.get("column_id")), None)
    if this:
        graph[this] = set(compiled.references)
        cycle = formulas.find_cycle(graph)
        if cycle:
            return {"ok": False, "error": "formulas refer to each other in a cycle: " + " → ".join(cycle), "position": None}
    fmt, currency = formulas.default_format(compiled.node, compiled.type, field_units(live, recalc_for(live)))
    return {"ok": True, "type": compiled.type, "references": sorted(compiled.references), "format": fmt,
            "currency": currency}


def formula_vocabulary(req):
    """What the formula editor offers as you type: the fields by name, the functions with a line each, the formats."""
    fields = [{"name": c.name, "type": c.type} for c in store.load_columns(req.db)]
    return {"fields": fields, "functions": formulas.described_functions(), "formats": list(formulas.FORMATS)}


# -- lists and automations ---------------------------------------------------------

def list_members(req):
    """The rows in a list: main, follow_up, graveyard, longshot or all."""
    name = req.params["name"]
    if name not in automations.LISTS:
        raise NotFound(f"no such list: {name} (lists: {', '.join(automations.LISTS)})")
    ids = [r["investor_id"] for r in req.db.execute(
        "SELECT m.investor_id FROM fundraising_list_memberships m JOIN fundraising_investors i ON i.id = m.investor_id "
        "WHERE m.list_name = ? AND i.archived_at IS NULL", (name,))]
    columns = store.load_columns(req.db)
    rows = store.load_rows(req.db, columns, ids)
    return {"list": name, "total": len(rows), "rows": rows}


def list_automations(req):
    """Automation rules, in the order they run."""
    return automations.load_rules(req.db)


def create_automation(req):
    """Add a rule: trigger, condition (filter language), actions."""
    data = req.validated()
    with transaction(req.db):
        return Created(automations.create(req, data))


def update_automation(req):
    """Change a rule (enable/disable, condition, actions, name)."""
    data = req.validated(partial=True)
    with transaction(req.db):
        return automations.update(req, req.params["id"], data)


def automation_runs(req):
    """What the rules did, newest first."""
    limit, offset = page_params(req.query)
    total = req.db.execute("SELECT count(*) AS n FROM fundraising_automation_runs").fetchone()["n"]
    found = req.db.execute("SELECT r.*, a.name AS rule FROM fundraising_automation_runs r LEFT JOIN fundraising_automations a "
                           "ON a.id = r.rule_id ORDER BY r.at DESC LIMIT ? OFFSET ?", (limit, offset)).fetchall()
    for run in found:
        run["changes"] = json.loads(run["changes"])
    return Page(found, total, limit, offset)


# -- the classic bridge, exports, summaries ----------------------------------------

def log_communication(req):
    """Log a call/email/meeting for a row: a classic communication plus a dated line in the row's Notes."""
    data = req.validated()
    with transaction(req.db):
        result = links_log.log_communication(req, data)
    _notify(req)
    return Created(result)


def export_grid(req):
    """The grid (through `view_id` if given) as JSON or CSV."""
    return export.export(req)


def relational_summary(req):
    """Counts from the grid's relational tables."""
    return export.summary(req.db)


def activity(req):
    """Admin feed: audit entries, automation runs and grid edits, merged by time."""
    limit, offset = page_params(req.query)
    found, total = export.activity(req.db, limit, offset)
    return Page(found, total, limit, offset)
