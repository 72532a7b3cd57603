"""What the formula editor asks the server: the vocabulary it offers as you type (fields, functions with
a line each), errors in words with the span to mark, and the format a formula's result is shown with
(a default read from the fields it uses, or the column's own `config.format`)."""
import pytest

from crm.fundraising.formulas import FUNCTIONS


def state(client):
    return client.get("/api/fundraising/state").json()["data"]


def send(client, *ops):
    r = client.post("/api/fundraising/ops", {"base_version": state(client)["version"], "ops": list(ops)})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def money_grid(client):
    send(client,
         {"op": "add_column", "name": "Fund I", "type": "fund", "column_id": "fund-i"},
         {"op": "add_column", "name": "Fund II", "type": "fund", "column_id": "fund-ii"},
         {"op": "add_column", "name": "Check size", "type": "currency", "column_id": "check", "config": {"currency": "EUR"}},
         {"op": "add_column", "name": "Fee", "type": "percent", "column_id": "fee"},
         {"op": "add_column", "name": "Score", "type": "number", "column_id": "score"})


def check(client, formula, **extra):
    r = client.post("/api/fundraising/formula/check", {"formula": formula, **extra})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_the_vocabulary_lists_every_field_and_every_function_with_a_line_each(server, admin):
    money_grid(admin)
    r = admin.get("/api/fundraising/formula/vocabulary")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    names = {f["name"]: f["type"] for f in data["fields"]}
    assert names["Fund I"] == "fund" and names["Check size"] == "currency" and names["Investor"] == "text"
    functions = {f["name"]: f for f in data["functions"]}
    assert set(functions) == set(FUNCTIONS)
    assert all(f["doc"] and f["usage"].startswith(f["name"] + "(") for f in data["functions"])
    assert functions["ROUND"]["usage"] == "ROUND(number, [digits])"
    assert data["formats"] == ["number", "currency", "percent", "date"]


@pytest.mark.parametrize("formula, error, span", [
    ("Fund I + 1", "Fund I is a field name: write {Fund I}", "Fund I"),
    ("{Fund I} + fund ii", "Fund II is a field name: write {Fund II}", "fund ii"),
    ("SUM({Fund I}, Check size)", "Check size is a field name: write {Check size}", "Check size"),
    ("{Fund III} * 2", "unknown field {Fund III}", "{Fund III}"),
    ("ROUNDD({Score})", "unknown function ROUNDD (did you mean ROUND?)", "ROUNDD"),
    ("{Score} * ", "expected a value, found the end of the formula", ""),
])
def test_an_error_is_in_words_with_the_span_to_mark(server, admin, formula, error, span):
    money_grid(admin)
    answer = check(admin, formula)
    assert answer["ok"] is False
    assert answer["error"] == error
    assert formula[answer["position"]:answer["end"]] == span


def test_a_bare_field_name_is_refused_in_words_when_saving_too(server, admin):
    money_grid(admin)
    r = admin.post("/api/fundraising/ops", {"base_version": state(admin)["version"], "ops": [
        {"op": "add_column", "name": "Total", "type": "formula", "formula": "Fund I + Fund II"}]})
    assert r.status_code == 422
    assert r.json()["fields"]["ops[0].formula"] == "at position 0: Fund I is a field name: write {Fund I}"
    assert not any(c["name"] == "Total" for c in state(admin)["grid"]["columns"])


@pytest.mark.parametrize("formula, fmt, currency", [
    ("{Fund I} + {Fund II}", "currency", "USD"),
    ("SUM({Fund I}, {Fund II}, 1000)", "currency", "USD"),
    ("{Check size} * {Fee}", "currency", "EUR"),
    ("ROUND({Check size} / 4, 0)", "currency", "EUR"),
    ("IF({Score} > 1, {Fund I}, 0)", "currency", "USD"),
    ("IF({Fund I}, {Fund I} * 2, BLANK())", "currency", "USD"),
    ("{Fund I} / {Fund II}", "number", None),
    ("{Fund I} + {Check size}", "number", None),   # dollars and euros: no one currency
    ("{Fee} * 2", "percent", None),
    ("{Score} * 2", "number", None),
    ("DATEADD(TODAY(), 7, 'days')", "date", None),
    ("UPPER({Investor})", None, None),
])
def test_the_default_format_follows_the_fields_a_result_comes_from(server, admin, formula, fmt, currency):
    money_grid(admin)
    answer = check(admin, formula)
    assert answer["ok"], answer
    assert (answer["format"], answer["currency"]) == (fmt, currency)


def result_of(client, column_id):
    return next(c for c in state(client)["grid"]["columns"] if c["id"] == column_id)["result"]


def test_a_formula_column_carries_its_result_format_and_the_column_can_set_it(server, admin):
    money_grid(admin)
    send(admin, {"op": "add_column", "name": "Total", "type": "formula", "column_id": "total",
                 "formula": "{Fund I} + {Fund II}"},
         {"op": "add_column", "name": "Half", "type": "formula", "column_id": "half", "formula": "{Total} / 2"})
    assert result_of(admin, "total") == {"type": "number", "format": "currency", "currency": "USD", "default_format": "currency"}
    assert result_of(admin, "half")["format"] == "currency"  # through the formula it reads

    send(admin, {"op": "update_column", "column_id": "total", "config": {"format": "number"}})
    assert result_of(admin, "total") == {"type": "number", "format": "number", "currency": None, "default_format": "currency"}
    assert result_of(admin, "half")["format"] == "number"

    send(admin, {"op": "update_column", "column_id": "total", "config": {"format": "currency", "currency": "GBP"}})
    assert result_of(admin, "total")["currency"] == "GBP"
    send(admin, {"op": "update_column", "column_id": "total", "config": {"format": None}})
    assert result_of(admin, "total")["format"] == "currency"


@pytest.mark.parametrize("column_id, config, field, why", [
    ("total", {"format": "money"}, "ops[0].config.format", "must be one of: number, currency, percent, date"),
    ("total", {"format": "currency", "currency": "dollars"}, "ops[0].config.currency",
     "must be a three-letter currency code such as USD"),
    ("score", {"format": "percent"}, "ops[0].config.format",
     "only formula fields take a format (the others show as their type)"),
])
def test_a_bad_format_is_refused_and_nothing_changes(server, admin, column_id, config, field, why):
    money_grid(admin)
    send(admin, {"op": "add_column", "name": "Total", "type": "formula", "column_id": "total", "formula": "{Fund I} + {Fund II}"})
    before = state(admin)
    r = admin.post("/api/fundraising/ops", {"base_version": before["version"], "ops": [
        {"op": "update_column", "column_id": column_id, "config": config}]})
    assert r.status_code == 422, r.text
    assert r.json()["fields"] == {field: why}
    after = state(admin)
    assert after["version"] == before["version"] and after["grid"]["columns"] == before["grid"]["columns"]
