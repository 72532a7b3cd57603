"""The classic CRM's records through HTTP: CRUD, lists, validation, soft delete and restore, audit.

Read-mostly tables run against one module-wide server (`shared`, signed in as
`boss`); each case measures its own before and after, so cases do not depend on
one another. Tests that count everything in the database use a fresh `admin`.
"""
import time
import uuid

import pytest


WHEN = "2026-01-15T10:00:00.000Z"


@pytest.fixture(scope="module")
def boss(shared):
    return shared.register_admin()


@pytest.fixture(scope="module")
def member(shared, boss):
    return shared.add_user(boss, "maria")


# ---------------------------------------------------------------- helpers

def ok(r, status=200):
    assert r.status_code == status, f"{r.status_code} {r.text}"
    return r.json()["data"]


def unique(prefix="x"):
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def new_org(c, **kw):
    return ok(c.post("/api/organizations", {"name": unique("Org "), **kw}), 201)


def new_contact(c, **kw):
    return ok(c.post("/api/contacts", {"first_name": "Test", "last_name": unique("Person"), **kw}), 201)


def new_opportunity(c, contact_id, **kw):
    return ok(c.post("/api/opportunities", {"contact_id": contact_id, **kw}), 201)


def new_communication(c, contact_id, **kw):
    return ok(c.post("/api/communications", {"contact_id": contact_id, "type": "note", "communication_date": WHEN, **kw}), 201)


def new_lp(c, contact_id, **kw):
    return ok(c.post("/api/lp-profiles", {"contact_id": contact_id, **kw}), 201)


def count(c, path, **params):
    """Every row of a list, deleted ones included (the client must be an admin)."""
    return ok_page(c.get(path, params={"include_deleted": "1", "limit": 1, **params}))["total"]


def ok_page(r):
    assert r.status_code == 200, r.text
    return r.json()


def plain(record):
    """A contact without the dossier's extras."""
    return {k: v for k, v in record.items() if k not in ("organization", "communications", "opportunities", "lp_profile")}


def ids(r):
    return [row["id"] for row in ok_page(r)["data"]]


def audit_entries(c, entity_id):
    """Audit entries for one record, oldest first."""
    return list(reversed(ok_page(c.get("/api/audit-log", params={"entity_id": entity_id, "limit": 100}))["data"]))


# ---------------------------------------------------------------- CRUD for every resource

def _parents(c, resource):
    if resource in ("opportunities", "communications", "lp-profiles"):
        return {"contact": new_contact(c, email=unique("p") + "@fund.example")}
    return {}


CRUD = {
    "organizations": dict(
        create=lambda p: {"name": "Acme Capital", "type": "bank", "website": "https://acme.example/about",
                          "tags": ["lp"], "description": "An old bank"},
        patch={"name": "Acme Partners"}, kept="description",
        put=lambda p: {"name": "Acme Holdings"},
        cleared={"type": "other", "website": None, "domain": None, "tags": [], "description": None},
    ),
    "contacts": dict(
        create=lambda p: {"first_name": "Ada", "last_name": "Lovelace", "email": unique("ada") + "@fund.example",
                          "phone": "+44 20 7946 0000", "contact_type": "advisor", "status": "inactive",
                          "tags": ["vip"], "notes": "Met at the summit", "city": "London"},
        patch={"title": "CIO"}, kept="phone",
        put=lambda p: {"first_name": "Ada", "last_name": "King"},
        cleared={"email": None, "phone": None, "title": None, "tags": [], "notes": None, "city": None,
                 "contact_type": "prospect", "status": "active"},
    ),
    "opportunities": dict(
        create=lambda p: {"contact_id": p["contact"]["id"], "fund_name": "Fund II", "stage": "meeting",
                          "expected_amount": 250000, "probability": 40, "next_step": "Send the deck"},
        patch={"probability": 60}, kept="next_step",
        put=lambda p: {"contact_id": p["contact"]["id"]},
        cleared={"fund_name": None, "stage": "prospect", "expected_amount": None, "probability": None, "next_step": None},
    ),
    "communications": dict(
        create=lambda p: {"contact_id": p["contact"]["id"], "type": "call", "communication_date": WHEN,
                          "subject": "Intro call", "body": "Talked about Fund II", "outcome": "positive",
                          "attendees": ["Maria"]},
        patch={"outcome": "very positive"}, kept="subject",
        put=lambda p: {"contact_id": p["contact"]["id"], "type": "email", "communication_date": WHEN},
        cleared={"subject": None, "body": None, "outcome": None, "attendees": []},
    ),
    "lp-profiles": dict(
        create=lambda p: {"contact_id": p["contact"]["id"], "commitment_amount": 1000000, "investor_type": "trust",
                          "accredited": True, "accreditation_date": "2025-06-30", "notes": "Signed"},
        patch={"funded_amount": 500000}, kept="notes",
        put=lambda p: {"contact_id": p["contact"]["id"]},
        cleared={"commitment_amount": None, "investor_type": None, "accredited": False, "accreditation_date": None,
                 "notes": None},
    ),
    "feature-requests": dict(
        create=lambda p: {"title": "Dark mode", "body": "Please", "status": "planned", "votes": 3},
        patch={"status": "in_progress"}, kept="body",
        put=lambda p: {"title": "Dark mode, please"},
        cleared={"body": None, "status": "open", "votes": 0},
    ),
}


@pytest.mark.parametrize("resource", list(CRUD))
def test_crud_round_trip(boss, resource):
    spec = CRUD[resource]
    parents = _parents(boss, resource)
    body = spec["create"](parents)
    path = f"/api/{resource}"
    before = count(boss, path)

    created = ok(boss.post(path, body), 201)
    for name, value in body.items():
        assert created[name] == value, name
    assert created["created_by"] == boss.user["id"] and created["updated_by"] == boss.user["id"]
    assert created["created_at"] and created["deleted_at"] is None and created["deleted_by"] is None
    assert "deleted_batch" not in created
    item = f"{path}/{created['id']}"
    assert count(boss, path) == before + 1
    assert {k: v for k, v in ok(boss.get(item)).items() if k in created} == created

    # PATCH changes only the fields given
    patched = ok(boss.patch(item, spec["patch"]))
    for name, value in spec["patch"].items():
        assert patched[name] == value
    assert patched[spec["kept"]] == created[spec["kept"]] is not None
    assert patched["updated_at"] >= created["updated_at"] and patched["created_at"] == created["created_at"]

    # PUT replaces: absent optional fields are reset
    replaced = ok(boss.put(item, spec["put"](parents)))
    for name, value in spec["cleared"].items():
        assert replaced[name] == value, name
    assert {k: v for k, v in ok(boss.get(item)).items() if k in replaced} == replaced

    # DELETE is soft; restore brings the record back
    gone = ok(boss.delete(item))
    assert gone["deleted"] is True and gone["id"] == created["id"]
    assert boss.get(item).status_code == 404
    assert created["id"] not in ids(boss.get(path, params={"limit": 1000}))
    deleted = ok(boss.get(item, params={"include_deleted": "1"}))
    assert deleted["deleted_at"] and deleted["deleted_by"] == boss.user["id"]
    assert count(boss, path) == before + 1  # still stored

    restored = ok(boss.post(item + "/restore"))
    assert restored["deleted_at"] is None and restored["deleted_by"] is None
    assert ok(boss.get(item))["id"] == created["id"]


