"""Sending the digest: the scheduler's daily step, send-now, the test email, and their status.

This is the one automated send path, and it is internal: every message goes through
crm.digest.mailer, which refuses anyone but an active admin. "Agents draft, humans send" governs
mail to LPs and prospects; a digest to the fund's own admins is a different category.

The daily send is at most once per local day, even if the process dies mid-send: the day is
written (the guard) and the attempt recorded, in one transaction, before the mail leaves; after
it, the cursor moves to the window's end. An attempt still recorded when the scheduler next looks
was interrupted: the guard stays (no second digest that day) and the cursor does not move (the
next digest covers the window again: repeated rather than lost). A send that certainly failed
(nothing left the box) gives the day back and is tried again in RETRY_MINUTES; one that may
have gone (Gmail failed mid-call) keeps the day.
"""
import logging
from datetime import timedelta

from .. import settings
from ..auth import users
from ..clock import iso, parse_iso, utcnow, zone
from ..db import transaction
from . import mailer, policy, schedule
from .compose import build_digest
from .narrative import local_model
from .policy import ATTEMPT, LAST_ERROR, LAST_SEND, LAST_SENT_AT, LAST_SENT_DATE, RETRY_AFTER

log = logging.getLogger("crm.digest")

RETRY_MINUTES = 15
TEST_SUBJECT = "Venture CRM: test of the digest's mail"
TEST_BODY = ("This is a test message from Venture CRM. The evening digest will reach you the same way.\n\n"
             "It goes only to the CRM's active admins.\n")


class NoRecipients(mailer.MailError):
    """Every active admin has opted out of the digest or has no address: there is no one to send to."""


def step(app, now=None):
    """The scheduler loop's step (every 60 s): send today's digest if it is due."""
    conn = app.pool.acquire()
    try:
        return run_if_due(conn, app.config, app.email, now or utcnow())
    finally:
        app.pool.release(conn)


def run_if_due(conn, config, gmail, now, chat=None) -> dict | None:
    """Send the scheduled digest if the policy says it is due at `now`; what was done, or None.
    `chat` overrides the local model (tests, the benchmark)."""
    reconcile(conn, now)
    rules, state = policy.read(conn, config), policy.state(conn)
    local = zone(config.timezone)
    if not schedule.is_due(now, rules, state[LAST_SENT_DATE], local):
        return None
    if state[RETRY_AFTER] and parse_iso(state[RETRY_AFTER]) > now:
        return None
    day = schedule.local_day(now, local)
    since, until = schedule.window(now, state[LAST_SENT_AT])
    digest = build_digest(conn, since, until, chat or local_model(config), cold_after_days=rules["cold_after_days"],
                          zone=local)
    with transaction(conn):  # the guard and the attempt, before anything leaves
        if settings.get(conn, LAST_SENT_DATE) == day:
            return None
        settings.put(conn, LAST_SENT_DATE, day)
        settings.put(conn, ATTEMPT, {"date": day, "since": iso(since), "until": iso(until), "started_at": iso(now)})
    try:
        sent = _send(conn, config, gmail, digest)
    except mailer.MailError as exc:
        with transaction(conn):
            settings.put(conn, ATTEMPT, None)
            if exc.maybe_sent:
                _failed(conn, now, "scheduled", exc.message + "; it may have gone out, so today's is not tried again"
                        " and the next digest covers this window too")
            else:
                settings.put(conn, LAST_SENT_DATE, state[LAST_SENT_DATE])
                settings.put(conn, RETRY_AFTER, iso(now + timedelta(minutes=RETRY_MINUTES)))
                _failed(conn, now, "scheduled", f"{exc.message}; trying again in {RETRY_MINUTES} minutes")
        return {"sent": False, "error": exc.message}
    with transaction(conn):
        settings.put(conn, ATTEMPT, None)
        settings.put(conn, RETRY_AFTER, None)
        settings.put(conn, LAST_SENT_AT, iso(until))
        _sent(conn, now, "scheduled", sent, digest)
    log.info("digest: sent for %s by %s to %d admin(s), %d emails", day, sent["transport"], len(sent["recipients"]),
             digest["email_count"])
    return {"sent": True, **sent, "date": day}


