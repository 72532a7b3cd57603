"""What the email routes read: mailbox status, matched threads and their messages, the activity panel.

Only matched email that some mailbox still holds is shown (a link to a known investor or
contact, and a sighting not soft-deleted); unmatched mail is metadata kept for a later match.
"""
import json
import re
from datetime import timedelta, timezone

from ..clock import parse_iso
from ..db import row, rows
from ..fundraising.store import investor_names, pickable_investors
from . import store

LIVE_MATCHED = ("e.is_matched = 1 AND EXISTS (SELECT 1 FROM email_account_messages m"
                " WHERE m.email_id = e.id AND m.deleted_at IS NULL)")


def mailbox_status(conn, account: dict) -> dict:
    pending = row(conn, "SELECT count(*) AS n FROM email_attachments WHERE account_id = ? AND status = 'pending'",
                  (account["id"],))["n"]
    recent = store.runs(conn, account["id"], limit=10)
    return {
        "id": account["id"], "email": account["email"], "user_id": account["user_id"], "status": account["status"],
        "auth_method": account["auth_method"], "last_run_at": account["last_run_at"],
        "last_success_at": account["last_success_at"], "last_error": account["last_error"],
        "last_error_at": account["last_error_at"], "failures": account["failures"],
        "next_attempt_at": account["next_attempt_at"],
        "backlog": {"backfill_done": account["backfill_done_at"] is not None,
                    "backfill_started_at": account["backfill_started_at"], "attachments_pending": pending,
                    "bodies_pending": store.count_matched_without_body(conn, account["id"])},
        "last_run": recent[0] if recent else None,
        "recent_runs": recent,  # newest first: what each of the last ten runs did, and why one failed
    }


def threads_page(conn, investor_id, limit, offset, contact_id=None) -> tuple:
    # A filter starts from the links (indexed by investor and by contact), not from every email.
    where, params, source = [LIVE_MATCHED], [], "emails e"
    linked = [(column, value) for column, value in (("fundraising_investor_id", investor_id), ("contact_id", contact_id)) if value]
    if linked:
        source = "email_investor_links l JOIN emails e ON e.id = l.email_id"
        where.insert(0, f"l.{linked[0][0]} = ?")
        params.append(linked[0][1])
        for column, value in linked[1:]:
            where.append(f"EXISTS (SELECT 1 FROM email_investor_links l2 WHERE l2.email_id = e.id AND l2.{column} = ?)")
            params.append(value)
    inner = f"SELECT DISTINCT e.thread_id FROM {source} WHERE {' AND '.join(where)}"
    total = row(conn, f"SELECT count(*) AS n FROM ({inner})", params)["n"]
    found = rows(conn, f"SELECT t.* FROM email_threads t WHERE t.id IN ({inner}) ORDER BY t.last_at DESC, t.id"
                       " LIMIT ? OFFSET ?", (*params, limit, offset))
    for thread in found:
        thread["investor_ids"] = [r["fundraising_investor_id"] for r in rows(
            conn, "SELECT DISTINCT l.fundraising_investor_id FROM email_investor_links l JOIN emails e ON e.id = l.email_id"
                  " WHERE e.thread_id = ? AND l.fundraising_investor_id IS NOT NULL ORDER BY 1", (thread["id"],))]
    return found, total


def thread(conn, thread_id):
    """A thread with its live messages, oldest first; None if it holds no live matched email."""
    found = row(conn, "SELECT * FROM email_threads WHERE id = ?", (thread_id,))
    if not found or not row(conn, f"SELECT 1 AS yes FROM emails e WHERE e.thread_id = ? AND {LIVE_MATCHED}", (thread_id,)):
        return None
    messages = rows(conn, "SELECT e.* FROM emails e WHERE e.thread_id = ? AND EXISTS (SELECT 1 FROM email_account_messages m"
                          " WHERE m.email_id = e.id AND m.deleted_at IS NULL) ORDER BY e.sent_at, e.id", (thread_id,))
    return {**found, "messages": [message(conn, m) for m in messages]}


