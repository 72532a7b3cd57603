"""In-thread Gmail drafts (Tier B): a reply-all draft in the requesting user's own mailbox, in the
thread it answers, for that person to read, change and send from Gmail. The CRM never sends it
(agents draft; humans send): it calls drafts.create, never messages.send.

The message replied to is the email asked for, or a thread's newest live message. The draft
goes into a Gmail thread the user's own mailbox holds (the Gmail thread id of their own
sighting), threaded as Gmail and other mail programs expect: `In-Reply-To` is that message's
Message-ID, `References` its references and then its id, the subject "Re: " unless it already
starts so. Reply-all: everyone on From, To and Cc of that message except our own mailboxes and
the user, the investor's people (the addresses that matched) first in To, the rest as they were.
"""
import json
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy
from urllib.parse import quote

from .. import audit, interactions
from ..db import transaction
from ..errors import ApiError, Conflict, Forbidden, NotFound, Unavailable
from . import draft_store, store
from .errors import GmailError, NotFound as GmailNotFound, PermissionDenied, Transient

MAX_BODY_CHARS = 100_000
GMAIL_DRAFTS = "https://mail.google.com/mail/u/{mailbox}/#drafts"
_RE = re.compile(r"^re\s*:", re.I)


@dataclass(frozen=True)
class Reply:
    """What a draft will be: whose mailbox, in which Gmail thread, answering which email, to whom."""
    account: dict
    gmail_thread_id: str
    email: dict
    sender: Address
    to: list  # [{"name", "email"}]
    cc: list
    subject: str


def create(conn, capture, user: dict, body: str, *, email_id=None, thread_id=None, req=None) -> dict:
    """Make the draft in `user`'s mailbox and record it (email_drafts and the audit log); the
    record as `shown`. The Gmail call happens before the transaction opens."""
    reply = plan(conn, user, email_id=email_id, thread_id=thread_id)
    try:
        made = capture.client_for(reply.account).create_draft(message(reply, body).as_bytes(), reply.gmail_thread_id)
    except GmailError as exc:
        raise refusal(exc) from None
    gmail_message = made.get("message") or {}
    with transaction(conn):
        draft_id = draft_store.add(
            conn, user_id=user["id"], account_id=reply.account["id"], email_id=reply.email["id"],
            gmail_draft_id=str(made.get("id") or ""), gmail_message_id=gmail_message.get("id"),
            gmail_thread_id=gmail_message.get("threadId") or reply.gmail_thread_id, subject=reply.subject,
            to=reply.to, cc=reply.cc)
        audit.record(conn, req, "email_draft", draft_id, "create", {
            "email_id": [None, reply.email["id"]], "account_id": [None, reply.account["id"]],
            "to": [None, [p["email"] for p in reply.to]], "cc": [None, [p["email"] for p in reply.cc]],
            "subject": [None, reply.subject]},
            refs=[interactions.ref("email_address", p["email"].lower()) for p in reply.to + reply.cc if p.get("email")])
    return shown(draft_store.get(conn, draft_id))


def plan(conn, user: dict, *, email_id=None, thread_id=None) -> Reply:
    """The draft for a reply to `email_id`, or to the newest live message of `thread_id`:
    NotFound for an email or thread the API does not show, Conflict when the user has no
    mailbox, their mailbox does not hold the thread, or no one is left to write to."""
    if email_id:
        email = draft_store.live_email(conn, email_id)
        if email is None:
            raise NotFound("no captured email with that id")
    else:
        email = draft_store.newest_live_email(conn, thread_id)
        if email is None:
            raise NotFound("no captured thread with that id")
    accounts = store.accounts(conn)
    mine = {a["id"]: a for a in accounts if a["user_id"] == user["id"]}
    if not mine:
        raise Conflict("you have no captured mailbox to put a draft in: an admin enrolls it "
                       "(POST /api/email/accounts/enroll), or connect it (GET /api/email/oauth/start)")
    held = draft_store.held_thread(conn, mine, email["id"], email["thread_id"])
    if held is None:
        raise Conflict("your mailbox does not hold this thread: a draft can only go into a thread your Gmail has")
    account = mine[held[0]]
    ours = {a["email"].lower() for a in accounts} | {(user.get("email") or "").lower()}
    to, cc = reply_all(email, ours, store.links_of(conn, email["id"]))
    if not to:
        raise Conflict("everyone on that message is one of our own mailboxes: there is no one to reply to")
    return Reply(account, held[1], email, Address(_one_line(user.get("display_name") or ""), addr_spec=account["email"]),
                 to, cc, reply_subject(email["subject"]))


