"""All SQL on proposed notes and their Matrix cards (migrations/0002_review.sql, 0004, 0006). Plain
functions `fn(conn, ...)`; the caller holds the transaction.

A proposal's email fields come with it (`SELECT_PROPOSAL`): the newest email it stands for (all
NULL for an agent's proposal, which has none), and its card in the review room when the intake
bot has posted one.
"""
from ..clock import new_id, now_iso
from ..db import row, rows

SELECT_PROPOSAL = (
    "SELECT p.*, e.subject, e.from_name, e.from_email, e.to_addrs, e.cc_addrs, e.sent_at, e.snippet, e.body_text,"
    " e.match_status, m.room_id, m.event_id, m.posted_at, m.closed_at"
    " FROM email_proposals p LEFT JOIN emails e ON e.id = p.email_id"
    " LEFT JOIN email_proposal_matrix m ON m.proposal_id = p.id")
STATUSES = ("proposed", "approved", "rejected")
# A template draft with no note has not been put to the local model yet (proposals.draft_pending).
AWAITING_MODEL = "p.drafted_by = 'template' AND p.draft_note IS NULL"
# Mail excluded after it was proposed (blocklist, private label) is no longer shown or decided.
SHOWN = "coalesce(e.match_status, '') != 'excluded'"


def get(conn, proposal_id):
    return row(conn, f"{SELECT_PROPOSAL} WHERE p.id = ?", (proposal_id,))


def emails(conn, email_ids) -> list:
    """The stored emails with these ids (what a draft is made from)."""
    found = []
    for start in range(0, len(email_ids), 500):
        chunk = email_ids[start:start + 500]
        found += rows(conn, f"SELECT * FROM emails WHERE id IN ({','.join('?' * len(chunk))})", chunk)
    return found


def open_for(conn, thread_id, investor_id):
    """The open proposal of one thread and investor (at most one: the unique partial index)."""
    return row(conn, f"{SELECT_PROPOSAL} WHERE p.thread_id = ? AND p.fundraising_investor_id = ? AND p.status = 'proposed'",
               (thread_id, investor_id))


def stands_for(conn, email_id, investor_id) -> bool:
    """Whether some proposal for this investor already names this email (a re-match of mail proposed before)."""
    return row(conn, "SELECT 1 AS yes FROM email_proposals WHERE email_id = ? AND fundraising_investor_id = ?",
               (email_id, investor_id)) is not None


def add(conn, email_id, thread_id, investor_id, draft) -> str:
    proposal_id, now = new_id(), now_iso()
    conn.execute("INSERT INTO email_proposals (id, email_id, thread_id, fundraising_investor_id, draft, drafted_by,"
                 " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'template', ?, ?)",
                 (proposal_id, email_id, thread_id, investor_id, draft, now, now))
    return proposal_id


def add_agent(conn, investor_id, draft, proposed_by) -> str:
    """An agent's proposal: no email, no thread, its draft as the agent wrote it."""
    proposal_id, now = new_id(), now_iso()
    conn.execute("INSERT INTO email_proposals (id, fundraising_investor_id, source, proposed_by, draft, drafted_by,"
                 " created_at, updated_at) VALUES (?, ?, 'agent', ?, ?, 'agent', ?, ?)",
                 (proposal_id, investor_id, proposed_by, draft, now, now))
    return proposal_id


def absorb(conn, proposal_id, email_id=None, draft=None) -> None:
    """One more email of the burst: counted; when it is the newest, the proposal stands for it and
    its template draft replaces the old one (and goes to the model again)."""
    if email_id is None:
        conn.execute("UPDATE email_proposals SET email_count = email_count + 1, updated_at = ? WHERE id = ?",
                     (now_iso(), proposal_id))
        return
    conn.execute("UPDATE email_proposals SET email_count = email_count + 1, email_id = ?, draft = ?,"
                 " drafted_by = 'template', draft_note = NULL, updated_at = ? WHERE id = ?",
                 (email_id, draft, now_iso(), proposal_id))


