"""The digest's admin routes: its policy, its status, a preview, send now, and a test email.

The two routes that send (send-now, test-email) reach only active admins (crm.digest.mailer);
a failure answers 502 in the mailer's own words, which name the kind of failure and never a
credential, the SMTP server's reply text or the mail's content.
"""
from .. import audit, settings
from ..db import transaction
from ..errors import ApiError, Conflict, Invalid, Unavailable
from ..shapes import BOOLEAN, INTEGER, OBJECT, STRING, array, maybe, obj
from ..validation import Body, Field
from . import mailer, policy, runner

POLICY = policy.POLICY
TEST_EMAIL = Body(Field("to", "array", items="email", doc="active admins' addresses (default: yours)"))

POLICY_SHOWN = obj(enabled=BOOLEAN, send_hour=INTEGER, cold_after_days=INTEGER)
STATUS = obj(policy=POLICY_SHOWN, timezone=STRING, last_sent_at=maybe(STRING), last_sent_date=maybe(STRING),
             last_send=maybe(OBJECT), last_error=maybe(OBJECT), next_due_at=maybe(STRING), recipients=array(STRING),
             transports=array(STRING))
PREVIEW = obj(subject=STRING, body=STRING, html=STRING, has_activity=BOOLEAN, user_count=INTEGER, email_count=INTEGER,
              investor_count=INTEGER, cold_count=INTEGER, model_paragraphs=INTEGER, counted_paragraphs=INTEGER,
              since=STRING, until=STRING, recipients=array(STRING))
SENT = obj(transport=STRING, recipients=array(STRING), subject=STRING, email_count=INTEGER, investor_count=INTEGER)
TESTED = obj(transport=STRING, recipients=array(STRING))


def get_policy(req):
    """The daily digest's policy: whether it is sent, at which local hour, when an investor is going cold."""
    return policy.read(req.db, req.config)


def update_policy(req):
    """Change the digest's policy (the scheduler reads it every minute: no restart)."""
    data = req.validated(partial=True)
    with transaction(req.db):
        before = policy.read(req.db, req.config)
        after = {**before, **data}
        settings.put(req.db, policy.KEY, after, req.user["id"])
        audit.record(req.db, req, "setting", policy.KEY, "update", audit.diff(before, after))
    return after


def status(req):
    """When the digest was last sent, the last error, when it is next due, to whom and by what."""
    return runner.status(req.db, req.config, req.app.email)


def preview(req):
    """The digest the scheduler would send now, rendered (plain text and HTML) and not sent."""
    return runner.preview(req.db, req.config)


def send_now(req):
    """Send the real digest of the last 24 hours to the admins now (the evening's is still sent)."""
    _can_send(req)
    try:
        sent = runner.send_now(req.db, req.config, req.app.email)
    except runner.NoRecipients as exc:
        raise Conflict(exc.message) from None
    except mailer.MailError as exc:
        raise _not_sent(exc) from None
    with transaction(req.db):
        audit.record(req.db, req, "digest", "send_now", "send", {"recipients": sent["recipients"],
                                                                 "transport": sent["transport"]})
    return sent


def test_email(req):
    """Send a short test message to active admins (default: you), to check how mail leaves the server."""
    recipients = req.validated(partial=True).get("to") or [req.user["email"]]
    if recipients == [None]:
        raise Invalid({"to": "you have no email address: name an active admin's"})
    try:
        mailer.check_recipients(req.db, recipients)
    except mailer.MailError as exc:  # RecipientRefused: someone is not an active admin
        raise Invalid({"to": exc.message}) from None
    _can_send(req)
    try:
        sent = runner.send_test(req.db, req.config, req.app.email, recipients)
    except mailer.MailError as exc:
        raise _not_sent(exc) from None
    with transaction(req.db):
        audit.record(req.db, req, "digest", "test_email", "send", sent)
    return sent


def _can_send(req) -> None:
    if not mailer.transports(req.config, req.app.email):
        raise Unavailable("no way to send mail: turn Gmail capture on (with the gmail.compose grant) or set SMTP_HOST")


def _not_sent(exc: mailer.MailError) -> ApiError:
    return ApiError(f"not sent: {exc.message}", status=502)
