"""Relationship strength (issue 20): scores from email and communication metadata only, stored on
relationship_edges, and the grid's read-only Relationship column.

Mail is captured for real through the stand-in Google (tests/fakes/google.py); entities come from
the resolver; scores from crm.ingest.strength.refresh, as the after-sync step and the admin route
run it."""
import sqlite3
from datetime import date, datetime, timedelta, timezone

import pytest

from conftest import serving
from crm.db import connect, transaction
from crm.email import store as mail_store
from crm.ingest import edges, entities, strength
from email_helpers import DOMAIN, add_investor, capture_config, grant, mail
from fakes.google import FakeGoogle

ADMIN, MARIA, IVAN = f"admin@{DOMAIN}", f"maria@{DOMAIN}", f"ivan@{DOMAIN}"
JANE, JOHN, BOB, CARL = "jane@acme.example", "john@acme.example", "bob@beta.example", "carl@gamma.example"
TODAY = datetime.now(timezone.utc).date()


def ago(**delta) -> datetime:
    return datetime.now(timezone.utc) - timedelta(**delta)


# -- the scoring rules ----------------------------------------------------------------------------

def test_recency_halves_every_half_life():
    fresh = strength.score(5, 5, 10, TODAY, TODAY)
    old = strength.score(5, 5, 10, TODAY - timedelta(days=strength.HALF_LIFE_DAYS), TODAY)
    older = strength.score(5, 5, 10, TODAY - timedelta(days=2 * strength.HALF_LIFE_DAYS), TODAY)
    assert fresh["recency"] == 1 and old["recency"] == 0.5 and older["recency"] == 0.25
    assert old["score"] == pytest.approx(fresh["score"] / 2, abs=1e-4)
    assert older["score"] == pytest.approx(fresh["score"] / 4, abs=1e-4)
    # Mail dated in the future (a wrong clock) is no fresher than today's.
    assert strength.score(5, 5, 10, TODAY + timedelta(days=30), TODAY) == fresh


def test_reciprocity_beats_one_way_at_equal_counts():
    both = strength.score(5, 5, 10, TODAY, TODAY)
    sent_only = strength.score(10, 0, 10, TODAY, TODAY)
    heard_only = strength.score(0, 10, 10, TODAY, TODAY)
    assert both["reciprocity"] == 1 and sent_only["reciprocity"] == strength.ONE_WAY == heard_only["reciprocity"]
    assert both["score"] > sent_only["score"] == heard_only["score"]
    assert strength.score(9, 1, 10, TODAY, TODAY)["score"] > sent_only["score"]  # a reply counts


def test_frequency_saturates():
    values = [strength.score(n, n, 2 * n, TODAY, TODAY)["frequency"] for n in (1, 2, 5, 10, 25)]
    assert values == sorted(values) and values[-1] == 1
    steps = [b - a for a, b in zip(values, values[1:])]
    gains = [strength.score(0, n + 1, n + 1, TODAY, TODAY)["frequency"] - strength.score(0, n, n, TODAY, TODAY)["frequency"]
             for n in (1, 10, 30)]
    assert gains == sorted(gains, reverse=True) and steps[0] > 0  # each touch adds less than the one before
    assert strength.score(0, 500, 500, TODAY, TODAY) == strength.score(0, strength.FREQUENCY_SATURATION,
                                                                        strength.FREQUENCY_SATURATION, TODAY, TODAY)


@pytest.mark.parametrize("weight, level", [(0, 0), (0.0199, 0), (0.02, 1), (0.15, 2), (0.3499, 2), (0.35, 3),
                                           (0.6, 4), (1, 4)])
def test_levels(weight, level):
    assert strength.level(weight) == level


def test_a_single_fresh_email_is_level_one_and_a_busy_thread_level_four():
    assert strength.level(strength.score(1, 0, 1, TODAY, TODAY)["score"]) == 1
    assert strength.level(strength.score(1, 1, 2, TODAY, TODAY)["score"]) == 2
    assert strength.level(strength.score(10, 10, 20, TODAY, TODAY)["score"]) == 4
    assert strength.level(strength.score(10, 10, 20, TODAY - timedelta(days=800), TODAY)["score"]) == 0


# -- real mail, real server --------------------------------------------------------------------------

def open_db(server):
    return connect(server.config.db_path)


def refresh(server, today=None) -> dict:
    conn = open_db(server)
    try:
        with transaction(conn):
            resolve_all(conn)
        return strength.refresh(conn, today)
    finally:
        conn.close()


