"""Redaction (issue 20): crm.ingest.redact's scrub and rehydrate, and crm.ingest.external, the one
client for an external model, against a stand-in Anthropic API (tests/fakes/anthropic.py).

Known names come from a real server's database, put there through the API; the property tests run
hypothesis over texts that mix those names with addresses, phones, amounts, placeholder-looking
text and arbitrary unicode. The guardrail at the end parses every module: the digest and the local
model never reach the external client, and nothing else names Anthropic's host or key header."""
import ast
import json
import logging
import re
from dataclasses import replace

import pytest
import requests
from hypothesis import HealthCheck, given, settings, strategies as st

from crm import config as crm_config
from crm.ingest import external, redact
from crm.ingest.external import ExternalModelError, NotConfigured, ask_external
from crm.ingest.redact import Scrubber, rehydrate
from email_helpers import add_investor
from fakes.anthropic import FakeAnthropic
from test_layout import imports_of, parse_modules

KEY = "sk-ant-api03-test-key-never-in-logs-0123456789"
PEOPLE = [("Jane", "Doe"), ("Ann", "Smith"), ("José", "García"), ("Will", "Hunt"), ("Priya", "Raman"), ("O'Brien", "Kelly")]
ORGS = [("Acme Capital Partners", "acmecapital.example"), ("Acme", None), ("Harbor Holdings LLC", "harbor.example"),
        ("Blue Lake Endowment", None)]
INVESTORS = [("Northwind Family Office", ("Olga Petrova", "olga@northwind.example")),
             ("Kestrel Trust", ("Li Wei", "li.wei@kestrel.example"))]
PHONE = "+44 20 7946 0958"
COMMITMENT = 2_750_000


def created(response):
    assert response.status_code == 201, response.text
    return response.json()["data"]


@pytest.fixture(scope="module")
def crm(shared):
    """The module's server, holding known people, organizations, grid investors, a team member's
    display name and an LP commitment."""
    admin = shared.register_admin()
    assert admin.patch("/api/me", {"display_name": "Marta Kowalska"}).status_code == 200
    orgs = {name: created(admin.post("/api/organizations", {"name": name, "domain": domain}))["id"] for name, domain in ORGS}
    contacts = {}
    for first, last in PEOPLE:
        contacts[first] = created(admin.post("/api/contacts", {
            "first_name": first, "last_name": last, "email": f"{last.lower()}@acmecapital.example",
            "phone": PHONE if first == "Jane" else None, "organization_id": orgs["Acme Capital Partners"]}))["id"]
    created(admin.post("/api/lp-profiles", {"contact_id": contacts["Jane"], "commitment_amount": COMMITMENT}))
    for name, person in INVESTORS:
        add_investor(admin, name, person)
    shared.admin = admin
    return shared


@pytest.fixture
def conn(crm):
    connection = crm.app.pool.acquire()
    yield connection
    crm.app.pool.release(connection)


@pytest.fixture(scope="module")
def matcher(crm):
    connection = crm.app.pool.acquire()
    try:
        return redact.matcher_for(connection)
    finally:
        crm.app.pool.release(connection)


def scrubbed(text, matcher):
    scrubber = Scrubber(matcher=matcher)
    return scrubber.scrub(text), scrubber.mapping


# -- what is replaced -------------------------------------------------------------------------------

def test_known_people_organizations_addresses_phones_and_amounts_are_replaced(conn):
    text = ("Jane Doe of Acme Capital Partners (jane.doe@acmecapital.example, +44 20 7946 0958) will commit $5M to "
            "Fund II; Olga Petrova at Northwind Family Office asked about €2.5 million. Marta Kowalska will follow up.")
    out, mapping = redact.scrub(text, conn)
    assert out == ("[PERSON_1] of [ORG_2] ([EMAIL_3], [PHONE_4]) will commit [AMOUNT_5] to Fund II; [PERSON_6] at "
                   "[ORG_7] asked about [AMOUNT_8]. [PERSON_9] will follow up.")
    assert mapping["[PERSON_1]"] == "Jane Doe" and mapping["[ORG_7]"] == "Northwind Family Office"
    assert mapping["[PERSON_9]"] == "Marta Kowalska"  # a team member is a person too
    assert rehydrate(out, mapping) == text


