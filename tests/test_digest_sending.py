"""Sending the evening digest (issue 18): the scheduler's guards with an injected clock, the policy
and its precedence, opt-out, the admin routes, and the transports (a real aiosmtpd server: plain,
STARTTLS and TLS; the stand-in Google for Gmail's send), with the recipients always the active
admins who kept the digest on."""
import email
import logging
import socket
from datetime import datetime, timedelta, timezone
from email import policy as email_policy
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from conftest import serving
from crm import config as crm_config
from crm import settings
from crm.digest import narrative, policy, runner
from email_helpers import DOMAIN, add_investor, capture_config, mail
from fakes.google import COMPOSE, READONLY, FakeGoogle
from fakes.spark import FakeSpark
from smtp_helpers import SMTP_PASSWORD, certificate, smtp, smtp_settings, trusted  # noqa: F401

ADMIN, OLGA, MARIA = f"admin@{DOMAIN}", f"olga@{DOMAIN}", f"maria@{DOMAIN}"
NEW_YORK = ZoneInfo("America/New_York")


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def local(*parts, fold=0) -> datetime:
    return datetime(*parts, tzinfo=NEW_YORK, fold=fold).astimezone(timezone.utc)


def on(server, fn, *args, **kwargs):
    """fn(conn, *args) on one of the server's connections."""
    conn = server.app.pool.acquire()
    try:
        return fn(conn, *args, **kwargs)
    finally:
        server.app.pool.release(conn)


def scheduled(server, now, config=None):
    return on(server, runner.run_if_due, config or server.config, server.app.email, now)


def state(server) -> dict:
    return on(server, policy.state)


def team(server):
    """The admin (first), a second admin Olga and a member Maria; the digest switched on at 18:00."""
    admin = server.register_admin()
    server.add_user(admin, "olga", role="admin")
    server.add_user(admin, "maria")
    r = admin.patch("/api/admin/digest/policy", {"enabled": True, "send_hour": 18})
    assert r.status_code == 200, r.text
    return admin


@pytest.fixture
def relay(smtp, make_server):
    """A server in New York time whose digest goes through a plain SMTP relay; (server, admin, inbox)."""
    inbox, port = smtp("none")
    server = make_server(timezone="America/New_York", **smtp_settings(port, "none"))
    return server, team(server), inbox


# -- the schedule --------------------------------------------------------------------------------

def test_nothing_is_sent_before_the_hour_then_once_that_day(relay):
    server, _, inbox = relay
    assert scheduled(server, local(2026, 12, 7, 17, 59)) is None and inbox.envelopes == []
    sent = scheduled(server, local(2026, 12, 7, 18, 0))
    assert sent["sent"] and sent["transport"] == "smtp" and sent["date"] == "2026-12-07"
    assert sorted(inbox.envelopes[0].rcpt_tos) == [ADMIN, OLGA]  # the active admins; never the member
    for later in (local(2026, 12, 7, 18, 1), local(2026, 12, 7, 23, 59)):
        assert scheduled(server, later) is None
    assert len(inbox.envelopes) == 1
    assert state(server)[policy.LAST_SENT_AT] == "2026-12-07T23:00:00.000Z"  # 18:00 in New York
    assert scheduled(server, local(2026, 12, 8, 0, 30)) is None  # a new day, before its hour
    assert scheduled(server, local(2026, 12, 8, 18, 5))["date"] == "2026-12-08"
    assert len(inbox.envelopes) == 2


def test_each_digest_covers_the_window_since_the_last_and_a_missed_day_rolls_into_the_next(relay):
    server, admin, inbox = relay
    scheduled(server, local(2026, 12, 7, 18, 0))
    # The server was off all of the 8th; it comes back on the 9th after the hour.
    assert scheduled(server, local(2026, 12, 9, 19, 30))["date"] == "2026-12-09"
    last = admin.get("/api/admin/digest/status").json()["data"]["last_send"]
    assert (last["since"], last["until"]) == ("2026-12-07T23:00:00.000Z", "2026-12-10T00:30:00.000Z")
    message = email.message_from_bytes(inbox.envelopes[-1].original_content, policy=email_policy.default)
    assert "Mon 7 Dec 18:00 to Wed 9 Dec 2026 19:30 (America/New_York)" in message.get_body(("plain",)).get_content()


