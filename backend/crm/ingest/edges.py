"""relationship_edges: who is connected to whom, and how strongly.

Edges are recomputed, never edited by hand. `replace(conn, kind, from_kind, wanted)` makes the
stored edges of one kind exactly `wanted`, writing only the rows that differ, so a refresh over
unchanged data writes nothing (and says so). Evidence is JSON with sorted keys, so equal evidence
is equal text.
"""
import json

from ..clock import new_id, now_iso


def _evidence(evidence: dict) -> str:
    return json.dumps(evidence, sort_keys=True, separators=(",", ":"))


def of_kind(conn, kind: str, from_kind: str) -> dict:
    """{(from_id, to_id): (id, weight, evidence text, first_seen, last_seen)} of one kind of edge."""
    cursor = conn.cursor()
    cursor.row_factory = None
    return {(r[0], r[1]): r[2:] for r in cursor.execute(
        "SELECT from_id, to_id, id, weight, evidence, first_seen, last_seen FROM relationship_edges"
        " WHERE kind = ? AND from_kind = ?", (kind, from_kind))}


def replace(conn, kind: str, from_kind: str, wanted: dict) -> dict:
    """Store exactly `wanted` ({(from_id, to_id): (weight, evidence dict, first_seen, last_seen)}) as
    the edges of `kind` from `from_kind`: add the new, update the changed, delete the rest. Call it
    inside the caller's transaction. {added, updated, removed, unchanged}."""
    stored, at = of_kind(conn, kind, from_kind), now_iso()
    added, updated = [], []
    for (from_id, to_id), (weight, evidence, first_seen, last_seen) in wanted.items():
        text = _evidence(evidence)
        old = stored.get((from_id, to_id))
        if old is None:
            added.append((new_id(), from_kind, from_id, to_id, kind, weight, text, first_seen, last_seen, at))
        elif (old[1], old[2], old[3], old[4]) != (weight, text, first_seen, last_seen):
            updated.append((weight, text, first_seen, last_seen, at, old[0]))
    removed = [(old[0],) for key, old in stored.items() if key not in wanted]
    conn.executemany("INSERT INTO relationship_edges (id, from_kind, from_id, to_id, kind, weight, evidence, first_seen,"
                     " last_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", added)
    conn.executemany("UPDATE relationship_edges SET weight = ?, evidence = ?, first_seen = ?, last_seen = ?, updated_at = ?"
                     " WHERE id = ?", updated)
    conn.executemany("DELETE FROM relationship_edges WHERE id = ?", removed)
    return {"added": len(added), "updated": len(updated), "removed": len(removed),
            "unchanged": len(wanted) - len(added) - len(updated)}


def into(conn, entity_ids, kind: str, from_kind: str) -> list:
    """Edges of `kind` from `from_kind` into these entities, evidence parsed: to_id, from_id, weight,
    evidence, first_seen, last_seen. With more ids than one statement takes, all such edges are
    read once and filtered here (a whole grid's investors)."""
    ids = set(entity_ids)
    if not ids:
        return []
    sql = ("SELECT to_id, from_id, weight, evidence, first_seen, last_seen FROM relationship_edges"
           " WHERE kind = ? AND from_kind = ?")
    if len(ids) <= 500:
        found = conn.execute(sql + f" AND to_id IN ({','.join('?' * len(ids))})", (kind, from_kind, *ids)).fetchall()
    else:
        found = [r for r in conn.execute(sql, (kind, from_kind)).fetchall() if r["to_id"] in ids]
    for edge in found:
        edge["evidence"] = json.loads(edge["evidence"])
    return found