def resolve_all(conn):  # TEMPORARY stand-in until crm.ingest.resolve lands
    def ensure(table, source_id, kind, name, email=None):
        found = entities.entity_of(conn, table, source_id)
        if found:
            return found
        found = entities.entity_of(conn, "email_address", email) if email else None
        found = found or entities.create(conn, kind, name, primary_email=email)
        entities.link(conn, found, table, source_id, "test", 1.0, {})
        if email:
            entities.link(conn, found, "email_address", email, "email", 1.0, {})
        return found
    for r in conn.execute("SELECT id, name FROM fundraising_investors").fetchall():
        ensure("fundraising_investors", r["id"], "organization", r["name"])
    for r in conn.execute("SELECT id, name, email FROM fundraising_contacts WHERE deleted_at IS NULL").fetchall():
        ensure("fundraising_contacts", r["id"], "person", r["name"], r["email"])
    for r in conn.execute("SELECT id, first_name, email FROM contacts").fetchall():
        ensure("contacts", r["id"], "person", r["first_name"], r["email"])
    for r in conn.execute("SELECT id, name FROM organizations").fetchall():
        ensure("organizations", r["id"], "organization", r["name"])


def sync_all(server) -> None:
    conn = open_db(server)
    try:
        accounts = [a["id"] for a in mail_store.accounts(conn)]
    finally:
        conn.close()
    for account in accounts:
        run = server.app.email.sync(account)
        assert run is not None and run["status"] == "ok", run


def entity_of(server, table, source_id):
    conn = open_db(server)
    try:
        found = conn.execute("SELECT entity_id FROM entity_links WHERE source_table = ? AND source_id = ?",
                             (table, source_id)).fetchone()
        return found and found["entity_id"]
    finally:
        conn.close()


def edge(server, user_id, entity_id, kind="emailed"):
    conn = open_db(server)
    try:
        found = [e for e in edges.into(conn, [entity_id], kind, "user" if kind == "emailed" else "entity")
                 if e["from_id"] == user_id]
        return found[0] if found else None
    finally:
        conn.close()


def grid_ops(client, *ops) -> dict:
    state = client.get("/api/fundraising/state").json()["data"]
    r = client.post("/api/fundraising/ops", {"base_version": state["version"], "ops": list(ops)})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def contact_id(client, investor_id, email):
    row = client.get(f"/api/fundraising/rows/{investor_id}").json()["data"]
    return next(p["id"] for p in row["contacts"] if p["email"] == email)


@pytest.fixture(scope="module")
def google():
    with FakeGoogle() as fake:
        yield fake


@pytest.fixture(scope="module")
def team(google, tmp_path_factory):
    """Mailboxes of the admin (Ann Admin), Maria and Ivan. Acme LP (Jane and John) hears a lot from
    the admin, both ways; Maria has written to Jane once. Beta Capital (Bob) writes to Maria, who
    never answers. Gamma (Carl, a classic contact) had one call with Ivan, logged by him."""
    data = tmp_path_factory.mktemp("strength")
    google.write_key_file(data / "sa.json")
    with serving(data, **capture_config(google, data / "sa.json")) as server:
        admin = server.register_admin()
        maria = server.add_user(admin, "maria")
        ivan = server.add_user(admin, "ivan")
        assert admin.patch(f"/api/admin/users/{admin.user['id']}", {"display_name": "Ann Admin"}).status_code == 200
        ids = {"acme": add_investor(admin, "Acme LP", ("Jane Doe", JANE), ("John Roe", JOHN)),
               "beta": add_investor(admin, "Beta Capital", ("Bob Stone", BOB)),
               "zeta": add_investor(admin, "Zeta Trust")}
        gamma = admin.post("/api/organizations", {"name": "Gamma Partners"}).json()["data"]
        carl = admin.post("/api/contacts", {"first_name": "Carl", "last_name": "Grant", "email": CARL,
                                            "organization_id": gamma["id"]}).json()["data"]
        grant(google, ADMIN, MARIA, IVAN)
        assert admin.post("/api/email/accounts/enroll-all").status_code == 200
        for n in range(4):  # four exchanges with Jane over the last weeks, each both ways
            google.add_message(ADMIN, mail(f"Jane Doe <{JANE}>", ADMIN, f"Question {n}", date=ago(days=20 - n)))
            google.add_message(ADMIN, mail(ADMIN, JANE, f"Re: Question {n}", date=ago(days=20 - n, hours=-2)),
                               label_ids=("SENT",))
        # One email to both Acme people: one touch for Acme, one for each of them.
        google.add_message(ADMIN, mail(ADMIN, [JANE, JOHN], "Fund II close", date=ago(days=3)), label_ids=("SENT",))
        google.add_message(MARIA, mail(MARIA, JANE, "Hello", date=ago(days=30)), label_ids=("SENT",))
        for n in range(3):
            google.add_message(MARIA, mail(f"Bob Stone <{BOB}>", MARIA, f"Diligence {n}", date=ago(days=10 - n)))
        gone = google.add_message(MARIA, mail(f"Bob Stone <{BOB}>", MARIA, "Deleted later", date=ago(days=1)))
        sync_all(server)
        google.delete_message(MARIA, gone)
        sync_all(server)
        logged = ivan.post("/api/communications", {"contact_id": carl["id"], "type": "call",
                                                   "communication_date": ago(days=5).isoformat()})
        assert logged.status_code == 201, logged.text
        note = ivan.post("/api/communications", {"contact_id": carl["id"], "type": "note", "subject": "met at dinner",
                                                 "communication_date": ago(days=1).isoformat()})
        assert note.status_code == 201, note.text
        summary = refresh(server)
        yield {"server": server, "admin": admin, "maria": maria, "ivan": ivan, "ids": ids, "carl": carl["id"],
               "gamma": gamma["id"], "summary": summary}


