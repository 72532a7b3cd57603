"""The fundraising grid's read and sync path: the change feed, Server-Sent Events, row detail and
history, the relational mirror, exports, archived rows and page caps.
"""
import csv
import io
import json
import random
import socket
import time
import uuid

import pytest

from crm.csvio import unguard
from crm.db import connect

OPS = "/api/fundraising/ops"
STATE = "/api/fundraising/state"


# -- helpers ------------------------------------------------------------------------

def get_state(client) -> dict:
    r = client.get(STATE)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def apply_ok(client, *ops, base=None) -> dict:
    base = get_state(client)["version"] if base is None else base
    r = client.post(OPS, {"base_version": base, "ops": list(ops)})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def keys(state) -> dict:
    return {c["key"]: c["id"] for c in state["grid"]["columns"] if c["key"]}


def row_of(state, row_id) -> dict:
    found = [r for r in state["grid"]["rows"] if r["id"] == row_id]
    assert found, f"row {row_id} is not in the state"
    return found[0]


def new_id() -> str:
    return str(uuid.uuid4())


def sql(server, query, params=()) -> list:
    conn = connect(server.config.db_path)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def set_cell(row_id, column_id, value) -> dict:
    return {"op": "set_cell", "row_id": row_id, "column_id": column_id, "value": value}