VALID_PUT = {
    "organizations": {"name": "Nobody"},
    "contacts": {"first_name": "No", "last_name": "Body"},
    "opportunities": {"contact_id": "$contact"},
    "communications": {"contact_id": "$contact", "type": "call", "communication_date": WHEN},
    "lp-profiles": {"contact_id": "$contact"},
    "feature-requests": {"title": "Nothing"},
}


@pytest.mark.parametrize("resource, method", [
    *((resource, method) for resource in CRUD for method in ("GET", "PUT", "PATCH", "DELETE", "POST restore")),
    ("tags", "DELETE"), ("tags", "POST restore"),  # the palette has no item reads or edits
])
def test_unknown_id_is_404(boss, refs, resource, method):
    path = f"/api/{resource}/{uuid.uuid4()}"
    if method == "POST restore":
        r = boss.post(path + "/restore")
    elif method == "PUT":
        r = boss.put(path, resolve(VALID_PUT[resource], refs))
    elif method == "PATCH":
        r = boss.patch(path, {})
    else:
        r = boss.request(method, path)
    assert r.status_code == 404, r.text


def test_restore_of_a_live_record_is_409(boss):
    org = new_org(boss)
    r = boss.post(f"/api/organizations/{org['id']}/restore")
    assert r.status_code == 409
    assert ok(boss.get(f"/api/organizations/{org['id']}"))["updated_at"] == org["updated_at"]


# ---------------------------------------------------------------- organizations: domain

@pytest.mark.parametrize("website, domain", [
    ("https://www.Example.com/about", "example.com"),
    ("http://example.co.uk", "example.co.uk"),
    ("WWW.Fund.VC/team?x=1", "fund.vc"),
    ("https://user@www.example.org:8443/x#y", "example.org"),
    ("not a website", None),
])
def test_domain_is_normalised_from_the_website(boss, website, domain):
    org = new_org(boss, website=website)
    assert org["domain"] == domain
    assert ok(boss.get(f"/api/organizations/{org['id']}"))["domain"] == domain


def test_an_explicit_domain_is_normalised_and_wins_over_the_website(boss):
    org = new_org(boss, website="https://www.other.example", domain="HTTPS://www.Mine.Example/")
    assert org["domain"] == "mine.example"
    patched = ok(boss.patch(f"/api/organizations/{org['id']}", {"domain": "www.third.example"}))
    assert patched["domain"] == "third.example" and patched["website"] == "https://www.other.example"


# ---------------------------------------------------------------- lists: filters, tag, sort, pages

def _names(r):
    return sorted(row.get("last_name") or row.get("name") or row.get("title") or row["id"] for row in ok_page(r)["data"])


def test_organization_filters(admin):
    a = new_org(admin, name="Alpha", type="bank", website="https://alpha.example", tags=["lp", "Warm"])
    b = new_org(admin, name="Beta", type="pension", website="https://beta.example", tags=["cold"])
    new_org(admin, name="Gamma", type="bank", tags=[])
    for params, expected in [
        ({}, ["Alpha", "Beta", "Gamma"]),
        ({"type": "bank"}, ["Alpha", "Gamma"]),
        ({"type": "pension"}, ["Beta"]),
        ({"type": "endowment"}, []),
        ({"domain": "beta.example"}, ["Beta"]),
        ({"tag": "lp"}, ["Alpha"]),
        ({"tag": "warm"}, ["Alpha"]),  # tags match without regard to case
        ({"tag": "cold", "type": "bank"}, []),
    ]:
        r = admin.get("/api/organizations", params=params)
        assert _names(r) == expected, params
        assert ok_page(r)["total"] == len(expected)
    assert a["domain"] == "alpha.example" and b["domain"] == "beta.example"


def test_contact_filters(admin):
    acme, bolt = new_org(admin, name="Acme"), new_org(admin, name="Bolt")
    new_contact(admin, last_name="One", contact_type="investor", status="active", organization_id=acme["id"],
                source="referral", country="US", tags=["vip"])
    new_contact(admin, last_name="Two", contact_type="advisor", status="inactive", organization_id=bolt["id"],
                source="conference", country="UK", tags=["cold"])
    new_contact(admin, last_name="Three", contact_type="prospect", status="do_not_contact", source="referral",
                country="US", tags=["vip", "cold"])
    for params, expected in [
        ({}, ["One", "Three", "Two"]),
        ({"contact_type": "investor"}, ["One"]),
        ({"contact_type": "advisor"}, ["Two"]),
        ({"contact_type": "service_provider"}, []),
        ({"status": "inactive"}, ["Two"]),
        ({"status": "do_not_contact"}, ["Three"]),
        ({"organization_id": acme["id"]}, ["One"]),
        ({"source": "referral"}, ["One", "Three"]),
        ({"country": "UK"}, ["Two"]),
        ({"tag": "vip"}, ["One", "Three"]),
        ({"tag": "cold", "country": "US"}, ["Three"]),
    ]:
        r = admin.get("/api/contacts", params=params)
        assert _names(r) == expected, params
        assert ok_page(r)["total"] == len(expected), params
    rows = {row["last_name"]: row for row in ok_page(admin.get("/api/contacts"))["data"]}
    assert rows["One"]["organization_name"] == "Acme" and rows["Three"]["organization_name"] is None


