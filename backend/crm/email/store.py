"""All SQL on the email tables (migrations/0001_email_tables.sql). Plain functions `fn(conn, ...)`;
the caller holds the transaction."""
import json

from ..clock import now_iso, new_id
from ..db import row, rows

PARTY_KEYS = ("to", "cc", "bcc")


# -- accounts --------------------------------------------------------------------------------------

def add_account(conn, user_id, email, auth_method, by=None) -> dict:
    now = now_iso()
    account_id = new_id()
    conn.execute("INSERT INTO email_accounts (id, user_id, email, auth_method, created_at, created_by, updated_at)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?)", (account_id, user_id, email.lower(), auth_method, now, by, now))
    return account(conn, account_id)


def account(conn, account_id):
    return row(conn, "SELECT * FROM email_accounts WHERE id = ?", (account_id,))


def account_by_email(conn, email):
    return row(conn, "SELECT * FROM email_accounts WHERE email = ?", (email,))


def accounts(conn) -> list:
    return rows(conn, "SELECT a.*, u.username, u.is_active FROM email_accounts a JOIN users u ON u.id = a.user_id"
                      " ORDER BY a.email")


def update_account(conn, account_id, **fields) -> None:
    fields["updated_at"] = now_iso()
    names = ", ".join(f"{name} = ?" for name in fields)
    conn.execute(f"UPDATE email_accounts SET {names} WHERE id = ?", (*fields.values(), account_id))


# -- sightings and skips ---------------------------------------------------------------------------

