"""The checks every request passes before routing: bans and per-address rate limits."""
import time

from ..errors import Forbidden, TooManyRequests
from .ratelimit import BanList, SlidingWindow

LOGIN_PATHS = {"/api/auth/login", "/api/auth/register", "/api/auth/accept-invite"}
FAILED_LOGIN_WINDOW = 15 * 60


class Shield:
    def __init__(self, config, clock=time.monotonic):
        self.login = SlidingWindow(config.login_rate_limit, 60, clock)
        self.writes = SlidingWindow(config.write_rate_limit, 60, clock)
        self.reads = SlidingWindow(config.get_rate_limit, 60, clock)
        self.failed_logins = SlidingWindow(config.login_failures_per_user, FAILED_LOGIN_WINDOW, clock)
        self.bans = BanList(config.abuse_404_threshold, config.abuse_404_window_sec, config.abuse_ban_sec, clock)

    def check(self, method: str, path: str, ip: str) -> None:
        """Raise Forbidden for a banned address, TooManyRequests over a limit."""
        if self.bans.banned_for(ip) > 0:
            raise Forbidden("this address is temporarily blocked after too many bad requests")
        if not path.startswith("/api/"):
            return
        if path in LOGIN_PATHS and method == "POST":
            bucket, what = self.login, "sign-in attempts"
        elif method in ("GET", "HEAD"):
            bucket, what = self.reads, "requests"
        elif method == "OPTIONS":
            return
        else:
            bucket, what = self.writes, "write requests"
        wait = bucket.hit(ip)
        if wait > 0:
            raise TooManyRequests(f"too many {what} from this address; try again in {int(wait) + 1} s", retry_after=wait + 1)

    def check_username(self, username: str) -> None:
        wait = self.failed_logins.blocked_for(username.lower())
        if wait > 0:
            raise TooManyRequests(f"too many failed sign-ins for this account; try again in {int(wait) + 1} s", retry_after=wait + 1)

    def login_failed(self, username: str) -> None:
        self.failed_logins.hit(username.lower())

    def login_succeeded(self, username: str) -> None:
        self.failed_logins.reset(username.lower())