def test_opportunity_filters(admin):
    acme = new_org(admin, name="Acme")
    ada = new_contact(admin, last_name="Ada", organization_id=acme["id"])
    bob = new_contact(admin, last_name="Bob")
    o1 = new_opportunity(admin, ada["id"], stage="meeting", fund_name="Fund I", owner_id=admin.user["id"])
    o2 = new_opportunity(admin, bob["id"], stage="committed", fund_name="Fund II")
    o3 = new_opportunity(admin, ada["id"], stage="meeting", fund_name="Fund II")
    assert o1["organization_id"] == acme["id"]  # defaults to the contact's organization
    assert o2["organization_id"] is None
    for params, expected in [
        ({}, {o1["id"], o2["id"], o3["id"]}),
        ({"stage": "meeting"}, {o1["id"], o3["id"]}),
        ({"stage": "lost"}, set()),
        ({"contact_id": bob["id"]}, {o2["id"]}),
        ({"organization_id": acme["id"]}, {o1["id"], o3["id"]}),
        ({"owner_id": admin.user["id"]}, {o1["id"]}),
        ({"fund_name": "Fund II"}, {o2["id"], o3["id"]}),
        ({"fund_name": "Fund II", "stage": "meeting"}, {o3["id"]}),
    ]:
        r = admin.get("/api/opportunities", params=params)
        assert set(ids(r)) == expected, params
        assert ok_page(r)["total"] == len(expected)


def test_communication_filters(server, admin):
    maria = server.add_user(admin, "maria")  # created_by needs a second author
    ada, bob = new_contact(admin, last_name="Ada"), new_contact(admin, last_name="Bob")
    opp = new_opportunity(admin, ada["id"])
    c1 = new_communication(admin, ada["id"], type="call", opportunity_id=opp["id"], communication_date="2026-01-10T09:00:00.000Z")
    c2 = new_communication(maria, bob["id"], type="email", communication_date="2026-02-10T09:00:00.000Z")
    c3 = new_communication(admin, ada["id"], type="email", communication_date="2026-03-10T09:00:00.000Z")
    for params, expected in [
        ({}, [c3, c2, c1]),  # newest event first by default
        ({"type": "email"}, [c3, c2]),
        ({"type": "meeting"}, []),
        ({"contact_id": ada["id"]}, [c3, c1]),
        ({"opportunity_id": opp["id"]}, [c1]),
        ({"created_by": maria.user["id"]}, [c2]),
        ({"since": "2026-02-10T09:00:00Z"}, [c3, c2]),  # inclusive
        ({"until": "2026-02-10T09:00:00.000Z"}, [c1]),  # exclusive
        ({"since": "2026-01-01", "until": "2026-03-01"}, [c2, c1]),
    ]:
        assert ids(admin.get("/api/communications", params=params)) == [c["id"] for c in expected], params


@pytest.mark.parametrize("given, stored", [
    ("2026-01-31T09:30:00+02:00", "2026-01-31T07:30:00.000Z"),
    ("2026-01-31T09:30:00Z", "2026-01-31T09:30:00.000Z"),
    ("2026-01-31T09:30:00.123456", "2026-01-31T09:30:00.123Z"),  # naive is UTC
    ("2026-01-31", "2026-01-31T00:00:00.000Z"),
    ("20260131T0930", "2026-01-31T09:30:00.000Z"),
])
def test_communication_date_is_stored_as_utc_text(boss, refs, given, stored):
    # one form for every date, so text order (sorting, since/until, reports) is time order
    made = new_communication(boss, refs["contact"], communication_date=given)
    assert made["communication_date"] == stored
    patched = ok(boss.patch(f"/api/communications/{made['id']}", {"communication_date": given}))
    assert patched["communication_date"] == stored


def test_lp_profile_and_feature_request_filters(admin):
    a, b = new_contact(admin), new_contact(admin)
    p1 = new_lp(admin, a["id"], investor_type="pension", accredited=True, wire_received=True)
    p2 = new_lp(admin, b["id"], investor_type="trust", k1_sent=True)
    for params, expected in [
        ({"investor_type": "pension"}, {p1["id"]}),
        ({"contact_id": b["id"]}, {p2["id"]}),
        ({"accredited": "1"}, {p1["id"]}),
        ({"accredited": "0"}, {p2["id"]}),
        ({"wire_received": "1"}, {p1["id"]}),
        ({"k1_sent": "1"}, {p2["id"]}),
        ({"legal_docs_signed": "1"}, set()),
    ]:
        assert set(ids(admin.get("/api/lp-profiles", params=params))) == expected, params
    f1 = ok(admin.post("/api/feature-requests", {"title": "Export", "status": "done"}), 201)
    f2 = ok(admin.post("/api/feature-requests", {"title": "Import", "votes": 5}), 201)
    assert set(ids(admin.get("/api/feature-requests", params={"status": "done"}))) == {f1["id"]}
    assert set(ids(admin.get("/api/feature-requests", params={"status": "open"}))) == {f2["id"]}
    assert ids(admin.get("/api/feature-requests")) == [f2["id"], f1["id"]]  # most voted first
    assert set(ids(admin.get("/api/feature-requests", params={"created_by": admin.user["id"]}))) == {f1["id"], f2["id"]}


def test_sort_ascending_descending_and_several_keys(admin):
    for last, kind in (("beta", "investor"), ("Alpha", "prospect"), ("gamma", "investor"), ("Delta", "prospect")):
        new_contact(admin, last_name=last, contact_type=kind)
        time.sleep(0.003)  # distinct created_at milliseconds

    def order(sort):
        return [row["last_name"] for row in ok_page(admin.get("/api/contacts", params={"sort": sort}))["data"]]

    assert order("last_name") == ["Alpha", "beta", "Delta", "gamma"]  # case-insensitive
    assert order("-last_name") == ["gamma", "Delta", "beta", "Alpha"]
    assert order("contact_type,-last_name") == ["gamma", "beta", "Delta", "Alpha"]
    assert order("-created_at") == ["Delta", "gamma", "Alpha", "beta"]
    assert order("created_at") == ["beta", "Alpha", "gamma", "Delta"]


@pytest.mark.parametrize("path, sort", [
    ("/api/contacts", "nope"),
    ("/api/contacts", "-password_hash"),
    ("/api/contacts", "last_name;DROP TABLE contacts"),
    ("/api/contacts", "last_name,,first_name"),
    ("/api/organizations", "website"),
    ("/api/opportunities", "contact_id"),
    ("/api/communications", "subject"),
    ("/api/lp-profiles", "notes"),
    ("/api/feature-requests", "body"),
    ("/api/tags", "color"),
])
def test_bad_sort_is_422(boss, path, sort):
    r = boss.get(path, params={"sort": sort})
    assert r.status_code == 422 and "sort" in r.json()["fields"], r.text


