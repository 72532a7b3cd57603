"""Applying grid operations: validated, conflict-checked, logged, one version per request.

`apply(req, base_version, ops)` runs inside the caller's BEGIN IMMEDIATE
transaction. Each op is checked and applied in order against an in-memory copy
of the rows it touches; a problem anywhere raises and the transaction rolls
back, so a request applies entirely or not at all. A set_cell conflicts when
someone else changed that cell after `base_version` (read from the op log);
a cell another user is editing is locked (423). Formula results of touched
rows are recomputed, row automations run, and every effective change is
written to fundraising_ops under the one new version.
"""
import json

from .. import interactions
from ..clock import new_id, now_iso
from ..errors import Conflict, Invalid, Locked
from . import columns as col
from . import filters, links, store
from .automations import run_row_rules
from .cellwrites import CellWrites
from .schema_ops import apply_column_op

MAX_CELL_CHANGES = 50_000
MAX_PREFETCHED_CHANGES = 20_000  # ops since a request's base version read at once for its conflict checks
PREFETCH_FROM = 50               # ops in a request from which those are read at once (not a query per cell)
CONFLICT_SQL = ("SELECT o.investor_id, o.column_id, o.version, o.actor_id, o.after, u.username FROM fundraising_ops o "
                "LEFT JOIN users u ON u.id = o.actor_id WHERE o.version > ? AND o.kind = 'set_cell' AND o.actor_id IS NOT ? ")
OP_KINDS = ("set_cell", "add_row", "archive_row", "restore_row", "move_row",
            "add_column", "update_column", "delete_column", "move_column")


