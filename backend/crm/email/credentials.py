"""Access tokens for Gmail: by domain-wide delegation (a service account acting as each user) or per-user OAuth.

Both providers answer `.token(user_email, scope, fresh=False) -> str` and keep
each (user, scope) token until 60 s before it expires; `fresh=True` (or
`.invalidate`) drops the cached one first, which is what GmailClient asks for
after a 401. `.for_user(user_email)` gives the `tokens(scope, fresh=False)`
callable a GmailClient takes.

Refusals from the token endpoint are raised as errors.PermissionDenied in plain
words ("delegation not granted for scope gmail.readonly..."), a failing or
unreachable endpoint as errors.Transient (GmailClient retries those). Neither
an assertion, a token, a secret nor a key ever appears in a message.
"""
import json
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import jwt
import requests
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from .errors import PermissionDenied, Transient, classify, unreachable

READONLY = "https://www.googleapis.com/auth/gmail.readonly"
COMPOSE = "https://www.googleapis.com/auth/gmail.compose"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600  # Google's maximum
EARLY_REFRESH = 60  # a token is replaced this many seconds before it expires


@dataclass(frozen=True, repr=False)
class ServiceAccount:
    """A Google service account key; repr shows the account only, never the key."""
    client_email: str
    private_key: str
    private_key_id: str

    def __repr__(self):
        return f"ServiceAccount({self.client_email!r})"

    @classmethod
    def from_file(cls, path) -> "ServiceAccount":
        """Read Google's JSON key file; ValueError naming the path (never its content) if unusable."""
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except OSError as exc:
            raise ValueError(f"service account key file {path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
        except (ValueError, UnicodeDecodeError):
            raise ValueError(f"service account key file {path}: not a JSON key file") from None
        fields = ("client_email", "private_key", "private_key_id")
        missing = [f for f in fields if not isinstance(data, dict) or not isinstance(data.get(f), str) or not data[f]]
        if missing:
            raise ValueError(f"service account key file {path}: missing {', '.join(missing)}")
        try:
            load_pem_private_key(data["private_key"].encode(), password=None)
        except (ValueError, TypeError):
            raise ValueError(f"service account key file {path}: private_key is not a readable PEM key") from None
        return cls(data["client_email"], data["private_key"], data["private_key_id"])


class _TokenCache:
    """Tokens per (user, scope) until EARLY_REFRESH seconds before expiry; one mint at a time per key.

    A lock per key lets many threads wanting the same token wait for one exchange,
    while tokens for other users are minted in parallel.
    """

    def __init__(self, clock):
        self._clock = clock
        self._tokens = {}  # key -> (token, replace_at)
        self._locks = {}
        self._guard = threading.Lock()

    def get(self, key, mint, fresh=False) -> str:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            cached = self._tokens.get(key)
            if cached and not fresh and self._clock() < cached[1]:
                return cached[0]
            asked_at = self._clock()
            token, expires_in = mint()
            self._tokens[key] = (token, asked_at + float(expires_in) - EARLY_REFRESH)
            return token

    def drop(self, key):
        with self._guard:
            self._tokens.pop(key, None)


def _key(user_email: str, scope: str) -> tuple:
    return user_email.strip().lower(), " ".join(sorted(scope.split()))


def _post_token(session, token_uri, form, timeout, scope, grant) -> dict:
    """POST a grant to the token endpoint; the answer's JSON, or the classified refusal raised."""
    try:
        response = session.post(token_uri, data=form, timeout=timeout, headers={"Accept": "application/json"})
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise unreachable(exc) from None
    if response.status_code != 200:
        raise classify(response.status_code, response.content, response.headers, scope=scope, grant=grant)
    try:
        answer = response.json()
    except ValueError:
        raise Transient("Google's token endpoint answered with unreadable JSON", 200) from None
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise Transient("Google's token endpoint answered without an access token", 200)
    return answer


class _Provider:
    """What both token providers share: the cache, `invalidate` and `for_user`."""

    def __init__(self, clock):
        self._clock = clock
        self._cache = _TokenCache(clock)

    def token(self, user_email: str, scope: str, fresh: bool = False) -> str:
        return self._cache.get(_key(user_email, scope), lambda: self._mint(user_email, scope), fresh)

    def invalidate(self, user_email: str, scope: str):
        self._cache.drop(_key(user_email, scope))

    def for_user(self, user_email: str):
        """The `tokens(scope, fresh=False)` callable GmailClient takes, bound to one mailbox."""
        return lambda scope, fresh=False: self.token(user_email, scope, fresh)

    def _mint(self, user_email, scope) -> tuple:
        raise NotImplementedError


class DelegatedTokens(_Provider):
    """Domain-wide delegation: a JWT signed by the service account, `sub` = the user (RFC 7523)."""

    def __init__(self, service_account: ServiceAccount, token_uri: str, session: requests.Session,
                 clock=time.time, timeout: float = 30):
        super().__init__(clock)
        self.service_account = service_account
        self.token_uri = token_uri
        self.session = session
        self.timeout = timeout

    def assertion(self, user_email: str, scope: str) -> str:
        """The signed JWT that asks for `scope` as `user_email`."""
        issued = int(self._clock())
        claims = {"iss": self.service_account.client_email, "sub": user_email, "scope": scope,
                  "aud": self.token_uri, "iat": issued, "exp": issued + ASSERTION_LIFETIME}
        return jwt.encode(claims, self.service_account.private_key, algorithm="RS256",
                          headers={"kid": self.service_account.private_key_id})

    def _mint(self, user_email, scope) -> tuple:
        form = {"grant_type": JWT_BEARER, "assertion": self.assertion(user_email, scope)}
        answer = _post_token(self.session, self.token_uri, form, self.timeout, scope, "jwt")
        return answer["access_token"], answer.get("expires_in", 3600)


class OAuthFlow:
    """The authorisation-code flow for one OAuth client (a user connects their own mailbox)."""

    def __init__(self, client_id: str, client_secret: str, redirect_uri: str, auth_uri: str, token_uri: str,
                 session: requests.Session, timeout: float = 30):
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.auth_uri = auth_uri
        self.token_uri = token_uri
        self.session = session
        self.timeout = timeout

    def __repr__(self):
        return f"OAuthFlow({self.client_id!r})"

    def consent_url(self, state: str, login_hint: str | None = None, scopes=(READONLY,)) -> str:
        """Where to send the user: offline access (a refresh token), consent asked again so one is always issued."""
        params = {"client_id": self.client_id, "redirect_uri": self.redirect_uri, "response_type": "code",
                  "scope": " ".join(scopes), "access_type": "offline", "prompt": "consent",
                  "include_granted_scopes": "true", "state": state}
        if login_hint:
            params["login_hint"] = login_hint
        return f"{self.auth_uri}?{urlencode(params)}"

    def exchange(self, code: str) -> dict:
        """{"access_token", "refresh_token", "expires_in", "scope"} for the code the redirect brought back."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "client_id": self.client_id, "client_secret": self._client_secret}
        answer = _post_token(self.session, self.token_uri, form, self.timeout, None, "authorization_code")
        if not answer.get("refresh_token"):
            raise PermissionDenied("Google issued no refresh token: connect Gmail again and grant offline access", 200)
        return {"access_token": answer["access_token"], "refresh_token": answer["refresh_token"],
                "expires_in": answer.get("expires_in", 3600), "scope": answer.get("scope", "")}

    def refresh(self, refresh_token: str, scope: str | None = None) -> dict:
        """{"access_token", "expires_in"} from a stored refresh token; PermissionDenied once it is revoked."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
                "client_id": self.client_id, "client_secret": self._client_secret}
        answer = _post_token(self.session, self.token_uri, form, self.timeout, scope, "refresh_token")
        return {"access_token": answer["access_token"], "expires_in": answer.get("expires_in", 3600)}


class OAuthTokens(_Provider):
    """Access tokens from each user's stored refresh token; `load_refresh_token(user_email) -> str` opens it."""

    def __init__(self, flow: OAuthFlow, load_refresh_token, clock=time.time):
        super().__init__(clock)
        self.flow = flow
        self._load_refresh_token = load_refresh_token

    def _mint(self, user_email, scope) -> tuple:
        answer = self.flow.refresh(self._load_refresh_token(user_email), scope)
        return answer["access_token"], answer["expires_in"]
