"""The app's gate: ordinary requests pass together; a full restore passes alone.

While a restore copies a backup over the live database, every other API
request waits at the gate instead of failing on a locked or half-copied file.
Writer-preferring: once a restore is waiting, new requests queue behind it.
"""
import threading
from contextlib import contextmanager


class Gate:
    def __init__(self):
        self._cond = threading.Condition()
        self._active = 0
        self._exclusive = False
        self._waiting = 0

    @contextmanager
    def shared(self):
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive and not self._waiting)
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self):
        with self._cond:
            self._waiting += 1
            self._cond.wait_for(lambda: not self._exclusive and self._active == 0)
            self._waiting -= 1
            self._exclusive = True
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()
