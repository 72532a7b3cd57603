"""build_digest: one window's digest, gathered (collect), told (narrative) and written (render)."""
from datetime import datetime, timezone

from ..clock import iso, parse_iso
from . import collect, narrative, render
from .policy import DEFAULTS


def build_digest(conn, since, until, chat=None, *, cold_after_days: int = DEFAULTS["cold_after_days"],
                 zone=timezone.utc) -> dict:
    """The digest for mail captured in (since, until] (datetimes or ISO-8601 text):
    {subject, body, html, has_activity, user_count, email_count, investor_count, cold_count,
    model_paragraphs, counted_paragraphs, since, until}. `chat(messages) -> text` writes each
    team member's paragraph (narrative.local_model); None, or a failure, counts them out instead.
    Reads only: the database is not written, so a preview changes nothing."""
    since, until = _moment(since), _moment(until)
    activity = collect.collect(conn, since, until, cold_after_days, until.astimezone(zone).date().isoformat())
    words = narrative.paragraphs(activity.people, chat)
    return {
        "subject": render.subject(activity, zone),
        "body": render.text(activity, words, zone),
        "html": render.html(activity, words, zone),
        "has_activity": activity.email_count > 0,
        "user_count": sum(1 for p in activity.people if p.email_count),
        "email_count": activity.email_count,
        "investor_count": len(activity.investors),
        "cold_count": len(activity.cold) + activity.cold_more,
        "model_paragraphs": sum(1 for _, by_model in words.values() if by_model),
        "counted_paragraphs": sum(1 for _, by_model in words.values() if not by_model),
        "since": iso(since),
        "until": iso(until),
    }


def _moment(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return parse_iso(value)
