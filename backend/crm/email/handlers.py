"""The /api/email/* routes: status, mailboxes, enrollment, sync, re-match, threads, the
blocklist and OAuth consent. With capture off (CRM_GMAIL_INTEGRATION_ENABLED unset) every one
answers 503 saying so, and no thread starts."""
import hashlib
import re
import secrets

from .. import audit
from ..auth import users
from ..clock import iso_in
from ..db import transaction
from ..errors import BadRequest, Conflict, Forbidden, Invalid, NotFound, Unavailable
from ..http.responses import Response, json_response
from ..results import Created, Page
from ..shapes import BOOLEAN, INTEGER, NUMBER, OBJECT, STRING, array, maybe, obj
from ..validation import Body, Field, page_params, query_flag, query_int
from . import draft_store, drafts, proposals, queries, store
from .client import GmailClient
from .crypto import seal
from .errors import GmailError
from .html import sanitize
from .quota import TokenBucket

ENROLL = Body(Field("user_id", max_length=64, doc="the user whose mailbox to capture"),
              Field("email", "email", max_length=254, doc="or their address"))
RUN_NOW = Body(Field("account_id", max_length=64, doc="one mailbox (default: every active one)"))
BLOCK = Body(Field("pattern", required=True, max_length=254, doc="an address (name@example.com) or a domain (@example.com)"),
             Field("scope", "enum", choices=("all", "mine"), doc="all (admins: every mailbox) or mine (default: your mailbox)"),
             Field("note", max_length=500, nullable=True))
PATTERN = re.compile(r"^(?:[^@\s]+)?@[a-z0-9-]+(?:\.[a-z0-9-]+)+$")
OAUTH_STATE_MINUTES = 15

ACCOUNT = obj(id=STRING, email=STRING, user_id=STRING, status=STRING, auth_method=STRING,
              last_success_at=maybe(STRING), last_error=maybe(STRING))
STATUS = obj(enabled=BOOLEAN, auth_method=STRING, accounts=array(OBJECT))
ENROLLED = obj(enrolled=array(ACCOUNT), already=array(STRING), skipped=array(OBJECT))
STARTED = obj(started=array(STRING))
REMATCHED = obj(checked=INTEGER, matched=INTEGER, newly_matched=INTEGER, unmatched=INTEGER, bodies_fetched=INTEGER)
THREAD = obj(id=STRING, subject=STRING, first_at=STRING, last_at=STRING, message_count=INTEGER, investor_ids=array(STRING))
THREAD_DETAIL = obj(id=STRING, subject=STRING, messages=array(OBJECT))
BLOCK_ENTRY = obj(id=STRING, pattern=STRING, scope=STRING, note=maybe(STRING), created_at=STRING)
REMOVED = obj(id=STRING, removed=BOOLEAN, bodies_removed=NUMBER)
CONSENT = obj(url=STRING)


def capture(req):
    """The running capture, or a 503 that says how to turn it on."""
    running = req.app.email
    if running is None:
        raise Unavailable("Gmail capture is off: set CRM_GMAIL_INTEGRATION_ENABLED=1 and configure it (docs/EMAIL.md)")
    return running


# -- status and mailboxes --------------------------------------------------------------------------

def status(req):
    """Per mailbox: last success, last error in plain words, what is still to do. Members see their own."""
    running = capture(req)
    accounts = [a for a in store.accounts(req.db) if req.user["role"] == "admin" or a["user_id"] == req.user["id"]]
    return {"enabled": True, "auth_method": running.config.gmail_auth_method,
            "accounts": [queries.mailbox_status(req.db, a) for a in accounts]}


def list_accounts(req):
    """The mailboxes captured (admins see all, members their own)."""
    capture(req)
    return [_account(a) for a in store.accounts(req.db) if req.user["role"] == "admin" or a["user_id"] == req.user["id"]]