@pytest.mark.parametrize("amount", ["$5M", "€2.5 million", "250,000 USD", "5mm", "USD 3bn", "£750k", "1,000,000",
                                    "five million dollars", "two and a half million euros", "half a million",
                                    "CHF 1.2m", "US$40 million", "2750000"])
def test_amounts_in_the_ways_people_write_them(matcher, amount):
    out, mapping = scrubbed(f"They offered {amount} for the round.", matcher)
    assert out == "They offered [AMOUNT_1] for the round.", out
    assert mapping == {"[AMOUNT_1]": amount}


@pytest.mark.parametrize("phone", ["+1 (415) 555-0134", "(415) 555-0134", "415-555-0134", "415.555.0134",
                                   "+44 20 7946 0958", "+49 30 1234567", "+33 1 23 45 67 89", "020 7946 0958",
                                   "+14155550134", "4155550134"])
def test_phone_numbers_in_common_international_formats(matcher, phone):
    out, _ = scrubbed(f"Call me on {phone} tomorrow.", matcher)
    assert out == "Call me on [PHONE_1] tomorrow.", out


@pytest.mark.parametrize("text", ["We met on 2024-05-01 and 01.05.2024.", "Active 2019-2024.", "Server 192.168.1.10.",
                                  "In 2024 we held 12 meetings over 3.5 years.", "The fund returned 2.5x and 18%.",
                                  "5 meetings, 10 minutes, Q3 results, Series B."])
def test_dates_years_addresses_and_small_numbers_are_left_alone(matcher, text):
    assert scrubbed(text, matcher) == (text, {})


def test_a_bare_number_is_an_amount_only_when_the_crm_holds_it(matcher):
    out, mapping = scrubbed("Commitment 2750000, ticket 123456.", matcher)
    assert out == "Commitment [AMOUNT_1], ticket 123456." and mapping == {"[AMOUNT_1]": "2750000"}


def test_known_organization_domains_are_replaced_as_that_organization(matcher):
    out, mapping = scrubbed("See https://www.acmecapital.example/team and harbor.example; not example.org.", matcher)
    assert out == "See https://[ORG_1]/team and [ORG_2]; not example.org."
    assert mapping == {"[ORG_1]": "www.acmecapital.example", "[ORG_2]": "harbor.example"}


def test_an_organization_without_its_legal_suffix_and_a_person_written_last_first(matcher):
    out, mapping = scrubbed("Harbor Holdings LLC, i.e. Harbor Holdings; Doe, Jane signed.", matcher)
    assert out == "[ORG_1], i.e. [ORG_1a]; [PERSON_2] signed."
    assert mapping["[PERSON_2]"] == "Doe, Jane"


# -- stable placeholders ----------------------------------------------------------------------------

def test_the_same_value_gets_the_same_placeholder(matcher):
    text = ("Jane Doe wrote. JANE DOE wrote again; jane doe too. Jane.Doe@AcmeCapital.example and "
            "jane.doe@acmecapital.example. $5M, i.e. $5,000,000, not €5M. Jane Doe.")
    out, mapping = scrubbed(text, matcher)
    assert out == ("[PERSON_1] wrote. [PERSON_1a] wrote again; [PERSON_1b] too. [EMAIL_2] and [EMAIL_2a]. "
                   "[AMOUNT_3], i.e. [AMOUNT_3a], not [AMOUNT_4]. [PERSON_1].")
    assert rehydrate(out, mapping) == text


def test_numbering_is_one_counter_across_kinds_and_shared_by_one_scrubber(matcher):
    scrubber = Scrubber(matcher=matcher)
    assert scrubber.scrub("Ann Smith, Acme, ann@x.example") == "[PERSON_1], [ORG_2], [EMAIL_3]"
    assert scrubber.scrub("Acme and Ann Smith and Jane Doe") == "[ORG_2] and [PERSON_1] and [PERSON_4]"


def test_a_first_name_or_surname_alone_is_that_person_when_the_text_names_them_in_full(matcher):
    out, mapping = scrubbed("Hi Jane, Jane Doe here. Ms Doe agreed. Thanks, Will. I will call. Ann?", matcher)
    # "Will" and "Ann" alone: known first names, but nobody here named in full, so too ambiguous to mean anyone
    assert out == "Hi [PERSON_1], [PERSON_1a] here. Ms [PERSON_1b] agreed. Thanks, Will. I will call. Ann?"
    assert mapping == {"[PERSON_1]": "Jane", "[PERSON_1a]": "Jane Doe", "[PERSON_1b]": "Doe"}


