"""What people type and paste into the grid (issue 15): amounts read by the one parser the importer
also uses (crm.amounts), and a request with values that do not fit listing every one of them in plain
words (`unfit`), applying nothing, so a client can send the fitting ones again."""
import uuid

import pytest

from crm import amounts
from crm.importer import infer

OPS = "/api/fundraising/ops"

AMOUNTS = [
    ("$1.5M", 1_500_000), ("1.5m", 1_500_000), ("500k", 500_000), ("2,500,000", 2_500_000), ("€250k", 250_000),
    ("(1,000)", -1000), ("($5,000)", -5000), ("-$5,000", -5000), ("$-5,000", -5000), ("£ 12.75", 12.75),
    (" 42 ", 42), (".5", 0.5), ("1.1m", 1_100_000), ("2B", 2_000_000_000), ("$0.00", 0), ("1,234,567.00", 1_234_567),
]
NOT_AMOUNTS = ["", "lots", "$", "k", "1.5X", "1,23", "12,34,567", "--1", "-(5)", "1 000", "USD 5", "5$$", "(1,000", "."]


@pytest.mark.parametrize("text, value", AMOUNTS)
def test_parse_amount_reads_what_people_type(text, value):
    read, _ = amounts.parse_amount(text)
    assert read == value and type(read) is type(value)


@pytest.mark.parametrize("text", NOT_AMOUNTS)
def test_parse_amount_refuses_what_is_not_an_amount(text):
    with pytest.raises(ValueError):
        amounts.parse_amount(text)


@pytest.mark.parametrize("text, value", AMOUNTS)
def test_the_importer_reads_amounts_with_the_same_parser(text, value):
    for column_type in ("number", "currency", "fund"):
        assert infer.convert(text, column_type)[0] == value


def new_id() -> str:
    return str(uuid.uuid4())


def grid(client) -> dict:
    return client.get("/api/fundraising/state").json()["data"]


def setup(client) -> tuple:
    state = grid(client)
    k = {c["key"]: c["id"] for c in state["grid"]["columns"] if c["key"]}
    rows = [new_id(), new_id()]
    r = client.post(OPS, {"base_version": state["version"], "ops": [
        {"op": "add_column", "column_id": "fund-i", "name": "Fund I", "type": "fund"},
        {"op": "add_column", "column_id": "check", "name": "Check size", "type": "currency"},
        {"op": "add_column", "column_id": "score", "name": "Score", "type": "number"},
        *[{"op": "add_row", "row_id": row, "cells": {k["name"]: f"LP {i}"}} for i, row in enumerate(rows)]]})
    assert r.status_code == 200, r.text
    return k, rows


@pytest.mark.parametrize("text, value", [("$1.5M", 1_500_000), ("500k", 500_000), ("€250k", 250_000), ("2,500,000", 2_500_000)])
def test_money_cells_take_typed_amounts(admin, text, value):
    k, rows = setup(admin)
    r = admin.post(OPS, {"base_version": grid(admin)["version"], "ops": [
        {"op": "set_cell", "row_id": rows[0], "column_id": column, "value": text} for column in ("fund-i", "check", "score")]})
    assert r.status_code == 200, r.text
    assert [r.json()["data"]["rows"][rows[0]][c] for c in ("fund-i", "check", "score")] == [value] * 3
    # Stored as numbers: the op log holds the number, not the text.
    changes = admin.get("/api/fundraising/changes", params={"since": grid(admin)["version"] - 1}).json()["data"]["ops"]
    assert {op["after"] for op in changes if op["kind"] == "set_cell"} == {value}


def test_percentages_typed_into_number_and_percent_cells_are_fractions_as_the_importer_reads_them(admin):
    k, rows = setup(admin)
    r = admin.post(OPS, {"base_version": grid(admin)["version"], "ops": [
        {"op": "add_column", "column_id": "share", "name": "Share", "type": "percent"},
        {"op": "set_cell", "row_id": rows[0], "column_id": "score", "value": "50%"},
        {"op": "set_cell", "row_id": rows[0], "column_id": "share", "value": "12.5%"}]})
    assert r.status_code == 200, r.text
    row = r.json()["data"]["rows"][rows[0]]
    assert (row["score"], row["share"]) == (0.5, 0.125) == (infer.convert("50%", "number")[0], infer.convert("12.5%", "percent")[0])


