"""The email-activity panel (issue 17): GET /api/email/activity, /activity/investors and
/detail/{id}, against mail captured for real through the stand-in Google. What it lists is
matched (an investor link) and live (some mailbox still holds it); direction is the email's
(outbound when its from is one of our mailboxes); the graveyard is hidden from the picker only.
The panel reads indexes kept by triggers (email migration 0003): every test that changes the
mail also checks that they say what the base tables say."""
import re
import sqlite3
from datetime import datetime, timezone

import pytest

from conftest import serving
from crm.db import migrate, transaction
from crm.email import queries, store
from email_helpers import DOMAIN, capture_config, grant, mail
from fakes.google import FakeGoogle

ADMIN, MEMBER = f"admin@{DOMAIN}", f"maria@{DOMAIN}"
JANE, BOB, OLGA = "jane@acme.example", "bob@beta.example", "olga@old.example"
STRANGER = "stranger@unknown.example"


def at(day, hour=9) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=timezone.utc)


# -- helpers ----------------------------------------------------------------------------------

def grid_keys(client) -> tuple:
    state = client.get("/api/fundraising/state").json()["data"]
    return state, {c["key"]: c["id"] for c in state["grid"]["columns"] if c["key"]}


def grid_ops(client, *ops) -> None:
    state, _ = grid_keys(client)
    r = client.post("/api/fundraising/ops", {"base_version": state["version"], "ops": list(ops)})
    assert r.status_code == 200, r.text


def add_investor(client, name, person, email) -> str:
    """A grid investor with one contact; returns its row id."""
    _, key = grid_keys(client)
    grid_ops(client, {"op": "add_row", "cells": {key["name"]: name, key["contacts"]: [{"name": person, "email": email}]}})
    rows = client.get("/api/fundraising/state").json()["data"]["grid"]["rows"]
    return next(row["id"] for row in rows if row["cells"].get(key["name"]) == name)


def to_graveyard(client, investor_id) -> None:
    _, key = grid_keys(client)
    grid_ops(client, {"op": "set_cell", "row_id": investor_id, "column_id": key["graveyard"], "value": True})


def accounts(admin) -> dict:
    return {a["email"]: a["id"] for a in admin.get("/api/email/accounts").json()["data"]}


def sync(server, account_id) -> None:
    run = server.app.email.sync(account_id)  # what the scheduler and run-now call
    assert run is not None and run["status"] == "ok", run


def panel(client, **query) -> dict:
    r = client.get("/api/email/activity", params=query)
    assert r.status_code == 200, r.text
    return r.json()


def subjects(client, **query) -> list:
    return [item["subject"] for item in panel(client, **query)["data"]]


def db(server):
    conn = sqlite3.connect(server.config.db_path)
    conn.row_factory = sqlite3.Row
    return conn


def assert_indexes_follow_the_tables(server) -> None:
    """The panel's rows (migration 0003) are exactly what the base tables define."""
    with db(server) as conn:
        def pairs(sql):
            return {tuple(r) for r in conn.execute(sql)}
        listed = ("SELECT e.id FROM emails e WHERE EXISTS (SELECT 1 FROM email_investor_links l WHERE l.email_id = e.id)"
                  " AND EXISTS (SELECT 1 FROM email_account_messages m WHERE m.email_id = e.id AND m.deleted_at IS NULL)")
        assert pairs("SELECT email_id, sent_at, outbound FROM email_activity") == pairs(
            f"SELECT e.id, e.sent_at, e.from_email IN (SELECT email FROM email_accounts) FROM emails e WHERE e.id IN ({listed})")
        assert pairs("SELECT account_id, email_id, sent_at, outbound, seq FROM email_activity_mailboxes") == pairs(
            "SELECT DISTINCT m.account_id, a.email_id, a.sent_at, a.outbound, a.seq FROM email_activity a"
            " JOIN email_account_messages m ON m.email_id = a.email_id AND m.deleted_at IS NULL")
        assert pairs("SELECT investor_id, email_id FROM email_activity_investors") == pairs(
            "SELECT DISTINCT l.fundraising_investor_id, l.email_id FROM email_investor_links l"
            f" WHERE l.fundraising_investor_id IS NOT NULL AND l.email_id IN ({listed})")
        assert pairs("SELECT rowid, subject, snippet, sender FROM email_activity_fts") == pairs(
            "SELECT a.seq, e.subject, coalesce(e.snippet, ''), coalesce(e.from_name, '') || ' ' || coalesce(e.from_email, '')"
            " FROM email_activity a JOIN emails e ON e.id = a.email_id")


