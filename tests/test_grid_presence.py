"""Presence per browser tab (leaving at once, expiring otherwise), one colour per person, and the
mentions inbox with its read state."""
import pytest

from crm.fundraising.collab import COLOURS
from test_grid_sync import EventStream, apply_ok, get_state, keys, new_id


@pytest.fixture
def grid(server, admin):
    """Two investor rows and maria, a second signed-in member."""
    k = keys(get_state(admin))
    rows = [new_id() for _ in range(2)]
    apply_ok(admin, *[{"op": "add_row", "row_id": r, "cells": {k["name"]: f"LP {i}"}} for i, r in enumerate(rows)])
    return {"server": server, "admin": admin, "maria": server.add_user(admin, "maria"), "keys": k, "rows": rows}


def beat(client, tab, cell=None, editing=False):
    r = client.post("/api/fundraising/collab/heartbeat", {"view_id": None, "cell": cell, "editing": editing, "tab": tab})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def present(client):
    return sorted((p["username"], p["tab"], (p["cell"] or {}).get("row_id")) for p in client.get("/api/fundraising/collab/state").json()["data"])


# -- presence ---------------------------------------------------------------------------------------

def test_each_tab_is_present_on_its_own_and_a_closing_tab_leaves_at_once(grid):
    admin, maria, k, rows = grid["admin"], grid["maria"], grid["keys"], grid["rows"]
    beat(maria, "tab-1", {"row_id": rows[0], "column_id": k["owner"]})
    beat(maria, "tab-2", {"row_id": rows[1], "column_id": k["owner"]})
    assert present(admin) == [("maria", "tab-1", rows[0]), ("maria", "tab-2", rows[1])]
    with EventStream(grid["server"], admin) as stream:
        assert len(stream.next("presence")["data"]) == 2
        r = maria.post("/api/fundraising/collab/leave", {"tab": "tab-1"})
        assert r.status_code == 200 and r.json()["data"] == {"left": True}
        [still] = stream.next("presence", timeout=1.0)["data"]  # at once, not 60 s later
        assert (still["username"], still["tab"]) == ("maria", "tab-2")
    assert present(admin) == [("maria", "tab-2", rows[1])]
    # Leaving twice, or leaving another person's tab, changes nothing.
    assert maria.post("/api/fundraising/collab/leave", {"tab": "tab-1"}).json()["data"] == {"left": False}
    assert admin.post("/api/fundraising/collab/leave", {"tab": "tab-2"}).json()["data"] == {"left": False}
    assert present(admin) == [("maria", "tab-2", rows[1])]


def test_a_tab_that_never_says_goodbye_expires_after_the_heartbeat_timeout(grid):
    server, admin, maria = grid["server"], grid["admin"], grid["maria"]
    now = [5_000.0]
    server.app.presence.clock = lambda: now[0]
    beat(maria, "tab-1")
    beat(maria, "tab-2")
    now[0] += 30.0
    beat(maria, "tab-2")  # tab-1 was closed (no leave arrived); tab-2 still beats
    now[0] += 30.5
    assert present(admin) == [("maria", "tab-2", None)]
    now[0] += 30.0
    assert present(admin) == []


@pytest.mark.parametrize("body, field", [({"tab": 5}, "tab"), ({"tab": "x" * 65}, "tab"), ({"tab": "t", "user_id": "u"}, "user_id")])
def test_a_leave_that_is_not_understood_is_a_422_and_leaves_nobody(grid, body, field):
    maria, admin = grid["maria"], grid["admin"]
    beat(maria, "t")
    r = maria.post("/api/fundraising/collab/leave", body)
    assert r.status_code == 422, r.text
    assert field in r.json()["fields"]
    assert present(admin) == [("maria", "t", None)]


def test_each_person_has_their_own_colour_the_same_in_every_tab(server, admin):
    # Colours go by signup order: the first twelve people never share one.
    people = [admin] + [server.add_user(admin, f"person{i}") for i in range(7)]
    colours = [beat(person, "a")["you"]["color"] for person in people]
    assert colours == list(COLOURS[:8])
    assert len(set(COLOURS)) == len(COLOURS) == 12
    assert [beat(person, "b")["you"]["color"] for person in people] == colours  # another tab: the same colour
    shown = {(p["username"], p["tab"]): p["color"] for p in admin.get("/api/fundraising/collab/state").json()["data"]}
    for person, colour in zip(people, colours):
        assert shown[(person.user["username"], "a")] == shown[(person.user["username"], "b")] == colour


