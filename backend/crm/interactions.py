"""The interaction log: every touch of the CRM's people and organizations, by a human, an agent,
a bot or the system (core migration 0008: interaction_log + interaction_refs, append-only).

This module is the only writer of both tables. Refs name what was touched as it is stored,
`{"type": <source table> | "entity", "id": ...}` (a contact is `contacts`, a grid investor
`fundraising_investors`, an address `email_address`): entries are never rewritten when entity
resolution links, merges or splits records, so `query(entity=...)` reads through entity_links
at read time (this module is the log's reader of that table) and follows hand merges.

`audit.record` calls `from_audit` for every audited mutation of a person- or
organization-bearing record, in the same transaction; the grid's ops (which keep their own
history, not the audit log) log one entry per request from `fundraising.ops.Batch.finish`;
agents log their own touches through `POST /api/interactions`.
"""
import json

from .clock import new_id, now_iso

ACTOR_KINDS = ("human", "agent", "bot", "system")
# What a request says about itself, through the header the MCP server sends: a bot's request with
# `X-CRM-Actor: agent` is an agent's (http.request.Request.actor); anyone else's is unchanged.
AGENT_HEADER = "X-CRM-Actor"
# The kinds a ref may name: canonical entities, the source tables entity_links knows, and the
# records a touch may be about that are no entity themselves (they lead to one through their refs).
REF_TYPES = ("entity", "contacts", "organizations", "lp_profiles", "fundraising_investors", "fundraising_contacts",
             "email_address", "opportunities", "communications", "email_proposals", "email_drafts",
             "fundraising_comments", "emails")
# Audited entity types that touch a person or organization -> the ref type of the record itself.
AUDITED = {"contact": "contacts", "organization": "organizations", "opportunity": "opportunities",
           "communication": "communications", "lp_profile": "lp_profiles", "email_proposal": "email_proposals",
           "email_draft": "email_drafts", "fundraising_comment": "fundraising_comments", "entity": "entity"}
# audit's actor kinds -> the log's ("automation": a grid rule acting for the user who set it off).
KIND_OF = {"user": "human", "bot": "bot", "agent": "agent", "system": "system", "automation": "system"}
INSERT_ENTRY = ("INSERT INTO interaction_log (id, at, actor_kind, actor_id, action, entity_refs, payload)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)")
INSERT_REF = "INSERT INTO interaction_refs (interaction_id, ref_type, ref_id) VALUES (?, ?, ?)"
_ENCODE = json.JSONEncoder(default=str).encode  # json.dumps(x, default=str), one encoder for a bulk write's thousands


def actor_kind(actor: dict) -> str:
    """The log's actor kind for an audit actor ({"id", "kind"}; None is the system)."""
    return KIND_OF.get((actor or {}).get("kind"), "system")


def ref(ref_type: str, ref_id) -> dict:
    return {"type": ref_type, "id": str(ref_id)}


def _unique(refs) -> list:
    """The refs without repeats or blanks, in order."""
    seen, kept = set(), []
    for item in refs or ():
        key = (item["type"], item["id"])
        if item["id"] and key not in seen:
            seen.add(key)
            kept.append({"type": item["type"], "id": item["id"]})
    return kept


def record(conn, actor_kind: str, actor_id, action: str, refs=(), payload=None) -> str:
    """Append one entry inside the caller's transaction; returns its id. `refs`: [{"type", "id"}];
    `payload`: a JSON object of what was asked or changed."""
    assert actor_kind in ACTOR_KINDS, actor_kind
    entry_id, kept = new_id(), _unique(refs)
    conn.execute(INSERT_ENTRY, (entry_id, now_iso(), actor_kind, actor_id, action, json.dumps(kept),
                                json.dumps(payload or {}, default=str)))
    conn.executemany(INSERT_REF, [(entry_id, r["type"], r["id"]) for r in kept])
    return entry_id


def record_many(conn, actor_kind: str, actor_id, entries) -> None:
    """Append one entry per (action, refs, payload), in one statement per table (bulk imports)."""
    at, rows, refs = now_iso(), [], []
    for action, entry_refs, payload in entries:
        entry_id, kept = new_id(), _unique(entry_refs)
        rows.append((entry_id, at, actor_kind, actor_id, action, _ENCODE(kept), _ENCODE(payload or {})))
        refs += [(entry_id, r["type"], r["id"]) for r in kept]
    conn.executemany(INSERT_ENTRY, rows)
    conn.executemany(INSERT_REF, refs)


def from_audit(conn, actor: dict, entity_type: str, entity_id, action: str, changes: dict, refs=(), audit_id=None):
    """The entry an audited mutation adds (nothing for a type that touches no one): action
    "<type>.<action>", refs the record itself then `refs`, payload the changed field names and
    the audit entry (the values stay in the audit log only)."""
    own = AUDITED.get(entity_type)
    if own is None:
        return
    record(conn, actor_kind(actor), (actor or {}).get("id"), f"{entity_type}.{action}",
           [ref(own, entity_id)] * bool(entity_id) + list(refs or ()), _audit_payload(changes, audit_id))