class Batch:
    """One request's worth of ops against the grid."""

    def __init__(self, conn, req, base_version: int, presence=None, check_conflicts=True):
        self.conn, self.req, self.presence = conn, req, presence
        actor = req.actor if req is not None else {"id": None, "kind": "system"}
        self.actor = {**actor, "request_id": getattr(req, "request_id", None)}
        self.base_version = base_version
        self.check_conflicts = check_conflicts
        self.columns = {c.id: c for c in store.load_columns(conn, include_deleted=True)}
        self.rows = {}          # row id -> cells, loaded on first touch
        self.touched = {}       # row id -> column ids changed
        self.log = []           # (kind, row id, column id, before, after, actor kind)
        self.acting_as = self.actor["kind"]  # "automation" while a rule's action runs
        self.conflicts = []
        self.formulas_dirty = False
        self.unfit = None       # a list while `apply` gathers values that do not fit (see below)
        self.writes = CellWrites(conn, self.actor["id"])  # cells stored one UPDATE per row (cellwrites.py)
        self._later = None      # (row id, column id) -> the latest other's set_cell since base_version (_check_conflict)
        self.prefetch_conflicts = False  # set by `apply` for a request of many set_cells (a paste)

    # -- helpers ---------------------------------------------------------------

    def live_columns(self) -> list:
        return sorted((c for c in self.columns.values() if not c.deleted), key=lambda c: (c.position, c.id))

    def key_column(self, key):
        return next((c for c in self.columns.values() if c.field_key == key and not c.deleted), None)

    def column(self, column_id, where: str) -> col.Column:
        column = self.columns.get(column_id)
        if column is None or column.deleted:
            raise Invalid({where: f"no such column: {column_id}"}, message="a field you edited has been deleted")
        return column

    def row(self, row_id, where: str, allow_archived=False) -> dict:
        if row_id not in self.rows:
            found = store.row_exists(self.conn, row_id)
            if found is None:
                raise Invalid({where: f"no such row: {row_id}"}, message="an investor you edited no longer exists")
            loaded = store.load_rows(self.conn, self.live_columns(), [row_id], include_archived=True)[0]
            self.rows[row_id] = loaded
        row = self.rows[row_id]
        if row["archived"] and not allow_archived:
            raise Conflict("an investor you edited has been archived; restore it first", extra={"row_id": row_id})
        return row

    def preload(self, row_ids) -> None:
        """Load many rows in a few queries (a paste touches thousands)."""
        wanted = [r for r in dict.fromkeys(row_ids) if r not in self.rows]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            for row in store.load_rows(self.conn, self.live_columns(), chunk, include_archived=True):
                self.rows[row["id"]] = row

    def record(self, kind, row_id=None, column_id=None, before=None, after=None) -> None:
        self.log.append((kind, row_id, column_id, before, after, self.acting_as))
        if row_id is not None and column_id is not None:
            self.touch(row_id, (column_id,))
        elif row_id is not None:
            self.touched.setdefault(row_id, set())

    def touch(self, row_id, column_ids) -> None:
        """Mark columns of a row changed. A frozenset there (an import's new rows share one: every
        column) is replaced, never changed."""
        found = self.touched.get(row_id)
        if found is None or isinstance(found, frozenset):
            self.touched[row_id] = found = set(found or ())
        found.update(column_ids)

    # -- cells -----------------------------------------------------------------

    def set_cell(self, row_id, column_id, value, where="op", conflict_check=True, force=False) -> None:
        """Set one cell; `force` allows an archived row (for writes that follow a linked record)."""
        column = self.column(column_id, where + ".column_id")
        row = self.row(row_id, where + ".row_id", allow_archived=force)
        try:
            value = col.clean_value(column, value)
        except col.CellError as exc:
            if self.unfit is not None and where.startswith("ops[") and where.endswith("]"):
                self.unfit.append({"index": int(where[4:-1]), "row_id": row_id, "column_id": column_id,
                                   "column": column.name, "value": value, "message": plain(column, str(exc))})
                return
            raise Invalid({where + ".value": str(exc)}, message=plain(column, str(exc))) from None
        before = row["cells"].get(column_id)
        if _same(before, value, column):
            return
        if conflict_check and self.check_conflicts:
            self._check_conflict(row_id, column, value)
        if self.presence is not None:
            holder = self.presence.locked_by(row_id, column_id, self.actor["id"])
            if holder:
                raise Locked(f"{holder['display_name'] or holder['username']} is editing this cell",
                             extra={"row_id": row_id, "column_id": column_id, "editing_by": holder["username"]})
        stored = self.writes.write(row_id, column, value)
        if column.type == "contacts":
            links.sync_cell(self, row_id, stored)
        row["cells"][column_id] = stored
        self.record("set_cell", row_id, column_id, before, stored)

    def _check_conflict(self, row_id, column, value) -> None:
        later = self._later_changes()
        later = later.get((row_id, column.id)) if later is not None else self.conn.execute(
            CONFLICT_SQL + "AND o.investor_id = ? AND o.column_id = ? ORDER BY o.seq DESC LIMIT 1",
            (self.base_version, self.actor["id"], row_id, column.id)).fetchone()
        if later:
            self.conflicts.append({
                "row_id": row_id, "column_id": column.id, "column": column.name, "yours": value,
                "current_value": json.loads(later["after"]) if later["after"] is not None else None,
                "changed_by": later["username"], "changed_in_version": later["version"],
            })

    def _later_changes(self):
        """Others' set_cells since base_version by cell, read once (a paste checks 50,000 cells: one
        query each took seconds); None when there are too many to hold (then a query per cell)."""
        if self._later is None:
            if not self.prefetch_conflicts:  # a few cells: a query each, as cheap as reading them all
                return None
            count = self.conn.execute("SELECT count(*) AS n FROM (SELECT 1 FROM fundraising_ops WHERE version > ? LIMIT ?)",
                                      (self.base_version, MAX_PREFETCHED_CHANGES + 1)).fetchone()["n"]
            self._later = False
            if count <= MAX_PREFETCHED_CHANGES:
                self._later = {(op["investor_id"], op["column_id"]): op for op in self.conn.execute(
                    # By version, then seq: ordered by seq alone SQLite walks the whole op log (30 ms a request
                    # at 10,000 rows) instead of the version index. The latest of a cell wins.
                    CONFLICT_SQL + "ORDER BY o.version, o.seq", (self.base_version, self.actor["id"]))}
        return self._later if self._later is not False else None

    # -- rows ------------------------------------------------------------------

    def add_row(self, op, where) -> None:
        row_id = op.get("row_id") or new_id()
        if not isinstance(row_id, str) or len(row_id) > 64:
            raise Invalid({where + ".row_id": "must be a string id"})
        if store.row_exists(self.conn, row_id):
            raise Conflict(f"row {row_id} already exists")
        position = self._position(op, where, "fundraising_investors", "after_row_id")
        store.insert_row(self.conn, row_id, position, self.actor["id"])
        self.row(row_id, where)  # loaded now: a row added without cells still gets its formulas and row rules
        self.record("add_row", row_id, None, None, {"position": position})
        cells = op.get("cells") or {}
        if not isinstance(cells, dict):
            raise Invalid({where + ".cells": "must be an object of column id to value"})
        # Contacts last: linking them to the classic CRM matches by the row's organization,
        # which must be set first whatever the order of the keys in the request.
        is_contacts = lambda item: getattr(self.columns.get(item[0]), "type", None) == "contacts"  # noqa: E731
        for column_id, value in sorted(cells.items(), key=is_contacts):
            self.set_cell(row_id, column_id, value, f"{where}.cells.{column_id}", conflict_check=False)
        self.touch(row_id, [c.id for c in self.live_columns()])

    def set_archived(self, row_id, archived: bool, where) -> None:
        row = self.row(row_id, where + ".row_id", allow_archived=True)
        if row["archived"] == archived:
            return
        stamp = now_iso() if archived else None
        self.conn.execute("UPDATE fundraising_investors SET archived_at = ?, archived_by = ?, updated_at = ?, updated_by = ? WHERE id = ?",
                          (stamp, self.actor["id"] if archived else None, now_iso(), self.actor["id"], row_id))
        row["archived"] = archived
        self.record("archive_row" if archived else "restore_row", row_id, None, not archived, archived)

    def move_row(self, op, where) -> None:
        row = self.row(op.get("row_id"), where + ".row_id", allow_archived=True)
        position = self._position(op, where, "fundraising_investors", "after_row_id", exclude=row["id"])
        self.conn.execute("UPDATE fundraising_investors SET position = ? WHERE id = ?", (position, row["id"]))
        self.record("move_row", row["id"], None, {"position": row["position"]}, {"position": position})
        row["position"] = position

    def _position(self, op, where, table, after_key, exclude=None) -> float:
        """A position just after `op[after_key]` (None or absent: at the end; "" : at the start)."""
        if after_key not in op or op[after_key] is None:
            top = self.conn.execute(f"SELECT max(position) AS p FROM {table}").fetchone()["p"]
            return (top or 0) + 1
        if op[after_key] == "":
            low = self.conn.execute(f"SELECT min(position) AS p FROM {table} WHERE id IS NOT ?", (exclude,)).fetchone()["p"]
            return (low if low is not None else 1) - 1
        anchor = self.conn.execute(f"SELECT position FROM {table} WHERE id = ?", (op[after_key],)).fetchone()
        if anchor is None:
            raise Invalid({f"{where}.{after_key}": "no such row or column"})
        following = self.conn.execute(f"SELECT min(position) AS p FROM {table} WHERE position > ? AND id IS NOT ?",
                                      (anchor["position"], exclude)).fetchone()["p"]
        return anchor["position"] + 1 if following is None else (anchor["position"] + following) / 2

    # -- finishing -------------------------------------------------------------

    def finish(self, recalc_all=False) -> dict:
        """Recompute formulas, run automations, write the log under a new version."""
        if self.conflicts:
            current = store.version(self.conn)
            raise Conflict("someone else changed these cells since your version", extra={
                "conflicts": self.conflicts, "current_version": current["version"],
                "updated_at": current["updated_at"], "updated_by": current["updated_by"]})
        self.recompute(recalc_all)
        logged = len(self.log)
        run_row_rules(self)
        if len(self.log) > logged:  # rules set cells: their formulas follow, and list rules
            self.recompute()        # that ran before them look again (once: rules never chain further)
            run_row_rules(self)
            self.recompute()
        self.writes.flush()
        if not self.log:
            current = store.version(self.conn)
            return {"version": current["version"], "applied": 0, "rows": {}}
        version = self.conn.execute(
            "UPDATE fundraising_state SET version = version + 1, updated_at = ?, updated_by = ? WHERE id = 1 RETURNING version",
            (now_iso(), self.actor["id"])).fetchone()["version"]
        at = now_iso()
        self.conn.executemany(
            "INSERT INTO fundraising_ops (version, kind, investor_id, column_id, before, after, actor_id, actor_kind, request_id, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            # A generator: an import logs 100,000 rows, and their JSON need not all be held at once.
            ((version, kind, row_id, column_id, _json(before), _json(after), self.actor["id"], actor_kind,
              self.actor.get("request_id"), at) for kind, row_id, column_id, before, after, actor_kind in self.log))
        self._log_interaction(version)
        return {"version": version, "applied": len(self.log),
                "rows": {row_id: self.rows[row_id]["cells"] for row_id in self.touched if row_id in self.rows}}

    def _log_interaction(self, version: int) -> None:
        """Grid edits keep their history in fundraising_ops, not the audit log: the interaction log
        gets one entry per request that touched rows (refs: each row; column-only changes touch no one)."""
        row_ids = list(dict.fromkeys(row_id for _, row_id, *_ in self.log if row_id))
        if not row_ids:
            return
        names = list(dict.fromkeys(self.columns[c].name for _, _, c, *_ in self.log if c in self.columns))
        interactions.record(self.conn, interactions.actor_kind(self.actor), self.actor["id"], "grid.edit",
                            [interactions.ref("fundraising_investors", row_id) for row_id in row_ids],
                            {"version": version, "changes": len(self.log), "kinds": sorted({k for k, *_ in self.log}),
                             "columns": names[:20]})

    def recompute(self, recalc_all=False) -> None:
        recalc = filters.recalc_for(self.live_columns())
        if recalc_all or self.formulas_dirty:
            names = recalc.all_formulas()
            self.preload([r["id"] for r in self.conn.execute("SELECT id FROM fundraising_investors")])
            targets = {row_id: None for row_id in self.rows}
        else:
            targets = self.touched
            names = None
        results = {}
        for row_id, changed in targets.items():
            if row_id not in self.rows:
                continue
            wanted = names if names is not None else recalc.affected(changed)
            if wanted:
                results[row_id] = recalc.recompute(self.rows[row_id]["cells"], wanted)
        store.set_computed(self.conn, results)


