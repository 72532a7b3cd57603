"""Sliding-window counters kept in memory, per key (a client address or a username).

Each key keeps the times of its recent events; an event is allowed while fewer
than `limit` fall inside the last `window` seconds. The clock is injectable so
tests can move time instead of sleeping.
"""
import threading
import time
from collections import defaultdict, deque


class SlidingWindow:
    def __init__(self, limit: int, window: float = 60.0, clock=time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, events, now):
        while events and events[0] <= now - self.window:
            events.popleft()

    def hit(self, key) -> float:
        """Record an event; return 0 if allowed, else seconds until one would be."""
        now = self.clock()
        with self._lock:
            events = self._events[key]
            self._trim(events, now)
            if len(events) >= self.limit:
                return events[0] + self.window - now
            events.append(now)
            if len(self._events) > 50_000:
                self._sweep(now)
            return 0.0

    def count(self, key) -> int:
        now = self.clock()
        with self._lock:
            events = self._events.get(key)
            if not events:
                return 0
            self._trim(events, now)
            return len(events)

    def blocked_for(self, key) -> float:
        """Seconds until `key` may act again without recording anything (0 if it may now)."""
        now = self.clock()
        with self._lock:
            events = self._events.get(key)
            if not events:
                return 0.0
            self._trim(events, now)
            return events[0] + self.window - now if len(events) >= self.limit else 0.0

    def reset(self, key) -> None:
        with self._lock:
            self._events.pop(key, None)

    def _sweep(self, now):
        for key in [k for k, ev in self._events.items() if not ev or ev[-1] <= now - self.window]:
            del self._events[key]


class BanList:
    """Callers (addresses or users) that produced a burst of 404s, banned for a while."""

    def __init__(self, threshold: int, window: float, ban_seconds: float, clock=time.monotonic):
        self.counter = SlidingWindow(threshold, window, clock)
        self.ban_seconds = ban_seconds
        self.clock = clock
        self._until = {}
        self._lock = threading.Lock()

    def banned_for(self, key) -> float:
        with self._lock:
            until = self._until.get(key)
            if until is None:
                return 0.0
            left = until - self.clock()
            if left <= 0:
                del self._until[key]
                return 0.0
            return left

    def record_404(self, key) -> bool:
        """Count a 404; return True if this one earned a ban (the threshold-th in the window)."""
        self.counter.hit(key)
        if self.counter.count(key) >= self.counter.limit:
            with self._lock:
                self._until[key] = self.clock() + self.ban_seconds
            self.counter.reset(key)
            return True
        return False

    def banned(self) -> list:
        """The keys banned now."""
        with self._lock:
            return [key for key, until in self._until.items() if until > self.clock()]
