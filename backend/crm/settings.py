"""app_settings: small JSON values by key, with who changed them and when."""
import json

from .clock import now_iso

_MISSING = object()


def get(conn, key: str, default=None, kind: type = None):
    """The stored value, or `default`. With `kind`, a stored value of another type is an error."""
    found = conn.execute("SELECT value FROM app_settings WHERE key = ?", (key,)).fetchone()
    if found is None:
        return default
    value = json.loads(found["value"])
    if kind is not None and not isinstance(value, kind):
        raise TypeError(f"setting {key!r} holds {type(value).__name__}, expected {kind.__name__}")
    return value


def put(conn, key: str, value, user_id=None) -> None:
    conn.execute(
        "INSERT INTO app_settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        (key, json.dumps(value), now_iso(), user_id),
    )
