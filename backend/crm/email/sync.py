"""One mailbox's sync: the backfill, then incremental history, then a bounded re-scan when
Gmail's history has expired.

Fetch only what is needed: list (with a Gmail `q` that already leaves out blocklisted
addresses and private threads) → `format=metadata` in batches → the capture rules and the
matcher on headers → `format=full` only for matched mail. Each page is fetched first and
then written in one transaction together with the cursor it advances, so a crash loses at
most the page in flight and a resumed sync never stores anything twice (Message-ID dedupe,
and per mailbox the Gmail ids already seen are not fetched again).
"""
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from ..clock import iso, now_iso, parse_iso, utcnow
from ..db import transaction
from . import proposals, rules, store, threads
from .errors import GmailError, NotFound, PermissionDenied
from .matcher import AddressIndex
from .parser import ParseError, parse_message

log = logging.getLogger("crm.email.sync")

METADATA_HEADERS = ("From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
                    "List-Unsubscribe", "List-Id", "Precedence", "Auto-Submitted")
HISTORY_TYPES = ("messageAdded", "messageDeleted", "labelAdded", "labelRemoved")


@dataclass
class Settings:
    """What the sync reads of the configuration (crm.config, CRM_GMAIL_*)."""
    own_domain: str
    page_size: int = 500
    private_label: str = "CRM-Private"
    capture_label: str | None = None  # set in `labelled` mode
    skip_roles: bool = True
    stale_days: int = 5
    propose_days: int = 14  # CRM_EMAIL_PROPOSE_BACKFILL_DAYS: newly matched mail this recent gets a proposed note