def test_the_first_digest_covers_a_day_and_a_long_gap_at_most_a_week(relay):
    server, admin, _ = relay
    scheduled(server, local(2026, 12, 7, 18, 0))
    assert admin.get("/api/admin/digest/status").json()["data"]["last_send"]["since"] == "2026-12-06T23:00:00.000Z"
    scheduled(server, local(2026, 12, 30, 18, 0))
    assert admin.get("/api/admin/digest/status").json()["data"]["last_send"]["since"] == "2026-12-23T23:00:00.000Z"


def test_switched_off_nothing_is_sent_and_no_time_is_due(relay):
    server, admin, inbox = relay
    assert admin.patch("/api/admin/digest/policy", {"enabled": False}).status_code == 200
    assert scheduled(server, local(2026, 12, 7, 20, 0)) is None and inbox.envelopes == []
    assert admin.get("/api/admin/digest/status").json()["data"]["next_due_at"] is None


def test_a_change_of_hour_takes_effect_on_the_next_cycle(relay):
    server, admin, inbox = relay
    assert scheduled(server, local(2026, 12, 7, 9, 0)) is None
    assert admin.patch("/api/admin/digest/policy", {"send_hour": 8}).status_code == 200
    assert scheduled(server, local(2026, 12, 7, 9, 1))["sent"]
    assert admin.patch("/api/admin/digest/policy", {"send_hour": 10}).status_code == 200
    assert scheduled(server, local(2026, 12, 7, 10, 0)) is None  # today's has gone
    assert len(inbox.envelopes) == 1


def test_spring_forward_neither_skips_nor_doubles_the_day(relay):
    """8 March 2026 in New York: 02:00 does not exist (01:59 EST is followed by 03:00 EDT)."""
    server, admin, inbox = relay
    assert admin.patch("/api/admin/digest/policy", {"send_hour": 2}).status_code == 200
    assert scheduled(server, utc(2026, 3, 8, 6, 59)) is None             # 01:59 EST
    assert scheduled(server, utc(2026, 3, 8, 7, 0))["date"] == "2026-03-08"  # 03:00 EDT: the hour has passed
    assert scheduled(server, utc(2026, 3, 8, 8, 0)) is None
    assert scheduled(server, utc(2026, 3, 9, 5, 59)) is None             # 01:59 EDT the next day
    assert scheduled(server, utc(2026, 3, 9, 6, 0))["date"] == "2026-03-09"  # 02:00 EDT
    assert len(inbox.envelopes) == 2


def test_fall_back_neither_skips_nor_doubles_the_day(relay):
    """1 November 2026 in New York: 01:00-01:59 happens twice (EDT, then EST)."""
    server, admin, inbox = relay
    assert admin.patch("/api/admin/digest/policy", {"send_hour": 1}).status_code == 200
    assert local(2026, 11, 1, 1, 30) == utc(2026, 11, 1, 5, 30) and local(2026, 11, 1, 1, 30, fold=1) == utc(2026, 11, 1, 6, 30)
    assert scheduled(server, utc(2026, 11, 1, 4, 59)) is None                # 00:59 EDT
    assert scheduled(server, utc(2026, 11, 1, 5, 0))["date"] == "2026-11-01"  # 01:00 EDT
    assert scheduled(server, utc(2026, 11, 1, 6, 0)) is None                 # 01:00 EST: the same day again
    assert scheduled(server, utc(2026, 11, 2, 6, 0))["date"] == "2026-11-02"  # 01:00 EST on the 2nd
    assert len(inbox.envelopes) == 2


def test_next_due_is_todays_hour_then_tomorrows_in_local_time(relay):
    server, admin, _ = relay
    status = on(server, runner.status, server.config, None, local(2026, 12, 7, 9, 0))
    assert status["next_due_at"] == "2026-12-07T23:00:00.000Z" and status["timezone"] == "America/New_York"
    scheduled(server, local(2026, 12, 7, 18, 0))
    status = on(server, runner.status, server.config, None, local(2026, 12, 7, 18, 1))
    assert status["next_due_at"] == "2026-12-08T23:00:00.000Z"
    overdue = on(server, runner.status, server.config, None, local(2026, 12, 8, 20, 0))
    assert overdue["next_due_at"] == "2026-12-09T01:00:00.000Z"  # now: within the minute


