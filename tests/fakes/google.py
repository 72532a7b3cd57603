"""A stand-in Google for tests: the OAuth token endpoint, the Gmail REST API (v1) and its batch endpoint.

    with FakeGoogle() as google:           # a real ThreadingHTTPServer on 127.0.0.1, ephemeral port
        google.write_key_file(path)         # the test service account's JSON key, in Google's shape
        google.grant("ann@fund.example", [READONLY])
        google.add_message("ann@fund.example", raw)
        ... GmailClient(google.url, ...), DelegatedTokens(..., google.token_url, ...)

The token endpoint verifies a JWT-bearer assertion as Google does: the RS256
signature against the test service account's public key, `kid`, and every claim
(iss, sub, scope, aud == token_url, iat not in the future beyond SKEW, exp after
now and at most an hour after iat); a scope the DWD grant table does not give
the user is refused with 401 unauthorized_client. Authorisation codes and
refresh tokens serve the OAuth flow. Every Gmail call checks its bearer token
and scope (gmail.readonly for reads, gmail.compose for drafts and sending, which
also allows reads), charges its quota units to the user in a sliding window
(`quota_per_minute`, over `quota_window` seconds; 429 rateLimitExceeded above
it, counted in `quota_violations`), and answers in Google's shapes, errors
included. `fail` and `delay` inject faults by path fragment, into batch inner
calls too. `clock` (seconds since the epoch) is injectable and drives token
lifetimes, the quota window and `newer_than:`.
"""
import base64
import binascii
import json
import re
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import message_from_bytes
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fakes.gmail_payload import attachment_bytes, message_resource

READONLY = "https://www.googleapis.com/auth/gmail.readonly"
COMPOSE = "https://www.googleapis.com/auth/gmail.compose"
MODIFY = "https://www.googleapis.com/auth/gmail.modify"
FULL = "https://mail.google.com/"
READ_SCOPES = frozenset({READONLY, COMPOSE, MODIFY, FULL})
WRITE_SCOPES = frozenset({COMPOSE, MODIFY, FULL})

# Google's published per-method quota units.
UNITS = {"messages.list": 5, "messages.get": 5, "history.list": 2, "messages.attachments.get": 5,
         "drafts.create": 10, "messages.send": 100, "getProfile": 1, "labels.list": 1}
SKEW = 60  # seconds an assertion's iat may run ahead of the fake's clock
TOKEN_LIFETIME = 3599
BATCH_PATH = "/batch/gmail/v1"
SYSTEM_LABELS = ("INBOX", "SENT", "DRAFT", "SPAM", "TRASH", "UNREAD", "STARRED", "IMPORTANT",
                 "CATEGORY_PERSONAL", "CATEGORY_SOCIAL", "CATEGORY_PROMOTIONS", "CATEGORY_UPDATES", "CATEGORY_FORUMS")
HISTORY_TYPES = ("messageAdded", "messageDeleted", "labelAdded", "labelRemoved")
_HISTORY_KEYS = {"messageAdded": "messagesAdded", "messageDeleted": "messagesDeleted",
                 "labelAdded": "labelsAdded", "labelRemoved": "labelsRemoved"}
_STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
_DEFAULT_REASONS = {400: "invalidArgument", 401: "authError", 403: "forbidden", 404: "notFound",
                    429: "rateLimitExceeded", 500: "backendError", 503: "backendError"}

SERVICE_ACCOUNT_EMAIL = "crm-capture@venture-crm-tests.iam.gserviceaccount.com"
KEY_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"
# One key for the whole test run: generating RSA keys is slow enough to notice per test.
PRIVATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_KEY_PEM = PRIVATE_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()).decode("ascii")


