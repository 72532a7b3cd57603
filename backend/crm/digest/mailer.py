"""The one code path in the server that sends mail: internal mail to the fund's active admins.

Agents draft; humans send (ARCHITECTURE.md, hard rule 1). Mail to an LP or a prospect is only ever
a Gmail draft a person sends (crm.email.drafts); what the server sends itself is internal, and
this module makes sure of it: before anything is sent, every recipient must be the address of an
active admin in the users table, else `RecipientRefused` names the refused addresses and nothing
is sent to anyone. The message's headers are written here from the checked addresses alone (no
Cc, no Bcc, no caller's header), so Gmail and the SMTP server see no one else.

Transport: Gmail (users.messages.send with the gmail.compose scope, impersonating
CRM_DIGEST_SENDER or else the first active admin) when capture is on; when Google refuses that
delegation, SMTP (SMTP_HOST ..., STARTTLS or TLS with the certificate verified, or `none` for a
relay on a trusted network, never with a password) if it is configured.
Any other Gmail failure is not retried by SMTP: the mail may have gone, and twice is worse than
late. Failures are logged and raised as one `MailError` in plain words, never with a password,
a token or the mail's text.
"""
import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid, parseaddr

from ..auth import users
from ..clock import utcnow
from ..email import store as email_store
from ..email.errors import GmailError, PermissionDenied

log = logging.getLogger("crm.digest")

# One bare address: a display name, a list or a header cannot ride along in a recipient.
ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+$")
SMTP_TIMEOUT = 30  # seconds


class MailError(Exception):
    """Mail was not sent; `.message` says why in plain words (no credential, no mail text).
    `.maybe_sent`: the transport failed mid-call, so the mail may have gone all the same."""

    def __init__(self, message: str, maybe_sent: bool = False):
        super().__init__(message)
        self.message, self.maybe_sent = message, maybe_sent


class RecipientRefused(MailError):
    """Some recipient is not an active admin: nothing was sent. `.refused` lists them."""

    def __init__(self, refused: list):
        super().__init__("refused: not the address of an active admin: " + ", ".join(refused))
        self.refused = refused


def send_internal(conn, config, recipients, subject: str, text: str, html: str | None = None, *, gmail=None) -> str:
    """Send one message to `recipients` (bare addresses, each an active admin's); "gmail" or
    "smtp", the transport that took it. `gmail` is the running capture (crm.email.capture.Capture,
    the App's `email`), or None when capture is off. RecipientRefused or MailError otherwise."""
    to = check_recipients(conn, recipients)
    if "\r" in subject or "\n" in subject:
        raise MailError("the subject must be one line")
    if gmail is not None:
        sender = config.digest_sender or default_sender(conn)
        try:
            client = gmail.client_for(_mailbox(conn, sender))
            client.send_message(_message(sender, to, subject, text, html).as_bytes())
            return "gmail"
        except PermissionDenied as exc:
            log.warning("internal mail: Gmail cannot send as %s (%s)", sender, exc.message)
            if not config.smtp_host:
                raise MailError(f"Gmail cannot send as {sender} ({exc.message}) and SMTP_HOST is not set") from None
        except GmailError as exc:
            log.warning("internal mail: Gmail did not send it (%s)", exc.message)
            # A refusal (4xx) sent nothing; without an answer, or with a server error, it may have gone.
            maybe_sent = exc.status is None or exc.status >= 500
            raise MailError(f"Gmail did not send the mail: {exc.message}", maybe_sent) from None
    if not config.smtp_host:
        raise MailError("no way to send mail: Gmail capture is off and SMTP_HOST is not set")
    _send_smtp(config, to, _message(config.smtp_from, to, subject, text, html))
    return "smtp"


def transports(config, gmail) -> list:
    """The transports this server would try, in order: "gmail" (capture on), "smtp" (SMTP_HOST set)."""
    return [name for name, ready in (("gmail", gmail is not None), ("smtp", bool(config.smtp_host))) if ready]


def check_recipients(conn, recipients) -> list:
    """The recipients, lower-cased and without repeats, if every one is an active admin's address;
    RecipientRefused naming the others."""
    if isinstance(recipients, str):
        recipients = [recipients]
    wanted = list(dict.fromkeys(str(r).strip().lower() for r in recipients))
    if not wanted:
        raise MailError("no recipients")
    admins = set(users.active_admin_addresses(conn))
    refused = [r for r in wanted if not ADDRESS.match(r) or r not in admins]
    if refused:
        log.warning("internal mail refused for %d recipient(s) not active admins", len(refused))
        raise RecipientRefused(refused)
    return wanted


def default_sender(conn) -> str:
    """The first active admin's address: whom Gmail sends as when CRM_DIGEST_SENDER is unset."""
    found = users.active_admin_addresses(conn)
    if not found:
        raise MailError("no active admin has an email address to send as")
    return found[0]


def _mailbox(conn, sender: str) -> dict:
    """The sender as GmailClient's account: an enrolled mailbox shares its quota bucket."""
    account = email_store.account_by_email(conn, sender)
    return {"id": account["id"] if account else f"sender:{sender}", "email": sender}


def _message(sender: str, to: list, subject: str, text: str, html) -> EmailMessage:
    message = EmailMessage(policy=default_policy)
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, and capture skips it as bulk
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def _send_smtp(config, to: list, message: EmailMessage) -> None:
    where = f"{config.smtp_host}:{config.smtp_port}"
    context = ssl.create_default_context()
    try:
        if config.smtp_security == "tls":
            server = smtplib.SMTP_SSL(config.smtp_host, config.smtp_port, timeout=SMTP_TIMEOUT, context=context)
        else:
            server = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=SMTP_TIMEOUT)
        with server:
            if config.smtp_security == "starttls":
                server.starttls(context=context)
            if config.smtp_user:
                server.login(config.smtp_user, config.smtp_pass or "")
            refused = server.send_message(message, from_addr=parseaddr(config.smtp_from)[1], to_addrs=to)
    except (smtplib.SMTPException, OSError) as exc:
        problem = _smtp_words(exc)
        log.warning("internal mail via SMTP %s failed: %s", where, problem)
        raise MailError(f"the SMTP server {where} did not take the mail: {problem}") from None
    if refused:
        log.warning("internal mail via SMTP %s: %d recipient(s) refused", where, len(refused))
        raise MailError(f"the SMTP server {where} refused {', '.join(sorted(refused))}")


def _smtp_words(exc: Exception) -> str:
    """What went wrong, by kind and SMTP code only: a server's reply text may echo a credential."""
    code = getattr(exc, "smtp_code", None)
    suffix = f" ({code})" if code else ""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "it refused the sign-in (SMTP_USER, SMTP_PASS)" + suffix
    if isinstance(exc, smtplib.SMTPNotSupportedError):  # smtplib's own words name the extension
        return "it does not offer STARTTLS (SMTP_SECURITY)" if "STARTTLS" in str(exc) else "it does not offer a sign-in"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "it refused every recipient"
    if isinstance(exc, smtplib.SMTPException):
        return f"{type(exc).__name__}{suffix}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or type(exc).__name__}): is its certificate trusted and SMTP_SECURITY right?"
    return f"could not reach it ({type(exc).__name__})"