def _account(account: dict) -> dict:
    return {k: account[k] for k in ("id", "email", "user_id", "status", "auth_method", "last_run_at", "last_success_at",
                                    "last_error", "backfill_done_at", "created_at")}


def enroll_all(req):
    """Capture every active user whose address is in CRM_GMAIL_WORKSPACE_DOMAIN."""
    running = _delegated(req)
    domain = running.settings.own_domain
    enrolled, already = [], []
    with transaction(req.db):
        for user in users.active_in_domain(req.db, domain):
            if store.account_by_email(req.db, user["email"]):
                already.append(user["email"])
                continue
            enrolled.append(_enroll(req, user))
    skipped = [{"user_id": u["id"], "username": u["username"], "reason": f"no address at {domain}"}
               for u in users.list_page(req.db, 10_000, 0)[0]
               if u["is_active"] and u["role"] != "bot" and not (u["email"] or "").lower().endswith("@" + domain)]
    return {"enrolled": enrolled, "already": already, "skipped": skipped}


def enroll(req):
    """Capture one user's mailbox (by user id or address)."""
    running = _delegated(req)
    data = req.validated()
    if not data.get("user_id") and not data.get("email"):
        raise Invalid({"user_id": "give user_id or email"})
    user = users.get(req.db, data["user_id"]) if data.get("user_id") else users.by_login(req.db, data["email"])
    if not user or not user["is_active"]:
        raise NotFound("no active user with that id or address")
    if not (user["email"] or "").lower().endswith("@" + running.settings.own_domain):
        raise Invalid({"email": f"{user['username']}'s address is not at {running.settings.own_domain}"})
    with transaction(req.db):
        if store.account_by_email(req.db, user["email"]):
            raise Conflict(f"{user['email']} is already captured")
        return Created(_enroll(req, user))


def _delegated(req):
    running = capture(req)
    if running.config.gmail_auth_method != "dwd":
        raise Conflict("in OAuth mode each user connects their own mailbox (GET /api/email/oauth/start)")
    return running


def _enroll(req, user) -> dict:
    account = store.add_account(req.db, user["id"], user["email"], "dwd", req.user["id"])
    audit.record(req.db, req, "email_account", account["id"], "enroll", {"email": [None, account["email"]]})
    return _account(account)


# -- running ---------------------------------------------------------------------------------------

def run_now(req):
    """Sync now, in the background (one mailbox or all); a mailbox needing attention is tried again."""
    running = capture(req)
    data = req.validated() if req.body else {}
    if data.get("account_id"):
        if not store.account(req.db, data["account_id"]):
            raise NotFound("no mailbox with that id")
        ids = [data["account_id"]]
    else:
        ids = [a["id"] for a in store.accounts(req.db) if a["is_active"] and a["status"] != "paused"]
    with transaction(req.db):
        audit.record(req.db, req, "email_sync", None, "run_now", {"accounts": [None, ids]})
    running.run_now(ids)
    return json_response({"data": {"started": ids}}, status=202)


def rematch(req):
    """Match all stored email again and fetch the bodies of what matches now."""
    counts = capture(req).rematch(req.db)
    with transaction(req.db):
        audit.record(req.db, req, "email_sync", None, "rematch", {k: [None, v] for k, v in counts.items()})
    return counts


# -- threads ---------------------------------------------------------------------------------------

def list_threads(req):
    """Matched threads, newest first; `investor_id` keeps those touching one grid investor, `contact_id` one classic contact."""
    capture(req)
    limit, offset = page_params(req.query)
    found, total = queries.threads_page(req.db, req.query.get("investor_id"), limit, offset, req.query.get("contact_id"))
    return Page(found, total, limit, offset)


def get_thread(req):
    """A thread's messages (bodies of matched mail, sanitised HTML for a sandboxed frame), links, attachments."""
    capture(req)
    found = queries.thread(req.db, req.params["id"])
    if not found:
        raise NotFound("no captured thread with that id")
    return found


# -- blocklist -------------------------------------------------------------------------------------

