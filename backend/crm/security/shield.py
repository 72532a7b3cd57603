"""The checks every request passes before routing: bans and rate limits, per caller.

A caller is the signed-in user when the request carries a validly signed token,
and the client address otherwise. Behind the StartOS proxy the whole team
arrives from one address, so keying signed-in requests by address would let one
partner's runaway script throttle or ban everyone; keying them by user confines
it to that user. The token is checked for its signature only here (no database
read): an unsigned or forged token cannot choose a fresh key, so it is keyed by
address like any other anonymous request. Authentication proper (active user,
token version, revocation) happens later, as before.
"""
import time
from dataclasses import dataclass

from ..auth import tokens
from ..errors import Forbidden, TooManyRequests
from .ratelimit import BanList, SlidingWindow

LOGIN_PATHS = {"/api/auth/login", "/api/auth/register", "/api/auth/accept-invite"}
FAILED_LOGIN_WINDOW = 15 * 60
USER_PREFIX = "user:"  # no address starts so, so the two kinds of key never collide


@dataclass(frozen=True)
class Caller:
    key: str    # what limits and bans count against
    who: str    # how refusals name it: "this address" or "your account"
    claims: dict = None  # the token's, signature checked: authentication need not decode it again


class Shield:
    def __init__(self, config, clock=time.monotonic):
        self.config = config
        self.login = SlidingWindow(config.login_rate_limit, 60, clock)
        self.writes = SlidingWindow(config.write_rate_limit, 60, clock)
        self.reads = SlidingWindow(config.get_rate_limit, 60, clock)
        self.failed_logins = SlidingWindow(config.login_failures_per_user, FAILED_LOGIN_WINDOW, clock)
        self.bans = BanList(config.abuse_404_threshold, config.abuse_404_window_sec, config.abuse_ban_sec, clock)

    def identify(self, authorization: str, ip: str) -> Caller:
        """Its user if the bearer token is validly signed, else its address."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            try:
                claims = tokens.decode(self.config.secret_key, token.strip())
            except tokens.InvalidToken:
                pass
            else:
                return Caller(USER_PREFIX + str(claims["sub"]), "your account", claims)
        return Caller(ip, "this address")

    def check(self, method: str, path: str, caller: Caller) -> None:
        """Raise Forbidden for a banned caller, TooManyRequests over a limit."""
        if not path.startswith("/api/"):
            # The app's files are public and the same for everyone: a ban on the
            # address a whole team shares must not stop their browsers loading them.
            return
        if self.bans.banned_for(caller.key) > 0:
            raise Forbidden(f"{caller.who} is temporarily blocked after too many requests for things that do not exist")
        if path in LOGIN_PATHS and method == "POST":
            bucket, what = self.login, "sign-in attempts"
        elif method in ("GET", "HEAD"):
            bucket, what = self.reads, "requests"
        elif method == "OPTIONS":
            return
        else:
            bucket, what = self.writes, "write requests"
        wait = bucket.hit(caller.key)
        if wait > 0:
            raise TooManyRequests(f"too many {what} from {caller.who}; try again in {int(wait) + 1} s", retry_after=wait + 1)

    def not_found(self, caller: Caller) -> None:
        self.bans.record_404(caller.key)

    def banned(self) -> dict:
        keys = self.bans.banned()
        users = sum(1 for key in keys if key.startswith(USER_PREFIX))
        return {"addresses": len(keys) - users, "users": users}

    def check_username(self, username: str) -> None:
        wait = self.failed_logins.blocked_for(username.lower())
        if wait > 0:
            raise TooManyRequests(f"too many failed sign-ins for this account; try again in {int(wait) + 1} s", retry_after=wait + 1)

    def login_failed(self, username: str) -> None:
        self.failed_logins.hit(username.lower())

    def login_succeeded(self, username: str) -> None:
        self.failed_logins.reset(username.lower())