# -- word boundaries, longest match, accents --------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Annual report by Annabel; ANNs.", "Annual report by Annabel; ANNs."),
    ("Ann Smith's memo, Smithson's memo", "[PERSON_1]'s memo, Smithson's memo"),
    ("Acme Capital Partners, Acme Capital, Acme, acme, Acmeville", "[ORG_1], [ORG_2] Capital, [ORG_2], acme, Acmeville"),
    ("Jose Garcia and JOSÉ GARCÍA", "[PERSON_1] and [PERSON_1a]"),
    ("O'Brien Kelly met Blue Lake Endowment", "[PERSON_1] met [ORG_2]"),
    ("Jane\nDoe; Jane  -  Doe", "[PERSON_1]; [PERSON_1a]  -  [PERSON_1b]"),  # too far apart for one name
])
def test_names_match_whole_words_longest_first_case_and_accent_insensitive(matcher, text, expected):
    out, mapping = scrubbed(text, matcher)
    assert out == expected
    assert rehydrate(out, mapping) == text


def test_text_that_looks_like_a_placeholder_survives_the_round_trip(matcher):
    text = "Template: [PERSON_1] owes [AMOUNT_2a]; Jane Doe is real. [NOTAKIND_3] stays."
    out, mapping = scrubbed(text, matcher)
    assert out == "Template: [LITERAL_1] owes [LITERAL_2]; [PERSON_3] is real. [NOTAKIND_3] stays."
    assert rehydrate(out, mapping) == text
    assert rehydrate("[PERSON_3] paid [LITERAL_1].", mapping) == "Jane Doe paid [PERSON_1]."


def test_rehydrate_takes_placeholders_in_any_order_repeated_dropped_or_made_up(matcher):
    _, mapping = scrubbed("Jane Doe of Acme wants $5M.", matcher)
    answer = "[AMOUNT_3] for [ORG_2]; [ORG_2] again. [PERSON_9] is unknown, [PERSON_1]!"
    assert rehydrate(answer, mapping) == "$5M for Acme; Acme again. [PERSON_9] is unknown, Jane Doe!"
    assert rehydrate("Nothing to restore.", mapping) == "Nothing to restore."


# -- properties --------------------------------------------------------------------------------------

NAMES = ["Jane Doe", "ANN SMITH", "José García", "Will Hunt", "Acme Capital Partners", "Harbor Holdings LLC",
         "Olga Petrova", "Northwind Family Office", "Kestrel Trust", "Marta Kowalska", "Li Wei", "Blue Lake Endowment"]
EMAILS = ["jane.doe@acmecapital.example", "Olga@Northwind.example", "x+tag@sub.domain.example"]
PHONES = ["+1 (415) 555-0134", "+44 20 7946 0958", "020 7946 0958"]
AMOUNTS = ["$5M", "€2.5 million", "250,000 USD", "5mm", "five million dollars", "1,000,000"]
LOOKALIKES = ["[PERSON_1]", "[ORG_2a]", "[EMAIL_10]", "[LITERAL_1]", "[AMOUNT_", "PERSON_1]", "[[PHONE_3]]"]
SECRET = st.sampled_from(NAMES + EMAILS + PHONES + AMOUNTS)
SEPARATOR = st.sampled_from([" ", "\n", ", ", " (", ") ", "; ", " — ", ": "])
FILLER = st.text(st.characters(blacklist_categories=("L", "N", "Cs")), max_size=8)  # no words: cannot join a name


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(SECRET, st.sampled_from(LOOKALIKES), st.text(max_size=30)), max_size=14), SEPARATOR)
def test_property_rehydrate_undoes_scrub_for_any_text(matcher, pieces, separator):
    text = separator.join(pieces)
    out, mapping = scrubbed(text, matcher)
    assert rehydrate(out, mapping) == text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(FILLER, SECRET), min_size=1, max_size=10), SEPARATOR)
def test_property_no_known_name_address_phone_or_amount_survives(matcher, pairs, separator):
    text = separator.join(f"{filler}{separator}{secret}" for filler, secret in pairs)
    out, mapping = scrubbed(text, matcher)
    for _, secret in pairs:
        assert secret not in out, (secret, out)
    assert rehydrate(out, mapping) == text
    assert set(mapping) == set(redact.PLACEHOLDER.findall(out))  # every placeholder restorable, none spare


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(SECRET, min_size=1, max_size=8))
def test_property_the_same_value_always_gets_the_same_placeholder(matcher, secrets):
    scrubber = Scrubber(matcher=matcher)
    first = [scrubber.scrub(s) for s in secrets]
    assert [scrubber.scrub(s) for s in secrets] == first


