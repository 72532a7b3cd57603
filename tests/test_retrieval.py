"""Ingest and retrieval (issue 20): chunks per source, deterministic ids, BM25 weights, incremental
re-ingest, dense/sparse/hybrid search over local-mode Qdrant with the fake embedding server
(tests/fakes/spark.py), filters, degradation, the CLI's lock message, the routes."""
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from crm.db import transaction
from crm.ingest import bm25, chunks, entities
from crm.ingest.service import _advice
from email_helpers import DOMAIN, add_investor, capture_config, eventually, grant, mail
from fakes.spark import FakeSpark
from helpers import Client

ROOT = Path(__file__).resolve().parents[1]
ADMIN_MAILBOX, LP = f"admin@{DOMAIN}", "jane@acme.example"


@pytest.fixture
def spark():
    with FakeSpark() as fake:
        yield fake


@pytest.fixture
def start(make_server, spark):
    """start(**config) → (server, admin): embeddings from the fake Spark unless told otherwise."""
    def started(**overrides):
        server = make_server(**{"embed_url": spark.base_url, **overrides})
        if server.app.retrieval.embedder:
            server.app.retrieval.embedder.backoff_base = 0.01  # retries wait milliseconds
        return server, server.register_admin()
    return started


class pooled:
    """One of the server's own connections, for calling crm functions directly."""

    def __init__(self, server):
        self.pool = server.app.pool

    def __enter__(self):
        self.conn = self.pool.acquire()
        return self.conn

    def __exit__(self, *exc):
        self.pool.release(self.conn)


def created(client, path, body) -> dict:
    r = client.post(path, body)
    assert r.status_code == 201, r.text
    return r.json()["data"]


def grid_notes(client, name, notes) -> str:
    """A grid investor called `name` whose Notes cell holds `notes`; its row id."""
    state = client.get("/api/fundraising/state").json()["data"]
    key = {c["key"]: c["id"] for c in state["grid"]["columns"] if c["key"]}
    r = client.post("/api/fundraising/ops", {"base_version": state["version"], "ops": [
        {"op": "add_row", "cells": {key["name"]: name, key["notes"]: notes}}]})
    assert r.status_code == 200, r.text
    return next(iter(r.json()["data"]["rows"]))


def set_notes(client, row_id, notes) -> None:
    state = client.get("/api/fundraising/state").json()["data"]
    key = {c["key"]: c["id"] for c in state["grid"]["columns"] if c["key"]}
    r = client.post("/api/fundraising/ops", {"base_version": state["version"], "ops": [
        {"op": "set_cell", "row_id": row_id, "column_id": key["notes"], "value": notes}]})
    assert r.status_code == 200, r.text


def crm_records(admin) -> dict:
    """One record of every classic source, each with its prose."""
    org = created(admin, "/api/organizations", {"name": "Acme Capital", "description": "A family office in Denver "
                                                "that backs seed-stage climate funds."})
    jane = created(admin, "/api/contacts", {"first_name": "Jane", "last_name": "Doe", "organization_id": org["id"],
                                            "notes": "Met at the Denver climate summit.\nPrefers calls on Fridays."})
    call = created(admin, "/api/communications", {
        "contact_id": jane["id"], "type": "call", "subject": "Fund II wire timing",
        "body": "Jane confirmed the wire transfer goes out after the capital call notice.",
        "communication_date": "2026-03-02T15:30:00Z", "outcome": "positive", "next_action": "send the notice"})
    opp = created(admin, "/api/opportunities", {"contact_id": jane["id"], "fund_name": "Fund II",
                                                "description": "Anchor commitment under discussion.",
                                                "next_step": "Term sheet review with their counsel"})
    profile = created(admin, "/api/lp-profiles", {"contact_id": jane["id"], "notes": "Accredited by net worth; K-1 by email."})
    row = grid_notes(admin, "Acme Capital", "Warm intro from Bob.\n2026-05-01 — Call with Jane: pizza party logistics"
                                            "\nstill about pizza\n5/20/2026 Email from Jane: side letter question")
    return {"org": org, "jane": jane, "call": call, "opp": opp, "profile": profile, "row": row}