class EventStream:
    """GET /api/fundraising/events over a plain socket, read line by line with deadlines."""

    def __init__(self, server, client, headers=None, query=""):
        self.sock = socket.create_connection((server.host, server.port), timeout=5)
        lines = [f"GET /api/fundraising/events{query} HTTP/1.1", f"Host: {server.host}:{server.port}",
                 f"Authorization: Bearer {client.token}", "Accept: text/event-stream"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.file = self.sock.makefile("rb")
        self.status = int(self.file.readline().split()[1])
        self.headers = {}
        while True:
            line = self.file.readline().decode().strip()
            if not line:
                break
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def next(self, name=None, timeout=2.0) -> dict:
        """The next event (the next one called `name`, if given): {id?, event, data (decoded)}."""
        deadline = time.monotonic() + timeout
        event = {}
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {name or 'event'} event within {timeout} s"
            self.sock.settimeout(remaining)
            try:
                raw = self.file.readline()
            except (TimeoutError, socket.timeout):
                raise AssertionError(f"no {name or 'event'} event within {timeout} s") from None
            assert raw, "the stream ended"
            line = raw.decode().rstrip("\r\n")
            if line == "":
                if "event" in event and (name is None or event["event"] == name):
                    event["data"] = json.loads(event["data"])
                    return event
                event = {}
            elif not line.startswith(":"):
                field, _, value = line.partition(":")
                event[field] = value[1:] if value.startswith(" ") else value

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.file.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@pytest.fixture
def grid(server, admin):
    """Three investor rows."""
    k = keys(get_state(admin))
    rows = [new_id() for _ in range(3)]
    apply_ok(admin, *[{"op": "add_row", "row_id": r, "cells": {k["name"]: f"LP {i}"}} for i, r in enumerate(rows)])
    return {"server": server, "admin": admin, "keys": k, "rows": rows}


@pytest.fixture
def two(grid):
    """The grid plus maria, a second signed-in member."""
    return {**grid, "maria": grid["server"].add_user(grid["admin"], "maria")}


# -- the change feed ------------------------------------------------------------------------

def test_changes_since_lists_the_ops_after_a_version(two):
    admin, maria, k, rows = two["admin"], two["maria"], two["keys"], two["rows"]
    v1 = get_state(admin)["version"]
    apply_ok(admin, set_cell(rows[0], k["owner"], "alice"), set_cell(rows[1], k["owner"], "bob"))
    apply_ok(maria, set_cell(rows[0], k["owner"], "maria"))
    apply_ok(admin, {"op": "archive_row", "row_id": rows[2]})
    found = admin.get("/api/fundraising/changes", params={"since": v1 + 1}).json()["data"]
    assert found["version"] == v1 + 3 and found["reset"] is False
    assert [(o["version"], o["kind"], o["row_id"], o["column_id"], o["before"], o["after"], o["actor"]) for o in found["ops"]] == [
        (v1 + 2, "set_cell", rows[0], k["owner"], "alice", "maria", "maria"),
        (v1 + 3, "archive_row", rows[2], None, False, True, "admin"),
    ]
    everything = admin.get("/api/fundraising/changes", params={"since": v1}).json()["data"]["ops"]
    assert [o["version"] for o in everything] == [v1 + 1, v1 + 1, v1 + 2, v1 + 3]
    assert admin.get("/api/fundraising/changes", params={"since": v1 + 3}).json()["data"]["ops"] == []


@pytest.mark.parametrize("since", [None, "", "abc", "-1", "1.5"])
def test_changes_needs_a_whole_number_since(grid, since):
    params = {} if since is None else {"since": since}
    r = grid["admin"].get("/api/fundraising/changes", params=params)
    assert r.status_code == 422, r.text
    assert "since" in r.json()["fields"]


# -- Server-Sent Events -----------------------------------------------------------------------

def test_an_edit_reaches_another_clients_event_stream_within_a_second(two):
    server, admin, maria, k, rows = two["server"], two["admin"], two["maria"], two["keys"], two["rows"]
    with EventStream(server, maria) as stream:
        assert stream.status == 200 and stream.headers["content-type"].startswith("text/event-stream")
        assert stream.next("presence")["data"] == []  # the opening presence snapshot: nobody yet
        for value in ("first", "second"):
            started = time.monotonic()
            version = apply_ok(admin, set_cell(rows[1], k["notes"], value))["version"]
            event = stream.next("ops", timeout=1.0)
            assert time.monotonic() - started < 1.0
            assert event["id"] == str(version) and event["data"]["version"] == version
            [op] = event["data"]["ops"]
            assert (op["kind"], op["row_id"], op["column_id"], op["after"], op["actor"]) == ("set_cell", rows[1], k["notes"], value, "admin")


def test_a_heartbeat_reaches_the_event_stream_as_presence(two):
    server, admin, maria, k, rows = two["server"], two["admin"], two["maria"], two["keys"], two["rows"]
    with EventStream(server, admin) as stream:
        assert stream.next("presence")["data"] == []
        started = time.monotonic()
        target = {"row_id": rows[0], "column_id": k["status"]}
        r = maria.post("/api/fundraising/collab/heartbeat", {"view_id": None, "cell": target, "editing": True})
        assert r.status_code == 200, r.text
        [person] = stream.next("presence", timeout=1.0)["data"]
        assert time.monotonic() - started < 1.0
        assert (person["username"], person["cell"], person["editing"]) == ("maria", target, True)
        maria.post("/api/fundraising/collab/heartbeat", {"view_id": None, "cell": None, "editing": False})
        [person] = stream.next("presence", timeout=1.0)["data"]
        assert (person["username"], person["cell"], person["editing"]) == ("maria", None, False)


def test_reconnecting_with_last_event_id_replays_the_ops_after_it(two):
    server, admin, maria, k, rows = two["server"], two["admin"], two["maria"], two["keys"], two["rows"]
    seen = get_state(admin)["version"]
    apply_ok(admin, set_cell(rows[0], k["owner"], "one"))
    apply_ok(maria, set_cell(rows[1], k["owner"], "two"), set_cell(rows[2], k["owner"], "three"))
    with EventStream(server, maria, headers={"Last-Event-ID": str(seen)}) as stream:
        replay = stream.next("ops", timeout=1.0)
        assert replay["id"] == str(seen + 2)
        assert [(o["version"], o["row_id"], o["after"]) for o in replay["data"]["ops"]] == [
            (seen + 1, rows[0], "one"), (seen + 2, rows[1], "two"), (seen + 2, rows[2], "three")]
        version = apply_ok(admin, set_cell(rows[0], k["owner"], "live"))["version"]
        live = stream.next("ops", timeout=1.0)
        assert live["id"] == str(version) == str(seen + 3) and [o["after"] for o in live["data"]["ops"]] == ["live"]
        last_id = live["id"]
    # Disconnected, the client misses two edits; resuming from the last id it saw replays exactly those.
    apply_ok(admin, set_cell(rows[1], k["owner"], "missed 1"))
    apply_ok(admin, set_cell(rows[2], k["owner"], "missed 2"))
    for how in ({"headers": {"Last-Event-ID": last_id}}, {"query": f"?since={last_id}"}):
        with EventStream(server, maria, **how) as stream:
            replay = stream.next("ops", timeout=1.0)
            assert replay["id"] == str(seen + 5)
            assert [(o["version"], o["after"]) for o in replay["data"]["ops"]] == [(seen + 4, "missed 1"), (seen + 5, "missed 2")]
    # Without either, the stream starts at the current version: nothing old is replayed.
    with EventStream(server, maria) as stream:
        current = get_state(admin)["version"]
        version = apply_ok(admin, set_cell(rows[2], k["owner"], "fresh"))["version"]
        event = stream.next("ops", timeout=1.0)
        assert event["id"] == str(version) and {o["version"] for o in event["data"]["ops"]} == {current + 1}


def test_a_resume_from_too_far_back_or_ahead_of_the_grid_is_a_reset_then_live_ops(two, monkeypatch):
    """The SPA reloads its rows on `reset` (widgets/events.js): a cursor the op log cannot bring up to date gets one."""
    from crm.fundraising import grid
    server, admin, maria, k, rows = two["server"], two["admin"], two["maria"], two["keys"], two["rows"]
    seen = get_state(admin)["version"]
    monkeypatch.setattr(grid, "MAX_CHANGES", 2)
    for n in range(3):  # three ops missed: more than the stream replays
        apply_ok(admin, set_cell(rows[n], k["owner"], f"missed {n}"))
    current = seen + 3
    for cursor in (seen, current + 10):  # too far back; a version this grid has not reached
        with EventStream(server, maria, headers={"Last-Event-ID": str(cursor)}) as stream:
            event = stream.next(timeout=1.0)
            assert (event["event"], event["id"], event["data"]) == ("reset", str(current), {"version": current, "reset": True, "ops": []})
            version = apply_ok(admin, set_cell(rows[0], k["owner"], f"after {cursor}"))["version"]
            live = stream.next("ops", timeout=1.0)  # after the reset, the stream goes on from the current version
            assert live["id"] == str(version) and [o["after"] for o in live["data"]["ops"]] == [f"after {cursor}"]
            current = version
    ahead = admin.get("/api/fundraising/changes", params={"since": current + 1}).json()["data"]
    assert ahead == {"version": current, "reset": True, "ops": []}
    monkeypatch.setattr(grid, "MAX_CHANGES", 5000)
    assert admin.get("/api/fundraising/changes", params={"since": current}).json()["data"]["reset"] is False


@pytest.mark.parametrize("last_id", ["abc", "-1", "1.5", "99999999999999999999999"])
def test_a_bad_last_event_id_is_a_422_naming_since(grid, last_id):
    with EventStream(grid["server"], grid["admin"], headers={"Last-Event-ID": last_id}) as stream:
        assert stream.status == 422
        assert stream.headers["content-type"].startswith("application/json")


def test_the_event_stream_needs_a_signed_in_user(grid):
    server = grid["server"]
    with EventStream(server, server.client("not-a-token")) as stream:
        assert stream.status == 401


# -- one row: detail and history ------------------------------------------------------------------

def test_row_detail_has_cells_contacts_commitments_and_communications(grid):
    admin, k, rows = grid["admin"], grid["keys"], grid["rows"]
    row = rows[0]
    apply_ok(admin, {"op": "add_column", "column_id": "f1", "name": "Fund I", "type": "fund", "fund": {"vintage": 2022}},
             {"op": "add_column", "column_id": "f2", "name": "Fund II", "type": "fund"},
             {"op": "add_column", "column_id": "f3", "name": "Fund III", "type": "fund"},
             set_cell(row, k["organization"], "Blue Pension"),
             set_cell(row, k["contacts"], [{"name": "Ann Lee", "email": "ann@blue.example", "title": "CIO"},
                                           {"name": "Bo Chan", "phone": "+44 20 7946 0000"}]),
             set_cell(row, "f1", 2_000_000), set_cell(row, "f2", 500_000))
    r = admin.post("/api/fundraising/log-communication", {"row_id": row, "type": "call", "subject": "Intro call"})
    assert r.status_code == 201, r.text
    detail = admin.get(f"/api/fundraising/rows/{row}")
    assert detail.status_code == 200, detail.text
    detail = detail.json()["data"]
    state_row = row_of(get_state(admin), row)
    assert detail["id"] == row and detail["cells"] == state_row["cells"]
    assert [(p["name"], p["email"], p["phone"], p["title"]) for p in detail["contacts"]] == [
        ("Ann Lee", "ann@blue.example", None, "CIO"), ("Bo Chan", None, "+44 20 7946 0000", None)]
    assert [p["id"] for p in detail["contacts"]] == [p["id"] for p in state_row["cells"][k["contacts"]]]
    assert all(p["contact_id"] for p in detail["contacts"])
    funds = {f["column_id"]: f["fund_id"] for f in sql(grid["server"], "SELECT column_id, id AS fund_id FROM fundraising_funds")}
    assert sorted((c["column_id"], c["fund_id"], c["fund"], c["amount"]) for c in detail["commitments"]) == [
        ("f1", funds["f1"], "Fund I", 2_000_000), ("f2", funds["f2"], "Fund II", 500_000)]
    [call] = detail["communications"]
    assert (call["type"], call["subject"], call["contact_id"]) == ("call", "Intro call", detail["contacts"][0]["contact_id"])
    assert "Call with Ann Lee: Intro call (admin)" in detail["cells"][k["notes"]]
    assert admin.get(f"/api/fundraising/rows/{new_id()}").status_code == 404


def test_row_history_says_who_changed_which_cell_from_what_to_what_and_when(two):
    admin, maria, k, rows = two["admin"], two["maria"], two["keys"], two["rows"]
    row = rows[1]
    apply_ok(admin, set_cell(row, k["status"], "Contacted"))
    apply_ok(maria, set_cell(row, k["status"], "Meeting"), set_cell(rows[2], k["status"], "Passed"))
    apply_ok(maria, {"op": "archive_row", "row_id": row})
    r = admin.get(f"/api/fundraising/rows/{row}/history")
    assert r.status_code == 200, r.text
    body = r.json()
    entries = body["data"]
    assert body["total"] == 5 == len(entries)  # add_row, its name cell, two status changes, the archive
    assert [(e["kind"], e["column"], e["before"], e["after"], e["actor"]) for e in entries] == [
        ("archive_row", None, False, True, "maria"),
        ("set_cell", "Status", "Contacted", "Meeting", "maria"),
        ("set_cell", "Status", None, "Contacted", "admin"),
        ("set_cell", "Investor", None, "LP 1", "admin"),
        ("add_row", None, None, entries[-1]["after"], "admin"),
    ]
    stamps = [e["at"] for e in entries]
    assert stamps == sorted(stamps, reverse=True) and all(s.endswith("Z") for s in stamps)
    assert entries[1]["column_id"] == k["status"] and entries[1]["version"] > entries[2]["version"]
    page = admin.get(f"/api/fundraising/rows/{row}/history", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 5 and [e["seq"] for e in page["data"]] == [e["seq"] for e in entries[1:3]]
    assert admin.get(f"/api/fundraising/rows/{new_id()}/history").status_code == 404


# -- archived rows and page caps -------------------------------------------------------------

def test_archived_rows_vanish_from_state_and_lists_and_refuse_edits(grid):
    server, admin, k, rows = grid["server"], grid["admin"], grid["keys"], grid["rows"]
    apply_ok(admin, {"op": "archive_row", "row_id": rows[1]})
    state = get_state(admin)
    assert [r["id"] for r in state["grid"]["rows"]] == [rows[0], rows[2]]
    listed = admin.get("/api/fundraising/rows").json()
    assert [r["id"] for r in listed["data"]] == [rows[0], rows[2]] and listed["total"] == 2
    archived = admin.get("/api/fundraising/rows", params={"archived": "1"}).json()
    assert [r["id"] for r in archived["data"]] == [rows[1]] and archived["total"] == 1 and archived["data"][0]["archived"]
    r = admin.post(OPS, {"base_version": state["version"], "ops": [set_cell(rows[1], k["owner"], "x")]})
    assert r.status_code == 409 and "archived" in r.json()["error"]
    assert get_state(admin) == state
    assert sql(server, "SELECT owner FROM fundraising_investors WHERE id = ?", (rows[1],)) == [{"owner": None}]
    apply_ok(admin, {"op": "restore_row", "row_id": rows[1]})
    assert [r["id"] for r in get_state(admin)["grid"]["rows"]] == rows
    assert admin.get("/api/fundraising/rows", params={"archived": "1"}).json()["data"] == []
    apply_ok(admin, set_cell(rows[1], k["owner"], "x"))


def test_row_pages_hold_at_most_1000_rows(grid):
    admin = grid["admin"]
    apply_ok(admin, *[{"op": "add_row"} for _ in range(998)])
    first = admin.get("/api/fundraising/rows").json()
    assert first["total"] == 1001 and len(first["data"]) == 1000 and first["limit"] == 1000
    rest = admin.get("/api/fundraising/rows", params={"offset": 1000}).json()
    assert len(rest["data"]) == 1 and rest["data"][0]["id"] not in {r["id"] for r in first["data"]}
    r = admin.get("/api/fundraising/rows", params={"limit": 1001})
    assert r.status_code == 422 and "limit" in r.json()["fields"]
    assert len(get_state(admin)["grid"]["rows"]) == 1001


# -- the relational mirror -------------------------------------------------------------------

def test_mirror_consistency_after_random_ops(two):
    """Plain SQL on the fundraising_* tables says what GET /state says, and both what the ops asked for."""
    server, admin, maria, k = two["server"], two["admin"], two["maria"], two["keys"]
    rng = random.Random(20240611)
    apply_ok(admin, {"op": "add_column", "column_id": "fa", "name": "Fund A", "type": "fund",
                     "fund": {"vintage": 2021, "target": 10_000_000, "close_date": "2022-06-30"}},
             {"op": "add_column", "column_id": "fb", "name": "Fund B", "type": "fund"})
    apply_ok(admin, {"op": "update_column", "column_id": "fb", "fund": {"name": "Fund B (2025)", "target": 2.5e7}})
    for user, body in ((admin, {"name": "Mine", "config": {"sorts": [{"column_id": k["name"], "direction": "desc"}]}}),
                       (maria, {"name": "Hers", "shared": True, "config": {"hidden": [k["notes"]]}}),
                       (maria, {"name": "Private to maria"})):
        assert user.post("/api/fundraising/views", body).status_code == 201
    statuses = [o["name"] for o in next(c for c in get_state(admin)["grid"]["columns"] if c["key"] == "status")["options"]]
    texts = ("name", "organization", "lead_source", "owner", "notes")
    model = {r: {"archived": False, "cells": {"name": f"LP {i}"}, "funds": {}, "people": []} for i, r in enumerate(two["rows"])}
    serial = iter(range(10_000))
    done = {name: 0 for name in ("add_row", "set_cell", "fund", "add", "edit", "remove", "archive_row", "restore_row")}
    keys_set = set()

    def value_for(key):
        if key in texts:
            return rng.choice([None, f"{key} {next(serial)}", f"{key}, \"quoted\"\nline {next(serial)}"])
        if key == "status":
            return rng.choice([None, *statuses])
        if key in ("graveyard", "longshot"):
            return rng.random() < 0.5
        return rng.choice([None, f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"])

    def person():
        n = next(serial)
        return {"name": f"Person {n}", "email": rng.choice([None, f"p{n}@lp.example"]),
                "phone": rng.choice([None, f"+1 555 {n:04d}"]), "title": rng.choice([None, "Partner", "Analyst"])}

    for _ in range(30):
        state = get_state(admin)
        live = [r for r, m in model.items() if not m["archived"]]
        archived = [r for r, m in model.items() if m["archived"]]
        ops = []
        for _ in range(rng.randint(1, 6)):
            choice = rng.random()
            if choice < 0.15 or not live:
                row_id = new_id()
                cells = {key: value_for(key) for key in rng.sample(sorted(k.keys() - {"contacts"}), 3)}
                model[row_id] = {"archived": False, "cells": cells, "funds": {}, "people": []}
                done["add_row"] += 1
                keys_set.update(cells)
                ops.append({"op": "add_row", "row_id": row_id, "cells": {k[key]: v for key, v in cells.items()}})
                live.append(row_id)
            elif choice < 0.45:
                row_id, key = rng.choice(live), rng.choice(sorted(k.keys() - {"contacts"}))
                value = value_for(key)
                model[row_id]["cells"][key] = value
                done["set_cell"] += 1
                keys_set.add(key)
                ops.append(set_cell(row_id, k[key], value))
            elif choice < 0.6:
                row_id, fund = rng.choice(live), rng.choice(["fa", "fb"])
                amount = rng.choice([None, rng.randint(1, 500) * 10_000, rng.randint(1, 9) * 12_345.5])
                model[row_id]["funds"][fund] = amount
                done["fund"] += 1
                ops.append(set_cell(row_id, fund, amount))
            elif choice < 0.85:
                row_id = rng.choice(live)
                people = model[row_id]["people"]
                if any(o.get("row_id") == row_id and o.get("column_id") == k["contacts"] for o in ops):
                    continue  # ids of people added earlier in this request are not known yet
                stored = {p["id"]: p for p in (row_of(state, row_id)["cells"].get(k["contacts"], []) if row_id in
                                               {r["id"] for r in state["grid"]["rows"]} else [])}
                action = rng.choice(["add", "edit", "remove"]) if people else "add"
                if action == "add":
                    people.append({"id": None, **person()})
                elif action == "edit":
                    target = rng.choice(people)
                    target.update(title=rng.choice([None, "Principal", "Director"]), phone=f"+1 555 9{next(serial):03d}")
                else:
                    people.remove(rng.choice(people))
                done[action] += 1
                assert all(p["id"] is None or p["id"] in stored for p in people)
                ops.append(set_cell(row_id, k["contacts"], [{kk: v for kk, v in p.items() if kk != "id" or v} for p in people]))
            elif choice < 0.93 and len(live) > 1:
                row_id = rng.choice(live)
                model[row_id]["archived"] = True
                done["archive_row"] += 1
                live.remove(row_id)
                ops.append({"op": "archive_row", "row_id": row_id})
            elif archived:
                row_id = archived.pop()
                model[row_id]["archived"] = False
                done["restore_row"] += 1
                ops.append({"op": "restore_row", "row_id": row_id})
        if not ops:
            continue
        apply_ok(rng.choice([admin, maria]), *ops, base=state["version"])
        # learn the ids given to new people, and check edited ones kept theirs
        after = get_state(admin)
        for row in after["grid"]["rows"]:
            people = model[row["id"]]["people"]
            held = row["cells"].get(k["contacts"], [])  # a row without contacts has no contacts cell
            assert len(held) == len(people)
            for mine, theirs in zip(people, held):
                assert mine["id"] in (None, theirs["id"])
                mine["id"] = theirs["id"]

    if not any(m["archived"] for m in model.values()):  # end with an archived row, whatever the dice said
        row_id = next(r for r, m in model.items() if not m["archived"])
        model[row_id]["archived"] = True
        apply_ok(admin, {"op": "archive_row", "row_id": row_id})
    assert all(done.values()), done  # the run exercised every kind of change
    assert keys_set == k.keys() - {"contacts"}, keys_set
    state = get_state(admin)
    columns = {c["id"]: c for c in state["grid"]["columns"]}

    # 1. investors: row set, order and every well-known field
    investors = sql(server, "SELECT * FROM fundraising_investors WHERE archived_at IS NULL ORDER BY position, id")
    assert [i["id"] for i in investors] == [r["id"] for r in state["grid"]["rows"]]
    for inv, row in zip(investors, state["grid"]["rows"]):
        for key, column_id in k.items():
            if key == "contacts":
                continue
            stored = inv[key]
            if key in ("graveyard", "longshot"):
                assert stored in (0, 1)
                stored = bool(stored)
            assert row["cells"][column_id] == stored, (row["id"], key)
    archived_sql = {i["id"] for i in sql(server, "SELECT id FROM fundraising_investors WHERE archived_at IS NOT NULL")}
    archived_api = {r["id"] for r in admin.get("/api/fundraising/rows", params={"archived": "1"}).json()["data"]}
    assert archived_sql == archived_api == {r for r, m in model.items() if m["archived"]}
    assert archived_api, "the run should leave some rows archived"

    # 2. funds and commitments
    funds = sql(server, "SELECT id, column_id, name, vintage, target, close_date FROM fundraising_funds WHERE deleted_at IS NULL")
    assert {f["column_id"]: {kk: f[kk] for kk in ("id", "name", "vintage", "target", "close_date")} for f in funds} == \
        {cid: c["fund"] for cid, c in columns.items() if c["type"] == "fund"}
    assert columns["fb"]["fund"]["name"] == "Fund B (2025)" and columns["fa"]["fund"]["vintage"] == 2021
    fund_column = {f["id"]: f["column_id"] for f in funds}
    commitments = sql(server, "SELECT c.investor_id, c.fund_id, c.amount FROM fundraising_commitments c "
                              "JOIN fundraising_investors i ON i.id = c.investor_id WHERE i.archived_at IS NULL")
    assert {(c["investor_id"], fund_column[c["fund_id"]]): c["amount"] for c in commitments} == \
        {(r["id"], f): r["cells"][f] for r in state["grid"]["rows"] for f in ("fa", "fb") if r["cells"].get(f) is not None}
    assert commitments, "the run should leave some commitments"

    # 3. contacts
    contacts = sql(server, "SELECT c.id, c.investor_id, c.column_id, c.name, c.email, c.phone, c.title FROM fundraising_contacts c "
                           "JOIN fundraising_investors i ON i.id = c.investor_id WHERE c.deleted_at IS NULL AND i.archived_at IS NULL "
                           "ORDER BY c.investor_id, c.position")
    by_row = {}
    for c in contacts:
        assert c["column_id"] == k["contacts"]
        by_row.setdefault(c["investor_id"], []).append({kk: c[kk] for kk in ("id", "name", "email", "phone", "title")})
    assert by_row == {r["id"]: [{kk: p[kk] for kk in ("id", "name", "email", "phone", "title")} for p in r["cells"][k["contacts"]]]
                      for r in state["grid"]["rows"] if r["cells"].get(k["contacts"])}
    assert contacts and sql(server, "SELECT count(*) AS n FROM fundraising_contacts WHERE deleted_at IS NOT NULL")[0]["n"] > 0

    # 4. views (as this user sees them)
    views = sql(server, "SELECT id, name, owner_id, shared, locked, config FROM fundraising_views WHERE deleted_at IS NULL "
                        "AND (shared = 1 OR owner_id = ?) ORDER BY position, created_at", (admin.user["id"],))
    assert [(v["id"], v["name"], v["owner_id"], bool(v["shared"]), bool(v["locked"]), json.loads(v["config"])) for v in views] == \
        [(v["id"], v["name"], v["owner_id"], v["shared"], v["locked"], v["config"]) for v in state["views"]]
    assert "Private to maria" not in [v["name"] for v in state["views"]] and "Hers" in [v["name"] for v in state["views"]]

    # 5. and both say what the ops asked for
    for row in state["grid"]["rows"]:
        mine = model[row["id"]]
        for key, value in mine["cells"].items():
            expected = bool(value) if key in ("graveyard", "longshot") else value
            assert row["cells"][k[key]] == expected, (row["id"], key)
        for fund in ("fa", "fb"):
            assert row["cells"].get(fund) == mine["funds"].get(fund), (row["id"], fund)
        assert [(p["id"], p["name"], p["email"], p["phone"], p["title"]) for p in row["cells"].get(k["contacts"], [])] == \
            [(p["id"], p["name"], p["email"], p["phone"], p["title"]) for p in mine["people"]]


# -- exports ---------------------------------------------------------------------------------

def rendered(value, column) -> str:
    """A cell as text, the way the export documents it."""
    if isinstance(value, dict):
        return "#ERROR"
    if value is None or value == []:
        return ""
    if column["type"] == "checkbox":
        return "checked" if value else ""
    if column["type"] == "contacts":
        return ", ".join(f"{p['name']} <{p['email']}>" if p["email"] else p["name"] for p in value)
    if isinstance(value, list):
        return ", ".join(f'"{v}"' if "," in v else v for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_export_csv_parses_back_to_the_json_export(grid):
    admin, k, rows = grid["admin"], grid["keys"], grid["rows"]
    apply_ok(admin,
             {"op": "add_column", "column_id": "amt", "name": "Amount", "type": "number"},
             {"op": "add_column", "column_id": "tags", "name": "Tags", "type": "multi_select", "options": ["Fast", "Big, Slow"]},
             {"op": "add_column", "column_id": "f1", "name": "Fund I", "type": "fund"},
             {"op": "add_column", "column_id": "ratio", "name": "Ratio", "type": "formula", "formula": "{Fund I} / {Amount}"},
             set_cell(rows[0], k["notes"], 'said "maybe", then\nsaid yes'),
             set_cell(rows[0], k["lead_source"], "=HYPERLINK(\"http://evil\")"),
             set_cell(rows[0], "amt", 4), set_cell(rows[0], "f1", 1_000_000), set_cell(rows[0], "tags", ["Big, Slow", "Fast"]),
             set_cell(rows[0], k["contacts"], [{"name": "Ann Lee", "email": "ann@x.example"}, {"name": "Bo"}]),
             set_cell(rows[0], k["longshot"], True), set_cell(rows[0], k["follow_up"], "2026-05-01"),
             set_cell(rows[1], "amt", 2.5), set_cell(rows[1], k["status"], "Passed"),   # no fund: Ratio is 0
             set_cell(rows[2], "f1", 10), set_cell(rows[2], k["graveyard"], True))       # no amount: #DIV/0
    state = get_state(admin)
    assert isinstance(row_of(state, rows[2])["cells"]["ratio"], dict)  # a formula error is exported as #ERROR
    all_investors = next(v for v in state["views"] if v["name"] == "All investors")
    r = admin.post("/api/fundraising/views", {"name": "Export", "config": {"hidden": [k["notes"]], "order": ["amt", k["name"]],
                                                                          "sorts": [{"column_id": "amt", "direction": "desc"}]}})
    assert r.status_code == 201, r.text
    custom = r.json()["data"]["id"]
    for view_id, expected_rows in ((None, rows), (all_investors["id"], rows[:2]), (custom, [rows[0], rows[1], rows[2]])):
        params = {"view_id": view_id} if view_id else {}
        as_json = admin.get("/api/fundraising/export", params={**params, "format": "json"})
        as_csv = admin.get("/api/fundraising/export", params={**params, "format": "csv"})
        assert as_json.status_code == 200 and as_csv.status_code == 200, (as_json.text, as_csv.text)
        assert as_csv.headers["content-type"].startswith("text/csv")
        data = as_json.json()["data"]
        assert [r["id"] for r in data["rows"]] == expected_rows, view_id
        parsed = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8"), newline="")))
        assert parsed[0] == [c["name"] for c in data["columns"]]
        assert [[unguard(v) for v in line] for line in parsed[1:]] == \
            [[rendered(r["cells"].get(c["id"]), c) for c in data["columns"]] for r in data["rows"]]
        if view_id == custom:
            names = [c["name"] for c in data["columns"]]
            assert names[:2] == ["Amount", "Investor"] and "Notes" not in names
    # what a spreadsheet would evaluate is guarded in the file itself
    raw = admin.get("/api/fundraising/export", params={"format": "csv"}).content.decode()
    assert "'=HYPERLINK" in raw and "checked" in raw and "#ERROR" in raw and '"""Big, Slow"", Fast"' in raw


@pytest.mark.parametrize("params, status", [({"format": "xml"}, 422), ({"format": "csv", "view_id": "nope"}, 404)])
def test_export_refuses_unknown_formats_and_views(grid, params, status):
    assert grid["admin"].get("/api/fundraising/export", params=params).status_code == status
