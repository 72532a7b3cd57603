"""The digest's settings in app_settings: the admins' policy, and what the scheduler remembers.

Policy (`digest_policy`, set in Settings → Admin): {enabled, send_hour, cold_after_days}. The
database row decides; on first boot it is written once from CRM_DIGEST_ENABLED and
CRM_DIGEST_SEND_HOUR, else {false, 18, 30}, so a later change of the environment never
overrides what an admin chose.

Schedule state, written only by crm.digest.runner:
  digest_last_sent_at    the end of the window the last scheduled digest covered (the cursor)
  digest_last_sent_date  the local day a scheduled digest was last sent, or attempted (the guard)
  digest_attempt         {date, since, until, started_at} while a scheduled send is under way
  digest_retry_after     after a send that certainly failed: not again before this instant
  digest_last_send       {at, kind, transport, recipients, email_count}: the last that went out
  digest_last_error      {at, kind, message}: the last that did not, in plain words
"""
from .. import settings
from ..validation import Body, Field

KEY = "digest_policy"
DEFAULTS = {"enabled": False, "send_hour": 18, "cold_after_days": 30}
POLICY = Body(
    Field("enabled", "boolean", doc="send the digest every day"),
    Field("send_hour", "integer", min=0, max=23, doc="the local hour it is sent at or after (0-23)"),
    Field("cold_after_days", "integer", min=0, max=365,
          doc="an investor with something open is going cold after this many days without email (0: never)"),
)

LAST_SENT_AT, LAST_SENT_DATE = "digest_last_sent_at", "digest_last_sent_date"
ATTEMPT, RETRY_AFTER = "digest_attempt", "digest_retry_after"
LAST_SEND, LAST_ERROR = "digest_last_send", "digest_last_error"
STATE_KEYS = (LAST_SENT_AT, LAST_SENT_DATE, ATTEMPT, RETRY_AFTER, LAST_SEND, LAST_ERROR)


def first_boot(config) -> dict:
    """The policy a database without one starts with: the environment's seed over the defaults."""
    seeded = dict(DEFAULTS)
    if config.digest_enabled is not None:
        seeded["enabled"] = config.digest_enabled
    if config.digest_send_hour is not None:
        seeded["send_hour"] = config.digest_send_hour
    return seeded


def seed(conn, config) -> None:
    """Write the first-boot policy unless the database has one (at start-up, before serving)."""
    if settings.get(conn, KEY) is None:
        settings.put(conn, KEY, first_boot(config))


def read(conn, config) -> dict:
    """The policy in force: the stored row over the first-boot values (a key added later gets its default)."""
    return {**first_boot(config), **settings.get(conn, KEY, {}, kind=dict)}


def state(conn) -> dict:
    """{key: value} of the schedule state (None where unset)."""
    return {key: settings.get(conn, key) for key in STATE_KEYS}