def collect(server) -> list:
    with pooled(server) as conn:
        return chunks.collect(conn)


def ingest(server, full=False) -> dict:
    return server.app.retrieval.run(full)  # what the route, the CLI and the after-sync step call


def search(client, **params):
    return client.get("/api/search", params=params)


def hits(client, **params) -> list:
    r = search(client, **params)
    assert r.status_code == 200, r.text
    return r.json()["data"]["hits"]


# -- chunking ---------------------------------------------------------------------------------------

def test_one_chunk_per_source_with_its_payload(start):
    server, admin = start()
    made = crm_records(admin)
    found = {(c.payload["source_table"], c.payload["source_id"], c.payload["chunk_index"]): c for c in collect(server)}
    by_type = {}
    for chunk in found.values():
        by_type.setdefault(chunk.payload["type"], []).append(chunk)
    assert sorted((t, len(cs)) for t, cs in by_type.items()) == [
        ("communication", 1), ("contact_note", 1), ("grid_note", 3), ("lp_note", 1), ("opportunity_description", 1),
        ("opportunity_next_step", 1), ("organization_description", 1)]

    call = found[("communications", made["call"]["id"], 0)]
    assert call.text == ("Fund II wire timing\nJane confirmed the wire transfer goes out after the capital call notice."
                         "\nOutcome: positive\nNext: send the notice")
    assert call.payload["title"] == "Call with Jane Doe: Fund II wire timing"
    assert call.payload["date_ts"] == 1772465400  # 2026-03-02T15:30:00Z: the event, not when it was logged
    assert call.payload["names"] == ["Jane Doe", "Acme Capital"]
    assert call.payload["link"] == f"/contacts/{made['jane']['id']}"
    assert call.payload["api"] == f"/api/communications/{made['call']['id']}"
    assert call.payload["entity_ids"] == [] and call.payload["confidence"] == 1.0  # nothing resolved yet

    notes = [found[("fundraising_investors", made["row"], i)] for i in range(3)]
    assert [n.text for n in notes] == ["Warm intro from Bob.", "Call with Jane: pizza party logistics\nstill about pizza",
                                       "Email from Jane: side letter question"]
    assert [n.payload["date_ts"] for n in notes] == [None, 1777593600, 1779235200]  # undated, 2026-05-01, 2026-05-20
    assert notes[1].payload["title"] == "Notes of Acme Capital, 2026-05-01"

    opp = [found[("opportunities", made["opp"]["id"], i)] for i in range(2)]
    assert [o.payload["type"] for o in opp] == ["opportunity_description", "opportunity_next_step"]
    assert opp[1].text == "Term sheet review with their counsel"
    assert found[("lp_profiles", made["profile"]["id"], 0)].payload["link"] == f"/contacts/{made['jane']['id']}"
    assert found[("contacts", made["jane"]["id"], 0)].text == "Met at the Denver climate summit.\nPrefers calls on Fridays."
    for chunk in found.values():  # only the prose is embedded; every hash is of it
        assert chunk.payload["text"] == chunk.text and chunk.content_hash == chunks.digest(chunk.text)


def test_point_ids_are_uuid5_of_source_and_index_and_stable(start):
    server, admin = start()
    crm_records(admin)
    first, again = collect(server), collect(server)
    assert [c.id for c in first] == [c.id for c in again]
    for chunk in first:
        p = chunk.payload
        assert chunk.id == str(uuid.uuid5(chunks.NAMESPACE, f"{p['source_table']}:{p['source_id']}:{p['chunk_index']}"))
    assert chunks.point_id("contacts", "c1", 0) == "d1b59412-a714-5b25-81ce-2086ad43bddf"  # the namespace is fixed forever
    assert len({c.id for c in first}) == len(first)