# -- the team's mail, captured once for the read-only tests ------------------------------------

@pytest.fixture(scope="module")
def team(tmp_path_factory):
    """Two mailboxes (the admin's and Maria's) and their mail with three investors, one of them
    in the graveyard, synced once. Newest first the panel lists: Diligence questions (Maria's),
    Re: Fund II close (the admin's reply to Jane, cc Maria: in both mailboxes), Fund II close,
    Terms: 2% carry, Old Money update (the graveyard's); never the cold pitch."""
    data = tmp_path_factory.mktemp("activity")
    with FakeGoogle() as google:
        google.write_key_file(data / "sa.json")
        with serving(data, **capture_config(google, data / "sa.json")) as server:
            admin = server.register_admin()
            member = server.add_user(admin, "maria")
            investors = {"acme": add_investor(admin, "Acme LP", "Jane Doe", JANE),
                         "beta": add_investor(admin, "Beta Capital", "Bob Stone", BOB),
                         "old": add_investor(admin, "Old Money", "Olga Old", OLGA)}
            to_graveyard(admin, investors["old"])
            grant(google, ADMIN, MEMBER)
            assert admin.post("/api/email/accounts/enroll-all").status_code == 200
            mailbox = accounts(admin)
            close = "<close-1@acme.example>"
            google.add_message(ADMIN, mail(f"Jane Doe <{JANE}>", ADMIN, "Fund II close", message_id=close, date=at(10),
                                           html="<p>Hi<script>alert(1)</script></p>"))
            reply = mail(ADMIN, JANE, "Re: Fund II close", body="Glad to hear it.", cc=[MEMBER], in_reply_to=close,
                         date=at(11))
            google.add_message(ADMIN, reply, label_ids=("SENT",))
            google.add_message(MEMBER, reply)
            google.add_message(MEMBER, mail(f"Bob Stone <{BOB}>", MEMBER, "Diligence questions",
                                            body="Could you send the data room link?", date=at(12)))
            google.add_message(ADMIN, mail(STRANGER, ADMIN, "Cold pitch", date=at(13)))
            google.add_message(ADMIN, mail(f"Olga Old <{OLGA}>", ADMIN, "Old Money update", date=at(5)))
            google.add_message(ADMIN, mail(JANE, ADMIN, "Terms: 2% carry", body="Carry terms attached.", date=at(8)))
            for account in mailbox.values():
                sync(server, account)
            yield {"server": server, "admin": admin, "member": member, "investors": investors,
                   "admin_box": mailbox[ADMIN], "member_box": mailbox[MEMBER]}