def test_pagination_totals(admin):
    made = {new_contact(admin, last_name=f"P{n}")["id"] for n in range(7)}
    seen = []
    for offset, size in ((0, 3), (3, 3), (6, 1), (7, 0)):
        page = ok_page(admin.get("/api/contacts", params={"limit": 3, "offset": offset}))
        assert page["total"] == 7 and page["limit"] == 3 and page["offset"] == offset
        assert len(page["data"]) == size
        seen += [row["id"] for row in page["data"]]
    assert len(seen) == 7 and set(seen) == made


@pytest.mark.parametrize("params, field", [
    ({"limit": "0"}, "limit"),
    ({"limit": "1001"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"include_deleted": "yes"}, "include_deleted"),
])
def test_bad_page_parameters_are_422(boss, params, field):
    r = boss.get("/api/contacts", params=params)
    assert r.status_code == 422 and field in r.json()["fields"]


# ---------------------------------------------------------------- validation tables

@pytest.fixture(scope="module")
def refs(boss):
    """Live and deleted records for reference checks."""
    org, dead_org = new_org(boss), new_org(boss)
    ok(boss.delete(f"/api/organizations/{dead_org['id']}"))
    contact, other, dead = new_contact(boss), new_contact(boss), new_contact(boss)
    dead_opp = new_opportunity(boss, contact["id"])
    ok(boss.delete(f"/api/opportunities/{dead_opp['id']}"))
    ok(boss.delete(f"/api/contacts/{dead['id']}"))
    return {
        "org": org["id"], "dead_org": dead_org["id"], "contact": contact["id"], "dead_contact": dead["id"],
        "missing": str(uuid.uuid4()), "dead_opp": dead_opp["id"],
        "other_opp": new_opportunity(boss, other["id"])["id"],
    }


def resolve(body, refs):
    """'$name' values become ids from `refs`."""
    return {k: refs[v[1:]] if isinstance(v, str) and v.startswith("$") else v for k, v in body.items()}


LIVE_CONTACT = {"contact_id": "$contact"}
COMM = {"contact_id": "$contact", "type": "call", "communication_date": WHEN}

INVALID_CREATES = [
    # organizations
    ("organizations", {}, {"name"}),
    ("organizations", {"name": "   "}, {"name"}),
    ("organizations", {"name": 7}, {"name"}),
    ("organizations", {"name": "X", "type": "hedge_fund"}, {"type"}),
    ("organizations", {"name": "X", "domain": "not a domain"}, {"domain"}),
    ("organizations", {"name": "X", "tags": "lp"}, {"tags"}),
    ("organizations", {"name": "X", "nickname": "Y"}, {"nickname"}),
    ("organizations", {"name": "X" * 301}, {"name"}),
    # contacts
    ("contacts", {}, {"first_name", "last_name"}),
    ("contacts", {"first_name": "Ada"}, {"last_name"}),
    ("contacts", {"first_name": "Ada", "last_name": "L", "email": "ada.example.com"}, {"email"}),
    ("contacts", {"first_name": "Ada", "last_name": "L", "email": "ada@localhost"}, {"email"}),
    ("contacts", {"first_name": "Ada", "last_name": "L", "other_emails": ["ok@fund.example", "nope"]}, {"other_emails"}),
    ("contacts", {"first_name": "Ada", "last_name": "L", "contact_type": "lp"}, {"contact_type"}),
    ("contacts", {"first_name": "Ada", "last_name": "L", "status": "gone"}, {"status"}),
    ("contacts", {"first_name": "Ada", "last_name": "L", "organization_id": "$missing"}, {"organization_id"}),
    ("contacts", {"first_name": "Ada", "last_name": "L", "organization_id": "$dead_org"}, {"organization_id"}),
    ("contacts", {"first_name": "Ada", "last_name": "L", "nickname": "Countess"}, {"nickname"}),
    ("contacts", {"first_name": "Ada", "last_name": "L", "email": "bad", "status": "x", "extra": 1}, {"email", "status", "extra"}),
    # opportunities
    ("opportunities", {}, {"contact_id"}),
    ("opportunities", {"contact_id": "$missing"}, {"contact_id"}),
    ("opportunities", {"contact_id": "$dead_contact"}, {"contact_id"}),
    ("opportunities", {**LIVE_CONTACT, "stage": "won"}, {"stage"}),
    ("opportunities", {**LIVE_CONTACT, "stage": None}, {"stage"}),
    ("opportunities", {**LIVE_CONTACT, "expected_amount": -1}, {"expected_amount"}),
    ("opportunities", {**LIVE_CONTACT, "commitment_amount": -0.01}, {"commitment_amount"}),
    ("opportunities", {**LIVE_CONTACT, "expected_amount": "100"}, {"expected_amount"}),
    ("opportunities", {**LIVE_CONTACT, "probability": 101}, {"probability"}),
    ("opportunities", {**LIVE_CONTACT, "probability": -1}, {"probability"}),
    ("opportunities", {**LIVE_CONTACT, "owner_id": "$missing"}, {"owner_id"}),
    ("opportunities", {**LIVE_CONTACT, "organization_id": "$dead_org"}, {"organization_id"}),
    ("opportunities", {**LIVE_CONTACT, "amount": 5}, {"amount"}),
    # communications
    ("communications", {}, {"contact_id", "type", "communication_date"}),
    ("communications", {**COMM, "type": "fax"}, {"type"}),
    ("communications", {**COMM, "communication_date": "yesterday"}, {"communication_date"}),
    ("communications", {**COMM, "communication_date": "2026-02-30T10:00:00Z"}, {"communication_date"}),
    ("communications", {**COMM, "communication_date": "15/01/2026"}, {"communication_date"}),
    ("communications", {**COMM, "communication_date": "1066-10-14T10:00:00Z"}, {"communication_date"}),
    ("communications", {**COMM, "communication_date": "0001-01-01T00:00:00+01:00"}, {"communication_date"}),
    ("communications", {**COMM, "contact_id": "$dead_contact"}, {"contact_id"}),
    ("communications", {**COMM, "contact_id": "$missing"}, {"contact_id"}),
    ("communications", {**COMM, "opportunity_id": "$other_opp"}, {"opportunity_id"}),
    ("communications", {**COMM, "opportunity_id": "$dead_opp"}, {"opportunity_id"}),
    ("communications", {**COMM, "opportunity_id": "$missing"}, {"opportunity_id"}),
    ("communications", {**COMM, "attendees": "Maria"}, {"attendees"}),
    # lp profiles
    ("lp-profiles", {}, {"contact_id"}),
    ("lp-profiles", {"contact_id": "$dead_contact"}, {"contact_id"}),
    ("lp-profiles", {"contact_id": "$missing"}, {"contact_id"}),
    ("lp-profiles", {**LIVE_CONTACT, "commitment_amount": -5}, {"commitment_amount"}),
    ("lp-profiles", {**LIVE_CONTACT, "funded_amount": -1}, {"funded_amount"}),
    ("lp-profiles", {**LIVE_CONTACT, "investor_type": "whale"}, {"investor_type"}),
    ("lp-profiles", {**LIVE_CONTACT, "accreditation_method": "vibes"}, {"accreditation_method"}),
    ("lp-profiles", {**LIVE_CONTACT, "accreditation_date": "2026-13-01"}, {"accreditation_date"}),
    ("lp-profiles", {**LIVE_CONTACT, "accreditation_date": "01/02/2026"}, {"accreditation_date"}),
    ("lp-profiles", {**LIVE_CONTACT, "accreditation_date": "2026-01-31T10:00:00Z"}, {"accreditation_date"}),
    ("lp-profiles", {**LIVE_CONTACT, "accredited": "yes"}, {"accredited"}),
    ("lp-profiles", {**LIVE_CONTACT, "k1_sent": 1}, {"k1_sent"}),
    # feature requests
    ("feature-requests", {}, {"title"}),
    ("feature-requests", {"title": "X", "status": "wontfix"}, {"status"}),
    ("feature-requests", {"title": "X", "votes": -1}, {"votes"}),
    ("feature-requests", {"title": "X", "votes": 1.5}, {"votes"}),
    # tags
    ("tags", {}, {"name"}),
    ("tags", {"name": "hot", "color": "red"}, {"color"}),
    ("tags", {"name": "hot", "color": "#12345g"}, {"color"}),
    ("tags", {"name": "hot", "color": "#1234567"}, {"color"}),
    ("tags", {"name": "hot", "color": None}, {"color"}),
    ("tags", {"name": "hot", "colour": "#123456"}, {"colour"}),
]