def message(conn, email: dict) -> dict:
    """An email as the API shows it (the body only when it was captured)."""
    return {
        "id": email["id"], "message_id": email["message_id"], "subject": email["subject"],
        "from": {"name": email["from_name"], "email": email["from_email"]},
        "to": json.loads(email["to_addrs"]), "cc": json.loads(email["cc_addrs"]), "sent_at": email["sent_at"],
        "snippet": email["snippet"], "body_text": email["body_text"], "body_html": email["body_html"],
        "match_status": email["match_status"],
        "mailboxes": [{"account_id": s["account_id"], "is_sent": bool(s["is_sent"])} for s in store.sightings_of(conn, email["id"])],
        "links": [{k: link[k] for k in ("fundraising_investor_id", "fundraising_contact_id", "contact_id", "organization_id",
                                         "match_kind", "confidence", "address")} for link in store.links_of(conn, email["id"])],
        "attachments": [{**a, "inline": bool(a["inline"])} for a in store.attachments_of(conn, email["id"])],
    }


# -- the activity panel ----------------------------------------------------------------------------
# email_activity (migrations/0003) holds exactly the emails the panel lists: matched (an investor
# link) and live (a sighting not soft-deleted), with their direction; its triggers keep it so.
# email_activity_mailboxes and email_activity_investors say which mailboxes hold each and which
# grid investors it links to; email_activity_fts searches them.

LISTED = ("e.id, e.subject, e.from_name, e.from_email, e.to_addrs, e.cc_addrs, e.sent_at, e.snippet, e.thread_id,"
          " e.has_body, a.outbound")
MAX_WORDS = 12


def activity_page(conn, filters: dict, limit, offset) -> tuple:
    """(items, total) of the emails the panel lists, newest first. `filters` may hold investor_id,
    account_id (a mailbox that holds it), direction ("inbound"/"outbound"), q (words of the
    subject, snippet or sender, as prefixes), since (inclusive) and until (exclusive), the last two
    as stored text (parse them first); an unknown id matches nothing."""
    # A mailbox's rows repeat their email's (migrations/0003), so either way one table is read.
    at = "b" if filters.get("account_id") else "a"
    source = "email_activity_mailboxes b" if at == "b" else "email_activity a"
    where, params = _activity_where(filters, at)
    total = row(conn, f"SELECT count(*) AS n FROM {source} WHERE {where}", params)["n"]
    if _walk(conn, filters, source, total, limit + offset):
        where, params = _activity_where(filters, at, walk=True)
    ids = [r["email_id"] for r in rows(conn, f"SELECT {at}.email_id FROM {source} WHERE {where}"
                                             f" ORDER BY {at}.sent_at DESC, {at}.email_id DESC LIMIT ? OFFSET ?",
                                       (*params, limit, offset))]
    return _listed(conn, ids), total


def _walk(conn, filters, source, total, wanted) -> bool:
    """Whether a page filtered by a list (the search's matches, an investor's emails) is cheaper
    walked newest first, testing each row, than drawn from the list and sorted: SQLite does the
    latter, which sorts all `total`; a walk reads about wanted x rows / total before it has the
    page. At 100,000 emails the sort of a common word's matches took 109 ms, the walk 9 ms."""
    if not (filters.get("q") or filters.get("investor_id")) or not total:
        return False
    mailbox = ("WHERE b.account_id = ?", (filters["account_id"],)) if filters.get("account_id") else ("", ())
    every = row(conn, f"SELECT count(*) AS n FROM {source} {mailbox[0]}", mailbox[1])["n"]
    return wanted * every / total < total


