"""canonical_entities and entity_links: who is who, and which records say so.

Every source record (a grid investor or contact, a classic contact, organization or LP profile,
an email address) links to exactly one entity, with the rule that linked it, a confidence and
its evidence. A link a person fixed by hand is `pinned`: the resolver never moves it. A merged
entity keeps its row with `merged_into` set, so an old id still leads somewhere (`current`).
"""
import json

from ..clock import new_id, now_iso
from ..db import row, rows

KINDS = ("person", "organization")
# Every source_table a link may name ("email_address" is a normalised address, not a table).
SOURCES = ("fundraising_investors", "fundraising_contacts", "contacts", "organizations", "lp_profiles",
           "email_address")


def create(conn, kind: str, display_name: str, primary_email=None, primary_domain=None) -> str:
    """A new entity's id."""
    entity_id, at = new_id(), now_iso()
    conn.execute(
        "INSERT INTO canonical_entities (id, kind, display_name, primary_email, primary_domain, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)", (entity_id, kind, display_name, primary_email, primary_domain, at, at))
    return entity_id


def get(conn, entity_id: str):
    """The entity row (even a merged one), or None."""
    return row(conn, "SELECT * FROM canonical_entities WHERE id = ?", (entity_id,))


def current(conn, entity_id: str):
    """The entity an id stands for now, following merges; None for an unknown id."""
    seen = set()
    entity = get(conn, entity_id)
    while entity is not None and entity["merged_into"] and entity["id"] not in seen:
        seen.add(entity["id"])
        entity = get(conn, entity["merged_into"])
    return entity


def link(conn, entity_id: str, source_table: str, source_id: str, method: str, confidence: float,
         evidence: dict, pinned: bool = False) -> None:
    """Link a source to an entity, moving it there if it was linked elsewhere."""
    assert source_table in SOURCES, source_table
    at = now_iso()
    conn.execute(
        "INSERT INTO entity_links (id, entity_id, source_table, source_id, method, confidence, evidence, pinned,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (source_table, source_id) DO UPDATE SET entity_id = excluded.entity_id,"
        " method = excluded.method, confidence = excluded.confidence, evidence = excluded.evidence,"
        " pinned = excluded.pinned, updated_at = excluded.updated_at",
        (new_id(), entity_id, source_table, source_id, method, confidence, json.dumps(evidence, sort_keys=True),
         int(pinned), at, at))


def entity_of(conn, source_table: str, source_id: str):
    """The id of the entity a source is linked to, or None."""
    found = row(conn, "SELECT entity_id FROM entity_links WHERE source_table = ? AND source_id = ?",
                (source_table, source_id))
    return found["entity_id"] if found else None


def entities_of(conn, source_table: str, source_ids) -> dict:
    """{source_id: entity_id} for the linked ones among `source_ids`."""
    found = {}
    ids = list(source_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for link_row in rows(conn, f"SELECT source_id, entity_id FROM entity_links WHERE source_table = ?"
                                   f" AND source_id IN ({marks})", (source_table, *chunk)):
            found[link_row["source_id"]] = link_row["entity_id"]
    return found


def links_of(conn, entity_id: str) -> list:
    """Every link of an entity, evidence parsed, in a stable order."""
    found = rows(conn, "SELECT * FROM entity_links WHERE entity_id = ? ORDER BY source_table, source_id", (entity_id,))
    for link_row in found:
        link_row["evidence"] = json.loads(link_row["evidence"])
        link_row["pinned"] = bool(link_row["pinned"])
    return found


def linked(conn, source_table: str, source_ids=None) -> dict:
    """{source_id: entity id} for the sources of one table (all of them, or those among
    `source_ids`), merges followed: a link still on a merged entity counts for the entity it was
    merged into. Whole-CRM passes read a table's links in one query."""
    merged = {r["id"]: r["merged_into"] for r in rows(
        conn, "SELECT id, merged_into FROM canonical_entities WHERE merged_into IS NOT NULL")}
    if source_ids is None:
        found = {r["source_id"]: r["entity_id"] for r in conn.execute(
            "SELECT source_id, entity_id FROM entity_links WHERE source_table = ?", (source_table,))}
    else:
        found = entities_of(conn, source_table, source_ids)
    for source_id, entity_id in found.items():
        seen = set()
        while entity_id in merged and entity_id not in seen:
            seen.add(entity_id)
            entity_id = merged[entity_id]
        found[source_id] = entity_id
    return found


def kinds(conn) -> dict:
    """{entity id: kind} of every entity that is not merged into another."""
    return {r["id"]: r["kind"] for r in rows(conn, "SELECT id, kind FROM canonical_entities WHERE merged_into IS NULL")}