@pytest.mark.parametrize("resource, body, fields", INVALID_CREATES)
def test_invalid_create_is_422_naming_each_field_and_writes_nothing(boss, refs, resource, body, fields):
    path = f"/api/{resource}"
    before, audit_before = count(boss, path), count(boss, "/api/audit-log")
    r = boss.post(path, resolve(body, refs))
    assert r.status_code == 422, r.text
    assert set(r.json()["fields"]) == fields
    for name in fields:
        assert name in r.json()["error"]
    assert count(boss, path) == before
    assert count(boss, "/api/audit-log") == audit_before


def _target(c, resource, refs):
    if resource == "contacts":
        return new_contact(c, email=unique("t") + "@fund.example")
    if resource == "opportunities":
        return new_opportunity(c, refs["contact"], stage="meeting")
    if resource == "communications":
        return new_communication(c, refs["contact"])
    if resource == "lp-profiles":
        return new_lp(c, new_contact(c)["id"], commitment_amount=10)
    if resource == "feature-requests":
        return ok(c.post("/api/feature-requests", {"title": "Target"}), 201)
    return new_org(c, type="bank")


INVALID_UPDATES = [
    ("organizations", "PATCH", {"type": "hedge_fund"}, {"type"}),
    ("organizations", "PATCH", {"name": ""}, {"name"}),
    ("organizations", "PUT", {"type": "bank"}, {"name"}),
    ("contacts", "PATCH", {"email": "nope"}, {"email"}),
    ("contacts", "PATCH", {"organization_id": "$dead_org"}, {"organization_id"}),
    ("contacts", "PATCH", {"first_name": None}, {"first_name"}),
    ("contacts", "PATCH", {"shoe_size": 9}, {"shoe_size"}),
    ("contacts", "PUT", {"first_name": "Only"}, {"last_name"}),
    ("opportunities", "PATCH", {"stage": "won"}, {"stage"}),
    ("opportunities", "PATCH", {"expected_amount": -10}, {"expected_amount"}),
    ("opportunities", "PATCH", {"contact_id": "$dead_contact"}, {"contact_id"}),
    ("opportunities", "PUT", {"contact_id": "$contact", "stage": "won"}, {"stage"}),
    ("opportunities", "PUT", {"stage": "meeting"}, {"contact_id"}),
    ("communications", "PATCH", {"communication_date": "soon"}, {"communication_date"}),
    ("communications", "PATCH", {"opportunity_id": "$other_opp"}, {"opportunity_id"}),
    ("communications", "PUT", {"contact_id": "$contact", "type": "call"}, {"communication_date"}),
    ("lp-profiles", "PATCH", {"funded_amount": -1}, {"funded_amount"}),
    ("lp-profiles", "PATCH", {"accreditation_date": "2026-02-30"}, {"accreditation_date"}),
    ("lp-profiles", "PUT", {"commitment_amount": 5}, {"contact_id"}),
    ("feature-requests", "PATCH", {"status": "maybe"}, {"status"}),
    ("feature-requests", "PUT", {"body": "no title"}, {"title"}),
]


@pytest.mark.parametrize("resource, method, body, fields", INVALID_UPDATES)
def test_invalid_update_is_422_and_leaves_the_record_as_it_was(boss, refs, resource, method, body, fields):
    record = _target(boss, resource, refs)
    item = f"/api/{resource}/{record['id']}"
    before = ok(boss.get(item))
    audit_before = len(audit_entries(boss, record["id"]))
    r = boss.request(method, item, resolve(body, refs))
    assert r.status_code == 422, r.text
    assert set(r.json()["fields"]) == fields
    assert ok(boss.get(item)) == before
    assert len(audit_entries(boss, record["id"])) == audit_before


# ---------------------------------------------------------------- opportunity stages

@pytest.mark.parametrize("how", ["POST", "PUT", "PATCH", "stage route"])
@pytest.mark.parametrize("stage", ["won", "Meeting", "", None, 3])
def test_the_stage_allowlist_holds_on_every_write(boss, refs, how, stage):
    if how == "POST":
        before = count(boss, "/api/opportunities")
        r = boss.post("/api/opportunities", {"contact_id": refs["contact"], "stage": stage})
        assert r.status_code == 422 and set(r.json()["fields"]) == {"stage"}
        assert count(boss, "/api/opportunities") == before
        return
    opp = new_opportunity(boss, refs["contact"], stage="meeting", fund_name="Fund I")
    item = f"/api/opportunities/{opp['id']}"
    if how == "PUT":
        r = boss.put(item, {"contact_id": refs["contact"], "stage": stage})
    elif how == "PATCH":
        r = boss.patch(item, {"stage": stage})
    else:
        r = boss.patch(item + "/stage", {"stage": stage})
    assert r.status_code == 422 and set(r.json()["fields"]) == {"stage"}, r.text
    assert ok(boss.get(item)) == opp


