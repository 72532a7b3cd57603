"""The grid keeper: a thread that makes the live snapshot before anyone asks for it, when making it is slow.

At 100,000 rows, building the snapshot at start-up takes seconds, and so does the first read
after a large change (a paste of 5,000 rows, a fill, an import, a column op that rebuilds it):
the touched rows are read again, and every view they touch is filtered and sorted whole again
(view_plan.py derives only from small changes). Without the keeper the first partner to open
the grid after such a change waits through all of it. The keeper does it right after start-up
and after each large change (it wakes when the grid's collaborators are told of a change), and
works out again the views the snapshot before answered, so those first pages are ready too.
A small change is left to the readers: advancing by a few rows and deriving views costs them
milliseconds, and making snapshots nobody asks for would only add work between edits.
A reader who comes while the keeper works waits for its answer instead of making its own
(live.LiveGrid._kept_or_made, live.Snapshot.through_view).
"""
import logging
import threading

from .live import ROW_KINDS

LARGE_CHANGE = 1000  # touched rows (or, on a grid of more rows, any op but a row op) that wake the keeper
SETTLE = 0.2         # s of quiet after a change before the keeper starts (a large edit comes in parts)
WAKE = 5.0           # s between looks when nothing is said (a writer that does not tell, a stop)

log = logging.getLogger("crm.fundraising")


class Keeper(threading.Thread):
    def __init__(self, grid, pool, changes, stop: threading.Event):
        """`changes`: what the grid's writers notify (collab.Presence: its `generation` and `wait`)."""
        super().__init__(name="grid-keeper", daemon=True)
        self.grid, self.pool, self.changes, self.stop_event = grid, pool, changes, stop

    def run(self) -> None:
        generation = self.changes.generation
        self.keep()
        while not self.stop_event.is_set():
            seen = self.changes.wait(generation, WAKE)  # a look on the timeout too: not every writer tells
            while not self.stop_event.wait(SETTLE) and self.changes.generation != seen:
                seen = self.changes.generation  # still changing: wait for the last part
            generation = seen
            self.keep()

    def keep(self) -> None:
        """Make the current snapshot when none is kept or the change since the newest is large, and
        answer again the views the newest answered (those on the same columns: the others' saved
        config no longer fits and is worked out by its next reader)."""
        conn = self.pool.acquire()
        try:
            before = self.grid.newest()
            if before is not None and not large_change(conn, before):
                return
            snap = self.grid.snapshot(conn)
            if before is None or snap is before:
                return
            for key, plan in reversed(before.plans()):  # the most recently asked first: the likeliest next
                if plan.columns == snap.columns:
                    snap.through_view(key, plan)
        except Exception:  # the next reader makes it instead; say why this could not
            log.exception("the grid keeper could not make the snapshot")
        finally:
            self.pool.release(conn)


def large_change(conn, snap) -> bool:
    """Whether the ops after `snap`'s version touch more than LARGE_CHANGE rows, or (on a grid of
    more than LARGE_CHANGE rows) include one that is not a row op (it may rebuild the snapshot)."""
    found = conn.execute("SELECT COUNT(DISTINCT investor_id) AS touched, "
                         f"SUM(kind NOT IN ({','.join('?' * len(ROW_KINDS))})) AS other "
                         "FROM fundraising_ops WHERE version > ?", (*sorted(ROW_KINDS), snap.version)).fetchone()
    return found["touched"] > LARGE_CHANGE or (bool(found["other"]) and len(snap.rows) > LARGE_CHANGE)