def awaiting_model(conn, limit) -> list:
    return rows(conn, f"{SELECT_PROPOSAL} WHERE p.status = 'proposed' AND {AWAITING_MODEL} ORDER BY p.updated_at, p.id"
                      " LIMIT ?", (limit,))


def set_draft(conn, proposal_id, seen_at, draft, drafted_by, note) -> bool:
    """Replace the draft unless the proposal changed since `seen_at` (decided, or a newer email
    arrived while the model was thinking). Returns whether it was written."""
    return conn.execute("UPDATE email_proposals SET draft = ?, drafted_by = ?, draft_note = ?, updated_at = ?"
                        " WHERE id = ? AND status = 'proposed' AND updated_at = ?",
                        (draft, drafted_by, note, now_iso(), proposal_id, seen_at)).rowcount == 1


def keep_template(conn, proposal_id, seen_at, note) -> None:
    """The model was not used: the template stays, and `note` says why."""
    conn.execute("UPDATE email_proposals SET draft_note = ? WHERE id = ? AND status = 'proposed' AND updated_at = ?",
                 (note, proposal_id, seen_at))


def decide(conn, proposal_id, status, final_text, user_id, via, matrix_user) -> None:
    now = now_iso()
    conn.execute("UPDATE email_proposals SET status = ?, final_text = ?, decided_by = ?, decided_at = ?, decided_via = ?,"
                 " decided_matrix_user = ?, updated_at = ? WHERE id = ?",
                 (status, final_text, user_id, now, via, matrix_user, now, proposal_id))


def page(conn, status, investor_id, limit, offset) -> tuple:
    """Proposals (newest change first) in one status, or every status when `status` is None."""
    where, params = [SHOWN], []
    if status:
        where.append("p.status = ?")
        params.append(status)
    if investor_id:
        where.append("p.fundraising_investor_id = ?")
        params.append(investor_id)
    clause = " AND ".join(where)
    total = row(conn, f"SELECT count(*) AS n FROM email_proposals p LEFT JOIN emails e ON e.id = p.email_id WHERE {clause}",
                params)["n"]
    found = rows(conn, f"{SELECT_PROPOSAL} WHERE {clause} ORDER BY p.updated_at DESC, p.id LIMIT ? OFFSET ?",
                 (*params, limit, offset))
    return found, total


# -- the intake bot's work lists ---------------------------------------------------------------------

WORK = {
    # Open, no card yet, draft settled (the model has answered or will not be asked).
    "to_post": f"p.status = 'proposed' AND m.proposal_id IS NULL AND NOT ({AWAITING_MODEL}) AND {SHOWN}",
    # Open with a card in the room: the bot listens for answers to it.
    "open": "p.status = 'proposed' AND m.proposal_id IS NOT NULL AND m.closed_at IS NULL",
    # Decided (on the web or through Matrix) with a card the bot has not closed yet.
    "to_close": "p.status != 'proposed' AND m.proposal_id IS NOT NULL AND m.closed_at IS NULL",
}


def work(conn, which: str, limit: int) -> list:
    return rows(conn, f"{SELECT_PROPOSAL} WHERE {WORK[which]} ORDER BY p.created_at, p.id LIMIT ?", (limit,))


def mark_posted(conn, proposal_id, room_id, event_id) -> None:
    conn.execute("INSERT INTO email_proposal_matrix (proposal_id, room_id, event_id, posted_at) VALUES (?, ?, ?, ?)",
                 (proposal_id, room_id, event_id, now_iso()))


def mark_closed(conn, proposal_id) -> None:
    conn.execute("UPDATE email_proposal_matrix SET closed_at = ? WHERE proposal_id = ? AND closed_at IS NULL",
                 (now_iso(), proposal_id))


def wipe(conn) -> dict:
    """Reset-all-data: proposals go with the captured email they point at (cards first)."""
    return {table: conn.execute(f"DELETE FROM {table}").rowcount for table in ("email_proposal_matrix", "email_proposals")}
