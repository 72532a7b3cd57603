"""SQL for in-thread drafts (drafts.py): the message a draft answers, the mailbox sighting that
gives its Gmail thread, and the email_drafts record (migrations/0002_review.sql). Plain
functions `fn(conn, ...)`; the caller holds the transaction."""
import json

from ..clock import new_id, now_iso
from ..db import row, rows

_LIVE = "EXISTS (SELECT 1 FROM email_account_messages s WHERE s.email_id = {e}.id AND s.deleted_at IS NULL)"
# A thread the API shows: it holds matched email some mailbox still has (queries.thread).
_SHOWN_THREAD = ("EXISTS (SELECT 1 FROM emails v WHERE v.thread_id = e.thread_id AND v.is_matched = 1 AND "
                 + _LIVE.format(e="v") + ")")


def live_email(conn, email_id):
    """The email, if some mailbox still holds it and its thread is one the API shows; else None."""
    return row(conn, f"SELECT e.* FROM emails e WHERE e.id = ? AND {_LIVE.format(e='e')} AND {_SHOWN_THREAD}",
               (email_id,))


def newest_live_email(conn, thread_id):
    """The thread's newest message some mailbox still holds, if the API shows the thread; else None."""
    return row(conn, f"SELECT e.* FROM emails e WHERE e.thread_id = ? AND {_LIVE.format(e='e')} AND {_SHOWN_THREAD}"
                     " ORDER BY e.sent_at DESC, e.created_at DESC, e.id DESC LIMIT 1", (thread_id,))


def held_thread(conn, account_ids, email_id, thread_id):
    """(account id, Gmail thread id) of a live sighting in one of these mailboxes of the thread:
    the sighting of `email_id` itself when there is one, else the newest in the thread; or None."""
    ids = list(account_ids)
    if not ids:
        return None
    marks = ",".join("?" * len(ids))
    found = row(conn, f"SELECT m.account_id, m.gmail_thread_id FROM email_account_messages m JOIN emails e ON e.id = m.email_id"
                      f" WHERE m.account_id IN ({marks}) AND m.deleted_at IS NULL AND e.thread_id = ?"
                      " ORDER BY m.email_id = ? DESC, e.sent_at DESC, m.seen_at DESC LIMIT 1",
                (*ids, thread_id, email_id))
    return (found["account_id"], found["gmail_thread_id"]) if found else None


def add(conn, *, user_id, account_id, email_id, gmail_draft_id, gmail_message_id, gmail_thread_id, subject, to, cc) -> str:
    draft_id = new_id()
    conn.execute("INSERT INTO email_drafts (id, user_id, account_id, email_id, gmail_draft_id, gmail_message_id,"
                 " gmail_thread_id, subject, to_addrs, cc_addrs, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (draft_id, user_id, account_id, email_id, gmail_draft_id, gmail_message_id, gmail_thread_id, subject,
                  json.dumps(to), json.dumps(cc), now_iso()))
    return draft_id


_SELECT = ("SELECT d.*, a.email AS mailbox, e.thread_id FROM email_drafts d JOIN email_accounts a ON a.id = d.account_id"
           " JOIN emails e ON e.id = d.email_id")


def get(conn, draft_id):
    return row(conn, _SELECT + " WHERE d.id = ?", (draft_id,))


def page(conn, user_id, limit, offset) -> tuple:
    """(drafts newest first, how many): one user's, or everyone's when `user_id` is None."""
    where, params = ("WHERE d.user_id = ?", (user_id,)) if user_id is not None else ("", ())
    total = row(conn, f"SELECT count(*) AS n FROM email_drafts d {where}", params)["n"]
    found = rows(conn, f"{_SELECT} {where} ORDER BY d.created_at DESC, d.id DESC LIMIT ? OFFSET ?", (*params, limit, offset))
    return found, total


def wipe(conn) -> dict:
    """Reset-all-data: the records go with the email they answer (the drafts stay in Gmail)."""
    return {"email_drafts": conn.execute("DELETE FROM email_drafts").rowcount}