def test_a_send_that_died_with_the_process_is_not_sent_again_that_day_and_its_window_is_not_lost(relay):
    server, admin, inbox = relay
    scheduled(server, local(2026, 12, 6, 18, 0))
    cursor = state(server)[policy.LAST_SENT_AT]
    # What the database holds when the process stopped between recording the attempt and hearing back:
    conn = server.app.pool.acquire()
    try:
        settings.put(conn, policy.LAST_SENT_DATE, "2026-12-07")
        settings.put(conn, policy.ATTEMPT, {"date": "2026-12-07", "since": cursor, "until": "2026-12-07T23:00:00.000Z",
                                            "started_at": "2026-12-07T23:00:00.000Z"})
    finally:
        server.app.pool.release(conn)
    assert scheduled(server, local(2026, 12, 7, 18, 5)) is None
    after = state(server)
    assert after[policy.ATTEMPT] is None and after[policy.LAST_SENT_AT] == cursor
    assert "was interrupted" in after[policy.LAST_ERROR]["message"]
    assert len(inbox.envelopes) == 1
    assert scheduled(server, local(2026, 12, 8, 18, 0))["sent"]
    assert admin.get("/api/admin/digest/status").json()["data"]["last_send"]["since"] == cursor  # the 7th's window too


def test_a_send_that_certainly_failed_gives_the_day_back_and_is_tried_again_later(smtp, make_server, caplog):
    inbox, port = smtp("none")
    server = make_server(timezone="America/New_York", **smtp_settings(port + 1 if port < 65535 else port - 1, "none"))
    team(server)
    with caplog.at_level(logging.WARNING, logger="crm"):
        failed = scheduled(server, local(2026, 12, 7, 18, 0))
    assert failed["sent"] is False and "could not reach it" in failed["error"]
    after = state(server)
    assert after[policy.LAST_SENT_DATE] is None and after[policy.ATTEMPT] is None
    assert "trying again in 15 minutes" in after[policy.LAST_ERROR]["message"]
    assert any("digest (scheduled) not sent" in r.getMessage() for r in caplog.records)
    from dataclasses import replace
    fixed = replace(server.config, smtp_port=port)
    assert scheduled(server, local(2026, 12, 7, 18, 10), fixed) is None  # not before the retry time
    assert scheduled(server, local(2026, 12, 7, 18, 16), fixed)["sent"]
    assert len(inbox.envelopes) == 1 and state(server)[policy.LAST_SENT_DATE] == "2026-12-07"


def test_a_gmail_failure_that_may_have_sent_keeps_the_day_and_the_window(make_server, tmp_path):
    with FakeGoogle() as google:
        google.write_key_file(tmp_path / "sa.json")
        server = make_server(timezone="America/New_York", **capture_config(google, tmp_path / "sa.json"))
        team(server)
        google.grant(ADMIN, [READONLY, COMPOSE])
        server.app.email.backoff_base = 0.01
        google.fail("/messages/send", 500, times=None)
        failed = scheduled(server, local(2026, 12, 7, 18, 0))
        assert failed["sent"] is False and "Gmail did not send the mail" in failed["error"]
        after = state(server)
        assert after[policy.LAST_SENT_DATE] == "2026-12-07" and after[policy.LAST_SENT_AT] is None
        assert "it may have gone out" in after[policy.LAST_ERROR]["message"]
        assert scheduled(server, local(2026, 12, 7, 19, 0)) is None  # not twice: late is better


def test_the_digest_loop_is_always_started(make_server):
    from crm.app import start_background
    server = make_server()
    loops = start_background(server.app)
    try:
        assert "digest" in {loop.name for loop in loops}
    finally:
        server.app.stopping.set()


# -- the policy ------------------------------------------------------------------------------------

def test_the_policy_defaults_to_off_at_six_with_thirty_days(make_server):
    admin = make_server().register_admin()
    assert admin.get("/api/admin/digest/policy").json()["data"] == {"enabled": False, "send_hour": 18, "cold_after_days": 30}


