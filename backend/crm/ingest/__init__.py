"""The agentic substrate: canonical entities across the grid and the classic CRM, relationship
strength, chunking and retrieval over Qdrant, and redaction for any external model
(docs/RETRIEVAL.md).

- Entities: `entities` (the SQL of canonical_entities and entity_links, their only writer),
  `normalize` (emails, names, domains, free mail), `resolve` (resolve_all: the rules),
  `curate` (hand merge and split), `dossier` (find and the dossier; read-only, mode=ro safe).
- Relationships: `strength` (scores from metadata, refresh), `edges` (relationship_edges' SQL).
- Retrieval: `chunks` (what is indexed, point ids), `bm25` (sparse vectors), `embed` (the
  embedding server's client), `index` (the Qdrant collection crm_chunks), `pipeline` (one
  ingest run), `search`, `service` (the App's index and runs), `__main__` (python -m crm.ingest run).
- `redact`: scrub / rehydrate, the placeholders that stand in for known and found names,
  addresses, phones and amounts; `external`: `ask_external`, the one client for an external
  model (Anthropic), behind redact.
- `handlers` (search, ingest, entities, the relationship refresh), `listeners` (what crm.ingest
  registers on crm.hooks at start-up).
"""
