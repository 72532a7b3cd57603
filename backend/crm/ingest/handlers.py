"""GET /api/search, and the admins' ingest routes (run, status).

Email hits follow the email routes' rule: captured email is readable by every signed-in user
through /api/email/threads while capture is on, and by no one while it is off (those routes
answer 503), so search shows email chunks only while capture is on.
"""
from .. import audit
from ..clock import parse_iso
from ..db import transaction
from ..errors import Conflict, Invalid
from ..http.responses import json_response
from ..shapes import BOOLEAN, INTEGER, NUMBER, OBJECT, STRING, array, maybe, obj
from ..validation import Body, Field, query_int
from . import entities
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
