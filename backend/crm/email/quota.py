"""Gmail quota units per method, and the token bucket that keeps each mailbox under Google's limit.

Google allows 15,000 units per user per minute (250 a second); a mailbox's bucket
runs at CRM_GMAIL_RATE_UNITS_SEC (150 by default), well below it, so a burst of
retries or a second process does not tip an account into 429s. The caller keeps
one bucket per account and hands it to that account's GmailClient.
"""
import threading
import time

COSTS = {
    "messages.list": 5,
    "messages.get": 5,
    "history.list": 2,
    "messages.attachments.get": 5,
    "drafts.create": 10,
    "messages.send": 100,
    "getProfile": 1,
    "labels.list": 1,
}
GOOGLE_UNITS_PER_USER_MINUTE = 15_000
DEFAULT_RATE_UNITS_SEC = 150


class TokenBucket:
    """`rate_per_sec` units a second, bursts up to `capacity` (default: one second's worth).

    `take(units)` returns once the units are the caller's. Over any stretch of
    time t, takes add up to at most capacity + rate * t. A take larger than the
    capacity is allowed: it waits for the whole deficit. Thread-safe: a take
    reserves its units under the lock (the level may go below zero) and sleeps
    outside it, so later callers queue behind the reservation instead of
    overtaking it.
    """

    def __init__(self, rate_per_sec: float, capacity: float | None = None, clock=time.monotonic, sleep=time.sleep):
        if rate_per_sec <= 0:
            raise ValueError("rate_per_sec must be positive")
        self.rate = float(rate_per_sec)
        self.capacity = float(capacity if capacity is not None else rate_per_sec)
        self._clock = clock
        self._sleep = sleep
        self._level = self.capacity
        self._at = clock()
        self._lock = threading.Lock()

    def take(self, units: float):
        with self._lock:
            now = self._clock()
            self._level = min(self.capacity, self._level + (now - self._at) * self.rate)
            self._at = now
            self._level -= units
            wait = -self._level / self.rate if self._level < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
