"""Airtable CSV import into the fundraising grid: preview, commit, and the parsers underneath.

The parsers and the column-type inference (`importer/infer.py`) are tested
directly; everything else through HTTP against a real server: every quirk of
what Airtable writes, the suggested mapping (existing columns, well-known
fields by alias, funds by name), the commit modes and keys, idempotence, a
newer export changing only what changed (and the row history showing it), a
real export → import round trip into an empty grid, the 422 table (nothing
written), multipart uploads, the body limit and a 10,000-row file.
"""
import json
import time
import uuid

import pytest
from urllib3 import encode_multipart_formdata

from crm.importer import infer

PREVIEW = "/api/fundraising/import/preview"
COMMIT = "/api/fundraising/import/commit"
STATE = "/api/fundraising/state"
OPS = "/api/fundraising/ops"
BACKUPS = "/api/fundraising/backups"
EXPORT = "/api/fundraising/export"
CSV_TYPE = {"Content-Type": "text/csv"}


# -- helpers ------------------------------------------------------------------------

def data_of(response, status=200):
    assert response.status_code == status, response.text
    return response.json()["data"]


def get_state(client) -> dict:
    return data_of(client.get(STATE))


def preview(client, text) -> dict:
    body = text.encode("utf-8") if isinstance(text, str) else text
    return data_of(client.post(PREVIEW, raw=body, headers=CSV_TYPE))


def commit(client, text, mapping, **options):
    return client.post(COMMIT, {"csv": text, "mapping": mapping, **options})


def committed(client, text, mapping, **options) -> dict:
    return data_of(commit(client, text, mapping, **options), 201)


def suggested(preview_data) -> dict:
    return {c["header"]: c["suggested"] for c in preview_data["columns"]}


def by_header(preview_data) -> dict:
    return {c["header"]: c for c in preview_data["columns"]}


def column_ids(state) -> dict:
    return {c["name"]: c["id"] for c in state["grid"]["columns"]}


def rows_by(state, column_name="Investor") -> dict:
    """{value of column_name: {column name: value}} for the live rows."""
    names = {c["id"]: c["name"] for c in state["grid"]["columns"]}
    key = column_ids(state)[column_name]
    return {r["cells"].get(key): {names[c]: v for c, v in r["cells"].items() if c in names} for r in state["grid"]["rows"]}


def row_id_of(state, investor) -> str:
    key = column_ids(state)["Investor"]
    found = [r["id"] for r in state["grid"]["rows"] if r["cells"].get(key) == investor]
    assert len(found) == 1, f"{investor!r}: {found}"
    return found[0]


def apply_ops(client, *ops) -> dict:
    return data_of(client.post(OPS, {"base_version": get_state(client)["version"], "ops": list(ops)}))


def add_column(name, type_, **extra) -> dict:
    return {"op": "add_column", "column_id": str(uuid.uuid4()), "name": name, "type": type_, **extra}


def backups(admin) -> list:
    return data_of(admin.get(BACKUPS, params={"limit": 100}))


def snapshot(admin) -> dict:
    """What a failed import must leave exactly as it was."""
    state = get_state(admin)
    return {"version": state["version"], "columns": state["grid"]["columns"], "rows": state["grid"]["rows"]}


def people(cell) -> list:
    return [(p["name"] or None, p["email"]) for p in cell or []]


def to_map(state, **names) -> dict:
    """A mapping {header: {column_id}} onto columns of the grid by name (header=column name unless given)."""
    ids = column_ids(state)
    return {header: {"column_id": ids[name]} for header, name in names.items()}


# -- infer.py: the parsers ------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("1234", 1234), ("1,234,567", 1234567), ("1,234,567.00", 1234567), ("-3", -3), ("-2.5", -2.5),
    (".5", 0.5), (" 42 ", 42), ("0", 0),
])
def test_parse_number_reads_plain_and_grouped_numbers(text, value):
    assert infer.parse_number(text) == value
    assert type(infer.parse_number(text)) is type(value)  # whole numbers come back as int


@pytest.mark.parametrize("text", ["", "abc", "-", ".", "1,23", "12,34,567", "$5", "5%", "1 000", "--1"])
def test_parse_number_refuses_what_is_not_a_number(text):
    with pytest.raises(ValueError):
        infer.parse_number(text)


@pytest.mark.parametrize("text, amount, warned", [
    ("$1,234,567.00", 1234567, False), ("$1,234.50", 1234.5, False), ("-$5,000", -5000, False),
    ("$-5,000", -5000, False), ("€250", 250, False), ("£ 12.75", 12.75, False), ("$0.00", 0, False),
    ("$1.5M", 1_500_000, True), ("$250k", 250_000, True), ("-$2B", -2_000_000_000, True),
])
def test_parse_currency_reads_airtable_amounts_and_warns_about_shorthand(text, amount, warned):
    value, warning = infer.parse_currency(text)
    assert value == amount
    if warned:
        assert text in warning and f"{abs(amount):,.0f}" in warning
    else:
        assert warning is None


@pytest.mark.parametrize("text", ["1,234", "$", "$abc", "USD 5", "$1.5X", "5$$"])
def test_parse_currency_refuses_non_amounts(text):
    with pytest.raises(ValueError):
        infer.parse_currency(text)


@pytest.mark.parametrize("text, value", [("12.5%", 0.125), ("100%", 1), ("0%", 0), ("-3%", -0.03), ("7 %", 0.07), ("0.1%", 0.001)])
def test_parse_percent_stores_a_fraction(text, value):
    assert infer.parse_percent(text) == value


@pytest.mark.parametrize("text", ["12.5", "%", "abc%", "12.5%%"])
def test_parse_percent_refuses_non_percentages(text):
    with pytest.raises(ValueError):
        infer.parse_percent(text)


@pytest.mark.parametrize("text, value", [
    ("3/4/2025", "2025-03-04"), ("12/31/2024", "2024-12-31"), ("03/04/2025", "2025-03-04"), ("3/4/25", "2025-03-04"),
    ("2025-03-04", "2025-03-04"), ("2025/3/4", "2025-03-04"), (" 2025-03-04 ", "2025-03-04"),
    ("3/14/2025 2:05pm", "2025-03-14T14:05:00Z"), ("3/14/2025 2:05 PM", "2025-03-14T14:05:00Z"),
    ("3/14/2025 12:30am", "2025-03-14T00:30:00Z"), ("3/14/2025 14:05", "2025-03-14T14:05:00Z"),
    ("2025-03-14 09:30:15", "2025-03-14T09:30:15Z"), ("2025-03-14T09:30:15Z", "2025-03-14T09:30:15Z"),
    ("2025-03-14T09:30:15.250Z", "2025-03-14T09:30:15Z"), ("2025-03-14T09:30", "2025-03-14T09:30:00Z"),
])
def test_parse_date_reads_us_and_iso_dates_with_or_without_a_time(text, value):
    assert infer.parse_date(text) == value