def plain(column, message: str) -> str:
    """A cell problem as a user reads it: "Fund III must be a number", "'Alex' is not a Status option"."""
    return f"{column.name} {message}" if message.startswith("must ") else message


def unfit_summary(unfit: list) -> str:
    """ "2 values didn't fit: 'Alex' is not a Status option; 'lots' is not a number for Fund III" """
    shown = "; ".join(problem["message"] for problem in unfit[:3]) + (" …" if len(unfit) > 3 else "")
    return f"{len(unfit)} value{'' if len(unfit) == 1 else 's'} didn't fit: {shown}"


def _same(before, after, column) -> bool:
    if column.type == "contacts":
        strip = lambda people: [{k: p.get(k) for k in col.CONTACT_FIELDS} for p in people or []]  # noqa: E731
        ids_given = all(p.get("id") for p in after or [])
        return ids_given and strip(before) == strip(after) and [p.get("id") for p in before or []] == [p.get("id") for p in after or []]
    if column.type == "checkbox":
        return bool(before) == bool(after)
    return before == after


def _json(value):
    return None if value is None else json.dumps(value)


def parse_ops(payload) -> tuple:
    """(base_version, ops) from a request body, checked for shape."""
    if not isinstance(payload, dict):
        raise Invalid({"body": "must be an object {base_version, ops}"})
    base = payload.get("base_version")
    ops = payload.get("ops")
    errors = {}
    if isinstance(base, bool) or not isinstance(base, int) or base < 0:
        errors["base_version"] = "must be the grid version your edits are based on (a whole number)"
    if not isinstance(ops, list) or not ops:
        errors["ops"] = "must be a non-empty list"
    elif sum(max(1, len(o.get("cells") or {})) if isinstance(o, dict) and o.get("op") == "add_row" else 1 for o in ops) > MAX_CELL_CHANGES:
        errors["ops"] = f"at most {MAX_CELL_CHANGES} cell changes per request"
    unknown = set(payload) - {"base_version", "ops"}
    for name in unknown:
        errors[name] = "unknown field"
    if errors:
        raise Invalid(errors)
    return base, ops