def reconcile(conn, now) -> bool:
    """An attempt left recorded by a process that stopped mid-send: settle it (True if there was one)."""
    attempt = settings.get(conn, ATTEMPT)
    if attempt is None:
        return False
    with transaction(conn):
        settings.put(conn, ATTEMPT, None)
        _failed(conn, now, "scheduled", f"the send begun at {attempt['started_at']} was interrupted (the server stopped);"
                " whether it went out is unknown, so that day's is not sent again and the next digest covers its window too")
    log.warning("digest: the send begun at %s was interrupted; not sending that day's again", attempt["started_at"])
    return True


def send_now(conn, config, gmail, now=None, chat=None) -> dict:
    """The real digest of the last 24 hours, to the admins, now; the daily cursor and guard are
    left alone (a preview never suppresses the evening's). MailError when it did not go."""
    now = now or utcnow()
    rules = policy.read(conn, config)
    digest = build_digest(conn, now - schedule.FIRST_WINDOW, now, chat or local_model(config),
                          cold_after_days=rules["cold_after_days"], zone=zone(config.timezone))
    try:
        sent = _send(conn, config, gmail, digest)
    except mailer.MailError as exc:
        with transaction(conn):
            _failed(conn, now, "send_now", exc.message)
        raise
    with transaction(conn):
        _sent(conn, now, "send_now", sent, digest)
    return {**sent, "subject": digest["subject"], "email_count": digest["email_count"],
            "investor_count": digest["investor_count"]}


def send_test(conn, config, gmail, recipients, now=None) -> dict:
    """A short test message to `recipients` (active admins only): proves the transport works."""
    now = now or utcnow()
    try:
        transport = mailer.send_internal(conn, config, recipients, TEST_SUBJECT, TEST_BODY, gmail=gmail)
    except mailer.MailError as exc:
        with transaction(conn):
            _failed(conn, now, "test", exc.message)
        raise
    return {"transport": transport, "recipients": mailer.check_recipients(conn, recipients)}


def preview(conn, config, now=None, chat=None) -> dict:
    """The digest the scheduler would send now (its window from the cursor), rendered, not sent."""
    now = now or utcnow()
    rules, state = policy.read(conn, config), policy.state(conn)
    since, until = schedule.window(now, state[LAST_SENT_AT])
    digest = build_digest(conn, since, until, chat or local_model(config), cold_after_days=rules["cold_after_days"],
                          zone=zone(config.timezone))
    return {**digest, "recipients": users.digest_recipients(conn)}


def status(conn, config, gmail, now=None) -> dict:
    now = now or utcnow()
    rules, state = policy.read(conn, config), policy.state(conn)
    local = zone(config.timezone)
    due = schedule.next_due(now, rules, state[LAST_SENT_DATE], local)
    if due is not None and state[RETRY_AFTER] and parse_iso(state[RETRY_AFTER]) > due:
        due = parse_iso(state[RETRY_AFTER])
    return {
        "policy": rules, "timezone": getattr(local, "key", None) or str(local),
        "last_sent_at": state[LAST_SENT_AT], "last_sent_date": state[LAST_SENT_DATE],
        "last_send": state[LAST_SEND], "last_error": state[LAST_ERROR],
        "next_due_at": iso(due) if due else None, "recipients": users.digest_recipients(conn),
        "transports": mailer.transports(config, gmail),
    }


def _send(conn, config, gmail, digest) -> dict:
    recipients = users.digest_recipients(conn)
    if not recipients:
        raise NoRecipients("no one to send it to: no active admin with an email address has kept the digest on")
    transport = mailer.send_internal(conn, config, recipients, digest["subject"], digest["body"], digest["html"],
                                     gmail=gmail)
    return {"transport": transport, "recipients": recipients}


def _sent(conn, now, kind: str, sent: dict, digest: dict) -> None:
    settings.put(conn, LAST_SEND, {"at": iso(now), "kind": kind, "transport": sent["transport"],
                                   "recipients": sent["recipients"], "email_count": digest["email_count"],
                                   "since": digest["since"], "until": digest["until"]})


def _failed(conn, now, kind: str, message: str) -> None:
    log.warning("digest (%s) not sent: %s", kind, message)
    settings.put(conn, LAST_ERROR, {"at": iso(now), "kind": kind, "message": message})
