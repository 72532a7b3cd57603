"""The evening digest's content (issue 18): build_digest over mail captured for real through the
stand-in Google, with the local model stood in by tests/fakes/spark.py.

By team member: each active member with a mailbox, both directions per mailbox, by investor,
with the model's paragraph or the counted one. By investor: the same window across the team,
each email once, its direction the email's. Going cold: investors with something open and no
email for cold_after_days, strongest connection first. Soft deletes everywhere."""
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import serving
from crm.digest import narrative
from crm.digest.compose import build_digest
from crm.email import store
from email_helpers import DOMAIN, add_investor, capture_config, grant, mail
from fakes.google import FakeGoogle
from fakes.spark import FakeSpark

ADMIN, MARIA, IVAN = f"admin@{DOMAIN}", f"maria@{DOMAIN}", f"ivan@{DOMAIN}"
JANE, BOB, CARL, DORA, EVE = "jane@acme.example", "bob@beta.example", "carl@gamma.example", "dora@delta.example", \
    "eve@evil.example"


def ago(**delta) -> datetime:
    return datetime.now(timezone.utc) - timedelta(**delta)


def grid_ops(client, *ops) -> dict:
    state = client.get("/api/fundraising/state").json()["data"]
    r = client.post("/api/fundraising/ops", {"base_version": state["version"], "ops": list(ops)})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def sync_all(server) -> None:
    conn = server.app.pool.acquire()
    try:
        accounts = [a["id"] for a in store.accounts(conn)]
    finally:
        server.app.pool.release(conn)
    for account in accounts:
        run = server.app.email.sync(account)
        assert run is not None and run["status"] == "ok", run


def digest(server, since, until=None, chat=None, **options) -> dict:
    conn = server.app.pool.acquire()
    try:
        return build_digest(conn, since, until or datetime.now(timezone.utc), chat, **options)
    finally:
        server.app.pool.release(conn)


@pytest.fixture(scope="module")
def google():
    with FakeGoogle() as fake:
        yield fake