def test_the_environment_seeds_the_first_boot_and_the_database_wins_after(tmp_path):
    with serving(tmp_path, digest_enabled=True, digest_send_hour=7) as server:
        admin = server.register_admin()
        assert admin.get("/api/admin/digest/policy").json()["data"] == {"enabled": True, "send_hour": 7, "cold_after_days": 30}
        assert admin.patch("/api/admin/digest/policy", {"send_hour": 9}).status_code == 200
    with serving(tmp_path, digest_enabled=False, digest_send_hour=20) as server:
        admin = server.client()
        r = admin.post("/api/auth/login", {"username": "admin", "password": "correct horse battery"})
        admin.token = r.json()["data"]["token"]
        assert admin.get("/api/admin/digest/policy").json()["data"] == {"enabled": True, "send_hour": 9, "cold_after_days": 30}


BAD_POLICIES = [
    ({"send_hour": 24}, "send_hour"), ({"send_hour": -1}, "send_hour"), ({"send_hour": "7"}, "send_hour"),
    ({"send_hour": 7.5}, "send_hour"), ({"enabled": "yes"}, "enabled"), ({"cold_after_days": -1}, "cold_after_days"),
    ({"cold_after_days": 366}, "cold_after_days"), ({"send_at": 7}, "send_at"), ({"enabled": None}, "enabled"),
]


@pytest.fixture(scope="module")
def shared_admin(shared):
    return shared.register_admin()


@pytest.mark.parametrize("body, field", BAD_POLICIES)
def test_a_bad_policy_is_a_422_naming_the_field_and_changes_nothing(shared_admin, body, field):
    admin = shared_admin
    before = admin.get("/api/admin/digest/policy").json()["data"]
    r = admin.patch("/api/admin/digest/policy", body)
    assert r.status_code == 422 and field in r.json()["fields"], r.text
    assert admin.get("/api/admin/digest/policy").json()["data"] == before


def test_members_reach_none_of_the_digest_routes(make_server):
    server = make_server()
    admin = server.register_admin()
    member = server.add_user(admin, "maria")
    for method, path in (("GET", "policy"), ("PATCH", "policy"), ("GET", "status"), ("GET", "preview"),
                         ("POST", "send-now"), ("POST", "test-email")):
        r = member.request(method, f"/api/admin/digest/{path}", {} if method != "GET" else None)
        assert r.status_code == 403, (method, path, r.status_code)


@pytest.mark.parametrize("environ, words", [
    ({"CRM_TIMEZONE": "Mars/Olympus_Mons"}, "CRM_TIMEZONE: 'Mars/Olympus_Mons' is not a time zone"),
    ({"CRM_TIMEZONE": "../../etc/passwd"}, "is not a time zone"),
    ({"CRM_DIGEST_SEND_HOUR": "24"}, "CRM_DIGEST_SEND_HOUR must be an hour from 0 to 23"),
    ({"CRM_DIGEST_ENABLED": "maybe"}, "CRM_DIGEST_ENABLED must be 1 or 0"),
])
def test_bad_digest_settings_stop_the_start(tmp_path, environ, words):
    with pytest.raises(crm_config.ConfigError, match=words):
        crm_config.load(environ=environ, data_dir=tmp_path)


# -- opting out --------------------------------------------------------------------------------

def test_an_admin_who_opts_out_is_no_longer_a_recipient(relay):
    server, admin, inbox = relay
    r = admin.patch("/api/me", {"digest_opt_out": True})
    assert r.status_code == 200 and r.json()["data"]["digest_opt_out"] is True
    assert admin.get("/api/admin/digest/status").json()["data"]["recipients"] == [OLGA]
    scheduled(server, local(2026, 12, 7, 18, 0))
    assert [e.rcpt_tos for e in inbox.envelopes] == [[OLGA]]
    entry = admin.get("/api/audit-log", params={"entity_id": admin.user["id"]}).json()["data"][0]
    assert entry["changes"] == {"digest_opt_out": [False, True]}


