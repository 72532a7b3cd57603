"""relationship_edges: who is connected to whom, and how strongly.

Edges are recomputed, never edited by hand. `replace(conn, kind, from_kind, wanted)` makes the
stored edges of one kind exactly `wanted`, writing only the rows that differ, so a refresh over
unchanged data writes nothing (and says so). Evidence is JSON with sorted keys, so equal evidence
is equal text.
"""
import json

from ..auth import users
from ..clock import new_id, now_iso


# One encoder for every edge: json.dumps with options builds a new one per call, which was a
# third of a refresh over 170,000 edges.
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def evidence_text(evidence: dict) -> str:
    """Evidence as stored; `replace` takes it already encoded, for evidence many edges share."""
    return _ENCODE(evidence)


def of_kind(conn, kind: str, from_kind: str) -> dict:
    """{(from_id, to_id): (rowid, weight, evidence text, first_seen, last_seen)} of one kind of edge."""
    cursor = conn.cursor()
    cursor.row_factory = None
    return {(r[0], r[1]): r[2:] for r in cursor.execute(
        "SELECT from_id, to_id, rowid, weight, evidence, first_seen, last_seen FROM relationship_edges"
        " WHERE kind = ? AND from_kind = ?", (kind, from_kind))}


def changes(conn, kind: str, from_kind: str, wanted: dict) -> dict:
    """What makes the stored edges of `kind` from `from_kind` exactly `wanted` ({(from_id, to_id):
    (weight, evidence, first_seen, last_seen)}, evidence a dict or its `evidence_text`): the rows to
    add, update and remove (for `write`), and how many are unchanged. Reads only."""
    stored, at = of_kind(conn, kind, from_kind), now_iso()
    added, updated = [], []
    for (from_id, to_id), (weight, evidence, first_seen, last_seen) in wanted.items():
        text = evidence if isinstance(evidence, str) else _ENCODE(evidence)
        old = stored.get((from_id, to_id))
        if old is None:
            added.append((new_id(), from_kind, from_id, to_id, kind, weight, text, first_seen, last_seen, at))
        elif (old[1], old[2], old[3], old[4]) != (weight, text, first_seen, last_seen):
            updated.append((weight, text, first_seen, last_seen, at, old[0]))
    # Written in storage order (the unique index's for new rows, rowid for the others), so that each
    # short write transaction dirties a few hundred pages instead of one per row: in random order the
    # day's rewrite of 116,000 scores wrote every page many times over.
    added.sort(key=lambda edge: (edge[2], edge[3]))
    updated.sort(key=lambda edge: edge[-1])
    removed = sorted((old[0],) for key, old in stored.items() if key not in wanted)
    return {"added": added, "updated": updated, "removed": removed, "unchanged": len(wanted) - len(added) - len(updated)}


def counts(found: dict) -> dict:
    """{added, updated, removed, unchanged} of `changes`."""
    return {k: found[k] if k == "unchanged" else len(found[k]) for k in ("added", "updated", "removed", "unchanged")}


def write(conn, found: dict, start: int = 0, stop: int = None) -> None:
    """Write rows [start, stop) of `changes` (added, then updated, then removed, counted as one list),
    inside the caller's transaction: a caller may write a large change in several short ones. An added
    edge someone else added meanwhile is updated instead."""
    spans, offset = [], 0
    for name in ("added", "updated", "removed"):
        part = found[name]
        spans.append(part[max(0, start - offset):max(0, (len(part) if stop is None else stop) - offset)])
        offset += len(part)
    added, updated, removed = spans
    conn.executemany("INSERT INTO relationship_edges (id, from_kind, from_id, to_id, kind, weight, evidence, first_seen,"
                     " last_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                     " ON CONFLICT (from_kind, from_id, to_id, kind) DO UPDATE SET weight = excluded.weight,"
                     " evidence = excluded.evidence, first_seen = excluded.first_seen, last_seen = excluded.last_seen,"
                     " updated_at = excluded.updated_at", added)
    conn.executemany("UPDATE relationship_edges SET weight = ?, evidence = ?, first_seen = ?, last_seen = ?, updated_at = ?"
                     " WHERE rowid = ?", updated)
    conn.executemany("DELETE FROM relationship_edges WHERE rowid = ?", removed)


def size(found: dict) -> int:
    """How many rows `write` has to write for `changes`."""
    return len(found["added"]) + len(found["updated"]) + len(found["removed"])


def replace(conn, kind: str, from_kind: str, wanted: dict) -> dict:
    """Make the stored edges of `kind` from `from_kind` exactly `wanted` (as `changes` takes it), in the
    caller's transaction: add the new, update the changed, delete the rest. {added, updated, removed, unchanged}."""
    found = changes(conn, kind, from_kind, wanted)
    write(conn, found)
    return counts(found)


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


def for_entity(conn, entity_id: str) -> dict:
    """An entity's relationships, for its dossier (read-only; works on a mode=ro connection):
    {"strongest": the first member or None, "members": [{user_id, display_name, weight, level,
    last_seen, evidence}] strongest first (active people only), "works_at": [{entity_id,
    display_name, kind, evidence}] (the organizations a person works at, or for an organization
    the people who work there, as `direction` says)}. `level` is the one strength stored with the score."""
    people = users.active_people(conn)
    members = [{"user_id": e["from_id"], "display_name": people[e["from_id"]], "weight": e["weight"],
                "level": e["evidence"].get("level", 0), "last_seen": e["last_seen"], "evidence": e["evidence"]}
               for e in into(conn, [entity_id], "emailed", "user") if e["from_id"] in people]
    members.sort(key=lambda m: (-m["weight"], tuple(-ord(c) for c in m["last_seen"] or ""), m["display_name"].casefold()))
    works_at = []
    for edge in conn.execute(
            "SELECT r.from_id, r.to_id, r.evidence, e.display_name, e.kind FROM relationship_edges r"
            " JOIN canonical_entities e ON e.id = CASE WHEN r.from_id = ? THEN r.to_id ELSE r.from_id END"
            " WHERE r.kind = 'works_at' AND r.from_kind = 'entity' AND (r.from_id = ? OR r.to_id = ?)"
            " ORDER BY e.display_name COLLATE NOCASE, e.id", (entity_id, entity_id, entity_id)).fetchall():
        outward = edge["from_id"] == entity_id
        works_at.append({"entity_id": edge["to_id"] if outward else edge["from_id"], "display_name": edge["display_name"],
                         "kind": edge["kind"], "direction": "works_at" if outward else "employs",
                         "evidence": json.loads(edge["evidence"])})
    return {"strongest": members[0] if members else None, "members": members, "works_at": works_at}


def weights_into(conn, entity_ids, kind: str, from_kind: str) -> list:
    """(to_id, from_id, weight, last_seen) of the edges of `kind` from `from_kind` into these
    entities: what the grid's cells need, without the evidence. For more ids than one statement
    takes, every such edge is read (as plain tuples) and filtered here."""
    ids = set(entity_ids)
    if not ids:
        return []
    cursor = conn.cursor()
    cursor.row_factory = None
    sql = "SELECT to_id, from_id, weight, last_seen FROM relationship_edges WHERE kind = ? AND from_kind = ?"
    if len(ids) <= 500:
        return cursor.execute(sql + f" AND to_id IN ({','.join('?' * len(ids))})", (kind, from_kind, *ids)).fetchall()
    return [r for r in cursor.execute(sql, (kind, from_kind)) if r[0] in ids]