def reply_all(email: dict, ours: set, links=()) -> tuple:
    """(to, cc) for a reply to everyone on `email` but the addresses in `ours` (lower case).

    To: the sender and the To recipients, Cc: the Cc recipients, each address once; the
    addresses that matched an investor or contact (`links`: exact matches, then same-domain
    ones) come first in To, wherever they were. Only Cc left: it becomes To."""
    rank = {}
    for link in links:
        address, kind = link["address"].lower(), 0 if link["match_kind"] == "exact_email" else 1
        rank[address] = min(kind, rank.get(address, kind))
    seen, to, cc = set(ours), [], []
    sender = [{"name": email["from_name"], "email": email["from_email"]}] if email["from_email"] else []
    for people, into in ((sender + json.loads(email["to_addrs"]), to), (json.loads(email["cc_addrs"]), cc)):
        for person in people:
            address = (person.get("email") or "").lower()
            if address and address not in seen:
                seen.add(address)
                into.append({"name": person.get("name") or "", "email": address})
    linked = sorted((p for p in to + cc if p["email"] in rank), key=lambda p: rank[p["email"]])
    to = linked + [p for p in to if p["email"] not in rank]
    cc = [p for p in cc if p["email"] not in rank]
    return (to, cc) if to else (cc, [])


def reply_subject(subject: str) -> str:
    """"Re: <subject>" on one line, unless it already starts with Re:."""
    subject = _one_line(subject or "")
    if _RE.match(subject):
        return subject
    return f"Re: {subject}" if subject else "Re:"


def message(reply: Reply, body: str) -> EmailMessage:
    """The RFC 5322 reply: From the user's mailbox, the recipients, the threading headers, the text."""
    answered = reply.email["message_id"]
    references = list(dict.fromkeys([*json.loads(reply.email["refs"] or "[]"), answered]))
    draft = EmailMessage(policy=default_policy)
    draft["From"] = reply.sender
    draft["To"] = [_address(p) for p in reply.to]
    if reply.cc:
        draft["Cc"] = [_address(p) for p in reply.cc]
    draft["Subject"] = reply.subject
    draft["In-Reply-To"] = f"<{answered}>"
    draft["References"] = " ".join(f"<{r}>" for r in references)
    draft.set_content(body)
    return draft


def open_url(mailbox: str, gmail_message_id) -> str:
    """The Gmail link that opens the draft in the mailbox it is in (the Drafts folder when its
    message id is unknown)."""
    url = GMAIL_DRAFTS.format(mailbox=quote(mailbox, safe="@"))
    return f"{url}?compose={quote(gmail_message_id, safe='')}" if gmail_message_id else url


def shown(draft: dict) -> dict:
    """A draft record as the API shows it."""
    return {"id": draft["id"], "user_id": draft["user_id"], "account_id": draft["account_id"],
            "mailbox": draft["mailbox"], "email_id": draft["email_id"], "thread_id": draft["thread_id"],
            "gmail_draft_id": draft["gmail_draft_id"], "gmail_message_id": draft["gmail_message_id"],
            "gmail_thread_id": draft["gmail_thread_id"], "subject": draft["subject"],
            "to": json.loads(draft["to_addrs"]), "cc": json.loads(draft["cc_addrs"]),
            "open_url": open_url(draft["mailbox"], draft["gmail_message_id"]), "created_at": draft["created_at"]}


def refusal(exc: GmailError) -> ApiError:
    """What Gmail's failure means to the person asking, in words (errors.py keeps tokens out)."""
    words = exc.message
    if isinstance(exc, PermissionDenied):
        return Forbidden(f"Gmail refused the draft: {words}")
    if isinstance(exc, GmailNotFound):
        return Conflict(f"Gmail does not have this thread in your mailbox any more ({words})")
    if isinstance(exc, Transient):
        return Unavailable(f"Gmail did not answer: {words}; try again")
    return ApiError(f"Gmail refused the draft: {words}", status=502)


def _address(person: dict) -> Address:
    local, _, domain = person["email"].rpartition("@")
    return Address(_one_line(person["name"]), local, domain)


def _one_line(text: str) -> str:
    return " ".join(text.split())