@pytest.mark.parametrize("notes, entries", [
    ("2026-06-15 — Email from Jane (Acme LP): Fund II — thanks", [("2026-06-15", "Email from Jane (Acme LP): Fund II — thanks")]),
    ("intro\nmore intro\n2026-01-02: call", [(None, "intro\nmore intro"), ("2026-01-02", "call")]),
    ("1/2/26 met\n12/31/2025 - lunch", [("2026-01-02", "met"), ("2025-12-31", "lunch")]),
    ("2026-13-45 is not a date", [(None, "2026-13-45 is not a date")]),
    ("\n  \n", []),
    ("2026-02-03\nthe text on the next line", [("2026-02-03", "the text on the next line")]),
])
def test_grid_notes_split_per_dated_line(notes, entries):
    assert chunks.note_entries(notes) == entries


def test_a_long_text_is_split_at_lines_then_words():
    line = "word " * 1000  # 5,000 characters on one line
    pieces = chunks.split(f"short first line\n{line}\nlast")
    assert all(len(p) <= chunks.MAX_CHARS for p in pieces) and len(pieces) == 3
    assert pieces[0] == "short first line" and pieces[-1].endswith("last")
    assert " ".join(" ".join(pieces).split()) == " ".join(f"short first line {line} last".split())


def test_an_email_chunk_is_its_subject_and_own_text(make_server, google, tmp_path, spark):
    key = tmp_path / "sa.json"
    google.write_key_file(key)
    server = make_server(embed_url=spark.base_url, **capture_config(google, key))
    admin = server.register_admin()
    member = server.add_user(admin, "maria")
    add_investor(admin, "Acme LP", ("Jane Doe", LP))
    grant(google, ADMIN_MAILBOX)
    assert admin.post("/api/email/accounts/enroll-all").status_code == 200
    body = ("Hi team,\nThe wire for Fund II goes out on Thursday.\nCould you confirm the amount?\nBest,\nJane Doe\n"
            "Partner, Acme\n\nOn Mon, Jun 1, 2026 at 9:00 AM Bob wrote:\n> our pizza order is late\n")
    google.add_message(ADMIN_MAILBOX, mail(f"Jane Doe <{LP}>", ADMIN_MAILBOX, "Re: Fund II wire", body))
    google.add_message(ADMIN_MAILBOX, mail("someone@unknown.example", ADMIN_MAILBOX, "Unmatched", "pizza wire"))
    # The admin's run-now: after the cycle that stored mail, the ingest follows (crm.hooks.mail_synced).
    assert admin.post("/api/email/sync/run-now").status_code == 202
    status = eventually(lambda: (admin.get("/api/admin/ingest/status").json()["data"] or {}).get("last_run"),
                        timeout=20, what="no ingest followed the sync")
    assert status["chunks"] == 1
    [email] = [c for c in collect(server) if c.payload["type"] == "email"]
    assert email.text == "Re: Fund II wire\nThe wire for Fund II goes out on Thursday.\nCould you confirm the amount?"
    assert email.payload["confidence"] == 1.0 and email.payload["names"] == ["Jane Doe", "Acme LP"]
    assert email.payload["link"].startswith("/api/email/threads/")
    found = hits(member, q="wire thursday", mode="hybrid")  # members read matched threads: they find them too
    assert [h["type"] for h in found] == ["email"] and found[0]["link"] == email.payload["link"]
    assert hits(member, q="pizza", mode="sparse") == []  # neither the quoted reply nor unmatched mail is indexed


# -- BM25 --------------------------------------------------------------------------------------------

def test_bm25_terms_ids_and_weights_by_hand():
    text = "The fund closed; Acme funds the close."
    assert bm25.terms(text) == ["fund", "close", "acm", "fund", "close"]  # stop words out, Snowball stems
    assert bm25.token_id("fund") == 391575931  # MurmurHash3 32-bit, unsigned, seed 0
    indices, values = bm25.document_vector(text, avgdl=4.0)
    # dl = 5, avgdl = 4: norm = k1 (1 - b + b dl/avgdl) = 1.2 (0.25 + 0.9375) = 1.425
    # fund, close: tf 2 → 2 × 2.2 / (2 + 1.425) = 1.284672;  acm: tf 1 → 2.2 / 2.425 = 0.907216
    weights = dict(zip(indices, values))
    assert weights[bm25.token_id("fund")] == pytest.approx(1.284672, abs=1e-6)
    assert weights[bm25.token_id("close")] == pytest.approx(1.284672, abs=1e-6)
    assert weights[bm25.token_id("acm")] == pytest.approx(0.907216, abs=1e-6)
    assert indices == sorted(indices) and len(indices) == 3
    assert bm25.query_vector("funds fund FUNDING the") == (sorted({bm25.token_id("fund")}), [1.0])
    assert bm25.query_vector("the and of") == ([], [])
    assert bm25.average_length(["one two", "three four five six", "the"]) == 2.0  # (2 + 4 + 0) / 3


