"""Read-only views of canonical entities: find one, and everything the CRM knows of it.

Both functions only read, so they work on a `mode=ro` SQLite connection (the MCP server's).
Merged entities are followed: a find answers the surviving entity, and a dossier asked for a
merged id describes the one it was merged into and says so.
"""
from ..contacts import model as contacts
from ..fundraising import store as grid
from ..lp_profiles import model as lp_profiles
from ..organizations import model as organizations
from . import edges, entities
from . import normalize as norm

FIND_LIMIT = 100
LABELS = {"contacts": "contact", "fundraising_contacts": "grid contact", "fundraising_investors": "grid investor",
          "organizations": "organization", "lp_profiles": "LP profile", "email_address": "email address"}


def _pattern(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def matches(conn, q: str, kind=None) -> list:
    """Ids of the live entities (not merged, with a link) whose name, primary email or domain, or
    one of whose addresses, contains `q`, best first: exact, then prefix, then the rest, by name."""
    q = " ".join((q or "").split())
    if not q:
        return []
    wanted, pattern = q.casefold(), _pattern(q)
    entity = entities.current(conn, q) if len(q) <= 64 else None
    found = {}
    sql = ("SELECT e.id, e.display_name, e.primary_email, e.primary_domain FROM canonical_entities e"
           " WHERE e.merged_into IS NULL AND (? IS NULL OR e.kind = ?)"
           " AND EXISTS (SELECT 1 FROM entity_links l WHERE l.entity_id = e.id) AND (e.display_name LIKE ? ESCAPE '\\'"
           " OR e.primary_email LIKE ? ESCAPE '\\' OR e.primary_domain LIKE ? ESCAPE '\\'"
           " OR e.id IN (SELECT l.entity_id FROM entity_links l WHERE l.source_table = 'email_address'"
           " AND l.source_id LIKE ? ESCAPE '\\'))")
    for r in conn.execute(sql, (kind, kind, pattern, pattern, pattern, pattern.lower())).fetchall():
        fields = [(r["display_name"] or "").casefold(), r["primary_email"] or "", r["primary_domain"] or ""]
        rank = 0 if wanted in fields else 1 if any(f.startswith(wanted) for f in fields) else 2
        found[r["id"]] = (rank, fields[0], r["id"])
    if entity and (kind is None or entity["kind"] == kind) and not entity["merged_into"]:
        found[entity["id"]] = (-1, "", entity["id"])
    folded = norm.fold(q)
    if folded and folded != wanted:  # 'José' finds 'Jose' and the other way round
        for r in conn.execute("SELECT id, display_name FROM canonical_entities WHERE merged_into IS NULL"
                              " AND (? IS NULL OR kind = ?) AND display_name LIKE ? ESCAPE '\\'",
                              (kind, kind, _pattern(folded))).fetchall():
            found.setdefault(r["id"], (2, r["display_name"].casefold(), r["id"]))
    return [entity_id for entity_id, _ in sorted(found.items(), key=lambda item: item[1])]


def find(conn, q: str, kind=None, limit: int = 10, offset: int = 0) -> list:
    """Up to `limit` entities matching `q` (a name, an address, a domain, an entity id), best first:
    id, kind, display_name, primary_email, primary_domain, links (how many records)."""
    ids = matches(conn, q, kind)[offset:offset + min(limit, FIND_LIMIT)]
    return [_brief(conn, entities.get(conn, entity_id)) for entity_id in ids]


def _brief(conn, entity: dict) -> dict:
    count = conn.execute("SELECT count(*) AS n FROM entity_links WHERE entity_id = ?", (entity["id"],)).fetchone()["n"]
    return {"id": entity["id"], "kind": entity["kind"], "display_name": entity["display_name"],
            "primary_email": entity["primary_email"], "primary_domain": entity["primary_domain"], "links": count}


def dossier(conn, entity_id: str):
    """Everything about one entity, or None for an unknown id: the entity (requested_id and
    merged_from say when the id asked for was merged into it), its linked records, each with a
    short summary and why it is linked (method, confidence, evidence, pinned), its email
    addresses, and its relationships (crm.ingest.edges.for_entity)."""
    entity = entities.current(conn, entity_id)
    if entity is None:
        return None
    links = entities.links_of(conn, entity["id"])
    records = _summaries(conn, links)
    return {**_brief(conn, entity), "requested_id": entity_id,
            "merged_from": entity_id if entity_id != entity["id"] else None,
            "created_at": entity["created_at"], "updated_at": entity["updated_at"],
            "records": records,
            "emails": sorted(link["source_id"] for link in links if link["source_table"] == "email_address"),
            "relationships": edges.for_entity(conn, entity["id"])}


def _summaries(conn, links: list) -> list:
    ids = {}
    for link in links:
        ids.setdefault(link["source_table"], []).append(link["source_id"])
    people = contacts.live_names(conn, ids.get("contacts", []))
    orgs = organizations.live_names(conn, ids.get("organizations", []))
    investors = grid.investor_names(conn, ids.get("fundraising_investors", []))
    grid_people = grid.grid_contact_names(conn, ids.get("fundraising_contacts", []))
    investors.update(grid.investor_names(conn, {held[2] for held in grid_people.values()} - set(investors)))
    profiles = lp_profiles.contacts_of(conn, ids.get("lp_profiles", []))
    profile_people = contacts.live_names(conn, profiles.values())
    found = []
    for link in links:
        table, source_id = link["source_table"], link["source_id"]
        if table == "contacts":
            name, summary = people.get(source_id), None
        elif table == "organizations":
            name, summary = orgs.get(source_id), None
        elif table == "fundraising_investors":
            name, summary = investors.get(source_id), None
        elif table == "fundraising_contacts":
            held = grid_people.get(source_id)
            name = held[0] if held else None
            summary = f"on grid investor {investors.get(held[2]) or held[2]}" if held else None
        elif table == "lp_profiles":
            name = profile_people.get(profiles.get(source_id))
            summary = "LP profile" if source_id in profiles else None
        else:
            name, summary = source_id, None
        live = table == "email_address" or (name is not None if table != "lp_profiles" else source_id in profiles)
        found.append({"link_id": link["id"], "source_table": table, "source_id": source_id, "label": LABELS.get(table, table),
                      "name": name, "summary": summary or LABELS.get(table, table), "live": live,
                      "method": link["method"], "confidence": link["confidence"], "evidence": link["evidence"],
                      "pinned": link["pinned"]})
    return found