@pytest.mark.parametrize("text", ["", "13/45/2025", "2025-02-30", "March 4, 2025", "Investor 7", "2025", "3/4/2025 noon",
                                  "3/4/2025 25:00", "4.3.2025"])
def test_parse_date_refuses_non_dates(text):
    with pytest.raises(ValueError):
        infer.parse_date(text)


@pytest.mark.parametrize("text, value", [("checked", True), ("Checked", True), ("", False), ("  ", False),
                                         ("true", True), ("false", False), ("unchecked", False)])
def test_parse_checkbox(text, value):
    assert infer.parse_checkbox(text) is value


def test_parse_checkbox_refuses_other_text():
    with pytest.raises(ValueError):
        infer.parse_checkbox("maybe")


@pytest.mark.parametrize("text, items", [
    ("", []), ("a", ["a"]), ("a, b,c", ["a", "b", "c"]), ('Family Office, "Fund, Large"', ["Family Office", "Fund, Large"]),
    ('"He said ""no"", twice", x', ['He said "no", twice', "x"]), ("a, a, b", ["a", "b"]), ("a,, b,", ["a", "b"]),
])
def test_parse_list_reads_comma_separated_items_with_quoted_ones(text, items):
    assert infer.parse_list(text) == items


def test_parse_people_reads_collaborators_bare_emails_and_names():
    text = 'Jo Smith <JO@Acme.com>, "Smith, Al <al@acme.com>", <anon@acme.com>, only@mail.com, Only Name'
    assert infer.parse_people(text) == [
        {"name": "Jo Smith", "email": "jo@acme.com"}, {"name": "Smith, Al", "email": "al@acme.com"},
        {"name": None, "email": "anon@acme.com"}, {"name": None, "email": "only@mail.com"},
        {"name": "Only Name", "email": None},
    ]


@pytest.mark.parametrize("text, column_type, value", [
    ("$1,234,567.00", "fund", 1234567), ("1,000", "fund", 1000), ("-$5,000", "currency", -5000), ("12.5%", "percent", 0.125),
    ("0.125", "percent", 0.125), ("12.5%", "number", 0.125), ("", "number", None), ("  ", "date", None),
    ("", "checkbox", False), ("checked", "checkbox", True), ("3/4/2025", "date", "2025-03-04"),
    ("A@B.COM ", "email", "a@b.com"), ("https://x.example/a", "url", "https://x.example/a"),
    ('a, "b, c"', "multi_select", ["a", "b, c"]), (" Hot ", "single_select", "Hot"), ("  padded  ", "text", "padded"),
    ("  line 1\nline 2  ", "long_text", "  line 1\nline 2  "),
    ("deck.pdf (https://dl.airtable.com/x/deck.pdf)", "text", "deck.pdf (https://dl.airtable.com/x/deck.pdf)"),
    ("Jo <jo@x.com>", "contacts", [{"name": "Jo", "email": "jo@x.com"}]),
])
def test_convert_turns_cell_text_into_the_stored_value(text, column_type, value):
    assert infer.convert(text, column_type)[0] == value


@pytest.mark.parametrize("text, column_type", [("abc", "number"), ("abc", "fund"), ("soon", "date"), ("nope", "email"),
                                               ("www.x.com", "url"), ("maybe", "checkbox"), ("12", "date")])
def test_convert_refuses_cells_that_do_not_fit(text, column_type):
    with pytest.raises(ValueError):
        infer.convert(text, column_type)


@pytest.mark.parametrize("cells, column_type", [
    (["$1,234,567.00", "-$5,000", "", "$250.50"], "currency"),
    (["12.5%", "3%", "", "100%"], "percent"),
    (["1,234", "5", "-2.5", ""], "number"),
    (["3/4/2025", "2025-03-05", "3/6/2025 2:30pm"], "date"),
    (["checked", "", "checked", ""], "checkbox"),
    (["a@x.com", "B@y.org"], "email"),
    (["https://a.example", "http://b.example/x?y=1"], "url"),
    (["Jo <jo@x.com>", "Al <al@y.com>, Bo <bo@y.com>"], "contacts"),
    (["line one\nline two", "short"], "long_text"),
    (["x" * 300, "short"], "long_text"),
    (["deck.pdf (https://dl.example/deck.pdf)", "a.pdf (https://dl.example/a.pdf), b.pdf (https://dl.example/b.pdf)"], "text"),
    (["Acme, Inc.", "Beta", "Gamma LLC", "Delta"], "text"),
])
def test_infer_column_picks_the_type_every_cell_reads_as(cells, column_type):
    found = infer.infer_column("Header", cells)
    assert found["type"] == column_type, found
    assert found["confidence"] == 1.0 and found["problems"] == []


def test_infer_column_offers_multi_select_with_its_options():
    found = infer.infer_column("Tags", ["a, b", "b", '"c, d", a', "a"])
    assert found["type"] == "multi_select" and found["options"] == ["a", "b", "c, d"]


def test_infer_column_offers_single_select_for_a_few_repeated_values():
    found = infer.infer_column("Region", ["US", "EU", "US", "Asia", "EU", "US", "US", "EU", "Asia", "US", "EU", "US"])
    assert found["type"] == "single_select" and found["options"] == ["Asia", "EU", "US"]


def test_infer_column_tolerates_one_stray_cell_in_ten_and_reports_it():
    cells = [str(n) for n in range(9)] + ["abc"]
    found = infer.infer_column("Score", cells)
    assert found["type"] == "number" and found["confidence"] == 0.9
    assert [index for index, _ in found["problems"]] == [9]


def test_infer_column_gives_up_on_numbers_when_too_many_cells_do_not_read():
    cells = [str(n) for n in range(8)] + ["abc", "def"]
    found = infer.infer_column("Score", cells)
    assert found["type"] == "text"


def test_infer_column_reports_shorthand_amounts_by_cell_index():
    found = infer.infer_column("Check", ["$1,000", "", "$1.5M"])
    assert found["type"] == "currency"
    assert [index for index, _ in found["warnings"]] == [2]