def test_stage_route_moves_the_stage_and_records_lost_reason(boss, refs):
    opp = new_opportunity(boss, refs["contact"], stage="meeting", fund_name="Fund I", expected_amount=5)
    item = f"/api/opportunities/{opp['id']}"
    moved = ok(boss.patch(item + "/stage", {"stage": "lost", "lost_reason": "Too early"}))
    assert moved["stage"] == "lost" and moved["lost_reason"] == "Too early"
    assert moved["fund_name"] == "Fund I" and moved["expected_amount"] == 5
    last = audit_entries(boss, opp["id"])[-1]
    assert last["action"] == "stage"
    assert last["changes"] == {"stage": ["meeting", "lost"], "lost_reason": [None, "Too early"]}
    r = boss.patch(item + "/stage", {"lost_reason": "no stage"})
    assert r.status_code == 422 and set(r.json()["fields"]) == {"stage"}
    r = boss.patch(item + "/stage", {"stage": "closed", "fund_name": "sneaky"})
    assert r.status_code == 422 and set(r.json()["fields"]) == {"fund_name"}
    assert ok(boss.get(item))["stage"] == "lost"


# ---------------------------------------------------------------- conflicts

def test_lp_profile_promotes_its_contact_and_only_one_live_profile_per_contact(boss):
    contact = new_contact(boss, contact_type="prospect")
    first = new_lp(boss, contact["id"], commitment_amount=100)
    assert ok(boss.get(f"/api/contacts/{contact['id']}"))["contact_type"] == "investor"
    promotion = audit_entries(boss, contact["id"])[-1]
    assert promotion["action"] == "update" and promotion["changes"] == {"contact_type": ["prospect", "investor"]}

    before = count(boss, "/api/lp-profiles", contact_id=contact["id"])
    r = boss.post("/api/lp-profiles", {"contact_id": contact["id"], "commitment_amount": 200})
    assert r.status_code == 409 and "contact_id" in r.json()["fields"], r.text
    assert count(boss, "/api/lp-profiles", contact_id=contact["id"]) == before

    # once the first is deleted a new one may be made; the old one cannot come back beside it
    ok(boss.delete(f"/api/lp-profiles/{first['id']}"))
    second = new_lp(boss, contact["id"], commitment_amount=200)
    r = boss.post(f"/api/lp-profiles/{first['id']}/restore")
    assert r.status_code == 409
    assert boss.get(f"/api/lp-profiles/{first['id']}").status_code == 404
    # moving another contact's profile onto this contact clashes too
    other = new_lp(boss, new_contact(boss)["id"])
    r = boss.patch(f"/api/lp-profiles/{other['id']}", {"contact_id": contact["id"]})
    assert r.status_code == 409
    assert ok(boss.get(f"/api/lp-profiles/{other['id']}"))["contact_id"] == other["contact_id"]
    assert ok(boss.get(f"/api/contacts/{contact['id']}"))["lp_profile"]["id"] == second["id"]


def test_an_lp_profile_edit_promotes_a_demoted_contact(boss):
    contact = new_contact(boss)
    profile = new_lp(boss, contact["id"])
    ok(boss.patch(f"/api/contacts/{contact['id']}", {"contact_type": "advisor"}))
    ok(boss.patch(f"/api/lp-profiles/{profile['id']}", {"funded_amount": 1}))
    assert ok(boss.get(f"/api/contacts/{contact['id']}"))["contact_type"] == "investor"


def test_duplicate_live_email_is_409(boss):
    email = unique("dup") + "@fund.example"
    original = new_contact(boss, email=email)
    path = "/api/contacts"
    for attempt in ({"first_name": "B", "last_name": "C", "email": email},
                    {"first_name": "B", "last_name": "C", "email": email.upper()}):
        before = count(boss, path)
        r = boss.post(path, attempt)
        assert r.status_code == 409 and "email" in r.json()["fields"], r.text
        assert count(boss, path) == before
    other = new_contact(boss)
    for method, body in (("PATCH", {"email": email}), ("PUT", {"first_name": "B", "last_name": "C", "email": email})):
        r = boss.request(method, f"/api/contacts/{other['id']}", body)
        assert r.status_code == 409, r.text
        assert plain(ok(boss.get(f"/api/contacts/{other['id']}"))) == other
    # a deleted contact's email is free again
    ok(boss.delete(f"/api/contacts/{original['id']}"))
    again = new_contact(boss, email=email)
    assert again["email"] == email
    assert boss.post(f"/api/contacts/{original['id']}/restore").status_code == 409


def test_emails_are_stored_lower_case_and_blank_email_is_none(boss):
    c = new_contact(boss, email="  Mixed.Case@Fund.Example ", other_emails=["A@x.example", "a@X.example", "b@x.example"])
    assert c["email"] == "mixed.case@fund.example"
    assert c["other_emails"] == ["a@x.example", "b@x.example"]
    assert new_contact(boss, email="")["email"] is None
    assert new_contact(boss, email="")["email"] is None  # two blank emails do not clash


# ---------------------------------------------------------------- soft delete

def test_soft_delete_hides_records_from_lists_reads_and_reports(admin):
    contact = new_contact(admin, contact_type="advisor")
    opp = new_opportunity(admin, contact["id"], stage="meeting", expected_amount=100)
    org = new_org(admin)

    def meeting():
        return next(s for s in ok(admin.get("/api/reports/pipeline")) if s["stage"] == "meeting")

    assert meeting() == {"stage": "meeting", "count": 1, "expected": 100, "committed": 0}
    ok(admin.delete(f"/api/opportunities/{opp['id']}"))
    ok(admin.delete(f"/api/organizations/{org['id']}"))
    assert meeting()["count"] == 0 and meeting()["expected"] == 0
    assert ok(admin.get("/api/reports/dashboard"))["organizations"] == 0
    assert ids(admin.get("/api/opportunities")) == []
    assert admin.get(f"/api/opportunities/{opp['id']}").status_code == 404
    # deleting an organization leaves its contacts in place
    assert ok(admin.get("/api/reports/dashboard"))["contacts"]["by_type"] == {"advisor": 1}
    with_deleted = ok_page(admin.get("/api/opportunities", params={"include_deleted": "1"}))
    assert [row["id"] for row in with_deleted["data"]] == [opp["id"]] and with_deleted["total"] == 1
    assert with_deleted["data"][0]["deleted_at"]


