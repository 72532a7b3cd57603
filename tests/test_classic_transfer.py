"""Contacts export (CSV and JSON) and import (CSV or JSON rows, dry run, all-or-nothing, upsert)."""
import csv
import io
import uuid

import pytest


EXPORT_HEADER = ["id", "first_name", "last_name", "email", "other_emails", "phone", "title", "organization",
                 "contact_type", "status", "source", "tags", "notes", "linkedin_url", "city", "state", "country",
                 "location_query", "created_at", "updated_at"]


@pytest.fixture(scope="module")
def boss(shared):
    return shared.register_admin()


def ok(r, status=200):
    assert r.status_code == status, f"{r.status_code} {r.text}"
    return r.json()["data"]


def total(c, path="/api/contacts", **params):
    r = c.get(path, params={"limit": 1, "include_deleted": "1", **params})
    assert r.status_code == 200, r.text
    return r.json()["total"]


def snapshot(c):
    """How many contacts, organizations and audit entries there are."""
    return total(c), total(c, "/api/organizations"), total(c, "/api/audit-log")


def contact(c, **kw):
    r = c.post("/api/contacts", {"first_name": "Test", "last_name": "Person", **kw})
    return ok(r, 201)


def by_email(c, email):
    rows = c.get("/api/contacts", params={"q": email}).json()["data"]
    found = [row for row in rows if row["email"] == email]
    assert len(found) == 1, rows
    return found[0]


def import_csv(c, text, dry_run=False, content_type="text/csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    params = {"dry_run": "1"} if dry_run else None
    return c.post("/api/import/csv", raw=data, headers={"Content-Type": content_type}, params=params)


def import_rows(c, rows, dry_run=False):
    return c.post("/api/import/csv", {"rows": rows}, params={"dry_run": "1"} if dry_run else None)


def mail(prefix="p"):
    return f"{prefix}{uuid.uuid4().hex[:8]}@fund.example"


def lines(*rows):
    return "".join(row + "\r\n" for row in rows)


# ---------------------------------------------------------------- export

def test_csv_export_is_text_csv_with_a_header_and_matches_the_json_export(admin):
    org = ok(admin.post("/api/organizations", {"name": "Northwind, Ltd."}), 201)
    contact(admin, first_name="Ada", last_name="Lovelace", email="ada@analytical.example", organization_id=org["id"],
            other_emails=["a@b.example", "c@d.example"], tags=["vip", "family-office"], contact_type="investor",
            notes='Line one, with "quotes"\nline two', phone="+44 20 7946 0000", country="UK")
    contact(admin, first_name="Alan", last_name="Turing", city="Manchester")
    gone = contact(admin, first_name="Zed", last_name="Deleted")
    ok(admin.delete(f"/api/contacts/{gone['id']}"))

    r = admin.get("/api/export/contacts")
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    parsed = list(csv.reader(io.StringIO(r.content.decode("utf-8"), newline="")))
    assert parsed[0] == EXPORT_HEADER
    as_dicts = [dict(zip(parsed[0], row)) for row in parsed[1:]]

    j = admin.get("/api/export/contacts", params={"format": "json"})
    assert j.headers["Content-Type"].startswith("application/json")
    json_rows = j.json()["data"]
    assert j.json()["total"] == 2 and [list(row) for row in json_rows] == [EXPORT_HEADER] * 2

    def as_cells(row):
        return {k: "; ".join(v) if isinstance(v, list) else ("" if v is None else str(v)) for k, v in row.items()}

    assert as_dicts == [as_cells(row) for row in json_rows]
    assert [row["last_name"] for row in json_rows] == ["Lovelace", "Turing"]  # deleted contacts are not exported
    ada = json_rows[0]
    assert ada["organization"] == "Northwind, Ltd." and ada["tags"] == ["vip", "family-office"]
    assert as_dicts[0]["other_emails"] == "a@b.example; c@d.example"
    assert as_dicts[0]["notes"] == 'Line one, with "quotes"\nline two'
    assert as_dicts[0]["phone"] == "+44 20 7946 0000"  # a phone number is not a formula


def test_export_format_must_be_csv_or_json(boss):
    r = boss.get("/api/export/contacts", params={"format": "xlsx"})
    assert r.status_code == 422 and set(r.json()["fields"]) == {"format"}


GUARDED = {"notes": "=HYPERLINK(\"http://evil.example\",\"x\")", "title": "@SUM(1+1)", "city": "-2+3",
           "source": "+cmd|' /C calc'!A0", "state": "'=already quoted"}


def test_formula_cells_are_guarded_and_the_export_imports_back_unchanged(admin):
    email = mail("formula")
    made = contact(admin, first_name="Eve", last_name="Formula", email=email, phone="-5", **GUARDED)
    r = admin.get("/api/export/contacts")
    row = dict(zip(EXPORT_HEADER, list(csv.reader(io.StringIO(r.text, newline="")))[1]))
    for name, value in GUARDED.items():
        assert row[name] == "'" + value, name
    assert row["phone"] == "-5"  # a plain negative number is safe as it is
    assert admin.get("/api/export/contacts", params={"format": "json"}).json()["data"][0]["notes"] == GUARDED["notes"]

    report = ok(import_csv(admin, r.content))
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 1)
    stored = ok(admin.get(f"/api/contacts/{made['id']}"))
    assert {k: stored[k] for k in GUARDED} == GUARDED and stored["phone"] == "-5"