class GoogleError(Exception):
    """An answer other than 200, raised inside a handler and rendered by `FakeGoogle.handle`."""

    def __init__(self, status: int, body: dict, headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, dict(headers or {})


def api_error(status: int, message: str, reason: str | None = None, headers=None) -> GoogleError:
    """An error in the Gmail API's shape."""
    reason = reason or _DEFAULT_REASONS.get(status, "backendError")
    body = {"error": {"code": status, "message": message,
                      "errors": [{"message": message, "domain": "global", "reason": reason}],
                      "status": _STATUS_NAMES.get(status, "UNKNOWN")}}
    return GoogleError(status, body, headers)


def oauth_error(status: int, error: str, description: str) -> GoogleError:
    """An error in the token endpoint's shape."""
    return GoogleError(status, {"error": error, "error_description": description})


@dataclass
class Stored:
    id: str
    thread_id: str
    raw: bytes
    label_ids: list
    internal_date_ms: int
    history_id: int
    seq: int
    addresses: dict  # "from" / "to" / "cc" -> lower-cased addresses, for q


@dataclass
class Mailbox:
    email: str
    history_id: int = 1000
    history_floor: int = 0  # a startHistoryId below this is answered 404
    messages: dict = field(default_factory=dict)
    labels: dict = field(default_factory=lambda: {name: {"id": name, "name": name, "type": "system"}
                                                  for name in SYSTEM_LABELS})
    history: list = field(default_factory=list)


class FakeGoogle:
    def __init__(self, clock=time.time, quota_per_minute: int = 15_000, quota_window: float = 60.0):
        """`quota_window` is the sliding window's length in seconds; a test may shrink it (the limit
        shrinks with it, so the allowed rate stays `quota_per_minute` / 60 a second)."""
        self.clock = clock
        self.quota_window = quota_window
        self.quota_units = quota_per_minute * quota_window / 60
        self.calls = Counter()  # endpoint -> requests that reached it (a batch's inner calls each count)
        self.batch_sizes = []  # inner calls per batch request, in order
        self.token_requests = []  # {"grant_type", "sub", "scope"} of each token call
        self.drafts = []  # {"user", "id", "message_id", "thread_id", "raw"}
        self.sent = []  # {"user", "id", "thread_id", "raw"}
        self.quota_violations = Counter()
        self.broken = set()  # message ids answered without payload or raw (a lever for parse failures)
        self._lock = threading.RLock()
        self._mailboxes = {}
        self._grants = {}  # user -> set of scopes (domain-wide delegation)
        self._access = {}  # token -> (user, scopes, expires_at, refresh token or None)
        self._oauth_clients = {}  # client_id -> secret
        self._codes = {}  # code -> (user, scopes, client_id, redirect_uri)
        self._refresh = {}  # refresh token -> (user, scopes, client_id)
        self._units = {}  # user -> deque of (time, units) inside the window
        self._units_total = Counter()
        self._in_window = Counter()  # user -> units inside the window (the sum of _units[user])
        self._faults = []
        self._delays = []
        self._seq = 0
        self._server = None

    # --- lifecycle -------------------------------------------------------------------

    def __enter__(self):
        handler = type("Handler", (_Handler,), {"google": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.token_url = self.url + "/token"
        self.auth_url = self.url + "/o/oauth2/v2/auth"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-google",
                         daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    # --- the test's levers: accounts and grants --------------------------------------

    def write_key_file(self, path, private_key_pem: str = PRIVATE_KEY_PEM):
        """Google's JSON service account key; pass another PEM to get a key the fake will not trust."""
        key = {"type": "service_account", "project_id": "venture-crm-tests", "private_key_id": KEY_ID,
               "private_key": private_key_pem, "client_email": SERVICE_ACCOUNT_EMAIL,
               "client_id": "100000000000000000001", "auth_uri": self.auth_url, "token_uri": self.token_url}
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(key, handle)

    def grant(self, user_email: str, scopes):
        """Domain-wide delegation: the service account may act as `user_email` for `scopes`."""
        with self._lock:
            self._grants.setdefault(user_email.lower(), set()).update(scopes)
            self._mailbox(user_email)

    def oauth_client(self, client_id: str, secret: str):
        with self._lock:
            self._oauth_clients[client_id] = secret

    def issue_code(self, user_email: str, scopes=(READONLY,), client_id=None, redirect_uri=None) -> str:
        """What the consent screen would hand back: a single-use authorisation code."""
        code = "4/0fake-" + secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = (user_email.lower(), frozenset(scopes), client_id, redirect_uri)
            self._mailbox(user_email)
        return code

    def revoke(self, refresh_token: str):
        """The user removed access: the refresh token and the access tokens it gave stop working."""
        with self._lock:
            self._refresh.pop(refresh_token, None)
            for token in [t for t, grant in self._access.items() if grant[3] == refresh_token]:
                del self._access[token]

    def expire_access_tokens(self, user_email=None):
        """Every access token (of `user_email`) stops working, as if expired early."""
        with self._lock:
            for token in [t for t, grant in self._access.items() if user_email in (None, grant[0])]:
                del self._access[token]

    # --- the test's levers: mailboxes ------------------------------------------------

    def add_message(self, user_email: str, raw: bytes, label_ids=("INBOX",), thread_id=None,
                    internal_date_ms=None) -> str:
        with self._lock:
            stored = self._store(self._mailbox(user_email), raw, list(label_ids), thread_id, internal_date_ms)
            return stored.id

    def delete_message(self, user_email: str, message_id: str):
        with self._lock:
            box = self._mailbox(user_email)
            stored = box.messages.pop(message_id)
            self._record(box, "messageDeleted", stored)

    def add_label(self, user_email: str, name: str) -> str:
        with self._lock:
            box = self._mailbox(user_email)
            label_id = f"Label_{len(box.labels) - len(SYSTEM_LABELS) + 1}"
            box.labels[label_id] = {"id": label_id, "name": name, "type": "user"}
            return label_id

    def label_message(self, user_email: str, message_id: str, label_id: str):
        with self._lock:
            box = self._mailbox(user_email)
            stored = box.messages[message_id]
            if label_id not in stored.label_ids:
                stored.label_ids.append(label_id)
                self._record(box, "labelAdded", stored, [label_id])

    def unlabel_message(self, user_email: str, message_id: str, label_id: str):
        with self._lock:
            box = self._mailbox(user_email)
            stored = box.messages[message_id]
            if label_id in stored.label_ids:
                stored.label_ids.remove(label_id)
                self._record(box, "labelRemoved", stored, [label_id])

    def expire_history(self, user_email: str):
        """Every history id handed out so far is now too old: history.list answers 404 for it."""
        with self._lock:
            box = self._mailbox(user_email)
            box.history_floor = box.history_id  # the current id (getProfile's) stays usable, as in Gmail

    def history_id(self, user_email: str) -> str:
        with self._lock:
            return str(self._mailbox(user_email).history_id)

    # --- the test's levers: faults and quota -----------------------------------------

    def fail(self, path_fragment: str, status: int, times: int | None = 1, retry_after=None, reason=None):
        """The next `times` requests (None: all) whose path and query contain `path_fragment` get `status`."""
        with self._lock:
            self._faults.append({"fragment": path_fragment, "status": status, "times": times,
                                 "retry_after": retry_after, "reason": reason})

    def delay(self, path_fragment: str, seconds: float):
        """Requests whose path and query contain `path_fragment` are answered `seconds` late (real time)."""
        with self._lock:
            self._delays.append((path_fragment, seconds))

    def units_used(self, user_email: str) -> int:
        """Quota units charged to the user since the fake started."""
        with self._lock:
            return self._units_total[user_email.lower()]

    # --- dispatch --------------------------------------------------------------------

    def handle(self, verb: str, target: str, headers, body: bytes):
        """(status, headers, body) for one request; batch inner calls come through here too."""
        path = target.partition("?")[0]
        for fragment, seconds in list(self._delays):
            if fragment in target:
                time.sleep(seconds)
        try:
            if verb == "POST" and path == BATCH_PATH:
                with self._lock:
                    self.calls["batch"] += 1
                    self._inject(target, token=False)
                return self._batch(headers, body)
            with self._lock:
                return self._serve(verb, target, headers, body)
        except GoogleError as exc:
            return exc.status, {"Content-Type": "application/json; charset=UTF-8", **exc.headers}, \
                json.dumps(exc.body).encode()

    def _serve(self, verb, target, headers, body):
        path, _, query = target.partition("?")
        if path == "/token" and verb == "POST":
            self.calls["token"] += 1
            self._inject(target, token=True)
            return _json_answer(self._token(parse_qs(body.decode("ascii", "replace"))))
        method, scopes, serve, args = self._route(verb, path)
        self.calls[method] += 1
        self._inject(target, token=False)
        user = self._authorise(headers, scopes, args[0])
        self._charge(user, UNITS[method])
        return _json_answer(serve(self._mailbox(user), parse_qs(query), _json_body(body), *args[1:]))

    def _route(self, verb, path):
        """(method name, scopes that allow it, handler, (userId, path arguments...)) or a 404."""
        found = re.fullmatch(r"/gmail/v1/users/([^/]+)(/.*)", path)
        if found:
            user_id, rest = found.groups()
            for route_verb, pattern, method, scopes, serve in self._routes():
                matched = re.fullmatch(pattern, rest)
                if matched and verb == route_verb:
                    return method, scopes, serve, (user_id, *matched.groups())
        raise api_error(404, "Not Found", "notFound")

    def _routes(self):
        return (("GET", r"/profile", "getProfile", READ_SCOPES, self._profile),
                ("GET", r"/labels", "labels.list", READ_SCOPES, self._labels),
                ("GET", r"/messages", "messages.list", READ_SCOPES, self._list_messages),
                ("POST", r"/messages/send", "messages.send", WRITE_SCOPES, self._send),
                ("GET", r"/messages/([^/]+)/attachments/([^/]+)", "messages.attachments.get", READ_SCOPES,
                 self._attachment),
                ("GET", r"/messages/([^/]+)", "messages.get", READ_SCOPES, self._get_message),
                ("GET", r"/history", "history.list", READ_SCOPES, self._history),
                ("POST", r"/drafts", "drafts.create", WRITE_SCOPES, self._create_draft))

    def _inject(self, target, token):
        for fault in self._faults:
            if fault["fragment"] in target and fault["times"] != 0:
                if fault["times"] is not None:
                    fault["times"] -= 1
                extra = {"Retry-After": str(fault["retry_after"])} if fault["retry_after"] is not None else {}
                if token:
                    raise GoogleError(fault["status"], {"error": fault["reason"] or "server_error",
                                                        "error_description": "injected fault"}, extra)
                raise api_error(fault["status"], "injected fault", fault["reason"], extra)

    def _authorise(self, headers, allowed, user_id) -> str:
        scheme, _, token = (headers.get("Authorization") or "").partition(" ")
        grant = self._access.get(token) if scheme == "Bearer" else None
        if grant is None or grant[2] <= self.clock():
            raise api_error(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                                 "login cookie or other valid authentication credential.", "authError")
        user, scopes = grant[0], grant[1]
        if user_id not in ("me", user):
            raise api_error(403, "Delegation denied for " + user, "forbidden")
        if not scopes & allowed:
            raise api_error(403, "Request had insufficient authentication scopes.", "insufficientPermissions")
        return user

    def _charge(self, user, units):
        now = self.clock()
        window = self._units.setdefault(user, deque())
        while window and window[0][0] <= now - self.quota_window:
            self._in_window[user] -= window.popleft()[1]
        if self._in_window[user] + units > self.quota_units:
            self.quota_violations[user] += 1
            raise api_error(429, "User-rate limit exceeded.", "rateLimitExceeded")
        window.append((now, units))
        self._in_window[user] += units  # a running sum: adding up the window each call grew with the run
        self._units_total[user] += units

    # --- the token endpoint --------------------------------------------------------------

    def _token(self, form: dict) -> dict:
        value = lambda name: (form.get(name) or [""])[0]  # noqa: E731
        grant_type = value("grant_type")
        if grant_type == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            user, scopes = self._check_assertion(value("assertion"))
            self.token_requests.append({"grant_type": "jwt", "sub": user, "scope": " ".join(sorted(scopes))})
            return self._issue(user, scopes)
        self._check_client(value("client_id"), value("client_secret"))
        if grant_type == "authorization_code":
            user, scopes, refresh = self._redeem(value("code"), value("client_id"), value("redirect_uri"))
            self.token_requests.append({"grant_type": grant_type, "sub": user, "scope": " ".join(sorted(scopes))})
            return {**self._issue(user, scopes, refresh), "refresh_token": refresh}
        if grant_type == "refresh_token":
            user, scopes, client_id = self._refresh.get(value("refresh_token"), (None, None, None))
            if user is None or client_id != value("client_id"):
                raise oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
            self.token_requests.append({"grant_type": grant_type, "sub": user, "scope": " ".join(sorted(scopes))})
            return self._issue(user, scopes, value("refresh_token"))
        raise oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _check_assertion(self, assertion: str) -> tuple:
        """(user, scopes) from a valid, granted assertion; Google's refusal otherwise."""
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, PRIVATE_KEY.public_key(), algorithms=["RS256"],
                                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                         "verify_aud": False, "verify_iss": False, "verify_sub": False})
        except jwt.InvalidSignatureError:
            raise oauth_error(400, "invalid_grant", "Invalid JWT Signature.") from None
        except jwt.InvalidTokenError:
            raise oauth_error(400, "invalid_grant", "Invalid JWT.") from None
        if header.get("kid") != KEY_ID:
            raise oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
        now = self.clock()
        iat, exp = claims.get("iat"), claims.get("exp")
        if claims.get("iss") != SERVICE_ACCOUNT_EMAIL:
            raise oauth_error(400, "invalid_grant", "Invalid JWT: unknown issuer.")
        if claims.get("aud") != self.token_url:
            raise oauth_error(400, "invalid_grant", "Invalid JWT: audience is not the token URL.")
        if not isinstance(iat, int) or not isinstance(exp, int) or iat > now + SKEW or exp <= now \
                or exp <= iat or exp > iat + 3600:
            raise oauth_error(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) "
                                                    "and in a reasonable timeframe.")
        user, scopes = str(claims.get("sub") or "").lower(), frozenset(str(claims.get("scope") or "").split())
        if not user or not scopes:
            raise oauth_error(400, "invalid_grant", "Invalid JWT: sub and scope are required.")
        if not scopes <= self._grants.get(user, set()):
            raise oauth_error(401, "unauthorized_client", "Client is unauthorized to retrieve access tokens using "
                                                          "this method, or client not authorized for any of the "
                                                          "scopes requested.")
        return user, scopes

    def _check_client(self, client_id, secret):
        if client_id not in self._oauth_clients or self._oauth_clients[client_id] != secret:
            raise oauth_error(401, "invalid_client", "Unauthorized")

    def _redeem(self, code, client_id, redirect_uri) -> tuple:
        user, scopes, for_client, for_redirect = self._codes.pop(code, (None, None, None, None))
        if user is None or for_client not in (None, client_id):
            raise oauth_error(400, "invalid_grant", "Malformed auth code.")
        if for_redirect not in (None, redirect_uri):
            raise oauth_error(400, "redirect_uri_mismatch", "Bad Request")
        refresh = "1//fake-" + secrets.token_urlsafe(24)
        self._refresh[refresh] = (user, scopes, client_id)
        return user, scopes, refresh

    def _issue(self, user, scopes, refresh=None) -> dict:
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        self._access[token] = (user, frozenset(scopes), self.clock() + TOKEN_LIFETIME, refresh)
        return {"access_token": token, "expires_in": TOKEN_LIFETIME, "scope": " ".join(sorted(scopes)),
                "token_type": "Bearer"}

    # --- Gmail: reads ---------------------------------------------------------------------

    def _profile(self, box, params, body):
        return {"emailAddress": box.email, "messagesTotal": len(box.messages),
                "threadsTotal": len({m.thread_id for m in box.messages.values()}), "historyId": str(box.history_id)}

    def _labels(self, box, params, body):
        return {"labels": list(box.labels.values())}

    def _list_messages(self, box, params, body):
        matches, anywhere = _compile_query(_one(params, "q", ""), box, self.clock())
        wanted = set(params.get("labelIds", []))
        anywhere = anywhere or _one(params, "includeSpamTrash", "false") == "true"
        found = [m for m in sorted(box.messages.values(), key=lambda m: (m.internal_date_ms, m.seq), reverse=True)
                 if wanted <= set(m.label_ids) and matches(m)
                 and (anywhere or not {"SPAM", "TRASH"} & set(m.label_ids))]
        return _paged(found, params, 100, "messages", lambda m: {"id": m.id, "threadId": m.thread_id},
                      {"resultSizeEstimate": len(found)})

    def _get_message(self, box, params, body, message_id):
        stored = _found(box, message_id)
        fmt = _one(params, "format", "full")
        if fmt not in ("full", "metadata", "raw", "minimal"):
            raise api_error(400, f"Invalid value at 'format' ({fmt})", "invalidArgument")
        self.calls[f"messages.get:{fmt}"] += 1
        if stored.id in self.broken:  # a garbled answer: neither payload nor raw
            return {"id": stored.id, "threadId": stored.thread_id, "labelIds": stored.label_ids}
        return message_resource(stored.raw, id=stored.id, thread_id=stored.thread_id, label_ids=stored.label_ids,
                                internal_date_ms=stored.internal_date_ms, history_id=str(stored.history_id),
                                format=fmt, metadata_headers=params.get("metadataHeaders") or None)

    def _attachment(self, box, params, body, message_id, attachment_id):
        stored = _found(box, message_id)
        try:
            data = attachment_bytes(stored.raw, attachment_id)
        except KeyError:
            raise api_error(400, "Invalid attachment token", "invalidArgument") from None
        return {"size": len(data), "data": base64.urlsafe_b64encode(data).decode("ascii")}

    def _history(self, box, params, body):
        start = _one(params, "startHistoryId", "")
        if not start.isdigit():
            raise api_error(400, "Invalid startHistoryId", "invalidArgument")
        if int(start) < box.history_floor:
            raise api_error(404, "Requested entity was not found.", "notFound")
        types = params.get("historyTypes") or list(HISTORY_TYPES)
        if set(types) - set(HISTORY_TYPES):
            raise api_error(400, "Invalid value at 'history_types'", "invalidArgument")
        keys = {_HISTORY_KEYS[t] for t in types}
        records = [r for r in box.history if int(r["id"]) > int(start) and keys & set(r)]
        return _paged(records, params, 100, "history", lambda r: r, {"historyId": str(box.history_id)})

    # --- Gmail: writes ---------------------------------------------------------------------

    def _create_draft(self, box, params, body):
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        stored = self._store(box, _raw_of(message), ["DRAFT"], message.get("threadId"), None)
        draft_id = "r" + str(int(stored.id, 16))
        self.drafts.append({"user": box.email, "id": draft_id, "message_id": stored.id,
                            "thread_id": stored.thread_id, "raw": stored.raw})
        return {"id": draft_id, "message": {"id": stored.id, "threadId": stored.thread_id, "labelIds": ["DRAFT"]}}

    def _send(self, box, params, body):
        stored = self._store(box, _raw_of(body), ["SENT"], body.get("threadId"), None)
        self.sent.append({"user": box.email, "id": stored.id, "thread_id": stored.thread_id, "raw": stored.raw})
        return {"id": stored.id, "threadId": stored.thread_id, "labelIds": ["SENT"]}

    # --- batch ---------------------------------------------------------------------------

    def _batch(self, headers, body: bytes):
        content_type = headers.get("Content-Type") or ""
        envelope = BytesParser(policy=compat32).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        if not envelope.is_multipart() or envelope.get_content_subtype() != "mixed":
            raise api_error(400, "Batch requests must be multipart/mixed", "invalidArgument")
        parts = envelope.get_payload()
        if len(parts) > 100:
            raise api_error(400, "Too many requests in batch (the limit is 100).", "invalidArgument")
        with self._lock:
            self.batch_sizes.append(len(parts))
        boundary = "batch_" + secrets.token_hex(12)
        answer = b"".join(self._batch_part(part, headers, boundary) for part in parts) + f"--{boundary}--\r\n".encode()
        return 200, {"Content-Type": f"multipart/mixed; boundary={boundary}"}, answer

    def _batch_part(self, part, outer_headers, boundary) -> bytes:
        if part.get_content_type() != "application/http":
            raise api_error(400, "Each batch part must be application/http", "invalidArgument")
        request = part.get_payload(decode=True) or b""
        head, _, inner_body = request.replace(b"\r\n", b"\n").partition(b"\n\n")
        lines = head.decode("latin-1").split("\n")
        verb, target = (lines[0].split() + ["", ""])[:2]
        inner_headers = {"Authorization": outer_headers.get("Authorization") or ""}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                inner_headers[name.strip().title()] = value.strip()
        status, answer_headers, answer = self.handle(verb, target, inner_headers, inner_body)
        content_id = (part.get("Content-ID") or "").strip().strip("<>")
        header_lines = "".join(f"{k}: {v}\r\n" for k, v in answer_headers.items())
        return (f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <response-{content_id}>\r\n\r\n"
                f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n{header_lines}\r\n").encode() + answer + b"\r\n"

    # --- the store ---------------------------------------------------------------------------

    def _mailbox(self, user_email: str) -> Mailbox:
        key = user_email.lower()
        if key not in self._mailboxes:
            self._mailboxes[key] = Mailbox(key)
        return self._mailboxes[key]

    def _store(self, box, raw, label_ids, thread_id, internal_date_ms) -> Stored:
        self._seq += 1
        message_id = f"{0x18f0000000000000 + self._seq:016x}"
        stored = Stored(message_id, thread_id or message_id, raw, label_ids,
                        int(self.clock() * 1000) if internal_date_ms is None else internal_date_ms,
                        0, self._seq, _addresses(raw))
        box.messages[message_id] = stored
        self._record(box, "messageAdded", stored)
        return stored

    def _record(self, box, kind, stored, label_ids=None):
        box.history_id += 1
        stored.history_id = box.history_id
        message = {"id": stored.id, "threadId": stored.thread_id, "labelIds": list(stored.label_ids)}
        entry = {"message": message} if label_ids is None else {"message": message, "labelIds": label_ids}
        box.history.append({"id": str(box.history_id), "messages": [{"id": stored.id, "threadId": stored.thread_id}],
                            _HISTORY_KEYS[kind]: [entry]})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1  # one write per answer where it fits the buffer
    disable_nagle_algorithm = True  # else a large answer's second write waits ~40 ms on the client's delayed ACK
    google = None  # set on the subclass each FakeGoogle makes

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, payload = self.google.handle(self.command, self.path, self.headers, body)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format, *args):  # keep test output quiet
        pass