@pytest.mark.parametrize("path", ["/api/contacts", "/api/organizations", "/api/opportunities", "/api/communications",
                                  "/api/lp-profiles", "/api/tags", "/api/feature-requests"])
def test_include_deleted_is_for_admins_only(boss, member, path):
    r = member.get(path, params={"include_deleted": "1"})
    assert r.status_code == 403
    assert member.get(path, params={"include_deleted": "0"}).status_code == 200
    assert boss.get(path, params={"include_deleted": "1"}).status_code == 200


def test_member_cannot_read_a_deleted_record_but_may_restore_it(boss, member):
    contact = new_contact(member)
    ok(member.delete(f"/api/contacts/{contact['id']}"))
    assert member.get(f"/api/contacts/{contact['id']}", params={"include_deleted": "1"}).status_code == 403
    assert ok(boss.get(f"/api/contacts/{contact['id']}", params={"include_deleted": "1"}))["deleted_by"] == member.user["id"]
    ok(member.post(f"/api/contacts/{contact['id']}/restore"))
    assert ok(member.get(f"/api/contacts/{contact['id']}"))["deleted_at"] is None


def test_contact_delete_cascades_and_restore_brings_back_exactly_that_batch(boss):
    contact = new_contact(boss)
    kept_opp = new_opportunity(boss, contact["id"], fund_name="Fund I")
    early_opp = new_opportunity(boss, contact["id"], fund_name="Fund II")
    comm = new_communication(boss, contact["id"], opportunity_id=kept_opp["id"])
    early_comm = new_communication(boss, contact["id"])
    profile = new_lp(boss, contact["id"])
    ok(boss.delete(f"/api/opportunities/{early_opp['id']}"))
    ok(boss.delete(f"/api/communications/{early_comm['id']}"))

    deleted = ok(boss.delete(f"/api/contacts/{contact['id']}"))
    assert deleted["also_deleted"] == {"opportunities": 1, "communications": 1, "lp_profiles": 1}
    for path in (f"/api/contacts/{contact['id']}", f"/api/opportunities/{kept_opp['id']}",
                 f"/api/communications/{comm['id']}", f"/api/lp-profiles/{profile['id']}"):
        assert boss.get(path).status_code == 404, path
        assert ok(boss.get(path, params={"include_deleted": "1"}))["deleted_by"] == boss.user["id"]
    assert ids(boss.get("/api/opportunities", params={"contact_id": contact["id"]})) == []

    restored = ok(boss.post(f"/api/contacts/{contact['id']}/restore"))
    assert restored["also_restored"] == {"opportunities": 1, "communications": 1, "lp_profiles": 1}
    assert restored["deleted_at"] is None
    for path in (f"/api/opportunities/{kept_opp['id']}", f"/api/communications/{comm['id']}", f"/api/lp-profiles/{profile['id']}"):
        assert ok(boss.get(path))["deleted_at"] is None
    # deleted on their own earlier: still deleted
    assert boss.get(f"/api/opportunities/{early_opp['id']}").status_code == 404
    assert boss.get(f"/api/communications/{early_comm['id']}").status_code == 404
    assert set(ids(boss.get("/api/opportunities", params={"contact_id": contact["id"]}))) == {kept_opp["id"]}
    # the cascade was audited record by record, with one shared batch
    batches = {audit_entries(boss, rid)[-2]["changes"]["batch"][1] for rid in (contact["id"], kept_opp["id"], comm["id"], profile["id"])}
    assert len(batches) == 1
    assert audit_entries(boss, early_opp["id"])[-1]["action"] == "delete"


def deleted_at(c, record_id, resource):
    return ok(c.get(f"/api/{resource}/{record_id}", params={"include_deleted": "1"}))["deleted_at"]


@pytest.mark.parametrize("resource", ["opportunities", "communications", "lp-profiles"])
def test_a_child_of_a_deleted_contact_cannot_be_restored(boss, resource):
    contact = new_contact(boss)
    make = {"opportunities": new_opportunity, "communications": new_communication, "lp-profiles": new_lp}[resource]
    child = make(boss, contact["id"])
    item = f"/api/{resource}/{child['id']}"
    ok(boss.delete(item))
    ok(boss.delete(f"/api/contacts/{contact['id']}"))
    stamp = deleted_at(boss, child["id"], resource)

    r = boss.post(item + "/restore")
    assert r.status_code == 409 and "contact_id" in r.json()["fields"], r.text
    assert deleted_at(boss, child["id"], resource) == stamp

    ok(boss.post(f"/api/contacts/{contact['id']}/restore"))
    assert boss.get(item).status_code == 404  # not part of the contact's batch
    assert ok(boss.post(item + "/restore"))["deleted_at"] is None


def test_deleting_a_child_alone_leaves_the_contact(boss):
    contact = new_contact(boss)
    opp = new_opportunity(boss, contact["id"])
    ok(boss.delete(f"/api/opportunities/{opp['id']}"))
    assert ok(boss.get(f"/api/contacts/{contact['id']}"))["opportunities"] == []


# ---------------------------------------------------------------- dossier and per-record lists

def test_dossier_holds_organization_last_20_communications_opportunities_and_lp_profile(boss):
    org = new_org(boss, name=unique("Dossier Org "))
    contact = new_contact(boss, organization_id=org["id"])
    opp = new_opportunity(boss, contact["id"], fund_name="Fund III")
    profile = new_lp(boss, contact["id"], commitment_amount=750)
    by_day = {}
    for day in (5, 1, 25, 12, 3, 18, 7, 22, 9, 14, 2, 20, 11, 24, 6, 16, 8, 23, 4, 19, 10, 15, 13, 21, 17):
        by_day[day] = new_communication(boss, contact["id"], communication_date=f"2026-01-{day:02d}T08:00:00.000Z",
                                        subject=f"Day {day}")["id"]
    ok(boss.delete(f"/api/communications/{by_day[25]}"))

    dossier = ok(boss.get(f"/api/contacts/{contact['id']}"))
    assert dossier["id"] == contact["id"] and dossier["last_name"] == contact["last_name"]
    assert dossier["organization"]["id"] == org["id"] and dossier["organization"]["name"] == org["name"]
    assert [c["id"] for c in dossier["communications"]] == [by_day[d] for d in range(24, 4, -1)]
    assert [o["id"] for o in dossier["opportunities"]] == [opp["id"]]
    assert dossier["lp_profile"]["id"] == profile["id"] and dossier["lp_profile"]["commitment_amount"] == 750
    assert dossier["contact_type"] == "investor"

    bare = ok(boss.get(f"/api/contacts/{new_contact(boss)['id']}"))
    assert bare["organization"] is None and bare["communications"] == [] and bare["opportunities"] == []
    assert bare["lp_profile"] is None