def current_version(conn) -> int:
    return store.version(conn)["version"]


def apply(req, base_version, ops) -> dict:
    """Apply `ops` in the open transaction; returns {version, applied, rows}."""
    current = current_version(req.db)
    if base_version > current:
        raise Invalid({"base_version": f"is ahead of the grid (version {current})"})
    batch = Batch(req.db, req, base_version, req.app.presence)
    # A value that does not fit its column does not stop the others being checked: the 422 lists
    # every one (`unfit`: op index, row, column, plain message) so a client can drop those and
    # send the rest again. Nothing applies meanwhile: a request still applies whole or not at all.
    batch.unfit = []
    batch.preload([o.get("row_id") for o in ops if isinstance(o, dict) and o.get("op") == "set_cell" and isinstance(o.get("row_id"), str)])
    batch.prefetch_conflicts = len(ops) >= PREFETCH_FROM
    for index, op in enumerate(ops):
        where = f"ops[{index}]"
        if not isinstance(op, dict) or op.get("op") not in OP_KINDS:
            raise Invalid({where: "must be an object whose op is one of: " + ", ".join(OP_KINDS)})
        kind = op["op"]
        if kind == "set_cell":
            _require(op, where, "row_id", "column_id", "value")
            batch.set_cell(op["row_id"], op["column_id"], op["value"], where)
        elif kind == "add_row":
            batch.add_row(op, where)
        elif kind in ("archive_row", "restore_row"):
            _require(op, where, "row_id")
            batch.set_archived(op["row_id"], kind == "archive_row", where)
        elif kind == "move_row":
            _require(op, where, "row_id")
            batch.move_row(op, where)
        else:
            batch.writes.flush()  # a column op reads and rewrites rows in the database
            apply_column_op(batch, kind, op, where)
    if batch.unfit:
        error = Invalid({f"ops[{u['index']}].value": u["message"] for u in batch.unfit}, message=unfit_summary(batch.unfit))
        error.extra = {"unfit": batch.unfit}
        raise error
    return batch.finish()


def _require(op, where, *names) -> None:
    missing = {f"{where}.{n}": "is required" for n in names if n not in op}
    if missing:
        raise Invalid(missing)

