"""Full-text search, the reports, reset-all-data and the demo seeder.

The search tables read one module-wide data set (`corpus`); reports and reset
run on a fresh server each, so every figure asserted is exactly what the test made.
"""
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from crm import settings
from crm.db import connect


@pytest.fixture(scope="module")
def boss(shared):
    return shared.register_admin()


def ok(r, status=200):
    assert r.status_code == status, f"{r.status_code} {r.text}"
    return r.json()["data"]


def page(r):
    assert r.status_code == 200, r.text
    return r.json()


def post(c, path, body):
    return ok(c.post(path, body), 201)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# ---------------------------------------------------------------- search

@pytest.fixture(scope="module")
def corpus(boss):
    northwind = post(boss, "/api/organizations", {"name": "Northwind Capital", "website": "https://northwind.example",
                                                  "tags": ["anchor"], "description": "Seed-stage specialists"})
    bluewater = post(boss, "/api/organizations", {"name": "Bluewater Partners", "domain": "bluewater.example"})
    people = {}
    for key, body in {
        "ada": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@analytical.example",
                "organization_id": northwind["id"], "tags": ["priority"], "notes": "Prefers morning calls about quantum engines"},
        "grace": {"first_name": "Grace", "last_name": "Hopper", "email": "grace.hopper@navy.example",
                  "other_emails": ["amazing.grace@cobol.example"], "organization_id": bluewater["id"],
                  "tags": ["family-office"], "notes": "Compiler pioneer"},
        "alan": {"first_name": "Alan", "last_name": "Turing", "notes": "Enigma, then Manchester"},
        "adam": {"first_name": "Adam", "last_name": "Smith", "tags": ["economist"]},
        "zelda": {"first_name": "Zelda", "last_name": "Vanished", "notes": "phantom of the archive"},
    }.items():
        people[key] = post(boss, "/api/contacts", body)
    comms = {
        "quarterly": post(boss, "/api/communications", {
            "contact_id": people["ada"]["id"], "type": "email", "communication_date": "2026-03-01T10:00:00Z",
            "subject": "Quarterly update", "body": "Discussed the capital call schedule"}),
        "dinner": post(boss, "/api/communications", {
            "contact_id": people["grace"]["id"], "type": "meeting", "communication_date": "2026-03-02T19:00:00Z",
            "subject": "Dinner", "body": "Talked about co-investment rights"}),
        "secret": post(boss, "/api/communications", {
            "contact_id": people["alan"]["id"], "type": "note", "communication_date": "2026-03-03T10:00:00Z",
            "subject": "Phantom subject", "body": "hidden"}),
    }
    ok(boss.delete(f"/api/contacts/{people['zelda']['id']}"))
    ok(boss.delete(f"/api/communications/{comms['secret']['id']}"))
    return {"people": people, "comms": comms, "orgs": {"northwind": northwind, "bluewater": bluewater}}


def last_names(c, q, path="/api/contacts", **params):
    return sorted(row["last_name"] for row in page(c.get(path, params={"q": q, **params}))["data"])


@pytest.mark.parametrize("q, expected", [
    ("Lov", ["Lovelace"]),                       # last name prefix
    ("Gra", ["Hopper"]),                         # first name prefix
    ("ada", ["Lovelace", "Smith"]),              # "ada" is a prefix of Adam too
    ("ada lov", ["Lovelace"]),                   # every word must match
    ("  HOPPER  ", ["Hopper"]),
    ("Lövelace", ["Lovelace"]),                  # diacritics folded
    ("grace.hopper@navy.example", ["Hopper"]),   # email
    ("amazing.grace@cobol", ["Hopper"]),         # other emails
    ("analytical", ["Lovelace"]),
    ("northwind", ["Lovelace"]),                 # organization name
    ("bluewater partners", ["Hopper"]),
    ("priority", ["Lovelace"]),                  # tag
    ("family-office", ["Hopper"]),
    ("economist", ["Smith"]),
    ("quantum", ["Lovelace"]),                   # notes
    ("enigma manchester", ["Turing"]),
    ("enigma quantum", []),
    ("ada OR turing", []),                       # no operators pass through: OR is a word
    ('"ada" NEAR(turing)', []),
    ("ada*", ["Lovelace", "Smith"]),
    ("zelda", []),                               # deleted contacts are not found
    ("phantom", []),
    ("nobody", []),
])
def test_contact_search(boss, corpus, q, expected):
    assert last_names(boss, q) == expected
    assert page(boss.get("/api/contacts", params={"q": q}))["total"] == len(expected)


