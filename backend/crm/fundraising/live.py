"""The live grid in memory: one snapshot per version, advanced from the op log.

Reading 10,000 rows and encoding them as JSON takes most of a second, and every
edit moves the version. So a new version's snapshot is not rebuilt: it is the
previous one with only the rows the op log names since then read (and encoded)
again. Whatever the log does not describe row by row (a column op, a grid
restore or reset: a version without row ops) rebuilds the snapshot whole,
except a `relationships` op (strength scores were refreshed): that re-reads
the Relationship cells of every row and re-encodes only the rows they changed.
Snapshots are built from committed data inside one read transaction, so a
request that rolls back never reaches the cache. They are shared between
threads: nobody mutates one, except to remember what a view shows of it (the
pages of one listing are cut from one filtered, sorted list).
"""
import json
import threading
from collections import OrderedDict

from . import compact, store
from .filters import recalc_for
from .recalc import shown_columns

ROW_KINDS = frozenset(("set_cell", "add_row", "archive_row", "restore_row", "move_row"))
MAX_PATCHED_ROWS = 2000  # beyond this a rebuild costs about the same
KEPT = 4                 # snapshots kept: a reader a version or two behind still finds its own
VIEWS_KEPT = 8           # view results remembered per snapshot


def encode(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class Snapshot:
    """The unarchived rows of one grid version, in grid order, each with its JSON encoding."""

    def __init__(self, current, columns, rows, encoded, layout=None):
        self.version, self.updated_at, self.updated_by = current["version"], current["updated_at"], current["updated_by"]
        self.columns, self.rows = columns, rows
        self.encoded = encoded  # row id -> the row as JSON bytes
        self.compact = layout or compact.Layout(columns)  # the compact page's column order (GET /rows?shape=compact)
        self.columns_json = encode(shown_columns(columns, recalc_for(columns)))  # formula columns with their result format
        self._views = OrderedDict()  # key -> rows a view (filter, sort, search) shows, newest last
        self._views_lock = threading.Lock()

    @classmethod
    def build(cls, conn, current):
        columns = store.load_columns(conn)
        rows = store.load_rows(conn, columns)
        return cls(current, columns, rows, {r["id"]: encode(r) for r in rows})

    def advanced(self, conn, current):
        """The snapshot at `current`, from this one and the ops in between; None when only a rebuild will do."""
        found = conn.execute("SELECT version, kind, investor_id FROM fundraising_ops WHERE version > ? AND version <= ?",
                             (self.version, current["version"])).fetchall()
        kinds = {op["kind"] for op in found}
        if not kinds <= ROW_KINDS | {store.RELATIONSHIPS_OP} or \
                len({op["version"] for op in found}) != current["version"] - self.version:
            return None
        touched = {op["investor_id"] for op in found if op["investor_id"] is not None}
        if len(touched) > MAX_PATCHED_ROWS:
            return None
        fresh = {r["id"]: r for r in store.load_rows(conn, self.columns, list(touched), include_archived=True)}
        rows = [fresh.pop(r["id"], r) for r in self.rows]
        rows.extend(fresh.values())  # added or restored rows
        rows = [r for r in rows if not r["archived"]]
        if any(op["kind"] in ("add_row", "restore_row", "move_row") for op in found):
            rows.sort(key=lambda r: (r["position"], r["id"]))
        if store.RELATIONSHIPS_OP in kinds:
            rows, changed = _rewarmed(conn, self.columns, rows)
            touched |= changed
        encoded = {row_id: data for row_id, data in self.encoded.items() if row_id not in touched}
        encoded.update((r["id"], encode(r)) for r in rows if r["id"] in touched)
        return Snapshot(current, self.columns, rows, encoded, self.compact)

    def through_view(self, key, compute) -> list:
        """`compute()`'s rows, remembered under `key` (hashable: the view's filters, sorts and search)."""
        with self._views_lock:
            found = self._views.get(key)
        if found is None:
            found = compute()
            with self._views_lock:
                self._views[key] = found
                while len(self._views) > VIEWS_KEPT:
                    self._views.popitem(last=False)
        return found

    def grid_json(self) -> bytes:
        """{columns, rows} as JSON, assembled from the encoded rows."""
        return b'{"columns":' + self.columns_json + b',"rows":[' + b",".join(self.encoded[r["id"]] for r in self.rows) + b"]}"

    def rows_json(self, rows) -> bytes:
        """A list of rows as JSON, reusing the encoding of those that are this snapshot's own."""
        encoded = self.encoded
        return b"[" + b",".join(encoded.get(r["id"]) or encode(r) for r in rows) + b"]"


def _rewarmed(conn, columns, rows) -> tuple:
    """(rows with their Relationship cells read again, ids of the rows that changed). Changed rows
    are new dicts: the old snapshot's rows are shared and never mutated."""
    related = [c.id for c in columns if c.type == "relationship"]
    if not related:
        return rows, set()
    values = store.relationship_values(conn, [r["id"] for r in rows])
    fresh, changed = [], set()
    for r in rows:
        value = values.get(r["id"])
        if any(r["cells"].get(column_id) != value for column_id in related):
            r = {**r, "cells": {**r["cells"], **{column_id: value for column_id in related}}}
            changed.add(r["id"])
        fresh.append(r)
    return fresh, changed


class LiveGrid:
    """The recent snapshots of one database (one per App)."""

    def __init__(self):
        self._snapshots = OrderedDict()  # (version, updated_at) -> Snapshot, oldest first
        self._lock = threading.Lock()
        self.counts = {"built": 0, "advanced": 0}  # how snapshots were made (tests and the bench read it)

    def held(self, version: int):
        """The kept snapshot of `version`, or None once it has been let go."""
        with self._lock:
            return next((snap for snap in self._snapshots.values() if snap.version == version), None)

    def snapshot(self, conn) -> Snapshot:
        """The grid at the connection's current version. Call it outside a transaction or before the
        transaction's first write: it caches what it reads under the committed version."""
        own = not conn.in_transaction
        if own:
            conn.execute("BEGIN")  # the version and the rows from one read snapshot
        try:
            current = store.version(conn)
            key = (current["version"], current["updated_at"])
            with self._lock:
                found = self._snapshots.get(key)
                previous = next(reversed(self._snapshots.values()), None)
            if found is not None:
                return found
            if previous is not None and previous.version < current["version"]:
                found = previous.advanced(conn, current)
            how = "advanced" if found is not None else "built"
            if found is None:
                found = Snapshot.build(conn, current)
            with self._lock:
                self.counts[how] += 1
                self._snapshots[key] = found
                self._snapshots = OrderedDict(sorted(self._snapshots.items(), key=lambda item: item[1].version)[-KEPT:])
            return found
        finally:
            if own:
                conn.execute("COMMIT")
