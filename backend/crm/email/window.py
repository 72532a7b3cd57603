"""Captured mail over a window of time, as the evening digest reads it (crm.digest.collect).

An email belongs to the window it was first captured in (its earliest live sighting's
`seen_at`), not the one it was sent in: mail sent at 17:59 and synced at 18:10 is in the next
digest instead of in none, and no email is in two. Mail sent long before the window (a new
mailbox's backfill) is not today's activity: `sent_after` leaves it out. Only matched mail that
some mailbox still holds counts (the activity panel's `email_activity` rows), each sighting of a
deleted mailbox message left out. Whose mailboxes count (active users) is the caller's to decide.
"""
from ..db import rows

BODY_CHARS = 1200  # of each body, for the local model's summary: enough for the substance


def emails_captured(conn, since: str, until: str, sent_after: str) -> list:
    """The window's emails, oldest first: id, subject, snippet, body (its first BODY_CHARS),
    from_email, from_name, sent_at, outbound (from one of our mailboxes: the email's direction)."""
    return rows(conn, """
        WITH recent AS MATERIALIZED (  -- else SQLite inlines it and finds each first sighting twice
            SELECT a.email_id, a.sent_at, a.outbound, (SELECT min(m.seen_at) FROM email_account_messages m
                                                       WHERE m.email_id = a.email_id AND m.deleted_at IS NULL) AS first_seen
            FROM email_activity a WHERE a.sent_at > ?)
        SELECT e.id, e.subject, e.snippet, substr(coalesce(e.body_text, ''), 1, ?) AS body, e.from_email, e.from_name,
               r.sent_at, r.outbound
        FROM recent r JOIN emails e ON e.id = r.email_id
        WHERE r.first_seen > ? AND r.first_seen <= ?
        ORDER BY r.sent_at, r.email_id""", (sent_after, BODY_CHARS, since, until))


def sightings(conn, email_ids: list) -> list:
    """(email_id, user_id, is_sent) of each live sighting of these emails, by mailbox owner: who
    on the team has each one, and whether it is in their Sent."""
    found = []
    for chunk in _chunks(email_ids):
        found += rows(conn, f"""
            SELECT m.email_id, a.user_id, max(m.is_sent) AS is_sent
            FROM email_account_messages m JOIN email_accounts a ON a.id = m.account_id
            WHERE m.deleted_at IS NULL AND m.email_id IN ({','.join('?' * len(chunk))})
            GROUP BY m.email_id, a.user_id""", chunk)
    return found


def links(conn, email_ids: list) -> list:
    """Each link of these emails to a known investor, contact or organization (email_id,
    fundraising_investor_id, contact_id, organization_id, address, confidence)."""
    found = []
    for chunk in _chunks(email_ids):
        found += rows(conn, f"""
            SELECT email_id, fundraising_investor_id, contact_id, organization_id, lower(address) AS address, confidence
            FROM email_investor_links WHERE email_id IN ({','.join('?' * len(chunk))})
            ORDER BY email_id, confidence DESC, address""", chunk)
    return found


def last_contact(conn, investor_ids, until: str) -> dict:
    """{grid investor id: when the latest listed email with them up to `until` was sent}, for those that have one."""
    found = {}
    for chunk in _chunks(list(investor_ids)):
        found.update((r["investor_id"], r["at"]) for r in rows(conn, f"""
            SELECT i.investor_id, max(a.sent_at) AS at
            FROM email_activity_investors i JOIN email_activity a ON a.email_id = i.email_id AND a.sent_at <= ?
            WHERE i.investor_id IN ({','.join('?' * len(chunk))}) GROUP BY i.investor_id""", (until, *chunk)))
    return found


def team_contact(conn, investor_ids, since: str, until: str) -> list:
    """Per grid investor and team member, the listed emails sent in (since, until] their mailboxes hold:
    investor_id, user_id, sent (in their Sent), received, last_at."""
    found = []
    for chunk in _chunks(list(investor_ids)):
        found += rows(conn, f"""
            SELECT i.investor_id, acc.user_id, sum(m.is_sent) AS sent, count(*) - sum(m.is_sent) AS received,
                   max(x.sent_at) AS last_at
            FROM email_activity_investors i
            JOIN email_activity x ON x.email_id = i.email_id AND x.sent_at > ? AND x.sent_at <= ?
            JOIN email_account_messages m ON m.email_id = i.email_id AND m.deleted_at IS NULL
            JOIN email_accounts acc ON acc.id = m.account_id
            WHERE i.investor_id IN ({','.join('?' * len(chunk))})
            GROUP BY i.investor_id, acc.user_id""", (since, until, *chunk))
    return found


def mailbox_owners(conn) -> set:
    """The ids of the users with a captured mailbox."""
    return {r["user_id"] for r in rows(conn, "SELECT DISTINCT user_id FROM email_accounts")}


def _chunks(ids: list, size: int = 500):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
