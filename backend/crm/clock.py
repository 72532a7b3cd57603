"""Time in one place: ISO-8601 UTC strings for storage, and ids."""
import uuid
from datetime import datetime, timedelta, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a Z, so text order is time order."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now_iso() -> str:
    return iso(utcnow())


def iso_in(**delta) -> str:
    return iso(utcnow() + timedelta(**delta))


def parse_iso(text: str) -> datetime:
    """Parse an ISO-8601 date or date-time; naive values are taken as UTC. Raises ValueError."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def new_id() -> str:
    """A full random UUID as text (the original's 8-character ids collided)."""
    return str(uuid.uuid4())