def test_the_panel_lists_matched_live_mail_newest_first_with_what_each_item_needs(team):
    admin = team["admin"]
    answer = panel(admin)
    assert [i["subject"] for i in answer["data"]] == [
        "Diligence questions", "Re: Fund II close", "Fund II close", "Terms: 2% carry", "Old Money update"]
    assert (answer["total"], answer["limit"], answer["offset"]) == (5, 50, 0)
    reply, original = answer["data"][1], answer["data"][2]
    assert reply["from"]["email"] == ADMIN and [p["email"] for p in reply["to"]] == [JANE]
    assert [p["email"] for p in reply["cc"]] == [MEMBER]
    assert reply["sent_at"] == "2026-01-11T09:00:00Z" and reply["snippet"].startswith("Glad to hear it")
    assert reply["direction"] == "outbound" and original["direction"] == "inbound"
    assert reply["mailboxes"] == sorted([team["admin_box"], team["member_box"]])
    assert original["mailboxes"] == [team["admin_box"]]
    assert reply["investors"] == [{"id": team["investors"]["acme"], "name": "Acme LP"}]
    assert reply["thread_id"] == original["thread_id"] and reply["has_body"] is True
    assert original["from"] == {"name": "Jane Doe", "email": JANE}
    graveyard = answer["data"][4]
    assert graveyard["investors"] == [{"id": team["investors"]["old"], "name": "Old Money"}]  # listed all the same
    assert_indexes_follow_the_tables(team["server"])


FILTERS = [
    ({"investor_id": "acme"}, ["Re: Fund II close", "Fund II close", "Terms: 2% carry"]),
    ({"investor_id": "beta"}, ["Diligence questions"]),
    ({"investor_id": "old"}, ["Old Money update"]),  # a graveyard investor's mail is still there
    ({"investor_id": "no-such-investor"}, []),
    ({"account_id": "admin_box"}, ["Re: Fund II close", "Fund II close", "Terms: 2% carry", "Old Money update"]),
    ({"account_id": "member_box"}, ["Diligence questions", "Re: Fund II close"]),
    ({"account_id": "no-such-mailbox"}, []),
    ({"direction": "outbound"}, ["Re: Fund II close"]),
    ({"direction": "inbound"}, ["Diligence questions", "Fund II close", "Terms: 2% carry", "Old Money update"]),
    # From the admin, so outbound in the mailbox of Maria, who received it.
    ({"direction": "outbound", "account_id": "member_box"}, ["Re: Fund II close"]),
    ({"direction": "inbound", "account_id": "member_box"}, ["Diligence questions"]),
    ({"q": "diligence"}, ["Diligence questions"]),                      # subject
    ({"q": "DILIG"}, ["Diligence questions"]),                          # a prefix, any case
    ({"q": "data room"}, ["Diligence questions"]),                      # snippet
    ({"q": "Stone"}, ["Diligence questions"]),                          # the sender's name
    ({"q": "bob@beta.example"}, ["Diligence questions"]),               # the sender's address
    ({"q": "close fund"}, ["Re: Fund II close", "Fund II close"]),     # every word, in any order
    ({"q": "olga"}, ["Old Money update"]),                              # the graveyard is searchable
    ({"q": "%"}, ["Terms: 2% carry"]),                                  # no word: taken literally
    ({"q": "_"}, []),
    ({"q": "cold pitch"}, []),                                          # unmatched: never listed
    ({"q": "close", "account_id": "member_box"}, ["Re: Fund II close"]),
    ({"since": "2026-01-10"}, ["Diligence questions", "Re: Fund II close", "Fund II close"]),
    ({"since": "2026-01-11T09:00:00Z"}, ["Diligence questions", "Re: Fund II close"]),          # inclusive
    ({"until": "2026-01-11T09:00:00Z"}, ["Fund II close", "Terms: 2% carry", "Old Money update"]),  # exclusive
    ({"since": "2026-01-11T10:00:00+01:00"}, ["Diligence questions", "Re: Fund II close"]),     # 09:00 UTC
    ({"since": "2026-01-11T09:00:00.5Z"}, ["Diligence questions"]),
    ({"until": "2026-01-11T09:00:00.5Z"}, ["Re: Fund II close", "Fund II close", "Terms: 2% carry", "Old Money update"]),
    ({"since": "2026-01-08", "until": "2026-01-11"}, ["Fund II close", "Terms: 2% carry"]),
    ({"since": "2026-01-11", "until": "2026-01-10"}, []),
    ({"since": "2026-01-08", "account_id": "admin_box"}, ["Re: Fund II close", "Fund II close", "Terms: 2% carry"]),
    ({"investor_id": "acme", "direction": "inbound", "since": "2026-01-09"}, ["Fund II close"]),
    ({"investor_id": "acme", "account_id": "member_box"}, ["Re: Fund II close"]),
    ({"investor_id": "acme", "q": "terms"}, ["Terms: 2% carry"]),
]


