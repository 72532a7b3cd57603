"""The daily automation trigger: once per UTC day, run the enabled `daily` rules over every row."""
from .. import settings
from ..clock import utcnow
from ..db import transaction
from . import automations, ops

SETTING = "fundraising.automations.daily_last_run"


def run_if_due(conn, today: str = None) -> bool:
    """Run today's daily rules unless they already ran; returns True if they ran now."""
    today = today or utcnow().date().isoformat()
    with transaction(conn):
        if settings.get(conn, SETTING) == today:
            return False
        rules = [r for r in automations.load_rules(conn, "daily") if r["enabled"]]
        if rules:
            batch = ops.Batch(conn, None, ops.current_version(conn), check_conflicts=False)
            batch.actor["kind"] = "automation"
            row_ids = [r["id"] for r in conn.execute("SELECT id FROM fundraising_investors WHERE archived_at IS NULL")]
            batch.preload(row_ids)
            automations.run(batch, rules, row_ids, "daily", on_day=today)
            batch.finish()
        settings.put(conn, SETTING, today)
    return True