# --- helpers ---------------------------------------------------------------------------------

def _json_answer(data: dict):
    return 200, {"Content-Type": "application/json; charset=UTF-8"}, json.dumps(data).encode()


def _json_body(body: bytes) -> dict:
    if not body:
        return {}
    try:
        parsed = json.loads(body)
    except ValueError:
        raise api_error(400, "Invalid JSON payload received.", "parseError") from None
    return parsed if isinstance(parsed, dict) else {}


def _one(params: dict, name: str, default: str) -> str:
    return (params.get(name) or [default])[0]


def _found(box, message_id) -> Stored:
    if message_id not in box.messages:
        raise api_error(404, "Requested entity was not found.", "notFound")
    return box.messages[message_id]


def _raw_of(message: dict) -> bytes:
    raw = message.get("raw")
    if not isinstance(raw, str) or not raw:
        raise api_error(400, "Invalid value for ByteString: raw is required", "invalidArgument")
    try:
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        raise api_error(400, "Invalid value for ByteString", "invalidArgument") from None


def _paged(items, params, default_size, key, shown, answer) -> dict:
    """One page of `items` under `key`, the key left out when empty (as Gmail does), with nextPageToken."""
    size = _one(params, "maxResults", str(default_size))
    token = _one(params, "pageToken", "p0")
    if not size.isdigit() or not re.fullmatch(r"p\d+", token):
        raise api_error(400, "Invalid maxResults or pageToken", "invalidArgument")
    size, offset = max(1, min(500, int(size))), int(token[1:])
    page = items[offset:offset + size]
    if page:
        answer[key] = [shown(item) for item in page]
    if offset + size < len(items):
        answer["nextPageToken"] = f"p{offset + size}"
    return answer