@pytest.mark.parametrize("query, expected", FILTERS, ids=[str(q) for q, _ in FILTERS])
def test_each_filter_and_their_combinations(team, query, expected):
    names = {**{k: v for k, v in team["investors"].items()}, "admin_box": team["admin_box"],
             "member_box": team["member_box"]}
    query = {k: names.get(v, v) if k in ("investor_id", "account_id") else v for k, v in query.items()}
    answer = panel(team["admin"], **query)
    assert [i["subject"] for i in answer["data"]] == expected
    assert answer["total"] == len(expected)


def test_pages_keep_the_order_and_the_total(team):
    admin = team["admin"]
    every = subjects(admin)
    seen = []
    for offset in range(0, 6, 2):
        answer = panel(admin, limit=2, offset=offset)
        assert answer["total"] == 5 and (answer["limit"], answer["offset"]) == (2, offset)
        seen += [i["subject"] for i in answer["data"]]
    assert seen == every
    beyond = panel(admin, offset=10)
    assert beyond["data"] == [] and beyond["total"] == 5
    answer = panel(admin, limit=1, offset=1, account_id=team["member_box"], q="fund")
    assert [i["subject"] for i in answer["data"]] == [] and answer["total"] == 1


BAD = [
    ({"direction": "sideways"}, {"direction"}),
    ({"direction": "Outbound"}, {"direction"}),
    ({"since": "yesterday"}, {"since"}),
    ({"until": "2026-13-01"}, {"until"}),
    ({"since": "9999-12-31T23:59:59.5Z"}, {"since"}),
    ({"since": "2026-02-30", "direction": "up"}, {"since", "direction"}),
    ({"limit": "0"}, {"limit"}),
    ({"offset": "-1"}, {"offset"}),
]


@pytest.mark.parametrize("query, fields", BAD, ids=[str(q) for q, _ in BAD])
def test_a_bad_filter_is_a_422_naming_it(team, query, fields):
    r = team["admin"].get("/api/email/activity", params=query)
    assert r.status_code == 422, r.text
    assert set(r.json()["fields"]) == fields


def test_the_panel_is_for_admins_only(team):
    email_id = panel(team["admin"])["data"][0]["id"]
    anonymous = team["server"].client()
    for path in ("/api/email/activity", "/api/email/activity/investors", f"/api/email/detail/{email_id}"):
        assert team["member"].get(path).status_code == 403, path
        assert anonymous.get(path).status_code == 401, path


def test_the_picker_lists_investors_with_mail_and_leaves_the_graveyard_out(team):
    r = team["admin"].get("/api/email/activity/investors")
    assert r.status_code == 200, r.text
    assert r.json()["data"] == [{"id": team["investors"]["acme"], "name": "Acme LP", "email_count": 3},
                                {"id": team["investors"]["beta"], "name": "Beta Capital", "email_count": 1}]


