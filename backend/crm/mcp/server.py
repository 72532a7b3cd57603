"""The CRM MCP server's tools, on the official SDK's MCPServer (mcp 2.x).

Reads (`find_entity`, `entity_dossier`, `list_interactions`, `pipeline_summary`) query a
read-only SQLite connection (reads.py); `search` asks the CRM's API (its process owns the vector
index). Writes only propose: `propose_note` puts a note in the review queue a human approves or
rejects (the same queue as notes from captured email), `log_interaction` appends a touch to the
interaction log. No tool sends, drafts or posts anything outward (docs/MCP.md).

Every call, reads and failures too, is appended to the interaction log through the API as the
agent's (`mcp.<tool>`; `log_interaction`'s own entry is its record): a call whose log entry the
CRM does not take is answered with an error instead of its result, so nothing is read unlogged.
"""
import sqlite3
from typing import Annotated, Literal, Optional

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from . import reads
from .crmapi import CRMApi, CRMApiError

NAME = "venture-crm"
INSTRUCTIONS = (
    "Venture CRM, read-only but for proposals. Find people and organizations with find_entity, read "
    "everything about one with entity_dossier and list_interactions, search notes and email with search, "
    "see the pipeline with pipeline_summary. You cannot change a record: propose_note queues a note that a "
    "human approves or rejects in the CRM, and log_interaction records a touch. Nothing is ever sent.")
READS = ("find_entity", "entity_dossier", "list_interactions", "search", "pipeline_summary")
WRITES = ("propose_note", "log_interaction")
TOOLS = READS + WRITES
REFS_LOGGED = 20  # entities a read names in its log entry, at most

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
PROPOSES = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)

EntityId = Annotated[str, Field(min_length=1, max_length=64, description="a canonical entity's id (from find_entity)")]


def _entity_refs(ids) -> list:
    return [{"type": "entity", "id": entity_id} for entity_id in list(dict.fromkeys(i for i in ids if i))[:REFS_LOGGED]]