def _addresses(raw: bytes) -> dict:
    headers = message_from_bytes(raw, policy=compat32)
    return {name: [address.lower() for _, address in getaddresses([str(v) for v in headers.get_all(name, [])])
                   if address]
            for name in ("from", "to", "cc")}


# --- q: the part of Gmail's search syntax the sync uses --------------------------------------

_QUERY_TOKEN = re.compile(r"-?\{|\}|[^\s{}]+")
_DAY_UNITS = {"d": 1, "m": 30, "y": 365}


def _compile_query(q: str, box: Mailbox, now: float):
    """(predicate over Stored, whether in:anywhere was asked); 400 for anything not understood."""
    anywhere = []
    terms, _ = _group(_QUERY_TOKEN.findall(q), 0, False, box, now, anywhere)
    return (lambda m: all(term(m) for term in terms)), bool(anywhere)


def _group(tokens, i, inside, box, now, anywhere):
    terms = []
    while i < len(tokens):
        token = tokens[i]
        if token == "}":
            if not inside:
                raise _bad_query()
            return terms, i + 1
        if token in ("{", "-{"):
            inner, i = _group(tokens, i + 1, True, box, now, anywhere)
            if not inner:
                raise _bad_query()
            either = (lambda group: lambda m: any(t(m) for t in group))(inner)
            terms.append(_negated(either) if token == "-{" else either)
            continue
        terms.append(_term(token, box, now, anywhere))
        i += 1
    if inside:
        raise _bad_query()
    return terms, i