def test_the_detail_has_the_headers_and_bodies_and_its_html_is_sanitised_again(team):
    admin, server = team["admin"], team["server"]
    listed = {i["subject"]: i for i in panel(admin)["data"]}
    r = admin.get(f"/api/email/detail/{listed['Fund II close']['id']}")
    assert r.status_code == 200, r.text
    detail = r.json()["data"]
    assert {k: detail[k] for k in listed["Fund II close"]} == listed["Fund II close"]  # what the list said, and more
    assert detail["from"] == {"name": "Jane Doe", "email": JANE} and [p["email"] for p in detail["to"]] == [ADMIN]
    assert detail["subject"] == "Fund II close" and detail["sent_at"] == "2026-01-10T09:00:00Z"
    assert detail["body_text"].startswith("Looking forward to the close")
    assert "Hi" in detail["body_html"] and "script" not in detail["body_html"]
    # HTML stored under a looser allow-list than today's is cleaned on the way out as well.
    carry = listed["Terms: 2% carry"]["id"]
    with db(server) as conn:
        conn.execute("UPDATE emails SET body_html = ? WHERE id = ?",
                     ('<p onclick="steal()">Carry</p><script>alert(1)</script><a href="javascript:x()">terms</a>', carry))
    html = admin.get(f"/api/email/detail/{carry}").json()["data"]["body_html"]
    assert "Carry" in html and "terms" in html
    assert not re.search(r"script|onclick|javascript", html), html


def test_the_detail_is_a_404_for_mail_the_panel_does_not_list(team):
    with db(team["server"]) as conn:
        cold = conn.execute("SELECT id FROM emails WHERE subject = 'Cold pitch'").fetchone()["id"]
    for email_id in (cold, "no-such-email"):
        r = team["admin"].get(f"/api/email/detail/{email_id}")
        assert r.status_code == 404 and "lists no email" in r.json()["error"]


def test_every_filtered_page_and_count_reads_indexes_never_every_email(team):
    """EXPLAIN QUERY PLAN of what a page runs, for each filter: no full scan of emails, their
    sightings or links, and no correlated subquery per row."""
    server = team["server"]
    cases = [{}, {"investor_id": team["investors"]["acme"]}, {"account_id": team["admin_box"]},
             {"direction": "inbound"}, {"q": "fund"}, {"q": "%"}, {"since": "2026-01-08T00:00:00Z", "until": "2026-01-12T00:00:00Z"},
             {"account_id": team["admin_box"], "direction": "outbound", "q": "fund", "investor_id": team["investors"]["acme"]}]
    conn = server.app.pool.acquire()
    try:
        for filters in cases:
            for limit, offset in ((50, 0), (1, 0)):  # the second walks newest first (queries._walk) when it can
                ran = []
                conn.set_trace_callback(ran.append)
                queries.activity_page(conn, filters, limit, offset)
                conn.set_trace_callback(None)
                statements = [s for s in ran if s.startswith("SELECT") and "'main'." not in s]  # not FTS5's own
                assert statements, filters
                for statement in statements:
                    plan = [r["detail"] for r in conn.execute("EXPLAIN QUERY PLAN " + statement)]
                    scans = [p for p in plan if re.match(r"SCAN (e|m|l|emails|email_account_messages|email_investor_links)\b", p)]
                    assert not scans and not any("CORRELATED" in p for p in plan), (filters, statement, plan)
    finally:
        conn.set_trace_callback(None)
        server.app.pool.release(conn)


# -- what changes the panel -------------------------------------------------------------------

@pytest.fixture
def start(make_server, google, tmp_path):
    """start() → (server, admin) with capture on against the stand-in, "Acme LP" (Jane) in the grid."""
    def started():
        key = tmp_path / "sa.json"
        google.write_key_file(key)
        server = make_server(**capture_config(google, key))
        admin = server.register_admin()
        add_investor(admin, "Acme LP", "Jane Doe", JANE)
        return server, admin
    return started