def test_the_index_records_the_real_average_length(start):
    server, admin = start()
    crm_records(admin)
    summary = ingest(server)
    texts = [c.text for c in collect(server)]
    assert summary["avgdl"] == round(sum(bm25.length(t) for t in texts) / len(texts), 3)
    assert server.app.retrieval.index().state()["avgdl"] == pytest.approx(summary["avgdl"], abs=1e-3)


# -- incremental re-ingest -----------------------------------------------------------------------------

def test_incremental_runs_skip_unchanged_reembed_edited_and_remove_deleted(start, spark):
    server, admin = start()
    made = crm_records(admin)
    first = ingest(server)
    assert (first["mode"], first["added"], first["sparse_only"], first["embed_error"]) == ("full", 9, 0, None)
    asked = sum(len(r["input"]) for r in spark.embedding_requests)

    again = ingest(server)
    assert (again["mode"], again["unchanged"], again["added"], again["reembedded"], again["removed"]) == (
        "incremental", 9, 0, 0, 0)
    assert sum(len(r["input"]) for r in spark.embedding_requests) == asked  # nothing embedded again

    assert admin.patch(f"/api/contacts/{made['jane']['id']}", {"notes": "Moved to Boulder."}).status_code == 200
    edited = ingest(server)
    assert (edited["reembedded"], edited["unchanged"]) == (1, 8)
    assert spark.embedding_requests[-1]["input"] == ["Moved to Boulder."]  # just the edited chunk
    assert hits(admin, q="boulder", mode="sparse")[0]["source_id"] == made["jane"]["id"]

    set_notes(admin, made["row"], "2026-05-01 — Call with Jane: pizza party logistics")  # 3 entries → 1
    shrunk = ingest(server)
    assert (shrunk["removed"], shrunk["reembedded"]) == (2, 1)

    # A contact's delete cascades to its communications, opportunities and LP profile: all leave the index.
    assert admin.delete(f"/api/contacts/{made['jane']['id']}").status_code == 200
    assert admin.post(f"/api/fundraising/ops", {"base_version": admin.get("/api/fundraising/state").json()["data"]["version"],
                                                 "ops": [{"op": "archive_row", "row_id": made["row"]}]}).status_code == 200
    gone = ingest(server)
    assert gone["removed"] == 6 and gone["chunks"] == 1  # the organization's description stays
    assert server.app.retrieval.index().count() == 1
    assert hits(admin, q="wire transfer", mode="sparse") == []


def test_a_relinked_chunk_gets_its_new_entities_without_a_new_embedding(start, spark):
    server, admin = start()
    made = crm_records(admin)
    ingest(server)
    asked = len(spark.embedding_requests)
    with pooled(server) as conn, transaction(conn):  # the entities' own storage functions (crm.ingest.entities)
        person = entities.create(conn, "person", "Jane Doe", primary_email=None)
        entities.link(conn, person, "contacts", made["jane"]["id"], "manual", 1.0, {"why": "test"})
    relinked = ingest(server)
    # Jane's notes, her call, the opportunity's two chunks (about her) and the LP profile (hers) name her now.
    assert (relinked["payload_updated"], relinked["reembedded"], len(spark.embedding_requests)) == (5, 0, asked)
    found = hits(admin, q="wire notice counsel accredited denver", mode="hybrid", entity=person, limit=20)
    assert {h["source_table"] for h in found} == {"communications", "contacts", "opportunities", "lp_profiles"}
    assert all(person in h["entity_ids"] for h in found)