@pytest.fixture(scope="module")
def team(google, tmp_path_factory):
    """Three mailboxes (the admin's, Maria's, Ivan's), grid investors Acme LP (Jane), Beta Capital
    (Bob), Delta Fund (Dora: a commitment to Fund III, mail 40 days ago only), Zeta (a commitment,
    never emailed) and "<b>Evil</b> & Co" (Eve), and Gamma Partners, a classic organization whose
    contact Carl is on no grid row. Old mail is captured first (the backfill), then the day's."""
    data = tmp_path_factory.mktemp("digest")
    google.write_key_file(data / "sa.json")
    with serving(data, **capture_config(google, data / "sa.json")) as server:
        admin = server.register_admin()
        server.add_user(admin, "maria")
        ivan = server.add_user(admin, "ivan")
        r = admin.patch(f"/api/admin/users/{admin.user['id']}", {"display_name": "Ann Admin"})
        assert r.status_code == 200, r.text
        fund = grid_ops(admin, {"op": "add_column", "column_id": "fund3", "name": "Fund III", "type": "fund"})
        assert fund
        ids = {"acme": add_investor(admin, "Acme LP", ("Jane Doe", JANE)),
               "beta": add_investor(admin, "Beta Capital", ("Bob Stone", BOB)),
               "delta": add_investor(admin, "Delta Fund", ("Dora Dean", DORA)),
               "zeta": add_investor(admin, "Zeta Trust"),
               "evil": add_investor(admin, "<b>Evil</b> & Co", ("Eve", EVE))}
        grid_ops(admin, {"op": "set_cell", "row_id": ids["delta"], "column_id": "fund3", "value": 2_500_000},
                 {"op": "set_cell", "row_id": ids["zeta"], "column_id": "fund3", "value": 1_000_000},
                 {"op": "set_cell", "row_id": ids["acme"], "column_id": "fund3", "value": 500_000})
        gamma = admin.post("/api/organizations", {"name": "Gamma Partners", "type": "family_office"}).json()["data"]
        carl = admin.post("/api/contacts", {"first_name": "Carl", "last_name": "Grant", "email": CARL,
                                            "organization_id": gamma["id"]}).json()["data"]
        grant(google, ADMIN, MARIA, IVAN)
        assert admin.post("/api/email/accounts/enroll-all").status_code == 200
        # The past: Dora wrote 40 days ago and the admin answered (both ways); Jane 10 days ago.
        google.add_message(ADMIN, mail(f"Dora Dean <{DORA}>", ADMIN, "Fund III timing", date=ago(days=40)))
        google.add_message(ADMIN, mail(ADMIN, DORA, "Re: Fund III timing", date=ago(days=40, hours=-1)),
                           label_ids=("SENT",))
        google.add_message(MARIA, mail(f"Dora Dean <{DORA}>", MARIA, "Hello from Delta", date=ago(days=45)))
        google.add_message(ADMIN, mail(f"Jane Doe <{JANE}>", ADMIN, "Old news", date=ago(days=10)))
        sync_all(server)
        time.sleep(0.01)
        started = datetime.now(timezone.utc)
        # The day.
        close = "<close-1@acme.example>"
        google.add_message(ADMIN, mail(f"Jane Doe <{JANE}>", ADMIN, "Fund II close", message_id=close,
                                       body="We are in for the June close.", date=ago(hours=5)))
        reply = mail(ADMIN, JANE, "Re: Fund II close", body="Wonderful, the docs follow.", cc=[MARIA],
                     in_reply_to=close, date=ago(hours=4))
        google.add_message(ADMIN, reply, label_ids=("SENT",))
        google.add_message(MARIA, reply)
        google.add_message(MARIA, mail(f"Bob Stone <{BOB}>", MARIA, "Diligence questions",
                                       body="Could you send the data room link?", date=ago(hours=3)))
        google.add_message(ADMIN, mail(f"Carl Grant <{CARL}>", ADMIN, "Gamma intro", date=ago(hours=2)))
        google.add_message(IVAN, mail(f"Eve <{EVE}>", IVAN, "<script>alert(1)</script> hi", date=ago(hours=2)))
        gone = google.add_message(ADMIN, mail(f"Bob Stone <{BOB}>", ADMIN, "Deleted later", date=ago(hours=1)))
        sync_all(server)
        google.delete_message(ADMIN, gone)
        sync_all(server)
        yield {"server": server, "admin": admin, "ivan": ivan, "ids": ids, "started": started,
               "gamma": gamma["id"], "carl": carl["id"]}


@pytest.fixture(scope="module")
def day(team):
    """The day's digest without the model."""
    return digest(team["server"], team["started"])


def section(body: str, title: str) -> str:
    start = body.index(title)
    rest = body[body.index("\n", start) + 1:]  # from the line after the heading
    ends = [rest.index(t) for t in ("BY INVESTOR", "GOING COLD", "Sent by Venture CRM") if t in rest]
    return rest[:min(ends)]


# -- by team member ----------------------------------------------------------------------------

def test_each_member_gets_their_mail_in_both_directions_grouped_by_investor(day):
    people = section(day["body"], "BY TEAM MEMBER")
    assert "Ann Admin: 1 sent, 2 received" in people
    assert "Acme LP: 1 sent, 1 received" in people  # the reply is in the admin's Sent
    assert "maria: 0 sent, 2 received" in people     # the same reply, cc'd to Maria, is received mail for her
    assert "Beta Capital: 0 sent, 1 received" in people
    assert "ivan: 0 sent, 1 received" in people
    assert (day["user_count"], day["email_count"]) == (3, 5)


def test_the_team_view_counts_each_email_once_with_the_emails_own_direction(day):
    investors = section(day["body"], "BY INVESTOR")
    # Fund II close (in) and the reply (out), though the reply is in two mailboxes
    assert "Acme LP: 2 emails (1 out, 1 in) · Ann Admin, maria" in investors
    assert "Beta Capital: 1 email (0 out, 1 in) · maria" in investors
    assert day["investor_count"] == 4
    assert investors.index("Acme LP") < investors.index("Beta Capital")  # most email first
    assert "latest: “Re: Fund II close”" in investors