def test_when_everyone_opted_out_send_now_says_there_is_no_one(relay):
    server, admin, inbox = relay
    olga = server.client()
    olga.token = olga.post("/api/auth/login", {"username": "olga", "password": "member password 1"}).json()["data"]["token"]
    for client in (admin, olga):
        assert client.patch("/api/me", {"digest_opt_out": True}).status_code == 200
    r = admin.post("/api/admin/digest/send-now", {})
    assert r.status_code == 409 and "no one to send it to" in r.json()["error"]
    assert inbox.envelopes == []


@pytest.mark.parametrize("body, field", [({"digest_opt_out": "yes"}, "digest_opt_out"), ({"role": "admin"}, "role"),
                                         ({"display_name": "  "}, "display_name"), ({"is_active": False}, "is_active")])
def test_patch_me_refuses_what_it_does_not_change(make_server, body, field):
    server = make_server()
    admin = server.register_admin()
    member = server.add_user(admin, "maria")
    r = member.patch("/api/me", body)
    assert r.status_code == 422 and field in r.json()["fields"], r.text
    assert member.get("/api/auth/me").json()["data"]["role"] == "member"


# -- the routes and the transports -------------------------------------------------------------

def test_send_now_sends_the_last_24_hours_over_starttls_without_touching_the_schedule(smtp, trusted, make_server):
    inbox, port = smtp()
    server = make_server(**smtp_settings(port))
    admin = team(server)
    r = admin.post("/api/admin/digest/send-now", {})
    assert r.status_code == 200, r.text
    sent = r.json()["data"]
    assert sent["transport"] == "smtp" and sorted(sent["recipients"]) == [ADMIN, OLGA]
    [envelope] = inbox.envelopes
    assert inbox.logins == ["digest"]
    message = email.message_from_bytes(envelope.original_content, policy=email_policy.default)
    assert message["Subject"] == sent["subject"] and "no investor email" in sent["subject"]
    assert "No email with investors" in message.get_body(("plain",)).get_content()
    assert message.get_body(("html",)).get_content().lstrip().startswith("<div")
    after = state(server)
    assert after[policy.LAST_SENT_AT] is None and after[policy.LAST_SENT_DATE] is None
    assert after[policy.LAST_SEND]["kind"] == "send_now"
    entry = admin.get("/api/audit-log", params={"entity_type": "digest"}).json()["data"][0]
    assert entry["action"] == "send" and entry["entity_id"] == "send_now"


def test_the_test_email_goes_to_you_by_default_and_only_to_active_admins(smtp, make_server):
    inbox, port = smtp("none")
    server = make_server(**smtp_settings(port, "none"))
    admin = team(server)
    r = admin.post("/api/admin/digest/test-email", {})
    assert r.status_code == 200 and r.json()["data"] == {"transport": "smtp", "recipients": [ADMIN]}, r.text
    for refused in ([MARIA], ["jane@acme.example"], [ADMIN, "jane@acme.example"]):
        r = admin.post("/api/admin/digest/test-email", {"to": refused})
        assert r.status_code == 422 and "to" in r.json()["fields"], r.text
    r = admin.post("/api/admin/digest/test-email", {"to": ["not an address"]})
    assert r.status_code == 422
    assert [e.rcpt_tos for e in inbox.envelopes] == [[ADMIN]]


def test_a_failed_test_email_names_the_failure_never_the_password(smtp, trusted, make_server, caplog):
    inbox, port = smtp()
    server = make_server(**smtp_settings(port, password="wrong-password-not-for-logs"))
    admin = team(server)
    with caplog.at_level(logging.DEBUG):
        r = admin.post("/api/admin/digest/test-email", {})
    assert r.status_code == 502 and "refused the sign-in (SMTP_USER, SMTP_PASS)" in r.json()["error"], r.text
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    for secret in ("wrong-password-not-for-logs", SMTP_PASSWORD):
        assert secret not in r.text and secret not in logged
    status = admin.get("/api/admin/digest/status").json()["data"]
    assert status["last_error"]["kind"] == "test" and "refused the sign-in" in status["last_error"]["message"]
    assert inbox.envelopes == []


def test_with_no_transport_the_sending_routes_say_so(make_server):
    admin = team(make_server())
    for path in ("send-now", "test-email"):
        r = admin.post(f"/api/admin/digest/{path}", {})
        assert r.status_code == 503 and "no way to send mail" in r.json()["error"]
    assert admin.get("/api/admin/digest/status").json()["data"]["transports"] == []