def test_search_combines_with_filters_and_finds_deleted_rows_for_admins(boss, corpus):
    assert last_names(boss, "ada", tag="economist") == ["Smith"]
    assert last_names(boss, "phantom", include_deleted="1") == ["Vanished"]


@pytest.mark.parametrize("q, expected", [
    ("northwind", ["Northwind Capital"]),
    ("seed stage", ["Northwind Capital"]),       # description
    ("bluewater.example", ["Bluewater Partners"]),  # domain
    ("anchor", ["Northwind Capital"]),           # tag
    ("partners", ["Bluewater Partners"]),
    ("capital partners", []),
])
def test_organization_search(boss, corpus, q, expected):
    found = sorted(row["name"] for row in page(boss.get("/api/organizations", params={"q": q}))["data"])
    assert found == expected


@pytest.mark.parametrize("q, expected", [
    ("quarterly", ["quarterly"]),                # subject
    ("capital call", ["quarterly"]),             # body
    ("co-investment", ["dinner"]),
    ("dinner rights", ["dinner"]),
    ("phantom", []),                             # deleted
    ("discussed dinner", []),
])
def test_communication_search(boss, corpus, q, expected):
    by_id = {c["id"]: key for key, c in corpus["comms"].items()}
    found = [by_id.get(row["id"], row["id"]) for row in page(boss.get("/api/communications", params={"q": q}))["data"]]
    assert sorted(found) == expected


@pytest.mark.parametrize("path", ["/api/contacts", "/api/organizations", "/api/communications"])
@pytest.mark.parametrize("q", ["...", "!!", "_", "__ --", "@#$%", '"*"', "- + ( )"])
def test_a_search_of_only_punctuation_is_literal_text(boss, corpus, path, q):
    # A partner who types "-" gets rows holding it or none, never an error (test_odd_input.py has more).
    r = boss.get(path, params={"q": q})
    assert r.status_code == 200, r.text
    assert r.json()["total"] == 0, r.text  # the corpus holds none of these runs of punctuation


def test_search_follows_renames_and_edits(boss):
    word = lambda: "Q" + uuid.uuid4().hex[:10]  # noqa: E731 - a token no other test uses
    old, new, tag, note = word(), word(), word(), word()
    org = post(boss, "/api/organizations", {"name": f"{old} Ventures"})
    other = post(boss, "/api/organizations", {"name": f"{word()} Trust"})
    person = post(boss, "/api/contacts", {"first_name": "Rena", "last_name": "Mingle", "organization_id": org["id"]})
    assert last_names(boss, old) == ["Mingle"]

    ok(boss.patch(f"/api/organizations/{org['id']}", {"name": f"{new} Ventures"}))
    assert last_names(boss, new) == ["Mingle"]
    assert last_names(boss, old) == []
    assert [o["id"] for o in page(boss.get("/api/organizations", params={"q": new}))["data"]] == [org["id"]]

    ok(boss.patch(f"/api/contacts/{person['id']}", {"organization_id": other["id"], "tags": [tag], "notes": note}))
    assert last_names(boss, new) == []
    assert last_names(boss, other["name"].split()[0]) == ["Mingle"]
    assert last_names(boss, tag) == ["Mingle"] and last_names(boss, note) == ["Mingle"]

    ok(boss.delete(f"/api/contacts/{person['id']}"))
    assert last_names(boss, tag) == []
    ok(boss.post(f"/api/contacts/{person['id']}/restore"))
    assert last_names(boss, tag) == ["Mingle"]


# ---------------------------------------------------------------- reports