# -- search ------------------------------------------------------------------------------------------

def test_dense_sparse_and_hybrid_over_local_mode(start):
    server, admin = start()
    made = crm_records(admin)
    ingest(server)
    for mode in ("dense", "sparse", "hybrid"):
        r = search(admin, q="wire transfer capital call", mode=mode)
        assert r.status_code == 200, r.text
        answer = r.json()["data"]
        assert (answer["mode"], answer["mode_used"], answer["degraded"]) == (mode, mode, None)
        top = answer["hits"][0]
        assert (top["source_table"], top["source_id"], top["type"]) == ("communications", made["call"]["id"], "communication")
        assert top["date"] == "2026-03-02T15:30:00Z" and top["link"] == f"/contacts/{made['jane']['id']}"
        assert "wire transfer" in top["snippet"] and top["title"] == "Call with Jane Doe: Fund II wire timing"
    dense = hits(admin, q="seed stage climate funds family office", mode="dense")
    assert dense[0]["type"] == "organization_description"
    hybrid = [h["score"] for h in hits(admin, q="pizza party", mode="hybrid")]
    assert hybrid == sorted(hybrid, reverse=True) and hybrid[0] <= 2 / 60 + 1e-9  # RRF, k = 60: at most 2 × 1/(60 + 0)


def test_filters_by_entity_type_and_date(start):
    server, admin = start()
    made = crm_records(admin)
    with pooled(server) as conn, transaction(conn):
        acme = entities.create(conn, "organization", "Acme Capital", primary_domain="acme.example")
        entities.link(conn, acme, "fundraising_investors", made["row"], "manual", 1.0, {})
    ingest(server)
    about_acme = hits(admin, q="pizza jane side letter wire", mode="sparse", entity=acme, limit=50)
    assert {h["source_id"] for h in about_acme} == {made["row"]}
    assert hits(admin, q="pizza", entity=str(uuid.uuid4())) == []
    typed = hits(admin, q="jane wire pizza counsel", mode="sparse", type="grid_note,opportunity_next_step", limit=50)
    assert {h["type"] for h in typed} == {"grid_note", "opportunity_next_step"}
    recent = hits(admin, q="jane", mode="sparse", type="grid_note", since="2026-05-10", limit=50)
    assert [h["date"] for h in recent] == ["2026-05-20T00:00:00Z"]  # undated entries have no date: left out
    assert hits(admin, q="wire", mode="sparse", since="2026-03-02T15:30:01Z", type="communication") == []
    assert len(hits(admin, q="wire", mode="sparse", since="2026-03-02T15:30:00Z", type="communication")) == 1


def test_search_degrades_to_sparse_without_an_embedding_server(start, spark):
    server, admin = start(embed_url=None)  # and no CRM_SPARK_BASE_URL either
    made = crm_records(admin)
    summary = ingest(server)
    assert summary["sparse_only"] == 9 and summary["embed_error"] == "no embedding server is configured (CRM_EMBED_URL)"
    for mode in ("dense", "hybrid"):
        answer = search(admin, q="wire transfer", mode=mode).json()["data"]
        assert (answer["mode_used"], answer["degraded"]) == ("sparse", "no embedding server")
        assert answer["degraded_detail"] == "no embedding server is configured (CRM_EMBED_URL)"
        assert answer["hits"][0]["source_id"] == made["call"]["id"]
    assert search(admin, q="wire", mode="sparse").json()["data"]["degraded"] is None


