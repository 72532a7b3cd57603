"""Hand corrections of entity resolution: merge two entities, split records off one.

Both pin the links they touch, so the resolver (crm.ingest.resolve) never moves them again:
after a merge every link of both entities is pinned to the survivor; after a split the links
moved and the links left behind are all pinned, so the two sides stay apart. Run inside the
caller's transaction (the route's, with its audit entry).
"""
import json

from ..clock import now_iso
from ..errors import Invalid, NotFound
from . import entities


def _live(conn, entity_id: str, field: str) -> dict:
    entity = entities.get(conn, entity_id)
    if entity is None:
        raise NotFound(f"no entity {entity_id}")
    if entity["merged_into"]:
        raise Invalid({field: f"entity {entity_id} was merged into {entity['merged_into']}: use that one"})
    return entity


def merge(conn, entity_id: str, into_id: str) -> dict:
    """Move every link of `entity_id` to `into_id`, pinned, and leave `entity_id` merged into it.
    NotFound for an unknown id; Invalid for the same entity twice or a person into an organization
    (or the other way round). {merged, into, moved}."""
    if entity_id == into_id:
        raise Invalid({"into": "must be another entity: an entity cannot be merged into itself"})
    source = _live(conn, entity_id, "id")
    target = entities.get(conn, into_id)
    if target is None:
        raise NotFound(f"no entity {into_id}")
    if target["merged_into"]:
        raise Invalid({"into": f"entity {into_id} was merged into {target['merged_into']}: merge into that one"})
    if source["kind"] != target["kind"]:
        raise Invalid({"into": f"is a {target['kind']}: a {source['kind']} can only be merged into a {source['kind']}"})
    moved = entities.links_of(conn, entity_id)
    at = now_iso()
    conn.executemany("UPDATE entity_links SET entity_id = ?, pinned = 1, method = 'manual', confidence = 1, evidence = ?,"
                     " updated_at = ? WHERE id = ?",
                     [(into_id, _evidence({"merged_from": entity_id, "was": link["method"], "why": link["evidence"]}),
                       at, link["id"]) for link in moved])
    conn.execute("UPDATE entity_links SET pinned = 1, updated_at = ? WHERE entity_id = ? AND pinned = 0", (at, into_id))
    conn.execute("UPDATE canonical_entities SET merged_into = ?, updated_at = ? WHERE id = ?", (into_id, at, entity_id))
    return {"merged": entity_id, "into": into_id, "moved": [link["id"] for link in moved]}


def split(conn, entity_id: str, link_ids: list) -> dict:
    """Move these links of `entity_id` to a new entity of its kind; both sides' links are pinned.
    Invalid when a link is not on this entity or when all of its links are named (that would
    only rename it). {entity_id, new_entity_id, moved}."""
    entity = _live(conn, entity_id, "id")
    links = {link["id"]: link for link in entities.links_of(conn, entity_id)}
    wanted = list(dict.fromkeys(link_ids))
    if not wanted:
        raise Invalid({"link_ids": "must name at least one link of this entity"})
    strangers = [i for i in wanted if i not in links]
    if strangers:
        raise Invalid({"link_ids": f"{strangers[0]} is not a link of entity {entity_id}"})
    if len(wanted) == len(links):
        raise Invalid({"link_ids": "must leave at least one link on the entity: name fewer"})
    first = min((links[i] for i in wanted), key=lambda link: (link["source_table"] == "email_address", link["source_id"]))
    name = _name_of(first, entity)
    email = first["source_id"] if first["source_table"] == "email_address" else None
    new_id = entities.create(conn, entity["kind"], name, primary_email=email)
    at = now_iso()
    conn.executemany("UPDATE entity_links SET entity_id = ?, pinned = 1, method = 'manual', confidence = 1, evidence = ?,"
                     " updated_at = ? WHERE id = ?",
                     [(new_id, _evidence({"split_from": entity_id, "was": links[i]["method"], "why": links[i]["evidence"]}),
                       at, i) for i in wanted])
    conn.execute("UPDATE entity_links SET pinned = 1, updated_at = ? WHERE entity_id = ? AND pinned = 0", (at, entity_id))
    return {"entity_id": entity_id, "new_entity_id": new_id, "moved": wanted}


def _name_of(link: dict, entity: dict) -> str:
    """A first name for the new entity; the resolver's next run names it from its records."""
    if link["source_table"] == "email_address":
        return link["source_id"]
    return f"{entity['display_name']} (split)"


def _evidence(evidence: dict) -> str:
    return json.dumps(evidence, sort_keys=True)