def list_blocklist(req):
    """Entries that apply to everyone, and your own."""
    capture(req)
    limit, offset = page_params(req.query)
    found, total = store.blocklist_entries(req.db, req.user["id"], limit, offset)
    return Page([_entry(e) for e in found], total, limit, offset)


def _entry(entry) -> dict:
    return {"id": entry["id"], "pattern": entry["pattern"], "scope": "all" if entry["owner_id"] is None else "mine",
            "note": entry["note"], "created_at": entry["created_at"]}


def add_block(req):
    """Never capture an address or a domain; what was captured of it already loses its body."""
    capture(req)
    data = req.validated()
    pattern = data["pattern"].lower()
    if not PATTERN.match(pattern):
        raise Invalid({"pattern": "must be an address (name@example.com) or a domain (@example.com)"})
    scope = data.get("scope", "mine")
    if scope == "all" and req.user["role"] != "admin":
        raise Forbidden("only an admin can block an address for every mailbox")
    owner = None if scope == "all" else req.user["id"]
    with transaction(req.db):
        if store.block_exists(req.db, pattern, owner):
            raise Conflict(f"{pattern} is already on the blocklist")
        entry = store.add_block(req.db, pattern, owner, data.get("note"), req.user["id"])
        removed = _exclude_captured(req, pattern, owner)
        audit.record(req.db, req, "email_blocklist", entry["id"], "create",
                     {"pattern": [None, pattern], "scope": [None, scope], "bodies_removed": [None, removed]})
    return Created({**_entry(entry), "bodies_removed": removed})


def _exclude_captured(req, pattern, owner) -> int:
    """Exclude captured email touching `pattern`: all of it, or (a member's own entry) what only
    their mailbox holds."""
    own_accounts = {a["id"] for a in store.accounts(req.db) if a["user_id"] == owner}
    removed = 0
    for email_id in store.emails_touching(req.db, pattern):
        if owner is not None and any(s["account_id"] not in own_accounts for s in store.sightings_of(req.db, email_id)):
            continue
        store.exclude(req.db, email_id, "blocklisted")
        removed += 1
    return removed


def remove_block(req):
    """Take an entry off the blocklist (mail from then on is captured again)."""
    capture(req)
    entry = store.block_entry(req.db, req.params["id"])
    if not entry or (entry["owner_id"] is not None and entry["owner_id"] != req.user["id"]):
        raise NotFound("no blocklist entry with that id")
    if entry["owner_id"] is None and req.user["role"] != "admin":
        raise Forbidden("only an admin can remove an entry that applies to every mailbox")
    with transaction(req.db):
        store.remove_block(req.db, entry["id"])
        audit.record(req.db, req, "email_blocklist", entry["id"], "delete", {"pattern": [entry["pattern"], None]})
    return {"id": entry["id"], "removed": True, "bodies_removed": 0}


# -- OAuth consent ---------------------------------------------------------------------------------

def oauth_start(req):
    """The Google consent page that connects your mailbox (OAuth mode): open `url` in the browser."""
    running = capture(req)
    if running.flow is None:
        raise Conflict("this server uses domain-wide delegation: an admin enrolls mailboxes (POST /api/email/accounts/enroll)")
    state = secrets.token_urlsafe(32)
    with transaction(req.db):
        store.add_oauth_state(req.db, _hash(state), req.user["id"], iso_in(minutes=OAUTH_STATE_MINUTES))
    return {"url": running.flow.consent_url(state, login_hint=req.user.get("email"))}