def test_both_ways_mail_is_counted_per_member_and_entity(team):
    server, admin = team["server"], team["admin"]
    jane = entity_of(server, "email_address", JANE)
    found = edge(server, admin.user["id"], jane)
    ev = found["evidence"]
    assert (ev["sent"], ev["received"], ev["emails"], ev["logged"]) == (5, 4, 9, 0)
    assert ev["reciprocity"] == pytest.approx(strength.ONE_WAY + (1 - strength.ONE_WAY) * 4 / 5)
    assert ev["last_sent"][:10] == ago(days=3).date().isoformat() and found["last_seen"] == ev["last_sent"]
    assert ev["last_received"][:10] == ago(days=17).date().isoformat()
    assert found["first_seen"][:10] == ago(days=20).date().isoformat()
    assert 0 < found["weight"] <= 1 and ev["level"] == strength.level(found["weight"])
    maria = edge(server, team["maria"].user["id"], jane)
    assert (maria["evidence"]["sent"], maria["evidence"]["received"]) == (1, 0) and maria["weight"] < found["weight"]


def test_an_organization_aggregates_its_people_each_email_once(team):
    server, admin = team["server"], team["admin"]
    acme = entity_of(server, "fundraising_investors", team["ids"]["acme"])
    john = entity_of(server, "email_address", JOHN)
    jane = entity_of(server, "email_address", JANE)
    assert edge(server, admin.user["id"], john)["evidence"]["sent"] == 1
    found = edge(server, admin.user["id"], acme)
    assert (found["evidence"]["sent"], found["evidence"]["received"], found["evidence"]["people"]) == (5, 4, 2)
    conn = open_db(server)
    try:
        works = {(e["from_id"], e["to_id"]) for e in edges.into(conn, [acme], "works_at", "entity")}
    finally:
        conn.close()
    assert works == {(jane, acme), (john, acme)}


def test_a_deleted_sighting_is_not_counted(team):
    server = team["server"]
    bob = entity_of(server, "email_address", BOB)
    found = edge(server, team["maria"].user["id"], bob)
    assert (found["evidence"]["sent"], found["evidence"]["received"]) == (0, 3)  # not the fourth, deleted in Gmail
    assert found["evidence"]["reciprocity"] == strength.ONE_WAY
    assert found["last_seen"][:10] == ago(days=8).date().isoformat()


def test_a_logged_call_counts_both_ways_and_a_note_not_at_all(team):
    server = team["server"]
    carl = entity_of(server, "contacts", team["carl"])
    found = edge(server, team["ivan"].user["id"], carl)
    ev = found["evidence"]
    assert (ev["sent"], ev["received"], ev["logged"], ev["emails"], ev["reciprocity"]) == (1, 1, 1, 0, 1)
    assert found["last_seen"][:10] == ago(days=5).date().isoformat()  # not the note's day
    gamma = entity_of(server, "organizations", team["gamma"])
    assert edge(server, team["ivan"].user["id"], gamma)["evidence"]["people"] == 1