def known_gmail_ids(conn, account_id, gmail_ids) -> set:
    """Which of these Gmail ids this mailbox has already stored or skipped."""
    known = set()
    ids = list(gmail_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for sql in (f"SELECT gmail_id FROM email_account_messages WHERE account_id = ? AND gmail_id IN ({marks})",
                    f"SELECT gmail_id FROM email_skipped WHERE account_id = ? AND gmail_id IN ({marks})"):
            known.update(r["gmail_id"] for r in rows(conn, sql, (account_id, *chunk)))
    return known


def add_sighting(conn, account_id, email_id, message: dict, is_sent: bool) -> None:
    conn.execute(
        "INSERT INTO email_account_messages (account_id, gmail_id, email_id, gmail_thread_id, label_ids, is_sent, seen_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, gmail_id) DO UPDATE SET"
        " label_ids = excluded.label_ids, deleted_at = NULL",
        (account_id, message["gmail_id"], email_id, message["gmail_thread_id"], json.dumps(message["label_ids"]),
         int(is_sent), now_iso()))


def add_skip(conn, account_id, message: dict, reason: str, detail=None) -> None:
    conn.execute("INSERT OR REPLACE INTO email_skipped (account_id, gmail_id, gmail_thread_id, reason, detail, at)"
                 " VALUES (?, ?, ?, ?, ?, ?)",
                 (account_id, message["gmail_id"], message.get("gmail_thread_id"), reason, detail, now_iso()))


def private_thread(conn, account_id, gmail_thread_id) -> bool:
    return row(conn, "SELECT 1 AS yes FROM email_skipped WHERE account_id = ? AND gmail_thread_id = ? AND reason = 'private'",
               (account_id, gmail_thread_id)) is not None


def delete_sightings(conn, account_id, gmail_ids) -> int:
    """Messages removed in Gmail: their sighting is soft-deleted (the email stays for the others)."""
    now, changed = now_iso(), 0
    for gmail_id in gmail_ids:
        changed += conn.execute("UPDATE email_account_messages SET deleted_at = ? WHERE account_id = ? AND gmail_id = ?"
                                " AND deleted_at IS NULL", (now, account_id, gmail_id)).rowcount
    return changed


def set_labels(conn, account_id, gmail_id, label_ids) -> None:
    conn.execute("UPDATE email_account_messages SET label_ids = ? WHERE account_id = ? AND gmail_id = ?",
                 (json.dumps(sorted(label_ids)), account_id, gmail_id))




def emails_in_gmail_thread(conn, account_id, gmail_thread_id) -> list:
    return [r["email_id"] for r in rows(conn, "SELECT email_id FROM email_account_messages WHERE account_id = ?"
                                              " AND gmail_thread_id = ?", (account_id, gmail_thread_id))]


def thread_of_gmail_thread(conn, account_id, gmail_thread_id):
    found = row(conn, "SELECT e.thread_id FROM email_account_messages m JOIN emails e ON e.id = m.email_id"
                      " WHERE m.account_id = ? AND m.gmail_thread_id = ? LIMIT 1", (account_id, gmail_thread_id))
    return found["thread_id"] if found else None


# -- emails and threads ----------------------------------------------------------------------------

def email_by_message_id(conn, message_id):
    return row(conn, "SELECT * FROM emails WHERE message_id = ?", (message_id,))


def has_body(conn, message_id) -> bool:
    return bool(message_id) and row(conn, "SELECT 1 AS yes FROM emails WHERE message_id = ? AND has_body = 1",
                                    (message_id,)) is not None




def threads_of_message_ids(conn, message_ids) -> list:
    ids = [m for m in message_ids if m]
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return [r["thread_id"] for r in rows(conn, f"SELECT DISTINCT thread_id FROM emails WHERE message_id IN ({marks})", ids)]


def threads_replying_to(conn, message_id) -> list:
    """Threads of stored replies to `message_id` (a reply can arrive before what it answers)."""
    return [r["thread_id"] for r in rows(conn, "SELECT DISTINCT thread_id FROM emails WHERE in_reply_to = ?", (message_id,))]


def merge_threads(conn, into: str, others) -> None:
    for other in others:
        conn.execute("UPDATE emails SET thread_id = ? WHERE thread_id = ?", (into, other))
        conn.execute("DELETE FROM email_threads WHERE id = ?", (other,))
    refresh_thread(conn, into)


def add_thread(conn, subject, at) -> str:
    thread_id, now = new_id(), now_iso()
    conn.execute("INSERT INTO email_threads (id, subject, first_at, last_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                 (thread_id, subject or "", at, at, now, now))
    return thread_id


def refresh_thread(conn, thread_id) -> None:
    conn.execute("UPDATE email_threads SET message_count = (SELECT count(*) FROM emails WHERE thread_id = :t),"
                 " first_at = COALESCE((SELECT min(sent_at) FROM emails WHERE thread_id = :t), first_at),"
                 " last_at = COALESCE((SELECT max(sent_at) FROM emails WHERE thread_id = :t), last_at),"
                 " updated_at = :now WHERE id = :t", {"t": thread_id, "now": now_iso()})


def add_email(conn, message: dict, thread_id: str) -> str:
    """Store a parsed message's metadata (never its body: see `set_body`)."""
    email_id, now = new_id(), now_iso()
    conn.execute(
        "INSERT INTO emails (id, message_id, thread_id, in_reply_to, refs, subject, from_name, from_email, to_addrs,"
        " cc_addrs, bcc_addrs, sent_at, snippet, size_estimate, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (email_id, message["message_id"], thread_id, message.get("in_reply_to"), json.dumps(message.get("references") or []),
         message.get("subject") or "", message.get("from_name"), message.get("from_email"),
         *(json.dumps(message.get(key) or []) for key in PARTY_KEYS), message["sent_at"], message.get("snippet"),
         message.get("size_estimate"), now, now))
    return email_id


def set_body(conn, email_id, message: dict) -> None:
    conn.execute("UPDATE emails SET body_text = ?, body_html = ?, snippet = COALESCE(?, snippet), has_body = 1,"
                 " updated_at = ? WHERE id = ?",
                 (message.get("body_text"), message.get("body_html"), message.get("snippet"), now_iso(), email_id))


def set_matched(conn, email_id, matched: bool) -> None:
    conn.execute("UPDATE emails SET is_matched = ?, match_status = CASE WHEN match_status = 'excluded' THEN 'excluded'"
                 " WHEN ? THEN 'matched' ELSE 'unmatched' END, updated_at = ? WHERE id = ?",
                 (int(matched), int(matched), now_iso(), email_id))


def exclude(conn, email_id, reason: str) -> None:
    """Remove what was captured of an email that is now excluded: body, links, attachments."""
    conn.execute("UPDATE emails SET body_text = NULL, body_html = NULL, has_body = 0, is_matched = 0,"
                 " match_status = 'excluded', excluded_reason = ?, updated_at = ? WHERE id = ?", (reason, now_iso(), email_id))
    conn.execute("DELETE FROM email_investor_links WHERE email_id = ?", (email_id,))
    conn.execute("UPDATE email_attachments SET status = 'removed', storage_path = NULL WHERE email_id = ?", (email_id,))


def emails_touching(conn, pattern: str) -> list:
    """Live, not yet excluded emails with a participant matching an address or "@domain" pattern."""
    like = f"%{pattern}\"%" if pattern.startswith("@") else f"%\"{pattern}\"%"  # inside the JSON lists
    exact = pattern if not pattern.startswith("@") else None
    return [r["id"] for r in rows(
        conn, "SELECT id FROM emails WHERE match_status != 'excluded' AND ("
              " (? IS NOT NULL AND from_email = ?) OR (? IS NULL AND from_email LIKE ?)"
              " OR to_addrs LIKE ? OR cc_addrs LIKE ? OR bcc_addrs LIKE ?)",
        (exact, exact, exact, f"%{pattern}", like, like, like))]


def as_message(email: dict) -> dict:
    """A stored email in the shape the matcher and the rules read (parser.parse_message's keys)."""
    return {"from_email": email["from_email"], **{key: json.loads(email[f"{key}_addrs"]) for key in PARTY_KEYS}}


def unmatched_or_matched(conn, after_id="", limit=1000) -> list:
    """Emails for a re-match, in id order, a page at a time."""
    return rows(conn, "SELECT * FROM emails WHERE match_status != 'excluded' AND id > ? ORDER BY id LIMIT ?", (after_id, limit))


def matched_without_body(conn, account_id, limit=500) -> list:
    """(gmail id, email id) of matched mail this mailbox holds whose body is not in yet."""
    return [(r["gmail_id"], r["email_id"]) for r in rows(
        conn, "SELECT m.gmail_id, m.email_id FROM email_account_messages m JOIN emails e ON e.id = m.email_id"
              " WHERE m.account_id = ? AND m.deleted_at IS NULL AND e.is_matched = 1 AND e.has_body = 0"
              " ORDER BY e.sent_at DESC LIMIT ?", (account_id, limit))]


def count_matched_without_body(conn, account_id) -> int:
    """How many of this mailbox's matched emails still wait for their body. From the pending few
    (email migration 0005's index), each probed for this mailbox: SQLite would otherwise walk every
    sighting of the mailbox."""
    return row(conn, "SELECT count(*) AS n FROM emails e INDEXED BY emails_bodies_pending"
                     " CROSS JOIN email_account_messages m ON m.email_id = e.id"
                     " WHERE e.is_matched = 1 AND e.has_body = 0 AND m.account_id = ? AND m.deleted_at IS NULL",
               (account_id,))["n"]


def sightings_of(conn, email_id) -> list:
    return rows(conn, "SELECT * FROM email_account_messages WHERE email_id = ? AND deleted_at IS NULL", (email_id,))


# -- links -----------------------------------------------------------------------------------------

LINK_FIELDS = ("fundraising_investor_id", "fundraising_contact_id", "contact_id", "organization_id")


def replace_links(conn, email_id, links: list) -> None:
    conn.execute("DELETE FROM email_investor_links WHERE email_id = ?", (email_id,))
    now = now_iso()
    for link in links:
        conn.execute(
            "INSERT OR IGNORE INTO email_investor_links (id, email_id, fundraising_investor_id, fundraising_contact_id,"
            " contact_id, organization_id, match_kind, confidence, address, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (new_id(), email_id, *(link.get(f) for f in LINK_FIELDS), link["match_kind"], link["confidence"],
             link["address"], now))


