"""Who is looking at the grid, which cell each has selected or is editing, and the event hub.

Presence is ephemeral, so it lives in memory, one entry per browser tab (a person with two tabs open
has two entries, each with its own cell): an entry expires 60 s after its last heartbeat (the client
beats every 20 s), an editing lock 30 s after it, and a tab that says it is leaving (`leave`) goes at
once. The hub wakes the Server-Sent Events streams when the grid version moves or presence changes.

Colours: each person keeps one colour, the same on every screen: `COLOURS[signup rank % 12]`, where the
rank is how many people signed up before them (`auth.users.signup_rank`, which never changes). The
first twelve people therefore never share a colour; the thirteenth has the first one's again. The
palette is ordered so that neighbours (people who joined one after the other) differ in hue.
"""
import threading
import time

PRESENCE_TTL = 60.0
LOCK_TTL = 30.0
COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2",
           "#db2777", "#4d7c0f", "#b45309", "#4338ca", "#0f766e", "#475569")


def colour(rank: int) -> str:
    """The colour of the person with this signup rank."""
    return COLOURS[rank % len(COLOURS)]


class Presence:
    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._entries = {}  # (user id, tab) -> entry
        self._lock = threading.Lock()
        self.changed = threading.Condition()
        self.generation = 0

    def heartbeat(self, user: dict, view_id, cell, editing: bool, tab: str = "", rank: int = 0) -> dict:
        """Where this tab of this user is now; `tab` is the browser tab's own id ("" for a client without one)."""
        now = self.clock()
        key = (user["id"], tab or "")
        with self._lock:
            entry = self._entries.get(key, {})
            entry.update({
                "user_id": user["id"], "username": user["username"], "display_name": user["display_name"],
                "color": colour(rank), "view_id": view_id, "cell": cell, "tab": tab or "",
                "editing": bool(editing and cell), "seen": now,
            })
            if entry["editing"]:
                entry["editing_since"] = now
            self._entries[key] = entry
        self.notify()
        return self.public(entry, now)

    def leave(self, user_id, tab: str = "") -> bool:
        """This tab is closing: forget it now rather than when it expires. True when it was present."""
        with self._lock:
            gone = self._entries.pop((user_id, tab or ""), None) is not None
        if gone:
            self.notify()
        return gone

    def public(self, entry, now) -> dict:
        editing = entry["editing"] and now - entry["seen"] < LOCK_TTL
        return {k: entry[k] for k in ("user_id", "username", "display_name", "color", "view_id", "cell", "tab")} | {"editing": editing}

    def state(self) -> list:
        now = self.clock()
        with self._lock:
            for key in [k for k, e in self._entries.items() if now - e["seen"] >= PRESENCE_TTL]:
                del self._entries[key]
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