def test_infer_column_of_empty_cells_is_text_with_no_confidence():
    assert infer.infer_column("Empty", ["", "  ", None]) == {"type": "text", "confidence": 0.0, "problems": [], "warnings": [],
                                                             "options": []}


def test_normalise_header():
    assert infer.normalise_header("  Fund III (USD) ") == "fund iii usd"
    assert infer.normalise_header("Follow-Up_Date") == "follow up date"


def test_inference_is_fast_on_non_date_text():
    """Every cell of a text column is tried as a date: that must not cost a strptime per format."""
    cells = [f"Investor {n}" for n in range(20_000)]
    started = time.perf_counter()
    assert infer.infer_column("Name", cells)["type"] == "text"
    assert time.perf_counter() - started < 2.0


# -- preview: what Airtable writes ---------------------------------------------------

# Rows 1-7 as a spreadsheet numbers them: a multi-line Notes cell is one row, row 3 is
# all commas and row 5 is empty (both skipped, still counted).
AIRTABLE_HEADER = ("Name,Company,Fund I,Growth II,Fund III,Check Size,Ownership,Stage,Tags,Graveyard,Follow Up,"
                   "Last Contacted,Primary Contact,Owner,Pitch Deck,Notes")
AIRTABLE_ROWS = [
    'Acme Capital,"Acme, Inc.","$1,234,567.00","$250,000.00",,"-$5,000",12.5%,Contacted,"Family Office, ""Fund, Large""",'
    'checked,3/4/2025,3/14/2025 2:05pm,"Jo Smith <jo@acme.com>, Al Roe <al@acme.com>",Alice <alice@fund.example>,'
    'deck.pdf (https://dl.airtable.com/deck.pdf),"Met at ""Demo Day"", liked it\r\nsecond line"',
    ",,,,,,,,,,,,,,,",
    'Beta LP,Beta,,$0.00,"$1,000.00",$1.5M,3%,Passed,Europe,,2025-04-01,2025-04-02 09:30,Bo Beta <BO@beta.com>,,,',
    "",
    'Gamma,Gamma LLC,$10.00,,,"$2,000",0%,Meeting,"Europe, Family Office",,,,Gi Gamma <gi@gamma.com>,,,',
    "Delta,Delta,,,,,,,,,,,,,,",
]


def airtable_csv(newline="\r\n", bom=True) -> bytes:
    text = newline.join([AIRTABLE_HEADER, *AIRTABLE_ROWS]) + newline
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


@pytest.fixture
def funded(admin):
    """A grid with a fund column named after its fund and one whose fund has another name."""
    apply_ops(admin, add_column("Fund I", "fund", fund={"name": "Fund I", "vintage": 2021}),
              add_column("Fund II (USD)", "fund", fund={"name": "Growth II", "vintage": 2024}))
    return admin


@pytest.mark.parametrize("newline, bom", [("\r\n", True), ("\r\n", False), ("\n", True), ("\n", False)])
def test_preview_reads_an_airtable_export(funded, newline, bom):
    state = get_state(funded)
    ids = column_ids(state)
    found = preview(funded, airtable_csv(newline, bom))
    assert found["rows"] == 4
    columns = by_header(found)
    assert [c["header"] for c in found["columns"]] == AIRTABLE_HEADER.split(",")  # the BOM is not part of "Name"
    assert [c["number"] for c in found["columns"]] == list(range(1, 17))
    inferred = {h: c["inferred_type"] for h, c in columns.items()}
    assert inferred == {
        "Name": "text", "Company": "text", "Fund I": "currency", "Growth II": "currency", "Fund III": "currency",
        "Check Size": "currency", "Ownership": "percent", "Stage": "text", "Tags": "multi_select", "Graveyard": "checkbox",
        "Follow Up": "date", "Last Contacted": "date", "Primary Contact": "contacts", "Owner": "contacts",
        "Pitch Deck": "text", "Notes": "long_text"}
    assert all(c["confidence"] == 1.0 for c in found["columns"])
    mapping = suggested(found)
    # Existing columns: well-known fields by a common spelling, funds by column or fund name.
    assert {h: m.get("column_id") for h, m in mapping.items() if "column_id" in m} == {
        "Name": ids["Investor"], "Company": ids["Organization"], "Fund I": ids["Fund I"], "Growth II": ids["Fund II (USD)"],
        "Stage": ids["Status"], "Graveyard": ids["Graveyard"], "Follow Up": ids["Follow Up"],
        "Primary Contact": ids["Contacts"], "Owner": ids["Owner"], "Notes": ids["Notes"]}
    assert mapping["Growth II"]["type"] == "fund"
    # New columns: a fund is offered for an amount column named like one, otherwise the inferred type.
    assert {h: m["create"] for h, m in mapping.items() if "create" in m} == {
        "Fund III": {"name": "Fund III", "type": "fund"},
        "Check Size": {"name": "Check Size", "type": "currency"},
        "Ownership": {"name": "Ownership", "type": "percent"},
        "Tags": {"name": "Tags", "type": "multi_select", "options": ["Europe", "Family Office", "Fund, Large"]},
        "Last Contacted": {"name": "Last Contacted", "type": "date"},
        "Pitch Deck": {"name": "Pitch Deck", "type": "text"}}
    assert found["default_keys"] == ["Name"] and found["modes"] == ["upsert", "append", "update_only"]
    # Samples: the values as they would be stored.
    assert len(found["sample"]) == 4
    acme, beta, gamma, delta = found["sample"]
    assert acme == {
        "Name": "Acme Capital", "Company": "Acme, Inc.", "Fund I": 1234567, "Growth II": 250000, "Fund III": None,
        "Check Size": -5000, "Ownership": 0.125, "Stage": "Contacted", "Tags": ["Family Office", "Fund, Large"],
        "Graveyard": True, "Follow Up": "2025-03-04", "Last Contacted": "2025-03-14T14:05:00Z",
        "Primary Contact": [{"id": None, "name": "Jo Smith", "email": "jo@acme.com", "phone": None, "title": None},
                            {"id": None, "name": "Al Roe", "email": "al@acme.com", "phone": None, "title": None}],
        "Owner": "Alice <alice@fund.example>",  # a collaborator cell into a text column stays as written
        "Pitch Deck": "deck.pdf (https://dl.airtable.com/deck.pdf)",
        "Notes": 'Met at "Demo Day", liked it\r\nsecond line'}
    assert beta["Growth II"] == 0 and beta["Fund III"] == 1000 and beta["Check Size"] == 1_500_000
    assert beta["Follow Up"] == "2025-04-01" and beta["Last Contacted"] == "2025-04-02T09:30:00Z"
    assert beta["Graveyard"] is False and beta["Tags"] == ["Europe"] and beta["Stage"] == "Passed"
    assert beta["Primary Contact"][0]["email"] == "bo@beta.com"
    assert gamma["Ownership"] == 0 and gamma["Tags"] == ["Europe", "Family Office"] and gamma["Follow Up"] is None
    assert delta["Name"] == "Delta" and delta["Tags"] == [] and delta["Fund I"] is None and delta["Primary Contact"] == []
    # The one shorthand amount is a warning with its row and column, not a problem.
    assert found["problems"] == [] and found["problem_count"] == 0
    assert found["warnings"] == [{"row": 4, "column": 6, "header": "Check Size", "message": "'$1.5M' read as 1,500,000"}]


