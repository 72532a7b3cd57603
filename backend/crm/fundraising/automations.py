"""Automation rules, interpreted: a trigger, a condition in the view filter language, actions.

Triggers: `row_changed` (run on every row an ops request touched, in the same
transaction) and `daily` (run over every row once a day by the scheduler).
Actions: keep_in_list (the row is in the list exactly while the condition
holds), add_to_list, remove_from_list, set_cell. Changes made by rules do not
trigger rules again. Every run is logged in fundraising_automation_runs.
"""
import json

from .. import audit
from ..clock import new_id, now_iso
from ..errors import Invalid, NotFound
from . import filters, store
from .columns import CellError, clean_value

LISTS = ("main", "follow_up", "graveyard", "longshot", "all")
ACTION_TYPES = ("keep_in_list", "add_to_list", "remove_from_list", "set_cell")


def load_rules(conn, trigger=None) -> list:
    sql = "SELECT * FROM fundraising_automations"
    rules = conn.execute(sql + (" WHERE trigger = ?" if trigger else "") + " ORDER BY position, created_at",
                         (trigger,) if trigger else ()).fetchall()
    for rule in rules:
        rule["condition"] = json.loads(rule["condition"])
        rule["actions"] = json.loads(rule["actions"])
        rule["enabled"] = bool(rule["enabled"])
    return rules


def check_actions(actions, columns, path="actions") -> list:
    if not isinstance(actions, list) or not actions or len(actions) > 20:
        raise Invalid({path: "must be a list of 1 to 20 actions"})
    by_id = {c.id: c for c in columns}
    for i, action in enumerate(actions):
        where = f"{path}[{i}]"
        if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
            raise Invalid({where: "type must be one of: " + ", ".join(ACTION_TYPES)})
        if action["type"] == "set_cell":
            if action.get("column_id") not in by_id:
                raise Invalid({f"{where}.column_id": "no such column"})
            try:
                clean_value(by_id[action["column_id"]], action.get("value"))
            except CellError as exc:
                raise Invalid({f"{where}.value": str(exc)}) from None
        elif action.get("list") not in LISTS:
            raise Invalid({f"{where}.list": "must be one of: " + ", ".join(LISTS)})
    return actions


def run_row_rules(batch) -> None:
    """Apply every enabled row_changed rule to the rows this batch touched."""
    if batch.actor.get("kind") == "automation" or not batch.touched:
        return
    rules = [r for r in load_rules(batch.conn, "row_changed") if r["enabled"]]
    if rules:
        run(batch, rules, [r for r in batch.touched if r in batch.rows], "row_changed")


def run(batch, rules, row_ids, trigger, on_day=None) -> None:
    """Run `rules` over `row_ids` in `batch`; `on_day` is the day a condition's "today" means (daily runs)."""
    columns = batch.live_columns()
    members = _memberships(batch.conn, {a["list"] for r in rules for a in r["actions"] if a["type"] != "set_cell"}, row_ids)
    for rule in rules:
        moves = {}  # (list, row id) -> member or not: written together after the rule, the last word wins
        try:
            matches = filters.compile_filter(rule["condition"], columns, "condition", on_day=on_day)
        except Invalid as exc:
            _log(batch.conn, rule["id"], trigger, len(row_ids), 0, [], f"condition no longer valid: {exc.fields}")
            continue
        changes, matched = [], 0
        for row_id in row_ids:
            row = batch.rows[row_id]
            holds = not row["archived"] and matches(row["cells"])
            matched += holds
            for action in rule["actions"]:
                change = _act(batch, rule, action, row_id, holds, members, moves)
                if change:
                    changes.append(change)
        at = now_iso()
        batch.conn.executemany("INSERT OR IGNORE INTO fundraising_list_memberships (list_name, investor_id, rule_id, added_at) "
                               "VALUES (?, ?, ?, ?)", [(*key, rule["id"], at) for key, want in moves.items() if want])
        batch.conn.executemany("DELETE FROM fundraising_list_memberships WHERE list_name = ? AND investor_id = ?",
                               [key for key, want in moves.items() if not want])
        if changes or trigger == "daily":
            _log(batch.conn, rule["id"], trigger, len(row_ids), matched, changes, None)


