"""The Gmail REST API (v1) for one mailbox: quota-paced, retried, counted.

Production and tests run this same code; only `base_url` differs
("https://gmail.googleapis.com", or the fake's address). `base_url` is scheme
and host only: batch inner requests name their paths from the host's root.

Every call first takes its quota units (quota.COSTS) from the mailbox's
TokenBucket, once per attempt, since Google charges every attempt. Errors are
errors.classify'd; a Transient one is retried up to `retry_max` times, after
Retry-After when Google sends it, else after min(backoff_cap, backoff_base *
2**attempt) plus up to `backoff_base` seconds of jitter. A 401 asks the token
provider once for a new token (`tokens(scope, fresh=True)`) and tries again; a
second 401 is PermissionDenied. `.stats` counts API calls (a batch's inner
calls each count), HTTP requests, units and retries, for the sync's run record.
"""
import base64
import json
import logging
import random as _random
import re
import secrets
import threading
import time
from email.message import Message
from urllib.parse import quote, urlencode

import requests
from requests.structures import CaseInsensitiveDict

from .credentials import COMPOSE, READONLY
from .errors import NotFound, Transient, classify, unreachable
from .quota import COSTS

log = logging.getLogger("crm.email")

API = "/gmail/v1/users/me"
BATCH_PATH = "/batch/gmail/v1"
BATCH_SIZE = 50  # Google takes 100 calls a batch but advises no more than 50
HISTORY_TYPES = ("messageAdded", "messageDeleted", "labelAdded", "labelRemoved")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


RETRY_AFTER_CAP = 300.0  # seconds


