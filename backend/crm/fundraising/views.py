"""Saved views: filters, sorts, hidden and ordered columns, widths, frozen count, grouping.

Visibility: a personal view is seen and changed only by its owner; a shared
view is seen by everyone and changed by anyone unless locked, when only its
owner or an admin may change it. Sharing, locking and deleting a shared view
are for its owner or an admin.
"""
import json

from .. import audit
from ..clock import new_id, now_iso
from ..errors import Forbidden, Invalid, NotFound
from . import filters, store

CONFIG_KEYS = {"filters", "sorts", "hidden", "order", "widths", "frozen", "group_by", "row_height"}
ROW_HEIGHTS = ("short", "medium", "tall", "extra_tall")


def check_config(config, columns, path="config") -> dict:
    if not isinstance(config, dict):
        raise Invalid({path: "must be an object"})
    unknown = set(config) - CONFIG_KEYS
    if unknown:
        raise Invalid({f"{path}.{k}": "unknown setting" for k in unknown})
    ids = {c.id for c in columns}
    filters.compile_filter(config.get("filters"), columns, f"{path}.filters")
    filters.sort_rows([], config.get("sorts") or [], columns, f"{path}.sorts")
    for key in ("hidden", "order"):
        value = config.get(key, [])
        if not isinstance(value, list) or any(v not in ids for v in value):
            raise Invalid({f"{path}.{key}": "must be a list of column ids"})
    widths = config.get("widths", {})
    if not isinstance(widths, dict) or any(k not in ids or isinstance(v, bool) or not isinstance(v, int) or not 40 <= v <= 2000
                                           for k, v in widths.items()):
        raise Invalid({f"{path}.widths": "must map column ids to widths of 40 to 2000 pixels"})
    frozen = config.get("frozen", 1)
    if isinstance(frozen, bool) or not isinstance(frozen, int) or not 0 <= frozen <= 10:
        raise Invalid({f"{path}.frozen": "must be a whole number from 0 to 10"})
    if config.get("group_by") not in (None, *ids):
        raise Invalid({f"{path}.group_by": "must be a column id or null"})
    if config.get("row_height", "short") not in ROW_HEIGHTS:
        raise Invalid({f"{path}.row_height": "must be one of: " + ", ".join(ROW_HEIGHTS)})
    return config


def effective(config: dict, columns) -> dict:
    """The config with references to deleted columns dropped, so old views keep working."""
    ids = {c.id for c in columns}
    return _keeping(config, lambda column_id: column_id in ids)


def _keeping(config: dict, keep) -> dict:
    """`config` with every reference to a column id that `keep` refuses dropped."""
    def prune(group):
        if not isinstance(group, dict):
            return group
        kept = []
        for item in group.get("conditions", []):
            if isinstance(item, dict) and "conditions" in item:
                kept.append(prune(item))
            elif not isinstance(item, dict) or keep(item.get("column_id")):
                kept.append(item)
        return {**group, "conditions": kept}

    pruned = {**config, "filters": prune(config.get("filters")),
              "sorts": [s for s in config.get("sorts") or [] if not isinstance(s, dict) or keep(s.get("column_id"))],
              "group_by": config.get("group_by") if config.get("group_by") is None or keep(config["group_by"]) else None}
    for key in ("hidden", "order"):
        if isinstance(config.get(key), list):
            pruned[key] = [i for i in config[key] if keep(i)]
    if isinstance(config.get("widths"), dict):
        pruned["widths"] = {k: v for k, v in config["widths"].items() if keep(k)}
    return {k: v for k, v in pruned.items() if k in config or v}


def _forgetting_deleted(conn, config):
    """A client's config may still name columns deleted since it loaded them: those are dropped,
    not refused (ids that never existed still are, by check_config)."""
    if not isinstance(config, dict):
        return config
    deleted = {r["id"] for r in conn.execute("SELECT id FROM fundraising_columns WHERE deleted_at IS NOT NULL")}
    return _keeping(config, lambda column_id: column_id not in deleted) if deleted else config


def _decode(view) -> dict:
    view["config"] = json.loads(view["config"])
    view["shared"] = bool(view["shared"])
    view["locked"] = bool(view["locked"])
    return view


def visible(conn, user) -> list:
    return [_decode(v) for v in conn.execute(
        "SELECT * FROM fundraising_views WHERE deleted_at IS NULL AND (shared = 1 OR owner_id = ?) ORDER BY position, created_at",
        (user["id"],))]


def get(conn, user, view_id) -> dict:
    view = conn.execute("SELECT * FROM fundraising_views WHERE id = ? AND deleted_at IS NULL", (view_id,)).fetchone()
    if view is None or (not view["shared"] and view["owner_id"] != user["id"]):
        raise NotFound(f"no such view: {view_id}")
    return _decode(view)


def _may_change(user, view, changing_flags=False) -> None:
    owner_or_admin = view["owner_id"] == user["id"] or user["role"] == "admin"
    if view["shared"] and (view["locked"] or changing_flags) and not owner_or_admin:
        raise Forbidden("only this view's owner or an admin may change it" + (" (it is locked)" if view["locked"] else ""))


def create(conn, req, data) -> dict:
    columns = store.load_columns(conn)
    config = check_config(_forgetting_deleted(conn, data.get("config", {})), columns)
    now = now_iso()
    position = (conn.execute("SELECT max(position) AS p FROM fundraising_views").fetchone()["p"] or 0) + 1
    view_id = new_id()
    conn.execute("INSERT INTO fundraising_views (id, name, owner_id, shared, locked, position, config, created_at, updated_at, updated_by) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (view_id, data["name"], req.user["id"], int(data.get("shared", False)), int(data.get("locked", False)),
                  position, json.dumps(config), now, now, req.user["id"]))
    audit.record(conn, req, "fundraising_view", view_id, "create", {"name": [None, data["name"]]})
    return get(conn, req.user, view_id)


def update(conn, req, view_id, data) -> dict:
    view = get(conn, req.user, view_id)
    _may_change(req.user, view, changing_flags="shared" in data or "locked" in data)
    if "config" in data:
        data["config"] = check_config(_forgetting_deleted(conn, data["config"]), store.load_columns(conn))
    changes = audit.diff(view, {**view, **data}, list(data))
    if not changes:
        return view
    stored = {k: json.dumps(v) if k == "config" else (int(v) if k in ("shared", "locked") else v) for k, v in data.items()}
    conn.execute(f"UPDATE fundraising_views SET {', '.join(f'{k} = ?' for k in stored)}, updated_at = ?, updated_by = ? WHERE id = ?",
                 (*stored.values(), now_iso(), req.user["id"], view_id))
    audit.record(conn, req, "fundraising_view", view_id, "update", {k: v for k, v in changes.items() if k != "config"} |
                 ({"config": ["…", "…"]} if "config" in changes else {}))
    return get(conn, req.user, view_id)


def delete(conn, req, view_id) -> dict:
    view = get(conn, req.user, view_id)
    _may_change(req.user, view, changing_flags=view["shared"])
    conn.execute("UPDATE fundraising_views SET deleted_at = ?, deleted_by = ? WHERE id = ?", (now_iso(), req.user["id"], view_id))
    audit.record(conn, req, "fundraising_view", view_id, "delete", {"name": [view["name"], None]})
    return {"id": view_id, "deleted": True}