def _term(token, box, now, anywhere):
    negate = token.startswith("-")
    name, sep, value = token.lstrip("-").partition(":")
    value = value.lower()
    if not sep or not value:
        raise _bad_query()
    if name in ("from", "to", "cc"):
        test = lambda m: any(_address_matches(a, value) for a in m.addresses[name])  # noqa: E731
    elif name in ("label", "in"):
        if value == "anywhere":
            if negate or name != "in":
                raise _bad_query()
            anywhere.append(True)
            return lambda m: True
        label_ids = {lid for lid, label in box.labels.items()
                     if label["name"].lower().replace(" ", "-") == value or lid.lower() == value
                     or (value == "drafts" and lid == "DRAFT")}
        test = lambda m: bool(label_ids & set(m.label_ids))  # noqa: E731
    elif name in ("after", "before"):
        moment = _query_time(value)
        test = (lambda m: m.internal_date_ms >= moment) if name == "after" else (lambda m: m.internal_date_ms < moment)
    elif name in ("newer_than", "older_than"):
        found = re.fullmatch(r"(\d+)([dmy])", value)
        if not found:
            raise _bad_query()
        moment = int((now - int(found[1]) * _DAY_UNITS[found[2]] * 86400) * 1000)
        test = (lambda m: m.internal_date_ms >= moment) if name == "newer_than" else (lambda m: m.internal_date_ms < moment)
    else:
        raise _bad_query()
    return _negated(test) if negate else test


def _negated(test):
    return lambda m: not test(m)


def _address_matches(address: str, value: str) -> bool:
    if value.startswith("@"):
        return address.endswith(value)
    if "@" in value:
        return address == value
    return value in address


def _query_time(value: str) -> int:
    """after:/before: take YYYY/MM/DD (UTC midnight here) or seconds since the epoch; milliseconds."""
    if value.isdigit():
        return int(value) * 1000
    found = re.fullmatch(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})", value)
    if not found:
        raise _bad_query()
    try:
        moment = datetime(int(found[1]), int(found[2]), int(found[3]), tzinfo=timezone.utc)
    except ValueError:
        raise _bad_query() from None
    return int(moment.timestamp() * 1000)


def _bad_query():
    return api_error(400, "Invalid query", "invalidArgument")
