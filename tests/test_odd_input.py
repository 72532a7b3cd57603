"""What a newcomer types, or a script sends, that is odd but not wrong: search text taken
literally, text the store cannot hold, integers beyond 64 bits, JSON nested thousands deep.

Each is a clear 4xx naming the field (or 200 for search), never a 500, and nothing is written.
One module-wide server; each case checks its own before and after.
"""
import json

import pytest

BIG = 2**70


@pytest.fixture(scope="module")
def boss(shared):
    return shared.register_admin()


@pytest.fixture(scope="module")
def records(boss):
    """One of each classic record, with names the searches below look for."""
    org = boss.post("/api/organizations", {"name": "🚀 Rocket Capital", "domain": "rocket.example"}).json()["data"]
    contact = boss.post("/api/contacts", {"first_name": "Siobhán", "last_name": "O'Brien-Smith",
                                          "email": "siobhan@rocket.example", "organization_id": org["id"],
                                          "notes": "met at \"fund ii\" dinner — 50% likely"}).json()["data"]
    boss.post("/api/lp-profiles", {"contact_id": contact["id"], "commitment_amount": 250000, "notes": "wire in Q3"})
    boss.post("/api/opportunities", {"contact_id": contact["id"], "fund_name": "Fund II"})
    boss.post("/api/communications", {"contact_id": contact["id"], "type": "email", "subject": "Re: (draft) terms",
                                      "communication_date": "2026-01-15T10:00:00Z"})
    boss.post("/api/tags", {"name": "c-suite"})
    boss.post("/api/feature-requests", {"title": "Export * to PDF"})
    return {"org": org, "contact": contact}


SEARCHED = ["/api/contacts", "/api/organizations", "/api/opportunities", "/api/communications", "/api/lp-profiles",
            "/api/tags", "/api/feature-requests", "/api/fundraising/rows"]
TYPED = ["smith-jones", "O'Brien", "jane@acme.com", '"fund ii"', "50%", "AND", "NOT", "OR", "NEAR(", "*", "(", ")",
         "-", '"', "🚀", ".", "^", "a:b", "{x}", "\\", "_", "%", "'; DROP TABLE contacts; --"]


@pytest.mark.parametrize("path", SEARCHED)
def test_search_takes_any_typed_text_literally(boss, records, path):
    for text in TYPED:
        r = boss.get(path, params={"q": text})
        assert r.status_code == 200, f"{path}?q={text!r}: {r.status_code} {r.text}"
        assert isinstance(r.json()["data"], list)


@pytest.mark.parametrize("path, text, expected", [
    ("/api/contacts", "O'Brien", 1), ("/api/contacts", "obrien", 0), ("/api/contacts", '"fund ii"', 1),
    ("/api/contacts", "—", 1), ("/api/contacts", "zzz-nobody", 0),
    ("/api/organizations", "🚀", 1), ("/api/organizations", "rocket.example", 1),
    ("/api/lp-profiles", "O'Brien", 1), ("/api/lp-profiles", "siobhan@rocket.example", 1), ("/api/lp-profiles", "Q3", 1),
    ("/api/lp-profiles", "smith-jones", 0),
    ("/api/opportunities", "Siobhán", 1), ("/api/communications", "(draft)", 1), ("/api/communications", "(", 1),
    ("/api/tags", "-", 1), ("/api/feature-requests", "*", 1),
])
def test_search_finds_what_was_typed(boss, records, path, text, expected):
    r = boss.get(path, params={"q": text})
    assert r.status_code == 200, r.text
    assert r.json()["total"] == expected, (path, text, r.json())


def count(boss, path):
    return boss.get(path, params={"include_deleted": 1, "limit": 1}).json()["total"]


def post_raw(boss, path, text):
    return boss.post(path, raw=text.encode(), headers={"Content-Type": "application/json"})


# (path, raw JSON body, the field the 422 names)
REFUSED_TEXT = [
    ("/api/contacts", '{"first_name": "\\ud800", "last_name": "X"}', "first_name"),
    ("/api/contacts", '{"first_name": "Ann", "last_name": "X\\udfff"}', "last_name"),
    ("/api/contacts", '{"first_name": "A\\u0000nn", "last_name": "X"}', "first_name"),
    ("/api/contacts", '{"first_name": "Ann", "last_name": "X", "notes": "bell\\u0007"}', "notes"),
    ("/api/contacts", '{"first_name": "Ann\\nMarie", "last_name": "X"}', "first_name"),
    ("/api/contacts", '{"first_name": "Ann\\tMarie", "last_name": "X"}', "first_name"),
    ("/api/contacts", '{"first_name": "Ann", "last_name": "X", "tags": ["ok", "b\\u0000d"]}', "tags[1]"),
    ("/api/organizations", '{"name": "Acme\\u007f"}', "name"),
    ("/api/fundraising/ops", '{"base_version": 0, "ops": [{"op": "add_row", "row_id": "r1", "cells": {"x": "\\ud800"}}]}',
     "ops[0].cells.x"),
    ("/api/fundraising/ops", '{"base_version": 0, "ops": [{"op": "add_row", "row_id": "r\\u0000"}]}', "ops[0].row_id"),
]