@dataclass
class Counts:
    kind: str
    listed: int = 0
    fetched: int = 0
    stored: int = 0
    matched: int = 0
    deleted: int = 0
    units: int = 0
    skipped: dict = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class MailboxSync:
    """Sync one account through `client` (crm.email.client.GmailClient) on `conn`."""

    def __init__(self, conn, account: dict, client, settings: Settings, stop=None):
        self.conn, self.account, self.client, self.settings = conn, account, client, settings
        self.stop = stop  # a threading.Event: a long backfill ends between pages at shutdown
        self.account_id = account["id"]
        self.labels = {}
        self.counts = None

    # -- the three kinds of run --------------------------------------------------------------------

    def run(self) -> Counts:
        """Sync once; raises GmailError (the caller records it). Returns what was done."""
        account = store.account(self.conn, self.account_id)
        self.labels = {label["name"]: label["id"] for label in self.client.list_labels().get("labels", [])}
        self.blocklist = store.blocklist_for(self.conn, account["user_id"])
        self.index = AddressIndex(self.conn, self.settings.own_domain)
        if not account["backfill_done_at"]:
            self.counts = Counts("backfill")
            self._backfill(account)
        else:
            self.counts = Counts("incremental")
            try:
                self._incremental(account)
            except NotFound:  # the stored history id is older than Gmail keeps
                self.counts.kind = "rescan"
                self._rescan(account)
        self.fill_bodies()
        return self.counts

    def fill_bodies(self) -> int:
        """Bodies of matched mail that are not in yet (a fetch that failed, a re-match): fetched now."""
        missing = dict(store.matched_without_body(self.conn, self.account_id))
        if not missing:
            return 0
        if self.counts is None:
            self.counts = Counts("incremental")
        answers = self.client.batch_get(list(missing), format="full")
        filled = 0
        with transaction(self.conn):
            for gmail_id, answer in answers.items():
                message = self._parsed_body(answer)
                if message:
                    store.set_body(self.conn, missing[gmail_id], message)
                    store.add_attachment_stubs(self.conn, missing[gmail_id], self.account_id, message)
                    filled += 1
        return filled

    def _query(self, extra="") -> str:
        q = rules.list_query(blocklist=self.blocklist, private_label=self.settings.private_label,
                             capture_label=self.settings.capture_label)
        return f"{q} {extra}".strip()

    def _backfill(self, account) -> None:
        if not account["backfill_started_at"]:
            # History from this moment on is replayed by the first incremental run.
            history_id = self.client.get_profile()["historyId"]
            with transaction(self.conn):
                store.update_account(self.conn, self.account_id, backfill_started_at=now_iso(), history_id=history_id)
        cursor = account["backfill_cursor"]
        while not (self.stop and self.stop.is_set()):
            page = self.client.list_messages(q=self._query() or None, page_token=cursor, max_results=self.settings.page_size)
            cursor = page.get("nextPageToken")
            done = {"backfill_cursor": cursor} if cursor else {"backfill_cursor": None, "backfill_done_at": now_iso()}
            self._take([m["id"] for m in page.get("messages", [])], account_updates=done)
            if not cursor:
                return

    def _incremental(self, account) -> None:
        added, deleted, private_threads, labels = [], set(), set(), {}
        page_token, latest = None, account["history_id"]
        private_id = self.labels.get(self.settings.private_label)
        while True:
            page = self.client.list_history(account["history_id"], page_token=page_token, history_types=HISTORY_TYPES)
            for record in page.get("history", []):
                for entry in record.get("messagesAdded", []):
                    added.append(entry["message"]["id"])
                for entry in record.get("messagesDeleted", []):
                    deleted.add(entry["message"]["id"])
                for entry in record.get("labelsAdded", []) + record.get("labelsRemoved", []):
                    labels[entry["message"]["id"]] = entry["message"].get("labelIds", [])
                for entry in record.get("labelsAdded", []):
                    if private_id and private_id in entry.get("labelIds", []):
                        private_threads.add(entry["message"]["threadId"])
            latest = page.get("historyId", latest)
            page_token = page.get("nextPageToken")
            if not page_token:
                break
        with transaction(self.conn):
            self.counts.deleted = store.delete_sightings(self.conn, self.account_id, deleted)
            for gmail_id, label_ids in labels.items():
                store.set_labels(self.conn, self.account_id, gmail_id, label_ids)
            for gmail_thread in private_threads:
                self._make_private(gmail_thread)
        fresh = [gmail_id for gmail_id in dict.fromkeys(added) if gmail_id not in deleted]
        self._take(fresh, account_updates={"history_id": latest})

    def _rescan(self, account) -> None:
        """List again from a little before the last success; what is known already is not fetched."""
        history_id = self.client.get_profile()["historyId"]
        since = parse_iso(account["last_success_at"] or account["backfill_started_at"] or now_iso())
        after = (since - timedelta(days=self.settings.stale_days)).strftime("%Y/%m/%d")
        cursor = None
        while True:
            page = self.client.list_messages(q=self._query(f"after:{after}"), page_token=cursor,
                                             max_results=self.settings.page_size)
            cursor = page.get("nextPageToken")
            self._take([m["id"] for m in page.get("messages", [])], account_updates={} if cursor else {"history_id": history_id})
            if not cursor:
                return

    # -- a page of message ids -----------------------------------------------------------------------

    def _take(self, gmail_ids: list, account_updates: dict) -> None:
        """Fetch what is new among `gmail_ids`, then store it and `account_updates` in one transaction."""
        self.counts.listed += len(gmail_ids)
        known = store.known_gmail_ids(self.conn, self.account_id, gmail_ids)
        new = [g for g in gmail_ids if g not in known]
        candidates, skips = self._screen(self.client.batch_get(new, format="metadata", metadata_headers=METADATA_HEADERS))
        # A body another mailbox already brought in is not fetched again.
        wanted = [gmail_id for gmail_id, (message, links) in candidates.items()
                  if links and not store.has_body(self.conn, message["message_id"])]
        bodies = self.client.batch_get(wanted, format="full") if wanted else {}
        with transaction(self.conn):
            for message, reason, detail in skips:
                store.add_skip(self.conn, self.account_id, message, reason, detail)
            matched = []
            for gmail_id, (message, links) in candidates.items():
                full = self._parsed_body(bodies[gmail_id]) if gmail_id in bodies else None
                matched.append(self._store(full or message, links, with_body=full is not None))
            proposals.propose(self.conn, [email_id for email_id in matched if email_id], self.settings.propose_days)
            if account_updates:
                store.update_account(self.conn, self.account_id, **account_updates)

    def _screen(self, fetched: dict) -> tuple:
        """Split metadata answers into candidates {gmail_id: (message, links)} and skips [(message, reason, detail)]."""
        candidates, skips = {}, []
        private_id = self.labels.get(self.settings.private_label)
        capture_id = self.labels.get(self.settings.capture_label) if self.settings.capture_label else None
        for gmail_id, answer in fetched.items():
            stub = {"gmail_id": gmail_id, "gmail_thread_id": None}
            if isinstance(answer, NotFound):
                self.counts.skip("gone")  # deleted between the list and the fetch: nothing to record
                continue
            if isinstance(answer, GmailError):
                raise answer
            try:
                message = parse_message(answer)
            except ParseError as exc:
                skips.append((stub, "unparseable", str(exc)))
                self.counts.skip("unparseable")
                continue
            reason = self._exclusion(message, private_id, capture_id)
            if reason:
                skips.append((message, reason, None))
                self.counts.skip(reason)
                continue
            candidates[gmail_id] = (message, self.index.match(message))
        return candidates, skips

    def _exclusion(self, message, private_id, capture_id):
        if private_id and (private_id in message["label_ids"]
                           or store.private_thread(self.conn, self.account_id, message["gmail_thread_id"])):
            return "private"
        if capture_id and capture_id not in message["label_ids"] \
                and not store.emails_in_gmail_thread(self.conn, self.account_id, message["gmail_thread_id"]):
            return "not_labelled"
        return rules.exclusion(message, own_domain=self.settings.own_domain, blocklist=self.blocklist,
                               skip_roles=self.settings.skip_roles)

    def _parsed_body(self, answer):
        if answer is None or isinstance(answer, GmailError):
            return None  # stored as metadata for now: a re-match fetches the body later
        try:
            self.counts.fetched += 1
            return parse_message(answer)
        except ParseError:
            self.counts.skip("unparseable_body")
            return None

    def _store(self, message: dict, links: list, with_body: bool):
        """Store one message; returns the email's id when this made it matched (else None)."""
        message_id = message["message_id"] or f"gmail-{self.account_id}-{message['gmail_id']}@capture.invalid"
        message = {**message, "message_id": message_id}
        existing = store.email_by_message_id(self.conn, message_id)
        if existing:
            email_id = existing["id"]  # another mailbox's copy: one more sighting of the same email
        else:
            thread_id = threads.resolve(self.conn, self.account_id, message)
            email_id = store.add_email(self.conn, message, thread_id)
            store.refresh_thread(self.conn, thread_id)
            self.counts.stored += 1
        store.add_sighting(self.conn, self.account_id, email_id, message, is_sent="SENT" in message["label_ids"])
        if with_body and not (existing and existing["has_body"]):
            store.set_body(self.conn, email_id, message)
            store.add_attachment_stubs(self.conn, email_id, self.account_id, message)
        if links:
            store.replace_links(self.conn, email_id, links)
            store.set_matched(self.conn, email_id, True)
            self.counts.matched += 1
            if not (existing and existing["is_matched"]):
                return email_id
        return None

    def _make_private(self, gmail_thread_id) -> None:
        """A thread labelled private after capture: its bodies go, and it is skipped from now on."""
        for email_id in store.emails_in_gmail_thread(self.conn, self.account_id, gmail_thread_id):
            store.exclude(self.conn, email_id, "private")
        store.add_skip(self.conn, self.account_id, {"gmail_id": f"thread:{gmail_thread_id}",
                                                    "gmail_thread_id": gmail_thread_id}, "private")