def test_a_classic_contact_off_the_grid_is_named_by_its_organization(day):
    assert "Gamma Partners: 1 email (0 out, 1 in) · Ann Admin" in section(day["body"], "BY INVESTOR")


def test_mail_sent_long_before_the_window_and_mail_deleted_in_gmail_are_left_out(day):
    assert "Old news" not in day["body"] and "Deleted later" not in day["body"]
    assert "Old news" not in day["html"] and "Deleted later" not in day["html"]


def test_every_value_is_escaped_in_the_html(day):
    assert "<b>Evil</b>" not in day["html"] and "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in day["html"]
    assert "<script>" not in day["html"] and "&lt;script&gt;" in day["html"]
    assert "<b>Evil</b> & Co" in day["body"]  # the plain text is plain


def test_the_subject_counts_the_day(day):
    assert day["subject"].startswith("Venture CRM digest for ") and day["subject"].endswith(": 5 emails with 4 investors")
    assert day["has_activity"] is True


def test_a_day_without_mail_still_makes_a_digest_that_says_so(team):
    quiet = digest(team["server"], ago(minutes=2), ago(minutes=1))
    assert quiet["has_activity"] is False and quiet["email_count"] == 0
    assert quiet["subject"].endswith(": no investor email")
    assert "No email with investors was captured in this window." in quiet["body"]
    assert "BY TEAM MEMBER" not in quiet["body"] and "No email with investors" in quiet["html"]


# -- going cold ----------------------------------------------------------------------------------

def test_investors_with_something_open_and_no_recent_mail_are_going_cold_strongest_connection_first(day):
    cold = section(day["body"], "GOING COLD")
    lines = [line for line in cold.splitlines() if line.strip()]
    assert lines[0].startswith("Delta Fund: no email for 39 days")  # the admin's reply, 40 days less an hour ago
    # the admin wrote both ways with Dora; Maria had one email from her
    assert "strongest connection Ann Admin (2 emails, both ways)" in lines[0]
    assert "open commitment 2,500,000" in lines[0]
    assert lines[1] == "Zeta Trust: no email on record · open commitment 1,000,000"
    assert not any(line.startswith("Acme LP") for line in lines)  # committed, but emailed today
    assert not any(line.startswith("Beta Capital") for line in lines)  # nothing open
    assert day["cold_count"] == 2


def test_going_cold_follows_the_policys_days_and_zero_turns_it_off(team):
    assert "Acme LP: no email for" not in digest(team["server"], team["started"], cold_after_days=30)["body"]
    later = digest(team["server"], team["started"], datetime.now(timezone.utc) + timedelta(days=31), cold_after_days=30)
    assert "Acme LP: no email for 31 days" in section(later["body"], "GOING COLD")  # its last, 4 hours ago
    off = digest(team["server"], team["started"], cold_after_days=0)
    assert "GOING COLD" not in off["body"] and off["cold_count"] == 0


def test_an_investor_whose_fund_has_closed_is_not_going_cold(team):
    admin = team["admin"]
    grid_ops(admin, {"op": "add_column", "column_id": "fund1", "name": "Fund I", "type": "fund",
                     "fund": {"name": "Fund I", "close_date": "2020-01-01"}})
    beta = team["ids"]["beta"]
    grid_ops(admin, {"op": "set_cell", "row_id": beta, "column_id": "fund1", "value": 750_000})
    cold = digest(team["server"], ago(days=60), ago(days=59))  # Bob's mail is all later than this
    assert "Beta Capital" not in cold["body"]
    assert "Delta Fund" in cold["body"]


# -- the local model -----------------------------------------------------------------------------

@pytest.fixture
def spark():
    with FakeSpark(reply="Ann confirmed the June close with Acme LP and sent the closing documents.") as fake:
        yield fake