def oauth_callback(req):
    """Where Google sends the browser back: the single-use state names the user; their refresh token
    is kept sealed (AES-256-GCM) and the mailbox is enrolled. Redirects to the app."""
    running = capture(req)
    if running.flow is None:
        raise Conflict("this server uses domain-wide delegation, not OAuth")
    if req.query.get("error"):
        raise BadRequest(f"Google did not connect the mailbox: {req.query['error'][:80]}")
    state, code = req.query.get("state"), req.query.get("code")
    if not state or not code:
        raise BadRequest("the consent answer lacks its state or code: start again from Settings")
    with transaction(req.db):
        pending = store.use_oauth_state(req.db, _hash(state))
    if not pending:
        raise BadRequest("this consent link was already used or has expired: start again from Settings")
    try:
        granted = running.flow.exchange(code)
        address = _mailbox_address(running, granted["access_token"])
    except GmailError as exc:
        raise BadRequest(f"Google refused the consent: {exc.message}") from None
    if not granted.get("refresh_token"):
        raise BadRequest("Google gave no refresh token: remove the app's access in your Google account and start again")
    user = users.get(req.db, pending["user_id"])
    with transaction(req.db):
        account = store.account_by_email(req.db, address) or store.add_account(req.db, user["id"], address, "oauth", user["id"])
        if account["user_id"] != user["id"]:
            raise Conflict(f"{address} is already captured for another user")
        store.update_account(req.db, account["id"], auth_method="oauth", status="active", last_error=None,
                             refresh_token_sealed=seal(running.secret_key, granted["refresh_token"]))
        audit.record(req.db, req, "email_account", account["id"], "connect", {"email": [None, address]},
                     actor={"id": user["id"], "kind": "user"})
    return Response(302, b"", "text/plain", {"Location": "/settings?gmail=connected"})


def _mailbox_address(running, access_token) -> str:
    client = GmailClient(running.config.gmail_api_base_url, lambda scope, fresh=False: access_token,
                         TokenBucket(running.config.gmail_rate_units_sec), running.session, retry_max=2)
    return client.get_profile()["emailAddress"].lower()


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


# -- the activity panel (activity: queries.py) ------------------------------------------------------

DIRECTIONS = ("inbound", "outbound")
PARTY = obj(name=maybe(STRING), email=maybe(STRING))
ACTIVITY = obj(**{
    "id": STRING, "subject": STRING, "from": PARTY, "to": array(PARTY), "cc": array(PARTY), "sent_at": STRING,
    "snippet": maybe(STRING), "direction": STRING, "mailboxes": array(STRING),
    "investors": array(obj(id=STRING, name=maybe(STRING))), "thread_id": STRING, "has_body": BOOLEAN})
ACTIVITY_DETAIL = obj(**ACTIVITY["properties"], body_text=maybe(STRING), body_html=maybe(STRING))
ACTIVITY_INVESTOR = obj(id=STRING, name=maybe(STRING), email_count=INTEGER)


def activity(req):
    """Captured email tied to known investors, newest first, over every mailbox: the admin's audit surface."""
    capture(req)
    limit, offset = page_params(req.query)
    found, total = queries.activity_page(req.db, _activity_filters(req.query), limit, offset)
    return Page(found, total, limit, offset)


def _activity_filters(query: dict) -> dict:
    """The panel's filters from the query string; a bad direction or date is a 422 naming it."""
    filters = {name: (query.get(name) or "").strip() or None for name in ("investor_id", "account_id", "q")}
    errors = {}
    filters["direction"] = query.get("direction") or None
    if filters["direction"] not in (None, *DIRECTIONS):
        errors["direction"] = "must be inbound or outbound"
    for name in ("since", "until"):
        try:
            filters[name] = queries.sent_at_bound(query[name]) if query.get(name) else None
        except ValueError:
            errors[name] = "must be an ISO-8601 date or date-time"
    if errors:
        raise Invalid(errors)
    return filters


def activity_investors(req):
    """The panel's investor picker: investors with captured email, and how many; the graveyard is left out."""
    capture(req)
    return queries.activity_investors(req.db)


def activity_detail(req):
    """One email of the panel: from, to, cc, date, subject, text body, and the HTML body for a sandboxed frame.

    The HTML was sanitised when it was captured and is sanitised again here, with today's allow-list."""
    capture(req)
    found = queries.activity_email(req.db, req.params["id"])
    if not found:
        raise NotFound("the activity panel lists no email with that id")
    return {**found, "body_html": sanitize(found["body_html"]) if found["body_html"] else None}