def from_audit_many(conn, actor: dict, entity_type: str, entries, action: str, refs=None, audit_ids=None) -> None:
    """`from_audit` for a bulk write: `entries` [(id, changes)], `refs` a list of extra refs per entry."""
    own = AUDITED.get(entity_type)
    if own is None or not entries:
        return
    refs = refs or [()] * len(entries)
    audit_ids = audit_ids or [None] * len(entries)
    record_many(conn, actor_kind(actor), (actor or {}).get("id"), [
        (f"{entity_type}.{action}", [ref(own, entity_id), *extra], _audit_payload(changes, audit_id))
        for (entity_id, changes), extra, audit_id in zip(entries, refs, audit_ids)])


def _audit_payload(changes, audit_id) -> dict:
    return {"fields": sorted(changes or {}), **({"audit_id": audit_id} if audit_id else {})}


# -- reading -------------------------------------------------------------------------------------

def _current_entity(conn, entity_id):
    """The id an entity id stands for now (hand merges followed), or None for an unknown one."""
    seen = set()
    found = conn.execute("SELECT id, merged_into FROM canonical_entities WHERE id = ?", (entity_id,)).fetchone()
    while found and found["merged_into"] and found["id"] not in seen:
        seen.add(found["id"])
        found = conn.execute("SELECT id, merged_into FROM canonical_entities WHERE id = ?", (found["merged_into"],)).fetchone()
    return found["id"] if found else None


def entity_exists(conn, entity_id) -> bool:
    return _current_entity(conn, entity_id) is not None


# Every ref that stands for the entity: itself and the ids merged into it, and each source linked to one of them.
ENTITY_SOURCES = """
WITH RECURSIVE ids(id) AS (SELECT ? UNION SELECT c.id FROM canonical_entities c JOIN ids ON c.merged_into = ids.id),
sources(ref_type, ref_id) AS (SELECT 'entity', id FROM ids
    UNION SELECT l.source_table, l.source_id FROM entity_links l WHERE l.entity_id IN (SELECT id FROM ids))
"""


def query(conn, *, entity=None, ref=None, actor_id=None, actor_kind=None, action=None, since=None, until=None,
          limit=50, offset=0) -> tuple:
    """(entries newest first, total). `entity`: every entry whose refs name the entity, an entity
    merged into it, or a record linked to one of them (read through entity_links now, so records
    linked after the touch count); `ref`: (type, id) of one record. Each entry carries `entities`:
    the current entity ids its refs lead to."""
    with_sql, clauses, params = "", [], []
    if entity is not None:
        current = _current_entity(conn, entity)
        if current is None:
            return [], 0
        with_sql = ENTITY_SOURCES
        params.append(current)
        clauses.append("l.id IN (SELECT r.interaction_id FROM interaction_refs r"
                       " JOIN sources s ON s.ref_type = r.ref_type AND s.ref_id = r.ref_id)")
    if ref is not None:
        clauses.append("l.id IN (SELECT interaction_id FROM interaction_refs WHERE ref_type = ? AND ref_id = ?)")
        params += list(ref)
    for column, value in (("actor_id", actor_id), ("actor_kind", actor_kind), ("action", action)):
        if value:
            clauses.append(f"l.{column} = ?")
            params.append(value)
    if since:
        clauses.append("l.at >= ?")
        params.append(since)
    if until:
        clauses.append("l.at < ?")
        params.append(until)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    total = conn.execute(f"{with_sql} SELECT count(*) AS n FROM interaction_log l {where}", params).fetchone()["n"]
    found = conn.execute(f"{with_sql} SELECT l.* FROM interaction_log l {where} ORDER BY l.at DESC, l.rowid DESC"
                         " LIMIT ? OFFSET ?", (*params, limit, offset)).fetchall()
    return [_shown(entry) for entry in _with_entities(conn, found)], total


def get(conn, entry_id: str):
    """One entry as `query` shows it, or None."""
    found = conn.execute("SELECT * FROM interaction_log WHERE id = ?", (entry_id,)).fetchall()
    return _shown(_with_entities(conn, found)[0]) if found else None


def _with_entities(conn, found: list) -> list:
    """Each entry's `entities`: the current entity of every ref (an entity ref, or a linked source)."""
    resolved = {}
    for entry in found:
        entry["refs"] = json.loads(entry.pop("entity_refs"))
        for item in entry["refs"]:
            key = (item["type"], item["id"])
            if key not in resolved:
                resolved[key] = _entity_of(conn, *key)
        entry["entities"] = list(dict.fromkeys(resolved[(r["type"], r["id"])] for r in entry["refs"]
                                               if resolved[(r["type"], r["id"])]))
    return found


def _entity_of(conn, ref_type: str, ref_id: str):
    if ref_type == "entity":
        return _current_entity(conn, ref_id)
    linked = conn.execute("SELECT entity_id FROM entity_links WHERE source_table = ? AND source_id = ?",
                          (ref_type, ref_id)).fetchone()
    return _current_entity(conn, linked["entity_id"]) if linked else None


def _shown(entry: dict) -> dict:
    return {"id": entry["id"], "at": entry["at"], "actor_kind": entry["actor_kind"], "actor_id": entry["actor_id"],
            "action": entry["action"], "refs": entry["refs"], "entities": entry["entities"],
            "payload": json.loads(entry["payload"])}
