"""The grid a new CRM starts with: the well-known investor columns, shared views, default rules.

Run at every start-up; does nothing once the columns exist.
"""
import json

from ..clock import new_id, now_iso
from .columns import DEFAULT_STATUS_OPTIONS, WELL_KNOWN, make_options


def ensure_defaults(conn) -> bool:
    """Create the default grid if there is none yet. Returns True if it did."""
    if conn.execute("SELECT 1 FROM fundraising_columns LIMIT 1").fetchone():
        return False
    now = now_iso()
    ids = {}
    conn.execute("BEGIN IMMEDIATE")
    try:
        for position, (key, name, type_) in enumerate(WELL_KNOWN, start=1):
            ids[key] = new_id()
            options = make_options(DEFAULT_STATUS_OPTIONS) if key == "status" else []
            conn.execute("INSERT INTO fundraising_columns (id, name, type, field_key, position, options, created_at, updated_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (ids[key], name, type_, key, position, json.dumps(options), now, now))
        for position, (name, config) in enumerate(_views(ids), start=1):
            conn.execute("INSERT INTO fundraising_views (id, name, owner_id, shared, locked, position, config, created_at, updated_at) "
                         "VALUES (?, ?, NULL, 1, 0, ?, ?, ?, ?)", (new_id(), name, position, json.dumps(config), now, now))
        for position, (name, list_name, condition) in enumerate(_rules(ids), start=1):
            conn.execute("INSERT INTO fundraising_automations (id, name, trigger, condition, actions, enabled, position, created_at, updated_at) "
                         "VALUES (?, ?, 'row_changed', ?, ?, 1, ?, ?, ?)",
                         (new_id(), name, json.dumps(condition), json.dumps([{"type": "keep_in_list", "list": list_name}]),
                          position, now, now))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return True


def _is_checked(column_id, value=True):
    return {"column_id": column_id, "operator": "is", "value": value}


def _views(ids):
    active = {"conjunction": "and", "conditions": [_is_checked(ids["graveyard"], False)]}
    return [
        ("All investors", {"filters": active, "sorts": [], "frozen": 1}),
        ("Follow up", {"filters": {"conjunction": "and", "conditions": [
            {"column_id": ids["follow_up"], "operator": "is_not_empty"}, _is_checked(ids["graveyard"], False)]},
            "sorts": [{"column_id": ids["follow_up"], "direction": "asc"}], "frozen": 1}),
        ("Graveyard", {"filters": {"conjunction": "and", "conditions": [_is_checked(ids["graveyard"])]}, "sorts": [], "frozen": 1}),
    ]


def _rules(ids):
    """The original's behaviour, now as interpreted rules: flags decide list membership."""
    return [
        ("Graveyard flag → graveyard list", "graveyard", {"conjunction": "and", "conditions": [_is_checked(ids["graveyard"])]}),
        ("Follow-up date → follow-up list", "follow_up",
         {"conjunction": "and", "conditions": [{"column_id": ids["follow_up"], "operator": "is_not_empty"}]}),
        ("Longshot flag → longshot list", "longshot", {"conjunction": "and", "conditions": [_is_checked(ids["longshot"])]}),
        ("Not graveyard or longshot → main list", "main", {"conjunction": "and", "conditions": [
            _is_checked(ids["graveyard"], False), _is_checked(ids["longshot"], False)]}),
        ("Everyone → all list", "all", {"conjunction": "and", "conditions": []}),
    ]


GRID_DATA = ("fundraising_mentions", "fundraising_comments", "fundraising_list_memberships", "fundraising_contacts",
             "fundraising_commitments", "fundraising_investors", "fundraising_automation_runs", "fundraising_ops")


def wipe_rows(conn) -> dict:
    """Delete every investor row and what hangs off it; columns, views and rules stay.

    The version moves on (never back) and one `reset_grid` op tells live clients to reload.
    """
    counts = {table: conn.execute(f"DELETE FROM {table}").rowcount for table in GRID_DATA}
    version = conn.execute("UPDATE fundraising_state SET version = version + 1, updated_at = ? WHERE id = 1 RETURNING version",
                           (now_iso(),)).fetchone()["version"]
    conn.execute("INSERT INTO fundraising_ops (version, kind, actor_kind, at) VALUES (?, 'reset_grid', 'system', ?)", (version, now_iso()))
    return counts