def _memberships(conn, lists, row_ids) -> set:
    """{(list name, row id)} for these lists and rows, in a few queries (by primary key), not one per rule and row."""
    found, wanted = set(), list(dict.fromkeys(row_ids))
    for name in sorted(lists):
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            found.update((name, r["investor_id"]) for r in conn.execute(
                "SELECT investor_id FROM fundraising_list_memberships WHERE list_name = ? "
                f"AND investor_id IN ({','.join('?' * len(chunk))})", (name, *chunk)))
    return found


def _act(batch, rule, action, row_id, holds, members, moves):
    """Apply one action to one row; `members` holds the rows' list memberships and is kept up to date,
    `moves` collects the membership rows to write."""
    kind = action["type"]
    if kind == "set_cell":
        if not holds:
            return None
        before = len(batch.log)
        batch.acting_as = "automation"  # logged as the rule's change, made on behalf of whoever triggered it
        try:
            batch.set_cell(row_id, action["column_id"], action.get("value"), f"automation {rule['name']}", conflict_check=False)
        finally:
            batch.acting_as = batch.actor["kind"]
        return {"row_id": row_id, "set_cell": action["column_id"]} if len(batch.log) > before else None
    member = (action["list"], row_id) in members
    want = {"keep_in_list": holds, "add_to_list": True if holds else member,
            "remove_from_list": False if holds else member}[kind]
    if want == member:
        return None
    moves[(action["list"], row_id)] = want
    (members.add if want else members.discard)((action["list"], row_id))
    return {"row_id": row_id, "list": action["list"], "member": want}


def _log(conn, rule_id, trigger, checked, matched, changes, error) -> None:
    conn.execute("INSERT INTO fundraising_automation_runs (id, rule_id, trigger, at, rows_checked, rows_matched, changes, error) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (new_id(), rule_id, trigger, now_iso(), checked, matched, json.dumps(changes[:500]), error))


def _checked(conn, data: dict) -> dict:
    columns = store.load_columns(conn)
    if "condition" in data:
        filters.compile_filter(data["condition"], columns, "condition")
    if "actions" in data:
        check_actions(data["actions"], columns)
    return data


def _get(conn, rule_id) -> dict:
    rule = next((r for r in load_rules(conn) if r["id"] == rule_id), None)
    if rule is None:
        raise NotFound(f"no such automation: {rule_id}")
    return rule


def create(req, data) -> dict:
    data = _checked(req.db, data)
    rule_id, now = new_id(), now_iso()
    position = (req.db.execute("SELECT max(position) AS p FROM fundraising_automations").fetchone()["p"] or 0) + 1
    req.db.execute("INSERT INTO fundraising_automations (id, name, trigger, condition, actions, enabled, position, created_at, "
                   "created_by, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (rule_id, data["name"], data["trigger"], json.dumps(data["condition"]), json.dumps(data["actions"]),
                    int(data.get("enabled", True)), position, now, req.user["id"], now, req.user["id"]))
    audit.record(req.db, req, "fundraising_automation", rule_id, "create", {"name": [None, data["name"]]})
    return _get(req.db, rule_id)


def update(req, rule_id, data) -> dict:
    before = _get(req.db, rule_id)
    data = _checked(req.db, data)
    changes = audit.diff(before, {**before, **data}, list(data))
    if changes:
        stored = {k: json.dumps(v) if k in ("condition", "actions") else (int(v) if k == "enabled" else v) for k, v in data.items()}
        req.db.execute(f"UPDATE fundraising_automations SET {', '.join(f'{k} = ?' for k in stored)}, updated_at = ?, updated_by = ? "
                       "WHERE id = ?", (*stored.values(), now_iso(), req.user["id"], rule_id))
        audit.record(req.db, req, "fundraising_automation", rule_id, "update", changes)
    return _get(req.db, rule_id)
