"""What the email routes read: mailbox status, matched threads and their messages.

Only matched email that some mailbox still holds is shown (a link to a known investor or
contact, and a sighting not soft-deleted); unmatched mail is metadata kept for a later match.
"""
import json

from ..db import row, rows
from . import store

LIVE_MATCHED = ("e.is_matched = 1 AND EXISTS (SELECT 1 FROM email_account_messages m"
                " WHERE m.email_id = e.id AND m.deleted_at IS NULL)")


def mailbox_status(conn, account: dict) -> dict:
    pending = row(conn, "SELECT count(*) AS n FROM email_attachments WHERE account_id = ? AND status = 'pending'",
                  (account["id"],))["n"]
    last = store.runs(conn, account["id"], limit=1)
    return {
        "id": account["id"], "email": account["email"], "user_id": account["user_id"], "status": account["status"],
        "auth_method": account["auth_method"], "last_run_at": account["last_run_at"],
        "last_success_at": account["last_success_at"], "last_error": account["last_error"],
        "last_error_at": account["last_error_at"], "failures": account["failures"],
        "next_attempt_at": account["next_attempt_at"],
        "backlog": {"backfill_done": account["backfill_done_at"] is not None,
                    "backfill_started_at": account["backfill_started_at"], "attachments_pending": pending,
                    "bodies_pending": len(store.matched_without_body(conn, account["id"], limit=100_000))},
        "last_run": last[0] if last else None,
    }


def threads_page(conn, investor_id, limit, offset) -> tuple:
    where, params = [LIVE_MATCHED], []
    if investor_id:
        where.append("EXISTS (SELECT 1 FROM email_investor_links l WHERE l.email_id = e.id AND l.fundraising_investor_id = ?)")
        params.append(investor_id)
    inner = f"SELECT DISTINCT e.thread_id FROM emails e WHERE {' AND '.join(where)}"
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