# -- mentions ---------------------------------------------------------------------------------------

def mentions(client, **params):
    r = client.get("/api/fundraising/mentions", params=params)
    assert r.status_code == 200, r.text
    return [(m["body"], m["row_name"], m["read"]) for m in r.json()["data"]]


def unread(client):
    r = client.get("/api/fundraising/mentions/unread")
    assert r.status_code == 200, r.text
    return r.json()["data"]["unread"]


def comment(client, row_id, body):
    r = client.post(f"/api/fundraising/rows/{row_id}/comments", {"body": body})
    assert r.status_code == 201, r.text
    return r.json()["data"]["id"]


def test_a_mention_is_unread_until_read_and_stays_read_when_its_comment_is_edited(grid):
    admin, maria, rows = grid["admin"], grid["maria"], grid["rows"]
    assert unread(maria) == 0
    first = comment(admin, rows[0], "@maria can you call them?")
    second = comment(admin, rows[1], "@maria and @admin: the deck")
    assert unread(maria) == 2 and unread(admin) == 1
    assert mentions(maria) == [("@maria and @admin: the deck", "LP 1", False), ("@maria can you call them?", "LP 0", False)]
    r = maria.post("/api/fundraising/mentions/read", {"comment_ids": [first]})
    assert r.status_code == 200 and r.json()["data"] == {"unread": 1}
    assert mentions(maria) == [("@maria and @admin: the deck", "LP 1", False), ("@maria can you call them?", "LP 0", True)]
    assert mentions(maria, unread=1) == [("@maria and @admin: the deck", "LP 1", False)]
    assert unread(admin) == 1  # another person's inbox is their own
    # An edit that still names her keeps it read; one that names her anew is a new, unread mention.
    r = admin.patch(f"/api/fundraising/rows/{rows[0]}/comments/{first}", {"body": "@maria can you call them today?"})
    assert r.status_code == 200, r.text
    assert unread(maria) == 1
    r = admin.patch(f"/api/fundraising/rows/{rows[0]}/comments/{first}", {"body": "never mind"})
    admin.patch(f"/api/fundraising/rows/{rows[0]}/comments/{first}", {"body": "@maria after all"})
    assert unread(maria) == 2
    assert maria.post("/api/fundraising/mentions/read", {}).json()["data"] == {"unread": 0}  # all of them
    assert mentions(maria, unread=1) == []
    # A deleted comment's mention no longer counts.
    comment(admin, rows[0], "@maria once more")
    assert unread(maria) == 1
    [latest] = maria.get("/api/fundraising/mentions", params={"unread": 1}).json()["data"]
    assert admin.delete(f"/api/fundraising/rows/{rows[0]}/comments/{latest['comment_id']}").status_code == 200
    assert unread(maria) == 0


@pytest.mark.parametrize("body, field", [
    ({"comment_ids": "all"}, "comment_ids"), ({"comment_ids": [1]}, "comment_ids"),
    ({"comment_ids": ["x"] * 1001}, "comment_ids"), ({"everything": True}, "everything")])
def test_marking_mentions_read_with_a_bad_body_is_a_422_and_marks_nothing(grid, body, field):
    admin, maria, rows = grid["admin"], grid["maria"], grid["rows"]
    comment(admin, rows[0], "@maria hello")
    r = maria.post("/api/fundraising/mentions/read", body)
    assert r.status_code == 422, r.text
    assert field in r.json()["fields"]
    assert unread(maria) == 1


def test_a_new_mention_reaches_the_mentioned_persons_event_stream(grid):
    server, admin, maria, rows = grid["server"], grid["admin"], grid["maria"], grid["rows"]
    with EventStream(server, maria) as stream:
        assert stream.next("mentions")["data"] == {"unread": 0}
        comment(admin, rows[0], "@maria look at this")
        assert stream.next("mentions", timeout=1.5)["data"] == {"unread": 1}
        maria.post("/api/fundraising/mentions/read", {})
        assert stream.next("mentions", timeout=1.5)["data"] == {"unread": 0}