def test_preview_writes_nothing(funded):
    before = snapshot(funded)
    preview(funded, airtable_csv())
    assert snapshot(funded) == before
    assert backups(funded) == []


def test_preview_lists_every_problem_with_row_and_column(admin):
    apply_ops(admin, add_column("Score", "number"), add_column("Fund I", "fund"), add_column("Email", "email"))
    text = ("Investor,Score,Fund I,Email,Follow Up\r\n"
            'A,1,"$1,000",a@x.com,3/4/2025\r\n'
            '"B\r\nwith a second line",abc,-$5,b@x.com,soon\r\n'
            "\r\n"
            "C,2,$7,not an email,2025-01-02,extra,more\r\n")
    found = preview(admin, text)
    assert found["rows"] == 3
    problems = {(p["row"], p["column"], p["header"]) for p in found["problems"]}
    assert problems == {(3, 2, "Score"), (3, 3, "Fund I"), (3, 5, "Follow Up"), (5, 4, "Email"), (5, 6, None)}
    assert found["problem_count"] == 5
    messages = {(p["row"], p["column"]): p["message"] for p in found["problems"]}
    assert "'abc'" in messages[(3, 2)]
    assert "negative" in messages[(3, 3)]
    assert "2 cell(s) beyond the last header" in messages[(5, 6)]


@pytest.mark.parametrize("body, field", [
    (b"\xff\xfeN\x00a\x00m\x00e\x00", "file"),            # UTF-16, not UTF-8
    (b"", "file"),                                      # nothing at all
    (b" , \r\nA,B\r\n", "file"),                        # no header
    (b'Investor,Notes\r\nA,"never closed\r\n', "file"),  # an unterminated quote
    (b"Investor,Notes,notes\r\nA,b,c\r\n", "file"),      # a repeated header
    (b"Investor,,Notes\r\nA,b,c\r\n", "file"),           # a column without a header
])
def test_preview_of_a_bad_file_is_422(admin, body, field):
    before = snapshot(admin)
    r = admin.post(PREVIEW, raw=body, headers=CSV_TYPE)
    assert r.status_code == 422, r.text
    assert field in r.json()["fields"]
    assert snapshot(admin) == before


def test_preview_accepts_a_multipart_upload(funded):
    body, content_type = encode_multipart_formdata({"file": ("fundraising.csv", airtable_csv(), "text/csv")})
    found = data_of(funded.post(PREVIEW, raw=body, headers={"Content-Type": content_type}))
    assert found["rows"] == 4 and found["columns"][0]["header"] == "Name"
    assert found["sample"][0]["Fund I"] == 1234567
    assert found == preview(funded, airtable_csv())


def test_multipart_without_a_file_field_is_422(admin):
    body, content_type = encode_multipart_formdata({"upload": ("x.csv", b"Investor\r\nA\r\n", "text/csv")})
    r = admin.post(PREVIEW, raw=body, headers={"Content-Type": content_type})
    assert r.status_code == 422 and "file" in r.json()["fields"]


def test_commit_accepts_a_multipart_upload_with_options(admin):
    state = get_state(admin)
    options = {"mapping": to_map(state, Investor="Investor", Owner="Owner"), "mode": "upsert"}
    body, content_type = encode_multipart_formdata({
        "file": ("fundraising.csv", b"Investor,Owner\r\nAcme,Ann\r\n", "text/csv"),
        "options": ("options.json", json.dumps(options).encode(), "application/json")})
    report = data_of(admin.post(COMMIT, raw=body, headers={"Content-Type": content_type}), 201)
    assert report["created"] == 1
    assert rows_by(get_state(admin))["Acme"]["Owner"] == "Ann"


def test_multipart_options_must_be_a_json_object(admin):
    before = snapshot(admin)
    body, content_type = encode_multipart_formdata({
        "file": ("fundraising.csv", b"Investor\r\nAcme\r\n", "text/csv"), "options": ("o.json", b'["mapping"]', "application/json")})
    r = admin.post(COMMIT, raw=body, headers={"Content-Type": content_type})
    assert r.status_code == 422 and "options" in r.json()["fields"]
    assert snapshot(admin) == before


def test_preview_up_to_the_grid_body_limit(make_server):
    """A grid file is read up to CRM_MAX_GRID_BODY_BYTES (100,000 investors are ~40 MB), once the sender is signed in."""
    server = make_server(max_body_bytes=1024, max_grid_body_bytes=4096)
    admin = server.register_admin()
    row = "Investor " + "x" * 50 + ",1\r\n"
    fits = ("Investor,Score\r\n" + row * 60).encode()
    assert 1024 < len(fits) <= 4096
    assert data_of(admin.post(PREVIEW, raw=fits, headers=CSV_TYPE))["rows"] == 60
    too_big = ("Investor,Score\r\n" + row * 80).encode()
    assert admin.post(PREVIEW, raw=too_big, headers=CSV_TYPE).status_code == 413
    assert server.client().post(PREVIEW, raw=fits, headers=CSV_TYPE).status_code == 401  # not read from a stranger


# -- commit ----------------------------------------------------------------------------