def links_of(conn, email_id) -> list:
    return rows(conn, "SELECT * FROM email_investor_links WHERE email_id = ? ORDER BY confidence DESC, address", (email_id,))


def links_by_email(conn, email_ids) -> dict:
    """{email id: its links, as links_of orders them} for `email_ids` (one read of the table)."""
    wanted, found = set(email_ids), {}
    for link in rows(conn, "SELECT * FROM email_investor_links ORDER BY email_id, confidence DESC, address"):
        if link["email_id"] in wanted:
            found.setdefault(link["email_id"], []).append(link)
    return found


# -- attachments -----------------------------------------------------------------------------------

def add_attachment_stubs(conn, email_id, account_id, message: dict) -> None:
    for part in message.get("attachments") or ():
        conn.execute(
            "INSERT OR IGNORE INTO email_attachments (id, email_id, part_id, filename, mime_type, size, content_id, inline,"
            " account_id, gmail_message_id, gmail_attachment_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (new_id(), email_id, part["part_id"], part.get("filename") or "", part.get("mime_type"), part.get("size"),
             part.get("content_id"), int(bool(part.get("inline"))), account_id, message["gmail_id"],
             part.get("attachment_id")))


def pending_attachments(conn, limit=100, max_attempts=5) -> list:
    return rows(conn, "SELECT * FROM email_attachments WHERE status = 'pending' AND attempts < ? ORDER BY rowid LIMIT ?",
                (max_attempts, limit))




def finish_attachment(conn, attachment_id, status, *, sha256=None, storage_path=None, error=None) -> None:
    conn.execute("UPDATE email_attachments SET status = ?, sha256 = COALESCE(?, sha256), storage_path = ?, error = ?,"
                 " attempts = attempts + 1, fetched_at = ? WHERE id = ?",
                 (status, sha256, storage_path, error, now_iso(), attachment_id))


def attachments_of(conn, email_id) -> list:
    return rows(conn, "SELECT id, part_id, filename, mime_type, size, content_id, inline, status, sha256"
                      " FROM email_attachments WHERE email_id = ? ORDER BY part_id", (email_id,))