def test_mail_stays_while_any_mailbox_holds_it_and_goes_when_none_does(start, google):
    server, admin = start()
    server.add_user(admin, "maria")
    grant(google, ADMIN, MEMBER)
    admin.post("/api/email/accounts/enroll-all")
    box = accounts(admin)
    both = mail(JANE, [ADMIN, MEMBER], "Both hold this", date=at(10))
    held = {ADMIN: google.add_message(ADMIN, both), MEMBER: google.add_message(MEMBER, both)}
    google.add_message(ADMIN, mail(JANE, ADMIN, "Stays", date=at(9)))
    for account in box.values():
        sync(server, account)
    email_id = panel(admin)["data"][0]["id"]
    assert subjects(admin) == ["Both hold this", "Stays"]

    google.delete_message(ADMIN, held[ADMIN])
    sync(server, box[ADMIN])
    item = panel(admin)["data"][0]
    assert item["subject"] == "Both hold this" and item["mailboxes"] == [box[MEMBER]]  # Maria still has it
    assert subjects(admin, account_id=box[ADMIN]) == ["Stays"]
    assert subjects(admin, account_id=box[MEMBER]) == ["Both hold this"]
    assert admin.get(f"/api/email/detail/{email_id}").status_code == 200
    assert_indexes_follow_the_tables(server)

    google.delete_message(MEMBER, held[MEMBER])
    sync(server, box[MEMBER])
    answer = panel(admin)
    assert [i["subject"] for i in answer["data"]] == ["Stays"] and answer["total"] == 1
    assert subjects(admin, q="both") == [] and subjects(admin, account_id=box[MEMBER]) == []
    assert admin.get(f"/api/email/detail/{email_id}").status_code == 404
    assert admin.get("/api/email/activity/investors").json()["data"][0]["email_count"] == 1
    assert_indexes_follow_the_tables(server)


def test_unmatched_mail_joins_the_panel_once_its_sender_is_an_investor(start, google):
    server, admin = start()
    grant(google, ADMIN)
    admin.post("/api/email/accounts/enroll-all")
    account = accounts(admin)[ADMIN]
    google.add_message(ADMIN, mail(f"Li Wei <li@newfund.example>", ADMIN, "Intro", body="We should talk about Fund III.",
                                   date=at(3)))
    sync(server, account)
    assert subjects(admin) == [] and admin.get("/api/email/activity/investors").json()["data"] == []
    investor = add_investor(admin, "New Fund", "Li Wei", "li@newfund.example")
    assert admin.post("/api/email/rematch").status_code == 200
    assert subjects(admin) == ["Intro"]
    assert subjects(admin, q="talk fund") == ["Intro"]  # the body, fetched after the match, is searchable
    assert subjects(admin, investor_id=investor, q="wei") == ["Intro"]
    assert admin.get("/api/email/activity/investors").json()["data"] == [
        {"id": investor, "name": "New Fund", "email_count": 1}]
    assert_indexes_follow_the_tables(server)


def test_blocking_a_domain_takes_its_mail_off_the_panel(start, google):
    server, admin = start()
    grant(google, ADMIN)
    admin.post("/api/email/accounts/enroll-all")
    google.add_message(ADMIN, mail(JANE, ADMIN, "From Acme", date=at(4)))
    sync(server, accounts(admin)[ADMIN])
    assert subjects(admin) == ["From Acme"]
    assert admin.post("/api/email/blocklist", {"pattern": "@acme.example", "scope": "all"}).status_code == 201
    assert subjects(admin) == [] and subjects(admin, q="acme") == []
    assert admin.get("/api/email/activity/investors").json()["data"] == []
    assert_indexes_follow_the_tables(server)


def test_the_search_follows_what_a_later_fetch_changes_of_an_email(start, google):
    server, admin = start()
    grant(google, ADMIN)
    admin.post("/api/email/accounts/enroll-all")
    google.add_message(ADMIN, mail(JANE, ADMIN, "Update", body="First wording.", date=at(4)))
    sync(server, accounts(admin)[ADMIN])
    email_id = panel(admin)["data"][0]["id"]
    conn = server.app.pool.acquire()
    try:
        with transaction(conn):  # as a body fetched again with Gmail's newer snippet is stored
            store.set_body(conn, email_id, {"body_text": "Revised wording.", "body_html": None,
                                            "snippet": "Revised wording."})
    finally:
        server.app.pool.release(conn)
    assert subjects(admin, q="revised") == ["Update"] and subjects(admin, q="first") == []
    assert panel(admin)["data"][0]["snippet"] == "Revised wording."
    assert_indexes_follow_the_tables(server)