def model(spark, timeout=5):
    from dataclasses import replace
    from crm import config as crm_config
    config = crm_config.load(environ={}, spark_base_url=spark.base_url, spark_timeout_sec=timeout)
    return narrative.local_model(replace(config))


def test_each_member_with_mail_gets_one_paragraph_from_the_local_model(team, spark):
    written = digest(team["server"], team["started"], chat=model(spark))
    assert written["model_paragraphs"] == 3 and written["counted_paragraphs"] == 0
    assert spark.reply in written["body"] and spark.reply in written["html"]
    assert "counted, not written" not in written["body"]
    assert len(spark.requests) == 3
    prompts = {r["messages"][1]["content"].splitlines()[0]: r["messages"][1]["content"] for r in spark.requests}
    assert set(prompts) == {"Team member: Ann Admin", "Team member: maria", "Team member: ivan"}
    ann = prompts["Team member: Ann Admin"]
    assert "Subject: Re: Fund II close" in ann and "sent to Acme LP" in ann and "Wonderful, the docs follow." in ann
    assert "Diligence questions" not in ann  # Maria's mail is not in Ann's prompt
    assert all(r["model"] == "local" and r["messages"][0]["role"] == "system" for r in spark.requests)


def test_the_calls_for_the_team_run_at_once(team, spark):
    spark.mode, spark.delay = "slow", 1.0
    started = time.monotonic()
    written = digest(team["server"], team["started"], chat=model(spark, timeout=5))
    took = time.monotonic() - started
    assert written["model_paragraphs"] == 3
    assert took < 2.0, f"three 1 s answers took {took:.2f} s: not concurrent"


@pytest.mark.parametrize("mode", ["down", "garbage", "empty", "slow", "closed"])
def test_without_a_usable_answer_the_counted_paragraph_stands_in_and_the_digest_still_goes(team, spark, mode):
    if mode == "closed":
        spark.base_url = spark.closed_url
    else:
        spark.mode, spark.delay = mode, 3
    written = digest(team["server"], team["started"], chat=model(spark, timeout=1))
    assert written["model_paragraphs"] == 0 and written["counted_paragraphs"] == 3
    assert "Ann Admin sent 1 email and received 2, with 2 investors: Acme LP (2), Gamma Partners (1). *" in written["body"]
    assert "counted, not written: the local model did not give this paragraph." in written["body"]
    assert written["email_count"] == 5


def test_an_answer_that_is_not_prose_is_not_used(team, spark):
    spark.reply = "{}[]<>##**!!??" * 10
    written = digest(team["server"], team["started"], chat=model(spark))
    assert written["counted_paragraphs"] == 3 and spark.reply not in written["body"]


def test_the_counted_paragraph_is_the_same_every_time(team):
    first, second = digest(team["server"], team["started"]), digest(team["server"], team["started"])
    assert section(first["body"], "BY TEAM MEMBER") == section(second["body"], "BY TEAM MEMBER")


# -- soft deletes (these change the team: they run last) ------------------------------------------

def test_a_deleted_organization_falls_back_to_the_contact_then_the_address(team):
    admin = team["admin"]
    assert admin.delete(f"/api/organizations/{team['gamma']}").status_code == 200
    body = digest(team["server"], team["started"])["body"]
    assert "Carl Grant: 1 email (0 out, 1 in)" in body and "Gamma Partners" not in body
    assert admin.delete(f"/api/contacts/{team['carl']}").status_code == 200
    body = digest(team["server"], team["started"])["body"]
    assert f"{CARL}: 1 email (0 out, 1 in)" in body and "Carl Grant" not in body


def test_a_deactivated_members_mailbox_drops_out_of_both_sections(team):
    admin = team["admin"]
    r = admin.patch(f"/api/admin/users/{team['ivan'].user['id']}", {"is_active": False})
    assert r.status_code == 200, r.text
    after = digest(team["server"], team["started"])
    assert "ivan" not in after["body"] and "Evil" not in after["body"]
    assert (after["user_count"], after["email_count"], after["investor_count"]) == (2, 4, 3)  # Eve's is held by no one active