# -- proposed notes and the Matrix review bridge (proposals.py) --------------------------------------

def _text_for_edit(cleaned, errors):
    if cleaned.get("action", cleaned.get("answer")) == "edit":
        if not cleaned.get("text"):
            errors["text"] = "is required to edit: the note as it should read"
    elif cleaned.get("text"):
        errors["text"] = "is only for an edit"


NOTE_TEXT = Field("text", max_length=2000, doc="edit only: the note as it should read (one line)")
ANSWERS = {"yes": "approve", "no": "reject", "edit": "edit"}  # an answer in the review room, as a decision
DECIDE = Body(Field("action", "enum", required=True, choices=proposals.ACTIONS,
                    doc="approve (the draft), edit (approve `text` instead) or reject"), NOTE_TEXT, extra=_text_for_edit)
INTAKE_DECIDE = Body(Field("answer", "enum", required=True, choices=tuple(ANSWERS),
                           doc="what was answered in the review room: yes (approve), no (reject) or edit (approve `text`)"),
                     NOTE_TEXT, Field("matrix_user", max_length=255, nullable=True,
                                      doc="the Matrix id of who answered, e.g. @maria:fund.example"),
                     extra=_text_for_edit)
POSTED = Body(Field("room_id", required=True, max_length=255, doc="the review room"),
              Field("event_id", required=True, max_length=255, doc="the card's event"))
PROPOSAL_STATUSES = ("proposed", "approved", "rejected", "all")

SENDER = obj(name=maybe(STRING), email=maybe(STRING))
PROPOSAL = obj(
    id=STRING, status=STRING, source=STRING, thread_id=maybe(STRING), investor=obj(id=STRING, name=maybe(STRING)),
    email=maybe(obj(id=STRING, subject=STRING, to=array(OBJECT), cc=array(OBJECT), sent_at=STRING, direction=STRING,
                    **{"from": SENDER})),
    proposed_by=maybe(obj(id=STRING, username=maybe(STRING))),
    snippet=maybe(STRING), draft=STRING, drafted_by=STRING, draft_note=maybe(STRING), email_count=INTEGER,
    final_text=maybe(STRING), decided_by=maybe(obj(id=STRING, username=maybe(STRING))), decided_at=maybe(STRING),
    decided_via=maybe(STRING), matrix_user=maybe(STRING),
    matrix=maybe(obj(room_id=STRING, event_id=STRING, posted_at=STRING, closed_at=maybe(STRING))),
    created_at=STRING, updated_at=STRING)
DECIDED = obj(proposal=PROPOSAL, version=maybe(INTEGER), communication=maybe(OBJECT), communication_reason=maybe(STRING))
WORK_LISTS = obj(to_post=array(PROPOSAL), open=array(PROPOSAL), to_close=array(PROPOSAL))


def _one_investor(cleaned, errors):
    if bool(cleaned.get("investor_id")) == bool(cleaned.get("entity_id")):
        errors["investor_id"] = "give investor_id or entity_id (one of the two)"


PROPOSE = Body(Field("investor_id", max_length=64, doc="the grid investor the note is for"),
               Field("entity_id", max_length=64, doc="or a canonical entity: its one live grid investor"),
               Field("draft", required=True, max_length=2000, doc="the note, one line (dated today unless it starts with a date)"),
               extra=_one_investor)


def create_proposal(req):
    """Propose a note for a grid investor (an agent's, through a bot): it waits in the review queue like one from email."""
    capture(req)
    data = req.validated()
    with transaction(req.db):
        investor_id = data.get("investor_id") or proposals.investor_of_entity(req.db, data["entity_id"])
        return Created(proposals.propose_agent(req, investor_id, data["draft"]))


