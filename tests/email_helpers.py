"""Gmail capture in tests: a server wired to the fake Google, and mail to put in its mailboxes."""
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from fakes.google import READONLY
from helpers import eventually  # noqa: F401  (the email tests import it from here)

DOMAIN = "fund.example"


def mail(sender, to, subject="Fund II close", body="Looking forward to the close.", *, cc=(), message_id=None,
         in_reply_to=None, headers=None, html=None, attachments=(), date=None) -> bytes:
    """An RFC 822 message as bytes; `attachments` holds (filename, bytes, mime type)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to) if isinstance(to, (list, tuple)) else to
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Date"] = format_datetime(date or datetime.now(timezone.utc))
    message["Message-ID"] = message_id or make_msgid(domain="mail.example")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    for filename, data, mime in attachments:
        main, _, sub = mime.partition("/")
        message.add_attachment(data, maintype=main, subtype=sub, filename=filename)
    return message.as_bytes()


def capture_config(google, key_path, **overrides) -> dict:
    """make_server(...) settings that turn capture on against `google`."""
    return {"gmail_enabled": True, "gmail_workspace_domain": DOMAIN, "gmail_sa_key_path": key_path,
            "gmail_api_base_url": google.url, "gmail_token_uri": google.token_url, "gmail_retry_max": 2,
            **overrides}


def grant(google, *users):
    for user in users:
        google.grant(user, [READONLY])


def add_investor(client, name, *people) -> str:
    """A grid investor with contacts [(name, email)]; returns its row id."""
    state = client.get("/api/fundraising/state").json()["data"]
    key = {c["key"]: c["id"] for c in state["grid"]["columns"] if c["key"]}
    cells = {key["name"]: name, key["contacts"]: [{"name": n, "email": e} for n, e in people]}
    r = client.post("/api/fundraising/ops", {"base_version": state["version"], "ops": [{"op": "add_row", "cells": cells}]})
    assert r.status_code == 200, r.text
    return next(iter(r.json()["data"]["rows"]))  # the new row's id
