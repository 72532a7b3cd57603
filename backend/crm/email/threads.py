"""Which conversation a message belongs to, across mailboxes.

RFC threading first (In-Reply-To and References name stored messages; a stored reply names
this one), so two partners' copies of one exchange with an LP are one thread; then Gmail's
threadId within the same mailbox; else a new thread. When a message joins threads that were
apart (its parent arrived through another mailbox), they merge.
"""
from . import store


def resolve(conn, account_id, message: dict) -> str:
    found = store.threads_of_message_ids(conn, [message.get("in_reply_to"), *(message.get("references") or ())])
    if message.get("message_id"):
        found += store.threads_replying_to(conn, message["message_id"])
    same_mailbox = store.thread_of_gmail_thread(conn, account_id, message["gmail_thread_id"])
    if same_mailbox:
        found.append(same_mailbox)
    distinct = list(dict.fromkeys(found))
    if not distinct:
        return store.add_thread(conn, message.get("subject"), message["sent_at"])
    if len(distinct) > 1:
        store.merge_threads(conn, distinct[0], distinct[1:])
    return distinct[0]
