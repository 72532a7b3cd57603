"""Proposed notes: captured email becomes CRM activity only through propose → approve.

- `propose` (inside the sync's page transaction) turns newly matched email into one open
  proposal per thread and investor, with a deterministic draft; only mail sent within
  CRM_EMAIL_PROPOSE_BACKFILL_DAYS is proposed, and a later email of the same thread updates the
  open proposal instead of adding one (a burst is one proposal).
- `draft_pending` (outside any transaction: it calls the local model) asks the model for a
  better line for every proposal still on its template; when the model is off, unreachable,
  slow or answers nonsense, the template stays and `draft_note` says why.
- `propose_agent` (inside the caller's transaction): an agent's note (the CRM MCP server's
  propose_note) joins the same queue, with no email behind it (`source: agent`).
- `decide` (inside the caller's transaction) approves, edits or rejects. Approving appends the
  note to the investor's Notes through a grid Batch (history and the live feed see it) and
  records a classic communication (an email's, or a note for an agent's proposal); nothing
  touches a record before that.
- The intake bot's work lists and card state for the Matrix review room (`work_lists`,
  `posted`, `closed`): the CRM never calls Matrix, the bot polls.
"""
import json
import logging
import re
from datetime import timedelta

from .. import audit, hooks, interactions, records
from ..auth import users
from ..clock import now_iso, parse_iso, utcnow
from ..communications.model import COMMUNICATION, utc_text
from ..contacts.model import CONTACT
from ..db import transaction
from ..errors import Conflict, Invalid, NotFound
from ..fundraising import ops
from ..fundraising import store as grid_store
from ..spark import SparkError, chat
from . import proposal_store, store

log = logging.getLogger("crm.email.proposals")

LINE_CHARS = 160      # the first meaningful line of a template draft, cut at a word
SUBJECT_CHARS = 160
SUMMARY_CHARS = 200   # the model's line
EXCERPT_CHARS = 4000  # of the email's text, sent to the model
DRAFT_BATCH = 50      # proposals put to the model per step; the rest wait for the next one

GREETING = re.compile(r"^(?:hi|hello|hey|hiya|dear|greetings|good (?:morning|afternoon|evening))\b", re.I)
SALUTATION = re.compile(r"^[\w.'-]+(?: [\w.'-]+){0,2},$")  # "Jane," "Team Acme,"
SIGN_OFF = re.compile(r"^(?:best(?: regards| wishes)?|kind regards|warm regards|regards|thanks(?: again| so much)?"
                      r"|thank you|many thanks|cheers|sincerely|all the best|talk soon|yours(?: truly)?)[\s,.!]*$", re.I)
# Where the new text ends: a signature, a phone's footer, a forwarded or Outlook-quoted message.
END_OF_TEXT = re.compile(r"^(?:--\s*|—|sent from my .*|-{2,}\s*(?:original message|forwarded message)\s*-{2,}|_{10,}"
                         r"|from:\s.+)$", re.I)
WROTE = re.compile(r"\bwrote:\s*$", re.I)

MODEL_PROMPT = ("You write one-line notes for a venture fund's CRM. Given an email, answer with one plain sentence of "
                "at most 25 words saying what it is about or asks for. No greeting, no names from signatures, no "
                "quotation marks, no markdown, nothing else.")


# -- the deterministic draft ---------------------------------------------------------------------

def meaningful_lines(text: str):
    """The lines of an email's own text: greetings, quoted text, "On ... wrote:" lines and blank
    lines skipped, ending at a sign-off or signature. Whitespace runs become one space."""
    lines = (text or "").splitlines()
    for index, raw in enumerate(lines):
        line = " ".join(raw.split())
        if not line or line.startswith(">") or line.lower().startswith("[image"):
            continue
        if END_OF_TEXT.match(line) or SIGN_OFF.match(line):
            return
        if WROTE.search(line) or (line.startswith("On ") and _wrote_follows(lines, index)):
            continue
        if GREETING.match(line):
            line = _after_greeting(line)
        if not line or SALUTATION.match(line):
            continue
        yield line