# ---------------------------------------------------------------- reading CSV

def test_bom_crlf_and_quoted_commas_newlines_and_quotes(boss):
    email = mail("bom")
    text = "\ufeff" + lines(
        "First Name,Last Name,Email,Notes,Tags",
        f'Ada,"Lovelace, Countess",{email},"Said ""hello"", then:\r\nleft early","vip; warm"',
    )
    report = ok(import_csv(boss, text.encode("utf-8")))
    assert report["created"] == 1 and report["warnings"] == [] and report["errors"] == []
    stored = by_email(boss, email)
    assert stored["first_name"] == "Ada" and stored["last_name"] == "Lovelace, Countess"
    assert stored["notes"] == 'Said "hello", then:\r\nleft early'
    assert stored["tags"] == ["vip", "warm"]


def test_lf_line_endings_and_a_charset_parameter(boss):
    email = mail("lf")
    text = f"first_name,last_name,email\nLinus,Feed,{email}\n"
    report = ok(import_csv(boss, text, content_type="text/csv; charset=utf-8"))
    assert report["created"] == 1
    assert by_email(boss, email)["last_name"] == "Feed"


def test_header_aliases_and_unknown_columns(boss):
    company = f"Alias Co {uuid.uuid4().hex[:6]}"
    e1, e2 = mail("alias"), mail("alias")
    text = lines(
        "Full Name,Company,Email Address,Job Title,Mobile,LinkedIn,Favourite Colour",
        f"Ada King Lovelace,{company},{e1},Countess,+44 1,https://linkedin.example/ada,green",
        f"Grace,{company},{e2},,,,blue",
    )
    orgs_before = total(boss, "/api/organizations")
    report = ok(import_csv(boss, text))
    assert report["created"] == 2
    assert report["warnings"] == ["column 'Favourite Colour' is not a contact field and was ignored"]
    ada, grace = by_email(boss, e1), by_email(boss, e2)
    assert (ada["first_name"], ada["last_name"], ada["title"], ada["phone"]) == ("Ada", "King Lovelace", "Countess", "+44 1")
    assert ada["linkedin_url"] == "https://linkedin.example/ada"
    assert ada["organization_name"] == company == grace["organization_name"]
    assert ada["organization_id"] == grace["organization_id"]
    assert total(boss, "/api/organizations") == orgs_before + 1  # an unknown organization is created once
    assert grace["first_name"] == "Grace"

    e3 = mail("name")
    ok(import_csv(boss, lines("Name,Organisation,E-mail", f"Solo Name,{company.upper()},{e3}")))
    assert by_email(boss, e3)["last_name"] == "Name"
    assert by_email(boss, e3)["organization_id"] == ada["organization_id"]  # matched by name, any case


# ---------------------------------------------------------------- dry run