def test_dashboard_pipeline_and_lp_breakdown_figures(admin):
    def contact(last, **kw):
        return post(admin, "/api/contacts", {"first_name": "R", "last_name": last, **kw})

    def opp(who, stage, expected, committed=None):
        return post(admin, "/api/opportunities", {"contact_id": who["id"], "stage": stage,
                                                  "expected_amount": expected, "commitment_amount": committed})

    now = datetime.now(timezone.utc)
    orgs = [post(admin, "/api/organizations", {"name": n}) for n in ("Live One", "Live Two", "Gone")]
    ok(admin.delete(f"/api/organizations/{orgs[2]['id']}"))
    c1, c2, c3 = contact("Prospect", contact_type="prospect"), contact("Becomes Investor"), contact("Advisor", contact_type="advisor")
    c4 = contact("Deleted")
    c5, c6, c7 = contact("Pension"), contact("Family"), contact("Unspecified")
    opp(c1, "meeting", 100)
    opp(c1, "soft_commit", 200, 150)
    opp(c2, "committed", 300, 300)
    opp(c3, "closed", 400, 400)
    opp(c3, "lost", 50)
    opp(c4, "meeting", 1000, 1000)  # goes with its contact
    alone = opp(c1, "meeting", 7)
    ok(admin.delete(f"/api/opportunities/{alone['id']}"))
    for who, kind, committed, funded in ((c2, "family_office", 1000, 250), (c5, "pension", 2000, 0),
                                         (c6, "family_office", 300, 300), (c7, None, 10, 5), (c4, "trust", 9999, 9999)):
        post(admin, "/api/lp-profiles", {"contact_id": who["id"], "investor_type": kind,
                                         "commitment_amount": committed, "funded_amount": funded})
    for who, days in ((c1, 1), (c2, 10), (c3, 29), (c3, 40), (c4, 3)):
        post(admin, "/api/communications", {"contact_id": who["id"], "type": "call",
                                            "communication_date": iso(now - timedelta(days=days))})
    gone = post(admin, "/api/communications", {"contact_id": c1["id"], "type": "call", "communication_date": iso(now - timedelta(days=2))})
    ok(admin.delete(f"/api/communications/{gone['id']}"))
    ok(admin.delete(f"/api/contacts/{c4['id']}"))

    assert ok(admin.get("/api/reports/dashboard")) == {
        "contacts": {"total": 6, "by_type": {"prospect": 1, "advisor": 1, "investor": 4}},
        "organizations": 2,
        "pipeline": {"open_opportunities": 3, "expected": 600, "committed": 450},
        "lps": {"count": 4, "committed": 3310, "funded": 555},
        "communications_last_30_days": 3,
    }
    assert ok(admin.get("/api/reports/pipeline")) == [
        {"stage": "prospect", "count": 0, "expected": 0, "committed": 0},
        {"stage": "contacted", "count": 0, "expected": 0, "committed": 0},
        {"stage": "meeting", "count": 1, "expected": 100, "committed": 0},
        {"stage": "due_diligence", "count": 0, "expected": 0, "committed": 0},
        {"stage": "soft_commit", "count": 1, "expected": 200, "committed": 150},
        {"stage": "committed", "count": 1, "expected": 300, "committed": 300},
        {"stage": "closed", "count": 1, "expected": 400, "committed": 400},
        {"stage": "lost", "count": 1, "expected": 50, "committed": 0},
    ]
    assert ok(admin.get("/api/reports/lp-breakdown")) == [
        {"investor_type": "pension", "count": 1, "committed": 2000, "funded": 0},
        {"investor_type": "family_office", "count": 2, "committed": 1300, "funded": 550},
        {"investor_type": "unspecified", "count": 1, "committed": 10, "funded": 5},
    ]
    # restoring the contact brings its batch back into every figure
    ok(admin.post(f"/api/contacts/{c4['id']}/restore"))
    dashboard = ok(admin.get("/api/reports/dashboard"))
    assert dashboard["contacts"]["total"] == 7 and dashboard["pipeline"]["expected"] == 1600
    assert dashboard["lps"] == {"count": 5, "committed": 13309, "funded": 10554}
    assert dashboard["communications_last_30_days"] == 4


def test_empty_reports(admin):
    assert ok(admin.get("/api/reports/dashboard")) == {
        "contacts": {"total": 0, "by_type": {}}, "organizations": 0,
        "pipeline": {"open_opportunities": 0, "expected": 0, "committed": 0},
        "lps": {"count": 0, "committed": 0, "funded": 0}, "communications_last_30_days": 0,
    }
    assert [s["count"] for s in ok(admin.get("/api/reports/pipeline"))] == [0] * 8
    assert ok(admin.get("/api/reports/lp-breakdown")) == []
    assert ok(admin.get("/api/reports/activity"))["by_type"] == []


def monday_of(moment: datetime) -> str:
    return (moment.date() - timedelta(days=moment.weekday())).isoformat()