def _wrote_follows(lines: list, index: int) -> bool:
    """Whether the next non-blank line closes an "On <date>, <someone>" line split in two."""
    following = next((rest.strip() for rest in lines[index + 1:] if rest.strip()), "")
    return len(following) < 80 and WROTE.search(following) is not None


def _after_greeting(line: str) -> str:
    """ "Hi Jane, thanks for the update." → "thanks for the update."; "Hi Jane," → "". """
    head = re.match(r"^[^,:!—–]{0,40}[,:!—–]\s*", line)
    if head:
        return line[head.end():]
    return "" if len(line.split()) <= 4 else line


def own_text(text: str) -> str:
    """An email's own words, one meaningful line per line (quoted replies, greetings and the
    signature left out): what the search index embeds (crm.ingest.chunks)."""
    return "\n".join(meaningful_lines(text))


def first_meaningful_line(text: str) -> str:
    return cut(next(meaningful_lines(text), ""), LINE_CHARS)


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word with an ellipsis."""
    if len(text) <= limit:
        return text
    head = text[:limit - 1]
    return (head.rsplit(" ", 1)[0] if " " in head else head).rstrip(" ,;:—-") + "…"


def _facts(email: dict, investor_name: str, links: list, investor_id: str, ours: set) -> dict:
    """What a draft says of an email: its day, direction, the other party, the investor, the subject."""
    outbound = (email["from_email"] or "").lower() in ours
    if outbound:
        recipients = json.loads(email["to_addrs"]) + json.loads(email["cc_addrs"])
        linked = {link["address"].lower() for link in links if link["fundraising_investor_id"] == investor_id}
        party = next((r for r in recipients if (r.get("email") or "").lower() in linked), recipients[0] if recipients else {})
        who = party.get("name") or party.get("email") or "(no recipient)"
    else:
        who = email["from_name"] or email["from_email"] or "(unknown sender)"
    subject = cut(" ".join((email["subject"] or "").split()) or "(no subject)", SUBJECT_CHARS)
    return {"day": email["sent_at"][:10], "outbound": outbound, "who": who, "investor": investor_name or "(unnamed investor)",
            "subject": subject, "text": email["body_text"] or email["snippet"] or ""}


def _prefix(facts: dict) -> str:
    return f"{facts['day']} — Email {'to' if facts['outbound'] else 'from'} {facts['who']} ({facts['investor']}): {facts['subject']}"


def template_draft(facts: dict) -> str:
    """ "2026-06-15 — Email from Jane Doe (Acme LP): Re: Fund II close — first meaningful line" """
    line = first_meaningful_line(facts["text"])
    return f"{_prefix(facts)} — {line}" if line else _prefix(facts)


# -- propose ---------------------------------------------------------------------------------------

def propose(conn, email_ids, window_days: int, now=None) -> int:
    """Propose notes for emails that just became matched, inside the caller's transaction.

    Only matched mail sent within `window_days` of `now` is proposed, once per investor it is
    linked to. An open proposal of the same thread and investor absorbs the email (counted; when
    it is the newest, the proposal stands for it and is redrafted). Returns proposals made or updated."""
    since = (now or utcnow()) - timedelta(days=window_days)
    recent = [email for email in proposal_store.emails(conn, list(dict.fromkeys(email_ids)))
              if email["match_status"] == "matched" and parse_iso(email["sent_at"]) >= since]
    if not recent:
        return 0
    links_by_email = {email["id"]: store.links_of(conn, email["id"]) for email in recent}
    grid = investors(conn, [link["fundraising_investor_id"] for links in links_by_email.values() for link in links])
    ours = own_addresses(conn)
    changed = 0
    for email in recent:
        links = links_by_email[email["id"]]
        for investor_id in dict.fromkeys(link["fundraising_investor_id"] for link in links if link["fundraising_investor_id"]):
            if investor_id not in grid or proposal_store.stands_for(conn, email["id"], investor_id):
                continue
            draft = template_draft(_facts(email, grid[investor_id]["name"], links, investor_id, ours))
            current = proposal_store.open_for(conn, email["thread_id"], investor_id)
            if current is None:
                proposal_store.add(conn, email["id"], email["thread_id"], investor_id, draft)
            elif parse_iso(email["sent_at"]) >= parse_iso(current["sent_at"]):
                proposal_store.absorb(conn, current["id"], email["id"], draft)
            else:  # an older message of the burst (a backfill lists newest first)
                proposal_store.absorb(conn, current["id"])
            changed += 1
    return changed


DATED = re.compile(r"^\d{4}-\d{2}-\d{2}\b")


def propose_agent(req, investor_id: str, text: str) -> dict:
    """An agent's note for a grid investor, proposed by the bot it speaks through, inside the
    caller's transaction: the draft is `text` as one line, dated today (UTC) unless it starts
    with a date (the grid's Notes are read as dated entries). The proposal as `shown`."""
    investor = investors(req.db, [investor_id]).get(investor_id)
    if investor is None:
        raise Invalid({"investor_id": "no grid investor with that id"})
    if investor["archived"]:
        raise Conflict(f"{investor['name'] or 'this investor'} is archived in the grid: restore it before proposing a note")
    line = " ".join(text.split())
    draft = line if DATED.match(line) else f"{now_iso()[:10]} — {line}"
    proposal_id = proposal_store.add_agent(req.db, investor_id, draft, req.user["id"])
    audit.record(req.db, req, "email_proposal", proposal_id, "create", {
        "source": [None, "agent"], "investor_id": [None, investor_id], "draft": [None, draft]},
        refs=_investor_ref(investor_id))
    return shown(req.db, [proposal_store.get(req.db, proposal_id)])[0]


def investor_of_entity(conn, entity_id: str) -> str:
    """The one live grid investor a canonical entity stands for: linked directly, else through its
    grid contacts (crm.hooks.entity_sources). Invalid (naming entity_id) for none or several."""
    linked = hooks.entity_sources.ask(conn, entity_id, "fundraising_investors")
    if linked is None:
        raise Invalid({"entity_id": "no entity with that id"})
    if not linked:
        people = hooks.entity_sources.ask(conn, entity_id, "fundraising_contacts") or []
        linked = [held[2] for held in grid_store.grid_contact_names(conn, people).values()]
    found = investors(conn, linked)
    live = sorted(investor_id for investor_id, investor in found.items() if not investor["archived"])
    if len(live) != 1:
        raise Invalid({"entity_id": "no live grid investor is linked to this entity" if not live else
                       f"is linked to {len(live)} grid investors ({', '.join(live)}): give investor_id instead"})
    return live[0]


def _investor_ref(investor_id) -> list:
    return [interactions.ref("fundraising_investors", investor_id)]


def own_addresses(conn) -> set:
    """Our mailboxes' addresses: mail from one of them is outbound."""
    return {account["email"].lower() for account in store.accounts(conn)}


def investors(conn, investor_ids) -> dict:
    """{investor id: {"name", "archived", "people"}} from the grid (archived rows too); people are
    the row's grid contacts ({id, name, email, contact_id, ...}) in order."""
    ids = list(dict.fromkeys(i for i in investor_ids if i))
    if not ids:
        return {}
    columns = grid_store.load_columns(conn)
    name = next((c.id for c in columns if c.field_key == "name"), None)
    people = [c.id for c in columns if c.type == "contacts"]
    return {row["id"]: {"name": row["cells"].get(name), "archived": row["archived"],
                        "people": [p for c in people for p in row["cells"].get(c) or []]}
            for row in grid_store.load_rows(conn, columns, ids, include_archived=True)}


# -- drafting by the local model -------------------------------------------------------------------

def draft_pending(conn, config, session, limit: int = DRAFT_BATCH) -> dict:
    """Put proposals still on their untried template to the local model, outside any transaction.

    A usable answer becomes the draft (`drafted_by: model`). Otherwise the template stays and
    `draft_note` says why; when the model did not answer at all, the rest of this step are not
    asked (each would wait as long) and carry the same note. Returns {"model": n, "template": n}."""
    counts = {"model": 0, "template": 0}
    pending = proposal_store.awaiting_model(conn, limit)
    unreachable = None
    ours = own_addresses(conn) if pending else set()
    for proposal in pending:
        note = unreachable
        if note is None:
            try:
                draft = _model_draft(conn, config, session, proposal, ours)
            except SparkError as exc:
                note = f"{exc.message}: the deterministic draft is used"
                unreachable = note if exc.unreachable else None
            else:
                with transaction(conn):
                    written = proposal_store.set_draft(conn, proposal["id"], proposal["updated_at"], draft, "model", None)
                counts["model"] += written
                continue
        with transaction(conn):
            proposal_store.keep_template(conn, proposal["id"], proposal["updated_at"], note)
        counts["template"] += 1
    return counts


def _model_draft(conn, config, session, proposal: dict, ours: set) -> str:
    links = store.links_of(conn, proposal["email_id"])
    investor = investors(conn, [proposal["fundraising_investor_id"]]).get(proposal["fundraising_investor_id"]) or {}
    facts = _facts(proposal, investor.get("name"), links, proposal["fundraising_investor_id"], ours)
    excerpt = cut("\n".join(meaningful_lines(facts["text"])), EXCERPT_CHARS)
    party = f"Email {'to' if facts['outbound'] else 'from'}: {facts['who']}"
    question = f"Investor: {facts['investor']}\n{party}\nDate: {facts['day']}\nSubject: {facts['subject']}\n\n{excerpt}"
    answer = chat(config, session, [{"role": "system", "content": MODEL_PROMPT}, {"role": "user", "content": question}])
    return f"{_prefix(facts)} — {model_line(answer)}"


def model_line(answer: str) -> str:
    """The model's answer as one note line; SparkError when nothing usable is left of it."""
    line = next((" ".join(part.split()) for part in answer.splitlines() if part.strip()), "")
    line = re.sub(r"^(?:note|summary)\s*:\s*", "", line.strip(" \"'`*"), flags=re.I)
    if sum(ch.isalpha() for ch in line) < 3:
        raise SparkError("the local model's answer was not a usable note")
    return cut(line, SUMMARY_CHARS)


# -- deciding --------------------------------------------------------------------------------------

ACTIONS = ("approve", "reject", "edit")


def decide(req, proposal_id, action: str, text=None, via="web", matrix_user=None) -> dict:
    """Approve, edit (approve `text` instead of the draft) or reject, inside the caller's transaction.

    Approving appends the note to the investor's Notes as a grid op and records a classic
    communication (against the contact the email's link names, else the classic contact of one of
    the investor's grid contacts; with none, `communication` is null and `communication_reason`
    says so). A decided proposal is a Conflict naming who decided it, when and where."""
    conn = req.db
    proposal = proposal_store.get(conn, proposal_id)
    if proposal is None:
        raise NotFound("no proposed note with that id")
    if proposal["status"] != "proposed":
        raise Conflict(_decided_already(conn, proposal), extra={"decided": _decision(conn, proposal)})
    if proposal["match_status"] == "excluded":
        raise Conflict("its email was excluded from capture after it was proposed (blocklist or private label)")
    result = {"version": None, "communication": None, "communication_reason": None}
    final = None
    if action != "reject":
        final = text if action == "edit" else proposal["draft"]
        investor = investors(conn, [proposal["fundraising_investor_id"]]).get(proposal["fundraising_investor_id"])
        result["version"] = _append_note(req, proposal, investor, final)
        result["communication"], result["communication_reason"] = _communicate(req, proposal, investor, final)
    status = "rejected" if action == "reject" else "approved"
    proposal_store.decide(conn, proposal["id"], status, final, req.user["id"], via, matrix_user)
    audit.record(conn, req, "email_proposal", proposal["id"], "reject" if action == "reject" else "approve", {
        "status": ["proposed", status], "final_text": [None, final], "decided_via": [None, via],
        **({"matrix_user": [None, matrix_user]} if matrix_user else {}),
        **({"edited": [False, True]} if action == "edit" else {})}, refs=_investor_ref(proposal["fundraising_investor_id"]))
    return {"proposal": shown(conn, [proposal_store.get(conn, proposal["id"])])[0], **result}


def _append_note(req, proposal: dict, investor, line: str) -> int:
    """The note as the last line of the investor's Notes, through the grid's own op path. Returns the grid version."""
    found = grid_store.row_exists(req.db, proposal["fundraising_investor_id"])
    if found is None or investor is None:
        raise Conflict("the investor of this proposal is no longer in the grid")
    if found["archived_at"]:
        raise Conflict(f"{investor['name'] or 'this investor'} is archived in the grid: restore it before approving a note")
    batch = ops.Batch(req.db, req, ops.current_version(req.db), req.app.presence, check_conflicts=False)
    row = batch.row(found["id"], "fundraising_investor_id")
    notes = batch.key_column("notes")
    current = row["cells"].get(notes.id) or ""
    batch.set_cell(row["id"], notes.id, f"{current}\n{line}" if current else line, "notes", conflict_check=False)
    return batch.finish()["version"]


def _communicate(req, proposal: dict, investor: dict, line: str) -> tuple:
    """(the classic communication recorded, None), or (None, why none was)."""
    contact_id = _classic_contact(req.db, proposal, investor)
    if contact_id is None:
        return None, f"no classic contact is linked to {investor['name'] or 'this investor'}: no communication was recorded"
    if proposal["source"] == "agent":
        proposer = users.get(req.db, proposal["proposed_by"]) if proposal["proposed_by"] else None
        return records.insert(req.db, req, COMMUNICATION, {
            "contact_id": contact_id, "type": "note", "body": line, "attendees": [],
            "subject": f"Note proposed by {proposer['username'] if proposer else 'an agent'}",
            "communication_date": utc_text(proposal["created_at"])}), None
    attendees = [proposal["from_email"]] + [p.get("email") for key in ("to_addrs", "cc_addrs") for p in json.loads(proposal[key])]
    communication = records.insert(req.db, req, COMMUNICATION, {
        "contact_id": contact_id, "type": "email", "subject": cut(proposal["subject"] or "(no subject)", 500), "body": line,
        "communication_date": utc_text(proposal["sent_at"]), "attendees": list(dict.fromkeys(a for a in attendees if a))})
    return communication, None


def _classic_contact(conn, proposal: dict, investor: dict):
    """The live classic contact the email's link names, else the one linked to the link's grid
    contact, else to any of the investor's grid contacts (in order)."""
    links = [link for link in (store.links_of(conn, proposal["email_id"]) if proposal["email_id"] else [])
             if link["fundraising_investor_id"] == proposal["fundraising_investor_id"]]
    linked_people = {link["fundraising_contact_id"] for link in links}
    people = investor["people"]
    candidates = [link["contact_id"] for link in links] \
        + [p.get("contact_id") for p in people if p.get("id") in linked_people] + [p.get("contact_id") for p in people]
    return next((c for c in dict.fromkeys(candidates) if c and records.fetch(conn, CONTACT, c)), None)


def _decision(conn, proposal: dict) -> dict:
    decider = users.get(conn, proposal["decided_by"]) if proposal["decided_by"] else None
    return {"status": proposal["status"], "by": decider["username"] if decider else None, "at": proposal["decided_at"],
            "via": proposal["decided_via"], "matrix_user": proposal["decided_matrix_user"]}


def _decided_already(conn, proposal: dict) -> str:
    """ "already approved by maria at …", or for Matrix "by @maria:fund.example in Matrix (relayed by spark-bot)". """
    decision = _decision(conn, proposal)
    who = decision["by"] or "a user no longer here"
    if decision["via"] == "matrix":
        who = f"{decision['matrix_user']} in Matrix (relayed by {who})" if decision["matrix_user"] else f"{who} in Matrix"
    return f"already {decision['status']} by {who} at {decision['at']}"


# -- what the routes show --------------------------------------------------------------------------

def page(conn, status, investor_id, limit, offset) -> tuple:
    found, total = proposal_store.page(conn, status, investor_id, limit, offset)
    return shown(conn, found), total


def shown(conn, found: list) -> list:
    """Proposals as the API shows them: the investor's name, the email's metadata (never its body),
    the draft, the decision and the Matrix card."""
    names = investors(conn, [p["fundraising_investor_id"] for p in found])
    ours = own_addresses(conn)
    people = {uid: users.get(conn, uid) for uid in {p[k] for p in found for k in ("decided_by", "proposed_by") if p[k]}}
    return [_shown(p, names, ours, people) for p in found]


def _shown(p: dict, names: dict, ours: set, people: dict) -> dict:
    decider, proposer = people.get(p["decided_by"]), people.get(p["proposed_by"])
    return {
        "id": p["id"], "status": p["status"], "source": p["source"], "thread_id": p["thread_id"],
        "investor": {"id": p["fundraising_investor_id"], "name": (names.get(p["fundraising_investor_id"]) or {}).get("name")},
        "email": _email_shown(p, ours) if p["email_id"] else None,
        "proposed_by": {"id": p["proposed_by"], "username": proposer["username"] if proposer else None} if p["proposed_by"] else None,
        "snippet": p["snippet"], "draft": p["draft"], "drafted_by": p["drafted_by"], "draft_note": p["draft_note"],
        "email_count": p["email_count"], "final_text": p["final_text"],
        "decided_by": {"id": p["decided_by"], "username": decider["username"] if decider else None} if p["decided_by"] else None,
        "decided_at": p["decided_at"], "decided_via": p["decided_via"], "matrix_user": p["decided_matrix_user"],
        "matrix": {"room_id": p["room_id"], "event_id": p["event_id"], "posted_at": p["posted_at"],
                   "closed_at": p["closed_at"]} if p["room_id"] else None,
        "created_at": p["created_at"], "updated_at": p["updated_at"],
    }


def _email_shown(p: dict, ours: set) -> dict:
    return {"id": p["email_id"], "subject": p["subject"], "from": {"name": p["from_name"], "email": p["from_email"]},
            "to": json.loads(p["to_addrs"]), "cc": json.loads(p["cc_addrs"]), "sent_at": p["sent_at"],
            "direction": "outbound" if (p["from_email"] or "").lower() in ours else "inbound"}


# -- the Matrix review bridge (the intake bot polls) -------------------------------------------------

def work_lists(conn, limit: int) -> dict:
    """{to_post, open, to_close}, each oldest first and at most `limit` long (see proposal_store.WORK)."""
    return {which: shown(conn, proposal_store.work(conn, which, limit)) for which in proposal_store.WORK}


def posted(req, proposal_id, room_id, event_id) -> dict:
    """The bot posted the proposal's card, inside the caller's transaction. The same ids again are
    a no-op (a retry); other ids are a Conflict. A proposal decided meanwhile is recorded too, so
    that it comes back in `to_close` and its card gets closed."""
    proposal = _existing(req.db, proposal_id)
    if proposal["room_id"]:
        if (proposal["room_id"], proposal["event_id"]) != (room_id, event_id):
            raise Conflict(f"its card was already posted as {proposal['event_id']} in {proposal['room_id']}"
                           f" at {proposal['posted_at']}")
    else:
        proposal_store.mark_posted(req.db, proposal["id"], room_id, event_id)
        audit.record(req.db, req, "email_proposal", proposal["id"], "card_posted",
                     {"room_id": [None, room_id], "event_id": [None, event_id]},
                     refs=_investor_ref(proposal["fundraising_investor_id"]))
    return shown(req.db, [proposal_store.get(req.db, proposal["id"])])[0]


def closed(req, proposal_id) -> dict:
    """The bot closed the card of a decided proposal, inside the caller's transaction (again: a no-op)."""
    proposal = _existing(req.db, proposal_id)
    if not proposal["room_id"]:
        raise Conflict("no card was posted for this proposal")
    if proposal["status"] == "proposed":
        raise Conflict("it is still open: a card is closed once the proposal is decided")
    if not proposal["closed_at"]:
        proposal_store.mark_closed(req.db, proposal["id"])
        audit.record(req.db, req, "email_proposal", proposal["id"], "card_closed", {"room_id": [None, proposal["room_id"]]},
                     refs=_investor_ref(proposal["fundraising_investor_id"]))
    return shown(req.db, [proposal_store.get(req.db, proposal["id"])])[0]


def _existing(conn, proposal_id) -> dict:
    proposal = proposal_store.get(conn, proposal_id)
    if proposal is None:
        raise NotFound("no proposed note with that id")
    return proposal
