"""GET /api/search, the admins' ingest routes (run, status), the entity routes (find, dossier;
admins: merge, split, resolve) and the admins' relationship refresh.

Email hits follow the email routes' rule: captured email is readable by every signed-in user
through /api/email/threads while capture is on, and by no one while it is off (those routes
answer 503), so search shows email chunks only while capture is on.
"""
from .. import audit, interactions
from ..clock import parse_iso
from ..db import transaction
from ..errors import Conflict, Invalid, NotFound
from ..http.responses import json_response
from ..shapes import BOOLEAN, INTEGER, NUMBER, OBJECT, STRING, array, maybe, obj
from ..validation import Body, Field, query_int
from ..results import Page
from . import curate, dossier, entities, resolve, strength
from .chunks import TYPES
from .search import MAX_LIMIT, MODES

RUN = Body(Field("full", "boolean", doc="start from an empty collection and embed everything again"))

HIT = obj(score=NUMBER, type=STRING, title=maybe(STRING), snippet=STRING, date=maybe(STRING), source_table=STRING,
          source_id=STRING, chunk_index=INTEGER, entity_ids=array(STRING), names=array(STRING), link=maybe(STRING),
          api=maybe(STRING))
RESULTS = obj(query=STRING, mode=STRING, mode_used=STRING, degraded=maybe(STRING), degraded_detail=maybe(STRING),
              hits=array(HIT))
STARTED = obj(started=BOOLEAN, full=BOOLEAN)
STATUS = obj(store=STRING, where=STRING, collection=STRING, available=BOOLEAN, unavailable_because=maybe(STRING),
             points=maybe(INTEGER), sparse_only=maybe(INTEGER), local_guidance=INTEGER, advice=maybe(STRING),
             running=maybe(OBJECT), last_run=maybe(OBJECT), last_error=maybe(STRING), dense_vectors=maybe(BOOLEAN),
             dense_available=maybe(BOOLEAN), embedding=obj(configured=BOOLEAN, model=STRING, server=maybe(STRING)))
MAX_QUERY = 1000


def search(req):
    """Search notes, communications and matched email: dense, sparse (BM25) or hybrid (RRF), with filters."""
    options = _search_options(req)
    return req.app.retrieval.search(include_email=req.app.email is not None, **options)


def _search_options(req) -> dict:
    query, errors = req.query, {}
    q = " ".join((query.get("q") or "").split())
    if not q:
        errors["q"] = "is required: the words to search for"
    elif len(q) > MAX_QUERY:
        errors["q"] = f"must be at most {MAX_QUERY} characters"
    mode = query.get("mode") or "hybrid"
    if mode not in MODES:
        errors["mode"] = f"must be one of {', '.join(MODES)}"
    types = [t.strip() for t in (query.get("type") or "").split(",") if t.strip()]
    unknown = [t for t in types if t not in TYPES]
    if unknown:
        errors["type"] = f"unknown type {unknown[0]!r}: one or more (comma-separated) of {', '.join(TYPES)}"
    since_ts = None
    if query.get("since"):
        try:
            since_ts = int(parse_iso(query["since"]).timestamp())
        except (ValueError, OverflowError, OSError):
            errors["since"] = "must be a date (YYYY-MM-DD) or an ISO-8601 date-time"
    entity = (query.get("entity") or "").strip() or None
    if entity and len(entity) > 64:
        errors["entity"] = "must be an entity id"
    try:
        limit = query_int(query, "limit", 10, 1, MAX_LIMIT)
    except Invalid as exc:
        errors.update(exc.fields)
    if errors:
        raise Invalid(errors)
    if entity:  # an id merged into another stands for that one now
        current = entities.current(req.db, entity)
        entity = current["id"] if current else entity
    return {"q": q, "mode": mode, "entity": entity, "types": types or None, "since_ts": since_ts, "limit": limit}


def run_ingest(req):
    """Start an ingest run in the background (incremental; `full` rebuilds the collection); 409 while one runs."""
    full = bool(req.validated(partial=True).get("full"))
    retrieval = req.app.retrieval
    retrieval.index()  # 503 now, not in the background, when another process holds the local folder
    if retrieval.start(full) is None:
        raise Conflict("an ingest run is in progress: GET /api/admin/ingest/status shows how far it is")
    with transaction(req.db):
        audit.record(req.db, req, "search_index", "crm_chunks", "ingest", {"full": full})
    return json_response({"data": {"started": True, "full": full}}, status=202)


def ingest_status(req):
    """The search index: where it lives, its points, the last run, embeddings, and when to move to a Qdrant server."""
    return req.app.retrieval.status()


# -- entities (docs/RETRIEVAL.md, "Entities") ------------------------------------------------------

ENTITY_BRIEF = obj(id=STRING, kind=STRING, display_name=STRING, primary_email=maybe(STRING),
                   primary_domain=maybe(STRING), links=INTEGER)
RECORD = obj(link_id=STRING, source_table=STRING, source_id=STRING, label=STRING, name=maybe(STRING), summary=STRING,
             live=BOOLEAN, method=STRING, confidence=NUMBER, evidence=OBJECT, pinned=BOOLEAN)