def test_dry_run_writes_nothing_and_predicts_the_commit_exactly(admin):
    existing = contact(admin, first_name="Old", last_name="Timer", email="old@fund.example", title="Partner")
    same = contact(admin, first_name="Same", last_name="Same", email="same@fund.example")
    text = lines(
        "First Name,Last Name,Email,Title,Company",
        "New,One,new1@fund.example,,Fresh Capital",
        "New,Two,new2@fund.example,,Fresh Capital",
        "Old,Timer,OLD@fund.example,Managing Partner,",
        "Same,Same,same@fund.example,,",
        "New,One,new1@fund.example,Analyst,",  # the same file may update a row it created
    )
    before = snapshot(admin)
    dry = ok(import_csv(admin, text, dry_run=True))
    assert snapshot(admin) == before
    assert dry["dry_run"] is True
    assert (dry["created"], dry["updated"], dry["unchanged"]) == (2, 2, 1)
    assert [(row["row"], row["action"]) for row in dry["rows"]] == [
        (2, "created"), (3, "created"), (4, "updated"), (5, "unchanged"), (6, "updated")]
    assert [row["id"] for row in dry["rows"]] == [None, None, existing["id"], same["id"], None]
    assert ok(admin.get(f"/api/contacts/{existing['id']}"))["title"] == "Partner"
    assert total(admin, "/api/organizations") == 0

    done = ok(import_csv(admin, text))
    assert done["dry_run"] is False
    assert {k: done[k] for k in ("created", "updated", "unchanged", "errors")} == \
        {k: dry[k] for k in ("created", "updated", "unchanged", "errors")}
    assert [(row["row"], row["action"]) for row in done["rows"]] == [(row["row"], row["action"]) for row in dry["rows"]]
    assert total(admin) == before[0] + 2 and total(admin, "/api/organizations") == 1
    assert ok(admin.get(f"/api/contacts/{existing['id']}"))["title"] == "Managing Partner"
    assert done["rows"][0]["id"] == done["rows"][4]["id"] == by_email(admin, "new1@fund.example")["id"]
    summary = admin.get("/api/audit-log", params={"entity_type": "contact_import"}).json()["data"]
    assert len(summary) == 1 and summary[0]["changes"] == {"created": [None, 2], "updated": [None, 2], "unchanged": [None, 1]}


@pytest.mark.parametrize("value", ["2", "yes", "-1"])
def test_dry_run_flag_must_be_0_or_1(boss, value):
    before = snapshot(boss)
    r = boss.post("/api/import/csv", raw=lines("first_name,last_name", "A,B").encode(),
                  headers={"Content-Type": "text/csv"}, params={"dry_run": value})
    assert r.status_code == 422 and set(r.json()["fields"]) == {"dry_run"}
    assert snapshot(boss) == before


# ---------------------------------------------------------------- row errors: all or nothing

BAD_FILES = [
    ("bad email on the second data row",
     lines("first_name,last_name,email,company", "Good,Row,{fresh},Brand New Org {tag}", "Bad,Email,not-an-email,"),
     [(3, "email")]),
    ("several problems, every one reported",
     lines("first_name,last_name,email,contact_type,status", "Ok,Row,,prospect,active", ",Nofirst,,,",
           "No,Type,,lp,", "Bad,Status,,,asleep", "Two,Problems,x@,lp,"),
     [(3, "first_name"), (4, "contact_type"), (5, "status"), (6, "email"), (6, "contact_type")]),
    ("a quoted cell over two lines is still one row",
     lines("first_name,last_name,notes", 'Multi,Line,"one\r\ntwo"', "Missing,,x"),
     [(3, "last_name")]),
    ("blank rows keep their numbers",
     lines("first_name,last_name", "Ok,Row", ",", "", "No,"),
     [(5, "last_name")]),
    ("a bad item in a list cell",
     lines("first_name,last_name,email,other_emails", "Dup,Licate,{fresh},one@x.example; not an email"),
     [(2, "other_emails")]),
    ("a new contact without its names",
     lines("email,phone", "{fresh},555"),
     [(2, "first_name"), (2, "last_name")]),
]


@pytest.mark.parametrize("name, text, expected", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_any_bad_row_fails_the_whole_import_with_row_numbers(boss, name, text, expected):
    text = text.format(fresh=mail("fresh"), tag=uuid.uuid4().hex[:6])
    before = snapshot(boss)
    r = import_csv(boss, text)
    assert r.status_code == 422, r.text
    problems = r.json()["fields"]["rows"]
    assert [(p["row"], p["field"]) for p in problems] == expected
    assert all(p["message"] for p in problems)
    assert snapshot(boss) == before  # nothing written: no contact, no organization, no audit entry

    dry = ok(import_csv(boss, text, dry_run=True))  # a dry run reports the same problems, and the rest
    assert [(p["row"], p["field"]) for p in dry["errors"]] == expected
    assert snapshot(boss) == before


def test_json_rows_errors_are_numbered_from_one(boss):
    before = snapshot(boss)
    r = import_rows(boss, [{"first_name": "A", "last_name": "B"}, {"first_name": "C", "email": "nope"}, {"first_name": "D"}])
    assert r.status_code == 422
    assert [(p["row"], p["field"]) for p in r.json()["fields"]["rows"]] == [(2, "email"), (3, "last_name")]
    assert snapshot(boss) == before


# ---------------------------------------------------------------- upsert

def test_upsert_by_email_updates_only_the_changed_fields(boss):
    email = mail("upsert")
    made = contact(boss, first_name="Up", last_name="Sert", email=email, phone="555", title="Analyst",
                   city="Austin", tags=["a"])
    text = lines("First Name,Last Name,Email,Phone,Title,City,Tags",
                 f"Up,Sert,{email.upper()},555,Principal,,")
    report = ok(import_csv(boss, text))
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 0)
    assert report["rows"] == [{"row": 2, "action": "updated", "id": made["id"]}]
    stored = ok(boss.get(f"/api/contacts/{made['id']}"))
    assert stored["title"] == "Principal"
    assert (stored["phone"], stored["city"], stored["tags"]) == ("555", "Austin", ["a"])  # blank cells erase nothing
    last = boss.get("/api/audit-log", params={"entity_id": made["id"]}).json()["data"][0]
    assert last["action"] == "import" and last["changes"] == {"title": ["Analyst", "Principal"]}


