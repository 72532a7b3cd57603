"""The interaction log's routes: admins read it; a bot (an agent through the CRM MCP server) or an
admin appends a touch. Storage and the entity read-through are crm.interactions."""
import json
import re

from .. import interactions
from ..clock import parse_iso
from ..db import transaction
from ..errors import Invalid
from ..results import Created, Page
from ..shapes import ANY, STRING, array, maybe, obj
from ..validation import Body, Field, page_params

ACTION = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*$")
MAX_REFS = 50
MAX_PAYLOAD_BYTES = 16_384

REF = obj(type=STRING, id=STRING)
INTERACTION = obj(id=STRING, at=STRING, actor_kind=STRING, actor_id=maybe(STRING), action=STRING, refs=array(REF),
                  entities=array(STRING), payload=ANY)


def _check_entry(cleaned, errors):
    """An action in dotted lower-case words; refs of known types (an entity ref must exist: checked
    in the handler, which has the connection); a payload of at most 16 KB of JSON."""
    if not ACTION.match(cleaned["action"]):
        errors["action"] = "must be dotted lower-case words, e.g. agent.call or mcp.search"
    refs = cleaned.get("refs") or []
    if len(refs) > MAX_REFS:
        errors["refs"] = f"must have at most {MAX_REFS} items"
    for position, item in enumerate(refs):
        problem = _ref_problem(item)
        if problem:
            errors["refs"] = f"item {position + 1} {problem}"
            break
    if len(json.dumps(cleaned.get("payload") or {})) > MAX_PAYLOAD_BYTES:
        errors["payload"] = f"must be at most {MAX_PAYLOAD_BYTES} bytes of JSON"


def _ref_problem(item):
    if not isinstance(item, dict) or set(item) != {"type", "id"}:
        return 'must be an object {"type", "id"}'
    if item["type"] not in interactions.REF_TYPES:
        return "has an unknown type: one of " + ", ".join(interactions.REF_TYPES)
    if not isinstance(item["id"], str) or not item["id"].strip() or len(item["id"]) > 254:
        return "needs an id: a non-empty string of at most 254 characters"
    return None


LOG = Body(Field("action", required=True, max_length=100, doc="what was done, e.g. agent.call, mcp.entity_dossier"),
           Field("refs", "array", doc='what it touched: [{"type": "entity" or a source table, "id": ...}]'),
           Field("payload", "object", doc="what was asked or changed (at most 16 KB of JSON)"),
           extra=_check_entry)


def list_interactions(req):
    """Interaction log entries, newest first: by entity (read through its links), record, actor, action and time."""
    limit, offset = page_params(req.query)
    query = req.query
    errors = {name: "must be an ISO-8601 date or date-time" for name in ("since", "until")
              if query.get(name) and not _is_time(query[name])}
    if bool(query.get("ref_type")) != bool(query.get("ref_id")):
        errors["ref_type" if not query.get("ref_type") else "ref_id"] = "ref_type and ref_id go together"
    elif query.get("ref_type") and query["ref_type"] not in interactions.REF_TYPES:
        errors["ref_type"] = "must be one of: " + ", ".join(interactions.REF_TYPES)
    if query.get("actor_kind") and query["actor_kind"] not in interactions.ACTOR_KINDS:
        errors["actor_kind"] = "must be one of: " + ", ".join(interactions.ACTOR_KINDS)
    if errors:
        raise Invalid(errors)
    found, total = interactions.query(
        req.db, entity=query.get("entity") or None,
        ref=(query["ref_type"], query["ref_id"]) if query.get("ref_type") else None,
        actor_id=query.get("actor") or None, actor_kind=query.get("actor_kind") or None,
        action=query.get("action") or None, since=query.get("since") or None, until=query.get("until") or None,
        limit=limit, offset=offset)
    return Page(found, total, limit, offset)


def _is_time(text: str) -> bool:
    try:
        parse_iso(text)
    except ValueError:
        return False
    return True


def log_interaction(req):
    """Log a touch (an agent's, when a bot sends X-CRM-Actor: agent): action, refs and payload, appended for good."""
    data = req.validated()
    refs = [{"type": r["type"], "id": r["id"].strip()} for r in data.get("refs") or []]
    with transaction(req.db):
        missing = [r["id"] for r in refs if r["type"] == "entity" and not interactions.entity_exists(req.db, r["id"])]
        if missing:
            raise Invalid({"refs": f"no entity with id {missing[0]}"})
        actor = req.actor
        entry_id = interactions.record(req.db, interactions.actor_kind(actor), actor["id"], data["action"], refs,
                                       data.get("payload") or {})
        return Created(interactions.get(req.db, entry_id))
