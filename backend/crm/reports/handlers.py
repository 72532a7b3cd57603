"""Aggregates over the classic CRM. Deleted records never count."""
from datetime import timedelta

from ..clock import iso, utcnow
from ..shapes import INTEGER, NUMBER, OBJECT, STRING, array, obj
from ..validation import query_int
from . import pipeline as pipeline_report
from .pipeline import OPEN_STAGES

# What these routes answer (the OpenAPI document shows it).
DASHBOARD = obj(contacts=obj(total=INTEGER, by_type=OBJECT), organizations=INTEGER,
                pipeline=obj(open_opportunities=INTEGER, expected=NUMBER, committed=NUMBER),
                lps=obj(count=INTEGER, committed=NUMBER, funded=NUMBER), communications_last_30_days=INTEGER)
PIPELINE = array(obj(stage=STRING, count=INTEGER, expected=NUMBER, committed=NUMBER))
LP_BREAKDOWN = array(obj(investor_type=STRING, count=INTEGER, committed=NUMBER, funded=NUMBER))
ACTIVITY = obj(since=STRING, by_type=array(obj(week=STRING, type=STRING, count=INTEGER)),
               by_user=array(obj(week=STRING, count=INTEGER)))


def _one(conn, sql, params=()):
    return conn.execute(sql, params).fetchone()


def dashboard(req):
    """Headline figures: contacts, organizations, pipeline, LP totals, recent activity."""
    conn = req.db
    by_type = {r["contact_type"]: r["n"] for r in conn.execute(
        "SELECT contact_type, count(*) AS n FROM contacts WHERE deleted_at IS NULL GROUP BY contact_type")}
    marks = ",".join("?" for _ in OPEN_STAGES)
    pipeline = _one(conn, f"SELECT count(*) AS open, coalesce(sum(expected_amount), 0) AS expected, "
                          f"coalesce(sum(commitment_amount), 0) AS committed FROM opportunities "
                          f"WHERE deleted_at IS NULL AND stage IN ({marks})", OPEN_STAGES)
    lps = _one(conn, "SELECT count(*) AS n, coalesce(sum(commitment_amount), 0) AS committed, "
                     "coalesce(sum(funded_amount), 0) AS funded FROM lp_profiles WHERE deleted_at IS NULL")
    since = iso(utcnow() - timedelta(days=30))
    recent = _one(conn, "SELECT count(*) AS n FROM communications WHERE communication_date >= ? AND deleted_at IS NULL", (since,))
    return {
        "contacts": {"total": sum(by_type.values()), "by_type": by_type},
        "organizations": _one(conn, "SELECT count(*) AS n FROM organizations WHERE deleted_at IS NULL")["n"],
        "pipeline": {"open_opportunities": pipeline["open"], "expected": pipeline["expected"], "committed": pipeline["committed"]},
        "lps": {"count": lps["n"], "committed": lps["committed"], "funded": lps["funded"]},
        "communications_last_30_days": recent["n"],
    }


def pipeline(req):
    """Opportunities by stage, in pipeline order: count, expected and committed amounts."""
    return pipeline_report.by_stage(req.db)


def lp_breakdown(req):
    """LP profiles by investor type: how many, committed and funded."""
    return req.db.execute(
        "SELECT coalesce(investor_type, 'unspecified') AS investor_type, count(*) AS count, "
        "coalesce(sum(commitment_amount), 0) AS committed, coalesce(sum(funded_amount), 0) AS funded "
        "FROM lp_profiles WHERE deleted_at IS NULL GROUP BY 1 ORDER BY committed DESC, investor_type").fetchall()


def activity(req):
    """Communications per ISO week (Monday start) by type and by user, over the last `weeks` (default 12)."""
    weeks = query_int(req.query, "weeks", 12, 1, 104)
    start = utcnow() - timedelta(weeks=weeks)
    start = start - timedelta(days=start.weekday())
    since = iso(start.replace(hour=0, minute=0, second=0, microsecond=0))
    week = "date(communication_date, 'weekday 0', '-6 days')"
    by_type = req.db.execute(
        f"SELECT {week} AS week, type, count(*) AS count FROM communications "
        "WHERE deleted_at IS NULL AND communication_date >= ? GROUP BY 1, 2 ORDER BY 1, 2", (since,)).fetchall()
    by_user = req.db.execute(
        f"SELECT {week} AS week, c.created_by AS user_id, u.username, count(*) AS count FROM communications c "
        "LEFT JOIN users u ON u.id = c.created_by "
        "WHERE c.deleted_at IS NULL AND c.communication_date >= ? GROUP BY 1, 2 ORDER BY 1, 3", (since,)).fetchall()
    return {"since": since, "by_type": by_type, "by_user": by_user}