# -- sync runs -------------------------------------------------------------------------------------

def start_run(conn, account_id, kind, trigger) -> str:
    run_id = new_id()
    conn.execute("INSERT INTO email_sync_runs (id, account_id, kind, trigger, status, started_at) VALUES (?, ?, ?, ?, 'running', ?)",
                 (run_id, account_id, kind, trigger, now_iso()))
    return run_id


def finish_run(conn, run_id, status, counts: dict, duration_ms: int, error=None) -> None:
    conn.execute("UPDATE email_sync_runs SET status = ?, finished_at = ?, duration_ms = ?, listed = ?, fetched = ?,"
                 " stored = ?, matched = ?, deleted = ?, skipped = ?, units = ?, error = ?, kind = ? WHERE id = ?",
                 (status, now_iso(), duration_ms, counts["listed"], counts["fetched"], counts["stored"], counts["matched"],
                  counts["deleted"], json.dumps(counts["skipped"], sort_keys=True), counts["units"], error,
                  counts["kind"], run_id))


def runs(conn, account_id, limit=10) -> list:
    found = rows(conn, "SELECT * FROM email_sync_runs WHERE account_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ?",
                 (account_id, limit))
    for run in found:
        run["skipped"] = json.loads(run["skipped"])
    return found


def abandon_running(conn) -> None:
    """Runs left 'running' by a crash are closed as errors at start-up (the cursor resumes them)."""
    conn.execute("UPDATE email_sync_runs SET status = 'error', error = 'interrupted (the server stopped)', finished_at = ?"
                 " WHERE status = 'running'", (now_iso(),))


# -- blocklist -------------------------------------------------------------------------------------

def blocklist_for(conn, user_id) -> set:
    """The patterns that apply to `user_id`'s mailbox: everyone's plus their own."""
    return {r["pattern"].lower() for r in rows(conn, "SELECT pattern FROM email_blocklist WHERE owner_id IS NULL OR owner_id = ?",
                                               (user_id,))}


def blocklist_entries(conn, user_id, limit, offset) -> tuple:
    where = "owner_id IS NULL OR owner_id = ?"
    found = rows(conn, f"SELECT * FROM email_blocklist WHERE {where} ORDER BY pattern LIMIT ? OFFSET ?", (user_id, limit, offset))
    total = row(conn, f"SELECT count(*) AS n FROM email_blocklist WHERE {where}", (user_id,))["n"]
    return found, total


def add_block(conn, pattern, owner_id, note, by) -> dict:
    entry_id = new_id()
    conn.execute("INSERT INTO email_blocklist (id, pattern, owner_id, note, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)",
                 (entry_id, pattern, owner_id, note, now_iso(), by))
    return row(conn, "SELECT * FROM email_blocklist WHERE id = ?", (entry_id,))


def block_entry(conn, entry_id):
    return row(conn, "SELECT * FROM email_blocklist WHERE id = ?", (entry_id,))


def block_exists(conn, pattern, owner_id) -> bool:
    return row(conn, "SELECT 1 AS yes FROM email_blocklist WHERE pattern = ? AND IFNULL(owner_id, '') = IFNULL(?, '')",
               (pattern, owner_id)) is not None


def remove_block(conn, entry_id) -> None:
    conn.execute("DELETE FROM email_blocklist WHERE id = ?", (entry_id,))


# -- reset ---------------------------------------------------------------------------------------

CAPTURED = ("email_investor_links", "email_attachments", "email_account_messages", "email_skipped", "emails",
            "email_threads")


def wipe(conn) -> dict:
    """Reset-all-data: every captured email goes; the mailboxes stay enrolled and backfill again
    from the start (against the emptied CRM). Attachment files stay on disk (stored by content)."""
    counts = {table: conn.execute(f"DELETE FROM {table}").rowcount for table in CAPTURED}
    conn.execute("UPDATE email_accounts SET backfill_cursor = NULL, backfill_started_at = NULL, backfill_done_at = NULL,"
                 " history_id = NULL, updated_at = ?", (now_iso(),))
    return counts


# -- OAuth states ----------------------------------------------------------------------------------

def add_oauth_state(conn, state_hash, user_id, expires_at) -> None:
    conn.execute("INSERT INTO email_oauth_states (state_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                 (state_hash, user_id, now_iso(), expires_at))


def use_oauth_state(conn, state_hash):
    """The state's row if it is unused and unexpired, marking it used; else None."""
    found = row(conn, "SELECT * FROM email_oauth_states WHERE state_hash = ? AND used_at IS NULL AND expires_at > ?",
                (state_hash, now_iso()))
    if found:
        conn.execute("UPDATE email_oauth_states SET used_at = ? WHERE state_hash = ?", (now_iso(), state_hash))
    return found