def test_activity_by_week_type_and_user(server, admin):
    maria = server.add_user(admin, "maria")
    now = datetime.now(timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
    ada = post(admin, "/api/contacts", {"first_name": "Ada", "last_name": "L"})
    doomed = post(admin, "/api/contacts", {"first_name": "Gone", "last_name": "Soon"})
    logged = [  # (author, type, days ago)
        (admin, "call", 1), (admin, "call", 1), (maria, "email", 8), (maria, "call", 8),
        (admin, "note", 29), (admin, "meeting", 40), (admin, "call", 200),
    ]
    for author, kind, days in logged:
        post(author, "/api/communications", {"contact_id": ada["id"], "type": kind,
                                             "communication_date": iso(now - timedelta(days=days))})
    dead = post(admin, "/api/communications", {"contact_id": ada["id"], "type": "call", "communication_date": iso(now - timedelta(days=2))})
    ok(admin.delete(f"/api/communications/{dead['id']}"))
    post(admin, "/api/communications", {"contact_id": doomed["id"], "type": "text", "communication_date": iso(now - timedelta(days=3))})
    ok(admin.delete(f"/api/contacts/{doomed['id']}"))

    def expected(weeks):
        start = datetime.now(timezone.utc) - timedelta(weeks=weeks)
        start = (start - timedelta(days=start.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        inside = [(a, k, now - timedelta(days=d)) for a, k, d in logged if now - timedelta(days=d) >= start]
        by_type = Counter((monday_of(when), k) for _, k, when in inside)
        by_user = Counter((monday_of(when), a.user["id"], a.user["username"]) for a, _, when in inside)
        return start, by_type, by_user

    for weeks, count in ((12, 6), (52, 7), (1, None)):  # one week back reaches 8 days ago only on some weekdays
        report = ok(admin.get("/api/reports/activity", params={"weeks": weeks}))
        start, by_type, by_user = expected(weeks)
        assert report["since"] == iso(start)
        assert Counter({(r["week"], r["type"]): r["count"] for r in report["by_type"]}) == by_type
        assert Counter({(r["week"], r["user_id"], r["username"]): r["count"] for r in report["by_user"]}) == by_user
        count = count or sum(by_type.values())
        assert sum(r["count"] for r in report["by_type"]) == count == sum(r["count"] for r in report["by_user"])
        assert all(datetime.fromisoformat(r["week"]).weekday() == 0 for r in report["by_type"])
    # default: 12 weeks
    assert ok(admin.get("/api/reports/activity")) == ok(admin.get("/api/reports/activity", params={"weeks": 12}))


@pytest.mark.parametrize("weeks", ["0", "105", "-1", "abc", "1.5", "12weeks", "²", str(2**70)])
def test_activity_weeks_must_be_1_to_104(boss, weeks):
    r = boss.get("/api/reports/activity", params={"weeks": weeks})
    assert r.status_code == 422 and set(r.json()["fields"]) == {"weeks"}, r.text


@pytest.mark.parametrize("path", ["/api/reports/dashboard", "/api/reports/pipeline", "/api/reports/lp-breakdown",
                                  "/api/reports/activity"])
def test_reports_need_a_signed_in_user(shared, path):
    assert shared.client().get(path).status_code == 401


# ---------------------------------------------------------------- reset-all-data

RESOURCES = ("/api/organizations", "/api/contacts", "/api/opportunities", "/api/communications", "/api/lp-profiles",
             "/api/tags", "/api/feature-requests")


def totals(c):
    return {path: page(c.get(path, params={"include_deleted": "1", "limit": 1}))["total"] for path in RESOURCES}


def fill(c):
    org = post(c, "/api/organizations", {"name": "Wipe Me"})
    person = post(c, "/api/contacts", {"first_name": "Ada", "last_name": "Lovelace", "organization_id": org["id"]})
    post(c, "/api/opportunities", {"contact_id": person["id"]})
    post(c, "/api/communications", {"contact_id": person["id"], "type": "note", "communication_date": "2026-01-01"})
    post(c, "/api/lp-profiles", {"contact_id": person["id"]})
    post(c, "/api/tags", {"name": f"t{uuid.uuid4().hex[:6]}"})
    post(c, "/api/feature-requests", {"title": "Wish"})
    gone = post(c, "/api/contacts", {"first_name": "Del", "last_name": "Eted"})
    ok(c.delete(f"/api/contacts/{gone['id']}"))
    return person


@pytest.mark.parametrize("body", [
    {"confirm": "reset all data"}, {"confirm": "RESET"}, {"confirm": "RESET ALL DATA!"}, {"confirm": ""},
    {"confirm": "RESET  ALL DATA"}, {}, {"confirm": None}, {"confirm": 1}, {"confirm": "RESET ALL DATA", "also": 1},
])
def test_reset_with_the_wrong_phrase_is_422_and_deletes_nothing(boss, body):
    fill(boss)
    before = totals(boss)
    r = boss.post("/api/admin/reset-all-data", body)
    assert r.status_code == 422, r.text
    assert totals(boss) == before


def test_reset_is_for_admins_only(shared, boss):
    member = shared.add_user(boss, "resetter")
    fill(boss)
    before = totals(boss)
    assert member.post("/api/admin/reset-all-data", {"confirm": "RESET ALL DATA"}).status_code == 403
    assert totals(boss) == before


def test_reset_wipes_records_but_keeps_users_settings_and_the_audit_log(server, admin):
    person = fill(admin)
    db = connect(server.config.db_path)
    settings.put(db, "fund.name", "Fund II", admin.user["id"])  # no settings API yet: written the way the app does
    settings_before = db.execute("SELECT * FROM app_settings ORDER BY key").fetchall()
    assert settings_before
    users_before = page(admin.get("/api/users"))["data"]
    audit_before = page(admin.get("/api/audit-log", params={"limit": 1}))["total"]
    assert all(n > 0 for n in totals(admin).values())

    result = ok(admin.post("/api/admin/reset-all-data", {"confirm": "RESET ALL DATA"}))
    assert result["deleted"]["contacts"] == 2 and result["deleted"]["organizations"] == 1
    assert result["deleted"]["communications"] == 1 and result["deleted"]["lp_profiles"] == 1
    assert totals(admin) == {path: 0 for path in RESOURCES}
    dashboard = ok(admin.get("/api/reports/dashboard"))
    assert dashboard["contacts"]["total"] == 0 and dashboard["lps"]["count"] == 0

    # the search index went too: a new row cannot match the old one's words
    post(admin, "/api/contacts", {"first_name": "Bob", "last_name": "Builder"})
    assert page(admin.get("/api/contacts", params={"q": "lovelace"}))["total"] == 0
    assert page(admin.get("/api/contacts", params={"q": "builder"}))["total"] == 1

    assert page(admin.get("/api/users"))["data"] == users_before
    assert db.execute("SELECT * FROM app_settings ORDER BY key").fetchall() == settings_before
    db.close()
    again = server.client().post("/api/auth/login", {"username": "admin", "password": "correct horse battery"})
    assert again.status_code == 200, again.text
    history = page(admin.get("/api/audit-log", params={"entity_id": person["id"]}))["data"]
    assert [e["action"] for e in history] == ["update", "create"]  # promoted by its LP profile, created
    assert page(admin.get("/api/audit-log", params={"limit": 1}))["total"] > audit_before
    reset_entry = page(admin.get("/api/audit-log", params={"action": "reset_all_data"}))["data"]
    assert len(reset_entry) == 1 and reset_entry[0]["actor_id"] == admin.user["id"]
    assert reset_entry[0]["changes"]["contacts"] == [2, 0]


# ---------------------------------------------------------------- demo data

def test_demo_seeder_fills_an_empty_crm_and_creates_no_users(make_server):
    demo = make_server(seed_demo_data=True)
    assert page(demo.client().get("/api/bootstrap/status"))["data"]["setup_required"] is True  # still no users
    boss = demo.register_admin()
    counts = {path: page(boss.get(path, params={"limit": 1}))["total"] for path in RESOURCES}
    assert counts["/api/organizations"] == 200
    assert counts["/api/contacts"] == 600
    assert 200 <= counts["/api/opportunities"] <= 400        # about half the contacts
    assert 900 <= counts["/api/communications"] <= 1500     # 0-4 each
    assert 50 <= counts["/api/lp-profiles"] <= 250
    assert [u["username"] for u in page(boss.get("/api/users"))["data"]] == ["admin"]
    sample = page(boss.get("/api/contacts", params={"limit": 5}))["data"]
    assert all(row["created_by"] is None and row["organization_name"] for row in sample)
    pipeline = ok(boss.get("/api/reports/pipeline"))
    assert sum(s["count"] for s in pipeline) == counts["/api/opportunities"]
    # a restart over the same data adds nothing
    again = make_server(seed_demo_data=True, data_dir=demo.config.data_dir)
    client = again.client()
    client.token = boss.token
    assert page(client.get("/api/contacts", params={"limit": 1}))["total"] == 600