def test_commit_applies_the_suggested_mapping_in_one_version_after_a_pre_import_backup(funded):
    before = get_state(funded)
    found = preview(funded, airtable_csv())
    text = airtable_csv().decode("utf-8")
    report = committed(funded, text, suggested(found))
    assert (report["created"], report["updated"], report["unchanged"], report["skipped"]) == (4, 0, 0, [])
    assert sorted(report["columns_created"]) == ["Check Size", "Fund III", "Last Contacted", "Ownership", "Pitch Deck", "Tags"]
    state = get_state(funded)
    assert state["version"] == before["version"] + 1 == report["version"]
    assert {o["version"] for o in data_of(funded.get("/api/fundraising/changes", params={"since": before["version"]}))["ops"]} \
        == {report["version"]}
    # The backup was taken first, holding the grid as it was.
    taken = [b for b in backups(funded) if b["reason"] == "pre_import"]
    assert [b["id"] for b in taken] == [report["pre_import_backup"]]
    assert taken[0]["row_counts"]["fundraising_investors"] == 0
    rows = rows_by(state)
    assert list(rows) == ["Acme Capital", "Beta LP", "Gamma", "Delta"]  # in file order
    acme = rows["Acme Capital"]
    assert acme["Organization"] == "Acme, Inc." and acme["Status"] == "Contacted" and acme["Graveyard"] is True
    assert acme["Check Size"] == -5000 and acme["Ownership"] == 0.125 and acme["Tags"] == ["Family Office", "Fund, Large"]
    assert acme["Follow Up"] == "2025-03-04" and acme["Last Contacted"] == "2025-03-14T14:05:00Z"
    assert acme["Pitch Deck"] == "deck.pdf (https://dl.airtable.com/deck.pdf)"
    assert acme["Notes"] == 'Met at "Demo Day", liked it\r\nsecond line'
    assert people(acme["Contacts"]) == [("Jo Smith", "jo@acme.com"), ("Al Roe", "al@acme.com")]
    assert rows["Beta LP"]["Check Size"] == 1_500_000 and rows["Gamma"]["Ownership"] == 0
    types = {c["name"]: c["type"] for c in state["grid"]["columns"]}
    assert (types["Check Size"], types["Ownership"], types["Tags"], types["Fund III"]) == ("currency", "percent", "multi_select", "fund")
    tags = next(c for c in state["grid"]["columns"] if c["name"] == "Tags")
    assert sorted(o["name"] for o in tags["options"]) == ["Europe", "Family Office", "Fund, Large"]
    # Fund columns are commitments of their funds; Fund III was created as a fund.
    detail = data_of(funded.get(f"/api/fundraising/rows/{row_id_of(state, 'Acme Capital')}"))
    assert {c["fund"]: c["amount"] for c in detail["commitments"]} == {"Fund I": 1234567, "Growth II": 250000}
    summary = data_of(funded.get("/api/fundraising/relational-summary"))
    assert {f["name"]: (f["commitments"], f["committed"]) for f in summary["funds"]} == {
        "Fund I": (2, 1234577), "Growth II": (2, 250000), "Fund III": (1, 1000)}
    # The grid contacts were linked to classic contacts.
    assert all(p["contact_id"] for p in acme["Contacts"])


def test_reimporting_the_same_file_changes_nothing(funded):
    text = airtable_csv().decode("utf-8")
    committed(funded, text, suggested(preview(funded, text)))
    before = snapshot(funded)
    again = preview(funded, text)
    assert all("column_id" in m for m in suggested(again).values())  # every header now has its column
    report = committed(funded, text, suggested(again))
    assert (report["created"], report["updated"], report["unchanged"], report["skipped"]) == (0, 0, 4, [])
    assert snapshot(funded) == before  # not even a version bump
    assert report["version"] == before["version"]


def test_a_newer_export_updates_only_the_changed_cells_and_history_shows_them(admin):
    apply_ops(admin, add_column("Fund I", "fund"), add_column("Tags", "multi_select", options=["a", "b"]))
    old = ("Investor,Organization,Fund I,Tags,Graveyard,Follow Up,Contacts\r\n"
           "Acme,Acme Inc,\"$1,000.00\",\"a, b\",,3/4/2025,Jo <jo@acme.com>\r\n"
           "Beta,Beta Co,$0.00,,checked,,<bo@beta.com>\r\n"
           "Gamma,,,a,,,\r\n")
    mapping = suggested(preview(admin, old))
    first = committed(admin, old, mapping)
    assert first["created"] == 3
    state = get_state(admin)
    acme_id, beta_id = row_id_of(state, "Acme"), row_id_of(state, "Beta")
    jo = rows_by(state)["Acme"]["Contacts"][0]
    new = ("Investor,Organization,Fund I,Tags,Graveyard,Follow Up,Contacts\r\n"
           "Acme,Acme Inc,\"$2,500.00\",b,,3/4/2025,Jo Smith <jo@acme.com>\r\n"   # amount, tags, contact's name
           "Beta,Beta Co,$0.00,,checked,,<bo@beta.com>\r\n"                      # the same
           "Gamma,,,,,,\r\n"                                                    # tags cleared
           "Delta,Delta LP,$5.00,,,,\r\n")                                      # new
    report = committed(admin, new, mapping)
    assert (report["created"], report["updated"], report["unchanged"]) == (1, 2, 1)
    assert report["version"] == first["version"] + 1
    changed = data_of(admin.get("/api/fundraising/changes", params={"since": first["version"]}))["ops"]
    names = {c["id"]: c["name"] for c in get_state(admin)["grid"]["columns"]}
    cells = sorted((names[o["column_id"]], o["before"] if names[o["column_id"]] != "Contacts" else people(o["before"]),
                    o["after"] if names[o["column_id"]] != "Contacts" else people(o["after"]))
                   for o in changed if o["kind"] == "set_cell")
    assert cells == [("Contacts", [("Jo", "jo@acme.com")], [("Jo Smith", "jo@acme.com")]),
                     ("Fund I", 1000, 2500), ("Tags", ["a"], []), ("Tags", ["a", "b"], ["b"])]
    assert [o["kind"] for o in changed if o["kind"] != "set_cell"] == ["add_row"]
    history = data_of(admin.get(f"/api/fundraising/rows/{acme_id}/history"))
    latest = [h for h in history if h["version"] == report["version"]]
    assert sorted(h["column"] for h in latest) == ["Contacts", "Fund I", "Tags"]
    assert all(h["actor"] == "admin" for h in latest)
    assert [h for h in data_of(admin.get(f"/api/fundraising/rows/{beta_id}/history")) if h["version"] == report["version"]] == []
    # The person kept their id and link: the import renamed them, it did not replace them.
    now = rows_by(get_state(admin))["Acme"]["Contacts"]
    assert [(p["id"], p["contact_id"], p["name"]) for p in now] == [(jo["id"], jo["contact_id"], "Jo Smith")]