class Tools:
    """The tool functions, bound to one database and one API client."""

    def __init__(self, db_path, api: CRMApi):
        self.db_path, self.api = db_path, api

    # -- reads -------------------------------------------------------------------------------------

    def find_entity(self, q: Annotated[str, Field(min_length=1, max_length=200, description="a name, an email address, a domain or an entity id")],
                    kind: Optional[Literal["person", "organization"]] = None,
                    limit: Annotated[int, Field(ge=1, le=100)] = 10) -> dict:
        """Find canonical entities (people and organizations, one each across the grid and the classic CRM) by name, address, domain or id, best match first."""
        def work():
            with reads.opened(self.db_path) as conn:
                found = reads.find_entity(conn, q, kind, limit)
            return {"entities": found}, _entity_refs(e["id"] for e in found), {"found": len(found)}
        return self._call("find_entity", {"q": q, "kind": kind, "limit": limit}, work)

    def entity_dossier(self, entity_id: EntityId) -> dict:
        """Everything the CRM holds about one entity: its linked records (grid investor and contacts, classic contact, organization, LP profile, addresses) with why each is linked, and its relationships with the team."""
        def work():
            with reads.opened(self.db_path) as conn:
                found = reads.entity_dossier(conn, entity_id)
            if found is None:
                raise ToolError(f"no entity with id {entity_id}: find it with find_entity")
            return found, _entity_refs([found["id"]]), {"records": len(found["records"])}
        return self._call("entity_dossier", {"entity_id": entity_id}, work)

    def list_interactions(self, entity_id: EntityId, limit: Annotated[int, Field(ge=1, le=200)] = 20) -> dict:
        """The newest touches of an entity, by people, agents, bots and the system: edits of its records, grid edits, proposed and approved notes, agents' reads."""
        def work():
            with reads.opened(self.db_path) as conn:
                if not reads.entity_exists(conn, entity_id):
                    raise ToolError(f"no entity with id {entity_id}: find it with find_entity")
                found = reads.list_interactions(conn, entity_id, limit)
            return found, _entity_refs([entity_id]), {"total": found["total"]}
        return self._call("list_interactions", {"entity_id": entity_id, "limit": limit}, work)

    def search(self, q: Annotated[str, Field(min_length=1, max_length=1000, description="the words to search for")],
               mode: Literal["hybrid", "dense", "sparse"] = "hybrid",
               entity: Annotated[Optional[str], Field(max_length=64, description="only chunks about this entity id")] = None,
               type: Annotated[Optional[str], Field(max_length=200, description="chunk types, comma-separated (e.g. email,grid_note)")] = None,
               since: Annotated[Optional[str], Field(max_length=40, description="a date (YYYY-MM-DD) or ISO-8601 date-time")] = None,
               limit: Annotated[int, Field(ge=1, le=100)] = 10) -> dict:
        """Search communications, matched email, grid Notes and free-text fields: hybrid (dense + BM25, fused), dense or sparse, filtered by entity, type and date; each hit names its source record."""
        arguments = {"q": q, "mode": mode, "entity": entity, "type": type, "since": since, "limit": limit}

        def work():
            found = self.api.search(**arguments)
            hit_entities = [e for hit in found.get("hits", []) for e in hit.get("entity_ids", [])]
            return found, _entity_refs([entity] + hit_entities if entity else hit_entities), \
                {"hits": len(found.get("hits", [])), "mode_used": found.get("mode_used")}
        return self._call("search", arguments, work)

    def pipeline_summary(self) -> dict:
        """The pipeline: classic opportunities by stage (count, expected, committed), open totals, and the grid's funds with their commitments."""
        def work():
            with reads.opened(self.db_path) as conn:
                return reads.pipeline_summary(conn), [], {}
        return self._call("pipeline_summary", {}, work)

    # -- proposals -----------------------------------------------------------------------------------

    def propose_note(self, text: Annotated[str, Field(min_length=1, max_length=2000, description="the note, one line")],
                     investor_id: Annotated[Optional[str], Field(max_length=64, description="the grid investor it is for")] = None,
                     entity_id: Annotated[Optional[str], Field(max_length=64, description="or an entity: its grid investor")] = None) -> dict:
        """Propose a note for an investor's Notes. It is NOT written: it waits in the CRM's review queue until a human approves, edits or rejects it. Give investor_id or entity_id."""
        arguments = {"investor_id": investor_id, "entity_id": entity_id, "text": text}

        def work():
            if bool(investor_id) == bool(entity_id):
                raise ToolError("give investor_id or entity_id (one of the two)")
            proposal = self.api.propose_note(text, investor_id=investor_id, entity_id=entity_id)
            refs = _entity_refs([entity_id]) + [{"type": "fundraising_investors", "id": proposal["investor"]["id"]},
                                                {"type": "email_proposals", "id": proposal["id"]}]
            answer = {"proposal": proposal, "status": "proposed: it reaches the investor's Notes only if a human approves it"}
            return answer, refs, {"proposal_id": proposal["id"]}
        return self._call("propose_note", arguments, work)

    def log_interaction(self, entity_id: EntityId,
                        action: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40, description="one word, e.g. call, meeting, research")],
                        note: Annotated[str, Field(max_length=2000, description="what happened, in a sentence or two")] = "") -> dict:
        """Record a touch of an entity in the CRM's interaction log (as agent.<action>); it changes no record."""
        try:
            return self.api.log(f"agent.{action}", _entity_refs([entity_id]), {"tool": "log_interaction", "note": note})
        except CRMApiError as exc:
            self._log_failure("log_interaction", {"entity_id": entity_id, "action": action, "note": note}, exc.message)
            raise ToolError(exc.message) from None

    # -- every call logged ---------------------------------------------------------------------------

    def _call(self, tool: str, arguments: dict, work):
        """Run `work` -> (answer, refs, summary), log the call, then answer. A failure is logged too."""
        try:
            answer, refs, summary = work()
        except ToolError as exc:
            self._log_failure(tool, arguments, str(exc))
            raise
        except CRMApiError as exc:
            self._log_failure(tool, arguments, exc.message)
            raise ToolError(exc.message) from None
        except sqlite3.Error as exc:
            message = f"the CRM's database could not be read ({exc})"
            self._log_failure(tool, arguments, message)
            raise ToolError(message) from None
        try:
            self.api.log(f"mcp.{tool}", refs, {"arguments": arguments, "result": summary})
        except CRMApiError as exc:
            raise ToolError(f"not answered: this call could not be logged in the CRM's interaction log ({exc.message})") from None
        return answer

    def _log_failure(self, tool: str, arguments: dict, error: str) -> None:
        """Best effort: a failed call is logged without refs (they may name what does not exist)."""
        try:
            self.api.log(f"mcp.{tool}", [], {"arguments": arguments, "error": error})
        except CRMApiError:
            pass  # the call already failed; its own error is what the agent needs to see


def build(settings, api: CRMApi = None) -> MCPServer:
    """The MCP server over `settings` (crm.mcp.settings.Settings); `api` defaults to a client of CRM_MCP_API_URL."""
    api = api or CRMApi(settings.api_url, settings.token, settings.timeout)
    tools = Tools(settings.db_path, api)
    server = MCPServer(NAME, instructions=INSTRUCTIONS)
    for name in TOOLS:
        server.add_tool(getattr(tools, name), name=name, annotations=READ_ONLY if name in READS else PROPOSES)
    return server