def test_contact_communications_are_paginated_newest_first(boss):
    contact, other = new_contact(boss), new_contact(boss)
    made = [new_communication(boss, contact["id"], communication_date=f"2026-02-{d:02d}T08:00:00.000Z")["id"]
            for d in range(1, 8)]
    new_communication(boss, other["id"])
    ok(boss.delete(f"/api/communications/{made[0]}"))
    path = f"/api/contacts/{contact['id']}/communications"
    first = ok_page(boss.get(path, params={"limit": 4}))
    second = ok_page(boss.get(path, params={"limit": 4, "offset": 4}))
    assert first["total"] == 6 and second["total"] == 6
    assert [c["id"] for c in first["data"] + second["data"]] == list(reversed(made[1:]))
    assert ids(boss.get(path, params={"sort": "communication_date"})) == made[1:]
    assert boss.get(f"/api/contacts/{uuid.uuid4()}/communications").status_code == 404


def test_organization_contacts(boss):
    org, elsewhere = new_org(boss), new_org(boss)
    a = new_contact(boss, organization_id=org["id"], last_name="Aaa")
    b = new_contact(boss, organization_id=org["id"], last_name="Bbb")
    gone = new_contact(boss, organization_id=org["id"])
    new_contact(boss, organization_id=elsewhere["id"])
    ok(boss.delete(f"/api/contacts/{gone['id']}"))
    page = ok_page(boss.get(f"/api/organizations/{org['id']}/contacts"))
    assert [row["id"] for row in page["data"]] == [a["id"], b["id"]] and page["total"] == 2
    assert {row["organization_name"] for row in page["data"]} == {org["name"]}
    ok(boss.delete(f"/api/organizations/{org['id']}"))
    assert boss.get(f"/api/organizations/{org['id']}/contacts").status_code == 404
    # the contacts stay, without their organization's name
    assert ok(boss.get(f"/api/contacts/{a['id']}"))["organization"] is None


# ---------------------------------------------------------------- audit

def test_audit_log_has_field_diffs_for_create_update_delete_restore(boss):
    contact = new_contact(boss, first_name="Grace", last_name="Hopper", phone="555")
    item = f"/api/contacts/{contact['id']}"
    ok(boss.patch(item, {"title": "Rear Admiral", "phone": "555"}))  # phone unchanged: not in the diff
    ok(boss.put(item, {"first_name": "Grace", "last_name": "Murray"}))
    ok(boss.delete(item))
    ok(boss.post(item + "/restore"))
    entries = audit_entries(boss, contact["id"])
    assert [e["action"] for e in entries] == ["create", "update", "update", "delete", "restore"]
    assert all(e["entity_type"] == "contact" and e["actor_id"] == boss.user["id"] and e["actor_kind"] == "user" for e in entries)
    create, patch, put, delete, restore = (e["changes"] for e in entries)
    assert create["first_name"] == [None, "Grace"] and create["last_name"] == [None, "Hopper"] and create["phone"] == [None, "555"]
    assert patch == {"title": [None, "Rear Admiral"]}
    assert put == {"last_name": ["Hopper", "Murray"], "phone": ["555", None], "title": ["Rear Admiral", None]}
    assert delete["batch"][0] is None and delete["batch"][1]
    assert restore == {"batch": [delete["batch"][1], None]}
    assert all(e["request_id"] for e in entries)


def test_a_patch_that_changes_nothing_writes_no_audit_entry(boss):
    org = new_org(boss, type="bank")
    before = len(audit_entries(boss, org["id"]))
    assert ok(boss.patch(f"/api/organizations/{org['id']}", {"type": "bank"}))["updated_at"] == org["updated_at"]
    assert len(audit_entries(boss, org["id"])) == before


def test_audit_log_is_admin_only(member):
    assert member.get("/api/audit-log").status_code == 403


# ---------------------------------------------------------------- tags palette

def test_tag_palette(boss):
    name = unique("hot")
    tag = ok(boss.post("/api/tags", {"name": name, "color": "#2F6FDE"}), 201)
    assert tag["color"] == "#2F6FDE"
    plain = ok(boss.post("/api/tags", {"name": unique("plain")}), 201)
    assert plain["color"] == "#6b7280"
    assert tag["id"] in ids(boss.get("/api/tags", params={"q": name, "limit": 1000}))

    before = count(boss, "/api/tags")
    for clash in (name, name.upper(), f"  {name} "):
        r = boss.post("/api/tags", {"name": clash})
        assert r.status_code == 409 and "name" in r.json()["fields"], clash
    assert count(boss, "/api/tags") == before

    ok(boss.delete(f"/api/tags/{tag['id']}"))
    assert tag["id"] not in ids(boss.get("/api/tags", params={"limit": 1000}))
    ok(boss.post(f"/api/tags/{tag['id']}/restore"))
    assert tag["id"] in ids(boss.get("/api/tags", params={"limit": 1000}))

    ok(boss.delete(f"/api/tags/{tag['id']}"))
    again = ok(boss.post("/api/tags", {"name": name}), 201)  # a deleted tag's name is free
    assert boss.post(f"/api/tags/{tag['id']}/restore").status_code == 409
    assert [e["action"] for e in audit_entries(boss, tag["id"])] == ["create", "delete", "restore", "delete"]
    assert again["id"] != tag["id"]


# ---------------------------------------------------------------- feature requests

def test_feature_request_vote(boss, member):
    fr = ok(member.post("/api/feature-requests", {"title": unique("Calendar sync ")}), 201)
    assert fr["status"] == "open" and fr["votes"] == 0 and fr["created_by"] == member.user["id"]
    item = f"/api/feature-requests/{fr['id']}"
    assert ok(boss.post(item + "/vote"))["votes"] == 1
    assert ok(member.post(item + "/vote"))["votes"] == 2
    assert ok(boss.get(item))["votes"] == 2
    votes = [e for e in audit_entries(boss, fr["id"]) if e["action"] == "vote"]
    assert [e["changes"] for e in votes] == [{"votes": [0, 1]}, {"votes": [1, 2]}]
    ok(boss.delete(item))
    assert boss.post(item + "/vote").status_code == 404
    assert ok(boss.get(item, params={"include_deleted": "1"}))["votes"] == 2
