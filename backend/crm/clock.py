"""Time in one place: ISO-8601 UTC strings for storage, ids, and the fund's local time zone."""
import os
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCALTIME = "/etc/localtime"


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
    """A full random UUID (version 4) as text (the original's 8-character ids collided).

    Formatted by hand from 16 random bytes: what str(uuid.uuid4()) gives, at a third of the cost
    (an import makes tens of thousands).
    """
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def zone(name: str = None) -> tzinfo:
    """The IANA zone `name`, or (None) the machine's own: $TZ if it names a zone, else
    /etc/localtime, else UTC. A real zone, not a fixed offset, so daylight saving is followed.
    ValueError for a name that is no zone."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{name!r} is not a time zone (an IANA name such as Europe/Berlin or America/New_York)") from None
    machine = os.environ.get("TZ", "").lstrip(":")
    if machine:
        try:
            return ZoneInfo(machine)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    target = os.path.realpath(LOCALTIME)
    if "/zoneinfo/" in target:  # Debian's link to its zone: the zone by name, so it is shown by name
        try:
            return ZoneInfo(target.split("/zoneinfo/", 1)[1])
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with open(LOCALTIME, "rb") as f:
            return ZoneInfo.from_file(f, key="localtime")
    except (OSError, ValueError):
        return timezone.utc
