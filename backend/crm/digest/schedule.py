"""When the digest is due, in the fund's local time. Pure functions of an instant: tests pass any clock.

The rule: once per local day, at or after `send_hour`, when enabled. The day is the local
calendar date and the hour is compared on the local wall clock, so daylight saving neither skips
a day (an hour that does not exist is passed, and the next wall-clock hour is later) nor doubles
one (a repeated hour is the same date, which the guard has already seen).
"""
from datetime import datetime, timedelta, timezone

from ..clock import parse_iso

MAX_WINDOW = timedelta(days=7)     # a digest switched off for weeks starts again from a week ago
FIRST_WINDOW = timedelta(hours=24)  # the first digest ever, and send-now, cover a day
LATE_CAPTURE = timedelta(days=2)    # mail first captured in a window but sent this long before it is not news


def local_day(now: datetime, zone) -> str:
    return now.astimezone(zone).date().isoformat()


def is_due(now: datetime, policy: dict, last_sent_date, zone) -> bool:
    local = now.astimezone(zone)
    return bool(policy["enabled"]) and local.hour >= policy["send_hour"] and local.date().isoformat() != last_sent_date


def next_due(now: datetime, policy: dict, last_sent_date, zone):
    """The instant (UTC) the scheduler will next send, or None when the digest is off. An
    overdue send is due now (within the scheduler's minute)."""
    if not policy["enabled"]:
        return None
    local = now.astimezone(zone)
    day = local.date()
    if day.isoformat() == last_sent_date:
        day += timedelta(days=1)
    # A wall-clock time in the day's zone; one that does not exist (spring forward) resolves to the hour after.
    at = datetime(day.year, day.month, day.day, policy["send_hour"], tzinfo=zone).astimezone(timezone.utc)
    return max(at, now.astimezone(timezone.utc))


def window(now: datetime, last_sent_at) -> tuple:
    """(since, until) for the scheduled digest: from the last one sent (no further back than a
    week), else a day, to now."""
    since = now - FIRST_WINDOW
    if last_sent_at:
        since = max(parse_iso(last_sent_at), now - MAX_WINDOW)
    return since, now