def test_a_file_keyed_by_email_alone_updates_without_name_columns(boss):
    email = mail("keyed")
    made = contact(boss, first_name="Kay", last_name="Ed", email=email)
    report = ok(import_csv(boss, lines("Email,Phone,Country", f"{email},+1 555 0100,US")))
    assert report["rows"] == [{"row": 2, "action": "updated", "id": made["id"]}]
    stored = ok(boss.get(f"/api/contacts/{made['id']}"))
    assert (stored["first_name"], stored["last_name"], stored["phone"], stored["country"]) == ("Kay", "Ed", "+1 555 0100", "US")


def test_match_by_name_and_organization_when_there_is_no_email(boss):
    org = ok(boss.post("/api/organizations", {"name": f"Matchers {uuid.uuid4().hex[:6]}"}), 201)
    last = uuid.uuid4().hex[:8]
    made = contact(boss, first_name="Nora", last_name=last, organization_id=org["id"])
    before = total(boss)
    report = ok(import_csv(boss, lines("First Name,Last Name,Company,Title",
                                       f"nora,{last.upper()},{org['name'].lower()},Director")))
    assert report["rows"] == [{"row": 2, "action": "updated", "id": made["id"]}]
    assert ok(boss.get(f"/api/contacts/{made['id']}"))["title"] == "Director"
    assert total(boss) == before
    # the same name at another organization is somebody else
    other = ok(import_csv(boss, lines("First Name,Last Name,Company", f"Nora,{last},Elsewhere {last}")))
    assert other["created"] == 1 and other["rows"][0]["id"] != made["id"]
    assert total(boss) == before + 1


def test_email_match_wins_over_name_match(boss):
    email = mail("wins")
    by_mail = contact(boss, first_name="Mail", last_name="Match", email=email)
    contact(boss, first_name="Name", last_name="Match")
    report = ok(import_csv(boss, lines("first_name,last_name,email", f"Name,Match,{email}")))
    assert report["rows"] == [{"row": 2, "action": "updated", "id": by_mail["id"]}]


def test_reimporting_the_same_file_changes_nothing(admin):
    text = lines(
        "Full Name,Email,Company,Tags,Other Emails,Notes",
        'Ada Lovelace,ada@fund.example,Analytical,"vip; warm",a2@fund.example,"two\nlines"',
        "Alan Turing,,Bletchley,,,",
        "Grace Hopper,grace@fund.example,,cobol,,",
    )
    first = ok(import_csv(admin, text))
    assert (first["created"], first["updated"], first["unchanged"]) == (3, 0, 0)
    before = snapshot(admin)
    again = ok(import_csv(admin, text))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert [row["id"] for row in again["rows"]] == [row["id"] for row in first["rows"]]
    assert snapshot(admin)[:2] == before[:2]


def test_reimporting_an_export_changes_nothing(admin):
    org = ok(admin.post("/api/organizations", {"name": "Round Trip Partners"}), 201)
    contact(admin, first_name="Ada", last_name="Lovelace", email="ada@fund.example", organization_id=org["id"],
            other_emails=["ada2@fund.example"], tags=["vip", "family-office"], notes="Line 1\nLine 2, \"quoted\"",
            contact_type="investor", status="inactive", source="referral", phone="+1 (555) 010-0100",
            linkedin_url="https://linkedin.example/ada", city="London", state="-", country="UK",
            location_query="London, UK", title="=1+1")
    contact(admin, first_name="Nomail", last_name="Person", organization_id=org["id"], contact_type="advisor")
    contact(admin, first_name="Bare", last_name="Minimum")
    exported = admin.get("/api/export/contacts").content
    before = snapshot(admin)
    report = ok(import_csv(admin, exported))
    assert (report["created"], report["updated"], report["unchanged"], report["errors"]) == (0, 0, 3, [])
    assert report["warnings"] == []
    assert snapshot(admin)[:2] == before[:2]
    assert admin.get("/api/export/contacts").content == exported

    as_json = admin.get("/api/export/contacts", params={"format": "json"}).json()["data"]
    report = ok(import_rows(admin, as_json))
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 3)


