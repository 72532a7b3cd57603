"""Who is looking at the grid, which cell each has selected or is editing, and the event hub.

Presence is ephemeral, so it lives in memory: an entry expires 60 s after its
last heartbeat, and an editing lock 30 s after it. The hub wakes the
Server-Sent Events streams when the grid version moves or presence changes.
"""
import threading
import time
import zlib

PRESENCE_TTL = 60.0
LOCK_TTL = 30.0
COLOURS = ("#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#4d7c0f")


class Presence:
    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._entries = {}  # user id -> entry
        self._lock = threading.Lock()
        self.changed = threading.Condition()
        self.generation = 0

    def heartbeat(self, user: dict, view_id, cell, editing: bool) -> dict:
        now = self.clock()
        with self._lock:
            entry = self._entries.get(user["id"], {})
            entry.update({
                "user_id": user["id"], "username": user["username"], "display_name": user["display_name"],
                "color": COLOURS[zlib.crc32(user["id"].encode()) % len(COLOURS)], "view_id": view_id, "cell": cell,
                "editing": bool(editing and cell), "seen": now,
            })
            if entry["editing"]:
                entry["editing_since"] = now
            self._entries[user["id"]] = entry
        self.notify()
        return self.public(entry, now)

    def leave(self, user_id) -> None:
        with self._lock:
            self._entries.pop(user_id, None)
        self.notify()

    def public(self, entry, now) -> dict:
        editing = entry["editing"] and now - entry["seen"] < LOCK_TTL
        return {k: entry[k] for k in ("user_id", "username", "display_name", "color", "view_id", "cell")} | {"editing": editing}

    def state(self) -> list:
        now = self.clock()
        with self._lock:
            for user_id in [u for u, e in self._entries.items() if now - e["seen"] >= PRESENCE_TTL]:
                del self._entries[user_id]
            return [self.public(e, now) for e in self._entries.values()]

    def locked_by(self, row_id, column_id, user_id):
        """The entry of another user editing this cell right now, or None."""
        now = self.clock()
        with self._lock:
            for entry in self._entries.values():
                cell = entry.get("cell") or {}
                if (entry["user_id"] != user_id and entry["editing"] and now - entry["seen"] < LOCK_TTL
                        and cell.get("row_id") == row_id and cell.get("column_id") == column_id):
                    return self.public(entry, now)
        return None

    def notify(self) -> None:
        with self.changed:
            self.generation += 1
            self.changed.notify_all()

    def wait(self, generation: int, timeout: float) -> int:
        """Block until something changed after `generation` (or timeout); return the new generation."""
        with self.changed:
            self.changed.wait_for(lambda: self.generation != generation, timeout)
            return self.generation