def test_the_strongest_connection_is_named(team):
    server = team["server"]
    acme = entity_of(server, "fundraising_investors", team["ids"]["acme"])
    conn = open_db(server)
    try:
        found = strength.connections(conn, acme)
        cells = strength.investor_levels(conn, list(team["ids"].values()))
    finally:
        conn.close()
    assert [c["who"] for c in found] == ["Ann Admin", "maria"]
    assert cells[team["ids"]["acme"]] == {"level": found[0]["level"], "last_contact": ago(days=3).date().isoformat(),
                                          "who": "Ann Admin"}
    assert cells[team["ids"]["beta"]]["who"] == "maria"
    assert team["ids"]["zeta"] not in cells  # never in touch: a blank cell


def test_refresh_is_idempotent(team):
    first = team["summary"]
    assert first["emailed"]["added"] > 0 and first["works_at"]["added"] == 4  # Jane, John at Acme; Bob at Beta; Carl at Gamma
    again = refresh(team["server"])
    assert again["emailed"] == {"added": 0, "updated": 0, "removed": 0, "unchanged": first["emailed"]["added"]}
    assert again["works_at"]["unchanged"] == 4 and again["grid_version"] is None


def test_decay_moves_scores_once_a_day(team):
    server = team["server"]
    later = refresh(server, TODAY + timedelta(days=strength.HALF_LIFE_DAYS))
    assert later["emailed"]["updated"] > 0 and later["emailed"]["unchanged"] == later["emailed"]["added"] == 0
    refresh(server)  # back to today's scores for the other tests
    assert refresh(server)["emailed"]["updated"] == 0


def test_content_is_never_read(team):
    """Every statement refresh runs names no subject, snippet, body or outcome column; and rewriting
    every body and subject changes no score."""
    server = team["server"]
    conn = open_db(server)
    statements = []
    conn.set_trace_callback(statements.append)
    try:
        strength.refresh(conn)
    finally:
        conn.set_trace_callback(None)
    text = "\n".join(statements).lower()
    assert "email_account_messages" in text and "from communications" in text  # the trace saw the reads
    for column in ("subject", "snippet", "body", "outcome", "next_action", "attendees", "e.*", "select *"):
        assert column not in text, column
    with transaction(conn):
        conn.execute("UPDATE emails SET subject = 'changed', snippet = 'changed', body_text = 'changed'")
        conn.execute("UPDATE communications SET subject = 'changed', body = 'changed', outcome = 'changed'")
    conn.close()
    assert refresh(server)["emailed"]["updated"] == 0


def test_a_deactivated_member_counts_for_nothing(team):
    server, admin, ivan = team["server"], team["admin"], team["ivan"]
    carl = entity_of(server, "contacts", team["carl"])
    assert edge(server, ivan.user["id"], carl) is not None
    assert admin.patch(f"/api/admin/users/{ivan.user['id']}", {"is_active": False}).status_code == 200
    try:
        assert refresh(server)["emailed"]["removed"] >= 1
        assert edge(server, ivan.user["id"], carl) is None
    finally:
        assert admin.patch(f"/api/admin/users/{ivan.user['id']}", {"is_active": True}).status_code == 200
        refresh(server)
    assert edge(server, ivan.user["id"], carl) is not None


# -- the grid's Relationship column ----------------------------------------------------------------