# -- the known names follow the database ----------------------------------------------------------------

def test_a_new_contact_is_known_at_the_next_scrub_and_a_deleted_one_stays_known(crm, conn):
    assert redact.scrub("Zdenka Novakova called.", conn)[0] == "Zdenka Novakova called."
    contact = created(crm.admin.post("/api/contacts", {"first_name": "Zdenka", "last_name": "Novakova"}))
    assert redact.scrub("Zdenka Novakova called.", conn)[0] == "[PERSON_1] called."
    assert crm.admin.delete(f"/api/contacts/{contact['id']}").status_code == 200
    assert redact.scrub("Zdenka Novakova called.", conn)[0] == "[PERSON_1] called."  # still a real person


def test_a_renamed_organization_is_known_by_its_new_name(crm, conn):
    org = created(crm.admin.post("/api/organizations", {"name": "Gamma Ventures"}))
    assert redact.scrub("Gamma Ventures and Delta Ventures", conn)[0] == "[ORG_1] and Delta Ventures"
    assert crm.admin.patch(f"/api/organizations/{org['id']}", {"name": "Delta Ventures"}).status_code == 200
    # A former name is no longer known (docs/RETRIEVAL.md, known limits): only what the records say now.
    assert redact.scrub("Gamma Ventures and Delta Ventures", conn)[0] == "Gamma Ventures and [ORG_1]"


def test_the_matcher_is_cached_until_a_name_changes(crm, conn):
    first = redact.matcher_for(conn)
    assert redact.matcher_for(conn) is first
    created(crm.admin.post("/api/contacts", {"first_name": "Cache", "last_name": "Breaker"}))
    assert redact.matcher_for(conn) is not first


# -- the external model, through the stand-in ---------------------------------------------------------

@pytest.fixture
def api():
    with FakeAnthropic(key=KEY) as fake:
        yield fake


def external_config(server, api, **changes):
    """The module server's settings, pointed at the stand-in with its key, then `changes`."""
    return replace(server.config, **{"anthropic_api_key": KEY, "anthropic_base_url": api.base_url, **changes})


def test_without_a_key_it_refuses_and_sends_nothing(crm, conn, api):
    config = external_config(crm, api, anthropic_api_key=None)
    with pytest.raises(NotConfigured, match="CRM_ANTHROPIC_API_KEY"):
        ask_external("Jane Doe wants $5M.", conn, config=config)
    assert api.requests == []


def test_the_request_has_the_documented_shape_and_the_answer_is_rehydrated(crm, conn, api):
    api.reply = lambda body: "Reply to " + " and ".join(re.findall(r"\[[A-Z]+_\d+[a-z]*\]", body["messages"][0]["content"]))
    answer = ask_external("Jane Doe asked about $5M.", conn, config=external_config(crm, api),
                          system="Answer for Marta Kowalska.", max_tokens=300)
    assert answer == "Reply to Jane Doe and $5M"
    [request] = api.requests
    assert request["headers"]["x-api-key"] == KEY and request["headers"]["anthropic-version"] == "2023-06-01"
    assert request["headers"]["content-type"] == "application/json"
    assert request["body"] == {"model": crm.config.anthropic_model, "max_tokens": 300,
                               "system": "Answer for [PERSON_3].",
                               "messages": [{"role": "user", "content": "[PERSON_1] asked about [AMOUNT_2]."}]}