def test_update_only_skips_rows_without_a_match_and_says_why(admin):
    committed(admin, "Investor,Owner\r\nAcme,Ann\r\nBeta,Bob\r\n", to_map(get_state(admin), Investor="Investor", Owner="Owner"))
    rows_before = len(get_state(admin)["grid"]["rows"])
    text = "Investor,Owner\r\nAcme,Ann\r\nNew One,Nia\r\n,Nobody\r\nbeta ,Bea\r\n"
    report = committed(admin, text, to_map(get_state(admin), Investor="Investor", Owner="Owner"), mode="update_only")
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 1)
    assert report["skipped"] == [
        {"row": 3, "reason": "no investor with this key exists (update_only)"},
        {"row": 4, "reason": "the key column(s) Investor are empty"}]
    state = get_state(admin)
    assert len(state["grid"]["rows"]) == rows_before
    # "beta " matched Beta (case and spaces aside) and, like every mapped cell, the name now reads as in the file.
    assert {k: v["Owner"] for k, v in rows_by(state).items()} == {"Acme": "Ann", "beta": "Bea"}


def test_append_mode_adds_every_row_even_when_its_key_exists(admin):
    mapping = to_map(get_state(admin), Investor="Investor", Owner="Owner")
    committed(admin, "Investor,Owner\r\nAcme,Ann\r\n", mapping)
    report = committed(admin, "Investor,Owner\r\nAcme,Ann\r\nAcme,Al\r\nBeta,Bob\r\n", mapping, mode="append")
    assert (report["created"], report["updated"], report["unchanged"], report["skipped"]) == (3, 0, 0, [])
    state = get_state(admin)
    owners = sorted((r["cells"][column_ids(state)["Investor"]], r["cells"][column_ids(state)["Owner"]]) for r in state["grid"]["rows"])
    assert owners == [("Acme", "Al"), ("Acme", "Ann"), ("Acme", "Ann"), ("Beta", "Bob")]


def test_upsert_within_one_file_updates_the_row_it_just_created(admin):
    mapping = to_map(get_state(admin), Investor="Investor", Owner="Owner")
    report = committed(admin, "Investor,Owner\r\nAcme,Ann\r\nACME,Al\r\n", mapping)
    assert (report["created"], report["updated"]) == (1, 1)
    assert {k: v["Owner"] for k, v in rows_by(get_state(admin)).items()} == {"ACME": "Al"}


def test_investors_are_found_by_contact_email(admin):
    state = get_state(admin)
    ids = column_ids(state)
    apply_ops(admin, {"op": "add_row", "cells": {ids["Investor"]: "Acme Capital", ids["Status"]: "Contacted",
                                                 ids["Contacts"]: [{"name": "Jo", "email": "jo@acme.com"}]}})
    before = rows_by(get_state(admin))["Acme Capital"]["Contacts"]
    text = ("Primary Contact,Stage\r\n"
            "\"Jo <JO@acme.com>, Al <al@acme.com>\",Meeting\r\n"
            "Zed <zed@new.com>,Contacted\r\n"
            ",Passed\r\n")
    found = preview(admin, text)
    assert found["default_keys"] == ["Primary Contact"]  # no name column: a contact email identifies the investor
    report = committed(admin, text, suggested(found))
    assert (report["created"], report["updated"]) == (1, 1)
    assert report["skipped"] == [{"row": 4, "reason": "the key column(s) Primary Contact are empty"}]
    state = get_state(admin)
    acme = rows_by(state)["Acme Capital"]
    assert acme["Status"] == "Meeting"
    assert people(acme["Contacts"]) == [("Jo", "jo@acme.com"), ("Al", "al@acme.com")]
    assert acme["Contacts"][0]["id"] == before[0]["id"]  # the same person, not a new one
    new = [r for r in state["grid"]["rows"] if people(r["cells"][ids["Contacts"]]) == [("Zed", "zed@new.com")]]
    assert len(new) == 1 and new[0]["cells"][ids["Status"]] == "Contacted"


def test_explicit_keys_can_combine_columns(admin):
    mapping = to_map(get_state(admin), Investor="Investor", Organization="Organization", Owner="Owner")
    committed(admin, "Investor,Organization,Owner\r\nJo,Acme,Ann\r\nJo,Beta,Bob\r\n", mapping, keys=["Investor", "Organization"])
    report = committed(admin, "Investor,Organization,Owner\r\nJo,Beta,Bea\r\n", mapping, keys=["Investor", "Organization"])
    assert (report["created"], report["updated"]) == (0, 1)
    state = get_state(admin)
    owners = sorted((r["cells"][column_ids(state)["Organization"]], r["cells"][column_ids(state)["Owner"]]) for r in state["grid"]["rows"])
    assert owners == [("Acme", "Ann"), ("Beta", "Bea")]


def test_new_select_options_are_added_to_an_existing_column(admin):
    state = get_state(admin)
    text = "Investor,Status\r\nAcme,Term sheet\r\nBeta,contacted\r\n"
    report = committed(admin, text, to_map(state, Investor="Investor", Status="Status"))
    assert report["created"] == 2
    state = get_state(admin)
    status = next(c for c in state["grid"]["columns"] if c["name"] == "Status")
    assert [o["name"] for o in status["options"]][-1] == "Term sheet"
    assert {k: v["Status"] for k, v in rows_by(state).items()} == {"Acme": "Term sheet", "Beta": "Contacted"}


def test_columns_mapped_to_skip_are_left_out(admin):
    state = get_state(admin)
    mapping = {**to_map(state, Investor="Investor"), "Secret": {"skip": True}}
    report = committed(admin, "Investor,Secret\r\nAcme,hush\r\n", mapping)
    assert report["created"] == 1 and report["columns_created"] == []
    after = get_state(admin)
    assert len(after["grid"]["columns"]) == len(state["grid"]["columns"])
    assert "hush" not in json.dumps(after)


# -- errors never half-apply ------------------------------------------------------------

GOOD = "Investor,Score,Fund I\r\nAcme,1,$100\r\nBeta,2,$200\r\n"


def good_mapping(ids) -> dict:
    return {"Investor": {"column_id": ids["Investor"]}, "Score": {"column_id": ids["Score"]}, "Fund I": {"column_id": ids["Fund I"]}}