def test_gmail_is_preferred_and_smtp_takes_over_without_the_compose_grant(smtp, make_server, tmp_path):
    inbox, port = smtp("none")
    with FakeGoogle() as google:
        google.write_key_file(tmp_path / "sa.json")
        server = make_server(**capture_config(google, tmp_path / "sa.json"), **smtp_settings(port, "none"))
        admin = team(server)
        assert admin.get("/api/admin/digest/status").json()["data"]["transports"] == ["gmail", "smtp"]
        google.grant(ADMIN, [READONLY])  # read-only: Gmail refuses the send
        r = admin.post("/api/admin/digest/send-now", {})
        assert r.status_code == 200 and r.json()["data"]["transport"] == "smtp", r.text
        assert google.sent == [] and len(inbox.envelopes) == 1
        google.grant(ADMIN, [COMPOSE])
        r = admin.post("/api/admin/digest/send-now", {})
        assert r.status_code == 200 and r.json()["data"]["transport"] == "gmail", r.text
        [sent] = google.sent
        message = email.message_from_bytes(sent["raw"], policy=email_policy.default)
        assert sent["user"] == ADMIN and sorted(a.addr_spec for a in message["To"].addresses) == [ADMIN, OLGA]
        assert len(inbox.envelopes) == 1


def test_the_preview_renders_without_sending_or_changing_anything(relay):
    server, admin, inbox = relay
    before = state(server)
    r = admin.get("/api/admin/digest/preview")
    assert r.status_code == 200, r.text
    shown = r.json()["data"]
    assert shown["subject"].startswith("Venture CRM digest for ") and shown["html"].lstrip().startswith("<div")
    assert sorted(shown["recipients"]) == [ADMIN, OLGA] and shown["has_activity"] is False
    assert inbox.envelopes == [] and state(server) == before


# -- the digest's substance reaches the local model and nothing else ------------------------------

def test_only_the_configured_model_host_and_the_mail_transports_are_contacted(smtp, make_server, tmp_path, monkeypatch):
    """A digest with real substance: every outgoing connection the server makes while sending it is
    recorded; the only ones are to the local model server, the stand-in Google and the SMTP relay."""
    inbox, port = smtp("none")
    with FakeGoogle() as google, FakeSpark(reply="Ann told Acme LP the Fund II close is on track.") as spark:
        google.write_key_file(tmp_path / "sa.json")
        server = make_server(**capture_config(google, tmp_path / "sa.json"), **smtp_settings(port, "none"),
                             spark_base_url=spark.base_url)
        admin = team(server)
        add_investor(admin, "Acme LP", ("Jane Doe", "jane@acme.example"))
        google.grant(ADMIN, [READONLY])
        assert admin.post("/api/email/accounts/enroll-all").status_code == 200
        google.add_message(ADMIN, mail("Jane Doe <jane@acme.example>", ADMIN, "Fund II close",
                                       body="Confidential: we commit 5M to Fund II."))
        account = admin.get("/api/email/accounts").json()["data"][0]["id"]
        assert server.app.email.sync(account)["status"] == "ok"
        contacted = []
        connect = socket.socket.connect

        def recording(sock, address):
            contacted.append(address[:2])
            return connect(sock, address)
        monkeypatch.setattr(socket.socket, "connect", recording)
        sent = on(server, runner.send_now, server.config, server.app.email)
        monkeypatch.undo()
        assert sent["transport"] == "smtp" and sent["email_count"] == 1
        allowed = {urlsplit(spark.base_url).netloc, urlsplit(google.url).netloc, f"127.0.0.1:{port}"}
        assert contacted and {f"{host}:{p}" for host, p in contacted} <= allowed
        assert any(f"{host}:{p}" == urlsplit(spark.base_url).netloc for host, p in contacted)
        asked = [r for r in spark.requests if r["messages"][0]["content"] == narrative.SYSTEM]  # (the sync drafted a note too)
        assert len(asked) == 1 and "we commit 5M to Fund II" in asked[0]["messages"][1]["content"]
        body = email.message_from_bytes(inbox.envelopes[0].original_content, policy=email_policy.default)
        assert spark.reply in body.get_body(("plain",)).get_content()