def test_no_known_name_address_or_amount_of_a_realistic_crm_leaves(make_server, api):
    """The demo fund (200 organizations, 600 contacts, opportunities, LP profiles, a grid with
    commitments) plus a phone: a long prompt naming dozens of them in the ways email does."""
    server = make_server(seed_demo_data=True, anthropic_api_key=KEY, anthropic_base_url=api.base_url)
    admin = server.register_admin()
    assert admin.patch("/api/me", {"display_name": "Marta Kowalska"}).status_code == 200
    created(admin.post("/api/contacts", {"first_name": "Olga", "last_name": "Petrova", "phone": "+1 (212) 555-0199"}))
    people = admin.get("/api/contacts", params={"limit": 1000}).json()["data"]
    orgs = admin.get("/api/organizations", params={"limit": 1000}).json()["data"]
    grid = admin.get("/api/fundraising/state").json()["data"]["grid"]
    name_key = next(c["id"] for c in grid["columns"] if c["key"] == "name")
    fund_keys = [c["id"] for c in grid["columns"] if c["name"] in ("Fund I", "Fund II")]
    investors = [r["cells"][name_key] for r in grid["rows"] if r["cells"].get(name_key)]
    commitments = sorted({r["cells"][k] for r in grid["rows"] for k in fund_keys if r["cells"].get(k)})
    profiles = admin.get("/api/lp-profiles", params={"limit": 1000}).json()["data"]
    assert len(people) > 500 and len(orgs) == 200 and investors and commitments and profiles

    lines, secrets = [], {"Marta Kowalska", "+1 (212) 555-0199"}
    for n, person in enumerate(people[:60]):
        org, investor = orgs[n % len(orgs)], investors[n % len(investors)]
        amount = commitments[n % len(commitments)]
        full = f"{person['first_name']} {person['last_name']}"
        written = [f"${amount:,.0f}", f"{amount:.0f}", f"${amount / 1e6:g}M", f"{amount / 1e6:g} million dollars"][n % 4]
        lines.append(f"{full} ({person['email']}) of {org['name']} said {investor} may commit {written}; "
                     f"{person['first_name']} will call, see {org['website']}. Last, first: {person['last_name']}, "
                     f"{person['first_name']}.")
        secrets |= {full, person["email"], org["name"], investor, written, org["domain"]}
    lines.append("Call Olga Petrova on +1 (212) 555-0199. LP commitment of "
                 f"${profiles[0]['commitment_amount']:,.0f}. Signed, Marta Kowalska.")
    secrets.add(f"${profiles[0]['commitment_amount']:,.0f}")
    prompt = "\n".join(lines)

    api.reply = lambda body: body["messages"][0]["content"]  # echo: every placeholder comes back
    conn = server.app.pool.acquire()
    try:
        answer = ask_external(prompt, conn, config=server.config, system="You help Marta Kowalska with email.")
    finally:
        server.app.pool.release(conn)
    assert answer == prompt  # the echo re-hydrated is the prompt itself
    sent = json.dumps(api.bodies, ensure_ascii=False)
    assert "@" not in sent
    leaked = sorted(s for s in secrets if s in sent or s.lower() in sent.lower())
    assert leaked == []
    every_name = {f"{p['first_name']} {p['last_name']}" for p in people} | {o["name"] for o in orgs} | set(investors)
    assert not [name for name in every_name if name in sent]
    for person in people[:60]:  # first names alone, after the full name
        assert not re.search(rf"\b{re.escape(person['first_name'])}\b", json.loads(sent)[0]["messages"][0]["content"])


def test_overloaded_and_rate_limited_answers_are_tried_again(crm, conn, api):
    api.fail(429)
    api.fail(529)
    assert ask_external("Hello.", conn, config=external_config(crm, api)) == "OK"
    assert len(api.requests) == 3 and all(r["body"] == api.requests[0]["body"] for r in api.requests)


def test_it_gives_up_after_its_retries_in_words(crm, conn, api, caplog):
    api.fail(529, times=external.RETRIES + 1)
    with caplog.at_level(logging.DEBUG, logger="crm"):
        with pytest.raises(ExternalModelError, match=r"answered HTTP 529 overloaded_error") as raised:
            ask_external("Jane Doe wants $5M.", conn, config=external_config(crm, api))
    assert raised.value.status == 529 and len(api.requests) == external.RETRIES + 1
    assert_clean(caplog, raised.value)


def test_a_refused_key_is_not_tried_again_and_never_shown(crm, conn, api, caplog):
    wrong = "sk-ant-api03-wrong-key-0000000000"
    with caplog.at_level(logging.DEBUG, logger="crm"):
        with pytest.raises(ExternalModelError, match=r"HTTP 401 \(the API key was refused\) authentication_error") as raised:
            ask_external("Jane Doe wants $5M.", conn, config=external_config(crm, api, anthropic_api_key=wrong))
    assert len(api.requests) == 1
    assert_clean(caplog, raised.value, wrong)