def test_points_stored_sparse_only_while_the_server_is_down_get_dense_vectors_later(start, spark):
    server, admin = start()
    crm_records(admin)
    spark.embed_mode = "down"
    down = ingest(server)
    assert down["sparse_only"] == 9 and "HTTP 503" in down["embed_error"] and down["dense_vectors"] is False
    status = admin.get("/api/admin/ingest/status").json()["data"]
    assert (status["points"], status["sparse_only"], status["dense_available"]) == (9, 9, False)
    answer = search(admin, q="wire", mode="hybrid").json()["data"]
    assert answer["mode_used"] == "sparse" and "no dense vectors" in answer["degraded_detail"]

    spark.embed_mode = "answer"  # back: the sparse-only collection is rebuilt with dense vectors
    back = ingest(server)
    assert (back["mode"], back["sparse_only"], back["dense_vectors"]) == ("full", 0, True)
    assert "made without dense vectors" in back["rebuilt_because"]
    assert admin.get("/api/admin/ingest/status").json()["data"]["sparse_only"] == 0

    # Down again mid-life: a new chunk waits sparse-only, the query degrades, and the next run adds its vector.
    created(admin, "/api/organizations", {"name": "Beta Partners", "description": "Secondaries buyer in Austin."})
    spark.embed_mode = "error"
    waiting = ingest(server)
    assert (waiting["added"], waiting["sparse_only"]) == (1, 1)
    answer = search(admin, q="secondaries austin", mode="dense").json()["data"]
    assert (answer["mode_used"], answer["degraded"]) == ("sparse", "no embedding server")
    assert "HTTP 500" in answer["degraded_detail"] and answer["hits"][0]["title"] == "About Beta Partners"
    spark.embed_mode = "answer"
    later = ingest(server)
    assert (later["mode"], later["dense_backfilled"], later["added"]) == ("incremental", 1, 0)
    assert hits(admin, q="secondaries austin", mode="dense")[0]["title"] == "About Beta Partners"


def test_a_busy_embedding_server_is_asked_again(start, spark):
    server, admin = start()
    crm_records(admin)
    spark.embed_mode, spark.flaky_failures = "flaky", 2  # two 500s, then answers: within the two retries
    summary = ingest(server)
    assert (summary["sparse_only"], summary["embed_error"]) == (0, None)


# -- the CLI -----------------------------------------------------------------------------------------