@pytest.mark.parametrize("case, field", [
    ("unknown column id", "mapping.Score"), ("a header without a mapping", "mapping.Score"),
    ("a mapping for a header not in the file", "mapping.Nope"), ("a mapping that is not an object", "mapping"),
    ("a target that is neither", "mapping.Score"), ("an unknown type to create", "mapping.Score"),
    ("a read-only type to create", "mapping.Score"), ("a computed column as target", "mapping.Score"),
    ("no mapping at all", "mapping"), ("bad mode", "mode"), ("keys not mapped", "keys"), ("keys skipped", "keys"),
    ("keys not a list", "keys"), ("an unknown option", "mdoe"), ("a negative fund amount", "cells"),
    ("abc in a number column", "cells"), ("a bad date in a new column", "cells"), ("not UTF-8", "file"),
    ("an unterminated quote", "file"), ("a repeated header", "file"), ("no csv", "csv"),
])
def test_a_bad_commit_is_422_and_writes_nothing(funded, case, field):
    apply_ops(funded, add_column("Score", "number"), add_column("Total", "formula", formula="{Score} * 2"))
    committed(funded, GOOD, good_mapping(column_ids(get_state(funded))))
    before, taken = snapshot(funded), backups(funded)
    ids = column_ids(get_state(funded))
    mapping = good_mapping(ids)
    body = {"csv": GOOD, "mapping": mapping}
    cells = None
    if case == "unknown column id":
        mapping["Score"] = {"column_id": "no-such-column"}
    elif case == "a header without a mapping":
        del mapping["Score"]
    elif case == "a mapping for a header not in the file":
        mapping["Nope"] = {"column_id": ids["Owner"]}
    elif case == "a mapping that is not an object":
        body["mapping"] = ["Investor"]
    elif case == "a target that is neither":
        mapping["Score"] = {"columnid": ids["Score"]}
    elif case == "an unknown type to create":
        mapping["Score"] = {"create": {"name": "Score 2", "type": "decimal"}}
    elif case == "a read-only type to create":
        mapping["Score"] = {"create": {"name": "Score 2", "type": "formula"}}
    elif case == "a computed column as target":
        mapping["Score"] = {"column_id": ids["Total"]}
    elif case == "no mapping at all":
        del body["mapping"]
    elif case == "bad mode":
        body["mode"] = "merge"
    elif case == "keys not mapped":
        body["keys"] = ["Owner"]
    elif case == "keys skipped":
        mapping["Score"] = {"skip": True}
        body["keys"] = ["Score"]
    elif case == "keys not a list":
        body["keys"] = "Investor"
    elif case == "an unknown option":
        body["mdoe"] = "append"
    elif case == "a negative fund amount":
        body["csv"] = "Investor,Score,Fund I\r\nAcme,1,$100\r\n\r\nBeta,2,\"-$5,000\"\r\n"
        cells = [(4, 3, "Fund I", "negative")]
    elif case == "abc in a number column":
        body["csv"] = "Investor,Score,Fund I\r\nAcme,1,$100\r\n\"Be\r\nta\",abc,$200\r\nGamma,3,x\r\n"
        cells = [(3, 2, "Score", "'abc'"), (4, 3, "Fund I", "'x'")]
    elif case == "a bad date in a new column":
        body["csv"] = "Investor,Score,Fund I,Met\r\nAcme,1,$100,3/4/2025\r\nBeta,2,$200,next week\r\n"
        mapping["Met"] = {"create": {"name": "Met", "type": "date"}}
        cells = [(3, 4, "Met", "'next week'")]
    elif case == "not UTF-8":
        body, content_type = encode_multipart_formdata({
            "file": ("latin1.csv", "Investor,Score,Fund I\r\nCaf\u00e9,1,$100\r\n".encode("latin-1"), "text/csv"),
            "options": ("o.json", json.dumps({"mapping": mapping}).encode(), "application/json")})
    elif case == "an unterminated quote":
        body["csv"] = 'Investor,Score,Fund I\r\n"Acme,1,$100\r\n'
    elif case == "a repeated header":
        body["csv"] = "Investor,Score,Fund I,score\r\nAcme,1,$100,2\r\n"
    elif case == "no csv":
        del body["csv"]
    if case == "not UTF-8":
        r = funded.post(COMMIT, raw=body, headers={"Content-Type": content_type})
    else:
        r = funded.post(COMMIT, body)
    assert r.status_code == 422, r.text
    assert list(r.json()["fields"]) == [field]
    if cells:
        found = r.json()["fields"]["cells"]
        assert [(c["row"], c["column"], c["header"]) for c in found] == [c[:3] for c in cells]
        assert all(expected[3] in c["message"] for c, expected in zip(found, cells))
    assert snapshot(funded) == before
    assert backups(funded) == taken  # refused before the backup: not even that is written


def test_a_mapping_that_fails_while_applying_rolls_back_every_op(funded):
    """A new column named like an existing one is refused by the column rules inside the transaction."""
    before = snapshot(funded)
    mapping = {"Investor": {"column_id": column_ids(get_state(funded))["Investor"]},
               "Region": {"create": {"name": "Region", "type": "text"}},
               "Owner2": {"create": {"name": "Fund I", "type": "number"}}}
    r = commit(funded, "Investor,Region,Owner2\r\nAcme,EU,1\r\n", mapping)
    assert r.status_code == 422, r.text
    assert snapshot(funded) == before  # neither the rows nor the Region column that came first


def test_commit_with_the_wrong_content_type_is_refused(admin):
    r = admin.post(COMMIT, raw=b"Investor\r\nAcme\r\n", headers={"Content-Type": "application/xml"})
    assert r.status_code == 415


# -- a real round trip ---------------------------------------------------------------------

def build_source_grid(admin) -> None:
    ids = column_ids(get_state(admin))
    extra = {name: add_column(name, type_, **kw) for name, type_, kw in [
        ("Check Size", "currency", {}), ("Ownership", "percent", {}), ("Score", "number", {}),
        ("Tags", "multi_select", {"options": ["Family Office", "Fund, Large", 'He said "no", twice', "Europe"]}),
        ("Email", "email", {}), ("Website", "url", {}), ("Phone", "phone", {}),
        ("Fund I", "fund", {"fund": {"name": "Fund I", "vintage": 2024}}), ("Pitch Deck", "text", {}), ("Met At", "date", {}),
    ]}
    apply_ops(admin, *extra.values())
    ids.update({name: op["column_id"] for name, op in extra.items()})
    rows = [
        {"Investor": "Acme, Capital", "Organization": "Acme", "Status": "Contacted", "Graveyard": True, "Follow Up": "2025-04-01",
         "Contacts": [{"name": "Jo Smith", "email": "jo@acme.com"}, {"name": "Smith, Al", "email": "al@acme.com"}],
         "Notes": 'Line 1\nSaid "hi", twice', "Check Size": 1234567.5, "Ownership": 0.125, "Score": -3,
         "Tags": ["Fund, Large", 'He said "no", twice', "Family Office"], "Email": "x@acme.com", "Website": "https://acme.com",
         "Phone": "+1 555 0100", "Fund I": 2500000, "Pitch Deck": "deck.pdf (https://dl.airtable.com/deck.pdf)",
         "Met At": "2025-03-04T15:30:00Z", "Lead Source": "Conference", "Owner": "Ann"},
        {"Investor": "=SUM(A1)", "Organization": "-Beta", "Status": "Passed", "Longshot": True,
         "Contacts": [{"name": "Only Name"}, {"email": "mail@only.com"}], "Check Size": -5000, "Ownership": 1, "Score": 0.5,
         "Tags": ["Family Office"], "Phone": "-1234", "Fund I": 0, "Notes": "@mention me", "Owner": "'quoted"},
        {"Investor": "Gamma", "Met At": "2024-12-31", "Score": 0, "Ownership": 0.00001},
        {"Investor": "Delta", "Organization": "D", "Status": "Meeting", "Notes": "x", "Check Size": 10, "Ownership": 0.05,
         "Score": 1e6, "Fund I": 1.5, "Follow Up": "2025-01-02"},
    ]
    apply_ops(admin, *({"op": "add_row", "cells": {ids[k]: v for k, v in row.items()}} for row in rows))


