"""The live grid in memory: one snapshot per version, advanced from the op log.

Reading 10,000 rows and encoding them as JSON takes most of a second, and every
edit moves the version. So a new version's snapshot is not rebuilt: it is the
previous one with only the rows the op log names since then read (and encoded)
again. Whatever the log does not describe row by row (most column ops, a grid
restore or reset: a version without row ops) rebuilds the snapshot whole,
except a `relationships` op (strength scores were refreshed): that re-reads
the Relationship cells of every row and re-encodes only the rows they changed,
and adding a column that starts with no cells, or moving one, which leave
every row as it was. A rebuild reuses the kept snapshots' objects for the
rows that did not change, and readers of a version being made wait for that
one (at 100,000 rows a rebuild takes seconds and a grid's worth of memory).
What views show is carried to the next version, which derives its answers
from them (view_plan.py) instead of filtering and sorting every row again.
Snapshots are built from committed data inside one read transaction, so a
request that rolls back never reaches the cache. They are shared between
threads: nobody mutates one, except to remember what a view shows of it (the
pages of one listing are cut from one filtered, sorted list).
"""
import json
import threading
from collections import OrderedDict

from . import compact, store
from .filters import recalc_for, row_text
from .recalc import shown_columns

ROW_KINDS = frozenset(("set_cell", "add_row", "archive_row", "restore_row", "move_row"))
COLUMN_KINDS = frozenset(("add_column", "move_column"))  # when they leave every row as it was (_rows_unchanged_by)
MAX_PATCHED_ROWS = 2000  # touched rows carried from version to version for views to derive from
PATCH_SHARE = 2          # a snapshot advances while at most half its rows (or MAX_PATCHED_ROWS) changed
LOAD_CHUNK = 5000        # touched rows read per query (SQLite's limit on ?s is 32,766)
KEPT = 4                 # snapshots kept: a reader a version or two behind still finds its own
VIEWS_KEPT = 8           # view results remembered per snapshot


