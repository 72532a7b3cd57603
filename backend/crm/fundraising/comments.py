"""Row comments with @mentions, and each user's mentions inbox."""
import re

from .. import audit, interactions
from ..clock import new_id, now_iso
from ..errors import Forbidden, NotFound

MENTION = re.compile(r"(?<![\w.])@([A-Za-z0-9._-]{1,64})")


def _mentioned(conn, body: str) -> list:
    names = {m.rstrip(".") for m in MENTION.findall(body)}
    if not names:
        return []
    marks = ",".join("?" for _ in names)
    return conn.execute(f"SELECT id, username FROM users WHERE is_active = 1 AND username IN ({marks}) COLLATE NOCASE",
                        list(names)).fetchall()


def _shown(conn, comment) -> dict:
    comment["mentions"] = conn.execute(
        "SELECT u.id AS user_id, u.username FROM fundraising_mentions m JOIN users u ON u.id = m.user_id WHERE m.comment_id = ?",
        (comment["id"],)).fetchall()
    return comment


def list_for_row(conn, row_id) -> list:
    return [_shown(conn, c) for c in conn.execute(
        "SELECT c.*, u.username AS author FROM fundraising_comments c JOIN users u ON u.id = c.author_id "
        "WHERE c.investor_id = ? AND c.deleted_at IS NULL ORDER BY c.created_at, c.id", (row_id,))]


def get(conn, comment_id, row_id) -> dict:
    comment = conn.execute("SELECT c.*, u.username AS author FROM fundraising_comments c JOIN users u ON u.id = c.author_id "
                           "WHERE c.id = ? AND c.investor_id = ? AND c.deleted_at IS NULL", (comment_id, row_id)).fetchone()
    if comment is None:
        raise NotFound(f"no such comment: {comment_id}")
    return comment


def _save_mentions(conn, comment_id, body) -> None:
    """The comment's mentions as its text now names them: people still named keep theirs (read or not)."""
    named = [user["id"] for user in _mentioned(conn, body)]
    keep = f" AND user_id NOT IN ({','.join('?' for _ in named)})" if named else ""
    conn.execute(f"DELETE FROM fundraising_mentions WHERE comment_id = ?{keep}", [comment_id, *named])
    for user_id in named:
        conn.execute("INSERT OR IGNORE INTO fundraising_mentions (comment_id, user_id, created_at) VALUES (?, ?, ?)",
                     (comment_id, user_id, now_iso()))


def create(conn, req, row_id, body) -> dict:
    comment_id, now = new_id(), now_iso()
    conn.execute("INSERT INTO fundraising_comments (id, investor_id, author_id, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                 (comment_id, row_id, req.user["id"], body, now, now))
    _save_mentions(conn, comment_id, body)
    audit.record(conn, req, "fundraising_comment", comment_id, "create", {"investor_id": [None, row_id]},
                 refs=[interactions.ref("fundraising_investors", row_id)])
    return _shown(conn, get(conn, comment_id, row_id))


def _own(req, comment) -> None:
    if comment["author_id"] != req.user["id"]:
        raise Forbidden("only the author may change or delete a comment")


def update(conn, req, row_id, comment_id, body) -> dict:
    comment = get(conn, comment_id, row_id)
    _own(req, comment)
    conn.execute("UPDATE fundraising_comments SET body = ?, updated_at = ? WHERE id = ?", (body, now_iso(), comment_id))
    _save_mentions(conn, comment_id, body)
    audit.record(conn, req, "fundraising_comment", comment_id, "update", {"body": [comment["body"], body]},
                 refs=[interactions.ref("fundraising_investors", row_id)])
    return _shown(conn, get(conn, comment_id, row_id))


def delete(conn, req, row_id, comment_id) -> dict:
    comment = get(conn, comment_id, row_id)
    _own(req, comment)
    conn.execute("UPDATE fundraising_comments SET deleted_at = ? WHERE id = ?", (now_iso(), comment_id))
    audit.record(conn, req, "fundraising_comment", comment_id, "delete", refs=[interactions.ref("fundraising_investors", row_id)])
    return {"id": comment_id, "deleted": True}


def mentions_of(conn, user_id, limit, offset, unread_only=False) -> tuple:
    """(the comments that mention this user, newest first, each with `read`; how many there are)."""
    where = "m.user_id = ? AND c.deleted_at IS NULL" + (" AND m.read_at IS NULL" if unread_only else "")
    total = conn.execute("SELECT count(*) AS n FROM fundraising_mentions m JOIN fundraising_comments c ON c.id = m.comment_id "
                         f"WHERE {where}", (user_id,)).fetchone()["n"]
    found = conn.execute(
        "SELECT c.id AS comment_id, c.investor_id AS row_id, i.name AS row_name, c.body, u.username AS author, c.created_at, "
        "m.read_at IS NOT NULL AS read "
        "FROM fundraising_mentions m JOIN fundraising_comments c ON c.id = m.comment_id "
        "JOIN users u ON u.id = c.author_id JOIN fundraising_investors i ON i.id = c.investor_id "
        f"WHERE {where} ORDER BY c.created_at DESC, c.id LIMIT ? OFFSET ?", (user_id, limit, offset)).fetchall()
    for mention in found:
        mention["read"] = bool(mention["read"])
    return found, total


def unread_count(conn, user_id) -> int:
    """Mentions of this user in comments that still exist and that they have not read."""
    return conn.execute("SELECT count(*) AS n FROM fundraising_mentions m JOIN fundraising_comments c ON c.id = m.comment_id "
                        "WHERE m.user_id = ? AND m.read_at IS NULL AND c.deleted_at IS NULL", (user_id,)).fetchone()["n"]


def mark_read(conn, user_id, comment_ids=None) -> list:
    """Mark this user's mentions in these comments (None: all) read; the comment ids newly marked."""
    where, args = "user_id = ? AND read_at IS NULL", [user_id]
    if comment_ids is not None:
        if not comment_ids:
            return []
        where += f" AND comment_id IN ({','.join('?' for _ in comment_ids)})"
        args += list(comment_ids)
    marked = [r["comment_id"] for r in conn.execute(f"SELECT comment_id FROM fundraising_mentions WHERE {where}", args)]
    if marked:
        conn.execute(f"UPDATE fundraising_mentions SET read_at = ? WHERE {where}", [now_iso(), *args])
    return marked