class GmailClient:
    """One mailbox's API. `tokens(scope, fresh=False) -> str` gives its access tokens
    (credentials.DelegatedTokens.for_user / OAuthTokens.for_user); `session` is the process's one
    requests.Session; `sleep` and `random` are injectable so tests record the waits."""

    def __init__(self, base_url: str, tokens, bucket, session: requests.Session, retry_max: int = 5,
                 backoff_base: float = 1.0, backoff_cap: float = 32.0, sleep=time.sleep, random=_random.random,
                 timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.bucket = bucket
        self.session = session
        self.retry_max = retry_max
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.sleep = sleep
        self.random = random
        self.timeout = timeout
        self.stats = {"calls": 0, "requests": 0, "units": 0, "retries": 0}
        self._stats_lock = threading.Lock()

    # --- the API ---------------------------------------------------------------

    def list_messages(self, q: str | None = None, page_token: str | None = None, max_results: int = 500,
                      label_ids=None, include_spam_trash: bool = False) -> dict:
        """One page: {"messages": [{"id", "threadId"}], "nextPageToken", "resultSizeEstimate"} (keys absent when empty)."""
        params = {"maxResults": max_results, "q": q, "pageToken": page_token, "labelIds": list(label_ids or ()),
                  "includeSpamTrash": "true" if include_spam_trash else None}
        return self._get("messages.list", "/messages", params)

    def get_message(self, id: str, format: str = "full", metadata_headers=None) -> dict:
        """The Message resource in `format` (full, metadata, raw, minimal)."""
        return self._get("messages.get", f"/messages/{quote(id, safe='')}", _message_params(format, metadata_headers))

    def batch_get(self, ids, format: str = "metadata", metadata_headers=None) -> dict:
        """{id: Message resource, or the GmailError for that id (NotFound when gone)}, in batches of 50.

        Inner calls that fail transiently are sent again, together, up to retry_max times.
        """
        unique = list(dict.fromkeys(ids))
        results = {}
        for start in range(0, len(unique), BATCH_SIZE):
            results.update(self._batch_chunk(unique[start:start + BATCH_SIZE], format, metadata_headers))
        return results

    def list_history(self, start_history_id, page_token: str | None = None, history_types=HISTORY_TYPES,
                     max_results: int = 500) -> dict:
        """One page of changes after `start_history_id`: {"history", "nextPageToken", "historyId"}.

        NotFound when Google no longer holds history that old: the mailbox needs a full sync.
        """
        params = {"startHistoryId": str(start_history_id), "pageToken": page_token,
                  "historyTypes": list(history_types), "maxResults": max_results}
        try:
            return self._get("history.list", "/history", params)
        except NotFound as exc:
            raise NotFound(f"history id {start_history_id} is too old for Google: a full sync is needed",
                           exc.status, exc.reason) from None

    def get_attachment(self, message_id: str, attachment_id: str) -> bytes:
        """The attachment's decoded bytes."""
        path = f"/messages/{quote(message_id, safe='')}/attachments/{quote(attachment_id, safe='')}"
        answer = self._get("messages.attachments.get", path, {})
        return _unbase64url(answer.get("data", ""))

    def get_profile(self) -> dict:
        """{"emailAddress", "messagesTotal", "threadsTotal", "historyId"}."""
        return self._get("getProfile", "/profile", {})

    def list_labels(self) -> dict:
        """{"labels": [{"id", "name", "type"}]}."""
        return self._get("labels.list", "/labels", {})

    def create_draft(self, raw: bytes, thread_id: str | None = None) -> dict:
        """A draft of the RFC 822 message `raw` (needs the compose scope): {"id", "message": {...}}."""
        message = _outgoing(raw, thread_id)
        return self._json(self._call("drafts.create", "POST", API + "/drafts", COMPOSE, json={"message": message}))

    def send_message(self, raw: bytes, thread_id: str | None = None) -> dict:
        """Send the RFC 822 message `raw` (needs the compose scope): {"id", "threadId", "labelIds"}."""
        return self._json(self._call("messages.send", "POST", API + "/messages/send", COMPOSE,
                                     json=_outgoing(raw, thread_id)))

    # --- one call, retried -------------------------------------------------------

    def _get(self, method: str, path: str, params: dict) -> dict:
        return self._json(self._call(method, "GET", API + path, READONLY, params=_present(params)))

    def _call(self, method: str, verb: str, path: str, scope: str, calls: int = 1, units: int | None = None,
              **kwargs) -> requests.Response:
        """Send until an answer other than a retryable failure; that answer, or its error raised."""
        units = COSTS[method] if units is None else units
        attempt, fresh, refreshed = 0, False, False
        while True:
            self.bucket.take(units)
            self._count(calls=calls, requests=1, units=units)
            try:
                response = self._send(verb, path, scope, fresh, **kwargs)
                error = None if response.status_code < 300 else classify(
                    response.status_code, response.content, response.headers)
            except Transient as exc:  # no answer, or the token endpoint failing
                response, error = None, exc
            fresh = False
            if error is None:
                return response
            if error.status == 401 and not refreshed:
                refreshed = fresh = True
                self._count(retries=calls)
                continue
            if isinstance(error, Transient) and attempt < self.retry_max:
                self._wait(method, attempt, error, calls)
                attempt += 1
                continue
            raise error

    def _send(self, verb, path, scope, fresh, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.tokens(scope, fresh=fresh)}", "Accept": "application/json"}
        headers.update(kwargs.pop("headers", {}))
        try:
            return self.session.request(verb, self.base_url + path, headers=headers, timeout=self.timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise unreachable(exc) from None

    def _wait(self, method: str, attempt: int, error: Transient, calls: int):
        # Google's Retry-After is honoured, up to a limit: a stray hour-long one must not stall the mailbox.
        delay = None if error.retry_after is None else min(error.retry_after, RETRY_AFTER_CAP)
        if delay is None:
            delay = min(self.backoff_cap, self.backoff_base * 2 ** attempt) + self.random() * self.backoff_base
        log.info("gmail %s: %s; retry %d of %d in %.1f s", method, error.message, attempt + 1, self.retry_max, delay)
        self._count(retries=calls)
        self.sleep(delay)

    def _count(self, **amounts):
        with self._stats_lock:
            for name, amount in amounts.items():
                self.stats[name] += amount

    @staticmethod
    def _json(response: requests.Response) -> dict:
        try:
            return response.json()
        except ValueError:
            raise Transient("Gmail answered with unreadable JSON", response.status_code) from None

    # --- batches -----------------------------------------------------------------

    def _batch_chunk(self, ids: list, format: str, metadata_headers) -> dict:
        results, pending, attempt = {}, ids, 0
        while pending:
            answers = self._batch_round(pending, format, metadata_headers)
            retry, worst = [], None
            for message_id in pending:
                outcome = _inner_outcome(answers.get(message_id))
                if isinstance(outcome, Transient) and attempt < self.retry_max:
                    retry.append(message_id)
                    if worst is None or (outcome.retry_after or 0) > (worst.retry_after or 0):
                        worst = outcome
                else:
                    results[message_id] = outcome
            if retry:
                self._wait("batch messages.get", attempt, worst, len(retry))
                attempt += 1
            pending = retry
        return results

    def _batch_round(self, ids: list, format: str, metadata_headers) -> dict:
        """One batch request for `ids`: {id: (status, headers, body)} for each inner answer found."""
        boundary = "batch_" + secrets.token_hex(16)
        query = urlencode(_present(_message_params(format, metadata_headers)), doseq=True)
        parts = [f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <item-{n}>\r\n\r\n"
                 f"GET {API}/messages/{quote(message_id, safe='')}?{query} HTTP/1.1\r\n\r\n"
                 for n, message_id in enumerate(ids)]
        body = ("".join(parts) + f"--{boundary}--\r\n").encode("ascii")
        response = self._call("batch", "POST", BATCH_PATH, READONLY, calls=len(ids),
                              units=COSTS["messages.get"] * len(ids), data=body,
                              headers={"Content-Type": f"multipart/mixed; boundary={boundary}"})
        by_item = {f"item-{n}": message_id for n, message_id in enumerate(ids)}
        answers = {}
        for content_id, answer in _inner_answers(response.headers.get("Content-Type", ""), response.content):
            message_id = by_item.get(content_id.removeprefix("response-"))
            if message_id is not None:
                answers[message_id] = answer
        return answers


# --- helpers -----------------------------------------------------------------------

def _message_params(format: str, metadata_headers) -> dict:
    return {"format": format, "metadataHeaders": list(metadata_headers or ())}


def _present(params: dict) -> dict:
    """Drop unset parameters (None, empty lists) so they are not sent as empty values."""
    return {k: v for k, v in params.items() if v is not None and v != []}


def _outgoing(raw: bytes, thread_id) -> dict:
    message = {"raw": base64.urlsafe_b64encode(raw).decode("ascii")}
    if thread_id:
        message["threadId"] = thread_id
    return message


def _unbase64url(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _inner_outcome(answer):
    """A batch inner answer as its Message resource or its GmailError (Transient when missing)."""
    if answer is None:
        return Transient("Google's batch answer left out this call: will retry")
    status, headers, body = answer
    if status >= 300:
        return classify(status, body, headers)
    try:
        return json.loads(body)
    except ValueError:
        return Transient("Gmail answered a batch call with unreadable JSON", status)


def _inner_answers(content_type: str, body: bytes):
    """(Content-ID without <>, (status, headers, body)) for each application/http part of a multipart answer."""
    holder = Message()
    holder["Content-Type"] = content_type
    boundary = holder.get_param("boundary")
    if holder.get_content_type() != "multipart/mixed" or not boundary:
        return
    delimiter = b"--" + boundary.encode("ascii", "replace")
    for piece in body.split(delimiter)[1:]:
        if piece.startswith(b"--"):
            break
        part_headers, http = _head(piece.removeprefix(b"\r\n").removeprefix(b"\n"))
        status_and_headers, inner_body = _head(http, status_line=True)
        if status_and_headers is not None:
            yield part_headers.get("Content-ID", "").strip().strip("<>"), (*status_and_headers, inner_body.rstrip(b"\r\n"))


def _head(data: bytes, status_line: bool = False):
    """Split header lines from what follows the blank line: (headers, rest), or with a status
    line first, ((status, headers), rest); None in place of a status line that is not HTTP."""
    found = _BLANK_LINE.search(data)
    head, rest = (data[:found.start()], data[found.end():]) if found else (data, b"")
    lines = head.decode("latin-1").splitlines()
    status = None
    if status_line:
        words = lines[0].split() if lines else []
        if len(words) < 2 or not words[0].startswith("HTTP/") or not words[1].isdigit():
            return None, rest
        status, lines = int(words[1]), lines[1:]
    headers = CaseInsensitiveDict()
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip()] = value.strip()
    return ((status, headers) if status_line else headers), rest