def _activity_where(filters: dict, at: str, walk=False) -> tuple:
    """(SQL condition, values) for the panel's filters on `at` (a: email_activity, b: one mailbox's
    rows). With `walk`, the list conditions are written so that SQLite tests them row by row (a
    unary + keeps it from driving the query from them)."""
    where, params = [], []
    test = "+" if walk else ""
    if filters.get("account_id"):
        where.append("b.account_id = ?")
        params.append(filters["account_id"])
    for name, op in (("since", ">="), ("until", "<")):
        if filters.get(name):
            where.append(f"{at}.sent_at {op} ?")
            params.append(filters[name])
    if filters.get("direction"):
        where.append(f"{at}.outbound = ?")
        params.append(int(filters["direction"] == "outbound"))
    if filters.get("investor_id"):
        where.append(f"{test}{at}.email_id IN (SELECT email_id FROM email_activity_investors WHERE investor_id = ?)")
        params.append(filters["investor_id"])
    if filters.get("q"):
        clause, values = _search(filters["q"])
        where.append(f"{test}{at}.seq IN ({clause})")
        params += values
    return " AND ".join(where) or "1", params


def _search(q: str) -> tuple:
    """(a SELECT of search rowids, values) for what was typed. Words (letters and digits) are
    quoted prefixes for the search index, as elsewhere in the CRM; text with no word at all (`-`,
    an emoji) is looked for as it is, by LIKE."""
    words = re.findall(r"[^\W_]+", q)
    if words:
        return ("SELECT rowid FROM email_activity_fts WHERE email_activity_fts MATCH ?",
                [" AND ".join(f'"{w}"*' for w in words[:MAX_WORDS])])
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return ("SELECT rowid FROM email_activity_fts WHERE subject LIKE ? ESCAPE '\\'"
            " OR snippet LIKE ? ESCAPE '\\' OR sender LIKE ? ESCAPE '\\'", [like] * 3)


def sent_at_bound(text: str) -> str:
    """An ISO-8601 date or date-time as the text `sent_at` is compared with; ValueError if it is none.
    sent_at is UTC to the second (parser.py), so a fraction rounds up: both "from 10:00:00.5" and
    "before 10:00:00.5" mean the same as 10:00:01."""
    try:
        moment = parse_iso(text).astimezone(timezone.utc)
        if moment.microsecond:
            moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    except OverflowError:  # the first or last second there is, in another zone or rounded up
        raise ValueError(f"{text!r} is out of range") from None
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"  # strftime's %Y drops the zeros of year 5


def activity_email(conn, email_id):
    """A listed email with its text and HTML bodies as stored; None when the panel does not list it."""
    bodies = row(conn, "SELECT e.body_text, e.body_html FROM email_activity a JOIN emails e ON e.id = a.email_id"
                       " WHERE a.email_id = ?", (email_id,))
    listed = _listed(conn, [email_id]) if bodies else []
    if not listed:
        return None
    return {**listed[0], "body_text": bodies["body_text"], "body_html": bodies["body_html"]}


def _listed(conn, ids: list) -> list:
    """Panel items for listed emails' ids, in that order (ids the panel does not list are left out):
    the email's fields, its direction, the mailboxes holding it, its investors by name."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    by_id = {r["id"]: r for r in rows(conn, f"SELECT {LISTED} FROM email_activity a JOIN emails e ON e.id = a.email_id"
                                            f" WHERE a.email_id IN ({marks})", ids)}
    found = [by_id[i] for i in ids if i in by_id]
    mailboxes, investors = {}, {}
    for r in rows(conn, f"SELECT email_id, account_id FROM email_activity_mailboxes WHERE email_id IN ({marks})"
                        " ORDER BY account_id", ids):
        mailboxes.setdefault(r["email_id"], []).append(r["account_id"])
    for r in rows(conn, f"SELECT email_id, investor_id FROM email_activity_investors WHERE email_id IN ({marks})", ids):
        investors.setdefault(r["email_id"], []).append(r["investor_id"])
    names = investor_names(conn, {i for linked in investors.values() for i in linked})
    return [{
        "id": email["id"], "subject": email["subject"], "from": {"name": email["from_name"], "email": email["from_email"]},
        "to": json.loads(email["to_addrs"]), "cc": json.loads(email["cc_addrs"]), "sent_at": email["sent_at"],
        "snippet": email["snippet"], "direction": "outbound" if email["outbound"] else "inbound",
        "mailboxes": mailboxes.get(email["id"], []),
        "investors": sorted(({"id": i, "name": names.get(i)} for i in investors.get(email["id"], [])),
                            key=lambda inv: ((inv["name"] or "").casefold(), inv["id"])),
        "thread_id": email["thread_id"], "has_body": bool(email["has_body"]),
    } for email in found]


def activity_investors(conn) -> list:
    """The investor picker: live investors outside the graveyard with email the panel lists, by
    name, each with how many. A graveyard investor's email is still listed; only the picker hides it."""
    counts = rows(conn, "SELECT investor_id AS id, count(*) AS n FROM email_activity_investors GROUP BY investor_id")
    names = pickable_investors(conn)
    found = [{"id": c["id"], "name": names[c["id"]], "email_count": c["n"]} for c in counts if c["id"] in names]
    return sorted(found, key=lambda inv: ((inv["name"] or "").casefold(), inv["id"]))