def test_a_number_cell_takes_accounting_negatives_but_a_commitment_does_not(admin):
    k, rows = setup(admin)
    r = admin.post(OPS, {"base_version": grid(admin)["version"], "ops": [
        {"op": "set_cell", "row_id": rows[0], "column_id": "score", "value": "(1,000)"}]})
    assert r.status_code == 200 and r.json()["data"]["rows"][rows[0]]["score"] == -1000
    r = admin.post(OPS, {"base_version": grid(admin)["version"], "ops": [
        {"op": "set_cell", "row_id": rows[0], "column_id": "fund-i", "value": "(1,000)"}]})
    assert r.status_code == 422 and r.json()["error"] == "1 value didn't fit: a commitment cannot be negative (Fund I)"


def test_every_unfit_value_is_listed_in_plain_words_and_nothing_applies(admin):
    k, rows = setup(admin)
    before = grid(admin)
    ops = [
        {"op": "set_cell", "row_id": rows[0], "column_id": k["owner"], "value": "Jordan"},    # fits
        {"op": "set_cell", "row_id": rows[0], "column_id": k["status"], "value": "Alex"},     # not an option
        {"op": "set_cell", "row_id": rows[1], "column_id": "fund-i", "value": "lots"},        # not a number
        {"op": "set_cell", "row_id": rows[1], "column_id": k["status"], "value": "meeting"},  # fits (any case)
        {"op": "set_cell", "row_id": rows[1], "column_id": k["graveyard"], "value": "maybe"},  # not true/false
    ]
    r = admin.post(OPS, {"base_version": before["version"], "ops": ops})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == ("3 values didn't fit: 'Alex' is not a Status option; 'lots' is not a number for Fund I; "
                             "Graveyard must be true or false")
    assert [(u["index"], u["row_id"], u["column_id"], u["column"], u["value"]) for u in body["unfit"]] == [
        (1, rows[0], k["status"], "Status", "Alex"), (2, rows[1], "fund-i", "Fund I", "lots"),
        (4, rows[1], k["graveyard"], "Graveyard", "maybe")]
    assert "ops[" not in body["error"] and not any(k[key] in body["error"] for key in k)
    assert set(body["fields"]) == {"ops[1].value", "ops[2].value", "ops[4].value"}  # kept for programs
    assert grid(admin) == before  # atomic: the fitting ones did not apply either
    # The fitting ops sent again apply.
    r = admin.post(OPS, {"base_version": before["version"], "ops": [ops[0], ops[3]]})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["rows"][rows[1]][k["status"]] == "Meeting"


def test_plain_messages_for_a_deleted_field_and_an_archived_investor(admin):
    k, rows = setup(admin)
    version = grid(admin)["version"]
    r = admin.post(OPS, {"base_version": version, "ops": [{"op": "archive_row", "row_id": rows[1]}, {"op": "delete_column", "column_id": "score"}]})
    assert r.status_code == 200, r.text
    version = r.json()["data"]["version"]
    r = admin.post(OPS, {"base_version": version, "ops": [{"op": "set_cell", "row_id": rows[0], "column_id": "score", "value": 1}]})
    assert (r.status_code, r.json()["error"]) == (422, "a field you edited has been deleted")
    assert r.json()["fields"] == {"ops[0].column_id": "no such column: score"}
    r = admin.post(OPS, {"base_version": version, "ops": [{"op": "set_cell", "row_id": rows[1], "column_id": k["owner"], "value": "x"}]})
    assert (r.status_code, r.json()["error"]) == (409, "an investor you edited has been archived; restore it first")
    r = admin.post(OPS, {"base_version": version, "ops": [{"op": "set_cell", "row_id": "gone", "column_id": k["owner"], "value": "x"}]})
    assert (r.status_code, r.json()["error"]) == (422, "an investor you edited no longer exists")