MEMBER = obj(user_id=STRING, display_name=STRING, weight=NUMBER, level=INTEGER, last_seen=maybe(STRING), evidence=OBJECT)
RELATIONSHIPS = obj(strongest=maybe(MEMBER), members=array(MEMBER), works_at=array(obj(
    entity_id=STRING, display_name=STRING, kind=STRING, direction=STRING, evidence=OBJECT)))
DOSSIER = obj(id=STRING, kind=STRING, display_name=STRING, primary_email=maybe(STRING), primary_domain=maybe(STRING),
              links=INTEGER, requested_id=STRING, merged_from=maybe(STRING), created_at=STRING, updated_at=STRING,
              records=array(RECORD), emails=array(STRING), relationships=RELATIONSHIPS)
MERGE = Body(Field("into", required=True, max_length=64, doc="the entity that survives"))
SPLIT = Body(Field("link_ids", "array", required=True, items="string", doc="links of this entity to move to a new one"))
MERGED = obj(merged=STRING, into=STRING, moved=array(STRING), entity=DOSSIER)
SPLITTED = obj(entity_id=STRING, new_entity_id=STRING, moved=array(STRING), entity=DOSSIER, new_entity=DOSSIER)
RESOLVED = obj(entities=OBJECT, links=OBJECT, by_method=OBJECT, refused=OBJECT, seconds=NUMBER)
KINDS = ("person", "organization")
COUNTS = obj(added=INTEGER, updated=INTEGER, removed=INTEGER, unchanged=INTEGER)
REFRESHED = obj(resolved=OBJECT, emailed=COUNTS, works_at=COUNTS, members=INTEGER, grid_version=maybe(INTEGER),
                ms=INTEGER)


def list_entities(req):
    """Canonical people and organizations by name, address or domain (merged ones answer the survivor)."""
    query, errors = req.query, {}
    q = " ".join((query.get("q") or "").split())
    if len(q) > MAX_QUERY:
        errors["q"] = f"must be at most {MAX_QUERY} characters"
    kind = query.get("kind") or None
    if kind and kind not in KINDS:
        errors["kind"] = "must be person or organization"
    limit = offset = None
    try:
        limit = query_int(query, "limit", 10, 1, dossier.FIND_LIMIT)
    except Invalid as exc:
        errors.update(exc.fields)
    try:
        offset = query_int(query, "offset", 0, 0)
    except Invalid as exc:
        errors.update(exc.fields)
    if errors:
        raise Invalid(errors)
    if not q:
        return Page([], 0, limit, offset)
    ids = dossier.matches(req.db, q, kind)
    return Page(dossier.find(req.db, q, kind, limit, offset), len(ids), limit, offset)


def get_entity(req):
    """An entity's dossier: its records and why each is linked, its addresses, its relationships."""
    found = dossier.dossier(req.db, req.params["id"])
    if found is None:
        raise NotFound(f"no entity {req.params['id']}")
    return found


def merge_entity(req):
    """Merge this entity into another by hand: every link moves there, pinned (logged)."""
    data = req.validated()
    with transaction(req.db):
        done = curate.merge(req.db, req.params["id"], data["into"])
        audit.record(req.db, req, "entity", req.params["id"], "merge", {"into": data["into"], "links": done["moved"]},
                     refs=[interactions.ref("entity", data["into"])])
        resolve.resolve_all(req.db)  # the survivor's name and addresses follow its new records
        return {**done, "entity": dossier.dossier(req.db, data["into"])}


def split_entity(req):
    """Split links off this entity into a new one by hand; both sides are pinned (logged)."""
    data = req.validated()
    with transaction(req.db):
        done = curate.split(req.db, req.params["id"], data["link_ids"])
        audit.record(req.db, req, "entity", req.params["id"], "split",
                     {"new_entity_id": done["new_entity_id"], "links": done["moved"]},
                     refs=[interactions.ref("entity", done["new_entity_id"])])
        resolve.resolve_all(req.db)
        return {**done, "entity": dossier.dossier(req.db, done["entity_id"]),
                "new_entity": dossier.dossier(req.db, done["new_entity_id"])}


def run_resolve(req):
    """Run entity resolution now; its summary (what it created, moved, refused)."""
    with transaction(req.db):
        summary = resolve.resolve_all(req.db)
        audit.record(req.db, req, "canonical_entities", None, "resolve",
                     {k: summary[k] for k in ("entities", "links")})
    return summary


def refresh_relationships(req):
    """Resolve entities and recompute every relationship strength now (both also run after each Gmail sync)."""
    with transaction(req.db):
        resolved = resolve.resolve_all(req.db)
        audit.record(req.db, req, "canonical_entities", None, "resolve", {k: resolved[k] for k in ("entities", "links")})
    summary = strength.refresh(req.db, req=req)  # its own short write transactions, audited in the last
    if summary["grid_version"] is not None:
        req.app.presence.notify()  # open grids' event streams send the `relationships` op now
    return {"resolved": resolved, **summary}