def sync_mailbox(conn, account: dict, client, settings: Settings, trigger: str, stop=None) -> dict:
    """Run one sync of `account` and record it; the account's status follows. Returns the run."""
    with transaction(conn):
        run_id = store.start_run(conn, account["id"], "backfill" if not account["backfill_done_at"] else "incremental", trigger)
        store.update_account(conn, account["id"], last_run_at=now_iso())
    started = time.monotonic()
    mailbox = MailboxSync(conn, account, client, settings, stop)
    units_before = client.stats.get("units", 0)
    status, error = "ok", None
    try:
        mailbox.run()
        updates = {"last_success_at": now_iso(), "last_error": None, "failures": 0, "next_attempt_at": None, "status": "active"}
    except GmailError as exc:
        status, error = "error", exc.message
        updates = _failure(store.account(conn, account["id"]), exc)
    except Exception:  # noqa: BLE001 - a bug must not stop other mailboxes; the log has the trace
        log.exception("sync of mailbox %s failed", account["id"])
        status, error = "error", "internal error while syncing (see the server log)"
        updates = _failure(store.account(conn, account["id"]), None)
    counts = mailbox.counts or Counts("backfill" if not account["backfill_done_at"] else "incremental")
    counts.units = client.stats.get("units", 0) - units_before
    with transaction(conn):
        store.finish_run(conn, run_id, status, counts.as_dict(), int((time.monotonic() - started) * 1000), error)
        store.update_account(conn, account["id"], **updates)
    return {"id": run_id, "status": status, "error": error, **counts.as_dict()}


# Temporary failures back off 1 minute × 2^failures, up to this.
BACKOFF_CAP = timedelta(hours=6)


def _failure(account: dict, exc) -> dict:
    message = exc.message if exc is not None else "internal error while syncing (see the server log)"
    updates = {"last_error": message, "last_error_at": now_iso()}
    if isinstance(exc, PermissionDenied):
        return {**updates, "status": "needs_attention", "next_attempt_at": None}  # until an admin runs it again
    failures = account["failures"] + 1
    wait = min(BACKOFF_CAP, timedelta(minutes=2 ** min(failures, 16)))
    return {**updates, "failures": failures, "next_attempt_at": iso(utcnow() + wait)}
