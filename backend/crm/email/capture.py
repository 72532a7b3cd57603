"""Gmail capture as the server runs it: credentials, one HTTP session, a quota bucket and a
lock per mailbox, the scheduled sync, run-now, re-match and the attachment worker.

The App holds one `Capture` when `CRM_GMAIL_INTEGRATION_ENABLED` is on, and none otherwise.
"""
import logging
import threading

import requests

from ..clock import now_iso, parse_iso, utcnow
from .. import hooks
from ..db import transaction
from . import attachments, proposals, store
from .client import GmailClient
from .credentials import DelegatedTokens, OAuthFlow, OAuthTokens, ServiceAccount
from .crypto import load_key, open_sealed
from .errors import GmailError, PermissionDenied
from .matcher import AddressIndex
from .quota import TokenBucket
from .sync import MailboxSync, Settings, sync_mailbox

log = logging.getLogger("crm.email")


class Capture:
    def __init__(self, config, pool, stopping: threading.Event, session=None, owner=None):
        self.config, self.pool, self.stopping = config, pool, stopping
        self.owner = owner  # the App, passed on to what follows a sync (crm.hooks.mail_synced)
        self.session = session or requests.Session()
        self.settings = Settings(
            own_domain=config.gmail_workspace_domain.lower(), page_size=config.gmail_backfill_page_size,
            private_label=config.gmail_private_label, skip_roles=config.gmail_skip_role_addresses,
            capture_label=config.gmail_capture_label if config.gmail_capture_mode == "labelled" else None,
            stale_days=config.gmail_history_stale_days, propose_days=config.email_propose_backfill_days)
        conn = pool.acquire()
        try:
            with transaction(conn):
                store.abandon_running(conn)  # a run the last process did not finish; its cursor resumes it
        finally:
            pool.release(conn)
        self._guard = threading.Lock()
        self._locks, self._buckets = {}, {}
        self._tokens = None
        self.backoff_base = 1.0  # seconds before the first retry of a Gmail call (then doubling, with jitter)
        self.flow = None
        if config.gmail_auth_method == "oauth":
            self.flow = OAuthFlow(config.gmail_oauth_client_id, config.gmail_oauth_client_secret,
                                  config.gmail_oauth_redirect_uri, config.gmail_oauth_auth_uri, config.gmail_token_uri,
                                  self.session)
            self.secret_key = load_key(config.gmail_secret_key)

    # -- credentials and clients -------------------------------------------------------------------

    def tokens(self):
        """The token provider, built on first use (a key file added later is picked up then)."""
        with self._guard:
            if self._tokens is None:
                if self.flow:
                    self._tokens = OAuthTokens(self.flow, self._refresh_token_of)
                else:
                    try:
                        account = ServiceAccount.from_file(self.config.gmail_sa_key_path)
                    except ValueError as exc:
                        raise PermissionDenied(str(exc)) from None
                    self._tokens = DelegatedTokens(account, self.config.gmail_token_uri, self.session)
            return self._tokens

    def _refresh_token_of(self, user_email):
        conn = self.pool.acquire()
        try:
            account = store.account_by_email(conn, user_email)
        finally:
            self.pool.release(conn)
        if not account or not account["refresh_token_sealed"]:
            raise PermissionDenied(f"{user_email} has not connected Gmail yet (GET /api/email/oauth/start)")
        return open_sealed(self.secret_key, account["refresh_token_sealed"])

    def client_for(self, account: dict) -> GmailClient:
        with self._guard:
            bucket = self._buckets.setdefault(account["id"], TokenBucket(self.config.gmail_rate_units_sec))
        return GmailClient(self.config.gmail_api_base_url, self.tokens().for_user(account["email"]), bucket,
                           self.session, retry_max=self.config.gmail_retry_max, backoff_base=self.backoff_base)

    def _lock(self, account_id) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(account_id, threading.Lock())

    # -- syncing -----------------------------------------------------------------------------------

    def sync(self, account_id, trigger="manual"):
        """Sync one mailbox now, then fetch its pending attachments. None if it is already syncing."""
        lock = self._lock(account_id)
        if not lock.acquire(blocking=False):
            return None
        conn = self.pool.acquire()
        try:
            account = store.account(conn, account_id)
            try:
                client = self.client_for(account)
            except PermissionDenied as exc:
                return self._refused(conn, account, exc)
            run = sync_mailbox(conn, account, client, self.settings, trigger, self.stopping)
            self.draft_proposals(conn)
            self.fetch_attachments(conn)
            return run
        finally:
            self.pool.release(conn)
            lock.release()

    def _refused(self, conn, account, exc) -> dict:
        with transaction(conn):
            store.update_account(conn, account["id"], status="needs_attention", last_error=exc.message,
                                 last_error_at=now_iso(), last_run_at=now_iso())
        return {"status": "error", "error": exc.message}

    def due(self, conn) -> list:
        """Active mailboxes of active users whose interval has passed and whose back-off is over."""
        now = now_iso()
        interval = self.config.gmail_sync_interval_min
        return [a for a in store.accounts(conn) if a["is_active"] and a["status"] == "active"
                and (a["next_attempt_at"] is None or a["next_attempt_at"] <= now)
                and (a["last_run_at"] is None or _minutes_since(a["last_run_at"]) >= interval or a["failures"])]

    def step(self) -> None:
        """The scheduler's step (a Loop every minute)."""
        conn = self.pool.acquire()
        try:
            due = [a["id"] for a in self.due(conn)]
        finally:
            self.pool.release(conn)
        runs = []
        for account_id in due:
            if self.stopping.is_set():
                break
            runs.append(self.sync(account_id, "schedule"))
        self.announce(runs)

    def announce(self, runs: list) -> None:
        """Tell who follows (the search index) that a cycle changed the captured mail; outside any transaction."""
        changed = [r for r in runs if r and (r.get("stored") or r.get("matched") or r.get("deleted"))]
        if changed and not self.stopping.is_set():
            hooks.mail_synced.announce(self.owner, changed)

    def run_now(self, account_ids: list) -> threading.Thread:
        """An admin's run: clears "needs attention" and syncs each mailbox in the background."""
        conn = self.pool.acquire()
        try:
            with transaction(conn):
                for account_id in account_ids:
                    store.update_account(conn, account_id, status="active", next_attempt_at=None)
        finally:
            self.pool.release(conn)
        worker = threading.Thread(target=lambda: self.announce([self.sync(a, "manual") for a in account_ids]),
                                  name="gmail-run-now", daemon=True)
        worker.start()
        return worker

    def fetch_attachments(self, conn) -> dict:
        def client_for(account_id):
            return self.client_for(store.account(conn, account_id))
        return attachments.download_pending(conn, client_for, attachments.storage_root(self.config.data_dir),
                                            self.config.gmail_max_attachment_mb * 1024 * 1024,
                                            self.config.gmail_attach_concurrency)

    # -- re-match ----------------------------------------------------------------------------------

    def rematch(self, conn) -> dict:
        """Match every stored email again (an investor added today matches last month's mail), then
        fetch the bodies of email that is matched now and was metadata only."""
        index = AddressIndex(conn, self.settings.own_domain)
        counts = {"checked": 0, "matched": 0, "newly_matched": 0, "unmatched": 0, "bodies_fetched": 0}
        wanted = set()  # mailboxes holding mail matched now whose body is not in
        after = ""
        while True:
            page = store.unmatched_or_matched(conn, after)
            if not page:
                break
            with transaction(conn):
                newly = []
                for email in page:
                    counts["checked"] += 1
                    links = index.match(store.as_message(email))
                    store.replace_links(conn, email["id"], links)
                    store.set_matched(conn, email["id"], bool(links))
                    counts["matched" if links else "unmatched"] += 1
                    if links and not email["is_matched"]:
                        counts["newly_matched"] += 1
                        newly.append(email["id"])
                    if links and not email["has_body"]:
                        wanted.update(s["account_id"] for s in store.sightings_of(conn, email["id"]))
                proposals.propose(conn, newly, self.settings.propose_days)
            after = page[-1]["id"]
        for account_id in sorted(wanted):
            counts["bodies_fetched"] += self._fetch_bodies(conn, account_id)
        self.draft_proposals(conn)
        self.fetch_attachments(conn)
        return counts

    def draft_proposals(self, conn) -> dict:
        """Ask the local model for the notes just proposed (a network call: outside any transaction)."""
        return proposals.draft_pending(conn, self.config, self.session)

    def _fetch_bodies(self, conn, account_id) -> int:
        account = store.account(conn, account_id)
        try:
            return MailboxSync(conn, account, self.client_for(account), self.settings).fill_bodies()
        except GmailError as exc:
            log.warning("re-match: bodies for mailbox %s not fetched: %s", account_id, exc.message)
            return 0


def _minutes_since(moment: str) -> float:
    return (utcnow() - parse_iso(moment)).total_seconds() / 60