@pytest.mark.parametrize("path, text, field", REFUSED_TEXT)
def test_text_the_store_cannot_hold_is_refused_naming_the_field(boss, path, text, field):
    listed = path if path != "/api/fundraising/ops" else "/api/fundraising/rows"
    before = count(boss, listed)
    r = post_raw(boss, path, text)
    assert r.status_code == 422, r.text
    assert field in r.json()["fields"], r.json()
    assert count(boss, listed) == before


def test_multi_line_text_keeps_tabs_and_line_breaks(boss):
    r = boss.post("/api/contacts", {"first_name": "Tab", "last_name": "Lines", "notes": "one\n\ttwo\r\nthree"})
    assert r.status_code == 201, r.text
    assert r.json()["data"]["notes"] == "one\n\ttwo\r\nthree"
    r = boss.post("/api/contacts", {"first_name": "Emoji 🚀", "last_name": "Pair"})  # a real pair is fine
    assert r.status_code == 201 and r.json()["data"]["first_name"] == "Emoji 🚀"


def test_a_surrogate_pair_written_as_escapes_is_one_character(boss):
    r = post_raw(boss, "/api/contacts", '{"first_name": "Rocket \\ud83d\\ude80", "last_name": "Escaped"}')
    assert r.status_code == 201, r.text
    assert r.json()["data"]["first_name"] == "Rocket 🚀"


@pytest.mark.parametrize("path", ["/api/contacts", "/api/organizations", "/api/fundraising/backups", "/api/audit-log",
                                  "/api/fundraising/mentions", "/api/fundraising/automation-runs",
                                  "/api/fundraising/activity", "/api/users", "/api/tags", "/api/fundraising/rows"])
@pytest.mark.parametrize("name, value", [("offset", BIG), ("offset", -1), ("limit", BIG), ("limit", 0),
                                         ("offset", "１"), ("offset", "²"), ("offset", "1e3"), ("offset", " 1")])
def test_every_list_refuses_a_page_out_of_range(boss, path, name, value):
    r = boss.get(path, params={name: value})
    assert r.status_code == 422, f"{path}?{name}={value}: {r.status_code} {r.text}"
    assert name in r.json()["fields"]


def test_users_is_a_page_like_every_list(boss):
    body = boss.get("/api/users", params={"limit": 1}).json()
    assert body["limit"] == 1 and body["offset"] == 0 and body["total"] >= 1 and len(body["data"]) == 1


@pytest.mark.parametrize("path, params, field", [
    ("/api/fundraising/changes", {"since": BIG}, "since"),
    ("/api/fundraising/changes", {"since": "²"}, "since"),
    ("/api/fundraising/rows", {"version": BIG}, "version"),
    ("/api/fundraising/rows", {"version": "²"}, "version"),
    ("/api/reports/activity", {"weeks": BIG}, "weeks"),
    ("/api/contacts", {"q": "a\x00b"}, "q"),
    ("/api/contacts", {"sort": "last_name\n"}, "sort"),
])
def test_query_numbers_and_text_are_bounded(boss, path, params, field):
    r = boss.get(path, params=params)
    assert r.status_code == 422, r.text
    assert field in r.json()["fields"]


@pytest.mark.parametrize("path, body, field", [
    ("/api/opportunities", {"expected_amount": BIG}, "expected_amount"),
    ("/api/opportunities", {"commitment_amount": -BIG}, "commitment_amount"),
    ("/api/lp-profiles", {"commitment_amount": BIG}, "commitment_amount"),
    ("/api/feature-requests", {"title": "Big", "votes": BIG}, "votes"),
])
def test_body_integers_beyond_64_bits_are_refused(boss, records, path, body, field):
    if "contact_id" not in body and path != "/api/feature-requests":
        body = {"contact_id": records["contact"]["id"], **body}
    before = count(boss, path)
    r = boss.post(path, body)
    assert r.status_code == 422, r.text
    assert field in r.json()["fields"]
    assert count(boss, path) == before


def test_grid_cells_refuse_integers_and_numbers_the_store_cannot_hold(boss):
    before = count(boss, "/api/fundraising/rows")
    for value in (str(BIG), "1e999", "-1e999"):
        text = '{"base_version": 0, "ops": [{"op": "add_row", "row_id": "r-big", "cells": {"c": %s}}]}' % value
        r = post_raw(boss, "/api/fundraising/ops", text)
        assert r.status_code == 422, r.text
        assert "ops[0].cells.c" in r.json()["fields"]
    assert count(boss, "/api/fundraising/rows") == before


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000,
                                  "[" * 100 + "]" * 100, '{"first_name": NaN}', '{"first_name": Infinity}'])
def test_deep_nesting_and_non_json_numbers_are_a_400(boss, text):
    before = count(boss, "/api/contacts")
    r = post_raw(boss, "/api/contacts", text)
    assert r.status_code == 400, r.text
    assert "error" in r.json()
    assert count(boss, "/api/contacts") == before


def test_nesting_within_the_limit_is_judged_by_the_fields(boss):
    r = post_raw(boss, "/api/contacts", json.dumps({"first_name": "Deep", "last_name": "X", "notes": [[[[1]]]]}))
    assert r.status_code == 422 and "notes" in r.json()["fields"]