def test_blank_cells_and_nulls_never_erase_stored_values(boss):
    email = mail("blank")
    made = contact(boss, first_name="Keep", last_name="Me", email=email, phone="123", notes="keep", tags=["t"],
                   other_emails=["x@fund.example"])
    csv_report = ok(import_csv(boss, lines("first_name,last_name,email,phone,notes,tags,other_emails",
                                           f",,{email},  ,,,")))
    json_report = ok(import_rows(boss, [{"email": email, "first_name": "", "last_name": None, "phone": None,
                                         "notes": "", "tags": [], "other_emails": None}]))
    for report in (csv_report, json_report):
        assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 1)
    stored = ok(boss.get(f"/api/contacts/{made['id']}"))
    assert (stored["first_name"], stored["last_name"], stored["phone"], stored["notes"], stored["tags"],
            stored["other_emails"]) == ("Keep", "Me", "123", "keep", ["t"], ["x@fund.example"])


def test_json_rows_input(boss):
    email = mail("json")
    report = ok(import_rows(boss, [
        {"First Name": "Jay", "Last Name": "Son", "Email": email, "Tags": ["a", "b"], "Company": f"Json Co {email}"},
        {"name": "Single Word", "notes": "from json"},
    ]))
    assert report["created"] == 2 and [row["row"] for row in report["rows"]] == [1, 2]
    jay = by_email(boss, email)
    assert jay["tags"] == ["a", "b"] and jay["organization_name"] == f"Json Co {email}"
    update = ok(import_rows(boss, [{"email": email, "title": "CTO"}]))
    assert update["updated"] == 1 and by_email(boss, email)["title"] == "CTO"


# ---------------------------------------------------------------- refused requests

@pytest.mark.parametrize("content_type, body", [
    ("text/plain", b"first_name,last_name\nA,B\n"),
    ("application/xml", b"<contacts/>"),
    ("application/octet-stream", b"first_name,last_name\nA,B\n"),
    ("", b"first_name,last_name\nA,B\n"),
])
def test_wrong_content_type_is_415(boss, content_type, body):
    before = snapshot(boss)
    headers = {"Content-Type": content_type} if content_type else {}
    r = boss.post("/api/import/csv", raw=body, headers=headers)
    assert r.status_code == 415, r.text
    assert snapshot(boss) == before


@pytest.mark.parametrize("content_type, body, field", [
    ("text/csv", b"", "file"),
    ("text/csv", b"\xef\xbb\xbf", "file"),
    ("text/csv", b"\r\n\r\n", "file"),
    ("text/csv", b"first_name,last_name\r\n", "file"),
    ("text/csv", b"first_name,last_name\r\n,\r\n\r\n", "file"),
    ("text/csv", b"first_name,last_name\r\n\xff\xfeA,B\r\n", "file"),
    ("text/csv", b'first_name,last_name\r\n"unterminated,B\r\n', "file"),
    ("application/json", b'{"rows": []}', "file"),
    ("application/json", b'{"rows": "A,B"}', "rows"),
    ("application/json", b'{"rows": [["A", "B"]]}', "rows"),
    ("application/json", b'[{"first_name": "A", "last_name": "B"}]', "rows"),  # rows must sit under "rows"
])
def test_empty_or_unreadable_input_is_422(boss, content_type, body, field):
    before = snapshot(boss)
    r = boss.post("/api/import/csv", raw=body, headers={"Content-Type": content_type})
    assert r.status_code == 422, r.text
    assert set(r.json()["fields"]) == {field}
    assert snapshot(boss) == before


def test_import_and_export_need_a_signed_in_user(shared):
    anonymous = shared.client()
    assert anonymous.get("/api/export/contacts").status_code == 401
    assert anonymous.post("/api/import/csv", raw=b"first_name,last_name\nA,B\n", headers={"Content-Type": "text/csv"}).status_code == 401