def list_proposals(req):
    """Proposed notes (from captured email, or an agent's), newest change first; `status` proposed (default), approved, rejected or all."""
    capture(req)
    status = req.query.get("status") or "proposed"
    if status not in PROPOSAL_STATUSES:
        raise Invalid({"status": "must be one of: " + ", ".join(PROPOSAL_STATUSES)})
    limit, offset = page_params(req.query)
    found, total = proposals.page(req.db, None if status == "all" else status, req.query.get("investor_id"), limit, offset)
    return Page(found, total, limit, offset)


def decide_proposal(req):
    """Approve a proposed note (into the investor's Notes, plus a communication), edit it and approve, or reject it."""
    capture(req)
    data = req.validated()
    return _decided(req, data["action"], data.get("text"), "web")


def _decided(req, action, text, via, matrix_user=None) -> dict:
    with transaction(req.db):
        result = proposals.decide(req, req.params["id"], action, text, via, matrix_user)
    if result["version"] is not None:
        req.app.presence.notify()  # the grid's live feed: everyone with it open sees the note
    return result


def intake_work(req):
    """The intake bot's work lists for the Matrix review room: cards to post, cards open, cards to close."""
    capture(req)
    return proposals.work_lists(req.db, query_int(req.query, "limit", 100, 1, 1000))


def intake_posted(req):
    """The bot posted a proposal's card in the review room (its room and event ids)."""
    capture(req)
    data = req.validated()
    with transaction(req.db):
        return proposals.posted(req, req.params["id"], data["room_id"], data["event_id"])


def intake_decide(req):
    """Relay the answer given in the review room (yes, no, or an edited note), decided through Matrix."""
    capture(req)
    data = req.validated()
    return _decided(req, ANSWERS[data["answer"]], data.get("text"), "matrix", data.get("matrix_user") or None)


def intake_closed(req):
    """The bot closed the card of a decided proposal: it leaves `to_close`."""
    capture(req)
    with transaction(req.db):
        return proposals.closed(req, req.params["id"])


# -- in-thread drafts (drafts.py) ---------------------------------------------------------------------

def _one_target(cleaned, errors):
    """A draft answers one email, or the newest message of one thread."""
    if bool(cleaned.get("email_id")) == bool(cleaned.get("thread_id")):
        errors["email_id"] = "give email_id or thread_id (one of the two)"


DRAFT_BODY = Body(Field("email_id", max_length=64, doc="the captured email to reply to"),
                  Field("thread_id", max_length=64, doc="or a captured thread: the reply answers its newest message"),
                  Field("body", "text", required=True, max_length=drafts.MAX_BODY_CHARS, doc="the reply's text"),
                  extra=_one_target)
PERSON = obj(name=STRING, email=STRING)
DRAFT = obj(id=STRING, user_id=STRING, account_id=STRING, mailbox=STRING, email_id=STRING, thread_id=STRING,
            gmail_draft_id=STRING, gmail_message_id=maybe(STRING), gmail_thread_id=STRING, subject=STRING,
            to=array(PERSON), cc=array(PERSON), open_url=STRING, created_at=STRING)


def create_draft(req):
    """Draft a reply-all in your own Gmail, in the thread it answers; never sent: `open_url` opens it in Gmail."""
    running = capture(req)
    data = req.validated()
    return Created(drafts.create(req.db, running, req.user, data["body"], email_id=data.get("email_id"),
                                 thread_id=data.get("thread_id"), req=req))


def list_drafts(req):
    """Drafts made through the CRM, newest first: yours (admins: `all=1` for everyone's), each with its Gmail link."""
    capture(req)
    everyone = query_flag(req.query, "all")
    if everyone and req.user["role"] != "admin":
        raise Forbidden("only an admin can list everyone's drafts")
    limit, offset = page_params(req.query)
    found, total = draft_store.page(req.db, None if everyone else req.user["id"], limit, offset)
    return Page([drafts.shown(d) for d in found], total, limit, offset)
