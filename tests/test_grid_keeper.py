"""The grid keeper (fundraising/keeper.py): after a large change it makes the new version's
snapshot and answers again the views the one before answered, before anyone asks; a small
change it leaves to the readers. And one answer per view and snapshot, however many ask at once.

The keeper's threshold is lowered for these tests (a large change is >1,000 rows by default),
and each test starts a keeper on its server as crm.app.start_background does.
"""
import threading
import time

import pytest

from test_grid_ops import apply_ok, cid, get_state, keys, typed_columns_ops
from test_grid_view_plan import ROWS, expected, listed, saved_views

from crm.fundraising import keeper
from crm.fundraising.live import Snapshot


@pytest.fixture
def kept(server, monkeypatch):
    monkeypatch.setattr(keeper, "LARGE_CHANGE", 5)
    app = server.app
    keeper.Keeper(app.grid, app.pool, app.presence, app.stopping).start()
    return server


def held_when_ready(server, version, timeout=10.0):
    """The snapshot of `version` once the keeper has made it and answered a view on it, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snap = server.app.grid.held(version)
        if snap is not None and sum(snap.view_counts.values()):
            return snap
        time.sleep(0.05)
    return None


def version_now(client) -> int:
    r = client.get(ROWS, params={"limit": 1, "shape": "ids", "view_id": ""})
    return r.json()["version"]


def a_grid_with_a_view(admin):
    k = keys(get_state(admin))
    apply_ok(admin, *typed_columns_ops(), *({"op": "add_row", "row_id": f"r{n}", "cells": {
        k["name"]: f"LP {n}", cid("number"): n % 9}} for n in range(30)))
    config = {"filters": {"conjunction": "and", "conditions": [{"column_id": cid("number"), "operator": ">", "value": 2}]},
              "sorts": [{"column_id": cid("number"), "direction": "desc"}]}
    return config, saved_views(admin, {"big numbers first": config})["big numbers first"]


def test_after_a_large_change_the_views_are_answered_before_anyone_asks(kept, admin):
    server = kept
    config, view_id = a_grid_with_a_view(admin)
    assert listed(admin, view_id)[0] == expected(server, config)  # the view answered once at this version
    changed = apply_ok(admin, *({"op": "set_cell", "row_id": f"r{n}", "column_id": cid("number"), "value": 20 + n}
                                for n in range(10)))
    snap = held_when_ready(server, changed["version"])  # nobody has read the grid since the change
    assert snap is not None, "the keeper did not make the snapshot after a change of 10 rows"
    assert snap.view_counts == {"computed": 0, "derived": 1}
    ids, version = listed(admin, view_id)
    assert (ids, version) == (expected(server, config), changed["version"])
    assert ids[:3] == ["r9", "r8", "r7"]
    assert snap.view_counts == {"computed": 0, "derived": 1}  # the reader took the keeper's answer


def test_a_small_change_is_left_to_the_readers(kept, admin):
    server = kept
    config, view_id = a_grid_with_a_view(admin)
    listed(admin, view_id)
    changed = apply_ok(admin, *({"op": "set_cell", "row_id": f"r{n}", "column_id": cid("number"), "value": 1}
                                for n in range(5)))
    time.sleep(keeper.SETTLE * 5)
    assert server.app.grid.held(changed["version"]) is None
    assert listed(admin, view_id) == (expected(server, config), changed["version"])
    assert server.app.grid.held(changed["version"]).view_counts == {"computed": 0, "derived": 1}


def test_a_column_change_on_a_large_grid_rebuilds_the_snapshot_at_once(kept, admin):
    server = kept
    config, view_id = a_grid_with_a_view(admin)
    listed(admin, view_id)
    built = server.app.grid.counts["built"]
    changed = apply_ok(admin, {"op": "update_column", "column_id": cid("text"), "name": "Remarks"})
    deadline = time.monotonic() + 10
    while server.app.grid.held(changed["version"]) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.app.grid.held(changed["version"]) is not None
    assert server.app.grid.counts["built"] == built + 1
    state = get_state(admin)
    assert next(c for c in state["grid"]["columns"] if c["id"] == cid("text"))["name"] == "Remarks"
    assert server.app.grid.counts["built"] == built + 1  # the reader found the keeper's


class SlowPlan:
    """A view whose answer takes a while: the rows in reverse, counting how often it is worked out."""

    def __init__(self):
        self.columns, self.calls, self.release = [], 0, threading.Event()

    def compute(self, rows, text_of):
        self.calls += 1
        self.release.wait(5)
        return list(reversed(rows))

    def derive(self, previous, touched, row_of):
        return None


def test_readers_of_a_view_being_worked_out_wait_for_that_answer():
    rows = [{"id": f"r{n}", "position": n, "cells": {}, "archived": False} for n in range(3)]
    snap = Snapshot({"version": 1, "updated_at": "", "updated_by": None}, [], rows, {})
    plan, answers = SlowPlan(), []
    readers = [threading.Thread(target=lambda: answers.append(snap.through_view("k", plan))) for _ in range(4)]
    for reader in readers:
        reader.start()
    time.sleep(0.2)
    plan.release.set()
    for reader in readers:
        reader.join(5)
    assert plan.calls == 1 and len(answers) == 4
    assert all(answer is answers[0] for answer in answers) and [r["id"] for r in answers[0]] == ["r2", "r1", "r0"]
    assert snap.plans() == [("k", plan)] and snap.view_counts == {"computed": 1, "derived": 0}