def test_direction_follows_our_mailboxes_when_a_teammate_is_enrolled_later(start, google):
    server, admin = start()
    server.add_user(admin, "maria")
    grant(google, ADMIN, MEMBER)
    assert admin.post("/api/email/accounts/enroll", {"email": ADMIN}).status_code == 201
    google.add_message(ADMIN, mail(MEMBER, JANE, "Maria writes to Jane", cc=[ADMIN], date=at(6)))
    sync(server, accounts(admin)[ADMIN])
    assert [i["direction"] for i in panel(admin)["data"]] == ["inbound"]  # Maria's is no mailbox of ours yet
    assert admin.post("/api/email/accounts/enroll", {"email": MEMBER}).status_code == 201
    assert [i["direction"] for i in panel(admin)["data"]] == ["outbound"]
    assert subjects(admin, direction="outbound") == ["Maria writes to Jane"] and subjects(admin, direction="inbound") == []
    assert_indexes_follow_the_tables(server)


def test_an_archived_investor_leaves_the_picker_and_its_mail_keeps_its_name(start, google):
    server, admin = start()
    beta = add_investor(admin, "Beta Capital", "Bob Stone", BOB)
    grant(google, ADMIN)
    admin.post("/api/email/accounts/enroll-all")
    google.add_message(ADMIN, mail(BOB, ADMIN, "From Beta", date=at(7)))
    sync(server, accounts(admin)[ADMIN])
    assert [i["name"] for i in admin.get("/api/email/activity/investors").json()["data"]] == ["Beta Capital"]
    grid_ops(admin, {"op": "archive_row", "row_id": beta})
    assert admin.get("/api/email/activity/investors").json()["data"] == []
    assert panel(admin)["data"][0]["investors"] == [{"id": beta, "name": "Beta Capital"}]
    assert subjects(admin, investor_id=beta) == ["From Beta"]


def test_the_migration_fills_in_mail_captured_before_it_and_rolls_back_cleanly(start, google):
    server, admin = start()
    grant(google, ADMIN)
    admin.post("/api/email/accounts/enroll-all")
    google.add_message(ADMIN, mail(JANE, ADMIN, "Before the panel", date=at(2)))
    google.add_message(ADMIN, mail(ADMIN, JANE, "Our answer", date=at(3)), label_ids=("SENT",))
    sync(server, accounts(admin)[ADMIN])
    before = panel(admin)
    folder = dict(migrate.NAMESPACES)["email"]
    conn = server.app.pool.acquire()
    try:
        undone = migrate.roll_back(conn, 2, folder, "email")
        assert 3 in undone
        tables = {r["name"] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert not {t for t in tables if t.startswith("email_activity")}
        assert not {r["name"] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                    if r["name"].startswith("email_activity")}
        assert sorted(migrate.apply_migrations(conn, folder, "email")) == sorted(undone)
    finally:
        server.app.pool.release(conn)
    assert panel(admin) == before and [i["direction"] for i in before["data"]] == ["outbound", "inbound"]
    assert subjects(admin, q="panel") == ["Before the panel"]
    assert_indexes_follow_the_tables(server)


def test_threads_filter_by_classic_contact(team):
    """A grid contact's mail links its classic contact too: the contact page lists its threads."""
    admin = team["admin"]
    state = admin.get("/api/fundraising/state").json()["data"]
    jane = admin.get(f"/api/fundraising/rows/{team['investors']['acme']}").json()["data"]["contacts"][0]["contact_id"]
    assert jane and state
    found = admin.get("/api/email/threads", params={"contact_id": jane}).json()
    subjects = {t["subject"] for t in found["data"]}
    assert found["total"] == len(found["data"]) >= 1 and all("Diligence" not in s for s in subjects)
    assert any("Fund II close" in s for s in subjects)
    assert admin.get("/api/email/threads", params={"contact_id": "no-such-contact"}).json()["total"] == 0