def cli(data_dir, *args, **env):
    environ = {**os.environ, "CRM_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT / "backend"), **env}
    environ.pop("CRM_DB_PATH", None)
    return subprocess.run([sys.executable, "-m", "crm.ingest", *args], capture_output=True, text=True, env=environ,
                          timeout=120, cwd=ROOT / "backend")


def test_the_cli_says_what_to_do_while_the_server_holds_the_index(start, tmp_path):
    server, admin = start(data_dir=tmp_path / "held", embed_url=None)
    crm_records(admin)
    assert admin.get("/api/admin/ingest/status").json()["data"]["available"]  # the server opened (and holds) it
    held = cli(tmp_path / "held", "run")
    assert held.returncode == 3, held.stderr
    assert "is open in another process" in held.stderr and "POST /api/admin/ingest/run" in held.stderr
    assert "stop the server" in held.stderr and "CRM_QDRANT_URL" in held.stderr

    server.app.retrieval.close()  # the server lets go: the CLI runs, with its bar and its table
    done = cli(tmp_path / "held", "run", "--full")
    assert done.returncode == 0, done.stderr
    assert "9/9 chunks" in done.stderr
    assert "chunks in the CRM" in done.stdout and "asked for (--full)" in done.stdout
    r = admin.get("/api/admin/ingest/status")  # reopened on the next use
    assert r.json()["data"]["points"] == 9 and r.json()["data"]["last_run"]["mode"] == "full"


# -- the routes --------------------------------------------------------------------------------------

@pytest.mark.parametrize("params, field", [
    ({}, "q"),
    ({"q": "   "}, "q"),
    ({"q": "x" * 1001}, "q"),
    ({"q": "wire", "mode": "fuzzy"}, "mode"),
    ({"q": "wire", "since": "yesterday"}, "since"),
    ({"q": "wire", "since": "2026-02-30"}, "since"),
    ({"q": "wire", "limit": "0"}, "limit"),
    ({"q": "wire", "limit": "101"}, "limit"),
    ({"q": "wire", "limit": "ten"}, "limit"),
    ({"q": "wire", "type": "email,memo"}, "type"),
    ({"q": "wire", "entity": "e" * 65}, "entity"),
])
def test_bad_search_parameters_are_422s_naming_the_field(shared, params, field):
    admin = shared_admin(shared)
    r = search(admin, **params)
    assert r.status_code == 422, r.text
    assert field in r.json()["fields"]


def shared_admin(server) -> Client:
    if not hasattr(server, "admin"):
        server.admin = server.register_admin()
    return server.admin


def test_who_may_search_and_run_the_ingest(start):
    server, admin = start(embed_url=None)
    member = server.add_user(admin, "maria")
    bot = server.add_user(admin, "intake-bot", role="bot", password="bot password 12")
    crm_records(admin)
    assert search(server.client(), q="wire").status_code == 401
    assert search(bot, q="wire").status_code == 403
    assert member.post("/api/admin/ingest/run", {}).status_code == 403
    assert member.get("/api/admin/ingest/status").status_code == 403
    r = admin.post("/api/admin/ingest/run", {"full": True})
    assert r.status_code == 202 and r.json()["data"] == {"started": True, "full": True}
    eventually(lambda: (admin.get("/api/admin/ingest/status").json()["data"]["last_run"] or {}).get("chunks") == 9)
    assert [h["type"] for h in hits(member, q="wire transfer")] == ["communication"]
    audited = admin.get("/api/audit-log", params={"entity_type": "search_index"}).json()["data"]
    assert audited and audited[0]["action"] == "ingest"
    assert admin.post("/api/admin/ingest/run", {"fast": True}).status_code == 422


def test_a_second_run_while_one_goes_on_is_a_409(start, spark):
    server, admin = start()
    crm_records(admin)
    spark.embed_mode, spark.delay = "slow", 1.5  # the first run waits on its embeddings
    assert admin.post("/api/admin/ingest/run", {}).status_code == 202
    eventually(lambda: admin.get("/api/admin/ingest/status").json()["data"]["running"])
    r = admin.post("/api/admin/ingest/run", {})
    assert r.status_code == 409 and "in progress" in r.json()["error"]
    eventually(lambda: admin.get("/api/admin/ingest/status").json()["data"]["last_run"], timeout=30)


def test_email_hits_only_while_capture_is_on(make_server, google, tmp_path):
    """Captured email is read through /api/email/threads, which answer only while capture is on."""
    key = tmp_path / "sa.json"
    google.write_key_file(key)
    data = tmp_path / "data"
    server = make_server(data_dir=data, **capture_config(google, key))
    admin = server.register_admin()
    add_investor(admin, "Acme LP", ("Jane Doe", LP))
    grant(google, ADMIN_MAILBOX)
    account = admin.post("/api/email/accounts/enroll-all").json()["data"]
    google.add_message(ADMIN_MAILBOX, mail(LP, ADMIN_MAILBOX, "Side letter", "The side letter draft is attached."))
    assert account["enrolled"]
    server.app.email.step()  # the scheduled sync's cycle: the mailbox is due; the ingest follows it
    assert server.app.retrieval.index().state()["last_run"]["chunks"] == 1
    assert [h["type"] for h in hits(admin, q="side letter")] == ["email"]
    server.app.retrieval.close()
    off = make_server(data_dir=data)  # the same data, capture off
    again = off.client()
    again.token = admin.token
    assert hits(again, q="side letter") == []
    assert search(again, q="side letter", type="email").json()["data"]["hits"] == []


def test_status_says_when_to_move_to_a_qdrant_server(start):
    server, admin = start(embed_url=None)
    status = admin.get("/api/admin/ingest/status").json()["data"]
    assert (status["store"], status["collection"], status["local_guidance"], status["advice"]) == (
        "local", "crm_chunks", 20_000, None)
    assert status["where"] == str(server.config.data_dir / "qdrant")
    assert status["embedding"] == {"configured": False, "model": "bge-m3", "server": None}
    assert "Qdrant server" in _advice(True, 20_001, 20_000) and "CRM_QDRANT_URL" in _advice(True, 20_001, 20_000)
    assert "move to a Qdrant server" in _advice(True, 17_000, 20_000)
    assert _advice(True, 100, 20_000) is None and _advice(False, 10**6, 20_000) is None
