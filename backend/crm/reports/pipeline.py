"""The classic pipeline by stage, callable without HTTP (GET /api/reports/pipeline, the MCP server's
pipeline_summary). Deleted opportunities never count; it only reads (fine on a `mode=ro` connection)."""
from ..opportunities.model import PIPELINE_STAGES

OPEN_STAGES = tuple(s for s in PIPELINE_STAGES if s not in ("closed", "lost"))


def by_stage(conn) -> list:
    """Every stage in pipeline order: count, expected and committed amounts (zeros for an empty stage)."""
    found = {r["stage"]: r for r in conn.execute(
        "SELECT stage, count(*) AS count, coalesce(sum(expected_amount), 0) AS expected, "
        "coalesce(sum(commitment_amount), 0) AS committed FROM opportunities WHERE deleted_at IS NULL GROUP BY stage")}
    return [{"stage": s, "count": found[s]["count"] if s in found else 0,
             "expected": found[s]["expected"] if s in found else 0,
             "committed": found[s]["committed"] if s in found else 0} for s in PIPELINE_STAGES]