def rows_through(client, **params) -> list:
    r = client.get("/api/fundraising/rows", params=params)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_the_relationship_column_through_the_grid(team, google):
    server, admin, ids = team["server"], team["admin"], team["ids"]
    grid_ops(admin, {"op": "add_column", "column_id": "warmth", "name": "Relationship", "type": "relationship"})
    cells = {r["id"]: r["cells"].get("warmth") for r in rows_through(admin)}
    assert cells[ids["acme"]] == {"level": cells[ids["acme"]]["level"], "last_contact": ago(days=3).date().isoformat(),
                                  "who": "Ann Admin"}
    assert cells[ids["beta"]]["who"] == "maria" and cells[ids["zeta"]] is None
    assert cells[ids["acme"]]["level"] > cells[ids["beta"]]["level"] >= 1

    # Sorted by warmth: level, then last contact; no contact known sorts last either way.
    view = admin.post("/api/fundraising/views", {"name": "Warmest", "config": {
        "sorts": [{"column_id": "warmth", "direction": "desc"}]}}).json()["data"]
    order = [r["id"] for r in rows_through(admin, view_id=view["id"])]
    assert order.index(ids["acme"]) < order.index(ids["beta"]) < order.index(ids["zeta"]) == len(order) - 1
    cold = admin.post("/api/fundraising/views", {"name": "Coldest", "config": {
        "sorts": [{"column_id": "warmth", "direction": "asc"}]}}).json()["data"]
    order = [r["id"] for r in rows_through(admin, view_id=cold["id"])]
    assert order.index(ids["beta"]) < order.index(ids["acme"]) < order.index(ids["zeta"]) == len(order) - 1

    # Filtered by level, as a number; blank is level 0 and "empty".
    def matching(operator, value=None):
        r = admin.post("/api/fundraising/views", {"name": f"f {operator} {value}", "config": {"filters": {
            "conjunction": "and", "conditions": [{"column_id": "warmth", "operator": operator, "value": value}]}}})
        assert r.status_code == 201, r.text
        return {row["id"] for row in rows_through(admin, view_id=r.json()["data"]["id"])}
    level = cells[ids["acme"]]["level"]
    assert matching(">=", level) == {ids["acme"]}
    assert ids["zeta"] in matching("=", 0) and matching("is_empty") == {ids["zeta"]}
    bad = admin.post("/api/fundraising/views", {"name": "bad", "config": {"filters": {"conjunction": "and",
        "conditions": [{"column_id": "warmth", "operator": "contains", "value": "x"}]}}})
    assert bad.status_code == 422 and "config.filters.conditions[0].operator" in bad.json()["fields"]

    # Read-only: an edit is refused like a formula cell's, and nothing changes.
    version = admin.get("/api/fundraising/state", params={"rows": 0}).json()["data"]["version"]
    r = admin.post("/api/fundraising/ops", {"base_version": version, "ops": [
        {"op": "set_cell", "row_id": ids["zeta"], "column_id": "warmth", "value": {"level": 4}}]})
    assert r.status_code == 422, r.text
    assert admin.get("/api/fundraising/state", params={"rows": 0}).json()["data"]["version"] == version

    # Export: level and date as text.
    csv = admin.get("/api/fundraising/export", params={"format": "csv"})
    assert csv.status_code == 200
    lines = {line.split(",")[0]: line for line in csv.text.splitlines()}
    assert lines["Acme LP"].endswith(f",{level} {ago(days=3).date().isoformat()}")
    assert lines["Zeta Trust"].endswith(",")

    # New mail, a refresh: the kept snapshot sees the new values (re-read, not rebuilt), the version
    # moves with one `relationships` op, and the event feed carries it.
    built = server.app.grid.counts["built"]
    google.add_message(ADMIN, mail(f"Bob Stone <{BOB}>", ADMIN, "Hello Ann", date=ago(hours=1)))
    google.add_message(ADMIN, mail(ADMIN, BOB, "Re: Hello Ann", date=ago(minutes=30)), label_ids=("SENT",))
    sync_all(server)
    summary = refresh(server)
    assert summary["grid_version"] == version + 1
    after = {r["id"]: r["cells"].get("warmth") for r in rows_through(admin)}
    assert after[ids["beta"]]["last_contact"] == ago(minutes=30).date().isoformat()
    assert after[ids["acme"]] == cells[ids["acme"]] and after[ids["zeta"]] is None
    assert server.app.grid.counts["built"] == built
    changes = admin.get("/api/fundraising/changes", params={"since": version}).json()["data"]
    assert [(op["kind"], op["row_id"]) for op in changes["ops"]] == [("relationships", None)]
    assert refresh(server)["grid_version"] is None  # nothing changed: the grid is left alone
    grid_ops(admin, {"op": "delete_column", "column_id": "warmth"})


def test_a_formula_cannot_read_a_relationship_field(team):
    admin = team["admin"]
    grid_ops(admin, {"op": "add_column", "column_id": "warm2", "name": "Warmth", "type": "relationship"})
    try:
        version = admin.get("/api/fundraising/state", params={"rows": 0}).json()["data"]["version"]
        r = admin.post("/api/fundraising/ops", {"base_version": version, "ops": [
            {"op": "add_column", "name": "Hot", "type": "formula", "formula": "{Warmth} > 2"}]})
        assert r.status_code == 422 and "Relationship" in r.json()["fields"]["ops[0].formula"], r.text
    finally:
        grid_ops(admin, {"op": "delete_column", "column_id": "warm2"})