def test_a_silent_server_is_a_timeout_in_words(crm, conn, api, caplog):
    api.slow, api.delay = True, 3
    with caplog.at_level(logging.DEBUG, logger="crm"):
        with pytest.raises(ExternalModelError, match="did not answer within 1 s") as raised:
            ask_external("Jane Doe wants $5M.", conn, config=external_config(crm, api, anthropic_timeout_sec=1))
    assert len(api.requests) == external.RETRIES + 1
    assert_clean(caplog, raised.value)


def test_nothing_listening_is_unreachable_in_words(crm, conn, api):
    config = external_config(crm, api, anthropic_base_url="http://127.0.0.1:9")
    with pytest.raises(ExternalModelError, match="could not be reached") as raised:
        ask_external("Jane Doe", conn, config=config)
    assert KEY not in str(raised.value)


def assert_clean(caplog, error, key=KEY):
    """Neither the log nor the error carries the key or any of the prompt's real substance."""
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "external model" in logged
    for secret in (key, "Jane Doe", "$5M"):
        assert secret not in logged and secret not in str(error)


def test_the_key_is_a_setting_that_never_shows_and_the_url_must_be_tls(tmp_path):
    config = crm_config.load(environ={"CRM_ANTHROPIC_API_KEY": KEY}, data_dir=tmp_path)
    assert config.anthropic_api_key == KEY and KEY not in repr(config)
    assert config.anthropic_base_url == "https://api.anthropic.com" and config.anthropic_model
    for url, words in [("http://api.anthropic.com", "must start with https://"), ("ftp://x", "must start with https://"),
                       ("https://user:pw@api.example", "must not carry a user name")]:
        with pytest.raises(crm_config.ConfigError, match=words) as raised:
            crm_config.load(environ={"CRM_ANTHROPIC_BASE_URL": url}, data_dir=tmp_path)
        assert "pw" not in str(raised.value)
    assert crm_config.load(environ={"CRM_ANTHROPIC_BASE_URL": "http://127.0.0.1:8000"}, data_dir=tmp_path)


def test_the_fake_checks_what_the_api_checks(api):
    url = api.base_url + "/v1/messages"
    good = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01", "content-type": "application/json"}
    assert requests.post(url, json=good, headers=headers, timeout=5).json()["content"][0]["type"] == "text"
    assert requests.post(url, json=good, headers={**headers, "x-api-key": "nope"}, timeout=5).status_code == 401
    without_version = {k: v for k, v in headers.items() if k != "anthropic-version"}
    assert requests.post(url, json=good, headers=without_version, timeout=5).status_code == 400
    bad = requests.post(url, json={**good, "max_tokens": 0}, headers=headers, timeout=5)
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"


# -- the guardrail: every path to an external model goes through redaction; the digest never does ------

EXTERNAL = "crm.ingest.external"


def reachable(graph, start) -> set:
    seen, pending = set(), [start]
    while pending:
        module = pending.pop()
        if module not in seen:
            seen.add(module)
            pending.extend(graph[module])
    return seen


def test_the_digest_and_the_local_model_never_reach_the_external_client():
    modules = parse_modules()
    assert EXTERNAL in modules
    graph = {name: imports_of(name, path, tree, set(modules)) for name, (path, tree) in modules.items()}
    starts = [name for name in modules if name == "crm.spark" or name == "crm.digest" or name.startswith("crm.digest.")]
    assert "crm.digest.builder" in starts or len(starts) > 3
    wrong = {start for start in starts if EXTERNAL in reachable(graph, start)}
    assert not wrong, f"{wrong} reach {EXTERNAL}: the digest stays on Spark"
    assert "crm.ingest.redact" in graph[EXTERNAL]  # and the client scrubs through redaction


def strings_of(tree) -> list:
    return [(node.value, node.lineno) for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_only_the_external_client_names_anthropic_or_its_key_header():
    """The host may also appear in crm.config, as the default of CRM_ANTHROPIC_BASE_URL; the key
    header only in the client."""
    modules = parse_modules()
    host = {name for name, (_, tree) in modules.items() if any("anthropic.com" in s.lower() for s, _ in strings_of(tree))}
    header = {name for name, (_, tree) in modules.items() if any("x-api-key" in s.lower() for s, _ in strings_of(tree))}
    assert host <= {EXTERNAL, "crm.config"} and "crm.config" in host
    assert header == {EXTERNAL}