def matched_for_index(conn) -> list:
    """Every matched email some mailbox still holds (what the threads show), as the search index
    reads it: id, thread_id, subject, body_text (None until the body is fetched), snippet, sent_at,
    from_name, from_email, and `links` (its investor links), in id order."""
    found = rows(conn, "SELECT e.id, e.thread_id, e.subject, e.body_text, e.snippet, e.sent_at, e.from_name,"
                       f" e.from_email FROM emails e WHERE {LIVE_MATCHED} ORDER BY e.id")
    links = store.links_by_email(conn, [e["id"] for e in found])
    for email in found:
        email["links"] = links.get(email["id"], [])
    return found


# -- correspondence metadata (crm.ingest.strength) -----------------------------------------------
# Who wrote to whom and when, per mailbox owner: the addresses and dates only, never a subject,
# snippet or body. A sighting soft-deleted in Gmail does not count; neither does mail the team
# excluded after capture (a blocklisted address, a private label). Whose mailboxes count (active
# users) is the caller's to decide, as for the digest.

# Each live sighting once per mailbox owner (one mailbox may hold an email under two Gmail ids;
# is_sent: any of them is in their Sent).
_OWNED = """
    SELECT m.email_id, a.user_id, max(m.is_sent) AS is_sent
    FROM email_account_messages m JOIN email_accounts a ON a.id = m.account_id
    WHERE m.deleted_at IS NULL GROUP BY m.email_id, a.user_id"""
CORRESPONDENCE_COLUMNS = ("from_email", "to_addrs", "cc_addrs", "bcc_addrs", "sent_at", "match_status")


def correspondence(conn) -> list:
    """(user_id, email_id, address, outbound, sent_at) once each: for mail in a user's Sent, each
    recipient (to, cc, bcc) with outbound 1; for mail they received, its sender with outbound 0.
    Addresses are lower case. Reads only CORRESPONDENCE_COLUMNS of emails."""
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: this reads every sighting (hundreds of thousands)
    recipients = " UNION ".join(
        f"SELECT o.user_id, e.id, lower(json_extract(j.value, '$.email')), 1, e.sent_at"
        f" FROM owned o JOIN emails e ON e.id = o.email_id, json_each(e.{field}) j"
        f" WHERE o.is_sent = 1 AND e.match_status != 'excluded'"
        for field in ("to_addrs", "cc_addrs", "bcc_addrs"))
    found = cursor.execute(f"""
        WITH owned AS MATERIALIZED ({_OWNED})
        SELECT o.user_id, e.id, lower(e.from_email), 0, e.sent_at FROM owned o JOIN emails e ON e.id = o.email_id
        WHERE o.is_sent = 0 AND e.match_status != 'excluded' AND e.from_email IS NOT NULL
        UNION {recipients}""").fetchall()
    return [r for r in found if r[2]]