def comparable(state) -> dict:
    """{investor: {column name: value}} of the non-blank cells, contacts as (name, email): what a CSV can carry."""
    found = {}
    for investor, cells in rows_by(state).items():
        found[investor] = {name: people(value) if name == "Contacts" else value for name, value in cells.items()
                           if not (value is None or value == "" or value == [] or value is False)}
    return found


def test_round_trip_export_into_an_empty_grid_keeps_every_cell(make_server):
    source = make_server().register_admin()
    build_source_grid(source)
    exported = source.get(EXPORT, params={"format": "csv"})
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    target = make_server().register_admin()
    assert get_state(target)["grid"]["rows"] == []
    found = preview(target, exported.content)
    assert found["problems"] == [] and found["rows"] == 4
    report = committed(target, exported.content.decode("utf-8"), suggested(found))
    assert report["created"] == 4
    original, copy = get_state(source), get_state(target)
    assert [c["name"] for c in copy["grid"]["columns"]] == [c["name"] for c in original["grid"]["columns"]]
    expected, got = comparable(original), comparable(copy)
    assert list(got) == list(expected)
    for investor, cells in expected.items():
        assert got[investor] == cells, investor
    assert expected["Gamma"] == {"Investor": "Gamma", "Met At": "2024-12-31", "Score": 0, "Ownership": 0.00001}  # zeros are values
    kinds = {c["name"]: c["type"] for c in copy["grid"]["columns"]}
    assert [kinds[n] for n in ("Tags", "Fund I", "Email", "Website", "Met At")] == ["multi_select", "fund", "email", "url", "date"]
    # ...and the copy exports to the very same file.
    assert target.get(EXPORT, params={"format": "csv"}).content == exported.content
    # Importing the export into the grid it came from changes nothing.
    again = preview(source, exported.content)
    report = committed(source, exported.content.decode("utf-8"), suggested(again))
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 4)
    assert get_state(source)["version"] == original["version"]


# -- scale ---------------------------------------------------------------------------------

def test_a_ten_thousand_row_file_previews_and_commits(admin):
    stages = ["Contacted", "Meeting", "Passed", "Diligence"]
    lines = ["\ufeffInvestor,Organization,Fund I,Check Size,Ownership,Stage,Tags,Graveyard,Follow Up,Notes"]
    for n in range(10_000):
        lines.append(f'Investor {n},"Org {n}, LLC","${n * 1000:,}.00",${n}K,{n % 100}.5%,{stages[n % 4]},"a, b",'
                     f'{"checked" if n % 2 else ""},{n % 12 + 1}/{n % 28 + 1}/2025,"note {n}\r\nline two"')
    text = "\r\n".join(lines) + "\r\n"
    started = time.perf_counter()
    found = preview(admin, text.encode("utf-8"))
    previewed = time.perf_counter() - started
    assert found["rows"] == 10_000 and found["problem_count"] == 0
    assert len(found["warnings"]) == 500  # capped; every $nK is reported
    assert {c["header"]: c["inferred_type"] for c in found["columns"]} == {
        "Investor": "text", "Organization": "text", "Fund I": "currency", "Check Size": "currency", "Ownership": "percent",
        "Stage": "single_select", "Tags": "multi_select", "Graveyard": "checkbox", "Follow Up": "date", "Notes": "long_text"}
    started = time.perf_counter()
    report = committed(admin, text, suggested(found))
    commit_time = time.perf_counter() - started
    assert (report["created"], report["updated"], report["skipped"]) == (10_000, 0, [])
    assert admin.get("/api/fundraising/rows", params={"limit": 1}).json()["total"] == 10_000
    summary = data_of(admin.get("/api/fundraising/relational-summary"))
    assert summary["investors"] == 10_000
    assert {f["name"]: f["committed"] for f in summary["funds"]} == {"Fund I": sum(n * 1000 for n in range(10_000))}
    again = committed(admin, text, suggested(preview(admin, text.encode("utf-8"))))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 10_000)
    assert previewed < 10 and commit_time < 30, (previewed, commit_time)


# -- the classic import shares the reader and the list parsing --------------------------

def test_classic_contact_import_reads_airtable_csv_the_same_way(admin):
    text = ("\ufefffirst_name,last_name,email,tags,notes\r\n"
            'Jo,Smith,jo@acme.com,"lp, ""family, office""","line one\r\nline ""two"""\r\n'
            ",,,,\r\n"
            "'=Al,Roe,al@acme.com,,\r\n")
    r = admin.post("/api/import/csv", raw=text.encode("utf-8"), headers=CSV_TYPE)
    report = data_of(r)
    assert report["created"] == 2 and [row["row"] for row in report["rows"]] == [2, 4]  # the blank row 3 skipped, still counted
    contacts = {c["email"]: c for c in admin.get("/api/contacts", params={"limit": 10}).json()["data"]}
    assert contacts["jo@acme.com"]["tags"] == ["lp", "family, office"]
    assert contacts["jo@acme.com"]["notes"] == 'line one\r\nline "two"'
    assert contacts["al@acme.com"]["first_name"] == "=Al"  # the export's formula guard is removed, as in the grid import
    bad = "\ufefffirst_name,last_name,email\r\n\"Jo\r\nJo\",Smith,nope\r\n"
    r = admin.post("/api/import/csv", raw=bad.encode("utf-8"), headers=CSV_TYPE)
    assert r.status_code == 422 and r.json()["fields"]["rows"][0]["row"] == 2