def encode(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class Snapshot:
    """The unarchived rows of one grid version, in grid order, each with its JSON encoding (made
    on first use and kept: a rebuild at 100,000 rows is then only the reading, and the first page
    encodes its 100 rows, not the grid)."""

    def __init__(self, current, columns, rows, encoded, inherited=None, index=None, texts=None):
        self.version, self.updated_at, self.updated_by = current["version"], current["updated_at"], current["updated_by"]
        self.columns, self.rows = columns, rows
        self.encoded = encoded  # row id -> the row as JSON bytes, for the rows encoded so far (see row_json)
        self.compact = compact.Layout(columns)  # the compact page's column order (GET /rows?shape=compact)
        self.columns_json = encode(shown_columns(columns, recalc_for(columns)))  # formula columns with their result format
        self._views = OrderedDict()  # key -> rows a view (filter, sort, search) shows, newest last
        self._plans = {}  # key -> the plan that answered it (view_plan.Plan), for the keeper to answer again
        self._working = {}  # key -> Event: a view being worked out; other readers of it wait for that answer
        self._views_lock = threading.Lock()
        self._inherited = inherited or {}  # key -> (an earlier version's rows for it, ids touched since); see handed_over
        self._index = index  # row id -> its place in rows; made on first use, shared while the order stays
        self._texts = texts if texts is not None else {}  # row id -> its search text, for the rows searched so far
        self.view_counts = {"computed": 0, "derived": 0}  # how its views were answered (tests read it)
        self._once = OrderedDict()  # key -> what `once` worked out, newest last
        self._groups = OrderedDict()  # key -> (a view's rows, their groups), newest last (see groups_of)
        self._groups_inherited = {}   # key -> (an earlier version's rows, their groups, ids touched since, its row_of)

    @classmethod
    def build(cls, conn, current, kept=()):
        """The grid read whole. A row equal to one of the `kept` snapshots' is that object (with its
        encoding): after column ops at 100,000 rows the kept snapshots share one copy of each row."""
        columns = store.load_columns(conn)
        rows = store.load_rows(conn, columns)
        encoded = {}
        if kept:
            rows, encoded = _sharing(rows, kept)
        return cls(current, columns, rows, encoded)

    def advanced(self, conn, current):
        """The snapshot at `current`, from this one and the ops in between; None when only a rebuild will do."""
        found = conn.execute("SELECT version, kind, investor_id, column_id FROM fundraising_ops WHERE version > ? AND version <= ?",
                             (self.version, current["version"])).fetchall()
        kinds = {op["kind"] for op in found}
        if not kinds <= ROW_KINDS | COLUMN_KINDS | {store.RELATIONSHIPS_OP} or \
                len({op["version"] for op in found}) != current["version"] - self.version:
            return None
        columns = self.columns
        if kinds & COLUMN_KINDS:
            columns = store.load_columns(conn)
            if not _rows_unchanged_by([op for op in found if op["kind"] in COLUMN_KINDS], columns):
                return None
        touched = {op["investor_id"] for op in found if op["investor_id"] is not None}
        if len(touched) > patch_limit(len(self.rows)):
            return None
        fresh = {r["id"]: r for r in _load_touched(conn, columns, list(touched))}
        index = None
        if kinds & {"add_row", "archive_row", "restore_row", "move_row"}:
            rows = [fresh.pop(r["id"], r) for r in self.rows]
            rows.extend(fresh.values())  # added or restored rows
            rows = [r for r in rows if not r["archived"]]
            if kinds & {"add_row", "restore_row", "move_row"}:
                rows.sort(key=lambda r: (r["position"], r["id"]))
        else:  # cells only: the same rows in the same places, a few of them new objects
            rows, index = list(self.rows), self.index()
            for row_id, row in fresh.items():
                at = index.get(row_id)
                if at is not None:
                    rows[at] = row
        if store.RELATIONSHIPS_OP in kinds:
            rows, changed = _rewarmed(conn, columns, rows)
            touched |= changed
        encoded, texts = dict(self.encoded), dict(self._texts)
        for row_id in touched:
            encoded.pop(row_id, None)
            texts.pop(row_id, None)
        snap = Snapshot(current, columns, rows, encoded, self.handed_over(touched), index, texts)
        snap._groups_inherited = self.groups_handed_over(touched)
        return snap

    def index(self) -> dict:
        """{row id: its place in rows}, made once per order of rows."""
        if self._index is None:
            self._index = {r["id"]: n for n, r in enumerate(self.rows)}
        return self._index

    # -- views: remembered per snapshot, derived from the previous snapshot's after an edit --------

    def handed_over(self, touched) -> dict:
        """What the next version (this one plus the rows `touched`) may derive its views from: every
        view this snapshot answered or inherited, with the ids touched since that answer."""
        touched = frozenset(touched)
        with self._views_lock:
            handed = {key: (rows, touched) for key, rows in self._views.items()}
            for key, (rows, before) in self._inherited.items():
                if key not in handed and len(before) + len(touched) <= MAX_PATCHED_ROWS:
                    handed[key] = (rows, before | touched)
        return handed

    def row_of(self, row_id):
        """The live row with this id, None when there is none (archived or never was)."""
        at = self.index().get(row_id)
        return None if at is None else self.rows[at]

    def through_view(self, key, plan) -> list:
        """The rows `plan` (a view_plan.Plan: the view's filters, sorts and search) shows, remembered
        under `key` (hashable, naming the plan). Derived from an earlier version's answer when this
        snapshot was advanced from one that had it, else computed. A reader asking for a view another
        thread is working out waits for that answer (at 100,000 rows it may take most of a second)."""
        while True:
            with self._views_lock:
                found = self._views.get(key)
                working = self._working.get(key) if found is None else None
                if found is None and working is None:
                    mine = self._working[key] = threading.Event()
                    earlier = self._inherited.pop(key, None)
            if found is not None:
                return found
            if working is None:
                break
            working.wait()
        try:
            if earlier is not None:
                found = plan.derive(earlier[0], earlier[1], self.row_of)
            how = "computed" if found is None else "derived"
            if found is None:
                found = plan.compute(self.rows, self.search_text)
            with self._views_lock:
                self.view_counts[how] += 1
                self._views[key], self._plans[key] = found, plan
                while len(self._views) > VIEWS_KEPT:
                    self._plans.pop(self._views.popitem(last=False)[0], None)
            return found
        finally:
            with self._views_lock:
                del self._working[key]
            mine.set()  # waiters look again: the answer is kept now, or (on an error) one of them works it out

    def plans(self) -> list:
        """[(key, plan)] of the views this snapshot remembers, oldest first."""
        with self._views_lock:
            return [(key, self._plans[key]) for key in self._views]

    # -- a grouped view's groups: remembered per snapshot, derived from the previous snapshot's -----

    def groups_handed_over(self, touched) -> dict:
        """The groups the next version (this one plus the rows `touched`) may derive its own from."""
        touched = frozenset(touched)
        with self._views_lock:
            handed = {key: (rows, groups, touched, self.row_of) for key, (rows, groups) in self._groups.items()}
            for key, (rows, groups, before, row_of) in self._groups_inherited.items():
                if key not in handed and len(before) + len(touched) <= MAX_PATCHED_ROWS:
                    handed[key] = (rows, groups, before | touched, row_of)
        return handed

    def groups_of(self, key, rows, compute, derive):
        """The groups of `rows` (this snapshot's remembered answer of a view), kept under `key`:
        `derive(earlier rows, their groups, touched ids, that version's row_of)` from the previous
        version's when it had them (None: `compute()` instead)."""
        with self._views_lock:
            found = self._groups.get(key)
            earlier = self._groups_inherited.pop(key, None)
        if found is not None and found[0] is rows:
            return found[1]
        groups = derive(*earlier) if earlier is not None else None
        how = "groups computed" if groups is None else "groups derived"
        if groups is None:
            groups = compute()
        with self._views_lock:
            self.view_counts[how] = self.view_counts.get(how, 0) + 1
            self._groups[key] = (rows, groups)
            while len(self._groups) > VIEWS_KEPT:
                self._groups.popitem(last=False)
        return groups

    def grid_json(self) -> bytes:
        """{columns, rows} as JSON, assembled from the encoded rows."""
        return b"".join(self.grid_parts())

    def grid_parts(self) -> list:
        """grid_json as the pieces to join: a caller wrapping it joins once (at 100,000 rows the
        document is ~190 MB, and each `+` of bytes around it is another copy)."""
        return [b'{"columns":', self.columns_json, b',"rows":', *self.rows_parts(self.rows), b"}"]

    def rows_json(self, rows) -> bytes:
        """A list of rows as JSON, reusing the encoding of those that are this snapshot's own."""
        return b"".join(self.rows_parts(rows))

    def rows_parts(self, rows) -> list:
        """rows_json as the pieces to join (see grid_parts)."""
        if not rows:
            return [b"[]"]
        parts = [b","] * (2 * len(rows) + 1)  # [ row , row , ... row ]
        parts[0], parts[-1] = b"[", b"]"
        parts[1:-1:2] = list(map(self.row_json, rows))
        return parts

    def once(self, key, compute):
        """`compute()`, remembered under `key` for this snapshot only (never handed to the next)."""
        with self._views_lock:
            found = self._once.get(key)
        if found is None:
            found = compute()
            with self._views_lock:
                self._once[key] = found
                while len(self._once) > VIEWS_KEPT:
                    self._once.popitem(last=False)
        return found

    def search_text(self, row) -> str:
        """A row's search text (filters.row_text), remembered for this snapshot's own rows: at 100,000
        rows each new search would otherwise read every cell of every row again (seconds)."""
        text = self._texts.get(row["id"])
        if text is None:
            text = row_text(row)
            if self.row_of(row["id"]) is row:
                self._texts[row["id"]] = text
        return text

    def row_json(self, row) -> bytes:
        """One row as JSON: kept for this snapshot's own rows (encoded on first use; filling the
        cache is the one change made to a shared snapshot, and any thread fills it alike)."""
        data = self.encoded.get(row["id"])
        if data is None:
            data = encode(row)
            if self.row_of(row["id"]) is row:  # not an archived row, nor another version's
                self.encoded[row["id"]] = data
        return data


def patch_limit(rows: int) -> int:
    """How many touched rows a snapshot of `rows` rows advances past: reading a row again costs about
    what building it does, so up to a share of the grid (a paste of 5,000 rows at 100,000: 0.2 s read
    again, against ~10 s to read the grid whole; at 10,000 the same paste reads half the rows, still less)."""
    return max(MAX_PATCHED_ROWS, rows // PATCH_SHARE)


def _load_touched(conn, columns, ids) -> list:
    found = []
    for start in range(0, len(ids), LOAD_CHUNK):
        found += store.load_rows(conn, columns, ids[start:start + LOAD_CHUNK], include_archived=True)
    return found


def _sharing(rows, kept) -> tuple:
    """(rows, encodings) with each row equal to one in the `kept` snapshots (newest first) replaced
    by that one, its encoding kept."""
    sources = [(snap.index(), snap.rows, snap.encoded) for snap in kept]
    shared, encoded = [], {}
    for row in rows:
        for index, others, others_encoded in sources:
            at = index.get(row["id"])
            if at is not None and others[at] == row:
                row = others[at]
                data = others_encoded.get(row["id"])
                if data is not None:
                    encoded[row["id"]] = data
                break
        shared.append(row)
    return shared, encoded


# New columns of these types have no cell in any row, so adding one (or moving any column) leaves
# every row as it was: the snapshot advances instead of being read again (seconds at 100,000 rows).
EMPTY_WHEN_ADDED = frozenset(("text", "long_text", "number", "currency", "percent", "date", "checkbox", "single_select",
                              "multi_select", "email", "url", "phone", "contacts", "fund"))


def _rows_unchanged_by(column_ops, columns) -> bool:
    types = {c.id: c.type for c in columns}
    return all(op["kind"] == "move_column" or types.get(op["column_id"]) in EMPTY_WHEN_ADDED for op in column_ops)


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
        self._making = {}  # key -> Event: a snapshot being made; other readers of that version wait for it
        self.counts = {"built": 0, "advanced": 0}  # how snapshots were made (tests and the bench read it)
        self.waits = 0  # readers that waited for a snapshot another thread was making

    def newest(self):
        """The newest kept snapshot, or None before the first is made."""
        with self._lock:
            return next(reversed(self._snapshots.values()), None)

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
            return self._kept_or_made(conn, current, key)
        finally:
            if own:
                conn.execute("COMMIT")

    def _kept_or_made(self, conn, current, key) -> Snapshot:
        """The kept snapshot of `key`, or the one another thread is making (waited for: at 100,000
        rows a rebuild takes seconds, and every reader making its own would take them all longer
        and hold a grid in memory each), or one made here."""
        while True:
            with self._lock:
                found = self._snapshots.get(key)
                making = self._making.get(key) if found is None else None
                if found is None and making is None:
                    mine = self._making[key] = threading.Event()
                    kept = list(reversed(self._snapshots.values()))
                    previous = kept[0] if kept else None
            if found is not None:
                return found
            if making is None:
                break
            making.wait()
            with self._lock:
                self.waits += 1
        try:
            if previous is not None and previous.version < current["version"]:
                found = previous.advanced(conn, current)
            how = "advanced" if found is not None else "built"
            if found is None:
                found = Snapshot.build(conn, current, kept)
            with self._lock:
                self.counts[how] += 1
                self._snapshots[key] = found
                self._snapshots = OrderedDict(sorted(self._snapshots.items(), key=lambda item: item[1].version)[-KEPT:])
            return found
        finally:
            with self._lock:
                del self._making[key]
            mine.set()  # waiters look again: the snapshot is kept now, or (on an error) one of them makes it

